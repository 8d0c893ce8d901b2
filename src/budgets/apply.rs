//! Applying a plan: its calls one after the other, stopping at the first that fails. The
//! report says exactly which calls were made, which failed and which were not made; each
//! call is whole (a budget is created with its notifications in one request), so a second
//! apply plans from what the account then holds and finishes the job.

use super::account::Account;
use super::calls::Call;
use super::plan::Plan;
use serde::Serialize;

/// What an apply did.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Calls made, in order.
    pub applied: Vec<Call>,
    /// The call that failed, and why.
    pub failed: Option<Failed>,
    /// Calls not made because an earlier one failed.
    pub not_applied: Vec<Call>,
}

/// A call that failed.
#[derive(Debug, Serialize)]
pub struct Failed {
    pub call: Call,
    pub error: String,
}

impl Report {
    /// Whether every call was made.
    pub fn complete(&self) -> bool {
        self.failed.is_none()
    }
}

/// Makes the plan's calls in order, telling `progress` of each as it ends.
pub async fn apply(
    account: &Account,
    plan: &Plan,
    mut progress: impl FnMut(&Call, Result<(), &str>),
) -> Report {
    let mut report = Report {
        applied: Vec::new(),
        failed: None,
        not_applied: Vec::new(),
    };
    for call in plan.calls() {
        if report.failed.is_some() {
            report.not_applied.push(call.clone());
            continue;
        }
        match account.make(call).await {
            Ok(()) => {
                progress(call, Ok(()));
                report.applied.push(call.clone());
            }
            Err(e) => {
                let error = format!("{e:#}");
                progress(call, Err(&error));
                report.failed = Some(Failed {
                    call: call.clone(),
                    error,
                });
            }
        }
    }
    report
}

//! What managing budgets calls AWS for: `costwatch budgets plan|import` reads them, `apply`
//! (and the daily run with `[budgets_from_findings] apply = true`) writes them.

use crate::aws::{ArnScope, Statement};

/// Read and write on the account's budgets (a budget is created with its tag, so writing
/// needs `budgets:TagResource`; the account is the caller's, which needs no permission).
pub fn iam(scope: &ArnScope) -> Vec<Statement> {
    let budgets = format!("arn:aws:budgets::{}:budget/*", scope.account);
    vec![
        Statement::allow(
            "BudgetsRead",
            &["budgets:ViewBudget", "budgets:ListTagsForResource"],
            [budgets.clone()],
        ),
        Statement::allow(
            "BudgetsWrite",
            &["budgets:ModifyBudget", "budgets:TagResource"],
            [budgets],
        ),
    ]
}

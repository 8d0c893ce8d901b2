//! The digest: what a run has to tell, as data ([`Digest`], kept in the outbox as JSON)
//! that every channel renders its own way: the e-mail's text and HTML parts (one set of
//! templates, `templates/`), a chat message, an SNS notification, the `report` page.
//!
//! Alerts come ordered by monthly impact, each with its chart, root cause, proposed action
//! and a link to the matching Cost Explorer view; then the findings back to normal since the
//! last digest, the month-end forecast and other notes, and the sources' state.

pub mod chart;
mod links;
mod render;

pub use render::{Images, html, text};

use crate::ledger::{AlertRecord, ResolvedFinding};
use crate::model::{Action, Severity, SourceReport, SourceStatus, budgets_service, money, or};
use anyhow::Result;
use base64::Engine;
use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};

/// Days a chart shows.
pub const CHART_DAYS: usize = 56;

/// A digest as the outbox keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Digest {
    /// The run date (or, for a report, its last day).
    pub run_date: NaiveDate,
    /// "costwatch 2026-03-19: …" for e-mail, or the report's title.
    pub subject: String,
    /// Alerts, largest monthly impact first.
    pub alerts: Vec<AlertView>,
    /// Findings back to normal since the last digest.
    pub resolved: Vec<ResolvedView>,
    /// Alerts kept but not sent (silenced), for the report.
    #[serde(default)]
    pub silenced: Vec<AlertView>,
    /// The forecast and other context, in sentences.
    pub notes: Vec<String>,
    /// Failed sources and rules, in sentences.
    pub problems: Vec<String>,
    /// Each source's state: fresh, partial, stale or failed.
    pub sources: Vec<SourceView>,
}

/// One alert as people read it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlertView {
    pub id: i64,
    pub rule: String,
    pub severity: Severity,
    /// `new`, `escalated` or `silenced`.
    pub reason: String,
    pub account: String,
    /// Product code (or Cost Explorer service name).
    pub service: String,
    pub service_name: String,
    pub usage_type: String,
    /// "Amazon EC2 / BoxUsage:m5.large / account 1234" (empty parts left out).
    pub scope: String,
    pub data_day: NaiveDate,
    pub observed: String,
    pub expected: String,
    pub monthly_impact: f64,
    pub impact: String,
    pub message: String,
    pub detail: String,
    /// The action the rule proposes, in words.
    pub action: Option<String>,
    /// The matching Cost Explorer view.
    pub link: String,
    /// The chart, a PNG in base64.
    pub chart: Option<String>,
}

impl AlertView {
    /// The chart's Content-ID in the e-mail.
    pub fn content_id(&self) -> String {
        format!("chart-{}@costwatch", self.id)
    }

    /// The chart's PNG bytes.
    pub fn chart_png(&self) -> Option<Vec<u8>> {
        let text = self.chart.as_ref()?;
        base64::engine::general_purpose::STANDARD.decode(text).ok()
    }
}

/// A finding back to normal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResolvedView {
    pub scope: String,
    pub rule: String,
    pub first_day: NaiveDate,
    pub resolved_day: NaiveDate,
}

/// A source's state at the end of the run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceView {
    pub name: String,
    pub state: String,
    pub detail: String,
}

/// What a digest is made of.
pub struct Parts<'a> {
    pub run_date: NaiveDate,
    pub alerts: &'a [AlertRecord],
    pub silenced: &'a [AlertRecord],
    pub resolved: &'a [ResolvedFinding],
    pub sources: &'a [SourceReport],
    /// Whether the run found a complete day to evaluate (else the data is stale).
    pub evaluated: bool,
    pub notes: &'a [String],
    pub problems: &'a [String],
    /// What an alert's chart shows.
    pub series: &'a dyn Fn(&AlertRecord) -> Option<ChartData>,
}

/// The data of an alert's chart.
pub struct ChartData {
    /// Daily cost, oldest first, up to the alert's data day: [`CHART_DAYS`] days, or for a
    /// budget alert the budget's period so far.
    pub daily: Vec<f64>,
    pub budget: Option<chart::BudgetSpan>,
}

/// Builds the digest of `parts`; a chart that cannot be drawn is left out, not fatal.
pub fn build(parts: &Parts) -> Digest {
    let view = |a: &AlertRecord| alert_view(a, parts);
    let mut alerts: Vec<AlertView> = parts.alerts.iter().map(view).collect();
    alerts.sort_by(|a, b| b.monthly_impact.total_cmp(&a.monthly_impact));
    let silenced = parts.silenced.iter().map(view).collect();
    let resolved = (parts.resolved.iter())
        .map(|f| ResolvedView {
            scope: scope_label(&f.account, &f.service_name, &f.usage_type),
            rule: f.rule.clone(),
            first_day: f.first_day,
            resolved_day: f.resolved_day,
        })
        .collect();
    let sources = (parts.sources.iter())
        .map(|s| SourceView {
            name: s.source.clone(),
            state: match s.status {
                SourceStatus::Failed => "failed",
                SourceStatus::Partial => "partial",
                SourceStatus::Ok if parts.evaluated => "fresh",
                SourceStatus::Ok => "stale",
            }
            .into(),
            detail: s.detail.clone(),
        })
        .collect();
    let subject = subject(parts.run_date, &alerts, parts.problems.len());
    Digest {
        run_date: parts.run_date,
        subject,
        alerts,
        resolved,
        silenced,
        notes: parts.notes.to_vec(),
        problems: parts.problems.to_vec(),
        sources,
    }
}

fn alert_view(a: &AlertRecord, parts: &Parts) -> AlertView {
    let from = a.data_day - Days::new(CHART_DAYS as u64 - 1);
    let chart = (parts.series)(a).and_then(|data| {
        let plot = chart::Plot {
            daily: &data.daily,
            last_day: a.data_day,
            expected: a.expected,
            marked: &[a.data_day],
            budget: data.budget,
        };
        match chart::png(&plot) {
            Ok(png) => Some(base64::engine::general_purpose::STANDARD.encode(png)),
            Err(e) => {
                tracing::warn!(alert = a.id, error = %e, "no chart for this alert");
                None
            }
        }
    });
    AlertView {
        id: a.id,
        rule: a.rule.clone(),
        severity: a.severity,
        reason: a.reason.clone(),
        account: a.account.clone(),
        service: a.service.clone(),
        service_name: a.service_name.clone(),
        usage_type: a.usage_type.clone(),
        scope: scope_label(&a.account, &a.service_name, &a.usage_type),
        data_day: a.data_day,
        observed: money(a.observed),
        expected: money(a.expected),
        monthly_impact: a.monthly_impact,
        impact: money(a.monthly_impact),
        message: a.message.clone(),
        detail: a.detail.clone(),
        action: match a.action {
            Action::Notify => None,
            Action::BudgetAlert { monthly_limit } => Some(format!(
                "Proposed: an AWS Budgets alert at {}/month for this scope \
                 (`costwatch budgets plan --proposals` shows it).",
                money(monthly_limit)
            )),
        },
        link: link(a, from),
        chart,
    }
}

/// The Cost Explorer view of an alert's scope from `from`; a budget alert's is all services
/// over its month so far (Cost Explorer cannot apply a budget's own filters from a link).
fn link(a: &AlertRecord, from: NaiveDate) -> String {
    if a.rule == "budget" {
        let month = a.data_day.with_day(1).unwrap_or(from);
        return links::cost_explorer(&a.account, "", "", month, a.data_day);
    }
    let service = match a.service.as_str() {
        "" => String::new(),
        code => budgets_service(code, &a.service_name, &a.usage_type),
    };
    links::cost_explorer(&a.account, &service, &a.usage_type, from, a.data_day)
}

/// "Amazon EC2 / BoxUsage:m5.large / account 1234", the empty parts left out.
fn scope_label(account: &str, service_name: &str, usage_type: &str) -> String {
    let mut parts = vec![or(service_name, "all services").to_string()];
    if !usage_type.is_empty() {
        parts.push(usage_type.to_string());
    }
    parts.push(format!("account {}", or(account, "all accounts")));
    parts.join(" / ")
}

/// What matters most: how many alerts, the largest monthly impact and its scope.
fn subject(run_date: NaiveDate, alerts: &[AlertView], problems: usize) -> String {
    let mut subject = format!("costwatch {run_date}: ");
    match alerts.first() {
        Some(top) => {
            subject += &format!(
                "{} alert{}, up to {}/month ({})",
                alerts.len(),
                if alerts.len() == 1 { "" } else { "s" },
                top.impact,
                top.scope
            );
        }
        None => subject += "no new alerts",
    }
    if problems > 0 {
        subject += &format!(
            ", {problems} problem{}",
            if problems == 1 { "" } else { "s" }
        );
    }
    subject
}

/// The e-mail of a digest: text and HTML parts (charts as inline images) from `from` to `to`.
pub fn email(digest: &Digest, from: &str, to: &[String]) -> Result<Vec<u8>> {
    use anyhow::Context;
    use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType};
    let mut builder = lettre::Message::builder()
        .from(from.parse::<Mailbox>().context("alerts.from")?)
        .subject(&digest.subject);
    for to in to {
        builder = builder.to(to.parse::<Mailbox>().context("alerts.to")?);
    }
    let mut related =
        MultiPart::related().singlepart(SinglePart::html(html(digest, Images::ContentId)?));
    for a in &digest.alerts {
        if let Some(png) = a.chart_png() {
            related = related.singlepart(
                Attachment::new_inline(a.content_id())
                    .body(png, ContentType::parse("image/png").expect("a valid type")),
            );
        }
    }
    let body = MultiPart::alternative()
        .singlepart(SinglePart::plain(text(digest)?))
        .multipart(related);
    Ok(builder
        .multipart(body)
        .context("building the digest e-mail")?
        .formatted())
}

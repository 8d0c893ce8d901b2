//! The alert digest: one MIME email (plain text + HTML) per run with alerts or problems.

use super::AlertsConfig as Alerts;
use crate::ledger::AlertRecord;
use crate::model::money;
use crate::model::or;
use crate::model::{Action, Severity};
use anyhow::{Context, Result};
use chrono::NaiveDate;
use lettre::Message;
use lettre::message::{Mailbox, MultiPart};

/// A rendered digest.
pub struct Digest {
    pub subject: String,
    /// The complete RFC 5322 message.
    pub message: Vec<u8>,
}

/// What a digest tells.
pub struct Report<'a> {
    pub run_date: NaiveDate,
    pub alerts: &'a [AlertRecord],
    /// Context lines, e.g. the month-end forecast.
    pub notes: &'a [String],
    /// Failed sources or rules of the run.
    pub problems: &'a [String],
}

/// Renders the digest for a run's alerts, with its notes and problems.
pub fn render(config: &Alerts, report: &Report) -> Result<Digest> {
    let (run_date, alerts) = (report.run_date, report.alerts);
    let critical = alerts
        .iter()
        .filter(|a| a.severity == Severity::Critical)
        .count();
    let mut subject = format!(
        "costwatch {run_date}: {} cost alert{}{}",
        alerts.len(),
        if alerts.len() == 1 { "" } else { "s" },
        if critical > 0 {
            format!(" ({critical} critical)")
        } else {
            String::new()
        }
    );
    if !report.problems.is_empty() {
        let n = report.problems.len();
        subject += &format!(", {n} problem{}", if n == 1 { "" } else { "s" });
    }
    let mut builder = Message::builder()
        .from(config.from.parse::<Mailbox>().context("alerts.from")?)
        .subject(&subject);
    for to in &config.to {
        builder = builder.to(to.parse::<Mailbox>().context("alerts.to")?);
    }
    let message = builder
        .multipart(MultiPart::alternative_plain_html(
            text(report),
            html(report),
        ))
        .context("building the digest email")?;
    Ok(Digest {
        subject,
        message: message.formatted(),
    })
}

fn text(report: &Report) -> String {
    let mut out = format!("costwatch daily digest for {}\n\n", report.run_date);
    for note in report.notes {
        out += &format!("{note}\n\n");
    }
    let problems = report.problems;
    for a in report.alerts {
        out += &format!(
            "[{}] {} / {} / {} ({} for {})\n  {}\n  observed {}/day, expected {}/day, impact {}/month\n",
            a.severity.as_str().to_uppercase(),
            a.account,
            or(&a.service_name, "all services"),
            or(&a.usage_type, "all usage types"),
            a.rule,
            a.data_day,
            a.message,
            money(a.observed),
            money(a.expected),
            money(a.monthly_impact)
        );
        for line in explanation(a).iter().skip(1) {
            out += &format!("  {line}\n");
        }
        out += "\n";
    }
    if !problems.is_empty() {
        out += "Problems during this run:\n";
        for p in problems {
            out += &format!("  - {p}\n");
        }
    }
    out
}

fn html(report: &Report) -> String {
    let mut rows = String::new();
    for a in report.alerts {
        rows += &format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td align=\"right\">{}</td>\
             <td align=\"right\">{}</td><td align=\"right\">{}</td><td>{}</td></tr>\n",
            a.severity.as_str(),
            escape(&a.account),
            escape(or(&a.service_name, "all services")),
            escape(or(&a.usage_type, "all usage types")),
            escape(&a.rule),
            money(a.observed),
            money(a.expected),
            money(a.monthly_impact),
            explanation(a)
                .iter()
                .map(|s| escape(s))
                .collect::<Vec<_>>()
                .join("<br>")
        );
    }
    let notes: String = report
        .notes
        .iter()
        .map(|n| format!("<p>{}</p>", escape(n)))
        .collect();
    let problems = if report.problems.is_empty() {
        String::new()
    } else {
        let items: String = report
            .problems
            .iter()
            .map(|p| format!("<li>{}</li>", escape(p)))
            .collect();
        format!("<h3>Problems during this run</h3><ul>{items}</ul>")
    };
    let table = if rows.is_empty() {
        "<p>No new alerts.</p>".to_string()
    } else {
        format!(
            "<table border=\"1\" cellpadding=\"4\" cellspacing=\"0\">\
             <tr><th>Severity</th><th>Account</th><th>Service</th><th>Usage type</th><th>Rule</th>\
             <th>Observed/day</th><th>Expected/day</th><th>Impact/month</th><th>What happened</th></tr>\n\
             {rows}</table>"
        )
    };
    format!(
        "<html><body><h2>costwatch daily digest for {}</h2>{notes}{table}{problems}</body></html>",
        report.run_date
    )
}

/// What happened, the root cause (when known) and the action the rule proposed (if any).
fn explanation(a: &AlertRecord) -> Vec<String> {
    let mut lines = vec![a.message.clone()];
    if !a.detail.is_empty() {
        lines.push(a.detail.clone());
    }
    if let Action::BudgetAlert { monthly_limit } = a.action {
        lines.push(format!(
            "Proposed: an AWS Budgets alert at {}/month for this scope.",
            money(monthly_limit)
        ));
    }
    lines
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

//! A digest as Slack blocks: a header, one section per alert (at most 45: Slack takes 50
//! blocks a message), the silenced and back-to-normal lists and the problems.

use crate::alerts::digest::Digest;
use serde_json::{Value, json};

/// Alerts shown in full, at most; the rest are counted.
const MAX_ALERTS: usize = 45;

/// The message for `digest`.
pub fn message(digest: &Digest) -> Value {
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(&digest.subject, 150)}
    })];
    for a in digest.alerts.iter().take(MAX_ALERTS) {
        let mut text = format!(
            "*{}* · {}\n{}\n_{}/day, expected {}/day · {}/month_",
            a.severity.as_str().to_uppercase(),
            a.scope,
            a.message,
            a.observed,
            a.expected,
            a.impact
        );
        if !a.detail.is_empty() {
            text += &format!("\n{}", a.detail);
        }
        text += &format!("\n<{}|Open in Cost Explorer>", a.link);
        blocks.push(
            json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&text, 3000)}}),
        );
    }
    if digest.alerts.len() > MAX_ALERTS {
        let more = digest.alerts.len() - MAX_ALERTS;
        blocks.push(context(&format!(
            "… and {more} more in the e-mail digest and `costwatch report`."
        )));
    }
    if !digest.silenced.is_empty() {
        let lines: Vec<String> = (digest.silenced.iter())
            .map(|a| format!("• {} ({})", a.scope, a.rule))
            .collect();
        blocks.push(context(&format!(
            "Silenced (kept, not alerted):\n{}",
            lines.join("\n")
        )));
    }
    if !digest.resolved.is_empty() {
        let lines: Vec<String> = (digest.resolved.iter())
            .map(|f| format!("• {} ({})", f.scope, f.rule))
            .collect();
        blocks.push(context(&format!("Back to normal:\n{}", lines.join("\n"))));
    }
    if !digest.problems.is_empty() {
        blocks.push(context(&format!(
            "Problems: {}",
            digest.problems.join("; ")
        )));
    }
    json!({"text": digest.subject, "blocks": blocks})
}

fn context(text: &str) -> Value {
    json!({"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text, 3000)}]})
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max - 1) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

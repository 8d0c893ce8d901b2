//! Alerts end to end, against real peers: the digest by e-mail (aiosmtpd), a Slack-compatible
//! webhook (a sink that checks Slack's block limits), SNS (moto); routes per team, silences,
//! acknowledgements, the outbox when a channel is down, and the digest and report rendered
//! in a real browser (headless Chromium).

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The demo's run date: a NAT gateway spike (EC2, team platform) and a CloudWatch creep
/// (team observability), both in account 111122223333.
const DATE: &str = "2026-03-19";

/// A config over the demo data (tagged `user:team`) with `alerts` appended after `[alerts]`'s
/// from/to, and `extra` tables after it.
fn config(dir: &Path, alerts: &str, extra: &str) -> PathBuf {
    let data = repo().join("examples/demo/data");
    write_config(
        dir,
        &format!(
            "[sources]\ntag_keys = [\"user:team\"]\n[sources.files]\npaths = [{:?}]\n\
             [alerts]\nfrom = \"costwatch <costwatch@example.com>\"\nto = [\"finops@example.com\"]\n\
             outbox_dir = \"outbox\"\n{alerts}\n{extra}",
            data.display().to_string()
        ),
    )
}

fn smtp_table(port: u16) -> String {
    format!(
        "[alerts.smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\ntimeout_secs = 5\n"
    )
}

fn webhook_table() -> &'static str {
    "[alerts.webhook]\nurl_env = \"COSTWATCH_TEST_WEBHOOK\"\ntimeout_secs = 5\n"
}

fn run_on(
    dir: &Path,
    config: &Path,
    date: &str,
    webhook_port: Option<u16>,
) -> std::process::Output {
    let mut cmd = costwatch(dir);
    cmd.args(["run", "--config"])
        .arg(config)
        .args(["--date", date]);
    if let Some(port) = webhook_port {
        cmd.env(
            "COSTWATCH_TEST_WEBHOOK",
            format!("http://127.0.0.1:{port}/services/T000/B000/secret-token"),
        );
    }
    run(&mut cmd)
}

fn json_files(dir: &Path) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    (files.iter())
        .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
        .collect()
}

/// A message parsed by Python's email package (an independent MIME parser): subject,
/// recipients, the text part, the HTML part, and whether every `cid:` of the HTML is an
/// attached PNG (with its pixel size).
fn parse_mail(path: &Path) -> Value {
    let script = r#"
import email, json, re, struct, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read())
parts = list(m.walk())
one = lambda t: [p for p in parts if p.get_content_type() == t][0].get_payload(decode=True).decode()
html = one("text/html")
images = {}
for p in parts:
    if p.get_content_type() == "image/png":
        data = p.get_payload(decode=True)
        assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
        w, h = struct.unpack(">II", data[16:24])
        images[p["Content-ID"].strip("<>")] = [w, h, p.get("Content-Disposition", "")]
cids = re.findall(r'src="cid:([^"]+)"', html)
print(json.dumps({
    "subject": m["Subject"], "to": m["To"], "type": m.get_content_type(),
    "text": one("text/plain"), "html": html, "cids": cids, "images": images,
}))
"#;
    let out = run(Command::new(python()).arg("-c").arg(script).arg(path));
    assert!(
        out.status.success(),
        "not a proper MIME message: {}",
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_email_digest_has_text_html_and_inline_charts() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("maildir");
    let smtp = Peer::smtp(&maildir);
    let config = config(dir.path(), &smtp_table(smtp.port), "");
    let out = run_on(dir.path(), &config, DATE, None);
    assert_eq!(out.status.code(), Some(0));

    let mails = eml_files(&maildir);
    assert_eq!(mails.len(), 1);
    let mail = parse_mail(&mails[0]);
    let subject = mail["subject"].as_str().unwrap();
    assert!(
        subject.starts_with("costwatch 2026-03-19: 2 alerts, up to $3,074.61/month"),
        "{subject}"
    );
    assert_eq!(mail["type"], "multipart/alternative");
    // The text part reads on its own: each alert, its numbers and where to look.
    let text = mail["text"].as_str().unwrap();
    for want in [
        "USE1-NatGateway-Bytes",
        "USE1-CW:MetricMonitorUsage",
        "$122.10",
        "https://us-east-1.console.aws.amazon.com/costmanagement/home#/cost-explorer",
    ] {
        assert!(text.contains(want), "{want} missing from:\n{text}");
    }
    // The HTML part shows one chart per alert, each an inline PNG of the same message.
    let html = mail["html"].as_str().unwrap();
    assert!(html.contains("USE1-NatGateway-Bytes") && html.contains("Open in Cost Explorer"));
    let cids = mail["cids"].as_array().unwrap();
    assert_eq!(cids.len(), 2, "{html}");
    for cid in cids {
        let image = &mail["images"][cid.as_str().unwrap()];
        assert!(image.is_array(), "cid:{cid} is not an attached PNG");
        assert!(image[0].as_u64().unwrap() >= 400 && image[1].as_u64().unwrap() >= 150);
        assert!(image[2].as_str().unwrap().starts_with("inline"));
    }
}

#[test]
fn webhook_and_sns_get_the_digest_too() {
    let dir = tempfile::tempdir().unwrap();
    let posts = dir.path().join("posts");
    let hook = Peer::webhook(&posts, 0);
    let moto = Peer::moto();
    let topic = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let sns = aws_sdk_sns::Client::new(&moto.sdk_config().await);
        let topic = sns.create_topic().name("costwatch").send().await.unwrap();
        topic.topic_arn().unwrap().to_string()
    });
    let alerts = format!(
        "{}[alerts.sns]\ntopic_arn = \"{topic}\"\nendpoint_url = \"{}\"\n",
        webhook_table(),
        moto.endpoint()
    );
    let config = config(dir.path(), &alerts, "");
    let out = run_on(dir.path(), &config, DATE, Some(hook.port));
    assert_eq!(out.status.code(), Some(0));
    let summary = stdout(&out);
    assert!(
        summary.contains("delivered to webhook 127.0.0.1"),
        "{summary}"
    );
    assert!(
        summary.contains(&format!("delivered to sns {topic}")),
        "{summary}"
    );
    // The webhook's URL is a secret: only its host is ever shown.
    assert!(!summary.contains("secret-token") && !stderr(&out).contains("secret-token"));
    // Without SMTP, the e-mail is an .eml file.
    assert_eq!(eml_files(&dir.path().join("outbox")).len(), 1);

    // Slack blocks: a header with the subject, one section per alert, each linked.
    let posts = json_files(&posts);
    assert_eq!(posts.len(), 1);
    let blocks = posts[0]["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert!(
        posts[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("costwatch 2026-03-19: 2 alerts")
    );
    let sections: Vec<&str> = (blocks.iter())
        .filter(|b| b["type"] == "section")
        .map(|b| b["text"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(sections.len(), 2);
    assert!(sections[0].starts_with("*CRITICAL*") && sections[0].contains("USE1-NatGateway-Bytes"));
    assert!(
        sections
            .iter()
            .all(|s| s.contains("|Open in Cost Explorer>"))
    );

    // SNS: the text digest, with an ASCII subject within SNS's 100 characters.
    let published: Value =
        serde_json::from_str(&get_text(&moto, "/costwatch-emulator/sns/published")).unwrap();
    let messages = published["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    let subject = messages[0]["subject"].as_str().unwrap();
    assert!(
        subject.len() <= 100 && subject.is_ascii() && subject.starts_with("costwatch 2026-03-19")
    );
    let text = messages[0]["message"].as_str().unwrap();
    assert!(
        text.contains("USE1-CW:MetricMonitorUsage") && text.contains("$3,074.61"),
        "{text}"
    );
}

#[test]
fn a_channel_that_is_down_gets_the_digest_later_and_the_others_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("maildir");
    let smtp = Peer::smtp(&maildir);
    let posts = dir.path().join("posts");
    let alerts = format!("{}{}", smtp_table(smtp.port), webhook_table());
    let config = config(dir.path(), &alerts, "");

    let down = Peer::webhook(&posts, 503);
    let out = run_on(dir.path(), &config, DATE, Some(down.port));
    assert_eq!(
        out.status.code(),
        Some(1),
        "a channel left pending fails the run"
    );
    let summary = stdout(&out);
    assert!(
        summary.contains(
            "NOT delivered by webhook, kept in the outbox for a later run: the webhook answered 503"
        ),
        "{summary}"
    );
    assert_eq!(eml_files(&maildir).len(), 1, "e-mail went out regardless");
    drop(down);

    // The outbox shows what is pending and why.
    let out = run(costwatch(dir.path())
        .args(["outbox", "list", "--format", "json", "--config"])
        .arg(&config));
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let deliveries = listed[0]["deliveries"].as_array().unwrap();
    let state = |channel: &str| deliveries.iter().find(|d| d["channel"] == channel).unwrap();
    assert_eq!(state("smtp")["status"], "delivered");
    assert_eq!(state("webhook")["status"], "pending");
    assert_eq!(state("webhook")["attempts"], 3);
    assert!(
        state("webhook")["last_error"]
            .as_str()
            .unwrap()
            .contains("503")
    );

    // Back up: `outbox retry` sends it through the webhook only.
    let up = Peer::webhook(&posts, 0);
    let out = run(costwatch(dir.path())
        .args(["outbox", "retry", "--config"])
        .arg(&config)
        .env(
            "COSTWATCH_TEST_WEBHOOK",
            format!("http://127.0.0.1:{}/hook", up.port),
        ));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out).trim(),
        "#1 webhook: delivered to webhook 127.0.0.1"
    );
    assert_eq!(json_files(&posts).len(), 1);
    assert_eq!(eml_files(&maildir).len(), 1, "e-mail is not sent twice");

    // The next day's run has nothing left to send.
    let out = run_on(dir.path(), &config, "2026-03-20", Some(up.port));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        (json_files(&posts).len(), eml_files(&maildir).len()),
        (1, 1)
    );
}

#[test]
fn an_smtp_server_that_never_answers_is_given_up_on_and_the_digest_kept() {
    let dir = tempfile::tempdir().unwrap();
    // Accepts connections and never says a word.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let alerts = smtp_table(port).replace("timeout_secs = 5", "timeout_secs = 1");
    let config = config(dir.path(), &alerts, "");
    let out = run_on(dir.path(), &config, DATE, None);
    assert_eq!(out.status.code(), Some(1));
    let summary = stdout(&out);
    assert!(
        summary.contains("NOT delivered by smtp, kept in the outbox"),
        "{summary}"
    );
    assert!(summary.contains("did not answer within 1s"), "{summary}");

    // Given up for good: dropped, and the next run does not try again.
    let out = run(costwatch(dir.path())
        .args(["outbox", "drop", "1", "--config"])
        .arg(&config));
    assert_eq!(out.status.code(), Some(0));
    let out = run(costwatch(dir.path())
        .args(["outbox", "retry", "--config"])
        .arg(&config));
    assert_eq!(stdout(&out).trim(), "nothing pending");
    let out = run(costwatch(dir.path())
        .args(["outbox", "drop", "7", "--config"])
        .arg(&config));
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("no digest #7 in the outbox"));
}

#[test]
fn routes_send_each_team_its_own_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("maildir");
    let smtp = Peer::smtp(&maildir);
    let posts = dir.path().join("posts");
    let hook = Peer::webhook(&posts, 0);
    let routes = "[[routes]]\nname = \"observability\"\n\
                  match = { tag = [\"user:team=observability\"] }\n\
                  to = [\"observability@example.com\"]\nchannels = [\"smtp\"]\n\
                  [[routes]]\nname = \"network\"\n\
                  match = { service = [\"AmazonEC2\"], severity = \"critical\" }\n\
                  channels = [\"webhook\"]\n";
    let alerts = format!("{}{}", smtp_table(smtp.port), webhook_table());
    let config = config(dir.path(), &alerts, routes);
    let out = run_on(dir.path(), &config, DATE, Some(hook.port));
    assert_eq!(out.status.code(), Some(0));

    // The observability team gets the CloudWatch creep by e-mail, and nothing else.
    let mails = eml_files(&maildir);
    assert_eq!(
        mails.len(),
        1,
        "every alert matched a route: no default digest"
    );
    let mail = parse_mail(&mails[0]);
    assert_eq!(mail["to"], "observability@example.com");
    let text = mail["text"].as_str().unwrap();
    assert!(
        text.contains("USE1-CW:MetricMonitorUsage") && !text.contains("NatGateway"),
        "{text}"
    );
    // The critical EC2 spike goes to the webhook only.
    let posts = json_files(&posts);
    assert_eq!(posts.len(), 1);
    let post = posts[0].to_string();
    assert!(post.contains("USE1-NatGateway-Bytes") && !post.contains("MetricMonitorUsage"));

    // A route naming a channel that is not configured is a config error with its line.
    let bad = config.parent().unwrap().join("bad.toml");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("channels = [\"webhook\"]", "channels = [\"pager\"]");
    std::fs::write(&bad, text).unwrap();
    let out = run(costwatch(dir.path())
        .args(["run", "--dry-run", "--config"])
        .arg(&bad));
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains("channel \"pager\" is not configured (configured: smtp, webhook)"),
        "{err}"
    );
    assert!(err.contains("routes (entry at line"), "{err}");
}

#[test]
fn silenced_alerts_are_kept_not_sent_unless_they_grow_past_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let silences = "[[silences]]\nservice = \"AmazonCloudWatch\"\nuntil = \"2026-03-31\"\n\
                    note = \"Container Insights roll-out\"\n\
                    [[silences]]\naccount = \"111122223333\"\nservice = \"AmazonEC2\"\n\
                    until = \"2026-03-31\"\nmax_impact = 1000\n";
    let config = config(dir.path(), "", silences);
    let out = run_on(dir.path(), &config, DATE, None);
    assert_eq!(out.status.code(), Some(0));
    let summary = stdout(&out);
    assert!(
        summary.contains("silenced:  1 alert(s) kept, not sent"),
        "{summary}"
    );
    assert!(
        summary.contains("alerts:    1 new or escalated"),
        "{summary}"
    );

    // The NAT spike ($3,074/month) broke through its silence; the creep is listed as silenced.
    let mails = eml_files(&dir.path().join("outbox"));
    assert_eq!(mails.len(), 1);
    let text = parse_mail(&mails[0])["text"].as_str().unwrap().to_string();
    let (sent, held) = text.split_once("Silenced").expect("a silenced section");
    assert!(
        sent.contains("USE1-NatGateway-Bytes") && !sent.contains("MetricMonitorUsage"),
        "{text}"
    );
    assert!(held.contains("USE1-CW:MetricMonitorUsage"), "{text}");

    // The finding stays open and listed.
    let out = run(costwatch(dir.path())
        .args(["findings", "--open", "--format", "json", "--config"])
        .arg(&config));
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings.len(), 2);
}

#[test]
fn snooze_and_ack_keep_known_findings_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "", "");
    let out = run(costwatch(dir.path())
        .args([
            "snooze",
            "111122223333/AmazonCloudWatch",
            "--until",
            "2026-03-25",
        ])
        .args(["--note", "roll-out week", "--config"])
        .arg(&config));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out).trim(),
        "111122223333/AmazonCloudWatch snoozed until 2026-03-25"
    );
    let out = run_on(dir.path(), &config, DATE, None);
    assert!(
        stdout(&out).contains("silenced:  1 alert(s)"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("alerts:    1 new or escalated"));

    let out = run(costwatch(dir.path())
        .args(["findings", "--config"])
        .arg(&config));
    let listing = stdout(&out);
    let spike = (listing.lines())
        .find(|l| l.contains("NatGateway"))
        .expect("the spike is listed");
    let id: i64 = spike[1..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let out = run(costwatch(dir.path())
        .args([
            "ack",
            &id.to_string(),
            "--until",
            "2026-04-30",
            "--note",
            "ticket NET-7",
        ])
        .args(["--config"])
        .arg(&config));
    assert_eq!(
        stdout(&out).trim(),
        format!("finding #{id} acknowledged until 2026-04-30")
    );
    let out = run(costwatch(dir.path())
        .args(["findings", "--format", "json", "--config"])
        .arg(&config));
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let acked = findings.iter().find(|f| f["id"] == id).unwrap();
    assert_eq!(
        (acked["acked_until"].as_str(), acked["ack_note"].as_str()),
        (Some("2026-04-30"), Some("ticket NET-7"))
    );

    let out = run(costwatch(dir.path())
        .args(["ack", "999", "--config"])
        .arg(&config));
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("no finding #999"));
}

/// Headless Chromium (Debian's `chromium`, which `scripts/test.sh` installs).
fn chromium() -> PathBuf {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .map(|dir| dir.join(name))
                .find(|p| p.exists())
        });
    found.expect("chromium not found: scripts/test.sh installs it (apt-get install chromium)")
}

/// Loads `page` in headless Chromium with a 600 px wide window and returns what the page's
/// check script wrote into `<pre id=check>`: its images' sizes and the widest element.
fn render(page: &Path, profile: &Path) -> Value {
    let out = run(Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--allow-file-access-from-files",
            "--window-size=600,2000",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("file://{}", page.display())));
    assert!(out.status.success(), "chromium failed: {}", stderr(&out));
    let dom = stdout(&out);
    let start = dom.find("<pre id=\"check\">").expect("the check ran") + "<pre id=\"check\">".len();
    let end = start + dom[start..].find("</pre>").unwrap();
    let json = dom[start..end]
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

/// Appended to a page: after load, reports each image's natural size and how far the
/// widest element reaches.
const CHECK: &str = r#"<script>
window.addEventListener("load", () => {
  const images = [...document.images].map(i => [i.naturalWidth, i.naturalHeight]);
  let right = 0;
  for (const e of document.body.querySelectorAll("*")) right = Math.max(right, e.getBoundingClientRect().right);
  const pre = document.createElement("pre");
  pre.id = "check";
  pre.textContent = JSON.stringify({images, right: Math.ceil(right), scroll: document.documentElement.scrollWidth});
  document.body.appendChild(pre);
});
</script>"#;

#[test]
fn the_digest_and_the_report_render_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "", "");
    let out = run_on(dir.path(), &config, DATE, None);
    assert_eq!(out.status.code(), Some(0));

    // The e-mail's HTML, its cid: images saved beside it as a mail client would show them.
    let mails = eml_files(&dir.path().join("outbox"));
    let script = r#"
import email, sys, os
m = email.message_from_bytes(open(sys.argv[1], "rb").read())
out = sys.argv[2]
for p in m.walk():
    if p.get_content_type() == "image/png":
        open(os.path.join(out, p["Content-ID"].strip("<>")), "wb").write(p.get_payload(decode=True))
    elif p.get_content_type() == "text/html":
        html = p.get_payload(decode=True).decode().replace('src="cid:', 'src="')
open(os.path.join(out, "digest.html"), "w").write(html)
"#;
    let pages = dir.path().join("pages");
    std::fs::create_dir(&pages).unwrap();
    let out = run(Command::new(python())
        .arg("-c")
        .arg(script)
        .arg(&mails[0])
        .arg(&pages));
    assert!(out.status.success());
    let digest = pages.join("digest.html");
    let html = std::fs::read_to_string(&digest).unwrap();
    std::fs::write(&digest, html.replace("</body>", &format!("{CHECK}</body>"))).unwrap();
    let shown = render(&digest, &dir.path().join("profile"));
    let images = shown["images"].as_array().unwrap();
    assert_eq!(images.len(), 2, "{shown}");
    assert!(
        images.iter().all(|i| i[0].as_u64() > Some(0)),
        "a chart did not load: {shown}"
    );
    assert!(
        shown["scroll"].as_u64() <= Some(600),
        "wider than a 600px mail pane: {shown}"
    );

    // The report is one self-contained file: its charts load with no other file around.
    let report = dir.path().join("report.html");
    let out = run(costwatch(dir.path())
        .args([
            "report",
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-19",
            "--out",
        ])
        .arg(&report)
        .args(["--config"])
        .arg(&config));
    assert_eq!(out.status.code(), Some(0));
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(!html.contains("src=\"http") && !html.contains("cid:"));
    std::fs::write(&report, html.replace("</body>", &format!("{CHECK}</body>"))).unwrap();
    let shown = render(&report, &dir.path().join("profile"));
    let images = shown["images"].as_array().unwrap();
    assert!(images.len() >= 2, "{shown}");
    assert!(
        images.iter().all(|i| i[0].as_u64() > Some(0)),
        "a chart did not load: {shown}"
    );
}

//! Running it every day: the recipes of `costwatch schedule`, the deployment `costwatch deploy
//! lambda` prints, and a run that catches up the run dates missed since the last good one.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;

fn demo_config(dir: &Path, extra: &str) -> std::path::PathBuf {
    write_config(
        dir,
        &format!(
            "ledger = \"costwatch.db\"\n[sources.files]\npaths = [{:?}]\n[alerts]\nto = [\"team@example.com\"]\n\
             outbox_dir = \"outbox\"\n{extra}",
            repo().join("examples/demo/data").display().to_string()
        ),
    )
}

const SMTP: &str = "[alerts.smtp]\nhost = \"smtp.example.com\"\nusername = \"costwatch\"\npassword_env = \"SMTP_PASSWORD\"\n";

fn schedule(dir: &Path, args: &[&str]) -> String {
    let out = run(costwatch(dir).arg("schedule").args(args));
    assert_eq!(out.status.code(), Some(0));
    stdout(&out)
}

/// Parses YAML with the test venv's PyYAML; the number of documents.
fn yaml_documents(text: &str) -> usize {
    use std::io::Write;
    let mut child = std::process::Command::new(python())
        .args([
            "-c",
            "import sys, yaml; print(len(list(yaml.safe_load_all(sys.stdin))))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "not YAML:\n{text}");
    stdout(&out).trim().parse().unwrap()
}

#[test]
fn recipes_run_this_binary_on_this_config_after_aws_settles_the_day() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_config(dir.path(), SMTP);
    let binary = env!("CARGO_BIN_EXE_costwatch");
    let command = format!(
        "{binary} --log-format json run --config {}",
        config.display()
    );

    let systemd = schedule(dir.path(), &["systemd"]);
    assert!(
        systemd.contains(&format!("ExecStart={command}\n")),
        "{systemd}"
    );
    assert!(systemd.contains("OnCalendar=*-*-* 06:00:00 UTC\n"));
    assert!(systemd.contains("EnvironmentFile=/etc/costwatch/costwatch.env\n"));
    assert!(systemd.contains("SMTP_PASSWORD"));

    let cron = schedule(dir.path(), &["cron", "--at", "07:30"]);
    let line = cron
        .lines()
        .find(|l| !l.starts_with('#') && l.contains(' '))
        .unwrap();
    assert!(line.starts_with("30 7 * * *  set -a; . /etc/costwatch/costwatch.env; set +a; "));
    assert!(line.contains(&command), "{line}");
    assert!(cron.contains("CRON_TZ=UTC\n"));

    let k8s = schedule(
        dir.path(),
        &["k8s", "--image", "registry.example.com/costwatch:1"],
    );
    assert_eq!(yaml_documents(&k8s), 3, "ConfigMap, volume claim, CronJob");
    assert!(k8s.contains("schedule: \"0 6 * * *\""));
    assert!(k8s.contains("secretKeyRef: {name: costwatch, key: SMTP_PASSWORD}"));
    assert!(
        k8s.contains("    password_env = \"SMTP_PASSWORD\""),
        "the config in the ConfigMap"
    );

    let eventbridge = schedule(dir.path(), &["eventbridge"]);
    assert!(eventbridge.contains("--schedule-expression 'cron(0 6 * * ? *)'"));
    assert!(eventbridge.contains(r#""Input":"{}""#));

    let bad = run(costwatch(dir.path()).args(["schedule", "cron", "--at", "25:00"]));
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn the_lambda_deployment_is_a_sam_template_with_a_least_privilege_role() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!("[sources.cost_explorer]\n[alerts]\nto = [\"team@example.com\"]\n{SMTP}"),
    );
    let out = run(costwatch(dir.path())
        .args(["deploy", "lambda", "--template", "--config"])
        .arg(&config));
    assert_eq!(out.status.code(), Some(0));
    let template: Value = serde_json::from_slice(&out.stdout).expect("the template is JSON");
    assert_eq!(template["Transform"], "AWS::Serverless-2016-10-31");
    let resources = &template["Resources"];
    assert_eq!(resources["LedgerBucket"]["Type"], "AWS::S3::Bucket");
    let function = &resources["Function"]["Properties"];
    assert_eq!(resources["Function"]["Type"], "AWS::Serverless::Function");
    assert_eq!(function["Runtime"], "provided.al2023");
    assert_eq!(function["Handler"], "bootstrap");
    let daily = &function["Events"]["Daily"];
    assert_eq!(daily["Type"], "ScheduleV2");
    assert_eq!(daily["Properties"]["ScheduleExpressionTimezone"], "UTC");
    assert_eq!(
        template["Parameters"]["ScheduleExpression"]["Default"],
        "cron(0 6 * * ? *)"
    );
    assert_eq!(
        function["Environment"]["Variables"]["COSTWATCH_LEDGER_S3"]["Fn::Sub"],
        "s3://${LedgerBucket}/costwatch.db"
    );
    assert_eq!(
        function["Environment"]["Variables"]["SMTP_PASSWORD"]["Ref"],
        "SmtpPassword"
    );
    assert_eq!(template["Parameters"]["SmtpPassword"]["NoEcho"], true);
    let statements = function["Policies"][0]["Statement"].as_array().unwrap();
    let sids: Vec<&str> = statements
        .iter()
        .map(|s| s["Sid"].as_str().unwrap())
        .collect();
    assert_eq!(
        sids,
        [
            "CostExplorer",
            "LedgerObject",
            "LedgerBucket",
            "ConfigObject"
        ]
    );
    assert_eq!(
        statements[1]["Resource"][0]["Fn::Sub"],
        "arn:aws:s3:::${LedgerBucket}/costwatch.db"
    );
    assert_eq!(yaml_documents(&stdout(&out)), 1, "JSON is YAML too");

    let out = run(costwatch(dir.path())
        .args(["deploy", "lambda", "--print", "--config"])
        .arg(&config));
    assert_eq!(out.status.code(), Some(0));
    let script = stdout(&out);
    assert!(script.contains(
        "cargo build --release --locked --features lambda --bin costwatch-lambda --target x86_64-unknown-linux-musl"
    ));
    assert!(
        script.contains("cargo lambda build --release --features lambda --bin costwatch-lambda")
    );
    assert!(script.contains("sam deploy --template-file target/lambda/template.json"));
    assert!(script.contains("--parameter-overrides SmtpPassword=\"$SMTP_PASSWORD\""));
    let embedded = script
        .split_once("<<'TEMPLATE'\n")
        .and_then(|(_, rest)| rest.split_once("\nTEMPLATE\n"))
        .unwrap()
        .0;
    assert_eq!(serde_json::from_str::<Value>(embedded).unwrap(), template);
    let bash = std::process::Command::new("bash")
        .arg("-n")
        .arg("-c")
        .arg(&script)
        .status()
        .unwrap();
    assert!(bash.success(), "the script is valid bash");
}

fn run_json(dir: &Path, config: &Path, date: &str) -> Value {
    let out = run(costwatch(dir)
        .args(["run", "--format", "json", "--date", date, "--config"])
        .arg(config));
    assert_eq!(out.status.code(), Some(0));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn rows(db: &Path, sql: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn missed_run_dates_are_caught_up_one_digest_each_as_daily_runs_would_have() {
    let daily = tempfile::tempdir().unwrap();
    let config = demo_config(daily.path(), "");
    for date in [
        "2026-03-13",
        "2026-03-14",
        "2026-03-15",
        "2026-03-16",
        "2026-03-17",
        "2026-03-18",
        "2026-03-19",
    ] {
        let summary = run_json(daily.path(), &config, date);
        assert!(summary["catch_up"].is_null());
    }

    let missed = tempfile::tempdir().unwrap();
    let config = demo_config(missed.path(), "");
    run_json(missed.path(), &config, "2026-03-13");
    let summary = run_json(missed.path(), &config, "2026-03-19");
    let catch_up = &summary["catch_up"];
    assert_eq!(catch_up["since"], "2026-03-13");
    assert_eq!(catch_up["skipped"], 0);
    let dates: Vec<&str> = (catch_up["days"].as_array().unwrap().iter())
        .map(|d| d["run_date"].as_str().unwrap())
        .collect();
    assert_eq!(
        dates,
        [
            "2026-03-14",
            "2026-03-15",
            "2026-03-16",
            "2026-03-17",
            "2026-03-18"
        ]
    );

    let alerts = "SELECT run_date || ' ' || rule || ' ' || usage_type FROM alerts ORDER BY 1";
    let digests = "SELECT run_date FROM outbox ORDER BY 1";
    let (a, b) = (
        daily.path().join("costwatch.db"),
        missed.path().join("costwatch.db"),
    );
    assert!(!rows(&a, alerts).is_empty());
    assert_eq!(
        rows(&b, alerts),
        rows(&a, alerts),
        "the same alerts, on the same run dates"
    );
    assert_eq!(
        rows(&b, digests),
        rows(&a, digests),
        "one digest per run date with alerts"
    );
    assert_eq!(
        eml_files(&missed.path().join("outbox")).len(),
        rows(&b, digests).len()
    );

    // Bounded: only the newest max_catch_up_days, and the summary says so.
    let bounded = tempfile::tempdir().unwrap();
    let config = demo_config(bounded.path(), "[detection]\nmax_catch_up_days = 2\n");
    run_json(bounded.path(), &config, "2026-03-13");
    let out = run(costwatch(bounded.path())
        .args(["run", "--date", "2026-03-19", "--config"])
        .arg(&config));
    let text = stdout(&out);
    assert!(
        text.contains("caught up: 2 missed run date(s) since the last successful run on 2026-03-13 (3 older one(s) not replayed: max_catch_up_days)"),
        "{text}"
    );
    assert!(text.contains("    2026-03-17: billing day"), "{text}");
}

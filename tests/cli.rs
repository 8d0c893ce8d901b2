//! End-to-end tests of the command line on the project's demo data.

mod common;

use common::*;
use std::path::Path;

const DEMO_RUN_DATE: &str = "2026-03-19";

fn demo_config(dir: &Path) -> std::path::PathBuf {
    let data = repo().join("examples/demo/data");
    write_config(
        dir,
        &format!(
            "ledger = \"costwatch.db\"\n[sources.files]\npaths = [{:?}]\n[alerts]\nto = [\"team@example.com\"]\noutbox_dir = \"outbox\"\n",
            data.display().to_string()
        ),
    )
}

/// Parses a message with Python's email package (an independent MIME parser) and returns
/// "subject|content type|text part".
fn parse_mime(path: &Path) -> String {
    let script = "import email,sys\nm=email.message_from_bytes(open(sys.argv[1],'rb').read())\n\
                  assert m['MIME-Version']=='1.0' and m.is_multipart()\n\
                  text=[p for p in m.walk() if p.get_content_type()=='text/plain'][0].get_payload(decode=True).decode()\n\
                  html=[p for p in m.walk() if p.get_content_type()=='text/html']\nassert html\n\
                  print(m['Subject']+'|'+m.get_content_type()+'|'+text)";
    let out = run(std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(path));
    assert!(
        out.status.success(),
        "not a proper MIME message: {}",
        stderr(&out)
    );
    stdout(&out)
}

#[test]
fn demo_run_writes_a_mime_digest_and_a_rerun_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_config(dir.path());
    let out = run(costwatch(dir.path())
        .args(["run", "--config"])
        .arg(&config)
        .args(["--date", DEMO_RUN_DATE]));
    assert_eq!(out.status.code(), Some(0));
    let summary = stdout(&out);
    assert!(
        summary.contains("evaluated: billing day 2026-03-18"),
        "{summary}"
    );
    assert!(summary.contains("USE1-NatGateway-Bytes"), "{summary}");
    assert!(summary.contains("API calls: 0"), "{summary}");
    let emls = eml_files(&dir.path().join("outbox"));
    assert_eq!(emls.len(), 1, "{emls:?}");
    let mime = parse_mime(&emls[0]);
    assert!(
        mime.contains("multipart/alternative") && mime.contains("USE1-NatGateway-Bytes"),
        "{mime}"
    );
    assert!(mime.starts_with("costwatch 2026-03-19:"), "{mime}");
    assert!(
        mime.contains("By region: us-east-1"),
        "each alert carries its root cause: {mime}"
    );

    let again = run(costwatch(dir.path())
        .args(["run", "--config"])
        .arg(&config)
        .args(["--date", DEMO_RUN_DATE]));
    assert_eq!(again.status.code(), Some(0));
    let summary = stdout(&again);
    assert!(
        summary.contains("0 new or escalated") && summary.contains("nothing to send"),
        "{summary}"
    );
    assert!(
        summary.contains("none changed"),
        "unchanged files must not be re-read: {summary}"
    );
    assert_eq!(eml_files(&dir.path().join("outbox")).len(), 1);
}

#[test]
fn dry_run_keeps_nothing_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_config(dir.path());
    let out = run(costwatch(dir.path())
        .args(["run", "--dry-run", "--config"])
        .arg(&config)
        .args(["--date", DEMO_RUN_DATE]));
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("USE1-NatGateway-Bytes"));
    assert!(eml_files(&dir.path().join("outbox")).is_empty());
    // The real run afterwards still opens the finding and sends it.
    let out = run(costwatch(dir.path())
        .args(["run", "--config"])
        .arg(&config)
        .args(["--date", DEMO_RUN_DATE]));
    assert!(stdout(&out).contains("USE1-NatGateway-Bytes"));
    assert_eq!(eml_files(&dir.path().join("outbox")).len(), 1);
}

#[test]
fn data_flag_needs_no_config_and_ledger_flag_chooses_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(costwatch(dir.path())
        .args(["--ledger", "elsewhere/x.db", "run", "--data"])
        .arg(repo().join("examples/demo/data"))
        .args(["--date", DEMO_RUN_DATE]));
    assert_eq!(out.status.code(), Some(0));
    assert!(dir.path().join("elsewhere/x.db").exists());
    assert_eq!(eml_files(&dir.path().join("outbox")).len(), 1);
}

#[test]
fn backtest_prints_scorer_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(costwatch(dir.path())
        .args(["backtest", "--data"])
        .arg(repo().join("examples/demo/data"))
        .args([
            "--from",
            "2026-02-01",
            "--to",
            "2026-03-20",
            "--format",
            "json",
        ]));
    assert_eq!(out.status.code(), Some(0));
    let alerts: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!alerts.is_empty());
    for a in &alerts {
        for key in [
            "day",
            "rule",
            "account",
            "service",
            "usage_type",
            "severity",
            "observed",
            "expected",
            "message",
        ] {
            assert!(a.get(key).is_some(), "missing {key} in {a}");
        }
    }
    let nat = alerts
        .iter()
        .find(|a| a["usage_type"] == "USE1-NatGateway-Bytes")
        .expect("the planted NAT spike");
    assert_eq!(nat["day"], "2026-03-19");
    assert_eq!(nat["service"], "AmazonEC2");
    assert!(
        alerts
            .iter()
            .any(|a| a["usage_type"] == "USE1-CW:MetricMonitorUsage"),
        "the planted creep"
    );
    // Month-start RI fees, tax and the credit never alert.
    assert!(
        alerts
            .iter()
            .all(|a| a["usage_type"] != "USE1-HeavyUsage:m6i.xlarge" && a["usage_type"] != "")
    );
    // A backtest keeps no findings: a daily run afterwards still alerts.
    let out = run(costwatch(dir.path())
        .args(["run", "--data"])
        .arg(repo().join("examples/demo/data"))
        .args(["--date", DEMO_RUN_DATE]));
    assert!(stdout(&out).contains("USE1-NatGateway-Bytes"));
}

#[test]
fn config_typo_names_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "ledger = \"x.db\"\n\n[detection]\nhistory_days = 90\nresolve_after_quite_days = 3\n",
    );
    let out = run(costwatch(dir.path()).args(["run", "--config"]).arg(&config));
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains("line 5") && err.contains("resolve_after_quite_days"),
        "{err}"
    );

    let config = write_config(
        dir.path(),
        "[[rules]]\nbuiltin = \"spike\"\n[rules.config]\nk = \"high\"\n",
    );
    let out = run(costwatch(dir.path())
        .args(["sync", "--config"])
        .arg(&config));
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains("rules.config.k") && err.contains("line 1"),
        "{err}"
    );
}

#[test]
fn a_password_in_the_config_is_rejected_without_echoing_it() {
    let dir = tempfile::tempdir().unwrap();
    for smtp in [
        "password = \"hunter2-secret\"",
        "password_env = \"hunter2-secret\"",
        "password_env = 123456789",
    ] {
        let config = write_config(
            dir.path(),
            &format!("[alerts.smtp]\nhost = \"mail.example.com\"\n{smtp}\n"),
        );
        let out = run(costwatch(dir.path()).args(["run", "--config"]).arg(&config));
        assert_eq!(out.status.code(), Some(3));
        let err = stderr(&out);
        assert!(err.contains("password"), "{err}");
        assert!(
            !err.contains("hunter2") && !err.contains("123456789"),
            "the secret is echoed: {err}"
        );
    }
}

#[test]
fn missing_config_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(costwatch(dir.path()).arg("run"));
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("costwatch init"));
}

#[test]
fn corrupt_billing_files_name_file_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let bad_number = dir.path().join("bad-number.csv");
    std::fs::write(
        &bad_number,
        "lineItem/UsageStartDate,lineItem/UsageAccountId,lineItem/LineItemType,lineItem/ProductCode,lineItem/UsageType,lineItem/UnblendedCost\n\
         2026-01-01T00:00:00Z,111122223333,Usage,AmazonEC2,BoxUsage,1.5\n\
         2026-01-01T00:00:00Z,111122223333,Usage,AmazonEC2,BoxUsage,12,34\n",
    )
    .unwrap();
    let out = run(costwatch(dir.path())
        .args(["sync", "--data"])
        .arg(&bad_number)
        .args(["--ledger", "a.db"]));
    assert_eq!(out.status.code(), Some(5));
    assert!(
        stderr(&out).contains("bad-number.csv: row 2: 7 fields, but the header has 6"),
        "{}",
        stderr(&out)
    );

    std::fs::write(
        &bad_number,
        "lineItem/UsageStartDate,lineItem/UsageAccountId,lineItem/LineItemType,lineItem/ProductCode,lineItem/UsageType,lineItem/UnblendedCost\n\
         2026-01-01T00:00:00Z,111122223333,Usage,AmazonEC2,BoxUsage,1.5\n\
         2026-01-01T00:00:00Z,111122223333,Usage,AmazonEC2,BoxUsage,1.2.3\n",
    )
    .unwrap();
    let out = run(costwatch(dir.path())
        .args(["sync", "--data"])
        .arg(&bad_number)
        .args(["--ledger", "a.db"]));
    assert_eq!(out.status.code(), Some(5));
    let err = stderr(&out);
    assert!(
        err.contains("bad-number.csv: row 2")
            && err.contains("column lineItem/UnblendedCost: \"1.2.3\" is not a number"),
        "{err}"
    );

    let gz = std::fs::read(repo().join("examples/demo/data/cur-2026-02.csv.gz")).unwrap();
    let truncated = dir.path().join("truncated.csv.gz");
    std::fs::write(&truncated, &gz[..gz.len() / 2]).unwrap();
    let out = run(costwatch(dir.path())
        .args(["sync", "--data"])
        .arg(&truncated)
        .args(["--ledger", "a.db"]));
    assert_eq!(out.status.code(), Some(5));
    let err = stderr(&out);
    assert!(
        err.contains("truncated.csv.gz: row ") && err.contains("truncated or corrupt"),
        "{err}"
    );

    // Nothing was half-written: the ledger holds no facts from the bad files.
    let conn = rusqlite::Connection::open(dir.path().join("a.db")).unwrap();
    let rows: i64 = conn
        .query_row("SELECT COUNT(*) FROM daily_costs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
}

#[test]
fn a_second_process_is_locked_out() {
    let dir = tempfile::tempdir().unwrap();
    let lock = std::fs::File::create(dir.path().join("costwatch.db.lock")).unwrap();
    lock.lock().unwrap();
    let out = run(costwatch(dir.path())
        .args(["run", "--data"])
        .arg(repo().join("examples/demo/data")));
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("another costwatch process"),
        "{}",
        stderr(&out)
    );
    drop(lock);
}

#[test]
fn init_writes_a_config_that_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(costwatch(dir.path()).arg("init"));
    assert_eq!(out.status.code(), Some(0));
    let out = run(costwatch(dir.path()).arg("init"));
    assert_eq!(out.status.code(), Some(3), "init must not overwrite");
    std::fs::create_dir(dir.path().join("cur")).unwrap();
    std::fs::copy(
        repo().join("examples/demo/data/cur-2026-03.csv.gz"),
        dir.path().join("cur/a.csv.gz"),
    )
    .unwrap();
    std::fs::copy(
        repo().join("examples/demo/data/cur-2026-02.csv.gz"),
        dir.path().join("cur/b.csv.gz"),
    )
    .unwrap();
    // No --config: ./costwatch.toml is used.
    let out = run(costwatch(dir.path()).args(["run", "--date", DEMO_RUN_DATE]));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(eml_files(&dir.path().join("outbox")).len(), 1);
}

#[test]
fn json_logs_for_machines() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(costwatch(dir.path())
        .args(["--log-format", "json", "sync", "--data"])
        .arg(repo().join("examples/demo/data")));
    assert_eq!(out.status.code(), Some(0));
    let logs = stderr(&out);
    let first = logs.lines().next().expect("a log line");
    let parsed: serde_json::Value = serde_json::from_str(first).unwrap();
    assert!(parsed.get("level").is_some(), "{first}");
}

/// A CUR where EC2 usage is covered by a savings plan until 2026-03-05 and then runs on
/// demand: the same hours, at the on-demand rate instead of the plan's.
fn lapsing_savings_plan_cur() -> String {
    let mut text = String::from(
        "identity/LineItemId,bill/BillingPeriodStartDate,lineItem/UsageAccountId,lineItem/LineItemType,\
         lineItem/UsageStartDate,lineItem/ProductCode,lineItem/UsageType,lineItem/UsageAmount,\
         lineItem/UnblendedCost,product/region,product/ProductName,pricing/unit,\
         savingsPlan/SavingsPlanEffectiveCost\n",
    );
    let first = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    for (i, day) in first.iter_days().take(79).enumerate() {
        let hours = 2400.0 * (1.0 + 0.03 * ((i * 7 % 11) as f64 / 5.0 - 1.0));
        let on_demand = hours * 0.096;
        let period = day.format("%Y-%m-01T00:00:00Z");
        let start = day.format("%Y-%m-%dT00:00:00Z");
        let row = |id: &str, kind: &str, amount: f64, cost: f64, effective: f64| {
            format!(
                "{id}{i},{period},111122223333,{kind},{start},AmazonEC2,USE1-BoxUsage:m5.large,{amount:.3},\
                 {cost:.6},us-east-1,Amazon Elastic Compute Cloud,Hrs,{effective:.6}\n"
            )
        };
        if day <= chrono::NaiveDate::from_ymd_opt(2026, 3, 5).unwrap() {
            text += &row(
                "c",
                "SavingsPlanCoveredUsage",
                hours,
                on_demand,
                hours * 0.06,
            );
            text += &row("n", "SavingsPlanNegation", 0.0, -on_demand, 0.0);
        } else {
            text += &row("u", "Usage", hours, on_demand, 0.0);
        }
    }
    text
}

#[test]
fn a_lapsed_savings_plan_alerts_as_a_price_rise() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("cur.csv");
    std::fs::write(&data, lapsing_savings_plan_cur()).unwrap();
    let out = run(costwatch(dir.path())
        .args(["backtest", "--format", "json", "--data"])
        .arg(&data)
        .args(["--from", "2026-02-15", "--to", "2026-03-20"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let alerts: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    // Unblended cost never moves (covered usage is billed at on-demand rates and negated);
    // what the team pays rises by 60%, and the alert says it is the price, not the usage.
    // (The account's month pace may follow: that is the same rise, seen account-wide.)
    assert!(
        alerts
            .iter()
            .all(|a| a["rule"] == "shift" || a["rule"] == "pace"),
        "{alerts:#?}"
    );
    let a = alerts
        .iter()
        .find(|a| a["rule"] == "shift")
        .expect("a shift alert");
    assert_eq!(a["usage_type"], "USE1-BoxUsage:m5.large");
    assert!(
        ("2026-03-06".."2026-03-12").contains(&a["day"].as_str().unwrap()),
        "{a}"
    );
    let detail = a["detail"].as_str().unwrap();
    assert!(
        detail.contains("the price went from $0.06 to $0.096 per Hrs"),
        "{detail}"
    );
}

#[test]
fn a_month_heading_past_its_budget_alerts_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[sources.files]\npaths = [{:?}]\n[[rules]]\nbuiltin = \"budget\"\nconfig = {{ monthly_limit = 5000, alert_at = 0.9 }}\n",
            repo().join("examples/demo/data").display().to_string()
        ),
    );
    let out = run(costwatch(dir.path())
        .args(["backtest", "--format", "json", "--config"])
        .arg(&config)
        .args(["--from", "2026-02-01", "--to", "2026-03-20"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let alerts: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    // The demo's usage runs at about $20,000 a month: over budget from the first evaluated
    // day, told once (the finding stays open while it lasts), for all accounts together.
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(
        (a["rule"].as_str(), a["account"].as_str()),
        (Some("budget"), Some(""))
    );
    assert!(
        a["message"]
            .as_str()
            .unwrap()
            .contains("% of the monthly budget"),
        "{a}"
    );
    assert!(a["monthly_impact"].as_f64().unwrap() > 10_000.0, "{a}");
}

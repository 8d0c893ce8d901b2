//! Real billing files from public projects (../shared/samples) and the labelled anomaly
//! scenarios (../shared/scenarios/public).

mod common;

use common::*;
use std::path::Path;

/// Totals of a file computed independently (tests/tools/cur_totals.py, Python stdlib).
fn independent_totals(file: &Path) -> serde_json::Value {
    let out = run(std::process::Command::new("python3")
        .arg(repo().join("tests/tools/cur_totals.py"))
        .arg(file));
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

fn ledger_sum(db: &Path, filter: &str) -> f64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        &format!("SELECT COALESCE(SUM(unblended_cost), 0) FROM daily_costs {filter}"),
        [],
        |r| r.get(0),
    )
    .unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn every_csv_sample_ingests_exactly_or_fails_clearly() {
    let samples = [
        "aws_cur_legacy_focusconverters_sample.csv",
        "focus_1.0_sample.csv",
        "koku_aws_2022-07-01-alt-columns.csv",
        "koku_aws_2023-06-01-not-final.csv",
        "koku_aws_2023-06-01.csv",
        "koku_test_cur.csv",
        "koku_test_cur.csv.gz",
        "wal_Step1CUR.gz",
    ];
    let mut ingested = 0;
    for name in samples {
        let file = shared().join("samples").join(name);
        let dir = tempfile::tempdir().unwrap();
        let out = run(costwatch(dir.path())
            .args(["sync", "--ledger", "s.db", "--data"])
            .arg(&file));
        if out.status.success() {
            let expected = independent_totals(&file);
            let db = dir.path().join("s.db");
            let total = ledger_sum(&db, "");
            let usage = ledger_sum(&db, "WHERE charge_category = 'usage'");
            assert!(
                close(total, expected["total"].as_f64().unwrap()),
                "{name}: total {total} vs {expected}"
            );
            assert!(
                close(usage, expected["usage"].as_f64().unwrap()),
                "{name}: usage {usage} vs {expected}"
            );
            ingested += 1;
        } else {
            // The only sample that may fail is the one with the malformed header, and clearly.
            assert_eq!(out.status.code(), Some(5), "{name}");
            let err = stderr(&out);
            assert!(
                name.starts_with("koku_test_cur"),
                "{name} should ingest: {err}"
            );
            assert!(
                err.contains(name) && err.contains("row 1") && err.contains("malformed header"),
                "{err}"
            );
        }
    }
    assert_eq!(ingested, 6);
}

#[test]
fn fees_credits_and_tax_stay_out_of_usage() {
    let dir = tempfile::tempdir().unwrap();
    let file = shared().join("samples/focus_1.0_sample.csv");
    let out = run(costwatch(dir.path())
        .args(["sync", "--ledger", "s.db", "--data"])
        .arg(&file));
    assert!(out.status.success());
    let conn = rusqlite::Connection::open(dir.path().join("s.db")).unwrap();
    let credit: f64 = conn
        .query_row(
            "SELECT SUM(unblended_cost) FROM daily_costs WHERE charge_category = 'credit'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(credit < 0.0);
    let dir = tempfile::tempdir().unwrap();
    let file = shared().join("samples/aws_cur_legacy_focusconverters_sample.csv");
    run(costwatch(dir.path())
        .args(["sync", "--ledger", "s.db", "--data"])
        .arg(&file));
    let conn = rusqlite::Connection::open(dir.path().join("s.db")).unwrap();
    let tax_rows: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM daily_costs WHERE charge_category = 'tax'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(tax_rows > 0);
}

/// Backtests every public scenario and scores it with ../shared/scenarios/score.py.
#[test]
fn public_scenarios_meet_the_detection_goal() {
    let root = shared().join("scenarios/public");
    let mut scenarios: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    scenarios.sort();
    assert!(scenarios.len() >= 6);
    let (mut labels, mut detected, mut alerts, mut false_alarms) = (0, 0, 0, 0);
    let mut report = String::new();
    for scenario in &scenarios {
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(scenario.join("labels.json")).unwrap())
                .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = run(costwatch(dir.path())
            .args(["backtest", "--ledger", "s.db", "--format", "json", "--data"])
            .arg(scenario)
            .args([
                "--from",
                doc["evaluate_from"].as_str().unwrap(),
                "--to",
                doc["last_day"].as_str().unwrap(),
            ]));
        assert!(out.status.success());
        let alerts_file = dir.path().join("alerts.json");
        std::fs::write(&alerts_file, &out.stdout).unwrap();
        let scored = run(std::process::Command::new("python3")
            .arg(shared().join("scenarios/score.py"))
            .arg(scenario.join("labels.json"))
            .arg(&alerts_file)
            .arg("--json"));
        let s: serde_json::Value = serde_json::from_slice(&scored.stdout).unwrap();
        report += &format!("{s}\n");
        labels += s["labels"].as_u64().unwrap();
        detected += s["detected"].as_u64().unwrap();
        alerts += s["alerts"].as_u64().unwrap();
        false_alarms += s["false_alarms"].as_u64().unwrap();
    }
    let recall = detected as f64 / labels as f64;
    let precision = if alerts == 0 {
        1.0
    } else {
        1.0 - false_alarms as f64 / alerts as f64
    };
    println!(
        "{report}recall {recall:.3} ({detected}/{labels}), precision {precision:.3} ({alerts} alerts, {false_alarms} false)"
    );
    assert!(
        recall >= 0.95 && precision >= 0.95,
        "{report}recall {recall:.3}, precision {precision:.3}"
    );
}

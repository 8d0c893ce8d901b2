//! AWS sources against the emulator (moto + costwatch's extensions), through the real SDK.

mod common;

use common::*;
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

fn page(days: Vec<Value>, token: Option<&str>) -> Value {
    let mut p =
        json!({"ResultsByTime": days, "DimensionValueAttributes": [], "GroupDefinitions": []});
    if let Some(t) = token {
        p["NextPageToken"] = json!(t);
    }
    p
}

fn forecast(mean: f64) -> Value {
    json!({"Total": {"Amount": mean.to_string(), "Unit": "USD"}, "ForecastResultsByTime": [{
        "TimePeriod": {"Start": "2026-03-05", "End": "2026-04-01"}, "MeanValue": mean.to_string(),
        "PredictionIntervalLowerBound": (mean * 0.9).to_string(), "PredictionIntervalUpperBound": (mean * 1.1).to_string()}]})
}

fn seed(moto: &Peer, cost_and_usage: Vec<Value>, forecasts: Vec<Value>) {
    assert_eq!(post_json(moto, "/moto-api/reset", &json!({})), 200);
    assert_eq!(
        post_json(
            moto,
            "/moto-api/static/ce/cost-and-usage-results",
            &json!({"results": cost_and_usage})
        ),
        201
    );
    assert_eq!(
        post_json(
            moto,
            "/costwatch-emulator/ce/cost-forecast-results",
            &json!({"results": forecasts})
        ),
        201
    );
}

fn ce_config(dir: &Path, endpoint: &str, extra: &str) -> std::path::PathBuf {
    write_config(
        dir,
        &format!(
            "[aws]\nendpoint_url = \"{endpoint}\"\nmax_attempts = 1\n\
             [sources.cost_explorer]\nbackfill_days = 5\nrestate_days = 2\nprevious_month_until_day = 0\n{extra}\n"
        ),
    )
}

fn ledger_rows(db: &Path, sql: &str) -> Vec<(String, String, String, f64)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

const ACCOUNT: &str = "111122223333";

#[test]
fn throttled_requests_are_retried_with_backoff() {
    let moto = Peer::moto();
    let dir = tempfile::tempdir().unwrap();
    seed(&moto, vec![page(vec![], None)], vec![forecast(10.0)]);
    let config = |attempts: u32| {
        write_config(
            dir.path(),
            &format!(
                "[aws]\nendpoint_url = \"{}\"\nmax_attempts = {attempts}\n[sources.cost_explorer]\nbackfill_days = 2\n",
                moto.endpoint()
            ),
        )
    };
    // Without retries, one throttle fails the source.
    assert_eq!(
        post_json(
            &moto,
            "/costwatch-emulator/throttle",
            &json!({"target": "GetCostAndUsage", "count": 1})
        ),
        200
    );
    let out = run_daily(dir.path(), &config(1), "2026-03-05");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("cost_explorer failed") && stdout(&out).contains("Rate exceeded"),
        "{}",
        stdout(&out)
    );
    // With the standard retry mode, two throttles in a row are absorbed.
    assert_eq!(
        post_json(
            &moto,
            "/costwatch-emulator/throttle",
            &json!({"target": "GetCostAndUsage", "count": 2})
        ),
        200
    );
    let config = config(3);
    let out = run_daily(dir.path(), &config, "2026-03-05");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("cost_explorer ok"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn an_unreachable_source_fails_alone_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data = repo().join("examples/demo/data");
    let config = ce_config(
        dir.path(),
        &format!("http://127.0.0.1:{closed}"),
        &format!(
            "[sources.files]\npaths = [{:?}]",
            data.display().to_string()
        ),
    );
    let out = run_daily(dir.path(), &config, "2026-03-19");
    assert_eq!(out.status.code(), Some(1), "a failed source fails the run");
    let summary = stdout(&out);
    assert!(summary.contains("cost_explorer failed"), "{summary}");
    assert!(summary.contains("files    ok"), "{summary}");
    assert!(
        summary.contains("USE1-NatGateway-Bytes"),
        "rules still ran on the ledger: {summary}"
    );
    let emls = eml_files(&dir.path().join("outbox"));
    assert_eq!(emls.len(), 1);
    let digest = std::fs::read_to_string(&emls[0]).unwrap();
    assert!(digest.contains(", 1 problem"), "{digest}");

    // A rerun of the date with the source still down does not repeat the mail; the next day,
    // with no new alert, a digest still tells of the failing source.
    run_daily(dir.path(), &config, "2026-03-19");
    assert_eq!(eml_files(&dir.path().join("outbox")).len(), 1);
    run_daily(dir.path(), &config, "2026-03-20");
    let emls = eml_files(&dir.path().join("outbox"));
    assert_eq!(emls.len(), 2);
    let digest = std::fs::read_to_string(&emls[1]).unwrap();
    assert!(digest.contains("no new alerts, 1 problem"), "{digest}");
}

#[test]
fn missing_credentials_are_reported_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let config = ce_config(dir.path(), "http://127.0.0.1:9", "");
    let started = Instant::now();
    let out = run(costwatch(dir.path())
        .args(["run", "--config"])
        .arg(&config)
        .args(["--date", "2026-03-05"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .env("HOME", dir.path()));
    let elapsed = started.elapsed();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("no AWS credentials found: set AWS_PROFILE"),
        "{}",
        stdout(&out)
    );
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    // No data to evaluate, but the team still hears of the failing source.
    let emls = eml_files(&dir.path().join("outbox"));
    assert_eq!(emls.len(), 1);
    let digest = std::fs::read_to_string(&emls[0]).unwrap();
    assert!(digest.contains("no new alerts, 1 problem"), "{digest}");
}

#[test]
fn billing_metrics_become_daily_deltas_across_a_month_boundary() {
    let moto = Peer::moto();
    block_on(async {
        use aws_sdk_cloudwatch::primitives::DateTime;
        use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
        let config = moto.sdk_config().await;
        let cw = aws_sdk_cloudwatch::Client::new(&config);
        let points = [
            ("2026-02-26T06:00:00Z", 100.0),
            ("2026-02-26T18:00:00Z", 104.0),
            ("2026-02-27T12:00:00Z", 110.0),
            ("2026-02-28T12:00:00Z", 125.0),
            ("2026-03-01T12:00:00Z", 7.0),
            ("2026-03-02T06:00:00Z", 11.0),
            ("2026-03-02T12:00:00Z", 15.0),
        ];
        for (service, factor) in [("AmazonEC2", 1.0), ("AmazonS3", 0.5)] {
            let mut put = cw.put_metric_data().namespace("AWS/Billing");
            for (at, value) in points {
                let ts = chrono::DateTime::parse_from_rfc3339(at)
                    .unwrap()
                    .timestamp();
                put = put.metric_data(
                    MetricDatum::builder()
                        .metric_name("EstimatedCharges")
                        .dimensions(Dimension::builder().name("Currency").value("USD").build())
                        .dimensions(
                            Dimension::builder()
                                .name("ServiceName")
                                .value(service)
                                .build(),
                        )
                        .dimensions(
                            Dimension::builder()
                                .name("LinkedAccount")
                                .value(ACCOUNT)
                                .build(),
                        )
                        .timestamp(DateTime::from_secs(ts))
                        .value(value * factor)
                        .build(),
                );
            }
            put.send().await.unwrap();
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[aws]\nendpoint_url = \"{}\"\nmax_attempts = 1\n[sources.billing_metrics]\nlookback_days = 5\n",
            moto.endpoint()
        ),
    );
    let out = run_daily(dir.path(), &config, "2026-03-03");
    assert_eq!(out.status.code(), Some(0));
    let rows = ledger_rows(
        &dir.path().join("costwatch.db"),
        "SELECT day, service_code, account, unblended_cost FROM daily_costs WHERE source = 'billing_metrics' ORDER BY service_code, day",
    );
    let ec2: Vec<(String, f64)> = rows
        .iter()
        .filter(|r| r.1 == "AmazonEC2")
        .map(|r| (r.0.clone(), r.3))
        .collect();
    assert_eq!(
        ec2,
        [
            ("2026-02-27".into(), 6.0),
            ("2026-02-28".into(), 15.0),
            ("2026-03-01".into(), 7.0),
            ("2026-03-02".into(), 8.0)
        ]
    );
    assert!(rows.iter().all(|r| r.2 == ACCOUNT));
    assert_eq!(rows.iter().filter(|r| r.1 == "AmazonS3").count(), 4);
}

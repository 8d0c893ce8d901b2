//! AWS sources against the emulator (moto + costwatch's extensions), through the real SDK.

mod common;

use common::*;
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

fn group(keys: [&str; 2], unblended: f64, usage: f64) -> Value {
    json!({"Keys": keys, "Metrics": {
        "UnblendedCost": {"Amount": unblended.to_string(), "Unit": "USD"},
        "AmortizedCost": {"Amount": unblended.to_string(), "Unit": "USD"},
        "UsageQuantity": {"Amount": usage.to_string(), "Unit": "N/A"}}})
}

fn day(date: &str, next: &str, groups: Vec<Value>) -> Value {
    json!({"TimePeriod": {"Start": date, "End": next}, "Total": {}, "Groups": groups, "Estimated": false})
}

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
fn cost_explorer_pages_land_exactly_and_reruns_fetch_only_unsettled_days() {
    let moto = Peer::moto();
    let dir = tempfile::tempdir().unwrap();
    let days = [
        "2026-02-28",
        "2026-03-01",
        "2026-03-02",
        "2026-03-03",
        "2026-03-04",
        "2026-03-05",
    ];
    let usage_page_1: Vec<Value> = (0..5)
        .map(|i| {
            day(
                days[i],
                days[i + 1],
                vec![group(
                    [ACCOUNT, "USE1-BoxUsage:m5.large"],
                    40.0 + i as f64,
                    96.0,
                )],
            )
        })
        .collect();
    let usage_page_2: Vec<Value> = (0..5)
        .map(|i| {
            day(
                days[i],
                days[i + 1],
                vec![group([ACCOUNT, "USE1-CW:MetricMonitorUsage"], 3.0, 300.0)],
            )
        })
        .collect();
    let services = vec![day(
        days[0],
        days[5],
        vec![
            group(
                [
                    "Amazon Elastic Compute Cloud - Compute",
                    "USE1-BoxUsage:m5.large",
                ],
                200.0,
                1.0,
            ),
            group(
                ["AmazonCloudWatch", "USE1-CW:MetricMonitorUsage"],
                15.0,
                1.0,
            ),
        ],
    )];
    let other = vec![day(
        "2026-03-01",
        "2026-03-02",
        vec![
            group([ACCOUNT, "Credit"], -25.0, 0.0),
            group([ACCOUNT, "Tax"], 9.5, 0.0),
        ],
    )];
    // The next day's fetch (2026-03-03..05): 2026-03-04 restated from 44 to 61.
    let restated: Vec<Value> = [
        ("2026-03-03", "2026-03-04", 43.0),
        ("2026-03-04", "2026-03-05", 61.0),
        ("2026-03-05", "2026-03-06", 45.0),
    ]
    .iter()
    .map(|(d, n, v)| {
        day(
            d,
            n,
            vec![group([ACCOUNT, "USE1-BoxUsage:m5.large"], *v, 96.0)],
        )
    })
    .collect();
    seed(
        &moto,
        vec![
            page(usage_page_1, Some("page-2")),
            page(usage_page_2, None),
            page(services, None),
            page(other, None),
            page(restated, None),
            page(vec![], None),
        ],
        vec![forecast(1234.5), forecast(1300.0)],
    );
    let config = ce_config(dir.path(), &moto.endpoint(), "");
    let db = dir.path().join("costwatch.db");

    let out = run_daily(dir.path(), &config, "2026-03-05");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("API calls: 5 in total"),
        "4 GetCostAndUsage pages + 1 forecast: {}",
        stdout(&out)
    );
    let usage = ledger_rows(
        &db,
        "SELECT day, service_code, usage_type, unblended_cost FROM daily_costs WHERE charge_category = 'usage' ORDER BY day, usage_type",
    );
    assert_eq!(usage.len(), 10);
    assert_eq!(
        usage[0],
        (
            "2026-02-28".into(),
            "Amazon Elastic Compute Cloud - Compute".into(),
            "USE1-BoxUsage:m5.large".into(),
            40.0
        )
    );
    assert_eq!(
        usage[1],
        (
            "2026-02-28".into(),
            "AmazonCloudWatch".into(),
            "USE1-CW:MetricMonitorUsage".into(),
            3.0
        )
    );
    assert_eq!(usage[8].3, 44.0);
    let other = ledger_rows(
        &db,
        "SELECT day, charge_category, usage_type, unblended_cost FROM daily_costs WHERE charge_category <> 'usage' ORDER BY 2",
    );
    assert_eq!(
        other,
        [
            ("2026-03-01".into(), "credit".into(), "Credit".into(), -25.0),
            ("2026-03-01".into(), "tax".into(), "Tax".into(), 9.5)
        ]
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (mean, lower): (f64, f64) = conn
        .query_row("SELECT mean, lower FROM forecasts", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((mean, lower), (1234.5, 1234.5 * 0.9));
    assert!(stdout(&out).contains(
        "forecast:  Forecast cost from 2026-03-05 to the end of the period (2026-04-01): $1,234.50"
    ));

    // The same day again: everything is fresh, no paid request at all.
    let out = run_daily(dir.path(), &config, "2026-03-05");
    assert!(
        stdout(&out).contains("API calls: 0 in total"),
        "{}",
        stdout(&out)
    );

    // The next day: only days AWS may still restate, in one range (usage + other), and the forecast.
    let out = run_daily(dir.path(), &config, "2026-03-06");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("API calls: 3 in total"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("2026-03-03..2026-03-05 fetched"),
        "{}",
        stdout(&out)
    );
    let restated_day = ledger_rows(
        &db,
        "SELECT day, service_code, usage_type, unblended_cost FROM daily_costs WHERE day = '2026-03-04'",
    );
    assert_eq!(
        restated_day.len(),
        1,
        "the restated day replaces the old rows: {restated_day:?}"
    );
    assert_eq!(restated_day[0].3, 61.0);
    let kept = ledger_rows(
        &db,
        "SELECT day, service_code, usage_type, unblended_cost FROM daily_costs WHERE day = '2026-03-02' ORDER BY usage_type",
    );
    assert_eq!(kept.len(), 2, "settled days are kept: {kept:?}");
}

#[test]
fn request_budget_caps_paid_calls() {
    let moto = Peer::moto();
    let dir = tempfile::tempdir().unwrap();
    seed(
        &moto,
        vec![
            page(vec![], Some("more")),
            page(vec![], Some("more-2")),
            page(vec![], None),
        ],
        vec![],
    );
    let config = ce_config(dir.path(), &moto.endpoint(), "max_requests_per_run = 2");
    let out = run_daily(dir.path(), &config, "2026-03-05");
    assert_eq!(out.status.code(), Some(0), "a budget stop is not a failure");
    let summary = stdout(&out);
    assert!(
        summary.contains("partial") && summary.contains("request budget reached"),
        "{summary}"
    );
    assert!(summary.contains("API calls: 2 in total"), "{summary}");
}

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
    assert!(digest.contains("0 cost alerts, 1 problem"), "{digest}");
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
    assert!(digest.contains("0 cost alerts, 1 problem"), "{digest}");
}

#[test]
fn billing_metrics_become_daily_deltas_across_a_month_boundary() {
    let moto = Peer::moto();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
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

//! Cost Explorer against an emulator that behaves like the real API (tests/emulator/
//! ext_ce_strict.py: answers computed from a dataset, strict validation, small pages split
//! mid-day, throttling with LimitExceededException), through the real SDK.

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

const ACCOUNTS: [&str; 3] = ["111111111111", "222222222222", "333333333333"];
const EC2: &str = "Amazon Elastic Compute Cloud - Compute";
const S3: &str = "Amazon Simple Storage Service";
const CLOUDWATCH: &str = "AmazonCloudWatch";
/// A usage type two services bill: S3 storage and CloudWatch Logs storage.
const SHARED: &str = "USE1-TimedStorage-ByteHrs";

/// The dataset's rows for `days` days ending `last`: per account, 12 EC2 usage types, the
/// shared storage type under S3 (first two accounts) and CloudWatch (last two), a tax line
/// on the first of the month.
fn dataset(last: chrono::NaiveDate, days: u64) -> Vec<Value> {
    let mut rows = Vec::new();
    for back in 0..days {
        let day = last - chrono::Days::new(back);
        let d = day.to_string();
        for (a, account) in ACCOUNTS.iter().enumerate() {
            for t in 0..12 {
                let cost = 10.0 + a as f64 + t as f64 + back as f64 * 0.01;
                rows.push(row(
                    &d,
                    account,
                    EC2,
                    &format!("USE1-BoxUsage:m{t}.large"),
                    "Usage",
                    cost,
                ));
            }
            if a < 2 {
                rows.push(row(&d, account, S3, SHARED, "Usage", 5.0 + a as f64));
            }
            if a > 0 {
                rows.push(row(
                    &d,
                    account,
                    CLOUDWATCH,
                    SHARED,
                    "Usage",
                    1.5 * a as f64,
                ));
            }
            if chrono::Datelike::day(&day) == 1 {
                rows.push(row(&d, account, "Tax", "Tax", "Tax", 9.5));
            }
        }
    }
    rows
}

fn row(
    day: &str,
    account: &str,
    service: &str,
    usage_type: &str,
    record: &str,
    cost: f64,
) -> Value {
    json!({"day": day, "LINKED_ACCOUNT": account, "SERVICE": service, "USAGE_TYPE": usage_type,
           "RECORD_TYPE": record, "UnblendedCost": cost, "AmortizedCost": cost,
           "UsageQuantity": 1.0, "unit": "Hrs"})
}

fn seed(moto: &Peer, rows: &[Value], page_size: usize, today: &str) {
    assert_eq!(post_json(moto, "/moto-api/reset", &json!({})), 200);
    let body = json!({"rows": rows, "page_size": page_size, "today": today});
    assert_eq!(
        post_json(moto, "/costwatch-emulator/ce-strict/dataset", &body),
        201
    );
}

/// The requests the emulator answered, as (operation, HTTP status, error code).
fn calls(moto: &Peer) -> Vec<(String, u64, String)> {
    let text = get_text(moto, "/costwatch-emulator/ce-strict/calls");
    let calls: Vec<Value> = serde_json::from_str(&text).unwrap();
    calls
        .iter()
        .map(|c| {
            (
                c["operation"].as_str().unwrap().to_string(),
                c["status"].as_u64().unwrap(),
                c["error"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// (day, account, service, usage type) → unblended cost of the ledger's Cost Explorer usage.
fn ledger_usage(db: &Path) -> BTreeMap<(String, String, String, String), f64> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT day, account, service_code, usage_type, SUM(unblended_cost) FROM daily_costs
             WHERE source = 'cost_explorer' AND charge_category = 'usage' GROUP BY 1, 2, 3, 4",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok(((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?), r.get(4)?))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// The same from the dataset.
fn dataset_usage(rows: &[Value]) -> BTreeMap<(String, String, String, String), f64> {
    let mut out = BTreeMap::new();
    for r in rows.iter().filter(|r| r["RECORD_TYPE"] == "Usage") {
        let key = ["day", "LINKED_ACCOUNT", "SERVICE", "USAGE_TYPE"]
            .map(|k| r[k].as_str().unwrap().to_string());
        *out.entry(key.into()).or_insert(0.0) += r["UnblendedCost"].as_f64().unwrap();
    }
    out
}

fn config(dir: &Path, moto: &Peer, extra: &str) -> std::path::PathBuf {
    write_config(
        dir,
        &format!(
            "[aws]\nendpoint_url = \"{}\"\nmax_attempts = 1\n\
             [sources.cost_explorer]\nrestate_days = 2\nprevious_month_until_day = 0\n{extra}\n",
            moto.endpoint()
        ),
    )
}

#[test]
fn a_backfill_beyond_the_budget_completes_over_runs_newest_first() {
    let moto = Peer::moto();
    let dir = tempfile::tempdir().unwrap();
    let today: chrono::NaiveDate = "2026-03-20".parse().unwrap();
    let rows = dataset(today - chrono::Days::new(1), 90);
    // 50 groups a page: the 90-day backfill needs several times the default budget of 20.
    seed(&moto, &rows, 50, &today.to_string());
    let config = config(dir.path(), &moto, "backfill_days = 90\nforecast = false");
    let db = dir.path().join("costwatch.db");

    let first = run_daily(dir.path(), &config, &today.to_string());
    assert_eq!(
        first.status.code(),
        Some(0),
        "a budget stop is not a failure"
    );
    let summary = stdout(&first);
    assert!(summary.contains("cost_explorer partial"), "{summary}");
    assert!(
        summary.contains("request budget of 20 reached"),
        "{summary}"
    );
    assert!(summary.contains("more run(s) at 20 requests"), "{summary}");
    assert!(summary.contains("API calls: 20 in total"), "{summary}");
    let stored = ledger_usage(&db);
    let newest = (today - chrono::Days::new(1)).to_string();
    assert!(
        stored.keys().any(|k| k.0 == newest),
        "the newest days come first: {:?}",
        stored.keys().next()
    );
    assert!(stored.len() < dataset_usage(&rows).len());
    assert_eq!(
        calls(&moto).len(),
        20,
        "every request the emulator answered is reported"
    );

    // The same date again: it goes on where the first run stopped, until all is fetched.
    let mut runs = 1;
    loop {
        let out = run_daily(dir.path(), &config, &today.to_string());
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
        runs += 1;
        if stdout(&out).contains("cost_explorer ok") {
            break;
        }
        assert!(runs < 20, "the backfill never completes: {}", stdout(&out));
    }
    assert_eq!(
        ledger_usage(&db),
        dataset_usage(&rows),
        "every day, exactly"
    );
    let paid = calls(&moto).len();
    assert!(paid <= 20 * runs, "{paid} requests in {runs} runs");
    // Done: a rerun spends nothing.
    let out = run_daily(dir.path(), &config, &today.to_string());
    assert!(
        stdout(&out).contains("API calls: 0 in total"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_usage_type_of_two_services_is_booked_under_each() {
    let moto = Peer::moto();
    let dir = tempfile::tempdir().unwrap();
    let rows = dataset("2026-03-04".parse().unwrap(), 4);
    seed(&moto, &rows, 1000, "2026-03-05");
    let config = config(dir.path(), &moto, "backfill_days = 4\nforecast = false");
    let out = run_daily(dir.path(), &config, "2026-03-05");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let stored = ledger_usage(&dir.path().join("costwatch.db"));
    assert_eq!(stored, dataset_usage(&rows));
    let storage = |account: &str, service: &str| {
        stored.get(&(
            "2026-03-04".into(),
            account.into(),
            service.into(),
            SHARED.into(),
        ))
    };
    assert_eq!(storage(ACCOUNTS[0], S3), Some(&5.0));
    assert_eq!(storage(ACCOUNTS[0], CLOUDWATCH), None);
    assert_eq!(storage(ACCOUNTS[2], CLOUDWATCH), Some(&3.0));
    assert_eq!(storage(ACCOUNTS[2], S3), None);
    let tax = ledger_rows_sum(
        &dir.path().join("costwatch.db"),
        "SELECT SUM(unblended_cost) FROM daily_costs WHERE charge_category = 'tax'",
    );
    assert_eq!(
        tax,
        3.0 * 9.5,
        "non-usage charges land apart, by record type"
    );
}

fn ledger_rows_sum(db: &Path, sql: &str) -> f64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get::<_, Option<f64>>(0))
        .unwrap()
        .unwrap_or(0.0)
}

#[test]
fn restated_days_are_fetched_again_and_settled_ones_are_not() {
    let moto = Peer::moto();
    let dir = tempfile::tempdir().unwrap();
    let rows = dataset("2026-03-04".parse().unwrap(), 5);
    seed(&moto, &rows, 1000, "2026-03-05");
    let config = config(dir.path(), &moto, "backfill_days = 5");
    let db = dir.path().join("costwatch.db");
    let out = run_daily(dir.path(), &config, "2026-03-05");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("month-end forecast"),
        "{}",
        stdout(&out)
    );
    let before = calls(&moto).len();
    // AWS restates the newest day; the next day's run fetches the days still open.
    let restated = row(
        "2026-03-04",
        ACCOUNTS[0],
        EC2,
        "USE1-BoxUsage:m0.large",
        "Usage",
        99.0,
    );
    assert_eq!(
        post_json(
            &moto,
            "/costwatch-emulator/ce-strict/restate",
            &json!({"rows": [restated]})
        ),
        200
    );
    let mut next_day = rows.clone();
    next_day.extend(dataset("2026-03-05".parse().unwrap(), 1));
    let out = run_daily(dir.path(), &config, "2026-03-06");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("3 of 3 day(s) fetched"),
        "{}",
        stdout(&out)
    );
    let cost = ledger_rows_sum(
        &db,
        "SELECT unblended_cost FROM daily_costs WHERE day = '2026-03-04' AND account = '111111111111'
           AND usage_type = 'USE1-BoxUsage:m0.large'",
    );
    assert_eq!(cost, 99.0, "the restated day replaces the old value");
    assert!(calls(&moto).len() > before);
}

#[test]
fn a_failing_source_reports_its_paid_requests_and_a_short_error() {
    let moto = Peer::moto();
    let dir = tempfile::tempdir().unwrap();
    let rows = dataset("2026-03-04".parse().unwrap(), 30);
    seed(&moto, &rows, 50, "2026-03-05");
    // Some pages go through, then Cost Explorer throttles past the (absent) retries.
    let config = config(
        dir.path(),
        &moto,
        "backfill_days = 30\nforecast = false\nmax_requests_per_run = 100",
    );
    let throttle_after = |pages: usize| {
        // The emulator throttles the next N calls; fire it once `pages` calls are in.
        let endpoint = moto.port;
        std::thread::spawn(move || {
            for _ in 0..200 {
                let text = get_text_port(endpoint, "/costwatch-emulator/ce-strict/calls");
                let made: Vec<Value> = serde_json::from_str(&text).unwrap();
                if made.len() >= pages {
                    post_json_port(
                        endpoint,
                        "/costwatch-emulator/ce-strict/throttle",
                        &json!({"count": 50}),
                    );
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        })
    };
    let watcher = throttle_after(3);
    let out = run_daily(dir.path(), &config, "2026-03-05");
    watcher.join().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let summary = stdout(&out);
    let line = summary
        .lines()
        .find(|l| l.contains("source cost_explorer"))
        .unwrap();
    let answered = calls(&moto).iter().filter(|c| c.1 == 200).count();
    assert!(answered >= 3, "{answered}");
    assert!(
        line.contains(&format!("{answered} API call(s)")),
        "the paid requests of a failed source are reported: {line}"
    );
    assert!(line.contains("failed"), "{line}");
    assert!(
        line.contains("LimitExceededException: You have exceeded the rate limit")
            && line.contains("request id"),
        "the service's code, message and request id: {line}"
    );
    assert!(
        !line.contains("x-amzn") && !line.contains("HTTP/1.1") && !line.contains("headers"),
        "no raw HTTP response: {line}"
    );
}

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

/// Totals of a Parquet file computed independently with DuckDB (in the test venv).
fn duckdb(sql: &str) -> serde_json::Value {
    let script = format!(
        "import duckdb, json\nr = duckdb.sql({sql:?})\nrows = r.fetchall() if r is not None else []\nprint(json.dumps([list(r) for r in rows]))"
    );
    let out = run(std::process::Command::new(python()).args(["-c", &script]));
    assert!(
        out.status.success(),
        "duckdb failed (is duckdb in the test venv? see tests/emulator/requirements.txt): {}",
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

const USAGE_TYPES: &str = "('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage')";

fn sync(dir: &Path, file: &Path) -> std::process::Output {
    run(costwatch(dir)
        .args(["sync", "--ledger", "s.db", "--data"])
        .arg(file))
}

#[test]
fn every_parquet_sample_matches_duckdb() {
    let mut seen = 0;
    for entry in std::fs::read_dir(shared().join("samples")).unwrap() {
        let file = entry.unwrap().path();
        if file.extension().and_then(|e| e.to_str()) != Some("parquet") {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let out = sync(dir.path(), &file);
        assert!(out.status.success(), "{}: {}", file.display(), stderr(&out));
        let expected = duckdb(&format!(
            "SELECT SUM(line_item_unblended_cost), \
             SUM(CASE WHEN line_item_line_item_type IN {USAGE_TYPES} THEN line_item_unblended_cost END), \
             COUNT(DISTINCT (CAST(line_item_usage_start_date AS DATE), line_item_usage_account_id, \
                line_item_product_code, line_item_usage_type, product_region, line_item_line_item_type)) \
             FROM read_parquet('{}')",
            file.display()
        ));
        let db = dir.path().join("s.db");
        let (total, usage) = (
            ledger_sum(&db, ""),
            ledger_sum(&db, "WHERE charge_category = 'usage'"),
        );
        let name = file.display();
        assert!(
            close(total, expected[0][0].as_f64().unwrap()),
            "{name}: total {total} vs {expected}"
        );
        assert!(
            close(usage, expected[0][1].as_f64().unwrap()),
            "{name}: usage {usage} vs {expected}"
        );
        seen += 1;
    }
    assert_eq!(seen, 3);
}

fn write_config(dir: &Path, data: &Path, tag_keys: &[&str]) -> std::path::PathBuf {
    let config = dir.join("costwatch.toml");
    std::fs::write(
        &config,
        format!(
            "ledger = \"s.db\"\n[sources]\ntag_keys = {tag_keys:?}\n[sources.files]\npaths = [{:?}]\n",
            data.display().to_string()
        ),
    )
    .unwrap();
    config
}

fn tag_sums(db: &Path) -> std::collections::BTreeMap<String, f64> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT tags, SUM(unblended_cost) FROM daily_costs GROUP BY tags")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn flattened_parquet_tags_are_carried_into_facts() {
    let dir = tempfile::tempdir().unwrap();
    let file = shared().join("samples/wal_Oct2018-WorkshopCUR-00001.snappy.parquet");
    let config = write_config(dir.path(), &file, &["user:Name", "user:Environment"]);
    let out = run(costwatch(dir.path())
        .args(["sync", "--config"])
        .arg(&config));
    assert!(out.status.success(), "{}", stderr(&out));
    let sums = tag_sums(&dir.path().join("s.db"));
    let expected = duckdb(&format!(
        "SELECT CASE WHEN resource_tags_user_environment = '' THEN '' ELSE 'user:Environment=' || resource_tags_user_environment END, \
                CASE WHEN resource_tags_user_name = '' THEN '' ELSE 'user:Name=' || resource_tags_user_name END, \
                SUM(line_item_unblended_cost) FROM read_parquet('{}') GROUP BY ALL",
        file.display()
    ));
    let mut want = std::collections::BTreeMap::new();
    for row in expected.as_array().unwrap() {
        let parts: Vec<&str> = [row[0].as_str().unwrap(), row[1].as_str().unwrap()]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect();
        *want.entry(parts.join(";")).or_insert(0.0) += row[2].as_f64().unwrap();
    }
    assert!(want.len() > 2, "{want:?}");
    assert_eq!(
        sums.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (k, v) in &want {
        assert!(close(sums[k], *v), "{k}: {} vs {v}", sums[k]);
    }
}

/// A small legacy CUR CSV: `rows` line items, a `resourceTags/user:team` column.
fn legacy_csv(rows: usize) -> (String, f64) {
    let mut text = String::from(
        "identity/LineItemId,bill/BillingPeriodStartDate,lineItem/UsageAccountId,lineItem/LineItemType,\
         lineItem/UsageStartDate,lineItem/ProductCode,lineItem/UsageType,lineItem/UnblendedCost,\
         product/region,product/ProductName,resourceTags/user:team\n",
    );
    let mut total = 0.0;
    for i in 0..rows {
        let cost = (i % 9) as f64 * 0.5;
        total += cost;
        let team = ["red", "", "blue"][i % 3];
        text += &format!(
            "id{i},2025-06-01T00:00:00Z,12345,Usage,2025-06-{:02}T{:02}:00:00Z,AmazonEC2,BoxUsage,{cost},us-east-1,\"Amazon Elastic Compute Cloud, EC2\",{team}\n",
            1 + i % 28,
            i % 24
        );
    }
    (text, total)
}

#[test]
fn csv_tag_columns_are_carried_into_facts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cur.csv");
    let (text, total) = legacy_csv(300);
    std::fs::write(&file, text).unwrap();
    let config = write_config(dir.path(), &file, &["user:team"]);
    let out = run(costwatch(dir.path())
        .args(["sync", "--config"])
        .arg(&config));
    assert!(out.status.success(), "{}", stderr(&out));
    let sums = tag_sums(&dir.path().join("s.db"));
    let team = |t: usize| -> f64 {
        (0..300)
            .filter(|i| i % 3 == t)
            .map(|i| (i % 9) as f64 * 0.5)
            .sum()
    };
    assert!(close(sums["user:team=red"], team(0)), "{sums:?}");
    assert!(close(sums[""], team(1)), "{sums:?}");
    assert!(close(sums["user:team=blue"], team(2)), "{sums:?}");
    assert!(close(sums.values().sum(), total));
}

/// A CUR 2.0 export (snake_case, `resource_tags` map) and a FOCUS Parquet file, written by
/// DuckDB, read back with tags from the map.
#[test]
fn cur2_map_tags_and_focus_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let cur2 = dir.path().join("cur2.parquet");
    let focus = dir.path().join("focus.parquet");
    duckdb(&format!(
        "COPY (SELECT TIMESTAMP '2025-06-01 00:00:00' + INTERVAL (i % 30) DAY AS line_item_usage_start_date, \
            TIMESTAMP '2025-06-01' AS bill_billing_period_start_date, \
            '11111111111' || (i % 3) AS line_item_usage_account_id, \
            CASE WHEN i % 50 = 0 THEN 'Tax' WHEN i % 40 = 0 THEN 'SavingsPlanNegation' ELSE 'Usage' END AS line_item_line_item_type, \
            'AmazonEC2' AS line_item_product_code, 'BoxUsage:t3.micro' AS line_item_usage_type, \
            ((i % 7) * 0.25)::DOUBLE AS line_item_unblended_cost, 1.0::DOUBLE AS line_item_usage_amount, 'us-east-1' AS product_region_code, \
            CASE WHEN i % 3 = 0 THEN MAP {{'user_team': 'red', 'user_app': 'a' || (i % 2)}} \
                 WHEN i % 3 = 1 THEN MAP {{'user_team': 'blue'}} ELSE NULL END AS resource_tags \
          FROM range(5000) t(i)) TO '{}' (FORMAT parquet, ROW_GROUP_SIZE 1000)",
        cur2.display()
    ));
    duckdb(&format!(
        "COPY (SELECT TIMESTAMP '2025-06-01' + INTERVAL (i % 30) DAY AS ChargePeriodStart, \
            TIMESTAMP '2025-06-01' AS BillingPeriodStart, '222' AS SubAccountId, \
            CASE WHEN i % 10 = 1 THEN 'Credit' ELSE 'Usage' END AS ChargeCategory, \
            'Amazon S3' AS ServiceName, 'Storage' AS ChargeDescription, \
            CAST((i % 5) * 1.5 AS DECIMAL(18, 4)) AS BilledCost, CAST((i % 5) * 1.25 AS DECIMAL(18, 4)) AS EffectiveCost, \
            MAP {{'user:team': 'green'}} AS Tags \
          FROM range(3000) t(i)) TO '{}' (FORMAT parquet)",
        focus.display()
    ));
    let config = write_config(dir.path(), dir.path(), &["user:team", "user:app"]);
    let out = run(costwatch(dir.path())
        .args(["sync", "--config"])
        .arg(&config));
    assert!(out.status.success(), "{}", stderr(&out));
    let sums = tag_sums(&dir.path().join("s.db"));
    let expected = duckdb(&format!(
        "SELECT SUM(line_item_unblended_cost) FILTER (WHERE i % 3 = 0 AND i % 2 = 0), \
                SUM(line_item_unblended_cost) FILTER (WHERE i % 3 = 1), \
                SUM(line_item_unblended_cost) FILTER (WHERE i % 3 = 2) \
         FROM (SELECT *, row_number() OVER () - 1 AS i FROM read_parquet('{}'))",
        cur2.display()
    ));
    let e = &expected[0];
    assert!(
        close(sums["user:app=a0;user:team=red"], e[0].as_f64().unwrap()),
        "{sums:?}"
    );
    assert!(
        close(sums["user:team=blue"], e[1].as_f64().unwrap()),
        "{sums:?}"
    );
    assert!(close(sums[""], e[2].as_f64().unwrap()), "{sums:?}");
    let focus_total: f64 = (0..3000).map(|i| (i % 5) as f64 * 1.5).sum();
    assert!(close(sums["user:team=green"], focus_total), "{sums:?}");
    let db = dir.path().join("s.db");
    assert!(ledger_sum(&db, "WHERE charge_category = 'credit'") > 0.0);
    assert!(ledger_sum(&db, "WHERE charge_category = 'savings-plan'") > 0.0);
    assert!(ledger_sum(&db, "WHERE charge_category = 'tax'") > 0.0);
}

/// Both Parquet page versions, text read from dictionary pages, from plain pages (DuckDB
/// falls back to plain for a column of many distinct values in V1) and through the general
/// reader (V2 writes such a column delta-encoded), with nulls: facts equal DuckDB's grouping.
#[test]
fn parquet_page_versions_and_encodings_match_duckdb() {
    for version in ["V1", "V2"] {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cur2.parquet");
        duckdb(&format!(
            "COPY (SELECT TIMESTAMP '2025-06-01' + INTERVAL (i % 30) DAY AS line_item_usage_start_date, \
                CASE WHEN i % 7 = 0 THEN NULL ELSE '1111' || (i % 3) END AS line_item_usage_account_id, \
                'Usage' AS line_item_line_item_type, 'AmazonEC2' AS line_item_product_code, \
                'UT-' || (i * 7919 % 20000) AS line_item_usage_type, \
                (i % 11 * 0.5)::DOUBLE AS line_item_unblended_cost, \
                CASE WHEN i % 5 = 0 THEN NULL ELSE (i * 0.0001)::DECIMAL(18, 4) END \
                    AS line_item_usage_amount \
              FROM range(20000) t(i)) TO '{}' (FORMAT parquet, ROW_GROUP_SIZE 5000, PARQUET_VERSION {version})",
            file.display()
        ));
        let encodings = duckdb(&format!(
            "SELECT string_agg(DISTINCT encodings, ',') FROM parquet_metadata('{}') \
             WHERE path_in_schema = 'line_item_usage_type'",
            file.display()
        ));
        let expected_encoding = if version == "V1" {
            "PLAIN"
        } else {
            "DELTA_LENGTH_BYTE_ARRAY"
        };
        assert_eq!(encodings[0][0], expected_encoding, "{version}");
        let out = sync(dir.path(), &file);
        assert!(out.status.success(), "{version}: {}", stderr(&out));
        let expected = duckdb(&format!(
            "SELECT SUM(line_item_unblended_cost), \
                SUM(line_item_unblended_cost) FILTER (WHERE line_item_usage_account_id IS NULL), \
                SUM(line_item_unblended_cost) FILTER (WHERE line_item_usage_type = 'UT-7919'), \
                COUNT(DISTINCT (CAST(line_item_usage_start_date AS DATE), \
                    COALESCE(line_item_usage_account_id, ''), line_item_usage_type)), \
                SUM(line_item_usage_amount)::DOUBLE \
             FROM read_parquet('{}')",
            file.display()
        ));
        let e = &expected[0];
        let db = dir.path().join("s.db");
        let facts: i64 = rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM daily_costs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(facts, e[3].as_i64().unwrap(), "{version}");
        // A nullable decimal (64-bit integers) with a value per row: plain pages.
        let usage: f64 = rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("SELECT SUM(usage_amount) FROM daily_costs", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(
            close(usage, e[4].as_f64().unwrap()),
            "{version}: {usage} vs {}",
            e[4]
        );
        for (filter, want) in [
            ("", &e[0]),
            ("WHERE account = ''", &e[1]),
            ("WHERE usage_type = 'UT-7919'", &e[2]),
        ] {
            let got = ledger_sum(&db, filter);
            assert!(
                close(got, want.as_f64().unwrap()),
                "{version} {filter}: {got} vs {want}"
            );
        }
    }
}

/// Bad input fails with file, row and column named, and leaves the ledger as it was.
#[test]
fn bad_input_is_named_and_nothing_is_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("cur.csv");
    let (text, total) = legacy_csv(3000);
    std::fs::write(&data, &text).unwrap();
    assert!(sync(dir.path(), &data).status.success());
    let db = dir.path().join("s.db");
    assert!(close(ledger_sum(&db, ""), total));
    let failed = |file: &Path, wants: &[&str]| {
        let out = sync(dir.path(), file);
        assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
        let err = stderr(&out);
        for want in wants {
            assert!(err.contains(want), "{want:?} not in {err}");
        }
        assert!(close(ledger_sum(&db, ""), total), "ledger changed");
    };

    // An unparsable number in row 4.
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[4] = lines[4].replacen(",1.5,", ",1.5x,", 1);
    std::fs::write(&data, lines.join("\n")).unwrap();
    failed(
        &data,
        &["cur.csv", "row 4", "lineItem/UnblendedCost", "1.5x"],
    );

    // A malformed date.
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[5] = lines[5].replacen(",2025-06-05T", ",2025-13-05T", 1);
    std::fs::write(&data, lines.join("\n")).unwrap();
    failed(&data, &["cur.csv", "row 5", "lineItem/UsageStartDate"]);

    // A missing required column.
    std::fs::write(&data, text.replace("lineItem/UsageType", "lineItem/Other")).unwrap();
    failed(&data, &["cur.csv", "missing", "lineItem/UsageType"]);

    // A row with a field too many.
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[7] += ",extra";
    std::fs::write(&data, lines.join("\n")).unwrap();
    failed(&data, &["cur.csv", "row 7", "malformed"]);

    // A truncated gzip stream.
    std::fs::write(&data, &text).unwrap();
    let out = run(std::process::Command::new("gzip").arg("-c").arg(&data));
    std::fs::remove_file(&data).unwrap();
    let gz = dir.path().join("cur.csv.gz");
    std::fs::write(&gz, &out.stdout[..out.stdout.len() * 2 / 3]).unwrap();
    failed(&gz, &["cur.csv.gz", "row ", "truncated"]);
}

/// A Parquet row the batch path cannot take (a null day, a cost that is not a number) is
/// named by row and column, with amortized cost from the savings-plan column (null on most
/// rows) on the rows around it; nothing is written. The row groups are large enough to be
/// cut into one part per reader thread, and a row of a later part is named right.
#[test]
fn bad_parquet_rows_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cur2.parquet");
    let write = |day: &str, cost: &str| {
        duckdb(&format!(
            "COPY (SELECT {day} AS line_item_usage_start_date, '111' AS line_item_usage_account_id, \
                CASE WHEN i % 2 = 0 THEN 'SavingsPlanCoveredUsage' ELSE 'Usage' END AS line_item_line_item_type, \
                'AmazonEC2' AS line_item_product_code, 'BoxUsage' AS line_item_usage_type, \
                {cost} AS line_item_unblended_cost, \
                CASE WHEN i % 4 = 0 THEN 0.25::DOUBLE END AS savings_plan_savings_plan_effective_cost \
              FROM range(400000) t(i)) TO '{}' (FORMAT parquet, ROW_GROUP_SIZE 200000)",
            file.display()
        ))
    };
    let day = "TIMESTAMP '2025-06-01' + INTERVAL (i % 30) DAY";
    // A cost that differs row by row, so that a part read from the wrong row shows.
    let cost = "i::DOUBLE / 1024";
    let total = 399_999.0 * 400_000.0 / 2.0 / 1024.0;
    write(day, cost);
    let smallest_group = duckdb(&format!(
        "SELECT MIN(row_group_num_rows) FROM parquet_metadata('{}')",
        file.display()
    ));
    assert!(
        smallest_group[0][0].as_i64().unwrap() >= 2 * 64 * 1024,
        "{smallest_group}"
    );
    let out = sync(dir.path(), &file);
    assert!(out.status.success(), "{}", stderr(&out));
    let db = dir.path().join("s.db");
    let amortized: f64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT SUM(amortized_cost) FROM daily_costs", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(close(ledger_sum(&db, ""), total), "every row once");
    // Half the covered rows have an effective cost, the other half none (null: 0).
    assert!(
        close(amortized, 100_000.0 * 0.25 + 200_000.0 * 200_000.0 / 1024.0),
        "{amortized}"
    );
    for (day, cost, wants) in [
        (
            &format!("CASE WHEN i = 1234 THEN NULL ELSE {day} END") as &str,
            cost,
            ["row 1235", "line_item_usage_start_date"],
        ),
        (
            day,
            "CASE WHEN i = 350000 THEN 'NaN'::DOUBLE ELSE i / 1024 END",
            ["row 350001", "line_item_unblended_cost"],
        ),
    ] {
        write(day, cost);
        let out = sync(dir.path(), &file);
        assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
        for want in wants {
            assert!(
                stderr(&out).contains(want),
                "{want:?} not in {}",
                stderr(&out)
            );
        }
        assert!(close(ledger_sum(&db, ""), total), "ledger changed");
    }
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

/// Backtests every scenario folder under `roots` and scores it with
/// ../shared/scenarios/score.py: (recall, precision, the per-scenario report).
fn score_scenarios(roots: &[std::path::PathBuf]) -> (f64, f64, String) {
    let mut scenarios: Vec<_> = roots
        .iter()
        .flat_map(|root| std::fs::read_dir(root).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("labels.json").exists())
        .collect();
    scenarios.sort();
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
    assert!(labels > 0, "no scenarios under {roots:?}");
    let recall = detected as f64 / labels as f64;
    let precision = if alerts == 0 {
        1.0
    } else {
        1.0 - false_alarms as f64 / alerts as f64
    };
    report += &format!(
        "recall {recall:.3} ({detected}/{labels}), precision {precision:.3} ({alerts} alerts, {false_alarms} false)"
    );
    println!("{report}");
    (recall, precision, report)
}

/// The public scenarios (../shared/scenarios/public): everything caught on time, no false
/// alarm worth a mention.
#[test]
fn public_scenarios_meet_the_detection_goal() {
    let (recall, precision, report) = score_scenarios(&[shared().join("scenarios/public")]);
    assert!(recall >= 0.95 && precision >= 0.95, "{report}");
}

/// The public scenarios and the rougher ones of tests/scenarios (slow creeps on noisy
/// series, month-end jobs, workloads moving between accounts) together: the goal of 0.95
/// and 0.95. Reached: 45 of 46 labels (the miss is a Container Insights creep of 3 % a week
/// under 20 % daily noise, caught seven days late), 2 false alarms in 55 alerts.
#[test]
fn public_and_rough_scenarios_meet_the_detection_goal() {
    let roots = [
        shared().join("scenarios/public"),
        repo().join("tests/scenarios"),
    ];
    let (recall, precision, report) = score_scenarios(&roots);
    assert!(recall >= 0.95 && precision >= 0.95, "{report}");
}

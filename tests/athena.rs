//! `[sources.athena]` against the Athena emulator (DuckDB over Glue tables whose objects are in
//! moto's S3), through the real SDK: the facts equal the file reader's on the same files, one
//! query per changed partition with pruning, the cost guard, failed and stopped queries.

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The legacy CUR Parquet samples (Athena naming), by partition.
const MONTHS: [(&str, &str); 3] = [("10", "Oct"), ("11", "Nov"), ("12", "Dec")];

fn sample(name: &str) -> PathBuf {
    shared().join("samples").join(name)
}

fn wal(month: &str) -> PathBuf {
    sample(&format!("wal_{month}2018-WorkshopCUR-00001.snappy.parquet"))
}

/// Creates a table with `tests/tools/athena_table.py`; its columns and object sizes.
fn table(moto: &Peer, dir: &Path, spec: Value) -> Value {
    let path = dir.join(format!("{}.json", spec["table"].as_str().unwrap()));
    std::fs::write(&path, spec.to_string()).unwrap();
    let out = run(std::process::Command::new(python())
        .arg(repo().join("tests/tools/athena_table.py"))
        .arg(moto.endpoint())
        .arg(&path));
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The legacy CUR samples as table `billing.cur`, partitioned as the CUR Athena integration
/// does (`year=2018/month=10/`); the size of each month's object.
fn legacy_table(moto: &Peer, dir: &Path) -> BTreeMap<String, u64> {
    let files: Vec<Value> = (MONTHS.iter())
        .map(|(m, name)| {
            json!({"path": wal(name), "key": format!("year=2018/month={m}/cur-00001.snappy.parquet")})
        })
        .collect();
    let made = table(
        moto,
        dir,
        json!({"database": "billing", "table": "cur", "location": "s3://cur/athena/cur/",
               "partition_keys": ["year", "month"], "files": files}),
    );
    (made["sizes"].as_object().unwrap().iter())
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect()
}

fn config(dir: &Path, moto: &Peer, athena: &str) -> PathBuf {
    write_config(
        dir,
        &format!(
            "ledger = \"athena.db\"\n[aws]\nendpoint_url = \"{}\"\n[sources]\ntag_keys = [\"user:environment\"]\n\
             [sources.athena]\ndatabase = \"billing\"\noutput_location = \"s3://athena-results/costwatch/\"\n{athena}",
            moto.endpoint()
        ),
    )
}

/// The facts `costwatch sync` reads from `paths` with the same tag keys, in a ledger of its own.
fn file_reader_ledger(dir: &Path, paths: &[PathBuf], tag_keys: &str) -> PathBuf {
    let files: Vec<String> = paths.iter().map(|p| format!("{:?}", p)).collect();
    let config = dir.join("files.toml");
    std::fs::write(
        &config,
        format!(
            "ledger = \"files.db\"\n[sources]\ntag_keys = [{tag_keys}]\n[sources.files]\npaths = [{}]\n",
            files.join(", ")
        ),
    )
    .unwrap();
    let out = run(costwatch(dir).args(["sync", "--config"]).arg(&config));
    assert!(out.status.success(), "{}", stderr(&out));
    dir.join("files.db")
}

fn sync(dir: &Path, config: &Path) -> std::process::Output {
    run(costwatch(dir).args(["sync", "--config"]).arg(config))
}

/// The `daily_costs` rows of a ledger: key (everything but the amounts) → amounts.
fn facts(db: &Path) -> BTreeMap<String, [f64; 3]> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT billing_period || '|' || day || '|' || account || '|' || service_code || '|' ||
                service_name || '|' || usage_type || '|' || region || '|' || charge_category || '|' ||
                tags || '|' || usage_unit, unblended_cost, amortized_cost, usage_amount
             FROM daily_costs WHERE source = 'cur'",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, [r.get(1)?, r.get(2)?, r.get(3)?])))
        .unwrap();
    rows.map(Result::unwrap).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

/// The same facts: as many rows, each with the same key and amounts, so the same per-day sums.
fn assert_same_facts(athena: &Path, files: &Path) {
    let (got, want) = (facts(athena), facts(files));
    assert!(!want.is_empty());
    assert_eq!(got.len(), want.len(), "fact counts");
    for (key, amounts) in &want {
        let found = got.get(key).unwrap_or_else(|| panic!("no fact {key}"));
        assert!(
            found.iter().zip(amounts).all(|(a, b)| close(*a, *b)),
            "{key}: {found:?} vs {amounts:?}"
        );
    }
    let per_day = |f: &BTreeMap<String, [f64; 3]>| -> BTreeMap<String, f64> {
        let mut days = BTreeMap::new();
        for (key, amounts) in f {
            *days
                .entry(key.split('|').nth(1).unwrap().to_string())
                .or_default() += amounts[0];
        }
        days
    };
    let (got, want) = (per_day(&got), per_day(&want));
    assert_eq!(got.len(), want.len());
    assert!(
        got.iter()
            .zip(&want)
            .all(|(a, b)| a.0 == b.0 && close(*a.1, *b.1))
    );
}

/// The queries the emulator ran, in start order.
fn queries(moto: &Peer) -> Vec<Value> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", moto.port)).unwrap();
    write!(
        stream,
        "GET /costwatch-emulator/athena/queries HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let body = answer.split_once("\r\n\r\n").unwrap().1;
    let parsed: Value = serde_json::from_str(body).unwrap();
    parsed["queries"].as_array().unwrap().clone()
}

/// Puts an object into moto's bucket `cur`.
fn put(moto: &Peer, key: &str, body: Vec<u8>) {
    block_on(async {
        moto.s3()
            .await
            .put_object()
            .bucket("cur")
            .key(key)
            .body(body.into())
            .send()
            .await
            .unwrap();
    });
}

fn fast_polls(moto: &Peer, polls: u32) {
    let body = json!({"polls_to_finish": polls});
    assert_eq!(
        post_json(moto, "/costwatch-emulator/athena/config", &body),
        200
    );
}

#[test]
fn partitioned_legacy_cur_gives_the_file_readers_facts_and_reruns_only_what_changed() {
    let moto = Peer::moto();
    let dir = tempfile::tempdir().unwrap();
    let sizes = legacy_table(&moto, dir.path());
    let config = config(dir.path(), &moto, "table = \"cur\"\n");

    let out = sync(dir.path(), &config);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("legacy CUR table billing.cur, 3 partition(s), 0 unchanged"),
        "{text}"
    );
    assert!(
        !text.contains("result read from S3"),
        "7 pages of results: {text}"
    );
    let paths: Vec<PathBuf> = MONTHS.iter().map(|(_, m)| wal(m)).collect();
    let files = file_reader_ledger(dir.path(), &paths, "\"user:environment\"");
    assert_same_facts(&dir.path().join("athena.db"), &files);

    // One query per partition, newest first, each scanning only its partition's object.
    let ran = queries(&moto);
    assert_eq!(ran.len(), 3);
    for (query, (month, _)) in ran.iter().zip(MONTHS.iter().rev()) {
        assert_eq!(query["state"], "SUCCEEDED");
        assert!(query["sql"].as_str().unwrap().contains(&format!(
            "WHERE \"year\" = '2018' AND \"month\" = '{month}'"
        )));
        let key = format!("athena/cur/year=2018/month={month}/cur-00001.snappy.parquet");
        assert_eq!(
            query["bytes_scanned"].as_u64(),
            Some(sizes[&key]),
            "{query}"
        );
    }
    let total: u64 = sizes.values().sum();
    let mb = |n: u64| format!("{:.1} MB", n as f64 / 1e6);
    assert!(
        text.contains(&format!("{} scanned, $0.00015 of queries", mb(total))),
        "{text}"
    );

    // Unchanged partitions: no query at all.
    let out = sync(dir.path(), &config);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("3 partition(s), 3 unchanged"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("0 B scanned, $0.00000 of queries"),
        "{}",
        stdout(&out)
    );
    assert_eq!(queries(&moto).len(), 3);

    // A new object in December's partition: December alone is queried again.
    put(
        &moto,
        "athena/cur/year=2018/month=12/cur-00002.snappy.parquet",
        std::fs::read(wal("Dec")).unwrap(),
    );
    let out = sync(dir.path(), &config);
    assert!(out.status.success(), "{}", stderr(&out));
    let ran = queries(&moto);
    assert_eq!(ran.len(), 4);
    assert!(ran[3]["sql"].as_str().unwrap().contains("\"month\" = '12'"));
    let conn = rusqlite::Connection::open(dir.path().join("athena.db")).unwrap();
    let december = |db: &rusqlite::Connection| -> f64 {
        db.query_row(
            "SELECT sum(unblended_cost) FROM daily_costs WHERE billing_period = '2018-12'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    let files = rusqlite::Connection::open(&files).unwrap();
    assert!(close(december(&conn), 2.0 * december(&files)));
}

#[test]
fn the_cost_guard_stops_before_a_query_that_would_exceed_it() {
    let moto = Peer::moto();
    let dir = tempfile::tempdir().unwrap();
    let sizes = legacy_table(&moto, dir.path());
    let size = |m: &str| sizes[&format!("athena/cur/year=2018/month={m}/cur-00001.snappy.parquet")];
    let guard = format!(
        "table = \"cur\"\nmax_bytes_scanned_per_run = {}\n",
        size("12") + size("11") + 1000
    );
    let config = config(dir.path(), &moto, &guard);

    let out = run(costwatch(dir.path())
        .args([
            "run",
            "--format",
            "json",
            "--date",
            "2019-01-05",
            "--config",
        ])
        .arg(&config));
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let athena = &summary["sources"][0];
    assert_eq!(
        (&athena["source"], &athena["status"]),
        (&json!("athena"), &json!("partial"))
    );
    let detail = athena["detail"].as_str().unwrap();
    assert!(
        detail.contains("cost guard: 2018-10 not queried, its objects (1.5 MB) would take"),
        "{detail}"
    );
    // The meter: two queries at Athena's 10 MB minimum, and the S3 listing.
    let cost = athena["cost"].as_f64().unwrap();
    assert!((0.0001..0.00011).contains(&cost), "{cost}");
    let ran = queries(&moto);
    assert_eq!(
        ran.len(),
        2,
        "only December and November fit under the guard"
    );
    assert!(ran[1]["sql"].as_str().unwrap().contains("\"month\" = '11'"));

    // The next run goes on where the guard stopped.
    let out = sync(dir.path(), &config);
    assert!(
        stdout(&out).contains("2018-10 replaced"),
        "{}",
        stdout(&out)
    );
    assert_eq!(queries(&moto).len(), 3);
}

#[test]
fn a_failed_query_shows_athenas_reason_and_the_other_sources_still_run() {
    let moto = Peer::moto();
    let dir = tempfile::tempdir().unwrap();
    legacy_table(&moto, dir.path());
    let reason = "HIVE_BAD_DATA: Error reading from s3://cur/athena/cur/year=2018/month=12";
    let body = json!({ "reason": reason });
    assert_eq!(
        post_json(&moto, "/costwatch-emulator/athena/fail-next", &body),
        200
    );
    let koku = sample("koku_aws_2023-06-01.csv");
    let files = format!("table = \"cur\"\n[sources.files]\npaths = [{koku:?}]\n");
    let config = config(dir.path(), &moto, &files);

    let out = run_daily(dir.path(), &config, "2023-06-05");
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let athena = text.lines().find(|l| l.contains("source athena")).unwrap();
    assert!(
        athena.contains("failed") && athena.contains(reason),
        "{text}"
    );
    assert!(athena.contains("billing.cur: 2018-12"), "{athena}");
    let files_line = text.lines().find(|l| l.contains("source files")).unwrap();
    assert!(files_line.contains(" ok "), "{text}");
    let conn = rusqlite::Connection::open(dir.path().join("athena.db")).unwrap();
    let periods: Vec<String> = conn
        .prepare("SELECT DISTINCT billing_period FROM daily_costs ORDER BY 1")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(periods, ["2023-06"], "the files' facts, none of Athena's");
}

#[test]
fn a_query_past_its_deadline_is_stopped() {
    let moto = Peer::moto();
    let dir = tempfile::tempdir().unwrap();
    legacy_table(&moto, dir.path());
    fast_polls(&moto, 1000);
    let config = config(
        dir.path(),
        &moto,
        "table = \"cur\"\nquery_timeout_secs = 1\n",
    );
    let out = sync(dir.path(), &config);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("after 1 s (query_timeout_secs): stopped it"),
        "{}",
        stderr(&out)
    );
    let ran = queries(&moto);
    assert_eq!(ran.len(), 1);
    assert_eq!(ran[0]["state"], "CANCELLED");
}

#[test]
fn an_unpartitioned_cur2_table_is_found_scanned_whole_and_read_from_its_result_csv() {
    let moto = Peer::moto();
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<Value> = (MONTHS.iter())
        .map(|(_, m)| {
            let out = dir.path().join(format!("cur2-{m}.parquet"));
            json!({"path": wal(m), "key": format!("cur2-{m}.parquet"), "out": out})
        })
        .collect();
    let made = table(
        &moto,
        dir.path(),
        json!({"database": "billing", "table": "cur2", "location": "s3://cur/cur2/",
               "shape": "cur2", "files": files}),
    );
    // No table named: the database's one CUR table is found.
    let cur2 = config(dir.path(), &moto, "format = \"cur2\"\n");
    let out = sync(dir.path(), &cur2);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("CUR 2.0 table billing.cur2, 1 partition(s)"),
        "{text}"
    );
    assert!(
        text.contains("5.0 MB scanned, result read from S3)"),
        "{text}"
    );
    let paths: Vec<PathBuf> = (files.iter())
        .map(|f| PathBuf::from(f["out"].as_str().unwrap()))
        .collect();
    let reference = file_reader_ledger(dir.path(), &paths, "\"user:environment\"");
    assert_same_facts(&dir.path().join("athena.db"), &reference);

    // Without partitions, the query scans every object; its 18 k rows come from the result CSV.
    let ran = queries(&moto);
    assert_eq!(ran.len(), 1);
    let total: u64 = (made["sizes"].as_object().unwrap().values())
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(ran[0]["bytes_scanned"].as_u64(), Some(total));
    assert!(!ran[0]["sql"].as_str().unwrap().contains("WHERE"));

    // The configured format is checked against the columns.
    let focus = config(dir.path(), &moto, "format = \"focus\"\n");
    let out = sync(dir.path(), &focus);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("but table billing.cur2 has CUR 2.0 columns"));
}

#[test]
fn samples_of_every_shape_give_the_file_readers_facts() {
    let moto = Peer::moto();
    let dir = tempfile::tempdir().unwrap();
    fast_polls(&moto, 0);
    // (table, sample, tag keys): a FOCUS CSV, a Hive text export and an Athena-named CSV,
    // as Parquet with the column names a Glue catalog gives them.
    let cases = [
        ("focus", "focus_1.0_sample.csv", "\"environment\""),
        ("hive", "wal_Step1CUR.gz", "\"user:name\""),
        (
            "koku",
            "koku_aws_2022-07-01-alt-columns.csv",
            "\"user:insights_project\"",
        ),
    ];
    for (name, file, tags) in cases {
        let out = dir.path().join(format!("{name}.parquet"));
        let spec = json!({"database": "billing", "table": name,
            "location": format!("s3://cur/{name}/"), "partition_keys": ["billing_period"],
            "shape": "glue-names",
            "files": [{"path": sample(file), "key": "billing_period=2026-01/part-0.parquet", "out": out}]});
        table(&moto, dir.path(), spec);
        let case = dir.path().join(name);
        std::fs::create_dir_all(&case).unwrap();
        let config = write_config(
            &case,
            &format!(
                "ledger = \"athena.db\"\n[aws]\nendpoint_url = \"{}\"\n[sources]\ntag_keys = [{tags}]\n\
                 [sources.athena]\ndatabase = \"billing\"\ntable = \"{name}\"\n\
                 output_location = \"s3://athena-results/\"\n",
                moto.endpoint()
            ),
        );
        let out = sync(&case, &config);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let reference = file_reader_ledger(&case, &[sample(file)], tags);
        assert_same_facts(&case.join("athena.db"), &reference);
    }
}

#[test]
fn a_table_without_the_needed_columns_names_them() {
    let moto = Peer::moto();
    let dir = tempfile::tempdir().unwrap();
    let spec = json!({"database": "billing", "table": "thin", "location": "s3://cur/thin/",
        "partition_keys": ["year", "month"], "drop": ["line_item_usage_type", "line_item_product_code"],
        "files": [{"path": wal("Oct"), "key": "year=2018/month=10/x.parquet",
                   "out": dir.path().join("thin.parquet")}]});
    table(&moto, dir.path(), spec);
    let config = config(dir.path(), &moto, "table = \"thin\"\n");
    let out = sync(dir.path(), &config);
    assert_eq!(out.status.code(), Some(5));
    let err = stderr(&out);
    assert!(
        err.contains("Athena table billing.thin: missing required column(s)")
            && err.contains("line_item_usage_type")
            && err.contains("line_item_product_code"),
        "{err}"
    );
    assert!(queries(&moto).is_empty());
}

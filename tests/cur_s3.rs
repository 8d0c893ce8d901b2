//! CUR discovery on S3 (moto_server through the real SDK): legacy CUR manifests and Data
//! Exports; new assemblies replace their billing period, known ones are not downloaded.

mod common;

use common::*;
use std::io::Write;
use std::path::Path;

const BUCKET: &str = "cur-bucket";

struct Bucket {
    runtime: tokio::runtime::Runtime,
    s3: aws_sdk_s3::Client,
}

impl Bucket {
    fn new(moto: &Peer) -> Bucket {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let s3 = runtime.block_on(moto.s3());
        runtime
            .block_on(s3.create_bucket().bucket(BUCKET).send())
            .unwrap();
        Bucket { runtime, s3 }
    }

    fn put(&self, key: &str, body: Vec<u8>) {
        self.runtime
            .block_on(
                self.s3
                    .put_object()
                    .bucket(BUCKET)
                    .key(key)
                    .body(body.into())
                    .send(),
            )
            .unwrap();
    }

    fn delete(&self, key: &str) {
        self.runtime
            .block_on(self.s3.delete_object().bucket(BUCKET).key(key).send())
            .unwrap();
    }
}

/// A gzip legacy CUR part for June 2025 whose costs are scaled by `scale`; returns its total.
fn legacy_part(rows: usize, scale: f64) -> (Vec<u8>, f64) {
    let mut text = String::from(
        "identity/LineItemId,bill/BillingPeriodStartDate,lineItem/UsageAccountId,lineItem/LineItemType,\
         lineItem/UsageStartDate,lineItem/ProductCode,lineItem/UsageType,lineItem/UnblendedCost,product/region\n",
    );
    let mut total = 0.0;
    for i in 0..rows {
        let cost = (i % 5) as f64 * scale;
        total += cost;
        text += &format!(
            "id{i},2025-06-01T00:00:00Z,12345,Usage,2025-06-{:02}T00:00:00Z,AmazonEC2,BoxUsage,{cost},us-east-1\n",
            1 + i % 20
        );
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    (gz.finish().unwrap(), total)
}

fn legacy_manifest(assembly: &str, keys: &[String]) -> Vec<u8> {
    serde_json::json!({
        "assemblyId": assembly,
        "reportName": "report",
        "billingPeriod": {"start": "20250601T000000.000Z", "end": "20250701T000000.000Z"},
        "bucket": BUCKET,
        "reportKeys": keys,
    })
    .to_string()
    .into_bytes()
}

fn config(dir: &Path, moto: &Peer, report: &str) -> std::path::PathBuf {
    write_config(
        dir,
        &format!(
            "ledger = \"s.db\"\n[aws]\nendpoint_url = \"{}\"\n[sources.cur_s3]\nbucket = \"{BUCKET}\"\n\
             prefix = \"cur\"\nreport = \"{report}\"\n",
            moto.endpoint()
        ),
    )
}

fn ledger_total(dir: &Path) -> f64 {
    let conn = rusqlite::Connection::open(dir.join("s.db")).unwrap();
    conn.query_row(
        "SELECT COALESCE(SUM(unblended_cost), 0) FROM daily_costs WHERE billing_period = '2025-06'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn legacy_cur_assemblies_replace_their_period_and_are_fetched_once() {
    let moto = Peer::moto();
    let bucket = Bucket::new(&moto);
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &moto, "report");
    let manifest = "cur/report/20250601-20250701/report-Manifest.json";

    // First assembly: two parts.
    let (part1, t1) = legacy_part(400, 1.0);
    let (part2, t2) = legacy_part(300, 0.5);
    let keys: Vec<String> = (1..=2)
        .map(|i| format!("cur/report/20250601-20250701/asm-1/report-{i}.csv.gz"))
        .collect();
    bucket.put(&keys[0], part1);
    bucket.put(&keys[1], part2);
    bucket.put(manifest, legacy_manifest("asm-1", &keys));
    let out = run(costwatch(dir.path())
        .args(["sync", "--config"])
        .arg(&config));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("asm-1"), "{}", stdout(&out));
    assert!(close(ledger_total(dir.path()), t1 + t2));

    // A new assembly of the same period replaces it.
    let (part, t3) = legacy_part(500, 2.0);
    let key = "cur/report/20250601-20250701/asm-2/report-1.csv.gz".to_string();
    bucket.put(&key, part);
    bucket.put(
        manifest,
        legacy_manifest("asm-2", std::slice::from_ref(&key)),
    );
    let out = run(costwatch(dir.path())
        .args(["sync", "--config"])
        .arg(&config));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(close(ledger_total(dir.path()), t3));

    // The same assembly again: nothing downloaded (its part is gone, which would fail).
    bucket.delete(&key);
    let out = run(costwatch(dir.path())
        .args(["sync", "--config"])
        .arg(&config));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("none new"), "{}", stdout(&out));
    assert!(close(ledger_total(dir.path()), t3));

    // A new assembly whose part is corrupt fails and leaves the period as it was.
    let key = "cur/report/20250601-20250701/asm-3/report-1.csv.gz".to_string();
    let (part, _) = legacy_part(500, 3.0);
    bucket.put(&key, part[..part.len() / 2].to_vec());
    bucket.put(
        manifest,
        legacy_manifest("asm-3", std::slice::from_ref(&key)),
    );
    let out = run(costwatch(dir.path())
        .args(["sync", "--config"])
        .arg(&config));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("report-1.csv.gz"), "{}", stderr(&out));
    assert!(close(ledger_total(dir.path()), t3));
}

#[test]
fn data_export_parquet_with_manifest() {
    let moto = Peer::moto();
    let bucket = Bucket::new(&moto);
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &moto, "export");
    let sample = shared().join("samples/wal_Oct2018-WorkshopCUR-00001.snappy.parquet");
    let key = "cur/export/data/BILLING_PERIOD=2018-10/export-00001.snappy.parquet";
    bucket.put(key, std::fs::read(&sample).unwrap());
    bucket.put(
        "cur/export/metadata/BILLING_PERIOD=2018-10/export-Manifest.json",
        serde_json::json!({"executionId": "exec-1", "dataFiles": [format!("s3://{BUCKET}/{key}")]})
            .to_string()
            .into_bytes(),
    );
    let out = run(costwatch(dir.path())
        .args(["sync", "--config"])
        .arg(&config));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("exec-1"), "{}", stdout(&out));
    // Same totals as reading the file locally.
    let local = tempfile::tempdir().unwrap();
    let out = run(costwatch(local.path())
        .args(["sync", "--ledger", "s.db", "--data"])
        .arg(&sample));
    assert!(out.status.success());
    let sum = |d: &Path| -> f64 {
        rusqlite::Connection::open(d.join("s.db"))
            .unwrap()
            .query_row("SELECT SUM(unblended_cost) FROM daily_costs", [], |r| {
                r.get(0)
            })
            .unwrap()
    };
    assert!(close(sum(dir.path()), sum(local.path())));
    assert!(sum(dir.path()) > 0.0);
}

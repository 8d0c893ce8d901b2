//! The Lambda function against moto's S3: the handler invoked in-process, the ledger stored
//! with conditional writes, overlapping invocations (one winner, no lost or duplicated alert,
//! both the first-write and the ETag conflict paths), and with the `lambda` feature the real
//! `costwatch-lambda` bootstrap answering a Lambda Runtime API.

mod common;

use common::*;
use costwatch::aws::{AwsConfig, S3Location};
use costwatch::lambda::{self, ConfigSource, Event, Invocation, Settings};
use serde_json::json;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

const BUCKET: &str = "costwatch-ledger";
const KEY: &str = "costwatch.db";

/// A bucket for the ledger in a fresh moto.
fn moto_with_bucket() -> Peer {
    let moto = Peer::moto();
    block_on(async {
        let s3 = moto.s3().await;
        s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    });
    moto
}

/// The demo data as the only source, digests as .eml files in `outbox`.
fn config_text(outbox: &Path) -> String {
    format!(
        "[sources.files]\npaths = [{:?}]\n[alerts]\nto = [\"team@example.com\"]\noutbox_dir = {:?}\n",
        repo().join("examples/demo/data").display().to_string(),
        outbox.display().to_string()
    )
}

fn settings(moto: &Peer, dir: &Path) -> Settings {
    Settings {
        ledger: S3Location {
            bucket: BUCKET.into(),
            key: KEY.into(),
        },
        config: ConfigSource::Inline(config_text(&dir.join("outbox"))),
        work_dir: dir.join("work"),
        aws: AwsConfig {
            endpoint_url: Some(moto.endpoint()),
            max_attempts: Some(1),
            ..AwsConfig::default()
        },
    }
}

fn invoke(settings: &Settings, date: &str, id: &str) -> Invocation {
    // The SDK takes credentials from the environment: the dummies of the test command.
    let event = Event {
        date: Some(date.parse().unwrap()),
    };
    lambda::invoke(settings, &event, id).unwrap()
}

/// The stored ledger, downloaded into `dir`.
fn stored_ledger(moto: &Peer, dir: &Path) -> rusqlite::Connection {
    let path = dir.join("stored.db");
    let body = block_on(async {
        let s3 = moto.s3().await;
        let out = s3
            .get_object()
            .bucket(BUCKET)
            .key(KEY)
            .send()
            .await
            .unwrap();
        out.body.collect().await.unwrap().to_vec()
    });
    std::fs::write(&path, body).unwrap();
    rusqlite::Connection::open(path).unwrap()
}

fn count(conn: &rusqlite::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn the_ledger_lives_in_s3_between_invocations_and_a_rerun_sends_nothing() {
    let moto = moto_with_bucket();
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(&moto, dir.path());

    let first = invoke(&settings, "2026-03-19", "req-1");
    assert!(!first.summary.alerts.is_empty());
    assert_eq!(first.summary.deliveries.len(), 1);
    assert_eq!(first.ledger.runs, 1);
    assert_eq!(eml_files(&dir.path().join("outbox")).len(), 1);
    // Downloaded (absent), stored (If-None-Match), then stored again with the deliveries.
    assert_eq!(first.ledger.operations["S3 GetObject"], 1);
    assert_eq!(first.ledger.operations["S3 PutObject"], 2);
    assert!(
        !dir.path().join("work/req-1").exists(),
        "the working copy is removed"
    );

    let second = invoke(&settings, "2026-03-19", "req-2");
    assert!(second.summary.alerts.is_empty() && second.summary.deliveries.is_empty());
    assert_ne!(second.ledger.etag, first.ledger.etag);
    assert_eq!(eml_files(&dir.path().join("outbox")).len(), 1);

    let ledger = stored_ledger(&moto, dir.path());
    assert_eq!(
        count(&ledger, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"),
        2
    );
    assert_eq!(
        count(
            &ledger,
            "SELECT COUNT(*) FROM outbox WHERE status = 'delivered' AND claimed_by IS NULL"
        ),
        1
    );

    // What the ledger store called is what its policy allows.
    let location = S3Location {
        bucket: BUCKET.into(),
        key: KEY.into(),
    };
    let allowed: BTreeSet<String> = (lambda::iam(&location, None).into_iter())
        .flat_map(|s| s.action)
        .collect();
    for op in first.ledger.operations.keys() {
        let action = format!("s3:{}", op.trim_start_matches("S3 "));
        assert!(
            allowed.contains(&action),
            "{op} is not allowed: {allowed:?}"
        );
    }
}

/// Two invocations for `date`: A's conditional upload is held by the emulator until B has
/// downloaded the same ledger, so both ran on it and B's upload must fail.
fn overlap(
    moto: &Peer,
    settings: &Settings,
    date: &str,
    ids: (&str, &str),
) -> (Invocation, Invocation) {
    let hold = json!({"object": format!("{BUCKET}/{KEY}"), "until_gets": 1});
    assert_eq!(
        post_json(moto, "/costwatch-emulator/s3/hold-put", &hold),
        200
    );
    let (a_settings, a_date, a_id) = (settings.clone(), date.to_string(), ids.0.to_string());
    let a = std::thread::spawn(move || invoke(&a_settings, &a_date, &a_id));
    let start = Instant::now();
    while !get_text(moto, "/costwatch-emulator/s3/held").contains("\"held\": 1") {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "A never uploaded"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let b = invoke(settings, date, ids.1);
    (a.join().unwrap(), b)
}

#[test]
fn overlapping_invocations_end_with_one_winner_and_no_lost_or_duplicated_alert() {
    let moto = moto_with_bucket();
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(&moto, dir.path());
    let outbox = dir.path().join("outbox");

    // No ledger yet: both write with If-None-Match: *, B gets 412 and runs again on A's.
    let (a, b) = overlap(&moto, &settings, "2026-03-19", ("a-1", "b-1"));
    // B may lose again to A's storing of its deliveries: then it runs a third time.
    assert!(a.ledger.runs == 1 && b.ledger.runs >= 2, "{a:?}\n{b:?}");
    let alerts = a.summary.alerts.len();
    assert!(alerts > 0);
    assert!(
        b.summary.alerts.is_empty(),
        "B's second run found A's findings"
    );
    assert_eq!(a.summary.deliveries.len(), 1);
    assert!(
        b.summary.deliveries.is_empty(),
        "A's claimed digest is not B's to send"
    );
    assert_eq!(eml_files(&outbox).len(), 1);

    // A ledger exists: both write with If-Match on its ETag; the same again.
    let (c, d) = overlap(&moto, &settings, "2026-03-20", ("c-1", "d-1"));
    assert!(c.ledger.runs == 1 && d.ledger.runs >= 2);
    assert!(d.summary.alerts.is_empty() && d.summary.deliveries.is_empty());

    let ledger = stored_ledger(&moto, dir.path());
    // Each invocation's last run is kept, the lost ones are not.
    assert_eq!(count(&ledger, "SELECT COUNT(*) FROM runs"), 4);
    assert_eq!(
        count(&ledger, "SELECT COUNT(*) FROM runs WHERE status = 'ok'"),
        4
    );
    let stored_alerts = count(&ledger, "SELECT COUNT(*) FROM alerts");
    assert_eq!(stored_alerts as usize, alerts + c.summary.alerts.len());
    assert_eq!(
        count(
            &ledger,
            "SELECT COUNT(*) FROM alerts WHERE outbox_id IS NULL"
        ),
        0,
        "every alert is in a digest"
    );
    let digests = count(&ledger, "SELECT COUNT(*) FROM outbox");
    assert_eq!(
        count(
            &ledger,
            "SELECT COUNT(*) FROM outbox WHERE status = 'delivered'"
        ),
        digests
    );
    assert_eq!(
        eml_files(&outbox).len() as i64,
        digests,
        "each digest sent once"
    );
}

/// The real bootstrap: a Lambda Runtime API on 127.0.0.1 hands it one event and takes its
/// answer.
#[cfg(feature = "lambda")]
#[test]
fn the_bootstrap_answers_the_runtime_api_with_the_run_summary() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::mpsc;

    let moto = moto_with_bucket();
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let api = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut served = 0;
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let tx = tx.clone();
            served += 1;
            let first = served == 1;
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                let mut handed = !first;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut length = 0;
                    loop {
                        let mut header = String::new();
                        reader.read_line(&mut header).unwrap();
                        if header.trim().is_empty() {
                            break;
                        }
                        if let Some((k, v)) = header.split_once(':')
                            && k.eq_ignore_ascii_case("content-length")
                        {
                            length = v.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    if line.starts_with("GET /2018-06-01/runtime/invocation/next") {
                        if handed {
                            std::thread::sleep(Duration::from_secs(600)); // no second event
                        }
                        handed = true;
                        let event = r#"{"date": "2026-03-19"}"#;
                        write!(
                            stream,
                            "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: req-1\r\n\
                             Lambda-Runtime-Deadline-Ms: 9999999999999\r\n\
                             Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:costwatch\r\n\
                             Lambda-Runtime-Trace-Id: Root=1-0-0\r\nContent-Type: application/json\r\n\
                             Content-Length: {}\r\n\r\n{event}",
                            event.len()
                        )
                        .unwrap();
                    } else {
                        let _ = tx.send(format!(
                            "{} {}",
                            line.trim(),
                            String::from_utf8_lossy(&body)
                        ));
                        write!(
                            stream,
                            "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{{}}"
                        )
                        .unwrap();
                    }
                }
            });
        }
    });
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_costwatch-lambda"))
        .envs(SAFE_ENV.iter().copied())
        .env("AWS_LAMBDA_RUNTIME_API", api.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "costwatch")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/costwatch")
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env(lambda::LEDGER_ENV, format!("s3://{BUCKET}/{KEY}"))
        .env(lambda::CONFIG_ENV, config_text(&dir.path().join("outbox")))
        .env("TMPDIR", dir.path())
        .spawn()
        .unwrap();
    let answer = rx.recv_timeout(Duration::from_secs(120));
    let _ = child.kill();
    let _ = child.wait();
    let answer = answer.expect("the bootstrap answered");
    let (request, body) = answer.split_once(" HTTP/1.1 ").unwrap();
    assert_eq!(
        request,
        "POST /2018-06-01/runtime/invocation/req-1/response"
    );
    let summary: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(summary["run_date"], "2026-03-19");
    assert!(!summary["alerts"].as_array().unwrap().is_empty());
    assert_eq!(
        summary["ledger"]["location"],
        format!("s3://{BUCKET}/{KEY}")
    );
    assert_eq!(eml_files(&dir.path().join("outbox")).len(), 1);
}

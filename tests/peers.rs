//! Tests against real peers: moto_server through the real AWS SDK, aiosmtpd through lettre.

mod common;

use common::*;
use std::path::Path;

#[test]
fn s3_put_and_list_through_the_real_sdk() {
    let moto = Peer::moto();
    block_on(async {
        let s3 = moto.s3().await;
        s3.create_bucket()
            .bucket("cur-bucket")
            .send()
            .await
            .unwrap();
        s3.put_object()
            .bucket("cur-bucket")
            .key("cur/report/20260101-20260201/report-Manifest.json")
            .body(b"{}".to_vec().into())
            .send()
            .await
            .unwrap();
        let listed = s3
            .list_objects_v2()
            .bucket("cur-bucket")
            .prefix("cur/")
            .send()
            .await
            .unwrap();
        let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
        assert_eq!(keys, ["cur/report/20260101-20260201/report-Manifest.json"]);
    });
}

fn smtp_config(dir: &Path, port: u16) -> std::path::PathBuf {
    let data = repo().join("examples/demo/data");
    write_config(
        dir,
        &format!(
            "[sources.files]\npaths = [{:?}]\n[alerts]\nfrom = \"costwatch <costwatch@example.com>\"\n\
             to = [\"team@example.com\", \"lead@example.com\"]\n\
             [alerts.smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nusername = \"costwatch\"\n\
             password_env = \"COSTWATCH_TEST_SMTP_PASSWORD\"\ntimeout_secs = 5\n",
            data.display().to_string()
        ),
    )
}

#[test]
fn digest_arrives_at_a_real_smtp_server() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("maildir");
    std::fs::create_dir(&maildir).unwrap();
    let smtp = Peer::smtp(&maildir);
    let config = smtp_config(dir.path(), smtp.port);
    let out = run(costwatch(dir.path())
        .args(["run", "--config"])
        .arg(&config)
        .args(["--date", "2026-03-19"])
        .env("COSTWATCH_TEST_SMTP_PASSWORD", "s3cret-value"));
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains(&format!("delivered to smtp://127.0.0.1:{}", smtp.port)));
    let mails = eml_files(&maildir);
    assert_eq!(mails.len(), 1);
    let mail = std::fs::read_to_string(&mails[0]).unwrap();
    assert!(
        mail.contains("Subject: costwatch 2026-03-19: 2 alerts, up to $"),
        "{mail}"
    );
    assert!(
        mail.contains("Delivered-To: team@example.com")
            && mail.contains("Delivered-To: lead@example.com")
    );
    // The password never shows up in output, logs or the ledger.
    let ledger = std::fs::read(dir.path().join("costwatch.db")).unwrap();
    assert!(!String::from_utf8_lossy(&ledger).contains("s3cret-value"));
    assert!(!stdout(&out).contains("s3cret-value") && !stderr(&out).contains("s3cret-value"));
}

#[test]
fn unreachable_smtp_keeps_the_digest_for_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = smtp_config(dir.path(), closed_port);
    let out = run(costwatch(dir.path())
        .args(["run", "--config"])
        .arg(&config)
        .args(["--date", "2026-03-19"])
        .env("COSTWATCH_TEST_SMTP_PASSWORD", "x"));
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed delivery fails the run"
    );
    assert!(
        stdout(&out).contains("NOT delivered by smtp, kept in the outbox"),
        "{}",
        stdout(&out)
    );

    let maildir = dir.path().join("maildir");
    std::fs::create_dir(&maildir).unwrap();
    let smtp = Peer::smtp(&maildir);
    let config = smtp_config(dir.path(), smtp.port);
    let out = run(costwatch(dir.path())
        .args(["run", "--config"])
        .arg(&config)
        .args(["--date", "2026-03-20"])
        .env("COSTWATCH_TEST_SMTP_PASSWORD", "x"));
    assert_eq!(out.status.code(), Some(0));
    let mails = eml_files(&maildir);
    assert_eq!(
        mails.len(),
        1,
        "the kept digest is delivered once, with no new alerts added"
    );
    assert!(
        std::fs::read_to_string(&mails[0])
            .unwrap()
            .contains("costwatch 2026-03-19")
    );
}

//! Test harness: real peers (moto_server with costwatch's extensions, aiosmtpd) on free
//! 127.0.0.1 ports, stopped when dropped, and a `costwatch` command with a safe environment.
#![allow(dead_code)] // each test binary uses a different part of the harness

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` beside the repository (samples and scenarios).
pub fn shared() -> PathBuf {
    repo().join("../shared")
}

/// Environment every process started by a test gets: dummy credentials, no instance
/// metadata service, no SDK retries, no real AWS region lookups.
pub const SAFE_ENV: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_SESSION_TOKEN", "testing"),
    ("AWS_REGION", "us-east-1"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
    ("AWS_MAX_ATTEMPTS", "1"),
    ("AWS_CONFIG_FILE", "/dev/null"),
    ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
];

/// The Python of the test venv (`scripts/test.sh` creates it).
pub fn python() -> PathBuf {
    let python = std::env::var_os("COSTWATCH_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv/bin/python"));
    assert!(
        python.exists(),
        "{} not found: run scripts/test.sh, which creates the test venv",
        python.display()
    );
    python
}

/// A peer server process; killed when dropped.
pub struct Peer {
    child: Child,
    pub port: u16,
}

impl Peer {
    /// moto_server with costwatch's emulator extensions.
    pub fn moto() -> Peer {
        Self::start(&["tests/emulator/moto_peer.py"])
    }

    /// aiosmtpd writing each received message into `maildir`.
    pub fn smtp(maildir: &Path) -> Peer {
        Self::start(&[
            "tests/emulator/smtp_sink.py",
            "--maildir",
            maildir.to_str().unwrap(),
        ])
    }

    /// A Slack-compatible webhook storing each accepted post as `dir/NNNNNN.json`;
    /// `status` other than 0 answers every post with it (a webhook that is down).
    pub fn webhook(dir: &Path, status: u16) -> Peer {
        let status = status.to_string();
        Self::start(&[
            "tests/emulator/webhook_sink.py",
            "--dir",
            dir.to_str().unwrap(),
            "--status",
            &status,
        ])
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn start(args: &[&str]) -> Peer {
        let mut cmd = Command::new(python());
        cmd.args(args)
            .current_dir(repo())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in SAFE_ENV {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("starting a test peer");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
        let port = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok());
        match port {
            Some(port) => Peer { child, port },
            None => {
                let _ = child.kill();
                panic!("test peer {args:?} did not start (said {line:?})");
            }
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `costwatch` command with the safe environment, run in `dir`.
pub fn costwatch(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_costwatch"));
    cmd.current_dir(dir).env_remove("RUST_LOG");
    for (k, v) in SAFE_ENV {
        cmd.env(k, v);
    }
    cmd
}

/// Runs a command and returns its output, printing it for failing tests.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("running costwatch");
    eprintln!(
        "$ {cmd:?}\n--- exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Stdout of a command as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Stderr of a command as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The `.eml` files in a folder, sorted.
pub fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
    files.sort();
    files
}

/// Writes a config file into `dir` and returns its path.
pub fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("costwatch.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// One HTTP/1.1 request to 127.0.0.1:`port`: (status, body).
pub fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    // Nothing more to send: werkzeug, after answering, drains what it thinks is left of the
    // request until the client closes, and would otherwise wait on this read forever.
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, body.to_string())
}

/// POSTs a JSON body to a peer (seeding and fault injection endpoints) and returns the status.
pub fn post_json(peer: &Peer, path: &str, body: &serde_json::Value) -> u16 {
    post_json_port(peer.port, path, body)
}

/// [`post_json`] to a port.
pub fn post_json_port(port: u16, path: &str, body: &serde_json::Value) -> u16 {
    http(port, "POST", path, &body.to_string()).0
}

/// The body of a GET to a peer.
pub fn get_text(peer: &Peer, path: &str) -> String {
    get_text_port(peer.port, path)
}

/// [`get_text`] from a port.
pub fn get_text_port(port: u16, path: &str) -> String {
    let (status, body) = http(port, "GET", path, "");
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// Runs `future` to its end on a runtime of its own: the SDK calls that set up a peer or
/// read what a test left in it.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

impl Peer {
    /// An S3 client of this peer, addressing buckets by path as moto serves them.
    pub async fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&self.sdk_config().await)
                .force_path_style(true)
                .build(),
        )
    }

    /// SDK configuration for a client of this peer: dummy credentials, us-east-1, no retries.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(self.endpoint())
            .credentials_provider(aws_credential_types::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .load()
            .await
    }
}

/// `costwatch run --config CONFIG --date DATE` in `dir`.
pub fn run_daily(dir: &Path, config: &Path, date: &str) -> Output {
    run(costwatch(dir)
        .args(["run", "--config"])
        .arg(config)
        .args(["--date", date]))
}

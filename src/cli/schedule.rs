//! `costwatch schedule systemd|cron|k8s|eventbridge`: a ready recipe to run the daily job for
//! the current config, at a time after AWS has settled the previous day (06:00 UTC).

use super::{Cli, ledger_path, load_config};
use crate::config::Config;
use crate::error::{EXIT_OK, Error};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// What runs it.
    #[arg(value_enum)]
    pub kind: Kind,
    /// Config file (default: ./costwatch.toml).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// The hour and minute of the daily run, UTC.
    #[arg(long, value_name = "HH:MM", default_value = "06:00", value_parser = parse_time)]
    pub at: (u32, u32),
    /// k8s: the image holding the costwatch binary at /usr/local/bin/costwatch.
    #[arg(long, default_value = concat!("costwatch:", env!("CARGO_PKG_VERSION")))]
    pub image: String,
    /// eventbridge: the Lambda function to invoke (its ARN).
    #[arg(
        long,
        value_name = "ARN",
        default_value = "arn:aws:lambda:REGION:ACCOUNT:function:costwatch"
    )]
    pub function: String,
}

/// A scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// A systemd service and timer.
    Systemd,
    /// A crontab line.
    Cron,
    /// A Kubernetes CronJob (with its ConfigMap and ledger volume).
    K8s,
    /// An EventBridge Scheduler schedule invoking the Lambda function.
    Eventbridge,
}

fn parse_time(s: &str) -> Result<(u32, u32), String> {
    let parsed = s
        .split_once(':')
        .and_then(|(h, m)| Some((h.parse().ok()?, m.parse().ok()?)));
    match parsed {
        Some((h, m)) if h < 24 && m < 60 => Ok((h, m)),
        _ => Err(format!("{s:?} is not a time of day as HH:MM")),
    }
}

pub fn execute(cli: &Cli, args: &ScheduleArgs) -> Result<i32> {
    let path = args
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from("costwatch.toml"));
    let config = load_config(Some(&path))?;
    let config_path = absolute(&path)?;
    let binary = std::env::current_exe().context("finding the costwatch binary")?;
    let ledger = absolute(&ledger_path(cli, &config))?;
    let recipe = Recipe {
        binary: &binary,
        config_path: &config_path,
        config: &config,
        ledger: &ledger,
        at: args.at,
    };
    let text = match args.kind {
        Kind::Systemd => recipe.systemd(),
        Kind::Cron => recipe.cron(),
        Kind::K8s => recipe.k8s(&std::fs::read_to_string(&path)?, &args.image),
        Kind::Eventbridge => recipe.eventbridge(&args.function),
    };
    print!("{text}");
    Ok(EXIT_OK)
}

/// A path made absolute (it need not exist yet).
fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|e| Error::config(format!("{}: {e}", path.display())).into())
}

/// What every recipe is made of.
struct Recipe<'a> {
    binary: &'a Path,
    config_path: &'a Path,
    config: &'a Config,
    ledger: &'a Path,
    at: (u32, u32),
}

/// Where the recipes keep secrets (`VAR=value` lines, readable by the service's user only).
const ENV_FILE: &str = "/etc/costwatch/costwatch.env";

impl Recipe<'_> {
    /// The command line of the daily run.
    fn command(&self) -> String {
        format!(
            "{} --log-format json run --config {}",
            quote(self.binary),
            quote(self.config_path)
        )
    }

    /// A comment naming the secrets to put in the environment, if any.
    fn secrets_note(&self, prefix: &str) -> String {
        match self.config.secrets() {
            names if names.is_empty() => String::new(),
            names => format!(
                "{prefix} Secrets the config reads from the environment: {}.\n",
                names.join(", ")
            ),
        }
    }

    fn systemd(&self) -> String {
        let (h, m) = self.at;
        let env_file = if self.config.secrets().is_empty() {
            String::new()
        } else {
            format!("{}EnvironmentFile={ENV_FILE}\n", self.secrets_note("#"))
        };
        let outbox = (self.config.alerts.smtp.is_none())
            .then(|| std::path::absolute(&self.config.alerts.outbox_dir).ok())
            .flatten();
        let dirs = [self.ledger.parent().map(Path::to_path_buf), outbox];
        let writable: Vec<String> = (dirs.into_iter().flatten())
            .map(|d| format!("-{}", quote(&d)))
            .collect();
        format!(
            "# /etc/systemd/system/costwatch.service\n\
             [Unit]\n\
             Description=costwatch: the daily AWS cost run\n\
             Wants=network-online.target\n\
             After=network-online.target\n\
             \n\
             [Service]\n\
             Type=oneshot\n\
             ExecStart={}\n\
             {env_file}\
             # AWS credentials: the instance role, or AWS_PROFILE / keys in an EnvironmentFile.\n\
             NoNewPrivileges=true\n\
             PrivateTmp=true\n\
             ProtectSystem=full\n\
             ReadWritePaths={}\n\
             \n\
             # /etc/systemd/system/costwatch.timer\n\
             [Unit]\n\
             Description=costwatch daily at {h:02}:{m:02} UTC\n\
             \n\
             [Timer]\n\
             OnCalendar=*-*-* {h:02}:{m:02}:00 UTC\n\
             # A run missed while the machine was off starts at boot; `run` replays missed days.\n\
             Persistent=true\n\
             RandomizedDelaySec=300\n\
             \n\
             [Install]\n\
             WantedBy=timers.target\n\
             \n\
             # Then: systemctl daemon-reload && systemctl enable --now costwatch.timer\n",
            self.command(),
            writable.join(" ")
        )
    }

    fn cron(&self) -> String {
        let (h, m) = self.at;
        let load = if self.config.secrets().is_empty() {
            String::new()
        } else {
            format!("set -a; . {ENV_FILE}; set +a; ")
        };
        format!(
            "# crontab -e, as the user costwatch runs as. CRON_TZ=UTC (cronie, busybox); with a cron\n\
             # that ignores it, give the hour in the machine's time zone.\n\
             {}\
             CRON_TZ=UTC\n\
             {m} {h} * * *  {load}{} >> /var/log/costwatch.log 2>&1\n",
            self.secrets_note("#"),
            self.command()
        )
    }

    fn k8s(&self, config_text: &str, image: &str) -> String {
        let (h, m) = self.at;
        let indented: String = config_text.lines().map(|l| format!("    {l}\n")).collect();
        let env: String = (self.config.secrets().iter())
            .map(|name| {
                format!(
                    "                - name: {name}\n                  valueFrom:\n                    \
                     secretKeyRef: {{name: costwatch, key: {name}}}\n"
                )
            })
            .collect();
        let env = if env.is_empty() {
            String::new()
        } else {
            format!("              env:\n{env}")
        };
        format!(
            "# kubectl apply -f costwatch.yaml{secret_hint}\n\
             # The ledger lives on the volume; AWS credentials come from the pod's identity (IRSA,\n\
             # EKS Pod Identity) or the Secret.\n\
             apiVersion: v1\n\
             kind: ConfigMap\n\
             metadata:\n  name: costwatch\n\
             data:\n  costwatch.toml: |\n{indented}\
             ---\n\
             apiVersion: v1\n\
             kind: PersistentVolumeClaim\n\
             metadata:\n  name: costwatch-ledger\n\
             spec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Gi\n\
             ---\n\
             apiVersion: batch/v1\n\
             kind: CronJob\n\
             metadata:\n  name: costwatch\n\
             spec:\n\
             \x20 schedule: \"{m} {h} * * *\"\n\
             \x20 timeZone: Etc/UTC\n\
             \x20 concurrencyPolicy: Forbid\n\
             \x20 startingDeadlineSeconds: 3600\n\
             \x20 jobTemplate:\n\
             \x20   spec:\n\
             \x20     backoffLimit: 1\n\
             \x20     template:\n\
             \x20       spec:\n\
             \x20         restartPolicy: Never\n\
             \x20         containers:\n\
             \x20           - name: costwatch\n\
             \x20             image: {image}\n\
             \x20             args: [--log-format, json, --ledger, /var/lib/costwatch/costwatch.db, run, --config, /etc/costwatch/costwatch.toml]\n\
             {env}\
             \x20             volumeMounts:\n\
             \x20               - {{name: config, mountPath: /etc/costwatch, readOnly: true}}\n\
             \x20               - {{name: ledger, mountPath: /var/lib/costwatch}}\n\
             \x20         volumes:\n\
             \x20           - name: config\n\
             \x20             configMap: {{name: costwatch}}\n\
             \x20           - name: ledger\n\
             \x20             persistentVolumeClaim: {{claimName: costwatch-ledger}}\n",
            secret_hint = match self.config.secrets() {
                names if names.is_empty() => String::new(),
                names => format!(
                    "\n# Secrets first: kubectl create secret generic costwatch {}",
                    names
                        .iter()
                        .map(|n| format!("--from-literal={n}=..."))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            }
        )
    }

    fn eventbridge(&self, function: &str) -> String {
        let (h, m) = self.at;
        let target = serde_json::json!({
            "Arn": function,
            "RoleArn": "arn:aws:iam::ACCOUNT:role/costwatch-scheduler",
            "Input": "{}",
            "RetryPolicy": {"MaximumRetryAttempts": 2}
        });
        format!(
            "# An EventBridge Scheduler schedule invoking the costwatch Lambda function daily at\n\
             # {h:02}:{m:02} UTC (`costwatch deploy lambda --print` makes the function and this schedule;\n\
             # this is the schedule alone). The role lets the scheduler call lambda:InvokeFunction\n\
             # on the function. Input {{\"date\": \"YYYY-MM-DD\"}} runs another date.\n\
             aws scheduler create-schedule --name costwatch-daily \\\n\
             \x20 --schedule-expression 'cron({m} {h} * * ? *)' --schedule-expression-timezone UTC \\\n\
             \x20 --flexible-time-window Mode=OFF \\\n\
             \x20 --target '{target}'\n"
        )
    }
}

/// A path for a shell or unit line, quoted when it has spaces.
fn quote(path: &Path) -> String {
    let s = path.display().to_string();
    if s.contains(char::is_whitespace) {
        format!("\"{s}\"")
    } else {
        s
    }
}

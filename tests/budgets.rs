//! `costwatch budgets` end to end, through the real SDK against the Budgets emulator
//! (tests/emulator/ext_budgets.py): plan, apply, update, prune, import, an apply interrupted
//! and resumed, a refused permission, the budgets findings propose, the `budget` rule over
//! `[[budgets]]`, and the offline plan.

mod common;

use aws_sdk_budgets::Client;
use aws_sdk_budgets::types::{
    BudgetType, ComparisonOperator, CostTypes, Notification, NotificationType,
    NotificationWithSubscribers, Spend, Subscriber, SubscriptionType, ThresholdType, TimeUnit,
};
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The account moto's STS answers for.
const ACCOUNT: &str = "123456789012";

/// A config reaching the emulator without retries, with `body` appended.
fn config(dir: &Path, peer: &Peer, body: &str) -> PathBuf {
    config_with_attempts(dir, peer, 1, body)
}

/// [`config`] with `attempts` per request (SDK retries with backoff).
fn config_with_attempts(dir: &Path, peer: &Peer, attempts: u32, body: &str) -> PathBuf {
    write_config(
        dir,
        &format!(
            "ledger = \"costwatch.db\"\n\n[aws]\nendpoint_url = \"{}\"\nmax_attempts = {attempts}\n\n\
             [alerts]\nto = [\"finops@example.com\"]\noutbox_dir = \"outbox\"\n\n{body}",
            peer.endpoint()
        ),
    )
}

/// `costwatch budgets COMMAND --config CONFIG ARGS...`, stdin not a terminal.
fn budgets(dir: &Path, config: &Path, command: &str, args: &[&str]) -> Output {
    run(costwatch(dir)
        .args(["budgets", command, "--config"])
        .arg(config)
        .args(args)
        .stdin(Stdio::null()))
}

/// The Budgets operations the emulator served so far: (operation, budget name).
fn calls(peer: &Peer) -> Vec<(String, String)> {
    let body: serde_json::Value =
        serde_json::from_str(&get_text(peer, "/costwatch-emulator/budgets/calls")).unwrap();
    body["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["operation"].as_str().unwrap().to_string(),
                c["budgetName"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// The operations among `calls` that are not reads.
fn writes(calls: &[(String, String)]) -> Vec<String> {
    calls
        .iter()
        .filter(|(op, _)| !op.starts_with("Describe") && !op.starts_with("List"))
        .map(|(op, name)| format!("{op} {name}"))
        .collect()
}

/// A Budgets client of the emulator (for budgets made by hand, and to look at the account).
struct Aws {
    runtime: tokio::runtime::Runtime,
    client: Client,
}

impl Aws {
    fn new(peer: &Peer) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = Client::new(&runtime.block_on(peer.sdk_config()));
        Self { runtime, client }
    }

    /// A budget made by hand (no costwatch tag): `amount` a month, credits left out,
    /// `filters` (AWS's `CostFilters`), and an ACTUAL > 80% notification to `email`.
    #[allow(deprecated)] // CostFilters and CostTypes, as most existing budgets hold them
    fn hand_made(&self, name: &str, amount: &str, filters: &[(&str, &str)], email: &str) {
        let mut budget = aws_sdk_budgets::types::Budget::builder()
            .budget_name(name)
            .budget_type(BudgetType::Cost)
            .time_unit(TimeUnit::Monthly)
            .budget_limit(Spend::builder().amount(amount).unit("USD").build().unwrap())
            .cost_types(CostTypes::builder().include_credit(false).build());
        for (key, value) in filters {
            budget = budget.cost_filters(*key, vec![value.to_string()]);
        }
        let with = NotificationWithSubscribers::builder()
            .notification(notification(NotificationType::Actual, 80.0))
            .subscribers(
                Subscriber::builder()
                    .subscription_type(SubscriptionType::Email)
                    .address(email)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        self.runtime
            .block_on(
                self.client
                    .create_budget()
                    .account_id(ACCOUNT)
                    .budget(budget.build().unwrap())
                    .notifications_with_subscribers(with)
                    .send(),
            )
            .unwrap();
    }

    /// The amount AWS echoes for a budget, `None` when there is no such budget.
    fn amount(&self, name: &str) -> Option<String> {
        let got = self.runtime.block_on(
            self.client
                .describe_budget()
                .account_id(ACCOUNT)
                .budget_name(name)
                .send(),
        );
        got.ok()
            .and_then(|b| b.budget)
            .and_then(|b| b.budget_limit)
            .map(|l| l.amount)
    }

    /// `ACTUAL > 80%: a@x, b@y` lines of a budget's notifications and subscribers.
    fn notifications(&self, name: &str) -> Vec<String> {
        let rt = &self.runtime;
        let notes = rt
            .block_on(
                self.client
                    .describe_notifications_for_budget()
                    .account_id(ACCOUNT)
                    .budget_name(name)
                    .send(),
            )
            .unwrap();
        let mut out: Vec<String> = notes
            .notifications()
            .iter()
            .map(|n| {
                let subs = rt
                    .block_on(
                        self.client
                            .describe_subscribers_for_notification()
                            .account_id(ACCOUNT)
                            .budget_name(name)
                            .notification(n.clone())
                            .send(),
                    )
                    .unwrap();
                let mut to: Vec<&str> = subs.subscribers().iter().map(|s| s.address()).collect();
                to.sort();
                format!(
                    "{} > {}%: {}",
                    n.notification_type().as_str(),
                    n.threshold(),
                    to.join(", ")
                )
            })
            .collect();
        out.sort();
        out
    }

    /// The budget's tags as `key=value`.
    fn tags(&self, name: &str) -> Vec<String> {
        let arn = format!("arn:aws:budgets::{ACCOUNT}:budget/{name}");
        let tags = self
            .runtime
            .block_on(
                self.client
                    .list_tags_for_resource()
                    .resource_arn(arn)
                    .send(),
            )
            .unwrap();
        tags.resource_tags()
            .iter()
            .map(|t| format!("{}={}", t.key(), t.value()))
            .collect()
    }
}

fn notification(kind: NotificationType, percent: f64) -> Notification {
    Notification::builder()
        .notification_type(kind)
        .comparison_operator(ComparisonOperator::GreaterThan)
        .threshold(percent)
        .threshold_type(ThresholdType::Percentage)
        .build()
        .unwrap()
}

const WEB: &str = r#"
[[budgets]]
name = "costwatch-web"
amount = 1000
filters = { region = ["us-east-1"] }

[[budgets.notifications]]
type = "actual"
percent = 80
subscribers = ["email:a@example.com"]

[[budgets.notifications]]
type = "forecasted"
percent = 100
subscribers = ["email:a@example.com", "email:b@example.com"]
"#;

const API: &str = r#"
[[budgets]]
name = "costwatch-api"
amount = 500
period = "quarterly"
"#;

#[test]
fn plan_apply_update_and_prune_only_what_costwatch_manages() {
    let peer = Peer::moto();
    let aws = Aws::new(&peer);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &peer, &format!("{WEB}{API}"));

    // Plan: two creations, read calls only, exit code 6.
    let out = budgets(dir.path(), &cfg, "plan", &[]);
    assert_eq!(out.status.code(), Some(6), "changes pending");
    let plan = stdout(&out);
    assert!(plan.contains("+ create costwatch-web") && plan.contains("+ create costwatch-api"));
    assert!(
        plan.contains(
            "+ notification FORECASTED > 100% to email:a@example.com, email:b@example.com"
        )
    );
    assert!(
        writes(&calls(&peer)).is_empty(),
        "plan only reads: {:?}",
        calls(&peer)
    );

    // Not a terminal and no --yes: refused, nothing made.
    let out = budgets(dir.path(), &cfg, "apply", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert!(writes(&calls(&peer)).is_empty());

    let out = budgets(dir.path(), &cfg, "apply", &["--yes"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        writes(&calls(&peer)),
        ["CreateBudget costwatch-web", "CreateBudget costwatch-api"]
    );
    assert_eq!(aws.amount("costwatch-web").as_deref(), Some("1000.0"));
    assert_eq!(aws.tags("costwatch-web"), ["costwatch:managed=config"]);
    assert_eq!(
        aws.notifications("costwatch-web"),
        [
            "ACTUAL > 80%: a@example.com",
            "FORECASTED > 100%: a@example.com, b@example.com"
        ]
    );

    // AWS echoes "1000.0" for "1000": still the same budget.
    let out = budgets(dir.path(), &cfg, "plan", &[]);
    assert_eq!(out.status.code(), Some(0), "nothing pending after apply");
    assert!(stdout(&out).contains("No changes"));

    // Amount, filter, threshold, a subscriber added and one removed.
    let changed = WEB
        .replace("amount = 1000", "amount = 1200")
        .replace("[\"us-east-1\"]", "[\"us-east-1\", \"eu-west-1\"]")
        .replace("percent = 80", "percent = 90")
        .replace(
            "[\"email:a@example.com\", \"email:b@example.com\"]",
            "[\"email:a@example.com\", \"email:c@example.com\"]",
        );
    let cfg = config(dir.path(), &peer, &format!("{changed}{API}"));
    let before = calls(&peer).len();
    let out = budgets(dir.path(), &cfg, "plan", &[]);
    assert_eq!(out.status.code(), Some(6));
    let plan = stdout(&out);
    for line in [
        "~ update costwatch-web",
        "~ amount 1000 → 1200",
        "~ filter Region us-east-1 → eu-west-1, us-east-1",
        "~ notification ACTUAL > 80%: threshold 80% → 90%",
        "+ subscriber email:c@example.com on FORECASTED > 100%",
        "- subscriber email:b@example.com on FORECASTED > 100%",
    ] {
        assert!(plan.contains(line), "{line:?} in\n{plan}");
    }
    assert!(
        !plan.contains("costwatch-api"),
        "unchanged budgets are not listed"
    );
    assert!(writes(&calls(&peer)[before..]).is_empty());
    let out = budgets(dir.path(), &cfg, "plan", &["--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["pending"], true);
    let change = &json["changes"][0];
    assert_eq!(change["action"], "update");
    assert_eq!(change["fields"][0]["field"], "amount");
    assert_eq!(change["fields"][0]["from"], "1000");
    assert_eq!(change["fields"][0]["to"], "1200");
    let operations: Vec<&str> = (change["calls"].as_array().unwrap().iter())
        .map(|c| c["operation"].as_str().unwrap())
        .collect();
    assert_eq!(
        operations,
        [
            "UpdateBudget",
            "UpdateNotification",
            "DeleteSubscriber",
            "CreateSubscriber"
        ]
    );

    let before = calls(&peer).len();
    let out = budgets(dir.path(), &cfg, "apply", &["--yes"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        writes(&calls(&peer)[before..]),
        [
            "UpdateBudget costwatch-web",
            "UpdateNotification costwatch-web",
            "DeleteSubscriber costwatch-web",
            "CreateSubscriber costwatch-web"
        ],
        "exactly the calls the plan showed"
    );
    assert_eq!(aws.amount("costwatch-web").as_deref(), Some("1200.0"));
    assert_eq!(
        aws.notifications("costwatch-web"),
        [
            "ACTUAL > 90%: a@example.com",
            "FORECASTED > 100%: a@example.com, c@example.com"
        ]
    );
    assert_eq!(
        budgets(dir.path(), &cfg, "plan", &[]).status.code(),
        Some(0)
    );

    // costwatch-api leaves the config. Hand-made budgets, one whose name has costwatch's
    // prefix, are never pruned.
    aws.hand_made("costwatch-legacy", "300", &[], "ops@example.com");
    aws.hand_made("team-manual", "300", &[], "ops@example.com");
    let cfg = config(dir.path(), &peer, &changed);
    let out = budgets(dir.path(), &cfg, "plan", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "without --prune nothing is deleted"
    );
    let out = budgets(dir.path(), &cfg, "plan", &["--prune"]);
    assert_eq!(out.status.code(), Some(6));
    let plan = stdout(&out);
    assert!(plan.contains("- delete costwatch-api"), "{plan}");
    assert!(
        plan.contains("costwatch-legacy: not made by costwatch"),
        "the hand-made budget is left alone: {plan}"
    );
    assert!(!plan.contains("team-manual"), "{plan}");
    let before = calls(&peer).len();
    let out = budgets(dir.path(), &cfg, "apply", &["--prune", "--yes"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        writes(&calls(&peer)[before..]),
        ["DeleteBudget costwatch-api"]
    );
    assert_eq!(aws.amount("costwatch-api"), None);
    assert_eq!(aws.amount("costwatch-legacy").as_deref(), Some("300.0"));
    assert_eq!(aws.amount("team-manual").as_deref(), Some("300.0"));
    assert_eq!(
        budgets(dir.path(), &cfg, "plan", &["--prune"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn import_then_plan_shows_no_change() {
    let peer = Peer::moto();
    let aws = Aws::new(&peer);
    aws.hand_made(
        "Team web monthly",
        "100",
        &[
            ("Service", "Amazon Elastic Compute Cloud - Compute"),
            ("TagKeyValue", "user:team$web"),
        ],
        "web@example.com",
    );
    // AWS echoes this one as "2.51E+7".
    aws.hand_made(
        "org total",
        "25100000",
        &[("LinkedAccount", "111122223333")],
        "cfo@example.com",
    );
    aws.hand_made("sandbox", "10", &[], "dev@example.com");
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &peer, "");

    let out = budgets(dir.path(), &cfg, "import", &[]);
    assert_eq!(out.status.code(), Some(0));
    let toml = stdout(&out);
    assert!(
        toml.contains("name = \"Team web monthly\"\namount = 100\n"),
        "{toml}"
    );
    assert!(toml.contains("amount = 25100000\n"), "{toml}");
    assert!(toml.contains("include = { credit = false }"), "{toml}");
    assert!(toml.contains("tag = [\"user:team$web\"]"), "{toml}");

    let cfg = config(dir.path(), &peer, &toml);
    let before = calls(&peer).len();
    let out = budgets(dir.path(), &cfg, "plan", &[]);
    assert_eq!(out.status.code(), Some(0), "import then plan: no change");
    assert!(stdout(&out).contains("No changes"));
    assert!(writes(&calls(&peer)[before..]).is_empty());

    // --name picks budgets by pattern.
    let out = budgets(dir.path(), &cfg, "import", &["--name", "Team*"]);
    let toml = stdout(&out);
    assert!(
        toml.contains("Team web monthly") && !toml.contains("sandbox"),
        "{toml}"
    );
}

#[test]
fn an_interrupted_apply_says_what_it_did_and_a_rerun_finishes() {
    let peer = Peer::moto();
    let aws = Aws::new(&peer);
    let dir = tempfile::tempdir().unwrap();
    let b =
        |name: &str, amount: u32| format!("[[budgets]]\nname = \"{name}\"\namount = {amount}\n");
    let cfg = config(
        dir.path(),
        &peer,
        &format!("{}{}", b("costwatch-b", 100), b("costwatch-c", 100)),
    );
    assert_eq!(
        budgets(dir.path(), &cfg, "apply", &["--yes"]).status.code(),
        Some(0)
    );

    // A new budget, then two updates; UpdateBudget is throttled past the SDK's retry.
    let body = format!(
        "{}{}{}",
        b("costwatch-a", 50),
        b("costwatch-b", 200),
        b("costwatch-c", 300)
    );
    let cfg = config_with_attempts(dir.path(), &peer, 2, &body);
    let fault = serde_json::json!({
        "target": "UpdateBudget", "count": 2,
        "code": "ThrottlingException", "message": "Rate exceeded"
    });
    assert_eq!(
        post_json(&peer, "/costwatch-emulator/throttle", &fault),
        200
    );
    let before = calls(&peer).len();
    let out = budgets(dir.path(), &cfg, "apply", &["--yes"]);
    assert_eq!(out.status.code(), Some(1), "a failed apply fails");
    let report = stdout(&out);
    for line in [
        "applied      CreateBudget costwatch-a",
        "FAILED       UpdateBudget costwatch-b",
        "ThrottlingException: Rate exceeded",
        "not applied  UpdateBudget costwatch-c",
        "Applied 1 of 3 call(s): 1 failed, 1 not applied",
    ] {
        assert!(report.contains(line), "{line:?} in\n{report}");
    }
    assert_eq!(
        writes(&calls(&peer)[before..]),
        ["CreateBudget costwatch-a"]
    );
    assert_eq!(aws.amount("costwatch-b").as_deref(), Some("100.0"));

    // The rerun plans from what the account holds: the two updates, nothing made twice.
    let before = calls(&peer).len();
    let out = budgets(dir.path(), &cfg, "apply", &["--yes"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        writes(&calls(&peer)[before..]),
        ["UpdateBudget costwatch-b", "UpdateBudget costwatch-c"]
    );
    let creates = calls(&peer)
        .iter()
        .filter(|(op, name)| op == "CreateBudget" && name == "costwatch-a")
        .count();
    assert_eq!(creates, 1, "nothing duplicated");
    assert_eq!(aws.amount("costwatch-c").as_deref(), Some("300.0"));
    assert_eq!(
        budgets(dir.path(), &cfg, "plan", &[]).status.code(),
        Some(0)
    );
}

#[test]
fn a_refused_permission_names_the_iam_action() {
    let peer = Peer::moto();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &peer, API);
    let denied = |target: &str| {
        serde_json::json!({
            "target": target, "count": 1,
            "code": "AccessDeniedException", "message": "Access denied"
        })
    };
    post_json(
        &peer,
        "/costwatch-emulator/throttle",
        &denied("CreateBudget"),
    );
    let out = budgets(dir.path(), &cfg, "apply", &["--yes"]);
    assert_eq!(out.status.code(), Some(1));
    let report = stdout(&out);
    assert!(
        report.contains("FAILED       CreateBudget costwatch-api")
            && report.contains("AccessDeniedException: Access denied")
            && report.contains("needs budgets:ModifyBudget and budgets:TagResource"),
        "{report}"
    );

    post_json(
        &peer,
        "/costwatch-emulator/throttle",
        &denied("DescribeBudgets"),
    );
    let out = budgets(dir.path(), &cfg, "plan", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("needs budgets:ViewBudget"),
        "{}",
        stderr(&out)
    );
}

/// Builds plugins/container-insights for wasm32-wasip2 (as tests/plugins.rs does).
fn container_insights() -> PathBuf {
    let target = repo().join("target/wasm");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = run(Command::new(cargo)
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            "wasm32-wasip2",
        ])
        .arg("--manifest-path")
        .arg(repo().join("plugins/container-insights/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target));
    assert!(
        out.status.success(),
        "building the plugin (is wasm32-wasip2 installed?)"
    );
    target.join("wasm32-wasip2/release/container_insights.wasm")
}

#[test]
fn the_container_insights_proposal_is_applied_once_and_updated_on_escalation() {
    let wasm = container_insights();
    let peer = Peer::moto();
    let aws = Aws::new(&peer);
    let dir = tempfile::tempdir().unwrap();
    let demo = repo().join("examples/demo/data");
    let cfg = config(
        dir.path(),
        &peer,
        &format!(
            "[sources.files]\npaths = [{:?}]\n\n[[rules]]\nbuiltin = \"spike\"\n\n[[rules]]\n\
             plugin = {:?}\n\n[budgets_from_findings]\nsubscribers = [\"email:platform@example.com\"]\n",
            demo.display().to_string(),
            wasm.display().to_string()
        ),
    );
    let out = run(costwatch(dir.path())
        .env(
            "COSTWATCH_CACHE_DIR",
            repo().join("target/test-plugin-cache"),
        )
        .args(["run", "--config"])
        .arg(&cfg)
        .args(["--date", "2026-03-19"]));
    assert_eq!(out.status.code(), Some(0));
    let name = "costwatch-111122223333-AmazonCloudWatch-USE1-CW-MetricMonitorUsage";

    // Not in a plan unless asked for, and never pruned meanwhile.
    let out = budgets(dir.path(), &cfg, "plan", &["--prune"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("1 budget(s) proposed by open findings are not in this plan"));

    let out = budgets(dir.path(), &cfg, "plan", &["--proposals"]);
    assert_eq!(out.status.code(), Some(6));
    let plan = stdout(&out);
    for part in [
        &format!("+ create {name} (from finding)"),
        "+ filters Service = AmazonCloudWatch; LinkedAccount = 111122223333; UsageType = USE1-CW:MetricMonitorUsage",
        "+ notification FORECASTED > 100% to email:platform@example.com",
        "+ notification ACTUAL > 100% to email:platform@example.com",
        &format!("Proposed AWS budget \"{name}\" (from the container-insights finding"),
    ] {
        assert!(plan.contains(part), "{part:?} in\n{plan}");
    }

    let out = budgets(dir.path(), &cfg, "apply", &["--proposals", "--yes"]);
    assert_eq!(out.status.code(), Some(0));
    let amount = aws.amount(name).expect("the proposed budget exists");
    assert_eq!(aws.tags(name), ["costwatch:managed=finding"]);
    let before = calls(&peer).len();
    let out = budgets(dir.path(), &cfg, "apply", &["--proposals", "--yes"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("No changes"));
    assert!(
        writes(&calls(&peer)[before..]).is_empty(),
        "applied once, not again"
    );

    // An escalation with a higher amount updates the budget instead of adding one.
    let ledger = rusqlite::Connection::open(dir.path().join("costwatch.db")).unwrap();
    ledger
        .execute(
            "INSERT INTO alerts (run_date, finding_id, reason, rule, day, account, service_code,
                service_name, usage_type, severity, observed, expected, monthly_impact, message,
                detail, action)
             SELECT '2026-03-20', finding_id, 'escalated', rule, '2026-03-19', account,
                service_code, service_name, usage_type, 'critical', observed, expected,
                monthly_impact, message, detail, '{\"kind\":\"budget_alert\",\"monthly_limit\":4321.0}'
             FROM alerts WHERE rule = 'container-insights' ORDER BY id DESC LIMIT 1",
            [],
        )
        .unwrap();
    drop(ledger);
    let before = calls(&peer).len();
    let out = budgets(dir.path(), &cfg, "apply", &["--proposals", "--yes"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains(&format!(
            "~ amount {} → 4321",
            amount.trim_end_matches(".0")
        )),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        writes(&calls(&peer)[before..]),
        [format!("UpdateBudget {name}")]
    );
    assert_eq!(aws.amount(name).as_deref(), Some("4321.0"));
}

#[test]
fn a_built_in_rule_proposes_and_a_hand_made_budget_of_that_name_is_left_alone() {
    let peer = Peer::moto();
    let aws = Aws::new(&peer);
    let dir = tempfile::tempdir().unwrap();
    let demo = repo().join("examples/demo/data");
    let cfg = config(
        dir.path(),
        &peer,
        &format!(
            "[sources.files]\npaths = [{:?}]\n\n[[rules]]\nbuiltin = \"creep\"\n\
             config = {{ budget_headroom = 0.2 }}\n",
            demo.display().to_string()
        ),
    );
    assert_eq!(
        run_daily(dir.path(), &cfg, "2026-03-19").status.code(),
        Some(0)
    );
    let name = "costwatch-111122223333-AmazonCloudWatch-USE1-CW-MetricMonitorUsage";
    aws.hand_made(name, "77", &[], "ops@example.com");

    let before = calls(&peer).len();
    let out = budgets(dir.path(), &cfg, "plan", &["--proposals"]);
    assert_eq!(out.status.code(), Some(0), "nothing to change");
    let plan = stdout(&out);
    assert!(
        plan.contains(&format!(
            "Left alone:\n  {name}: a budget costwatch did not make"
        )),
        "{plan}"
    );
    assert!(
        plan.contains("(from the creep finding of 2026-03-18): 1492 USD a month"),
        "{plan}"
    );
    let out = budgets(dir.path(), &cfg, "apply", &["--proposals", "--yes"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(writes(&calls(&peer)[before..]).is_empty());
    assert_eq!(aws.amount(name).as_deref(), Some("77.0"));
}

#[test]
fn the_daily_run_applies_proposals_when_told_and_watches_declared_budgets() {
    let wasm = container_insights();
    let peer = Peer::moto();
    let aws = Aws::new(&peer);
    let dir = tempfile::tempdir().unwrap();
    let demo = repo().join("examples/demo/data");
    let cfg = config(
        dir.path(),
        &peer,
        &format!(
            "[sources.files]\npaths = [{:?}]\n\n[[rules]]\nplugin = {:?}\n\n\
             [budgets_from_findings]\napply = true\n\n\
             [[budgets]]\nname = \"costwatch-total\"\namount = 25000\n\n\
             [[budgets.notifications]]\ntype = \"forecasted\"\npercent = 100\n\
             subscribers = [\"email:finops@example.com\"]\n",
            demo.display().to_string(),
            wasm.display().to_string()
        ),
    );
    let daily = |date: &str| {
        run(costwatch(dir.path())
            .env(
                "COSTWATCH_CACHE_DIR",
                repo().join("target/test-plugin-cache"),
            )
            .args(["run", "--config"])
            .arg(&cfg)
            .args(["--date", date]))
    };
    let out = daily("2026-03-19");
    assert_eq!(out.status.code(), Some(0));
    let summary = stdout(&out);
    // The demo month is on course for about $24,000: past 90% of where AWS's FORECASTED
    // notification (100% of $25,000) fires, so costwatch tells first.
    assert!(
        summary.contains("[warning] Budget costwatch-total: 2026-03 is on course for"),
        "{summary}"
    );
    assert!(summary.contains("budgets:   proposed budgets: 1 call(s) made (CreateBudget costwatch-111122223333-AmazonCloudWatch"), "{summary}");
    assert_eq!(
        writes(&calls(&peer)),
        ["CreateBudget costwatch-111122223333-AmazonCloudWatch-USE1-CW-MetricMonitorUsage"],
        "only the proposal: [[budgets]] are applied by `costwatch budgets apply`"
    );
    assert_eq!(aws.amount("costwatch-total"), None);

    // The next day: the budget's finding is only updated, the proposal is up to date.
    let out = daily("2026-03-20");
    assert_eq!(out.status.code(), Some(0));
    let summary = stdout(&out);
    assert!(
        !summary.contains("Budget costwatch-total"),
        "once per period: {summary}"
    );
    assert!(
        summary.contains("1 proposed budget(s) up to date"),
        "{summary}"
    );
    assert_eq!(writes(&calls(&peer)).len(), 1);
}

#[test]
fn offline_plans_need_no_account_and_online_ones_say_how_to_give_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let demo = repo().join("examples/demo/costwatch.toml");
    // The demo config plans its budget offline (no ledger yet: no proposals).
    let out = run(costwatch(dir.path())
        .args([
            "--ledger",
            "none.db",
            "budgets",
            "plan",
            "--offline",
            "--proposals",
            "--config",
        ])
        .arg(&demo)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9"));
    assert_eq!(out.status.code(), Some(6));
    let plan = stdout(&out);
    assert!(
        plan.contains("against an empty account")
            && plan.contains("+ create costwatch-demo-account"),
        "{plan}"
    );
    assert!(
        !dir.path().join("none.db").exists(),
        "no ledger made for a plan"
    );

    let out = run(costwatch(dir.path())
        .args(["--ledger", "none.db", "budgets", "plan", "--config"])
        .arg(&demo)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN"));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("no AWS credentials found")
            && err.contains("AWS_PROFILE")
            && err.contains("--offline"),
        "{err}"
    );
}

#[test]
fn budget_config_errors_name_the_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        "[[budgets]]\nname = \"web\"\namount = 10\n\n[[budgets.notifications]]\ntype = \"actual\"\n\
         percent = 80\nsubscribers = [\"sns:arn:aws:sns:us-east-1:12345:alerts\"]\n",
    );
    let out = budgets(dir.path(), &cfg, "plan", &["--offline"]);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains("line 8")
            && err.contains("subscribers")
            && err.contains("not an SNS topic ARN"),
        "{err}"
    );
}

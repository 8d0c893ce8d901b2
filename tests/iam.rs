//! `costwatch iam-policy` against what the code really calls: a run with every source
//! enabled (Cost Explorer, CloudWatch billing metrics, the CUR on S3, the CUR through Athena),
//! an SNS alert channel and budgets managed (declared, applied, and proposed from findings)
//! against the emulator records each AWS operation (the sources' request meters, and the
//! emulator's own record of every signed request), and the printed policy must allow each of
//! them and nothing that none of them needs.

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What each operation needs (the first action) and what else it justifies: an Athena query
/// reads the catalog and the table's objects and writes its result as the caller, and a
/// query may have to be stopped at its deadline.
fn justified(operation: &str) -> &'static [&'static str] {
    match operation {
        "Cost Explorer GetCostAndUsage" => &["ce:GetCostAndUsage"],
        "Cost Explorer GetCostForecast" => &["ce:GetCostForecast"],
        "CloudWatch ListMetrics" => &["cloudwatch:ListMetrics"],
        "CloudWatch GetMetricData" => &["cloudwatch:GetMetricData"],
        "S3 ListObjectsV2" => &["s3:ListBucket"],
        "S3 GetObject" => &["s3:GetObject"],
        "Athena GetTableMetadata" => &["athena:GetTableMetadata", "glue:GetTable"],
        "Athena ListTableMetadata" => &["athena:ListTableMetadata", "glue:GetTables"],
        "Athena StartQueryExecution" => &[
            "athena:StartQueryExecution",
            "athena:StopQueryExecution",
            "glue:GetDatabase",
            "glue:GetTable",
            "glue:GetPartitions",
            "s3:GetObject",
            "s3:ListBucket",
            "s3:GetBucketLocation",
            "s3:PutObject",
        ],
        "Athena GetQueryExecution" => &["athena:GetQueryExecution"],
        "Athena GetQueryResults" => &["athena:GetQueryResults"],
        "Athena StopQueryExecution" => &["athena:StopQueryExecution"],
        "SNS Publish" => &["sns:Publish"],
        "Budgets DescribeBudgets"
        | "Budgets DescribeBudget"
        | "Budgets DescribeNotificationsForBudget"
        | "Budgets DescribeSubscribersForNotification" => &["budgets:ViewBudget"],
        // A budget is created with its `costwatch:managed` tag.
        "Budgets CreateBudget" => &["budgets:ModifyBudget", "budgets:TagResource"],
        "Budgets UpdateBudget"
        | "Budgets DeleteBudget"
        | "Budgets CreateNotification"
        | "Budgets UpdateNotification"
        | "Budgets DeleteNotification"
        | "Budgets CreateSubscriber"
        | "Budgets UpdateSubscriber"
        | "Budgets DeleteSubscriber" => &["budgets:ModifyBudget"],
        "Budgets ListTagsForResource" => &["budgets:ListTagsForResource"],
        "Budgets TagResource" => &["budgets:TagResource"],
        // Who the caller is needs no permission.
        "STS GetCallerIdentity" => &[],
        other => panic!("the code calls {other}: say here which IAM action it needs"),
    }
}

/// The sources' data in moto (a billing metric, a Data Exports file, an Athena table), a
/// hand-made budget and an SNS topic, whose ARN it returns.
fn seed(moto: &Peer, dir: &Path) -> String {
    block_on(async {
        use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
        let config = moto.sdk_config().await;
        let at = chrono::DateTime::parse_from_rfc3339("2026-03-18T12:00:00Z").unwrap();
        aws_sdk_cloudwatch::Client::new(&config)
            .put_metric_data()
            .namespace("AWS/Billing")
            .metric_data(
                MetricDatum::builder()
                    .metric_name("EstimatedCharges")
                    .dimensions(Dimension::builder().name("Currency").value("USD").build())
                    .dimensions(
                        Dimension::builder()
                            .name("ServiceName")
                            .value("AmazonEC2")
                            .build(),
                    )
                    .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
                        at.timestamp(),
                    ))
                    .value(10.0)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let s3 = moto.s3().await;
        s3.create_bucket().bucket("exports").send().await.unwrap();
        let part = std::fs::read(repo().join("examples/demo/data/cur-2026-03.csv.gz")).unwrap();
        s3.put_object()
            .bucket("exports")
            .key("cur/daily/data/BILLING_PERIOD=2026-03/daily-00001.csv.gz")
            .body(part.into())
            .send()
            .await
            .unwrap();
    });
    let spec = json!({"database": "billing", "table": "cur", "location": "s3://cur/athena/cur/",
        "partition_keys": ["year", "month"],
        "files": [{"path": shared().join("samples/wal_Dec2018-WorkshopCUR-00001.snappy.parquet"),
                   "key": "year=2018/month=12/cur-00001.snappy.parquet"}]});
    let path = dir.join("table.json");
    std::fs::write(&path, spec.to_string()).unwrap();
    let out = run(std::process::Command::new(python())
        .arg(repo().join("tests/tools/athena_table.py"))
        .arg(moto.endpoint())
        .arg(&path));
    assert!(out.status.success(), "{}", stderr(&out));
    block_on(async {
        // A budget made by hand whose name looks like costwatch's: pruning reads its tags.
        use aws_sdk_budgets::types::{Budget, BudgetType, Spend, TimeUnit};
        let budget = Budget::builder()
            .budget_name("costwatch-handmade")
            .budget_type(BudgetType::Cost)
            .time_unit(TimeUnit::Monthly)
            .budget_limit(Spend::builder().amount("50").unit("USD").build().unwrap())
            .build()
            .unwrap();
        aws_sdk_budgets::Client::new(&moto.sdk_config().await)
            .create_budget()
            .account_id("123456789012")
            .budget(budget)
            .send()
            .await
            .unwrap();
        let sns = aws_sdk_sns::Client::new(&moto.sdk_config().await);
        let topic = sns.create_topic().name("finops").send().await.unwrap();
        topic.topic_arn().unwrap().to_string()
    })
}

/// How many signed requests of each operation the emulator saw, by `service Operation` (JSON
/// and query protocols; S3 and CloudWatch's CBOR are counted by the sources' meters).
fn seen_by_the_emulator(moto: &Peer) -> BTreeMap<String, u64> {
    let url = format!("{}/costwatch-emulator/operations", moto.endpoint());
    let out = run(std::process::Command::new(python()).args([
        "-c",
        "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())",
        &url,
    ]));
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    (seen["operations"].as_object().unwrap().iter())
        .map(|(op, n)| (op.clone(), n.as_u64().unwrap()))
        .collect()
}

/// The operations made between two [`seen_by_the_emulator`] readings, named as the meters name
/// them (`Budgets CreateBudget`).
fn called_between(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) -> BTreeSet<String> {
    let names = [
        ("ce", "Cost Explorer"),
        ("athena", "Athena"),
        ("budgets", "Budgets"),
        ("sns", "SNS"),
        ("sts", "STS"),
    ];
    (after.iter())
        .filter(|(op, n)| before.get(*op).copied().unwrap_or(0) < **n)
        .map(|(op, _)| {
            let (service, name) = op.split_once(' ').unwrap();
            let service = (names.iter().find(|(s, _)| *s == service))
                .unwrap_or_else(|| panic!("say how the {service} service is named here"))
                .1;
            format!("{service} {name}")
        })
        .collect()
}

#[test]
fn the_policy_allows_every_operation_a_full_run_calls_and_nothing_else() {
    let moto = Peer::moto();
    let dir = tempfile::tempdir().unwrap();
    let topic = seed(&moto, dir.path());
    let before = seen_by_the_emulator(&moto);
    let sources = format!(
        "[aws]\nendpoint_url = \"{}\"\nmax_attempts = 1\n\
         [sources.cost_explorer]\nbackfill_days = 3\n\
         [sources.billing_metrics]\n\
         [sources.cur_s3]\nbucket = \"exports\"\nprefix = \"cur\"\nreport = \"daily\"\n\
         [sources.athena]\ndatabase = \"billing\"\nlocation = \"s3://cur/athena/cur/\"\n\
         output_location = \"s3://athena-results/costwatch/\"\n",
        moto.endpoint()
    );
    let config = write_config(
        dir.path(),
        &format!(
            "{sources}[alerts.sns]\ntopic_arn = \"{topic}\"\n\
             [[budgets]]\nname = \"costwatch-all\"\namount = 1000\n\
             [[budgets.notifications]]\ntype = \"actual\"\npercent = 80\n\
             subscribers = [\"email:finops@example.com\"]\n\
             [budgets_from_findings]\napply = true\n"
        ),
    );
    let out = run(costwatch(dir.path())
        .args([
            "run",
            "--format",
            "json",
            "--date",
            "2026-03-19",
            "--config",
        ])
        .arg(&config));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut called: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for source in summary["sources"].as_array().unwrap() {
        assert_ne!(source["status"], "failed", "{source}");
        let ops = source["operations"].as_object().unwrap().keys().cloned();
        called.insert(
            source["source"].as_str().unwrap().to_string(),
            ops.collect(),
        );
    }
    assert!(
        summary["deliveries"].to_string().contains(&topic),
        "the digest went to SNS: {}",
        summary["deliveries"]
    );
    assert!(
        summary["budgets_error"].is_null(),
        "{}",
        summary["budgets_error"]
    );
    // Budgets as code: applied, then planned with pruning (which reads their tags).
    for args in [["apply", "--yes"], ["plan", "--prune"]] {
        let out = run(costwatch(dir.path())
            .arg("budgets")
            .args(args)
            .arg("--config")
            .arg(&config));
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }
    let mut all: BTreeSet<String> = called.values().flatten().cloned().collect();
    let seen = called_between(&before, &seen_by_the_emulator(&moto));
    for op in [
        "SNS Publish",
        "Budgets CreateBudget",
        "Budgets DescribeBudgets",
    ] {
        assert!(seen.contains(op), "{op} not in {seen:?}");
    }
    all.extend(seen);
    assert_eq!(policy_check(dir.path(), &config, &all), "ok");

    // Source by source: each one's statements against its own calls.
    let (aws, sections) = sources.split_once("[sources.").unwrap();
    for section in sections.split("[sources.") {
        let name = section.split(']').next().unwrap();
        let ops = &called[name];
        assert!(!ops.is_empty(), "{name} called nothing");
        let one = dir.path().join(format!("{name}.toml"));
        std::fs::write(&one, format!("{aws}[sources.{section}")).unwrap();
        assert_eq!(policy_check(dir.path(), &one, ops), "ok", "{name}: {ops:?}");
    }

    // Resources are narrowed to what the config names.
    let out = run(costwatch(dir.path())
        .args(["iam-policy", "--config"])
        .arg(&config));
    let policy: Value = serde_json::from_slice(&out.stdout).unwrap();
    let resources = policy.to_string();
    for narrowed in [
        "arn:aws:s3:::exports/cur/daily/*",
        "arn:aws:s3:::cur/athena/cur/*",
        "arn:aws:s3:::athena-results/costwatch/*",
        "workgroup/primary",
        "database/billing",
    ] {
        assert!(
            resources.contains(narrowed),
            "{narrowed} not in {resources}"
        );
    }
    assert!(
        !resources.contains("arn:aws:s3:::*"),
        "no S3 wildcard bucket"
    );
}

/// `ok` when the policy `iam-policy` prints for `config` allows each of `called` and nothing
/// none of them needs, else what is wrong.
fn policy_check(dir: &Path, config: &Path, called: &BTreeSet<String>) -> String {
    let out = run(costwatch(dir).args(["iam-policy", "--config"]).arg(config));
    assert_eq!(out.status.code(), Some(0));
    let policy: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(policy["Version"], "2012-10-17");
    let allowed: BTreeSet<&str> = (policy["Statement"].as_array().unwrap().iter())
        .flat_map(|s| s["Action"].as_array().unwrap())
        .map(|a| a.as_str().unwrap())
        .collect();
    for op in called {
        let Some(&needs) = justified(op).first() else {
            continue; // needs no permission
        };
        if !allowed.contains(needs) {
            return format!("{op} needs {needs}, which the policy does not allow");
        }
    }
    let justified: BTreeSet<&str> = (called.iter())
        .flat_map(|op| justified(op).iter().copied())
        .collect();
    let unused: Vec<&&str> = allowed.difference(&justified).collect();
    if !unused.is_empty() {
        return format!("the policy allows what no call needs: {unused:?}");
    }
    "ok".into()
}

#[test]
fn the_lambda_ledger_object_is_added_and_a_role_to_assume() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "[aws]\nrole_arn = \"arn:aws:iam::123456789012:role/billing-read\"\n[sources.cost_explorer]\nforecast = false\n",
    );
    let out = run(costwatch(dir.path())
        .args([
            "iam-policy",
            "--lambda-ledger",
            "s3://ledgers/costwatch.db",
            "--config",
        ])
        .arg(&config));
    let policy: Value = serde_json::from_slice(&out.stdout).unwrap();
    let by_sid: BTreeMap<&str, &Value> = (policy["Statement"].as_array().unwrap().iter())
        .map(|s| (s["Sid"].as_str().unwrap(), s))
        .collect();
    assert_eq!(
        by_sid["CostExplorer"]["Action"],
        json!(["ce:GetCostAndUsage"])
    );
    assert_eq!(
        by_sid["AssumeRole"]["Resource"],
        json!(["arn:aws:iam::123456789012:role/billing-read"])
    );
    assert_eq!(
        by_sid["LedgerObject"]["Action"],
        json!(["s3:GetObject", "s3:PutObject"])
    );
    assert_eq!(
        by_sid["LedgerObject"]["Resource"],
        json!(["arn:aws:s3:::ledgers/costwatch.db"])
    );
    let bad = run(costwatch(dir.path())
        .args(["iam-policy", "--lambda-ledger", "s3://ledgers/", "--config"])
        .arg(&config));
    assert_eq!(bad.status.code(), Some(3));
    assert!(stderr(&bad).contains("--lambda-ledger must be an object's s3://BUCKET/KEY URL"));
}

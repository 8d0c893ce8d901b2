//! `costwatch budgets plan|apply|import`: AWS Budgets as code.

use super::{Cli, Format};
use crate::budgets::{self, Account, Desired, Options, Origin, Plan, Proposal, render};
use crate::config::Config;
use crate::error::{EXIT_FAILED, EXIT_OK, EXIT_PENDING, EXIT_USAGE, Error};
use crate::ledger::Ledger;
use crate::lock::LedgerLock;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct BudgetsArgs {
    #[command(subcommand)]
    pub command: BudgetsCommand,
}

#[derive(Debug, Subcommand)]
pub enum BudgetsCommand {
    /// Show what `apply` would change in the account, budget by budget and field by field
    /// (read calls only; exit code 6 when changes are pending).
    Plan(PlanArgs),
    /// Make the changes the plan shows (asks first on a terminal; --yes to skip, required
    /// when stdin is not a terminal).
    Apply(ApplyArgs),
    /// Print `[[budgets]]` entries for budgets the account already holds.
    Import(ImportArgs),
}

/// Which budgets a plan covers.
#[derive(Debug, Args)]
pub struct Selection {
    /// Config file (default: ./costwatch.toml).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Also the budgets open findings propose (`budget-alert` actions).
    #[arg(long)]
    pub proposals: bool,
    /// Delete the budgets costwatch made (tag costwatch:managed and name prefix costwatch-)
    /// that are no longer declared or proposed.
    #[arg(long)]
    pub prune: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Plan against an empty account, without any AWS call (no credentials needed).
    #[arg(long)]
    pub offline: bool,
    /// Output format of the plan.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Apply without asking.
    #[arg(long)]
    pub yes: bool,
    /// Output format of the plan and the report (JSON: both at the end).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Config file whose [aws] settings are used (default: ./costwatch.toml when present).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Only budgets whose name matches (`*` any characters, `?` one).
    #[arg(long, value_name = "PATTERN", default_value = "*")]
    pub name: String,
}

pub fn execute(cli: &Cli, args: &BudgetsArgs) -> Result<i32> {
    match &args.command {
        BudgetsCommand::Plan(a) => plan(cli, a),
        BudgetsCommand::Apply(a) => apply(cli, a),
        BudgetsCommand::Import(a) => import(a),
    }
}

/// What a plan or an apply works from.
struct Setup {
    config: Config,
    desired: Vec<Desired>,
    options: Options,
    /// Context lines printed after the plan.
    notes: Vec<String>,
    /// The command that applies this selection.
    apply: String,
    _lock: Option<LedgerLock>,
}

fn setup(cli: &Cli, selection: &Selection) -> Result<Setup> {
    let config = load_config(selection.config.as_deref(), true)?;
    let ledger_path = (cli.ledger.clone())
        .or_else(|| config.ledger.clone())
        .unwrap_or_else(|| "costwatch.db".into());
    // No ledger yet: no findings, so nothing proposed (and no ledger made for it).
    let (proposals, lock) = if ledger_path.exists() {
        let lock = LedgerLock::acquire(&ledger_path)?;
        let ledger = Ledger::open(&ledger_path)?;
        let alerts = ledger.open_budget_alerts()?;
        (
            budgets::propose(&alerts, &config.budgets_from_findings),
            Some(lock),
        )
    } else {
        (Vec::new(), None)
    };
    let mut desired: Vec<Desired> = (config.budgets.iter())
        .map(|b| Desired {
            budget: b.clone(),
            origin: Origin::Config,
        })
        .collect();
    let mut options = Options {
        prune: selection.prune,
        ..Options::default()
    };
    let mut notes = Vec::new();
    if selection.proposals {
        desired.extend(proposals.iter().map(|p| Desired {
            budget: p.budget.clone(),
            origin: Origin::Finding,
        }));
        notes.extend(proposals.iter().map(Proposal::describe));
    } else if !proposals.is_empty() {
        options.keep = proposals.iter().map(|p| p.budget.name.clone()).collect();
        notes.push(format!(
            "{} budget(s) proposed by open findings are not in this plan: add --proposals.",
            proposals.len()
        ));
    }
    for b in &config.budgets {
        if let Err(reason) = b.watch(&config.sources.tag_keys) {
            notes.push(format!(
                "Budget {:?} is not projected by the daily run's budget rule: {reason}; AWS's own \
                 notifications still watch it.",
                b.name
            ));
        }
    }
    let mut apply = "costwatch budgets apply".to_string();
    for (on, flag) in [
        (selection.proposals, " --proposals"),
        (selection.prune, " --prune"),
    ] {
        if on {
            apply += flag;
        }
    }
    Ok(Setup {
        config,
        desired,
        options,
        notes,
        apply,
        _lock: lock,
    })
}

/// The config at `path`, else ./costwatch.toml; without either, an error when `required`,
/// else the defaults.
fn load_config(path: Option<&Path>, required: bool) -> Result<Config> {
    let default = Path::new("costwatch.toml");
    match path {
        Some(path) => Ok(Config::load(path)?),
        None if default.exists() => Ok(Config::load(default)?),
        None if required => Err(Error::config(
            "no configuration: pass --config PATH (or write one with `costwatch init`)",
        )
        .into()),
        None => Ok(Config::default()),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// The account the `[aws]` settings reach.
fn connect(runtime: &tokio::runtime::Runtime, config: &Config) -> Result<Account> {
    runtime
        .block_on(Account::connect(&config.aws, &Arc::default()))
        .context("cannot reach AWS Budgets (`costwatch budgets plan --offline` plans without AWS)")
}

/// 1 when a declared budget cannot be managed, 6 when changes are pending, else 0.
fn plan_exit(plan: &Plan) -> i32 {
    if !plan.conflicts.is_empty() {
        EXIT_FAILED
    } else if plan.pending() {
        EXIT_PENDING
    } else {
        EXIT_OK
    }
}

fn notes_text(notes: &[String]) -> String {
    notes.iter().map(|n| format!("\n{n}\n")).collect()
}

fn plan(cli: &Cli, args: &PlanArgs) -> Result<i32> {
    let setup = setup(cli, &args.selection)?;
    let runtime = runtime()?;
    let account = match args.offline {
        true => None,
        false => Some(connect(&runtime, &setup.config)?),
    };
    let plan = runtime.block_on(budgets::plan(
        account.as_ref(),
        &setup.desired,
        &setup.options,
    ))?;
    match args.format {
        Format::Text => print!(
            "{}{}",
            render::plan_text(&plan, &setup.apply),
            notes_text(&setup.notes)
        ),
        Format::Json => {
            let mut json = serde_json::to_value(&plan)?;
            json["pending"] = plan.pending().into();
            json["notes"] = setup.notes.clone().into();
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
    }
    Ok(plan_exit(&plan))
}

fn apply(cli: &Cli, args: &ApplyArgs) -> Result<i32> {
    let setup = setup(cli, &args.selection)?;
    let runtime = runtime()?;
    let account = connect(&runtime, &setup.config)?;
    let plan = runtime.block_on(budgets::plan(
        Some(&account),
        &setup.desired,
        &setup.options,
    ))?;
    let text = args.format == Format::Text;
    if text {
        print!("{}", render::plan_text(&plan, &setup.apply));
    }
    if !plan.pending() {
        if !text {
            println!("{}", serde_json::json!({ "plan": plan, "report": null }));
        }
        return Ok(plan_exit(&plan));
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            eprintln!(
                "error: stdin is not a terminal, so nothing was applied: pass --yes to apply \
                 these changes without confirmation"
            );
            return Ok(EXIT_USAGE);
        }
        eprint!(
            "Apply {} call(s) to account {}? Only `yes` applies: ",
            plan.calls().count(),
            account.id
        );
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if answer.trim() != "yes" {
            println!("Apply cancelled: nothing was changed.");
            return Ok(EXIT_PENDING);
        }
    }
    if text {
        println!("\nApplying to account {}:", account.id);
    }
    let report = runtime.block_on(budgets::apply(&account, &plan, |call, result| {
        if text {
            println!("{}", render::call_line(call, result));
        }
    }));
    if text {
        print!("{}", render::report_text(&report, &setup.apply));
    } else {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "plan": plan, "report": report }))?
        );
    }
    Ok(if report.complete() && plan.conflicts.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

fn import(args: &ImportArgs) -> Result<i32> {
    let config = load_config(args.config.as_deref(), false)?;
    let runtime = runtime()?;
    let account = connect(&runtime, &config)?;
    let mut entries = Vec::new();
    for b in runtime.block_on(account.list())? {
        if !budgets::matches(&args.name, b.budget_name()) {
            continue;
        }
        match runtime.block_on(account.read(&b))? {
            Ok(budget) => entries.push(budgets::entry(&budget)),
            Err(reason) => eprintln!("not imported: {}: {reason}", b.budget_name()),
        }
    }
    println!(
        "# {} budget(s) of account {} matching {:?}, as `costwatch budgets import` read them.\n",
        entries.len(),
        account.id,
        args.name
    );
    println!("{}", entries.join("\n"));
    Ok(EXIT_OK)
}

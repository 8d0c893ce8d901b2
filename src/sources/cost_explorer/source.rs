//! Cost Explorer: daily cost per linked account × service × usage type, and the month-end
//! forecast. Every request costs $0.01, so only days AWS may still restate are fetched again,
//! each run has a request budget, and the requests made are counted in the run summary.
//!
//! Cost Explorer groups by at most two dimensions, so a fetch makes these requests per range
//! of days (each paginated): usage by account × usage type; usage by service × usage type only
//! when a usage type's service is not known yet (remembered in the ledger); and non-usage
//! charges (credits, tax, refunds, fees) by account × record type.

use super::CostExplorerConfig as Settings;
use crate::aws::{AwsConfig, Meter, describe};
use crate::ledger::{Forecast, Ledger};
use crate::model::{ChargeCategory, FactKey, FactValue, Facts, SourceStatus};
use crate::sources::{Source, SyncContext, Synced};
use anyhow::{Context, Result, anyhow};
use aws_sdk_costexplorer::Client;
use aws_sdk_costexplorer::operation::get_cost_and_usage::GetCostAndUsageOutput;
use aws_sdk_costexplorer::types::{
    DateInterval, Dimension, DimensionValues, Expression, Granularity, GroupDefinition,
    GroupDefinitionType, Metric,
};
use chrono::{Datelike, Days, Months, NaiveDate};
use std::collections::HashMap;
use std::sync::Arc;

/// Ledger source name.
pub const SOURCE: &str = "cost_explorer";
/// Price of one Cost Explorer API request, in dollars.
pub const REQUEST_PRICE: f64 = 0.01;
/// Record types that are usage (the rest are fees, credits, tax, refunds, commitments).
const USAGE_RECORD_TYPES: [&str; 3] = ["Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"];

/// The Cost Explorer source.
pub struct CostExplorerSource {
    settings: Settings,
    aws: AwsConfig,
}

impl CostExplorerSource {
    /// The source of these settings, calling AWS through `aws`.
    pub fn new(settings: Settings, aws: AwsConfig) -> Self {
        Self { settings, aws }
    }

    /// Days in the back-fill window that are missing or may still be restated by AWS.
    fn days_to_fetch(&self, ledger: &Ledger, today: NaiveDate) -> Result<Vec<NaiveDate>> {
        let first = today - Days::new(self.settings.backfill_days.max(1) as u64);
        let last = today - Days::new(1);
        let fetched = ledger.fetched_days(SOURCE, first, last)?;
        let restate = Days::new(self.settings.restate_days as u64);
        let previous_month = (today.day() <= self.settings.previous_month_until_day).then(|| {
            (
                today.with_day(1).unwrap() - Months::new(1),
                today.with_day(1).unwrap(),
            )
        });
        let needed = |day: NaiveDate| match fetched.get(&day) {
            None => true,
            Some(&on) if on >= today => false,
            Some(&on) => {
                day + restate >= today
                    || on <= day + restate
                    || previous_month.is_some_and(|(start, end)| day >= start && day < end)
            }
        };
        Ok(first
            .iter_days()
            .take_while(|d| *d <= last)
            .filter(|d| needed(*d))
            .collect())
    }

    async fn sync_async(
        &self,
        ledger: &Ledger,
        today: NaiveDate,
        meter: &Arc<Meter>,
    ) -> Result<Synced> {
        let days = self.days_to_fetch(ledger, today)?;
        let forecast_due = self.settings.forecast
            && ledger
                .latest_forecast(today)?
                .is_none_or(|f| f.made_on < today);
        let mut calls = Calls {
            made: 0,
            max: self.settings.max_requests_per_run,
        };
        let mut notes = Vec::new();
        let mut days_ingested = 0;
        if !days.is_empty() || forecast_due {
            let config = crate::aws::sdk_config(
                &self.aws,
                Some("us-east-1"),
                self.settings.endpoint_url.as_deref(),
            )
            .await?;
            let client = Client::from_conf(
                aws_sdk_costexplorer::config::Builder::from(&config)
                    .interceptor(meter.interceptor(|_| REQUEST_PRICE))
                    .build(),
            );
            for (start, end) in contiguous_ranges(&days) {
                let range: Vec<NaiveDate> = start.iter_days().take_while(|d| *d <= end).collect();
                match fetch_range(&client, ledger, start, end, &mut calls).await {
                    Ok(facts) => {
                        days_ingested += ledger.replace_days(SOURCE, &range, &facts, today)?;
                        notes.push(format!("{start}..{end} fetched"));
                    }
                    Err(e) if calls.exhausted() => {
                        notes.push(format!(
                            "request budget reached ({e}); {start}..{end} left for the next run"
                        ));
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
            if forecast_due && !calls.exhausted() {
                let forecast = fetch_forecast(&client, today, &mut calls).await?;
                notes.push(format!("month-end forecast {:.2}", forecast.mean));
                ledger.store_forecast(&forecast)?;
            }
        } else {
            notes.push("up to date".into());
        }
        notes.push(format!(
            "${:.2} in requests",
            calls.made as f64 * REQUEST_PRICE
        ));
        let status = if calls.exhausted() {
            SourceStatus::Partial
        } else {
            SourceStatus::Ok
        };
        Ok(Synced {
            status,
            detail: notes.join("; "),
            days_ingested,
        })
    }
}

impl Source for CostExplorerSource {
    fn name(&self) -> &str {
        SOURCE
    }

    fn sync(&self, ledger: &Ledger, ctx: &SyncContext) -> Result<Synced> {
        ctx.runtime
            .block_on(self.sync_async(ledger, ctx.today, &ctx.meter))
    }
}

/// Requests made by one run against its budget.
struct Calls {
    made: u32,
    max: u32,
}

impl Calls {
    fn take(&mut self) -> Result<()> {
        if self.exhausted() {
            return Err(anyhow!("{} of {} requests used", self.made, self.max));
        }
        self.made += 1;
        Ok(())
    }

    fn exhausted(&self) -> bool {
        self.made >= self.max
    }
}

/// Splits sorted days into inclusive runs of consecutive days.
fn contiguous_ranges(days: &[NaiveDate]) -> Vec<(NaiveDate, NaiveDate)> {
    let mut ranges: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for &day in days {
        match ranges.last_mut() {
            Some((_, end)) if *end + Days::new(1) == day => *end = day,
            _ => ranges.push((day, day)),
        }
    }
    ranges
}

/// One grouped row of a GetCostAndUsage answer.
struct Row {
    day: NaiveDate,
    keys: [String; 2],
    unblended: f64,
    amortized: f64,
    usage: f64,
    unit: String,
}

/// Fetches `[start, end]` and turns it into daily facts.
async fn fetch_range(
    client: &Client,
    ledger: &Ledger,
    start: NaiveDate,
    end: NaiveDate,
    calls: &mut Calls,
) -> Result<Facts> {
    let usage = record_type_filter();
    let usage_rows = query(
        client,
        start,
        end,
        ["LINKED_ACCOUNT", "USAGE_TYPE"],
        usage.clone(),
        calls,
    )
    .await?;
    let mut services = ledger.usage_type_services()?;
    if usage_rows
        .iter()
        .any(|r| !services.contains_key(&r.keys[1]))
    {
        let rows = query(
            client,
            start,
            end,
            ["SERVICE", "USAGE_TYPE"],
            usage.clone(),
            calls,
        )
        .await?;
        let mut best: HashMap<String, (String, f64)> = HashMap::new();
        for r in rows {
            let entry = best
                .entry(r.keys[1].clone())
                .or_insert((r.keys[0].clone(), f64::MIN));
            if r.unblended > entry.1 {
                *entry = (r.keys[0].clone(), r.unblended);
            }
        }
        let learned: HashMap<String, (String, String)> = best
            .into_iter()
            .map(|(usage_type, (service, _))| (usage_type, (service.clone(), service)))
            .collect();
        ledger.remember_usage_type_services(&learned)?;
        services.extend(learned);
    }
    let other = Expression::builder().not(usage).build();
    let other_rows = query(
        client,
        start,
        end,
        ["LINKED_ACCOUNT", "RECORD_TYPE"],
        other,
        calls,
    )
    .await?;

    let mut facts = Facts::new();
    let unknown = ("Unknown".to_string(), "Unknown".to_string());
    for r in usage_rows {
        let (code, name) = services.get(&r.keys[1]).unwrap_or(&unknown).clone();
        add(
            &mut facts,
            &r,
            code,
            name,
            r.keys[1].clone(),
            ChargeCategory::Usage,
        );
    }
    for r in other_rows {
        add(
            &mut facts,
            &r,
            String::new(),
            String::new(),
            r.keys[1].clone(),
            record_category(&r.keys[1]),
        );
    }
    Ok(facts)
}

fn add(
    facts: &mut Facts,
    r: &Row,
    code: String,
    name: String,
    usage_type: String,
    category: ChargeCategory,
) {
    let key = FactKey {
        billing_period: r.day.format("%Y-%m").to_string().into(),
        day: r.day,
        account: r.keys[0].as_str().into(),
        service_code: code.into(),
        usage_type: usage_type.into(),
        region: "".into(),
        category,
        tags: "".into(),
    };
    let value = FactValue {
        service_name: name.into(),
        unblended: r.unblended,
        amortized: r.amortized,
        usage_amount: r.usage,
        usage_unit: r.unit.as_str().into(),
    };
    facts.entry(key).or_default().add(&value);
}

/// `RECORD_TYPE` is one of the usage record types.
fn record_type_filter() -> Expression {
    let mut values = DimensionValues::builder().key(Dimension::RecordType);
    for t in USAGE_RECORD_TYPES {
        values = values.values(t);
    }
    Expression::builder().dimensions(values.build()).build()
}

/// Charge category of a Cost Explorer record type.
fn record_category(record_type: &str) -> ChargeCategory {
    let t = record_type.to_ascii_lowercase();
    match t.as_str() {
        "credit" => ChargeCategory::Credit,
        "tax" => ChargeCategory::Tax,
        "refund" => ChargeCategory::Refund,
        _ if t.contains("reservation") || t.starts_with("ri") => ChargeCategory::Reservation,
        _ if t.starts_with("savingsplan") || t.contains("savings plan") => {
            ChargeCategory::SavingsPlan
        }
        _ if t.contains("discount") => ChargeCategory::Discount,
        _ if t.contains("fee") => ChargeCategory::Fee,
        _ => ChargeCategory::Other,
    }
}

/// Runs one grouped, paginated GetCostAndUsage over `[start, end]`.
async fn query(
    client: &Client,
    start: NaiveDate,
    end: NaiveDate,
    group_by: [&str; 2],
    filter: Expression,
    calls: &mut Calls,
) -> Result<Vec<Row>> {
    let period = DateInterval::builder()
        .start(start.to_string())
        .end((end + Days::new(1)).to_string())
        .build()?;
    let mut rows = Vec::new();
    let mut token: Option<String> = None;
    loop {
        calls.take()?;
        let mut request = client
            .get_cost_and_usage()
            .time_period(period.clone())
            .granularity(Granularity::Daily)
            .metrics("UnblendedCost")
            .metrics("AmortizedCost")
            .metrics("UsageQuantity")
            .filter(filter.clone())
            .set_next_page_token(token.clone());
        for key in group_by {
            request = request.group_by(
                GroupDefinition::builder()
                    .r#type(GroupDefinitionType::Dimension)
                    .key(key)
                    .build(),
            );
        }
        let page = request
            .send()
            .await
            .map_err(|e| anyhow!(describe("Cost Explorer GetCostAndUsage", &e)))?;
        parse_page(&page, &mut rows)?;
        token = page
            .next_page_token()
            .filter(|t| !t.is_empty())
            .map(String::from);
        if token.is_none() {
            return Ok(rows);
        }
    }
}

fn parse_page(page: &GetCostAndUsageOutput, rows: &mut Vec<Row>) -> Result<()> {
    for result in page.results_by_time() {
        let start = result.time_period().map(|p| p.start()).unwrap_or_default();
        let day = NaiveDate::parse_from_str(start.get(..10).unwrap_or(start), "%Y-%m-%d")
            .with_context(|| format!("Cost Explorer returned an unreadable day {start:?}"))?;
        for group in result.groups() {
            let keys = group.keys();
            let metric = |name: &str| -> Result<(f64, String)> {
                let Some(value) = group.metrics().and_then(|m| m.get(name)) else {
                    return Ok((0.0, String::new()));
                };
                let amount = value.amount().unwrap_or("0");
                let amount = amount.parse::<f64>().with_context(|| {
                    format!("Cost Explorer {name} {amount:?} for {keys:?} on {day} is not a number")
                })?;
                Ok((amount, value.unit().unwrap_or("").to_string()))
            };
            let (usage, unit) = metric("UsageQuantity")?;
            rows.push(Row {
                day,
                keys: [
                    keys.first().cloned().unwrap_or_default(),
                    keys.get(1).cloned().unwrap_or_default(),
                ],
                unblended: metric("UnblendedCost")?.0,
                amortized: metric("AmortizedCost")?.0,
                usage,
                unit,
            });
        }
    }
    Ok(())
}

/// Forecast of unblended cost from today to the end of the month, with an 80% interval.
async fn fetch_forecast(client: &Client, today: NaiveDate, calls: &mut Calls) -> Result<Forecast> {
    let period_end = today.with_day(1).unwrap() + Months::new(1);
    calls.take()?;
    let answer = client
        .get_cost_forecast()
        .time_period(
            DateInterval::builder()
                .start(today.to_string())
                .end(period_end.to_string())
                .build()?,
        )
        .metric(Metric::UnblendedCost)
        .granularity(Granularity::Monthly)
        .prediction_interval_level(80)
        .send()
        .await
        .map_err(|e| anyhow!(describe("Cost Explorer GetCostForecast", &e)))?;
    let number = |s: Option<&str>| s.and_then(|v| v.parse::<f64>().ok());
    let mean = number(answer.total().and_then(|t| t.amount()))
        .ok_or_else(|| anyhow!("Cost Explorer GetCostForecast returned no total"))?;
    let bound = |f: fn(&aws_sdk_costexplorer::types::ForecastResult) -> Option<&str>| {
        let values: Vec<f64> = answer
            .forecast_results_by_time()
            .iter()
            .filter_map(|r| number(f(r)))
            .collect();
        (!values.is_empty()).then(|| values.iter().sum())
    };
    Ok(Forecast {
        made_on: today,
        period_start: today,
        period_end,
        metric: "UnblendedCost".into(),
        mean,
        lower: bound(|r| r.prediction_interval_lower_bound()),
        upper: bound(|r| r.prediction_interval_upper_bound()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_split_on_gaps() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let days = [d("2026-03-01"), d("2026-03-02"), d("2026-03-05")];
        assert_eq!(
            contiguous_ranges(&days),
            [
                (d("2026-03-01"), d("2026-03-02")),
                (d("2026-03-05"), d("2026-03-05"))
            ]
        );
    }

    #[test]
    fn record_types_map_to_categories() {
        assert_eq!(record_category("Credit"), ChargeCategory::Credit);
        assert_eq!(
            record_category("Recurring reservation fee"),
            ChargeCategory::Reservation
        );
        assert_eq!(
            record_category("SavingsPlanRecurringFee"),
            ChargeCategory::SavingsPlan
        );
        assert_eq!(record_category("Support fee"), ChargeCategory::Fee);
        assert_eq!(
            record_category("Enterprise Discount Program Discount"),
            ChargeCategory::Discount
        );
    }
}

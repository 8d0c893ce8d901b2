//! CloudWatch billing metrics: `AWS/Billing` `EstimatedCharges` (us-east-1 only), the earliest
//! signal for days Cost Explorer and the CUR have not settled yet. The metric is month-to-date
//! per service and linked account; the daily maximum becomes a daily delta that resets at month start.

use super::BillingMetricsConfig as Settings;
use crate::aws::{AwsConfig, Meter, describe};
use crate::ledger::Ledger;
use crate::model::{ChargeCategory, FactKey, FactValue, Facts, SourceStatus};
use crate::sources::{Source, SyncContext, Synced};
use anyhow::{Result, anyhow};
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Metric, MetricDataQuery, MetricStat, ScanBy};
use chrono::{Datelike, Days, NaiveDate};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Ledger source name.
pub const SOURCE: &str = "billing_metrics";
const NAMESPACE: &str = "AWS/Billing";
const METRIC: &str = "EstimatedCharges";
/// What a request costs: GetMetricData $0.01 per 1,000 metrics (a full batch of 500 counted),
/// other requests $0.01 per 1,000.
fn request_price(operation: &str) -> f64 {
    if operation == "GetMetricData" {
        0.005
    } else {
        0.00001
    }
}
/// GetMetricData takes at most this many queries per request.
const QUERIES_PER_REQUEST: usize = 500;

/// The CloudWatch billing metrics source.
pub struct BillingMetricsSource {
    settings: Settings,
    aws: AwsConfig,
}

/// One EstimatedCharges series: its service and linked account ("" when the metric has none).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct SeriesId {
    service: String,
    account: String,
}

impl BillingMetricsSource {
    /// The source of these settings, calling AWS through `aws`.
    pub fn new(settings: Settings, aws: AwsConfig) -> Self {
        Self { settings, aws }
    }

    async fn sync_async(
        &self,
        ledger: &Ledger,
        today: NaiveDate,
        meter: &Arc<Meter>,
    ) -> Result<Synced> {
        let config = crate::aws::sdk_config(
            &self.aws,
            Some("us-east-1"),
            self.settings.endpoint_url.as_deref(),
        )
        .await?;
        let client = Client::from_conf(
            aws_sdk_cloudwatch::config::Builder::from(&config)
                .interceptor(meter.interceptor(request_price))
                .build(),
        );
        let metrics = list_metrics(&client).await?;
        // The day before the window is read too, so the window's first day gets a delta.
        let first = today - Days::new(self.settings.lookback_days.max(1) as u64 + 1);
        let month_to_date = daily_maximum(&client, &metrics, first, today).await?;
        let facts = daily_deltas(&month_to_date);
        let days: Vec<NaiveDate> = {
            let mut d: Vec<NaiveDate> = facts.keys().map(|k| k.day).collect();
            d.sort();
            d.dedup();
            d
        };
        let days_ingested = ledger.replace_days(SOURCE, &days, &facts, today)?;
        Ok(Synced {
            status: SourceStatus::Ok,
            detail: format!(
                "{} EstimatedCharges series, {} day(s) of deltas",
                metrics.len(),
                days.len()
            ),
            days_ingested,
        })
    }
}

impl Source for BillingMetricsSource {
    fn name(&self) -> &str {
        SOURCE
    }

    fn sync(&self, ledger: &Ledger, ctx: &SyncContext) -> Result<Synced> {
        ctx.runtime
            .block_on(self.sync_async(ledger, ctx.today, &ctx.meter))
    }
}

/// The USD EstimatedCharges metrics, per service where AWS publishes those (else the total).
async fn list_metrics(client: &Client) -> Result<Vec<(SeriesId, Metric)>> {
    let mut all = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .list_metrics()
            .namespace(NAMESPACE)
            .metric_name(METRIC)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| anyhow!(describe("CloudWatch ListMetrics", &e)))?;
        for metric in page.metrics() {
            let dim = |name: &str| {
                metric
                    .dimensions()
                    .iter()
                    .find(|d| d.name() == Some(name))
                    .and_then(|d| d.value())
                    .map(String::from)
            };
            if dim("Currency").as_deref() != Some("USD") {
                continue;
            }
            let id = SeriesId {
                service: dim("ServiceName").unwrap_or_default(),
                account: dim("LinkedAccount").unwrap_or_default(),
            };
            all.push((id, metric.clone()));
        }
        token = page.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    if all.iter().any(|(id, _)| !id.service.is_empty()) {
        all.retain(|(id, _)| !id.service.is_empty());
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(all)
}

/// Month-to-date value at the end of each day in `[first, today)`, per series.
async fn daily_maximum(
    client: &Client,
    metrics: &[(SeriesId, Metric)],
    first: NaiveDate,
    today: NaiveDate,
) -> Result<BTreeMap<SeriesId, BTreeMap<NaiveDate, f64>>> {
    let seconds = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp();
    let mut out: BTreeMap<SeriesId, BTreeMap<NaiveDate, f64>> = BTreeMap::new();
    for (chunk_no, chunk) in metrics.chunks(QUERIES_PER_REQUEST).enumerate() {
        let queries: Vec<MetricDataQuery> = chunk
            .iter()
            .enumerate()
            .map(|(i, (_, metric))| {
                MetricDataQuery::builder()
                    .id(format!("m{i}"))
                    .metric_stat(
                        MetricStat::builder()
                            .metric(metric.clone())
                            .period(86_400)
                            .stat("Maximum")
                            .build(),
                    )
                    .return_data(true)
                    .build()
            })
            .collect();
        let mut token = None;
        loop {
            let page = client
                .get_metric_data()
                .set_metric_data_queries(Some(queries.clone()))
                .start_time(DateTime::from_secs(seconds(first)))
                .end_time(DateTime::from_secs(seconds(today)))
                .scan_by(ScanBy::TimestampAscending)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| {
                    let operation = format!("CloudWatch GetMetricData (batch {})", chunk_no + 1);
                    anyhow!(describe(&operation, &e))
                })?;
            for result in page.metric_data_results() {
                let index: usize = result
                    .id()
                    .and_then(|id| id.strip_prefix('m')?.parse().ok())
                    .unwrap_or(usize::MAX);
                let Some((id, _)) = chunk.get(index) else {
                    continue;
                };
                let series = out.entry(id.clone()).or_default();
                for (ts, value) in result.timestamps().iter().zip(result.values()) {
                    let Some(day) =
                        chrono::DateTime::from_timestamp(ts.secs(), 0).map(|t| t.date_naive())
                    else {
                        continue;
                    };
                    let entry = series.entry(day).or_insert(f64::MIN);
                    *entry = entry.max(*value);
                }
            }
            token = page.next_token().map(String::from);
            if token.is_none() {
                break;
            }
        }
    }
    Ok(out)
}

/// Turns month-to-date values into daily cost: the difference from the previous day, or the
/// value itself on the first of the month. A day whose previous day is unknown is skipped.
fn daily_deltas(month_to_date: &BTreeMap<SeriesId, BTreeMap<NaiveDate, f64>>) -> Facts {
    let mut facts = Facts::new();
    for (id, days) in month_to_date {
        for (&day, &value) in days {
            let delta = if day.day() == 1 {
                value
            } else {
                match day.pred_opt().and_then(|prev| days.get(&prev)) {
                    Some(prev) => value - prev,
                    None => continue,
                }
            };
            let key = FactKey {
                billing_period: day.format("%Y-%m").to_string().into(),
                day,
                account: id.account.as_str().into(),
                service_code: id.service.as_str().into(),
                usage_type: "".into(),
                region: "".into(),
                category: ChargeCategory::Usage,
                tags: "".into(),
            };
            let value = FactValue {
                service_name: id.service.as_str().into(),
                unblended: delta,
                amortized: delta,
                usage_amount: 0.0,
                usage_unit: "".into(),
            };
            facts.entry(key).or_default().add(&value);
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_reset_at_month_start() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let id = SeriesId {
            service: "AmazonEC2".into(),
            account: "1".into(),
        };
        let series: BTreeMap<NaiveDate, f64> = [
            (d("2026-02-26"), 100.0),
            (d("2026-02-27"), 110.0),
            (d("2026-02-28"), 125.0),
            (d("2026-03-01"), 7.0),
            (d("2026-03-02"), 15.0),
        ]
        .into();
        let facts = daily_deltas(&[(id, series)].into());
        let mut got: Vec<(NaiveDate, f64)> =
            facts.iter().map(|(k, v)| (k.day, v.unblended)).collect();
        got.sort_by_key(|x| x.0);
        assert_eq!(
            got,
            [
                (d("2026-02-27"), 10.0),
                (d("2026-02-28"), 15.0),
                (d("2026-03-01"), 7.0),
                (d("2026-03-02"), 8.0)
            ]
        );
    }
}

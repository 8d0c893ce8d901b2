//! The month-end forecast (GetCostForecast), one request a day.

use crate::aws::describe;
use crate::ledger::Forecast;
use anyhow::{Result, anyhow};
use aws_sdk_costexplorer::Client;
use aws_sdk_costexplorer::types::{DateInterval, Granularity, Metric};
use chrono::{Datelike, Months, NaiveDate};

/// Forecast of unblended cost from today to the end of the month, with an 80% interval.
pub async fn fetch_forecast(client: &Client, today: NaiveDate) -> Result<Forecast> {
    let period_end = today.with_day(1).unwrap() + Months::new(1);
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

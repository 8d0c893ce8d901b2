//! One query's life: started, polled with backoff until it ends or its deadline passes
//! (then stopped), charged by the bytes it scanned, and its result read: page by page
//! (GetQueryResults), or from the result CSV in S3 once it is larger than a few pages.

use crate::aws::{Meter, describe, download};
use anyhow::{Context, Result, anyhow, bail};
use aws_sdk_athena::types::{
    QueryExecution, QueryExecutionContext, QueryExecutionState, ResultConfiguration,
};
use costwatch_cur::{ReadOptions, RowReader, SeriesFacts};
use std::time::{Duration, Instant};

/// Athena's price: $5 per TB scanned, each query rounded up to the megabyte, 10 MB at least.
pub fn cost(bytes_scanned: u64) -> f64 {
    const MB: u64 = 1_000_000;
    let billed = bytes_scanned.div_ceil(MB).max(10) * MB;
    billed as f64 / 1e12 * 5.0
}

/// The first wait between polls; each next one is twice as long, up to [`MAX_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(100);
const MAX_POLL: Duration = Duration::from_secs(5);
/// Rows a page of GetQueryResults holds.
const PAGE: i32 = 1000;
/// Pages read through GetQueryResults before a larger result is read from its CSV instead.
const PAGES: usize = 10;

/// Where and how the queries run.
pub struct Runner<'a> {
    pub athena: &'a aws_sdk_athena::Client,
    pub s3: &'a aws_sdk_s3::Client,
    pub database: &'a str,
    pub workgroup: &'a str,
    pub output_location: Option<&'a str>,
    pub timeout: Duration,
    pub options: &'a ReadOptions,
    pub meter: &'a Meter,
}

/// A query that succeeded: its facts, what it scanned, and whether its result was read from
/// the result CSV (else page by page).
pub struct Done {
    pub id: String,
    pub facts: SeriesFacts,
    pub bytes_scanned: u64,
    pub from_csv: bool,
}

impl Runner<'_> {
    /// Runs `sql` to its end and reads its result. The cost of what it scanned is added to
    /// the meter, also when it is stopped.
    pub async fn run(&self, sql: &str) -> Result<Done> {
        let mut output = ResultConfiguration::builder();
        if let Some(location) = self.output_location {
            output = output.output_location(location);
        }
        let started = self
            .athena
            .start_query_execution()
            .query_string(sql)
            .query_execution_context(
                QueryExecutionContext::builder()
                    .database(self.database)
                    .build(),
            )
            .work_group(self.workgroup)
            .result_configuration(output.build())
            .send()
            .await
            .map_err(|e| anyhow!(describe("Athena StartQueryExecution", &e)))?;
        let id = started
            .query_execution_id()
            .ok_or_else(|| anyhow!("Athena StartQueryExecution: no query id"))?
            .to_string();
        let execution = self.wait(&id).await?;
        let bytes_scanned = scanned(&execution);
        let state = execution.status().and_then(|s| s.state());
        if state == Some(&QueryExecutionState::Succeeded) {
            self.meter.add_cost(cost(bytes_scanned));
        } else {
            let reason = (execution.status())
                .and_then(|s| s.state_change_reason())
                .unwrap_or("no reason given");
            bail!("Athena query {id} {}: {reason}", state_name(state));
        }
        let location = (execution.result_configuration())
            .and_then(|r| r.output_location())
            .unwrap_or_default();
        let (facts, from_csv) = self.results(&id, location).await?;
        Ok(Done {
            id,
            facts,
            bytes_scanned,
            from_csv,
        })
    }

    /// Polls until the query ends; past the deadline, stops it and fails.
    async fn wait(&self, id: &str) -> Result<QueryExecution> {
        let deadline = Instant::now() + self.timeout;
        let mut pause = FIRST_POLL;
        loop {
            let execution = self.execution(id).await?;
            let state = execution.status().and_then(|s| s.state());
            let running = matches!(
                state,
                Some(QueryExecutionState::Queued | QueryExecutionState::Running) | None
            );
            if !running {
                return Ok(execution);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.stop(id, state_name(state)).await);
            }
            tokio::time::sleep(pause.min(left)).await;
            pause = (pause * 2).min(MAX_POLL);
        }
    }

    async fn execution(&self, id: &str) -> Result<QueryExecution> {
        let answer = self
            .athena
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .map_err(|e| anyhow!(describe("Athena GetQueryExecution", &e)))?;
        answer
            .query_execution()
            .cloned()
            .ok_or_else(|| anyhow!("Athena GetQueryExecution {id}: no query execution"))
    }

    /// Stops a query that outlived its deadline and charges what it scanned; the error to
    /// report.
    async fn stop(&self, id: &str, state: &str) -> anyhow::Error {
        let seconds = self.timeout.as_secs();
        let stopped = self
            .athena
            .stop_query_execution()
            .query_execution_id(id)
            .send()
            .await;
        if let Err(e) = stopped {
            return anyhow!(
                "Athena query {id} still {state} after {seconds} s, and stopping it failed: {}",
                describe("Athena StopQueryExecution", &e)
            );
        }
        if let Ok(execution) = self.execution(id).await {
            let bytes = scanned(&execution);
            if bytes > 0 {
                self.meter.add_cost(cost(bytes));
            }
        }
        anyhow!(
            "Athena query {id} still {state} after {seconds} s (query_timeout_secs): stopped it"
        )
    }

    /// The result rows as facts: page by page, or from the result CSV when it has more than
    /// [`PAGES`] pages (then true).
    async fn results(&self, id: &str, location: &str) -> Result<(SeriesFacts, bool)> {
        let mut reader: Option<RowReader> = None;
        let mut token: Option<String> = None;
        for page in 1.. {
            let answer = self
                .athena
                .get_query_results()
                .query_execution_id(id)
                .max_results(PAGE)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| anyhow!(describe("Athena GetQueryResults", &e)))?;
            let Some(set) = answer.result_set() else {
                break;
            };
            let rows: Vec<Vec<Option<&str>>> = (set.rows().iter())
                .map(|row| row.data().iter().map(|d| d.var_char_value()).collect())
                .collect();
            let mut skip = 0;
            let reader = match &mut reader {
                Some(reader) => reader,
                None => {
                    let names: Vec<&str> = (set.result_set_metadata())
                        .map(|m| m.column_info().iter().map(|c| c.name()).collect())
                        .unwrap_or_default();
                    // The first row of a SELECT's first page is its header.
                    let header = names.iter().map(|n| Some(*n));
                    if rows
                        .first()
                        .is_some_and(|first| first.iter().copied().eq(header))
                    {
                        skip = 1;
                    }
                    let new = RowReader::new(names.iter().copied(), self.options)
                        .map_err(|e| anyhow!("Athena query {id}: result: {e}"))?;
                    reader.insert(new)
                }
            };
            for row in &rows[skip..] {
                reader
                    .add(row)
                    .map_err(|e| anyhow!("Athena query {id}: result {e}"))?;
            }
            match answer.next_token() {
                None => break,
                Some(_) if page >= PAGES => return Ok((self.result_csv(location).await?, true)),
                Some(t) => token = Some(t.to_string()),
            }
        }
        Ok((reader.map(RowReader::finish).unwrap_or_default(), false))
    }

    /// The result CSV at `location` (`s3://bucket/key`), read as a billing file.
    async fn result_csv(&self, location: &str) -> Result<SeriesFacts> {
        let (bucket, key) = (location.strip_prefix("s3://"))
            .and_then(|rest| rest.split_once('/'))
            .ok_or_else(|| anyhow!("Athena result location {location:?} is not s3://bucket/key"))?;
        let local = std::env::temp_dir().join(format!(
            "costwatch-athena-{}-{}",
            std::process::id(),
            key.rsplit('/').next().unwrap_or("result.csv")
        ));
        let read = async {
            download(self.s3, bucket, key, &local).await?;
            let (path, options) = (local.clone(), self.options.clone());
            tokio::task::spawn_blocking(move || costwatch_cur::read_csv(&path, &options))
                .await
                .context("reader thread")?
                .map_err(|e| anyhow::Error::from(e.at(location)))
        }
        .await;
        let _ = std::fs::remove_file(&local);
        read
    }
}

fn scanned(execution: &QueryExecution) -> u64 {
    (execution.statistics())
        .and_then(|s| s.data_scanned_in_bytes())
        .unwrap_or(0)
        .max(0) as u64
}

fn state_name(state: Option<&QueryExecutionState>) -> &str {
    match state {
        Some(QueryExecutionState::Failed) => "failed",
        Some(QueryExecutionState::Cancelled) => "was cancelled",
        Some(s) => s.as_str(),
        None => "in no state",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_costs_10_mb_at_least_then_by_the_megabyte() {
        assert_eq!(cost(0), 10e6 / 1e12 * 5.0);
        assert_eq!(cost(1_500_000), cost(10_000_000));
        assert_eq!(cost(10_000_001), 11e6 / 1e12 * 5.0);
        assert_eq!(cost(1_000_000_000_000), 5.0);
    }
}

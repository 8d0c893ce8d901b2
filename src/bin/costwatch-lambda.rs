//! The Lambda function (`provided.al2023`, built as `bootstrap` with the `lambda` feature):
//! the runtime loop, each invocation handed to [`costwatch::lambda::invoke`] on a blocking
//! thread (the job runs its own runtime), its summary returned as the result.

use costwatch::lambda::{self, Event, Settings};
use costwatch::logging::LogFormat;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    costwatch::logging::init(LogFormat::Json, 0);
    let settings = Arc::new(Settings::from_env()?);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        handle(Arc::clone(&settings), event)
    }))
    .await
}

/// One invocation: the event's date (today by default), the run on the ledger in S3.
async fn handle(settings: Arc<Settings>, event: LambdaEvent<Value>) -> Result<Value, Error> {
    let request_id = event.context.request_id.clone();
    let input: Event = match event.payload {
        Value::Null => Event::default(),
        payload => serde_json::from_value(payload)
            .map_err(|e| format!("the event must be {{}} or {{\"date\": \"YYYY-MM-DD\"}}: {e}"))?,
    };
    let invocation =
        tokio::task::spawn_blocking(move || lambda::invoke(&settings, &input, &request_id))
            .await?
            .map_err(|e| {
                tracing::error!(error = %format!("{e:#}"), "invocation failed");
                format!("{e:#}")
            })?;
    tracing::info!(
        run_date = %invocation.summary.run_date,
        alerts = invocation.summary.alerts.len(),
        runs = invocation.ledger.runs,
        etag = %invocation.ledger.etag,
        "run stored"
    );
    Ok(serde_json::to_value(&invocation)?)
}

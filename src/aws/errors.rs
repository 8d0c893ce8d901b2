//! AWS errors told the way a run summary and a digest need them: the service's error code
//! and message and the request id, without the HTTP exchange (logged at trace level, `-vv`).

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;

/// `Cost Explorer GetCostAndUsage: LimitExceededException: Rate exceeded (request id …)`.
pub fn describe<E>(operation: &str, e: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    tracing::trace!(operation, error = %DisplayErrorContext(e), "AWS request failed");
    let what = match e {
        SdkError::ServiceError(service) => {
            let err = service.err();
            match (err.code(), err.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_string(),
                (None, _) => format!("HTTP {} without an error code", service.raw().status()),
            }
        }
        SdkError::TimeoutError(_) => "timed out".to_string(),
        SdkError::DispatchFailure(failure) => {
            let reason = innermost(e);
            if failure.is_timeout() {
                format!("timed out connecting: {reason}")
            } else {
                format!("cannot reach the service: {reason}")
            }
        }
        SdkError::ResponseError(response) => format!(
            "unreadable answer (HTTP {}): {}",
            response.raw().status(),
            innermost(e)
        ),
        SdkError::ConstructionFailure(_) => format!("invalid request: {}", innermost(e)),
        _ => innermost(e),
    };
    match e.request_id() {
        Some(id) => format!("{operation}: {what} (request id {id})"),
        None => format!("{operation}: {what}"),
    }
}

/// The message of the innermost error of a chain: the cause, without the wrappers' words.
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

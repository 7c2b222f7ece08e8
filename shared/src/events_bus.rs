//! Events the pipeline publishes on its EventBridge bus: one `PutEvents`
//! entry per event, whose detail type comes from the detail's own type
//! ([`crate::events::Detail`]), so what is published is what is parsed.

use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use crate::events::Detail;
use crate::PipelineError;

/// Where the pipeline publishes its own events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventBus {
    pub name: String,
    pub source: String,
}

/// The source of the pipeline's events unless `EVENT_SOURCE` says otherwise.
pub const DEFAULT_EVENT_SOURCE: &str = "mlops.pipeline";

impl EventBus {
    /// The `PutEvents` entry for `detail`, about `resource`, on this bus.
    pub fn entry<D: Detail>(
        &self,
        resource: &str,
        detail: &D,
    ) -> Result<PutEventsRequestEntry, PipelineError> {
        entry(&self.name, &self.source, resource, detail)
    }
}

/// The `PutEvents` entry for `detail`, about `resource`. Pure.
pub fn entry<D: Detail>(
    bus: &str,
    source: &str,
    resource: &str,
    detail: &D,
) -> Result<PutEventsRequestEntry, PipelineError> {
    let detail = serde_json::to_string(detail).map_err(|err| {
        PipelineError::Defect(format!("the {} event's detail: {err}", D::DETAIL_TYPE))
    })?;
    Ok(PutEventsRequestEntry::builder()
        .event_bus_name(bus)
        .source(source)
        .detail_type(D::DETAIL_TYPE)
        .resources(resource)
        .detail(detail)
        .build())
}

/// Publishes one event and returns its id. PutEvents answers 200 even when it
/// refuses an entry: a refused entry is a retryable error, never a success.
pub async fn publish(
    events: &aws_sdk_eventbridge::Client,
    entry: PutEventsRequestEntry,
) -> Result<String, PipelineError> {
    let output = events
        .put_events()
        .entries(entry)
        .send()
        .await
        .map_err(|err| PipelineError::from_sdk("PutEvents", err))?;
    let result = output.entries().first();
    match result.and_then(|e| e.event_id()) {
        Some(id) if output.failed_entry_count() == 0 => Ok(id.to_string()),
        _ => Err(PipelineError::AwsTransient {
            operation: "PutEvents",
            code: result
                .and_then(|e| e.error_code())
                .unwrap_or("FailedEntry")
                .to_string(),
            message: result
                .and_then(|e| e.error_message())
                .unwrap_or("the event was not accepted")
                .to_string(),
        }),
    }
}

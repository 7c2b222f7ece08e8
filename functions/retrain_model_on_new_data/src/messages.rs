//! What an invocation holds: a batch of SQS messages (the queue the
//! template wires), or one event invoked directly (the samples in `events/`,
//! other wiring). Each message, or the direct event, is S3's news of new
//! objects in either form, S3's test event, a burst's schedule falling due,
//! or (with preprocessing) SageMaker's news of a processing job's end.

use serde_json::Value;
use shared::events::{
    check_kind, parse_event, EventBridgeEvent, ProcessingJobStateChange, SqsEvent,
    PROCESSING_JOB_STATE_CHANGE, SAGEMAKER_SOURCE,
};
use shared::PipelineError;

use crate::burst::{Due, DueMessage};
use crate::objects::{objects_in, Delivery, NewObject};

/// What one message (or a direct event) says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Objects(Vec<NewObject>),
    /// S3 sends `s3:TestEvent` when a notification configuration is saved.
    TestEvent,
    Due(Due),
    /// "SageMaker Processing Job State Change": a burst's preprocessing ended.
    Processed(ProcessingJobStateChange),
}

/// One SQS message: its id (what a partial batch failure names) and what it
/// holds, or why it cannot be read.
#[derive(Debug)]
pub struct Message {
    pub id: String,
    pub content: Result<Content, PipelineError>,
}

#[derive(Debug)]
pub enum Invocation {
    /// From the queue: each message stands or fails on its own.
    Batch(Vec<Message>),
    /// Invoked with the event itself.
    Direct(Content),
}

/// Reads an invocation's payload. Only a payload that is neither an SQS batch
/// nor an event the function takes is an error as a whole.
pub fn invocation(payload: Value) -> Result<Invocation, PipelineError> {
    if is_sqs(&payload) {
        let event: SqsEvent = parse_event(payload)?;
        let messages = event
            .records
            .into_iter()
            .enumerate()
            .map(|(i, record)| Message {
                id: record
                    .message_id
                    .unwrap_or_else(|| format!("Records[{i}] (no messageId)")),
                content: record
                    .body
                    .ok_or_else(|| PipelineError::invalid_event("the message has no body"))
                    .and_then(|body| content_of_body(&body)),
            })
            .collect();
        return Ok(Invocation::Batch(messages));
    }
    content(payload).map(Invocation::Direct)
}

fn is_sqs(payload: &Value) -> bool {
    payload
        .pointer("/Records/0/eventSource")
        .and_then(Value::as_str)
        == Some("aws:sqs")
}

fn content_of_body(body: &str) -> Result<Content, PipelineError> {
    let value: Value = serde_json::from_str(body).map_err(|err| {
        PipelineError::invalid_event(format!("the message body is not JSON: {err}"))
    })?;
    content(value)
}

/// One event: a schedule's input, a processing job's state change, or S3's
/// news in either form.
fn content(payload: Value) -> Result<Content, PipelineError> {
    if payload.get("retraining_due").is_some() {
        let message: DueMessage = parse_event(payload)?;
        return Ok(Content::Due(message.retraining_due));
    }
    // SageMaker's event by either of its marks, so that a wrong other one is
    // named (check_kind) rather than read as S3's.
    if payload.get("detail-type").and_then(Value::as_str) == Some(PROCESSING_JOB_STATE_CHANGE)
        || payload.get("source").and_then(Value::as_str) == Some(SAGEMAKER_SOURCE)
    {
        let event: EventBridgeEvent<ProcessingJobStateChange> = parse_event(payload)?;
        check_kind(&event, None)?;
        return Ok(Content::Processed(event.detail));
    }
    let known = ["Records", "detail-type", "Event"];
    if !known.iter().any(|key| payload.get(key).is_some()) {
        return Err(PipelineError::invalid_event(
            "expected an S3 notification (Records), an EventBridge S3 event (detail-type), \
             a SageMaker Processing Job State Change or a burst schedule's message \
             (retraining_due)",
        ));
    }
    Ok(match objects_in(payload)? {
        Delivery::Objects(objects) => Content::Objects(objects),
        Delivery::TestEvent => Content::TestEvent,
    })
}

/// The messages of an SQS batch from the queue with these bodies, as the
/// handler reads them.
#[cfg(test)]
pub(crate) fn batch(bodies: &[String]) -> Vec<Message> {
    match invocation(shared::test_support::sqs_batch(bodies)).unwrap() {
        Invocation::Batch(messages) => messages,
        other => panic!("not a batch: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use shared::test_support::sample;

    #[test]
    fn every_form_is_read_inside_sqs_messages() {
        let messages = batch(&[
            sample("s3-object-created.json").to_string(),
            sample("s3-notification-many-records.json").to_string(),
            sample("s3-test-event.json").to_string(),
            sample("retraining-due.json").to_string(),
            sample("processing-job-completed.json").to_string(),
        ]);
        assert_eq!(messages[0].id, "m0");
        assert!(
            matches!(&messages[0].content, Ok(Content::Objects(o)) if o.len() == 1 && o[0].event_name == "Object Created")
        );
        assert!(matches!(&messages[1].content, Ok(Content::Objects(o)) if o.len() > 1));
        assert!(matches!(messages[2].content, Ok(Content::TestEvent)));
        assert!(
            matches!(&messages[3].content, Ok(Content::Due(due)) if due.data.starts_with("s3://"))
        );
        assert!(
            matches!(&messages[4].content, Ok(Content::Processed(job)) if job.processing_job_name.starts_with("mlops--proc-"))
        );
    }

    #[test]
    fn a_processing_event_from_another_source_is_refused() {
        let mut event = sample("processing-job-completed.json");
        event["source"] = json!("mlops.pipeline");
        let error = invocation(event).unwrap_err().to_string();
        assert!(
            error.contains("expected source \"aws.sagemaker\""),
            "{error}"
        );
        let mut event = sample("processing-job-completed.json");
        event["detail"]
            .as_object_mut()
            .unwrap()
            .remove("ProcessingJobStatus");
        let error = invocation(event).unwrap_err().to_string();
        assert!(
            error.contains("detail: missing field `ProcessingJobStatus`"),
            "{error}"
        );
    }

    #[test]
    fn the_queue_sample_is_a_batch_of_object_created_events() {
        match invocation(sample("sqs-s3-object-created.json")).unwrap() {
            Invocation::Batch(messages) => {
                assert!(!messages.is_empty());
                assert!(messages
                    .iter()
                    .all(|m| matches!(m.content, Ok(Content::Objects(_)))));
            }
            other => panic!("not a batch: {other:?}"),
        }
    }

    #[test]
    fn a_bad_message_fails_alone_naming_the_problem() {
        let mut due = sample("retraining-due.json");
        due["retraining_due"].as_object_mut().unwrap().remove("due");
        let messages = batch(&[
            "not json".to_string(),
            json!({"hello": "world"}).to_string(),
            due.to_string(),
            sample("s3-object-created.json").to_string(),
        ]);
        let error = |i: usize| messages[i].content.as_ref().unwrap_err().to_string();
        assert!(
            error(0).contains("the message body is not JSON"),
            "{}",
            error(0)
        );
        assert!(
            error(1).contains("expected an S3 notification"),
            "{}",
            error(1)
        );
        assert!(
            error(2).contains("retraining_due: missing field `due`"),
            "{}",
            error(2)
        );
        assert!(messages[3].content.is_ok());
    }

    #[test]
    fn direct_events_are_still_taken() {
        assert!(matches!(
            invocation(sample("s3-notification-put.json")).unwrap(),
            Invocation::Direct(Content::Objects(_))
        ));
        assert!(matches!(
            invocation(sample("retraining-due.json")).unwrap(),
            Invocation::Direct(Content::Due(_))
        ));
        assert!(invocation(json!({"hello": "world"})).is_err());
    }
}

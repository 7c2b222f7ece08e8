//! The two forms S3 reports new objects in, read as one list of objects: the
//! notification form (`Records`, keys URL-encoded) and the EventBridge
//! "Object Created" event (one object, key as stored).

use chrono::{DateTime, Utc};
use serde_json::Value;
use shared::events::{
    parse_event, EventBridgeEvent, S3Notification, S3ObjectCreated, S3_OBJECT_CREATED, S3_SOURCE,
};
use shared::s3::decode_notification_key;
use shared::PipelineError;

/// One object S3 reported, whichever form it came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewObject {
    /// `ObjectCreated:Put` and the like (notification form) or the
    /// EventBridge detail-type (`Object Created`).
    pub event_name: String,
    pub created: bool,
    pub bucket: String,
    /// The object key, decoded.
    pub key: String,
    pub size: Option<i64>,
    /// When S3 says the object was created: the debounce window is taken
    /// from it, so a re-delivered event lands in the same window.
    pub time: DateTime<Utc>,
}

/// What an event holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Objects(Vec<NewObject>),
    /// S3 sends `s3:TestEvent` when a notification configuration is saved.
    TestEvent,
}

/// Reads either form; anything else, or a malformed record, is a
/// non-retryable error naming what is wrong.
pub fn objects_in(payload: Value) -> Result<Delivery, PipelineError> {
    if payload.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(Delivery::TestEvent);
    }
    if payload.get("Records").is_some() {
        return from_notification(parse_event(payload)?).map(Delivery::Objects);
    }
    if payload.get("detail-type").is_some() {
        return from_eventbridge(parse_event(payload)?)
            .map(|object| Delivery::Objects(vec![object]));
    }
    Err(PipelineError::invalid_event(
        "expected an S3 notification (Records) or an EventBridge S3 event (detail-type)",
    ))
}

fn from_notification(notification: S3Notification) -> Result<Vec<NewObject>, PipelineError> {
    if notification.records.is_empty() {
        return Err(PipelineError::invalid_event("Records is empty"));
    }
    notification
        .records
        .into_iter()
        .enumerate()
        .map(|(i, record)| {
            let field = |name: &str| format!("Records[{i}].{name}");
            let missing =
                |name: &str| PipelineError::invalid_event(format!("{} is missing", field(name)));
            let version = record
                .event_version
                .as_deref()
                .ok_or_else(|| missing("eventVersion"))?;
            // 2.x are the same shape with fields added; another major is not.
            if !version.starts_with("2.") {
                return Err(PipelineError::invalid_event(format!(
                    "{} is {version:?}; only 2.x is understood",
                    field("eventVersion")
                )));
            }
            let source = record.event_source.as_deref().unwrap_or_default();
            if source != "aws:s3" {
                return Err(PipelineError::invalid_event(format!(
                    "{} is {source:?}, not \"aws:s3\"",
                    field("eventSource")
                )));
            }
            let event_name = record.event_name.ok_or_else(|| missing("eventName"))?;
            let bucket = record
                .s3
                .bucket
                .name
                .ok_or_else(|| missing("s3.bucket.name"))?;
            let raw_key = record
                .s3
                .object
                .key
                .ok_or_else(|| missing("s3.object.key"))?;
            let key = decode_notification_key(&raw_key).map_err(|problem| {
                PipelineError::invalid_event(format!("{}: {problem}", field("s3.object.key")))
            })?;
            Ok(NewObject {
                created: event_name.starts_with("ObjectCreated:"),
                event_name,
                bucket,
                key,
                size: record.s3.object.size,
                time: record.event_time,
            })
        })
        .collect()
}

fn from_eventbridge(event: EventBridgeEvent<S3ObjectCreated>) -> Result<NewObject, PipelineError> {
    if event.source != S3_SOURCE {
        return Err(PipelineError::invalid_event(format!(
            "source is {:?}, not {S3_SOURCE:?}",
            event.source
        )));
    }
    let time = event
        .time
        .ok_or_else(|| PipelineError::invalid_event("time is missing"))?;
    Ok(NewObject {
        created: event.detail_type == S3_OBJECT_CREATED,
        event_name: event.detail_type,
        bucket: event.detail.bucket.name,
        key: event.detail.object.key,
        size: event.detail.object.size,
        time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::test_support::sample;

    fn objects(name: &str) -> Vec<NewObject> {
        match objects_in(sample(name)).unwrap() {
            Delivery::Objects(objects) => objects,
            Delivery::TestEvent => panic!("{name} is a test event"),
        }
    }

    #[test]
    fn notification_keys_are_decoded() {
        let objects = objects("s3-notification-encoded-key.json");
        assert_eq!(objects.len(), 1);
        assert_eq!(objects[0].key, "data/train/Happy Face(1).csv");
        assert_eq!(objects[0].event_name, "ObjectCreated:Put");
        assert!(objects[0].created);
    }

    #[test]
    fn every_record_of_a_notification_is_read() {
        let objects = objects("s3-notification-many-records.json");
        assert!(objects.len() > 1);
        assert!(objects
            .iter()
            .all(|o| o.bucket == "mlops-data-123456789012-us-east-1"));
    }

    #[test]
    fn eventbridge_keys_are_taken_as_they_are() {
        let objects = objects("s3-object-created.json");
        assert_eq!(objects.len(), 1);
        assert!(objects[0].created);
        assert_eq!(objects[0].event_name, "Object Created");
        assert_eq!(objects[0].bucket, "mlops-data-123456789012-us-east-1");
    }

    #[test]
    fn the_configuration_test_event_is_recognised() {
        assert_eq!(
            objects_in(sample("s3-test-event.json")).unwrap(),
            Delivery::TestEvent
        );
    }

    #[test]
    fn malformed_events_name_the_problem() {
        let record = |patch: &dyn Fn(&mut Value)| {
            let mut event = sample("s3-notification-put.json");
            patch(&mut event["Records"][0]);
            objects_in(event).unwrap_err().to_string()
        };
        assert!(record(&|r| r["eventVersion"] = "3.0".into())
            .contains("Records[0].eventVersion is \"3.0\""));
        assert!(record(&|r| r["eventSource"] = "aws:sqs".into()).contains("Records[0].eventSource"));
        assert!(record(&|r| r["s3"]["object"]["key"] = "bad%zz".into())
            .contains("Records[0].s3.object.key"));
        assert!(record(&|r| {
            r.as_object_mut().unwrap().remove("eventTime");
        })
        .contains("eventTime"));
        let empty = objects_in(serde_json::json!({"Records": []})).unwrap_err();
        assert_eq!(empty.error_type(), "NonRetryable.InvalidEvent");
        assert!(empty.to_string().contains("Records is empty"));
        let neither = objects_in(serde_json::json!({"hello": "world"})).unwrap_err();
        assert!(neither.to_string().contains("expected an S3 notification"));
        let mut other_source = sample("s3-object-created.json");
        other_source["source"] = "aws.ec2".into();
        assert!(objects_in(other_source)
            .unwrap_err()
            .to_string()
            .contains("source is \"aws.ec2\""));
    }
}

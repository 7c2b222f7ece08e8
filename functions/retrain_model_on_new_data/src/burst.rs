//! Bursts of new data, trained on once they go quiet, without a database.
//!
//! Each batch of new objects of a data channel asks for a one-time schedule
//! due a quiet period after its newest object (by S3's event time), rounded up
//! to the minute (the scheduler's precision). The schedule's name is the
//! channel and that minute, so creating it is the lock: batches that want the
//! same minute find it there (`ConflictException`), batches with newer objects
//! add a later one. No schedule is ever updated: a scheduler has no
//! conditional write, and a read-modify-write of one shared schedule could be
//! overwritten by a stale batch.
//!
//! When a schedule falls due, [`decide`] settles the burst from the channel's
//! schedules as they are then: a later one means more data came, so this one
//! waits for it (unless the burst is already at its maximum delay); none later
//! means the burst is quiet and its job starts. The job starting deletes the
//! schedules it covers. A job started for a due time covers every object whose
//! event time is before that time: the job reads its data after it starts.

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::{Deserialize, Serialize};

/// What a schedule sends when due: the function's input, as a queue message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueMessage {
    pub retraining_due: Due,
}

/// A burst's schedule, as its input says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Due {
    /// The schedule's name (in the function's schedule group).
    pub schedule: String,
    /// The data channel: the S3 prefix, or the manifest, the job reads.
    pub data: String,
    /// When the schedule is due: every object it stands for is older.
    #[serde(with = "instant")]
    pub due: DateTime<Utc>,
    /// The oldest object of the batch that asked for this schedule.
    pub first_object: FirstObject,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstObject {
    pub bucket: String,
    pub key: String,
    #[serde(with = "instant")]
    pub time: DateTime<Utc>,
}

/// `2026-11-29T10:15:00Z`: to the second, as names, tags and schedules show it.
pub fn instant_text(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

mod instant {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::instant_text(*time))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.to_utc())
            .map_err(serde::de::Error::custom)
    }
}

/// When a batch whose newest object is `newest` wants its job: `quiet` later,
/// on the next whole minute, and at least a minute after `now`: a late batch
/// is due at once, never at a time already past when the schedule is created.
pub fn due_after(newest: DateTime<Utc>, quiet: Duration, now: DateTime<Utc>) -> DateTime<Utc> {
    ceil_minute((newest + quiet).max(now + Duration::minutes(1)))
}

fn ceil_minute(time: DateTime<Utc>) -> DateTime<Utc> {
    let minute = Duration::minutes(1);
    match time.duration_trunc(minute) {
        Ok(floor) if floor == time => floor,
        Ok(floor) => floor + minute,
        // Only out of range near chrono's limits.
        Err(_) => time,
    }
}

/// The channel's part of its schedules' names: 16 hex digits of its URI.
pub fn schedule_prefix(data: &str) -> String {
    let hash = shared::names::idempotency_token(&["retraining", data]);
    format!("{}-", &hash[..16])
}

/// `<channel hash>-20261129-1015`: the channel and the minute it is due.
pub fn schedule_name(data: &str, due: DateTime<Utc>) -> String {
    format!("{}{}", schedule_prefix(data), due.format("%Y%m%d-%H%M"))
}

/// The due minute a schedule name of the channel stands for.
pub fn due_in_name(name: &str, prefix: &str) -> Option<DateTime<Utc>> {
    let minute = name.strip_prefix(prefix)?;
    chrono::NaiveDateTime::parse_from_str(&format!("{minute}00"), "%Y%m%d-%H%M%S")
        .ok()
        .map(|t| t.and_utc())
}

/// What a schedule falling due does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fire {
    /// The burst is quiet (or at its maximum delay): start its job now.
    Start,
    /// Newer objects asked for a later schedule: it will start the job.
    Wait { until: DateTime<Utc> },
    /// The schedule is gone: a later one already started the burst's job.
    Handled,
}

/// One schedule of the channel, as listed when another falls due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    pub due: DateTime<Utc>,
}

/// The decision for the schedule `due` given the channel's schedules now
/// (`listed`), the time of the burst's first object and its maximum delay.
pub fn decide(
    due: &Due,
    listed: &[Listed],
    burst_start: DateTime<Utc>,
    max_delay: Duration,
) -> Fire {
    if !listed.iter().any(|l| l.name == due.schedule) {
        return Fire::Handled;
    }
    match listed.iter().map(|l| l.due).filter(|d| *d > due.due).max() {
        Some(until) if due.due < burst_start + max_delay => Fire::Wait { until },
        _ => Fire::Start,
    }
}

/// The oldest of the listed schedules: the one the burst began with.
pub fn earliest(listed: &[Listed]) -> Option<&Listed> {
    listed.iter().min_by_key(|l| (l.due, &l.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    const DATA: &str = "s3://mlops-data/data/train/";

    fn due(at_text: &str) -> Due {
        let time = at(at_text);
        Due {
            schedule: schedule_name(DATA, time),
            data: DATA.to_string(),
            due: time,
            first_object: FirstObject {
                bucket: "mlops-data".into(),
                key: "data/train/a.csv".into(),
                time: time - Duration::minutes(5),
            },
        }
    }

    fn listed(times: &[&str]) -> Vec<Listed> {
        times
            .iter()
            .map(|t| Listed {
                name: schedule_name(DATA, at(t)),
                due: at(t),
            })
            .collect()
    }

    #[test]
    fn due_is_the_quiet_period_after_the_newest_object_rounded_up_to_the_minute() {
        let quiet = Duration::minutes(5);
        let long_ago = at("2020-01-01T00:00:00Z");
        assert_eq!(
            due_after(at("2026-11-29T10:00:01Z"), quiet, long_ago),
            at("2026-11-29T10:06:00Z")
        );
        assert_eq!(
            due_after(at("2026-11-29T10:00:00Z"), quiet, long_ago),
            at("2026-11-29T10:05:00Z")
        );
        // A batch read late is due at once: a minute on, never in the past.
        assert_eq!(
            due_after(
                at("2026-11-29T10:00:00Z"),
                quiet,
                at("2026-11-29T11:30:10Z")
            ),
            at("2026-11-29T11:32:00Z")
        );
    }

    #[test]
    fn names_carry_the_channel_and_the_minute() {
        let name = schedule_name(DATA, at("2026-11-29T10:15:00Z"));
        let prefix = schedule_prefix(DATA);
        assert!(name.starts_with(&prefix));
        assert!(name.ends_with("-20261129-1015"), "{name}");
        assert!(name.len() <= 64);
        assert_eq!(
            due_in_name(&name, &prefix),
            Some(at("2026-11-29T10:15:00Z"))
        );
        assert_eq!(due_in_name(&name, &schedule_prefix("s3://other/")), None);
        assert_ne!(
            schedule_prefix(DATA),
            schedule_prefix("s3://mlops-data/data/")
        );
        assert_eq!(due_in_name(&format!("{prefix}garbage"), &prefix), None);
    }

    #[test]
    fn the_input_round_trips_as_json() {
        let message = DueMessage {
            retraining_due: due("2026-11-29T10:15:00Z"),
        };
        let text = serde_json::to_string(&message).unwrap();
        assert!(text.contains("\"due\":\"2026-11-29T10:15:00Z\""), "{text}");
        assert_eq!(serde_json::from_str::<DueMessage>(&text).unwrap(), message);
    }

    #[test]
    fn the_newest_schedule_starts_the_job() {
        let own = due("2026-11-29T10:15:00Z");
        let start = own.first_object.time;
        let hour = Duration::minutes(60);
        assert_eq!(
            decide(&own, &listed(&["2026-11-29T10:15:00Z"]), start, hour),
            Fire::Start
        );
        assert_eq!(
            decide(
                &own,
                &listed(&["2026-11-29T10:11:00Z", "2026-11-29T10:15:00Z"]),
                start,
                hour
            ),
            Fire::Start
        );
    }

    #[test]
    fn a_later_schedule_means_the_burst_goes_on() {
        let own = due("2026-11-29T10:15:00Z");
        let all = listed(&[
            "2026-11-29T10:15:00Z",
            "2026-11-29T10:17:00Z",
            "2026-11-29T10:16:00Z",
        ]);
        assert_eq!(
            decide(&own, &all, own.first_object.time, Duration::minutes(60)),
            Fire::Wait {
                until: at("2026-11-29T10:17:00Z")
            }
        );
    }

    #[test]
    fn at_the_maximum_delay_the_job_starts_even_while_data_keeps_coming() {
        let own = due("2026-11-29T11:00:00Z");
        let all = listed(&["2026-11-29T11:00:00Z", "2026-11-29T11:01:00Z"]);
        let burst_start = at("2026-11-29T10:00:00Z");
        assert_eq!(
            decide(&own, &all, burst_start, Duration::minutes(60)),
            Fire::Start
        );
        assert_eq!(
            decide(&own, &all, burst_start, Duration::minutes(61)),
            Fire::Wait {
                until: at("2026-11-29T11:01:00Z")
            }
        );
    }

    #[test]
    fn a_schedule_deleted_by_a_later_job_is_handled() {
        let own = due("2026-11-29T10:15:00Z");
        assert_eq!(
            decide(&own, &[], own.first_object.time, Duration::minutes(60)),
            Fire::Handled
        );
        assert_eq!(
            decide(
                &own,
                &listed(&["2026-11-29T10:30:00Z"]),
                own.first_object.time,
                Duration::minutes(60)
            ),
            Fire::Handled
        );
    }

    #[test]
    fn the_earliest_schedule_is_the_bursts_beginning() {
        let all = listed(&["2026-11-29T10:17:00Z", "2026-11-29T10:15:00Z"]);
        assert_eq!(earliest(&all).unwrap().due, at("2026-11-29T10:15:00Z"));
        assert_eq!(earliest(&[]), None);
    }
}

//! The bursts' one-time schedules in EventBridge Scheduler: created (never
//! updated), listed per data channel, read and deleted. See `burst` for why.

use aws_sdk_scheduler::error::SdkError;
use aws_sdk_scheduler::operation::create_schedule::CreateScheduleError;
use aws_sdk_scheduler::operation::delete_schedule::DeleteScheduleError;
use aws_sdk_scheduler::operation::get_schedule::GetScheduleError;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode,
    ScheduleState, Target,
};
use aws_sdk_scheduler::Client;
use shared::PipelineError;

use crate::burst::{due_in_name, Due, DueMessage, Listed};
use crate::config::ScheduleSettings;

/// What `CreateSchedule` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    Created,
    /// A batch asked for the same channel and minute first.
    Exists,
}

pub async fn create(
    scheduler: &Client,
    settings: &ScheduleSettings,
    due: &Due,
) -> Result<Created, PipelineError> {
    let input = serde_json::to_string(&DueMessage {
        retraining_due: due.clone(),
    })
    .map_err(|err| PipelineError::Defect(format!("the schedule's input: {err}")))?;
    let built = |what: &str, err: aws_sdk_scheduler::error::BuildError| {
        PipelineError::Defect(format!("CreateSchedule's {what}: {err}"))
    };
    // What the scheduler cannot deliver (after its retries, 24 hours) goes
    // to the dead-letter queue, whose alarm tells someone.
    let dead_letters = settings
        .dead_letter_arn
        .as_ref()
        .map(|arn| DeadLetterConfig::builder().arn(arn).build());
    let target = Target::builder()
        .arn(&settings.target_arn)
        .role_arn(&settings.role_arn)
        .input(input)
        .set_dead_letter_config(dead_letters)
        .build()
        .map_err(|err| built("target", err))?;
    let window = FlexibleTimeWindow::builder()
        .mode(FlexibleTimeWindowMode::Off)
        .build()
        .map_err(|err| built("flexible time window", err))?;
    let answer = scheduler
        .create_schedule()
        .group_name(&settings.group)
        .name(&due.schedule)
        .description(description(&due.data))
        .schedule_expression(format!("at({})", due.due.format("%Y-%m-%dT%H:%M:%S")))
        .schedule_expression_timezone("UTC")
        .flexible_time_window(window)
        .target(target)
        .state(ScheduleState::Enabled)
        // Kept after firing until the burst's job deletes it: the schedules
        // still there tell a later firing where the burst began.
        .action_after_completion(ActionAfterCompletion::None)
        .send()
        .await;
    match answer {
        Ok(_) => Ok(Created::Created),
        Err(SdkError::ServiceError(err))
            if matches!(err.err(), CreateScheduleError::ConflictException(_)) =>
        {
            Ok(Created::Exists)
        }
        Err(err) => Err(PipelineError::from_sdk("CreateSchedule", err)),
    }
}

/// "Retraining burst of <channel>", within the scheduler's 512 characters.
fn description(data: &str) -> String {
    let mut text = format!("Retraining burst of {data}");
    if let Some((cut, _)) = text.char_indices().nth(500) {
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// The channel's schedules (names starting with `prefix`), with the minute
/// each is due; names of another form are not ours and left out.
pub async fn list(
    scheduler: &Client,
    settings: &ScheduleSettings,
    prefix: &str,
) -> Result<Vec<Listed>, PipelineError> {
    let mut pages = scheduler
        .list_schedules()
        .group_name(&settings.group)
        .name_prefix(prefix)
        .into_paginator()
        .send();
    let mut listed = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|err| PipelineError::from_sdk("ListSchedules", err))?;
        listed.extend(page.schedules().iter().filter_map(|summary| {
            let name = summary.name()?;
            Some(Listed {
                name: name.to_string(),
                due: due_in_name(name, prefix)?,
            })
        }));
    }
    Ok(listed)
}

/// A schedule's input; `None` when it is gone or its input is not ours.
pub async fn get(
    scheduler: &Client,
    settings: &ScheduleSettings,
    name: &str,
) -> Result<Option<Due>, PipelineError> {
    let answer = scheduler
        .get_schedule()
        .group_name(&settings.group)
        .name(name)
        .send()
        .await;
    match answer {
        Ok(schedule) => Ok(schedule
            .target()
            .and_then(|target| target.input())
            .and_then(|input| serde_json::from_str::<DueMessage>(input).ok())
            .map(|message| message.retraining_due)),
        Err(SdkError::ServiceError(err))
            if matches!(err.err(), GetScheduleError::ResourceNotFoundException(_)) =>
        {
            Ok(None)
        }
        Err(err) => Err(PipelineError::from_sdk("GetSchedule", err)),
    }
}

/// Deletes a schedule; one already gone is fine.
pub async fn delete(
    scheduler: &Client,
    settings: &ScheduleSettings,
    name: &str,
) -> Result<(), PipelineError> {
    let answer = scheduler
        .delete_schedule()
        .group_name(&settings.group)
        .name(name)
        .send()
        .await;
    match answer {
        Ok(_) => Ok(()),
        Err(SdkError::ServiceError(err))
            if matches!(err.err(), DeleteScheduleError::ResourceNotFoundException(_)) =>
        {
            Ok(())
        }
        Err(err) => Err(PipelineError::from_sdk("DeleteSchedule", err)),
    }
}

//! retrain_model_on_new_data: new data under the configured S3 prefix starts
//! one training job per burst, once the burst goes quiet, on the image in
//! production.

mod burst;
mod config;
mod handler;
mod image;
mod messages;
mod objects;
mod schedules;

pub use burst::{schedule_name, schedule_prefix, Due, DueMessage, FirstObject};
pub use config::{DataChannel, RetrainConfig, ScheduleSettings};
pub use handler::{
    handle, retrain, Action, Clients, JobOutcome, RecordOutcome, RetrainOutcome, ScheduleOutcome,
};
pub use messages::{invocation, Content, Invocation, Message};
pub use objects::NewObject;

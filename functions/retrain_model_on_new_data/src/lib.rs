//! retrain_model_on_new_data: new data under the configured S3 prefix starts
//! one training job per burst, once the burst goes quiet, on the image in
//! production; with preprocessing, a processing job first, and the training
//! job on its outputs when it completes.

mod burst;
mod config;
mod handler;
mod image;
mod messages;
mod objects;
mod preprocessing;
mod schedules;

pub use config::{DataChannel, RetrainConfig, ScheduleSettings};
pub use handler::{
    handle, Action, Clients, JobOutcome, RecordOutcome, RetrainOutcome, ScheduleOutcome,
};
pub use preprocessing::ProcessedOutcome;

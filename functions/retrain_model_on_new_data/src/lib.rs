//! retrain_model_on_new_data: new data under the configured S3 prefix starts
//! one training job per debounce window, on the image in production.

mod config;
mod handler;
mod image;
mod objects;
mod window;

pub use config::{DataChannel, RetrainConfig};
pub use handler::{handle, retrain, Action, JobOutcome, RecordOutcome, RetrainOutcome};
pub use objects::{objects_in, Delivery, NewObject};
pub use window::Window;

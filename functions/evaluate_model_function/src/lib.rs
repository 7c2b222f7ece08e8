//! evaluate_model_function: a finished training job of this pipeline is
//! checked against metric thresholds, and the verdict is published as one
//! "Model Evaluation Completed" event.

mod config;
mod handler;
mod report;

pub use config::{EvaluateConfig, ReportLocation};
pub use handler::{evaluate, handle, Clients, EvaluateOutcome};

//! deploy_sagemaker_model: an approved model package version goes live on a
//! real-time endpoint: created when there is none, otherwise updated with a
//! blue/green deployment that rolls back on CloudWatch alarms. A rejected
//! version that is live is replaced by the newest other approved version.
//! When the endpoint comes into service, its variant is registered for
//! autoscaling (when configured).

mod config;
mod handler;
mod requests;

pub use config::{Autoscaling, Capacity, DataCapture, DeployConfig, TrafficRouting};
pub use handler::{deploy, handle, scale, Clients, DeployOutcome};
pub use requests::{endpoint_config_name, model_name};

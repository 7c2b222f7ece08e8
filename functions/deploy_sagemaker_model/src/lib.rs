//! deploy_sagemaker_model: an approved model package version goes live on a
//! real-time endpoint: created when there is none, otherwise updated with a
//! blue/green deployment that rolls back on CloudWatch alarms. A rejected
//! version that is live is replaced by the newest other approved version.
//! When the endpoint comes into service, its variant is registered for
//! autoscaling (when configured). The requests themselves are built in
//! `shared::sagemaker::endpoint` and `shared::autoscaling`.

mod config;
mod handler;

pub use config::DeployConfig;
pub use handler::{deploy, handle, scale, Clients, DeployEvent, DeployOutcome};

//! deploy_sagemaker_model: the endpoints converge on the newest approved
//! model package version whose deployment has not failed. Each event (a
//! version approved or rejected, an endpoint's state change, the scheduled
//! check) takes one step: the version goes to the staging endpoint and
//! through its smoke test when staging is on, then to production (created,
//! or a blue/green update that rolls back on CloudWatch alarms); a busy
//! endpoint waits for its next state change; a failed deployment is marked
//! on the version and the endpoint and alerted, never tried again.
//! Production coming into service registers autoscaling (when configured).
//! The requests themselves are built in `shared::sagemaker::endpoint` and
//! `shared::autoscaling`.

mod config;
mod converge;
mod endpoints;
mod handler;
mod marks;
mod smoke;

pub use config::{DeployConfig, SmokeTest, Staging};
pub use handler::{deploy, handle, scale, Clients, DeployEvent, DeployOutcome};
pub use marks::{DeploymentFailed, Stage};
pub use smoke::Report;

//! serve_predictions: the pipeline's HTTPS inference API. Behind an API
//! Gateway HTTP API (or a function URL), `POST /predictions` sends the body to
//! InvokeEndpoint on the pipeline's endpoint and returns the model's answer;
//! `GET /model` says which model package version is live. Errors are HTTP
//! statuses with a safe message (`answers`).

mod answers;
mod config;
mod handler;

pub use answers::Problem;
pub use config::ServeConfig;
pub use handler::{handle, headers, Clients, ModelInfo, Service, MODEL, PREDICTIONS};

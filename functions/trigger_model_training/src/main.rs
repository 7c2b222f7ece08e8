use lambda_runtime::{run, service_fn, Error};
use shared::metrics::{Emf, Stage};
use trigger_model_training::{handle, TriggerConfig};

// One event at a time per Lambda sandbox: a single-threaded runtime is all
// the handler needs and starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    // A bad configuration fails the cold start, not every invocation: it is
    // reported to Lambda as the init error (its errorType), then main returns it.
    let config = shared::runtime::init(TriggerConfig::from_env()).await?;
    let sagemaker = aws_sdk_sagemaker::Client::new(&shared::aws::sdk_config().await);
    let metrics = Emf::new(&config.pipeline, Stage::Trigger);
    run(service_fn(|event| async {
        metrics.observe(handle(&sagemaker, &config, event).await)
    }))
    .await
}

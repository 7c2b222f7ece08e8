use lambda_runtime::{run, service_fn, Error};
use register_model_in_registry::{handle, RegisterConfig};
use shared::metrics::{Emf, Stage};

// One event at a time per Lambda sandbox: a single-threaded runtime is all
// the handler needs and starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    // A bad configuration fails the cold start, not every invocation: it is
    // reported to Lambda as the init error (its errorType), then main returns it.
    let config = shared::runtime::init(RegisterConfig::from_env()).await?;
    let sagemaker = aws_sdk_sagemaker::Client::new(&shared::aws::sdk_config().await);
    let metrics = Emf::new(&config.pipeline, Stage::Register);
    run(service_fn(|event| async {
        metrics.observe(handle(&sagemaker, &config, event).await)
    }))
    .await
}

use deploy_sagemaker_model::{handle, DeployConfig};
use lambda_runtime::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    // A bad configuration fails the cold start, not every invocation.
    let config = DeployConfig::from_env().inspect_err(|err| tracing::error!(%err))?;
    let sagemaker = aws_sdk_sagemaker::Client::new(&shared::aws::sdk_config().await);
    run(service_fn(|event| handle(&sagemaker, &config, event))).await
}

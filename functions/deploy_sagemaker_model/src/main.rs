use deploy_sagemaker_model::{handle, Clients, DeployConfig};
use lambda_runtime::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    // A bad configuration fails the cold start, not every invocation.
    let config = DeployConfig::from_env().inspect_err(|err| tracing::error!(%err))?;
    let clients = Clients::new(&shared::aws::sdk_config().await);
    run(service_fn(|event| handle(&clients, &config, event))).await
}

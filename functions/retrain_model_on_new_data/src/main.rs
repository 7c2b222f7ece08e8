use lambda_runtime::{run, service_fn, Error};
use retrain_model_on_new_data::{handle, Clients, RetrainConfig};
use shared::metrics::{Emf, Stage};

// One event at a time per Lambda sandbox: a single-threaded runtime is all
// the handler needs and starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    // A bad configuration fails the cold start, not every invocation: it is
    // reported to Lambda as the init error (its errorType), then main returns it.
    let config = shared::runtime::init(RetrainConfig::from_env()).await?;
    let sdk_config = shared::aws::sdk_config().await;
    let clients = Clients {
        sagemaker: aws_sdk_sagemaker::Client::new(&sdk_config),
        scheduler: aws_sdk_scheduler::Client::new(&sdk_config),
    };
    let metrics = Emf::new(&config.pipeline, Stage::Retrain);
    run(service_fn(|event| async {
        metrics.observe(handle(&clients, &config, event).await)
    }))
    .await
}

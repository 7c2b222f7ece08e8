use lambda_http::{run, service_fn, Error};
use serve_predictions::{handle, Clients, ServeConfig, Service};

// One request at a time per Lambda sandbox: a single-threaded runtime is all
// the handler needs and starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    // A bad configuration fails the cold start, not every invocation: it is
    // reported to Lambda as the init error (its errorType), then main returns it.
    let config = shared::runtime::init(ServeConfig::from_env()).await?;
    let clients = Clients::new(&shared::aws::sdk_config().await, &config);
    let service = Service::new(clients, config);
    run(service_fn(|request| handle(&service, request))).await
}

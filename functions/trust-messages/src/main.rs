//! Start-up only: read the configuration, build the SDK clients and adapters once, run the handler.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use trust_messages::config::Config;
use trust_messages::{handle, Deps};

#[tokio::main]
async fn main() -> Result<(), Error> {
    dit_shared::logging::init_lambda();
    let ports = Config::from_env(&|name| std::env::var(name).ok())?
        .connect()
        .await?;
    let deps = Deps {
        store: Box::new(ports.store),
        blobs: Box::new(ports.blobs),
        organisations: ports.organisations,
    };
    run(service_fn(|event: LambdaEvent<_>| handle(&deps, event))).await
}

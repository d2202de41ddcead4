//! Start-up only: read the configuration, build the SDK clients and adapters once, run the handler.

use dit_aws::config::LambdaConfig;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use scheduled_jobs::handle;

#[tokio::main]
async fn main() -> Result<(), Error> {
    dit_aws::logging::init_lambda();
    let ports = LambdaConfig::from_env(&|name| std::env::var(name).ok())?
        .connect()
        .await?;
    run(service_fn(|event: LambdaEvent<_>| handle(&ports, event))).await
}

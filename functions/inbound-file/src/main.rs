//! Start-up only: read the configuration, build the SDK clients and adapters once, run the handler.

use dit_aws::metrics::EmfMetrics;
use dit_core::service::context::Settings;
use inbound_file::config::Config;
use inbound_file::{handle, Deps};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    dit_aws::logging::init_lambda();
    let config = Config::from_env(|name| std::env::var(name).ok())?;
    let mut ports = config.common.connect().await?;
    ports.settings = Settings {
        max_file_bytes: config.max_file_bytes,
        ..ports.settings
    };
    let deps = Deps {
        ports,
        inbound_bucket: config.common.inbound_bucket,
        inbound_prefix: config.common.inbound_prefix,
        metrics: Box::new(EmfMetrics::stdout(&config.metrics_namespace)),
    };
    run(service_fn(|event: LambdaEvent<_>| handle(&deps, event))).await
}

//! Start-up only: read the configuration, build the SDK clients and adapters once, run the handler.

use dit_shared::adapters::dynamo::DynamoStore;
use dit_shared::adapters::s3::{S3Blobs, S3Layout};
use dit_shared::adapters::{aws_config, dynamo_client, s3_client};
use dit_shared::service::inbound::Settings;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use scheduled_jobs::config::Config;
use scheduled_jobs::{handle, Deps};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(true)
        .without_time()
        .init();

    let config = Config::from_env(|name| std::env::var(name).ok())?;
    let sdk = aws_config().await;
    let s3 = s3_client(&sdk);
    let organisations = config.organisations.load(&s3).await?;
    tracing::info!(organisations = organisations.len(), "configuration loaded");
    let deps = Deps {
        store: Box::new(DynamoStore::new(dynamo_client(&sdk), config.table_name)),
        blobs: Box::new(S3Blobs::new(
            s3,
            S3Layout {
                inbound_bucket: config.inbound_bucket,
                inbound_prefix: config.inbound_prefix,
                quarantine_prefix: config.quarantine_prefix,
                outbound_bucket: config.outbound_bucket,
            },
        )),
        organisations,
        settings: Settings::default(),
    };
    run(service_fn(|event: LambdaEvent<_>| handle(&deps, event))).await
}

//! The AWS side of the Doctors in Training interface: DynamoDB and S3 adapters for the core's
//! ports, the SQS batch loop with partial failures, S3 notifications, and Lambda start-up
//! (settings, clients, logging). Only this crate and the functions see AWS types.

pub mod config;
pub mod dynamo;
pub mod logging;
pub mod metrics;
pub mod s3;
pub mod s3_notification;
pub mod secrets;
pub mod ses;
pub mod sqs;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};

/// The AWS configuration from the standard chain (environment, profile, container or instance
/// role). An endpoint override comes from the standard `AWS_ENDPOINT_URL` variables.
pub async fn aws_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .load()
        .await
}

/// The SDK's HTTPS client: rustls with ring's cryptography and the system's root certificates.
pub fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// An S3 client; path-style addressing when `AWS_S3_FORCE_PATH_STYLE=true` or when an endpoint
/// override is set (S3 emulators need it).
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let env_set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    let force_path_style = std::env::var("AWS_S3_FORCE_PATH_STYLE")
        .is_ok_and(|v| v.trim().eq_ignore_ascii_case("true"))
        || env_set("AWS_ENDPOINT_URL")
        || env_set("AWS_ENDPOINT_URL_S3");
    let s3_config = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(force_path_style)
        .build();
    aws_sdk_s3::Client::from_conf(s3_config)
}

/// An SES (v2) client.
pub fn ses_client(config: &SdkConfig) -> aws_sdk_sesv2::Client {
    aws_sdk_sesv2::Client::new(config)
}

/// A DynamoDB client.
pub fn dynamo_client(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

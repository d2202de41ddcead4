//! Secrets Manager: a secret's value read once, at a cold start (the portal's CSRF key).

use aws_config::SdkConfig;
use dit_core::config::ConfigError;

/// A Secrets Manager client.
pub fn secrets_client(config: &SdkConfig) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(config)
}

/// The string value of the secret `arn` (one `GetSecretValue`). The error names the variable the
/// ARN came from and the service's error, never the value.
///
/// # Errors
/// The secret cannot be read, or has no string value.
pub async fn read_secret(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
    variable: &str,
) -> Result<String, ConfigError> {
    let answer = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| {
            ConfigError(format!(
                "{variable}: cannot read the secret {arn}: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
            ))
        })?;
    answer
        .secret_string()
        .map(str::to_string)
        .ok_or_else(|| ConfigError(format!("{variable}: the secret {arn} has no string value")))
}

//! Start-up configuration shared by the Lambda functions: reading settings from the environment
//! (through a lookup function, so tests pass a map) and loading the organisation configuration.
//! A mistake fails the cold start, not a message.

use crate::adapters::dynamo::DynamoStore;
use crate::adapters::s3::{S3Blobs, S3Layout};
use crate::adapters::{aws_config, dynamo_client, s3_client};
use crate::domain::org::Organisations;

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// Where the organisation configuration comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrganisationsSource {
    /// TOML text in ORGANISATIONS_TOML.
    Inline(String),
    /// An object named by ORGANISATIONS_S3_URI (`s3://bucket/key`).
    S3 { bucket: String, key: String },
}

/// A setting that must be present and not blank.
///
/// # Errors
/// Names the missing setting.
pub fn required(var: &impl Fn(&str) -> Option<String>, name: &str) -> Result<String, ConfigError> {
    var(name)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ConfigError(format!("{name} is not set")))
}

/// A setting with a default for absent or empty values.
pub fn optional(var: &impl Fn(&str) -> Option<String>, name: &str, default: &str) -> String {
    var(name)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

impl OrganisationsSource {
    /// ORGANISATIONS_TOML (inline text) wins over ORGANISATIONS_S3_URI; one of them is required.
    ///
    /// # Errors
    /// Neither set, or a URI that is not `s3://bucket/key`.
    pub fn from_env(
        var: &impl Fn(&str) -> Option<String>,
    ) -> Result<OrganisationsSource, ConfigError> {
        match (
            var("ORGANISATIONS_TOML").filter(|v| !v.trim().is_empty()),
            var("ORGANISATIONS_S3_URI").filter(|v| !v.trim().is_empty()),
        ) {
            (Some(text), _) => Ok(OrganisationsSource::Inline(text)),
            (None, Some(uri)) => {
                let rest = uri.strip_prefix("s3://").ok_or_else(|| {
                    ConfigError(format!(
                        "ORGANISATIONS_S3_URI {uri:?} does not start with s3://"
                    ))
                })?;
                let (bucket, key) = rest
                    .split_once('/')
                    .filter(|(b, k)| !b.is_empty() && !k.is_empty())
                    .ok_or_else(|| {
                        ConfigError(format!(
                            "ORGANISATIONS_S3_URI {uri:?} is not s3://bucket/key"
                        ))
                    })?;
                Ok(OrganisationsSource::S3 {
                    bucket: bucket.to_string(),
                    key: key.to_string(),
                })
            }
            (None, None) => Err(ConfigError(
                "set ORGANISATIONS_TOML (the TOML text) or ORGANISATIONS_S3_URI (s3://bucket/key)"
                    .into(),
            )),
        }
    }

    /// Reads and parses the configuration (fetching it from S3 when it lives there).
    ///
    /// # Errors
    /// The object cannot be read, or the configuration is invalid.
    pub async fn load(&self, s3: &aws_sdk_s3::Client) -> Result<Organisations, ConfigError> {
        match self {
            OrganisationsSource::Inline(text) => organisations(text, "ORGANISATIONS_TOML"),
            OrganisationsSource::S3 { bucket, key } => {
                let uri = format!("s3://{bucket}/{key}");
                let object = s3
                    .get_object()
                    .bucket(bucket)
                    .key(key)
                    .send()
                    .await
                    .map_err(|e| {
                        ConfigError(format!(
                            "cannot read {uri}: {}",
                            aws_sdk_s3::error::DisplayErrorContext(&e)
                        ))
                    })?;
                let bytes = object
                    .body
                    .collect()
                    .await
                    .map_err(|e| ConfigError(format!("cannot read {uri}: {e}")))?
                    .into_bytes();
                let text = String::from_utf8(bytes.to_vec())
                    .map_err(|_| ConfigError(format!("{uri} is not UTF-8 text")))?;
                organisations(&text, &uri)
            }
        }
    }
}

/// Parses the organisation configuration text, naming its source in errors.
///
/// # Errors
/// The configuration's own error.
pub fn organisations(text: &str, source: &str) -> Result<Organisations, ConfigError> {
    Organisations::from_toml(text, source).map_err(|e| ConfigError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn inline_toml_wins_over_the_s3_uri() {
        let var = env(&[
            ("ORGANISATIONS_TOML", "[[organisation]]"),
            ("ORGANISATIONS_S3_URI", "s3://cfg/o.toml"),
        ]);
        assert_eq!(
            OrganisationsSource::from_env(&var).unwrap(),
            OrganisationsSource::Inline("[[organisation]]".into())
        );
        let var = env(&[("ORGANISATIONS_S3_URI", "s3://cfg/config/o.toml")]);
        assert_eq!(
            OrganisationsSource::from_env(&var).unwrap(),
            OrganisationsSource::S3 {
                bucket: "cfg".into(),
                key: "config/o.toml".into()
            }
        );
    }

    #[test]
    fn mistakes_are_named() {
        let none = env(&[]);
        assert!(OrganisationsSource::from_env(&none)
            .unwrap_err()
            .to_string()
            .contains("ORGANISATIONS_TOML"));
        for uri in ["cfg/o.toml", "s3://cfg", "s3:///o.toml"] {
            let var = env(&[("ORGANISATIONS_S3_URI", uri)]);
            assert!(OrganisationsSource::from_env(&var)
                .unwrap_err()
                .to_string()
                .contains("s3://"));
        }
        assert!(required(&none, "TABLE_NAME")
            .unwrap_err()
            .to_string()
            .contains("TABLE_NAME"));
        assert_eq!(optional(&none, "X", "d"), "d");
        assert!(organisations("nonsense =", "here")
            .unwrap_err()
            .to_string()
            .contains("here"));
    }
}

/// The settings every function reads: the table, the S3 layout and the organisation configuration.
#[derive(Debug, Clone)]
pub struct LambdaConfig {
    pub table_name: String,
    pub inbound_bucket: String,
    /// Drops arrive under this prefix (`INBOUND_PREFIX`, default `incoming/`).
    pub inbound_prefix: String,
    pub quarantine_prefix: String,
    pub outbound_bucket: String,
    pub organisations: OrganisationsSource,
}

impl LambdaConfig {
    /// Reads the settings through `var` (the process environment in `main`).
    ///
    /// # Errors
    /// A missing or malformed setting, named.
    pub fn from_env(var: &impl Fn(&str) -> Option<String>) -> Result<LambdaConfig, ConfigError> {
        let organisations = OrganisationsSource::from_env(var)?;
        Ok(LambdaConfig {
            table_name: required(var, "TABLE_NAME")?,
            inbound_bucket: required(var, "INBOUND_BUCKET")?,
            inbound_prefix: optional(var, "INBOUND_PREFIX", "incoming/"),
            quarantine_prefix: optional(var, "QUARANTINE_PREFIX", "quarantine/"),
            outbound_bucket: required(var, "OUTBOUND_BUCKET")?,
            organisations,
        })
    }

    /// Builds, once per cold start, the AWS adapters and loads the organisation configuration.
    ///
    /// # Errors
    /// The organisation configuration cannot be read or is invalid.
    pub async fn connect(&self) -> Result<AwsPorts, ConfigError> {
        let sdk = aws_config().await;
        let s3 = s3_client(&sdk);
        let organisations = self.organisations.load(&s3).await?;
        tracing::info!(organisations = organisations.len(), "configuration loaded");
        Ok(AwsPorts {
            store: DynamoStore::new(dynamo_client(&sdk), self.table_name.clone()),
            blobs: S3Blobs::new(
                s3,
                S3Layout {
                    inbound_bucket: self.inbound_bucket.clone(),
                    inbound_prefix: self.inbound_prefix.clone(),
                    quarantine_prefix: self.quarantine_prefix.clone(),
                    outbound_bucket: self.outbound_bucket.clone(),
                },
            ),
            organisations,
        })
    }
}

/// What a Lambda function works with in AWS.
pub struct AwsPorts {
    pub store: DynamoStore,
    pub blobs: S3Blobs,
    pub organisations: Organisations,
}

#[cfg(test)]
mod lambda_config_tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn the_settings_are_read_with_their_defaults() {
        let config = LambdaConfig::from_env(&env(&[
            ("TABLE_NAME", "t"),
            ("INBOUND_BUCKET", "in"),
            ("OUTBOUND_BUCKET", "out"),
            ("ORGANISATIONS_S3_URI", "s3://out/config/organisations.toml"),
        ]))
        .unwrap();
        assert_eq!(config.table_name, "t");
        assert_eq!(config.inbound_prefix, "incoming/");
        assert_eq!(config.quarantine_prefix, "quarantine/");
        assert_eq!(
            config.organisations,
            OrganisationsSource::S3 {
                bucket: "out".into(),
                key: "config/organisations.toml".into()
            }
        );
    }

    #[test]
    fn missing_settings_are_named() {
        let err = LambdaConfig::from_env(&env(&[("ORGANISATIONS_TOML", "x")])).unwrap_err();
        assert!(err.to_string().contains("TABLE_NAME"), "{err}");
        let err = LambdaConfig::from_env(&env(&[
            ("TABLE_NAME", "t"),
            ("INBOUND_BUCKET", "in"),
            ("OUTBOUND_BUCKET", "out"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("ORGANISATIONS_TOML"), "{err}");
        let err = LambdaConfig::from_env(&env(&[
            ("TABLE_NAME", "t"),
            ("INBOUND_BUCKET", "in"),
            ("ORGANISATIONS_TOML", "x"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("OUTBOUND_BUCKET"), "{err}");
        let err = LambdaConfig::from_env(&env(&[("TABLE_NAME", "t"), ("ORGANISATIONS_TOML", "x")]))
            .unwrap_err();
        assert!(err.to_string().contains("INBOUND_BUCKET"), "{err}");
    }
}

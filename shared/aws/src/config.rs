//! Start-up of a Lambda function: the settings every function reads, the AWS clients and adapters
//! built once per cold start, and the organisation configuration (inline or from S3).

use dit_core::config::{optional, organisations, required, ConfigError, OrganisationsSource};
use dit_core::ports::{Mailer, NoMailer};
use dit_core::service::context::{Ports, Settings, DEFAULT_PORTAL_URL};
use dit_domain::mail::FromAddress;
use dit_domain::org::Organisations;

use crate::dynamo::DynamoStore;
use crate::s3::{S3Blobs, S3Layout};
use crate::ses::SesMailer;
use crate::{aws_config, dynamo_client, s3_client, ses_client};

/// Reads and parses the configuration (fetching it from S3 when it lives there).
///
/// # Errors
/// The object cannot be read, or the configuration is invalid.
pub async fn load_organisations(
    source: &OrganisationsSource,
    s3: &aws_sdk_s3::Client,
) -> Result<Organisations, ConfigError> {
    match source {
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
    /// `PORTAL_URL`: the portal's address, for links in notifications (and e-mails).
    pub portal_url: String,
    /// E-mail alerts by SES from this verified identity (`ALERT_FROM`); off when unset.
    pub alert_from: Option<FromAddress>,
    /// The role's `s3:ListBucket` is limited by prefix (the portal's), so a `403` on a single
    /// object read means "not there" ([`S3Blobs::forbidden_as_missing`]). `false` from the
    /// environment; the portal sets it.
    pub forbidden_is_missing: bool,
}

/// `ALERT_FROM`, which needs `PORTAL_URL` set (an alert's whole point is its portal link).
fn alert_from(var: &impl Fn(&str) -> Option<String>) -> Result<Option<FromAddress>, ConfigError> {
    let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    let Some(from) = set("ALERT_FROM") else {
        return Ok(None);
    };
    let from = FromAddress::parse(&from).map_err(|e| ConfigError(format!("ALERT_FROM: {e}")))?;
    match set("PORTAL_URL") {
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => Ok(Some(from)),
        Some(url) => Err(ConfigError(format!(
            "PORTAL_URL {url:?} does not start with https://"
        ))),
        None => Err(ConfigError(
            "PORTAL_URL is not set: e-mail alerts (ALERT_FROM) link to the portal".into(),
        )),
    }
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
            portal_url: optional(var, "PORTAL_URL", DEFAULT_PORTAL_URL),
            alert_from: alert_from(var)?,
            forbidden_is_missing: false,
        })
    }

    /// Builds, once per cold start, the AWS adapters and loads the organisation configuration.
    ///
    /// # Errors
    /// The organisation configuration cannot be read or is invalid.
    pub async fn connect(&self) -> Result<Ports, ConfigError> {
        let sdk = aws_config().await;
        let s3 = s3_client(&sdk);
        let organisations = load_organisations(&self.organisations, &s3).await?;
        tracing::info!(
            organisations = organisations.len(),
            alerts = self.alert_from.is_some(),
            "configuration loaded"
        );
        let store = DynamoStore::new(dynamo_client(&sdk), self.table_name.clone());
        let mailer: Box<dyn Mailer> = match &self.alert_from {
            Some(from) => Box::new(SesMailer::new(
                ses_client(&sdk),
                store.clone(),
                from.clone(),
            )),
            None => Box::new(NoMailer),
        };
        let blobs = S3Blobs::new(
            s3,
            S3Layout {
                inbound_bucket: self.inbound_bucket.clone(),
                inbound_prefix: self.inbound_prefix.clone(),
                quarantine_prefix: self.quarantine_prefix.clone(),
                outbound_bucket: self.outbound_bucket.clone(),
            },
        );
        let blobs = if self.forbidden_is_missing {
            blobs.forbidden_as_missing()
        } else {
            blobs
        };
        Ok(Ports {
            store: Box::new(store),
            blobs: Box::new(blobs),
            mailer,
            organisations,
            settings: Settings::with_portal_url(&self.portal_url),
        })
    }
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
    fn alerts_need_a_sender_and_the_portal_address() {
        let base = [
            ("TABLE_NAME", "t"),
            ("INBOUND_BUCKET", "in"),
            ("OUTBOUND_BUCKET", "out"),
            ("ORGANISATIONS_TOML", "x"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut pairs = base.to_vec();
            pairs.extend_from_slice(extra);
            LambdaConfig::from_env(&env(&pairs))
        };
        assert!(with(&[]).unwrap().alert_from.is_none());
        let on = with(&[
            ("ALERT_FROM", "Doctors in Training <dit@example.nhs.uk>"),
            ("PORTAL_URL", "https://portal.example.nhs.uk/"),
        ])
        .unwrap();
        assert_eq!(on.alert_from.unwrap().address(), "dit@example.nhs.uk");
        let err = with(&[("ALERT_FROM", "dit@example.nhs.uk")]).unwrap_err();
        assert!(err.to_string().contains("PORTAL_URL"), "{err}");
        let err = with(&[("ALERT_FROM", "dit"), ("PORTAL_URL", "https://p")]).unwrap_err();
        assert!(err.to_string().contains("ALERT_FROM"), "{err}");
        let err = with(&[
            ("ALERT_FROM", "dit@example.nhs.uk"),
            ("PORTAL_URL", "portal.example.nhs.uk"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("PORTAL_URL"), "{err}");
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

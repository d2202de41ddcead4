//! Start-up configuration, read once from the environment; a mistake fails the cold start, not a message.

use dit_aws::config::LambdaConfig;
use dit_core::config::ConfigError;
use dit_core::service::context::DEFAULT_MAX_FILE_BYTES;

/// The settings every function reads, and this function's size limit.
#[derive(Debug, Clone)]
pub struct Config {
    pub common: LambdaConfig,
    pub max_file_bytes: u64,
    /// The CloudWatch namespace of its metrics (`METRICS_NAMESPACE`; the template's alarm watches
    /// the same one).
    pub metrics_namespace: String,
}

impl Config {
    /// Reads the configuration through `var` (the process environment in `main`).
    ///
    /// # Errors
    /// A missing or malformed setting, named.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let max_file_bytes = match var("MAX_FILE_BYTES").filter(|v| !v.is_empty()) {
            None => DEFAULT_MAX_FILE_BYTES,
            Some(text) => text.parse().map_err(|_| {
                ConfigError(format!("MAX_FILE_BYTES {text:?} is not a number of bytes"))
            })?,
        };
        let metrics_namespace = var("METRICS_NAMESPACE")
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| dit_aws::metrics::NAMESPACE.to_string());
        Ok(Config {
            common: LambdaConfig::from_env(&var)?,
            max_file_bytes,
            metrics_namespace,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dit_core::config::OrganisationsSource;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const BASE: [(&str, &str); 3] = [
        ("TABLE_NAME", "t"),
        ("INBOUND_BUCKET", "in"),
        ("OUTBOUND_BUCKET", "out"),
    ];

    #[test]
    fn defaults_fill_the_optional_settings() {
        let mut pairs = BASE.to_vec();
        pairs.push(("ORGANISATIONS_S3_URI", "s3://cfg/config/organisations.toml"));
        let config = Config::from_env(env(&pairs)).unwrap();
        assert_eq!(config.common.inbound_prefix, "incoming/");
        assert_eq!(config.common.quarantine_prefix, "quarantine/");
        assert_eq!(config.max_file_bytes, DEFAULT_MAX_FILE_BYTES);
        assert_eq!(config.metrics_namespace, "DoctorsInTraining");
        pairs.push(("METRICS_NAMESPACE", "DoctorsInTraining/dit-test"));
        let config = Config::from_env(env(&pairs)).unwrap();
        assert_eq!(config.metrics_namespace, "DoctorsInTraining/dit-test");
        assert_eq!(
            config.common.organisations,
            OrganisationsSource::S3 {
                bucket: "cfg".into(),
                key: "config/organisations.toml".into()
            }
        );
    }

    #[test]
    fn missing_and_malformed_settings_are_named() {
        let err = Config::from_env(env(&[("ORGANISATIONS_TOML", "x")])).unwrap_err();
        assert!(err.to_string().contains("TABLE_NAME"), "{err}");
        let mut pairs = BASE.to_vec();
        let err = Config::from_env(env(&pairs)).unwrap_err();
        assert!(err.to_string().contains("ORGANISATIONS_TOML"), "{err}");
        pairs.push(("ORGANISATIONS_S3_URI", "cfg/organisations.toml"));
        assert!(Config::from_env(env(&pairs))
            .unwrap_err()
            .to_string()
            .contains("s3://"));
        let mut pairs = BASE.to_vec();
        pairs.push(("ORGANISATIONS_TOML", "[[organisation]]"));
        pairs.push(("MAX_FILE_BYTES", "lots"));
        assert!(Config::from_env(env(&pairs))
            .unwrap_err()
            .to_string()
            .contains("MAX_FILE_BYTES"));
    }
}

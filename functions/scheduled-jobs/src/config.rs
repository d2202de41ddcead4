//! Start-up configuration, read once from the environment; a mistake fails the cold start, not a run.

use dit_shared::config::{optional, required};
pub use dit_shared::config::{ConfigError, OrganisationsSource};

#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    pub inbound_bucket: String,
    pub inbound_prefix: String,
    pub quarantine_prefix: String,
    pub outbound_bucket: String,
    pub organisations: OrganisationsSource,
}

impl Config {
    /// Reads the configuration through `var` (the process environment in `main`).
    ///
    /// # Errors
    /// A missing or malformed setting, named.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let organisations = OrganisationsSource::from_env(&var)?;
        Ok(Config {
            table_name: required(&var, "TABLE_NAME")?,
            inbound_bucket: required(&var, "INBOUND_BUCKET")?,
            inbound_prefix: optional(&var, "INBOUND_PREFIX", "incoming/"),
            quarantine_prefix: optional(&var, "QUARANTINE_PREFIX", "quarantine/"),
            outbound_bucket: required(&var, "OUTBOUND_BUCKET")?,
            organisations,
        })
    }
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
    fn settings_are_read_and_missing_ones_named() {
        let config = Config::from_env(env(&[
            ("TABLE_NAME", "t"),
            ("INBOUND_BUCKET", "in"),
            ("OUTBOUND_BUCKET", "out"),
            ("ORGANISATIONS_S3_URI", "s3://out/config/organisations.toml"),
        ]))
        .unwrap();
        assert_eq!(config.table_name, "t");
        assert_eq!(config.inbound_prefix, "incoming/");
        assert_eq!(
            config.organisations,
            OrganisationsSource::S3 {
                bucket: "out".into(),
                key: "config/organisations.toml".into()
            }
        );
        let err =
            Config::from_env(env(&[("ORGANISATIONS_TOML", "x"), ("TABLE_NAME", "t")])).unwrap_err();
        assert!(err.to_string().contains("INBOUND_BUCKET"), "{err}");
        let err = Config::from_env(env(&[("TABLE_NAME", "t")])).unwrap_err();
        assert!(err.to_string().contains("ORGANISATIONS_TOML"), "{err}");
    }
}

//! Start-up configuration: reading settings through a lookup function (the environment in
//! production, a map in tests) and parsing the organisation configuration.
//! A mistake fails the cold start, not a message.

use dit_domain::org::Organisations;

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

//! The portal function's settings: the shared ones (table, buckets, organisations) and its own.

use std::path::PathBuf;

use dit_aws::config::LambdaConfig;
use dit_core::config::{optional, required, ConfigError};
use dit_portal::csrf::CsrfKey;

/// Where the `nhsuk-frontend` layer (the package's `dist/nhsuk` folder) is mounted.
pub const DEFAULT_ASSETS_DIR: &str = "/opt";

pub struct Config {
    pub shared: LambdaConfig,
    /// `PORTAL_CSRF_SECRET`: the key of the forms' CSRF tokens, the same on every instance (at
    /// least 32 characters; the template generates it in Secrets Manager).
    pub csrf: CsrfKey,
    /// `PORTAL_ASSETS_DIR`: the NHS.UK frontend's `dist/nhsuk` folder.
    pub assets_dir: PathBuf,
}

impl Config {
    /// # Errors
    /// A missing or malformed setting, named.
    pub fn from_env(var: &impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let secret = required(var, "PORTAL_CSRF_SECRET")?;
        Ok(Config {
            shared: LambdaConfig::from_env(var)?,
            csrf: CsrfKey::from_secret(secret.as_bytes())
                .map_err(|e| ConfigError(format!("PORTAL_CSRF_SECRET: {e}")))?,
            assets_dir: PathBuf::from(optional(var, "PORTAL_ASSETS_DIR", DEFAULT_ASSETS_DIR)),
        })
    }
}

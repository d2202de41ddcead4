//! The portal function's settings: the shared ones (table, buckets, organisations) and its own.

use std::path::PathBuf;

use aws_config::SdkConfig;
use dit_aws::config::LambdaConfig;
use dit_aws::secrets::{read_secret, secrets_client};
use dit_core::config::{optional, ConfigError};
use dit_portal::csrf::CsrfKey;

/// Where the `nhsuk-frontend` layer (the package's `dist/nhsuk` folder) is mounted.
pub const DEFAULT_ASSETS_DIR: &str = "/opt";

/// The ARN of the Secrets Manager secret holding the CSRF key (the template's `PortalCsrfSecret`).
pub const CSRF_SECRET_ARN: &str = "PORTAL_CSRF_SECRET_ARN";
/// The CSRF key itself: only for local runs and tests, read only when the ARN is unset.
pub const CSRF_SECRET: &str = "PORTAL_CSRF_SECRET";

pub struct Config {
    pub shared: LambdaConfig,
    /// Where the key of the forms' CSRF tokens comes from.
    pub csrf: CsrfSource,
    /// `PORTAL_ASSETS_DIR`: the NHS.UK frontend's `dist/nhsuk` folder.
    pub assets_dir: PathBuf,
}

/// Where the CSRF key is read: Secrets Manager in AWS, the environment locally.
pub enum CsrfSource {
    /// `PORTAL_CSRF_SECRET_ARN`: read with one `GetSecretValue` at a cold start.
    SecretArn(String),
    /// `PORTAL_CSRF_SECRET`, when no ARN is set (local runs, tests): already checked.
    Plain(CsrfKey),
}

impl std::fmt::Debug for CsrfSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CsrfSource::SecretArn(arn) => write!(f, "SecretArn({arn})"),
            CsrfSource::Plain(_) => f.write_str("Plain(..)"),
        }
    }
}

impl Config {
    /// # Errors
    /// A missing or malformed setting, named (a `PORTAL_CSRF_SECRET` shorter than 32 characters
    /// included; its value is never part of the message).
    pub fn from_env(var: &impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let csrf = match (set(CSRF_SECRET_ARN), set(CSRF_SECRET)) {
            (Some(arn), _) => CsrfSource::SecretArn(arn.trim().to_string()),
            (None, Some(secret)) => CsrfSource::Plain(key(&secret, CSRF_SECRET)?),
            (None, None) => {
                return Err(ConfigError(format!(
                    "{CSRF_SECRET_ARN} is not set (the ARN of the portal's CSRF secret; {CSRF_SECRET} may hold the key itself for local runs)"
                )))
            }
        };
        let mut shared = LambdaConfig::from_env(var)?;
        // The portal's role lists only the prefixes it serves: a missing key answers 403.
        shared.forbidden_is_missing = true;
        Ok(Config {
            shared,
            csrf,
            assets_dir: PathBuf::from(optional(var, "PORTAL_ASSETS_DIR", DEFAULT_ASSETS_DIR)),
        })
    }

    /// The CSRF key: from Secrets Manager (once: call it at a cold start), or the local one.
    ///
    /// # Errors
    /// The secret cannot be read, or is shorter than 32 characters (the variable named).
    pub async fn csrf_key(&self, sdk: &SdkConfig) -> Result<CsrfKey, ConfigError> {
        match &self.csrf {
            CsrfSource::Plain(key) => Ok(key.clone()),
            CsrfSource::SecretArn(arn) => {
                let secret = read_secret(&secrets_client(sdk), arn, CSRF_SECRET_ARN).await?;
                key(&secret, CSRF_SECRET_ARN)
            }
        }
    }
}

fn key(secret: &str, variable: &str) -> Result<CsrfKey, ConfigError> {
    CsrfKey::from_secret(secret.as_bytes()).map_err(|e| ConfigError(format!("{variable}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let mut all: Vec<(String, String)> = [
            ("TABLE_NAME", "t"),
            ("INBOUND_BUCKET", "in"),
            ("OUTBOUND_BUCKET", "out"),
            ("ORGANISATIONS_S3_URI", "s3://out/config/organisations.toml"),
        ]
        .iter()
        .chain(pairs)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        all.reverse();
        move |name| all.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    fn error(pairs: &[(&str, &str)]) -> String {
        match Config::from_env(&env(pairs)) {
            Err(ConfigError(message)) => message,
            Ok(_) => panic!("accepted {pairs:?}"),
        }
    }

    #[test]
    fn the_arn_wins_and_the_plain_key_is_only_the_fallback() {
        let arn = "arn:aws:secretsmanager:eu-west-2:123456789012:secret:csrf-AbCdEf";
        let both = Config::from_env(&env(&[
            (CSRF_SECRET_ARN, arn),
            (CSRF_SECRET, "local-key-of-at-least-32-characters!"),
        ]))
        .unwrap();
        assert!(matches!(both.csrf, CsrfSource::SecretArn(ref a) if a == arn));
        let local = Config::from_env(&env(&[(
            CSRF_SECRET,
            "local-key-of-at-least-32-characters!",
        )]))
        .unwrap();
        assert!(matches!(local.csrf, CsrfSource::Plain(_)));
        assert!(
            local.shared.forbidden_is_missing,
            "the portal reads a 403 as not there"
        );
    }

    #[test]
    fn a_missing_or_short_secret_is_refused_at_start_naming_the_variable() {
        assert!(error(&[]).contains(CSRF_SECRET_ARN));
        let short = error(&[(CSRF_SECRET, "too-short-secret")]);
        assert!(short.starts_with("PORTAL_CSRF_SECRET:"), "{short}");
        assert!(short.contains("at least 32"), "{short}");
        assert!(
            !short.contains("too-short-secret"),
            "the value is never shown: {short}"
        );
    }
}

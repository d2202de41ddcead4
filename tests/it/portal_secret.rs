//! The portal's CSRF key read at a cold start from Secrets Manager on moto (issue 22, item 5):
//! `PORTAL_CSRF_SECRET_ARN` names the secret, one `GetSecretValue` reads it, a short or missing
//! secret stops the start naming the variable, and the value is in no message.

use chrono::{TimeZone, Utc};
use dit_portal::csrf::{CsrfKey, FormScope};
use dit_portal::identity::Identity;
use dit_test_support::Moto;
use portal::config::{Config, CSRF_SECRET_ARN};

fn env(arn: &str) -> impl Fn(&str) -> Option<String> {
    let arn = arn.to_string();
    move |name| match name {
        "TABLE_NAME" => Some("t".into()),
        "INBOUND_BUCKET" => Some("in".into()),
        "OUTBOUND_BUCKET" => Some("out".into()),
        "ORGANISATIONS_S3_URI" => Some("s3://out/config/organisations.toml".into()),
        // The fallback is ignored when the ARN is set.
        "PORTAL_CSRF_SECRET" => Some("a-local-key-that-must-not-be-used-0000".into()),
        n if n == CSRF_SECRET_ARN => Some(arn.clone()),
        _ => None,
    }
}

#[tokio::test]
async fn the_portal_reads_its_csrf_key_from_secrets_manager_at_a_cold_start() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let value = "k".repeat(64);
    let created = client
        .create_secret()
        .name("portal-csrf")
        .secret_string(&value)
        .send()
        .await
        .unwrap();
    let arn = created.arn().unwrap().to_string();

    let config = Config::from_env(&env(&arn)).unwrap();
    let key = config.csrf_key(&sdk).await.unwrap();
    // The key read is the secret's value: a token under it verifies under the loaded key.
    let me = Identity::parse_as("trust:504", "alice").unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 9, 30, 0).unwrap();
    let form = FormScope {
        applicants: &["5000001"],
        action: "offer",
        action_id: "portal-0123456789abcdef0123456789abcdef",
        fields: &[],
    };
    let token = CsrfKey::from_secret(value.as_bytes())
        .unwrap()
        .token(&me, &form, now);
    assert_eq!(key.verify(&me, &form, &token, now), Ok(()));
    let local = CsrfKey::from_secret(b"a-local-key-that-must-not-be-used-0000")
        .unwrap()
        .token(&me, &form, now);
    assert!(key.verify(&me, &form, &local, now).is_err());

    // A short secret and a missing one stop the start, naming the variable, never the value.
    let short = client
        .create_secret()
        .name("portal-csrf-short")
        .secret_string("short-secret-value")
        .send()
        .await
        .unwrap();
    let message = start_error(&moto, short.arn().unwrap()).await;
    assert!(message.starts_with(CSRF_SECRET_ARN), "{message}");
    assert!(message.contains("at least 32"), "{message}");
    assert!(!message.contains("short-secret-value"), "{message}");
    let missing_arn = arn.replace("portal-csrf", "portal-csrf-gone");
    let message = start_error(&moto, &missing_arn).await;
    assert!(message.starts_with(CSRF_SECRET_ARN), "{message}");
}

/// The message of a cold start with the secret `arn` that must fail.
async fn start_error(moto: &Moto, arn: &str) -> String {
    Config::from_env(&env(arn))
        .unwrap()
        .csrf_key(&moto.sdk_config().await)
        .await
        .expect_err("the start is refused")
        .0
}

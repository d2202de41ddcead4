//! Cross-site request forgery tokens: an HMAC-SHA256, under the portal's secret key, of the
//! signed-in user, their role, the applicant(s), the move, the form's action id, a hash of the
//! form's fields and the moment it was issued; it holds for 30 minutes. A page served to that
//! user is the only place the token appears, so another site cannot make the user's browser post
//! a move, and a token cannot be replayed on another applicant, move or field values.
//!
//! The action id is also the move's message id, so a form sent twice (a double click, a reload)
//! is a duplicate message and changes nothing the second time.

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::identity::Identity;

/// At least this many bytes of key.
pub const MIN_KEY_BYTES: usize = 32;

#[derive(Clone)]
pub struct CsrfKey {
    key: Vec<u8>,
}

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey(..)")
    }
}

impl CsrfKey {
    /// A key from configuration (the Lambda's secret).
    ///
    /// # Errors
    /// A key shorter than [`MIN_KEY_BYTES`].
    pub fn from_secret(secret: &[u8]) -> Result<CsrfKey, String> {
        if secret.len() < MIN_KEY_BYTES {
            return Err(format!(
                "the CSRF secret has {} bytes; at least {MIN_KEY_BYTES} are needed",
                secret.len()
            ));
        }
        Ok(CsrfKey {
            key: secret.to_vec(),
        })
    }

    /// A fresh random key (one `dit serve` process: its forms stop working when it stops).
    ///
    /// # Errors
    /// The operating system has no randomness to give.
    pub fn random() -> Result<CsrfKey, String> {
        let mut key = vec![0u8; MIN_KEY_BYTES];
        getrandom::fill(&mut key).map_err(|e| format!("no random key: {e}"))?;
        Ok(CsrfKey { key })
    }

    fn mac(&self, identity: &Identity, form: &FormScope<'_>, issued: i64) -> Hmac<Sha256> {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("HMAC takes any key size");
        let role = identity.role_key();
        let issued = issued.to_string();
        let applicants = form.applicants.join(",");
        let fields = fields_hash(form.fields);
        for part in [
            "dit-portal-csrf-v2",
            &role,
            &identity.user,
            &applicants,
            form.action,
            form.action_id,
            &fields,
            &issued,
        ] {
            // Lengths first: ("ab","c") and ("a","bc") must not give the same token.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }

    /// The token for `identity`'s form `form`, issued at `now`: `<unix seconds>.<HMAC hex>`.
    pub fn token(&self, identity: &Identity, form: &FormScope<'_>, now: DateTime<Utc>) -> String {
        let issued = now.timestamp();
        let bytes = self.mac(identity, form, issued).finalize().into_bytes();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("{issued}.{hex}")
    }

    /// Is `token` the one this key gave `identity` for exactly this form (user, applicants, move,
    /// action id and fields), less than [`TOKEN_LIFETIME_MINUTES`] ago? (HMAC compared in
    /// constant time.)
    ///
    /// # Errors
    /// [`Refused::Expired`] for a genuine token too old (or from the future), else
    /// [`Refused::Invalid`], also for an action id that is not one [`new_action_id`] makes (the
    /// id becomes the message id, so nothing else may reach the messages path).
    pub fn verify(
        &self,
        identity: &Identity,
        form: &FormScope<'_>,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Refused> {
        if !is_action_id(form.action_id) {
            return Err(Refused::Invalid);
        }
        let (issued, hex) = token.split_once('.').ok_or(Refused::Invalid)?;
        let issued: i64 = issued.parse().map_err(|_| Refused::Invalid)?;
        let bytes = from_hex(hex).ok_or(Refused::Invalid)?;
        self.mac(identity, form, issued)
            .verify_slice(&bytes)
            .map_err(|_| Refused::Invalid)?;
        let age = now.timestamp() - issued;
        if !(-CLOCK_SKEW_SECONDS..=TOKEN_LIFETIME_MINUTES * 60).contains(&age) {
            return Err(Refused::Expired);
        }
        Ok(())
    }
}

/// When `token` was issued (read only after [`CsrfKey::verify`] accepted it: the time is in its
/// MAC).
pub fn issued_at(token: &str) -> Option<DateTime<Utc>> {
    let (issued, _) = token.split_once('.')?;
    DateTime::from_timestamp(issued.parse().ok()?, 0)
}

/// How long a form's token holds.
pub const TOKEN_LIFETIME_MINUTES: i64 = 30;

/// How far in the future a token's issue time may be (instances' clocks differ a little).
const CLOCK_SKEW_SECONDS: i64 = 60;

/// What a form's token is bound to, besides the signed-in user.
#[derive(Debug, Clone, Copy)]
pub struct FormScope<'a> {
    /// The applicant numbers the form moves (one, or several for a bulk move).
    pub applicants: &'a [&'a str],
    /// The move's name (`offer`, `hire`, ...).
    pub action: &'a str,
    /// The form's action id (also its message id).
    pub action_id: &'a str,
    /// The form's other fields as the confirmation page carries them, (name, value) in order.
    pub fields: &'a [(&'a str, &'a str)],
}

/// Why a form's token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Not a token this key gave for this user and form.
    Invalid,
    /// A genuine token older than [`TOKEN_LIFETIME_MINUTES`].
    Expired,
}

impl Refused {
    /// What the person is told, ending with where to start again (`again`, e.g. "Go back to the
    /// applicant page and try again.").
    pub fn explained(self, again: &str) -> String {
        match self {
            Refused::Expired => {
                format!("This form is more than {TOKEN_LIFETIME_MINUTES} minutes old. {again}")
            }
            Refused::Invalid => format!(
                "This form did not come from your portal session, or it was changed. {again}"
            ),
        }
    }
}

/// SHA-256 (hex) of the fields, each name and value length-prefixed.
fn fields_hash(fields: &[(&str, &str)]) -> String {
    let mut hash = Sha256::new();
    for (name, value) in fields {
        for part in [name, value] {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A new action id for a form: `portal-` and 32 random hex digits (a valid message id).
///
/// # Errors
/// The operating system has no randomness to give.
pub fn new_action_id() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| format!("no random id: {e}"))?;
    Ok(format!(
        "portal-{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

/// Is this an action id the portal made (so it can be used as a message id and a key)?
pub fn is_action_id(text: &str) -> bool {
    text.strip_prefix("portal-").is_some_and(|hex| {
        hex.len() == 32 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(text: &str, user: &str) -> Identity {
        Identity::parse_as(text, user).unwrap()
    }

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_771_800 + minutes * 60, 0).unwrap()
    }

    #[test]
    fn a_token_holds_only_for_its_user_role_applicants_move_and_fields() {
        let key = CsrfKey::random().unwrap();
        let me = who("trust:504", "alice");
        let id = new_action_id().unwrap();
        assert!(is_action_id(&id));
        let fields = [
            ("person_type", "Employee"),
            ("effective_date", "2026-12-02"),
        ];
        let form = FormScope {
            applicants: &["5000001"],
            action: "hire",
            action_id: &id,
            fields: &fields,
        };
        let token = key.token(&me, &form, at(0));
        assert_eq!(key.verify(&me, &form, &token, at(0)), Ok(()));
        assert_eq!(key.verify(&me, &form, &token, at(29)), Ok(()));
        let refused = |identity: &Identity, form: &FormScope<'_>, token: &str| {
            key.verify(identity, form, token, at(1))
        };
        assert_eq!(
            refused(&who("trust:505", "alice"), &form, &token),
            Err(Refused::Invalid)
        );
        assert_eq!(
            refused(&who("trust:504", "bob"), &form, &token),
            Err(Refused::Invalid)
        );
        let other_id = new_action_id().unwrap();
        let other_fields = [
            ("person_type", "Honorary"),
            ("effective_date", "2026-12-02"),
        ];
        for other in [
            FormScope {
                action_id: &other_id,
                ..form
            },
            FormScope {
                applicants: &["5000002"],
                ..form
            },
            FormScope {
                applicants: &["5000001", "5000002"],
                ..form
            },
            FormScope {
                action: "withdraw",
                ..form
            },
            FormScope {
                fields: &other_fields,
                ..form
            },
            FormScope {
                fields: &fields[..1],
                ..form
            },
        ] {
            assert_eq!(
                refused(&me, &other, &token),
                Err(Refused::Invalid),
                "{other:?}"
            );
        }
        for bad in ["", "zz", "0.00", &token[token.find('.').unwrap()..]] {
            assert_eq!(refused(&me, &form, bad), Err(Refused::Invalid), "{bad}");
        }
        // The issue time is in the MAC: moving it forward breaks the token.
        let (_, mac) = token.split_once('.').unwrap();
        let later = format!("{}.{mac}", at(20).timestamp());
        assert_eq!(refused(&me, &form, &later), Err(Refused::Invalid));
        assert_eq!(
            CsrfKey::random().unwrap().verify(&me, &form, &token, at(1)),
            Err(Refused::Invalid)
        );
    }

    #[test]
    fn a_token_older_than_thirty_minutes_is_refused() {
        let key = CsrfKey::random().unwrap();
        let me = who("trust:504", "alice");
        let id = new_action_id().unwrap();
        let form = FormScope {
            applicants: &["5000001"],
            action: "offer",
            action_id: &id,
            fields: &[],
        };
        let token = key.token(&me, &form, at(0));
        assert_eq!(key.verify(&me, &form, &token, at(30)), Ok(()));
        assert_eq!(
            key.verify(&me, &form, &token, at(31)),
            Err(Refused::Expired)
        );
        assert_eq!(
            key.verify(&me, &form, &token, at(-5)),
            Err(Refused::Expired)
        );
    }

    #[test]
    fn short_secrets_and_foreign_ids_are_refused() {
        assert!(CsrfKey::from_secret(b"short").is_err());
        assert!(CsrfKey::from_secret(&[7u8; 32]).is_ok());
        for bad in [
            "",
            "portal-",
            "portal-XYZ",
            "504-0001",
            "portal-../../etc/passwd00000000000",
        ] {
            assert!(!is_action_id(bad), "{bad}");
        }
    }
}

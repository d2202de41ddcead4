//! Cross-site request forgery tokens: an HMAC-SHA256, under the portal's secret key, of the
//! signed-in user, their role and the form's action id. A page served to that user is the only
//! place the token appears, so another site cannot make the user's browser post a move.
//!
//! The action id is also the move's message id, so a form sent twice (a double click, a reload)
//! is a duplicate message and changes nothing the second time.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

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

    fn mac(&self, identity: &Identity, action_id: &str) -> Hmac<Sha256> {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("HMAC takes any key size");
        let role = identity.vpd().unwrap_or("operator");
        for part in ["dit-portal-csrf-v1", role, &identity.user, action_id] {
            // Lengths first: ("ab","c") and ("a","bc") must not give the same token.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }

    /// The token for a form of `identity` carrying `action_id`.
    pub fn token(&self, identity: &Identity, action_id: &str) -> String {
        let bytes = self.mac(identity, action_id).finalize().into_bytes();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Is `token` the one this key gave `identity` for `action_id`? (Compared in constant time.)
    pub fn verify(&self, identity: &Identity, action_id: &str, token: &str) -> bool {
        let Some(bytes) = from_hex(token) else {
            return false;
        };
        self.mac(identity, action_id).verify_slice(&bytes).is_ok()
    }
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

    #[test]
    fn a_token_holds_only_for_its_user_role_and_action() {
        let key = CsrfKey::random().unwrap();
        let me = who("trust:504", "alice");
        let id = new_action_id().unwrap();
        assert!(is_action_id(&id));
        let token = key.token(&me, &id);
        assert!(key.verify(&me, &id, &token));
        assert!(!key.verify(&who("trust:505", "alice"), &id, &token));
        assert!(!key.verify(&who("trust:504", "bob"), &id, &token));
        assert!(!key.verify(&me, &new_action_id().unwrap(), &token));
        assert!(!key.verify(&me, &id, ""));
        assert!(!key.verify(&me, &id, "zz"));
        assert!(!CsrfKey::random().unwrap().verify(&me, &id, &token));
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

//! Who is signed in: a trust's medical staffing team (`trust-<VPD>` group) or an operator
//! (`operator` group). The entry point puts an [`Identity`] into the request's extensions (from the
//! Cognito token's groups in AWS, from `--as` locally); every route takes it from there, and a
//! request without one is answered 401.

use std::fmt;

use dit_domain::boundary::Principal;

/// What the signed-in person may see and do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// A trust's medical staffing team: its own inbox and applicants, and their moves.
    Trust { vpd: String },
    /// TIS/HEE data team, service desk: files, quarantine, sequence check, every trust's
    /// applicants, read-only.
    Operator,
}

/// The signed-in person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub role: Role,
    /// The person's user name (the token's `email` or `cognito:username`; locally the OS user):
    /// recorded as the actor of their moves, never logged.
    pub user: String,
}

/// Why no identity could be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityError(pub String);

impl fmt::Display for IdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for IdentityError {}

const TRUST_GROUP_PREFIX: &str = "trust-";
const OPERATOR_GROUP: &str = "operator";

impl Identity {
    /// `trust:<VPD>` or `operator`, as `dit serve --as` takes it.
    ///
    /// # Errors
    /// Names the accepted forms.
    pub fn parse_as(text: &str, user: &str) -> Result<Identity, IdentityError> {
        let role = match text.trim() {
            OPERATOR_GROUP => Role::Operator,
            other => match other.strip_prefix("trust:") {
                Some(vpd) if is_vpd(vpd) => Role::Trust {
                    vpd: vpd.to_string(),
                },
                _ => {
                    return Err(IdentityError(format!(
                        "{text:?} is not trust:<VPD> (e.g. trust:504) or operator"
                    )))
                }
            },
        };
        Ok(Identity {
            role,
            user: user.to_string(),
        })
    }

    /// The identity a token's groups give: exactly one of `trust-<VPD>` and `operator`. A person in
    /// no portal group, or in more than one, has none (the portal never guesses which hat is on).
    ///
    /// # Errors
    /// Says which groups were missing or too many (group names only).
    pub fn from_groups<'g>(
        groups: impl IntoIterator<Item = &'g str>,
        user: &str,
    ) -> Result<Identity, IdentityError> {
        let mut roles: Vec<Role> = Vec::new();
        for group in groups {
            let role = if group == OPERATOR_GROUP {
                Role::Operator
            } else {
                match group.strip_prefix(TRUST_GROUP_PREFIX) {
                    Some(vpd) if is_vpd(vpd) => Role::Trust {
                        vpd: vpd.to_string(),
                    },
                    _ => continue,
                }
            };
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
        match roles.as_slice() {
            [role] if !user.trim().is_empty() => Ok(Identity {
                role: role.clone(),
                user: user.to_string(),
            }),
            [_] => Err(IdentityError("the token names no user".into())),
            [] => Err(IdentityError(
                "not in a portal group (trust-<VPD> or operator)".into(),
            )),
            _ => Err(IdentityError(format!(
                "in {} portal groups; a user must be in exactly one",
                roles.len()
            ))),
        }
    }

    pub fn vpd(&self) -> Option<&str> {
        match &self.role {
            Role::Trust { vpd } => Some(vpd),
            Role::Operator => None,
        }
    }

    pub fn is_operator(&self) -> bool {
        self.role == Role::Operator
    }

    /// May this identity see the applicant (or file, or notification) of trust `vpd`?
    pub fn sees_trust(&self, vpd: &str) -> bool {
        match &self.role {
            Role::Trust { vpd: own } => own == vpd,
            Role::Operator => true,
        }
    }

    /// The history's actor for a move made through the portal.
    /// The sender the portal acts as: the trust's moves go through the checks of a message that
    /// trust sent (section 7).
    pub fn principal(&self) -> Principal {
        match &self.role {
            Role::Trust { vpd } => Principal::Trust(vpd.clone()),
            Role::Operator => Principal::Operator,
        }
    }

    pub fn actor(&self) -> String {
        match &self.role {
            Role::Trust { vpd } => format!("{} (trust {vpd}, portal)", self.user),
            Role::Operator => format!("{} (operator, portal)", self.user),
        }
    }

    /// How the page header names who is signed in.
    pub fn describe(&self) -> String {
        match &self.role {
            Role::Trust { vpd } => format!("Trust {vpd}"),
            Role::Operator => "Operator".to_string(),
        }
    }
}

/// The groups of an API Gateway JWT claim. HTTP APIs flatten a list claim into `[a b c]`; a JSON
/// array or a comma-separated list is read too.
pub fn groups_claim(text: &str) -> Vec<String> {
    let text = text.trim();
    if let Ok(list) = serde_json::from_str::<Vec<String>>(text) {
        return list;
    }
    text.trim_start_matches('[')
        .trim_end_matches(']')
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .collect()
}

/// A VPD code: 3 or 4 capital letters or digits (as trust actions require).
fn is_vpd(text: &str) -> bool {
    (3..=4).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_as_takes_a_trust_or_operator() {
        assert_eq!(
            Identity::parse_as("trust:504", "me").unwrap().vpd(),
            Some("504")
        );
        assert!(Identity::parse_as("operator", "me").unwrap().is_operator());
        for bad in ["trust:", "trust:5", "trust:../x", "504", "admin"] {
            assert!(Identity::parse_as(bad, "me").is_err(), "{bad}");
        }
    }

    #[test]
    fn exactly_one_portal_group_makes_an_identity() {
        let trust = Identity::from_groups(["staff", "trust-504"], "a@nhs.net").unwrap();
        assert_eq!(trust.vpd(), Some("504"));
        assert_eq!(trust.actor(), "a@nhs.net (trust 504, portal)");
        assert!(Identity::from_groups(["operator"], "o")
            .unwrap()
            .is_operator());
        assert!(Identity::from_groups(["trust-504", "trust-504"], "a").is_ok());
        assert!(Identity::from_groups(["trust-504", "trust-505"], "a").is_err());
        assert!(Identity::from_groups(["trust-504", "operator"], "a").is_err());
        assert!(Identity::from_groups(["staff", "trust-x"], "a").is_err());
        assert!(Identity::from_groups(Vec::<&str>::new(), "a").is_err());
        assert!(Identity::from_groups(["trust-504"], " ").is_err());
    }

    #[test]
    fn group_claims_are_read_in_the_forms_api_gateway_gives() {
        assert_eq!(
            groups_claim("[trust-504 operator]"),
            ["trust-504", "operator"]
        );
        assert_eq!(groups_claim("[\"trust-504\"]"), ["trust-504"]);
        assert_eq!(
            groups_claim("trust-504,operator"),
            ["trust-504", "operator"]
        );
        assert!(groups_claim("[]").is_empty());
    }

    #[test]
    fn a_trust_sees_only_itself_and_an_operator_every_trust() {
        let trust = Identity::parse_as("trust:504", "me").unwrap();
        assert!(trust.sees_trust("504"));
        assert!(!trust.sees_trust("505"));
        assert!(Identity::parse_as("operator", "me")
            .unwrap()
            .sees_trust("505"));
    }
}

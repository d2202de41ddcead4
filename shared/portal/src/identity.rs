//! Who is signed in: a trust's medical staffing team (`trust-<VPD>` group), an operator
//! (`operator` group), a local office's data team (`lo-<LO>` group, section 12) or a doctor in
//! training (`trainee` group with the GMC number the administrator set, section 13). The entry point puts an [`Identity`] into the request's extensions (from the
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
    /// A local office's data team: the operator pages narrowed to what its own files brought
    /// (their records, quarantine and applicants), read-only; anything else is "not found".
    LocalOffice { code: String },
    /// A doctor in training: only the placements held under their GMC number (the trainee pages);
    /// every other page is "not found".
    Trainee { gmc: String },
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
const LOCAL_OFFICE_GROUP_PREFIX: &str = "lo-";
const TRAINEE_GROUP: &str = "trainee";

impl Identity {
    /// `trust:<VPD>`, `local-office:<LO>`, `trainee:<GMC>` or `operator`, as `dit serve --as`
    /// takes it.
    ///
    /// # Errors
    /// Names the accepted forms.
    pub fn parse_as(text: &str, user: &str) -> Result<Identity, IdentityError> {
        let role = match text.trim() {
            OPERATOR_GROUP => Role::Operator,
            other => match (
                other.strip_prefix("trust:"),
                other.strip_prefix("local-office:"),
                other.strip_prefix("trainee:"),
            ) {
                (Some(vpd), _, _) if is_vpd(vpd) => Role::Trust {
                    vpd: vpd.to_string(),
                },
                (_, Some(code), _) if is_local_office(code) => Role::LocalOffice {
                    code: code.to_string(),
                },
                (_, _, Some(gmc)) if is_gmc(gmc) => Role::Trainee {
                    gmc: gmc.to_string(),
                },
                _ => {
                    // The text is not echoed: it may be someone's GMC number.
                    return Err(IdentityError(
                        "names no one: use trust:<VPD> (e.g. trust:504), local-office:<LO> (e.g. local-office:KSS), trainee:<GMC> (7 digits) or operator".to_string()
                    ));
                }
            },
        };
        Ok(Identity {
            role,
            user: user.to_string(),
        })
    }

    /// The identity a token's groups give: exactly one of `trust-<VPD>`, `lo-<LO>`, `trainee`
    /// and `operator`. A person in no portal group, or in more than one, has none (the portal
    /// never guesses which hat is on). `trainee` needs `gmc`, the token's administrator-set GMC
    /// number attribute: without a valid one, no identity.
    ///
    /// # Errors
    /// Says which groups were missing or too many (group names only, never the GMC number).
    pub fn from_groups<'g>(
        groups: impl IntoIterator<Item = &'g str>,
        user: &str,
        gmc: Option<&str>,
    ) -> Result<Identity, IdentityError> {
        let mut roles: Vec<Role> = Vec::new();
        for group in groups {
            let role = if group == OPERATOR_GROUP {
                Role::Operator
            } else if group == TRAINEE_GROUP {
                match gmc.map(str::trim).filter(|g| is_gmc(g)) {
                    Some(gmc) => Role::Trainee {
                        gmc: gmc.to_string(),
                    },
                    None => {
                        return Err(IdentityError(
                            "in the trainee group without a valid GMC number attribute".into(),
                        ))
                    }
                }
            } else if let Some(code) = group
                .strip_prefix(LOCAL_OFFICE_GROUP_PREFIX)
                .filter(|code| is_local_office(code))
            {
                Role::LocalOffice {
                    code: code.to_string(),
                }
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
                "not in a portal group (trust-<VPD>, lo-<LO>, trainee or operator)".into(),
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
            Role::Operator | Role::LocalOffice { .. } | Role::Trainee { .. } => None,
        }
    }

    /// The local office of a local-office operator.
    pub fn local_office(&self) -> Option<&str> {
        match &self.role {
            Role::LocalOffice { code } => Some(code),
            Role::Trust { .. } | Role::Operator | Role::Trainee { .. } => None,
        }
    }

    /// The GMC number of a trainee: the only applicants they see.
    pub fn trainee_gmc(&self) -> Option<&str> {
        match &self.role {
            Role::Trainee { gmc } => Some(gmc),
            Role::Trust { .. } | Role::Operator | Role::LocalOffice { .. } => None,
        }
    }

    pub fn is_operator(&self) -> bool {
        self.role == Role::Operator
    }

    /// An operator or a local office's data team: the operator pages (files, quarantine, sequence
    /// check, read-only applicants), the latter narrowed to its own local office.
    pub fn sees_operator_pages(&self) -> bool {
        matches!(self.role, Role::Operator | Role::LocalOffice { .. })
    }

    /// May this identity see what trust `vpd` was sent (its inbox, notifications, downloads)?
    /// Never a local office's: those are the trust's own correspondence.
    pub fn sees_trust(&self, vpd: &str) -> bool {
        match &self.role {
            Role::Trust { vpd: own } => own == vpd,
            Role::Operator => true,
            Role::LocalOffice { .. } | Role::Trainee { .. } => false,
        }
    }

    /// May this identity see what came from local office `code`'s files (a file's record, its
    /// quarantine, an applicant it loaded, a rejected record)?
    pub fn sees_local_office(&self, code: &str) -> bool {
        match &self.role {
            Role::LocalOffice { code: own } => own == code,
            Role::Operator => true,
            Role::Trust { .. } | Role::Trainee { .. } => false,
        }
    }

    /// May this identity see an applicant of trust `vpd`, loaded from local office
    /// `local_office`'s file?
    pub fn sees_applicant(&self, vpd: &str, local_office: &str) -> bool {
        match &self.role {
            Role::Trust { vpd: own } => own == vpd,
            Role::Operator => true,
            Role::LocalOffice { code } => code == local_office,
            // A trainee's own placements are shown by the trainee pages, never these.
            Role::Trainee { .. } => false,
        }
    }

    /// The sender the portal acts as: the trust's moves go through the checks of a message that
    /// trust sent (section 7). A local office's data team and a trainee act as no one.
    pub fn principal(&self) -> Option<Principal> {
        match &self.role {
            Role::Trust { vpd } => Some(Principal::Trust(vpd.clone())),
            Role::Operator => Some(Principal::Operator),
            Role::LocalOffice { .. } | Role::Trainee { .. } => None,
        }
    }

    /// The history's actor for a move made through the portal.
    pub fn actor(&self) -> String {
        match &self.role {
            Role::Trust { vpd } => format!("{} (trust {vpd}, portal)", self.user),
            Role::Operator => format!("{} (operator, portal)", self.user),
            Role::LocalOffice { code } => format!("{} (local office {code}, portal)", self.user),
            Role::Trainee { .. } => format!("{} (trainee, portal)", self.user),
        }
    }

    /// What a CSRF token binds as the role: the trust, `operator`, `lo-<LO>` or
    /// `trainee-<GMC>`.
    pub fn role_key(&self) -> String {
        match &self.role {
            Role::Trust { vpd } => vpd.clone(),
            Role::Operator => OPERATOR_GROUP.to_string(),
            Role::LocalOffice { code } => format!("{LOCAL_OFFICE_GROUP_PREFIX}{code}"),
            Role::Trainee { gmc } => format!("{TRAINEE_GROUP}-{gmc}"),
        }
    }

    /// How the page header names who is signed in.
    pub fn describe(&self) -> String {
        match &self.role {
            Role::Trust { vpd } => format!("Trust {vpd}"),
            Role::Operator => "Operator".to_string(),
            Role::LocalOffice { code } => format!("Local office {code}"),
            Role::Trainee { .. } => "Doctor in training".to_string(),
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

/// A local office code as file names carry it (`DE_<LO>_APP_...`): one of the fixed list.
fn is_local_office(text: &str) -> bool {
    dit_domain::envelope::LOCAL_OFFICES.contains(&text)
}

/// A GMC number as the APP record takes it: exactly 7 digits.
fn is_gmc(text: &str) -> bool {
    text.len() == 7 && text.bytes().all(|b| b.is_ascii_digit())
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

    fn from_groups<'g>(
        groups: impl IntoIterator<Item = &'g str>,
        user: &str,
    ) -> Result<Identity, IdentityError> {
        Identity::from_groups(groups, user, None)
    }

    #[test]
    fn a_trainee_needs_the_group_and_a_valid_gmc_number() {
        let trainee = Identity::from_groups(["trainee"], "sub-1", Some("7544158")).unwrap();
        assert_eq!(trainee.trainee_gmc(), Some("7544158"));
        assert!(trainee.vpd().is_none() && !trainee.sees_operator_pages());
        assert!(!trainee.sees_trust("504") && !trainee.sees_applicant("504", "KSS"));
        assert!(trainee.principal().is_none());
        assert_eq!(trainee.role_key(), "trainee-7544158");
        for gmc in [
            None,
            Some(""),
            Some("754415"),
            Some("75441580"),
            Some("754415x"),
        ] {
            assert!(
                Identity::from_groups(["trainee"], "sub-1", gmc).is_err(),
                "{gmc:?}"
            );
        }
        // The attribute alone is no identity; with another group it is two hats.
        assert!(Identity::from_groups(["staff"], "sub-1", Some("7544158")).is_err());
        assert!(Identity::from_groups(["trainee", "trust-504"], "s", Some("7544158")).is_err());
        assert_eq!(
            Identity::parse_as("trainee:7544158", "me")
                .unwrap()
                .trainee_gmc(),
            Some("7544158")
        );
        for bad in [
            "trainee:",
            "trainee:123",
            "trainee:75441589",
            "trainee:abcdefg",
        ] {
            assert!(Identity::parse_as(bad, "me").is_err(), "{bad}");
        }
        let err = Identity::parse_as("trainee:75441589", "me").unwrap_err();
        assert!(!err.0.contains("75441589"));
    }

    #[test]
    fn serve_as_takes_a_trust_or_operator() {
        assert_eq!(
            Identity::parse_as("trust:504", "me").unwrap().vpd(),
            Some("504")
        );
        assert!(Identity::parse_as("operator", "me").unwrap().is_operator());
        let office = Identity::parse_as("local-office:KSS", "me").unwrap();
        assert_eq!(office.local_office(), Some("KSS"));
        assert!(!office.is_operator() && office.vpd().is_none());
        for bad in [
            "trust:",
            "trust:5",
            "trust:../x",
            "504",
            "admin",
            "local-office:",
            "local-office:kss",
            "local-office:XYZ",
        ] {
            assert!(Identity::parse_as(bad, "me").is_err(), "{bad}");
        }
    }

    #[test]
    fn exactly_one_portal_group_makes_an_identity() {
        let trust = from_groups(["staff", "trust-504"], "a@nhs.net").unwrap();
        assert_eq!(trust.vpd(), Some("504"));
        assert_eq!(trust.actor(), "a@nhs.net (trust 504, portal)");
        assert!(from_groups(["operator"], "o").unwrap().is_operator());
        assert!(from_groups(["trust-504", "trust-504"], "a").is_ok());
        assert!(from_groups(["trust-504", "trust-505"], "a").is_err());
        assert!(from_groups(["trust-504", "operator"], "a").is_err());
        assert!(from_groups(["staff", "trust-x"], "a").is_err());
        assert!(from_groups(Vec::<&str>::new(), "a").is_err());
        assert!(from_groups(["trust-504"], " ").is_err());
        let office = from_groups(["lo-KSS"], "d@hee.nhs.uk").unwrap();
        assert_eq!(office.local_office(), Some("KSS"));
        assert_eq!(office.actor(), "d@hee.nhs.uk (local office KSS, portal)");
        assert!(office.principal().is_none());
        assert!(from_groups(["lo-KSS", "operator"], "a").is_err());
        assert!(from_groups(["lo-KSS", "lo-LDN"], "a").is_err());
        assert!(from_groups(["lo-KSS", "trust-504"], "a").is_err());
        assert!(from_groups(["lo-XYZ"], "a").is_err());
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
        let office = Identity::parse_as("local-office:KSS", "me").unwrap();
        assert!(!office.sees_trust("504"));
        assert!(office.sees_local_office("KSS") && !office.sees_local_office("LDN"));
        assert!(office.sees_applicant("504", "KSS") && !office.sees_applicant("504", "LDN"));
        assert!(!trust.sees_local_office("KSS"));
    }
}

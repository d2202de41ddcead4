//! The organisation configuration (`organisations.toml`): which trusts are on the interface and how.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use toml::Spanned;

use super::boundary::{MessageSender, Principal};
use super::envelope::{is_vpd, LOCAL_OFFICES};
use super::mail::is_email_address;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InterfaceMode {
    /// Part Records: TIS to ESR only.
    Part,
    /// Full Records: person updates also flow back to TIS.
    Full,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    pub vpd: String,
    pub name: String,
    pub local_office: String,
    pub mode: InterfaceMode,
    pub live: bool,
    /// Whether Trac (e-recruitment) may send employment checks for this trust (sections 3, 7).
    /// Off unless configured: checks from Trac are accepted only for a live trust with `trac = true`.
    #[serde(default)]
    pub trac: bool,
    /// Who is e-mailed when a notification, reminder or report is written for this trust
    /// (section 9): the title, a count and a portal link, never personal data. None unless set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alert_emails: Vec<String>,

    /// Local offices besides the managing one whose APP and DNC records may act on this trust.
    #[serde(default)]
    pub accept_local_offices: Vec<String>,
}

impl Organisation {
    /// Whether records in a file of local office `lo` may act on this trust (2.5, 7).
    pub fn accepts_local_office(&self, lo: &str) -> bool {
        self.local_office == lo || self.accept_local_offices.iter().any(|o| o == lo)
    }
}

/// What a configured sender is to the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SenderRole {
    Trust,
    Trac,
    Operator,
}

/// An authenticated principal allowed to send queue messages (`[[sender]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sender {
    /// An IAM user id (`AIDA...`) matched exactly, or a role id (`AROA...`) matching every
    /// session of that role (SQS SenderId `AROA...:<session>`).
    pub id: String,
    pub role: SenderRole,
    /// The trust a `trust` sender speaks for (none for `trac` and `operator`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpd: Option<String>,
}

impl Sender {
    /// Whether an SQS `SenderId` is this sender.
    pub fn matches(&self, sender_id: &str) -> bool {
        sender_id == self.id
            || (self.id.starts_with("AROA")
                && !self.id.contains(':')
                && sender_id
                    .strip_prefix(self.id.as_str())
                    .is_some_and(|session| session.starts_with(':') && session.len() > 1))
    }

    pub fn principal(&self) -> Principal {
        match (self.role, &self.vpd) {
            (SenderRole::Trust, Some(vpd)) => Principal::Trust(vpd.clone()),
            (SenderRole::Trac, _) => Principal::Trac,
            // A trust sender without a VPD is refused when the configuration is read.
            (SenderRole::Operator | SenderRole::Trust, _) => Principal::Operator,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Organisations {
    by_vpd: BTreeMap<String, Organisation>,
    senders: Vec<Sender>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("organisation configuration {source_name} is not valid TOML: {message}")]
    Syntax {
        source_name: String,
        message: String,
    },
    #[error("organisation configuration {source_name}, line {line}: {message}")]
    Invalid {
        source_name: String,
        line: usize,
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    organisation: Vec<Spanned<Organisation>>,
    #[serde(default)]
    sender: Vec<Spanned<Sender>>,
}

/// The same file read again for where each alert address stands, to name its line in errors.
#[derive(Deserialize)]
struct AddressLines {
    #[serde(default)]
    organisation: Vec<OrganisationAddresses>,
}

#[derive(Deserialize)]
struct OrganisationAddresses {
    #[serde(default)]
    alert_emails: Vec<toml::Spanned<String>>,
}

/// Longest sender id accepted (IAM unique ids are 21 characters; a session name adds up to 64).
const MAX_SENDER_ID_CHARS: usize = 128;

impl Organisations {
    /// Parses and checks the TOML text; `source_name` names it in errors (a path or an S3 URI),
    /// and every error names the line of the entry at fault.
    ///
    /// # Errors
    /// Syntax errors, unknown keys, bad VPD or local office codes, a VPD or sender listed twice,
    /// a trust sender without a configured VPD, a trac or operator sender with one.
    pub fn from_toml(text: &str, source_name: &str) -> Result<Organisations, ConfigError> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            source_name: source_name.to_string(),
            message: e.to_string(),
        })?;
        let invalid = |span: std::ops::Range<usize>, message: String| ConfigError::Invalid {
            source_name: source_name.to_string(),
            line: line_of(text, span.start),
            message,
        };
        if file
            .organisation
            .iter()
            .flat_map(|o| &o.get_ref().alert_emails)
            .any(|a| !is_email_address(a))
        {
            let lines: AddressLines = toml::from_str(text).map_err(|e| ConfigError::Syntax {
                source_name: source_name.to_string(),
                message: e.to_string(),
            })?;
            for (org, addresses) in file.organisation.iter().zip(&lines.organisation) {
                if let Some(bad) = addresses
                    .alert_emails
                    .iter()
                    .find(|a| !is_email_address(a.get_ref()))
                {
                    return Err(invalid(
                        bad.span(),
                        format!(
                            "organisation {}: alert_emails entry {:?} is not an e-mail address",
                            org.get_ref().vpd,
                            bad.get_ref()
                        ),
                    ));
                }
            }
        }
        let mut by_vpd = BTreeMap::new();
        for entry in file.organisation {
            let span = entry.span();
            let org = entry.into_inner();
            if !is_vpd(&org.vpd) {
                return Err(invalid(
                    span,
                    format!(
                        "vpd {:?} is not a VPD code (3 or 4 capital letters or digits)",
                        org.vpd
                    ),
                ));
            }
            for lo in std::iter::once(&org.local_office).chain(&org.accept_local_offices) {
                if !LOCAL_OFFICES.contains(&lo.as_str()) {
                    return Err(invalid(
                        span,
                        format!(
                            "organisation {}: local office {lo:?} is not one of {}",
                            org.vpd,
                            LOCAL_OFFICES.join(", ")
                        ),
                    ));
                }
            }
            if by_vpd.contains_key(&org.vpd) {
                return Err(invalid(
                    span,
                    format!("vpd {} is listed more than once", org.vpd),
                ));
            }
            by_vpd.insert(org.vpd.clone(), org);
        }
        let mut senders: Vec<Sender> = Vec::new();
        for entry in file.sender {
            let span = entry.span();
            let sender = entry.into_inner();
            let id = &sender.id;
            if id.is_empty()
                || id.len() > MAX_SENDER_ID_CHARS
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.:@+=,-".contains(&b))
            {
                return Err(invalid(
                    span,
                    format!("sender id {id:?} is not an IAM principal id (AIDA... or AROA...)"),
                ));
            }
            match (sender.role, &sender.vpd) {
                (SenderRole::Trust, None) => {
                    return Err(invalid(
                        span,
                        format!("sender {id}: a trust sender needs the vpd of its trust"),
                    ))
                }
                (SenderRole::Trust, Some(vpd)) if !by_vpd.contains_key(vpd) => {
                    return Err(invalid(
                        span,
                        format!("sender {id}: vpd {vpd:?} is not a configured organisation"),
                    ))
                }
                (SenderRole::Trac | SenderRole::Operator, Some(_)) => {
                    return Err(invalid(
                        span,
                        format!("sender {id}: only a trust sender has a vpd"),
                    ))
                }
                _ => {}
            }
            if senders.iter().any(|s| s.id == *id) {
                return Err(invalid(
                    span,
                    format!("sender {id} is listed more than once"),
                ));
            }
            senders.push(sender);
        }
        Ok(Organisations { by_vpd, senders })
    }

    pub fn get(&self, vpd: &str) -> Option<&Organisation> {
        self.by_vpd.get(vpd)
    }

    /// Configured and live: records for this trust may be loaded and it is notified.
    pub fn live(&self, vpd: &str) -> Option<&Organisation> {
        self.get(vpd).filter(|o| o.live)
    }

    /// Live and taking Trac employment checks (`trac = true`).
    pub fn accepts_trac(&self, vpd: &str) -> bool {
        self.live(vpd).is_some_and(|o| o.trac)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Organisation> {
        self.by_vpd.values()
    }

    pub fn len(&self) -> usize {
        self.by_vpd.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_vpd.is_empty()
    }

    /// The configured senders, in file order.
    pub fn senders(&self) -> &[Sender] {
        &self.senders
    }

    /// Who an SQS `SenderId` is: the configured sender it matches (an exact id first, then a
    /// role id matching the session), or unknown.
    pub fn sender(&self, sender_id: Option<&str>) -> MessageSender {
        let Some(sender_id) = sender_id.filter(|id| !id.is_empty()) else {
            return MessageSender::Unknown(String::new());
        };
        self.senders
            .iter()
            .find(|s| s.id == sender_id)
            .or_else(|| self.senders.iter().find(|s| s.matches(sender_id)))
            .map_or_else(
                || MessageSender::Unknown(sender_id.to_string()),
                |s| MessageSender::Known(s.principal()),
            )
    }
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
[[organisation]]
vpd = "504"
name = "Example Hospital NHS Trust"
local_office = "KSS"
mode = "full"
live = true
trac = true

[[organisation]]
vpd = "999"
name = "Not Yet Live Trust"
local_office = "LDN"
mode = "part"
live = false
"#;

    #[test]
    fn the_documented_layout_parses() {
        let orgs = Organisations::from_toml(SAMPLE, "organisations.toml").unwrap();
        assert_eq!(orgs.len(), 2);
        assert_eq!(orgs.get("504").unwrap().mode, InterfaceMode::Full);
        assert!(orgs.live("504").is_some());
        assert!(orgs.live("999").is_none());
        assert!(orgs.get("999").is_some());
        assert!(orgs.get("123").is_none());
        assert!(orgs.accepts_trac("504"));
        // Trac is off unless configured, and never for a trust that is not live.
        assert!(!orgs.get("999").unwrap().trac);
        let not_live = SAMPLE.replace("live = true", "live = false");
        let not_live = Organisations::from_toml(&not_live, "x.toml").unwrap();
        assert!(!not_live.accepts_trac("504"));
        assert!(!orgs.accepts_trac("123"));
    }

    #[test]
    fn mistakes_are_named() {
        let err = Organisations::from_toml("[[organisation]]\nvpd = 504", "x.toml").unwrap_err();
        assert!(err.to_string().contains("x.toml"), "{err}");
        let bad_lo = SAMPLE.replace("\"KSS\"", "\"ABC\"");
        let err = Organisations::from_toml(&bad_lo, "x.toml").unwrap_err();
        assert!(err.to_string().contains("local office \"ABC\""), "{err}");
        assert!(err.to_string().contains("line 2:"), "{err}");
        let twice = SAMPLE.replace("\"999\"", "\"504\"");
        assert!(Organisations::from_toml(&twice, "x.toml")
            .unwrap_err()
            .to_string()
            .contains("more than once"));
        let unknown = SAMPLE.replace("live = true", "live = true\nlive_from = 1");
        assert!(Organisations::from_toml(&unknown, "x.toml").is_err());
        let bad_mode = SAMPLE.replace("\"full\"", "\"half\"");
        assert!(Organisations::from_toml(&bad_mode, "x.toml").is_err());
    }

    #[test]
    fn alert_emails_are_addresses_and_a_bad_one_is_named_by_line() {
        let orgs = Organisations::from_toml(SAMPLE, "x.toml").unwrap();
        assert!(orgs.get("504").unwrap().alert_emails.is_empty());
        let with = SAMPLE.replace(
            "trac = true\n",
            "trac = true\nalert_emails = [\"mso@example.nhs.uk\", \"rota@example.nhs.uk\"]\n",
        );
        let orgs = Organisations::from_toml(&with, "x.toml").unwrap();
        assert_eq!(
            orgs.get("504").unwrap().alert_emails,
            ["mso@example.nhs.uk", "rota@example.nhs.uk"]
        );
        let bad = SAMPLE.replace(
            "live = false\n",
            "live = false\nalert_emails = [\n  \"mso@example.nhs.uk\",\n  \"medical staffing\",\n]\n",
        );
        let err = Organisations::from_toml(&bad, "x.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("x.toml"), "{err}");
        assert!(err.contains("line 18:"), "{err}");
        assert!(err.contains("organisation 999"), "{err}");
        assert!(err.contains("\"medical staffing\""), "{err}");
    }

    const SENDERS: &str = r#"
[[sender]]
id = "AROAEXAMPLEID504"
role = "trust"
vpd = "504"

[[sender]]
id = "AIDAEXAMPLETRAC"
role = "trac"

[[sender]]
id = "AIDAEXAMPLEOPS"
role = "operator"
"#;

    fn with_senders() -> Organisations {
        let text = format!("{SAMPLE}\ntrac = true\naccept_local_offices = [\"LDN\"]\n{SENDERS}");
        Organisations::from_toml(&text, "organisations.toml").unwrap()
    }

    #[test]
    fn trac_and_accepted_local_offices_are_read() {
        let orgs = with_senders();
        let org = orgs.get("999").unwrap();
        assert!(org.trac);
        assert!(org.accepts_local_office("LDN"));
        assert!(!org.accepts_local_office("KSS"));
        let org = orgs.get("504").unwrap();
        assert!(org.accept_local_offices.is_empty());
        assert!(org.accepts_local_office("KSS"));
        assert!(!org.accepts_local_office("LDN"));
    }

    #[test]
    fn senders_map_sqs_sender_ids_to_principals() {
        let orgs = with_senders();
        assert_eq!(orgs.senders().len(), 3);
        let trust = MessageSender::Known(Principal::Trust("504".into()));
        assert_eq!(orgs.sender(Some("AROAEXAMPLEID504")), trust);
        // A role id matches every session of the role, and nothing else.
        assert_eq!(orgs.sender(Some("AROAEXAMPLEID504:integration-1")), trust);
        for other in [
            "AROAEXAMPLEID504:",
            "AROAEXAMPLEID5040",
            "AROAEXAMPLEID50",
            "aroaexampleid504",
        ] {
            assert_eq!(
                orgs.sender(Some(other)),
                MessageSender::Unknown(other.into()),
                "{other}"
            );
        }
        assert_eq!(
            orgs.sender(Some("AIDAEXAMPLETRAC")),
            MessageSender::Known(Principal::Trac)
        );
        // A user id is matched exactly: a session suffix is not that user.
        assert_eq!(
            orgs.sender(Some("AIDAEXAMPLETRAC:x")),
            MessageSender::Unknown("AIDAEXAMPLETRAC:x".into())
        );
        assert_eq!(
            orgs.sender(Some("AIDAEXAMPLEOPS")),
            MessageSender::Known(Principal::Operator)
        );
        assert_eq!(orgs.sender(None), MessageSender::Unknown(String::new()));
        assert_eq!(orgs.sender(Some("")), MessageSender::Unknown(String::new()));
    }

    #[test]
    fn sender_mistakes_name_the_line() {
        let cases = [
            (
                "[[sender]]\nid = \"AROAX\"\nrole = \"trust\"\n",
                "a trust sender needs the vpd",
            ),
            (
                "[[sender]]\nid = \"AROAX\"\nrole = \"trust\"\nvpd = \"123\"\n",
                "vpd \"123\" is not a configured organisation",
            ),
            (
                "[[sender]]\nid = \"AROAX\"\nrole = \"trac\"\nvpd = \"504\"\n",
                "only a trust sender has a vpd",
            ),
            (
                "[[sender]]\nid = \"\"\nrole = \"trac\"\n",
                "is not an IAM principal id",
            ),
            (
                "[[sender]]\nid = \"AROA X\"\nrole = \"trac\"\n",
                "is not an IAM principal id",
            ),
            (
                "[[sender]]\nid = \"AIDAEXAMPLETRAC\"\nrole = \"trac\"\n",
                "listed more than once",
            ),
        ];
        let base = format!("{SAMPLE}{SENDERS}");
        let line = base.lines().count() + 2;
        for (extra, expected) in cases {
            let text = format!("{base}\n{extra}");
            let err = Organisations::from_toml(&text, "o.toml")
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{err}");
            assert!(err.contains(&format!("o.toml, line {line}:")), "{err}");
        }
        for (extra, expected) in [
            ("[[sender]]\nid = \"AROAX\"\nrole = \"admin\"\n", "admin"),
            (
                "[[sender]]\nid = \"AROAX\"\nrole = \"trac\"\nname = \"x\"\n",
                "name",
            ),
        ] {
            let err = Organisations::from_toml(&format!("{base}\n{extra}"), "o.toml")
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected) && err.contains("line"), "{err}");
        }
        let bad_accept = SAMPLE.replace(
            "live = true",
            "live = true\naccept_local_offices = [\"XXX\"]",
        );
        let err = Organisations::from_toml(&bad_accept, "o.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("local office \"XXX\"") && err.contains("line 2:"),
            "{err}"
        );
    }
}

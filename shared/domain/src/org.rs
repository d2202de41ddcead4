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

    /// The trust's own contact, named beside its local office's in its outputs (section 12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
}

/// Whom to ask about a file or a trust (section 12): a team's name, e-mail and phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    pub email: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub phone: String,
}

impl Contact {
    /// As a line names it: `name, e-mail, phone` (the phone only where there is one).
    pub fn line(&self) -> String {
        let mut line = format!("{}, {}", self.name, self.email);
        if !self.phone.is_empty() {
            line.push_str(", ");
            line.push_str(&self.phone);
        }
        line
    }
}

/// A local office (`[[local_office]]`): its data team's alert addresses and its contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalOffice {
    pub code: String,
    pub name: String,
    /// The data team, alerted to a quarantined file and to missing sequence numbers (section 12).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alert_emails: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
}

/// The contacts a trust's notification or report names (section 12): the contact of the local
/// office that sent the data and the trust's own, each where configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Questions {
    /// "Questions about this file: ..." (the local office's contact line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub questions_about_this_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_contact: Option<String>,
}

impl Questions {
    /// The sentences of a page or an e-mail, one a line.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if let Some(lo) = &self.questions_about_this_file {
            lines.push(format!("Questions about this file: {lo}"));
        }
        if let Some(trust) = &self.trust_contact {
            lines.push(format!("Trust contact: {trust}"));
        }
        lines
    }
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
    /// In VPD order, the order they are listed and written in.
    in_order: Vec<Organisation>,
    /// Each VPD's place in `in_order`, found by hashing: a load looks trusts up several times a
    /// record, where a search of the ordered map compared VPDs a dozen times each.
    by_vpd: foldhash::HashMap<String, usize>,
    senders: Vec<Sender>,
    local_offices: BTreeMap<String, LocalOffice>,
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
    #[serde(default)]
    local_office: Vec<Spanned<LocalOffice>>,
}

/// The same file read again for where each alert address stands, to name its line in errors.
#[derive(Deserialize)]
struct AddressLines {
    #[serde(default)]
    organisation: Vec<OrganisationAddresses>,
    #[serde(default)]
    local_office: Vec<OrganisationAddresses>,
}

#[derive(Deserialize)]
struct OrganisationAddresses {
    #[serde(default)]
    alert_emails: Vec<toml::Spanned<String>>,
    #[serde(default)]
    contact: Option<toml::Spanned<Contact>>,
}

impl OrganisationAddresses {
    /// The first address that is not one, with where it stands.
    fn first_bad(&self) -> Option<(std::ops::Range<usize>, String)> {
        self.alert_emails
            .iter()
            .find(|a| !is_email_address(a.get_ref()))
            .map(|bad| {
                (
                    bad.span(),
                    format!(
                        "alert_emails entry {:?} is not an e-mail address",
                        bad.get_ref()
                    ),
                )
            })
            .or_else(|| {
                let contact = self.contact.as_ref()?;
                contact_mistake(contact.get_ref()).map(|m| (contact.span(), m))
            })
    }
}

/// What is wrong with a contact, if anything.
fn contact_mistake(contact: &Contact) -> Option<String> {
    if contact.name.trim().is_empty() {
        Some("contact has no name".to_string())
    } else if !is_email_address(&contact.email) {
        Some(format!(
            "contact email {:?} is not an e-mail address",
            contact.email
        ))
    } else {
        None
    }
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
        let bad_address = |emails: &[String], contact: &Option<Contact>| {
            emails.iter().any(|a| !is_email_address(a))
                || contact
                    .as_ref()
                    .is_some_and(|c| contact_mistake(c).is_some())
        };
        if file
            .organisation
            .iter()
            .any(|o| bad_address(&o.get_ref().alert_emails, &o.get_ref().contact))
            || file
                .local_office
                .iter()
                .any(|o| bad_address(&o.get_ref().alert_emails, &o.get_ref().contact))
        {
            // Read again for where each address stands, so the error names its own line.
            let lines: AddressLines = toml::from_str(text).map_err(|e| ConfigError::Syntax {
                source_name: source_name.to_string(),
                message: e.to_string(),
            })?;
            let named = file
                .organisation
                .iter()
                .map(|o| format!("organisation {}", o.get_ref().vpd))
                .zip(&lines.organisation)
                .chain(
                    file.local_office
                        .iter()
                        .map(|o| format!("local office {}", o.get_ref().code))
                        .zip(&lines.local_office),
                );
            for (entry, addresses) in named {
                if let Some((span, mistake)) = addresses.first_bad() {
                    return Err(invalid(span, format!("{entry}: {mistake}")));
                }
            }
        }
        let mut local_offices = BTreeMap::new();
        for entry in file.local_office {
            let span = entry.span();
            let office = entry.into_inner();
            if !LOCAL_OFFICES.contains(&office.code.as_str()) {
                return Err(invalid(
                    span,
                    format!(
                        "local office {:?} is not one of {}",
                        office.code,
                        LOCAL_OFFICES.join(", ")
                    ),
                ));
            }
            if local_offices.contains_key(&office.code) {
                return Err(invalid(
                    span,
                    format!("local office {} is listed more than once", office.code),
                ));
            }
            local_offices.insert(office.code.clone(), office);
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
        let in_order: Vec<Organisation> = by_vpd.into_values().collect();
        let by_vpd = in_order
            .iter()
            .enumerate()
            .map(|(place, org)| (org.vpd.clone(), place))
            .collect();
        Ok(Organisations {
            in_order,
            by_vpd,
            senders,
            local_offices,
        })
    }

    /// A configured `[[local_office]]`.
    pub fn local_office(&self, code: &str) -> Option<&LocalOffice> {
        self.local_offices.get(code)
    }

    pub fn local_offices(&self) -> impl Iterator<Item = &LocalOffice> {
        self.local_offices.values()
    }

    /// The local office a file's name names: a TIS file's own, a trust's file its trust's.
    pub fn local_office_of_source(&self, source: &str) -> Option<&LocalOffice> {
        self.local_office(source)
            .or_else(|| self.local_office(&self.get(source)?.local_office))
    }

    /// The contacts a notification or report for trust `vpd` names: the contact of local office
    /// `lo` (the one that sent the data; the trust's own local office when `None`) and the
    /// trust's own. `None` when neither is configured, so that such outputs stay as they were.
    pub fn questions(&self, vpd: &str, lo: Option<&str>) -> Option<Questions> {
        let organisation = self.get(vpd);
        let lo = lo.or(organisation.map(|o| o.local_office.as_str()))?;
        let questions = Questions {
            questions_about_this_file: self
                .local_office(lo)
                .and_then(|o| o.contact.as_ref())
                .map(Contact::line),
            trust_contact: organisation
                .and_then(|o| o.contact.as_ref())
                .map(Contact::line),
        };
        (questions.questions_about_this_file.is_some() || questions.trust_contact.is_some())
            .then_some(questions)
    }

    pub fn get(&self, vpd: &str) -> Option<&Organisation> {
        self.by_vpd
            .get(vpd)
            .and_then(|&place| self.in_order.get(place))
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
        self.in_order.iter()
    }

    pub fn len(&self) -> usize {
        self.in_order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.in_order.is_empty()
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

    const OFFICES: &str = r#"
[[local_office]]
code = "KSS"
name = "Kent, Surrey and Sussex"
alert_emails = ["kss.data@example.nhs.uk"]
contact = { name = "KSS TIS support", email = "kss.tis@example.nhs.uk", phone = "01234 567890" }

[[local_office]]
code = "LDN"
name = "London"
"#;

    #[test]
    fn local_offices_and_contacts_are_read() {
        let text = format!("{SAMPLE}{OFFICES}");
        let orgs = Organisations::from_toml(&text, "o.toml").unwrap();
        let kss = orgs.local_office("KSS").unwrap();
        assert_eq!(kss.alert_emails, ["kss.data@example.nhs.uk"]);
        assert_eq!(
            kss.contact.as_ref().unwrap().line(),
            "KSS TIS support, kss.tis@example.nhs.uk, 01234 567890"
        );
        assert!(orgs.local_office("LDN").unwrap().contact.is_none());
        assert_eq!(orgs.local_offices().count(), 2);
        assert_eq!(orgs.local_office_of_source("KSS").unwrap().code, "KSS");
        assert_eq!(orgs.local_office_of_source("504").unwrap().code, "KSS");
        assert!(orgs.local_office_of_source("NTH").is_none());
        let questions = orgs.questions("504", None).unwrap();
        assert_eq!(
            questions.lines(),
            ["Questions about this file: KSS TIS support, kss.tis@example.nhs.uk, 01234 567890"]
        );
        // The local office that sent the data is named, not the trust's own.
        assert!(orgs.questions("504", Some("LDN")).is_none());
        assert!(orgs.questions("999", None).is_none());
        let own = text.replace(
            "trac = true\n",
            "trac = true\ncontact = { name = \"Medical staffing\", email = \"mso@example.nhs.uk\" }\n",
        );
        let orgs = Organisations::from_toml(&own, "o.toml").unwrap();
        assert_eq!(
            orgs.questions("504", Some("LDN")).unwrap().lines(),
            ["Trust contact: Medical staffing, mso@example.nhs.uk"]
        );
        assert_eq!(orgs.questions("504", None).unwrap().lines().len(), 2);
        // Nothing configured: nothing named.
        let bare = Organisations::from_toml(SAMPLE, "o.toml").unwrap();
        assert!(bare.questions("504", None).is_none());
        assert!(bare.local_office("KSS").is_none());
    }

    #[test]
    fn local_office_mistakes_name_the_line() {
        let base = format!("{SAMPLE}{OFFICES}");
        let kss_line = SAMPLE.lines().count() + 2;
        let cases = [
            (
                base.replace("\"LDN\"\nname", "\"XYZ\"\nname"),
                "local office \"XYZ\" is not one of",
                kss_line + 6,
            ),
            (
                base.replace("\"LDN\"\nname", "\"KSS\"\nname"),
                "local office KSS is listed more than once",
                kss_line + 6,
            ),
            (
                base.replace("[\"kss.data@example.nhs.uk\"]", "[\n  \"kss.data\",\n]"),
                "local office KSS: alert_emails entry \"kss.data\" is not an e-mail address",
                kss_line + 4,
            ),
            (
                base.replace("email = \"kss.tis@example.nhs.uk\"", "email = \"kss tis\""),
                "local office KSS: contact email \"kss tis\" is not an e-mail address",
                kss_line + 4,
            ),
            (
                base.replace("name = \"KSS TIS support\"", "name = \" \""),
                "local office KSS: contact has no name",
                kss_line + 4,
            ),
            (
                base.replace("name = \"London\"", "name = \"London\"\nphone = \"1\""),
                "phone",
                0,
            ),
            (
                base.replace(
                    "mode = \"part\"",
                    "mode = \"part\"\ncontact = { name = \"X\", email = \"x@\" }",
                ),
                "organisation 999: contact email \"x@\" is not an e-mail address",
                15,
            ),
        ];
        for (text, expected, line) in cases {
            let err = Organisations::from_toml(&text, "o.toml")
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{err}");
            assert!(err.contains("line"), "{err}");
            if line > 0 {
                assert!(err.contains(&format!("o.toml, line {line}:")), "{err}");
            }
        }
    }
}

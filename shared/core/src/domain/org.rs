//! The organisation configuration (`organisations.toml`): which trusts are on the interface and how.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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
    /// Whether Trac (e-recruitment) may send employment checks for this trust (section 3). Off
    /// unless configured: checks from Trac are accepted only for a live trust with `trac = true`.
    #[serde(default)]
    pub trac: bool,
    /// Who is e-mailed when a notification, reminder or report is written for this trust
    /// (section 9): the title, a count and a portal link, never personal data. None unless set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alert_emails: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Organisations {
    by_vpd: BTreeMap<String, Organisation>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("organisation configuration {source_name} is not valid TOML: {message}")]
    Syntax {
        source_name: String,
        message: String,
    },
    #[error("organisation configuration {source_name}: {message}")]
    Invalid {
        source_name: String,
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    organisation: Vec<Organisation>,
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

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

impl Organisations {
    /// Parses and checks the TOML text; `source_name` names it in errors (a path or an S3 URI).
    ///
    /// # Errors
    /// Syntax errors, unknown keys, bad VPD or local office codes, and a VPD listed twice.
    pub fn from_toml(text: &str, source_name: &str) -> Result<Organisations, ConfigError> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            source_name: source_name.to_string(),
            message: e.to_string(),
        })?;
        let invalid = |message: String| ConfigError::Invalid {
            source_name: source_name.to_string(),
            message,
        };
        if file
            .organisation
            .iter()
            .flat_map(|o| &o.alert_emails)
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
                    return Err(invalid(format!(
                        "line {}: organisation {}: alert_emails entry {:?} is not an e-mail address",
                        line_of(text, bad.span().start),
                        org.vpd,
                        bad.get_ref()
                    )));
                }
            }
        }
        let mut by_vpd = BTreeMap::new();
        for org in file.organisation {
            if !is_vpd(&org.vpd) {
                return Err(invalid(format!(
                    "vpd {:?} is not a VPD code (3 or 4 letters or digits)",
                    org.vpd
                )));
            }
            if !LOCAL_OFFICES.contains(&org.local_office.as_str()) {
                return Err(invalid(format!(
                    "organisation {}: local_office {:?} is not one of {}",
                    org.vpd,
                    org.local_office,
                    LOCAL_OFFICES.join(", ")
                )));
            }
            if let Some(previous) = by_vpd.insert(org.vpd.clone(), org) {
                return Err(invalid(format!(
                    "vpd {} is listed more than once",
                    previous.vpd
                )));
            }
        }
        Ok(Organisations { by_vpd })
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
        assert!(err.to_string().contains("local_office \"ABC\""), "{err}");
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
}

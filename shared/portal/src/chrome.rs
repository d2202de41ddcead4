//! Page furniture shared by every template: who is signed in, the menu their role gets, and the
//! contacts of the footer (section 12: a trust's pages name its local office's contact, the
//! operator pages each trust's).

use dit_domain::org::Organisations;

use crate::identity::Identity;

/// The menu's entry for the reports: the first of them (`crate::reports`).
pub const REPORTS_NAV: &str = "/reports/notice";

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

pub struct Chrome {
    pub who: String,
    pub nav: Vec<NavItem>,
    /// Footer lines, one per contact; none where no contact is configured.
    pub contacts: Vec<String>,
}

impl Chrome {
    /// The menu of `identity`, with `current` (a menu href) marked, and its contacts.
    pub fn new(organisations: &Organisations, identity: &Identity, current: &str) -> Chrome {
        let items: &[(&'static str, &'static str)] = if identity.trainee_gmc().is_some() {
            &[("/", "Your placements")]
        } else if identity.sees_operator_pages() {
            &[
                ("/operator/files", "Files"),
                ("/operator/quarantine", "Quarantine"),
                ("/operator/sequence-check", "Sequence check"),
                ("/applicants", "Applicants"),
                (REPORTS_NAV, "Reports"),
            ]
        } else {
            &[
                ("/", "Coming rotation"),
                ("/inbox", "Inbox"),
                ("/worklist", "Worklist"),
                ("/applicants", "Applicants"),
                (REPORTS_NAV, "Reports"),
            ]
        };
        Chrome {
            who: identity.describe(),
            nav: items
                .iter()
                .map(|(href, label)| NavItem {
                    href,
                    label,
                    current: *href == current,
                })
                .collect(),
            contacts: contacts(organisations, identity),
        }
    }

    /// For pages shown before anyone is known (errors).
    pub fn anonymous() -> Chrome {
        Chrome {
            who: "not signed in".to_string(),
            nav: Vec::new(),
            contacts: Vec::new(),
        }
    }
}

/// A trust: its local office's contact. An operator: each trust's own contact, else its local
/// office's; a local office's data team the same for its own trusts.
fn contacts(organisations: &Organisations, identity: &Identity) -> Vec<String> {
    let office_contact = |code: &str| {
        organisations
            .local_office(code)
            .and_then(|o| o.contact.as_ref().map(|c| (o, c)))
    };
    if identity.sees_operator_pages() {
        return organisations
            .iter()
            .filter(|org| identity.sees_local_office(&org.local_office))
            .filter_map(|org| {
                let line = match (&org.contact, office_contact(&org.local_office)) {
                    (Some(own), _) => own.line(),
                    (None, Some((office, contact))) => {
                        format!("{} (local office {})", contact.line(), office.code)
                    }
                    (None, None) => return None,
                };
                Some(format!("{} {}: {line}", org.vpd, org.name))
            })
            .collect();
    }
    identity
        .vpd()
        .and_then(|vpd| organisations.get(vpd))
        .and_then(|org| office_contact(&org.local_office))
        .map(|(office, contact)| {
            vec![format!(
                "Questions about this file: {} ({})",
                contact.line(),
                office.name
            )]
        })
        .unwrap_or_default()
}

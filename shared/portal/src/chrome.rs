//! Page furniture shared by every template: who is signed in, and the menu their role gets.

use crate::identity::Identity;

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

pub struct Chrome {
    pub who: String,
    pub nav: Vec<NavItem>,
}

impl Chrome {
    /// The menu of `identity`, with `current` (a menu href) marked.
    pub fn new(identity: &Identity, current: &str) -> Chrome {
        let items: &[(&'static str, &'static str)] = if identity.is_operator() {
            &[
                ("/operator/files", "Files"),
                ("/operator/quarantine", "Quarantine"),
                ("/operator/sequence-check", "Sequence check"),
                ("/applicants", "Applicants"),
            ]
        } else {
            &[
                ("/inbox", "Inbox"),
                ("/worklist", "Worklist"),
                ("/applicants", "Applicants"),
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
        }
    }

    /// For pages shown before anyone is known (errors).
    pub fn anonymous() -> Chrome {
        Chrome {
            who: "not signed in".to_string(),
            nav: Vec::new(),
        }
    }
}

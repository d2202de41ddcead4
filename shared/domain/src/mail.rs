//! E-mail alerts (section 9): when a notification or reminder is written for a trust, its
//! `alert_emails` get one message saying what it is, how many it concerns and where to read it in
//! the portal. An alert is built only from [`AlertFacts`] (a title and a count), so no name, GMC or
//! NI number, date of birth or address can reach an e-mail.

use std::str::FromStr;
use std::time::SystemTime;

use chrono::{DateTime, NaiveDate, Utc};
use lettre::message::{Mailbox, SinglePart};
use lettre::{Address, Message};
use sha2::{Digest, Sha256};

use super::notify::{
    ApplicantNotification, NotificationKind, RotationNotification, StarterReminder,
    TrustNotification,
};
use super::pos::ReadinessReport;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The mail service could not be reached or refused for load: worth retrying later.
    #[error("mail service unavailable: {0}")]
    Unavailable(String),
    /// The mail service refused this message for good (e.g. an address it will not send to).
    #[error("mail refused: {0}")]
    Refused(String),
}

impl MailError {
    pub fn is_transient(&self) -> bool {
        matches!(self, MailError::Unavailable(_))
    }
}

/// An e-mail alert, composed except for its sender (the adapter's configured From address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The key of the notification it announces (outbound area, without extension): one alert
    /// per key is ever sent, however often the notification is written again.
    pub key: String,
    /// Whom it is for: a trust's VPD, or `lo-<LO>` for a local office's data team (the folder
    /// of its local `.eml`).
    pub vpd: String,
    pub to: Vec<String>,
    pub subject: String,
    /// Plain text.
    pub body: String,
    /// When the input that caused it was made (never the clock, so a rerun composes the same mail).
    pub date: DateTime<Utc>,
}

/// What the count of an alert counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    Applicants,
    TrainingPosts,
    /// Positions of a Medical Rotation grid.
    RotationPositions,
    DataQualityIssues,
}

impl Counted {
    fn label(self) -> &'static str {
        match self {
            Counted::Applicants => "Applicants concerned",
            Counted::TrainingPosts => "Training posts concerned",
            Counted::RotationPositions => "Positions in the rotation grid",
            Counted::DataQualityIssues => "Data quality issues",
        }
    }
}

/// Everything an alert may say about a notification: its title and one count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertFacts {
    pub title: String,
    pub date: NaiveDate,
    pub count: usize,
    pub counted: Counted,
}

/// A notification or report that a trust is alerted to.
pub trait Alerting {
    fn alert_facts(&self) -> AlertFacts;
}

impl Alerting for ApplicantNotification {
    fn alert_facts(&self) -> AlertFacts {
        AlertFacts {
            title: self.title.clone(),
            date: self.date_of_notification,
            count: self.failed.len() + self.created.len(),
            counted: Counted::Applicants,
        }
    }
}

impl Alerting for TrustNotification {
    fn alert_facts(&self) -> AlertFacts {
        AlertFacts {
            title: self.title.clone(),
            date: self.date_of_notification,
            count: self.rows.len(),
            counted: if self.kind == NotificationKind::NewPost {
                Counted::TrainingPosts
            } else {
                Counted::Applicants
            },
        }
    }
}

impl Alerting for RotationNotification {
    fn alert_facts(&self) -> AlertFacts {
        AlertFacts {
            title: self.title.clone(),
            date: self.date_of_notification,
            count: self.positions,
            counted: Counted::RotationPositions,
        }
    }
}

impl Alerting for StarterReminder {
    fn alert_facts(&self) -> AlertFacts {
        AlertFacts {
            title: self.title.clone(),
            date: self.date_of_notification,
            count: self.starters.len(),
            counted: Counted::Applicants,
        }
    }
}

impl Alerting for ReadinessReport {
    fn alert_facts(&self) -> AlertFacts {
        AlertFacts {
            title: self.title.clone(),
            date: self.business_date,
            count: self.summary.dpn_quality_issues
                + self.summary.position_name_quality_issues
                + self.duplicate_dpn.len(),
            counted: Counted::DataQualityIssues,
        }
    }
}

/// The portal page of an outbound object under `trusts/<vpd>/` (its key without extension).
pub fn portal_link(portal_url: &str, vpd: &str, base: &str) -> String {
    let item = base.strip_prefix(&format!("trusts/{vpd}/")).unwrap_or(base);
    format!("{}/inbox/{item}", portal_url.trim_end_matches('/'))
}

/// Where the local `.eml` of an alert goes (outbound area): `mail/<VPD>/<name>.eml`.
pub fn eml_key(mail: &Mail) -> String {
    let name = mail.key.rsplit('/').next().unwrap_or(&mail.key);
    format!("mail/{}/{name}.eml", mail.vpd)
}

/// The alert for the notification written under `base` (outbound key without extension).
#[allow(clippy::too_many_arguments)]
pub fn compose(
    facts: &AlertFacts,
    vpd: &str,
    trust_name: &str,
    base: &str,
    portal_url: &str,
    to: &[String],
    date: DateTime<Utc>,
) -> Mail {
    let trust = if trust_name.is_empty() {
        vpd.to_string()
    } else {
        format!("{trust_name} ({vpd})")
    };
    let body = format!(
        "A new notification is ready for {trust}\n\
         in the Doctors in Training portal.\n\
         \n\
         Title: {title}\n\
         Date of notification: {date}\n\
         {label}: {count}\n\
         \n\
         Read it in the portal (sign-in required):\n\
         {link}\n\
         \n\
         This e-mail holds no personal data: the details are in the portal only.\n",
        title = facts.title,
        date = facts.date.format("%d/%m/%Y"),
        label = facts.counted.label(),
        count = facts.count,
        link = portal_link(portal_url, vpd, base),
    );
    Mail {
        key: base.to_string(),
        vpd: vpd.to_string(),
        to: to.to_vec(),
        subject: facts.title.clone(),
        body,
        date,
    }
}

/// What a local office's data team is alerted to (section 12): a file's name, reason code and
/// line, or missing sequence numbers. Never a record's content, nor the reason's wording (which
/// may quote a line of the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataTeamFacts {
    Quarantined {
        file: String,
        code: String,
        line: Option<u64>,
    },
    MissingNumbers {
        business_date: NaiveDate,
        /// Per file type, the missing numbers as the sequence check lists them.
        missing: Vec<(String, String)>,
    },
}

/// The folder (and [`Mail::vpd`]) of local office `lo`'s data-team alerts.
pub fn data_team_folder(lo: &str) -> String {
    format!("lo-{lo}")
}

/// The alert to local office `lo`'s data team; `key` names it (one alert per key is sent).
pub fn compose_data_team(
    facts: &DataTeamFacts,
    lo: &str,
    key: &str,
    to: &[String],
    date: DateTime<Utc>,
) -> Mail {
    let (subject, details) = match facts {
        DataTeamFacts::Quarantined { file, code, line } => (
            format!("File quarantined: {file}"),
            format!(
                "A file from {lo} was quarantined: nothing in it was applied.\n\
                 \n\
                 File: {file}\n\
                 Reason code: {code}\n\
                 Line: {line}\n",
                line = line.map_or_else(|| "none".to_string(), |l| l.to_string()),
            ),
        ),
        DataTeamFacts::MissingNumbers {
            business_date,
            missing,
        } => {
            let date = business_date.format("%d/%m/%Y");
            let mut details = format!(
                "The TIS file sequence check of {date} found numbers that have not arrived.\n\n"
            );
            for (file_type, numbers) in missing {
                details.push_str(&format!("{file_type}: {numbers}\n"));
            }
            (
                format!("TIS file sequence check {date}: numbers missing"),
                details,
            )
        }
    };
    let body = format!(
        "{details}\n\
         See the operator pages of the Doctors in Training portal (sign-in required).\n\
         \n\
         This e-mail holds no personal data.\n"
    );
    Mail {
        key: key.to_string(),
        vpd: data_team_folder(lo),
        to: to.to_vec(),
        subject,
        body,
        date,
    }
}

/// Is `text` an e-mail address (`local@domain`, no display name)?
pub fn is_email_address(text: &str) -> bool {
    Address::from_str(text).is_ok()
}

/// The configured sender of alerts: an address, with or without a display name
/// (`Doctors in Training <dit@trust.nhs.uk>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromAddress {
    mailbox: Mailbox,
}

impl FromAddress {
    /// # Errors
    /// `text` is not an address; the message names it.
    pub fn parse(text: &str) -> Result<FromAddress, String> {
        Mailbox::from_str(text.trim())
            .map(|mailbox| FromAddress { mailbox })
            .map_err(|e| format!("{text:?} is not an e-mail address ({e})"))
    }

    /// As written in a From header.
    pub fn header_text(&self) -> String {
        self.mailbox.to_string()
    }

    /// The bare address (what SES checks against its verified identities).
    pub fn address(&self) -> String {
        self.mailbox.email.to_string()
    }
}

/// A Message-ID made from the alert's key: the same alert always gets the same id.
pub fn message_id(mail: &Mail, from: &FromAddress) -> String {
    let digest = Sha256::digest(mail.key.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("<{hex}.alert@{}>", from.mailbox.email.domain())
}

/// The alert as an RFC 5322 message (CRLF lines, a `text/plain` UTF-8 body). The same mail and
/// sender give the same bytes.
///
/// # Errors
/// [`MailError::Refused`] when a recipient is not an address.
pub fn render_eml(mail: &Mail, from: &FromAddress) -> Result<Vec<u8>, MailError> {
    let mut builder = Message::builder()
        .from(from.mailbox.clone())
        .date(SystemTime::from(mail.date))
        .message_id(Some(message_id(mail, from)))
        .subject(mail.subject.clone());
    for to in &mail.to {
        let address = Address::from_str(to)
            .map_err(|e| MailError::Refused(format!("alert {}: recipient: {e}", mail.key)))?;
        builder = builder.to(Mailbox::new(None, address));
    }
    let message = builder
        .singlepart(SinglePart::plain(mail.body.clone()))
        .map_err(|e| MailError::Refused(format!("alert {}: {e}", mail.key)))?;
    Ok(message.formatted())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn facts() -> AlertFacts {
        AlertFacts {
            title: "Medical Training - Change to Project Hire/End Date Notification (Paediatrics)"
                .into(),
            date: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
            count: 3,
            counted: Counted::Applicants,
        }
    }

    fn mail() -> Mail {
        compose(
            &facts(),
            "504",
            "Example Hospital NHS Trust",
            "trusts/504/notifications/DE_KSS_DNC_20261121_00000046.change-to-projected-hire-end-date-paediatrics",
            "https://portal.example.nhs.uk/",
            &["mso@example.nhs.uk".into(), "rota@example.nhs.uk".into()],
            Utc.with_ymd_and_hms(2026, 11, 21, 6, 30, 0).unwrap(),
        )
    }

    #[test]
    fn an_alert_says_title_count_and_portal_link() {
        let mail = mail();
        assert_eq!(mail.subject, facts().title);
        assert!(
            mail.body.contains("Applicants concerned: 3"),
            "{}",
            mail.body
        );
        assert!(mail.body.contains("Date of notification: 21/11/2026"));
        assert!(mail.body.contains(
            "\nhttps://portal.example.nhs.uk/inbox/notifications/DE_KSS_DNC_20261121_00000046.change-to-projected-hire-end-date-paediatrics\n"
        ), "{}", mail.body);
        assert_eq!(
            eml_key(&mail),
            "mail/504/DE_KSS_DNC_20261121_00000046.change-to-projected-hire-end-date-paediatrics.eml"
        );
    }

    #[test]
    fn the_eml_is_rfc_5322_and_the_same_every_time() {
        let from = FromAddress::parse("Doctors in Training <dit@example.nhs.uk>").unwrap();
        let bytes = render_eml(&mail(), &from).unwrap();
        assert_eq!(bytes, render_eml(&mail(), &from).unwrap());
        let text = String::from_utf8(bytes).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        for header in [
            "From: \"Doctors in Training\" <dit@example.nhs.uk>",
            "To: mso@example.nhs.uk, rota@example.nhs.uk",
            "Subject: Medical Training - Change to Project Hire/End Date Notification\r\n (Paediatrics)",
            "Date: Sat, 21 Nov 2026 06:30:00 +0000",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
        ] {
            assert!(head.contains(header), "{header:?} not in\n{head}");
        }
        let id = message_id(&mail(), &from);
        assert!(head.contains(&format!("Message-ID: {id}")), "{head}");
        assert!(id.ends_with("@example.nhs.uk>"));
        assert!(body.contains("Applicants concerned: 3"));
        // Another notification, another id.
        let mut other = mail();
        other.key.push('x');
        assert_ne!(message_id(&other, &from), id);
    }

    #[test]
    fn a_data_team_alert_names_file_code_and_line_only() {
        let facts = DataTeamFacts::Quarantined {
            file: "DE_KSS_APP_20261121_00000001.DAT".into(),
            code: "trailer_count".into(),
            line: Some(7),
        };
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 6, 30, 0).unwrap();
        let to = ["kss.data@example.nhs.uk".to_string()];
        let mail = compose_data_team(&facts, "KSS", "quarantine/tis/x.DAT.trailer_count", &to, at);
        assert_eq!(mail.vpd, "lo-KSS");
        assert_eq!(
            mail.subject,
            "File quarantined: DE_KSS_APP_20261121_00000001.DAT"
        );
        assert!(
            mail.body.contains("Reason code: trailer_count\nLine: 7\n"),
            "{}",
            mail.body
        );
        assert_eq!(eml_key(&mail), "mail/lo-KSS/x.DAT.trailer_count.eml");
        let facts = DataTeamFacts::MissingNumbers {
            business_date: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
            missing: vec![("APP".into(), "00000002, 00000003".into())],
        };
        let mail = compose_data_team(&facts, "KSS", "k", &to, at);
        assert!(mail.subject.contains("21/11/2026"), "{}", mail.subject);
        assert!(
            mail.body.contains("APP: 00000002, 00000003\n"),
            "{}",
            mail.body
        );
    }

    #[test]
    fn addresses_are_checked() {
        assert!(is_email_address("mso@example.nhs.uk"));
        for bad in [
            "",
            "mso",
            "mso@",
            "@example.nhs.uk",
            "mso @example.nhs.uk",
            "MSO <mso@example.nhs.uk>",
            "a@b.uk, c@d.uk",
            "mso@example.nhs.uk\r\nBcc: x@y.uk",
        ] {
            assert!(!is_email_address(bad), "{bad:?}");
        }
        assert!(FromAddress::parse("not an address").is_err());
        assert_eq!(
            FromAddress::parse("dit@example.nhs.uk").unwrap().address(),
            "dit@example.nhs.uk"
        );
        let mut mail = mail();
        mail.to.push("nobody".into());
        let from = FromAddress::parse("dit@example.nhs.uk").unwrap();
        assert!(matches!(
            render_eml(&mail, &from),
            Err(MailError::Refused(_))
        ));
    }
}

//! A **Trainee data query** (section 13): a doctor in training reports a problem with what is
//! held about one of their placements, and the trust that holds it finds it in its inbox.
//!
//! Choices where the spec is silent:
//! - The text is plain text of 1 to 1,000 characters once trimmed (line ends kept, as `\n`);
//!   other control characters are refused rather than dropped, so what the trust reads is what
//!   the trainee saw in the box.
//! - The same text about the same applicant on the same day is the same query: the key is the
//!   day, the applicant number and a hash of both with the text, so a double click, a browser's
//!   retry or a reload that posts it again names the same object. The day is the day the form was
//!   issued (bound by its CSRF token), so a form posted just after midnight is still one query.
//!   The same words on a later day are a new query (the problem is still there).
//! - The notification names the applicant number and the position, not the trainee's name or GMC
//!   number: the trust opens the applicant page for those. The alert, as every alert, carries
//!   only the title, the date and the count (one).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::mail::{AlertFacts, Alerting, Counted};
use crate::notify::{escape, page_start, short_date};

/// The title of the notification (and of its e-mail alert).
pub const TRAINEE_DATA_QUERY: &str = "Trainee data query";

/// The end of the notification's name, by which the inbox knows its kind.
pub const KIND_SUFFIX: &str = ".trainee-data-query";

/// The longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 1000;

/// The query's text as kept: trimmed, line ends as `\n`.
///
/// # Errors
/// What the trainee is told: empty, too long, or not plain text.
pub fn checked_text(text: &str) -> Result<String, String> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let text = text.trim();
    if text.is_empty() {
        return Err("Enter what is wrong with the details held".to_string());
    }
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(format!(
            "The problem must be {MAX_QUERY_CHARS} characters or fewer"
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err("Use plain text only".to_string());
    }
    Ok(text.to_string())
}

/// The notification's key (without `.json`/`.html`) in trust `vpd`'s area: the same for the same
/// applicant, day and (checked) text.
pub fn key(vpd: &str, applicant_number: &str, day: NaiveDate, text: &str) -> String {
    let mut hash = Sha256::new();
    for part in [applicant_number, &day.to_string(), text] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    let digest: String = hash.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "trusts/{vpd}/notifications/trainee-queries/{day}.{applicant_number}-{digest}{KIND_SUFFIX}"
    )
}

/// The notification a trust reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraineeDataQuery {
    pub title: String,
    pub trust_id: String,
    pub trust_name: String,
    pub date_of_notification: NaiveDate,
    pub applicant_number: String,
    pub position_number: String,
    pub projected_hire_date: NaiveDate,
    /// The trainee's words, as typed.
    pub query: String,
    pub body: String,
}

impl TraineeDataQuery {
    pub fn render_html(&self) -> String {
        let mut html = page_start(&escape(&self.title));
        html.push_str(&format!(
            "<p><b>Trust ID:</b> {} ({})<br><b>Date of Notification:</b> {}</p>\n\
<p><b>Applicant number:</b> {}<br><b>Position number:</b> {}<br><b>Projected hire date:</b> {}</p>\n\
<p>{}</p>\n<h2>The query</h2>\n<pre>{}</pre>\n</body></html>\n",
            escape(&self.trust_id),
            escape(&self.trust_name),
            short_date(self.date_of_notification),
            escape(&self.applicant_number),
            escape(&self.position_number),
            short_date(self.projected_hire_date),
            escape(&self.body),
            escape(&self.query),
        ));
        html
    }
}

/// What the trust is asked to do (the trainee changes nothing themselves).
pub const BODY: &str = "A doctor in training reported a problem with the details held about this placement. Check them on the applicant page; where they are wrong, correct them through a person update (PER) and let the trainee know.";

impl Alerting for TraineeDataQuery {
    fn alert_facts(&self) -> AlertFacts {
        AlertFacts {
            title: self.title.clone(),
            date: self.date_of_notification,
            count: 1,
            counted: Counted::Applicants,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn text_is_plain_trimmed_and_at_most_a_thousand_characters() {
        assert_eq!(
            checked_text("  My surname\r\nis wrong "),
            Ok("My surname\nis wrong".into())
        );
        assert!(checked_text("   \n ").is_err());
        assert!(checked_text(&"é".repeat(MAX_QUERY_CHARS)).is_ok());
        assert!(checked_text(&"é".repeat(MAX_QUERY_CHARS + 1)).is_err());
        assert!(checked_text("bell\u{7}").is_err());
    }

    #[test]
    fn the_key_depends_on_applicant_day_and_text_only() {
        let one = key("504", "5000001", day("2026-12-03"), "wrong address");
        assert_eq!(
            one,
            key("504", "5000001", day("2026-12-03"), "wrong address")
        );
        assert!(one.starts_with("trusts/504/notifications/trainee-queries/2026-12-03.5000001-"));
        assert!(one.ends_with(KIND_SUFFIX));
        for other in [
            key("504", "5000002", day("2026-12-03"), "wrong address"),
            key("504", "5000001", day("2026-12-04"), "wrong address"),
            key("504", "5000001", day("2026-12-03"), "wrong address!"),
        ] {
            assert_ne!(one, other);
        }
    }

    #[test]
    fn the_alert_counts_one_and_the_page_escapes_the_text() {
        let query = TraineeDataQuery {
            title: TRAINEE_DATA_QUERY.into(),
            trust_id: "504".into(),
            trust_name: "Trust".into(),
            date_of_notification: day("2026-12-03"),
            applicant_number: "5000001".into(),
            position_number: "504/X/1".into(),
            projected_hire_date: day("2027-02-03"),
            query: "<script>x</script>".into(),
            body: BODY.into(),
        };
        assert_eq!(query.alert_facts().count, 1);
        let html = query.render_html();
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
        assert!(html.contains("03/12/2026"));
    }
}

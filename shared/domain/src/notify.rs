//! Notifications for a trust's Medical Staffing Officer (section 4): structured data plus an HTML
//! rendering a person can read.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::lifecycle::PersonType;

pub const APPLICANT_NOTIFICATION_TITLE: &str = "Deanery Applicant Notification";

const FAILED_BODY: &str = "The following applications have failed to load as part of the Deanery Recruitment Interface. Please contact the appropriate Deanery Body to have the data resent or to make arrangements to have it entered manually.";
const CREATED_BODY: &str =
    "The following new applications were successfully created by the Deanery Recruitment Interface";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedApplication {
    #[serde(rename = "Position Number")]
    pub position_number: String,
    #[serde(rename = "Deanery Number")]
    pub deanery_number: String,
    #[serde(rename = "Applicant Name")]
    pub applicant_name: String,
    #[serde(rename = "Message Type")]
    pub message_type: String,
    #[serde(rename = "Message")]
    pub message: String,
    #[serde(rename = "Placement Id")]
    pub placement_id: String,
    #[serde(rename = "Record Number")]
    pub record_number: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApplication {
    #[serde(rename = "Position Number")]
    pub position_number: String,
    #[serde(rename = "Deanery Number")]
    pub deanery_number: String,
    #[serde(rename = "Applicant Name")]
    pub applicant_name: String,
    #[serde(rename = "Applicant Number")]
    pub applicant_number: String,
    #[serde(rename = "Message Type")]
    pub message_type: String,
    #[serde(rename = "Message")]
    pub message: String,
    #[serde(rename = "Placement Id")]
    pub placement_id: String,
    #[serde(rename = "Projected Hire Date")]
    pub projected_hire_date: NaiveDate,
}

/// The Deanery Applicant Notification sent to one trust after one APP file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicantNotification {
    pub title: String,
    pub trust_id: String,
    pub trust_name: String,
    pub date_of_notification: NaiveDate,
    pub source_file: String,
    pub requires_action: bool,
    pub failed_body: String,
    pub failed: Vec<FailedApplication>,
    pub created_body: String,
    pub created: Vec<CreatedApplication>,
}

impl ApplicantNotification {
    pub fn new(trust_id: &str, trust_name: &str, date: NaiveDate, source_file: &str) -> Self {
        ApplicantNotification {
            title: APPLICANT_NOTIFICATION_TITLE.to_string(),
            trust_id: trust_id.to_string(),
            trust_name: trust_name.to_string(),
            date_of_notification: date,
            source_file: source_file.to_string(),
            requires_action: false,
            failed_body: FAILED_BODY.to_string(),
            failed: vec![],
            created_body: CREATED_BODY.to_string(),
            created: vec![],
        }
    }

    pub fn render_html(&self) -> String {
        let mut html = page_start(&self.title);
        html.push_str(&format!(
            "<p><b>Trust ID:</b> {} ({})<br><b>Date of Notification:</b> {}<br><b>Source file:</b> {}</p>\n",
            escape(&self.trust_id),
            escape(&self.trust_name),
            self.date_of_notification.format("%d %b %Y"),
            escape(&self.source_file)
        ));
        if self.requires_action {
            html.push_str("<p><b>This Notification requires user action.</b></p>\n");
        }
        if !self.failed.is_empty() {
            html.push_str(&format!("<p>{}</p>\n", escape(&self.failed_body)));
            html.push_str(&table(
                &[
                    "Position Number",
                    "Deanery Number",
                    "Applicant Name",
                    "Message Type",
                    "Message",
                ],
                self.failed.iter().map(|f| {
                    [
                        &f.position_number,
                        &f.deanery_number,
                        &f.applicant_name,
                        &f.message_type,
                        &f.message,
                    ]
                }),
            ));
        }
        if !self.created.is_empty() {
            html.push_str(&format!("<p>{}</p>\n", escape(&self.created_body)));
            html.push_str(&table(
                &[
                    "Position Number",
                    "Deanery Number",
                    "Applicant Name",
                    "Applicant Number",
                    "Message Type",
                    "Message",
                ],
                self.created.iter().map(|c| {
                    [
                        &c.position_number,
                        &c.deanery_number,
                        &c.applicant_name,
                        &c.applicant_number,
                        &c.message_type,
                        &c.message,
                    ]
                }),
            ));
        }
        html.push_str("</body></html>\n");
        html
    }
}

/// The workflow notifications a notification file (DNC/DNF) produces for a trust, one per title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    ApplicantsWithdrawn,
    ReplacementApplication,
    DateChange,
    NewPost,
}

impl NotificationKind {
    /// The ESR title, with the specialty in brackets.
    pub fn title(self, specialty: &str) -> String {
        let base = match self {
            NotificationKind::ApplicantsWithdrawn => "Medical Training - Applicant(s) Withdrawn",
            NotificationKind::ReplacementApplication => {
                "Medical Training - Update to Rotation Notification - Replacement Application"
            }
            NotificationKind::DateChange => {
                "Medical Training - Change to Project Hire/End Date Notification"
            }
            NotificationKind::NewPost => "Medical Training - New Training Post Created by LETB",
        };
        format!("{base} ({specialty})")
    }

    pub fn slug(self) -> &'static str {
        match self {
            NotificationKind::ApplicantsWithdrawn => "applicants-withdrawn",
            NotificationKind::ReplacementApplication => "replacement-application",
            NotificationKind::DateChange => "change-to-projected-hire-end-date",
            NotificationKind::NewPost => "new-training-post",
        }
    }

    pub fn columns(self) -> &'static [&'static str] {
        match self {
            NotificationKind::ApplicantsWithdrawn => &[
                "Last Name",
                "First Name",
                "GMC supplied by LETB",
                "Employee/Applicant Number",
                "Employee Status",
                "Withdrawal Reason",
                "ESR Position ID",
                "TPN",
                "Managing LETB",
                "Position Title",
                "Host/Lead Status",
                "Location",
            ],
            NotificationKind::ReplacementApplication => &[
                "Last Name",
                "First Name",
                "GMC Number",
                "Projected Hire Date",
                "Replaces (Last Name)",
                "Replaces (First Name)",
                "Replaces (GMC Number)",
                "ESR Position ID",
                "TPN",
                "Site/Location",
            ],
            NotificationKind::DateChange => &[
                "Last Name",
                "First Name",
                "GMC Number",
                "Position Number",
                "Position Name",
                "New Projected Hire Date",
                "New Projected End Date",
            ],
            NotificationKind::NewPost => &["Training Post Number", "LETB/Deanery", "Site/Location"],
        }
    }

    fn body(self, effective: NaiveDate) -> String {
        match self {
            NotificationKind::ApplicantsWithdrawn => "The following medical and dental trainee(s) have been withdrawn from their placement. See details below and take the necessary steps to withdraw their applicant record.".to_string(),
            NotificationKind::ReplacementApplication => "The following trainee(s) replace a trainee withdrawn from the position(s) below. Please contact the LETB for the replacement application and update the rotation accordingly.".to_string(),
            NotificationKind::DateChange => "Below are details of a trainee who has had their projected hire/end date amended in the LETB system. Please locate the person record and make the appropriate amendment to the application.".to_string(),
            NotificationKind::NewPost => format!("The following position(s) have been created by LETB with effect from {}. Please contact the LETB directly to establish full details, so that this post can be setup within ESR.", long_date(effective)),
        }
    }
}

/// Dates as the ESR notifications print them: `04 February 2015`.
pub fn long_date(date: NaiveDate) -> String {
    date.format("%d %B %Y").to_string()
}

/// A workflow notification for one trust: a title, the ESR body text and a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustNotification {
    pub title: String,
    pub kind: NotificationKind,
    pub specialty: String,
    pub trust_id: String,
    pub trust_name: String,
    pub date_of_notification: NaiveDate,
    pub source_file: String,
    pub body: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl TrustNotification {
    pub fn new(
        kind: NotificationKind,
        specialty: &str,
        trust_id: &str,
        trust_name: &str,
        date: NaiveDate,
        source_file: &str,
    ) -> Self {
        TrustNotification {
            title: kind.title(specialty),
            kind,
            specialty: specialty.to_string(),
            trust_id: trust_id.to_string(),
            trust_name: trust_name.to_string(),
            date_of_notification: date,
            source_file: source_file.to_string(),
            body: kind.body(date),
            columns: kind.columns().iter().map(|c| c.to_string()).collect(),
            rows: vec![],
        }
    }

    pub fn render_html(&self) -> String {
        let mut html = page_start(&self.title);
        html.push_str(&format!(
            "<p><b>Trust ID:</b> {} ({})<br><b>Date of Notification:</b> {}<br><b>Source file:</b> {}</p>\n<p>{}</p>\n",
            escape(&self.trust_id),
            escape(&self.trust_name),
            self.date_of_notification.format("%d %b %Y"),
            escape(&self.source_file),
            escape(&self.body)
        ));
        let headers: Vec<&str> = self.columns.iter().map(String::as_str).collect();
        html.push_str(&table(&headers, self.rows.iter()));
        html.push_str("</body></html>\n");
        html
    }

    /// A file-name fragment: the kind and the specialty, lower case, letters and digits only.
    pub fn slug(&self) -> String {
        let specialty: String = self
            .specialty
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect::<String>()
            .split('-')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        if specialty.is_empty() {
            self.kind.slug().to_string()
        } else {
            format!("{}-{specialty}", self.kind.slug())
        }
    }
}

pub const ROTATION_NOTIFICATION_TITLE: &str = "Medical Training - Medical Rotation Notification";

/// The Medical Rotation Notification: a trust's MEDROT was regenerated, and here is a link to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationNotification {
    pub title: String,
    pub trust_id: String,
    pub trust_name: String,
    pub date_of_notification: NaiveDate,
    pub source_file: String,
    pub body: String,
    pub note: String,
    /// The MEDROT's file name and its key in the outbound area.
    pub medrot_file: String,
    pub medrot_key: String,
    /// Rows (positions) in the grid.
    pub positions: usize,
    /// The portal's download of the MEDROT: the portal signs the person in and only then makes
    /// the download (in AWS a presigned URL minted at the click), so this link never expires.
    pub link: String,
    pub access: String,
}

impl RotationNotification {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        trust_id: &str,
        trust_name: &str,
        local_office: &str,
        date: NaiveDate,
        source_file: &str,
        medrot_key: &str,
        positions: usize,
        link: &str,
    ) -> Self {
        let medrot_file = medrot_key.rsplit('/').next().unwrap_or(medrot_key);
        let folder = medrot_key.strip_suffix(medrot_file).unwrap_or_default();
        RotationNotification {
            title: ROTATION_NOTIFICATION_TITLE.to_string(),
            trust_id: trust_id.to_string(),
            trust_name: trust_name.to_string(),
            date_of_notification: date,
            source_file: source_file.to_string(),
            body: format!("Below is a link which will take you to the latest Medical Rotation grid supplied by {local_office}, as trainees at your Trust are due to rotate to their next placement. Check the details and undertake the necessary steps to either appoint them into their new position or terminate their employee record."),
            note: "Please Note: Where the details related to the current and or next post holder are blank, this may or may not indicate a vacancy against the position and you should contact your LETB Lead for more information.".to_string(),
            medrot_file: medrot_file.to_string(),
            medrot_key: medrot_key.to_string(),
            positions,
            link: link.to_string(),
            access: format!("Click on this link and sign in to the Doctors in Training portal to download the Medical Rotation grid. The link does not expire and gives nothing to anyone who cannot sign in as your Trust; the grid stays in your Trust's area ({folder}) and in your portal inbox until a newer grid replaces it."),
        }
    }

    pub fn render_html(&self) -> String {
        let mut html = page_start(&self.title);
        html.push_str(&format!(
            "<p><b>Trust ID:</b> {} ({})<br><b>Date of Notification:</b> {}<br><b>Source file:</b> {}</p>\n<p>{}</p>\n<p>{}</p>\n",
            escape(&self.trust_id),
            escape(&self.trust_name),
            self.date_of_notification.format("%d %b %Y"),
            escape(&self.source_file),
            escape(&self.body),
            escape(&self.note)
        ));
        html.push_str(&format!(
            "<p><a href=\"{}\">{}</a> ({} positions)</p>\n<p><b>{}</b></p>\n",
            escape(&self.link),
            escape(&self.medrot_file),
            self.positions,
            escape(&self.access)
        ));
        html.push_str("</body></html>\n");
        html
    }
}

/// The ESR text of the new-starter reminder (the seed's "Deanery - Jnr. Doctor Starter(s)").
pub const STARTER_REMINDER_BODY: &str = "The following medical and dental trainees are due to commence their new placement within the next 5 days. You should ensure that the necessary steps have been taken to hire them into their new positions on the hire date. Please note: If the trainee already occupies a post within your organisation, please remember to action their current employee assignment accordingly. If you are the host trust for the trainee, please ensure that you hire the applicant as an honorary employee.";

/// The columns of the reminder as a person reads it: ESR's five, then how to hire.
pub const STARTER_REMINDER_COLUMNS: [&str; 6] = [
    "Position Number",
    "Last Name",
    "First Name",
    "GMC Number",
    "Projected Hire Date",
    "Hire As",
];

/// Dates as the ESR reminder prints them: `03/02/2027`.
pub fn short_date(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

/// One trainee due to start: a row of the reminder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Starter {
    #[serde(rename = "Position Number")]
    pub position_number: String,
    #[serde(rename = "Last Name")]
    pub last_name: String,
    #[serde(rename = "First Name")]
    pub first_name: String,
    #[serde(rename = "GMC Number")]
    pub gmc_number: String,
    #[serde(rename = "Projected Hire Date")]
    pub projected_hire_date: NaiveDate,
    /// `Honorary` when the position is a Host Employer position (the trust hosts the trainee).
    #[serde(rename = "Hire As")]
    pub hire_as: PersonType,
    /// Not in ESR's table; the number a trust action (`offer`, `hire`, ...) names.
    #[serde(rename = "Applicant Number")]
    pub applicant_number: String,
    /// Loaded, or re-dated, after the run five days before its hire date: reminded in the next run.
    #[serde(rename = "Late", default, skip_serializing_if = "std::ops::Not::not")]
    pub late: bool,
    /// An internal mover (section 10): the trust updates the assignment, it does not hire.
    #[serde(
        rename = "Internal Move",
        default,
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub internal_move: bool,
}

/// The heading of the reminder's table of internal movers (section 10).
pub const INTERNAL_MOVES_HEADING: &str = "Internal moves: update the assignment, do not hire";

/// "Deanery - Jnr. Doctor Starter(s) (<VPD>)": one trust's trainees starting on one date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StarterReminder {
    pub title: String,
    pub trust_id: String,
    pub trust_name: String,
    /// The business date the reminder is for (never the clock).
    pub date_of_notification: NaiveDate,
    /// The projected hire date of the starters reminded on time (date of notification + 5 days);
    /// a late starter's own date is in its row.
    pub projected_hire_date: NaiveDate,
    pub body: String,
    pub starters: Vec<Starter>,
}

impl StarterReminder {
    pub fn new(trust_id: &str, trust_name: &str, date: NaiveDate, hire_date: NaiveDate) -> Self {
        StarterReminder {
            title: format!("Deanery - Jnr. Doctor Starter(s) ({trust_id})"),
            trust_id: trust_id.to_string(),
            trust_name: trust_name.to_string(),
            date_of_notification: date,
            projected_hire_date: hire_date,
            body: STARTER_REMINDER_BODY.to_string(),
            starters: vec![],
        }
    }

    pub fn render_html(&self) -> String {
        let mut html = page_start(&self.title);
        // ESR shows "honorary" in bold; the stored body stays plain text.
        let body =
            escape(&self.body).replace("as an honorary employee", "as an <b>honorary</b> employee");
        html.push_str(&format!(
            "<p><b>Trust ID:</b> {} ({})<br><b>Date of Notification:</b> {}</p>\n<p>{body}</p>\n",
            escape(&self.trust_id),
            escape(&self.trust_name),
            short_date(self.date_of_notification),
        ));
        let (movers, starters): (Vec<&Starter>, Vec<&Starter>) =
            self.starters.iter().partition(|s| s.internal_move);
        let late = self.starters.iter().filter(|s| s.late).count();
        let mut columns = STARTER_REMINDER_COLUMNS.to_vec();
        if late > 0 {
            html.push_str(&format!(
                "<p><b>Late:</b> {late} trainee(s) marked late were loaded, or had their projected hire date changed, after their reminder was due. They start within the next 5 days: please hire them before their projected hire date.</p>\n"
            ));
            columns.push("Reminder");
        }
        let row = |s: &Starter| {
            let mut row = vec![
                s.position_number.clone(),
                s.last_name.clone(),
                s.first_name.clone(),
                s.gmc_number.clone(),
                short_date(s.projected_hire_date),
                match s.hire_as {
                    PersonType::Employee => "Employee".to_string(),
                    PersonType::Honorary => "Honorary".to_string(),
                },
            ];
            if late > 0 {
                row.push(if s.late { "late" } else { "" }.to_string());
            }
            row
        };
        html.push_str(&table(&columns, starters.iter().map(|s| row(s))));
        if !movers.is_empty() {
            html.push_str(&format!(
                "<h2>{INTERNAL_MOVES_HEADING}</h2>\n<p>{} trainee(s) below already work for this trust: update their existing assignment to the new position (update_assignment) on the hire date; do not hire them again.</p>\n",
                movers.len()
            ));
            html.push_str(&table(&columns, movers.iter().map(|s| row(s))));
        }
        html.push_str("</body></html>\n");
        html
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

/// Appends `text` to `out` escaped for HTML, copying the runs between special characters whole.
pub fn escape_into(out: &mut String, text: &str) {
    let mut plain_from = 0;
    for (at, byte) in text.bytes().enumerate() {
        let entity = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&text[plain_from..at]);
        out.push_str(entity);
        plain_from = at + 1;
    }
    out.push_str(&text[plain_from..]);
}

pub fn page_start(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}</title>\
<style>body{{font-family:Arial,sans-serif}}table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:2px 6px;text-align:left}}th{{background:#eee}}.issue{{background:#f4c7c3}}</style></head>\n<body>\n<h1>{0}</h1>\n",
        escape(title)
    )
}

pub fn table<Row, Cell>(headers: &[&str], rows: impl Iterator<Item = Row>) -> String
where
    Row: IntoIterator<Item = Cell>,
    Cell: AsRef<str>,
{
    let mut html = String::from("<table>\n<tr>");
    for h in headers {
        html.push_str("<th>");
        escape_into(&mut html, h);
        html.push_str("</th>");
    }
    html.push_str("</tr>\n");
    for row in rows {
        html.push_str("<tr>");
        for cell in row {
            html.push_str("<td>");
            escape_into(&mut html, cell.as_ref());
            html.push_str("</td>");
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n");
    html
}

#[cfg(test)]
mod tests {
    #[test]
    fn internal_movers_have_their_own_table_in_the_reminder() {
        let d = NaiveDate::from_ymd_opt(2027, 1, 29).unwrap();
        let hire = NaiveDate::from_ymd_opt(2027, 2, 3).unwrap();
        let mut n = StarterReminder::new("504", "Trust", d, hire);
        for (number, internal_move) in [("1", false), ("2", true)] {
            n.starters.push(Starter {
                position_number: format!("P{number}"),
                last_name: "Trainee".into(),
                first_name: "Test".into(),
                gmc_number: "7000001".into(),
                projected_hire_date: hire,
                hire_as: PersonType::Employee,
                applicant_number: number.into(),
                late: false,
                internal_move,
            });
        }
        let html = n.render_html();
        let heading = html
            .find(INTERNAL_MOVES_HEADING)
            .expect("the movers' heading");
        assert!(html.find("P1").unwrap() < heading && html.find("P2").unwrap() > heading);
        let json = serde_json::to_value(&n).unwrap();
        assert_eq!(json["starters"][1]["Internal Move"], true);
        assert!(json["starters"][0].get("Internal Move").is_none());
    }

    use super::*;

    #[test]
    fn starter_reminder_has_the_esr_title_text_and_dates() {
        let d = NaiveDate::from_ymd_opt(2027, 1, 29).unwrap();
        let hire = NaiveDate::from_ymd_opt(2027, 2, 3).unwrap();
        let mut n = StarterReminder::new("505", "Example <Trust>", d, hire);
        n.starters.push(Starter {
            position_number: "32557334".into(),
            last_name: "O'Brien".into(),
            first_name: "Sean".into(),
            gmc_number: "1234567".into(),
            projected_hire_date: hire,
            hire_as: PersonType::Honorary,
            applicant_number: "5000001".into(),
            late: false,
            internal_move: false,
        });
        assert_eq!(n.title, "Deanery - Jnr. Doctor Starter(s) (505)");
        assert!(n.body.ends_with(
            "If you are the host trust for the trainee, please ensure that you hire the applicant as an honorary employee."
        ));
        let html = n.render_html();
        assert!(html.contains("<b>Date of Notification:</b> 29/01/2027"));
        assert!(html.contains("<td>03/02/2027</td><td>Honorary</td>"));
        assert!(html.contains("O&#39;Brien"));
        assert!(html.contains("Example &lt;Trust&gt;"));
        assert!(html.contains("as an <b>honorary</b> employee."));
        let json = serde_json::to_value(&n).unwrap();
        assert_eq!(json["starters"][0]["Hire As"], "Honorary");
        assert_eq!(json["starters"][0]["Projected Hire Date"], "2027-02-03");
    }

    #[test]
    fn html_escapes_names_and_shows_both_sections() {
        let mut n = ApplicantNotification::new(
            "504",
            "Example <Trust>",
            NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
            "DE_KSS_APP_20261121_00000042.DAT",
        );
        n.failed.push(FailedApplication {
            position_number: "10508064".into(),
            deanery_number: "WAL/1D9PL/527/TYU/987".into(),
            applicant_name: ",<script>".into(),
            message_type: "ERROR".into(),
            message: "Mandatory item LAST_NAME not supplied. Application rejected.".into(),
            placement_id: "1".into(),
            record_number: 1,
        });
        n.created.push(CreatedApplication {
            position_number: "10508064".into(),
            deanery_number: "WAL/1D9PL/527/TYU/987".into(),
            applicant_name: "O'Brien,Sean".into(),
            applicant_number: "4769160".into(),
            message_type: "INFO".into(),
            message: "Application is from a NEW Applicant".into(),
            placement_id: "2".into(),
            projected_hire_date: NaiveDate::from_ymd_opt(2027, 2, 3).unwrap(),
        });
        let html = n.render_html();
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("O&#39;Brien,Sean"));
        assert!(html.contains("have failed to load"));
        assert!(html.contains("successfully created"));
        assert!(html.contains("21 Nov 2026"));
    }
}

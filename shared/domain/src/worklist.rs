//! The trust's worklist (section 11): what a medical staffing team must do next for business date
//! D, in six sections, from the trust's applicants near their dates and its current post holders.
//! Leavers (section 10) are the current holders whose projected end date is within 28 days of D
//! and who have no later applicant at the trust. Pure: no clock, no store.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::dnc::RotationEntry;
use super::lifecycle::ApplicantState;
use super::model::Applicant;

/// Starters hired within this many days and not yet accepted are listed.
pub const STARTING_DAYS: u64 = 14;
/// Accepted starters hired within this many days are ready to hire.
pub const READY_DAYS: u64 = 5;
/// Holders whose projected end date is within this many days are leavers.
pub const LEAVING_DAYS: u64 = 28;
/// How far back overdue starters are read: the transfer window (13 weeks), so an applicant
/// loaded on time is overdue for as long as it could have been loaded ahead of its date.
pub const OVERDUE_DAYS: u64 = super::lifecycle::WINDOW_MAX_DAYS;
/// How far ahead open starters are read: the transfer window (2.5), so every open applicant
/// loaded by D is read.
pub const AHEAD_DAYS: u64 = super::lifecycle::WINDOW_MAX_DAYS;

/// The names of the sections, in the order of section 11 (also their JSON keys).
pub const SECTIONS: [&str; 6] = [
    "overdue",
    "starting_not_accepted",
    "ready_to_hire",
    "checks_outstanding",
    "internal_moves",
    "leaving",
];

/// The headings of the sections as a person reads them.
pub const HEADINGS: [&str; 6] = [
    "Overdue",
    "Starting within 14 days, not accepted",
    "Ready to hire",
    "Checks outstanding",
    "Internal moves",
    "Leaving",
];

/// One row of a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub applicant_number: String,
    pub last_name: String,
    pub first_name: String,
    pub gmc_number: Option<String>,
    pub position_number: String,
    pub projected_hire_date: Option<NaiveDate>,
    pub state: String,
    /// Days from D to the hire date (negative: since); for a leaver, to the projected end date.
    pub days: i64,
}

/// The six sections.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Sections {
    pub overdue: Vec<Row>,
    pub starting_not_accepted: Vec<Row>,
    pub ready_to_hire: Vec<Row>,
    pub checks_outstanding: Vec<Row>,
    pub internal_moves: Vec<Row>,
    pub leaving: Vec<Row>,
}

impl Sections {
    /// The sections in the order of [`SECTIONS`].
    pub fn all(&self) -> [&Vec<Row>; 6] {
        [
            &self.overdue,
            &self.starting_not_accepted,
            &self.ready_to_hire,
            &self.checks_outstanding,
            &self.internal_moves,
            &self.leaving,
        ]
    }

    fn all_mut(&mut self) -> [&mut Vec<Row>; 6] {
        [
            &mut self.overdue,
            &mut self.starting_not_accepted,
            &mut self.ready_to_hire,
            &mut self.checks_outstanding,
            &mut self.internal_moves,
            &mut self.leaving,
        ]
    }

    /// The section named `name` (one of [`SECTIONS`]).
    pub fn named(&self, name: &str) -> Option<&Vec<Row>> {
        SECTIONS
            .iter()
            .position(|s| *s == name)
            .map(|i| self.all()[i])
    }
}

/// The worklist of one trust for one business date: the JSON of section 11.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Worklist {
    pub vpd: String,
    pub date: NaiveDate,
    pub sections: Sections,
}

impl Worklist {
    /// The number of rows of each section, in the order of [`SECTIONS`].
    pub fn counts(&self) -> [usize; 6] {
        self.sections.all().map(Vec::len)
    }

    /// Whether the daily Outstanding actions notification is due: Overdue or Ready to hire.
    pub fn needs_action(&self) -> bool {
        !self.sections.overdue.is_empty() || !self.sections.ready_to_hire.is_empty()
    }
}

/// The dates whose starters the worklist reads: D - [`OVERDUE_DAYS`] to D + [`AHEAD_DAYS`].
pub fn read_window(date: NaiveDate) -> (NaiveDate, NaiveDate) {
    (
        date.checked_sub_days(Days::new(OVERDUE_DAYS))
            .unwrap_or(date),
        date.checked_add_days(Days::new(AHEAD_DAYS)).unwrap_or(date),
    )
}

fn days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days()
}

fn row(applicant: &Applicant, date: NaiveDate) -> Row {
    Row {
        applicant_number: applicant.applicant_number.clone(),
        last_name: applicant.details.last_name.clone(),
        first_name: applicant.details.first_name.clone(),
        gmc_number: applicant.details.gmc_number.clone(),
        position_number: applicant.position_number.clone(),
        projected_hire_date: Some(applicant.projected_hire_date),
        state: applicant.state.name().to_string(),
        days: days_between(date, applicant.projected_hire_date),
    }
}

/// Builds the worklist of trust `vpd` for date D from its applicants read near their dates
/// (`applicants`; another trust's are ignored) and the trust's rotation grid (current holders of
/// DNC/DNF type 1). `later_of(gmc, after)` says whether a person has an applicant at the trust (not
/// withdrawn or rejected) hired after a date: a holder with one is not a leaver (for a hired
/// applicant, after its own hire date; for a holder of the grid, after D).
pub fn build(
    vpd: &str,
    date: NaiveDate,
    applicants: &[Applicant],
    grid: &[RotationEntry],
    later_of: impl Fn(&str, NaiveDate) -> bool,
) -> Worklist {
    use ApplicantState::*;
    let mut sections = Sections::default();
    let in_days = |n: u64| date.checked_add_days(Days::new(n)).unwrap_or(date);
    let leaving_by = in_days(LEAVING_DAYS);
    let mut leavers_gmc = std::collections::HashSet::new();
    for a in applicants.iter().filter(|a| a.vpd == vpd) {
        let hire = a.projected_hire_date;
        let open = matches!(a.state, Loaded | Offered | Accepted);
        if open && hire < date {
            sections.overdue.push(row(a, date));
        }
        if matches!(a.state, Loaded | Offered) && hire >= date && hire <= in_days(STARTING_DAYS) {
            sections.starting_not_accepted.push(row(a, date));
        }
        if a.state == Accepted && hire >= date && hire <= in_days(READY_DAYS) {
            sections.ready_to_hire.push(row(a, date));
        }
        if a.state == Offered && a.employment_checks.is_none() && a.trust_checks.is_none() {
            sections.checks_outstanding.push(row(a, date));
        }
        if a.internal_mover && open {
            sections.internal_moves.push(row(a, date));
        }
        if a.state == Hired {
            if let Some(end) = a
                .projected_end_date
                .filter(|e| *e >= date && *e <= leaving_by)
            {
                let later = a
                    .gmc_number()
                    .is_some_and(|gmc| later_of(gmc, a.projected_hire_date));
                if !later {
                    let mut leaver = row(a, date);
                    leaver.days = days_between(date, end);
                    if let Some(gmc) = a.gmc_number() {
                        leavers_gmc.insert(gmc.to_string());
                    }
                    sections.leaving.push(leaver);
                }
            }
        }
    }
    for entry in grid
        .iter()
        .filter(|e| e.vpd == vpd && !e.current.is_empty())
    {
        let Some(end) = entry
            .current_projected_end_date
            .filter(|e| *e >= date && *e <= leaving_by)
        else {
            continue;
        };
        let gmc = entry.current.gmc_number.as_str();
        // A holder with a post at the trust starting after D stays.
        if !gmc.is_empty() && (leavers_gmc.contains(gmc) || later_of(gmc, date)) {
            continue;
        }
        if !gmc.is_empty() {
            leavers_gmc.insert(gmc.to_string());
        }
        sections.leaving.push(Row {
            applicant_number: String::new(),
            last_name: entry.current.last_name.clone(),
            first_name: entry.current.first_name.clone(),
            gmc_number: (!gmc.is_empty()).then(|| gmc.to_string()),
            position_number: entry.position_id.clone(),
            projected_hire_date: None,
            state: "current holder".to_string(),
            days: days_between(date, end),
        });
    }
    for section in sections.all_mut() {
        section.sort_by(|a, b| {
            (a.projected_hire_date, a.days, &a.applicant_number).cmp(&(
                b.projected_hire_date,
                b.days,
                &b.applicant_number,
            ))
        });
    }
    Worklist {
        vpd: vpd.to_string(),
        date,
        sections,
    }
}

/// The title of the daily notification.
pub const OUTSTANDING_ACTIONS: &str = "Outstanding actions";

/// The daily **Outstanding actions** notification (section 11): the worklist's counts, no rows and
/// no personal data, written when Overdue or Ready to hire is not empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutstandingActions {
    pub title: String,
    pub trust_id: String,
    pub trust_name: String,
    pub date_of_notification: NaiveDate,
    /// Section name (as in [`SECTIONS`]) to its number of rows.
    pub counts: std::collections::BTreeMap<String, usize>,
    pub body: String,
}

impl OutstandingActions {
    pub fn new(trust_id: &str, trust_name: &str, worklist: &Worklist) -> Self {
        let counts = SECTIONS
            .iter()
            .zip(worklist.counts())
            .map(|(name, count)| (name.to_string(), count))
            .collect();
        OutstandingActions {
            title: format!("{OUTSTANDING_ACTIONS} ({trust_id})"),
            trust_id: trust_id.to_string(),
            trust_name: trust_name.to_string(),
            date_of_notification: worklist.date,
            counts,
            body: "Applicants of your trust need action: some are past their projected hire date, or accepted and due to start within 5 days. Open the worklist in the portal to see who, and act on them there.".to_string(),
        }
    }

    /// Overdue plus Ready to hire: what the alert counts.
    pub fn needing_action(&self) -> usize {
        self.counts.get("overdue").copied().unwrap_or(0)
            + self.counts.get("ready_to_hire").copied().unwrap_or(0)
    }

    pub fn render_html(&self) -> String {
        use super::notify::{escape, page_start, short_date, table};
        let mut html = page_start(&escape(&self.title));
        html.push_str(&format!(
            "<p><b>Trust ID:</b> {} ({})<br><b>Date of Notification:</b> {}</p>\n<p>{}</p>\n",
            escape(&self.trust_id),
            escape(&self.trust_name),
            short_date(self.date_of_notification),
            escape(&self.body)
        ));
        html.push_str(&table(
            &["Worklist section", "Applicants"],
            SECTIONS.iter().zip(HEADINGS).map(|(name, heading)| {
                [
                    heading.to_string(),
                    self.counts.get(*name).copied().unwrap_or(0).to_string(),
                ]
            }),
        ));
        html.push_str("</body></html>\n");
        html
    }
}

impl super::mail::Alerting for OutstandingActions {
    fn alert_facts(&self) -> super::mail::AlertFacts {
        super::mail::AlertFacts {
            title: self.title.clone(),
            date: self.date_of_notification,
            count: self.needing_action(),
            counted: super::mail::Counted::Applicants,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::applicant;
    use ApplicantState::*;

    const D: &str = "2027-01-10";

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn numbers(rows: &[Row]) -> Vec<(&str, i64)> {
        rows.iter()
            .map(|r| (r.applicant_number.as_str(), r.days))
            .collect()
    }

    fn list(applicants: &[Applicant]) -> Worklist {
        build("504", d(D), applicants, &[], |_, _| false)
    }

    #[test]
    fn overdue_is_before_d_and_open() {
        let w = list(&[
            applicant("1", Loaded, "2027-01-09", false),
            applicant("2", Accepted, "2026-12-01", false),
            applicant("3", Offered, "2027-01-10", false),
            applicant("4", Hired, "2027-01-01", false),
            applicant("5", Withdrawn, "2027-01-01", false),
        ]);
        assert_eq!(numbers(&w.sections.overdue), vec![("2", -40), ("1", -1)]);
    }

    #[test]
    fn starting_not_accepted_is_d_to_d_plus_14_loaded_or_offered() {
        let w = list(&[
            applicant("1", Loaded, "2027-01-10", false),
            applicant("2", Offered, "2027-01-24", false),
            applicant("3", Offered, "2027-01-25", false),
            applicant("4", Accepted, "2027-01-12", false),
            applicant("5", Loaded, "2027-01-09", false),
        ]);
        assert_eq!(
            numbers(&w.sections.starting_not_accepted),
            vec![("1", 0), ("2", 14)]
        );
    }

    #[test]
    fn ready_to_hire_is_accepted_d_to_d_plus_5() {
        let w = list(&[
            applicant("1", Accepted, "2027-01-10", false),
            applicant("2", Accepted, "2027-01-15", false),
            applicant("3", Accepted, "2027-01-16", false),
            applicant("4", Accepted, "2027-01-09", false),
            applicant("5", Offered, "2027-01-11", false),
        ]);
        assert_eq!(numbers(&w.sections.ready_to_hire), vec![("1", 0), ("2", 5)]);
        assert!(w.needs_action());
    }

    #[test]
    fn checks_outstanding_and_internal_moves() {
        let mut checked = applicant("2", Offered, "2027-02-01", false);
        checked.employment_checks = Some(crate::model::EmploymentChecks {
            message_id: "t".into(),
            received_at: chrono::DateTime::default(),
            checks: serde_json::json!({}),
            dropped_fields: vec![],
            recorded_by: None,
        });
        let w = list(&[
            applicant("1", Offered, "2027-03-01", false),
            checked,
            applicant("3", Accepted, "2027-02-01", true),
            applicant("4", Hired, "2027-01-01", true),
        ]);
        assert_eq!(numbers(&w.sections.checks_outstanding), vec![("1", 50)]);
        assert_eq!(numbers(&w.sections.internal_moves), vec![("3", 22)]);
        assert!(!w.needs_action());
    }

    #[test]
    fn leavers_end_within_28_days_and_have_no_later_applicant() {
        let ends = |number: &str, end: &str| {
            let mut a = applicant(number, Hired, "2026-08-05", false);
            a.details.gmc_number = Some(format!("70000{number}"));
            a.projected_end_date = Some(d(end));
            a
        };
        let applicants = [
            ends("10", "2027-01-10"),
            ends("11", "2027-02-07"),
            ends("12", "2027-02-08"),
            ends("13", "2027-01-09"),
            ends("14", "2027-01-20"),
        ];
        let w = build("504", d(D), &applicants, &[], |gmc, _| gmc == "7000014");
        assert_eq!(numbers(&w.sections.leaving), vec![("10", 0), ("11", 28)]);
    }

    #[test]
    fn another_trusts_applicants_never_appear() {
        let mut other = applicant("1", Loaded, "2027-01-01", true);
        other.vpd = "505".into();
        let w = list(&[other]);
        assert_eq!(w.counts(), [0; 6]);
        let json = serde_json::to_value(&w).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"vpd": "504", "date": D, "sections": {
                "overdue": [], "starting_not_accepted": [], "ready_to_hire": [],
                "checks_outstanding": [], "internal_moves": [], "leaving": []}})
        );
    }

    #[test]
    fn a_row_has_the_fields_of_section_11() {
        let w = list(&[applicant("7", Loaded, "2027-01-12", false)]);
        assert_eq!(
            serde_json::to_value(&w.sections.starting_not_accepted[0]).unwrap(),
            serde_json::json!({"applicant_number": "7", "last_name": "Last7",
                "first_name": "First", "gmc_number": "7000001", "position_number": "504-9",
                "projected_hire_date": "2027-01-12", "state": "loaded", "days": 2})
        );
    }

    #[test]
    fn outstanding_actions_carry_counts_only() {
        let w = list(&[
            applicant("1", Loaded, "2027-01-09", false),
            applicant("2", Accepted, "2027-01-11", false),
        ]);
        let n = OutstandingActions::new("504", "Trust", &w);
        assert_eq!(n.needing_action(), 2);
        let text = serde_json::to_string(&n).unwrap() + &n.render_html();
        assert!(!text.contains("Last1") && !text.contains("7000001"));
    }
}

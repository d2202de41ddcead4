//! Reports for HEE, local offices and trusts (section 12): the 12 weeks' notice the Code of
//! Practice asks for, and applicants by state. Pure: the service reads the applicants with hire
//! dates in the report's range and these functions count them.
//!
//! Notice: an applicant's projected hire date minus the business date of the APP file that first
//! loaded it (the date in that file's name, which is its business date), in days. A late change:
//! a DNC type-4 change whose new hire date is under 84 days after the DNC's business date,
//! counted on the applicant when it is applied ([`is_late_change`]).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::envelope::FileName;
use super::lifecycle::ApplicantState;
use super::model::{Applicant, RejectedApplication};
use super::retention;

/// The Code of Practice minimum: twelve weeks.
pub const TWELVE_WEEKS: i64 = 84;
pub const EIGHT_WEEKS: i64 = 56;
pub const TWO_WEEKS: i64 = 14;

/// Which applicants a report covers besides its hire-date range.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportFilter {
    pub local_office: Option<String>,
    pub vpd: Option<String>,
}

impl ReportFilter {
    /// Whether the report covers the row of trust `vpd` under local office `local_office`.
    fn admits(&self, local_office: &str, vpd: &str) -> bool {
        self.local_office
            .as_deref()
            .is_none_or(|lo| local_office == lo)
            && self.vpd.as_deref().is_none_or(|v| vpd == v)
    }
}

/// What the reports read of an applicant: a few of its fields (a store may read only these
/// instead of every applicant whole with its personal data), and what its retention depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedApplicant {
    pub vpd: String,
    pub local_office: String,
    pub source_file: String,
    pub state: ApplicantState,
    pub projected_hire_date: NaiveDate,
    pub projected_end_date: Option<NaiveDate>,
    /// The (UTC) day of its last change: a withdrawn applicant's retention runs from it.
    pub updated_on: NaiveDate,
    pub late_changes: u32,
}

impl From<&Applicant> for ReportedApplicant {
    fn from(applicant: &Applicant) -> ReportedApplicant {
        ReportedApplicant {
            vpd: applicant.vpd.clone(),
            local_office: applicant.local_office.clone(),
            source_file: applicant.source_file.clone(),
            state: applicant.state,
            projected_hire_date: applicant.projected_hire_date,
            projected_end_date: applicant.projected_end_date,
            updated_on: applicant.updated_at.date_naive(),
            late_changes: applicant.late_changes,
        }
    }
}

impl ReportedApplicant {
    /// Whether the applicant may still be shown on `today` ([`retention::applicant_kept_until`]).
    pub fn live_on(&self, today: NaiveDate) -> bool {
        retention::live_on(
            retention::kept_until_of_applicant(
                self.state,
                self.updated_on,
                self.projected_end_date,
                self.projected_hire_date,
            ),
            today,
        )
    }
}

/// The notice an applicant had, in days; `None` when its loading file's name holds no date.
pub fn notice_days(applicant: &ReportedApplicant) -> Option<i64> {
    let loaded = FileName::parse(&applicant.source_file).ok()?.date;
    Some((applicant.projected_hire_date - loaded).num_days())
}

/// Whether a DNC type-4 change to `new_hire_date`, in a file of `business_date`, is a late change.
pub fn is_late_change(new_hire_date: NaiveDate, business_date: NaiveDate) -> bool {
    (new_hire_date - business_date).num_days() < TWELVE_WEEKS
}

/// Whether an applicant is counted: one that was loaded (a rejected record never became one), with
/// its hire date in the range.
fn in_range(applicant: &ReportedApplicant, from: NaiveDate, to: NaiveDate) -> bool {
    applicant.state != ApplicantState::Rejected
        && applicant.state != ApplicantState::Received
        && (from..=to).contains(&applicant.projected_hire_date)
}

/// The notice figures of a group of applicants.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoticeFigures {
    pub count: u64,
    /// The median notice in days (the mean of the two middle values for an even count); `None`
    /// for no applicants.
    pub median_days: Option<f64>,
    pub under_12_weeks: u64,
    /// Of `count`, to one decimal place; `None` for no applicants.
    pub under_12_weeks_pct: Option<f64>,
    pub under_8_weeks: u64,
    pub under_2_weeks: u64,
    pub late_changes: u64,
}

impl NoticeFigures {
    fn of(applicants: &[&ReportedApplicant]) -> NoticeFigures {
        let mut days: Vec<i64> = applicants.iter().filter_map(|a| notice_days(a)).collect();
        days.sort_unstable();
        let count = days.len() as u64;
        let under = |weeks: i64| days.iter().filter(|&&d| d < weeks).count() as u64;
        let under_12_weeks = under(TWELVE_WEEKS);
        NoticeFigures {
            count,
            median_days: median(&days),
            under_12_weeks,
            under_12_weeks_pct: (count > 0)
                .then(|| (under_12_weeks as f64 * 1000.0 / count as f64).round() / 10.0),
            under_8_weeks: under(EIGHT_WEEKS),
            under_2_weeks: under(TWO_WEEKS),
            late_changes: applicants.iter().map(|a| u64::from(a.late_changes)).sum(),
        }
    }
}

fn median(sorted: &[i64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2] as f64),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0),
    }
}

/// One row of a report: a trust, under the local office whose files loaded its applicants.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoticeRow {
    pub local_office: String,
    pub vpd: String,
    #[serde(flatten)]
    pub figures: NoticeFigures,
}

/// The 12 weeks' notice report of section 12 (its JSON is this, serialised).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoticeReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub rows: Vec<NoticeRow>,
    pub total: NoticeFigures,
}

/// The applicants of the range that the filter admits, by (local office, trust).
fn groups<'a>(
    applicants: &'a [ReportedApplicant],
    from: NaiveDate,
    to: NaiveDate,
    filter: &ReportFilter,
) -> BTreeMap<(String, String), Vec<&'a ReportedApplicant>> {
    let mut groups: BTreeMap<(String, String), Vec<&ReportedApplicant>> = BTreeMap::new();
    for applicant in applicants
        .iter()
        .filter(|a| in_range(a, from, to) && filter.admits(&a.local_office, &a.vpd))
    {
        groups
            .entry((applicant.local_office.clone(), applicant.vpd.clone()))
            .or_default()
            .push(applicant);
    }
    groups
}

/// The notice report over `applicants` (any superset of those with hire dates `from`..=`to`).
pub fn notice_report(
    from: NaiveDate,
    to: NaiveDate,
    applicants: &[ReportedApplicant],
    filter: &ReportFilter,
) -> NoticeReport {
    let groups = groups(applicants, from, to, filter);
    let everyone: Vec<&ReportedApplicant> = groups.values().flatten().copied().collect();
    NoticeReport {
        from,
        to,
        rows: groups
            .into_iter()
            .map(|((local_office, vpd), members)| NoticeRow {
                local_office,
                vpd,
                figures: NoticeFigures::of(&members),
            })
            .collect(),
        total: NoticeFigures::of(&everyone),
    }
}

/// The states counted by the state report, in its column order (`rejected`: rejected applications).
pub const STATE_COLUMNS: [&str; 6] = [
    "loaded",
    "offered",
    "accepted",
    "hired",
    "withdrawn",
    "rejected",
];

/// Applicants of one group by state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StateCounts {
    pub loaded: u64,
    pub offered: u64,
    pub accepted: u64,
    pub hired: u64,
    pub withdrawn: u64,
    /// Rejected applications (records that never became applicants) of the trust in the range.
    pub rejected: u64,
}

impl StateCounts {
    fn add(&mut self, state: ApplicantState) {
        match state {
            ApplicantState::Loaded => self.loaded += 1,
            ApplicantState::Offered => self.offered += 1,
            ApplicantState::Accepted => self.accepted += 1,
            ApplicantState::Hired => self.hired += 1,
            ApplicantState::Withdrawn => self.withdrawn += 1,
            ApplicantState::Rejected | ApplicantState::Received => {}
        }
    }

    fn plus(&mut self, other: &StateCounts) {
        self.loaded += other.loaded;
        self.offered += other.offered;
        self.accepted += other.accepted;
        self.hired += other.hired;
        self.withdrawn += other.withdrawn;
        self.rejected += other.rejected;
    }

    /// The counts in [`STATE_COLUMNS`] order.
    pub fn values(&self) -> [u64; 6] {
        [
            self.loaded,
            self.offered,
            self.accepted,
            self.hired,
            self.withdrawn,
            self.rejected,
        ]
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateRow {
    pub local_office: String,
    pub vpd: String,
    #[serde(flatten)]
    pub counts: StateCounts,
}

/// The state report of section 12 (its JSON is this, serialised).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub rows: Vec<StateRow>,
    pub total: StateCounts,
}

/// The state report over `applicants` (any superset of those with hire dates `from`..=`to`) and
/// the number of rejected applications per (local office, trust) in the range.
pub fn state_report(
    from: NaiveDate,
    to: NaiveDate,
    applicants: &[ReportedApplicant],
    rejected: &BTreeMap<(String, String), u64>,
    filter: &ReportFilter,
) -> StateReport {
    let mut rows: BTreeMap<(String, String), StateCounts> = BTreeMap::new();
    for (group, members) in groups(applicants, from, to, filter) {
        let counts = rows.entry(group).or_default();
        for applicant in members {
            counts.add(applicant.state);
        }
    }
    for (group, &count) in rejected {
        if filter.admits(&group.0, &group.1) && count > 0 {
            rows.entry(group.clone()).or_default().rejected += count;
        }
    }
    let mut total = StateCounts::default();
    for counts in rows.values() {
        total.plus(counts);
    }
    StateReport {
        from,
        to,
        rows: rows
            .into_iter()
            .map(|((local_office, vpd), counts)| StateRow {
                local_office,
                vpd,
                counts,
            })
            .collect(),
        total,
    }
}

/// The columns of the notice report's CSV: its JSON row fields, in order.
pub const NOTICE_COLUMNS: [&str; 9] = [
    "local_office",
    "vpd",
    "count",
    "median_days",
    "under_12_weeks",
    "under_12_weeks_pct",
    "under_8_weeks",
    "under_2_weeks",
    "late_changes",
];

/// The label of the CSV's last row, the total (in the `local_office` column).
pub const TOTAL_LABEL: &str = "Total";

fn number(value: Option<f64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn notice_cells(local_office: &str, vpd: &str, f: &NoticeFigures) -> Vec<String> {
    vec![
        csv_text(local_office),
        csv_text(vpd),
        f.count.to_string(),
        number(f.median_days),
        f.under_12_weeks.to_string(),
        number(f.under_12_weeks_pct),
        f.under_8_weeks.to_string(),
        f.under_2_weeks.to_string(),
        f.late_changes.to_string(),
    ]
}

/// The notice report as CSV: a header, a row per trust, the total last.
pub fn notice_csv(report: &NoticeReport) -> String {
    let mut rows = vec![NOTICE_COLUMNS.iter().map(|c| c.to_string()).collect()];
    rows.extend(
        report
            .rows
            .iter()
            .map(|r| notice_cells(&r.local_office, &r.vpd, &r.figures)),
    );
    rows.push(notice_cells(TOTAL_LABEL, "", &report.total));
    write_csv(rows)
}

/// The state report as CSV: `local_office`, `vpd` and the [`STATE_COLUMNS`], the total last.
pub fn state_csv(report: &StateReport) -> String {
    let mut header = vec!["local_office".to_string(), "vpd".to_string()];
    header.extend(STATE_COLUMNS.iter().map(|c| c.to_string()));
    let cells = |lo: &str, vpd: &str, counts: &StateCounts| {
        let mut row = vec![csv_text(lo), csv_text(vpd)];
        row.extend(counts.values().iter().map(u64::to_string));
        row
    };
    let mut rows = vec![header];
    rows.extend(
        report
            .rows
            .iter()
            .map(|r| cells(&r.local_office, &r.vpd, &r.counts)),
    );
    rows.push(cells(TOTAL_LABEL, "", &report.total));
    write_csv(rows)
}

fn write_csv(rows: Vec<Vec<String>>) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        // Writing to memory fails only on a record of another length, which these never are.
        let _ = writer.write_record(&row);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// One rejected application in the exception report: where it came from and where it pointed,
/// never the person (no names, no GMC number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExceptionRecord {
    pub placement_id: String,
    pub vpd: Option<String>,
    pub dpn: String,
    pub position_number: String,
    pub source_file: String,
    pub record_number: u64,
}

/// The rejected applications of one local office that got one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExceptionGroup {
    pub local_office: String,
    pub message: String,
    pub count: u64,
    pub records: Vec<ExceptionRecord>,
}

/// The exception report of section 12: rejected applications of files dated `from`..=`to`, by
/// local office and message (a record with two messages is under each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExceptionReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub groups: Vec<ExceptionGroup>,
}

/// The exception report over `rejected` (any superset of those of files dated in the range).
pub fn exception_report(
    from: NaiveDate,
    to: NaiveDate,
    rejected: &[RejectedApplication],
    local_office: Option<&str>,
) -> ExceptionReport {
    let mut groups: BTreeMap<(String, String), Vec<ExceptionRecord>> = BTreeMap::new();
    for record in rejected.iter().filter(|r| {
        (from..=to).contains(&r.business_date) && local_office.is_none_or(|lo| r.local_office == lo)
    }) {
        for message in &record.messages {
            groups
                .entry((record.local_office.clone(), without_values(&message.text)))
                .or_default()
                .push(ExceptionRecord {
                    placement_id: record.placement_id.clone(),
                    vpd: record.vpd.clone(),
                    dpn: record.dpn.clone(),
                    position_number: record.position_number.clone(),
                    source_file: record.source_file.clone(),
                    record_number: record.record_number,
                });
        }
    }
    ExceptionReport {
        from,
        to,
        groups: groups
            .into_iter()
            .map(|((local_office, message), mut records)| {
                records.sort_by(|a, b| {
                    (&a.source_file, a.record_number).cmp(&(&b.source_file, b.record_number))
                });
                records.dedup();
                ExceptionGroup {
                    local_office,
                    message,
                    count: records.len() as u64,
                    records,
                }
            })
            .collect(),
    }
}

/// What a person sent is withheld from a message's text (an invalid date of birth or GMC number
/// is personal data), so records with the same fault are one group: `Invalid date 1994-02-30 for
/// DATE_OF_BIRTH` becomes `Invalid date (withheld) for DATE_OF_BIRTH`.
fn without_values(text: &str) -> String {
    const WITHHELD: &str = "(withheld)";
    for (before, after) in [
        ("Invalid date ", " for "),
        ("Invalid value ", " for "),
        ("The value ", " will be ignored"),
    ] {
        if let Some(start) = text.find(before).map(|i| i + before.len()) {
            if let Some(length) = text[start..].find(after) {
                return format!("{}{WITHHELD}{}", &text[..start], &text[start + length..]);
            }
        }
    }
    text.to_string()
}

/// The columns of the exception report's CSV, one line per record and message.
pub const EXCEPTION_COLUMNS: [&str; 8] = [
    "local_office",
    "message",
    "placement_id",
    "vpd",
    "dpn",
    "position_number",
    "source_file",
    "record_number",
];

/// The exception report as CSV: no names, no GMC numbers, every text cell formula-safe.
pub fn exception_csv(report: &ExceptionReport) -> String {
    let mut rows = vec![EXCEPTION_COLUMNS.iter().map(|c| c.to_string()).collect()];
    for group in &report.groups {
        for record in &group.records {
            rows.push(vec![
                csv_text(&group.local_office),
                csv_text(&group.message),
                csv_text(&record.placement_id),
                csv_text(record.vpd.as_deref().unwrap_or_default()),
                csv_text(&record.dpn),
                csv_text(&record.position_number),
                csv_text(&record.source_file),
                record.record_number.to_string(),
            ]);
        }
    }
    write_csv(rows)
}

/// A CSV cell a spreadsheet program will not evaluate: text beginning with `=`, `+`, `-`, `@`, a
/// tab or a carriage return gets a leading apostrophe (section 4). Numbers are written as they are.
pub fn csv_text(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::applicant;

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    /// An applicant of `vpd`, loaded from a KSS APP file of `file_date`, hired on `hire`.
    fn loaded(number: &str, vpd: &str, file_date: &str, hire: &str) -> ReportedApplicant {
        let mut a = applicant(number, ApplicantState::Loaded, hire, false);
        a.vpd = vpd.to_string();
        a.local_office = "KSS".to_string();
        a.source_file = format!("DE_KSS_APP_{}_00000042.DAT", d(file_date).format("%Y%m%d"));
        ReportedApplicant::from(&a)
    }

    #[test]
    fn notice_figures_are_counted_at_the_edges_of_each_threshold() {
        // Notices of 84 (not under 12 weeks), 83, 56 (not under 8), 55, 14 (not under 2) and 13.
        let file = "2026-11-02";
        let applicants: Vec<ReportedApplicant> = [84, 83, 56, 55, 14, 13]
            .iter()
            .enumerate()
            .map(|(i, days)| {
                let hire = d(file) + chrono::Days::new(*days);
                loaded(&format!("{}", 100 + i), "504", file, &hire.to_string())
            })
            .collect();
        let report = notice_report(
            d("2026-01-01"),
            d("2027-12-31"),
            &applicants,
            &ReportFilter::default(),
        );
        let t = &report.total;
        assert_eq!(t.count, 6);
        assert_eq!(t.median_days, Some(55.5));
        assert_eq!(t.under_12_weeks, 5);
        assert_eq!(t.under_12_weeks_pct, Some(83.3));
        assert_eq!(t.under_8_weeks, 3);
        assert_eq!(t.under_2_weeks, 1);
        assert_eq!(report.rows.len(), 1);
        assert_eq!(report.rows[0].figures, *t);
    }

    #[test]
    fn the_range_the_filters_and_the_groups_bound_the_report() {
        let mut withdrawn = loaded("3", "505", "2026-11-01", "2027-02-05");
        withdrawn.state = ApplicantState::Withdrawn;
        withdrawn.late_changes = 2;
        let mut other_lo = loaded("4", "505", "2026-11-01", "2027-02-05");
        other_lo.local_office = "LDN".to_string();
        let applicants = vec![
            loaded("1", "504", "2026-11-01", "2027-02-01"),
            loaded("2", "504", "2026-11-01", "2027-03-01"), // after the range
            withdrawn,
            other_lo,
        ];
        let (from, to) = (d("2027-02-01"), d("2027-02-28"));
        let all = notice_report(from, to, &applicants, &ReportFilter::default());
        let keys: Vec<(&str, &str, u64)> = all
            .rows
            .iter()
            .map(|r| (r.local_office.as_str(), r.vpd.as_str(), r.figures.count))
            .collect();
        assert_eq!(
            keys,
            [("KSS", "504", 1), ("KSS", "505", 1), ("LDN", "505", 1)]
        );
        assert_eq!(all.total.count, 3);
        assert_eq!(all.total.late_changes, 2);
        assert_eq!(all.total.median_days, Some(96.0));
        let kss_505 = ReportFilter {
            local_office: Some("KSS".into()),
            vpd: Some("505".into()),
        };
        let one = notice_report(from, to, &applicants, &kss_505);
        assert_eq!(one.rows.len(), 1);
        assert_eq!(one.total.count, 1);
        let none = notice_report(d("2030-01-01"), d("2030-01-31"), &applicants, &kss_505);
        assert!(none.rows.is_empty());
        assert_eq!(none.total.median_days, None);
        assert_eq!(none.total.under_12_weeks_pct, None);
    }

    #[test]
    fn the_notice_json_has_the_fields_of_section_12() {
        let applicants = vec![loaded("1", "504", "2026-11-01", "2027-02-01")];
        let report = notice_report(
            d("2027-02-01"),
            d("2027-02-01"),
            &applicants,
            &ReportFilter::default(),
        );
        assert_eq!(
            serde_json::to_value(&report).unwrap(),
            serde_json::json!({"from": "2027-02-01", "to": "2027-02-01",
                "rows": [{"local_office": "KSS", "vpd": "504", "count": 1, "median_days": 92.0,
                    "under_12_weeks": 0, "under_12_weeks_pct": 0.0, "under_8_weeks": 0,
                    "under_2_weeks": 0, "late_changes": 0}],
                "total": {"count": 1, "median_days": 92.0, "under_12_weeks": 0,
                    "under_12_weeks_pct": 0.0, "under_8_weeks": 0, "under_2_weeks": 0,
                    "late_changes": 0}})
        );
    }

    #[test]
    fn late_changes_are_under_twelve_weeks_after_the_dnc() {
        assert!(is_late_change(d("2027-01-24"), d("2026-11-02")));
        assert!(!is_late_change(d("2027-01-25"), d("2026-11-02")));
    }

    #[test]
    fn states_are_counted_per_trust_with_the_rejected_applications() {
        let mut hired = loaded("2", "504", "2026-11-01", "2027-02-02");
        hired.state = ApplicantState::Hired;
        let applicants = vec![loaded("1", "504", "2026-11-01", "2027-02-01"), hired];
        let rejected = BTreeMap::from([
            (("KSS".to_string(), "504".to_string()), 2),
            (("KSS".to_string(), "506".to_string()), 1),
        ]);
        let report = state_report(
            d("2027-02-01"),
            d("2027-02-28"),
            &applicants,
            &rejected,
            &ReportFilter::default(),
        );
        assert_eq!(report.rows.len(), 2);
        assert_eq!(report.rows[0].counts.values(), [1, 0, 0, 1, 0, 2]);
        assert_eq!(report.rows[1].counts.values(), [0, 0, 0, 0, 0, 1]);
        assert_eq!(report.total.values(), [1, 0, 0, 1, 0, 3]);
    }

    #[test]
    fn the_csv_has_the_json_columns_and_the_total_last() {
        let applicants = vec![loaded("1", "504", "2026-11-01", "2027-02-01")];
        let (from, to) = (d("2027-02-01"), d("2027-02-01"));
        let csv = notice_csv(&notice_report(
            from,
            to,
            &applicants,
            &ReportFilter::default(),
        ));
        assert_eq!(
            csv,
            "local_office,vpd,count,median_days,under_12_weeks,under_12_weeks_pct,under_8_weeks,under_2_weeks,late_changes\n\
             KSS,504,1,92,0,0,0,0,0\n\
             Total,,1,92,0,0,0,0,0\n"
        );
        let states = state_report(
            from,
            to,
            &applicants,
            &BTreeMap::new(),
            &ReportFilter::default(),
        );
        assert_eq!(
            state_csv(&states),
            "local_office,vpd,loaded,offered,accepted,hired,withdrawn,rejected\n\
             KSS,504,1,0,0,0,0,0\n\
             Total,,1,0,0,0,0,0\n"
        );
    }

    #[test]
    fn exceptions_group_by_local_office_and_message_with_no_names() {
        use crate::messages::Message;
        let rejected = |placement: &str, day: u32, messages: Vec<Message>| RejectedApplication {
            placement_id: placement.into(),
            gmc_number: Some("7000009".into()),
            last_name: "Lindqvist".into(),
            first_name: "Erik".into(),
            position_id: "101".into(),
            position_number: "=101".into(),
            dpn: "KSS/RJZ01/030/STR/101".into(),
            vpd: Some("504".into()),
            local_office: "KSS".into(),
            source_file: format!("DE_KSS_APP_202611{day:02}_00000042.DAT"),
            source_sha256: "s".into(),
            business_date: NaiveDate::from_ymd_opt(2026, 11, day).unwrap(),
            record_number: 1,
            line: 2,
            messages,
            projected_hire_date: None,
        };
        let missing = Message::mandatory_missing("LAST_NAME");
        let records = vec![
            rejected("1", 20, vec![missing.clone()]),
            rejected(
                "2",
                21,
                vec![missing.clone(), Message::mandatory_missing("DPN")],
            ),
            rejected("3", 22, vec![missing.clone()]),
        ];
        let report = exception_report(d("2026-11-20"), d("2026-11-21"), &records, Some("KSS"));
        let counts: Vec<(&str, u64)> = report
            .groups
            .iter()
            .map(|g| (g.message.as_str(), g.count))
            .collect();
        assert_eq!(counts.len(), 2);
        assert_eq!(counts.iter().map(|c| c.1).sum::<u64>(), 3);
        assert!(counts.contains(&(missing.text.as_str(), 2)));
        let withheld = exception_report(
            d("2026-11-20"),
            d("2026-11-20"),
            &[rejected(
                "4",
                20,
                vec![Message::invalid_date("1994-02-30", "DATE_OF_BIRTH")],
            )],
            None,
        );
        assert_eq!(
            withheld.groups[0].message,
            "Invalid date (withheld) for DATE_OF_BIRTH. Application rejected."
        );
        let csv = exception_csv(&report);
        assert!(!csv.contains("Lindqvist") && !csv.contains("Erik") && !csv.contains("7000009"));
        assert!(csv.contains(",'=101,"), "{csv}");
        assert!(
            exception_report(d("2026-11-20"), d("2026-11-21"), &records, Some("LDN"))
                .groups
                .is_empty()
        );
    }

    #[test]
    fn csv_text_never_starts_a_formula() {
        for risky in ["=1+1", "+44 1234", "-2", "@SUM(A1)", "\tx"] {
            assert!(csv_text(risky).starts_with('\''), "{risky}");
        }
        assert_eq!(csv_text("KSS"), "KSS");
    }
}

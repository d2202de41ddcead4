//! Trust position extracts (POS, section 2.8): the DPN and position-name rules, duplicate DPNs and the
//! DPN readiness report.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::app::parse_iso_date;
use super::lifecycle::PersonType;

pub const POS_FIELDS: [&str; 14] = [
    "RECORD_CODE",
    "POSITION_ID",
    "POSITION_NUMBER",
    "POSITION_NAME",
    "DEANERY_POST_NUMBER",
    "MANAGING_DEANERY_BODY",
    "HOST_LEAD_STATUS",
    "EFFECTIVE_FROM",
    "EFFECTIVE_TO",
    "OCCUPATION_CODE",
    "GRADE",
    "SITE",
    "ODS_CODE",
    "ORGANISATION",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HostLead {
    #[serde(rename = "Host Employer")]
    HostEmployer,
    #[serde(rename = "Lead Employer")]
    LeadEmployer,
}

impl HostLead {
    pub fn parse(text: &str) -> Option<HostLead> {
        match text {
            "Host Employer" => Some(HostLead::HostEmployer),
            "Lead Employer" => Some(HostLead::LeadEmployer),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            HostLead::HostEmployer => "Host Employer",
            HostLead::LeadEmployer => "Lead Employer",
        }
    }
}

/// Where a position stands with the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PositionStatus {
    /// Effective on the extract's date.
    Active,
    /// In the extract but outside its effective dates.
    Inactive,
    /// No longer in the trust's latest extract.
    Removed,
}

/// A trust position as known to the system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub position_id: String,
    pub vpd: String,
    pub position_number: String,
    pub position_name: String,
    pub dpn: String,
    pub managing_deanery_body: String,
    pub host_lead: Option<HostLead>,
    pub effective_from: Option<NaiveDate>,
    pub effective_to: Option<NaiveDate>,
    pub occupation_code: String,
    pub grade: String,
    pub site: String,
    pub ods_code: String,
    pub organisation: String,
    pub status: PositionStatus,
    pub dpn_issues: Vec<String>,
    pub name_issues: Vec<String>,
    pub duplicate_dpn: bool,
    /// The POS file that last changed this position, and its date (for the RMC delta to TIS).
    pub changed_in: String,
    pub changed_on: NaiveDate,
}

impl Position {
    /// The person type of a hire on this position: Honorary on a Host Employer position (the lead
    /// employer holds the employment, the host trust keeps an honorary record), Employee otherwise.
    pub fn hire_as(&self) -> PersonType {
        if self.host_lead == Some(HostLead::HostEmployer) {
            PersonType::Honorary
        } else {
            PersonType::Employee
        }
    }

    /// Only active positions with a valid, non-duplicate DPN resolve APP records and go to TIS.
    pub fn is_usable(&self) -> bool {
        self.status == PositionStatus::Active
            && !self.dpn.is_empty()
            && self.dpn_issues.is_empty()
            && !self.duplicate_dpn
    }

    /// True when `other` differs in anything TIS or the trust would see.
    pub fn differs_from(&self, other: &Position) -> bool {
        let mut a = self.clone();
        a.changed_in.clone_from(&other.changed_in);
        a.changed_on = other.changed_on;
        a != *other
    }
}

/// Data-quality problems of a DPN (rules a-d of 2.8, and the 30-character limit). Empty when valid.
pub fn dpn_issues(dpn: &str) -> Vec<String> {
    let mut issues = Vec::new();
    let parts: Vec<&str> = dpn.split('/').collect();
    if parts.len() < 4 {
        issues.push(format!(
            "DPN must contain at least 4 parts separated by / (found {})",
            parts.len()
        ));
    }
    if parts[0].chars().count() != 3 {
        issues.push(format!(
            "DPN first part must be 3 characters (found {:?})",
            parts[0]
        ));
    }
    if parts.iter().any(|p| !p.chars().all(is_readable_ascii)) {
        issues.push(
            "DPN must contain only readable ASCII (no control characters, tabs or line feeds)"
                .to_string(),
        );
    }
    if parts.iter().any(|p| p.is_empty()) {
        issues.push("DPN parts must not be empty (e.g. MER//123/123)".to_string());
    }
    if dpn.chars().count() > 30 {
        issues.push(format!(
            "DPN must be at most 30 characters (found {})",
            dpn.chars().count()
        ));
    }
    issues
}

/// Data-quality problems of a position name (rules a-c of 2.8). Empty when valid.
pub fn position_name_issues(name: &str) -> Vec<String> {
    let mut issues = Vec::new();
    let parts: Vec<&str> = name.split('|').collect();
    if parts.len() != 4 {
        issues.push(format!(
            "Position Name must contain exactly 4 parts separated by | (found {})",
            parts.len()
        ));
    }
    if parts[0].is_empty() || !parts[0].bytes().all(|b| b.is_ascii_digit()) {
        issues.push(format!(
            "Position Name first part must be numeric (found {:?})",
            parts[0]
        ));
    }
    if parts
        .iter()
        .skip(1)
        .any(|p| !p.chars().all(is_readable_ascii))
    {
        issues.push(
            "Position Name parts must be empty or readable ASCII (no control characters, tabs or line feeds)"
                .to_string(),
        );
    }
    issues
}

fn is_readable_ascii(c: char) -> bool {
    (' '..='~').contains(&c)
}

/// A POS line that could not be used at all (bad position id, bad dates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordProblem {
    pub line: u64,
    pub record_number: u64,
    pub field: String,
    pub problem: String,
}

/// Reads one POS data line into a position as of `business_date`.
///
/// # Errors
/// Problems that make the line unusable; the line is then left out and reported.
pub fn read_position(
    record: &csv::StringRecord,
    vpd: &str,
    business_date: NaiveDate,
    file: &str,
    line: u64,
    record_number: u64,
) -> Result<Position, Vec<RecordProblem>> {
    let get = |field: &str| -> String {
        POS_FIELDS
            .iter()
            .position(|f| *f == field)
            .and_then(|i| record.get(i))
            .unwrap_or("")
            .to_string()
    };
    let trimmed = |field: &str| get(field).trim().to_string();
    let mut problems = Vec::new();
    let mut problem = |field: &str, text: String| {
        problems.push(RecordProblem {
            line,
            record_number,
            field: field.to_string(),
            problem: text,
        })
    };
    let position_id = trimmed("POSITION_ID");
    if position_id.is_empty()
        || position_id.len() > 15
        || !position_id.bytes().all(|b| b.is_ascii_digit())
    {
        problem(
            "POSITION_ID",
            format!("POSITION_ID {position_id:?} is not 1 to 15 digits"),
        );
    }
    let position_number = trimmed("POSITION_NUMBER");
    if !position_number.is_empty()
        && (position_number.len() > 10 || !position_number.bytes().all(|b| b.is_ascii_digit()))
    {
        problem(
            "POSITION_NUMBER",
            format!("POSITION_NUMBER {position_number:?} is not 1 to 10 digits"),
        );
    }
    let mut date = |field: &str| {
        let value = trimmed(field);
        if value.is_empty() {
            return None;
        }
        let parsed = parse_iso_date(&value);
        if parsed.is_none() {
            problem(
                field,
                format!("{field} {value:?} is not a date (YYYY-MM-DD)"),
            );
        }
        parsed
    };
    let effective_from = date("EFFECTIVE_FROM");
    let effective_to = date("EFFECTIVE_TO");
    let host_lead_text = trimmed("HOST_LEAD_STATUS");
    let host_lead = HostLead::parse(&host_lead_text);
    if !host_lead_text.is_empty() && host_lead.is_none() {
        problem(
            "HOST_LEAD_STATUS",
            format!(
                "HOST_LEAD_STATUS {host_lead_text:?} is neither Host Employer nor Lead Employer"
            ),
        );
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    // The DPN and name are checked untrimmed: stray tabs and line feeds are exactly what the rules catch.
    let dpn = get("DEANERY_POST_NUMBER");
    let position_name = get("POSITION_NAME");
    let active = effective_from.is_none_or(|from| from <= business_date)
        && effective_to.is_none_or(|to| to >= business_date);
    Ok(Position {
        position_id,
        vpd: vpd.to_string(),
        position_number,
        dpn_issues: if dpn.is_empty() {
            vec![]
        } else {
            dpn_issues(&dpn)
        },
        name_issues: if dpn.is_empty() {
            vec![]
        } else {
            position_name_issues(&position_name)
        },
        position_name,
        dpn,
        managing_deanery_body: trimmed("MANAGING_DEANERY_BODY"),
        host_lead,
        effective_from,
        effective_to,
        occupation_code: trimmed("OCCUPATION_CODE"),
        grade: trimmed("GRADE"),
        site: trimmed("SITE"),
        ods_code: trimmed("ODS_CODE"),
        organisation: trimmed("ORGANISATION"),
        status: if active {
            PositionStatus::Active
        } else {
            PositionStatus::Inactive
        },
        duplicate_dpn: false,
        changed_in: file.to_string(),
        changed_on: business_date,
    })
}

/// Marks every active position whose DPN is on another active position of the same trust.
pub fn mark_duplicate_dpns(positions: &mut [Position]) {
    let mut by_dpn: BTreeMap<String, usize> = BTreeMap::new();
    for p in positions
        .iter()
        .filter(|p| p.status == PositionStatus::Active && !p.dpn.is_empty())
    {
        *by_dpn.entry(p.dpn.clone()).or_default() += 1;
    }
    for p in positions.iter_mut() {
        p.duplicate_dpn = p.status == PositionStatus::Active
            && !p.dpn.is_empty()
            && by_dpn.get(&p.dpn).copied().unwrap_or(0) > 1;
    }
}

/// One row of the All DPN Positions / Duplicate DPN sheets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRow {
    pub vpd: String,
    pub position_id: String,
    pub position_number: String,
    pub position_name: String,
    pub dpn: String,
    pub managing_deanery_body: String,
    pub status: PositionStatus,
    pub duplicate_dpn: bool,
    pub dpn_issues: Vec<String>,
    pub name_issues: Vec<String>,
    pub usable: bool,
}

/// The DPN readiness report of section 4 (the JSON form; a spreadsheet follows the same structure).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadinessReport {
    pub title: String,
    pub vpd: String,
    pub organisation_name: Option<String>,
    pub file: String,
    pub business_date: NaiveDate,
    pub summary: ReadinessSummary,
    pub duplicate_dpn: Vec<ReportRow>,
    pub all_dpn_positions: Vec<ReportRow>,
    /// POS lines not applied: unreadable, or naming a position another trust holds.
    pub unreadable_records: Vec<RecordProblem>,
    pub advice: Vec<String>,
    /// Why nothing in the file was applied (a file older than the last applied one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_applied: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadinessSummary {
    #[serde(rename = "No. of ESR Records with Deanery Records")]
    pub records_with_dpn: usize,
    #[serde(rename = "No. of Deanery Records linked to multiple Positions")]
    pub dpns_on_multiple_positions: usize,
    #[serde(rename = "No. of data quality issues with DPN")]
    pub dpn_quality_issues: usize,
    #[serde(rename = "No. of data quality issues with Position Name")]
    pub position_name_quality_issues: usize,
    #[serde(rename = "No. of positions usable by the interface")]
    pub usable_positions: usize,
    #[serde(rename = "No. of unreadable records")]
    pub unreadable_records: usize,
}

pub const READINESS_TITLE: &str = "DPN Readiness Report";

/// The DPN rules of 2.8 as the report states them to the trust.
pub const DPN_RULES: [&str; 5] = [
    "a. Must contain a minimum of 4 parts separated by /",
    "b. The first part must contain 3 characters (eg deanery prefix MER etc)",
    "c. The remaining parts must only contain readable ascii text (eg, no control characters, tabs, linefeeds etc, but brackets, commas, etc are allowed).",
    "d. Each part must contain a value (e.g. MER//123/123 would not be allowed)",
    "e. The whole DPN must be at most 30 characters",
];

/// The Position Name rules of 2.8 as the report states them to the trust.
pub const POSITION_NAME_RULES: [&str; 3] = [
    "a. Must contain exactly 4 parts separated by |",
    "b. The first part must be numeric",
    "c. The remaining parts must either be empty or contain only readable ascii text",
];

pub fn readiness_report(
    vpd: &str,
    organisation_name: Option<&str>,
    file: &str,
    business_date: NaiveDate,
    positions: &[Position],
    unreadable_records: Vec<RecordProblem>,
) -> ReadinessReport {
    let row = |p: &Position| ReportRow {
        vpd: p.vpd.clone(),
        position_id: p.position_id.clone(),
        position_number: p.position_number.clone(),
        position_name: p.position_name.clone(),
        dpn: p.dpn.clone(),
        managing_deanery_body: p.managing_deanery_body.clone(),
        status: p.status,
        duplicate_dpn: p.duplicate_dpn,
        dpn_issues: p.dpn_issues.clone(),
        name_issues: p.name_issues.clone(),
        usable: p.is_usable(),
    };
    let with_dpn: Vec<&Position> = positions.iter().filter(|p| !p.dpn.is_empty()).collect();
    let mut duplicates: Vec<ReportRow> = with_dpn
        .iter()
        .filter(|p| p.duplicate_dpn)
        .map(|p| row(p))
        .collect();
    duplicates.sort_by(|a, b| (&a.dpn, &a.position_id).cmp(&(&b.dpn, &b.position_id)));
    let distinct_duplicate_dpns = duplicates
        .iter()
        .map(|r| r.dpn.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    ReadinessReport {
        title: READINESS_TITLE.to_string(),
        vpd: vpd.to_string(),
        organisation_name: organisation_name.map(str::to_string),
        file: file.to_string(),
        business_date,
        summary: ReadinessSummary {
            records_with_dpn: with_dpn.len(),
            dpns_on_multiple_positions: distinct_duplicate_dpns,
            dpn_quality_issues: with_dpn.iter().filter(|p| !p.dpn_issues.is_empty()).count(),
            position_name_quality_issues: with_dpn.iter().filter(|p| !p.name_issues.is_empty()).count(),
            usable_positions: with_dpn.iter().filter(|p| p.is_usable()).count(),
            unreadable_records: unreadable_records.len(),
        },
        duplicate_dpn: duplicates,
        all_dpn_positions: with_dpn.iter().map(|p| row(p)).collect(),
        unreadable_records,
        advice: vec![
            "To resolve a duplicate DPN please end date the post or remove the DPN from the appropriate position, so that there is one DPN for one ESR position.".to_string(),
            "To resolve a data quality issue please check the record against the DPN and Position Name rules and correct it in ESR.".to_string(),
        ],
        not_applied: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_dpns_pass_including_brackets_and_suffixes() {
        for dpn in [
            "KSS/RJZ01/030/STR/001",
            "KSS/RJZ01/030/STR(H)/001",
            "LDN/BDH/800/LT",
            "NTH/RTD01/080/STR/005/S",
            "MER/A,B/1/2",
        ] {
            assert!(dpn_issues(dpn).is_empty(), "{dpn}: {:?}", dpn_issues(dpn));
        }
    }

    #[test]
    fn each_dpn_rule_is_named() {
        let cases = [
            ("KSS/RJZ01/030", "at least 4 parts"),
            ("KS/RJZ01/030/STR", "first part must be 3 characters"),
            ("KSS/RJZ\t01/030/STR", "readable ASCII"),
            ("KSS/RJZ01/030/STR\n", "readable ASCII"),
            ("MER//123/123", "must not be empty"),
            ("KSS/RJZ01/030/STR/0000000000001", "at most 30 characters"),
            ("KSS/RJZ01/030/STRé", "readable ASCII"),
        ];
        for (dpn, says) in cases {
            let issues = dpn_issues(dpn);
            assert!(
                issues.iter().any(|i| i.contains(says)),
                "{dpn:?}: {issues:?}"
            );
        }
    }

    #[test]
    fn position_name_rules() {
        assert!(position_name_issues("84682|S.H.O. - ENT|023|Otolaryn").is_empty());
        assert!(position_name_issues("84682|||").is_empty());
        assert!(position_name_issues("84682|a|b")
            .iter()
            .any(|i| i.contains("exactly 4 parts")));
        assert!(position_name_issues("X84682|a|b|c")
            .iter()
            .any(|i| i.contains("numeric")));
        assert!(position_name_issues("84682|a\tb|c|d")
            .iter()
            .any(|i| i.contains("readable ASCII")));
    }

    fn record(fields: &[&str]) -> csv::StringRecord {
        csv::StringRecord::from(fields.to_vec())
    }

    fn pos_line(id: &str, dpn: &str, from: &str, to: &str) -> csv::StringRecord {
        record(&[
            "POS",
            id,
            "236103",
            "236103|Foundation|023|Anaes",
            dpn,
            "KSS",
            "Lead Employer",
            from,
            to,
            "",
            "F1",
            "Site",
            "RXX",
            "504 Org",
        ])
    }

    fn date(s: &str) -> NaiveDate {
        parse_iso_date(s).unwrap()
    }

    #[test]
    fn positions_outside_their_dates_are_inactive_and_not_usable() {
        let today = date("2026-11-21");
        let active = read_position(
            &pos_line("1", "KSS/A/1/B", "2020-01-01", ""),
            "504",
            today,
            "f",
            2,
            1,
        )
        .unwrap();
        assert!(active.is_usable());
        let ended = read_position(
            &pos_line("2", "KSS/A/1/C", "2020-01-01", "2026-11-20"),
            "504",
            today,
            "f",
            3,
            2,
        )
        .unwrap();
        assert_eq!(ended.status, PositionStatus::Inactive);
        assert!(!ended.is_usable());
        let future = read_position(
            &pos_line("3", "KSS/A/1/D", "2026-11-22", ""),
            "504",
            today,
            "f",
            4,
            3,
        )
        .unwrap();
        assert_eq!(future.status, PositionStatus::Inactive);
    }

    #[test]
    fn unreadable_lines_name_line_and_field() {
        let problems = read_position(
            &pos_line("x1", "KSS/A/1/B", "2020-13-01", ""),
            "504",
            date("2026-11-21"),
            "f",
            7,
            6,
        )
        .unwrap_err();
        assert_eq!(problems.len(), 2);
        assert_eq!(
            (problems[0].line, problems[0].field.as_str()),
            (7, "POSITION_ID")
        );
        assert_eq!(problems[1].field, "EFFECTIVE_FROM");
    }

    #[test]
    fn duplicates_are_counted_among_active_positions_only_and_reported() {
        let today = date("2026-11-21");
        let mut positions: Vec<Position> = [
            pos_line("1", "KSS/A12345/100/STR/123", "", ""),
            pos_line("2", "KSS/A12345/100/STR/123", "", ""),
            pos_line("3", "KSS/A12345/100/STR/124", "", ""),
            pos_line("4", "KSS/A12345/100/STR/124", "", "2025-01-01"),
            pos_line("5", "KSS//100/STR", "", ""),
            pos_line("6", "", "", ""),
        ]
        .iter()
        .enumerate()
        .map(|(i, r)| read_position(r, "504", today, "f", i as u64 + 2, i as u64 + 1).unwrap())
        .collect();
        mark_duplicate_dpns(&mut positions);
        let flags: Vec<bool> = positions.iter().map(|p| p.duplicate_dpn).collect();
        assert_eq!(flags, vec![true, true, false, false, false, false]);
        let report = readiness_report("504", Some("Trust"), "f", today, &positions, vec![]);
        assert_eq!(report.summary.records_with_dpn, 5);
        assert_eq!(report.summary.dpns_on_multiple_positions, 1);
        assert_eq!(report.summary.dpn_quality_issues, 1);
        assert_eq!(report.summary.position_name_quality_issues, 0);
        assert_eq!(report.summary.usable_positions, 1);
        assert_eq!(report.duplicate_dpn.len(), 2);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json["summary"]["No. of Deanery Records linked to multiple Positions"],
            1
        );
    }
}

//! Builders of test records shared by the adapter and store contract tests: processed files,
//! positions and applicants with their creation history.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use dit_core::ports::NewApplicant;
use dit_domain::app::ApplicantDetails;
use dit_domain::lifecycle::ApplicantState;
use dit_domain::messages::Message;
use dit_domain::model::{
    person_key, Applicant, Cause, FileStatus, HistoryEntry, HistoryOutcome, PlacementLink,
    ProcessedFile,
};
use dit_domain::pos::{HostLead, Position, PositionStatus};

/// The day the stores of the tests judge retention on (7.1: what is past it is not read): the
/// fixtures' first business date, 2025-03-01, so nothing they write is past its retention however
/// late the suite runs (on the system's date, files of 2025-03-01 expired in March 2026, and
/// applicants and rejections of 2026 will in their turn). Tests of expiry pin a day of their own.
pub const FIXTURES_TODAY: NaiveDate = match NaiveDate::from_ymd_opt(2025, 3, 1) {
    Some(day) => day,
    None => panic!("2025-03-01 is a date"),
};

/// The day the stores over the sample files, the fixture applicants of [`crate::applicants`] and
/// [`crate::one_trust`] judge retention on: the date of those files, 2026-11-21, when they arrive
/// (as a deployed store would judge on the day it takes them in), whatever the calendar says when
/// the suite runs.
pub const SAMPLES_TODAY: NaiveDate = match NaiveDate::from_ymd_opt(2026, 11, 21) {
    Some(day) => day,
    None => panic!("2026-11-21 is a date"),
};

/// 2025-03-`day` at `hour`:00 UTC.
pub fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, day, hour, 0, 0).unwrap()
}

/// A calendar date (panics on an impossible one).
pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A claimed (in progress) file `<source>#<type>#<seq>` with the given content hash.
pub fn file(source: &str, file_type: &str, seq: u64, sha: &str) -> ProcessedFile {
    ProcessedFile {
        identity: format!("{source}#{file_type}#{seq}"),
        source: source.to_string(),
        file_type: file_type.to_string(),
        seq,
        name: format!("{file_type}_{source}_20250301_{seq:05}.csv"),
        sha256: sha.to_string(),
        business_date: date(2025, 3, 1),
        status: FileStatus::InProgress,
        claimed_at: at(1, 9),
        completed_at: None,
        summary: None,
    }
}

/// An active position `<vpd>-P<i>` of trust `vpd`; `dpn` may be empty (no DPN).
pub fn position(vpd: &str, i: usize, dpn: &str) -> Position {
    Position {
        position_id: format!("{vpd}-P{i:04}"),
        vpd: vpd.to_string(),
        position_number: format!("{vpd}/{i:05}"),
        position_name: format!("Doctor|ST{}|Medicine|{vpd}", 1 + i % 8),
        dpn: dpn.to_string(),
        managing_deanery_body: "London".to_string(),
        host_lead: if i % 2 == 0 {
            Some(HostLead::HostEmployer)
        } else {
            None
        },
        effective_from: Some(date(2024, 8, 7)),
        effective_to: if i % 3 == 0 {
            None
        } else {
            Some(date(2026, 8, 4))
        },
        occupation_code: "MED".to_string(),
        grade: "ST3".to_string(),
        site: "Main".to_string(),
        ods_code: vpd.to_string(),
        organisation: format!("Trust {vpd}"),
        status: PositionStatus::Active,
        dpn_issues: Vec::new(),
        name_issues: if i % 10 == 0 {
            vec!["name issue".to_string()]
        } else {
            Vec::new()
        },
        duplicate_dpn: false,
        changed_in: "POS_RJ1_20250301_00001.csv".to_string(),
        changed_on: date(2025, 3, 1),
    }
}

/// The APP file the applicants of [`new_applicant`] come from, and its hash.
pub const SOURCE_FILE: &str = "APP_LDN_20250301_00005.csv";
pub const SOURCE_SHA: &str = "5e2b1c0ffee";

/// A plausible applicant. Persons: applicants `i` and `i + 1` share a GMC number when `i` is a
/// multiple of 10 (same trust), every 7th has no GMC but NI and date of birth, every 13th none.
pub fn new_applicant(number: u64, i: usize) -> NewApplicant {
    let vpd = ["RJ1", "RJ7", "RQM"][i % 3].to_string();
    let gmc = if i % 13 == 5 || i % 7 == 3 {
        None
    } else if i % 10 == 1 {
        Some(format!("{}", 7_000_000 + i - 1))
    } else {
        Some(format!("{}", 7_000_000 + i))
    };
    let vpd = if i % 10 == 1 {
        ["RJ1", "RJ7", "RQM"][(i - 1) % 3].to_string()
    } else {
        vpd
    };
    let (ni, dob) = if i % 13 == 5 {
        (None, None)
    } else {
        (
            Some(format!("QQ{:06}C", 100_000 + i)),
            Some(date(
                1990 + (i % 9) as i32,
                1 + (i % 12) as u32,
                1 + (i % 27) as u32,
            )),
        )
    };
    let details = ApplicantDetails {
        effective_date: Some(date(2025, 8, 6)),
        last_name: format!("Surname{i}"),
        first_name: format!("Given{i}"),
        middle_names: (i % 4 == 0).then(|| "Middle".to_string()),
        title: Some("Dr".to_string()),
        date_of_birth: dob,
        gender: Some(["F", "M", "X"][i % 3].to_string()),
        gmc_number: gmc.clone(),
        national_insurance_number: ni.clone(),
        national_training_number: Some(format!("LDN/{:03}/{:03}/N", i % 400, i)),
        email_address: Some(format!("doctor{i}@example.nhs.uk")),
        mobile_tel: Some(format!("07700 900{:03}", i % 1000)),
        address_line_1: Some(format!("{} Example Street", 1 + i % 90)),
        town: Some("London".to_string()),
        postcode: Some("SW1A 1AA".to_string()),
        wte: Some(if i % 5 == 0 { 0.8 } else { 1.0 }),
        grade: Some("ST3".to_string()),
        ..ApplicantDetails::default()
    };
    let created = at(1, 9) + Duration::seconds(i as i64);
    let number = number.to_string();
    let applicant = Applicant {
        applicant_number: number.clone(),
        assignment_id: format!("ASG{i:06}"),
        placement_id: format!("PLC{i:07}"),
        vpd: vpd.clone(),
        local_office: "LDN".to_string(),
        position_id: format!("{vpd}-P{:04}", i % 50),
        position_number: format!("{vpd}/{:05}", i % 50),
        dpn: format!("LDN/{vpd}/MED/{:03}", i % 50),
        state: ApplicantState::Loaded,
        version: 2,
        projected_hire_date: date(2025, 8, 6) + Duration::days((i % 3) as i64 * 7),
        projected_end_date: (i % 2 == 0).then(|| date(2026, 8, 4)),
        person_key: person_key(gmc.as_deref(), ni.as_deref(), dob),
        details,
        source_file: SOURCE_FILE.to_string(),
        source_sha256: SOURCE_SHA.to_string(),
        record_number: i as u64 + 1,
        load_messages: if i % 6 == 0 {
            vec![Message::warning(format!(
                "value ignored in record {}",
                i + 1
            ))]
        } else {
            Vec::new()
        },
        created_at: created,
        updated_at: created,
        employment_checks: None,
        reminded: None,
        internal_mover: false,
        trust_checks: None,
        late_changes: 0,
    };
    let cause = Cause::File {
        name: SOURCE_FILE.to_string(),
        record_number: i as u64 + 1,
        line: i as u64 + 2,
    };
    let history = vec![
        HistoryEntry {
            seq: 1,
            at: created,
            command: "receive".to_string(),
            from: None,
            to: ApplicantState::Received,
            outcome: HistoryOutcome::Moved,
            cause: cause.clone(),
            actor: "inbound-file".to_string(),
            detail: None,
        },
        HistoryEntry {
            seq: 2,
            at: created,
            command: "load".to_string(),
            from: Some(ApplicantState::Received),
            to: ApplicantState::Loaded,
            outcome: HistoryOutcome::Moved,
            cause,
            actor: "inbound-file".to_string(),
            detail: Some("checks passed".to_string()),
        },
    ];
    NewApplicant { applicant, history }
}

/// Applicants `indexes` (see [`new_applicant`]) numbered from `first_number`.
pub fn batch(first_number: u64, indexes: std::ops::Range<usize>) -> Vec<NewApplicant> {
    indexes
        .enumerate()
        .map(|(k, i)| new_applicant(first_number + k as u64, i))
        .collect()
}

/// The placement link that creating `new` stores.
pub fn link_of(new: &NewApplicant) -> PlacementLink {
    PlacementLink {
        placement_id: new.applicant.placement_id.clone(),
        applicant_number: new.applicant.applicant_number.clone(),
        source_file: new.applicant.source_file.clone(),
        source_sha256: new.applicant.source_sha256.clone(),
    }
}

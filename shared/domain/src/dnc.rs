//! Notification records of DNC (changes) and DNF (full snapshot) files, section 2.7.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::app::parse_iso_date;

/// Field names in file order, index 0 being the record code (`DNC` in both DNC and DNF files).
pub const DNC_FIELDS: [&str; 33] = [
    "RECORD_CODE",
    "NOTIFICATION_TYPE",
    "DEANERY_POST_NUMBER",
    "MANAGING_DEANERY_BODY",
    "POSITION_ID",
    "VPD",
    "POST_SPECIALTY",
    "SITE",
    "CURRENT_LAST_NAME",
    "CURRENT_FIRST_NAME",
    "CURRENT_GMC_NUMBER",
    "CURRENT_PROJECTED_END_DATE",
    "CURRENT_NEXT_PLACEMENT_SITE",
    "CURRENT_WTE",
    "NEXT_LAST_NAME",
    "NEXT_FIRST_NAME",
    "NEXT_GMC_NUMBER",
    "NEXT_CURRENT_PLACEMENT_SITE",
    "NEXT_PROJECTED_START_DATE",
    "NEXT_EMAIL_ADDRESS",
    "NEXT_GRADE",
    "NEXT_WTE",
    "WITHDRAWN_LAST_NAME",
    "WITHDRAWN_FIRST_NAME",
    "WITHDRAWN_GMC_NUMBER",
    "WITHDRAWAL_REASON",
    "REPLACEMENT_LAST_NAME",
    "REPLACEMENT_FIRST_NAME",
    "REPLACEMENT_GMC_NUMBER",
    "REPLACEMENT_PROJECTED_HIRE_DATE",
    "CHANGE_OF_PROJECTED_HIRE_DATE",
    "CHANGE_OF_PROJECTED_END_DATE",
    "POST_VACANT_AT_NEXT_ROTATION",
];

const DATE_FIELDS: [&str; 5] = [
    "CURRENT_PROJECTED_END_DATE",
    "NEXT_PROJECTED_START_DATE",
    "REPLACEMENT_PROJECTED_HIRE_DATE",
    "CHANGE_OF_PROJECTED_HIRE_DATE",
    "CHANGE_OF_PROJECTED_END_DATE",
];

/// What TIS sends when no withdrawal reason is known.
pub const DEFAULT_WITHDRAWAL_REASON: &str = "3: Other";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotificationType {
    /// Current and next holder of a position (refreshes the rotation grid).
    CurrentAndNext = 1,
    Withdrawal = 2,
    Replacement = 3,
    DateChange = 4,
    NewPost = 5,
}

impl NotificationType {
    pub fn parse(text: &str) -> Option<NotificationType> {
        Some(match text {
            "1" => NotificationType::CurrentAndNext,
            "2" => NotificationType::Withdrawal,
            "3" => NotificationType::Replacement,
            "4" => NotificationType::DateChange,
            "5" => NotificationType::NewPost,
            _ => return None,
        })
    }

    pub fn code(self) -> u8 {
        self as u8
    }
}

/// A trainee as a notification names them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NamedTrainee {
    pub last_name: String,
    pub first_name: String,
    pub gmc_number: String,
}

impl NamedTrainee {
    pub fn is_empty(&self) -> bool {
        self.last_name.is_empty() && self.first_name.is_empty() && self.gmc_number.is_empty()
    }
}

/// One checked DNC line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DncRecord {
    pub notification_type: NotificationType,
    pub dpn: String,
    pub managing_deanery_body: String,
    pub position_id: String,
    pub vpd: String,
    pub specialty: String,
    pub site: String,
    pub current: NamedTrainee,
    pub current_projected_end_date: Option<NaiveDate>,
    pub current_next_placement_site: String,
    pub current_wte: String,
    pub next: NamedTrainee,
    pub next_current_placement_site: String,
    pub next_projected_start_date: Option<NaiveDate>,
    pub next_email_address: String,
    pub next_grade: String,
    pub next_wte: String,
    pub withdrawn: NamedTrainee,
    pub withdrawal_reason: String,
    pub replacement: NamedTrainee,
    pub replacement_projected_hire_date: Option<NaiveDate>,
    pub change_of_projected_hire_date: Option<NaiveDate>,
    pub change_of_projected_end_date: Option<NaiveDate>,
    pub post_vacant_at_next_rotation: Option<bool>,
}

impl DncRecord {
    /// The specialty as notification titles show it.
    pub fn specialty_title(&self) -> &str {
        if self.specialty.is_empty() {
            "No specialty supplied"
        } else {
            &self.specialty
        }
    }
}

/// Reads and checks one DNC line.
///
/// # Errors
/// A sentence a person at TIS can act on, naming the field.
pub fn read_record(record: &csv::StringRecord) -> Result<DncRecord, String> {
    let get = |field: &str| -> String {
        DNC_FIELDS
            .iter()
            .position(|f| *f == field)
            .and_then(|i| record.get(i))
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let type_text = get("NOTIFICATION_TYPE");
    let notification_type = NotificationType::parse(&type_text)
        .ok_or_else(|| format!("NOTIFICATION_TYPE {type_text:?} is not one of 1, 2, 3, 4, 5"))?;
    let mut missing: Vec<&str> = Vec::new();
    for field in ["DEANERY_POST_NUMBER", "VPD"] {
        if get(field).is_empty() {
            missing.push(field);
        }
    }
    let required_by_type: &[&str] = match notification_type {
        NotificationType::Withdrawal => &["WITHDRAWN_GMC_NUMBER"],
        NotificationType::Replacement => &["REPLACEMENT_LAST_NAME", "REPLACEMENT_GMC_NUMBER"],
        NotificationType::DateChange => &[],
        _ => &[],
    };
    for field in required_by_type {
        if get(field).is_empty() {
            missing.push(field);
        }
    }
    if notification_type == NotificationType::DateChange
        && get("CHANGE_OF_PROJECTED_HIRE_DATE").is_empty()
        && get("CHANGE_OF_PROJECTED_END_DATE").is_empty()
    {
        missing.push("CHANGE_OF_PROJECTED_HIRE_DATE or CHANGE_OF_PROJECTED_END_DATE");
    }
    if !missing.is_empty() {
        return Err(format!(
            "Mandatory item {} not supplied",
            missing.join(", ")
        ));
    }
    for field in DATE_FIELDS {
        let value = get(field);
        if !value.is_empty() && parse_iso_date(&value).is_none() {
            return Err(format!(
                "Invalid date {value} for {field} (expected YYYY-MM-DD)"
            ));
        }
    }
    let vacant = get("POST_VACANT_AT_NEXT_ROTATION");
    let post_vacant_at_next_rotation = match vacant.as_str() {
        "" => None,
        "Y" | "y" => Some(true),
        "N" | "n" => Some(false),
        other => {
            return Err(format!(
                "POST_VACANT_AT_NEXT_ROTATION {other:?} is neither Y nor N"
            ))
        }
    };
    let date = |field: &str| parse_iso_date(&get(field));
    let trainee = |prefix: &str| NamedTrainee {
        last_name: get(&format!("{prefix}_LAST_NAME")),
        first_name: get(&format!("{prefix}_FIRST_NAME")),
        gmc_number: get(&format!("{prefix}_GMC_NUMBER")),
    };
    let reason = get("WITHDRAWAL_REASON");
    Ok(DncRecord {
        notification_type,
        dpn: get("DEANERY_POST_NUMBER"),
        managing_deanery_body: get("MANAGING_DEANERY_BODY"),
        position_id: get("POSITION_ID"),
        vpd: get("VPD"),
        specialty: get("POST_SPECIALTY"),
        site: get("SITE"),
        current: trainee("CURRENT"),
        current_projected_end_date: date("CURRENT_PROJECTED_END_DATE"),
        current_next_placement_site: get("CURRENT_NEXT_PLACEMENT_SITE"),
        current_wte: get("CURRENT_WTE"),
        next: trainee("NEXT"),
        next_current_placement_site: get("NEXT_CURRENT_PLACEMENT_SITE"),
        next_projected_start_date: date("NEXT_PROJECTED_START_DATE"),
        next_email_address: get("NEXT_EMAIL_ADDRESS"),
        next_grade: get("NEXT_GRADE"),
        next_wte: get("NEXT_WTE"),
        withdrawn: trainee("WITHDRAWN"),
        withdrawal_reason: if reason.is_empty() || reason == "3" {
            DEFAULT_WITHDRAWAL_REASON.to_string()
        } else {
            reason
        },
        replacement: trainee("REPLACEMENT"),
        replacement_projected_hire_date: date("REPLACEMENT_PROJECTED_HIRE_DATE"),
        change_of_projected_hire_date: date("CHANGE_OF_PROJECTED_HIRE_DATE"),
        change_of_projected_end_date: date("CHANGE_OF_PROJECTED_END_DATE"),
        post_vacant_at_next_rotation,
    })
}

/// One row of a trust's rotation grid (the MEDROT): a position's current and next holder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RotationEntry {
    pub vpd: String,
    /// The position id, or `DPN:<dpn>` when the notification carried no position id.
    pub position_key: String,
    pub position_id: String,
    pub dpn: String,
    pub managing_deanery_body: String,
    pub specialty: String,
    pub site: String,
    pub current: NamedTrainee,
    pub current_projected_end_date: Option<NaiveDate>,
    pub current_next_placement_site: String,
    pub current_wte: String,
    pub next: NamedTrainee,
    pub next_current_placement_site: String,
    pub next_projected_start_date: Option<NaiveDate>,
    pub next_email_address: String,
    pub next_grade: String,
    pub next_wte: String,
    pub post_vacant_at_next_rotation: Option<bool>,
    /// The file (and business date) that last set this row.
    pub source_file: String,
    pub updated_on: NaiveDate,
}

impl RotationEntry {
    pub fn from_record(record: &DncRecord, source_file: &str, updated_on: NaiveDate) -> Self {
        RotationEntry {
            vpd: record.vpd.clone(),
            position_key: if record.position_id.is_empty() {
                format!("DPN:{}", record.dpn)
            } else {
                record.position_id.clone()
            },
            position_id: record.position_id.clone(),
            dpn: record.dpn.clone(),
            managing_deanery_body: record.managing_deanery_body.clone(),
            specialty: record.specialty.clone(),
            site: record.site.clone(),
            current: record.current.clone(),
            current_projected_end_date: record.current_projected_end_date,
            current_next_placement_site: record.current_next_placement_site.clone(),
            current_wte: record.current_wte.clone(),
            next: record.next.clone(),
            next_current_placement_site: record.next_current_placement_site.clone(),
            next_projected_start_date: record.next_projected_start_date,
            next_email_address: record.next_email_address.clone(),
            next_grade: record.next_grade.clone(),
            next_wte: record.next_wte.clone(),
            post_vacant_at_next_rotation: record.post_vacant_at_next_rotation,
            source_file: source_file.to_string(),
            updated_on,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A type-1 line for position 10508064 of trust 504; `edits` replace named fields.
    pub(crate) fn line(edits: &[(&str, &str)]) -> csv::StringRecord {
        let mut fields: Vec<String> = DNC_FIELDS.iter().map(|_| String::new()).collect();
        let base = [
            ("RECORD_CODE", "DNC"),
            ("NOTIFICATION_TYPE", "1"),
            ("DEANERY_POST_NUMBER", "KSS/RJZ01/030/STR/001"),
            ("MANAGING_DEANERY_BODY", "KSS"),
            ("POSITION_ID", "10508064"),
            ("VPD", "504"),
            ("POST_SPECIALTY", "Cardiology"),
            ("SITE", "Example Hospital"),
            ("CURRENT_LAST_NAME", "Holder"),
            ("CURRENT_FIRST_NAME", "Current"),
            ("CURRENT_GMC_NUMBER", "7100001"),
            ("CURRENT_PROJECTED_END_DATE", "2027-02-02"),
            ("NEXT_LAST_NAME", "Okafor"),
            ("NEXT_FIRST_NAME", "Adaeze"),
            ("NEXT_GMC_NUMBER", "7544158"),
            ("NEXT_PROJECTED_START_DATE", "2027-02-03"),
            ("POST_VACANT_AT_NEXT_ROTATION", "N"),
        ];
        for (field, value) in base.iter().chain(edits) {
            let i = DNC_FIELDS.iter().position(|f| f == field).unwrap();
            fields[i] = value.to_string();
        }
        csv::StringRecord::from(fields)
    }

    #[test]
    fn a_type_1_line_reads_into_its_parts() {
        let record = read_record(&line(&[])).unwrap();
        assert_eq!(record.notification_type, NotificationType::CurrentAndNext);
        assert_eq!(record.next.gmc_number, "7544158");
        assert_eq!(record.post_vacant_at_next_rotation, Some(false));
        let entry = RotationEntry::from_record(
            &record,
            "f",
            NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
        );
        assert_eq!(entry.position_key, "10508064");
        let no_position = read_record(&line(&[("POSITION_ID", "")])).unwrap();
        let entry = RotationEntry::from_record(
            &no_position,
            "f",
            NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
        );
        assert_eq!(entry.position_key, "DPN:KSS/RJZ01/030/STR/001");
    }

    #[test]
    fn faults_are_named_for_the_person_at_tis() {
        for (edits, says) in [
            (vec![("NOTIFICATION_TYPE", "6")], "NOTIFICATION_TYPE \"6\""),
            (vec![("VPD", "")], "Mandatory item VPD"),
            (vec![("NOTIFICATION_TYPE", "2")], "WITHDRAWN_GMC_NUMBER"),
            (vec![("NOTIFICATION_TYPE", "3")], "REPLACEMENT_LAST_NAME"),
            (
                vec![("NOTIFICATION_TYPE", "4")],
                "CHANGE_OF_PROJECTED_HIRE_DATE or CHANGE_OF_PROJECTED_END_DATE",
            ),
            (
                vec![("NEXT_PROJECTED_START_DATE", "2027-02-30")],
                "Invalid date 2027-02-30 for NEXT_PROJECTED_START_DATE",
            ),
            (
                vec![("POST_VACANT_AT_NEXT_ROTATION", "maybe")],
                "POST_VACANT_AT_NEXT_ROTATION",
            ),
        ] {
            let err = read_record(&line(&edits)).unwrap_err();
            assert!(err.contains(says), "{edits:?}: {err}");
        }
    }

    #[test]
    fn withdrawal_reason_defaults_to_other() {
        let record = read_record(&line(&[
            ("NOTIFICATION_TYPE", "2"),
            ("WITHDRAWN_GMC_NUMBER", "7544158"),
        ]))
        .unwrap();
        assert_eq!(record.withdrawal_reason, "3: Other");
        let given = read_record(&line(&[
            ("NOTIFICATION_TYPE", "2"),
            ("WITHDRAWN_GMC_NUMBER", "7544158"),
            ("WITHDRAWAL_REASON", "1: Resigned"),
        ]))
        .unwrap();
        assert_eq!(given.withdrawal_reason, "1: Resigned");
        assert_eq!(given.specialty_title(), "Cardiology");
        let none = read_record(&line(&[("POST_SPECIALTY", "")])).unwrap();
        assert_eq!(none.specialty_title(), "No specialty supplied");
    }
}

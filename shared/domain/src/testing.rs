//! Helpers for the unit tests of this crate.

use crate::lifecycle::ApplicantState;
use crate::model::Applicant;

/// An applicant of trust 504 (GMC 7000001, position 504-9) in `state`, hired on `hire`.
pub(crate) fn applicant(
    number: &str,
    state: ApplicantState,
    hire: &str,
    internal: bool,
) -> Applicant {
    let json = serde_json::json!({
        "applicant_number": number, "assignment_id": "1", "placement_id": number,
        "vpd": "504", "local_office": "KSS", "position_id": "P1", "position_number": "504-9",
        "dpn": "KSS/RTH01/FY1/001", "state": state, "version": 3,
        "projected_hire_date": hire, "projected_end_date": "2027-08-01",
        "person_key": "GMC#7000001",
        "details": serde_json::to_value(crate::app::ApplicantDetails {
            last_name: format!("Last{number}"),
            first_name: "First".into(),
            gmc_number: Some("7000001".into()),
            ..Default::default()
        })
        .unwrap(),
        "source_file": "f", "source_sha256": "s", "record_number": 1, "load_messages": [],
        "created_at": "2026-12-01T00:00:00Z", "updated_at": "2026-12-01T00:00:00Z",
        "internal_mover": internal,
    });
    serde_json::from_value(json).unwrap()
}

//! Internal moves (section 10): an applicant whose person is already an employee of the trust is
//! moved with `update_assignment`, never hired again, and the person's earlier assignment at that
//! trust is told where it went. Pure: no clock, no store.

use chrono::{Days, NaiveDate};

use super::lifecycle::{decide, ApplicantState, Command, Refusal, Transition};
use super::model::Applicant;

/// The history command of the entry written on the earlier applicant.
pub const ASSIGNMENT_MOVED: &str = "assignment_moved";
/// The detail of the mover's own entry.
pub const HIRED_INTERNAL_MOVE: &str = "hired (internal move)";

/// The refusal of `hire` for an internal mover: what stops a duplicate employee record.
pub fn hire_refusal(applicant_number: &str, vpd: &str) -> String {
    format!(
        "Applicant {applicant_number} is an existing employee of trust {vpd}: update the assignment (update_assignment) instead of hiring again."
    )
}

/// The refusal of `update_assignment` for an applicant that is not an internal mover.
pub fn not_internal_refusal(applicant_number: &str, vpd: &str) -> String {
    format!(
        "Applicant {applicant_number} is not an existing employee of trust {vpd}: update_assignment is only for an internal move; hire instead."
    )
}

/// [`decide`] for a stored applicant: `hire` is refused for an internal mover and
/// `update_assignment` for anyone else, before the table of section 3 is applied.
///
/// # Errors
/// [`Refusal`] naming the applicant and the move.
pub fn decide_for(applicant: &Applicant, command: &Command) -> Result<Transition, Refusal> {
    let number = &applicant.applicant_number;
    let open = !applicant.state.is_terminal();
    match command {
        Command::Hire { .. } if applicant.internal_mover && open => Err(Refusal {
            reason: hire_refusal(number, &applicant.vpd),
        }),
        Command::UpdateAssignment { .. } if !applicant.internal_mover => Err(Refusal {
            reason: not_internal_refusal(number, &applicant.vpd),
        }),
        _ => decide(number, Some(applicant.state), command),
    }
}

/// The person's earlier hired applicant at the mover's trust: same trust and person, hired, hired
/// on or before the mover's hire date; the latest such one.
pub fn earlier_assignment<'a>(
    mover: &Applicant,
    candidates: &'a [Applicant],
) -> Option<&'a Applicant> {
    let person = mover.person_key.as_deref()?;
    candidates
        .iter()
        .filter(|a| {
            a.applicant_number != mover.applicant_number
                && a.vpd == mover.vpd
                && a.state == ApplicantState::Hired
                && a.person_key.as_deref() == Some(person)
                && a.projected_hire_date <= mover.projected_hire_date
        })
        .max_by_key(|a| {
            (
                a.projected_hire_date,
                a.applicant_number.len(),
                a.applicant_number.clone(),
            )
        })
}

/// What the earlier applicant becomes: its projected end date is the day before the mover's hire
/// date when it was later (or unknown), and the history detail that says where the assignment went.
pub fn moved_assignment(earlier: &Applicant, mover: &Applicant) -> (Applicant, String) {
    let new_end = mover
        .projected_hire_date
        .checked_sub_days(Days::new(1))
        .unwrap_or(mover.projected_hire_date);
    let mut updated = earlier.clone();
    if earlier.projected_end_date.is_none_or(|end| end > new_end) {
        updated.projected_end_date = Some(new_end);
    }
    let detail = format!(
        "Assignment moved to position {} from {} (applicant {})",
        mover.position_number,
        format_date(mover.projected_hire_date),
        mover.applicant_number
    );
    (updated, detail)
}

fn format_date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::PersonType;
    use crate::testing::applicant;

    const HIRE: Command = Command::Hire {
        person_type: PersonType::Employee,
        host_employer: false,
    };
    const UPDATE: Command = Command::UpdateAssignment {
        person_type: PersonType::Employee,
        host_employer: false,
    };

    #[test]
    fn hire_of_an_internal_mover_is_refused_with_the_contract_text() {
        let mover = applicant("4769160", ApplicantState::Accepted, "2027-02-03", true);
        assert_eq!(
            decide_for(&mover, &HIRE).unwrap_err().reason,
            "Applicant 4769160 is an existing employee of trust 504: update the assignment (update_assignment) instead of hiring again."
        );
        assert_eq!(
            decide_for(&mover, &UPDATE).unwrap(),
            Transition::Moved {
                from: Some(ApplicantState::Accepted),
                to: ApplicantState::Hired
            }
        );
    }

    #[test]
    fn update_assignment_is_only_for_an_internal_mover_and_only_from_accepted() {
        let new_hire = applicant("1", ApplicantState::Accepted, "2027-02-03", false);
        assert!(decide_for(&new_hire, &UPDATE)
            .unwrap_err()
            .reason
            .contains("not an existing employee of trust 504"));
        assert!(decide_for(&new_hire, &HIRE).is_ok());
        let offered = applicant("2", ApplicantState::Offered, "2027-02-03", true);
        assert!(decide_for(&offered, &UPDATE)
            .unwrap_err()
            .reason
            .contains("allowed only from accepted"));
        let host = Command::UpdateAssignment {
            person_type: PersonType::Employee,
            host_employer: true,
        };
        let mover = applicant("3", ApplicantState::Accepted, "2027-02-03", true);
        assert!(decide_for(&mover, &host)
            .unwrap_err()
            .reason
            .contains("must be Honorary"));
        let hired = applicant("4", ApplicantState::Hired, "2027-02-03", true);
        assert_eq!(
            decide_for(&hired, &UPDATE).unwrap(),
            Transition::Unchanged(ApplicantState::Hired)
        );
    }

    #[test]
    fn the_earlier_assignment_ends_the_day_before_the_new_hire_when_later() {
        let mover = applicant("9", ApplicantState::Hired, "2027-02-03", true);
        let old = applicant("5", ApplicantState::Hired, "2026-08-05", false);
        let older = applicant("4", ApplicantState::Hired, "2025-08-05", false);
        let withdrawn = applicant("6", ApplicantState::Withdrawn, "2026-10-05", false);
        let all = vec![older, old.clone(), withdrawn, mover.clone()];
        let earlier = earlier_assignment(&mover, &all).unwrap();
        assert_eq!(earlier.applicant_number, "5");
        let (updated, detail) = moved_assignment(earlier, &mover);
        assert_eq!(
            detail,
            "Assignment moved to position 504-9 from 2027-02-03 (applicant 9)"
        );
        assert_eq!(
            updated.projected_end_date,
            NaiveDate::from_ymd_opt(2027, 2, 2)
        );
        let mut ends_sooner = old;
        ends_sooner.projected_end_date = NaiveDate::from_ymd_opt(2027, 1, 1);
        let (kept, _) = moved_assignment(&ends_sooner, &mover);
        assert_eq!(kept.projected_end_date, NaiveDate::from_ymd_opt(2027, 1, 1));
    }
}

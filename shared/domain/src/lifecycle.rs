//! The applicant state machine of section 3, as a pure transition function, and the transfer window.

use std::fmt;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::messages::Message;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicantState {
    Received,
    Loaded,
    Rejected,
    Offered,
    Accepted,
    Hired,
    Withdrawn,
}

impl ApplicantState {
    pub const ALL: [ApplicantState; 7] = [
        ApplicantState::Received,
        ApplicantState::Loaded,
        ApplicantState::Rejected,
        ApplicantState::Offered,
        ApplicantState::Accepted,
        ApplicantState::Hired,
        ApplicantState::Withdrawn,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ApplicantState::Received => "received",
            ApplicantState::Loaded => "loaded",
            ApplicantState::Rejected => "rejected",
            ApplicantState::Offered => "offered",
            ApplicantState::Accepted => "accepted",
            ApplicantState::Hired => "hired",
            ApplicantState::Withdrawn => "withdrawn",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ApplicantState::Rejected | ApplicantState::Hired | ApplicantState::Withdrawn
        )
    }
}

impl fmt::Display for ApplicantState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PersonType {
    Employee,
    Honorary,
}

/// What can be asked of an applicant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "command")]
pub enum Command {
    /// An APP record read from a file.
    Receive,
    /// The load checks of 2.5 passed.
    Load,
    /// The load checks of 2.5 failed.
    Reject,
    Offer,
    Accept,
    Hire {
        person_type: PersonType,
        /// The position's HOST_LEAD_STATUS is Host Employer.
        host_employer: bool,
    },
    Withdraw,
    /// An internal mover's move to its new post (section 10): the existing assignment is updated
    /// instead of a hire; person type as for [`Command::Hire`].
    UpdateAssignment {
        person_type: PersonType,
        host_employer: bool,
    },
}

impl Command {
    pub const fn name(&self) -> &'static str {
        match self {
            Command::Receive => "receive",
            Command::Load => "load",
            Command::Reject => "reject",
            Command::Offer => "offer",
            Command::Accept => "accept",
            Command::Hire { .. } => "hire",
            Command::Withdraw => "withdraw",
            Command::UpdateAssignment { .. } => "update_assignment",
        }
    }

    /// The state a successful command leads to.
    pub fn target(&self) -> ApplicantState {
        match self {
            Command::Receive => ApplicantState::Received,
            Command::Load => ApplicantState::Loaded,
            Command::Reject => ApplicantState::Rejected,
            Command::Offer => ApplicantState::Offered,
            Command::Accept => ApplicantState::Accepted,
            Command::Hire { .. } => ApplicantState::Hired,
            Command::Withdraw => ApplicantState::Withdrawn,
            Command::UpdateAssignment { .. } => ApplicantState::Hired,
        }
    }

    /// The states the command may start from (`None` = a new applicant).
    fn allowed_from(&self) -> &'static [Option<ApplicantState>] {
        use ApplicantState::*;
        match self {
            Command::Receive => &[None],
            Command::Load | Command::Reject => &[Some(Received)],
            Command::Offer => &[Some(Loaded)],
            Command::Accept => &[Some(Offered)],
            Command::Hire { .. } | Command::UpdateAssignment { .. } => &[Some(Accepted)],
            Command::Withdraw => &[Some(Received), Some(Loaded), Some(Offered), Some(Accepted)],
        }
    }
}

/// The outcome of a command that is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Transition {
    Moved {
        from: Option<ApplicantState>,
        to: ApplicantState,
    },
    /// The same command again: it succeeds and changes nothing.
    Unchanged(ApplicantState),
}

/// A refused move, with a sentence naming the applicant, its state and the move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{reason}")]
pub struct Refusal {
    pub reason: String,
}

/// Decides a command against the current state. Pure: no clock, no store.
///
/// # Errors
/// [`Refusal`] when the move is not in the table of section 3.
pub fn decide(
    applicant: &str,
    state: Option<ApplicantState>,
    command: &Command,
) -> Result<Transition, Refusal> {
    if let Command::Hire {
        person_type: PersonType::Employee,
        host_employer: true,
    }
    | Command::UpdateAssignment {
        person_type: PersonType::Employee,
        host_employer: true,
    } = command
    {
        return Err(Refusal {
            reason: format!(
                "Applicant {applicant} cannot be hired as Employee: the position is a Host Employer position, so the person type must be Honorary"
            ),
        });
    }
    if state == Some(command.target()) && state.is_some() {
        return Ok(Transition::Unchanged(command.target()));
    }
    if command.allowed_from().contains(&state) {
        return Ok(Transition::Moved {
            from: state,
            to: command.target(),
        });
    }
    let reason = match state {
        None => format!(
            "Applicant {applicant} does not exist; {} needs an existing applicant",
            command.name()
        ),
        Some(current) => {
            let allowed: Vec<&str> = command
                .allowed_from()
                .iter()
                .map(|s| s.map_or("(new)", ApplicantState::name))
                .collect();
            format!(
                "Applicant {applicant} is {current}; {} is allowed only from {}{}",
                command.name(),
                allowed.join(", "),
                if current.is_terminal() {
                    format!(" ({current} is final)")
                } else {
                    String::new()
                }
            )
        }
    };
    Err(Refusal { reason })
}

/// Earliest distance from the business date to the projected hire date.
pub const WINDOW_MIN_DAYS: u64 = 2;
/// Latest distance: 13 weeks.
pub const WINDOW_MAX_DAYS: u64 = 13 * 7;

/// The transfer window: a hire date 2 days to 13 weeks (inclusive) after the business date.
///
/// # Errors
/// The ERROR message of 2.5 when the date is outside.
pub fn check_transfer_window(hire: NaiveDate, business_date: NaiveDate) -> Result<(), Message> {
    let earliest = business_date + Days::new(WINDOW_MIN_DAYS);
    let latest = business_date + Days::new(WINDOW_MAX_DAYS);
    if hire < earliest {
        Err(Message::hire_too_soon(hire, business_date))
    } else if hire > latest {
        Err(Message::hire_too_late(hire, business_date))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ApplicantState::*;

    fn all_commands() -> Vec<Command> {
        let mut commands = vec![
            Command::Receive,
            Command::Load,
            Command::Reject,
            Command::Offer,
            Command::Accept,
            Command::Withdraw,
        ];
        for person_type in [PersonType::Employee, PersonType::Honorary] {
            for host_employer in [false, true] {
                commands.push(Command::Hire {
                    person_type,
                    host_employer,
                });
            }
        }
        commands
    }

    /// The table of section 3, written out independently of `allowed_from`.
    fn expected(state: Option<ApplicantState>, command: &Command) -> Option<Transition> {
        let moved = |to| Some(Transition::Moved { from: state, to });
        match (state, command) {
            (
                _,
                Command::Hire {
                    person_type: PersonType::Employee,
                    host_employer: true,
                },
            ) => None,
            (None, Command::Receive) => moved(Received),
            (Some(Received), Command::Load) => moved(Loaded),
            (Some(Received), Command::Reject) => moved(Rejected),
            (Some(Loaded), Command::Offer) => moved(Offered),
            (Some(Offered), Command::Accept) => moved(Accepted),
            (Some(Accepted), Command::Hire { .. }) => moved(Hired),
            (Some(Received | Loaded | Offered | Accepted), Command::Withdraw) => moved(Withdrawn),
            (Some(s), c) if s == c.target() => Some(Transition::Unchanged(s)),
            _ => None,
        }
    }

    #[test]
    fn every_state_and_command_pair_follows_the_table() {
        let states: Vec<Option<ApplicantState>> = std::iter::once(None)
            .chain(ApplicantState::ALL.map(Some))
            .collect();
        let mut checked = 0;
        for state in &states {
            for command in all_commands() {
                let got = decide("4769160", *state, &command).ok();
                assert_eq!(got, expected(*state, &command), "{state:?} {command:?}");
                checked += 1;
            }
        }
        assert_eq!(checked, 8 * 10);
    }

    #[test]
    fn terminal_states_refuse_every_move_but_their_own_repeat() {
        for state in [Rejected, Hired, Withdrawn] {
            assert!(state.is_terminal());
            for command in all_commands() {
                match decide("1", Some(state), &command) {
                    Ok(Transition::Unchanged(s)) => assert_eq!(s, state),
                    Ok(other) => panic!("{state} moved by {command:?}: {other:?}"),
                    Err(_) => {}
                }
            }
        }
    }

    #[test]
    fn refusals_name_the_applicant_state_and_move() {
        let refusal = decide("4769160", Some(Hired), &Command::Offer).unwrap_err();
        assert_eq!(
            refusal.reason,
            "Applicant 4769160 is hired; offer is allowed only from loaded (hired is final)"
        );
        let refusal = decide("4769160", Some(Loaded), &Command::Accept).unwrap_err();
        assert_eq!(
            refusal.reason,
            "Applicant 4769160 is loaded; accept is allowed only from offered"
        );
        let refusal = decide(
            "4769160",
            Some(Accepted),
            &Command::Hire {
                person_type: PersonType::Employee,
                host_employer: true,
            },
        )
        .unwrap_err();
        assert!(refusal.reason.contains("must be Honorary"));
        let refusal = decide("99", None, &Command::Withdraw).unwrap_err();
        assert!(refusal.reason.contains("does not exist"));
    }

    #[test]
    fn transfer_window_is_2_days_to_13_weeks_inclusive() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let today = d("2026-11-21");
        assert!(check_transfer_window(d("2026-11-23"), today).is_ok());
        assert!(check_transfer_window(d("2027-02-20"), today).is_ok());
        assert_eq!(
            check_transfer_window(d("2026-11-22"), today).unwrap_err().text,
            "Projected hire date 2026-11-22 is less than 2 days after the file date 2026-11-21. Application rejected."
        );
        assert_eq!(
            check_transfer_window(d("2027-02-21"), today).unwrap_err().text,
            "Projected hire date 2027-02-21 is more than 13 weeks after the file date 2026-11-21. Application rejected."
        );
        assert!(check_transfer_window(d("2026-11-01"), today).is_err());
    }
}

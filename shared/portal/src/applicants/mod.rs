//! Applicant search, the applicant page and its moves.
//!
//! A trust sees and moves only its own applicants; an operator sees every trust's, read-only.
//! Another trust's applicant answers exactly like a missing one (404), before any form is read.
//! A move is asked on a confirmation page and sent with a CSRF token and an action id; it then
//! goes through [`handle_portal_action`], the path of a trust message (the state machine decides,
//! a refusal is recorded, the same action id twice is a duplicate), with the signed-in user as
//! the history's actor.
//!
//! Here: what the three share (who may see an applicant, the Host Employer lookup, the moves its
//! state allows); `search`, `page` and `moves` hold one route each (two for moves).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{json, Value};

use dit_core::ports::Area;
use dit_core::service::messages::answering::{answer_key, Answer, AnswerStatus};
use dit_core::service::messages::handle_portal_action;
use dit_domain::actions::MAX_REASON_CHARS;
use dit_domain::lifecycle::{decide, ApplicantState, Command, PersonType, Transition};
use dit_domain::model::{
    Applicant, ApplicantSummary, HistoryEntry, HistoryOutcome, RejectedApplication, RejectedLookup,
};

use crate::chrome::Chrome;
use crate::csrf::{is_action_id, new_action_id};
use crate::error::{Page, PageError};
use crate::format;
use crate::identity::Identity;
use crate::render;
use crate::state::{trust_of, Portal, Shared};

pub mod moves;
pub mod page;
pub mod search;

fn full_name(applicant: &Applicant) -> String {
    let d = &applicant.details;
    format!("{} {}", d.first_name, d.last_name)
        .trim()
        .to_string()
}

/// An applicant number as the messages take it (1 to 15 digits); anything else is not found.
pub(crate) fn is_number(text: &str) -> bool {
    (1..=15).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
}

/// The applicant, if the identity may see it; another trust's is "not found" like a missing one.
async fn visible(
    portal: &Portal,
    identity: &Identity,
    number: &str,
) -> Result<Applicant, PageError> {
    if identity.vpd().is_some() {
        trust_of(portal, identity)?;
    }
    // A trainee reads their own placements on the trainee pages, never the staff's page.
    if identity.trainee_gmc().is_some() || !is_number(number) {
        return Err(PageError::NotFound);
    }
    match portal.ports.store.applicant(number).await? {
        Some(applicant) if identity.sees_applicant(&applicant.vpd, &applicant.local_office) => {
            Ok(applicant)
        }
        _ => Err(PageError::NotFound),
    }
}

async fn host_employer(
    portal: &Portal,
    applicant: &Applicant,
) -> Result<(bool, String), PageError> {
    let positions = portal
        .ports
        .store
        .positions(std::slice::from_ref(&applicant.position_id))
        .await?;
    let position = positions.get(&applicant.position_id);
    Ok((
        position.is_some_and(|p| p.hire_as() == PersonType::Honorary),
        position
            .map(|p| p.position_name.clone())
            .unwrap_or_default(),
    ))
}

/// The moves of section 3 a trust can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Offer,
    Accept,
    Hire,
    Withdraw,
    /// An internal mover's hire (section 10): the existing assignment is updated.
    UpdateAssignment,
    /// Employment checks recorded by a trust without Trac (section 11); no state change.
    RecordChecks,
}

impl Move {
    pub const ALL: [Move; 6] = [
        Move::Offer,
        Move::Accept,
        Move::Hire,
        Move::UpdateAssignment,
        Move::Withdraw,
        Move::RecordChecks,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Move::Offer => "offer",
            Move::Accept => "accept",
            Move::Hire => "hire",
            Move::Withdraw => "withdraw",
            Move::UpdateAssignment => "update_assignment",
            Move::RecordChecks => "record_checks",
        }
    }

    /// Whether the move needs a person type (a hire, or an internal move).
    pub fn needs_person_type(self) -> bool {
        matches!(self, Move::Hire | Move::UpdateAssignment)
    }

    fn parse(text: &str) -> Option<Move> {
        Move::ALL.into_iter().find(|m| m.name() == text)
    }

    pub fn button(self) -> &'static str {
        match self {
            Move::Offer => "Offer the post",
            Move::Accept => "Record the offer as accepted",
            Move::Hire => "Hire",
            Move::Withdraw => "Withdraw the applicant",
            Move::UpdateAssignment => "Update the assignment (internal move)",
            Move::RecordChecks => "Record the employment checks",
        }
    }

    pub fn question(self) -> &'static str {
        match self {
            Move::Offer => "Offer the post (Offered Post Conditional)?",
            Move::Accept => "Record the offer as accepted (after employment checks)?",
            Move::Hire => "Hire the applicant?",
            Move::Withdraw => "Withdraw the applicant?",
            Move::UpdateAssignment => {
                "Update the existing assignment to this position (internal move, not a new hire)?"
            }
            Move::RecordChecks => "Record these employment checks?",
        }
    }
}

/// Person types a hire may take now (Honorary only on a Host Employer position).
fn person_types(host_employer: bool, number: &str, state: ApplicantState) -> Vec<PersonType> {
    [PersonType::Employee, PersonType::Honorary]
        .into_iter()
        .filter(|&person_type| {
            matches!(
                decide(
                    number,
                    Some(state),
                    &Command::Hire {
                        person_type,
                        host_employer
                    }
                ),
                Ok(Transition::Moved { .. })
            )
        })
        .collect()
}

/// The moves a trust may ask for now: [`allowed_moves`], and `record_checks` on an offered or
/// accepted applicant of a trust that does not take its checks from Trac.
fn available_moves(portal: &Portal, applicant: &Applicant, host_employer: bool) -> Vec<Move> {
    let mut moves = allowed_moves(applicant, host_employer);
    let trac = portal
        .ports
        .organisations
        .get(&applicant.vpd)
        .is_none_or(|o| o.trac);
    if !trac
        && matches!(
            applicant.state,
            ApplicantState::Offered | ApplicantState::Accepted
        )
    {
        moves.push(Move::RecordChecks);
    }
    moves
}

/// The moves the state machine allows from the applicant's state now (hire: with the person
/// types allowed).
fn allowed_moves(applicant: &Applicant, host_employer: bool) -> Vec<Move> {
    let number = &applicant.applicant_number;
    let state = Some(applicant.state);
    Move::ALL
        .into_iter()
        .filter(|m| match m {
            // An internal mover is never hired again, anyone else never moved by update_assignment
            // (section 10): the same rule as the trust message's.
            Move::Hire => {
                !applicant.internal_mover
                    && !person_types(host_employer, number, applicant.state).is_empty()
            }
            Move::UpdateAssignment => {
                applicant.internal_mover
                    && !person_types(host_employer, number, applicant.state).is_empty()
            }
            Move::Offer => matches!(
                decide(number, state, &Command::Offer),
                Ok(Transition::Moved { .. })
            ),
            Move::Accept => matches!(
                decide(number, state, &Command::Accept),
                Ok(Transition::Moved { .. })
            ),
            Move::Withdraw => matches!(
                decide(number, state, &Command::Withdraw),
                Ok(Transition::Moved { .. })
            ),
            Move::RecordChecks => false,
        })
        .collect()
}

fn person_type_name(person_type: PersonType) -> &'static str {
    match person_type {
        PersonType::Employee => "Employee",
        PersonType::Honorary => "Honorary",
    }
}

/// The trust message a portal move sends, as a trust would put it on the queue: the move with
/// the fields of its form that are filled in.
pub(crate) fn move_message(
    id: &str,
    action: &str,
    vpd: &str,
    applicant_number: &str,
    fields: &[(&str, &str)],
) -> Value {
    let mut body = json!({
        "id": id,
        "action": action,
        "vpd": vpd,
        "applicant_number": applicant_number,
    });
    for (field, value) in fields {
        if !value.is_empty() {
            body[*field] = Value::String(value.to_string());
        }
    }
    body
}

/// The NHS tag colour of a state (text always says the state too).
pub fn tag_colour(state: &ApplicantState) -> &'static str {
    match state {
        ApplicantState::Received | ApplicantState::Loaded => "blue",
        ApplicantState::Offered | ApplicantState::Accepted => "yellow",
        ApplicantState::Hired => "green",
        ApplicantState::Rejected => "red",
        ApplicantState::Withdrawn => "grey",
    }
}

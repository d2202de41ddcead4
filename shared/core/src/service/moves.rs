//! Changing one applicant safely: read, decide, store conditionally with a history entry, and on a
//! version conflict read again and decide again. Used by notification files, trust actions and Trac.

use chrono::{DateTime, Utc};

use crate::ports::{MoveOutcome, StateStore, StoreError};
use crate::service::context::Context;
use dit_domain::internal_move::{earlier_assignment, moved_assignment, ASSIGNMENT_MOVED};
use dit_domain::lifecycle::{ApplicantState, Transition};
use dit_domain::model::{Applicant, Cause, HistoryEntry, HistoryOutcome};

/// Attempts before giving up on a hot applicant (each lost race means another change won).
const MAX_ATTEMPTS: u32 = 20;

/// What a caller decides, given the applicant and its history as stored now.
// One short-lived value per attempt: boxing the applicant would only add noise at every call site.
#[allow(clippy::large_enum_variant)]
pub enum Decision {
    /// Store `updated` (its version and timestamps are set here) with a history entry.
    Apply {
        updated: Applicant,
        command: String,
        transition: Transition,
        detail: Option<String>,
    },
    /// Nothing to do (a repeat, or a change already made): no write.
    NoChange,
    /// Record the refusal in the applicant's history.
    Refuse { command: String, reason: String },
}

#[allow(clippy::large_enum_variant)]
pub enum ChangeOutcome {
    Applied {
        applicant: Applicant,
        entry: HistoryEntry,
    },
    Unchanged(Applicant),
    Refused {
        applicant: Applicant,
        reason: String,
    },
    NotFound,
}

/// Applies `decide` to the applicant under optimistic concurrency.
///
/// # Errors
/// [`StoreError`] from the store, or `Unavailable` when the applicant stays contended.
pub async fn change(
    store: &dyn StateStore,
    applicant_number: &str,
    now: DateTime<Utc>,
    cause: &Cause,
    actor: &str,
    decide: impl Fn(&Applicant, &[HistoryEntry]) -> Decision,
) -> Result<ChangeOutcome, StoreError> {
    let decide = |current: &Applicant, history: &[HistoryEntry]| (decide(current, history), ());
    let (outcome, _) =
        change_with_finding(store, applicant_number, now, cause, actor, decide).await?;
    Ok(outcome)
}

/// [`change`] for a caller whose decision also finds something it needs afterwards (why it
/// decided so, for an answer): `decide` returns the decision and that finding, and the finding of
/// the decision that was stored (the last attempt's) comes back beside the outcome, `None` only
/// when the applicant was not found.
///
/// # Errors
/// [`StoreError`] from the store, or `Unavailable` when the applicant stays contended.
pub async fn change_with_finding<F>(
    store: &dyn StateStore,
    applicant_number: &str,
    now: DateTime<Utc>,
    cause: &Cause,
    actor: &str,
    decide: impl Fn(&Applicant, &[HistoryEntry]) -> (Decision, F),
) -> Result<(ChangeOutcome, Option<F>), StoreError> {
    for _ in 0..MAX_ATTEMPTS {
        let Some(current) = store.applicant(applicant_number).await? else {
            return Ok((ChangeOutcome::NotFound, None));
        };
        let history = store.history(applicant_number).await?;
        let seq = current.version + 1;
        let (decision, finding) = decide(&current, &history);
        let (mut next, entry, refusal) = match decision {
            Decision::NoChange => return Ok((ChangeOutcome::Unchanged(current), Some(finding))),
            Decision::Apply {
                updated,
                command,
                transition,
                detail,
            } => {
                let mut entry = HistoryEntry::from_transition(
                    seq,
                    now,
                    &command,
                    transition,
                    cause.clone(),
                    actor,
                );
                entry.detail = detail;
                (updated, entry, None)
            }
            Decision::Refuse { command, reason } => {
                let entry = HistoryEntry {
                    seq,
                    at: now,
                    command,
                    from: Some(current.state),
                    to: current.state,
                    outcome: HistoryOutcome::Refused {
                        reason: reason.clone(),
                    },
                    cause: cause.clone(),
                    actor: actor.to_string(),
                    detail: None,
                };
                (current.clone(), entry, Some(reason))
            }
        };
        next.version = seq;
        next.updated_at = now;
        match store.record_move(current.version, &next, &entry).await? {
            MoveOutcome::Stored => {
                let outcome = match refusal {
                    Some(reason) => ChangeOutcome::Refused {
                        applicant: next,
                        reason,
                    },
                    None => ChangeOutcome::Applied {
                        applicant: next,
                        entry,
                    },
                };
                return Ok((outcome, Some(finding)));
            }
            MoveOutcome::Conflict => continue,
        }
    }
    Err(StoreError::Unavailable(format!(
        "applicant {applicant_number} changed {MAX_ATTEMPTS} times while this change was decided; try again"
    )))
}

/// The entry a cause already produced, if any (redelivered messages and resumed files).
pub fn entry_caused_by<'h>(history: &'h [HistoryEntry], cause: &Cause) -> Option<&'h HistoryEntry> {
    history.iter().find(|entry| &entry.cause == cause)
}

/// An applicant whose state moves, everything else kept.
pub fn moved(applicant: &Applicant, to: ApplicantState) -> Applicant {
    let mut updated = applicant.clone();
    updated.state = to;
    updated
}

/// After an internal mover's `update_assignment` (section 10): the person's earlier hired
/// applicant at the trust gets the history entry naming the new post, and its projected end date
/// moves to the day before the new hire date when it was later. Changed with the mover's cause, so
/// a redelivered message (or a resumed one) writes it once.
///
/// # Errors
/// [`StoreError`] from the store.
pub async fn move_earlier_assignment(
    ctx: &Context<'_>,
    mover: &Applicant,
    cause: &Cause,
    actor: &str,
) -> Result<(), StoreError> {
    let Some(person_key) = &mover.person_key else {
        return Ok(());
    };
    let persons = ctx
        .store
        .persons(&[(mover.vpd.clone(), person_key.clone())])
        .await?;
    let Some(person) = persons.values().next() else {
        return Ok(());
    };
    let mut candidates = Vec::new();
    for number in &person.applicant_numbers {
        if number != &mover.applicant_number {
            if let Some(applicant) = ctx.store.applicant(number).await? {
                candidates.push(applicant);
            }
        }
    }
    let Some(earlier) = earlier_assignment(mover, &candidates) else {
        return Ok(());
    };
    change(
        ctx.store,
        &earlier.applicant_number,
        ctx.now,
        cause,
        actor,
        |current, history| {
            if entry_caused_by(history, cause).is_some() || current.state != ApplicantState::Hired {
                return Decision::NoChange;
            }
            let (updated, detail) = moved_assignment(current, mover);
            Decision::Apply {
                updated,
                command: ASSIGNMENT_MOVED.to_string(),
                transition: Transition::Moved {
                    from: Some(current.state),
                    to: current.state,
                },
                detail: Some(detail),
            }
        },
    )
    .await?;
    Ok(())
}

//! Handling one queue message: a trust action or Trac employment checks (section 3).
//!
//! Every message is answered for its trust under `trusts/<VPD>/messages/<id>.json`; one that cannot
//! be recorded on an applicant (unreadable, unknown applicant, no usable VPD) also leaves an
//! operator entry under `operator/messages/`. The applicant is changed through
//! [`moves::change`], so a move and its history entry are stored together, conditionally, and the
//! message id in the history makes a redelivered message a duplicate that changes nothing.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::context::Context;
use super::moves::{self, ChangeOutcome, Decision};
use super::output::put_json;
use crate::domain::actions::{
    self, hash_key, id_key, is_outcome_recruited, InboundMessage, Request, Source, Unreadable,
    OUTCOME_RECRUITED,
};
use crate::domain::lifecycle::{decide, ApplicantState, Transition};
use crate::domain::model::{
    Applicant, Cause, EmploymentChecks, HistoryEntry, HistoryOutcome, PersonUpdate,
    PersonUpdateStatus,
};
use crate::domain::org::InterfaceMode;
use crate::domain::pos::HostLead;
use crate::ports::{Area, BlobError, StoreError};

/// A failure worth retrying (store or blob store unavailable); nothing half-done is lost, because
/// every step is idempotent and the message id guards the applicant change.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
}

impl MessageError {
    pub fn is_transient(&self) -> bool {
        match self {
            MessageError::Store(e) => e.is_transient(),
            MessageError::Blob(e) => e.is_transient(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerStatus {
    /// The move or change was made.
    Accepted,
    /// The same move had already been made; nothing changed.
    Unchanged,
    /// Not done; `reason` says why.
    Refused,
    /// This message id was handled before; nothing changed.
    Duplicate,
}

impl AnswerStatus {
    pub fn name(self) -> &'static str {
        match self {
            AnswerStatus::Accepted => "accepted",
            AnswerStatus::Unchanged => "unchanged",
            AnswerStatus::Refused => "refused",
            AnswerStatus::Duplicate => "duplicate",
        }
    }
}

/// The answer written for the trust (and, without an applicant to record on, for operators).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub action: Option<String>,
    pub applicant_number: Option<String>,
    pub status: AnswerStatus,
    pub reason: Option<String>,
    /// Keys of a Trac message not on the allow-list, dropped (section 3).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        alias = "dropped_identity_fields"
    )]
    pub dropped_fields: Vec<String>,
    /// The applicant's state after the message (absent when the applicant is not the sender's).
    pub state: Option<ApplicantState>,
    pub handled_at: DateTime<Utc>,
}

/// The operator entry for a message that could not be recorded on an applicant or answered to a
/// trust. Holds codes and ids only: never the message body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorEntry {
    /// The message id as a key (`sha256-...` of the body when it had no id).
    pub message: String,
    pub vpd: Option<String>,
    pub applicant_number: Option<String>,
    pub action: Option<String>,
    pub status: AnswerStatus,
    pub code: String,
    pub reason: String,
    pub handled_at: DateTime<Utc>,
}

/// How a message was handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageResult {
    /// What was answered: for a duplicate, `status` is `Duplicate` and the rest is the first answer.
    pub answer: Answer,
    /// For a duplicate, the status the first handling gave.
    pub original_status: Option<AnswerStatus>,
    /// A reason code for logs and counts (`moved`, `wrong_trust`, `unknown_applicant`, ...).
    pub code: &'static str,
    /// Outbound keys written (none for a duplicate whose answer stands).
    pub outputs: Vec<String>,
}

/// The trust's answer to a message.
pub fn answer_key(vpd: &str, id: &str) -> String {
    format!("trusts/{vpd}/messages/{}.json", id_key(id))
}

/// The operator entry of a message (by id key, or by the hash of a body without id).
pub fn operator_key(message_key: &str) -> String {
    format!("operator/messages/{message_key}.json")
}

/// Handles one message body.
///
/// # Errors
/// Only [`MessageError`]s; bad messages are answered (refused), never errors.
pub async fn handle_message(ctx: &Context<'_>, body: &str) -> Result<MessageResult, MessageError> {
    handle_message_by(ctx, body, None).await
}

/// Handles one trust action taken by a person in the portal: exactly the path of a queue message
/// (checks, duplicates, refusals recorded, answer written), with `actor` (the signed-in user) as
/// the history's actor.
///
/// # Errors
/// Only [`MessageError`]s; bad messages are answered (refused), never errors.
pub async fn handle_portal_action(
    ctx: &Context<'_>,
    body: &str,
    actor: &str,
) -> Result<MessageResult, MessageError> {
    handle_message_by(ctx, body, Some(actor)).await
}

async fn handle_message_by(
    ctx: &Context<'_>,
    body: &str,
    actor: Option<&str>,
) -> Result<MessageResult, MessageError> {
    let result = match actions::parse(body) {
        Ok(message) => handle_parsed(ctx, &message, actor).await?,
        Err(unreadable) => handle_unreadable(ctx, body, &unreadable).await?,
    };
    tracing::info!(
        message_id = %result.answer.id.as_deref().map_or_else(|| hash_key(body), id_key),
        applicant_number = result.answer.applicant_number.as_deref().unwrap_or(""),
        action = result.answer.action.as_deref().unwrap_or(""),
        status = result.answer.status.name(),
        code = result.code,
        dropped_fields = result.answer.dropped_fields.len(),
        "message handled"
    );
    Ok(result)
}

async fn handle_unreadable(
    ctx: &Context<'_>,
    body: &str,
    unreadable: &Unreadable,
) -> Result<MessageResult, MessageError> {
    let key = operator_key(&hash_key(body));
    if let Some(previous) = previous_operator_entry(ctx, &key).await? {
        return Ok(duplicate_of_operator_entry(previous, None));
    }
    let entry = OperatorEntry {
        message: hash_key(body),
        vpd: None,
        applicant_number: None,
        action: None,
        status: AnswerStatus::Refused,
        code: unreadable.code().to_string(),
        reason: unreadable.to_string(),
        handled_at: ctx.now,
    };
    put_json(ctx.blobs, Area::Outbound, &key, &entry).await?;
    Ok(MessageResult {
        answer: Answer {
            id: None,
            action: None,
            applicant_number: None,
            status: AnswerStatus::Refused,
            reason: Some(entry.reason),
            dropped_fields: vec![],
            state: None,
            handled_at: ctx.now,
        },
        original_status: None,
        code: unreadable.code(),
        outputs: vec![format!("outbound/{key}")],
    })
}

async fn previous_operator_entry(
    ctx: &Context<'_>,
    key: &str,
) -> Result<Option<OperatorEntry>, MessageError> {
    Ok(ctx
        .blobs
        .get(Area::Outbound, key)
        .await?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok()))
}

fn duplicate_of_operator_entry(previous: OperatorEntry, id: Option<String>) -> MessageResult {
    MessageResult {
        answer: Answer {
            id,
            action: previous.action,
            applicant_number: previous.applicant_number,
            status: AnswerStatus::Duplicate,
            reason: Some(previous.reason),
            dropped_fields: vec![],
            state: None,
            handled_at: previous.handled_at,
        },
        original_status: Some(previous.status),
        code: "duplicate",
        outputs: vec![],
    }
}

fn duplicate_of_answer(previous: Answer) -> MessageResult {
    let original = previous.status;
    MessageResult {
        answer: Answer {
            status: AnswerStatus::Duplicate,
            ..previous
        },
        original_status: Some(original),
        code: "duplicate",
        outputs: vec![],
    }
}

/// The states in which Trac checks are taken (section 3): after the offer, before the hire.
const TRAC_STATES: [ApplicantState; 2] = [ApplicantState::Offered, ApplicantState::Accepted];

/// What the decision inside [`moves::change`] found, for the answer.
enum Verdict {
    /// This message id is already in the history.
    Duplicate(HistoryEntry),
    /// The same move again: nothing to do.
    Repeat,
    Refused(&'static str),
    Applied(&'static str),
}

/// What the message is decided against, looked up before the change.
struct Facts {
    host_lead: Option<HostLead>,
    mode: Option<InterfaceMode>,
}

async fn handle_parsed(
    ctx: &Context<'_>,
    message: &InboundMessage,
    person: Option<&str>,
) -> Result<MessageResult, MessageError> {
    let header = &message.header;
    let trust = header
        .vpd
        .as_deref()
        .filter(|vpd| ctx.organisations.get(vpd).is_some());
    // The last output written is the mark that the message was handled to the end.
    if let Some(vpd) = trust {
        if let Some(bytes) = ctx
            .blobs
            .get(Area::Outbound, &answer_key(vpd, &header.id))
            .await?
        {
            if let Ok(previous) = serde_json::from_slice::<Answer>(&bytes) {
                return Ok(duplicate_of_answer(previous));
            }
        }
    } else if let Some(previous) =
        previous_operator_entry(ctx, &operator_key(&id_key(&header.id))).await?
    {
        return Ok(duplicate_of_operator_entry(
            previous,
            Some(header.id.clone()),
        ));
    }

    let (Some(vpd), Some(number)) = (header.vpd.as_deref(), header.applicant_number.as_deref())
    else {
        let reason = message
            .request
            .as_ref()
            .err()
            .cloned()
            .unwrap_or_else(|| "vpd and applicant_number are required".into());
        return unrecorded(ctx, message, "invalid", reason, trust).await;
    };
    let Some(applicant) = ctx.store.applicant(number).await? else {
        let reason = format!("Applicant {number} does not exist; refused");
        return unrecorded(ctx, message, "unknown_applicant", reason, trust).await;
    };
    let facts = match &message.request {
        Ok(Request::Hire { .. } | Request::PersonUpdate { .. }) => Facts {
            host_lead: ctx
                .store
                .positions(std::slice::from_ref(&applicant.position_id))
                .await?
                .get(&applicant.position_id)
                .and_then(|p| p.host_lead),
            mode: ctx.organisations.get(&applicant.vpd).map(|o| o.mode),
        },
        _ => Facts {
            host_lead: None,
            mode: None,
        },
    };

    let cause = Cause::Message {
        id: header.id.clone(),
    };
    let actor = match (header.source, person) {
        (Source::Trac, _) => "trac".to_string(),
        (Source::Trust, Some(person)) => person.to_string(),
        (Source::Trust, None) => format!("trust {vpd}"),
    };
    let verdict: Mutex<Option<Verdict>> = Mutex::new(None);
    let changed = moves::change(
        ctx.store,
        number,
        ctx.now,
        &cause,
        &actor,
        |current, history| {
            let (found, decision) = decide_message(ctx, message, current, history, &cause, &facts);
            if let Ok(mut slot) = verdict.lock() {
                *slot = Some(found);
            }
            decision
        },
    )
    .await?;
    let verdict = verdict.into_inner().ok().flatten();
    let wrong_trust = applicant.vpd != vpd;

    let (answer, original_status, code) = match (changed, verdict) {
        (ChangeOutcome::NotFound, _) | (_, None) => {
            let reason = format!("Applicant {number} does not exist; refused");
            return unrecorded(ctx, message, "unknown_applicant", reason, trust).await;
        }
        (ChangeOutcome::Applied { applicant, entry }, Some(Verdict::Applied(code))) => {
            after_change(ctx, message, &applicant, &entry, &facts, false).await?;
            (answer_from_entry(message, &entry, wrong_trust), None, code)
        }
        (ChangeOutcome::Refused { applicant, reason }, Some(Verdict::Refused(code))) => {
            let entry = HistoryEntry {
                seq: applicant.version,
                at: ctx.now,
                command: command_name(message),
                from: Some(applicant.state),
                to: applicant.state,
                outcome: HistoryOutcome::Refused { reason },
                cause: cause.clone(),
                actor,
                detail: None,
            };
            (answer_from_entry(message, &entry, wrong_trust), None, code)
        }
        (ChangeOutcome::Unchanged(current), Some(Verdict::Duplicate(entry))) => {
            // Handled before, but its answer was not written (interrupted, or running alongside).
            if !wrong_trust {
                after_change(ctx, message, &current, &entry, &facts, true).await?;
            }
            let answer = answer_from_entry(message, &entry, wrong_trust);
            let original = answer.status;
            (answer, Some(original), "duplicate")
        }
        (ChangeOutcome::Unchanged(current), Some(_)) => {
            let answer = Answer {
                id: Some(header.id.clone()),
                action: header.action.clone(),
                applicant_number: Some(number.to_string()),
                status: AnswerStatus::Unchanged,
                reason: Some(format!(
                    "Applicant {number} is already {}; nothing changed",
                    current.state
                )),
                dropped_fields: message.dropped_fields.clone(),
                state: Some(current.state),
                handled_at: ctx.now,
            };
            (answer, None, "repeat")
        }
        (ChangeOutcome::Applied { .. } | ChangeOutcome::Refused { .. }, Some(_)) => {
            // The decision and the stored outcome always agree; kept total rather than panicking.
            return Err(MessageError::Store(StoreError::Corrupt(format!(
                "applicant {number}: stored outcome does not match the decision"
            ))));
        }
    };

    let mut outputs = Vec::new();
    if trust.is_none() {
        let entry = OperatorEntry {
            message: id_key(&header.id),
            vpd: header.vpd.clone(),
            applicant_number: Some(number.to_string()),
            action: header.action.clone(),
            status: answer.status,
            code: code.to_string(),
            reason: format!(
                "{} (no configured trust to answer)",
                answer.reason.as_deref().unwrap_or(answer.status.name())
            ),
            handled_at: answer.handled_at,
        };
        let key = operator_key(&id_key(&header.id));
        put_json(ctx.blobs, Area::Outbound, &key, &entry).await?;
        outputs.push(format!("outbound/{key}"));
    }
    if let Some(trust) = trust {
        let key = answer_key(trust, &header.id);
        put_json(ctx.blobs, Area::Outbound, &key, &answer).await?;
        outputs.push(format!("outbound/{key}"));
    }
    let answer = match original_status {
        Some(_) => Answer {
            status: AnswerStatus::Duplicate,
            ..answer
        },
        None => answer,
    };
    Ok(MessageResult {
        answer,
        original_status,
        code,
        outputs,
    })
}

/// The history command a message is recorded under.
fn command_name(message: &InboundMessage) -> String {
    message
        .header
        .action
        .clone()
        .unwrap_or_else(|| "message".to_string())
}

/// The decision for one attempt of the change, from the applicant and history as stored now.
fn decide_message(
    ctx: &Context<'_>,
    message: &InboundMessage,
    current: &Applicant,
    history: &[HistoryEntry],
    cause: &Cause,
    facts: &Facts,
) -> (Verdict, Decision) {
    let number = &current.applicant_number;
    let command = command_name(message);
    if let Some(entry) = moves::entry_caused_by(history, cause) {
        return (Verdict::Duplicate(entry.clone()), Decision::NoChange);
    }
    let refuse = |code, reason: String| {
        (
            Verdict::Refused(code),
            Decision::Refuse {
                command: command.clone(),
                reason,
            },
        )
    };
    if message.header.vpd.as_deref() != Some(current.vpd.as_str()) {
        return refuse(
            "wrong_trust",
            format!("Applicant {number} belongs to another trust; refused"),
        );
    }
    let request = match &message.request {
        Ok(request) => request,
        Err(problems) => return refuse("invalid", problems.clone()),
    };
    match request {
        Request::PersonUpdate { person } => {
            if current.state != ApplicantState::Hired {
                return refuse(
                    "not_hired",
                    format!(
                        "Applicant {number} is {}; person_update is allowed only for a hired applicant",
                        current.state
                    ),
                );
            }
            let status = person_update_status(facts);
            // The stored person changes with every accepted update, so the next PER line carries
            // the person's current values (2.9) and a later update never reverts this one.
            let mut updated = current.clone();
            for (field, value) in person {
                updated
                    .details
                    .set_person_field(field, value.as_str().map(str::to_string));
            }
            (
                Verdict::Applied("person_update"),
                Decision::Apply {
                    updated,
                    command,
                    transition: Transition::Moved {
                        from: Some(current.state),
                        to: current.state,
                    },
                    detail: Some(join_detail(vec![
                        Some(status_text(status).to_string()),
                        message.effective_date.map(|d| format!("effective {d}")),
                    ])),
                },
            )
        }
        Request::EmploymentChecks { status, checks } => {
            if !ctx.organisations.accepts_trac(&current.vpd) {
                return refuse(
                    "trac_not_enabled",
                    format!(
                        "Organisation {} does not take employment checks from Trac; refused",
                        current.vpd
                    ),
                );
            }
            if !is_outcome_recruited(status) {
                let shown: String = status.chars().take(40).collect();
                return refuse(
                    "not_recruited",
                    format!(
                        "status {shown}: employment checks are copied only at '{OUTCOME_RECRUITED}'"
                    ),
                );
            }
            if let Some(held) = &current.employment_checks {
                return refuse(
                    "already_transferred",
                    format!(
                        "Applicant {number}: employment checks already transferred (message {} on {})",
                        held.message_id,
                        held.received_at.date_naive()
                    ),
                );
            }
            if !TRAC_STATES.contains(&current.state) {
                return refuse(
                    "not_offered",
                    format!(
                        "Applicant {number} is {}; employment checks are accepted only for an applicant offered or accepted",
                        current.state
                    ),
                );
            }
            let mut updated = current.clone();
            updated.employment_checks = Some(EmploymentChecks {
                message_id: message.header.id.clone(),
                received_at: ctx.now,
                checks: checks.clone(),
                dropped_fields: message.dropped_fields.clone(),
            });
            let names: Vec<&str> = checks
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            (
                Verdict::Applied("checks_stored"),
                Decision::Apply {
                    updated,
                    command,
                    transition: Transition::Moved {
                        from: Some(current.state),
                        to: current.state,
                    },
                    detail: Some(format!(
                        "checks: {}; fields dropped: {}",
                        if names.is_empty() {
                            "(none)".to_string()
                        } else {
                            names.join(", ")
                        },
                        message.dropped_fields.len()
                    )),
                },
            )
        }
        move_request => {
            let host_employer = facts.host_lead == Some(HostLead::HostEmployer);
            let Some(lifecycle_command) = move_request.command(host_employer) else {
                return refuse("invalid", "not a move".into());
            };
            match decide(number, Some(current.state), &lifecycle_command) {
                Ok(Transition::Unchanged(_)) => (Verdict::Repeat, Decision::NoChange),
                Ok(transition @ Transition::Moved { to, .. }) => {
                    let person_type = match move_request {
                        Request::Hire { person_type } => {
                            Some(format!("person type {person_type:?}"))
                        }
                        _ => None,
                    };
                    let detail = join_detail(vec![
                        person_type,
                        message.effective_date.map(|d| format!("effective {d}")),
                        message.reason.as_ref().map(|r| format!("reason: {r}")),
                    ]);
                    (
                        Verdict::Applied("moved"),
                        Decision::Apply {
                            updated: moves::moved(current, to),
                            command,
                            transition,
                            detail: (!detail.is_empty()).then_some(detail),
                        },
                    )
                }
                Err(refusal) => refuse("not_allowed", refusal.reason),
            }
        }
    }
}

fn join_detail(parts: Vec<Option<String>>) -> String {
    parts.into_iter().flatten().collect::<Vec<_>>().join("; ")
}

/// Where a person update goes (2.9): only Full Records lead-employer updates reach TIS.
fn person_update_status(facts: &Facts) -> PersonUpdateStatus {
    if facts.mode != Some(InterfaceMode::Full) {
        PersonUpdateStatus::NotSentPartRecords
    } else if facts.host_lead == Some(HostLead::HostEmployer) {
        PersonUpdateStatus::NotSentHostEmployer
    } else {
        PersonUpdateStatus::PendingRmc
    }
}

pub fn status_text(status: PersonUpdateStatus) -> &'static str {
    match status {
        PersonUpdateStatus::PendingRmc => "kept for the next RMC to TIS",
        PersonUpdateStatus::Sent => "sent to TIS",
        PersonUpdateStatus::NotSentPartRecords => "not sent to TIS: the trust is on Part Records",
        PersonUpdateStatus::NotSentHostEmployer => {
            "not sent to TIS: host employer position (honorary record)"
        }
    }
}

/// The effects beside the applicant change: the person becomes an employee after a hire, a person
/// update is kept. They are redone (`redo`) for a message whose answer is missing; a person update
/// is then written only if absent, so one already sent to TIS keeps its status.
async fn after_change(
    ctx: &Context<'_>,
    message: &InboundMessage,
    applicant: &Applicant,
    entry: &HistoryEntry,
    facts: &Facts,
    redo: bool,
) -> Result<(), MessageError> {
    if entry.outcome != HistoryOutcome::Moved {
        return Ok(());
    }
    match &message.request {
        Ok(Request::Hire { .. }) if entry.to == ApplicantState::Hired => {
            if let Some(person_key) = &applicant.person_key {
                ctx.store.mark_employee(&applicant.vpd, person_key).await?;
            }
        }
        Ok(Request::PersonUpdate { person }) => {
            let kept = redo
                && ctx
                    .store
                    .person_updates(&applicant.vpd)
                    .await?
                    .iter()
                    .any(|u| {
                        u.applicant_number == applicant.applicant_number
                            && u.message_id == message.header.id
                    });
            if !kept {
                ctx.store
                    .save_person_update(&PersonUpdate {
                        vpd: applicant.vpd.clone(),
                        local_office: applicant.local_office.clone(),
                        applicant_number: applicant.applicant_number.clone(),
                        message_id: message.header.id.clone(),
                        received_at: entry.at,
                        effective_date: message.effective_date,
                        person: serde_json::Value::Object(person.clone()),
                        status: person_update_status(facts),
                    })
                    .await?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The answer a stored history entry stands for: the same for the first handling and for any
/// later rebuild of it, so a rewritten answer is byte for byte the first.
fn answer_from_entry(message: &InboundMessage, entry: &HistoryEntry, wrong_trust: bool) -> Answer {
    let header = &message.header;
    let (status, reason) = match &entry.outcome {
        HistoryOutcome::Refused { reason } => (AnswerStatus::Refused, Some(reason.clone())),
        HistoryOutcome::Unchanged => (AnswerStatus::Unchanged, entry.detail.clone()),
        HistoryOutcome::Moved => {
            let reason = match &message.request {
                Ok(Request::PersonUpdate { .. }) => entry.detail.clone(),
                Ok(Request::EmploymentChecks { .. }) if !message.dropped_fields.is_empty() => {
                    Some(format!(
                        "only the allow-listed check fields are kept; dropped: {}",
                        message.dropped_fields.join(", ")
                    ))
                }
                _ => None,
            };
            (AnswerStatus::Accepted, reason)
        }
    };
    Answer {
        id: Some(header.id.clone()),
        action: header.action.clone(),
        applicant_number: header.applicant_number.clone(),
        status,
        reason,
        dropped_fields: message.dropped_fields.clone(),
        state: (!wrong_trust).then_some(entry.to),
        handled_at: entry.at,
    }
}

/// A message with no applicant to record on: answered to its trust (when configured) and logged
/// for operators.
async fn unrecorded(
    ctx: &Context<'_>,
    message: &InboundMessage,
    code: &'static str,
    reason: String,
    trust: Option<&str>,
) -> Result<MessageResult, MessageError> {
    let header = &message.header;
    let answer = Answer {
        id: Some(header.id.clone()),
        action: header.action.clone(),
        applicant_number: header.applicant_number.clone(),
        status: AnswerStatus::Refused,
        reason: Some(reason.clone()),
        dropped_fields: message.dropped_fields.clone(),
        state: None,
        handled_at: ctx.now,
    };
    let entry = OperatorEntry {
        message: id_key(&header.id),
        vpd: header.vpd.clone(),
        applicant_number: header.applicant_number.clone(),
        action: header.action.clone(),
        status: AnswerStatus::Refused,
        code: code.to_string(),
        reason,
        handled_at: ctx.now,
    };
    let operator = operator_key(&id_key(&header.id));
    put_json(ctx.blobs, Area::Outbound, &operator, &entry).await?;
    let mut outputs = vec![format!("outbound/{operator}")];
    if let Some(vpd) = trust {
        let key = answer_key(vpd, &header.id);
        put_json(ctx.blobs, Area::Outbound, &key, &answer).await?;
        outputs.push(format!("outbound/{key}"));
    }
    Ok(MessageResult {
        answer,
        original_status: None,
        code,
        outputs,
    })
}

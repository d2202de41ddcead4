//! Handling one queue message: a trust action or Trac employment checks (sections 3 and 7).
//!
//! The sender is who AWS authenticated (or who `dit action --as` names), never what the body
//! says: a trust acts only on its own applicants, Trac sends only employment checks and only for
//! organisations with `trac = true`, and a sender no `[[sender]]` entry names is refused with an
//! operator entry and no answer. Answers go to the sender's own space (`trusts/<VPD>/messages/`,
//! `trac/messages/`), so duplicates are per sender and message id; every refusal that is not
//! recorded on one of the sender's own applicants also leaves an operator entry under
//! `operator/messages/<sender>/`. An applicant of another trust is answered exactly like one that
//! does not exist and is never touched. The applicant is changed through [`moves::change`], so a
//! move and its history entry are stored together, conditionally, and the message id with its
//! sender in the history makes a redelivered message a duplicate that changes nothing.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::context::Context;
use super::moves::{self, ChangeOutcome, Decision};
use super::output::put_json;
use crate::ports::{Area, BlobError, StoreError};
use dit_domain::actions::{
    self, hash_key, is_outcome_recruited, InboundMessage, Request, Source, Unreadable,
    OUTCOME_RECRUITED,
};
use dit_domain::boundary::{MessageSender, Principal};
use dit_domain::lifecycle::{decide, ApplicantState, PersonType, Transition};
use dit_domain::model::{
    Applicant, Cause, EmploymentChecks, HistoryEntry, HistoryOutcome, PersonUpdate,
    PersonUpdateStatus,
};
use dit_domain::org::InterfaceMode;
use dit_domain::pos::Position;

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

/// The answer written for the sender (and, without a sender space to answer in, for operators).
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

/// The operator entry for a message that was refused without a history entry on one of the
/// sender's applicants, or could not be answered. Holds codes and ids only: never the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorEntry {
    /// The message id (`sha256-...` of the body when it had no usable id).
    pub message: String,
    /// Who sent it: `trust-504`, `trac`, `operator`, or `unknown-<SenderId>`.
    #[serde(default)]
    pub sender: String,
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
    /// A reason code for logs and counts (`moved`, `wrong_sender`, `unknown_applicant`, ...).
    pub code: &'static str,
    /// Outbound keys written (none for a duplicate whose answer stands).
    pub outputs: Vec<String>,
}

/// A trust's answer to a message it sent.
pub fn answer_key(vpd: &str, id: &str) -> String {
    format!("trusts/{vpd}/messages/{id}.json")
}

/// Trac's answer to a message it sent.
pub fn trac_answer_key(id: &str) -> String {
    format!("trac/messages/{id}.json")
}

/// Where the answer to `principal`'s message goes; the operator has no answer space of its own.
pub fn answer_key_for(principal: &Principal, id: &str) -> Option<String> {
    match principal {
        Principal::Trust(vpd) => Some(answer_key(vpd, id)),
        Principal::Trac => Some(trac_answer_key(id)),
        Principal::Operator => None,
    }
}

/// The operator entry of a message, per sender (`trust-504`, `trac`, `unknown-...`) and message
/// (its id, or the hash of a body without a usable id), so no sender's entry overwrites another's.
pub fn operator_key(sender_key: &str, message_key: &str) -> String {
    format!("operator/messages/{sender_key}/{message_key}.json")
}

/// The refusal of an unknown applicant, and of another trust's: the same words, so a trust learns
/// nothing about applicants that are not its own.
pub fn not_found_reason(number: &str, vpd: &str) -> String {
    format!("Applicant {number} not found for trust {vpd}.")
}

/// Handles one message body from `sender`.
///
/// # Errors
/// Only [`MessageError`]s; bad messages are answered (refused), never errors.
pub async fn handle_message(
    ctx: &Context<'_>,
    sender: &MessageSender,
    body: &str,
) -> Result<MessageResult, MessageError> {
    handle_message_by(ctx, sender, body, None).await
}

/// Handles one trust action taken by a person in the portal: exactly the path of a queue message
/// from `principal` (the sender checks, duplicates, refusals recorded, answer written), with
/// `actor` (the signed-in user) as the history's actor.
///
/// # Errors
/// Only [`MessageError`]s; bad messages are answered (refused), never errors.
pub async fn handle_portal_action(
    ctx: &Context<'_>,
    principal: &Principal,
    body: &str,
    actor: &str,
) -> Result<MessageResult, MessageError> {
    let sender = MessageSender::Known(principal.clone());
    handle_message_by(ctx, &sender, body, Some(actor)).await
}

async fn handle_message_by(
    ctx: &Context<'_>,
    sender: &MessageSender,
    body: &str,
    person: Option<&str>,
) -> Result<MessageResult, MessageError> {
    let result = match sender {
        MessageSender::Unknown(_) => handle_unknown_sender(ctx, sender, body).await?,
        MessageSender::Known(principal) => match actions::parse(body) {
            Ok(message) => handle_parsed(ctx, principal, &message, person).await?,
            Err(unreadable) => handle_unreadable(ctx, sender, body, &unreadable).await?,
        },
    };
    tracing::info!(
        sender = %sender.key(),
        message_id = %result.answer.id.clone().unwrap_or_else(|| hash_key(body)),
        applicant_number = result.answer.applicant_number.as_deref().unwrap_or(""),
        action = result.answer.action.as_deref().unwrap_or(""),
        status = result.answer.status.name(),
        code = result.code,
        dropped_fields = result.answer.dropped_fields.len(),
        "message handled"
    );
    Ok(result)
}

/// A sender the configuration does not name: an operator entry, nothing else (not even the
/// answer a trust would read), and nothing in the body is acted on.
async fn handle_unknown_sender(
    ctx: &Context<'_>,
    sender: &MessageSender,
    body: &str,
) -> Result<MessageResult, MessageError> {
    let parsed = actions::parse(body).ok();
    let header = parsed.as_ref().map(|m| &m.header);
    let message_key = header.map_or_else(|| hash_key(body), |h| h.id.clone());
    let key = operator_key(&sender.key(), &message_key);
    if let Some(previous) = previous_operator_entry(ctx, &key).await? {
        return Ok(duplicate_of_operator_entry(
            previous,
            header.map(|h| h.id.clone()),
        ));
    }
    let reason = match sender {
        MessageSender::Unknown(id) if !id.is_empty() => {
            format!("sender {id} is not configured; refused")
        }
        _ => "the message has no SenderId; refused".to_string(),
    };
    let entry = OperatorEntry {
        message: message_key,
        sender: sender.key(),
        vpd: header.and_then(|h| h.vpd.clone()),
        applicant_number: header.and_then(|h| h.applicant_number.clone()),
        action: header.and_then(|h| h.action.clone()),
        status: AnswerStatus::Refused,
        code: "unknown_sender".to_string(),
        reason,
        handled_at: ctx.now,
    };
    put_json(ctx.blobs, Area::Outbound, &key, &entry).await?;
    Ok(MessageResult {
        answer: Answer {
            id: header.map(|h| h.id.clone()),
            action: entry.action.clone(),
            applicant_number: entry.applicant_number.clone(),
            status: AnswerStatus::Refused,
            reason: Some(entry.reason),
            dropped_fields: vec![],
            state: None,
            handled_at: ctx.now,
        },
        original_status: None,
        code: "unknown_sender",
        outputs: vec![format!("outbound/{key}")],
    })
}

async fn handle_unreadable(
    ctx: &Context<'_>,
    sender: &MessageSender,
    body: &str,
    unreadable: &Unreadable,
) -> Result<MessageResult, MessageError> {
    let key = operator_key(&sender.key(), &hash_key(body));
    if let Some(previous) = previous_operator_entry(ctx, &key).await? {
        return Ok(duplicate_of_operator_entry(previous, None));
    }
    let entry = OperatorEntry {
        message: hash_key(body),
        sender: sender.key(),
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

/// What the decision inside [`moves::change_with_finding`] found, for the answer.
enum Verdict {
    /// This message id, from this sender, is already in the history.
    Duplicate(HistoryEntry),
    /// The same move again: nothing to do.
    Repeat,
    /// The applicant is not the acting trust's (checked before too; kept so nothing is written).
    OtherTrust,
    Refused(&'static str),
    Applied(&'static str),
}

/// What the message is decided against, looked up before the change.
struct Facts {
    /// How a hire on the applicant's position is made ([`Position::hire_as`]).
    hire_as: PersonType,
    mode: Option<InterfaceMode>,
}

/// Who the message counts as sent by. A trust or Trac is itself; the trusted local operator acts
/// as the sender the body names (the trust of a configured `vpd`, or Trac), so that answers,
/// duplicates and history read the same as if that sender had sent it.
fn acting_as(ctx: &Context<'_>, principal: &Principal, message: &InboundMessage) -> Principal {
    match principal {
        Principal::Operator => match (message.header.source, message.header.vpd.as_deref()) {
            (Source::Trac, _) => Principal::Trac,
            (Source::Trust, Some(vpd)) if ctx.organisations.get(vpd).is_some() => {
                Principal::Trust(vpd.to_string())
            }
            (Source::Trust, _) => Principal::Operator,
        },
        other => other.clone(),
    }
}

fn trac_not_enabled(vpd: &str) -> String {
    format!("Organisation {vpd} does not take employment checks from Trac; refused")
}

/// What the sender may not send (section 7), checked before anything is looked up.
fn boundary_refusal(
    ctx: &Context<'_>,
    principal: &Principal,
    message: &InboundMessage,
) -> Option<(&'static str, String)> {
    let header = &message.header;
    let vpd = header.vpd.as_deref();
    match principal {
        Principal::Trust(own) => {
            if header.source == Source::Trac {
                return Some(("wrong_sender", "sender is not trac".to_string()));
            }
            if let Some(vpd) = vpd.filter(|v| v != own) {
                return Some(("wrong_sender", format!("sender is not trust {vpd}")));
            }
        }
        Principal::Trac if header.source != Source::Trac => {
            return Some((
                "wrong_sender",
                match vpd {
                    Some(vpd) => format!("sender is not trust {vpd}"),
                    None => {
                        "sender is trac: only employment checks (\"source\": \"trac\")".to_string()
                    }
                },
            ));
        }
        Principal::Trac | Principal::Operator => {}
    }
    // Before any lookup, so Trac learns nothing about the applicants of a trust it does not serve.
    // (Whether the trust is live is decided on the applicant, with the other Trac rules.)
    if header.source == Source::Trac {
        if let Some(vpd) = vpd.filter(|v| !ctx.organisations.get(v).is_some_and(|o| o.trac)) {
            return Some(("trac_not_enabled", trac_not_enabled(vpd)));
        }
    }
    None
}

async fn handle_parsed(
    ctx: &Context<'_>,
    principal: &Principal,
    message: &InboundMessage,
    person: Option<&str>,
) -> Result<MessageResult, MessageError> {
    let header = &message.header;
    let acting = acting_as(ctx, principal, message);
    let answer_to = answer_key_for(&acting, &header.id);
    // The last output written is the mark that the message was handled to the end.
    if let Some(key) = &answer_to {
        if let Some(bytes) = ctx.blobs.get(Area::Outbound, key).await? {
            if let Ok(previous) = serde_json::from_slice::<Answer>(&bytes) {
                return Ok(duplicate_of_answer(previous));
            }
        }
    } else if let Some(previous) =
        previous_operator_entry(ctx, &operator_key(&acting.key(), &header.id)).await?
    {
        return Ok(duplicate_of_operator_entry(
            previous,
            Some(header.id.clone()),
        ));
    }

    if let Some((code, reason)) = boundary_refusal(ctx, principal, message) {
        return unrecorded(ctx, message, &acting, code, reason).await;
    }
    let (Some(vpd), Some(number)) = (header.vpd.as_deref(), header.applicant_number.as_deref())
    else {
        let reason = message
            .request
            .as_ref()
            .err()
            .cloned()
            .unwrap_or_else(|| "vpd and applicant_number are required".into());
        return unrecorded(ctx, message, &acting, "invalid", reason).await;
    };
    let applicant = match ctx.store.applicant(number).await? {
        Some(applicant) if applicant.vpd == vpd => applicant,
        found => {
            let code = if found.is_some() {
                "other_trust"
            } else {
                "unknown_applicant"
            };
            return unrecorded(ctx, message, &acting, code, not_found_reason(number, vpd)).await;
        }
    };
    let facts = match &message.request {
        Ok(Request::Hire { .. } | Request::PersonUpdate { .. }) => Facts {
            hire_as: ctx
                .store
                .positions(std::slice::from_ref(&applicant.position_id))
                .await?
                .get(&applicant.position_id)
                .map_or(PersonType::Employee, Position::hire_as),
            mode: ctx.organisations.get(&applicant.vpd).map(|o| o.mode),
        },
        _ => Facts {
            hire_as: PersonType::Employee,
            mode: None,
        },
    };

    let cause = Cause::Message {
        id: header.id.clone(),
        sender: Some(acting.to_string()),
    };
    // The person (portal) or else the sender; duplicates are judged by the cause, which names
    // the sender, never by the actor.
    let actor = person.map_or_else(|| acting.actor(), str::to_string);
    let (changed, verdict) = moves::change_with_finding(
        ctx.store,
        number,
        ctx.now,
        &cause,
        &actor,
        |current, history| {
            let (found, decision) = decide_message(ctx, message, current, history, &cause, &facts);
            (decision, found)
        },
    )
    .await?;

    let (answer, original_status, code) = match (changed, verdict) {
        (ChangeOutcome::NotFound, _)
        | (_, None)
        | (ChangeOutcome::Unchanged(_), Some(Verdict::OtherTrust)) => {
            return unrecorded(
                ctx,
                message,
                &acting,
                "unknown_applicant",
                not_found_reason(number, vpd),
            )
            .await;
        }
        (ChangeOutcome::Applied { applicant, entry }, Some(Verdict::Applied(code))) => {
            after_change(ctx, message, &applicant, &entry, &facts, false).await?;
            (answer_from_entry(message, &entry), None, code)
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
            (answer_from_entry(message, &entry), None, code)
        }
        (ChangeOutcome::Unchanged(current), Some(Verdict::Duplicate(entry))) => {
            // Handled before, but its answer was not written (interrupted, or running alongside).
            after_change(ctx, message, &current, &entry, &facts, true).await?;
            let answer = answer_from_entry(message, &entry);
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
    match &answer_to {
        Some(key) => {
            put_json(ctx.blobs, Area::Outbound, key, &answer).await?;
            outputs.push(format!("outbound/{key}"));
        }
        None => {
            let entry = OperatorEntry {
                message: header.id.clone(),
                sender: acting.key(),
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
            let key = operator_key(&acting.key(), &header.id);
            put_json(ctx.blobs, Area::Outbound, &key, &entry).await?;
            outputs.push(format!("outbound/{key}"));
        }
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
    // Duplicates are per sender: the cause names the sender, so another sender's message with
    // the same id is a new message.
    if let Some(entry) = moves::entry_caused_by(history, cause) {
        return (Verdict::Duplicate(entry.clone()), Decision::NoChange);
    }
    if message.header.vpd.as_deref() != Some(current.vpd.as_str()) {
        return (Verdict::OtherTrust, Decision::NoChange);
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
                return refuse("trac_not_enabled", trac_not_enabled(&current.vpd));
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
            let host_employer = facts.hire_as == PersonType::Honorary;
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
    } else if facts.hire_as == PersonType::Honorary {
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
fn answer_from_entry(message: &InboundMessage, entry: &HistoryEntry) -> Answer {
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
        state: Some(entry.to),
        handled_at: entry.at,
    }
}

/// A message refused without a history entry on one of the sender's applicants: answered in the
/// sender's space (when it has one) and logged for operators under the sender's key.
async fn unrecorded(
    ctx: &Context<'_>,
    message: &InboundMessage,
    acting: &Principal,
    code: &'static str,
    reason: String,
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
        message: header.id.clone(),
        sender: acting.key(),
        vpd: header.vpd.clone(),
        applicant_number: header.applicant_number.clone(),
        action: header.action.clone(),
        status: AnswerStatus::Refused,
        code: code.to_string(),
        reason,
        handled_at: ctx.now,
    };
    let operator = operator_key(&acting.key(), &header.id);
    put_json(ctx.blobs, Area::Outbound, &operator, &entry).await?;
    let mut outputs = vec![format!("outbound/{operator}")];
    if let Some(key) = answer_key_for(acting, &header.id) {
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

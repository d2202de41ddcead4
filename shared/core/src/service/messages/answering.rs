//! What a handled message leaves for its sender and for operators: the answer in the sender's own
//! space, the operator entry (codes and ids, never the body), and the duplicate of an earlier
//! answer, rebuilt byte for byte from what was stored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ports::{Area, BlobError, StoreError};
use crate::service::context::Context;
use crate::service::output::put_json;
use dit_domain::actions::{self, hash_key, InboundMessage, Request, Unreadable};
use dit_domain::boundary::{MessageSender, Principal};
use dit_domain::lifecycle::ApplicantState;
use dit_domain::model::{HistoryEntry, HistoryOutcome, PersonUpdateStatus};

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

/// A sender the configuration does not name: an operator entry, nothing else (not even the
/// answer a trust would read), and nothing in the body is acted on.
pub(super) async fn handle_unknown_sender(
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

pub(super) async fn handle_unreadable(
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

pub(super) async fn previous_operator_entry(
    ctx: &Context<'_>,
    key: &str,
) -> Result<Option<OperatorEntry>, MessageError> {
    Ok(ctx
        .blobs
        .get(Area::Outbound, key)
        .await?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok()))
}

pub(super) fn duplicate_of_operator_entry(
    previous: OperatorEntry,
    id: Option<String>,
) -> MessageResult {
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

pub(super) fn duplicate_of_answer(previous: Answer) -> MessageResult {
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

/// The answer a stored history entry stands for: the same for the first handling and for any
/// later rebuild of it, so a rewritten answer is byte for byte the first.
pub(super) fn answer_from_entry(message: &InboundMessage, entry: &HistoryEntry) -> Answer {
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
pub(super) async fn unrecorded(
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

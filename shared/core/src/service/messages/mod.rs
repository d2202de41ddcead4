//! Handling one queue message: a trust action or Trac employment checks (sections 3 and 7).
//!
//! The sender is who AWS authenticated (or who `dit action --as` names), never what the body
//! says: a trust acts only on its own applicants, Trac sends only employment checks and only for
//! organisations with `trac = true`, and a sender no `[[sender]]` entry names is refused with an
//! operator entry and no answer. Answers go to the sender's own space (`trusts/<VPD>/messages/`,
//! `trac/messages/`), so duplicates are per sender and message id; every refusal that is not
//! recorded on one of the sender's own applicants also leaves an operator entry under
//! `operator/messages/<sender>/`. An applicant of another trust is answered exactly like one that
//! does not exist and is never touched. The applicant is changed through [`moves::change_with_finding`], so a
//! move and its history entry are stored together, conditionally, and the message id with its
//! sender in the history makes a redelivered message a duplicate that changes nothing.
//!
//! The work is split along its seam: [`deciding`] judges the message (who it counts as sent by,
//! what the sender may not send, the decision on the applicant as stored), [`answering`] writes
//! what the sender and operators read (answers, operator entries, duplicates); this module runs a
//! message through the two and makes the effects beside the applicant change.

pub mod answering;
mod deciding;

use crate::ports::{Area, StoreError};
use crate::service::context::Context;
use crate::service::moves::{self, ChangeOutcome};
use crate::service::output::put_json;
use answering::{
    answer_from_entry, answer_key_for, duplicate_of_answer, duplicate_of_operator_entry,
    handle_unknown_sender, handle_unreadable, not_found_reason, operator_key,
    previous_operator_entry, unrecorded, Answer, AnswerStatus, MessageError, MessageResult,
    OperatorEntry,
};
use deciding::{
    acting_as, boundary_refusal, command_name, decide_message, person_update_status, Facts, Verdict,
};
use dit_domain::actions::{self, hash_key, InboundMessage, Request};
use dit_domain::boundary::{MessageSender, Principal};
use dit_domain::lifecycle::{ApplicantState, PersonType};
use dit_domain::model::{Applicant, Cause, HistoryEntry, HistoryOutcome, PersonUpdate};
use dit_domain::pos::Position;

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
    let cause = Cause::Message {
        id: header.id.clone(),
        sender: Some(acting.to_string()),
    };
    // The person (portal) or else the sender; duplicates are judged by the cause, which names
    // the sender, never by the actor.
    let actor = person.map_or_else(|| acting.actor(), str::to_string);
    let facts = match &message.request {
        Ok(
            Request::Hire { .. } | Request::UpdateAssignment { .. } | Request::PersonUpdate { .. },
        ) => Facts {
            hire_as: ctx
                .store
                .positions(std::slice::from_ref(&applicant.position_id))
                .await?
                .get(&applicant.position_id)
                .map_or(PersonType::Employee, Position::hire_as),
            mode: ctx.organisations.get(&applicant.vpd).map(|o| o.mode),
            actor: actor.clone(),
        },
        _ => Facts {
            hire_as: PersonType::Employee,
            mode: None,
            actor: actor.clone(),
        },
    };

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
        Ok(Request::UpdateAssignment { .. }) if entry.to == ApplicantState::Hired => {
            moves::move_earlier_assignment(ctx, applicant, &entry.cause, &entry.actor).await?;
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

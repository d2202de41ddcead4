//! Judging one parsed message, without writing anything: who it counts as sent by, what its sender
//! may not send (section 7), and the decision on the applicant as stored now, with the verdict the
//! answer is built from.

use super::answering::status_text;
use crate::service::context::Context;
use crate::service::moves::{self, Decision};
use dit_domain::actions::{
    is_outcome_recruited, InboundMessage, Request, Source, OUTCOME_RECRUITED,
};
use dit_domain::boundary::Principal;
use dit_domain::internal_move::{decide_for, HIRED_INTERNAL_MOVE};
use dit_domain::lifecycle::{ApplicantState, PersonType, Transition};
use dit_domain::model::{Applicant, Cause, EmploymentChecks, HistoryEntry, PersonUpdateStatus};
use dit_domain::org::InterfaceMode;

/// The states in which Trac checks are taken (section 3): after the offer, before the hire.
const TRAC_STATES: [ApplicantState; 2] = [ApplicantState::Offered, ApplicantState::Accepted];

/// What the decision inside [`moves::change_with_finding`] found, for the answer.
pub(super) enum Verdict {
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
pub(super) struct Facts {
    /// How a hire on the applicant's position is made ([`Position::hire_as`]).
    pub(super) hire_as: PersonType,
    pub(super) mode: Option<InterfaceMode>,
    /// Who acts (the signed-in user, or the sender): kept with checks a trust records.
    pub(super) actor: String,
}

/// Who the message counts as sent by. A trust or Trac is itself; the trusted local operator acts
/// as the sender the body names (the trust of a configured `vpd`, or Trac), so that answers,
/// duplicates and history read the same as if that sender had sent it.
pub(super) fn acting_as(
    ctx: &Context<'_>,
    principal: &Principal,
    message: &InboundMessage,
) -> Principal {
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
pub(super) fn boundary_refusal(
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

/// The history command a message is recorded under.
pub(super) fn command_name(message: &InboundMessage) -> String {
    message
        .header
        .action
        .clone()
        .unwrap_or_else(|| "message".to_string())
}

/// The decision for one attempt of the change, from the applicant and history as stored now.
pub(super) fn decide_message(
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
        Request::RecordChecks { checks } => {
            if ctx.organisations.get(&current.vpd).is_some_and(|o| o.trac) {
                return refuse(
                    "trac_organisation",
                    format!(
                        "Organisation {} takes employment checks from Trac",
                        current.vpd
                    ),
                );
            }
            if !TRAC_STATES.contains(&current.state) {
                return refuse(
                    "not_offered",
                    format!(
                        "Applicant {number} is {}; record_checks is allowed only for an applicant offered or accepted",
                        current.state
                    ),
                );
            }
            let mut updated = current.clone();
            updated.trust_checks = Some(held_checks(ctx, message, checks, Some(&facts.actor)));
            (
                Verdict::Applied("checks_recorded"),
                checks_kept(current, updated, command, message, checks),
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
            updated.employment_checks = Some(held_checks(ctx, message, checks, None));
            (
                Verdict::Applied("checks_stored"),
                checks_kept(current, updated, command, message, checks),
            )
        }
        move_request => {
            let host_employer = facts.hire_as == PersonType::Honorary;
            let Some(lifecycle_command) = move_request.command(host_employer) else {
                return refuse("invalid", "not a move".into());
            };
            match decide_for(current, &lifecycle_command) {
                Ok(Transition::Unchanged(_)) => (Verdict::Repeat, Decision::NoChange),
                Ok(transition @ Transition::Moved { to, .. }) => {
                    let (internal, person_type) = match move_request {
                        Request::Hire { person_type } => {
                            (None, Some(format!("person type {person_type:?}")))
                        }
                        Request::UpdateAssignment { person_type } => (
                            Some(HIRED_INTERNAL_MOVE.to_string()),
                            Some(format!("person type {person_type:?}")),
                        ),
                        _ => (None, None),
                    };
                    let detail = join_detail(vec![
                        internal,
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

/// Checks as kept on the applicant: Trac's (`recorded_by` none) or a trust's.
fn held_checks(
    ctx: &Context<'_>,
    message: &InboundMessage,
    checks: &serde_json::Value,
    recorded_by: Option<&str>,
) -> EmploymentChecks {
    EmploymentChecks {
        message_id: message.header.id.clone(),
        received_at: ctx.now,
        checks: checks.clone(),
        dropped_fields: message.dropped_fields.clone(),
        recorded_by: recorded_by.map(str::to_string),
    }
}

/// Storing checks: the state kept, the history naming the checks and how many fields were dropped.
fn checks_kept(
    current: &Applicant,
    updated: Applicant,
    command: String,
    message: &InboundMessage,
    checks: &serde_json::Value,
) -> Decision {
    Decision::Apply {
        updated,
        command,
        transition: Transition::Moved {
            from: Some(current.state),
            to: current.state,
        },
        detail: Some(format!(
            "checks: {}; fields dropped: {}",
            check_names(checks),
            message.dropped_fields.len()
        )),
    }
}

/// The names of the checks held, for the history: `dbs, references`, or `(none)`.
fn check_names(checks: &serde_json::Value) -> String {
    let names: Vec<&str> = checks
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    if names.is_empty() {
        "(none)".to_string()
    } else {
        names.join(", ")
    }
}

fn join_detail(parts: Vec<Option<String>>) -> String {
    parts.into_iter().flatten().collect::<Vec<_>>().join("; ")
}

/// Where a person update goes (2.9): only Full Records lead-employer updates reach TIS.
pub(super) fn person_update_status(facts: &Facts) -> PersonUpdateStatus {
    if facts.mode != Some(InterfaceMode::Full) {
        PersonUpdateStatus::NotSentPartRecords
    } else if facts.hire_as == PersonType::Honorary {
        PersonUpdateStatus::NotSentHostEmployer
    } else {
        PersonUpdateStatus::PendingRmc
    }
}

//! The applicant page: details, position, history, employment checks, the answer to the last
//! move, and the moves the state machine allows now.

use super::*;
use dit_domain::actions::TRAC_CHECKS;
use dit_domain::model::EmploymentChecks;

pub struct HistoryRow {
    pub at: String,
    pub command: String,
    pub from: String,
    pub to: String,
    pub outcome: String,
    pub refused: bool,
    pub cause: String,
    pub actor: String,
    pub detail: String,
}

impl HistoryRow {
    fn of(entry: &HistoryEntry) -> HistoryRow {
        let (outcome, refused) = match &entry.outcome {
            HistoryOutcome::Moved => ("moved".to_string(), false),
            HistoryOutcome::Unchanged => ("unchanged".to_string(), false),
            HistoryOutcome::Refused { reason } => (format!("refused: {reason}"), true),
        };
        HistoryRow {
            at: format::time(entry.at),
            command: entry.command.clone(),
            from: entry.from.map(|s| s.name().to_string()).unwrap_or_default(),
            to: entry.to.name().to_string(),
            outcome,
            refused,
            cause: entry.cause.to_string(),
            actor: entry.actor.clone(),
            detail: entry.detail.clone().unwrap_or_default(),
        }
    }
}

/// One employment check held, as text: `status: clear; completed on 01/10/2026`.
fn check_text(value: &Value) -> String {
    match value {
        Value::Object(fields) => fields
            .iter()
            .map(|(k, v)| format!("{}: {}", format::label(k), render::scalar(v)))
            .collect::<Vec<_>>()
            .join("; "),
        Value::Array(items) => items.iter().map(check_text).collect::<Vec<_>>().join(" | "),
        other => render::scalar(other),
    }
}

/// The checks held, one row each.
fn check_rows(held: &EmploymentChecks) -> Vec<(String, String)> {
    held.checks
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (format::label(k), check_text(v)))
                .collect()
        })
        .unwrap_or_default()
}

pub struct Banner {
    pub success: bool,
    pub heading: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "applicant.html")]
struct ApplicantPage {
    chrome: Chrome,
    operator: bool,
    number: String,
    name: String,
    state: ApplicantState,
    summary: Vec<(String, String)>,
    /// The trainee's e-mail and telephones (section 11): a trust's page only, never an operator's.
    contacts: Vec<(String, String)>,
    load_messages: Vec<(String, String)>,
    checks: Vec<(String, String)>,
    checks_note: String,
    /// Checks the trust recorded itself (`record_checks`), beside Trac's.
    trust_checks: Vec<(String, String)>,
    trust_checks_note: String,
    history: Vec<HistoryRow>,
    moves: Vec<Move>,
    hire_types: Vec<&'static str>,
    /// The checks a `record_checks` form asks for: (key, label).
    check_names: Vec<(&'static str, String)>,
    banner: Option<Banner>,
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    answer: Option<String>,
}

/// The answer to one of this trust's portal actions on this applicant, as a banner.
async fn banner(
    portal: &Portal,
    identity: &Identity,
    applicant: &Applicant,
    id: &str,
) -> Result<Option<Banner>, PageError> {
    let Some(vpd) = identity.vpd() else {
        return Ok(None);
    };
    if !is_action_id(id) {
        return Ok(None);
    }
    let Some(bytes) = portal
        .ports
        .blobs
        .get(Area::Outbound, &answer_key(vpd, id))
        .await?
    else {
        return Ok(None);
    };
    let Ok(answer) = serde_json::from_slice::<Answer>(&bytes) else {
        return Ok(None);
    };
    if answer.applicant_number.as_deref() != Some(applicant.applicant_number.as_str()) {
        return Ok(None);
    }
    let action = answer.action.clone().unwrap_or_default();
    Ok(Some(match answer.status {
        AnswerStatus::Accepted | AnswerStatus::Unchanged | AnswerStatus::Duplicate => Banner {
            success: true,
            heading: format!("Done: {action}"),
            text: answer.reason.unwrap_or_else(|| {
                format!(
                    "The applicant is now {}.",
                    answer
                        .state
                        .map(ApplicantState::name)
                        .unwrap_or("unchanged")
                )
            }),
        },
        AnswerStatus::Refused => Banner {
            success: false,
            heading: format!("Not done: {action}"),
            text: answer.reason.unwrap_or_default(),
        },
    }))
}

pub async fn show(
    State(portal): State<Shared>,
    identity: Identity,
    Path(number): Path<String>,
    Query(query): Query<ShowQuery>,
) -> Page {
    let applicant = visible(&portal, &identity, &number).await?;
    let history = portal.ports.store.history(&number).await?;
    let (host_employer, position_name) = host_employer(&portal, &applicant).await?;
    let d = &applicant.details;
    let organisation = portal
        .ports
        .organisations
        .get(&applicant.vpd)
        .map(|o| format!("{} ({})", o.name, o.vpd))
        .unwrap_or_else(|| applicant.vpd.clone());
    let mut summary: Vec<(String, String)> = [
        ("Applicant number", applicant.applicant_number.clone()),
        ("State", applicant.state.name().to_string()),
        ("Trust", organisation),
        ("GMC number", d.gmc_number.clone().unwrap_or_default()),
        ("Placement id (TIS)", applicant.placement_id.clone()),
        ("Position number", applicant.position_number.clone()),
        ("Position", position_name),
        (
            "Host or lead employer",
            if host_employer {
                "Host Employer: hire as Honorary".to_string()
            } else {
                "Lead Employer".to_string()
            },
        ),
        ("Deanery post number (DPN)", applicant.dpn.clone()),
        ("Grade", d.grade.clone().unwrap_or_default()),
        (
            "Projected hire date",
            format::date(applicant.projected_hire_date),
        ),
        (
            "Projected end date",
            format::opt_date(applicant.projected_end_date),
        ),
        (
            "Loaded from",
            format!(
                "{} record {}",
                applicant.source_file, applicant.record_number
            ),
        ),
        ("Local office", applicant.local_office.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    if applicant.internal_mover {
        summary.insert(
            2,
            (
                "Internal mover".to_string(),
                "Yes: already an employee of this trust. Update the assignment (update_assignment); do not hire again.".to_string(),
            ),
        );
    }
    let contacts: Vec<(String, String)> = if identity.sees_operator_pages() {
        Vec::new()
    } else {
        [
            ("E-mail address", d.email_address.clone()),
            ("Home telephone", d.home_tel.clone()),
            ("Mobile telephone", d.mobile_tel.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.unwrap_or_else(|| "not given".to_string())))
        .collect()
    };
    let (checks, checks_note) = match &applicant.employment_checks {
        Some(held) => (
            check_rows(held),
            format!(
                "Received from Trac on {} (message {}).",
                format::time(held.received_at),
                held.message_id
            ),
        ),
        None => (Vec::new(), "No employment checks held.".to_string()),
    };
    let (trust_checks, trust_checks_note) = match &applicant.trust_checks {
        Some(held) => (
            check_rows(held),
            format!(
                "Recorded by {} on {} (action {}).",
                held.recorded_by.as_deref().unwrap_or("the trust"),
                format::time(held.received_at),
                held.message_id
            ),
        ),
        None => (Vec::new(), String::new()),
    };
    let banner = match &query.answer {
        Some(id) => banner(&portal, &identity, &applicant, id).await?,
        None => None,
    };
    let moves = if identity.sees_operator_pages() {
        Vec::new()
    } else {
        available_moves(&portal, &applicant, host_employer)
    };
    render::html(&ApplicantPage {
        chrome: Chrome::new(&portal.ports.organisations, &identity, "/applicants"),
        operator: identity.sees_operator_pages(),
        number: applicant.applicant_number.clone(),
        name: full_name(&applicant),
        state: applicant.state,
        summary,
        contacts,
        load_messages: applicant
            .load_messages
            .iter()
            .map(|m| (m.message_type.code().to_string(), m.text.clone()))
            .collect(),
        checks,
        checks_note,
        trust_checks,
        trust_checks_note,
        history: history.iter().rev().map(HistoryRow::of).collect(),
        hire_types: person_types(host_employer, &applicant.applicant_number, applicant.state)
            .into_iter()
            .map(person_type_name)
            .collect(),
        moves,
        check_names: TRAC_CHECKS
            .iter()
            .map(|name| (*name, format::label(name)))
            .collect(),
        banner,
    })
}

//! Applicant search, the applicant page and its moves.
//!
//! A trust sees and moves only its own applicants; an operator sees every trust's, read-only.
//! Another trust's applicant answers exactly like a missing one (404), before any form is read.
//! A move is asked on a confirmation page and sent with a CSRF token and an action id; it then
//! goes through [`handle_portal_action`], the path of a trust message (the state machine decides,
//! a refusal is recorded, the same action id twice is a duplicate), with the signed-in user as
//! the history's actor.

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

use crate::csrf::{is_action_id, new_action_id};
use crate::format;
use crate::identity::Identity;
use crate::render::{self, Chrome};
use crate::{trust_of, Page, PageError, Portal, Shared};

/// Results per page.
pub const PAGE_SIZE: usize = 50;

// ---------------------------------------------------------------------------------------------
// Search
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    state: String,
    page: Option<usize>,
}

pub struct Row {
    pub number: String,
    pub name: String,
    pub gmc: String,
    pub placement: String,
    pub dpn: String,
    pub vpd: String,
    pub state: ApplicantState,
    pub hire_date: String,
}

impl Row {
    fn of(applicant: &ApplicantSummary) -> Row {
        Row {
            number: applicant.applicant_number.clone(),
            name: format!("{} {}", applicant.first_name, applicant.last_name)
                .trim()
                .to_string(),
            gmc: applicant.gmc_number.clone().unwrap_or_default(),
            placement: applicant.placement_id.clone(),
            dpn: applicant.dpn.clone(),
            vpd: applicant.vpd.clone(),
            state: applicant.state,
            hire_date: format::date(applicant.projected_hire_date),
        }
    }
}

fn full_name(applicant: &Applicant) -> String {
    let d = &applicant.details;
    format!("{} {}", d.first_name, d.last_name)
        .trim()
        .to_string()
}

/// Does `applicant` answer the search text (already trimmed and lower-cased)? Identifiers match
/// whole; a name or DPN matches on any part.
pub fn matches(applicant: &ApplicantSummary, text: &str) -> bool {
    if text.is_empty() {
        return true;
    }
    let exact = [
        applicant.applicant_number.as_str(),
        applicant.placement_id.as_str(),
        applicant.position_number.as_str(),
        applicant.gmc_number.as_deref().unwrap_or_default(),
    ];
    if exact
        .iter()
        .any(|id| !id.is_empty() && id.eq_ignore_ascii_case(text))
    {
        return true;
    }
    let (first, last) = (&applicant.first_name, &applicant.last_name);
    let names = [
        format!("{first} {last}"),
        format!("{last} {first}"),
        format!("{last}, {first}"),
    ];
    applicant.dpn.to_lowercase().contains(text)
        || names.iter().any(|n| n.to_lowercase().contains(text))
}

/// A rejected APP record found by the search: no applicant was made, so it has no page; its
/// messages say why.
pub struct RejectedRow {
    pub name: String,
    pub gmc: String,
    pub placement: String,
    pub dpn: String,
    pub vpd: String,
    pub source: String,
    pub messages: String,
}

impl RejectedRow {
    fn of(rejected: &RejectedApplication) -> RejectedRow {
        RejectedRow {
            name: format!("{} {}", rejected.first_name, rejected.last_name)
                .trim()
                .to_string(),
            gmc: rejected.gmc_number.clone().unwrap_or_default(),
            placement: rejected.placement_id.clone(),
            dpn: rejected.dpn.clone(),
            vpd: rejected.vpd.clone().unwrap_or_default(),
            source: format!(
                "{} record {} (line {}), {}",
                rejected.source_file,
                rejected.record_number,
                rejected.line,
                format::date(rejected.business_date)
            ),
            messages: rejected
                .messages
                .iter()
                .map(|m| format!("{} {}", m.message_type.code(), m.text))
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

/// Does a rejected record answer the search text (trimmed, lower-cased)?
pub fn rejected_matches(rejected: &RejectedApplication, text: &str) -> bool {
    if text.is_empty() {
        return true;
    }
    let exact = [
        rejected.placement_id.as_str(),
        rejected.position_number.as_str(),
        rejected.gmc_number.as_deref().unwrap_or_default(),
    ];
    if exact
        .iter()
        .any(|id| !id.is_empty() && id.eq_ignore_ascii_case(text))
    {
        return true;
    }
    let names = [
        format!("{} {}", rejected.first_name, rejected.last_name),
        format!("{} {}", rejected.last_name, rejected.first_name),
        format!("{}, {}", rejected.last_name, rejected.first_name),
    ];
    rejected.dpn.to_lowercase().contains(text)
        || names.iter().any(|n| n.to_lowercase().contains(text))
}

/// The rejected records the identity may search: its trust's, or every configured trust's and,
/// for an operator, those found by placement id or GMC number (records no trust could be told of).
async fn rejected_candidates(
    portal: &Portal,
    identity: &Identity,
    text: &str,
) -> Result<Vec<RejectedApplication>, PageError> {
    let store = portal.ports.store.as_ref();
    if let Some(vpd) = identity.vpd() {
        return Ok(store
            .rejected_applications(RejectedLookup::Trust(vpd))
            .await?);
    }
    let mut found = Vec::new();
    for organisation in portal.ports.organisations.iter() {
        found.extend(
            store
                .rejected_applications(RejectedLookup::Trust(&organisation.vpd))
                .await?,
        );
    }
    if !text.is_empty() && text.len() <= 32 {
        found.extend(
            store
                .rejected_applications(RejectedLookup::Placement(text))
                .await?,
        );
        found.extend(
            store
                .rejected_applications(RejectedLookup::Gmc(text))
                .await?,
        );
    }
    found.sort_by(|a, b| {
        (b.business_date, &a.source_file, a.record_number).cmp(&(
            a.business_date,
            &b.source_file,
            b.record_number,
        ))
    });
    found.dedup_by(|a, b| a.source_file == b.source_file && a.record_number == b.record_number);
    Ok(found)
}

fn state_filter(text: &str) -> Option<ApplicantState> {
    ApplicantState::ALL.into_iter().find(|s| s.name() == text)
}

/// The applicants the identity may search: its trust's, or every configured trust's; for an
/// operator also those found directly by number, GMC number or placement id (a trust no longer
/// configured keeps its applicants findable).
async fn candidates(
    portal: &Portal,
    identity: &Identity,
    text: &str,
) -> Result<Vec<ApplicantSummary>, PageError> {
    let store = portal.ports.store.as_ref();
    if let Some(vpd) = identity.vpd() {
        return Ok(store.trust_applicants(vpd).await?);
    }
    let mut found = Vec::new();
    for organisation in portal.ports.organisations.iter() {
        found.extend(store.trust_applicants(&organisation.vpd).await?);
    }
    if !text.is_empty() && text.len() <= 32 {
        let mut direct: Vec<Applicant> = Vec::new();
        direct.extend(store.applicant(text).await?);
        direct.extend(store.applicants_by_gmc(text).await?);
        let links = store.placements(&[text.to_string()]).await?;
        for link in links.values() {
            direct.extend(store.applicant(&link.applicant_number).await?);
        }
        found.extend(direct.iter().map(ApplicantSummary::from));
    }
    found.sort_by(|a, b| {
        (a.applicant_number.len(), &a.applicant_number)
            .cmp(&(b.applicant_number.len(), &b.applicant_number))
    });
    found.dedup_by(|a, b| a.applicant_number == b.applicant_number);
    Ok(found)
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    operator: bool,
    q: String,
    state: String,
    states: Vec<&'static str>,
    rows: Vec<Row>,
    rejected: Vec<RejectedRow>,
    total: usize,
    page: usize,
    pages: usize,
    searched: bool,
    next_href: String,
    previous_href: String,
}

pub async fn search(
    State(portal): State<Shared>,
    identity: Identity,
    Query(query): Query<SearchQuery>,
) -> Page {
    if identity.vpd().is_some() {
        trust_of(&portal, &identity)?;
    }
    let text = query.q.trim().to_lowercase();
    let state = state_filter(query.state.trim());
    let found: Vec<ApplicantSummary> = candidates(&portal, &identity, query.q.trim())
        .await?
        .into_iter()
        .filter(|a| state.is_none_or(|s| a.state == s) && matches(a, &text))
        .collect();
    let rejected: Vec<RejectedRow> = if state.is_none_or(|s| s == ApplicantState::Rejected) {
        rejected_candidates(&portal, &identity, query.q.trim())
            .await?
            .iter()
            .filter(|r| rejected_matches(r, &text))
            .take(PAGE_SIZE)
            .map(RejectedRow::of)
            .collect()
    } else {
        Vec::new()
    };
    let total = found.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = query.page.unwrap_or(1).clamp(1, pages);
    let rows = found
        .iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(Row::of)
        .collect();
    let href = |page: usize| {
        format!(
            "/applicants?q={}&state={}&page={page}",
            percent_encoding::utf8_percent_encode(
                query.q.trim(),
                percent_encoding::NON_ALPHANUMERIC
            ),
            state.map(ApplicantState::name).unwrap_or_default()
        )
    };
    render::html(&SearchPage {
        chrome: Chrome::new(&identity, "/applicants"),
        operator: identity.is_operator(),
        q: query.q.trim().to_string(),
        state: state
            .map(ApplicantState::name)
            .unwrap_or_default()
            .to_string(),
        states: ApplicantState::ALL.iter().map(|s| s.name()).collect(),
        rows,
        rejected,
        total,
        page,
        pages,
        searched: !text.is_empty() || state.is_some(),
        next_href: href(page + 1),
        previous_href: href(page.saturating_sub(1).max(1)),
    })
}

// ---------------------------------------------------------------------------------------------
// The applicant page
// ---------------------------------------------------------------------------------------------

/// An applicant number as the messages take it (1 to 15 digits); anything else is not found.
fn is_number(text: &str) -> bool {
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
    if !is_number(number) {
        return Err(PageError::NotFound);
    }
    match portal.ports.store.applicant(number).await? {
        Some(applicant) if identity.sees_trust(&applicant.vpd) => Ok(applicant),
        _ => Err(PageError::NotFound),
    }
}

/// The moves of section 3 a trust can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Offer,
    Accept,
    Hire,
    Withdraw,
}

impl Move {
    pub const ALL: [Move; 4] = [Move::Offer, Move::Accept, Move::Hire, Move::Withdraw];

    pub fn name(self) -> &'static str {
        match self {
            Move::Offer => "offer",
            Move::Accept => "accept",
            Move::Hire => "hire",
            Move::Withdraw => "withdraw",
        }
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
        }
    }

    pub fn question(self) -> &'static str {
        match self {
            Move::Offer => "Offer the post (Offered Post Conditional)?",
            Move::Accept => "Record the offer as accepted (after employment checks)?",
            Move::Hire => "Hire the applicant?",
            Move::Withdraw => "Withdraw the applicant?",
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

/// The moves the state machine allows from the applicant's state now (hire: with the person
/// types allowed).
fn allowed_moves(applicant: &Applicant, host_employer: bool) -> Vec<Move> {
    let number = &applicant.applicant_number;
    let state = Some(applicant.state);
    Move::ALL
        .into_iter()
        .filter(|m| match m {
            Move::Hire => !person_types(host_employer, number, applicant.state).is_empty(),
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
        })
        .collect()
}

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
    load_messages: Vec<(String, String)>,
    checks: Vec<(String, String)>,
    checks_note: String,
    history: Vec<HistoryRow>,
    moves: Vec<Move>,
    hire_types: Vec<&'static str>,
    banner: Option<Banner>,
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    answer: Option<String>,
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
    let summary: Vec<(String, String)> = [
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
    let (checks, checks_note) = match &applicant.employment_checks {
        Some(held) => (
            held.checks
                .as_object()
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| (format::label(k), check_text(v)))
                        .collect()
                })
                .unwrap_or_default(),
            format!(
                "Received from Trac on {} (message {}).",
                format::time(held.received_at),
                held.message_id
            ),
        ),
        None => (Vec::new(), "No employment checks held.".to_string()),
    };
    let banner = match &query.answer {
        Some(id) => banner(&portal, &identity, &applicant, id).await?,
        None => None,
    };
    let moves = if identity.is_operator() {
        Vec::new()
    } else {
        allowed_moves(&applicant, host_employer)
    };
    render::html(&ApplicantPage {
        chrome: Chrome::new(&identity, "/applicants"),
        operator: identity.is_operator(),
        number: applicant.applicant_number.clone(),
        name: full_name(&applicant),
        state: applicant.state,
        summary,
        load_messages: applicant
            .load_messages
            .iter()
            .map(|m| (m.message_type.code().to_string(), m.text.clone()))
            .collect(),
        checks,
        checks_note,
        history: history.iter().rev().map(HistoryRow::of).collect(),
        hire_types: person_types(host_employer, &applicant.applicant_number, applicant.state)
            .into_iter()
            .map(person_type_name)
            .collect(),
        moves,
        banner,
    })
}

fn person_type_name(person_type: PersonType) -> &'static str {
    match person_type {
        PersonType::Employee => "Employee",
        PersonType::Honorary => "Honorary",
    }
}

// ---------------------------------------------------------------------------------------------
// Moves: confirm (GET), act (POST)
// ---------------------------------------------------------------------------------------------

/// The fields of a move form, as typed (the confirmation page) or as confirmed (the post).
#[derive(Deserialize, Default, Debug)]
pub struct MoveForm {
    #[serde(default)]
    person_type: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    month: String,
    #[serde(default)]
    year: String,
    /// ISO date, as the confirmation page carries it.
    #[serde(default)]
    effective_date: String,
    #[serde(default)]
    action_id: String,
    #[serde(default)]
    csrf: String,
}

/// What the move will send, checked.
struct Checked {
    person_type: Option<PersonType>,
    reason: Option<String>,
    effective_date: Option<NaiveDate>,
}

fn check_form(
    form: &MoveForm,
    chosen: Move,
    hire_types: &[PersonType],
) -> Result<Checked, Vec<String>> {
    let mut errors = Vec::new();
    let person_type = if chosen == Move::Hire {
        let wanted = match form.person_type.trim() {
            "Employee" => Some(PersonType::Employee),
            "Honorary" => Some(PersonType::Honorary),
            _ => None,
        };
        match wanted {
            Some(t) if hire_types.contains(&t) => Some(t),
            Some(_) => {
                errors.push("Select Honorary: the position is a Host Employer position".into());
                None
            }
            None => {
                errors.push("Select the person type (Employee or Honorary)".into());
                None
            }
        }
    } else {
        None
    };
    let reason = form.reason.trim();
    let reason = if chosen == Move::Withdraw {
        if reason.is_empty() {
            errors.push("Enter the reason for the withdrawal".into());
            None
        } else if reason.chars().count() > MAX_REASON_CHARS {
            errors.push(format!(
                "The reason must be {MAX_REASON_CHARS} characters or fewer"
            ));
            None
        } else {
            Some(reason.to_string())
        }
    } else {
        None
    };
    let effective_date = if !form.effective_date.trim().is_empty() {
        match NaiveDate::parse_from_str(form.effective_date.trim(), "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push("The effective date must be a real date".into());
                None
            }
        }
    } else if [&form.day, &form.month, &form.year]
        .iter()
        .all(|p| p.trim().is_empty())
    {
        None
    } else {
        let part = |p: &str| p.trim().parse::<u32>().ok();
        match (
            part(&form.day),
            part(&form.month),
            form.year.trim().parse::<i32>().ok(),
        ) {
            (Some(d), Some(m), Some(y)) if (1900..=2999).contains(&y) => {
                match NaiveDate::from_ymd_opt(y, m, d) {
                    Some(date) => Some(date),
                    None => {
                        errors.push("The effective date must be a real date".into());
                        None
                    }
                }
            }
            _ => {
                errors
                    .push("The effective date must be a real date, for example 02 12 2026".into());
                None
            }
        }
    };
    if errors.is_empty() {
        Ok(Checked {
            person_type,
            reason,
            effective_date,
        })
    } else {
        Err(errors)
    }
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    number: String,
    name: String,
    chosen: Move,
    errors: Vec<String>,
    details: Vec<(String, String)>,
    person_type: String,
    reason: String,
    effective_date: String,
    action_id: String,
    csrf: String,
}

/// The move asked for, on an applicant this trust may move; else not found.
async fn movable(
    portal: &Portal,
    identity: &Identity,
    number: &str,
    action: &str,
) -> Result<(Applicant, Move), PageError> {
    trust_of(portal, identity)?;
    let chosen = Move::parse(action).ok_or(PageError::NotFound)?;
    let applicant = visible(portal, identity, number).await?;
    Ok((applicant, chosen))
}

pub async fn confirm(
    State(portal): State<Shared>,
    identity: Identity,
    Path((number, action)): Path<(String, String)>,
    Query(form): Query<MoveForm>,
) -> Page {
    let (applicant, chosen) = movable(&portal, &identity, &number, &action).await?;
    let (host_employer, _) = host_employer(&portal, &applicant).await?;
    if !allowed_moves(&applicant, host_employer).contains(&chosen) {
        return Err(PageError::Conflict(format!(
            "Applicant {number} is {}: {} is not possible now. Go back to the applicant page to see the moves allowed.",
            applicant.state,
            chosen.name()
        )));
    }
    let hire_types = person_types(host_employer, &number, applicant.state);
    let (errors, checked) = match check_form(&form, chosen, &hire_types) {
        Ok(checked) => (Vec::new(), Some(checked)),
        Err(errors) => (errors, None),
    };
    let action_id = new_action_id().map_err(PageError::Unavailable)?;
    let csrf = portal.csrf.token(&identity, &action_id);
    let mut details = vec![
        (
            "Applicant".to_string(),
            format!("{} ({})", full_name(&applicant), applicant.applicant_number),
        ),
        (
            "Position number".to_string(),
            applicant.position_number.clone(),
        ),
        ("State now".to_string(), applicant.state.name().to_string()),
    ];
    let checked = checked.unwrap_or(Checked {
        person_type: None,
        reason: None,
        effective_date: None,
    });
    if let Some(t) = checked.person_type {
        details.push(("Person type".into(), person_type_name(t).into()));
    }
    if let Some(r) = &checked.reason {
        details.push(("Reason".into(), r.clone()));
    }
    details.push((
        "Effective date".into(),
        checked
            .effective_date
            .map(format::date)
            .unwrap_or_else(|| "not given".into()),
    ));
    let status = if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::BAD_REQUEST
    };
    let page = render::html(&ConfirmPage {
        chrome: Chrome::new(&identity, "/applicants"),
        number: applicant.applicant_number.clone(),
        name: full_name(&applicant),
        chosen,
        errors,
        details,
        person_type: checked
            .person_type
            .map(person_type_name)
            .unwrap_or_default()
            .to_string(),
        reason: checked.reason.unwrap_or_default(),
        effective_date: checked
            .effective_date
            .map(|d| d.to_string())
            .unwrap_or_default(),
        action_id,
        csrf,
    })?;
    Ok((status, page).into_response())
}

pub async fn act(
    State(portal): State<Shared>,
    identity: Identity,
    Path((number, action)): Path<(String, String)>,
    Form(form): Form<MoveForm>,
) -> Page {
    // Ownership first: another trust's applicant is not found, whatever the form holds.
    let (applicant, chosen) = movable(&portal, &identity, &number, &action).await?;
    if !is_action_id(&form.action_id) || !portal.csrf.verify(&identity, &form.action_id, &form.csrf)
    {
        tracing::warn!(applicant_number = %number, action = chosen.name(), "portal form refused: CSRF token");
        return Err(PageError::BadRequest(
            "This form did not come from your portal session, or it has expired. Go back to the applicant page and try again.".into(),
        ));
    }
    let vpd = applicant.vpd.clone();
    let mut body = json!({
        "id": form.action_id,
        "action": chosen.name(),
        "vpd": vpd,
        "applicant_number": applicant.applicant_number,
    });
    for (field, value) in [
        ("person_type", form.person_type.trim()),
        ("reason", form.reason.trim()),
        ("effective_date", form.effective_date.trim()),
    ] {
        if !value.is_empty() {
            body[field] = Value::String(value.to_string());
        }
    }
    let ctx = portal.context();
    let result = handle_portal_action(
        &ctx,
        &identity.principal(),
        &body.to_string(),
        &identity.actor(),
    )
    .await
    .map_err(|e| PageError::Unavailable(e.to_string()))?;
    tracing::info!(
        applicant_number = %number,
        action = chosen.name(),
        status = result.answer.status.name(),
        code = result.code,
        "portal action"
    );
    Ok(Redirect::to(&format!("/applicants/{number}?answer={}", form.action_id)).into_response())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn withdraw_needs_a_reason_and_hire_a_person_type_allowed_here() {
        let form = MoveForm::default();
        assert!(check_form(&form, Move::Withdraw, &[]).is_err());
        assert!(check_form(&form, Move::Hire, &[PersonType::Employee]).is_err());
        let honorary = MoveForm {
            person_type: "Employee".into(),
            ..MoveForm::default()
        };
        assert!(check_form(&honorary, Move::Hire, &[PersonType::Honorary]).is_err());
        assert!(check_form(
            &honorary,
            Move::Hire,
            &[PersonType::Employee, PersonType::Honorary]
        )
        .is_ok());
        let dated = MoveForm {
            day: "2".into(),
            month: "12".into(),
            year: "2026".into(),
            ..MoveForm::default()
        };
        assert_eq!(
            check_form(&dated, Move::Offer, &[])
                .ok()
                .and_then(|c| c.effective_date),
            NaiveDate::from_ymd_opt(2026, 12, 2)
        );
        let bad = MoveForm {
            day: "31".into(),
            month: "2".into(),
            year: "2026".into(),
            ..MoveForm::default()
        };
        assert!(check_form(&bad, Move::Offer, &[]).is_err());
    }
}

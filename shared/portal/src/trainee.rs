//! The trainee's own view (section 13): a doctor in training sees the placements held under their
//! GMC number (`/`), each with the personal details held and whom to ask (`/my/placements/<n>`),
//! and reports a problem with one (`POST /my/placements/<n>/report`). The reads and the report
//! are [`dit_core::service::trainee`]'s, so both stores answer alike.
//!
//! A trainee gets these pages and the styles only: [`only_trainee_pages`] answers every other
//! path with the same 404 as a missing page, before any route runs; these pages answer 404 to
//! everyone else. Another GMC number's applicant is not found, like a missing one.
//!
//! Choices where the spec is silent:
//! - The placement page shows what the trainee can check and the trust can correct: the post,
//!   dates, state, name, date of birth, address, e-mail and telephones. Not shown: the history
//!   (its actors are staff), employment checks (their references name referees), load messages,
//!   NI number, equality data (the trainee gave those and cannot have them corrected here).
//! - The report form is posted directly (no confirmation step): its CSRF token binds the user,
//!   the applicant and the move (`report_problem`); the text itself cannot be bound, as it is
//!   typed after the page is served. Sending it twice is harmless (the key is made from the
//!   applicant, the form's day and the text). Too long or empty text is shown again on the form
//!   with the error, nothing sent.

use askama::Template;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use dit_core::service::trainee::{self, Placement, ReportError};
use dit_domain::model::Applicant;
use dit_domain::trainee_query::MAX_QUERY_CHARS;

use crate::applicants::{is_number, tag_colour};
use crate::chrome::Chrome;
use crate::csrf::{issued_at, new_action_id, FormScope};
use crate::error::{Page, PageError};
use crate::format;
use crate::identity::Identity;
use crate::render;
use crate::state::{Portal, Shared};

/// The move a report's CSRF token is bound to.
const REPORT: &str = "report_problem";

/// The paths a trainee may ask for; anything else is "not found".
fn trainee_path(path: &str) -> bool {
    path == "/" || path.starts_with("/my/placements/") || path.starts_with("/assets/")
}

/// Keeps a trainee to the trainee pages: whatever another route would answer, a trainee gets the
/// page-not-found page, so no staff page can leak through a check forgotten in it.
pub async fn only_trainee_pages(request: Request, next: Next) -> Response {
    let trainee = request
        .extensions()
        .get::<Identity>()
        .is_some_and(|i| i.trainee_gmc().is_some());
    if trainee && !trainee_path(request.uri().path()) {
        return PageError::NotFound.into_response();
    }
    next.run(request).await
}

fn gmc_of(identity: &Identity) -> Result<&str, PageError> {
    identity.trainee_gmc().ok_or(PageError::NotFound)
}

fn state_of(applicant: &Applicant) -> (&'static str, &'static str) {
    (applicant.state.name(), tag_colour(&applicant.state))
}

fn or_not_held(text: &str) -> String {
    if text.trim().is_empty() {
        "Not held".to_string()
    } else {
        text.to_string()
    }
}

/// The trust's name as the trainee knows it.
fn trust_name(portal: &Portal, vpd: &str) -> String {
    portal
        .ports
        .organisations
        .get(vpd)
        .map(|o| o.name.clone())
        .unwrap_or_else(|| format!("Trust {vpd}"))
}

/// One row of the placements list.
pub struct Row {
    pub number: String,
    pub trust: String,
    pub position: String,
    pub hire: String,
    pub end: String,
    pub state: &'static str,
    pub colour: &'static str,
}

#[derive(Template)]
#[template(path = "trainee.html")]
struct PlacementsPage {
    chrome: Chrome,
    rows: Vec<Row>,
}

/// The start page of a trainee: their placements.
pub async fn placements(portal: &Portal, identity: &Identity) -> Page {
    let gmc = gmc_of(identity)?;
    let found = trainee::placements(&portal.context(), gmc).await?;
    let rows = found
        .iter()
        .map(|p| {
            let a = &p.applicant;
            let (state, colour) = state_of(a);
            Row {
                number: a.applicant_number.clone(),
                trust: trust_name(portal, &a.vpd),
                position: if p.position_name.is_empty() {
                    a.position_number.clone()
                } else {
                    format!("{} ({})", p.position_name, a.position_number)
                },
                hire: format::date(a.projected_hire_date),
                end: format::opt_date(a.projected_end_date),
                state,
                colour,
            }
        })
        .collect();
    render::html(&PlacementsPage {
        chrome: Chrome::new(&portal.ports.organisations, identity, "/"),
        rows,
    })
}

#[derive(Template)]
#[template(path = "trainee_placement.html")]
struct PlacementPage {
    chrome: Chrome,
    number: String,
    trust: String,
    state: &'static str,
    colour: &'static str,
    post: Vec<(String, String)>,
    personal: Vec<(String, String)>,
    contacts: Vec<String>,
    max_chars: usize,
    text: String,
    error: Option<String>,
    action_id: String,
    csrf: String,
}

async fn own(portal: &Portal, identity: &Identity, number: &str) -> Result<Placement, PageError> {
    let gmc = gmc_of(identity)?;
    if !is_number(number) {
        return Err(PageError::NotFound);
    }
    trainee::placement(&portal.context(), gmc, number)
        .await?
        .ok_or(PageError::NotFound)
}

/// Whom the trainee asks about a placement: the trust's contact, then the local office's that
/// sent it (section 12); a line only for what is configured.
fn contacts(portal: &Portal, applicant: &Applicant) -> Vec<String> {
    let organisations = &portal.ports.organisations;
    let mut lines = Vec::new();
    if let Some(contact) = organisations
        .get(&applicant.vpd)
        .and_then(|o| o.contact.as_ref())
    {
        lines.push(format!(
            "{} (medical staffing): {}",
            trust_name(portal, &applicant.vpd),
            contact.line()
        ));
    }
    if let Some((office, contact)) = organisations
        .local_office(&applicant.local_office)
        .and_then(|o| o.contact.as_ref().map(|c| (o, c)))
    {
        lines.push(format!(
            "{} (local office): {}",
            office.name,
            contact.line()
        ));
    }
    lines
}

fn placement_page(
    portal: &Portal,
    identity: &Identity,
    placement: &Placement,
    text: String,
    error: Option<String>,
) -> Result<PlacementPage, PageError> {
    let a = &placement.applicant;
    let d = &a.details;
    let opt = |v: &Option<String>| or_not_held(v.as_deref().unwrap_or(""));
    let name = [&d.title, &Some(d.first_name.clone()), &d.middle_names]
        .into_iter()
        .flatten()
        .chain(std::iter::once(&d.last_name))
        .filter(|p| !p.trim().is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    let address = [
        &d.address_line_1,
        &d.address_line_2,
        &d.address_line_3,
        &d.town,
        &d.county,
        &d.postcode,
        &d.country,
    ]
    .into_iter()
    .flatten()
    .filter(|p| !p.trim().is_empty())
    .cloned()
    .collect::<Vec<_>>()
    .join(", ");
    let (state, colour) = state_of(a);
    let post = [
        ("Trust", trust_name(portal, &a.vpd)),
        ("Position number", a.position_number.clone()),
        ("Position", or_not_held(&placement.position_name)),
        ("Site", or_not_held(&placement.site)),
        ("Grade", opt(&d.grade)),
        ("Specialty", or_not_held(&placement.specialty)),
        ("Projected hire date", format::date(a.projected_hire_date)),
        ("Projected end date", format::opt_date(a.projected_end_date)),
        ("State", state.to_string()),
        ("Applicant number", a.applicant_number.clone()),
    ];
    let personal = [
        ("Name", or_not_held(&name)),
        ("Date of birth", format::opt_date(d.date_of_birth)),
        ("Address", or_not_held(&address)),
        ("E-mail address", opt(&d.email_address)),
        ("Home telephone", opt(&d.home_tel)),
        ("Mobile telephone", opt(&d.mobile_tel)),
    ];
    let pairs = |rows: &[(&str, String)]| {
        rows.iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<Vec<_>>()
    };
    let action_id = new_action_id().map_err(PageError::Unavailable)?;
    let csrf = portal.csrf.token(
        identity,
        &FormScope {
            applicants: &[a.applicant_number.as_str()],
            action: REPORT,
            action_id: &action_id,
            fields: &[],
        },
        (portal.clock)(),
    );
    Ok(PlacementPage {
        chrome: Chrome::new(&portal.ports.organisations, identity, ""),
        number: a.applicant_number.clone(),
        trust: trust_name(portal, &a.vpd),
        state,
        colour,
        post: pairs(&post),
        personal: pairs(&personal),
        contacts: contacts(portal, a),
        max_chars: MAX_QUERY_CHARS,
        text,
        error,
        action_id,
        csrf,
    })
}

/// One placement: the post, the personal details held, whom to ask, and the report form.
pub async fn placement(
    State(portal): State<Shared>,
    identity: Identity,
    Path(number): Path<String>,
) -> Page {
    let placement = own(&portal, &identity, &number).await?;
    render::html(&placement_page(
        &portal,
        &identity,
        &placement,
        String::new(),
        None,
    )?)
}

#[derive(Deserialize, Default)]
pub struct ReportForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    action_id: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Template)]
#[template(path = "trainee_reported.html")]
struct ReportedPage {
    chrome: Chrome,
    number: String,
    trust: String,
    again: bool,
}

/// The report: checked against the form's token, then [`trainee::report_problem`].
pub async fn report(
    State(portal): State<Shared>,
    identity: Identity,
    Path(number): Path<String>,
    Form(form): Form<ReportForm>,
) -> Page {
    // Ownership first: another trainee's applicant is not found, whatever the form holds.
    let placement = own(&portal, &identity, &number).await?;
    let gmc = gmc_of(&identity)?;
    let now = (portal.clock)();
    let scope = FormScope {
        applicants: &[number.as_str()],
        action: REPORT,
        action_id: &form.action_id,
        fields: &[],
    };
    if let Err(refused) = portal.csrf.verify(&identity, &scope, &form.csrf, now) {
        tracing::warn!(applicant_number = %number, refused = ?refused, "trainee report refused: CSRF token");
        return Err(PageError::BadRequest(
            refused.explained("Go back to your placement and try again."),
        ));
    }
    let day = issued_at(&form.csrf).unwrap_or(now).date_naive();
    let ctx = portal.context();
    match trainee::report_problem(&ctx, gmc, &number, &form.text, day).await {
        Ok(reported) => render::html(&ReportedPage {
            chrome: Chrome::new(&portal.ports.organisations, &identity, ""),
            number,
            trust: trust_name(&portal, &placement.applicant.vpd),
            again: !reported.new,
        }),
        Err(ReportError::NotFound) => Err(PageError::NotFound),
        Err(ReportError::Invalid(reason)) => {
            let page = placement_page(&portal, &identity, &placement, form.text, Some(reason))?;
            Ok((StatusCode::BAD_REQUEST, render::html(&page)?).into_response())
        }
        Err(ReportError::Process(err)) => Err(PageError::Unavailable(err.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trainee_may_ask_for_the_trainee_pages_and_the_styles_only() {
        for path in [
            "/",
            "/my/placements/5000001",
            "/assets/nhsuk-frontend.min.css",
        ] {
            assert!(trainee_path(path), "{path}");
        }
        for path in [
            "/inbox",
            "/applicants/5000001",
            "/my",
            "/operator/files",
            "/reports",
        ] {
            assert!(!trainee_path(path), "{path}");
        }
    }
}

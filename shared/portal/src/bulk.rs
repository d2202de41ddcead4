//! Bulk moves (section 11): applicants selected with checkboxes on the worklist or the search
//! results (up to [`MAX_APPLICANTS`]), one move, one confirmation page, then one trust message per
//! applicant through [`handle_portal_action`], the path of a single move. Each message's id is the
//! confirmation's id and the applicant number, so the same confirmation sent twice is a duplicate
//! for every applicant. The CSRF token binds the user, the confirmation, the move, its fields and
//! the applicants. No JavaScript: plain GET and POST forms.

use askama::Template;
use axum::extract::{Query, State};
use axum::Form;
use chrono::NaiveDate;

use dit_core::service::messages::answering::AnswerStatus;
use dit_core::service::messages::handle_portal_action;
use dit_domain::actions::MAX_REASON_CHARS;

use crate::applicants::move_message;
use crate::chrome::Chrome;
use crate::csrf::{new_action_id, FormScope};
use crate::error::{Page, PageError};
use crate::format;
use crate::identity::Identity;
use crate::render;
use crate::state::{trust_of, Shared};

/// The most applicants one bulk move takes.
pub const MAX_APPLICANTS: usize = 500;

/// The moves a bulk form offers: (action, label).
pub const MOVES: [(&str, &str); 5] = [
    ("offer", "Offer the post"),
    ("accept", "Record the offer as accepted"),
    ("hire", "Hire"),
    ("update_assignment", "Update the assignment (internal move)"),
    ("withdraw", "Withdraw"),
];

/// What a bulk form sends, read from its repeated fields.
#[derive(Debug, Default)]
struct BulkForm {
    applicants: Vec<String>,
    move_name: String,
    person_type: String,
    reason: String,
    effective_date: String,
    confirmation: String,
    csrf: String,
}

impl BulkForm {
    fn read(pairs: Vec<(String, String)>) -> BulkForm {
        let mut form = BulkForm::default();
        for (key, value) in pairs {
            let value = value.trim().to_string();
            match key.as_str() {
                "applicant" if !value.is_empty() && !form.applicants.contains(&value) => {
                    form.applicants.push(value);
                }
                "move" => form.move_name = value,
                "person_type" => form.person_type = value,
                "reason" => form.reason = value,
                "effective_date" => form.effective_date = value,
                "confirmation" => form.confirmation = value,
                "csrf" => form.csrf = value,
                _ => {}
            }
        }
        form
    }

    /// The move's label, when it is one of [`MOVES`].
    fn label(&self) -> Option<&'static str> {
        MOVES
            .iter()
            .find(|(name, _)| *name == self.move_name)
            .map(|(_, label)| *label)
    }

    /// What the CSRF token binds besides the user and the confirmation.
    /// The fields the form's CSRF token covers besides the move, the applicants and the
    /// confirmation, as the confirmation page carries them.
    fn signed_fields(&self) -> [(&'static str, &str); 3] {
        [
            ("person_type", &self.person_type),
            ("reason", &self.reason),
            ("effective_date", &self.effective_date),
        ]
    }

    /// The applicants, as the token's scope lists them.
    fn applicant_numbers(&self) -> Vec<&str> {
        self.applicants.iter().map(String::as_str).collect()
    }

    /// The problems of the form, each a sentence; the effective date made ISO.
    fn check(&mut self) -> Vec<String> {
        let mut errors = Vec::new();
        if self.applicants.is_empty() {
            errors.push("Select at least one applicant".to_string());
        }
        if self.applicants.len() > MAX_APPLICANTS {
            errors.push(format!(
                "Select at most {MAX_APPLICANTS} applicants ({} selected)",
                self.applicants.len()
            ));
        }
        if self
            .applicants
            .iter()
            .any(|n| n.is_empty() || n.len() > 15 || !n.bytes().all(|b| b.is_ascii_digit()))
        {
            errors.push("An applicant number is not a number".to_string());
        }
        if self.label().is_none() {
            errors.push("Select a move".to_string());
        }
        let needs_type = matches!(self.move_name.as_str(), "hire" | "update_assignment");
        if needs_type && !matches!(self.person_type.as_str(), "Employee" | "Honorary") {
            errors.push("Select the person type (Employee or Honorary)".to_string());
        }
        if !needs_type {
            self.person_type.clear();
        }
        if self.move_name == "withdraw" {
            if self.reason.is_empty() {
                errors.push("Enter the reason for the withdrawal".to_string());
            } else if self.reason.chars().count() > MAX_REASON_CHARS {
                errors.push(format!(
                    "The reason must be {MAX_REASON_CHARS} characters or fewer"
                ));
            }
        } else {
            self.reason.clear();
        }
        if !self.effective_date.is_empty() {
            let parsed = NaiveDate::parse_from_str(&self.effective_date, "%Y-%m-%d")
                .or_else(|_| NaiveDate::parse_from_str(&self.effective_date, "%d/%m/%Y"));
            match parsed {
                Ok(date) => self.effective_date = date.to_string(),
                Err(_) => errors.push(
                    "The effective date must be a real date, for example 02/12/2026".to_string(),
                ),
            }
        }
        errors
    }

    /// The trust message for one applicant.
    fn message(&self, vpd: &str, number: &str) -> String {
        move_message(
            &format!("{}.{number}", self.confirmation),
            &self.move_name,
            vpd,
            number,
            &self.signed_fields(),
        )
        .to_string()
    }
}

pub struct ConfirmRow {
    pub number: String,
    pub name: String,
    pub state: String,
}

#[derive(Template)]
#[template(path = "bulk_confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    errors: Vec<String>,
    move_label: String,
    move_name: String,
    details: Vec<(String, String)>,
    rows: Vec<ConfirmRow>,
    person_type: String,
    reason: String,
    effective_date: String,
    confirmation: String,
    csrf: String,
}

/// The confirmation page of a bulk move (GET: changes nothing).
pub async fn confirm(
    State(portal): State<Shared>,
    identity: Identity,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Page {
    let vpd = trust_of(&portal, &identity)?.to_string();
    let mut form = BulkForm::read(pairs);
    let errors = form.check();
    let mut rows = Vec::new();
    if errors.is_empty() {
        for number in &form.applicants {
            // Another trust's applicant is shown as not found, like a missing one.
            rows.push(match portal.ports.store.applicant(number).await? {
                Some(a) if a.vpd == vpd => ConfirmRow {
                    number: number.clone(),
                    name: format!("{} {}", a.details.first_name, a.details.last_name)
                        .trim()
                        .to_string(),
                    state: a.state.name().to_string(),
                },
                _ => ConfirmRow {
                    number: number.clone(),
                    name: String::new(),
                    state: "not found".to_string(),
                },
            });
        }
    }
    form.confirmation = new_action_id().map_err(PageError::Unavailable)?;
    let csrf = portal.csrf.token(
        &identity,
        &FormScope {
            applicants: &form.applicant_numbers(),
            action: &form.move_name,
            action_id: &form.confirmation,
            fields: &form.signed_fields(),
        },
        (portal.clock)(),
    );
    let mut details = vec![("Move".to_string(), form.label().unwrap_or("").to_string())];
    if !form.person_type.is_empty() {
        details.push(("Person type".into(), form.person_type.clone()));
    }
    if !form.reason.is_empty() {
        details.push(("Reason".into(), form.reason.clone()));
    }
    details.push((
        "Effective date".into(),
        NaiveDate::parse_from_str(&form.effective_date, "%Y-%m-%d")
            .map(format::date)
            .unwrap_or_else(|_| "not given".into()),
    ));
    let status = if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::BAD_REQUEST
    };
    let page = render::html(&ConfirmPage {
        chrome: Chrome::new(&portal.ports.organisations, &identity, "/worklist"),
        errors,
        move_label: form.label().unwrap_or("Bulk move").to_string(),
        move_name: form.move_name.clone(),
        details,
        rows,
        person_type: form.person_type,
        reason: form.reason,
        effective_date: form.effective_date,
        confirmation: form.confirmation,
        csrf,
    })?;
    Ok(axum::response::IntoResponse::into_response((status, page)))
}

pub struct Outcome {
    pub number: String,
    pub status: &'static str,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "bulk_result.html")]
struct ResultPage {
    chrome: Chrome,
    move_label: String,
    outcomes: Vec<Outcome>,
    totals: Vec<(&'static str, usize)>,
}

fn status_name(status: AnswerStatus) -> &'static str {
    match status {
        AnswerStatus::Accepted => "moved",
        AnswerStatus::Unchanged => "unchanged",
        AnswerStatus::Refused => "refused",
        AnswerStatus::Duplicate => "duplicate",
    }
}

/// Sends the confirmed bulk move: one trust message per applicant, then the outcomes.
pub async fn act(
    State(portal): State<Shared>,
    identity: Identity,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Page {
    let vpd = trust_of(&portal, &identity)?.to_string();
    let mut form = BulkForm::read(pairs);
    // The token covers the fields as the confirmation page carried them, before any check.
    let checked = portal.csrf.verify(
        &identity,
        &FormScope {
            applicants: &form.applicant_numbers(),
            action: &form.move_name,
            action_id: &form.confirmation,
            fields: &form.signed_fields(),
        },
        &form.csrf,
        (portal.clock)(),
    );
    let errors = form.check();
    if let Err(refused) = checked {
        tracing::warn!(
            applicants = form.applicants.len(),
            refused = ?refused,
            "bulk form refused: CSRF token"
        );
        return Err(PageError::BadRequest(refused.explained(
            "Go back to the worklist and select the applicants again.",
        )));
    }
    if let Some(first) = errors.first() {
        return Err(PageError::BadRequest(first.clone()));
    }
    let ctx = portal.context();
    let principal = identity.principal().ok_or(PageError::NotFound)?;
    let actor = identity.actor();
    let mut outcomes = Vec::with_capacity(form.applicants.len());
    for number in &form.applicants {
        let result = handle_portal_action(&ctx, &principal, &form.message(&vpd, number), &actor)
            .await
            .map_err(|e| PageError::Unavailable(e.to_string()))?;
        outcomes.push(Outcome {
            number: number.clone(),
            status: status_name(result.answer.status),
            reason: result.answer.reason.unwrap_or_default(),
        });
    }
    let mut totals: Vec<(&'static str, usize)> = Vec::new();
    for outcome in &outcomes {
        match totals.iter_mut().find(|(s, _)| *s == outcome.status) {
            Some((_, count)) => *count += 1,
            None => totals.push((outcome.status, 1)),
        }
    }
    tracing::info!(
        action = %form.move_name,
        applicants = outcomes.len(),
        "portal bulk action"
    );
    render::html(&ResultPage {
        chrome: Chrome::new(&portal.ports.organisations, &identity, "/worklist"),
        move_label: form.label().unwrap_or("Bulk move").to_string(),
        outcomes,
        totals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_bulk_form_needs_applicants_a_move_and_its_fields() {
        let mut empty = BulkForm::read(vec![]);
        assert_eq!(empty.check().len(), 2);
        let mut hire = BulkForm::read(pairs(&[
            ("applicant", "5000001"),
            ("applicant", "5000001"),
            ("move", "hire"),
        ]));
        assert_eq!(hire.applicants, vec!["5000001"]);
        assert_eq!(
            hire.check(),
            vec!["Select the person type (Employee or Honorary)"]
        );
        let mut withdraw = BulkForm::read(pairs(&[
            ("applicant", "1"),
            ("move", "withdraw"),
            ("person_type", "Employee"),
            ("effective_date", "02/12/2026"),
        ]));
        assert_eq!(
            withdraw.check(),
            vec!["Enter the reason for the withdrawal"]
        );
        assert!(withdraw.person_type.is_empty());
        assert_eq!(withdraw.effective_date, "2026-12-02");
        let many: Vec<(String, String)> = (0..501)
            .map(|i| ("applicant".to_string(), format!("{}", 5_000_000 + i)))
            .chain(std::iter::once(("move".to_string(), "offer".to_string())))
            .collect();
        assert!(BulkForm::read(many).check()[0].contains("at most 500"));
    }

    #[test]
    fn each_applicants_message_id_comes_from_the_confirmation() {
        let form = BulkForm {
            move_name: "offer".into(),
            confirmation: "portal-00112233445566778899aabbccddeeff".into(),
            ..BulkForm::default()
        };
        let body: serde_json::Value =
            serde_json::from_str(&form.message("504", "5000001")).unwrap();
        assert_eq!(
            body["id"],
            "portal-00112233445566778899aabbccddeeff.5000001"
        );
        assert_eq!(body["action"], "offer");
    }
}

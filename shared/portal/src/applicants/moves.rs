//! Moves: the confirmation page (GET) and the move itself (POST, CSRF token and action id
//! checked), through `handle_portal_action` as a trust message goes.

use super::*;
use crate::csrf::FormScope;

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
    /// The checks of `record_checks` as JSON, as the confirmation page carries them.
    #[serde(default)]
    checks: String,
    /// The `record_checks` form's fields: `<check>_status` and `<check>_completed_on`.
    #[serde(flatten)]
    check_fields: std::collections::BTreeMap<String, String>,
}

/// What the move will send, checked.
struct Checked {
    person_type: Option<PersonType>,
    reason: Option<String>,
    effective_date: Option<NaiveDate>,
    checks: Option<Value>,
}

/// The checks of a `record_checks` form: for each of the six, its status and completion date
/// (`YYYY-MM-DD` or `dd/mm/yyyy`) when given; `references` as one reference. What the message
/// then keeps is cut by the domain's allow-list, as Trac's.
fn form_checks(form: &MoveForm, errors: &mut Vec<String>) -> Value {
    if let Ok(checks @ Value::Object(_)) = serde_json::from_str::<Value>(&form.checks) {
        return checks;
    }
    let mut checks = serde_json::Map::new();
    for name in dit_domain::actions::TRAC_CHECKS {
        let field = |suffix: &str| {
            form.check_fields
                .get(&format!("{name}_{suffix}"))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut check = serde_json::Map::new();
        if let Some(status) = field("status") {
            check.insert("status".into(), Value::String(status));
        }
        if let Some(text) = field("completed_on") {
            let parsed = NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                .or_else(|_| NaiveDate::parse_from_str(&text, "%d/%m/%Y"));
            match parsed {
                Ok(date) => {
                    check.insert("completed_on".into(), Value::String(date.to_string()));
                }
                Err(_) => errors.push(format!(
                    "The completion date of {} must be a real date, for example 02/12/2026",
                    format::label(name)
                )),
            }
        }
        if check.is_empty() {
            continue;
        }
        let value = if name == "references" {
            Value::Array(vec![Value::Object(check)])
        } else {
            Value::Object(check)
        };
        checks.insert(name.to_string(), value);
    }
    if checks.is_empty() {
        errors.push("Enter at least one check's status or completion date".into());
    }
    Value::Object(checks)
}

fn check_form(
    form: &MoveForm,
    chosen: Move,
    hire_types: &[PersonType],
) -> Result<Checked, Vec<String>> {
    let mut errors = Vec::new();
    let person_type = if chosen.needs_person_type() {
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
    let checks = (chosen == Move::RecordChecks).then(|| form_checks(form, &mut errors));
    if errors.is_empty() {
        Ok(Checked {
            person_type,
            reason,
            effective_date,
            checks,
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
    checks: String,
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
    if !available_moves(&portal, &applicant, host_employer).contains(&chosen) {
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
    if chosen == Move::Accept {
        // A warning, not a block: the trust decides (section 11).
        let held = [
            applicant.employment_checks.as_ref().map(|c| &c.checks),
            applicant.trust_checks.as_ref().map(|c| &c.checks),
        ];
        let missing = dit_domain::actions::incomplete_checks(&held);
        details.push((
            "Employment checks not yet complete".to_string(),
            if missing.is_empty() {
                "none: all six are recorded as complete".to_string()
            } else {
                missing
                    .iter()
                    .map(|name| format::label(name))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        ));
    }
    let checked = checked.unwrap_or(Checked {
        person_type: None,
        reason: None,
        effective_date: None,
        checks: None,
    });
    if let Some(Value::Object(checks)) = &checked.checks {
        for (name, value) in checks {
            let value = match value {
                Value::Array(items) => items.first().cloned().unwrap_or(Value::Null),
                other => other.clone(),
            };
            let text = ["status", "completed_on"]
                .iter()
                .filter_map(|k| value.get(*k).and_then(Value::as_str).map(|v| (k, v)))
                .map(|(k, v)| format!("{}: {v}", format::label(k)))
                .collect::<Vec<_>>()
                .join("; ");
            details.push((format::label(name), text));
        }
    }
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
    let person_type = checked
        .person_type
        .map(person_type_name)
        .unwrap_or_default()
        .to_string();
    let reason = checked.reason.unwrap_or_default();
    let effective_date = checked
        .effective_date
        .map(|d| d.to_string())
        .unwrap_or_default();
    let checks = checked.checks.map(|c| c.to_string()).unwrap_or_default();
    let csrf = portal.csrf.token(
        &identity,
        &FormScope {
            applicants: &[applicant.applicant_number.as_str()],
            action: chosen.name(),
            action_id: &action_id,
            fields: &signed_fields(&person_type, &reason, &effective_date, &checks),
        },
        (portal.clock)(),
    );
    let page = render::html(&ConfirmPage {
        chrome: Chrome::new(&portal.ports.organisations, &identity, "/applicants"),
        number: applicant.applicant_number.clone(),
        name: full_name(&applicant),
        chosen,
        errors,
        details,
        person_type,
        reason,
        effective_date,
        checks,
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
    let checked = portal.csrf.verify(
        &identity,
        &FormScope {
            applicants: &[applicant.applicant_number.as_str()],
            action: chosen.name(),
            action_id: &form.action_id,
            fields: &signed_fields(
                form.person_type.trim(),
                form.reason.trim(),
                form.effective_date.trim(),
                form.checks.trim(),
            ),
        },
        &form.csrf,
        (portal.clock)(),
    );
    if let Err(refused) = checked {
        tracing::warn!(applicant_number = %number, action = chosen.name(), refused = ?refused, "portal form refused: CSRF token");
        return Err(PageError::BadRequest(
            refused.explained("Go back to the applicant page and try again."),
        ));
    }
    let mut body = move_message(
        &form.action_id,
        chosen.name(),
        &applicant.vpd,
        &applicant.applicant_number,
        &[
            ("person_type", form.person_type.trim()),
            ("reason", form.reason.trim()),
            ("effective_date", form.effective_date.trim()),
        ],
    );
    if chosen == Move::RecordChecks {
        body["checks"] = serde_json::from_str(&form.checks).unwrap_or(Value::Null);
    }
    // Only a trust gets this far (`trust_of` above); a read-only identity acts as no one.
    let principal = identity.principal().ok_or(PageError::NotFound)?;
    let ctx = portal.context();
    let result = handle_portal_action(&ctx, &principal, &body.to_string(), &identity.actor())
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

/// The fields of a move form its CSRF token covers, as the confirmation page carries them (the
/// checks of `record_checks` included: a changed hidden field makes the token fail).
fn signed_fields<'a>(
    person_type: &'a str,
    reason: &'a str,
    effective_date: &'a str,
    checks: &'a str,
) -> [(&'static str, &'a str); 4] {
    [
        ("person_type", person_type),
        ("reason", reason),
        ("effective_date", effective_date),
        ("checks", checks),
    ]
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

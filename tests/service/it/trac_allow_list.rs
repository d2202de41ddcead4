//! Trac employment checks by allow-list (section 3), on SQLite and folders and on DynamoDB and S3
//! (moto): only the allowed fields of the six checks are kept, every other key is dropped and
//! named, and checks are taken only for live `trac = true` trusts and offered or accepted
//! applicants.

use dit_core::ports::Area;
use dit_core::service::messages::answering::{trac_answer_key, Answer, AnswerStatus};
use dit_domain::model::HistoryOutcome;
use dit_domain::org::Organisations;
use dit_test_support::applicants::{action, Env, HOST_505_PART, LEAD_504, SECOND_504};
use dit_test_support::on_both_stores;
use serde_json::json;

fn trac(id: &str, number: &str, vpd: &str) -> String {
    json!({
        "id": id, "source": "trac", "vpd": vpd, "applicant_number": number,
        "status": "outcome recruited",
        "person": {"first_name": "Test", "last_name": "Trainee"},
        "checks": {
            "dbs": {"status": "clear", "reference": "001234567890", "completed_on": "2026-10-02",
                    "level": "enhanced", "date_of_birth": "1988-05-06"},
            "professional_registration": {"status": "registered", "reference": "7000001",
                    "expires_on": "2027-10-31", "full_name": "Test Trainee"},
            "references": [
                {"status": "satisfactory", "completed_on": "2026-10-20", "referee_name": "Dr R"},
                {"status": "satisfactory", "completed_on": "2026-10-22"}
            ],
            "employment_checklist": {"outcome": "complete", "notes": {"contract": "issued"}},
            "illegal_working_checklist": {"outcome": "confirmed", "passport_number": "000000000"},
            "eu_status": {"status": "not required"},
            "hobbies": {"status": "chess"}
        }
    })
    .to_string()
}

/// Trac's answer (in Trac's own space, `trac/messages/`).
async fn answer(env: &Env, id: &str) -> Answer {
    let bytes = env
        .blobs
        .get(Area::Outbound, &trac_answer_key(id))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no answer for {id}"));
    serde_json::from_slice(&bytes).unwrap()
}

async fn offer(env: &Env, vpd: &str, number: &str) {
    let result = env
        .send(&action(&format!("offer-{number}"), "offer", vpd, number).to_string())
        .await;
    assert_eq!(result.answer.status, AnswerStatus::Accepted, "{result:?}");
}

async fn only_allowed_check_fields_are_stored_and_the_rest_named(env: Env) {
    env.load().await;
    offer(&env, "504", LEAD_504).await;
    let result = env.send(&trac("t1", LEAD_504, "504")).await;
    assert_eq!(result.answer.status, AnswerStatus::Accepted, "{result:?}");
    let dropped = vec![
        "checks.dbs.date_of_birth",
        "checks.dbs.level",
        "checks.employment_checklist.notes",
        "checks.hobbies",
        "checks.illegal_working_checklist.passport_number",
        "checks.professional_registration.full_name",
        "checks.references[0].referee_name",
        "person",
    ];
    assert_eq!(result.answer.dropped_fields, dropped);
    let written = answer(&env, "t1").await;
    assert_eq!(written.dropped_fields, dropped);
    assert!(written
        .reason
        .unwrap()
        .contains("dropped: checks.dbs.date_of_birth, checks.dbs.level"));

    // Read back from the store: exactly the allow-list survived.
    let applicant = env.store.applicant(LEAD_504).await.unwrap().unwrap();
    let held = applicant.employment_checks.clone().expect("checks kept");
    assert_eq!(
        held.checks,
        json!({
            "dbs": {"status": "clear", "reference": "001234567890", "completed_on": "2026-10-02"},
            "professional_registration": {"status": "registered", "reference": "7000001", "expires_on": "2027-10-31"},
            "references": [
                {"status": "satisfactory", "completed_on": "2026-10-20"},
                {"status": "satisfactory", "completed_on": "2026-10-22"}
            ],
            "employment_checklist": {"outcome": "complete"},
            "illegal_working_checklist": {"outcome": "confirmed"},
            "eu_status": {"status": "not required"}
        })
    );
    assert_eq!(held.dropped_fields, dropped);
    let everything = format!(
        "{}{}",
        serde_json::to_string(&applicant).unwrap(),
        serde_json::to_string(&env.store.history(LEAD_504).await.unwrap()).unwrap()
    );
    for personal in ["1988-05-06", "Dr R", "000000000", "Test Trainee", "chess"] {
        assert!(!everything.contains(personal), "{personal} was kept");
    }
}

on_both_stores!(only_allowed_check_fields_are_stored_and_the_rest_named
    => sqlite_only_allowed_check_fields_are_stored, moto_only_allowed_check_fields_are_stored);

async fn trac_is_taken_only_for_trac_trusts_and_offered_or_accepted_applicants(env: Env) {
    env.load().await;
    // Loaded, not yet offered.
    let result = env.send(&trac("t-loaded", SECOND_504, "504")).await;
    assert_eq!(result.answer.status, AnswerStatus::Refused);
    assert_eq!(result.code, "not_offered");
    // Trust 505 has no `trac = true`.
    offer(&env, "505", HOST_505_PART).await;
    let result = env.send(&trac("t-505", HOST_505_PART, "505")).await;
    assert_eq!(result.answer.status, AnswerStatus::Refused);
    assert_eq!(result.code, "trac_not_enabled");
    assert_eq!(
        result.answer.reason.as_deref(),
        Some("Organisation 505 does not take employment checks from Trac; refused")
    );
    // Trust 504 taken off the interface: no checks either, though `trac = true`.
    offer(&env, "504", LEAD_504).await;
    let text =
        dit_test_support::applicants::ORGANISATIONS.replacen("live = true", "live = false", 1);
    let off = env.with_organisations(Organisations::from_toml(&text, "test").unwrap());
    let result = off.send(&trac("t-off", LEAD_504, "504")).await;
    assert_eq!(result.code, "trac_not_enabled");
    // Hired: too late.
    for (id, step) in [("a", "accept"), ("h", "hire")] {
        let mut body = action(id, step, "504", LEAD_504);
        body["person_type"] = json!("Employee");
        assert_eq!(
            env.send(&body.to_string()).await.answer.status,
            AnswerStatus::Accepted
        );
    }
    let result = env.send(&trac("t-hired", LEAD_504, "504")).await;
    assert_eq!(result.code, "not_offered");

    for number in [SECOND_504, HOST_505_PART, LEAD_504] {
        let applicant = env.store.applicant(number).await.unwrap().unwrap();
        assert!(applicant.employment_checks.is_none(), "{number}");
    }
    // Each refusal is kept in the applicant's history.
    let refusals = env
        .store
        .history(LEAD_504)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.command == "employment_checks")
        .filter(|e| matches!(e.outcome, HistoryOutcome::Refused { .. }))
        .count();
    assert_eq!(refusals, 2);
}

on_both_stores!(trac_is_taken_only_for_trac_trusts_and_offered_or_accepted_applicants
    => sqlite_trac_only_for_trac_trusts_and_offered_or_accepted, moto_trac_only_for_trac_trusts_and_offered_or_accepted);

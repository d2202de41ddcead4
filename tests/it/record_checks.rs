//! Checks recorded by a trust without Trac (`record_checks`, section 11) on SQLite and DynamoDB: the same
//! allow-list as Trac's, the actor kept, refused for a trac = true trust and outside offered or
//! accepted; the worklist's Checks outstanding empties.

use dit_core::service::messages::answering::AnswerStatus;
use dit_domain::actions::incomplete_checks;
use dit_domain::boundary::Principal;
use dit_test_support::applicants::{action, on_moto, on_sqlite, Env, HOST_505_PART, LEAD_504};
use serde_json::json;

fn record(id: &str, vpd: &str, number: &str) -> String {
    let mut body = action(id, "record_checks", vpd, number);
    body["checks"] = json!({
        "dbs": {"status": "clear", "completed_on": "2026-11-01", "date_of_birth": "1990-01-31"},
        "references": [{"status": "received", "completed_on": "2026-11-02", "referee": "Dr X"}],
        "passport": {"number": "123"},
    });
    body.to_string()
}

async fn the_record_checks_rule(env: Env) {
    let trust = Principal::Trust("505".into());
    // Loaded: not yet offered.
    let early = env
        .send_as(trust.clone(), &record("c0", "505", HOST_505_PART))
        .await;
    assert_eq!(early.answer.status, AnswerStatus::Refused);
    assert!(early
        .answer
        .reason
        .as_deref()
        .unwrap()
        .contains("record_checks is allowed only for an applicant offered or accepted"));
    env.send_as(
        trust.clone(),
        &action("o", "offer", "505", HOST_505_PART).to_string(),
    )
    .await;

    let result = env
        .send_as(trust.clone(), &record("c1", "505", HOST_505_PART))
        .await;
    assert_eq!(result.answer.status, AnswerStatus::Accepted, "{result:?}");
    assert_eq!(
        result.answer.dropped_fields,
        vec![
            "checks.dbs.date_of_birth",
            "checks.passport",
            "checks.references[0].referee"
        ]
    );
    let applicant = env.store.applicant(HOST_505_PART).await.unwrap().unwrap();
    let held = applicant.trust_checks.expect("recorded");
    assert_eq!(held.recorded_by.as_deref(), Some("trust 505"));
    assert_eq!(
        held.checks,
        json!({"dbs": {"status": "clear", "completed_on": "2026-11-01"},
            "references": [{"status": "received", "completed_on": "2026-11-02"}]})
    );
    assert!(
        applicant.employment_checks.is_none(),
        "kept apart from Trac's"
    );
    assert_eq!(
        incomplete_checks(&[None, Some(&held.checks)]),
        vec![
            "professional_registration",
            "employment_checklist",
            "illegal_working_checklist",
            "eu_status"
        ]
    );

    // A trac = true trust takes its checks from Trac.
    let trac_trust = env
        .send_as(
            Principal::Trust("504".into()),
            &record("c2", "504", LEAD_504),
        )
        .await;
    assert_eq!(trac_trust.answer.status, AnswerStatus::Refused);
    assert_eq!(
        trac_trust.answer.reason.as_deref(),
        Some("Organisation 504 takes employment checks from Trac")
    );
}

#[tokio::test]
async fn record_checks_on_sqlite() {
    on_sqlite(the_record_checks_rule).await;
}

#[tokio::test]
async fn record_checks_on_dynamodb() {
    on_moto(the_record_checks_rule).await;
}

//! The messages service (trust actions, Trac checks) on the embedded adapters: SQLite and folders.

use std::sync::Arc;

use dit_core::ports::Area;
use dit_core::service::messages::answering::{answer_key, Answer, AnswerStatus};
use dit_domain::lifecycle::ApplicantState;
use dit_domain::model::{Cause, HistoryOutcome, PersonUpdateStatus};
use dit_embedded::folders::FolderBlobs;
use dit_embedded::sqlite::SqliteStore;
use dit_test_support::applicants::{
    action, app, outbound, Env, DPN_101, HOST_505_PART, HOST_506_FULL, LEAD_504, SECOND_504,
};
use serde_json::json;

async fn env() -> (tempfile::TempDir, Env) {
    let dir = tempfile::tempdir().unwrap();
    let env = Env::new(
        Arc::new(SqliteStore::in_memory().unwrap()),
        Arc::new(FolderBlobs::new(dir.path())),
    );
    env.load().await;
    (dir, env)
}

async fn answer(env: &Env, vpd: &str, id: &str) -> Answer {
    let bytes = env
        .blobs
        .get(Area::Outbound, &answer_key(vpd, id))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no answer for {id}"));
    serde_json::from_slice(&bytes).unwrap()
}

async fn state(env: &Env, number: &str) -> ApplicantState {
    env.store.applicant(number).await.unwrap().unwrap().state
}

async fn walk_to_accepted(env: &Env, vpd: &str, number: &str) {
    for (i, step) in ["offer", "accept"].iter().enumerate() {
        let id = format!("{number}-walk-{i}");
        let result = env.send(&action(&id, step, vpd, number).to_string()).await;
        assert_eq!(result.answer.status, AnswerStatus::Accepted, "{result:?}");
    }
}

#[tokio::test]
async fn offer_accept_hire_moves_the_applicant_and_records_each_message() {
    let (_dir, env) = env().await;
    let mut offer = action("m1", "offer", "504", LEAD_504);
    offer["effective_date"] = json!("2026-11-25");
    let result = env.send(&offer.to_string()).await;
    assert_eq!(result.answer.status, AnswerStatus::Accepted);
    assert_eq!(result.answer.state, Some(ApplicantState::Offered));
    assert_eq!(result.code, "moved");
    env.send(&action("m2", "accept", "504", LEAD_504).to_string())
        .await;
    let mut hire = action("m3", "hire", "504", LEAD_504);
    hire["person_type"] = json!("Employee");
    hire["effective_date"] = json!("2027-02-03");
    let result = env.send(&hire.to_string()).await;
    assert_eq!(result.answer.state, Some(ApplicantState::Hired));

    let history = env.store.history(LEAD_504).await.unwrap();
    let moves: Vec<(&str, ApplicantState, &Cause)> = history
        .iter()
        .map(|e| (e.command.as_str(), e.to, &e.cause))
        .skip(2)
        .collect();
    assert_eq!(
        moves,
        vec![
            (
                "offer",
                ApplicantState::Offered,
                &Cause::Message {
                    id: "m1".into(),
                    sender: Some("trust:504".into())
                }
            ),
            (
                "accept",
                ApplicantState::Accepted,
                &Cause::Message {
                    id: "m2".into(),
                    sender: Some("trust:504".into())
                }
            ),
            (
                "hire",
                ApplicantState::Hired,
                &Cause::Message {
                    id: "m3".into(),
                    sender: Some("trust:504".into())
                }
            ),
        ]
    );
    assert_eq!(history[2].actor, "trust 504");
    assert_eq!(history[2].detail.as_deref(), Some("effective 2026-11-25"));
    assert_eq!(
        history[4].detail.as_deref(),
        Some("person type Employee; effective 2027-02-03")
    );
    let written = answer(&env, "504", "m3").await;
    assert_eq!(written.status, AnswerStatus::Accepted);
    assert_eq!(written.action.as_deref(), Some("hire"));
    assert_eq!(written.applicant_number.as_deref(), Some(LEAD_504));
    assert_eq!(written.state, Some(ApplicantState::Hired));
}

#[tokio::test]
async fn after_a_hire_a_later_app_for_the_same_person_is_an_existing_employee() {
    let (_dir, env) = env().await;
    walk_to_accepted(&env, "504", LEAD_504).await;
    let mut hire = action("h", "hire", "504", LEAD_504);
    hire["person_type"] = json!("Employee");
    env.send(&hire.to_string()).await;
    let report = env
        .process_app(2, &[app("9", "101", DPN_101, "7000001")])
        .await;
    assert_eq!(report.loaded, 1);
    let link = env.store.placements(&["9".into()]).await.unwrap();
    let applicant = env
        .store
        .applicant(&link["9"].applicant_number)
        .await
        .unwrap()
        .unwrap();
    let texts: Vec<&str> = applicant
        .load_messages
        .iter()
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(texts, vec!["Application is from an EXISTING Employee"]);
}

#[tokio::test]
async fn a_repeated_move_with_a_new_id_is_unchanged_and_writes_no_history() {
    let (_dir, env) = env().await;
    env.send(&action("a", "offer", "504", LEAD_504).to_string())
        .await;
    let before = env.store.history(LEAD_504).await.unwrap();
    let result = env
        .send(&action("b", "offer", "504", LEAD_504).to_string())
        .await;
    assert_eq!(result.answer.status, AnswerStatus::Unchanged);
    assert_eq!(
        result.answer.reason.as_deref(),
        Some("Applicant 5000001 is already offered; nothing changed")
    );
    assert_eq!(env.store.history(LEAD_504).await.unwrap(), before);
    assert_eq!(
        answer(&env, "504", "b").await.status,
        AnswerStatus::Unchanged
    );
}

#[tokio::test]
async fn a_refused_move_is_recorded_with_the_state_machine_text() {
    let (_dir, env) = env().await;
    let result = env
        .send(&action("acc", "accept", "504", LEAD_504).to_string())
        .await;
    assert_eq!(result.answer.status, AnswerStatus::Refused);
    assert_eq!(result.code, "not_allowed");
    let reason = "Applicant 5000001 is loaded; accept is allowed only from offered";
    assert_eq!(result.answer.reason.as_deref(), Some(reason));
    let history = env.store.history(LEAD_504).await.unwrap();
    let last = history.last().unwrap();
    assert_eq!(
        last.outcome,
        HistoryOutcome::Refused {
            reason: reason.into()
        }
    );
    assert_eq!(
        last.cause,
        Cause::Message {
            id: "acc".into(),
            sender: Some("trust:504".into())
        }
    );
    assert_eq!(state(&env, LEAD_504).await, ApplicantState::Loaded);
}

#[tokio::test]
async fn a_hire_without_person_type_is_refused_and_recorded_on_the_applicant() {
    let (_dir, env) = env().await;
    walk_to_accepted(&env, "504", LEAD_504).await;
    let result = env
        .send(&action("h", "hire", "504", LEAD_504).to_string())
        .await;
    assert_eq!(result.answer.status, AnswerStatus::Refused);
    assert_eq!(result.code, "invalid");
    assert!(result
        .answer
        .reason
        .as_deref()
        .unwrap()
        .contains("person_type is missing"));
    let last = env.store.history(LEAD_504).await.unwrap().pop().unwrap();
    assert_eq!(last.command, "hire");
    assert!(matches!(last.outcome, HistoryOutcome::Refused { .. }));
    assert_eq!(state(&env, LEAD_504).await, ApplicantState::Accepted);
}

#[tokio::test]
async fn a_host_employer_position_needs_an_honorary_hire() {
    let (_dir, env) = env().await;
    walk_to_accepted(&env, "506", HOST_506_FULL).await;
    let mut hire = action("e", "hire", "506", HOST_506_FULL);
    hire["person_type"] = json!("Employee");
    let result = env.send(&hire.to_string()).await;
    assert_eq!(result.answer.status, AnswerStatus::Refused);
    assert!(result
        .answer
        .reason
        .as_deref()
        .unwrap()
        .contains("must be Honorary"));
    hire["id"] = json!("h");
    hire["person_type"] = json!("Honorary");
    let result = env.send(&hire.to_string()).await;
    assert_eq!(result.answer.status, AnswerStatus::Accepted);
    assert_eq!(state(&env, HOST_506_FULL).await, ApplicantState::Hired);
    let entry = env
        .store
        .history(HOST_506_FULL)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(entry.detail.as_deref(), Some("person type Honorary"));
}

#[tokio::test]
async fn a_trust_may_act_only_on_its_own_applicants() {
    let (_dir, env) = env().await;
    let before = env.store.history(LEAD_504).await.unwrap();
    let result = env
        .send(&action("x", "withdraw", "505", LEAD_504).to_string())
        .await;
    assert_eq!(result.answer.status, AnswerStatus::Refused);
    assert_eq!(result.code, "other_trust");
    assert_eq!(
        result.answer.reason.as_deref(),
        Some("Applicant 5000001 not found for trust 505.")
    );
    // The sender learns nothing about the other trust's applicant, and nothing is written on it.
    let written = answer(&env, "505", "x").await;
    assert_eq!(written.state, None);
    assert_eq!(state(&env, LEAD_504).await, ApplicantState::Loaded);
    assert_eq!(env.store.history(LEAD_504).await.unwrap(), before);
    // Nothing was written under the owning trust; the operator log has it.
    assert!(env
        .blobs
        .get(Area::Outbound, &answer_key("504", "x"))
        .await
        .unwrap()
        .is_none());
    assert!(env
        .blobs
        .get(Area::Outbound, "operator/messages/trust-505/x.json")
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn messages_with_no_applicant_to_record_on_leave_an_operator_entry() {
    let (_dir, env) = env().await;
    let result = env
        .send(&action("u1", "offer", "504", "5999999").to_string())
        .await;
    assert_eq!(result.answer.status, AnswerStatus::Refused);
    assert_eq!(result.code, "unknown_applicant");
    assert_eq!(
        result.outputs,
        vec![
            "outbound/operator/messages/trust-504/u1.json",
            "outbound/trusts/504/messages/u1.json"
        ]
    );
    let operator: serde_json::Value = serde_json::from_slice(
        &env.blobs
            .get(Area::Outbound, "operator/messages/trust-504/u1.json")
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(operator["code"], "unknown_applicant");
    assert_eq!(operator["applicant_number"], "5999999");

    // A VPD that is not configured has no trust area: operators only.
    let result = env
        .send(&action("u2", "offer", "777", "5999999").to_string())
        .await;
    assert_eq!(
        result.outputs,
        vec!["outbound/operator/messages/operator/u2.json"]
    );

    // Missing routing fields: refused, naming them.
    let result = env.send(r#"{"id":"u3","action":"offer"}"#).await;
    assert_eq!(
        result.answer.reason.as_deref(),
        Some("vpd is missing; applicant_number is missing")
    );
    assert_eq!(result.code, "invalid");

    // Not JSON, and no id: keyed by the hash of the body; the body is never written.
    let result = env.send("Jane Smith 1990-01-31").await;
    assert_eq!(result.code, "not_json");
    assert_eq!(result.answer.id, None);
    let key = result.outputs[0].trim_start_matches("outbound/");
    assert!(
        key.starts_with("operator/messages/operator/sha256-"),
        "{key}"
    );
    let text =
        String::from_utf8(env.blobs.get(Area::Outbound, key).await.unwrap().unwrap()).unwrap();
    assert!(!text.contains("Jane") && !text.contains("1990"), "{text}");
}

#[tokio::test]
async fn an_id_outside_the_rule_is_refused_and_never_hashed_into_a_key() {
    let (_dir, env) = env().await;
    let result = env
        .send(&action("../../etc/passwd", "offer", "504", LEAD_504).to_string())
        .await;
    assert_eq!(result.answer.status, AnswerStatus::Refused);
    assert_eq!(result.code, "invalid_id");
    assert_eq!(result.outputs.len(), 1);
    assert!(
        result.outputs[0].starts_with("outbound/operator/messages/operator/sha256-"),
        "{:?}",
        result.outputs
    );
    assert_eq!(state(&env, LEAD_504).await, ApplicantState::Loaded);
    // Colons are allowed and used as given.
    let result = env
        .send(&action("urn:trust:504:1", "offer", "504", LEAD_504).to_string())
        .await;
    assert_eq!(result.answer.status, AnswerStatus::Accepted);
    assert_eq!(
        result.outputs,
        vec!["outbound/trusts/504/messages/urn:trust:504:1.json"]
    );
}

#[tokio::test]
async fn person_updates_go_to_tis_only_for_full_records_lead_employers() {
    let (_dir, env) = env().await;
    let cases = [
        ("504", LEAD_504, "Employee", PersonUpdateStatus::PendingRmc),
        (
            "505",
            HOST_505_PART,
            "Honorary",
            PersonUpdateStatus::NotSentPartRecords,
        ),
        (
            "506",
            HOST_506_FULL,
            "Honorary",
            PersonUpdateStatus::NotSentHostEmployer,
        ),
    ];
    for (vpd, number, person_type, expected) in cases {
        // Not yet hired: refused.
        let mut update = action(&format!("{vpd}-early"), "person_update", vpd, number);
        update["person"] = json!({"MOBILE_TEL": "07700900001"});
        let result = env.send(&update.to_string()).await;
        assert_eq!(result.answer.status, AnswerStatus::Refused, "{vpd}");
        assert_eq!(result.code, "not_hired");

        walk_to_accepted(&env, vpd, number).await;
        let mut hire = action(&format!("{vpd}-hire"), "hire", vpd, number);
        hire["person_type"] = json!(person_type);
        assert_eq!(
            env.send(&hire.to_string()).await.answer.status,
            AnswerStatus::Accepted
        );
        update["id"] = json!(format!("{vpd}-pu"));
        update["effective_date"] = json!("2027-03-01");
        let result = env.send(&update.to_string()).await;
        assert_eq!(result.answer.status, AnswerStatus::Accepted, "{vpd}");
        let updates = env.store.person_updates(vpd).await.unwrap();
        assert_eq!(updates.len(), 1, "{vpd}");
        assert_eq!(updates[0].status, expected, "{vpd}");
        assert_eq!(updates[0].applicant_number, number);
        assert_eq!(updates[0].person["MOBILE_TEL"], "07700900001");
        let last = env.store.history(number).await.unwrap().pop().unwrap();
        assert_eq!(last.command, "person_update");
        assert_eq!(last.from, Some(ApplicantState::Hired));
        assert_eq!(last.to, ApplicantState::Hired);
        assert_eq!(last.detail, result.answer.reason);
    }
}

fn trac(id: &str, number: &str, status: &str) -> String {
    json!({
        "id": id, "source": "trac", "vpd": "504", "applicant_number": number, "status": status,
        "identity": {"first_name": "Test"},
        "checks": {
            "dbs": {"status": "clear", "reference": "001", "level": "enhanced", "dob": "1990-01-31"},
            "references": [{"referee_name": "Dr R", "status": "satisfactory", "completed_on": "2026-10-20"}],
            "illegal_working_checklist": {"outcome": "confirmed", "Passport Number": "x"}
        }
    })
    .to_string()
}

#[tokio::test]
async fn trac_checks_are_kept_once_by_allow_list() {
    let (_dir, env) = env().await;
    // Loaded, not yet offered: too early for employment checks.
    let result = env
        .send(&trac("t-early", LEAD_504, "outcome recruited"))
        .await;
    assert_eq!(result.answer.status, AnswerStatus::Refused);
    assert_eq!(result.code, "not_offered");
    env.send(&action("o", "offer", "504", LEAD_504).to_string())
        .await;
    let result = env.send(&trac("t0", LEAD_504, "offer accepted")).await;
    assert_eq!(result.answer.status, AnswerStatus::Refused);
    assert_eq!(
        result.answer.reason.as_deref(),
        Some("status offer accepted: employment checks are copied only at 'outcome recruited'")
    );

    let result = env.send(&trac("t1", LEAD_504, "outcome recruited")).await;
    assert_eq!(result.answer.status, AnswerStatus::Accepted);
    let dropped = vec![
        "checks.dbs.dob",
        "checks.dbs.level",
        "checks.illegal_working_checklist.Passport Number",
        "checks.references[0].referee_name",
        "identity",
    ];
    assert_eq!(result.answer.dropped_fields, dropped);
    assert_eq!(
        result.answer.reason.as_deref(),
        Some("only the allow-listed check fields are kept; dropped: checks.dbs.dob, checks.dbs.level, checks.illegal_working_checklist.Passport Number, checks.references[0].referee_name, identity")
    );
    let applicant = env.store.applicant(LEAD_504).await.unwrap().unwrap();
    let held = applicant.employment_checks.unwrap();
    assert_eq!(held.message_id, "t1");
    assert_eq!(held.dropped_fields, dropped);
    assert_eq!(
        held.checks,
        json!({
            "dbs": {"status": "clear", "reference": "001"},
            "references": [{"status": "satisfactory", "completed_on": "2026-10-20"}],
            "illegal_working_checklist": {"outcome": "confirmed"}
        })
    );
    assert_eq!(applicant.state, ApplicantState::Offered);
    let stored = serde_json::to_string(&env.store.history(LEAD_504).await.unwrap()).unwrap();
    assert!(!stored.contains("1990-01-31") && !stored.contains("Dr R"));

    let result = env.send(&trac("t2", LEAD_504, "outcome recruited")).await;
    assert_eq!(result.answer.status, AnswerStatus::Refused);
    assert_eq!(result.code, "already_transferred");
    assert!(result
        .answer
        .reason
        .as_deref()
        .unwrap()
        .ends_with("already transferred (message t1 on 2026-11-21)"));
    assert_eq!(
        env.store
            .applicant(LEAD_504)
            .await
            .unwrap()
            .unwrap()
            .employment_checks
            .unwrap()
            .message_id,
        "t1"
    );
}

#[tokio::test]
async fn a_redelivered_message_changes_nothing_and_keeps_its_answer() {
    let (_dir, env) = env().await;
    let mut withdraw = action("w", "withdraw", "504", SECOND_504);
    withdraw["reason"] = json!("declined");
    let body = withdraw.to_string();
    let first = env.send(&body).await;
    assert_eq!(first.answer.status, AnswerStatus::Accepted);
    let history = env.store.history(SECOND_504).await.unwrap();
    let files = outbound(env.blobs.as_ref()).await;
    let again = env.send(&body).await;
    assert_eq!(again.answer.status, AnswerStatus::Duplicate);
    assert_eq!(again.original_status, Some(AnswerStatus::Accepted));
    assert!(again.outputs.is_empty());
    assert_eq!(env.store.history(SECOND_504).await.unwrap(), history);
    assert_eq!(outbound(env.blobs.as_ref()).await, files);
}

#[tokio::test]
async fn an_interrupted_message_is_finished_on_redelivery_with_the_same_answer() {
    let (_dir, env) = env().await;
    walk_to_accepted(&env, "504", LEAD_504).await;
    let mut hire = action("h", "hire", "504", LEAD_504);
    hire["person_type"] = json!("Employee");
    let mut update = action("pu", "person_update", "504", LEAD_504);
    update["person"] = json!({"TOWN": "Exampleton"});
    // Trac before the hire: checks are taken only for an offered or accepted applicant.
    for body in [
        trac("t", LEAD_504, "outcome recruited"),
        hire.to_string(),
        update.to_string(),
    ] {
        env.send(&body).await;
    }
    let files = outbound(env.blobs.as_ref()).await;
    let history = env.store.history(LEAD_504).await.unwrap();
    // As if each run stopped after the applicant change, before its answer was written.
    for id in ["h", "pu", "t"] {
        env.blobs
            .delete(Area::Outbound, &answer_key("504", id))
            .await
            .unwrap();
    }
    for body in [
        trac("t", LEAD_504, "outcome recruited"),
        hire.to_string(),
        update.to_string(),
    ] {
        let result = env.send(&body).await;
        assert_eq!(result.answer.status, AnswerStatus::Duplicate);
        assert_eq!(result.original_status, Some(AnswerStatus::Accepted));
    }
    assert_eq!(outbound(env.blobs.as_ref()).await, files);
    assert_eq!(env.store.history(LEAD_504).await.unwrap(), history);
    assert_eq!(env.store.person_updates("504").await.unwrap().len(), 1);
}

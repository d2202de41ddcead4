//! The handler fed with the SQS event samples in `events/sqs/`, on the embedded adapters (SQLite,
//! folders), after the sample files have loaded applicants 5000001-5000006.

use aws_lambda_events::event::sqs::SqsEvent;
use chrono::Utc;
use dit_core::ports::Area;
use dit_core::service::context::Ports;
use dit_domain::lifecycle::ApplicantState;
use dit_domain::model::{Cause, HistoryOutcome, PersonUpdateStatus};
use dit_test_support::samples::{
    batch_failures as failures, embedded_ports, ports_with, process_samples_into, sqs_event,
    unreachable_dynamo,
};
use lambda_runtime::LambdaEvent;
use trust_messages::handle;

fn event(name: &str) -> LambdaEvent<SqsEvent> {
    sqs_event("sqs", name)
}

/// The sample POS files of trusts 504 and 505 and KSS APP 42, as `dit process events/files/` takes them.
async fn deps() -> (tempfile::TempDir, Ports) {
    let dir = tempfile::tempdir().unwrap();
    let ports = embedded_ports(dir.path());
    process_samples_into(
        &ports,
        Utc::now(),
        Some(&[
            "ESR_504_POS_20261121_00000001.DAT",
            "ESR_505_POS_20261121_00000001.DAT",
            "DE_KSS_APP_20261121_00000042.DAT",
        ]),
    )
    .await;
    (dir, ports)
}

async fn answer(deps: &Ports, vpd: &str, id: &str) -> serde_json::Value {
    read_json(deps, &format!("trusts/{vpd}/messages/{id}.json")).await
}

async fn read_json(deps: &Ports, key: &str) -> serde_json::Value {
    let bytes = deps
        .blobs
        .get(Area::Outbound, key)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no {key}"));
    serde_json::from_slice(&bytes).unwrap()
}

async fn outbound_messages(deps: &Ports) -> Vec<(String, Vec<u8>)> {
    let mut found = vec![];
    for prefix in ["trusts/", "trac/", "operator/messages/"] {
        for key in deps.blobs.list(Area::Outbound, prefix).await.unwrap() {
            if key.contains("/messages/") {
                let bytes = deps.blobs.get(Area::Outbound, &key).await.unwrap();
                found.push((key, bytes.unwrap_or_default()));
            }
        }
    }
    found
}

#[tokio::test]
async fn when_an_applicant_is_offered_accepted_checked_and_hired_should_answer_every_message() {
    let (_dir, deps) = deps().await;
    let response = handle(&deps, event("lifecycle-5000001.json"))
        .await
        .unwrap();
    assert!(failures(&response).is_empty());
    let applicant = deps.store.applicant("5000001").await.unwrap().unwrap();
    assert_eq!(applicant.state, ApplicantState::Hired);
    let checks = applicant.employment_checks.expect("Trac checks kept");
    assert_eq!(checks.message_id, "trac-0001");
    assert!(checks
        .dropped_fields
        .contains(&"checks.dbs.date_of_birth".to_string()));
    assert!(!checks.checks.to_string().contains("1994-03-14"));
    assert_eq!(checks.checks["dbs"]["reference"], "001234567890");
    let expected = [
        ("504-0001", "accepted"),
        ("504-0002", "unchanged"),
        ("504-0003", "accepted"),
        ("504-0004", "refused"),
        ("504-0005", "accepted"),
        ("504-0006", "accepted"),
        ("504-0007", "refused"),
    ];
    for (id, status) in expected {
        assert_eq!(answer(&deps, "504", id).await["status"], status, "{id}");
    }
    // Trac's answers are in Trac's space, not the trust's.
    let trac = read_json(&deps, "trac/messages/trac-0001.json").await;
    assert_eq!(trac["status"], "accepted");
    assert_eq!(
        read_json(&deps, "trac/messages/trac-0002.json").await["status"],
        "refused"
    );
    assert!(trac["reason"].as_str().unwrap().starts_with(
        "only the allow-listed check fields are kept; dropped: checks.dbs.date_of_birth, "
    ));
    let updates = deps.store.person_updates("504").await.unwrap();
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].status, PersonUpdateStatus::PendingRmc);
    // received, loaded, then one entry per message except the unchanged repeat.
    let history = deps.store.history("5000001").await.unwrap();
    assert_eq!(history.len(), 2 + 8);
    let seqs: Vec<u32> = history.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=10).collect::<Vec<u32>>());
}

#[tokio::test]
async fn when_the_same_message_is_delivered_twice_should_change_nothing_the_second_time() {
    let (_dir, deps) = deps().await;
    let response = handle(&deps, event("offer-delivered-twice.json"))
        .await
        .unwrap();
    assert!(failures(&response).is_empty());
    let history = deps.store.history("5000001").await.unwrap();
    let offers = history
        .iter()
        .filter(|e| {
            e.cause
                == Cause::Message {
                    id: "504-0001".into(),
                    sender: Some("trust:504".into()),
                }
        })
        .count();
    assert_eq!(offers, 1);
    let applicant = deps.store.applicant("5000001").await.unwrap();
    let outputs = outbound_messages(&deps).await;
    assert_eq!(outputs.len(), 1);

    let response = handle(&deps, event("offer-delivered-twice.json"))
        .await
        .unwrap();
    assert!(failures(&response).is_empty());
    assert_eq!(deps.store.history("5000001").await.unwrap(), history);
    assert_eq!(deps.store.applicant("5000001").await.unwrap(), applicant);
    assert_eq!(outbound_messages(&deps).await, outputs);
}

#[tokio::test]
async fn when_a_host_employer_applicant_is_hired_should_require_honorary() {
    let (_dir, deps) = deps().await;
    let response = handle(&deps, event("host-employer-5000004.json"))
        .await
        .unwrap();
    assert!(failures(&response).is_empty());
    assert_eq!(
        deps.store
            .applicant("5000004")
            .await
            .unwrap()
            .unwrap()
            .state,
        ApplicantState::Hired
    );
    let refused = answer(&deps, "505", "505-0004").await;
    assert_eq!(refused["status"], "refused");
    assert!(refused["reason"]
        .as_str()
        .unwrap()
        .contains("must be Honorary"));
    let updates = deps.store.person_updates("505").await.unwrap();
    assert_eq!(updates[0].status, PersonUpdateStatus::NotSentPartRecords);
}

#[tokio::test]
async fn when_messages_are_refused_should_answer_and_log_without_retry() {
    let (_dir, deps) = deps().await;
    let response = handle(&deps, event("refusals.json")).await.unwrap();
    assert!(failures(&response).is_empty());
    // Trust 505 naming 504's applicant learns nothing: the answer is that of an unknown one, and
    // nothing is written on the applicant.
    let wrong = answer(&deps, "505", "505-0001").await;
    assert_eq!(wrong["status"], "refused");
    assert_eq!(
        wrong["reason"],
        "Applicant 5000001 not found for trust 505."
    );
    assert_eq!(wrong["state"], serde_json::Value::Null);
    let history = deps.store.history("5000001").await.unwrap();
    assert_eq!(history.len(), 2, "received and loaded only: {history:?}");
    assert!(history
        .iter()
        .all(|e| !matches!(e.outcome, HistoryOutcome::Refused { .. })));
    let unknown = answer(&deps, "504", "504-0008").await;
    assert_eq!(
        unknown["reason"],
        "Applicant 5999999 not found for trust 504."
    );
    assert_eq!(
        read_json(&deps, "trac/messages/trac-0003.json").await["status"],
        "refused"
    );
    let operator = deps
        .blobs
        .list(Area::Outbound, "operator/messages/")
        .await
        .unwrap();
    // The two not-found refusals, under their senders, and the two bodies without a usable id.
    assert_eq!(operator.len(), 4, "{operator:?}");
    let other_trust = read_json(&deps, "operator/messages/trust-505/505-0001.json").await;
    assert_eq!(other_trust["code"], "other_trust");
    assert_eq!(other_trust["sender"], "trust-505");
    assert!(operator.contains(&"operator/messages/trust-504/504-0008.json".to_string()));
    assert_eq!(
        operator
            .iter()
            .filter(|k| k.starts_with("operator/messages/trust-504/sha256-"))
            .count(),
        2
    );
}

#[tokio::test]
async fn when_a_sender_oversteps_the_trust_boundary_should_refuse_and_touch_nothing() {
    let (_dir, deps) = deps().await;
    let before_5000001 = deps.store.history("5000001").await.unwrap();
    let before_5000005 = deps.store.history("5000005").await.unwrap();
    let response = handle(&deps, event("boundary.json")).await.unwrap();
    assert!(failures(&response).is_empty());

    // 505's role in 504's name: refused in 505's own space, logged for operators.
    let answer_505 = answer(&deps, "505", "505-0007").await;
    assert_eq!(answer_505["status"], "refused");
    assert_eq!(answer_505["reason"], "sender is not trust 504");
    assert_eq!(
        read_json(&deps, "operator/messages/trust-505/505-0007.json").await["code"],
        "wrong_sender"
    );
    // A sender no [[sender]] entry names: an operator entry only, no answer anywhere.
    let unknown = read_json(
        &deps,
        "operator/messages/unknown-AIDAEXAMPLENOTCONFIGURED/504-0001.json",
    )
    .await;
    assert_eq!(unknown["code"], "unknown_sender");
    // A trust cannot send Trac checks, and Trac cannot move applicants or act for a trust
    // without `trac = true`.
    assert_eq!(
        answer(&deps, "504", "504-trac-0001").await["reason"],
        "sender is not trac"
    );
    assert_eq!(
        read_json(&deps, "trac/messages/504-0001.json").await["reason"],
        "sender is not trust 504"
    );
    assert_eq!(
        read_json(&deps, "trac/messages/trac-0004.json").await["reason"],
        "Organisation 505 does not take employment checks from Trac; refused"
    );
    // An id outside the rule of section 7: refused, logged by the body's hash, never answered.
    let invalid: Vec<String> = deps
        .blobs
        .list(Area::Outbound, "operator/messages/trust-504/sha256-")
        .await
        .unwrap();
    assert_eq!(invalid.len(), 1, "{invalid:?}");
    assert!(!deps
        .blobs
        .list(Area::Outbound, "trusts/504/messages/")
        .await
        .unwrap()
        .iter()
        .any(|k| k.contains("0001") && !k.ends_with("504-trac-0001.json")));
    assert_eq!(read_json(&deps, &invalid[0]).await["code"], "invalid_id");

    for number in ["5000001", "5000004", "5000005"] {
        let applicant = deps.store.applicant(number).await.unwrap().unwrap();
        assert_eq!(applicant.state, ApplicantState::Loaded, "{number}");
        assert!(applicant.employment_checks.is_none());
    }
    assert_eq!(deps.store.history("5000001").await.unwrap(), before_5000001);
    assert_eq!(deps.store.history("5000005").await.unwrap(), before_5000005);

    // Ids are per sender: the id others used is still 504's to use.
    let response = handle(&deps, event("offer.json")).await.unwrap();
    assert!(failures(&response).is_empty());
    assert_eq!(answer(&deps, "504", "504-0001").await["status"], "accepted");
    assert_eq!(
        deps.store
            .applicant("5000001")
            .await
            .unwrap()
            .unwrap()
            .state,
        ApplicantState::Offered
    );
}

#[tokio::test]
async fn when_the_store_is_unavailable_should_report_only_the_messages_that_need_it() {
    let dir = tempfile::tempdir().unwrap();
    let deps = ports_with(unreachable_dynamo(), dir.path());
    let response = handle(&deps, event("refusals.json")).await.unwrap();
    // The wrong-trust, unknown-applicant and Trac messages need the store; the body that is not
    // JSON and the message without id are answered from the message alone.
    assert_eq!(
        failures(&response),
        vec![
            "00000000-0000-4000-9000-000000000021",
            "00000000-0000-4000-9000-000000000022",
            "00000000-0000-4000-9000-000000000023",
        ]
    );
    assert!(deps
        .blobs
        .list(Area::Outbound, "trusts/")
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        deps.blobs
            .list(Area::Outbound, "operator/messages/")
            .await
            .unwrap()
            .len(),
        2
    );
}

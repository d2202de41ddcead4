//! The handler fed with the SQS event samples in `events/sqs/`, on the embedded adapters (SQLite,
//! folders), after the sample files have loaded applicants 5000001-5000006.

use aws_lambda_events::event::sqs::SqsEvent;
use chrono::Utc;
use dit_core::domain::lifecycle::ApplicantState;
use dit_core::domain::model::{Cause, HistoryOutcome, PersonUpdateStatus};
use dit_core::ports::Area;
use dit_core::service::Ports;
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
    let key = format!("trusts/{vpd}/messages/{id}.json");
    let bytes = deps
        .blobs
        .get(Area::Outbound, &key)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no {key}"));
    serde_json::from_slice(&bytes).unwrap()
}

async fn outbound_messages(deps: &Ports) -> Vec<(String, Vec<u8>)> {
    let mut found = vec![];
    for prefix in ["trusts/", "operator/messages/"] {
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
        ("trac-0001", "accepted"),
        ("trac-0002", "refused"),
        ("504-0004", "refused"),
        ("504-0005", "accepted"),
        ("504-0006", "accepted"),
        ("504-0007", "refused"),
    ];
    for (id, status) in expected {
        assert_eq!(answer(&deps, "504", id).await["status"], status, "{id}");
    }
    let trac = answer(&deps, "504", "trac-0001").await;
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
    let wrong = answer(&deps, "505", "505-0001").await;
    assert_eq!(wrong["status"], "refused");
    assert_eq!(wrong["state"], serde_json::Value::Null);
    let last = deps.store.history("5000001").await.unwrap().pop().unwrap();
    assert_eq!(
        last.outcome,
        HistoryOutcome::Refused {
            reason: "Applicant 5000001 belongs to another trust; refused".into()
        }
    );
    assert_eq!(answer(&deps, "504", "504-0008").await["status"], "refused");
    assert_eq!(answer(&deps, "504", "trac-0003").await["status"], "refused");
    let operator = deps
        .blobs
        .list(Area::Outbound, "operator/messages/")
        .await
        .unwrap();
    assert_eq!(operator.len(), 3, "{operator:?}");
    assert!(operator.contains(&"operator/messages/504-0008.json".to_string()));
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

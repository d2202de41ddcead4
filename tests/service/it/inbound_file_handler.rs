//! The handler fed with the event samples in `events/`, on the embedded adapters (SQLite, folders).

use std::path::Path;

use aws_lambda_events::event::sqs::SqsEvent;
use dit_core::ports::{Area, StateStore};
use dit_domain::boundary::drop_folder;
use dit_embedded::sqlite::SqliteStore;
use dit_test_support::samples::{
    batch_failures as failures, files_under, ports_with, sample_files, sqs_event,
    unreachable_dynamo,
};
use inbound_file::{handle, Deps};
use lambda_runtime::LambdaEvent;

fn event(name: &str) -> LambdaEvent<SqsEvent> {
    sqs_event("s3-via-sqs", name)
}

/// A data dir whose inbound folder holds the sample files, each in its sender's folder (as if
/// dropped under `incoming/tis/` or `incoming/trusts/<VPD>/`), and a few in the wrong one.
fn deps_with(store: Box<dyn StateStore>) -> (tempfile::TempDir, Deps) {
    let dir = tempfile::tempdir().unwrap();
    let inbound = dir.path().join("inbound");
    for path in sample_files() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for folder in [drop_folder(&name)].into_iter().chain(
            MISPLACED
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, f)| f.to_string()),
        ) {
            std::fs::create_dir_all(inbound.join(&folder)).unwrap();
            std::fs::copy(&path, inbound.join(&folder).join(&name)).unwrap();
        }
    }
    let deps = Deps {
        ports: ports_with(store, dir.path()),
        inbound_bucket: "dit-inbound".into(),
        inbound_prefix: "incoming/".into(),
        metrics: Box::new(dit_core::ports::NoMetrics),
    };
    (dir, deps)
}

/// The drops of `foreign-prefix-drops.json`: files in a folder their sender may not write.
const MISPLACED: [(&str, &str); 4] = [
    ("ESR_505_POS_20261121_00000001.DAT", "trusts/504/"),
    ("DE_KSS_APP_20261121_00000043.DAT", "trusts/504/"),
    ("ESR_504_POS_20261121_00000001.DAT", "tis/"),
    ("DE_KSS_APP_20261121_00000045.DAT", ""),
];

fn deps() -> (tempfile::TempDir, Deps) {
    deps_with(Box::new(SqliteStore::in_memory().unwrap()))
}

fn outbound_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    files_under(dir, "outbound")
}

#[tokio::test]
async fn when_the_test_event_arrives_should_skip_without_failure() {
    let (dir, deps) = deps();
    let response = handle(&deps, event("test-event.json")).await.unwrap();
    assert!(failures(&response).is_empty());
    assert!(outbound_files(dir.path()).is_empty());
}

#[tokio::test]
async fn when_a_body_is_not_a_notification_should_drop_it_without_retry() {
    let (_dir, deps) = deps();
    let response = handle(&deps, event("not-a-notification.json"))
        .await
        .unwrap();
    assert!(failures(&response).is_empty());
}

#[tokio::test]
async fn when_pos_then_app_arrive_should_write_apc_and_trust_notification() {
    let (dir, deps) = deps();
    handle(&deps, event("pos-file-created.json")).await.unwrap();
    let response = handle(&deps, event("app-file-created.json")).await.unwrap();
    assert!(failures(&response).is_empty());
    let apc = std::fs::read_to_string(
        dir.path()
            .join("outbound/tis/KSS/DE_KSS_APC_20261121_00000042.DAT"),
    )
    .unwrap();
    assert!(apc.starts_with("HDR,APC,KSS,20261121,00000042,"));
    assert!(apc.contains("APC,7000001,KSS/RJZ01/030/STR/001,SUCCESS,INFO,Application is from a NEW Applicant,5000001,30000001,10508064,10508064,1"));
    assert!(apc.contains("FAIL,ERROR,Mandatory item LAST_NAME not supplied. Application rejected."));
    let notification: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("outbound/trusts/504/notifications/DE_KSS_APP_20261121_00000042.deanery-applicant-notification.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(notification["title"], "Deanery Applicant Notification");
    assert_eq!(notification["trust_id"], "504");
    assert!(!notification["created"].as_array().unwrap().is_empty());
    assert!(dir
        .path()
        .join("outbound/trusts/504/reports/ESR_504_POS_20261121_00000001.dpn-readiness.json")
        .is_file());
}

#[tokio::test]
async fn when_the_same_notification_arrives_twice_should_create_no_duplicates_and_same_outputs() {
    let (dir, deps) = deps();
    handle(&deps, event("pos-file-created.json")).await.unwrap();
    handle(&deps, event("app-file-created.json")).await.unwrap();
    let first = outbound_files(dir.path());
    let applicants_before = deps.ports.store.allocate_numbers(1).await.unwrap();
    let response = handle(&deps, event("app-file-delivered-twice.json"))
        .await
        .unwrap();
    assert!(failures(&response).is_empty());
    assert_eq!(
        outbound_files(dir.path()),
        first,
        "redelivery must reproduce the same outputs"
    );
    // No applicant numbers were consumed by the redeliveries: nothing was created.
    assert_eq!(
        deps.ports.store.allocate_numbers(1).await.unwrap(),
        applicants_before + 1
    );
    let history = deps.ports.store.history("5000001").await.unwrap();
    assert_eq!(history.len(), 2);
}

#[tokio::test]
async fn when_a_key_is_url_encoded_as_moto_sends_it_should_be_decoded() {
    let (dir, deps) = deps();
    handle(&deps, event("pos-file-created.json")).await.unwrap();
    let response = handle(&deps, event("app-file-created-moto-style.json"))
        .await
        .unwrap();
    assert!(failures(&response).is_empty());
    assert!(dir
        .path()
        .join("outbound/tis/KSS/DE_KSS_APC_20261121_00000043.DAT")
        .is_file());
}

#[tokio::test]
async fn when_a_file_is_quarantined_should_move_it_with_its_reason_and_not_retry() {
    let (dir, deps) = deps();
    let response = handle(&deps, event("quarantined-file-created.json"))
        .await
        .unwrap();
    assert!(failures(&response).is_empty());
    let name = "DE_KSS_APP_20261121_00000054.DAT";
    assert!(!dir.path().join("inbound/tis").join(name).exists());
    // Kept under its origin folder: tis/.
    assert!(dir.path().join("quarantine/tis").join(name).is_file());
    let reason: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            dir.path()
                .join("quarantine/tis")
                .join(format!("{name}.reason.json")),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(reason["file"], name);
    assert_eq!(reason["code"], "trl_count");
    assert_eq!(reason["line"], 3);
    assert!(reason["reason"]
        .as_str()
        .unwrap()
        .contains("TRL says 3 data lines but the file has 1"));
}

#[tokio::test]
async fn when_a_file_is_dropped_in_a_folder_its_sender_may_not_write_should_quarantine_it() {
    let (dir, deps) = deps();
    let response = handle(&deps, event("foreign-prefix-drops.json"))
        .await
        .unwrap();
    assert!(failures(&response).is_empty());
    for (name, folder) in MISPLACED {
        let reason: serde_json::Value = serde_json::from_slice(
            &std::fs::read(
                dir.path()
                    .join(format!("quarantine/{folder}{name}.reason.json")),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(reason["code"], "wrong_sender", "{name}");
        assert_eq!(
            reason["reason"],
            format!("{name} is not accepted from incoming/{folder}")
        );
        assert!(dir
            .path()
            .join("quarantine")
            .join(folder)
            .join(name)
            .is_file());
        assert!(!dir.path().join("inbound").join(folder).join(name).exists());
        // The same file in its sender's own folder is untouched.
        assert!(dir
            .path()
            .join("inbound")
            .join(drop_folder(name))
            .join(name)
            .is_file());
    }
    // Nothing was applied: no position of 505 taken in by 504's folder, no APC.
    assert!(deps
        .ports
        .store
        .trust_positions("505")
        .await
        .unwrap()
        .is_empty());
    assert!(!dir.path().join("outbound/tis").exists());
}

#[tokio::test]
async fn when_a_notification_names_another_bucket_should_skip_it() {
    let (dir, mut deps) = deps();
    deps.inbound_bucket = "some-other-bucket".into();
    let response = handle(&deps, event("app-file-created.json")).await.unwrap();
    assert!(failures(&response).is_empty());
    assert!(outbound_files(dir.path()).is_empty());
    assert!(deps
        .ports
        .blobs
        .get(Area::Inbound, "tis/DE_KSS_APP_20261121_00000042.DAT")
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn when_the_store_is_unavailable_should_report_only_that_message_for_retry_and_keep_the_file()
{
    let (dir, deps) = deps_with(unreachable_dynamo());
    let response = handle(&deps, event("app-file-delivered-twice.json"))
        .await
        .unwrap();
    assert_eq!(
        failures(&response),
        vec![
            "00000000-0000-4000-8000-000000000001",
            "00000000-0000-4000-8000-000000000002"
        ]
    );
    assert!(dir
        .path()
        .join("inbound/tis/DE_KSS_APP_20261121_00000042.DAT")
        .is_file());
    assert!(!dir
        .path()
        .join("quarantine/DE_KSS_APP_20261121_00000042.DAT")
        .exists());
    let response = handle(&deps, event("test-event.json")).await.unwrap();
    assert!(failures(&response).is_empty());
}

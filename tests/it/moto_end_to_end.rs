//! Files dropped into S3 on moto, notified through SQS, handled by the inbound-file handler on
//! DynamoDB and S3: the outputs must equal those of the embedded run (`dit`) byte for byte, and an
//! APP file must cost at most 3 DynamoDB write units per loaded record.

use std::collections::BTreeMap;

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_s3::primitives::ByteStream;
use chrono::Utc;
use dit_core::ports::{Area, BlobStore};
use dit_core::service::context::{Context, Settings};
use dit_core::service::inbound::process_inbound;
use dit_core::service::NoProgress;
use dit_domain::boundary::{drop_folder, FileOrigin};
use dit_embedded::folders::FolderBlobs;
use dit_embedded::sqlite::SqliteStore;
use dit_test_support::samples::{self, repo, sample_organisations as organisations};
use dit_test_support::RequestCounter;
use dit_tests::inbound_on_moto::{
    aws, deliver_until, deps, generated_files, generated_placement, INBOUND, OUTBOUND,
};
use inbound_file::handle;

/// The sample files in business order, as `dit process events/files/` takes them.
fn sample_files() -> Vec<(String, Vec<u8>)> {
    samples::sample_files()
        .into_iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

async fn bucket_objects(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> BTreeMap<String, Vec<u8>> {
    let mut objects = BTreeMap::new();
    let listed = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await
        .unwrap();
    for object in listed.contents.unwrap_or_default() {
        let key = object.key.unwrap();
        let body = s3
            .get_object()
            .bucket(bucket)
            .key(&key)
            .send()
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .into_bytes()
            .to_vec();
        objects.insert(key.trim_start_matches(prefix).to_string(), body);
    }
    objects
}

async fn folder_objects(blobs: &FolderBlobs, area: Area) -> BTreeMap<String, Vec<u8>> {
    let mut objects = BTreeMap::new();
    for key in blobs.list(area, "").await.unwrap() {
        let bytes = blobs.get(area, &key).await.unwrap().unwrap();
        objects.insert(key, bytes);
    }
    objects
}

/// The link of a Medical Rotation Notification (its JSON form).
fn rotation_link(json: &[u8]) -> String {
    let value: serde_json::Value = serde_json::from_slice(json).unwrap();
    value["link"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_dropped_in_s3_give_the_same_outputs_as_the_embedded_run() {
    let aws = aws().await;
    let deps = deps(&aws, aws.moto.dynamo_client().await);

    for (name, bytes) in sample_files() {
        let key = format!("incoming/{}{name}", drop_folder(&name));
        aws.s3
            .put_object()
            .bucket(INBOUND)
            .key(&key)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .unwrap();
        for response in deliver_until(&aws, &deps, &key).await {
            assert!(
                response.batch_item_failures.is_empty(),
                "{name}: retry asked for"
            );
        }
    }

    // The embedded run of the same files.
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("state.db")).unwrap();
    let blobs = FolderBlobs::new(dir.path());
    let orgs = organisations();
    let settings = Settings::default();
    let ctx = Context {
        store: &store,
        blobs: &blobs,
        mailer: &dit_core::ports::NoMailer,
        metrics: &dit_core::ports::NoMetrics,
        organisations: &orgs,
        settings: &settings,
        progress: &NoProgress,
        now: Utc::now(),
    };
    for (name, bytes) in sample_files() {
        blobs
            .put(Area::Inbound, &name, bytes, "text/plain")
            .await
            .unwrap();
        process_inbound(&ctx, &name, &FileOrigin::Operator, None)
            .await
            .unwrap();
    }

    let outbound_s3 = bucket_objects(&aws.s3, OUTBOUND, "").await;
    let outbound_local = folder_objects(&blobs, Area::Outbound).await;
    assert!(outbound_s3.contains_key("tis/KSS/DE_KSS_APC_20261121_00000042.DAT"));
    assert!(outbound_s3.contains_key(
        "trusts/504/notifications/DE_KSS_APP_20261121_00000042.deanery-applicant-notification.json"
    ));
    assert_eq!(
        outbound_s3.keys().collect::<Vec<_>>(),
        outbound_local.keys().collect::<Vec<_>>()
    );
    for (key, bytes) in &outbound_s3 {
        // Every object byte for byte, the Medical Rotation Notifications included: their link is
        // the portal's download page (the same address in both runs), never a presigned URL or
        // a file path, so nothing needs masking.
        if key.ends_with(".medical-rotation.json") {
            let link = rotation_link(bytes);
            assert!(
                link.starts_with("http://127.0.0.1:8080/downloads/medrot/DE_KSS_504_MEDROT_"),
                "{key}: the portal's download: {link}"
            );
            assert!(!link.contains("X-Amz-"), "{key}: not a presigned URL");
        }
        let (s3, local) = (bytes, &outbound_local[key]);
        assert!(s3 == local, "{key} differs between S3 and the embedded run");
    }
    assert!(outbound_s3
        .keys()
        .any(|k| k.ends_with(".xlsx") && k.contains("/medrot/")));
    let quarantine_s3 = bucket_objects(&aws.s3, INBOUND, "quarantine/").await;
    let quarantine_local = folder_objects(&blobs, Area::Quarantine).await;
    assert_eq!(
        quarantine_s3.len(),
        22,
        "11 quarantined files, each with its reason"
    );
    // In S3 each file is kept under the folder it was dropped in (tis/, trusts/<VPD>/); the
    // embedded run took the files by name, so its quarantine has no folders.
    let without_folder: BTreeMap<String, Vec<u8>> = quarantine_s3
        .iter()
        .map(|(key, bytes)| {
            assert!(
                key.starts_with("tis/") || key.starts_with("trusts/"),
                "{key}"
            );
            (key.rsplit('/').next().unwrap().to_string(), bytes.clone())
        })
        .collect();
    assert_eq!(without_folder, quarantine_local);
    // Quarantined files left the incoming prefix; processed ones stay for replay.
    let incoming = bucket_objects(&aws.s3, INBOUND, "incoming/").await;
    assert!(incoming.contains_key("tis/DE_KSS_APP_20261121_00000042.DAT"));
    assert!(!incoming.contains_key("tis/DE_KSS_APP_20261121_00000054.DAT"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_delivered_twice_changes_nothing_the_second_time() {
    let aws = aws().await;
    let deps = deps(&aws, aws.moto.dynamo_client().await);
    let files = sample_files();
    for name in [
        "ESR_504_POS_20261121_00000001.DAT",
        "DE_KSS_APP_20261121_00000042.DAT",
    ] {
        let bytes = files.iter().find(|(n, _)| n == name).unwrap().1.clone();
        let key = format!("incoming/{}{name}", drop_folder(name));
        aws.s3
            .put_object()
            .bucket(INBOUND)
            .key(&key)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .unwrap();
        deliver_until(&aws, &deps, &key).await;
    }
    let before = bucket_objects(&aws.s3, OUTBOUND, "").await;
    let history_before = deps.ports.store.history("5000001").await.unwrap();
    // The same notification again, twice in one batch (as SQS at-least-once delivery may do).
    let text =
        std::fs::read_to_string(repo().join("events/s3-via-sqs/app-file-delivered-twice.json"))
            .unwrap();
    let event: SqsEvent = serde_json::from_str(&text).unwrap();
    let response = handle(
        &deps,
        lambda_runtime::LambdaEvent::new(event, lambda_runtime::Context::default()),
    )
    .await
    .unwrap();
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(bucket_objects(&aws.s3, OUTBOUND, "").await, before);
    assert_eq!(
        deps.ports.store.history("5000001").await.unwrap(),
        history_before
    );
    assert!(
        deps.ports
            .store
            .applicant("5000007")
            .await
            .unwrap()
            .is_none(),
        "no applicant beyond the file's six"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loading_an_app_file_costs_at_most_three_write_units_per_record() {
    const RECORDS: u64 = 200;
    let aws = aws().await;
    let counter = RequestCounter::new();
    let deps = deps(&aws, aws.moto.counting_dynamo_client(counter.clone()).await);
    for (name, text) in generated_files(RECORDS) {
        counter.reset();
        let key = format!("incoming/{}{name}", drop_folder(name));
        aws.s3
            .put_object()
            .bucket(INBOUND)
            .key(&key)
            .body(ByteStream::from(text.into_bytes()))
            .send()
            .await
            .unwrap();
        deliver_until(&aws, &deps, &key).await;
    }
    let units = counter.write_units();
    eprintln!(
        "APP file of {RECORDS} records: {units} DynamoDB write units, {} items, {} write requests ({:?}; {:?})",
        counter.items_written(),
        counter.writes(),
        counter.written(),
        counter.snapshot()
    );
    // Per record: its placement link (holding the creation history), applicant and person, each
    // at most 1 KB; per file: the claim, the two received-number items, the completion with its
    // summary, and per chunk of 500 records the reservation of its applicant numbers.
    assert!(
        units <= 3 * RECORDS + 10,
        "{units} write units for {RECORDS} records"
    );
    // The one transaction: a chunk's number reservation (the counter and the reservation item
    // must move together). No applicant is written in a transaction.
    assert_eq!(
        counter.count("TransactWriteItems"),
        RECORDS.div_ceil(500),
        "transactions"
    );
    let loaded = deps
        .ports
        .store
        .placements(&(0..RECORDS).map(generated_placement).collect::<Vec<_>>())
        .await
        .unwrap();
    assert_eq!(loaded.len() as u64, RECORDS);
}

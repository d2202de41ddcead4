//! Files dropped into S3 on moto, notified through SQS, handled by the inbound-file handler on
//! DynamoDB and S3: the outputs must equal those of the embedded run (`dit`) byte for byte, and an
//! APP file must cost at most 5 DynamoDB write units per loaded record.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter,
    QueueConfiguration, S3KeyFilter,
};
use chrono::Utc;
use dit_aws::dynamo::DynamoStore;
use dit_aws::s3::{S3Blobs, S3Layout};
use dit_core::domain::boundary::{drop_folder, FileOrigin};
use dit_core::domain::envelope::business_order_key;
use dit_core::domain::org::Organisations;
use dit_core::ports::{Area, BlobStore};
use dit_core::service::inbound::{process_inbound, Context, Settings};
use dit_core::service::NoProgress;
use dit_core::service::Ports;
use dit_embedded::folders::FolderBlobs;
use dit_embedded::sqlite::SqliteStore;
use dit_test_support::{own_cpu_time, Moto, RequestCounter};
use inbound_file::{handle, Deps};

const INBOUND: &str = "dit-inbound";
const OUTBOUND: &str = "dit-outbound";
const TABLE: &str = "dit-state";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn organisations() -> Organisations {
    let text = std::fs::read_to_string(repo().join("events/files/organisations.toml")).unwrap();
    Organisations::from_toml(&text, "organisations.toml").unwrap()
}

/// The sample files in business order, as `dit process events/files/` takes them.
fn sample_files() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(repo().join("events/files"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "DAT"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort_by_key(|(name, _)| business_order_key(name));
    files
}

struct Aws {
    moto: Moto,
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
}

/// Buckets, table, queue and the S3 -> SQS notification on `incoming/`, as the SAM template has them.
async fn aws() -> Aws {
    let moto = Moto::start();
    moto.create_table(TABLE).await;
    let s3 = moto.create_buckets(INBOUND, OUTBOUND).await;
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let queue_url = sqs
        .create_queue()
        .queue_name("dit-inbound")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue_arn = format!(
        "arn:aws:sqs:{}:123456789012:dit-inbound",
        dit_test_support::REGION
    );
    let filter = NotificationConfigurationFilter::builder()
        .key(
            S3KeyFilter::builder()
                .filter_rules(
                    FilterRule::builder()
                        .name(FilterRuleName::Prefix)
                        .value("incoming/")
                        .build(),
                )
                .build(),
        )
        .build();
    s3.put_bucket_notification_configuration()
        .bucket(INBOUND)
        .notification_configuration(
            NotificationConfiguration::builder()
                .queue_configurations(
                    QueueConfiguration::builder()
                        .queue_arn(queue_arn)
                        .events(Event::from("s3:ObjectCreated:*"))
                        .filter(filter)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    Aws {
        moto,
        s3,
        sqs,
        queue_url,
    }
}

async fn deps(aws: &Aws, dynamo: aws_sdk_dynamodb::Client) -> Deps {
    Deps {
        ports: Ports {
            store: Box::new(DynamoStore::new(dynamo, TABLE)),
            blobs: Box::new(S3Blobs::new(
                aws.s3.clone(),
                S3Layout {
                    inbound_bucket: INBOUND.into(),
                    inbound_prefix: "incoming/".into(),
                    quarantine_prefix: "quarantine/".into(),
                    outbound_bucket: OUTBOUND.into(),
                },
            )),
            mailer: Box::new(dit_core::ports::NoMailer),
            organisations: organisations(),
            settings: Settings::default(),
        },
        inbound_bucket: INBOUND.into(),
        inbound_prefix: "incoming/".into(),
    }
}

/// Receives what is on the queue until a message names `key` (or the wait runs out), hands it to
/// the handler as Lambda's SQS trigger would, and deletes what was handled.
async fn deliver_until(aws: &Aws, deps: &Deps, key: &str) -> Vec<SqsBatchResponse> {
    let started = Instant::now();
    let mut responses = vec![];
    let mut seen_key = false;
    while !seen_key {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no notification for {key}"
        );
        let received = aws
            .sqs
            .receive_message()
            .queue_url(&aws.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            continue;
        }
        let records: Vec<serde_json::Value> = messages
            .iter()
            .map(|m| {
                let body = m.body.clone().unwrap_or_default();
                if body.contains(key) || body.contains(&key.replace('/', "%2F")) {
                    seen_key = true;
                }
                serde_json::json!({"messageId": m.message_id, "receiptHandle": m.receipt_handle, "body": body, "eventSource": "aws:sqs"})
            })
            .collect();
        let event: SqsEvent =
            serde_json::from_value(serde_json::json!({ "Records": records })).unwrap();
        let response = handle(
            deps,
            lambda_runtime::LambdaEvent::new(event, lambda_runtime::Context::default()),
        )
        .await
        .unwrap();
        for m in &messages {
            let failed = response
                .batch_item_failures
                .iter()
                .any(|f| Some(&f.item_identifier) == m.message_id.as_ref());
            if !failed {
                aws.sqs
                    .delete_message()
                    .queue_url(&aws.queue_url)
                    .receipt_handle(m.receipt_handle.clone().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
        responses.push(response);
    }
    responses
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
    let deps = deps(&aws, aws.moto.dynamo_client().await).await;

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
    assert_eq!(quarantine_s3, quarantine_local);
    // Quarantined files left the incoming prefix; processed ones stay for replay.
    let incoming = bucket_objects(&aws.s3, INBOUND, "incoming/").await;
    assert!(incoming.contains_key("tis/DE_KSS_APP_20261121_00000042.DAT"));
    assert!(!incoming.contains_key("tis/DE_KSS_APP_20261121_00000054.DAT"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_delivered_twice_changes_nothing_the_second_time() {
    let aws = aws().await;
    let deps = deps(&aws, aws.moto.dynamo_client().await).await;
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

/// An APP file of N records, each on a usable position of trust 504 (20 records per position).
fn generated(records: u64) -> (String, String) {
    let positions = records.div_ceil(20);
    let dpn = |p: u64| format!("KSS/RJZ01/{:03}/STR/{:03}", p / 1000, p % 1000);
    let mut pos = String::from("HDR,POS,504,20261121,00000002,2026-11-21T13:00:00Z,1\n");
    for p in 0..positions {
        let id = 30_000_000 + p;
        pos.push_str(&format!("POS,{id},{id},{id}|Registrar|ST4|Medicine,{},KSS,Lead Employer,2020-01-01,,N1L,ST4,Site,RXX,504\n", dpn(p)));
    }
    pos.push_str(&format!("TRL,{positions}\n"));
    let mut app = String::from("HDR,APP,KSS,20261121,00000100,2026-11-21T13:00:00Z,1\n");
    for r in 0..records {
        let p = r % positions;
        let id = 30_000_000 + p;
        app.push_str(&format!(
            "APP,{},2026-11-21,{id},{id},{},Surname{r},Forename{r},,Dr,1990-01-31,F,{},,,,,,,,,,,,,GB,GB,GB,Z,S,,,N,,2027-02-03,,1.0,ST4\n",
            9_000_000 + r,
            dpn(p),
            7_500_000 + r
        ));
    }
    app.push_str(&format!("TRL,{records}\n"));
    (pos, app)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loading_an_app_file_costs_at_most_five_write_units_per_record() {
    const RECORDS: u64 = 200;
    let aws = aws().await;
    let counter = RequestCounter::new();
    let deps = deps(&aws, aws.moto.counting_dynamo_client(counter.clone()).await).await;
    let (pos, app) = generated(RECORDS);
    for (name, text) in [
        ("ESR_504_POS_20261121_00000002.DAT", pos),
        ("DE_KSS_APP_20261121_00000100.DAT", app),
    ] {
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
    // Per record: its placement link, applicant, creation history and person; per file: the
    // claim, the sequence, the completion with its summary, and per chunk of 500 records the
    // reservation of its applicant numbers.
    assert!(
        units <= 5 * RECORDS + 10,
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
        .placements(
            &(0..RECORDS)
                .map(|r| (9_000_000 + r).to_string())
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap();
    assert_eq!(loaded.len() as u64, RECORDS);
}

/// Benchmark, run by hand (not part of the test command; figures in `docs/PERFORMANCE.md`): an
/// APP file of 2,000 records (or `DIT_BENCH_RECORDS`) dropped into S3 on moto and handled by the
/// inbound handler, timed from the handler's receipt of the notification to its answer.
///
/// ```sh
/// cargo test -p dit-tests --test moto_end_to_end -- --ignored --nocapture benchmark
/// ```
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark, run by hand"]
async fn benchmark_an_app_file_through_the_inbound_handler_on_moto() {
    let records: u64 = std::env::var("DIT_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let aws = aws().await;
    let counter = RequestCounter::new();
    let deps = deps(&aws, aws.moto.counting_dynamo_client(counter.clone()).await).await;
    let (pos, app) = generated(records);
    let mut app_time = Duration::ZERO;
    let mut moto_cpu = Duration::ZERO;
    let mut handler_cpu = Duration::ZERO;
    for (name, text) in [
        ("ESR_504_POS_20261121_00000002.DAT", pos),
        ("DE_KSS_APP_20261121_00000100.DAT", app),
    ] {
        counter.reset();
        let key = format!("incoming/{name}");
        aws.s3
            .put_object()
            .bucket(INBOUND)
            .key(&key)
            .body(ByteStream::from(text.into_bytes()))
            .send()
            .await
            .unwrap();
        let (moto_before, own_before) = (aws.moto.cpu_time(), own_cpu_time());
        let started = Instant::now();
        deliver_until(&aws, &deps, &key).await;
        app_time = started.elapsed();
        moto_cpu = aws.moto.cpu_time().unwrap_or_default() - moto_before.unwrap_or_default();
        handler_cpu = own_cpu_time().unwrap_or_default() - own_before.unwrap_or_default();
    }
    let (units, writes) = (counter.write_units(), counter.writes());
    let requests: u64 = counter.snapshot().values().sum();
    eprintln!(
        "APP file of {records} records on moto: {:.1} s wall (CPU: moto {:.1} s, handler and test {:.1} s); \
         {units} write units, {writes} write requests, {requests} DynamoDB requests in all ({:?})",
        app_time.as_secs_f64(),
        moto_cpu.as_secs_f64(),
        handler_cpu.as_secs_f64(),
        counter.snapshot()
    );
    let loaded = deps
        .ports
        .store
        .placements(
            &(0..records)
                .map(|r| (9_000_000 + r).to_string())
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap();
    assert_eq!(loaded.len() as u64, records);
}

//! 100 files dropped into S3 at once on moto, notified through SQS, handled by 4 concurrent
//! workers each running the inbound-file handler as Lambda's SQS trigger would: receive a batch,
//! handle it, delete what was handled, leave what asked for a retry to come back after its
//! visibility timeout (and go to the dead-letter queue after 5 receives).
//!
//! Each worker's store and bucket fail now and then (a transient error at every k-th write, a few
//! times), so records fail half way and are redelivered, possibly to another worker, possibly
//! while a slow first attempt still runs. Whatever the interleaving: every file is processed
//! exactly once (one APC per APP file, each record's applicant created once with a history of
//! exactly its two load entries), every malformed file is quarantined, and nothing is left on the
//! queue or in the dead-letter queue.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_sqs::types::QueueAttributeName;
use dit_aws::dynamo::DynamoStore;
use dit_aws::s3::{S3Blobs, S3Layout};
use dit_core::ports::{Area, BlobStore, StateStore};
use dit_core::service::context::{Ports, Settings};
use dit_domain::boundary::FileOrigin;
use dit_test_support::faults::{Fault, Faults, FaultyBlobs, FaultyStore};
use dit_test_support::samples::sample_organisations;
use dit_test_support::{Moto, NotifiedQueue};
use inbound_file::{handle, Deps};

const INBOUND: &str = "dit-inbound";
const OUTBOUND: &str = "dit-outbound";
const TABLE: &str = "dit-state";
const WORKERS: u64 = 4;
const APP_FILES: u64 = 97;
const MALFORMED_FILES: u64 = 3;
const RECORDS_PER_FILE: u64 = 2;
const POSITIONS: u64 = 20;
/// Messages per batch, and how long a received message stays invisible (moto serves DynamoDB one
/// request at a time, so a batch can outlast it: the message is then handled twice at once).
const BATCH: i32 = 4;
const VISIBILITY_SECONDS: i32 = 10;
/// Receives before a message goes to the dead-letter queue.
const MAX_RECEIVES: u32 = 5;

fn layout() -> S3Layout {
    S3Layout {
        inbound_bucket: INBOUND.into(),
        inbound_prefix: "incoming/".into(),
        quarantine_prefix: "quarantine/".into(),
        outbound_bucket: OUTBOUND.into(),
    }
}

fn dpn(p: u64) -> String {
    format!("KSS/RJZ01/{:03}/STR/{:03}", 500 + p / 1000, p % 1000)
}

fn position_id(p: u64) -> u64 {
    31_000_000 + p
}

/// The positions every APP file uses, all usable, in trust 504.
fn pos_file() -> (String, String) {
    let mut text = String::from("HDR,POS,504,20261121,00000003,2026-11-21T13:00:00Z,1\n");
    for p in 0..POSITIONS {
        let id = position_id(p);
        text.push_str(&format!("POS,{id},{id},{id}|Registrar|ST4|Medicine,{},KSS,Lead Employer,2020-01-01,,N1L,ST4,Site,RXX,504\n", dpn(p)));
    }
    text.push_str(&format!("TRL,{POSITIONS}\n"));
    ("ESR_504_POS_20261121_00000003.DAT".into(), text)
}

fn app_name(file: u64) -> String {
    format!("DE_KSS_APP_20261121_{:08}.DAT", 1000 + file)
}

fn placement(file: u64, record: u64) -> u64 {
    9_100_000 + file * 100 + record
}

fn gmc(file: u64, record: u64) -> u64 {
    7_700_000 + file * 100 + record
}

/// APP file `file`: its records on distinct placements and GMC numbers, spread over the positions.
fn app_file(file: u64) -> String {
    let mut text = format!(
        "HDR,APP,KSS,20261121,{:08},2026-11-21T13:00:00Z,1\n",
        1000 + file
    );
    for record in 0..RECORDS_PER_FILE {
        let p = (file + record) % POSITIONS;
        let id = position_id(p);
        text.push_str(&format!(
            "APP,{},2026-11-21,{id},{id},{},Surname{file}x{record},Forename,,Dr,1990-01-31,F,{},,,,,,,,,,,,,GB,GB,GB,Z,S,,,N,,2027-02-03,,1.0,ST4\n",
            placement(file, record),
            dpn(p),
            gmc(file, record)
        ));
    }
    text.push_str(&format!("TRL,{RECORDS_PER_FILE}\n"));
    text
}

/// Malformed files (quarantined whole).
fn malformed(file: u64) -> String {
    let good = app_file(file);
    match file % 3 {
        0 => good.replace(&format!("TRL,{RECORDS_PER_FILE}"), "TRL,99"),
        1 => good.replacen("HDR,APP,KSS", "HDR,APP,LDN", 1),
        _ => good.replacen("\nAPP,", "\nAPX,", 1),
    }
}

fn ports(
    moto_dynamo: aws_sdk_dynamodb::Client,
    s3: aws_sdk_s3::Client,
    faults: &Arc<Faults>,
) -> Ports {
    let store: Arc<dyn StateStore> = Arc::new(DynamoStore::new(moto_dynamo, TABLE));
    let blobs: Arc<dyn BlobStore> = Arc::new(S3Blobs::new(s3, layout()));
    Ports {
        store: Box::new(FaultyStore::new(store, Arc::clone(faults))),
        blobs: Box::new(FaultyBlobs::new(blobs, Arc::clone(faults))),
        mailer: Box::new(dit_core::ports::NoMailer),
        organisations: sample_organisations(),
        settings: Settings::default(),
    }
}

/// What the workers did.
#[derive(Default)]
struct Tally {
    batches: AtomicU64,
    records: AtomicU64,
    retries: AtomicU64,
    stale_receipts: AtomicU64,
}

/// One worker: receive, handle, delete the handled, until told to stop and the queue is dry.
async fn worker(deps: Deps, queue: Arc<NotifiedQueue>, stop: Arc<AtomicBool>, tally: Arc<Tally>) {
    loop {
        let received = queue
            .sqs
            .receive_message()
            .queue_url(&queue.url)
            .max_number_of_messages(BATCH)
            .visibility_timeout(VISIBILITY_SECONDS)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive");
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            continue;
        }
        let records: Vec<serde_json::Value> = messages
            .iter()
            .map(|m| serde_json::json!({"messageId": m.message_id, "receiptHandle": m.receipt_handle, "body": m.body, "eventSource": "aws:sqs"}))
            .collect();
        let event: SqsEvent =
            serde_json::from_value(serde_json::json!({ "Records": records })).unwrap();
        let response = handle(
            &deps,
            lambda_runtime::LambdaEvent::new(event, lambda_runtime::Context::default()),
        )
        .await
        .expect("the handler never fails a batch");
        tally.batches.fetch_add(1, Ordering::SeqCst);
        tally
            .records
            .fetch_add(messages.len() as u64, Ordering::SeqCst);
        for message in &messages {
            let retry = response
                .batch_item_failures
                .iter()
                .any(|f| Some(&f.item_identifier) == message.message_id.as_ref());
            if retry {
                // Left on the queue: visible again when its timeout runs out.
                tally.retries.fetch_add(1, Ordering::SeqCst);
            } else {
                let deleted = queue
                    .sqs
                    .delete_message()
                    .queue_url(&queue.url)
                    .receipt_handle(message.receipt_handle.clone().unwrap())
                    .send()
                    .await;
                if deleted.is_err() {
                    // Received again by another worker meanwhile (its timeout ran out while this
                    // one worked): it comes back and is handled again, as with Lambda.
                    tally.stale_receipts.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
    }
}

async fn queue_depth(queue: &NotifiedQueue, url: &str) -> u64 {
    let attributes = queue
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    [
        QueueAttributeName::ApproximateNumberOfMessages,
        QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
    ]
    .iter()
    .map(|a| {
        attributes
            .get(a)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    })
    .sum()
}

async fn keys(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token)
            .send()
            .await
            .unwrap();
        for object in page.contents.unwrap_or_default() {
            found.insert(object.key.unwrap().trim_start_matches(prefix).to_string());
        }
        token = page.next_continuation_token;
        if token.is_none() {
            return found;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_files_dropped_at_once_are_each_processed_exactly_once() {
    let started = Instant::now();
    let moto = Moto::start();
    moto.create_table(TABLE).await;
    let s3 = moto.create_buckets(INBOUND, OUTBOUND).await;
    let queue = Arc::new(
        moto.notified_queue(&s3, INBOUND, "incoming/", "dit-inbound", Some(MAX_RECEIVES))
            .await,
    );

    // The positions first, as a trust's POS file would have come days before.
    let setup = ports(moto.dynamo_client().await, s3.clone(), &Faults::none());
    let (pos_name, pos_text) = pos_file();
    setup
        .blobs
        .put(
            Area::Inbound,
            &pos_name,
            pos_text.into_bytes(),
            "text/plain",
        )
        .await
        .unwrap();
    let report = dit_core::service::inbound::process_inbound(
        &setup.context(chrono::Utc::now()),
        &pos_name,
        &FileOrigin::Operator,
        None,
    )
    .await
    .unwrap();
    assert_eq!(report.loaded, POSITIONS);
    queue
        .sqs
        .purge_queue()
        .queue_url(&queue.url)
        .send()
        .await
        .unwrap();

    // The workers, each with its own clients and its own faults.
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let mut faults = Vec::new();
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let worker_faults = Faults::every(13 + 2 * w, Fault::Fail, 8);
        faults.push(Arc::clone(&worker_faults));
        let deps = Deps {
            ports: ports(
                moto.dynamo_client().await,
                moto.s3_client().await,
                &worker_faults,
            ),
            inbound_bucket: INBOUND.into(),
            inbound_prefix: "incoming/".into(),
            metrics: Box::new(dit_core::ports::NoMetrics),
        };
        workers.push(tokio::spawn(worker(
            deps,
            Arc::clone(&queue),
            Arc::clone(&stop),
            Arc::clone(&tally),
        )));
    }

    // 100 files at once.
    let mut drops = Vec::new();
    let mut app_names = BTreeSet::new();
    let mut malformed_names = BTreeSet::new();
    for file in 0..APP_FILES + MALFORMED_FILES {
        let (text, is_app) = if file < APP_FILES {
            (app_file(file), true)
        } else {
            (malformed(file), false)
        };
        let name = app_name(file);
        if is_app {
            app_names.insert(name.clone());
        } else {
            malformed_names.insert(name.clone());
        }
        let s3 = s3.clone();
        drops.push(tokio::spawn(async move {
            s3.put_object()
                .bucket(INBOUND)
                .key(format!("incoming/tis/{name}"))
                .body(ByteStream::from(text.into_bytes()))
                .send()
                .await
                .expect("drop a file");
        }));
    }
    for d in drops {
        d.await.unwrap();
    }

    // Until every file has its outcome and the queue is empty.
    // Generous: moto on a busy machine is slow, and only a hang should fail here.
    let deadline = Instant::now() + Duration::from_secs(900);
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        if queue_depth(&queue, &queue.url).await > 0 {
            assert!(Instant::now() < deadline, "the queue did not drain in time");
            continue;
        }
        let reports = keys(&s3, OUTBOUND, "operator/files/").await.len() as u64;
        let reasons = keys(&s3, INBOUND, "quarantine/")
            .await
            .iter()
            .filter(|k| k.ends_with(".reason.json"))
            .count() as u64;
        if reports >= APP_FILES
            && reasons >= MALFORMED_FILES
            && queue_depth(&queue, &queue.url).await == 0
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not done in time: {reports} reports, {reasons} quarantined"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.await.unwrap();
    }

    // Nothing left on the queue, nothing dead-lettered.
    assert_eq!(queue_depth(&queue, &queue.url).await, 0);
    let dlq = queue.dead_letters.clone().unwrap();
    assert_eq!(queue_depth(&queue, &dlq).await, 0, "messages dead-lettered");

    // One APC per APP file, and nothing else for TIS.
    let apcs = keys(&s3, OUTBOUND, "tis/KSS/").await;
    let expected: BTreeSet<String> = app_names
        .iter()
        .map(|n| n.replace("_APP_", "_APC_"))
        .collect();
    assert_eq!(apcs, expected);
    // Each APP file processed, all its records loaded.
    let store = DynamoStore::new(moto.dynamo_client().await, TABLE);
    for name in &app_names {
        let bytes = s3
            .get_object()
            .bucket(OUTBOUND)
            .key(format!("operator/files/{name}.json"))
            .send()
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .into_bytes();
        let report: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(report["outcome"], "processed", "{name}: {report}");
        assert_eq!(report["loaded"], RECORDS_PER_FILE, "{name}: {report}");
    }
    // Malformed files quarantined, out of the incoming prefix; processed ones kept for replay.
    let quarantined = keys(&s3, INBOUND, "quarantine/").await;
    let incoming = keys(&s3, INBOUND, "incoming/").await;
    for name in &malformed_names {
        assert!(
            quarantined.contains(&format!("tis/{name}"))
                && quarantined.contains(&format!("tis/{name}.reason.json")),
            "{name}"
        );
        assert!(!incoming.contains(&format!("tis/{name}")), "{name}");
    }
    assert_eq!(
        incoming,
        app_names
            .iter()
            .map(|name| format!("tis/{name}"))
            .chain([pos_name])
            .collect()
    );

    // No applicant twice: each placement and each GMC number has exactly one applicant, whose
    // history is exactly its two load entries.
    let placements: Vec<String> = (0..APP_FILES)
        .flat_map(|f| (0..RECORDS_PER_FILE).map(move |r| placement(f, r).to_string()))
        .collect();
    let links = store.placements(&placements).await.unwrap();
    assert_eq!(links.len(), placements.len());
    let numbers: BTreeSet<&String> = links.values().map(|l| &l.applicant_number).collect();
    assert_eq!(
        numbers.len(),
        placements.len(),
        "one applicant number per record"
    );
    let mut histories: BTreeMap<usize, u64> = BTreeMap::new();
    for file in 0..APP_FILES {
        for record in 0..RECORDS_PER_FILE {
            let found = store
                .applicants_by_gmc(&gmc(file, record).to_string())
                .await
                .unwrap();
            assert_eq!(found.len(), 1, "GMC {}", gmc(file, record));
            let applicant = &found[0];
            assert_eq!(applicant.placement_id, placement(file, record).to_string());
            assert_eq!(
                links[&applicant.placement_id].applicant_number,
                applicant.applicant_number
            );
            let history = store.history(&applicant.applicant_number).await.unwrap();
            *histories.entry(history.len()).or_default() += 1;
            assert_eq!(
                history.len(),
                2,
                "{}: {history:?}",
                applicant.applicant_number
            );
        }
    }

    let injected: u64 = faults.iter().map(|f| f.injected()).sum();
    eprintln!(
        "{} files dropped at once ({APP_FILES} APP of {RECORDS_PER_FILE} records, {MALFORMED_FILES} malformed); {WORKERS} workers: {} batches, {} records handled, {} retried by SQS redelivery, {} received again while being handled; {injected} faults injected; {} applicants; {:.1}s",
        APP_FILES + MALFORMED_FILES,
        tally.batches.load(Ordering::SeqCst),
        tally.records.load(Ordering::SeqCst),
        tally.retries.load(Ordering::SeqCst),
        tally.stale_receipts.load(Ordering::SeqCst),
        placements.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        injected > 0 && tally.retries.load(Ordering::SeqCst) > 0,
        "faults were met and records redelivered"
    );
}

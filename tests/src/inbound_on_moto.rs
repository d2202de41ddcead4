//! The inbound stack on moto as the SAM template has it (table, buckets, the `incoming/` S3 -> SQS
//! notification) with the inbound-file handler fed from the queue as Lambda's SQS trigger would:
//! shared by the end-to-end tests (`tests/moto_end_to_end.rs`) and the moto benchmark
//! (`benches/moto_app_file.rs`).

use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use dit_aws::dynamo::DynamoStore;
use dit_aws::s3::{S3Blobs, S3Layout};
use dit_core::service::context::{Ports, Settings};
use dit_test_support::samples::sample_organisations;
use dit_test_support::Moto;
use inbound_file::{handle, Deps};

pub const INBOUND: &str = "dit-inbound";
pub const OUTBOUND: &str = "dit-outbound";
pub const TABLE: &str = "dit-state";

/// How long [`deliver_until`] waits for the notification of a file.
const NOTIFICATION_WAIT: Duration = Duration::from_secs(20);

pub struct Aws {
    pub moto: Moto,
    pub s3: aws_sdk_s3::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
}

/// A private moto_server with the table, both buckets and the inbound queue notified of every
/// object created under `incoming/`.
///
/// # Panics
/// When moto cannot be started or refuses a resource.
pub async fn aws() -> Aws {
    let moto = Moto::start();
    moto.create_table(TABLE).await;
    let s3 = moto.create_buckets(INBOUND, OUTBOUND).await;
    let queue = moto
        .notified_queue(&s3, INBOUND, "incoming/", "dit-inbound", None)
        .await;
    Aws {
        moto,
        s3,
        sqs: queue.sqs,
        queue_url: queue.url,
    }
}

/// The handler's dependencies on this moto, with `dynamo` as its DynamoDB client (a counting
/// one, for instance) and the sample organisations.
pub fn deps(aws: &Aws, dynamo: aws_sdk_dynamodb::Client) -> Deps {
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
            organisations: sample_organisations(),
            settings: Settings::default(),
        },
        inbound_bucket: INBOUND.into(),
        inbound_prefix: "incoming/".into(),
        metrics: Box::new(dit_core::ports::NoMetrics),
    }
}

/// Receives what is on the queue until a message names `key` (or the wait runs out), hands it to
/// the handler as Lambda's SQS trigger would, and deletes what was handled.
///
/// # Panics
/// When no notification names `key` within 20 seconds, or moto or the handler fails.
pub async fn deliver_until(aws: &Aws, deps: &Deps, key: &str) -> Vec<SqsBatchResponse> {
    let started = Instant::now();
    let mut responses = vec![];
    let mut seen_key = false;
    while !seen_key {
        assert!(
            started.elapsed() < NOTIFICATION_WAIT,
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

/// The placement id of record `r` of [`generated_files`]' APP file.
pub fn generated_placement(r: u64) -> String {
    (9_000_000 + r).to_string()
}

/// A POS file of trust 504 and an APP file (KSS) of `records` records, each on one of its usable
/// positions (20 records per position). Names and numbers are made up.
pub fn generated_files(records: u64) -> [(&'static str, String); 2] {
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
            generated_placement(r),
            dpn(p),
            7_500_000 + r
        ));
    }
    app.push_str(&format!("TRL,{records}\n"));
    [
        ("ESR_504_POS_20261121_00000002.DAT", pos),
        ("DE_KSS_APP_20261121_00000100.DAT", app),
    ]
}

//! Received objects on S3 (moto) through the inbound-file handler, as S3 notifies it through SQS
//! (issue 9 item 6): the object processed is the version whose size was checked, never a version
//! written since at the same key; and a key that is no clean path (`..`, `//`) is moved to the
//! quarantine under a cleaned name instead of being left where it is.

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use dit_aws::dynamo::DynamoStore;
use dit_aws::s3::{S3Blobs, S3Layout};
use dit_core::service::context::{Ports, Settings};
use dit_domain::boundary::quarantine_key;
use dit_test_support::applicants::{app, envelope, organisations, DPN_100};
use dit_test_support::Moto;
use inbound_file::{handle, Deps};
use serde_json::{json, Value};

const INBOUND: &str = "dit-inbound";
const OUTBOUND: &str = "dit-outbound";
const TABLE: &str = "dit-state";

struct Aws {
    _moto: Moto,
    s3: aws_sdk_s3::Client,
    deps: Deps,
}

/// Table and buckets on moto, the inbound bucket keeping versions as the template has it.
async fn aws(max_file_bytes: u64) -> Aws {
    let moto = Moto::start();
    let dynamo = moto.create_table(TABLE).await;
    let s3 = moto.create_buckets(INBOUND, OUTBOUND).await;
    s3.put_bucket_versioning()
        .bucket(INBOUND)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let deps = Deps {
        ports: Ports {
            store: Box::new(DynamoStore::new(dynamo, TABLE)),
            blobs: Box::new(S3Blobs::new(
                s3.clone(),
                S3Layout {
                    inbound_bucket: INBOUND.into(),
                    inbound_prefix: "incoming/".into(),
                    quarantine_prefix: "quarantine/".into(),
                    outbound_bucket: OUTBOUND.into(),
                },
            )),
            mailer: Box::new(dit_core::ports::NoMailer),
            organisations: organisations(),
            settings: Settings {
                max_file_bytes,
                ..Settings::default()
            },
        },
        inbound_bucket: INBOUND.into(),
        inbound_prefix: "incoming/".into(),
        metrics: Box::new(dit_core::ports::NoMetrics),
    };
    Aws {
        _moto: moto,
        s3,
        deps,
    }
}

/// Writes `bytes` at `key` of the inbound bucket; returns the version created.
async fn put(aws: &Aws, key: &str, bytes: &[u8]) -> String {
    aws.s3
        .put_object()
        .bucket(INBOUND)
        .key(key)
        .body(ByteStream::from(bytes.to_vec()))
        .send()
        .await
        .unwrap()
        .version_id
        .expect("the inbound bucket keeps versions")
}

/// Hands the handler the notification S3 sends for `key` (URL-encoded, as S3 writes it), naming
/// `version` when given, as the SQS trigger would.
async fn notify(aws: &Aws, key: &str, version: Option<&str>) {
    let mut object = json!({
        "key": urlencoding(key),
        "size": 1,
        "eTag": "e",
    });
    if let Some(version) = version {
        object["versionId"] = json!(version);
    }
    let body = json!({"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": INBOUND}, "object": object},
    }]});
    let event: SqsEvent = serde_json::from_value(json!({"Records": [{
        "messageId": "m-1",
        "receiptHandle": "r-1",
        "body": body.to_string(),
        "eventSource": "aws:sqs",
    }]}))
    .unwrap();
    let response = handle(
        &aws.deps,
        lambda_runtime::LambdaEvent::new(event, lambda_runtime::Context::default()),
    )
    .await
    .unwrap();
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
}

/// S3's encoding of a key in a notification: `+` for a space, `%XX` for anything unsafe.
fn urlencoding(key: &str) -> String {
    key.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

async fn object(aws: &Aws, bucket: &str, key: &str) -> Option<Vec<u8>> {
    match aws.s3.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => Some(out.body.collect().await.unwrap().into_bytes().to_vec()),
        Err(err) if err.raw_response().map(|r| r.status().as_u16()) == Some(404) => None,
        Err(err) => panic!("GetObject {key}: {err:?}"),
    }
}

/// The reason of a file quarantined under `name` (its origin folder and name).
async fn reason(aws: &Aws, name: &str) -> Value {
    let bytes = object(aws, INBOUND, &format!("quarantine/{name}.reason.json"))
        .await
        .unwrap_or_else(|| panic!("no quarantine reason for {name}"));
    serde_json::from_slice(&bytes).unwrap()
}

/// The version a notification names is the one checked and read: a larger file written since at
/// the same key neither stops it nor is processed in its place, and is itself quarantined as too
/// large on its own notification: refused without being copied, left where it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_version_notified_is_the_version_checked_and_processed_on_moto() {
    let name = "DE_KSS_APP_20261121_00000001.DAT";
    let small = envelope("APP", "KSS", 1, &[app("1", "100", DPN_100, "7000001")]);
    let large = envelope(
        "APP",
        "KSS",
        1,
        &[
            app("1", "100", DPN_100, "7000001"),
            app("2", "100", DPN_100, "7000002"),
            app("3", "100", DPN_100, "7000003"),
        ],
    );
    let aws = aws(small.len() as u64 + 10).await;
    assert!(large.len() > small.len() + 10);
    let key = format!("incoming/tis/{name}");
    let first = put(&aws, &key, small.as_bytes()).await;
    let second = put(&aws, &key, large.as_bytes()).await;

    // The first version's notification: the first version, within the limit, is processed.
    notify(&aws, &key, Some(&first)).await;
    let report = object(&aws, OUTBOUND, &format!("operator/files/{name}.json"))
        .await
        .expect("the first version was processed");
    let report: Value = serde_json::from_slice(&report).unwrap();
    assert_eq!(report["outcome"], "processed", "{report}");
    assert_eq!(report["records"], 1, "{report}");
    assert!(object(&aws, INBOUND, &format!("quarantine/tis/{name}"))
        .await
        .is_none());
    assert_eq!(
        object(&aws, INBOUND, &key).await.as_deref(),
        Some(large.as_bytes()),
        "the newer version is untouched"
    );

    // The second version's notification: that version is too large. It is refused without being
    // copied (only its reason is written, under its origin folder) and left in place.
    notify(&aws, &key, Some(&second)).await;
    assert!(object(&aws, INBOUND, &format!("quarantine/tis/{name}"))
        .await
        .is_none());
    assert_eq!(
        reason(&aws, &format!("tis/{name}")).await["code"],
        "too_large"
    );
    assert_eq!(
        object(&aws, INBOUND, &key).await.as_deref(),
        Some(large.as_bytes())
    );

    // Redelivered, the second notification changes nothing but its reason, written again.
    notify(&aws, &key, Some(&second)).await;
    assert_eq!(
        object(&aws, INBOUND, &key).await.as_deref(),
        Some(large.as_bytes())
    );
    assert!(object(&aws, INBOUND, &format!("quarantine/tis/{name}"))
        .await
        .is_none());
}

/// A key with `..` or an empty segment (`//`) cannot be quarantined under its own name: the file
/// is moved to the quarantine under its cleaned name with the reason of section 7 and is no
/// longer under `incoming/`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_with_dot_dot_or_double_slash_is_quarantined_under_a_cleaned_name_on_moto() {
    let aws = aws(Settings::default().max_file_bytes).await;
    for (seq, key, folder) in [
        (
            2,
            "incoming/tis/../DE_KSS_APP_20261121_00000002.DAT",
            "incoming/tis/../",
        ),
        (
            3,
            "incoming//DE_KSS_APP_20261121_00000003.DAT",
            "incoming//",
        ),
        (
            4,
            "incoming/tis//DE_KSS_APP_20261121_00000004.DAT",
            "incoming/tis//",
        ),
        (
            5,
            "incoming/../DE_KSS_APP_20261121_00000005.DAT",
            "incoming/../",
        ),
    ] {
        let name = format!("DE_KSS_APP_20261121_{seq:08}.DAT");
        let text = envelope("APP", "KSS", seq, &[app("1", "100", DPN_100, "7000001")]);
        put(&aws, key, text.as_bytes()).await;
        notify(&aws, key, None).await;
        // Under its origin folder, each segment cleaned (`..` is `___`, empty ones dropped).
        let kept = quarantine_key(key.strip_prefix("incoming/").unwrap());
        assert!(kept.ends_with(&name) && !kept.contains("//") && !kept.contains(".."));
        assert_eq!(
            object(&aws, INBOUND, &format!("quarantine/{kept}"))
                .await
                .as_deref(),
            Some(text.as_bytes()),
            "{key} is in the quarantine as {kept}"
        );
        let reason = reason(&aws, &kept).await;
        assert_eq!(reason["code"], "wrong_sender", "{key}: {reason}");
        assert_eq!(
            reason["reason"],
            format!("{name} is not accepted from {folder}"),
            "{key}"
        );
        assert!(
            object(&aws, INBOUND, key).await.is_none(),
            "{key} is still in the inbound bucket"
        );
    }
}

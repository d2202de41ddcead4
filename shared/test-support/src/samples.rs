//! The sample inputs of `events/` and the helpers every handler test needs: events read from the
//! samples, the sample files processed in business order, a store that cannot be reached, and the
//! files a run wrote.

use std::path::{Path, PathBuf};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Utc};
use dit_aws::dynamo::DynamoStore;
use dit_core::ports::{Area, StateStore};
use dit_core::service::context::{Context, Ports, Settings};
use dit_core::service::inbound::process_inbound;
use dit_domain::boundary::FileOrigin;
use dit_domain::envelope::business_order_key;
use dit_domain::org::Organisations;
use dit_embedded::folders::FolderBlobs;
use dit_embedded::sqlite::SqliteStore;
use lambda_runtime::LambdaEvent;
use serde_json::Value;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `events/files/organisations.toml`.
pub fn sample_organisations() -> Organisations {
    let text = std::fs::read_to_string(repo().join("events/files/organisations.toml")).unwrap();
    Organisations::from_toml(&text, "organisations.toml").unwrap()
}

/// The sample `.DAT` files of `events/files/`, in business order (as `dit process` takes them).
pub fn sample_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("events/files"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "DAT"))
        .collect();
    files.sort_by_key(|p| business_order_key(&p.file_name().unwrap().to_string_lossy()));
    files
}

/// An SQS event from `events/<folder>/<name>`.
pub fn sqs_event(folder: &str, name: &str) -> LambdaEvent<SqsEvent> {
    let text = std::fs::read_to_string(repo().join("events").join(folder).join(name)).unwrap();
    LambdaEvent::new(
        serde_json::from_str(&text).unwrap(),
        lambda_runtime::Context::default(),
    )
}

/// A JSON payload from `events/<folder>/<name>`.
pub fn json_event(folder: &str, name: &str) -> LambdaEvent<Value> {
    let text = std::fs::read_to_string(repo().join("events").join(folder).join(name)).unwrap();
    payload(serde_json::from_str(&text).unwrap())
}

/// A JSON payload as a Lambda event.
pub fn payload(value: Value) -> LambdaEvent<Value> {
    LambdaEvent::new(value, lambda_runtime::Context::default())
}

/// The message ids a batch response asks SQS to deliver again.
pub fn batch_failures(response: &SqsBatchResponse) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}

/// The sample organisations over `store` and folders under `dir`.
pub fn ports_with(store: Box<dyn StateStore>, dir: &Path) -> Ports {
    Ports {
        store,
        blobs: Box::new(FolderBlobs::new(dir)),
        mailer: Box::new(dit_core::ports::NoMailer),
        organisations: sample_organisations(),
        settings: Settings::default(),
    }
}

/// The sample organisations over an in-memory SQLite store and folders under `dir`.
pub fn embedded_ports(dir: &Path) -> Ports {
    ports_with(
        Box::new(
            SqliteStore::in_memory()
                .unwrap()
                .with_today(crate::fixtures::SAMPLES_TODAY),
        ),
        dir,
    )
}

/// Puts the named sample files into the inbound area and processes them in the order given
/// (`None`: every sample file, in business order).
pub async fn process_samples(ctx: &Context<'_>, names: Option<&[&str]>) {
    let paths: Vec<PathBuf> = match names {
        Some(names) => names
            .iter()
            .map(|n| repo().join("events/files").join(n))
            .collect(),
        None => sample_files(),
    };
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        ctx.blobs
            .put(
                Area::Inbound,
                &name,
                std::fs::read(&path).unwrap(),
                "text/plain",
            )
            .await
            .unwrap();
        process_inbound(ctx, &name, &FileOrigin::Operator, None)
            .await
            .unwrap();
    }
}

/// [`process_samples`] with a context over `ports` at `now`.
pub async fn process_samples_into(ports: &Ports, now: DateTime<Utc>, names: Option<&[&str]>) {
    process_samples(&ports.context(now), names).await;
}

/// The real DynamoDB adapter pointed at a loopback port where nothing listens: every call fails
/// the way an unreachable or throttled DynamoDB does, as a transient error.
pub fn unreachable_dynamo() -> Box<dyn StateStore> {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("eu-west-2"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "x", "x", None, None, "test",
        ))
        .endpoint_url("http://127.0.0.1:9")
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    Box::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::from_conf(config),
        "dit",
    ))
}

/// Every file under `dir/<area>` with its bytes, by path relative to it, sorted.
pub fn files_under(dir: &Path, area: &str) -> Vec<(String, Vec<u8>)> {
    let root = dir.join(area);
    let mut found = vec![];
    let mut pending = vec![root.clone()];
    while let Some(d) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries {
            let p = entry.unwrap().path();
            if p.is_dir() {
                pending.push(p);
            } else {
                found.push((
                    p.strip_prefix(&root).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    found.sort();
    found
}

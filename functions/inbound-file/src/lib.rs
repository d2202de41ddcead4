//! The inbound-file Lambda handler: S3 object-created notifications delivered through SQS.
//!
//! A plain async function over the ports, so tests call it with SQLite and folders or with
//! DynamoDB and S3 on moto; `main.rs` only builds the real adapters once and starts the runtime.

pub mod config;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::Utc;
use dit_shared::domain::org::Organisations;
use dit_shared::ports::{BlobStore, StateStore};
use dit_shared::s3_notification::{self, Notification};
use dit_shared::service::inbound::{process_inbound, Context, Settings};
use dit_shared::service::report::FileReport;
use dit_shared::service::NoProgress;
use lambda_runtime::{Error, LambdaEvent};
use tracing::{error, info, info_span, warn, Instrument};

/// What the handler works with, built once per Lambda instance.
pub struct Deps {
    pub store: Box<dyn StateStore>,
    pub blobs: Box<dyn BlobStore>,
    pub organisations: Organisations,
    pub settings: Settings,
    /// The bucket files are dropped in; notifications from other buckets are ignored.
    pub inbound_bucket: String,
    /// Drops arrive under this prefix (e.g. `incoming/`); keys given to the service are relative to it.
    pub inbound_prefix: String,
}

/// Handles one SQS batch; only messages that hit a transient failure are reported back for retry.
///
/// # Errors
/// Never for message content; per-message failures go into the batch response.
pub async fn handle(deps: &Deps, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    let mut response = SqsBatchResponse::default();
    for message in event.payload.records {
        let id = message.message_id.clone().unwrap_or_default();
        let span = info_span!("sqs_message", message_id = %id);
        let retry = handle_message(deps, message.body.as_deref().unwrap_or(""))
            .instrument(span)
            .await;
        if retry {
            response.add_failure(id);
        }
    }
    Ok(response)
}

/// Returns true when the message should be retried.
async fn handle_message(deps: &Deps, body: &str) -> bool {
    let objects = match s3_notification::parse(body) {
        Ok(Notification::Test) => {
            info!("s3:TestEvent skipped");
            return false;
        }
        Ok(Notification::Objects(objects)) => objects,
        Err(err) => {
            // Not a file notification: retrying cannot help, and no file is lost by dropping it.
            error!(error = %err, "message dropped");
            return false;
        }
    };
    let mut retry = false;
    for object in objects {
        if !object.event_name.starts_with("ObjectCreated") {
            info!(event = %object.event_name, "not an object-created event; skipped");
            continue;
        }
        if object.bucket != deps.inbound_bucket {
            warn!(bucket = %object.bucket, "notification from a bucket other than the inbound bucket; skipped");
            continue;
        }
        let Some(key) = object.key.strip_prefix(&deps.inbound_prefix) else {
            warn!(key = %object.key, prefix = %deps.inbound_prefix, "object outside the inbound prefix; skipped");
            continue;
        };
        let ctx = Context {
            store: deps.store.as_ref(),
            blobs: deps.blobs.as_ref(),
            organisations: &deps.organisations,
            settings: &deps.settings,
            progress: &NoProgress,
            now: Utc::now(),
        };
        match process_inbound(&ctx, key, None).await {
            Ok(report) => log_report(&report),
            Err(err) if err.is_transient() => {
                warn!(file = %key, error = %err, "transient failure; the message will be retried");
                retry = true;
            }
            Err(err) => {
                error!(file = %key, error = %err, "failed; the file stays in the inbound bucket for replay");
            }
        }
    }
    retry
}

fn log_report(report: &FileReport) {
    info!(
        file = %report.file,
        outcome = ?report.outcome,
        records = report.records,
        loaded = report.loaded,
        rejected = report.rejected,
        warnings = report.warnings,
        quarantine = report.quarantine.as_ref().map(|q| q.code.as_str()).unwrap_or(""),
        outputs = report.outputs.len(),
        "file handled"
    );
    for warning in &report.operator_warnings {
        warn!(file = %report.file, "{warning}");
    }
}

//! The inbound-file Lambda handler: S3 object-created notifications delivered through SQS.
//!
//! A plain async function over the ports, so tests call it with SQLite and folders or with
//! DynamoDB and S3 on moto; `main.rs` only builds the real adapters once and starts the runtime.

pub mod config;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::Utc;
use dit_aws::s3_notification::{self, Notification};
use dit_aws::sqs::{handle_batch, Disposition};
use dit_core::ports::Metrics;
use dit_core::service::context::Ports;
use dit_core::service::inbound::process_received;
use dit_core::service::report::FileReport;
use dit_domain::boundary::{loggable_key, FileOrigin};
use lambda_runtime::{Error, LambdaEvent};
use tracing::{error, info, warn};

/// What the handler works with, built once per Lambda instance.
pub struct Deps {
    pub ports: Ports,
    /// The bucket files are dropped in; notifications from other buckets are ignored.
    pub inbound_bucket: String,
    /// Drops arrive under this prefix (e.g. `incoming/`); keys given to the service are relative to it.
    pub inbound_prefix: String,
    /// Where a quarantine is counted: EMF lines on standard output in Lambda
    /// ([`dit_aws::metrics::EmfMetrics`]), for the alarm in infra/template.yaml.
    pub metrics: Box<dyn Metrics>,
}

/// Handles one SQS batch; only messages that hit a transient failure are reported back for retry.
///
/// # Errors
/// Never for message content; per-message failures go into the batch response.
pub async fn handle(deps: &Deps, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    Ok(handle_batch(event.payload, |record| async move {
        handle_message(deps, record.body.as_deref().unwrap_or("")).await
    })
    .await)
}

async fn handle_message(deps: &Deps, body: &str) -> Disposition {
    let objects = match s3_notification::parse(body) {
        Ok(Notification::Test) => {
            info!("s3:TestEvent skipped");
            return Disposition::Done;
        }
        Ok(Notification::Objects(objects)) => objects,
        Err(err) => {
            // Not a file notification: retrying cannot help, and no file is lost by dropping it.
            error!(error = %err, "message dropped");
            return Disposition::Done;
        }
    };
    let mut disposition = Disposition::Done;
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
            warn!(key = %loggable_key(&object.key), prefix = %deps.inbound_prefix, "object outside the inbound prefix; skipped");
            continue;
        };
        // The key is the sender's choice: logged only once it is a valid file name, else hashed.
        let logged = loggable_key(key);
        // The sender is the folder it could write (bucket policy): tis/, trusts/<VPD>/.
        let origin = FileOrigin::of_inbound_key(key);
        // The version this notification is about: its size is checked and it is what is read.
        let version = object.version_id.as_deref();
        let ctx = deps
            .ports
            .context(Utc::now())
            .with_metrics(deps.metrics.as_ref());
        match process_received(&ctx, key, version, &origin, None).await {
            Ok(report) => log_report(&report),
            Err(err) if err.is_transient() => {
                let error = err.to_string().replace(key, &logged);
                warn!(file = %logged, error = %error, "transient failure; the message will be retried");
                disposition = Disposition::Retry;
            }
            Err(err) => {
                let error = err.to_string().replace(key, &logged);
                error!(file = %logged, error = %error, "failed; the file stays in the inbound bucket for replay");
            }
        }
    }
    disposition
}

fn log_report(report: &FileReport) {
    let file = loggable_key(&report.file);
    info!(
        file = %file,
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
        warn!(file = %file, "{warning}");
    }
}

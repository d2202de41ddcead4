//! The trust-messages Lambda handler: trust actions and Trac employment checks, one JSON message
//! per SQS record.
//!
//! A plain async function over the ports, so tests call it with SQLite and folders or with
//! DynamoDB and S3 on moto; `main.rs` only builds the real adapters once and starts the runtime.
//! Every message is answered (refusals included) and not retried; only a store or bucket that
//! cannot be reached makes a message come back, through the batch's item failures.

pub mod config;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::Utc;
use dit_shared::domain::org::Organisations;
use dit_shared::ports::{BlobStore, StateStore};
use dit_shared::service::messages::{handle_message, MessageContext};
use lambda_runtime::{Error, LambdaEvent};
use tracing::{error, info_span, warn, Instrument};

/// What the handler works with, built once per Lambda instance.
pub struct Deps {
    pub store: Box<dyn StateStore>,
    pub blobs: Box<dyn BlobStore>,
    pub organisations: Organisations,
}

/// Handles one SQS batch in order; only messages that hit a transient failure are reported back.
///
/// # Errors
/// Never for message content; per-message failures go into the batch response.
pub async fn handle(deps: &Deps, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    let mut response = SqsBatchResponse::default();
    for record in event.payload.records {
        let sqs_id = record.message_id.clone().unwrap_or_default();
        let span = info_span!("sqs_message", sqs_message_id = %sqs_id);
        let retry = handle_record(deps, record.body.as_deref().unwrap_or(""))
            .instrument(span)
            .await;
        if retry {
            response.add_failure(sqs_id);
        }
    }
    Ok(response)
}

/// Returns true when the message should be retried.
async fn handle_record(deps: &Deps, body: &str) -> bool {
    let ctx = MessageContext {
        store: deps.store.as_ref(),
        blobs: deps.blobs.as_ref(),
        organisations: &deps.organisations,
        now: Utc::now(),
    };
    match handle_message(&ctx, body).await {
        // The service logs each outcome (ids, status, reason code).
        Ok(_) => false,
        Err(err) if err.is_transient() => {
            warn!(error = %err, "transient failure; the message will be retried");
            true
        }
        Err(err) => {
            error!(error = %err, "message failed and will not be retried");
            false
        }
    }
}

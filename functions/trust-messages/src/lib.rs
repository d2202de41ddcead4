//! The trust-messages Lambda handler: trust actions and Trac employment checks, one JSON message
//! per SQS record.
//!
//! A plain async function over the ports, so tests call it with SQLite and folders or with
//! DynamoDB and S3 on moto; `main.rs` only builds the real adapters once and starts the runtime.
//! Every message is answered (refusals included) and not retried; only a store or bucket that
//! cannot be reached makes a message come back, through the batch's item failures.
//!
//! The sender is the record's `SenderId` attribute, set by SQS from the credentials that sent the
//! message (never from the body), mapped to a trust, Trac or an operator by the `[[sender]]`
//! entries of the organisation configuration.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::Utc;
use dit_aws::sqs::{handle_batch, Disposition};
use dit_core::service::context::Ports;
use dit_core::service::messages::handle_message;
use lambda_runtime::{Error, LambdaEvent};
use tracing::{error, warn};

/// Handles one SQS batch in order; only messages that hit a transient failure are reported back.
///
/// # Errors
/// Never for message content; per-message failures go into the batch response.
pub async fn handle(
    ports: &Ports,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, Error> {
    Ok(handle_batch(event.payload, |record| async move {
        handle_record(ports, &record).await
    })
    .await)
}

/// The SQS attribute naming the principal that sent the message.
pub const SENDER_ID: &str = "SenderId";

async fn handle_record(ports: &Ports, record: &SqsMessage) -> Disposition {
    let sender = ports
        .organisations
        .sender(record.attributes.get(SENDER_ID).map(String::as_str));
    let body = record.body.as_deref().unwrap_or("");
    match handle_message(&ports.context(Utc::now()), &sender, body).await {
        // The service logs each outcome (ids, status, reason code).
        Ok(_) => Disposition::Done,
        Err(err) if err.is_transient() => {
            warn!(error = %err, "transient failure; the message will be retried");
            Disposition::Retry
        }
        Err(err) => {
            error!(error = %err, "message failed and will not be retried");
            Disposition::Done
        }
    }
}

//! The SQS batch loop every queue-fed function shares: records handled one at a time in delivery
//! order, each inside its own span, and only the records that asked for it reported back as batch
//! item failures (so SQS redelivers those alone, and the rest are deleted).

use std::future::Future;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use tracing::{info_span, Instrument};

/// What became of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Handled (or refused for good): delete it.
    Done,
    /// A transient failure: deliver it again later.
    Retry,
}

/// Runs `handle` over every record of `event` in order and collects the retries.
pub async fn handle_batch<F, Fut>(event: SqsEvent, mut handle: F) -> SqsBatchResponse
where
    F: FnMut(SqsMessage) -> Fut,
    Fut: Future<Output = Disposition>,
{
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let sqs_message_id = record.message_id.clone().unwrap_or_default();
        let span = info_span!("sqs_message", sqs_message_id = %sqs_message_id);
        if handle(record).instrument(span).await == Disposition::Retry {
            response.add_failure(sqs_message_id);
        }
    }
    response
}

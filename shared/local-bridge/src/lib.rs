//! Lambda's SQS event source mapping, for the local stack of `scripts/local-cloud.sh`.
//!
//! `scripts/local_cloud.py stack` reads `infra/template.yaml` and writes `stack.json`: for each
//! function's SQS event, the queue, batch size, batching window and whether the function reports
//! batch item failures. The bridge polls those queues, hands each batch to the function in the
//! shape Lambda gives it, deletes what the function handled and lets the rest come back; the
//! queue's redrive policy (also from the template) moves a message to its dead-letter queue after
//! `maxReceiveCount` receives, as in AWS.
//!
//! This file holds the pure parts (reading `stack.json`, building the event, reading the batch
//! response); `main.rs` does the polling and the invoking.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use aws_sdk_sqs::types::{Message, MessageAttributeValue, MessageSystemAttributeName};
use serde_json::{json, Map, Value};

/// One SQS event source of a function, as the template defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub function: String,
    pub queue: String,
    pub queue_url: String,
    pub event_source_arn: String,
    pub batch_size: usize,
    pub batching_window: Duration,
    pub report_batch_item_failures: bool,
}

/// The SQS event sources in `stack.json`.
///
/// # Errors
/// A field missing or of the wrong type, named.
pub fn mappings(stack: &Value) -> Result<Vec<Mapping>, String> {
    let list = stack["event_source_mappings"]
        .as_array()
        .ok_or("stack.json: event_source_mappings is not a list")?;
    list.iter()
        .enumerate()
        .map(|(i, m)| {
            let text = |field: &str| {
                m[field].as_str().map(str::to_string).ok_or_else(|| {
                    format!("stack.json: event_source_mappings[{i}].{field} is not text")
                })
            };
            let number = |field: &str| {
                m[field].as_u64().ok_or_else(|| {
                    format!("stack.json: event_source_mappings[{i}].{field} is not a number")
                })
            };
            let batch_size = number("batch_size")?;
            if !(1..=10).contains(&batch_size) {
                return Err(format!(
                    "stack.json: event_source_mappings[{i}].batch_size {batch_size} is not 1 to 10 \
                     (an SQS receive returns at most 10 messages)"
                ));
            }
            Ok(Mapping {
                function: text("function")?,
                queue: text("queue")?,
                queue_url: text("queue_url")?,
                event_source_arn: text("event_source_arn")?,
                batch_size: batch_size as usize,
                batching_window: Duration::from_secs(number("batching_window_seconds")?),
                report_batch_item_failures: m["report_batch_item_failures"]
                    .as_bool()
                    .unwrap_or(false),
            })
        })
        .collect()
}

/// The event Lambda's SQS poller gives a function for `messages` (camelCase record fields,
/// system attributes by name, message attributes with their data types).
pub fn sqs_event(messages: &[Message], event_source_arn: &str, region: &str) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|message| {
            let attributes: Map<String, Value> = message
                .attributes()
                .map(|attributes| {
                    attributes
                        .iter()
                        .map(|(name, value)| (name.as_str().to_string(), json!(value)))
                        .collect()
                })
                .unwrap_or_default();
            let message_attributes: Map<String, Value> = message
                .message_attributes()
                .map(|attributes| {
                    attributes
                        .iter()
                        .map(|(name, value)| (name.clone(), message_attribute(value)))
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "messageId": message.message_id(),
                "receiptHandle": message.receipt_handle(),
                "body": message.body(),
                "attributes": attributes,
                "messageAttributes": message_attributes,
                "md5OfBody": message.md5_of_body(),
                "eventSource": "aws:sqs",
                "eventSourceARN": event_source_arn,
                "awsRegion": region,
            })
        })
        .collect();
    json!({ "Records": records })
}

fn message_attribute(value: &MessageAttributeValue) -> Value {
    // Lambda gives binary attributes base64-encoded.
    let base64 = |blob: &aws_sdk_sqs::primitives::Blob| aws_smithy_types::base64::encode(blob);
    json!({
        "stringValue": value.string_value(),
        "binaryValue": value.binary_value().map(base64),
        "stringListValues": value.string_list_values(),
        "binaryListValues": value
            .binary_list_values()
            .iter()
            .map(base64)
            .collect::<Vec<_>>(),
        "dataType": value.data_type(),
    })
}

/// What became of a batch, read from the function's response the way Lambda reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Every message was handled: delete them all.
    Handled,
    /// These messages (by message id) failed: they come back; the others are deleted.
    Failed(BTreeSet<String>),
    /// The whole batch comes back.
    AllFailed(String),
}

/// Reads the response of a function invocation for a batch of `message_ids`.
///
/// As Lambda does with `ReportBatchItemFailures`: no response, an empty or null
/// `batchItemFailures` is success; a response that is not JSON, or an item failure whose
/// `itemIdentifier` is missing, empty or not in the batch, fails the whole batch. Without
/// `ReportBatchItemFailures` only an invocation error fails the batch.
pub fn batch_outcome(
    response: &str,
    message_ids: &[String],
    report_batch_item_failures: bool,
) -> BatchOutcome {
    if !report_batch_item_failures || response.trim().is_empty() {
        return BatchOutcome::Handled;
    }
    let value: Value = match serde_json::from_str(response) {
        Ok(value) => value,
        Err(_) => return BatchOutcome::AllFailed("the response is not JSON".into()),
    };
    let failures = match &value {
        Value::Null => return BatchOutcome::Handled,
        Value::Object(object) => match object.get("batchItemFailures") {
            None | Some(Value::Null) => return BatchOutcome::Handled,
            Some(Value::Array(items)) => items,
            Some(_) => {
                return BatchOutcome::AllFailed("batchItemFailures is not a list".into());
            }
        },
        _ => return BatchOutcome::AllFailed("the response is not a JSON object".into()),
    };
    let mut failed = BTreeSet::new();
    for item in failures {
        match item.get("itemIdentifier").and_then(Value::as_str) {
            Some(id) if !id.is_empty() && message_ids.iter().any(|m| m == id) => {
                failed.insert(id.to_string());
            }
            _ => {
                return BatchOutcome::AllFailed(format!(
                    "batch item failure {item} does not name a message of the batch"
                ));
            }
        }
    }
    if failed.is_empty() {
        BatchOutcome::Handled
    } else {
        BatchOutcome::Failed(failed)
    }
}

/// The system attributes Lambda passes on (the SQS record's `attributes`).
pub fn system_attribute_names() -> Vec<MessageSystemAttributeName> {
    vec![MessageSystemAttributeName::All]
}

/// How many messages of each function's batches the invocations handled and failed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    pub batches: u64,
    pub handled: u64,
    pub failed: u64,
}

/// Adds up `runs.jsonl` (one JSON line per invocation) per function.
pub fn tally(runs: &str) -> HashMap<String, Tally> {
    let mut tallies: HashMap<String, Tally> = HashMap::new();
    for line in runs.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(run) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let function = run["function"].as_str().unwrap_or("?").to_string();
        let tally = tallies.entry(function).or_default();
        tally.batches += 1;
        let records = run["records"].as_u64().unwrap_or(0);
        let failed = run["failed"].as_u64().unwrap_or(0);
        tally.failed += failed;
        tally.handled += records.saturating_sub(failed);
    }
    tallies
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<String> {
        vec!["a".into(), "b".into()]
    }

    #[test]
    fn empty_or_null_failures_handle_the_whole_batch() {
        for response in [
            "",
            "null",
            "{}",
            r#"{"batchItemFailures":[]}"#,
            r#"{"batchItemFailures":null}"#,
        ] {
            assert_eq!(
                batch_outcome(response, &ids(), true),
                BatchOutcome::Handled,
                "{response}"
            );
        }
    }

    #[test]
    fn named_failures_come_back_alone() {
        let outcome = batch_outcome(
            r#"{"batchItemFailures":[{"itemIdentifier":"b"}]}"#,
            &ids(),
            true,
        );
        assert_eq!(outcome, BatchOutcome::Failed(BTreeSet::from(["b".into()])));
    }

    #[test]
    fn unreadable_responses_and_unknown_ids_fail_the_whole_batch() {
        for response in [
            "not json",
            r#"{"batchItemFailures":[{"itemIdentifier":"zzz"}]}"#,
            r#"{"batchItemFailures":[{"itemIdentifier":""}]}"#,
            r#"{"batchItemFailures":[{"id":"a"}]}"#,
            r#"{"batchItemFailures":"a"}"#,
        ] {
            assert!(
                matches!(
                    batch_outcome(response, &ids(), true),
                    BatchOutcome::AllFailed(_)
                ),
                "{response}"
            );
        }
    }

    #[test]
    fn without_report_batch_item_failures_the_response_is_not_read() {
        assert_eq!(
            batch_outcome(
                r#"{"batchItemFailures":[{"itemIdentifier":"a"}]}"#,
                &ids(),
                false
            ),
            BatchOutcome::Handled
        );
    }

    #[test]
    fn the_event_has_lambdas_record_shape() {
        let message = Message::builder()
            .message_id("m-1")
            .receipt_handle("r-1")
            .body("{\"id\":\"x\"}")
            .md5_of_body("md5")
            .attributes(MessageSystemAttributeName::SenderId, "AIDAEXAMPLE")
            .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "2")
            .message_attributes(
                "bin",
                MessageAttributeValue::builder()
                    .data_type("Binary")
                    .binary_value(aws_sdk_sqs::primitives::Blob::new(b"hi!?".to_vec()))
                    .build()
                    .unwrap(),
            )
            .build();
        let event = sqs_event(&[message], "arn:aws:sqs:eu-west-2:1:q", "eu-west-2");
        let record = &event["Records"][0];
        assert_eq!(record["messageId"], "m-1");
        assert_eq!(record["receiptHandle"], "r-1");
        assert_eq!(record["body"], "{\"id\":\"x\"}");
        assert_eq!(record["attributes"]["SenderId"], "AIDAEXAMPLE");
        assert_eq!(record["attributes"]["ApproximateReceiveCount"], "2");
        assert_eq!(record["eventSource"], "aws:sqs");
        assert_eq!(record["eventSourceARN"], "arn:aws:sqs:eu-west-2:1:q");
        assert_eq!(record["messageAttributes"]["bin"]["dataType"], "Binary");
        assert_eq!(
            record["messageAttributes"]["bin"]["binaryValue"],
            "aGkhPw=="
        );
    }

    #[test]
    fn mappings_are_read_and_checked() {
        let stack = json!({"event_source_mappings": [{
            "function": "trust-messages", "queue": "TrustMessagesQueue",
            "queue_url": "http://127.0.0.1:1/1/q", "event_source_arn": "arn:aws:sqs:r:1:q",
            "batch_size": 10, "batching_window_seconds": 1, "report_batch_item_failures": true
        }]});
        let read = mappings(&stack).unwrap();
        assert_eq!(read[0].batching_window, Duration::from_secs(1));
        assert!(read[0].report_batch_item_failures);
        let mut too_big = stack.clone();
        too_big["event_source_mappings"][0]["batch_size"] = json!(100);
        assert!(mappings(&too_big).unwrap_err().contains("batch_size"));
        let mut missing = stack;
        missing["event_source_mappings"][0]
            .as_object_mut()
            .unwrap()
            .remove("queue_url");
        assert!(mappings(&missing).unwrap_err().contains("queue_url"));
    }

    #[test]
    fn runs_are_tallied_per_function() {
        let runs = "{\"function\":\"f\",\"records\":3,\"failed\":1}\n\
                    {\"function\":\"f\",\"records\":1,\"failed\":0}\nnot json\n";
        let tally = &tally(runs)["f"];
        assert_eq!((tally.batches, tally.handled, tally.failed), (2, 3, 1));
    }
}

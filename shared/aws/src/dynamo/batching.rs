//! Request shapes shared by the port methods: consistent gets, batch reads and writes in the
//! service limits with unprocessed items retried, paginated queries, backoff.

use super::keys::s;
use aws_sdk_dynamodb::types::DeleteRequest;
use aws_sdk_dynamodb::types::{KeysAndAttributes, PutRequest, WriteRequest};
use dit_core::ports::StoreError;
use dit_domain::retention::TTL_ATTRIBUTE;
use std::collections::HashMap;
use std::time::Duration;

use super::store::*;

/// DynamoDB limits.
pub(super) const BATCH_GET_LIMIT: usize = 100;
pub(super) const BATCH_WRITE_LIMIT: usize = 25;

/// Attempts for unprocessed batch items and cancelled (conflicting or throttled) transactions.
pub(super) const MAX_ATTEMPTS: u32 = 8;
pub(super) const BACKOFF_BASE_MS: u64 = 25;
pub(super) const BACKOFF_CAP_MS: u64 = 2_000;

/// Exponential backoff with a little jitter, for attempt 1, 2, ...
pub(super) async fn backoff(attempt: u32) {
    let exp = BACKOFF_BASE_MS.saturating_mul(1u64 << attempt.min(16));
    let capped = exp.min(BACKOFF_CAP_MS);
    let jitter = u64::from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0),
    ) % (capped / 2 + 1);
    tokio::time::sleep(Duration::from_millis(capped / 2 + jitter)).await;
}

/// Counts one more attempt at what a batch request left unprocessed, waits, and gives up as
/// unavailable after [`MAX_ATTEMPTS`].
pub(super) async fn retry_unprocessed(
    op: &str,
    what: &str,
    left: usize,
    attempt: &mut u32,
) -> Result<(), StoreError> {
    *attempt += 1;
    if *attempt >= MAX_ATTEMPTS {
        return Err(StoreError::Unavailable(format!(
            "{op} left {left} {what} unprocessed after {attempt} attempts"
        )));
    }
    tracing::debug!(unprocessed = left, attempt = *attempt, "retrying {op}");
    backoff(*attempt).await;
    Ok(())
}

impl DynamoStore {
    pub(super) async fn get_item(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", &e))?;
        Ok(out.item.filter(|item| !item.is_empty() && self.live(item)))
    }

    /// BatchGetItem in chunks of 100 (consistent reads), retrying unprocessed keys; `only` reads
    /// just that attribute. Like every read helper here, it leaves out items past their
    /// retention ([`DynamoStore::live`]).
    pub(super) async fn batch_get(
        &self,
        keys: Vec<Item>,
        only: Option<&str>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH_GET_LIMIT) {
            let mut pending = chunk.to_vec();
            let mut attempt = 0;
            while !pending.is_empty() {
                let mut request = KeysAndAttributes::builder()
                    .set_keys(Some(pending))
                    .consistent_read(true);
                if let Some(attribute) = only {
                    // The TTL too, so that an expired item is left out here as well.
                    request = request
                        .projection_expression("#only, #expires")
                        .expression_attribute_names("#only", attribute)
                        .expression_attribute_names("#expires", TTL_ATTRIBUTE);
                }
                let request = request.build().map_err(build_error)?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| sdk_error("BatchGetItem", &e))?;
                if let Some(items) = out.responses.and_then(|mut r| r.remove(&self.table)) {
                    found.extend(items.into_iter().filter(|item| self.live(item)));
                }
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .map(|k| k.keys)
                    .unwrap_or_default();
                if !pending.is_empty() {
                    retry_unprocessed("BatchGetItem", "keys", pending.len(), &mut attempt).await?;
                }
            }
        }
        Ok(found)
    }

    /// BatchWriteItem puts in chunks of 25, retrying unprocessed items.
    pub(super) async fn batch_put(&self, items: Vec<Item>) -> Result<(), StoreError> {
        let mut requests = Vec::with_capacity(items.len());
        for item in items {
            let put = PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map_err(build_error)?;
            requests.push(WriteRequest::builder().put_request(put).build());
        }
        self.batch_write(requests, "items").await
    }

    /// Sends write requests in BatchWriteItem chunks of 25, retrying what DynamoDB leaves
    /// unprocessed; `what` names the requests in the retry's error.
    async fn batch_write(
        &self,
        requests: Vec<WriteRequest>,
        what: &'static str,
    ) -> Result<(), StoreError> {
        for chunk in requests.chunks(BATCH_WRITE_LIMIT) {
            let mut pending = chunk.to_vec();
            let mut attempt = 0;
            while !pending.is_empty() {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(|e| sdk_error("BatchWriteItem", &e))?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .unwrap_or_default();
                if !pending.is_empty() {
                    retry_unprocessed("BatchWriteItem", what, pending.len(), &mut attempt).await?;
                }
            }
        }
        Ok(())
    }

    /// Every item of one partition: `key` (the table's `PK` or an index's partition key, with
    /// `index`) equal to `partition`.
    pub(super) async fn query_partition(
        &self,
        index: Option<&str>,
        key: &str,
        partition: impl Into<String>,
    ) -> Result<Vec<Item>, StoreError> {
        self.query_all(
            index,
            "#pk = :pk",
            &[("#pk", key)],
            HashMap::from([(":pk".to_string(), s(partition))]),
        )
        .await
    }

    /// Every item of a query, following pages. Consistent reads only on the table itself.
    pub(super) async fn query_all(
        &self,
        index: Option<&str>,
        condition: &str,
        names: &[(&str, &str)],
        values: Item,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut request = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index.map(str::to_string))
                .key_condition_expression(condition)
                .set_expression_attribute_values(Some(values.clone()))
                .set_exclusive_start_key(start.take())
                .consistent_read(index.is_none());
            for (name, attribute) in names {
                request = request.expression_attribute_names(*name, *attribute);
            }
            let out = request.send().await.map_err(|e| sdk_error("Query", &e))?;
            items.extend(
                out.items
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|item| self.live(item)),
            );
            match out.last_evaluated_key {
                Some(next) if !next.is_empty() => start = Some(next),
                _ => break,
            }
        }
        Ok(items)
    }
}

impl DynamoStore {
    /// BatchWriteItem deletes in chunks of 25, retrying unprocessed keys (absent keys are no error).
    pub(super) async fn batch_delete(&self, keys: Vec<Item>) -> Result<(), StoreError> {
        let mut requests = Vec::with_capacity(keys.len());
        for key in keys {
            let delete = DeleteRequest::builder()
                .set_key(Some(key))
                .build()
                .map_err(build_error)?;
            requests.push(WriteRequest::builder().delete_request(delete).build());
        }
        self.batch_write(requests, "deletes").await
    }
}

//! Counters: applicant numbers in blocks (an atomic `ADD`), blocks reserved once per holder, and
//! the named sequences.

use super::batching::{backoff, MAX_ATTEMPTS};
use super::keys::{
    key, n, number_attr, reservation_key, s, sequence_counter_pk, COUNTER_PK, COUNTER_SK, PK,
};
use super::store::*;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, ReturnValue, TransactWriteItem, Update};
use dit_core::ports::{Counter, StoreError};

impl DynamoStore {
    /// A block of `count` applicant numbers: the first of them.
    pub(super) async fn add_numbers(&self, count: u64) -> Result<u64, StoreError> {
        let what = "applicant number counter";
        if count == 0 {
            let item = self
                .get_item(key(COUNTER_PK.to_string(), COUNTER_SK))
                .await?
                .unwrap_or_default();
            return Ok(number_attr(&item, "next", what)?.unwrap_or(0) + 1);
        }
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(COUNTER_PK.to_string(), COUNTER_SK)))
            .update_expression("ADD #next :count")
            .expression_attribute_names("#next", "next")
            .expression_attribute_values(":count", n(count))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| sdk_error("UpdateItem", &e))?;
        let last = number_attr(&out.attributes.unwrap_or_default(), "next", what)?
            .ok_or_else(|| StoreError::Corrupt(format!("{what} was not returned")))?;
        let first = (last + 1)
            .checked_sub(count)
            .ok_or_else(|| StoreError::Corrupt(format!("{what} is below {count}")))?;
        tracing::info!(first, count, "applicant numbers allocated");
        Ok(first)
    }

    /// The block of `holder` on `counter`, reserved on its first call and given again after.
    pub(super) async fn reserve_block(
        &self,
        counter: Counter<'_>,
        holder: &str,
        count: u64,
    ) -> Result<std::ops::Range<u64>, StoreError> {
        let counter_pk = match counter {
            Counter::ApplicantNumbers => COUNTER_PK.to_string(),
            Counter::Sequence(sequence) => sequence_counter_pk(sequence),
        };
        let what = format!("numbers of {counter_pk} reserved for {holder}");
        let reservation = reservation_key(&counter_pk, holder);
        let mut attempt = 0;
        loop {
            if let Some(item) = self.get_item(reservation.clone()).await? {
                let first = number_attr(&item, "first", &what)?;
                let reserved = number_attr(&item, "count", &what)?;
                let (Some(first), Some(reserved)) = (first, reserved) else {
                    return Err(StoreError::Corrupt(format!(
                        "{what}: incomplete reservation"
                    )));
                };
                return Ok(first..first + reserved);
            }
            let current = match self.get_item(key(counter_pk.clone(), COUNTER_SK)).await? {
                Some(item) => number_attr(&item, "next", &what)?.unwrap_or(0),
                None => 0,
            };
            if count == 0 {
                return Ok(current + 1..current + 1);
            }
            // The counter moves and the reservation is written together, only if the counter
            // still stands where it was read and no reservation for the holder has appeared.
            let advance = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(counter_pk.clone(), COUNTER_SK)))
                .update_expression("SET #next = :next")
                .condition_expression(if current == 0 {
                    "attribute_not_exists(#next) OR #next = :current"
                } else {
                    "#next = :current"
                })
                .expression_attribute_names("#next", "next")
                .expression_attribute_values(":next", n(current + count))
                .expression_attribute_values(":current", n(current))
                .build()
                .map_err(build_error)?;
            let mut item = reservation.clone();
            item.insert("first".to_string(), n(current + 1));
            item.insert("count".to_string(), n(count));
            item.insert("holder".to_string(), s(holder));
            let actions = vec![
                TransactWriteItem::builder().update(advance).build(),
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(&self.table)
                            .set_item(Some(item))
                            .condition_expression("attribute_not_exists(#pk)")
                            .expression_attribute_names("#pk", PK)
                            .build()
                            .map_err(build_error)?,
                    )
                    .build(),
            ];
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(actions))
                .send()
                .await;
            match result {
                Ok(_) => {
                    tracing::info!(counter = %counter_pk, holder, first = current + 1, count, "numbers reserved");
                    return Ok(current + 1..current + 1 + count);
                }
                Err(err) => match err.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(_)) => {}
                    _ => return Err(sdk_error("TransactWriteItems", &err)),
                },
            }
            // Another reservation or allocation got there first: read again.
            attempt += 1;
            if attempt >= MAX_ATTEMPTS * 3 {
                return Err(StoreError::Unavailable(format!(
                    "{what}: the counter moved {attempt} times while reserving; retry"
                )));
            }
            tracing::debug!(counter = %counter_pk, holder, attempt, "reservation raced; retrying");
            backoff(attempt.min(MAX_ATTEMPTS - 1)).await;
        }
    }

    /// The next number of the sequence `name`, from 1.
    pub(super) async fn next_of_sequence(&self, name: &str) -> Result<u64, StoreError> {
        let what = format!("sequence {name}");
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(sequence_counter_pk(name), COUNTER_SK)))
            .update_expression("ADD #next :one")
            .expression_attribute_names("#next", "next")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| sdk_error("UpdateItem", &e))?;
        number_attr(&out.attributes.unwrap_or_default(), "next", &what)?
            .ok_or_else(|| StoreError::Corrupt(format!("{what} was not returned")))
    }
}

//! A move of an applicant (`record_move`): one transaction, conditional on the version read, that
//! writes the applicant and its history entry; then the applicant's TTL on its other items.

use super::batching::{backoff, MAX_ATTEMPTS};
use super::codec::{applicant_expiry, applicant_item, history_item};
use super::keys::{
    applicant_pk, n, person_key_item, person_update_pk, placement_key, s, HISTORY_PREFIX, PK, SK,
};
use super::store::*;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use dit_core::ports::{MoveOutcome, StoreError};
use dit_domain::model::{Applicant, HistoryEntry};

impl DynamoStore {
    /// The applicant after a move and its history entry, if the stored version is `expected_version`.
    pub(super) async fn put_move(
        &self,
        expected_version: u32,
        applicant: &Applicant,
        entry: &HistoryEntry,
    ) -> Result<MoveOutcome, StoreError> {
        let number = &applicant.applicant_number;
        if entry.seq <= expected_version {
            // Entries 1 to the stored version exist (a creation's under one item).
            return Err(StoreError::Corrupt(format!(
                "applicant {number} is at version {expected_version}: history {} exists",
                entry.seq
            )));
        }
        let (ttl_attribute, ttl_value) = applicant_expiry(applicant);
        // The move is first written on condition that the applicant's TTL stays as it was, which
        // holds for most moves (an offer, a hire, a reminder mark). Only when that condition alone
        // fails (a withdrawal, a new end date) is it written without it and the history entries
        // and placement link restamped: a query and writes a move that keeps its TTL never pays.
        let actions = |same_ttl: bool| -> Result<Vec<TransactWriteItem>, StoreError> {
            let condition = if same_ttl {
                "attribute_exists(#pk) AND #version = :expected AND #expires = :expires"
            } else {
                "attribute_exists(#pk) AND #version = :expected"
            };
            let mut put_applicant = Put::builder()
                .table_name(&self.table)
                .set_item(Some(applicant_item(applicant)?))
                .condition_expression(condition)
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":expected", n(expected_version));
            if same_ttl {
                put_applicant = put_applicant
                    .expression_attribute_names("#expires", &ttl_attribute)
                    .expression_attribute_values(":expires", ttl_value.clone());
            }
            let put_history = Put::builder()
                .table_name(&self.table)
                .set_item(Some(history_item(applicant, entry)?))
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK)
                .build()
                .map_err(build_error)?;
            // The version condition on the applicant must hold for its history entry to be written.
            Ok(vec![
                TransactWriteItem::builder()
                    .put(put_applicant.build().map_err(build_error)?)
                    .build(),
                TransactWriteItem::builder().put(put_history).build(),
            ])
        };
        let mut same_ttl = true;
        let mut attempt = 0;
        loop {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(actions(same_ttl)?))
                .send()
                .await;
            let err = match result {
                Ok(_) => {
                    tracing::info!(
                        applicant_number = %number,
                        version = entry.seq,
                        to = %entry.to,
                        "applicant move stored"
                    );
                    if !same_ttl {
                        // A withdrawal or a new end date moves the retention of everything kept
                        // with the applicant (section 8). A failure here leaves older entries
                        // kept longer, never shorter; the next such move stamps them again.
                        self.restamp(applicant).await?;
                    }
                    return Ok(MoveOutcome::Stored);
                }
                Err(err) => err,
            };
            let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
                err.as_service_error()
            else {
                return Err(sdk_error("TransactWriteItems", &err));
            };
            let codes: Vec<&str> = cancelled
                .cancellation_reasons()
                .iter()
                .map(|r| r.code().unwrap_or("None"))
                .collect();
            match codes.as_slice() {
                ["ConditionalCheckFailed", ..] if same_ttl => {
                    // The version or the TTL differs: try again on the version alone.
                    same_ttl = false;
                    continue;
                }
                ["ConditionalCheckFailed", ..] => {
                    tracing::info!(
                        applicant_number = %number,
                        expected_version,
                        "applicant moved on: conflict"
                    );
                    return Ok(MoveOutcome::Conflict);
                }
                [_, "ConditionalCheckFailed"] => {
                    return Err(StoreError::Corrupt(format!(
                        "applicant {number} is at version {expected_version} but already has history {}",
                        entry.seq
                    )));
                }
                _ if codes.contains(&"ValidationError") => {
                    return Err(StoreError::Corrupt(format!(
                        "TransactWriteItems refused the move of applicant {number}: {codes:?}"
                    )));
                }
                _ => {}
            }
            attempt += 1;
            if attempt >= MAX_ATTEMPTS {
                return Err(StoreError::Unavailable(format!(
                    "TransactWriteItems for applicant {number} cancelled {attempt} times ({codes:?})"
                )));
            }
            tracing::debug!(applicant_number = %number, attempt, ?codes, "retrying move");
            backoff(attempt).await;
        }
    }

    /// Gives the applicant's history entries, person updates and placement link the applicant's
    /// TTL where they have another (after a move changed it), and raises its person record's to it.
    async fn restamp(&self, applicant: &Applicant) -> Result<(), StoreError> {
        let (attribute, value) = applicant_expiry(applicant);
        let number = &applicant.applicant_number;
        let mut stale: Vec<Item> = Vec::new();
        for (pk, sk_prefix) in [
            (applicant_pk(number), HISTORY_PREFIX.to_string()),
            (person_update_pk(&applicant.vpd), format!("{number}#")),
        ] {
            self.stale_ttls(&pk, &sk_prefix, &attribute, &value, &mut stale)
                .await?;
        }
        stale.push(placement_key(&applicant.placement_id));
        let mut updates: Vec<(Item, &str)> = stale
            .into_iter()
            .map(|key| (key, "attribute_exists(#pk)"))
            .collect();
        // The person record is kept as long as the person's longest-kept applicant: only raised.
        if let Some(person_key) = &applicant.person_key {
            updates.push((
                person_key_item(&applicant.vpd, person_key),
                "attribute_exists(#pk) AND (attribute_not_exists(#expires) OR #expires < :expires)",
            ));
        }
        for (key, condition) in updates {
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key))
                .update_expression("SET #expires = :expires")
                .condition_expression(condition)
                .expression_attribute_names("#expires", &attribute)
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":expires", value.clone())
                .send()
                .await;
            match result {
                Ok(_) => {}
                // Not there (never written, or already expired), or a person record kept longer.
                Err(err)
                    if matches!(
                        err.as_service_error(),
                        Some(UpdateItemError::ConditionalCheckFailedException(_))
                    ) => {}
                Err(err) => return Err(sdk_error("UpdateItem", &err)),
            }
        }
        Ok(())
    }

    /// Adds to `stale` the keys of the items of partition `pk` whose sort key starts with
    /// `sk_prefix` and whose TTL is not `value`.
    async fn stale_ttls(
        &self,
        pk: &str,
        sk_prefix: &str,
        attribute: &str,
        value: &AttributeValue,
        stale: &mut Vec<Item>,
    ) -> Result<(), StoreError> {
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .projection_expression("#pk, #sk, #expires")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_names("#expires", attribute)
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":prefix", s(sk_prefix))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error("Query", &e))?;
            for item in page.items.unwrap_or_default() {
                if item.get(attribute) != Some(value) {
                    stale.push(
                        item.into_iter()
                            .filter(|(name, _)| name == PK || name == SK)
                            .collect(),
                    );
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(());
            }
        }
    }
}

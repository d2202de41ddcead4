//! DynamoDB adapter for [`StateStore`]: one table with string keys `PK`/`SK` and two overloaded
//! global secondary indexes (see `infra/template.yaml`).
//!
//! | Item            | PK                            | SK          | GSI1PK / GSI1SK                        | GSI2PK / GSI2SK                 |
//! |-----------------|-------------------------------|-------------|----------------------------------------|---------------------------------|
//! | processed file  | `FILE#<identity>`             | `FILE`      |                                        |                                 |
//! | TIS number seen | `RECEIVED#<type>`             | `D#<date>#<seq>#<LO>`, `N#<seq>#<LO>` |                   |                                 |
//! | position        | `POSITION#<position_id>`      | `POSITION`  | `TRUST#<vpd>#POSITIONS` / `<position>` | `DPN#<dpn>` / `<vpd>#<position>` |
//! | placement link  | `PLACEMENT#<placement_id>`    | `PLACEMENT` |                                        |                                 |
//! | applicant       | `APPLICANT#<number>`          | `A`         | `HIRE#<date>` / `<vpd>#<number>`       | `GMC#<gmc>` / `<vpd>#<number>`  |
//! |                 |                               |             | GSI3: `TRUST#<vpd>#APPLICANTS` / `<number>` (the portal's trust listing) | |
//! | inbox read mark | `READ#<vpd>`                  | `<item>`    |                                        |                                 |
//! | history entry   | `APPLICANT#<number>`          | `H#<seq:06>`|                                        |                                 |
//! | person          | `PERSON#<vpd>#<person_key>`   | `PERSON`    |                                        |                                 |
//! | number counter  | `COUNTER#numbers`             | `COUNTER`   |                                        |                                 |
//! | SEQ counter     | `COUNTER#sequence#<name>`     | `COUNTER`   |                                        |                                 |
//! | reservation     | `RESERVATION#<counter PK>#<holder>` | `RESERVATION` |                                  |                                 |
//! | rejected record | `REJECTED#<placement_id>`     | `<date>#<file>#<record>` | `TRUST#<vpd>#REJECTED` / the SK | `REJECTED_GMC#<gmc>` / the SK |
//! |                 |                               |             | GSI3: `REJECTED_FILED#<date>` / the SK (the exception report) | |
//! | alert sent      | `ALERT#<notification key>`    | `ALERT`     |                                        |                                 |
//!
//! Error messages and logs carry ids and counts only: never names, GMC/NI numbers or dates of
//! birth (so never a person key, and never the `Debug` form of an SDK error, which may hold items).

use std::collections::{BTreeSet, HashMap, HashSet};

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, NaiveDate, Utc};

use dit_core::ports::{Counter, CreateOutcome, MoveOutcome, NewApplicant, StateStore, StoreError};
use dit_domain::dnc::RotationEntry;
use dit_domain::model::{
    Applicant, ApplicantSummary, FileClaim, FileStatus, HistoryEntry, Person, PersonUpdate,
    PlacementLink, ProcessedFile, ReceivedSequence, RejectedApplication, RejectedLookup,
};
use dit_domain::pos::Position;
use dit_domain::retention::{self, TTL_ATTRIBUTE};

mod alerts;
mod applicants;
mod batching;
mod codec;
mod keys;
mod moves;
mod numbers;
mod portal;
mod received;
mod rejected;
mod store;

pub use alerts::AlertClaim;
use codec::*;
use keys::*;
pub use store::DynamoStore;
pub(crate) use store::Item;
use store::*;

// ---------------------------------------------------------------------------------------------
// The port
// ---------------------------------------------------------------------------------------------

#[async_trait]
impl StateStore for DynamoStore {
    async fn claim_file(&self, file: &ProcessedFile) -> Result<FileClaim, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(file_item(file)?))
            // A record past its retention is no duplicate: the file is judged afresh.
            .condition_expression(REPLACEABLE_IF_ABSENT)
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#expires", TTL_ATTRIBUTE)
            .expression_attribute_values(":now", self.expired_at_or_before())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        if let Err(err) = result {
            let Some(PutItemError::ConditionalCheckFailedException(failed)) =
                err.as_service_error()
            else {
                return Err(sdk_error("PutItem", &err));
            };
            let existing = match failed.item() {
                Some(item) if !item.is_empty() => decode_file(item.clone())?,
                _ => match self.get_item(file_key(&file.identity)).await? {
                    Some(item) => decode_file(item)?,
                    None => {
                        return Err(StoreError::Unavailable(format!(
                            "file {} was claimed and is gone: retry",
                            file.identity
                        )))
                    }
                },
            };
            tracing::info!(identity = %file.identity, status = ?existing.status, "file already claimed");
            if existing.sha256 != file.sha256 {
                return Ok(FileClaim::DifferentContent(existing));
            }
            return Ok(FileClaim::SameContent(existing));
        }
        tracing::info!(identity = %file.identity, "file claimed");
        Ok(FileClaim::New)
    }

    async fn note_received_sequence(&self, received: &ReceivedSequence) -> Result<(), StoreError> {
        self.put_received(received).await
    }

    async fn received_sequences_between_dates(
        &self,
        file_type: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ReceivedSequence>, StoreError> {
        let (from, to) = received_by_date_range(from, to);
        self.received_between(file_type, from, to).await
    }

    async fn received_sequences_between_numbers(
        &self,
        file_type: &str,
        lowest: u64,
        highest: u64,
    ) -> Result<Vec<ReceivedSequence>, StoreError> {
        let (from, to) = received_by_number_range(lowest, highest);
        self.received_between(file_type, from, to).await
    }

    async fn complete_file(
        &self,
        identity: &str,
        summary: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let what = format!("file {identity}");
        let summary = serde_json::to_string(summary)
            .map_err(|e| StoreError::Corrupt(format!("cannot encode {what} summary: {e}")))?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(file_key(identity)))
            // The first completion time stands, as in the SQLite store.
            .update_expression(
                "SET #status = :status, #completed = if_not_exists(#completed, :at), #summary = :summary",
            )
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#completed", "completed_at")
            .expression_attribute_names("#summary", SUMMARY_JSON)
            .expression_attribute_values(":status", encode_value(&what, &FileStatus::Processed)?)
            .expression_attribute_values(":at", encode_value(&what, &at)?)
            .expression_attribute_values(":summary", s(summary))
            .send()
            .await;
        match result {
            Ok(_) => {
                tracing::info!(identity, "file completed");
                Ok(())
            }
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(_)) => Err(
                    StoreError::Corrupt(format!("{what} was completed without being claimed")),
                ),
                _ => Err(sdk_error("UpdateItem", &err)),
            },
        }
    }

    async fn positions(&self, ids: &[String]) -> Result<HashMap<String, Position>, StoreError> {
        let unique: BTreeSet<&String> = ids.iter().collect();
        let keys = unique.into_iter().map(|id| position_key(id)).collect();
        let mut found = HashMap::new();
        for item in self.batch_get(keys, None).await? {
            let position: Position = decode("position", item)?;
            found.insert(position.position_id.clone(), position);
        }
        tracing::debug!(asked = ids.len(), found = found.len(), "positions read");
        Ok(found)
    }

    async fn trust_positions(&self, vpd: &str) -> Result<Vec<Position>, StoreError> {
        let items = self
            .query_partition(Some(GSI1), GSI1PK, trust_positions_pk(vpd))
            .await?;
        let positions = items
            .into_iter()
            .map(|item| decode(&format!("position of trust {vpd}"), item))
            .collect::<Result<Vec<Position>, _>>()?;
        tracing::debug!(vpd, count = positions.len(), "trust positions read");
        Ok(positions)
    }

    async fn positions_by_dpn(&self, dpn: &str) -> Result<Vec<Position>, StoreError> {
        if dpn.is_empty() {
            return Ok(Vec::new());
        }
        let items = self
            .query_partition(Some(GSI2), GSI2PK, dpn_pk(dpn))
            .await?;
        items
            .into_iter()
            .map(|item| decode("position", item))
            .collect()
    }

    async fn save_positions(&self, positions: &[Position]) -> Result<(), StoreError> {
        // A batch may not hold one key twice: the last version of a position wins.
        let mut latest: HashMap<&str, &Position> = HashMap::new();
        let mut order = Vec::new();
        for position in positions {
            if latest.insert(&position.position_id, position).is_none() {
                order.push(position.position_id.as_str());
            }
        }
        let mut items = Vec::with_capacity(order.len());
        for id in order {
            if let Some(position) = latest.get(id) {
                items.push(position_item(position)?);
            }
        }
        let count = items.len();
        self.batch_put(items).await?;
        tracing::info!(count, "positions saved");
        Ok(())
    }

    async fn placements(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, PlacementLink>, StoreError> {
        // A link whose applicant is not written yet is a creation in progress or interrupted
        // (see `applicants`): not loaded yet.
        let found: HashMap<String, PlacementLink> = self
            .stored_links(ids)
            .await?
            .into_iter()
            .filter(|(_, (_, complete))| *complete)
            .map(|(id, (stored, _))| (id, stored.link))
            .collect();
        tracing::debug!(asked = ids.len(), found = found.len(), "placements read");
        Ok(found)
    }

    async fn persons(
        &self,
        keys: &[(String, String)],
    ) -> Result<HashMap<(String, String), Person>, StoreError> {
        let unique: BTreeSet<&(String, String)> = keys.iter().collect();
        let items = unique
            .into_iter()
            .map(|(vpd, key)| person_key_item(vpd, key))
            .collect();
        let mut found = HashMap::new();
        for item in self.batch_get(items, None).await? {
            let person = decode_person(item)?;
            found.insert((person.vpd.clone(), person.person_key.clone()), person);
        }
        tracing::debug!(asked = keys.len(), found = found.len(), "persons read");
        Ok(found)
    }

    async fn allocate_numbers(&self, count: u64) -> Result<u64, StoreError> {
        self.add_numbers(count).await
    }

    async fn reserve_numbers(
        &self,
        counter: Counter<'_>,
        holder: &str,
        count: u64,
    ) -> Result<std::ops::Range<u64>, StoreError> {
        self.reserve_block(counter, holder, count).await
    }

    async fn create_applicants(
        &self,
        applicants: &[NewApplicant],
    ) -> Result<Vec<CreateOutcome>, StoreError> {
        self.create(applicants).await
    }

    async fn applicant(&self, applicant_number: &str) -> Result<Option<Applicant>, StoreError> {
        match self.get_item(applicant_key(applicant_number)).await? {
            Some(item) => Ok(Some(decode(
                &format!("applicant {applicant_number}"),
                item,
            )?)),
            None => Ok(None),
        }
    }

    async fn applicants_by_gmc(&self, gmc: &str) -> Result<Vec<Applicant>, StoreError> {
        if gmc.is_empty() {
            return Ok(Vec::new());
        }
        let items = self
            .query_partition(Some(GSI2), GSI2PK, gmc_pk(gmc))
            .await?;
        let applicants = items
            .into_iter()
            .map(|item| decode("applicant", item))
            .collect::<Result<Vec<Applicant>, _>>()?;
        tracing::debug!(count = applicants.len(), "applicants found by GMC number");
        Ok(applicants)
    }

    /// The applicant's partition (its item and the history items of its moves) in one query,
    /// then its placement link, which holds the creation history.
    async fn history(&self, applicant_number: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        let items = self
            .query_partition(None, PK, applicant_pk(applicant_number))
            .await?;
        let what = format!("history of applicant {applicant_number}");
        let mut entries = Vec::with_capacity(items.len() + 1);
        for mut item in items {
            match item.get(SK) {
                Some(AttributeValue::S(sk)) if sk.starts_with(HISTORY_PREFIX) => {
                    entries.extend(decode_history(&what, item)?);
                }
                Some(AttributeValue::S(sk)) if sk == APPLICANT_SK => {
                    let Some(AttributeValue::S(placement)) = item.remove("placement_id") else {
                        return Err(StoreError::Corrupt(format!(
                            "unreadable applicant {applicant_number}: no placement id"
                        )));
                    };
                    if let Some(mut link) = self.get_item(placement_key(&placement)).await? {
                        if let Some(created) = link.remove(HISTORY_ENTRIES) {
                            let holder = HashMap::from([(HISTORY_ENTRIES.to_string(), created)]);
                            entries.extend(decode_history(&what, holder)?);
                        }
                    }
                }
                _ => {}
            }
        }
        entries.sort_by_key(|e| e.seq);
        // A creation completed across the change keeps one copy of each entry.
        entries.dedup_by_key(|e| e.seq);
        Ok(entries)
    }

    async fn record_move(
        &self,
        expected_version: u32,
        applicant: &Applicant,
        entry: &HistoryEntry,
    ) -> Result<MoveOutcome, StoreError> {
        self.put_move(expected_version, applicant, entry).await
    }

    async fn mark_employee(&self, vpd: &str, person_key: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(person_key_item(vpd, person_key)))
            // A person known only from a notification (no applicant yet) holds personal data
            // too: kept a year unless an applicant gives it its own time (section 8).
            .update_expression(
                "SET employee = :yes, vpd = :vpd, person_key = :key, #expires = if_not_exists(#expires, :expires)",
            )
            .expression_attribute_names("#expires", TTL_ATTRIBUTE)
            .expression_attribute_values(
                ":expires",
                expires_at(retention::person_only_kept_until(self.today())).1,
            )
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":vpd", s(vpd))
            .expression_attribute_values(":key", s(person_key))
            .send()
            .await
            .map_err(|e| sdk_error("UpdateItem", &e))?;
        Ok(())
    }

    async fn save_rotation(&self, entries: &[RotationEntry]) -> Result<(), StoreError> {
        // A batch may not hold one key twice: the last row for a position wins.
        let mut latest: HashMap<(String, String), &RotationEntry> = HashMap::new();
        for entry in entries {
            latest.insert((entry.vpd.clone(), entry.position_key.clone()), entry);
        }
        let mut items = Vec::with_capacity(latest.len());
        for entry in latest.into_values() {
            let item = encode("rotation entry", entry)?;
            items.push(with_keys(
                item,
                rotation_key(&entry.vpd, &entry.position_key),
            ));
            if let Some(item) = items.last_mut() {
                item.extend([expires_at(retention::rotation_kept_until(entry))]);
            }
        }
        self.batch_put(items).await
    }

    async fn rotation_grid(&self, vpd: &str) -> Result<Vec<RotationEntry>, StoreError> {
        let items = self.query_partition(None, PK, rotation_pk(vpd)).await?;
        items
            .into_iter()
            .map(|item| decode(&format!("rotation entry of trust {vpd}"), item))
            .collect()
    }

    async fn remove_rotation(&self, vpd: &str, position_keys: &[String]) -> Result<(), StoreError> {
        let unique: BTreeSet<&String> = position_keys.iter().collect();
        let keys: Vec<Item> = unique
            .into_iter()
            .map(|position_key| rotation_key(vpd, position_key))
            .collect();
        let count = keys.len();
        self.batch_delete(keys).await?;
        tracing::info!(vpd, count, "rotation rows removed");
        Ok(())
    }

    async fn save_person_update(&self, update: &PersonUpdate) -> Result<(), StoreError> {
        let item = encode("person update", update)?;
        let keys = key(
            person_update_pk(&update.vpd),
            &format!("{}#{}", update.applicant_number, update.message_id),
        );
        // Kept as long as its applicant (section 8), or a year after it took effect without one.
        let kept_until = match self.applicant(&update.applicant_number).await? {
            Some(applicant) => retention::applicant_kept_until(&applicant),
            None => retention::person_update_kept_until(update),
        };
        let mut item = with_keys(item, keys);
        item.extend([expires_at(kept_until)]);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| sdk_error("PutItem", &e))?;
        Ok(())
    }

    async fn person_updates(&self, vpd: &str) -> Result<Vec<PersonUpdate>, StoreError> {
        let items = self
            .query_partition(None, PK, person_update_pk(vpd))
            .await?;
        let mut updates = items
            .into_iter()
            .map(|item| decode(&format!("person update of trust {vpd}"), item))
            .collect::<Result<Vec<PersonUpdate>, _>>()?;
        updates.sort_by(|a, b| {
            (a.received_at, &a.applicant_number, &a.message_id).cmp(&(
                b.received_at,
                &b.applicant_number,
                &b.message_id,
            ))
        });
        Ok(updates)
    }

    async fn applicants_starting_on(&self, date: NaiveDate) -> Result<Vec<Applicant>, StoreError> {
        let items = self
            .query_partition(Some(GSI1), GSI1PK, hire_pk(date))
            .await?;
        let applicants = items
            .into_iter()
            .map(|item| decode("applicant", item))
            .collect::<Result<Vec<Applicant>, _>>()?;
        tracing::debug!(%date, count = applicants.len(), "starters read");
        Ok(applicants)
    }

    async fn trust_applicants_starting_between(
        &self,
        vpd: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Applicant>, StoreError> {
        // One Query per day on GSI1 (HIRE#<date>), its sort key `<vpd>#<number>` narrowed to the
        // trust: only the trust's starters of those days are read.
        let mut applicants = Vec::new();
        for date in from.iter_days().take_while(|d| *d <= to) {
            let items = self
                .query_all(
                    Some(GSI1),
                    "#pk = :pk AND begins_with(#sk, :trust)",
                    &[("#pk", GSI1PK), ("#sk", GSI1SK)],
                    HashMap::from([
                        (":pk".to_string(), s(hire_pk(date))),
                        (":trust".to_string(), s(trust_starters_prefix(vpd))),
                    ]),
                )
                .await?;
            for item in items {
                applicants.push(decode("applicant", item)?);
            }
        }
        Ok(applicants)
    }

    async fn watermark(&self, job: &str) -> Result<Option<NaiveDate>, StoreError> {
        let Some(item) = self.get_item(watermark_key(job)).await? else {
            return Ok(None);
        };
        match item.get("date") {
            Some(AttributeValue::S(text)) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("watermark {job}: {e}"))),
            _ => Err(StoreError::Corrupt(format!("watermark {job} has no date"))),
        }
    }

    async fn advance_watermark(&self, job: &str, date: NaiveDate) -> Result<bool, StoreError> {
        // ISO dates compare correctly as strings, so the condition keeps the watermark monotonic.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(watermark_key(job)))
            .update_expression("SET #date = :date")
            .condition_expression("attribute_not_exists(#date) OR #date < :date")
            .expression_attribute_names("#date", "date")
            .expression_attribute_values(":date", s(date.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(_)) => Ok(false),
                _ => Err(sdk_error("UpdateItem", &err)),
            },
        }
    }

    async fn next_in_sequence(&self, name: &str) -> Result<u64, StoreError> {
        self.next_of_sequence(name).await
    }

    async fn tis_positions(
        &self,
        local_office: &str,
    ) -> Result<HashMap<String, Vec<String>>, StoreError> {
        let items = self
            .query_partition(None, PK, tis_view_pk(local_office))
            .await?;
        let mut sent = HashMap::new();
        for item in items {
            let id = match item.get(SK) {
                Some(AttributeValue::S(id)) => id.clone(),
                _ => {
                    return Err(StoreError::Corrupt(format!(
                        "TIS view of {local_office} without a position id"
                    )))
                }
            };
            let fields = match item.get("fields") {
                Some(AttributeValue::L(values)) => values
                    .iter()
                    .map(|v| match v {
                        AttributeValue::S(text) => Ok(text.clone()),
                        _ => Err(StoreError::Corrupt(format!(
                            "TIS view of position {id}: a field is not text"
                        ))),
                    })
                    .collect::<Result<Vec<String>, _>>()?,
                _ => {
                    return Err(StoreError::Corrupt(format!(
                        "TIS view of position {id} has no fields"
                    )))
                }
            };
            sent.insert(id, fields);
        }
        Ok(sent)
    }

    async fn save_tis_positions(
        &self,
        local_office: &str,
        sent: &[(String, Option<Vec<String>>)],
    ) -> Result<(), StoreError> {
        let mut puts = Vec::new();
        for (id, fields) in sent {
            let item_key = key(tis_view_pk(local_office), id);
            match fields {
                Some(fields) => {
                    let mut item = item_key;
                    item.insert(
                        "fields".to_string(),
                        AttributeValue::L(fields.iter().map(|f| s(f.clone())).collect()),
                    );
                    puts.push(item);
                }
                None => {
                    self.client
                        .delete_item()
                        .table_name(&self.table)
                        .set_key(Some(item_key))
                        .send()
                        .await
                        .map_err(|e| sdk_error("DeleteItem", &e))?;
                }
            }
        }
        self.batch_put(puts).await
    }

    async fn save_rejected_applications(
        &self,
        rejected: &[RejectedApplication],
    ) -> Result<(), StoreError> {
        self.put_rejected(rejected).await
    }

    async fn rejected_applications(
        &self,
        lookup: RejectedLookup<'_>,
    ) -> Result<Vec<RejectedApplication>, StoreError> {
        self.query_rejected(lookup).await
    }

    async fn trust_applicants(&self, vpd: &str) -> Result<Vec<ApplicantSummary>, StoreError> {
        self.query_trust_applicants(vpd).await
    }

    async fn mark_read(&self, vpd: &str, item: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.put_read_mark(vpd, item, at).await
    }

    async fn read_items(&self, vpd: &str) -> Result<HashSet<String>, StoreError> {
        self.query_read_marks(vpd).await
    }
}

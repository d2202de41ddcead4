//! DynamoDB adapter for [`StateStore`]: one table with string keys `PK`/`SK` and two overloaded
//! global secondary indexes (see `infra/template.yaml`).
//!
//! | Item            | PK                            | SK          | GSI1PK / GSI1SK                        | GSI2PK / GSI2SK                 |
//! |-----------------|-------------------------------|-------------|----------------------------------------|---------------------------------|
//! | processed file  | `FILE#<identity>`             | `FILE`      |                                        |                                 |
//! | highest SEQ     | `SEQ#<source>#<type>`         | `SEQ`       |                                        |                                 |
//! | position        | `POSITION#<position_id>`      | `POSITION`  | `TRUST#<vpd>#POSITIONS` / `<position>` | `DPN#<dpn>` / `<vpd>#<position>` |
//! | placement link  | `PLACEMENT#<placement_id>`    | `PLACEMENT` |                                        |                                 |
//! | applicant       | `APPLICANT#<number>`          | `A`         | `HIRE#<date>` / `<vpd>#<number>`       | `GMC#<gmc>` / `<vpd>#<number>`  |
//! | history entry   | `APPLICANT#<number>`          | `H#<seq:06>`|                                        |                                 |
//! | person          | `PERSON#<vpd>#<person_key>`   | `PERSON`    |                                        |                                 |
//! | number counter  | `COUNTER#numbers`             | `COUNTER`   |                                        |                                 |
//!
//! Error messages and logs carry ids and counts only: never names, GMC/NI numbers or dates of
//! birth (so never a person key, and never the `Debug` form of an SDK error, which may hold items).

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, KeysAndAttributes, Put, PutRequest, ReturnValue,
    ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update, WriteRequest,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::domain::dnc::RotationEntry;
use crate::domain::model::{
    Applicant, FileClaim, FileStatus, HistoryEntry, Person, PersonUpdate, PlacementLink,
    ProcessedFile,
};
use crate::domain::pos::Position;
use crate::ports::{CreateOutcome, MoveOutcome, NewApplicant, StateStore, StoreError};

type Item = HashMap<String, AttributeValue>;

const PK: &str = "PK";
const SK: &str = "SK";
const GSI1: &str = "GSI1";
const GSI1PK: &str = "GSI1PK";
const GSI1SK: &str = "GSI1SK";
const GSI2: &str = "GSI2";
const GSI2PK: &str = "GSI2PK";
const GSI2SK: &str = "GSI2SK";

const FILE_SK: &str = "FILE";
const SEQ_SK: &str = "SEQ";
const POSITION_SK: &str = "POSITION";
const PLACEMENT_SK: &str = "PLACEMENT";
const APPLICANT_SK: &str = "A";
const HISTORY_PREFIX: &str = "H#";
const PERSON_SK: &str = "PERSON";
const COUNTER_PK: &str = "COUNTER#numbers";
const COUNTER_SK: &str = "COUNTER";

/// The processing summary is kept as JSON text so that it round-trips exactly.
const SUMMARY_JSON: &str = "summary_json";
const LAST_SEQ: &str = "last_seq";

/// DynamoDB limits.
const BATCH_GET_LIMIT: usize = 100;
const BATCH_WRITE_LIMIT: usize = 25;
const TRANSACTION_LIMIT: usize = 100;

/// Attempts for unprocessed batch items and cancelled (conflicting or throttled) transactions.
const MAX_ATTEMPTS: u32 = 8;
const BACKOFF_BASE_MS: u64 = 25;
const BACKOFF_CAP_MS: u64 = 2_000;

/// Service error codes that mean the request itself (its data) was refused: retrying cannot help.
const REFUSED_CODES: [&str; 2] = [
    "ValidationException",
    "ItemCollectionSizeLimitExceededException",
];

/// [`StateStore`] on one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Classifies an SDK error once for every operation: refused data is [`StoreError::Corrupt`]
/// (needs an operator); throttling, service faults, timeouts, network and configuration faults
/// are [`StoreError::Unavailable`] (retry later). Only the error code and service message are
/// kept: the `Debug` form may hold items returned by a failed condition.
fn sdk_error<E, R>(op: &str, err: &SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("UnknownError");
            let message = service.err().message().unwrap_or("");
            if REFUSED_CODES.contains(&code) {
                StoreError::Corrupt(format!("{op} refused: {code}: {message}"))
            } else {
                StoreError::Unavailable(format!("{op} failed: {code}: {message}"))
            }
        }
        other => StoreError::Unavailable(format!("{op} failed: {}", DisplayErrorContext(other))),
    }
}

fn build_error(err: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Corrupt(format!("cannot build DynamoDB request: {err}"))
}

/// Encodes a record as an item, leaving out absent (`None`) values: they read back as `None`,
/// and every byte of an item is paid for on each write.
fn encode<T: Serialize>(what: &str, value: &T) -> Result<Item, StoreError> {
    let mut item = serde_dynamo::aws_sdk_dynamodb_1::to_item(value)
        .map_err(|e| StoreError::Corrupt(format!("cannot encode {what}: {e}")))?;
    strip_nulls(&mut item);
    Ok(item)
}

/// Drops null attributes from a map and the maps inside it (list elements keep their places).
fn strip_nulls(map: &mut Item) {
    map.retain(|_, value| !matches!(value, AttributeValue::Null(_)));
    map.values_mut().for_each(strip_nested_nulls);
}

fn strip_nested_nulls(value: &mut AttributeValue) {
    match value {
        AttributeValue::M(map) => strip_nulls(map),
        AttributeValue::L(list) => list.iter_mut().for_each(strip_nested_nulls),
        _ => {}
    }
}

fn encode_value<T: Serialize>(what: &str, value: &T) -> Result<AttributeValue, StoreError> {
    serde_dynamo::aws_sdk_dynamodb_1::to_attribute_value(value)
        .map_err(|e| StoreError::Corrupt(format!("cannot encode {what}: {e}")))
}

fn decode<T: DeserializeOwned>(what: &str, item: Item) -> Result<T, StoreError> {
    serde_dynamo::aws_sdk_dynamodb_1::from_item(item)
        .map_err(|e| StoreError::Corrupt(format!("unreadable {what}: {e}")))
}

/// Exponential backoff with a little jitter, for attempt 1, 2, ...
async fn backoff(attempt: u32) {
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

// ---------------------------------------------------------------------------------------------
// Keys and items
// ---------------------------------------------------------------------------------------------

/// Counts one more attempt at what a batch request left unprocessed, waits, and gives up as
/// unavailable after [`MAX_ATTEMPTS`].
async fn retry_unprocessed(
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

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn key(pk: String, sk: &str) -> Item {
    HashMap::from([(PK.to_string(), s(pk)), (SK.to_string(), s(sk))])
}

fn file_key(identity: &str) -> Item {
    key(format!("FILE#{identity}"), FILE_SK)
}

fn seq_key(source: &str, file_type: &str) -> Item {
    key(format!("SEQ#{source}#{file_type}"), SEQ_SK)
}

fn position_key(position_id: &str) -> Item {
    key(format!("POSITION#{position_id}"), POSITION_SK)
}

fn placement_key(placement_id: &str) -> Item {
    key(format!("PLACEMENT#{placement_id}"), PLACEMENT_SK)
}

fn applicant_pk(applicant_number: &str) -> String {
    format!("APPLICANT#{applicant_number}")
}

fn applicant_key(applicant_number: &str) -> Item {
    key(applicant_pk(applicant_number), APPLICANT_SK)
}

fn history_sk(seq: u32) -> String {
    format!("{HISTORY_PREFIX}{seq:06}")
}

fn person_key_item(vpd: &str, person_key: &str) -> Item {
    key(format!("PERSON#{vpd}#{person_key}"), PERSON_SK)
}

fn rotation_key(vpd: &str, position_key: &str) -> Item {
    key(format!("ROTATION#{vpd}"), position_key)
}

fn with_keys(mut item: Item, keys: Item) -> Item {
    item.extend(keys);
    item
}

fn number_attr(item: &Item, name: &str, what: &str) -> Result<Option<u64>, StoreError> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::N(text)) => text
            .parse()
            .map(Some)
            .map_err(|_| StoreError::Corrupt(format!("{what}: {name} is not a whole number"))),
        Some(_) => Err(StoreError::Corrupt(format!(
            "{what}: {name} is not a number"
        ))),
    }
}

fn file_item(file: &ProcessedFile) -> Result<Item, StoreError> {
    let what = format!("file {}", file.identity);
    let mut item = encode(&what, file)?;
    item.remove("summary");
    if let Some(summary) = &file.summary {
        let text = serde_json::to_string(summary)
            .map_err(|e| StoreError::Corrupt(format!("cannot encode {what} summary: {e}")))?;
        item.insert(SUMMARY_JSON.to_string(), s(text));
    }
    Ok(with_keys(item, file_key(&file.identity)))
}

fn decode_file(mut item: Item) -> Result<ProcessedFile, StoreError> {
    let summary_text = match item.remove(SUMMARY_JSON) {
        Some(AttributeValue::S(text)) => Some(text),
        _ => None,
    };
    item.remove("summary");
    let mut file: ProcessedFile = decode("processed file", item)?;
    if let Some(text) = summary_text {
        let value = serde_json::from_str(&text).map_err(|e| {
            StoreError::Corrupt(format!("unreadable summary of file {}: {e}", file.identity))
        })?;
        file.summary = Some(value);
    }
    Ok(file)
}

fn position_item(position: &Position) -> Result<Item, StoreError> {
    let item = encode(&format!("position {}", position.position_id), position)?;
    let mut item = with_keys(item, position_key(&position.position_id));
    item.insert(
        GSI1PK.to_string(),
        s(format!("TRUST#{}#POSITIONS", position.vpd)),
    );
    item.insert(GSI1SK.to_string(), s(position.position_id.clone()));
    if !position.dpn.is_empty() {
        item.insert(GSI2PK.to_string(), s(format!("DPN#{}", position.dpn)));
        item.insert(
            GSI2SK.to_string(),
            s(format!("{}#{}", position.vpd, position.position_id)),
        );
    }
    Ok(item)
}

fn applicant_item(applicant: &Applicant) -> Result<Item, StoreError> {
    let number = &applicant.applicant_number;
    let item = encode(&format!("applicant {number}"), applicant)?;
    let mut item = with_keys(item, applicant_key(number));
    item.insert(
        GSI1PK.to_string(),
        s(format!(
            "HIRE#{}",
            applicant.projected_hire_date.format("%Y-%m-%d")
        )),
    );
    item.insert(GSI1SK.to_string(), s(format!("{}#{number}", applicant.vpd)));
    if let Some(gmc) = applicant.gmc_number().filter(|g| !g.is_empty()) {
        item.insert(GSI2PK.to_string(), s(format!("GMC#{gmc}")));
        item.insert(GSI2SK.to_string(), s(format!("{}#{number}", applicant.vpd)));
    }
    Ok(item)
}

fn history_item(applicant_number: &str, entry: &HistoryEntry) -> Result<Item, StoreError> {
    let item = encode(
        &format!("history {} of applicant {applicant_number}", entry.seq),
        entry,
    )?;
    Ok(with_keys(
        item,
        key(applicant_pk(applicant_number), &history_sk(entry.seq)),
    ))
}

fn link_item(link: &PlacementLink) -> Result<Item, StoreError> {
    let item = encode(&format!("placement {}", link.placement_id), link)?;
    Ok(with_keys(item, placement_key(&link.placement_id)))
}

fn decode_person(item: Item) -> Result<Person, StoreError> {
    let vpd = match item.get("vpd") {
        Some(AttributeValue::S(vpd)) => vpd.clone(),
        _ => String::from("?"),
    };
    let mut person: Person = decode(&format!("person in trust {vpd}"), item)?;
    // A string set has no order: give numbers in numeric order (then text order).
    person
        .applicant_numbers
        .sort_by(|a, b| (a.len(), a).cmp(&(b.len(), b)));
    Ok(person)
}

// ---------------------------------------------------------------------------------------------
// Shared request shapes
// ---------------------------------------------------------------------------------------------

impl DynamoStore {
    async fn get_item(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", &e))?;
        Ok(out.item.filter(|item| !item.is_empty()))
    }

    /// BatchGetItem in chunks of 100 (consistent reads), retrying unprocessed keys.
    async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH_GET_LIMIT) {
            let mut pending = chunk.to_vec();
            let mut attempt = 0;
            while !pending.is_empty() {
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(pending))
                    .consistent_read(true)
                    .build()
                    .map_err(build_error)?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| sdk_error("BatchGetItem", &e))?;
                if let Some(items) = out.responses.and_then(|mut r| r.remove(&self.table)) {
                    found.extend(items);
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
    async fn batch_put(&self, items: Vec<Item>) -> Result<(), StoreError> {
        let mut requests = Vec::with_capacity(items.len());
        for item in items {
            let put = PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map_err(build_error)?;
            requests.push(WriteRequest::builder().put_request(put).build());
        }
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
                    retry_unprocessed("BatchWriteItem", "items", pending.len(), &mut attempt)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Every item of a query, following pages. Consistent reads only on the table itself.
    async fn query_all(
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
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(next) if !next.is_empty() => start = Some(next),
                _ => break,
            }
        }
        Ok(items)
    }

    async fn placement_link(
        &self,
        placement_id: &str,
    ) -> Result<Option<PlacementLink>, StoreError> {
        match self.get_item(placement_key(placement_id)).await? {
            Some(item) => Ok(Some(decode(&format!("placement {placement_id}"), item)?)),
            None => Ok(None),
        }
    }

    /// Raises the highest SEQ seen for the file's source and type; returns the one before.
    async fn note_seq(&self, file: &ProcessedFile) -> Result<Option<u64>, StoreError> {
        let what = format!("highest SEQ of {}#{}", file.source, file.file_type);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(seq_key(&file.source, &file.file_type)))
            .update_expression("SET #last = :seq")
            .condition_expression("attribute_not_exists(#last) OR #last < :seq")
            .expression_attribute_names("#last", LAST_SEQ)
            .expression_attribute_values(":seq", n(file.seq))
            .return_values(ReturnValue::UpdatedOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => number_attr(&out.attributes.unwrap_or_default(), LAST_SEQ, &what),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    let item = match failed.item() {
                        Some(item) if !item.is_empty() => item.clone(),
                        _ => self
                            .get_item(seq_key(&file.source, &file.file_type))
                            .await?
                            .unwrap_or_default(),
                    };
                    number_attr(&item, LAST_SEQ, &what)
                }
                _ => Err(sdk_error("UpdateItem", &err)),
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// create_applicants: whole applicants packed into transactions of up to 100 actions
// ---------------------------------------------------------------------------------------------

/// One applicant's own items, encoded before anything is written.
struct Prepared {
    placement_id: String,
    applicant_number: String,
    link: Item,
    applicant: Item,
    history: Vec<Item>,
    person: Option<(String, String)>,
}

/// What each action of a transaction is, to read its cancellation reason.
#[derive(Clone, Copy)]
enum Role {
    Placement(usize),
    Applicant(usize),
    History(usize),
    Person,
}

fn prepare(new: &NewApplicant) -> Result<Prepared, StoreError> {
    let applicant = &new.applicant;
    let number = applicant.applicant_number.clone();
    let link = PlacementLink {
        placement_id: applicant.placement_id.clone(),
        applicant_number: number.clone(),
        source_file: applicant.source_file.clone(),
        source_sha256: applicant.source_sha256.clone(),
    };
    let mut seqs = HashSet::new();
    let mut history = Vec::with_capacity(new.history.len());
    for entry in &new.history {
        if !seqs.insert(entry.seq) {
            return Err(StoreError::Corrupt(format!(
                "applicant {number} has two history entries with seq {}",
                entry.seq
            )));
        }
        history.push(history_item(&number, entry)?);
    }
    Ok(Prepared {
        placement_id: applicant.placement_id.clone(),
        applicant_number: number,
        link: link_item(&link)?,
        applicant: applicant_item(applicant)?,
        history,
        person: applicant
            .person_key
            .as_ref()
            .map(|key| (applicant.vpd.clone(), key.clone())),
    })
}

/// Takes the next applicants from `queue` that fit one transaction: at most 100 actions, and no
/// item twice (a placement or applicant repeated in the input waits for a later transaction).
fn next_group(queue: &mut VecDeque<usize>, prepared: &[Prepared]) -> Vec<usize> {
    let mut group = Vec::new();
    let mut actions = 0;
    let mut placements = HashSet::new();
    let mut numbers = HashSet::new();
    let mut persons = HashSet::new();
    while let Some(&index) = queue.front() {
        let p = &prepared[index];
        let new_person = p.person.as_ref().is_some_and(|k| !persons.contains(k));
        let cost = 2 + p.history.len() + usize::from(new_person);
        if actions + cost > TRANSACTION_LIMIT
            || placements.contains(&p.placement_id)
            || numbers.contains(&p.applicant_number)
        {
            break;
        }
        actions += cost;
        placements.insert(p.placement_id.clone());
        numbers.insert(p.applicant_number.clone());
        if let Some(k) = &p.person {
            persons.insert(k.clone());
        }
        group.push(index);
        queue.pop_front();
    }
    group
}

impl DynamoStore {
    fn put_action(
        &self,
        item: Item,
        condition: &str,
        return_old: bool,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .expression_attribute_names("#pk", PK);
        if return_old {
            put = put.return_values_on_condition_check_failure(
                ReturnValuesOnConditionCheckFailure::AllOld,
            );
        }
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(build_error)?)
            .build())
    }

    fn person_action(
        &self,
        vpd: &str,
        person_key: &str,
        numbers: Vec<String>,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(person_key_item(vpd, person_key)))
            .update_expression(
                "ADD #numbers :numbers SET #employee = if_not_exists(#employee, :false), #vpd = :vpd, #key = :key",
            )
            .expression_attribute_names("#numbers", "applicant_numbers")
            .expression_attribute_names("#employee", "employee")
            .expression_attribute_names("#vpd", "vpd")
            .expression_attribute_names("#key", "person_key")
            .expression_attribute_values(":numbers", AttributeValue::Ss(numbers))
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":vpd", s(vpd))
            .expression_attribute_values(":key", s(person_key))
            .build()
            .map_err(build_error)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    fn transaction(
        &self,
        group: &[usize],
        prepared: &[Prepared],
    ) -> Result<(Vec<TransactWriteItem>, Vec<Role>), StoreError> {
        let mut actions = Vec::new();
        let mut roles = Vec::new();
        let mut persons: Vec<((String, String), Vec<String>)> = Vec::new();
        for &index in group {
            let p = &prepared[index];
            actions.push(self.put_action(p.link.clone(), "attribute_not_exists(#pk)", true)?);
            roles.push(Role::Placement(index));
            actions.push(self.put_action(
                p.applicant.clone(),
                "attribute_not_exists(#pk)",
                false,
            )?);
            roles.push(Role::Applicant(index));
            for entry in &p.history {
                actions.push(self.put_action(entry.clone(), "attribute_not_exists(#pk)", false)?);
                roles.push(Role::History(index));
            }
            if let Some(person) = &p.person {
                match persons.iter_mut().find(|(k, _)| k == person) {
                    Some((_, numbers)) => numbers.push(p.applicant_number.clone()),
                    None => persons.push((person.clone(), vec![p.applicant_number.clone()])),
                }
            }
        }
        for ((vpd, person_key), numbers) in persons {
            actions.push(self.person_action(&vpd, &person_key, numbers)?);
            roles.push(Role::Person);
        }
        Ok((actions, roles))
    }

    /// Writes one group, dropping applicants whose placement is taken, until it is stored.
    async fn write_group(
        &self,
        mut group: Vec<usize>,
        prepared: &[Prepared],
        outcomes: &mut [Option<CreateOutcome>],
    ) -> Result<usize, StoreError> {
        let mut requests = 0;
        let mut attempt = 0;
        while !group.is_empty() {
            let (actions, roles) = self.transaction(&group, prepared)?;
            requests += 1;
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(actions))
                .send()
                .await;
            let err = match result {
                Ok(_) => {
                    for &index in &group {
                        outcomes[index] = Some(CreateOutcome::Created);
                    }
                    return Ok(requests);
                }
                Err(err) => err,
            };
            let reasons: &[CancellationReason] = match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                    cancelled.cancellation_reasons()
                }
                _ => return Err(sdk_error("TransactWriteItems", &err)),
            };
            let failed =
                |reason: &CancellationReason| reason.code() == Some("ConditionalCheckFailed");
            let mut taken = Vec::new();
            for (reason, role) in reasons.iter().zip(&roles) {
                if let (true, Role::Placement(index)) = (failed(reason), role) {
                    taken.push((*index, reason.item().cloned()));
                }
            }
            for (reason, role) in reasons.iter().zip(&roles) {
                match role {
                    // The applicant number or its history exists, but the placement was free.
                    Role::Applicant(index) | Role::History(index)
                        if failed(reason) && !taken.iter().any(|(i, _)| i == index) =>
                    {
                        return Err(StoreError::Corrupt(format!(
                            "applicant {} already exists for another placement",
                            prepared[*index].applicant_number
                        )));
                    }
                    _ if reason.code() == Some("ValidationError") => {
                        let message = reason.message().unwrap_or("");
                        return Err(StoreError::Corrupt(format!(
                            "TransactWriteItems refused: {message}"
                        )));
                    }
                    _ => {}
                }
            }
            let mut progressed = false;
            for (index, old) in taken {
                let p = &prepared[index];
                let link = match old.filter(|item| !item.is_empty()) {
                    Some(item) => Some(decode(&format!("placement {}", p.placement_id), item)?),
                    None => self.placement_link(&p.placement_id).await?,
                };
                if let Some(link) = link {
                    tracing::debug!(
                        placement_id = %p.placement_id,
                        applicant_number = %link.applicant_number,
                        "placement already an applicant"
                    );
                    outcomes[index] = Some(CreateOutcome::PlacementTaken(link));
                    group.retain(|&i| i != index);
                    progressed = true;
                }
            }
            if progressed {
                continue;
            }
            // Conflicting transactions or throttling: back off and try the same group again.
            attempt += 1;
            let codes: BTreeSet<&str> = reasons.iter().filter_map(|r| r.code()).collect();
            if attempt >= MAX_ATTEMPTS {
                return Err(StoreError::Unavailable(format!(
                    "TransactWriteItems cancelled {attempt} times ({codes:?})"
                )));
            }
            tracing::debug!(attempt, ?codes, "retrying cancelled transaction");
            backoff(attempt).await;
        }
        Ok(requests)
    }
}

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
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
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
            if existing.status == FileStatus::InProgress {
                // An interrupted delivery may have stopped before its SEQ was noted.
                self.note_seq(&existing).await?;
            }
            return Ok(FileClaim::SameContent(existing));
        }
        let previous_seq = self.note_seq(file).await?;
        tracing::info!(identity = %file.identity, ?previous_seq, "file claimed");
        Ok(FileClaim::New { previous_seq })
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
        for item in self.batch_get(keys).await? {
            let position: Position = decode("position", item)?;
            found.insert(position.position_id.clone(), position);
        }
        tracing::debug!(asked = ids.len(), found = found.len(), "positions read");
        Ok(found)
    }

    async fn trust_positions(&self, vpd: &str) -> Result<Vec<Position>, StoreError> {
        let items = self
            .query_all(
                Some(GSI1),
                "#pk = :pk",
                &[("#pk", GSI1PK)],
                HashMap::from([(":pk".to_string(), s(format!("TRUST#{vpd}#POSITIONS")))]),
            )
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
            .query_all(
                Some(GSI2),
                "#pk = :pk",
                &[("#pk", GSI2PK)],
                HashMap::from([(":pk".to_string(), s(format!("DPN#{dpn}")))]),
            )
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
        let unique: BTreeSet<&String> = ids.iter().collect();
        let keys = unique.into_iter().map(|id| placement_key(id)).collect();
        let mut found = HashMap::new();
        for item in self.batch_get(keys).await? {
            let link: PlacementLink = decode("placement link", item)?;
            found.insert(link.placement_id.clone(), link);
        }
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
        for item in self.batch_get(items).await? {
            let person = decode_person(item)?;
            found.insert((person.vpd.clone(), person.person_key.clone()), person);
        }
        tracing::debug!(asked = keys.len(), found = found.len(), "persons read");
        Ok(found)
    }

    async fn allocate_numbers(&self, count: u64) -> Result<u64, StoreError> {
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

    async fn create_applicants(
        &self,
        applicants: &[NewApplicant],
    ) -> Result<Vec<CreateOutcome>, StoreError> {
        let prepared = applicants
            .iter()
            .map(prepare)
            .collect::<Result<Vec<_>, _>>()?;
        for p in &prepared {
            let actions = 3 + p.history.len();
            if actions > TRANSACTION_LIMIT {
                return Err(StoreError::Corrupt(format!(
                    "applicant {} needs {actions} writes, more than one transaction holds",
                    p.applicant_number
                )));
            }
        }
        let mut outcomes: Vec<Option<CreateOutcome>> = vec![None; applicants.len()];
        // Placements already loaded (a redelivered file) cost reads, not cancelled transactions;
        // one taken between this read and the write is caught by the transaction's condition.
        let ids: Vec<String> = prepared.iter().map(|p| p.placement_id.clone()).collect();
        let taken = self.placements(&ids).await?;
        let mut queue = VecDeque::with_capacity(applicants.len());
        for (index, p) in prepared.iter().enumerate() {
            match taken.get(&p.placement_id) {
                Some(link) => outcomes[index] = Some(CreateOutcome::PlacementTaken(link.clone())),
                None => queue.push_back(index),
            }
        }
        let mut requests = 0;
        while !queue.is_empty() {
            let group = next_group(&mut queue, &prepared);
            requests += self.write_group(group, &prepared, &mut outcomes).await?;
        }
        let outcomes: Vec<CreateOutcome> = outcomes
            .into_iter()
            .map(|o| {
                o.ok_or_else(|| StoreError::Corrupt("an applicant was left unwritten".to_string()))
            })
            .collect::<Result<_, _>>()?;
        let created = outcomes
            .iter()
            .filter(|o| matches!(o, CreateOutcome::Created))
            .count();
        tracing::info!(
            applicants = applicants.len(),
            created,
            taken = applicants.len() - created,
            transactions = requests,
            "applicants created"
        );
        Ok(outcomes)
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
            .query_all(
                Some(GSI2),
                "#pk = :pk",
                &[("#pk", GSI2PK)],
                HashMap::from([(":pk".to_string(), s(format!("GMC#{gmc}")))]),
            )
            .await?;
        let applicants = items
            .into_iter()
            .map(|item| decode("applicant", item))
            .collect::<Result<Vec<Applicant>, _>>()?;
        tracing::debug!(count = applicants.len(), "applicants found by GMC number");
        Ok(applicants)
    }

    async fn history(&self, applicant_number: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        let items = self
            .query_all(
                None,
                "#pk = :pk AND begins_with(#sk, :prefix)",
                &[("#pk", PK), ("#sk", SK)],
                HashMap::from([
                    (":pk".to_string(), s(applicant_pk(applicant_number))),
                    (":prefix".to_string(), s(HISTORY_PREFIX)),
                ]),
            )
            .await?;
        let what = format!("history of applicant {applicant_number}");
        let mut entries = items
            .into_iter()
            .map(|item| decode(&what, item))
            .collect::<Result<Vec<HistoryEntry>, _>>()?;
        entries.sort_by_key(|e| e.seq);
        Ok(entries)
    }

    async fn record_move(
        &self,
        expected_version: u32,
        applicant: &Applicant,
        entry: &HistoryEntry,
    ) -> Result<MoveOutcome, StoreError> {
        let number = &applicant.applicant_number;
        let put_applicant = Put::builder()
            .table_name(&self.table)
            .set_item(Some(applicant_item(applicant)?))
            .condition_expression("attribute_exists(#pk) AND #version = :expected")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", n(expected_version))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(build_error)?;
        let put_history = self.put_action(
            history_item(number, entry)?,
            "attribute_not_exists(#pk)",
            false,
        )?;
        let actions = vec![
            TransactWriteItem::builder().put(put_applicant).build(),
            put_history,
        ];
        let mut attempt = 0;
        loop {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(actions.clone()))
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

    async fn mark_employee(&self, vpd: &str, person_key: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(person_key_item(vpd, person_key)))
            .update_expression("SET employee = :yes, vpd = :vpd, person_key = :key")
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
        }
        self.batch_put(items).await
    }

    async fn rotation_grid(&self, vpd: &str) -> Result<Vec<RotationEntry>, StoreError> {
        let items = self
            .query_all(
                None,
                "#pk = :pk",
                &[("#pk", PK)],
                HashMap::from([(":pk".to_string(), s(format!("ROTATION#{vpd}")))]),
            )
            .await?;
        items
            .into_iter()
            .map(|item| decode(&format!("rotation entry of trust {vpd}"), item))
            .collect()
    }

    async fn save_person_update(&self, update: &PersonUpdate) -> Result<(), StoreError> {
        let item = encode("person update", update)?;
        let keys = key(
            format!("PERSONUPDATE#{}", update.vpd),
            &format!("{}#{}", update.applicant_number, update.message_id),
        );
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(with_keys(item, keys)))
            .send()
            .await
            .map_err(|e| sdk_error("PutItem", &e))?;
        Ok(())
    }

    async fn person_updates(&self, vpd: &str) -> Result<Vec<PersonUpdate>, StoreError> {
        let items = self
            .query_all(
                None,
                "#pk = :pk",
                &[("#pk", PK)],
                HashMap::from([(":pk".to_string(), s(format!("PERSONUPDATE#{vpd}")))]),
            )
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
            .query_all(
                Some(GSI1),
                "#pk = :pk",
                &[("#pk", GSI1PK)],
                HashMap::from([(":pk".to_string(), s(format!("HIRE#{date}")))]),
            )
            .await?;
        let applicants = items
            .into_iter()
            .map(|item| decode("applicant", item))
            .collect::<Result<Vec<Applicant>, _>>()?;
        tracing::debug!(%date, count = applicants.len(), "starters read");
        Ok(applicants)
    }

    async fn watermark(&self, job: &str) -> Result<Option<NaiveDate>, StoreError> {
        let Some(item) = self
            .get_item(key(format!("WATERMARK#{job}"), "WATERMARK"))
            .await?
        else {
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
            .set_key(Some(key(format!("WATERMARK#{job}"), "WATERMARK")))
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
        let what = format!("sequence {name}");
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("COUNTER#sequence#{name}"), COUNTER_SK)))
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

    async fn tis_positions(
        &self,
        local_office: &str,
    ) -> Result<HashMap<String, Vec<String>>, StoreError> {
        let items = self
            .query_all(
                None,
                "#pk = :pk",
                &[("#pk", PK)],
                HashMap::from([(":pk".to_string(), s(format!("TISVIEW#{local_office}")))]),
            )
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
            let item_key = key(format!("TISVIEW#{local_office}"), id);
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
}

//! Records to items and back (`serde_dynamo`), leaving absent values out.

use super::keys::{
    applicant_key, applicant_pk, dpn_pk, file_key, gmc_pk, hire_pk, history_sk, key, n,
    placement_key, position_key, s, trust_applicants_pk, trust_positions_pk, trust_starters_prefix,
    with_keys, GSI1PK, GSI1SK, GSI2PK, GSI2SK, GSI3PK, GSI3SK, HISTORY_ENTRIES, SUMMARY_JSON,
};
use super::store::*;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::NaiveDate;
use dit_core::ports::StoreError;
use dit_domain::model::{Applicant, HistoryEntry, Person, PlacementLink, ProcessedFile};
use dit_domain::pos::Position;
use dit_domain::retention;
use dit_domain::retention::TTL_ATTRIBUTE;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Encodes a record as an item, leaving out absent (`None`) values: they read back as `None`,
/// and every byte of an item is paid for on each write.
pub(super) fn encode<T: Serialize>(what: &str, value: &T) -> Result<Item, StoreError> {
    let mut item = serde_dynamo::aws_sdk_dynamodb_1::to_item(value)
        .map_err(|e| StoreError::Corrupt(format!("cannot encode {what}: {}", redacted(&e))))?;
    strip_nulls(&mut item);
    Ok(item)
}

/// Drops null attributes from a map and the maps inside it (list elements keep their places).
pub(super) fn strip_nulls(map: &mut Item) {
    map.retain(|_, value| !matches!(value, AttributeValue::Null(_)));
    map.values_mut().for_each(strip_nested_nulls);
}

pub(super) fn strip_nested_nulls(value: &mut AttributeValue) {
    match value {
        AttributeValue::M(map) => strip_nulls(map),
        AttributeValue::L(list) => list.iter_mut().for_each(strip_nested_nulls),
        _ => {}
    }
}

pub(super) fn encode_value<T: Serialize>(
    what: &str,
    value: &T,
) -> Result<AttributeValue, StoreError> {
    serde_dynamo::aws_sdk_dynamodb_1::to_attribute_value(value)
        .map_err(|e| StoreError::Corrupt(format!("cannot encode {what}: {}", redacted(&e))))
}

pub(super) fn decode<T: DeserializeOwned>(what: &str, item: Item) -> Result<T, StoreError> {
    serde_dynamo::aws_sdk_dynamodb_1::from_item(item)
        .map_err(|e| StoreError::Corrupt(format!("unreadable {what}: {}", redacted(&e))))
}

/// A serde error's message without the values it quotes (they may be personal data).
fn redacted(err: &impl std::fmt::Display) -> String {
    dit_core::ports::without_values(&err.to_string())
}

pub(super) fn file_item(file: &ProcessedFile) -> Result<Item, StoreError> {
    let what = format!("file {}", file.identity);
    let mut item = encode(&what, file)?;
    item.remove("summary");
    if let Some(summary) = &file.summary {
        let text = serde_json::to_string(summary).map_err(|e| {
            StoreError::Corrupt(format!("cannot encode {what} summary: {}", redacted(&e)))
        })?;
        item.insert(SUMMARY_JSON.to_string(), s(text));
    }
    item.extend([expires_at(retention::operator_record_kept_until(
        file.business_date,
    ))]);
    Ok(with_keys(item, file_key(&file.identity)))
}

pub(super) fn decode_file(mut item: Item) -> Result<ProcessedFile, StoreError> {
    let summary_text = match item.remove(SUMMARY_JSON) {
        Some(AttributeValue::S(text)) => Some(text),
        _ => None,
    };
    item.remove("summary");
    let mut file: ProcessedFile = decode("processed file", item)?;
    if let Some(text) = summary_text {
        let value = serde_json::from_str(&text).map_err(|e| {
            StoreError::Corrupt(format!(
                "unreadable summary of file {}: {}",
                file.identity,
                redacted(&e)
            ))
        })?;
        file.summary = Some(value);
    }
    Ok(file)
}

pub(super) fn position_item(position: &Position) -> Result<Item, StoreError> {
    let item = encode(&format!("position {}", position.position_id), position)?;
    let mut item = with_keys(item, position_key(&position.position_id));
    item.insert(GSI1PK.to_string(), s(trust_positions_pk(&position.vpd)));
    item.insert(GSI1SK.to_string(), s(position.position_id.clone()));
    if !position.dpn.is_empty() {
        item.insert(GSI2PK.to_string(), s(dpn_pk(&position.dpn)));
        item.insert(
            GSI2SK.to_string(),
            s(format!("{}#{}", position.vpd, position.position_id)),
        );
    }
    Ok(item)
}

/// DynamoDB's TTL attribute (section 8): removed after the end of `kept_until`.
pub(super) fn expires_at(kept_until: NaiveDate) -> (String, AttributeValue) {
    (
        TTL_ATTRIBUTE.to_string(),
        n(retention::ttl_seconds(kept_until)),
    )
}

/// The TTL of everything kept as long as this applicant: its item, history, placement link.
pub(super) fn applicant_expiry(applicant: &Applicant) -> (String, AttributeValue) {
    expires_at(retention::applicant_kept_until(applicant))
}

pub(super) fn applicant_item(applicant: &Applicant) -> Result<Item, StoreError> {
    let number = &applicant.applicant_number;
    let item = encode(&format!("applicant {number}"), applicant)?;
    let mut item = with_keys(item, applicant_key(number));
    item.extend([applicant_expiry(applicant)]);
    item.insert(
        GSI1PK.to_string(),
        s(hire_pk(applicant.projected_hire_date)),
    );
    item.insert(
        GSI1SK.to_string(),
        s(format!("{}{number}", trust_starters_prefix(&applicant.vpd))),
    );
    item.insert(GSI3PK.to_string(), s(trust_applicants_pk(&applicant.vpd)));
    item.insert(GSI3SK.to_string(), s(number.clone()));
    if let Some(gmc) = applicant.gmc_number().filter(|g| !g.is_empty()) {
        item.insert(GSI2PK.to_string(), s(gmc_pk(gmc)));
        item.insert(GSI2SK.to_string(), s(format!("{}#{number}", applicant.vpd)));
    }
    Ok(item)
}

/// A history entry of `applicant`, kept as long as the applicant (as it is after the entry).
pub(super) fn history_item(
    applicant: &Applicant,
    entry: &HistoryEntry,
) -> Result<Item, StoreError> {
    let applicant_number = &applicant.applicant_number;
    let item = encode(
        &format!("history {} of applicant {applicant_number}", entry.seq),
        entry,
    )?;
    let mut item = with_keys(
        item,
        key(applicant_pk(applicant_number), &history_sk(entry.seq)),
    );
    item.extend([applicant_expiry(applicant)]);
    Ok(item)
}

/// The history entries an applicant is created with (received, loaded), as the value of
/// [`HISTORY_ENTRIES`]: kept in the applicant's placement link, which its creation writes first
/// anyway (read back by [`decode_history`]).
pub(super) fn creation_entries(
    applicant: &Applicant,
    entries: &[HistoryEntry],
) -> Result<AttributeValue, StoreError> {
    let what = format!(
        "creation history of applicant {}",
        applicant.applicant_number
    );
    let mut values = Vec::with_capacity(entries.len());
    for entry in entries {
        values.push(AttributeValue::M(encode(&what, entry)?));
    }
    Ok(AttributeValue::L(values))
}

/// The creation history as an item of its own under the last entry's sort key: how an applicant
/// whose link was claimed without its history (before the history moved into the link) is
/// completed.
pub(super) fn creation_history_item(
    applicant: &Applicant,
    entries: &[HistoryEntry],
) -> Result<Item, StoreError> {
    let last = entries.iter().map(|e| e.seq).max().unwrap_or(1);
    let mut item = key(applicant_pk(&applicant.applicant_number), &history_sk(last));
    item.insert(
        HISTORY_ENTRIES.to_string(),
        creation_entries(applicant, entries)?,
    );
    item.extend([applicant_expiry(applicant)]);
    Ok(item)
}

/// The entries of one history item: a move's entry, or a creation's entries.
pub(super) fn decode_history(what: &str, mut item: Item) -> Result<Vec<HistoryEntry>, StoreError> {
    match item.remove(HISTORY_ENTRIES) {
        Some(AttributeValue::L(values)) => values
            .into_iter()
            .map(|value| match value {
                AttributeValue::M(entry) => decode(what, entry),
                _ => Err(StoreError::Corrupt(format!(
                    "unreadable {what}: an entry is not a map"
                ))),
            })
            .collect(),
        Some(_) => Err(StoreError::Corrupt(format!(
            "unreadable {what}: entries are not a list"
        ))),
        None => Ok(vec![decode(what, item)?]),
    }
}

/// The placement link of `applicant`, kept as long as the applicant.
pub(super) fn link_item(link: &PlacementLink, applicant: &Applicant) -> Result<Item, StoreError> {
    let item = encode(&format!("placement {}", link.placement_id), link)?;
    let mut item = with_keys(item, placement_key(&link.placement_id));
    item.extend([applicant_expiry(applicant)]);
    Ok(item)
}

pub(super) fn decode_person(item: Item) -> Result<Person, StoreError> {
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

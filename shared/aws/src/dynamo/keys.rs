//! Table keys and attribute names: one function per item kind, so no key is spelled twice.

use super::*;

pub(super) const PK: &str = "PK";
pub(super) const SK: &str = "SK";
pub(super) const GSI1: &str = "GSI1";
pub(super) const GSI1PK: &str = "GSI1PK";
pub(super) const GSI1SK: &str = "GSI1SK";
pub(super) const GSI2: &str = "GSI2";
pub(super) const GSI2PK: &str = "GSI2PK";
pub(super) const GSI2SK: &str = "GSI2SK";
pub(super) const GSI3: &str = "GSI3";
pub(super) const GSI3PK: &str = "GSI3PK";
pub(super) const GSI3SK: &str = "GSI3SK";

pub(super) const FILE_SK: &str = "FILE";
pub(super) const POSITION_SK: &str = "POSITION";
pub(super) const PLACEMENT_SK: &str = "PLACEMENT";
pub(super) const APPLICANT_SK: &str = "A";
pub(super) const HISTORY_PREFIX: &str = "H#";
pub(super) const PERSON_SK: &str = "PERSON";
pub(super) const COUNTER_PK: &str = "COUNTER#numbers";
pub(super) const COUNTER_SK: &str = "COUNTER";
pub(super) const ALERT_SK: &str = "ALERT";

/// The processing summary is kept as JSON text so that it round-trips exactly.
pub(super) const SUMMARY_JSON: &str = "summary_json";
/// The entries of a creation history item.
pub(super) const HISTORY_ENTRIES: &str = "entries";

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn key(pk: String, sk: &str) -> Item {
    HashMap::from([(PK.to_string(), s(pk)), (SK.to_string(), s(sk))])
}

pub(super) fn file_key(identity: &str) -> Item {
    key(format!("FILE#{identity}"), FILE_SK)
}

/// The partition of the TIS file numbers received of one type (the sequence check's reads).
pub(super) fn received_pk(file_type: &str) -> String {
    format!("RECEIVED#{file_type}")
}

/// A received number by business date: `D#<date>#<seq>#<source>` (a date range is one Query).
pub(super) fn received_by_date_sk(date: NaiveDate, seq: u64, source: &str) -> String {
    format!("D#{date}#{seq:08}#{source}")
}

/// A received number by number: `N#<seq>#<source>` (a number range is one Query).
pub(super) fn received_by_number_sk(seq: u64, source: &str) -> String {
    format!("N#{seq:08}#{source}")
}

pub(super) fn position_key(position_id: &str) -> Item {
    key(format!("POSITION#{position_id}"), POSITION_SK)
}

pub(super) fn placement_key(placement_id: &str) -> Item {
    key(format!("PLACEMENT#{placement_id}"), PLACEMENT_SK)
}

pub(super) fn applicant_pk(applicant_number: &str) -> String {
    format!("APPLICANT#{applicant_number}")
}

pub(super) fn applicant_key(applicant_number: &str) -> Item {
    key(applicant_pk(applicant_number), APPLICANT_SK)
}

pub(super) fn history_sk(seq: u32) -> String {
    format!("{HISTORY_PREFIX}{seq:06}")
}

pub(super) fn person_key_item(vpd: &str, person_key: &str) -> Item {
    key(format!("PERSON#{vpd}#{person_key}"), PERSON_SK)
}

pub(super) fn rotation_key(vpd: &str, position_key: &str) -> Item {
    key(format!("ROTATION#{vpd}"), position_key)
}

pub(super) fn alert_key_item(alert_key: &str) -> Item {
    key(format!("ALERT#{alert_key}"), ALERT_SK)
}

pub(super) fn with_keys(mut item: Item, keys: Item) -> Item {
    item.extend(keys);
    item
}

pub(super) fn number_attr(item: &Item, name: &str, what: &str) -> Result<Option<u64>, StoreError> {
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

/// The partition of a trust's applicants in GSI3.
pub(super) fn trust_applicants_pk(vpd: &str) -> String {
    format!("TRUST#{vpd}#APPLICANTS")
}

pub(super) fn read_mark_key(vpd: &str, item: &str) -> Item {
    key(format!("READ#{vpd}"), item)
}

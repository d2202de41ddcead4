//! Table keys and attribute names: one function per item kind, so no key is spelled twice.

use super::store::*;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::NaiveDate;
use dit_core::ports::StoreError;
use std::collections::HashMap;

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

/// The range of `received_by_date_sk` from `from` to `to`, both days whole: `~` sorts after every
/// digit and `#`, so the range holds all of `to`'s numbers.
pub(super) fn received_by_date_range(from: NaiveDate, to: NaiveDate) -> (String, String) {
    (format!("D#{from}#"), format!("D#{to}#~"))
}

/// The range of `received_by_number_sk` from `lowest` to `highest`, every source of each.
pub(super) fn received_by_number_range(lowest: u64, highest: u64) -> (String, String) {
    (format!("N#{lowest:08}#"), format!("N#{highest:08}#~"))
}

pub(super) fn position_key(position_id: &str) -> Item {
    key(format!("POSITION#{position_id}"), POSITION_SK)
}

/// The partition of a trust's positions in GSI1.
pub(super) fn trust_positions_pk(vpd: &str) -> String {
    format!("TRUST#{vpd}#POSITIONS")
}

/// The partition of the positions with one DPN in GSI2.
pub(super) fn dpn_pk(dpn: &str) -> String {
    format!("DPN#{dpn}")
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

/// The partition of the applicants starting on a day in GSI1.
pub(super) fn hire_pk(date: NaiveDate) -> String {
    format!("HIRE#{}", date.format("%Y-%m-%d"))
}

/// The GSI1 sort keys of one trust's starters of a day (`<vpd>#<number>`).
pub(super) fn trust_starters_prefix(vpd: &str) -> String {
    format!("{vpd}#")
}

/// The partition of the applicants with one GMC number in GSI2.
pub(super) fn gmc_pk(gmc: &str) -> String {
    format!("GMC#{gmc}")
}

pub(super) fn history_sk(seq: u32) -> String {
    format!("{HISTORY_PREFIX}{seq:06}")
}

pub(super) fn person_key_item(vpd: &str, person_key: &str) -> Item {
    key(format!("PERSON#{vpd}#{person_key}"), PERSON_SK)
}

/// The partition of a trust's rotation grid.
pub(super) fn rotation_pk(vpd: &str) -> String {
    format!("ROTATION#{vpd}")
}

pub(super) fn rotation_key(vpd: &str, position_key: &str) -> Item {
    key(rotation_pk(vpd), position_key)
}

/// The partition of a trust's person updates (for the RMC).
pub(super) fn person_update_pk(vpd: &str) -> String {
    format!("PERSONUPDATE#{vpd}")
}

/// The counter of a named sequence (beside `COUNTER_PK`, the applicant numbers).
pub(super) fn sequence_counter_pk(name: &str) -> String {
    format!("COUNTER#sequence#{name}")
}

/// The block of numbers of the counter `counter_pk` reserved for `holder`.
pub(super) fn reservation_key(counter_pk: &str, holder: &str) -> Item {
    key(format!("RESERVATION#{counter_pk}#{holder}"), "RESERVATION")
}

/// A daily job's watermark.
pub(super) fn watermark_key(job: &str) -> Item {
    key(format!("WATERMARK#{job}"), "WATERMARK")
}

/// The partition of what TIS was sent for one local office.
pub(super) fn tis_view_pk(local_office: &str) -> String {
    format!("TISVIEW#{local_office}")
}

/// The partition of the rejected APP records of one placement.
pub(super) fn rejected_pk(placement_id: &str) -> String {
    format!("REJECTED#{placement_id}")
}

/// A trust's rejected records in GSI1 (a partition of its own, apart from its positions).
pub(super) fn trust_rejected_pk(vpd: &str) -> String {
    format!("TRUST#{vpd}#REJECTED")
}

/// The rejected records of the files of one business date in GSI3 (the exception report).
pub(super) fn rejected_filed_pk(date: chrono::NaiveDate) -> String {
    format!("REJECTED_FILED#{date}")
}

/// The rejected records of one GMC number in GSI2 (apart from the applicants' `GMC#`).
pub(super) fn rejected_gmc_pk(gmc: &str) -> String {
    format!("REJECTED_GMC#{gmc}")
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

/// The partition of a trust's inbox read marks.
pub(super) fn read_pk(vpd: &str) -> String {
    format!("READ#{vpd}")
}

pub(super) fn read_mark_key(vpd: &str, item: &str) -> Item {
    key(read_pk(vpd), item)
}

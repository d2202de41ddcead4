//! What is past its retention is not read (contract 7.1): rows stay in `state.db` until
//! `dit purge` removes them, so every read of a kind that expires passes through here and drops
//! what [`retention::live_on`] says is gone on the store's day. The rules are purge's
//! (`purge.rs`): an applicant's history, placement link and person updates go with it.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use dit_core::ports::StoreError;
use dit_domain::dnc::RotationEntry;
use dit_domain::model::{
    Applicant, Person, PersonUpdate, PlacementLink, ProcessedFile, ReceivedSequence,
    RejectedApplication,
};
use dit_domain::retention;
use rusqlite::Connection;

use super::store::SqliteStore;

pub(super) fn applicant_live(applicant: &Applicant, today: NaiveDate) -> bool {
    retention::live_on(retention::applicant_kept_until(applicant), today)
}

pub(super) fn live_applicants(applicants: Vec<Applicant>, today: NaiveDate) -> Vec<Applicant> {
    applicants
        .into_iter()
        .filter(|a| applicant_live(a, today))
        .collect()
}

/// Of `numbers`, those whose applicant row still exists and is past its retention.
pub(super) fn expired_applicants(
    connection: &Connection,
    numbers: impl IntoIterator<Item = String>,
    today: NaiveDate,
) -> Result<HashSet<String>, StoreError> {
    let numbers: Vec<String> = numbers
        .into_iter()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if numbers.is_empty() {
        return Ok(HashSet::new());
    }
    let found: HashMap<String, Applicant> = SqliteStore::bodies_by_key_in(
        connection,
        "SELECT body FROM applicants WHERE applicant_number = ?1",
        &numbers,
    )?;
    Ok(found
        .into_iter()
        .filter(|(_, a)| !applicant_live(a, today))
        .map(|(number, _)| number)
        .collect())
}

/// Placement links without those of expired applicants: such a placement is judged afresh when
/// sent again. A link whose applicant is not written yet (a load resumed) stays.
pub(super) fn live_links(
    connection: &Connection,
    mut links: HashMap<String, PlacementLink>,
    today: NaiveDate,
) -> Result<HashMap<String, PlacementLink>, StoreError> {
    let expired = expired_applicants(
        connection,
        links.values().map(|l| l.applicant_number.clone()),
        today,
    )?;
    links.retain(|_, link| !expired.contains(&link.applicant_number));
    Ok(links)
}

/// Persons without those whose applicants have all expired (as purge removes them; DynamoDB's
/// person item expires with its newest applicant alike). A person of no applicant stays.
pub(super) fn live_persons(
    connection: &Connection,
    mut persons: HashMap<(String, String), Person>,
    today: NaiveDate,
) -> Result<HashMap<(String, String), Person>, StoreError> {
    let expired = expired_applicants(
        connection,
        persons
            .values()
            .flat_map(|p| p.applicant_numbers.iter().cloned()),
        today,
    )?;
    persons.retain(|_, person| {
        person.applicant_numbers.is_empty()
            || !person.applicant_numbers.iter().all(|n| expired.contains(n))
    });
    Ok(persons)
}

/// Person updates kept as long as their applicant, or by their own date once it is gone.
pub(super) fn live_person_updates(
    connection: &Connection,
    updates: Vec<PersonUpdate>,
    today: NaiveDate,
) -> Result<Vec<PersonUpdate>, StoreError> {
    let numbers: Vec<String> = updates
        .iter()
        .map(|u| u.applicant_number.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let applicants: HashMap<String, Applicant> = SqliteStore::bodies_by_key_in(
        connection,
        "SELECT body FROM applicants WHERE applicant_number = ?1",
        &numbers,
    )?;
    Ok(updates
        .into_iter()
        .filter(|u| match applicants.get(&u.applicant_number) {
            Some(applicant) => applicant_live(applicant, today),
            None => retention::live_on(retention::person_update_kept_until(u), today),
        })
        .collect())
}

pub(super) fn rotation_live(row: &RotationEntry, today: NaiveDate) -> bool {
    retention::live_on(retention::rotation_kept_until(row), today)
}

pub(super) fn rejected_live(rejected: &RejectedApplication, today: NaiveDate) -> bool {
    retention::live_on(retention::rejected_kept_until(rejected), today)
}

pub(super) fn file_live(file: &ProcessedFile, today: NaiveDate) -> bool {
    retention::live_on(
        retention::operator_record_kept_until(file.business_date),
        today,
    )
}

pub(super) fn received_live(received: &ReceivedSequence, today: NaiveDate) -> bool {
    retention::live_on(
        retention::operator_record_kept_until(received.business_date),
        today,
    )
}

/// The earliest business date whose operator records (processed file, TIS number received) are
/// still live on `today`: older ones are past [`retention::operator_record_kept_until`].
pub(super) fn oldest_live_business_date(today: NaiveDate) -> NaiveDate {
    today
        .checked_sub_days(chrono::Days::new(retention::OPERATOR_DAYS))
        .unwrap_or(NaiveDate::MIN)
}

//! Applicants: their rows and history rows written inside a transaction, and the person each
//! belongs to read, amended and written back.

use super::bulk::{with_encoded, EncodedApplicant};
use super::live::expired_applicants;
use super::store::*;
use dit_core::ports::{CreateOutcome, MoveOutcome, NewApplicant, StoreError};
use dit_domain::model::{Applicant, HistoryEntry, Person, PlacementLink};
use rusqlite::{params, Connection, TransactionBehavior};

/// Reads a person (or a new one), lets `change` amend it, and writes it back, inside `tx`.
pub(super) fn update_person(
    tx: &Connection,
    vpd: &str,
    key: &str,
    change: impl FnOnce(&mut Person),
) -> Result<(), StoreError> {
    let existing: Option<String> = query_one(
        tx,
        "SELECT body FROM persons WHERE vpd = ?1 AND person_key = ?2",
        params![vpd, key],
        |row| row.get(0),
    )?;
    let mut person = match existing {
        Some(body) => from_json::<Person>(&body)?,
        None => Person {
            vpd: vpd.to_string(),
            person_key: key.to_string(),
            employee: false,
            applicant_numbers: vec![],
        },
    };
    change(&mut person);
    execute(
        tx,
        "INSERT INTO persons (vpd, person_key, body) VALUES (?1, ?2, ?3)
         ON CONFLICT (vpd, person_key) DO UPDATE SET body = excluded.body",
        params![vpd, key, to_json(&person)?],
    )?;
    Ok(())
}

pub(super) fn insert_applicant(
    tx: &Connection,
    applicant: &Applicant,
    body: &str,
) -> Result<(), StoreError> {
    execute(
        tx,
        "INSERT INTO applicants (applicant_number, vpd, gmc, hire_date, version, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            applicant.applicant_number,
            applicant.vpd,
            applicant.gmc_number(),
            applicant.projected_hire_date.to_string(),
            applicant.version,
            body
        ],
    )?;
    Ok(())
}

pub(super) fn insert_history(
    tx: &Connection,
    applicant_number: &str,
    seq: u32,
    body: &str,
) -> Result<bool, StoreError> {
    let inserted = execute(
        tx,
        "INSERT OR IGNORE INTO history (applicant_number, seq, body) VALUES (?1, ?2, ?3)",
        params![applicant_number, seq, body],
    )?;
    Ok(inserted == 1)
}

impl SqliteStore {
    /// New applicants with their history and persons, each once (a repeat is reported, not written).
    ///
    /// Each applicant claims its placement first (`ON CONFLICT DO NOTHING`): a placement already
    /// held is the rare case and only then is the link read. Its person's list gains it in the
    /// same statement that creates the person, so no person is read either.
    pub(super) async fn insert_applicants(
        &self,
        applicants: &[NewApplicant],
    ) -> Result<Vec<CreateOutcome>, StoreError> {
        let today = self.today();
        self.write(applicants.len(), |tx| {
            let mut outcomes = Vec::with_capacity(applicants.len());
            let mut claim = tx
                .prepare_cached(
                    "INSERT INTO placements (placement_id, applicant_number, body) VALUES (?1, ?2, ?3)
                     ON CONFLICT (placement_id) DO NOTHING",
                )
                .map_err(unavailable)?;
            let mut history_pair = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO history (applicant_number, seq, body)
                     VALUES (?1, ?2, ?3), (?1, ?4, ?5)",
                )
                .map_err(unavailable)?;
            let mut join_person = tx
                .prepare_cached(
                    "INSERT INTO persons (vpd, person_key, body) VALUES (?1, ?2, ?3)
                     ON CONFLICT (vpd, person_key) DO UPDATE
                     SET body = json_insert(body, '$.applicant_numbers[#]', ?4)
                     WHERE NOT EXISTS (SELECT 1 FROM json_each(body, '$.applicant_numbers') WHERE value = ?4)",
                )
                .map_err(unavailable)?;
            let write = |new: &NewApplicant, encoded: EncodedApplicant| {
                let a = &new.applicant;
                let claimed = claim
                    .execute(params![a.placement_id, a.applicant_number, encoded.link])
                    .map_err(unavailable)?;
                if claimed == 0 {
                    let held: Option<String> = query_one(
                        tx,
                        "SELECT body FROM placements WHERE placement_id = ?1",
                        [&a.placement_id],
                        |row| row.get(0),
                    )?;
                    let link: PlacementLink = from_json(&held.unwrap_or_default())?;
                    // The link of an applicant past its retention is as good as purged: the
                    // placement becomes a new applicant, whose link replaces it.
                    if expired_applicants(tx, [link.applicant_number.clone()], today)?.is_empty() {
                        outcomes.push(CreateOutcome::PlacementTaken(link));
                        return Ok(());
                    }
                    execute(
                        tx,
                        "INSERT OR REPLACE INTO placements (placement_id, applicant_number, body) VALUES (?1, ?2, ?3)",
                        params![a.placement_id, a.applicant_number, encoded.link],
                    )?;
                }
                insert_applicant(tx, a, &encoded.applicant)?;
                match (new.history.as_slice(), encoded.history.as_slice()) {
                    ([first, second], [first_body, second_body]) => {
                        history_pair
                            .execute(params![
                                a.applicant_number,
                                first.seq,
                                first_body,
                                second.seq,
                                second_body
                            ])
                            .map_err(unavailable)?;
                    }
                    _ => {
                        for (entry, body) in new.history.iter().zip(&encoded.history) {
                            insert_history(tx, &a.applicant_number, entry.seq, body)?;
                        }
                    }
                }
                if let (Some(key), Some(person)) = (&a.person_key, &encoded.person) {
                    join_person
                        .execute(params![a.vpd, key, person, a.applicant_number])
                        .map_err(unavailable)?;
                }
                outcomes.push(CreateOutcome::Created);
                Ok(())
            };
            with_encoded(applicants, write)?;
            Ok(outcomes)
        })
    }

    /// The applicant after a move and its history entry, if the stored version is `expected_version`.
    pub(super) async fn update_on_version(
        &self,
        expected_version: u32,
        applicant: &Applicant,
        entry: &HistoryEntry,
    ) -> Result<MoveOutcome, StoreError> {
        self.with(|connection| {
            let tx = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let updated = execute(
                &tx,
                "UPDATE applicants SET vpd = ?3, gmc = ?4, hire_date = ?5, version = ?6, body = ?7
                     WHERE applicant_number = ?1 AND version = ?2",
                params![
                    applicant.applicant_number,
                    expected_version,
                    applicant.vpd,
                    applicant.gmc_number(),
                    applicant.projected_hire_date.to_string(),
                    applicant.version,
                    to_json(applicant)?
                ],
            )?;
            if updated != 1
                || !insert_history(
                    &tx,
                    &applicant.applicant_number,
                    entry.seq,
                    &to_json(entry)?,
                )?
            {
                // Dropping the transaction rolls back the applicant update.
                return Ok(MoveOutcome::Conflict);
            }
            tx.commit().map_err(unavailable)?;
            Ok(MoveOutcome::Stored)
        })
    }
}

//! Applicants: a new applicant's rows (placement link, applicant, creation history, person)
//! written in one transaction or, during a bulk load, by a writing thread of their own, a batch
//! at a time; an applicant's move conditional on its version; a person read, amended and written
//! back (hire, purge).

use super::bulk::EncodedApplicant;
use super::live::expired_applicants;
use super::portal::report_fields;
use super::store::*;
use dit_core::ports::{CreateOutcome, MoveOutcome, NewApplicant, StoreError};
use dit_domain::model::{Applicant, HistoryEntry, Person, PlacementLink};
use std::sync::mpsc::{channel, Receiver};
use std::sync::Arc;

use chrono::NaiveDate;
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

/// Applicants written into the bulk transaction together, the connection let go between them:
/// the reads and writes of the caller's next chunk wait for one batch, not the whole call.
const WRITE_BATCH: usize = 16;

/// Writes the `count` new applicants that come in batches from `batches` into the bulk
/// transaction, one batch at a time. The group is committed only after the last, so a call is
/// kept or lost whole; if the batches stop short (the caller could not encode one), what came is
/// taken back with the group, as for any failed write of a bulk load.
fn write_batches(
    db: &DbLock,
    batches: Receiver<Vec<EncodedApplicant>>,
    count: usize,
    today: NaiveDate,
) -> Result<Vec<CreateOutcome>, StoreError> {
    let mut outcomes = Vec::with_capacity(count);
    let mut written = 0;
    while written < count {
        let Ok(batch) = batches.recv() else {
            lock(db)?.roll_back_bulk();
            return Err(StoreError::Unavailable(
                "the applicants to write stopped coming before the last".into(),
            ));
        };
        written += batch.len();
        write_part(db, batch.len(), Some(written >= count), |tx| {
            insert_batch(tx, batch, today, &mut outcomes)
        })?;
        db.let_waiting_in();
    }
    Ok(outcomes)
}

/// Claims each applicant's placement (`ON CONFLICT DO NOTHING`: a placement already held is the
/// rare case, and only then is the link read) and writes the applicant, its creation history in
/// one statement, and its person, which gains it in the statement that creates it.
fn insert_batch(
    tx: &Connection,
    batch: Vec<EncodedApplicant>,
    today: NaiveDate,
    outcomes: &mut Vec<CreateOutcome>,
) -> Result<(), StoreError> {
    let mut claim = tx
        .prepare_cached(
            "INSERT INTO placements (placement_id, applicant_number, body) VALUES (?1, ?2, ?3)
             ON CONFLICT (placement_id) DO NOTHING",
        )
        .map_err(unavailable)?;
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO applicants (applicant_number, vpd, gmc, hire_date, version, body, report)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
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
    for a in batch {
        let claimed = claim
            .execute(params![a.placement_id, a.applicant_number, a.link])
            .map_err(unavailable)?;
        if claimed == 0 {
            let held: Option<String> = query_one(
                tx,
                "SELECT body FROM placements WHERE placement_id = ?1",
                [&a.placement_id],
                |row| row.get(0),
            )?;
            let link: PlacementLink = from_json(&held.unwrap_or_default())?;
            // The link of an applicant past its retention is as good as purged: the placement
            // becomes a new applicant, whose link replaces it.
            if expired_applicants(tx, [link.applicant_number.clone()], today)?.is_empty() {
                outcomes.push(CreateOutcome::PlacementTaken(link));
                continue;
            }
            execute(
                tx,
                "INSERT OR REPLACE INTO placements (placement_id, applicant_number, body) VALUES (?1, ?2, ?3)",
                params![a.placement_id, a.applicant_number, a.link],
            )?;
        }
        insert
            .execute(params![
                a.applicant_number,
                a.vpd,
                a.gmc,
                a.hire_date,
                a.version,
                a.applicant,
                a.report
            ])
            .map_err(unavailable)?;
        match a.history.as_slice() {
            [(first, first_body), (second, second_body)] => {
                history_pair
                    .execute(params![
                        a.applicant_number,
                        first,
                        first_body,
                        second,
                        second_body
                    ])
                    .map_err(unavailable)?;
            }
            entries => {
                for (seq, body) in entries {
                    insert_history(tx, &a.applicant_number, *seq, body)?;
                }
            }
        }
        if let (Some(key), Some(person)) = (&a.person_key, &a.person) {
            join_person
                .execute(params![a.vpd, key, person, a.applicant_number])
                .map_err(unavailable)?;
        }
        outcomes.push(CreateOutcome::Created);
    }
    Ok(())
}

impl SqliteStore {
    /// New applicants with their history and persons, each once (a repeat is reported, not written).
    ///
    /// During a bulk load the rows are encoded here, when the call is first polled, and written
    /// by the store's writing thread (`writer`) behind the calls before, which this call waits
    /// for without holding its own thread: a caller that runs other work beside the call (as
    /// the APP pipeline decides the next chunk and hands it over) gets a second core for it.
    pub(super) async fn insert_applicants(
        &self,
        applicants: &[NewApplicant],
    ) -> Result<Vec<CreateOutcome>, StoreError> {
        let today = self.today();
        if self.lock()?.bulk_loads == 0 {
            let encoded = applicants
                .iter()
                .map(EncodedApplicant::encode)
                .collect::<Result<Vec<_>, _>>()?;
            let mut outcomes = Vec::with_capacity(encoded.len());
            self.write(encoded.len(), |tx| {
                insert_batch(tx, encoded, today, &mut outcomes)
            })?;
            return Ok(outcomes);
        }
        let (answer, answered) = futures_channel::oneshot::channel();
        // Unbounded: the caller encodes the whole call (a chunk of the file) without waiting for
        // the writer, then decides its next chunk while the writer catches up.
        let (batches, to_write) = channel();
        let db = Arc::clone(&self.db);
        let count = applicants.len();
        self.writer.submit(Box::new(move || {
            // A caller that went away (its load failed) needs no answer.
            let _ = answer.send(write_batches(&db, to_write, count, today));
        }))?;
        // Each batch is written while the next is encoded.
        for batch in applicants.chunks(WRITE_BATCH) {
            let encoded = batch
                .iter()
                .map(EncodedApplicant::encode)
                .collect::<Result<Vec<_>, _>>()?;
            // A writer that hung up failed, and its answer says why.
            if batches.send(encoded).is_err() {
                break;
            }
        }
        drop(batches);
        answered.await.map_err(|_| {
            StoreError::Unavailable("the writing thread stopped before it answered".into())
        })?
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
                "UPDATE applicants SET vpd = ?3, gmc = ?4, hire_date = ?5, version = ?6, body = ?7,
                     report = ?8
                     WHERE applicant_number = ?1 AND version = ?2",
                params![
                    applicant.applicant_number,
                    expected_version,
                    applicant.vpd,
                    applicant.gmc_number(),
                    applicant.projected_hire_date.to_string(),
                    applicant.version,
                    to_json(applicant)?,
                    report_fields(applicant)?
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

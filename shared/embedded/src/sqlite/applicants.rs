//! Applicants: a new applicant's rows (placement link, applicant, creation history, person)
//! written in one transaction or, during a bulk load, by a writing thread of their own, a batch
//! at a time; an applicant's move conditional on its version; a person read, amended and written
//! back (hire, purge).

use super::bulk::{EncodedApplicant, SharedEncoding};
use super::live::expired_applicants;
use super::portal::report_fields;
use super::store::*;
use dit_core::ports::{CreateOutcome, MoveOutcome, NewApplicant, StoreError};
use dit_domain::model::{Applicant, HistoryEntry, Person, PlacementLink};
use std::sync::atomic::Ordering;
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

/// Writes the applicants of `encoding` into the bulk transaction, one batch at a time, as they
/// are encoded. The group is committed only after the last, so a call is kept or lost whole; a
/// batch that could not be encoded takes what came before back with the group, as any failed
/// write of a bulk load does.
fn write_batches(
    db: &DbLock,
    encoding: &SharedEncoding,
    today: NaiveDate,
) -> Result<Vec<CreateOutcome>, StoreError> {
    let mut outcomes = Vec::with_capacity(encoding.applicants());
    let batches = encoding.batches();
    for index in 0..batches {
        let batch = match encoding.take(index) {
            Ok(batch) => batch,
            Err(error) => {
                lock(db)?.roll_back_bulk();
                return Err(error);
            }
        };
        let applicants = encoding.batch(index);
        write_part(db, batch.len(), Some(index + 1 == batches), |tx| {
            insert_batch(tx, applicants, batch, today, &mut outcomes)
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
    applicants: &[NewApplicant],
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
    for (new, encoded) in applicants.iter().zip(batch) {
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
            // The link of an applicant past its retention is as good as purged: the placement
            // becomes a new applicant, whose link replaces it.
            if expired_applicants(tx, [link.applicant_number.clone()], today)?.is_empty() {
                outcomes.push(CreateOutcome::PlacementTaken(link));
                continue;
            }
            execute(
                tx,
                "INSERT OR REPLACE INTO placements (placement_id, applicant_number, body) VALUES (?1, ?2, ?3)",
                params![a.placement_id, a.applicant_number, encoded.link],
            )?;
        }
        insert
            .execute(params![
                a.applicant_number,
                a.vpd,
                a.gmc_number(),
                encoded.hire_date,
                a.version,
                encoded.applicant,
                encoded.report
            ])
            .map_err(unavailable)?;
        match encoded.history.as_slice() {
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
        if let (Some(key), Some(person)) = (&a.person_key, &encoded.person) {
            join_person
                .execute(params![a.vpd, key, person, a.applicant_number])
                .map_err(unavailable)?;
        }
        outcomes.push(CreateOutcome::Created);
    }
    Ok(())
}

impl SqliteStore {
    /// New applicants with their history and persons, each once (a repeat is reported, not
    /// written), in one transaction; during a bulk load, as [`Self::insert_shared_applicants`]
    /// with a copy of them.
    pub(super) async fn insert_applicants(
        &self,
        applicants: &[NewApplicant],
    ) -> Result<Vec<CreateOutcome>, StoreError> {
        if !self.db.bulk_running.load(Ordering::SeqCst) {
            return self.insert_in_one_transaction(applicants);
        }
        self.insert_shared_applicants(Arc::new(applicants.to_vec()))
            .await
    }

    /// New applicants as [`Self::insert_applicants`]. During a bulk load they are written by the
    /// store's writing thread (`writer`) behind the calls before, and encoded by this thread or
    /// that one (see [`SharedEncoding`]) when the call is first polled; the call then waits for
    /// its answer without holding its thread: a caller that runs other work beside the call (as
    /// the APP pipeline decides the next chunk and hands it over) gets a second core for it.
    pub(super) async fn insert_shared_applicants(
        &self,
        applicants: Arc<Vec<NewApplicant>>,
    ) -> Result<Vec<CreateOutcome>, StoreError> {
        if !self.db.bulk_running.load(Ordering::SeqCst) {
            return self.insert_in_one_transaction(&applicants);
        }
        let today = self.today();
        let (answer, answered) = futures_channel::oneshot::channel();
        let encoding = Arc::new(SharedEncoding::new(applicants));
        let db = Arc::clone(&self.db);
        let to_write = Arc::clone(&encoding);
        self.writer.submit(Box::new(move || {
            // A caller that went away (its load failed) needs no answer.
            let _ = answer.send(write_batches(&db, &to_write, today));
        }))?;
        encoding.encode_until_the_writer_comes();
        drop(encoding);
        answered.await.map_err(|_| {
            StoreError::Unavailable("the writing thread stopped before it answered".into())
        })?
    }

    fn insert_in_one_transaction(
        &self,
        applicants: &[NewApplicant],
    ) -> Result<Vec<CreateOutcome>, StoreError> {
        let today = self.today();
        let encoded = applicants
            .iter()
            .map(EncodedApplicant::encode)
            .collect::<Result<Vec<_>, _>>()?;
        let mut outcomes = Vec::with_capacity(encoded.len());
        self.write(encoded.len(), |tx| {
            insert_batch(tx, applicants, encoded, today, &mut outcomes)
        })?;
        Ok(outcomes)
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

//! The embedded state store: SQLite (bundled) in one file, `DIR/state.db`.
//!
//! Each record is kept as JSON with the columns needed to find it beside; every multi-row change is
//! one SQLite transaction, and applicant moves are conditional on the stored version.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, OptionalExtension};

use dit_core::ports::{Counter, CreateOutcome, MoveOutcome, NewApplicant, StateStore, StoreError};
use dit_domain::dnc::RotationEntry;
use dit_domain::model::{
    Applicant, ApplicantSummary, FileClaim, FileStatus, HistoryEntry, Person, PersonUpdate,
    PlacementLink, ProcessedFile, ReceivedSequence, RejectedApplication, RejectedLookup,
};
use dit_domain::pos::Position;
use dit_domain::reports::ReportedApplicant;

mod applicants;
mod bulk;
mod checkpoint;
mod live;
mod portal;
mod purge;
mod rotation;
mod schema;
mod store;
mod writer;

use applicants::*;
use live::*;
use portal::reported_rows;
pub use purge::Purged;
pub use store::SqliteStore;
use store::*;

impl SqliteStore {
    fn live_received(&self, found: Vec<ReceivedSequence>) -> Vec<ReceivedSequence> {
        let today = self.today();
        found
            .into_iter()
            .filter(|r| received_live(r, today))
            .collect()
    }
}

#[async_trait]
impl StateStore for SqliteStore {
    async fn claim_file(&self, file: &ProcessedFile) -> Result<FileClaim, StoreError> {
        let today = self.today();
        self.transaction(|tx| {
            let existing: Option<String> = query_one(tx, "SELECT body FROM files WHERE identity = ?1", [&file.identity], |row| row.get(0))?;
            if let Some(body) = existing {
                let existing: ProcessedFile = from_json(&body)?;
                // A record past its retention is no duplicate: the file is judged afresh, and its
                // claim replaces the old row below.
                if file_live(&existing, today) {
                    return Ok(if existing.sha256 == file.sha256 {
                        FileClaim::SameContent(existing)
                    } else {
                        FileClaim::DifferentContent(existing)
                    });
                }
            }
            execute(tx, "INSERT OR REPLACE INTO files (identity, source, file_type, seq, body) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![file.identity, file.source, file.file_type, file.seq as i64, to_json(file)?],)?;
            Ok(FileClaim::New)
        })
    }

    async fn note_received_sequence(&self, received: &ReceivedSequence) -> Result<(), StoreError> {
        self.with(|connection| {
            connection
                .execute(
                    "INSERT INTO received_sequences (file_type, seq, source, business_date, body)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (file_type, seq, source) DO UPDATE SET
                     business_date = excluded.business_date, body = excluded.body
                     WHERE received_sequences.business_date < ?6",
                    params![
                        received.file_type,
                        received.seq as i64,
                        received.source,
                        received.business_date.to_string(),
                        to_json(received)?,
                        // The first noting stands while it lives; one past its retention (kept
                        // a year after its business date) is replaced, as if purged.
                        oldest_live_business_date(self.today()).to_string()
                    ],
                )
                .map_err(unavailable)?;
            Ok(())
        })
    }

    async fn received_sequences_between_dates(
        &self,
        file_type: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ReceivedSequence>, StoreError> {
        self.with(|connection| {
            Self::bodies(
                connection,
                "SELECT body FROM received_sequences
                 WHERE file_type = ?1 AND business_date BETWEEN ?2 AND ?3 ORDER BY seq, source",
                params![file_type, from.to_string(), to.to_string()],
            )
        })
        .map(|found| self.live_received(found))
    }

    async fn received_sequences_between_numbers(
        &self,
        file_type: &str,
        lowest: u64,
        highest: u64,
    ) -> Result<Vec<ReceivedSequence>, StoreError> {
        self.with(|connection| {
            Self::bodies(
                connection,
                "SELECT body FROM received_sequences
                 WHERE file_type = ?1 AND seq BETWEEN ?2 AND ?3 ORDER BY seq, source",
                params![file_type, lowest as i64, highest as i64],
            )
        })
        .map(|found| self.live_received(found))
    }

    async fn complete_file(
        &self,
        identity: &str,
        summary: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.transaction(|tx| {
            let body: Option<String> = query_one(
                tx,
                "SELECT body FROM files WHERE identity = ?1",
                [identity],
                |row| row.get(0),
            )?;
            let Some(body) = body else {
                return Err(StoreError::Corrupt(format!(
                    "file {identity} was never claimed"
                )));
            };
            let mut file: ProcessedFile = from_json(&body)?;
            file.status = FileStatus::Processed;
            file.completed_at.get_or_insert(at);
            file.summary = Some(summary.clone());
            execute(
                tx,
                "UPDATE files SET body = ?2 WHERE identity = ?1",
                params![identity, to_json(&file)?],
            )?;
            Ok(())
        })
    }

    async fn positions(&self, ids: &[String]) -> Result<HashMap<String, Position>, StoreError> {
        self.read_committed(|connection| {
            Self::bodies_by_key(
                connection,
                "SELECT body FROM positions WHERE position_id = ?1",
                ids,
            )
        })
    }

    async fn trust_positions(&self, vpd: &str) -> Result<Vec<Position>, StoreError> {
        self.with(|connection| {
            Self::bodies(
                connection,
                "SELECT body FROM positions WHERE vpd = ?1 ORDER BY position_id",
                [vpd],
            )
        })
    }

    async fn positions_by_dpn(&self, dpn: &str) -> Result<Vec<Position>, StoreError> {
        // Positions without a DPN are stored with an empty one: an empty DPN finds nothing.
        if dpn.is_empty() {
            return Ok(Vec::new());
        }
        self.read_committed(|connection| {
            Self::bodies(
                connection,
                "SELECT body FROM positions WHERE dpn = ?1 ORDER BY vpd, position_id",
                [dpn],
            )
        })
    }

    async fn save_positions(&self, positions: &[Position]) -> Result<(), StoreError> {
        self.transaction(|tx| {
            for p in positions {
                execute(tx, "INSERT INTO positions (position_id, vpd, dpn, body) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (position_id) DO UPDATE SET vpd = excluded.vpd, dpn = excluded.dpn, body = excluded.body",
                    params![p.position_id, p.vpd, p.dpn, to_json(p)?],)?;
            }
            Ok(())
        })
    }

    async fn placements(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, PlacementLink>, StoreError> {
        let today = self.today();
        self.read_committed(|connection| {
            let links = Self::bodies_by_key(
                connection,
                "SELECT body FROM placements WHERE placement_id = ?1",
                ids,
            )?;
            live_links(connection, links, today)
        })
    }

    async fn persons(
        &self,
        keys: &[(String, String)],
    ) -> Result<HashMap<(String, String), Person>, StoreError> {
        let today = self.today();
        self.read_committed(|connection| {
            let persons = Self::bodies_by_key(
                connection,
                "SELECT body FROM persons WHERE vpd = ?1 AND person_key = ?2",
                keys,
            )?;
            live_persons(connection, persons, today)
        })
    }

    async fn allocate_numbers(&self, count: u64) -> Result<u64, StoreError> {
        self.transaction(|tx| {
            let next: i64 = query_one(
                tx,
                "INSERT INTO counters (name, value) VALUES ('numbers', ?1)
                 ON CONFLICT (name) DO UPDATE SET value = value + ?1 RETURNING value",
                [count as i64],
                |row| row.get(0),
            )?
            .ok_or_else(|| StoreError::Corrupt("the number counter returned nothing".into()))?;
            Ok(next as u64 - count + 1)
        })
    }

    async fn reserve_numbers(
        &self,
        counter: Counter<'_>,
        holder: &str,
        count: u64,
    ) -> Result<std::ops::Range<u64>, StoreError> {
        // The counters' names, as allocate_numbers and next_in_sequence use them.
        let name = match counter {
            Counter::ApplicantNumbers => "numbers".to_string(),
            Counter::Sequence(sequence) => format!("sequence:{sequence}"),
        };
        self.write(0, |tx| {
            let reserved: Option<(i64, i64)> = tx
                .query_row(
                    "SELECT first, count FROM reservations WHERE counter = ?1 AND holder = ?2",
                    params![name, holder],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()
                .map_err(unavailable)?;
            if let Some((first, count)) = reserved {
                return Ok(first as u64..(first + count) as u64);
            }
            let next: i64 = tx
                .query_row(
                    "INSERT INTO counters (name, value) VALUES (?1, ?2)
                     ON CONFLICT (name) DO UPDATE SET value = value + ?2 RETURNING value",
                    params![name, count as i64],
                    |row| row.get(0),
                )
                .map_err(unavailable)?;
            let first = next - count as i64 + 1;
            if count > 0 {
                tx.execute(
                    "INSERT INTO reservations (counter, holder, first, count) VALUES (?1, ?2, ?3, ?4)",
                    params![name, holder, first, count as i64],
                )
                .map_err(unavailable)?;
            }
            Ok(first as u64..first as u64 + count)
        })
    }

    async fn create_applicants(
        &self,
        applicants: &[NewApplicant],
    ) -> Result<Vec<CreateOutcome>, StoreError> {
        self.insert_applicants(applicants).await
    }

    async fn create_shared_applicants(
        &self,
        applicants: Arc<Vec<NewApplicant>>,
    ) -> Result<Vec<CreateOutcome>, StoreError> {
        self.insert_shared_applicants(applicants).await
    }

    async fn begin_bulk(&self) -> Result<(), StoreError> {
        let mut db = self.lock()?;
        // What an abandoned load left open (it panicked before end_bulk) is kept.
        db.commit_bulk()?;
        db.checkpoint_in_background()?;
        db.bulk_loads += 1;
        self.db.bulk_running.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn end_bulk(&self) -> Result<(), StoreError> {
        // The calls a load left queued (it failed before waiting for them) are written, into
        // the group or refused with it, before the last load ends: not afterwards, each on its own.
        if self.lock()?.bulk_loads <= 1 {
            self.writer.stop();
        }
        let mut db = self.lock()?;
        db.bulk_loads = db.bulk_loads.saturating_sub(1);
        let failed = db.bulk_failed;
        if db.bulk_loads == 0 {
            db.bulk_failed = false;
            self.db.bulk_running.store(false, Ordering::SeqCst);
        }
        db.commit_bulk()?;
        if db.bulk_loads == 0 {
            db.checkpoint_in_foreground()?;
        }
        if failed {
            return Err(bulk_rolled_back());
        }
        Ok(())
    }

    async fn applicant(&self, applicant_number: &str) -> Result<Option<Applicant>, StoreError> {
        let today = self.today();
        self.read(|connection| {
            Ok(Self::bodies(
                connection,
                "SELECT body FROM applicants WHERE applicant_number = ?1",
                [applicant_number],
            )?
            .into_iter()
            .find(|a| applicant_live(a, today)))
        })
    }

    async fn applicants_by_gmc(&self, gmc: &str) -> Result<Vec<Applicant>, StoreError> {
        self.with(|connection| {
            Self::bodies(
                connection,
                "SELECT body FROM applicants WHERE gmc = ?1 ORDER BY vpd, applicant_number",
                [gmc],
            )
        })
        .map(|found| live_applicants(found, self.today()))
    }

    async fn history(&self, applicant_number: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        let today = self.today();
        self.with(|connection| {
            // The history goes with its applicant.
            if !expired_applicants(connection, [applicant_number.to_string()], today)?.is_empty() {
                return Ok(Vec::new());
            }
            Self::bodies(
                connection,
                "SELECT body FROM history WHERE applicant_number = ?1 ORDER BY seq",
                [applicant_number],
            )
        })
    }

    async fn record_move(
        &self,
        expected_version: u32,
        applicant: &Applicant,
        entry: &HistoryEntry,
    ) -> Result<MoveOutcome, StoreError> {
        self.update_on_version(expected_version, applicant, entry)
            .await
    }

    async fn mark_employee(&self, vpd: &str, person_key: &str) -> Result<(), StoreError> {
        self.transaction(|tx| {
            update_person(tx, vpd, person_key, |person| person.employee = true)?;
            Ok(())
        })
    }

    async fn save_rotation(&self, entries: &[RotationEntry]) -> Result<(), StoreError> {
        self.put_rotation(entries).await
    }

    async fn rotation_grid(&self, vpd: &str) -> Result<Vec<RotationEntry>, StoreError> {
        self.with(|connection| {
            Self::bodies(
                connection,
                "SELECT body FROM rotation WHERE vpd = ?1 ORDER BY position_key",
                [vpd],
            )
        })
        .map(|rows: Vec<RotationEntry>| {
            let today = self.today();
            rows.into_iter()
                .filter(|r| rotation_live(r, today))
                .collect()
        })
    }

    async fn remove_rotation(&self, vpd: &str, position_keys: &[String]) -> Result<(), StoreError> {
        self.delete_rotation(vpd, position_keys).await
    }

    async fn save_person_update(&self, update: &PersonUpdate) -> Result<(), StoreError> {
        self.with(|connection| {
            execute(
                connection,
                "INSERT INTO person_updates (applicant_number, message_id, vpd, received_at, body)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (applicant_number, message_id) DO UPDATE SET body = excluded.body",
                params![
                    update.applicant_number,
                    update.message_id,
                    update.vpd,
                    update.received_at.to_rfc3339(),
                    to_json(update)?
                ],
            )?;
            Ok(())
        })
    }

    async fn person_updates(&self, vpd: &str) -> Result<Vec<PersonUpdate>, StoreError> {
        let today = self.today();
        self.with(|connection| {
            let updates = Self::bodies(
                connection,
                "SELECT body FROM person_updates WHERE vpd = ?1 ORDER BY received_at, applicant_number, message_id",
                [vpd],
            )?;
            live_person_updates(connection, updates, today)
        })
    }

    async fn applicants_starting_on(&self, date: NaiveDate) -> Result<Vec<Applicant>, StoreError> {
        self.with(|connection| {
            Self::bodies(
                connection,
                "SELECT body FROM applicants WHERE hire_date = ?1 ORDER BY vpd, applicant_number",
                [date.to_string()],
            )
        })
        .map(|found| live_applicants(found, self.today()))
    }

    async fn trust_applicants_starting_between(
        &self,
        vpd: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Applicant>, StoreError> {
        self.with(|connection| {
            Self::bodies(
                connection,
                "SELECT body FROM applicants WHERE vpd = ?1 AND hire_date BETWEEN ?2 AND ?3
                 ORDER BY hire_date, applicant_number",
                [vpd.to_string(), from.to_string(), to.to_string()],
            )
        })
        .map(|found| live_applicants(found, self.today()))
    }

    /// One range read through the hire-date index (or the trust's), taking from each row only
    /// its `report` column, the report's fields as a short array: the report of a rotation's
    /// 60,000 applicants neither parses 60,000 documents nor touches their personal data.
    async fn reported_applicants_starting_between(
        &self,
        vpd: Option<&str>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ReportedApplicant>, StoreError> {
        // A row written before the `report` column has none: its fields come from the document.
        const FIELDS: &str = "vpd, hire_date, coalesce(report, json_array(json_extract(body, '$.local_office'),
            json_extract(body, '$.source_file'), json_extract(body, '$.state'),
            json_extract(body, '$.projected_end_date'), substr(json_extract(body, '$.updated_at'), 1, 10),
            json_extract(body, '$.late_changes')))";
        let (from, to) = (from.to_string(), to.to_string());
        let rows = self.with(|connection| match vpd {
            Some(vpd) => reported_rows(
                connection,
                &format!(
                    "SELECT {FIELDS} FROM applicants WHERE vpd = ?1 AND hire_date BETWEEN ?2 AND ?3
                     ORDER BY hire_date, applicant_number"
                ),
                [vpd, from.as_str(), to.as_str()],
            ),
            None => reported_rows(
                connection,
                &format!(
                    "SELECT {FIELDS} FROM applicants WHERE hire_date BETWEEN ?1 AND ?2
                     ORDER BY hire_date, vpd, applicant_number"
                ),
                [from.as_str(), to.as_str()],
            ),
        })?;
        let today = self.today();
        Ok(rows.into_iter().filter(|a| a.live_on(today)).collect())
    }

    async fn watermark(&self, job: &str) -> Result<Option<NaiveDate>, StoreError> {
        self.with(|connection| {
            let text: Option<String> = query_one(
                connection,
                "SELECT date FROM watermarks WHERE job = ?1",
                [job],
                |row| row.get(0),
            )?;
            text.map(|t| {
                NaiveDate::parse_from_str(&t, "%Y-%m-%d")
                    .map_err(|e| StoreError::Corrupt(format!("watermark {job}: {e}")))
            })
            .transpose()
        })
    }

    async fn advance_watermark(&self, job: &str, date: NaiveDate) -> Result<bool, StoreError> {
        self.with(|connection| {
            // ISO dates compare correctly as text.
            let changed = execute(
                connection,
                "INSERT INTO watermarks (job, date) VALUES (?1, ?2)
                 ON CONFLICT (job) DO UPDATE SET date = excluded.date WHERE watermarks.date < excluded.date",
                params![job, date.to_string()],
            )?;
            Ok(changed == 1)
        })
    }

    async fn next_in_sequence(&self, name: &str) -> Result<u64, StoreError> {
        self.with(|connection| {
            let value: i64 = query_one(
                connection,
                "INSERT INTO counters (name, value) VALUES (?1, 1)
                 ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
                [format!("sequence:{name}")],
                |row| row.get(0),
            )?
            .ok_or_else(|| StoreError::Corrupt(format!("sequence {name} returned nothing")))?;
            Ok(value as u64)
        })
    }

    async fn tis_positions(
        &self,
        local_office: &str,
    ) -> Result<HashMap<String, Vec<String>>, StoreError> {
        self.with(|connection| {
            let mut statement = connection
                .prepare_cached(
                    "SELECT position_id, body FROM tis_positions WHERE local_office = ?1",
                )
                .map_err(unavailable)?;
            let rows = statement
                .query_map([local_office], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                })
                .map_err(unavailable)?;
            let mut sent = HashMap::new();
            for row in rows {
                let (id, body) = row.map_err(unavailable)?;
                sent.insert(id, from_json(&body)?);
            }
            Ok(sent)
        })
    }

    async fn save_tis_positions(
        &self,
        local_office: &str,
        sent: &[(String, Option<Vec<String>>)],
    ) -> Result<(), StoreError> {
        self.transaction(|tx| {
            for (id, fields) in sent {
                match fields {
                    Some(fields) => execute(
                        tx,
                        "INSERT INTO tis_positions (local_office, position_id, body) VALUES (?1, ?2, ?3)
                         ON CONFLICT (local_office, position_id) DO UPDATE SET body = excluded.body",
                        params![local_office, id, to_json(fields)?],
                    ),
                    None => execute(
                        tx,
                        "DELETE FROM tis_positions WHERE local_office = ?1 AND position_id = ?2",
                        params![local_office, id],
                    ),
                }?;
            }
            Ok(())
        })
    }

    async fn save_rejected_applications(
        &self,
        rejected: &[RejectedApplication],
    ) -> Result<(), StoreError> {
        if rejected.is_empty() {
            return Ok(());
        }
        self.write(0, |tx| {
            {
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO rejected_applications
                         (source_file, record_number, placement_id, gmc, vpd, business_date, body)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                         ON CONFLICT (source_file, record_number) DO UPDATE SET
                         placement_id = excluded.placement_id, gmc = excluded.gmc, vpd = excluded.vpd,
                         business_date = excluded.business_date, body = excluded.body",
                    )
                    .map_err(unavailable)?;
                for r in rejected {
                    insert
                        .execute(params![
                            r.source_file,
                            r.record_number as i64,
                            r.placement_id,
                            r.gmc_number,
                            r.vpd,
                            r.business_date.to_string(),
                            to_json(r)?
                        ])
                        .map_err(unavailable)?;
                }
            }
            Ok(())
        })
    }

    async fn rejected_applications(
        &self,
        lookup: RejectedLookup<'_>,
    ) -> Result<Vec<RejectedApplication>, StoreError> {
        let filed_on;
        let (column, value) = match lookup {
            RejectedLookup::Placement(id) => ("placement_id", id),
            RejectedLookup::Gmc(gmc) => ("gmc", gmc),
            RejectedLookup::Trust(vpd) => ("vpd", vpd),
            RejectedLookup::FiledOn(date) => {
                filed_on = date.to_string();
                ("business_date", filed_on.as_str())
            }
        };
        if value.is_empty() {
            return Ok(Vec::new());
        }
        self.with(|connection| {
            Self::bodies(
                connection,
                &format!(
                    "SELECT body FROM rejected_applications WHERE {column} = ?1
                     ORDER BY business_date, source_file, record_number"
                ),
                [value],
            )
        })
        .map(|found: Vec<RejectedApplication>| {
            let today = self.today();
            found
                .into_iter()
                .filter(|r| rejected_live(r, today))
                .collect()
        })
    }

    async fn trust_applicants(&self, vpd: &str) -> Result<Vec<ApplicantSummary>, StoreError> {
        self.select_trust_applicants(vpd).await
    }

    async fn mark_read(&self, vpd: &str, item: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.insert_read_mark(vpd, item, at).await
    }

    async fn read_items(&self, vpd: &str) -> Result<std::collections::HashSet<String>, StoreError> {
        self.select_read_marks(vpd).await
    }
}

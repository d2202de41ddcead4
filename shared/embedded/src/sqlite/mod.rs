//! The embedded state store: SQLite (bundled) in one file, `DIR/state.db`.
//!
//! Each record is kept as JSON with the columns needed to find it beside; every multi-row change is
//! one SQLite transaction, and applicant moves are conditional on the stored version.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::de::DeserializeOwned;
use serde::Serialize;

use dit_core::ports::{
    without_values, Counter, CreateOutcome, MoveOutcome, NewApplicant, StateStore, StoreError,
};
use dit_domain::dnc::RotationEntry;
use dit_domain::model::{
    Applicant, ApplicantSummary, FileClaim, FileStatus, HistoryEntry, Person, PersonUpdate,
    PlacementLink, ProcessedFile, ReceivedSequence, RejectedApplication, RejectedLookup,
};
use dit_domain::pos::Position;
use dit_domain::retention;

mod applicants;
mod bulk;
mod portal;
mod purge;
mod rotation;
mod schema;

use applicants::*;
use bulk::*;
pub use purge::Purged;
use schema::SCHEMA;

/// Bytes per database page, for new databases.
const PAGE_SIZE: i64 = 16_384;
/// Page cache of the connection, in KiB: holds the indexes a chunk of applicants writes into.
const CACHE_KIB: i64 = 8_192;

pub struct SqliteStore {
    db: Mutex<Db>,
}

struct Db {
    connection: Connection,
    /// Bulk loads begun and not yet ended (more than one only if loads run side by side on this
    /// store, or a load died without ending).
    bulk_loads: usize,
    /// A write failed during the bulk loads now running and took their group back: each of them
    /// must fail (a load that went on would report applicants that are gone).
    bulk_failed: bool,
    /// Applicants written into the open bulk transaction, while one is open.
    uncommitted: Option<usize>,
    bulk_commit_every: usize,
}

fn unavailable(err: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("sqlite: {err}"))
}

fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| {
        StoreError::Corrupt(format!(
            "cannot encode record: {}",
            without_values(&e.to_string())
        ))
    })
}

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| {
        StoreError::Corrupt(format!(
            "cannot decode record: {}",
            without_values(&e.to_string())
        ))
    })
}

/// A key of a one-key lookup, bound to the statement's parameters in order.
trait LookupKey: Clone + Eq + std::hash::Hash {
    fn bind(&self, statement: &mut rusqlite::Statement<'_>) -> rusqlite::Result<()>;
}

impl LookupKey for String {
    fn bind(&self, statement: &mut rusqlite::Statement<'_>) -> rusqlite::Result<()> {
        statement.raw_bind_parameter(1, self)
    }
}

impl LookupKey for (String, String) {
    fn bind(&self, statement: &mut rusqlite::Statement<'_>) -> rusqlite::Result<()> {
        statement.raw_bind_parameter(1, &self.0)?;
        statement.raw_bind_parameter(2, &self.1)
    }
}

/// Decodes the JSON body in a row's first column, read in place.
fn body_of<T: DeserializeOwned>(row: &rusqlite::Row<'_>) -> Result<T, StoreError> {
    let text = row
        .get_ref(0)
        .and_then(|value| value.as_str().map_err(Into::into))
        .map_err(unavailable)?;
    from_json(text)
}

/// Runs a statement kept in the connection's cache: its SQL is parsed once, not once per row.
fn execute(
    connection: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<usize, StoreError> {
    connection
        .prepare_cached(sql)
        .and_then(|mut statement| statement.execute(params))
        .map_err(unavailable)
}

/// The first row of a cached statement's answer, read by `read` (`None` when there is no row).
fn query_one<T>(
    connection: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    read: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Option<T>, StoreError> {
    connection
        .prepare_cached(sql)
        .and_then(|mut statement| statement.query_row(params, read).optional())
        .map_err(unavailable)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the file cannot be opened or the schema created.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let connection = Connection::open(path).map_err(unavailable)?;
        Self::init(connection)
    }

    /// An in-memory database, for tests.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when SQLite fails.
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        Self::init(Connection::open_in_memory().map_err(unavailable)?)
    }

    fn init(connection: Connection) -> Result<SqliteStore, StoreError> {
        // Only a new, empty database takes the page size (an existing one keeps its own). Large
        // pages make the WAL frames of a bulk load a quarter as many as at the default 4 KiB.
        connection
            .pragma_update(None, "page_size", PAGE_SIZE)
            .map_err(unavailable)?;
        // WAL lets `dit show` read while `dit process` writes; the busy timeout lets two writers queue.
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(unavailable)?;
        // In WAL mode NORMAL syncs at checkpoints rather than at every commit. A crash of the
        // program loses nothing; a power cut may roll back the last commits, never half of one, and
        // every write here is idempotent, so running the same files again redoes them (see
        // docs/PERFORMANCE.md).
        connection
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(unavailable)?;
        connection
            .pragma_update(None, "cache_size", -CACHE_KIB)
            .map_err(unavailable)?;
        connection
            .busy_timeout(std::time::Duration::from_secs(30))
            .map_err(unavailable)?;
        // Room for every statement of the store, so none is parsed twice.
        connection.set_prepared_statement_cache_capacity(64);
        connection.execute_batch(SCHEMA).map_err(unavailable)?;
        Ok(SqliteStore {
            db: Mutex::new(Db {
                connection,
                bulk_loads: 0,
                bulk_failed: false,
                uncommitted: None,
                bulk_commit_every: BULK_COMMIT_EVERY,
            }),
        })
    }

    /// Commits a bulk load every `applicants` applicants instead of every
    /// [`BULK_COMMIT_EVERY`] (for tests that need several groups in a small file).
    #[must_use]
    pub fn with_bulk_commit_every(mut self, applicants: usize) -> SqliteStore {
        if let Ok(db) = self.db.get_mut() {
            db.bulk_commit_every = applicants.max(1);
        }
        self
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Db>, StoreError> {
        self.db.lock().map_err(|_| {
            StoreError::Unavailable("sqlite connection poisoned by an earlier panic".into())
        })
    }

    /// Runs `work` on the connection with no bulk transaction open: what a bulk load wrote is
    /// committed first, so `work` may open a transaction of its own.
    fn with<T>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut db = self.lock()?;
        db.commit_bulk()?;
        work(&mut db.connection)
    }

    /// Runs `work` in a transaction of its own (taking the write lock at once), committed when
    /// `work` succeeds and rolled back when it fails.
    fn transaction<T>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.with(|connection| in_transaction(connection, work))
    }

    /// Runs a read of the load path, inside the bulk transaction when one is open (so it sees
    /// what the load wrote, and commits nothing).
    fn read<T>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut db = self.lock()?;
        work(&mut db.connection)
    }

    /// Runs a write of the load path atomically: in a transaction of its own or, during a bulk
    /// load, in the bulk transaction, which is committed once it holds [`BULK_COMMIT_EVERY`]
    /// applicants (or the number set by [`SqliteStore::with_bulk_commit_every`]). `applicants` is how many applicants `work` writes.
    fn write<T>(
        &self,
        applicants: usize,
        work: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut db = self.lock()?;
        if db.bulk_loads == 0 {
            return in_transaction(&mut db.connection, work);
        }
        if db.bulk_failed {
            return Err(bulk_rolled_back());
        }
        let written = match db.uncommitted {
            Some(written) => written,
            None => {
                db.connection
                    .execute_batch("BEGIN IMMEDIATE")
                    .map_err(unavailable)?;
                0
            }
        };
        db.uncommitted = Some(written);
        match work(&db.connection) {
            Ok(done) => {
                db.uncommitted = Some(written + applicants);
                if written + applicants >= db.bulk_commit_every {
                    db.commit_bulk()?;
                }
                Ok(done)
            }
            Err(error) => {
                // No savepoint per call (its journal would copy every page the load touches):
                // a failed write takes the bulk transaction back to its last commit instead,
                // which a rerun of the file redoes.
                db.roll_back_bulk();
                Err(error)
            }
        }
    }

    fn bodies<T: DeserializeOwned>(
        connection: &Connection,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<T>, StoreError> {
        let mut statement = connection.prepare_cached(sql).map_err(unavailable)?;
        let mut rows = statement.query(params).map_err(unavailable)?;
        let mut found = Vec::new();
        while let Some(row) = rows.next().map_err(unavailable)? {
            found.push(body_of(row)?);
        }
        Ok(found)
    }

    /// The record found for each key by a one-key query (keys not found are absent), all read in
    /// one read transaction: one snapshot, and one round of locking instead of one per key.
    fn bodies_by_key<K, T>(
        connection: &mut Connection,
        sql: &str,
        keys: &[K],
    ) -> Result<HashMap<K, T>, StoreError>
    where
        K: LookupKey,
        T: DeserializeOwned,
    {
        // Inside a bulk transaction the reads already share its snapshot.
        if !connection.is_autocommit() {
            return Self::bodies_by_key_in(connection, sql, keys);
        }
        let tx = connection.transaction().map_err(unavailable)?;
        let found = Self::bodies_by_key_in(&tx, sql, keys)?;
        tx.commit().map_err(unavailable)?;
        Ok(found)
    }

    fn bodies_by_key_in<K, T>(
        connection: &Connection,
        sql: &str,
        keys: &[K],
    ) -> Result<HashMap<K, T>, StoreError>
    where
        K: LookupKey,
        T: DeserializeOwned,
    {
        let mut found = HashMap::with_capacity(keys.len());
        let mut statement = connection.prepare_cached(sql).map_err(unavailable)?;
        for key in keys {
            key.bind(&mut statement).map_err(unavailable)?;
            let mut rows = statement.raw_query();
            if let Some(row) = rows.next().map_err(unavailable)? {
                found.insert(key.clone(), body_of(row)?);
            }
        }
        Ok(found)
    }
}

/// Runs `work` in an immediate transaction on `connection`: committed when it succeeds, rolled
/// back (dropped) when it fails.
fn in_transaction<T>(
    connection: &mut Connection,
    work: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(unavailable)?;
    let done = work(&tx)?;
    tx.commit().map_err(unavailable)?;
    Ok(done)
}

#[async_trait]
impl StateStore for SqliteStore {
    async fn claim_file(&self, file: &ProcessedFile) -> Result<FileClaim, StoreError> {
        self.transaction(|tx| {
            let existing: Option<String> = query_one(tx, "SELECT body FROM files WHERE identity = ?1", [&file.identity], |row| row.get(0))?;
            if let Some(body) = existing {
                let existing: ProcessedFile = from_json(&body)?;
                return Ok(if existing.sha256 == file.sha256 {
                    FileClaim::SameContent(existing)
                } else {
                    FileClaim::DifferentContent(existing)
                });
            }
            execute(tx, "INSERT INTO files (identity, source, file_type, seq, body) VALUES (?1, ?2, ?3, ?4, ?5)",
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
                     ON CONFLICT (file_type, seq, source) DO NOTHING",
                    params![
                        received.file_type,
                        received.seq as i64,
                        received.source,
                        received.business_date.to_string(),
                        to_json(received)?
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
        self.read(|connection| {
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
        self.read(|connection| {
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
        self.read(|connection| {
            Self::bodies_by_key(
                connection,
                "SELECT body FROM placements WHERE placement_id = ?1",
                ids,
            )
        })
    }

    async fn persons(
        &self,
        keys: &[(String, String)],
    ) -> Result<HashMap<(String, String), Person>, StoreError> {
        self.read(|connection| {
            Self::bodies_by_key(
                connection,
                "SELECT body FROM persons WHERE vpd = ?1 AND person_key = ?2",
                keys,
            )
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

    async fn begin_bulk(&self) -> Result<(), StoreError> {
        let mut db = self.lock()?;
        // What an abandoned load left open (it panicked before end_bulk) is kept.
        db.commit_bulk()?;
        db.bulk_loads += 1;
        Ok(())
    }

    async fn end_bulk(&self) -> Result<(), StoreError> {
        let mut db = self.lock()?;
        db.bulk_loads = db.bulk_loads.saturating_sub(1);
        let failed = db.bulk_failed;
        if db.bulk_loads == 0 {
            db.bulk_failed = false;
        }
        db.commit_bulk()?;
        if failed {
            return Err(bulk_rolled_back());
        }
        Ok(())
    }

    async fn applicant(&self, applicant_number: &str) -> Result<Option<Applicant>, StoreError> {
        self.read(|connection| {
            Ok(Self::bodies(
                connection,
                "SELECT body FROM applicants WHERE applicant_number = ?1",
                [applicant_number],
            )?
            .into_iter()
            .next())
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
    }

    async fn history(&self, applicant_number: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        self.with(|connection| {
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
        self.with(|connection| {
            Self::bodies(
                connection,
                "SELECT body FROM person_updates WHERE vpd = ?1 ORDER BY received_at, applicant_number, message_id",
                [vpd],
            )
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
        let (column, value) = match lookup {
            RejectedLookup::Placement(id) => ("placement_id", id),
            RejectedLookup::Gmc(gmc) => ("gmc", gmc),
            RejectedLookup::Trust(vpd) => ("vpd", vpd),
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

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

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS files (
    identity TEXT PRIMARY KEY, source TEXT NOT NULL, file_type TEXT NOT NULL, seq INTEGER NOT NULL,
    body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS files_by_source ON files(source, file_type, seq);
CREATE TABLE IF NOT EXISTS received_sequences (
    file_type TEXT NOT NULL, seq INTEGER NOT NULL, source TEXT NOT NULL, business_date TEXT NOT NULL,
    body TEXT NOT NULL, PRIMARY KEY (file_type, seq, source));
CREATE INDEX IF NOT EXISTS received_sequences_by_date ON received_sequences(file_type, business_date, seq);
CREATE TABLE IF NOT EXISTS positions (
    position_id TEXT PRIMARY KEY, vpd TEXT NOT NULL, dpn TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS positions_by_trust ON positions(vpd);
CREATE INDEX IF NOT EXISTS positions_by_dpn ON positions(dpn);
CREATE TABLE IF NOT EXISTS placements (
    placement_id TEXT PRIMARY KEY, applicant_number TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS applicants (
    applicant_number TEXT PRIMARY KEY, vpd TEXT NOT NULL, gmc TEXT, hire_date TEXT NOT NULL,
    version INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS applicants_by_hire_date ON applicants(hire_date, vpd);
CREATE INDEX IF NOT EXISTS applicants_by_gmc ON applicants(gmc, vpd);
CREATE INDEX IF NOT EXISTS applicants_by_trust ON applicants(vpd, applicant_number);
CREATE TABLE IF NOT EXISTS history (
    applicant_number TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (applicant_number, seq));
CREATE TABLE IF NOT EXISTS persons (
    vpd TEXT NOT NULL, person_key TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (vpd, person_key));
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS reservations (
    counter TEXT NOT NULL, holder TEXT NOT NULL, first INTEGER NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (counter, holder));
CREATE TABLE IF NOT EXISTS rotation (
    vpd TEXT NOT NULL, position_key TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (vpd, position_key));
CREATE TABLE IF NOT EXISTS person_updates (
    applicant_number TEXT NOT NULL, message_id TEXT NOT NULL, vpd TEXT NOT NULL, received_at TEXT NOT NULL,
    body TEXT NOT NULL, PRIMARY KEY (applicant_number, message_id));
CREATE INDEX IF NOT EXISTS person_updates_by_trust ON person_updates(vpd, received_at);
CREATE TABLE IF NOT EXISTS watermarks (job TEXT PRIMARY KEY, date TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS read_marks (
    vpd TEXT NOT NULL, item TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (vpd, item));
CREATE TABLE IF NOT EXISTS tis_positions (
    local_office TEXT NOT NULL, position_id TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (local_office, position_id));
CREATE TABLE IF NOT EXISTS rejected_applications (
    source_file TEXT NOT NULL, record_number INTEGER NOT NULL, placement_id TEXT NOT NULL,
    gmc TEXT, vpd TEXT, business_date TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (source_file, record_number));
CREATE INDEX IF NOT EXISTS rejected_by_placement ON rejected_applications(placement_id);
CREATE INDEX IF NOT EXISTS rejected_by_gmc ON rejected_applications(gmc);
CREATE INDEX IF NOT EXISTS rejected_by_trust ON rejected_applications(vpd, business_date);
";

/// Bytes per database page, for new databases.
const PAGE_SIZE: i64 = 16_384;
/// Page cache of the connection, in KiB: holds the indexes a chunk of applicants writes into.
const CACHE_KIB: i64 = 8_192;

/// Applicants a bulk load writes between commits (see [`StateStore::begin_bulk`]): every commit
/// rewrites each index page the applicants since the last one touched, and the indexes by trust,
/// GMC number and person take their entries all over the tree, so committing every chunk of 500
/// wrote each of those pages about ten times over.
const BULK_COMMIT_EVERY: usize = 5_000;

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

impl Db {
    fn commit_bulk(&mut self) -> Result<(), StoreError> {
        if self.uncommitted.is_none() {
            return Ok(());
        }
        if let Err(error) = self.connection.execute_batch("COMMIT") {
            self.roll_back_bulk();
            return Err(unavailable(error));
        }
        self.uncommitted = None;
        Ok(())
    }

    /// Takes the open bulk transaction back to its last commit: every bulk load running loses
    /// its writes since then, so each must fail (see `bulk_failed`).
    fn roll_back_bulk(&mut self) {
        self.uncommitted = None;
        if self.bulk_loads > 0 {
            self.bulk_failed = true;
        }
        if !self.connection.is_autocommit() {
            // If even this fails the connection is unusable, and the next write says so.
            let _ = self.connection.execute_batch("ROLLBACK");
        }
    }
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

/// Reads a person (or a new one), lets `change` amend it, and writes it back, inside `tx`.
fn update_person(
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

fn insert_applicant(tx: &Connection, applicant: &Applicant, body: &str) -> Result<(), StoreError> {
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

fn insert_history(
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

/// The JSON bodies of a new applicant's rows.
struct EncodedApplicant {
    link: String,
    applicant: String,
    history: Vec<String>,
}

impl EncodedApplicant {
    fn encode(new: &NewApplicant) -> Result<Self, StoreError> {
        let a = &new.applicant;
        let link = PlacementLink {
            placement_id: a.placement_id.clone(),
            applicant_number: a.applicant_number.clone(),
            source_file: a.source_file.clone(),
            source_sha256: a.source_sha256.clone(),
        };
        Ok(EncodedApplicant {
            link: to_json(&link)?,
            applicant: to_json(a)?,
            history: new.history.iter().map(to_json).collect::<Result<_, _>>()?,
        })
    }
}

/// Batches smaller than this are encoded on the writing thread: a helper thread would cost more
/// than it saves.
const ENCODE_ON_HELPER_FROM: usize = 32;
/// Applicants the helper encodes before handing them over together: a hand-over per applicant
/// woke the other thread twice per applicant, which cost about a tenth of a bulk load.
const ENCODE_BATCH: usize = 64;
/// Encoded batches the helper may run ahead of the writer (bounds the memory they take).
const ENCODE_AHEAD: usize = 2;

/// Gives each applicant of `applicants`, in order, with its JSON bodies to `write`. Large batches
/// are encoded on a helper thread while this one writes, so a bulk load uses two cores: encoding
/// the JSON is about a third of the work, and the SQLite writes most of the rest.
fn with_encoded(
    applicants: &[NewApplicant],
    mut write: impl FnMut(&NewApplicant, EncodedApplicant) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    if applicants.len() < ENCODE_ON_HELPER_FROM {
        for new in applicants {
            write(new, EncodedApplicant::encode(new)?)?;
        }
        return Ok(());
    }
    std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel(ENCODE_AHEAD);
        scope.spawn(move || {
            for batch in applicants.chunks(ENCODE_BATCH) {
                let encoded: Result<Vec<_>, _> =
                    batch.iter().map(EncodedApplicant::encode).collect();
                // The writer hung up (it failed): stop encoding.
                if sender.send(encoded).is_err() {
                    break;
                }
            }
        });
        for batch in applicants.chunks(ENCODE_BATCH) {
            let encoded = receiver.recv().map_err(|_| {
                StoreError::Unavailable("the JSON encoding thread stopped early".into())
            })??;
            for (new, encoded) in batch.iter().zip(encoded) {
                write(new, encoded)?;
            }
        }
        Ok(())
    })
}

/// What every write and end of the bulk loads running when a write of one failed is told: their
/// writes since the last commit are gone, so none may go on as if stored.
fn bulk_rolled_back() -> StoreError {
    StoreError::Unavailable(
        "a write of this bulk load, or of one running beside it, failed and took back the \
         writes since the last commit: the load must run again"
            .into(),
    )
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
        self.write(applicants.len(), |tx| {
            let mut outcomes = Vec::with_capacity(applicants.len());
            let write = |new: &NewApplicant, encoded: EncodedApplicant| {
                let a = &new.applicant;
                let existing: Option<String> = query_one(
                    tx,
                    "SELECT body FROM placements WHERE placement_id = ?1",
                    [&a.placement_id],
                    |row| row.get(0),
                )?;
                if let Some(body) = existing {
                    outcomes.push(CreateOutcome::PlacementTaken(from_json(&body)?));
                    return Ok(());
                }
                execute(
                    tx,
                    "INSERT INTO placements (placement_id, applicant_number, body) VALUES (?1, ?2, ?3)",
                    params![a.placement_id, a.applicant_number, encoded.link],
                )?;
                insert_applicant(tx, a, &encoded.applicant)?;
                for (entry, body) in new.history.iter().zip(&encoded.history) {
                    insert_history(tx, &a.applicant_number, entry.seq, body)?;
                }
                if let Some(key) = &a.person_key {
                    update_person(tx, &a.vpd, key, |person| {
                        if !person.applicant_numbers.contains(&a.applicant_number) {
                            person.applicant_numbers.push(a.applicant_number.clone());
                        }
                    })?;
                }
                outcomes.push(CreateOutcome::Created);
                Ok(())
            };
            with_encoded(applicants, write)?;
            Ok(outcomes)
        })
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

    async fn mark_employee(&self, vpd: &str, person_key: &str) -> Result<(), StoreError> {
        self.transaction(|tx| {
            update_person(tx, vpd, person_key, |person| person.employee = true)?;
            Ok(())
        })
    }

    async fn save_rotation(&self, entries: &[RotationEntry]) -> Result<(), StoreError> {
        self.transaction(|tx| {
            for entry in entries {
                execute(
                    tx,
                    "INSERT INTO rotation (vpd, position_key, body) VALUES (?1, ?2, ?3)
                     ON CONFLICT (vpd, position_key) DO UPDATE SET body = excluded.body",
                    params![entry.vpd, entry.position_key, to_json(entry)?],
                )?;
            }
            Ok(())
        })
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
        if position_keys.is_empty() {
            return Ok(());
        }
        self.transaction(|tx| {
            for key in position_keys {
                tx.execute(
                    "DELETE FROM rotation WHERE vpd = ?1 AND position_key = ?2",
                    params![vpd, key],
                )
                .map_err(unavailable)?;
            }
            Ok(())
        })
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
        // Only the summary's fields are taken out of each record (by SQLite, without decoding the
        // rest): a trust's whole list is read for every search.
        self.with(|connection| {
            let mut statement = connection
                .prepare_cached(
                    "SELECT applicant_number, vpd, json_extract(body, '$.state'),
                            json_extract(body, '$.placement_id'), json_extract(body, '$.position_number'),
                            json_extract(body, '$.dpn'), hire_date,
                            json_extract(body, '$.details.first_name'),
                            json_extract(body, '$.details.last_name'), gmc
                     FROM applicants WHERE vpd = ?1
                     ORDER BY length(applicant_number), applicant_number",
                )
                .map_err(unavailable)?;
            let rows = statement
                .query_map([vpd], |row| {
                    Ok((
                        [
                            row.get::<_, String>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, String>(2)?,
                            row.get::<_, String>(3)?,
                            row.get::<_, String>(4)?,
                            row.get::<_, String>(5)?,
                            row.get::<_, String>(6)?,
                            row.get::<_, String>(7)?,
                            row.get::<_, String>(8)?,
                        ],
                        row.get::<_, Option<String>>(9)?,
                    ))
                })
                .map_err(unavailable)?;
            let mut summaries = Vec::new();
            for row in rows {
                let ([number, vpd, state, placement, position, dpn, hire, first, last], gmc) =
                    row.map_err(unavailable)?;
                let corrupt = |what: &str| {
                    StoreError::Corrupt(format!("applicant {number}: unreadable {what}"))
                };
                summaries.push(ApplicantSummary {
                    state: serde_json::from_value(serde_json::Value::String(state))
                        .map_err(|_| corrupt("state"))?,
                    projected_hire_date: NaiveDate::parse_from_str(&hire, "%Y-%m-%d")
                        .map_err(|_| corrupt("hire date"))?,
                    applicant_number: number,
                    vpd,
                    placement_id: placement,
                    position_number: position,
                    dpn,
                    first_name: first,
                    last_name: last,
                    gmc_number: gmc,
                });
            }
            Ok(summaries)
        })
    }

    async fn mark_read(&self, vpd: &str, item: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.with(|connection| {
            // The first reading stands: marking again changes nothing.
            connection
                .execute(
                    "INSERT INTO read_marks (vpd, item, at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (vpd, item) DO NOTHING",
                    params![vpd, item, at.to_rfc3339()],
                )
                .map_err(unavailable)?;
            Ok(())
        })
    }

    async fn read_items(&self, vpd: &str) -> Result<std::collections::HashSet<String>, StoreError> {
        self.with(|connection| {
            let mut statement = connection
                .prepare_cached("SELECT item FROM read_marks WHERE vpd = ?1")
                .map_err(unavailable)?;
            let rows = statement
                .query_map([vpd], |row| row.get::<_, String>(0))
                .map_err(unavailable)?;
            rows.map(|row| row.map_err(unavailable)).collect()
        })
    }
}

/// What `SqliteStore::purge` removed, by kind (counts only: never what).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purged {
    pub applicants: u64,
    pub history: u64,
    pub placements: u64,
    pub person_updates: u64,
    pub persons: u64,
    pub rejected_applications: u64,
    pub rotation_rows: u64,
    pub files: u64,
    pub received_sequences: u64,
}

impl SqliteStore {
    /// Removes every record past its retention on `date` (section 8, [`retention`]): applicants
    /// (with their history, placement link, person updates and their place in the person record),
    /// rejected applications, rotation grid rows, and the operator records: processed-file records
    /// and TIS numbers received (a year after their file's business date). One transaction: a
    /// crash removes nothing, a rerun removes the same.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails or a stored record cannot be read.
    pub fn purge(&self, date: NaiveDate) -> Result<Purged, StoreError> {
        self.with(|connection| {
            let tx = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let mut purged = Purged::default();
            let applicants: Vec<Applicant> =
                Self::bodies(&tx, "SELECT body FROM applicants", [])?;
            for applicant in applicants
                .iter()
                .filter(|a| retention::expired(retention::applicant_kept_until(a), date))
            {
                let number = applicant.applicant_number.as_str();
                let count = |sql: &str| tx.execute(sql, [number]).map_err(unavailable);
                purged.history += count("DELETE FROM history WHERE applicant_number = ?1")? as u64;
                purged.placements +=
                    count("DELETE FROM placements WHERE applicant_number = ?1")? as u64;
                purged.person_updates +=
                    count("DELETE FROM person_updates WHERE applicant_number = ?1")? as u64;
                purged.applicants +=
                    count("DELETE FROM applicants WHERE applicant_number = ?1")? as u64;
                if let Some(key) = &applicant.person_key {
                    update_person(&tx, &applicant.vpd, key, |person| {
                        person.applicant_numbers.retain(|n| n != number);
                    })?;
                }
            }
            purged.persons += tx
                .execute(
                    "DELETE FROM persons WHERE json_array_length(body, '$.applicant_numbers') = 0",
                    [],
                )
                .map_err(unavailable)? as u64;
            // Person updates whose applicant is gone already.
            let orphans: Vec<PersonUpdate> = Self::bodies(
                &tx,
                "SELECT body FROM person_updates WHERE applicant_number NOT IN (SELECT applicant_number FROM applicants)",
                [],
            )?;
            for update in orphans
                .iter()
                .filter(|u| retention::expired(retention::person_update_kept_until(u), date))
            {
                purged.person_updates += tx
                    .execute(
                        "DELETE FROM person_updates WHERE applicant_number = ?1 AND message_id = ?2",
                        params![update.applicant_number, update.message_id],
                    )
                    .map_err(unavailable)? as u64;
            }
            let rejected: Vec<RejectedApplication> =
                Self::bodies(&tx, "SELECT body FROM rejected_applications", [])?;
            for record in rejected
                .iter()
                .filter(|r| retention::expired(retention::rejected_kept_until(r), date))
            {
                purged.rejected_applications += tx
                    .execute(
                        "DELETE FROM rejected_applications WHERE source_file = ?1 AND record_number = ?2",
                        params![record.source_file, record.record_number as i64],
                    )
                    .map_err(unavailable)? as u64;
            }
            let rows: Vec<RotationEntry> = Self::bodies(&tx, "SELECT body FROM rotation", [])?;
            for row in rows
                .iter()
                .filter(|r| retention::expired(retention::rotation_kept_until(r), date))
            {
                purged.rotation_rows += tx
                    .execute(
                        "DELETE FROM rotation WHERE vpd = ?1 AND position_key = ?2",
                        params![row.vpd, row.position_key],
                    )
                    .map_err(unavailable)? as u64;
            }
            let files: Vec<ProcessedFile> = Self::bodies(&tx, "SELECT body FROM files", [])?;
            for file in files.iter().filter(|f| {
                retention::expired(retention::operator_record_kept_until(f.business_date), date)
            }) {
                purged.files += tx
                    .execute("DELETE FROM files WHERE identity = ?1", [&file.identity])
                    .map_err(unavailable)? as u64;
            }
            let received: Vec<ReceivedSequence> =
                Self::bodies(&tx, "SELECT body FROM received_sequences", [])?;
            for number in received.iter().filter(|r| {
                retention::expired(retention::operator_record_kept_until(r.business_date), date)
            }) {
                purged.received_sequences += tx
                    .execute(
                        "DELETE FROM received_sequences WHERE file_type = ?1 AND seq = ?2 AND source = ?3",
                        params![number.file_type, number.seq as i64, number.source],
                    )
                    .map_err(unavailable)? as u64;
            }
            tx.commit().map_err(unavailable)?;
            Ok(purged)
        })
    }
}

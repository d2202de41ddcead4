//! The store itself: the connection behind its lock, the bulk-load state that every write checks,
//! and the row helpers (JSON bodies, cached statements, transactions) that the other modules of
//! the store share. It imports none of them, so they can each be read against it alone.

use dit_core::ports::without_values;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use serde::de::DeserializeOwned;
use serde::Serialize;

use dit_core::ports::StoreError;

use super::checkpoint::Checkpointer;
use super::schema::{ADDED_COLUMNS, DROPPED_INDEXES, SCHEMA};
use super::writer::Writer;

/// Applicants a bulk load writes between commits (see [`StateStore::begin_bulk`]): every commit
/// rewrites each index page the applicants since the last one touched, and the indexes by trust,
/// GMC number and person take their entries all over the tree, so committing every chunk of 500
/// wrote each of those pages about ten times over.
pub(super) const BULK_COMMIT_EVERY: usize = 5_000;

/// Bytes per database page, for new databases.
pub(super) const PAGE_SIZE: i64 = 16_384;
/// Page cache of the connection, in KiB: holds the indexes a chunk of applicants writes into.
pub(super) const CACHE_KIB: i64 = 8_192;
/// Page cache of the reading connection, in KiB: it reads one row per key, through the
/// placements' and persons' keys, whose new keys (a file's placements, mostly) fall near one
/// another. At 60,000 applicants 1.5 MiB reads from the file as seldom as 2 or 4 MiB, and half
/// of that twice as often (see docs/PERFORMANCE.md).
const READER_CACHE_KIB: i64 = 1_536;

pub struct SqliteStore {
    /// A second, read-only connection to the same file for what a load decides from (see
    /// [`SqliteStore::read_committed`]); `None` in memory. Declared first, so it is closed
    /// first: the checkpointing connection stays the last to close.
    pub(super) reader: Option<Mutex<Connection>>,
    /// Shared with the thread that writes a bulk load's applicants (see `applicants`).
    pub(super) db: Arc<DbLock>,
    /// The day reads judge retention on (7.1): the system's date (UTC) unless pinned by
    /// [`SqliteStore::with_today`].
    pub(super) today: Option<NaiveDate>,
    /// Writes the applicants of bulk loads (see `writer`).
    pub(super) writer: Writer,
}

/// The connection behind its lock, and how many threads wait for it.
pub(super) struct DbLock {
    pub(super) connection: Mutex<Db>,
    /// Threads blocked in [`lock`]: the thread writing a bulk load's batches lets them in between
    /// batches (see [`DbLock::let_waiting_in`]), where the lock alone would let it take the
    /// connection back at once, batch after batch.
    pub(super) waiting: AtomicUsize,
    /// Whether a bulk load runs (`Db::bulk_loads > 0`), for the calls that only ask: a new
    /// applicant's call learns which way it is written without queueing for the connection
    /// behind the writing thread's batch.
    pub(super) bulk_running: AtomicBool,
}

impl DbLock {
    /// Called with the connection unlocked: gives a thread waiting for it the chance to take it.
    pub(super) fn let_waiting_in(&self) {
        // Bounded: a waiter not yet scheduled after this many turns takes its turn later.
        for _ in 0..1_000 {
            if self.waiting.load(Ordering::SeqCst) == 0 {
                return;
            }
            std::thread::yield_now();
        }
    }
}

pub(super) struct Db {
    pub(super) connection: Connection,
    /// The database file (`None` in memory), for the checkpoint thread's connection.
    pub(super) path: Option<PathBuf>,
    /// Runs the WAL checkpoints while bulk loads run (see `checkpoint`). Declared after the
    /// connection, so it is dropped after it: its connection, the last to close, removes the WAL.
    pub(super) checkpointer: Option<Checkpointer>,
    /// Bulk loads begun and not yet ended (more than one only if loads run side by side on this
    /// store, or a load died without ending).
    pub(super) bulk_loads: usize,
    /// A write failed during the bulk loads now running and took their group back: each of them
    /// must fail (a load that went on would report applicants that are gone).
    pub(super) bulk_failed: bool,
    /// Applicants written into the open bulk transaction, while one is open.
    pub(super) uncommitted: Option<usize>,
    /// A write in parts (see [`write_part`]) has written some and not yet its last.
    pub(super) parts_pending: bool,
    pub(super) bulk_commit_every: usize,
}

pub(super) fn unavailable(err: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("sqlite: {err}"))
}

pub(super) fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    to_json_within(value, 128)
}

/// [`to_json`] into a buffer of `capacity` bytes at first: a document of about that size is
/// written without the buffer growing and being copied on the way (an applicant's four times).
pub(super) fn to_json_within<T: Serialize>(
    value: &T,
    capacity: usize,
) -> Result<String, StoreError> {
    let mut serializer = serde_json::Serializer::new(Vec::with_capacity(capacity));
    value.serialize(&mut serializer).map_err(|e| {
        StoreError::Corrupt(format!(
            "cannot encode record: {}",
            without_values(&e.to_string())
        ))
    })?;
    // serde_json writes only valid UTF-8.
    String::from_utf8(serializer.into_inner())
        .map_err(|_| StoreError::Corrupt("cannot encode record".into()))
}

pub(super) fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| {
        StoreError::Corrupt(format!(
            "cannot decode record: {}",
            without_values(&e.to_string())
        ))
    })
}

/// A key of a one-key lookup, bound to the statement's parameters in order.
pub(super) trait LookupKey: Clone + Eq + std::hash::Hash {
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
pub(super) fn body_of<T: DeserializeOwned>(row: &rusqlite::Row<'_>) -> Result<T, StoreError> {
    let text = row
        .get_ref(0)
        .and_then(|value| value.as_str().map_err(Into::into))
        .map_err(unavailable)?;
    from_json(text)
}

/// Runs a statement kept in the connection's cache: its SQL is parsed once, not once per row.
pub(super) fn execute(
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
pub(super) fn query_one<T>(
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
        // A new database is made 0600 first: SQLite gives its WAL and shared-memory files the
        // database file's mode.
        if !path.exists() {
            match crate::private::create_new(path) {
                Ok(_) => {}
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(err) => {
                    return Err(StoreError::Unavailable(format!(
                        "cannot create {}: {err}",
                        path.display()
                    )))
                }
            }
        }
        let connection = Connection::open(path).map_err(unavailable)?;
        let mut store = Self::init(connection)?;
        if let Ok(mut db) = store.db.connection.lock() {
            db.path = Some(path.to_path_buf());
        }
        store.reader = Some(Mutex::new(open_reader(path)?));
        Ok(store)
    }

    /// An in-memory database, for tests.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when SQLite fails.
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        Self::init(Connection::open_in_memory().map_err(unavailable)?)
    }

    pub(super) fn init(connection: Connection) -> Result<SqliteStore, StoreError> {
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
        // What is deleted is overwritten with zeros, not left in free pages (purge, section 8).
        connection
            .pragma_update(None, "secure_delete", "ON")
            .map_err(unavailable)?;
        set_cache_and_wait(&connection, CACHE_KIB)?;
        // Room for every statement of the store, so none is parsed twice.
        connection.set_prepared_statement_cache_capacity(64);
        connection.execute_batch(SCHEMA).map_err(unavailable)?;
        for index in DROPPED_INDEXES {
            connection
                .execute_batch(&format!("DROP INDEX IF EXISTS {index}"))
                .map_err(unavailable)?;
        }
        add_missing_columns(&connection)?;
        Ok(SqliteStore {
            db: Arc::new(DbLock {
                waiting: AtomicUsize::new(0),
                bulk_running: AtomicBool::new(false),
                connection: Mutex::new(Db {
                    connection,
                    path: None,
                    checkpointer: None,
                    bulk_loads: 0,
                    bulk_failed: false,
                    uncommitted: None,
                    parts_pending: false,
                    bulk_commit_every: BULK_COMMIT_EVERY,
                }),
            }),
            today: None,
            reader: None,
            writer: Writer::default(),
        })
    }

    /// Judges retention on `date` instead of the system's date: an archived data directory
    /// replayed as it was on that day (`DIT_TODAY`), or a test whose fixtures are dated.
    #[must_use]
    pub fn with_today(mut self, date: NaiveDate) -> SqliteStore {
        self.today = Some(date);
        self
    }

    /// The day retention is judged on now.
    pub fn today(&self) -> NaiveDate {
        self.today.unwrap_or_else(|| Utc::now().date_naive())
    }

    /// Commits a bulk load every `applicants` applicants instead of every
    /// [`BULK_COMMIT_EVERY`] (for tests that need several groups in a small file).
    #[must_use]
    pub fn with_bulk_commit_every(self, applicants: usize) -> SqliteStore {
        if let Ok(mut db) = self.db.connection.lock() {
            db.bulk_commit_every = applicants.max(1);
        }
        self
    }

    pub(super) fn lock(&self) -> Result<std::sync::MutexGuard<'_, Db>, StoreError> {
        lock(&self.db)
    }

    /// Runs `work` on the connection with no bulk transaction open: what a bulk load wrote is
    /// committed first, so `work` may open a transaction of its own.
    pub(super) fn with<T>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut db = self.lock()?;
        db.commit_bulk()?;
        work(&mut db.connection)
    }

    /// Runs `work` in a transaction of its own (taking the write lock at once), committed when
    /// `work` succeeds and rolled back when it fails.
    pub(super) fn transaction<T>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.with(|connection| in_transaction(connection, work))
    }

    /// Runs a read of the load path, inside the bulk transaction when one is open (so it sees
    /// what the load wrote, and commits nothing).
    pub(super) fn read<T>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut db = self.lock()?;
        work(&mut db.connection)
    }

    /// Runs a read of what a load decides from (placements, persons, positions) on the reading
    /// connection, which sees only what is committed: deciding the next chunk waits neither for
    /// the batch the writing thread holds the connection for nor behind it. The open bulk
    /// transaction's applicants are not needed there: a placement or person met earlier in the
    /// same file is known from the file, and a placement claimed meanwhile by a load beside
    /// this one is refused by the claim itself (`ON CONFLICT DO NOTHING`) when it is created.
    /// In memory, where there is one connection, this is [`SqliteStore::read`].
    pub(super) fn read_committed<T>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let Some(reader) = &self.reader else {
            return self.read(work);
        };
        let mut connection = reader.lock().map_err(|_| {
            StoreError::Unavailable("sqlite reading connection poisoned by an earlier panic".into())
        })?;
        work(&mut connection)
    }

    /// See [`write`].
    pub(super) fn write<T>(
        &self,
        applicants: usize,
        work: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        write(&self.db, applicants, work)
    }

    pub(super) fn bodies<T: DeserializeOwned>(
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
    pub(super) fn bodies_by_key<K, T>(
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

    pub(super) fn bodies_by_key_in<K, T>(
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

/// The reading connection of a store opened on `path` (see [`SqliteStore::read_committed`]).
fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let connection = Connection::open(path).map_err(unavailable)?;
    connection
        .pragma_update(None, "query_only", "ON")
        .map_err(unavailable)?;
    set_cache_and_wait(&connection, READER_CACHE_KIB)?;
    Ok(connection)
}

/// Gives `connection` a page cache of `kib` KiB and lets it wait up to 30 s for another
/// connection's write (two writers queue rather than fail).
fn set_cache_and_wait(connection: &Connection, kib: i64) -> Result<(), StoreError> {
    connection
        .pragma_update(None, "cache_size", -kib)
        .map_err(unavailable)?;
    connection
        .busy_timeout(std::time::Duration::from_secs(30))
        .map_err(unavailable)
}

/// Adds to an older database the columns added since it was made (see [`ADDED_COLUMNS`]).
fn add_missing_columns(connection: &Connection) -> Result<(), StoreError> {
    for (table, column, definition) in ADDED_COLUMNS {
        let present = || {
            connection.query_row(
                "SELECT EXISTS (SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2)",
                [table, column],
                |row| row.get::<_, bool>(0),
            )
        };
        if present().map_err(unavailable)? {
            continue;
        }
        let added = connection.execute_batch(&format!(
            "ALTER TABLE {table} ADD COLUMN {column} {definition}"
        ));
        // Another process opening the same database may have added it first.
        if let Err(error) = added {
            if !present().unwrap_or(false) {
                return Err(unavailable(error));
            }
        }
    }
    Ok(())
}

pub(super) fn lock(db: &DbLock) -> Result<std::sync::MutexGuard<'_, Db>, StoreError> {
    db.waiting.fetch_add(1, Ordering::SeqCst);
    let locked = db.connection.lock();
    db.waiting.fetch_sub(1, Ordering::SeqCst);
    locked.map_err(|_| {
        StoreError::Unavailable("sqlite connection poisoned by an earlier panic".into())
    })
}

/// Runs a write of the load path atomically: in a transaction of its own or, during a bulk
/// load, in the bulk transaction, which is committed once it holds [`BULK_COMMIT_EVERY`]
/// applicants (or the number set by [`SqliteStore::with_bulk_commit_every`]). `applicants` is how many applicants `work` writes.
pub(super) fn write<T>(
    db: &DbLock,
    applicants: usize,
    work: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    write_part(db, applicants, None, work)
}

/// A write of the load path (see [`write`]), or with `part` `Some(last)` one part of such a
/// write during a bulk load: the group is committed, once full, only after the `last` part, so
/// the parts of one write are kept or lost together. Outside a bulk load a part is a
/// transaction of its own.
pub(super) fn write_part<T>(
    db: &DbLock,
    applicants: usize,
    part: Option<bool>,
    work: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut db = lock(db)?;
    if db.bulk_loads == 0 {
        return in_transaction(&mut db.connection, work);
    }
    write_in_group(&mut db, applicants, part, work)
}

/// `part` is `Some(last)` for a part of a write, `None` for a whole one.
fn write_in_group<T>(
    db: &mut Db,
    applicants: usize,
    part: Option<bool>,
    work: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
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
            if let Some(last) = part {
                db.parts_pending = !last;
            }
            // A write that comes between the parts of another (the caller's next chunk is
            // decided while its applicants are written) leaves the commit to that one's last.
            if !db.parts_pending && written + applicants >= db.bulk_commit_every {
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

/// Runs `work` in an immediate transaction on `connection`: committed when it succeeds, rolled
/// back (dropped) when it fails.
pub(super) fn in_transaction<T>(
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

/// What every write and end of the bulk loads running when a write of one failed is told: their
/// writes since the last commit are gone, so none may go on as if stored.
pub(super) fn bulk_rolled_back() -> StoreError {
    StoreError::Unavailable(
        "a write of this bulk load, or of one running beside it, failed and took back the \
         writes since the last commit: the load must run again"
            .into(),
    )
}

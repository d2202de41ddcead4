//! Bulk loads (`begin_bulk` .. `end_bulk`): the applicants of a large file committed in groups
//! instead of one transaction each, the rows they are written as, and what every load running is
//! told when a group is lost.

use super::checkpoint::{Checkpointer, AUTOCHECKPOINT_PAGES};
use super::portal::report_fields;
use super::store::*;
use dit_core::ports::{NewApplicant, StoreError};
use dit_domain::model::{Person, PlacementLink};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

/// Applicants encoded, and written into the bulk transaction, together: the connection is let
/// go between batches, so the reads and writes of the caller's next chunk wait for one batch,
/// not the whole call.
pub(super) const WRITE_BATCH: usize = 16;

impl Db {
    pub(super) fn commit_bulk(&mut self) -> Result<(), StoreError> {
        if self.uncommitted.is_none() {
            return Ok(());
        }
        if let Err(error) = self.connection.execute_batch("COMMIT") {
            self.roll_back_bulk();
            return Err(unavailable(error));
        }
        self.uncommitted = None;
        self.parts_pending = false;
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.wake();
        }
        Ok(())
    }

    /// Moves the WAL checkpoints to the checkpoint thread (started on the first bulk load of a
    /// database file; an in-memory database has no WAL).
    pub(super) fn checkpoint_in_background(&mut self) -> Result<(), StoreError> {
        let Some(path) = self.path.clone() else {
            return Ok(());
        };
        if self.checkpointer.is_none() {
            // Without the thread (no second connection or thread to be had) the connection
            // keeps checkpointing as SQLite does: slower, and as safe.
            match Checkpointer::start(&path) {
                Ok(checkpointer) => self.checkpointer = Some(checkpointer),
                Err(_) => return Ok(()),
            }
        }
        self.connection
            .pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(unavailable)
    }

    /// Gives the checkpoints back to the connection once no bulk load runs; the thread first
    /// copies what the last loads committed and empties the WAL, while this one goes on.
    pub(super) fn checkpoint_in_foreground(&mut self) -> Result<(), StoreError> {
        let Some(checkpointer) = &self.checkpointer else {
            return Ok(());
        };
        checkpointer.wake_to_truncate();
        self.connection
            .pragma_update(None, "wal_autocheckpoint", AUTOCHECKPOINT_PAGES)
            .map_err(unavailable)
    }

    /// Takes the open bulk transaction back to its last commit: every bulk load running loses
    /// its writes since then, so each must fail (see `bulk_failed`).
    pub(super) fn roll_back_bulk(&mut self) {
        self.uncommitted = None;
        self.parts_pending = false;
        if self.bulk_loads > 0 {
            self.bulk_failed = true;
        }
        if !self.connection.is_autocommit() {
            // If even this fails the connection is unusable, and the next write says so.
            let _ = self.connection.execute_batch("ROLLBACK");
        }
    }
}

/// A new applicant as its rows are written: the key columns and the JSON bodies, owned, so that
/// the rows can be written on another thread than the one that encoded them.
pub(super) struct EncodedApplicant {
    pub(super) applicant_number: String,
    pub(super) placement_id: String,
    pub(super) vpd: String,
    pub(super) gmc: Option<String>,
    pub(super) hire_date: String,
    pub(super) version: u32,
    pub(super) person_key: Option<String>,
    pub(super) link: String,
    pub(super) applicant: String,
    /// The `report` column (see `portal::report_fields`).
    pub(super) report: String,
    /// Each history entry's sequence number and body.
    pub(super) history: Vec<(u32, String)>,
    /// The person of a new applicant with a person key, as first written (with only it).
    pub(super) person: Option<String>,
}

/// About the size of a new applicant's documents (those of a typical record, rounded up), so that
/// each is written into a buffer that needs no growing.
const APPLICANT_BYTES: usize = 1_536;
const HISTORY_ENTRY_BYTES: usize = 320;
const LINK_BYTES: usize = 256;

impl EncodedApplicant {
    pub(super) fn encode(new: &NewApplicant) -> Result<Self, StoreError> {
        let a = &new.applicant;
        let link = PlacementLink {
            placement_id: a.placement_id.clone(),
            applicant_number: a.applicant_number.clone(),
            source_file: a.source_file.clone(),
            source_sha256: a.source_sha256.clone(),
        };
        Ok(EncodedApplicant {
            applicant_number: a.applicant_number.clone(),
            placement_id: a.placement_id.clone(),
            vpd: a.vpd.clone(),
            gmc: a.gmc_number().map(str::to_string),
            hire_date: a.projected_hire_date.to_string(),
            version: a.version,
            person_key: a.person_key.clone(),
            link: to_json_within(&link, LINK_BYTES)?,
            applicant: to_json_within(a, APPLICANT_BYTES)?,
            report: report_fields(a)?,
            history: new
                .history
                .iter()
                .map(|entry| Ok((entry.seq, to_json_within(entry, HISTORY_ENTRY_BYTES)?)))
                .collect::<Result<_, StoreError>>()?,
            person: match &a.person_key {
                Some(key) => Some(to_json(&Person {
                    vpd: a.vpd.clone(),
                    person_key: key.clone(),
                    employee: false,
                    applicant_numbers: vec![a.applicant_number.clone()],
                })?),
                None => None,
            },
        })
    }
}

/// A batch's rows, or why it could not be encoded.
type EncodedBatch = Result<Vec<EncodedApplicant>, StoreError>;

/// One bulk-load call's applicants, encoded a batch at a time by whichever thread comes to a
/// batch first: the caller's, until the writing thread comes to the call (it is still writing
/// the calls before), then the writing thread's, batch by batch as it writes them. A caller whose
/// writer is behind encodes the whole call before it goes on; a caller whose writer waits for
/// work leaves the encoding to it and goes back to its own (deciding the next chunk). So
/// neither thread waits while the other has encoding it could take.
pub(super) struct SharedEncoding {
    applicants: Arc<Vec<NewApplicant>>,
    /// The first batch no thread has taken.
    next: AtomicUsize,
    writer_arrived: AtomicBool,
    /// Each batch's rows once encoded, until the writer takes them.
    encoded: Mutex<Vec<Option<EncodedBatch>>>,
    filled: Condvar,
}

impl SharedEncoding {
    pub(super) fn new(applicants: Arc<Vec<NewApplicant>>) -> Self {
        let batches = applicants.chunks(WRITE_BATCH).len();
        SharedEncoding {
            applicants,
            next: AtomicUsize::new(0),
            writer_arrived: AtomicBool::new(false),
            encoded: Mutex::new((0..batches).map(|_| None).collect()),
            filled: Condvar::new(),
        }
    }

    pub(super) fn applicants(&self) -> usize {
        self.applicants.len()
    }

    pub(super) fn batches(&self) -> usize {
        self.applicants.chunks(WRITE_BATCH).len()
    }

    /// The caller's share: batches encoded until the writing thread comes to the call.
    pub(super) fn encode_until_the_writer_comes(&self) {
        while !self.writer_arrived.load(Ordering::Acquire) {
            if !self.encode_next() {
                return;
            }
        }
    }

    /// The writing thread's batch `index` (taken in order), the batches no thread has taken
    /// encoded meanwhile, then waiting for the caller's.
    pub(super) fn take(&self, index: usize) -> EncodedBatch {
        self.writer_arrived.store(true, Ordering::Release);
        loop {
            if let Some(batch) = self.slots()[index].take() {
                return batch;
            }
            if !self.encode_next() {
                break;
            }
        }
        let mut slots = self.slots();
        loop {
            if let Some(batch) = slots[index].take() {
                return batch;
            }
            slots = self
                .filled
                .wait(slots)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Encodes the first batch no thread has taken; false when none is left.
    fn encode_next(&self) -> bool {
        let index = self.next.fetch_add(1, Ordering::Relaxed);
        let Some(batch) = self.applicants.chunks(WRITE_BATCH).nth(index) else {
            return false;
        };
        let mut claimed = Claimed {
            encoding: self,
            index,
            // What the writer is told if encoding ends in a panic before the batch is done.
            result: Err(StoreError::Unavailable(
                "the encoding of the applicants stopped".into(),
            )),
        };
        claimed.result = batch.iter().map(EncodedApplicant::encode).collect();
        true
    }

    /// Poisoning aside: a panicking thread leaves no slot half written.
    fn slots(&self) -> MutexGuard<'_, Vec<Option<EncodedBatch>>> {
        self.encoded.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A batch taken for encoding, handed to the writer when dropped, done or not, so that the writer
/// never waits for a batch that will not come.
struct Claimed<'e> {
    encoding: &'e SharedEncoding,
    index: usize,
    result: EncodedBatch,
}

impl Drop for Claimed<'_> {
    fn drop(&mut self) {
        let result = std::mem::replace(&mut self.result, Ok(Vec::new()));
        self.encoding.slots()[self.index] = Some(result);
        self.encoding.filled.notify_all();
    }
}

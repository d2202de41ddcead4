//! Bulk loads (`begin_bulk` .. `end_bulk`): the applicants of a large file committed in groups
//! instead of one transaction each, the rows they are written as, and what every load running is
//! told when a group is lost.

use super::checkpoint::{Checkpointer, AUTOCHECKPOINT_PAGES};
use super::portal::report_fields;
use super::store::*;
use dit_core::ports::{NewApplicant, StoreError};
use dit_domain::model::Applicant;
#[cfg(doc)]
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

/// A new applicant's documents as its rows hold them, encoded (by either thread, see
/// [`SharedEncoding`]) before the rows are written; the key columns are read from the applicant
/// itself when they are.
pub(super) struct EncodedApplicant {
    pub(super) hire_date: String,
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

/// A [`PlacementLink`] encoded from the applicant's own fields, without copying them: the same
/// fields in the same order, so the same document (test `a_link_and_person_encode_as_their_types`).
#[derive(serde::Serialize)]
pub(super) struct LinkOf<'a> {
    placement_id: &'a str,
    applicant_number: &'a str,
    source_file: &'a str,
    source_sha256: &'a str,
}

/// A new applicant's [`Person`], as [`LinkOf`] is its link.
#[derive(serde::Serialize)]
pub(super) struct PersonOf<'a> {
    vpd: &'a str,
    person_key: &'a str,
    employee: bool,
    applicant_numbers: [&'a str; 1],
}

impl<'a> LinkOf<'a> {
    pub(super) fn new(a: &'a Applicant) -> Self {
        LinkOf {
            placement_id: &a.placement_id,
            applicant_number: &a.applicant_number,
            source_file: &a.source_file,
            source_sha256: &a.source_sha256,
        }
    }
}

impl<'a> PersonOf<'a> {
    pub(super) fn new(a: &'a Applicant, person_key: &'a str) -> Self {
        PersonOf {
            vpd: &a.vpd,
            person_key,
            employee: false,
            applicant_numbers: [&a.applicant_number],
        }
    }
}

impl EncodedApplicant {
    pub(super) fn encode(new: &NewApplicant) -> Result<Self, StoreError> {
        let a = &new.applicant;
        Ok(EncodedApplicant {
            hire_date: a.projected_hire_date.to_string(),
            link: to_json_within(&LinkOf::new(a), LINK_BYTES)?,
            applicant: to_json_within(a, APPLICANT_BYTES)?,
            report: report_fields(a)?,
            history: new
                .history
                .iter()
                .map(|entry| Ok((entry.seq, to_json_within(entry, HISTORY_ENTRY_BYTES)?)))
                .collect::<Result<_, StoreError>>()?,
            person: match &a.person_key {
                Some(key) => Some(to_json(&PersonOf::new(a, key))?),
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

    /// The applicants of batch `index` (none past the last).
    pub(super) fn batch(&self, index: usize) -> &[NewApplicant] {
        self.applicants
            .chunks(WRITE_BATCH)
            .nth(index)
            .unwrap_or_default()
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
        let batch = self.batch(index);
        if batch.is_empty() {
            return false;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use dit_domain::model::{Person, PlacementLink};

    /// An applicant whose placement id needs escaping, as a document would give it.
    fn sample_applicant() -> Applicant {
        serde_json::from_value(serde_json::json!({
            "applicant_number": "5000123", "assignment_id": "30000123",
            "placement_id": "P\"1\\2", "vpd": "504", "local_office": "KSS",
            "position_id": "P1", "position_number": "504-9", "dpn": "KSS/RTH01/FY1/001",
            "state": "loaded", "version": 2, "projected_hire_date": "2027-02-03",
            "person_key": "GMC#7000000",
            "details": {"last_name": "Last", "first_name": "First"},
            "source_file": "DE_KSS_APP_20261121_00000001.DAT", "source_sha256": "ab".repeat(32),
            "record_number": 1, "load_messages": [],
            "created_at": "2026-12-01T00:00:00Z", "updated_at": "2026-12-01T00:00:00Z",
        }))
        .unwrap()
    }

    #[test]
    fn a_link_and_person_encode_as_their_types() {
        let a = sample_applicant();
        let link = PlacementLink {
            placement_id: a.placement_id.clone(),
            applicant_number: a.applicant_number.clone(),
            source_file: a.source_file.clone(),
            source_sha256: a.source_sha256.clone(),
        };
        assert_eq!(
            to_json(&LinkOf::new(&a)).unwrap(),
            serde_json::to_string(&link).unwrap()
        );
        let person = Person {
            vpd: a.vpd.clone(),
            person_key: "GMC#7000000".into(),
            employee: false,
            applicant_numbers: vec![a.applicant_number.clone()],
        };
        assert_eq!(
            to_json(&PersonOf::new(&a, "GMC#7000000")).unwrap(),
            serde_json::to_string(&person).unwrap()
        );
    }
}

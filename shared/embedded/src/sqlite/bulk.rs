//! Bulk loads (`begin_bulk` .. `end_bulk`): the applicants of a large file committed in groups
//! instead of one transaction each, their JSON encoded on a helper thread while this one writes,
//! and what every load running is told when a group is lost.

use super::checkpoint::{Checkpointer, AUTOCHECKPOINT_PAGES};
use super::store::*;
use dit_core::ports::{NewApplicant, StoreError};
use dit_domain::model::{Person, PlacementLink};

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
            self.checkpointer = Some(Checkpointer::start(&path)?);
        }
        self.connection
            .pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(unavailable)
    }

    /// Gives the checkpoints back to the connection once no bulk load runs; the thread first
    /// copies what the last loads committed, while this one goes on.
    pub(super) fn checkpoint_in_foreground(&mut self) -> Result<(), StoreError> {
        let Some(checkpointer) = &self.checkpointer else {
            return Ok(());
        };
        checkpointer.wake();
        self.connection
            .pragma_update(None, "wal_autocheckpoint", AUTOCHECKPOINT_PAGES)
            .map_err(unavailable)
    }

    /// Takes the open bulk transaction back to its last commit: every bulk load running loses
    /// its writes since then, so each must fail (see `bulk_failed`).
    pub(super) fn roll_back_bulk(&mut self) {
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

/// The JSON bodies of a new applicant's rows.
pub(super) struct EncodedApplicant {
    pub(super) link: String,
    pub(super) applicant: String,
    pub(super) history: Vec<String>,
    /// The person of a new applicant with a person key, as first written (with only it).
    pub(super) person: Option<String>,
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
pub(super) fn with_encoded(
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

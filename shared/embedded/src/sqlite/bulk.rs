//! Bulk loads (`begin_bulk` .. `end_bulk`): the applicants of a large file committed in groups
//! instead of one transaction each, the rows they are written as, and what every load running is
//! told when a group is lost.

use super::checkpoint::{Checkpointer, AUTOCHECKPOINT_PAGES};
use super::portal::report_fields;
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
            link: to_json(&link)?,
            applicant: to_json(a)?,
            report: report_fields(a)?,
            history: new
                .history
                .iter()
                .map(|entry| Ok((entry.seq, to_json(entry)?)))
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

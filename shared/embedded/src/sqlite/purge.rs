//! `dit purge`: what is past its retention date leaves the database, counted by kind, and leaves
//! no trace in `state.db` or its WAL (secure delete, a truncating checkpoint, VACUUM).

use super::applicants::update_person;
use super::store::*;
use chrono::NaiveDate;
use dit_core::ports::StoreError;
use dit_domain::dnc::RotationEntry;
use dit_domain::model::{
    Applicant, PersonUpdate, ProcessedFile, ReceivedSequence, RejectedApplication,
};
use dit_domain::retention;
use rusqlite::{params, TransactionBehavior};

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
            // Nothing purged may stay in the files: secure_delete (set at open) zeroed the freed
            // cells; the WAL still holds the old pages until a checkpoint truncates it, and VACUUM
            // rebuilds the database without its free pages and slack (then its own WAL frames are
            // checkpointed away too).
            let checkpoint = |connection: &rusqlite::Connection| {
                connection
                    .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                    .map_err(unavailable)
            };
            checkpoint(connection)?;
            connection.execute_batch("VACUUM").map_err(unavailable)?;
            checkpoint(connection)?;
            Ok(purged)
        })
    }
}

//! The ports: what the domain needs from storage, as traits. Adapters live in [`crate::adapters`].
//!
//! Every method is idempotent under redelivery, and every applicant move is a conditional write
//! stored together with its history entry.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use dit_domain::dnc::RotationEntry;
use dit_domain::mail::{Mail, MailError};
use dit_domain::model::{
    Applicant, ApplicantSummary, FileClaim, HistoryEntry, Person, PersonUpdate, PlacementLink,
    ProcessedFile, ReceivedSequence, RejectedApplication, RejectedLookup,
};
use dit_domain::pos::Position;
use dit_domain::reports::ReportedApplicant;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached or refused for load: worth retrying later.
    #[error("state store unavailable: {0}")]
    Unavailable(String),
    /// Stored data that cannot be read back: needs an operator.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// A decoder's error message (serde_json, serde_dynamo, ...) without the values it quotes.
///
/// Decoders quote what they could not read (`invalid type: string "Xyzzy", expected a date`), and
/// a stored record or a message may hold personal data, while store errors end up in logs and
/// operator outputs. Every quoted (`"..."`) or back-quoted (`` `...` ``) part is replaced by its
/// length, except a field name (`missing field `hire_date``), which names the schema, not the data.
pub fn without_values(message: &str) -> String {
    let mut shown = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(['"', '`']) {
        let quote = rest[start..].chars().next().unwrap_or('"');
        let Some(length) = rest[start + 1..].find(quote) else {
            break;
        };
        let (before, quoted) = (&rest[..start], &rest[start + 1..start + 1 + length]);
        shown.push_str(before);
        if before.ends_with("field ") && quote == '`' {
            shown.push('`');
            shown.push_str(quoted);
            shown.push('`');
        } else {
            shown.push_str(&format!("<{} characters>", quoted.chars().count()));
        }
        rest = &rest[start + 1 + length + 1..];
    }
    if rest.contains(['"', '`']) {
        // An unmatched quote: what follows it may be a value cut short.
        let cut = rest.find(['"', '`']).unwrap_or(rest.len());
        shown.push_str(&rest[..cut]);
        shown.push_str("<...>");
    } else {
        shown.push_str(rest);
    }
    shown
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob store unavailable: {0}")]
    Unavailable(String),
    #[error("blob key {0:?} is not allowed")]
    BadKey(String),
}

impl BlobError {
    pub fn is_transient(&self) -> bool {
        matches!(self, BlobError::Unavailable(_))
    }
}

/// A new applicant with the history entries of its creation (received, loaded).
#[derive(Debug, Clone)]
pub struct NewApplicant {
    pub applicant: Applicant,
    pub history: Vec<HistoryEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    Created,
    /// The placement was already an applicant (an earlier file, or a concurrent delivery of this one).
    PlacementTaken(PlacementLink),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveOutcome {
    Stored,
    /// Another move got there first (the version had moved on): re-read and decide again.
    Conflict,
}

/// A counter numbers are reserved from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter<'a> {
    /// Applicant and assignment numbers (the counter [`StateStore::allocate_numbers`] draws from).
    ApplicantNumbers,
    /// The SEQ of a series of outbound files, e.g. `RMC#KSS` (the counter of
    /// [`StateStore::next_in_sequence`] of the same name).
    Sequence(&'a str),
}

/// Applicants, positions, persons, processed files and history.
#[async_trait]
pub trait StateStore: Send + Sync {
    /// Claims a file for processing by its identity (`<source>#<type>#<seq>`).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn claim_file(&self, file: &ProcessedFile) -> Result<FileClaim, StoreError>;

    /// Notes a TIS file number as received (idempotent: the same file again changes nothing).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn note_received_sequence(&self, received: &ReceivedSequence) -> Result<(), StoreError>;

    /// The numbers of one file type received with a business date in `from..=to`, through a
    /// per-type date index (never a scan of the whole store), ordered by number.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn received_sequences_between_dates(
        &self,
        file_type: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ReceivedSequence>, StoreError>;

    /// The numbers of one file type in `lowest..=highest` received on any date, ordered by number.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn received_sequences_between_numbers(
        &self,
        file_type: &str,
        lowest: u64,
        highest: u64,
    ) -> Result<Vec<ReceivedSequence>, StoreError>;

    /// Marks a claimed file processed and stores its summary.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn complete_file(
        &self,
        identity: &str,
        summary: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Positions by ESR position id (missing ids are absent from the map).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn positions(&self, ids: &[String]) -> Result<HashMap<String, Position>, StoreError>;

    /// Every position of one trust, removed ones included.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn trust_positions(&self, vpd: &str) -> Result<Vec<Position>, StoreError>;

    /// Positions carrying a DPN, in any trust.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn positions_by_dpn(&self, dpn: &str) -> Result<Vec<Position>, StoreError>;

    /// Inserts or replaces positions (a POS snapshot's changes).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn save_positions(&self, positions: &[Position]) -> Result<(), StoreError>;

    /// Which applicant each placement became, for those already loaded.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn placements(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, PlacementLink>, StoreError>;

    /// Persons known in trusts, by `(vpd, person_key)`.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn persons(
        &self,
        keys: &[(String, String)],
    ) -> Result<HashMap<(String, String), Person>, StoreError>;

    /// Reserves `count` consecutive numbers and returns the first (numbers start at 1).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn allocate_numbers(&self, count: u64) -> Result<u64, StoreError>;

    /// Reserves `count` consecutive numbers of `counter` for `holder` (one chunk of one file, one
    /// export), once: the first call for a holder takes the next numbers; every later call for
    /// the same holder returns that same block, whatever `count`. So work interrupted after its
    /// numbers were taken numbers the same things the same way when it runs again, and a crash
    /// between taking the numbers and using them wastes none. Returns the block reserved (empty
    /// when `count` is 0 and nothing was reserved before).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn reserve_numbers(
        &self,
        counter: Counter<'_>,
        holder: &str,
        count: u64,
    ) -> Result<std::ops::Range<u64>, StoreError>;

    /// Creates applicants, each with its placement link, history and person, each only if its
    /// placement is not yet an applicant. Outcomes are in input order.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails; applicants created before the failure stay created.
    async fn create_applicants(
        &self,
        applicants: &[NewApplicant],
    ) -> Result<Vec<CreateOutcome>, StoreError>;

    /// [`create_applicants`](Self::create_applicants) for a caller that can share the applicants
    /// rather than lend them: a store that writes on a thread of its own (SQLite during a bulk
    /// load) encodes them there too, without copying them first, while the caller goes on.
    ///
    /// # Errors
    /// As [`create_applicants`](Self::create_applicants).
    async fn create_shared_applicants(
        &self,
        applicants: Arc<Vec<NewApplicant>>,
    ) -> Result<Vec<CreateOutcome>, StoreError> {
        self.create_applicants(&applicants).await
    }

    /// A bulk load (the records of one APP file) starts. Until [`StateStore::end_bulk`] the
    /// store may make its writes durable in groups rather than one call at a time. Each call
    /// stays atomic and later calls see it; a crash before a group is made durable loses that
    /// group, which running the same file again redoes (every write of a load is idempotent).
    /// Stores whose every write is durable at once need do nothing.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn begin_bulk(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// The bulk load has ended, successfully or not: everything written is made durable before
    /// this returns.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails; the writes since the last durable group are lost.
    async fn end_bulk(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn applicant(&self, applicant_number: &str) -> Result<Option<Applicant>, StoreError>;

    /// Every applicant with this GMC number, in any trust.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn applicants_by_gmc(&self, gmc: &str) -> Result<Vec<Applicant>, StoreError>;

    /// The applicant's history, oldest first.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn history(&self, applicant_number: &str) -> Result<Vec<HistoryEntry>, StoreError>;

    /// Stores `applicant` (whose version is `entry.seq`) and `entry` together, only if the stored
    /// version is still `expected_version`.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn record_move(
        &self,
        expected_version: u32,
        applicant: &Applicant,
        entry: &HistoryEntry,
    ) -> Result<MoveOutcome, StoreError>;

    /// Marks a person of a trust as an employee (after a hire); creates the person if unknown.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn mark_employee(&self, vpd: &str, person_key: &str) -> Result<(), StoreError>;

    /// Inserts or replaces rows of trusts' rotation grids (by `vpd` and `position_key`).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn save_rotation(&self, entries: &[RotationEntry]) -> Result<(), StoreError>;

    /// A trust's rotation grid, ordered by position key.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn rotation_grid(&self, vpd: &str) -> Result<Vec<RotationEntry>, StoreError>;

    /// Removes rows of a trust's rotation grid by position key (keys not in the grid are no
    /// error), e.g. the rows a DNF snapshot no longer lists.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn remove_rotation(&self, vpd: &str, position_keys: &[String]) -> Result<(), StoreError>;

    /// Stores a person update (idempotent by applicant number and message id).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn save_person_update(&self, update: &PersonUpdate) -> Result<(), StoreError>;

    /// A trust's person updates, oldest first.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn person_updates(&self, vpd: &str) -> Result<Vec<PersonUpdate>, StoreError>;

    /// Applicants of every trust whose projected hire date is `date`, read through the hire-date
    /// index: the cost grows with that day's starters, not with the applicants stored.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn applicants_starting_on(&self, date: NaiveDate) -> Result<Vec<Applicant>, StoreError>;

    /// Applicants of trust `vpd` whose projected hire date is `from` to `to` (both included),
    /// through the hire-date index: the cost grows with the starters of those days (a store may
    /// read only the trust's), never with every applicant stored. The worklist's read (section 11).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn trust_applicants_starting_between(
        &self,
        vpd: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Applicant>, StoreError> {
        let mut found = Vec::new();
        for date in from.iter_days().take_while(|d| *d <= to) {
            let day = self.applicants_starting_on(date).await?;
            found.extend(day.into_iter().filter(|a| a.vpd == vpd));
        }
        Ok(found)
    }

    /// What the reports read of the applicants whose projected hire date is `from` to `to` (of
    /// trust `vpd` only, when given), live ones only. By default the reads above, one per day (or
    /// the trust's range), each applicant decoded whole; a store may read only the report's
    /// fields in one pass (SQLite does).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn reported_applicants_starting_between(
        &self,
        vpd: Option<&str>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ReportedApplicant>, StoreError> {
        let applicants = match vpd {
            Some(vpd) => {
                self.trust_applicants_starting_between(vpd, from, to)
                    .await?
            }
            None => {
                let mut found = Vec::new();
                for date in from.iter_days().take_while(|d| *d <= to) {
                    found.extend(self.applicants_starting_on(date).await?);
                }
                found
            }
        };
        Ok(applicants.iter().map(ReportedApplicant::from).collect())
    }

    /// The last business date a scheduled job finished (`None` before its first run).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn watermark(&self, job: &str) -> Result<Option<NaiveDate>, StoreError>;

    /// Moves a job's watermark forward to `date`; never backwards. Returns false when it already
    /// stood at or after `date`.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn advance_watermark(&self, job: &str, date: NaiveDate) -> Result<bool, StoreError>;

    /// The next number (from 1) of a named sequence, e.g. the SEQ of outbound files.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn next_in_sequence(&self, name: &str) -> Result<u64, StoreError>;

    /// What TIS was last sent for each position of a local office: the POR fields of its last
    /// `C` line (positions last sent as `D`, or never sent, are absent).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn tis_positions(
        &self,
        local_office: &str,
    ) -> Result<HashMap<String, Vec<String>>, StoreError>;

    /// Records what was sent: `Some(fields)` after a `C` line, `None` after a `D` line.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn save_tis_positions(
        &self,
        local_office: &str,
        sent: &[(String, Option<Vec<String>>)],
    ) -> Result<(), StoreError>;

    /// Stores rejected APP records, each keyed by its file and record number (so a redelivered
    /// file stores the same rejections again, not more of them).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn save_rejected_applications(
        &self,
        rejected: &[RejectedApplication],
    ) -> Result<(), StoreError>;

    /// Rejected APP records by placement id, GMC number or trust, ordered by business date, file
    /// and record number. An empty key finds nothing.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn rejected_applications(
        &self,
        lookup: RejectedLookup<'_>,
    ) -> Result<Vec<RejectedApplication>, StoreError>;

    // --- The portal (section 9) ---

    /// Every applicant of one trust, in any state, as summaries, in applicant number order, read
    /// through the trust's applicant index (no scan; only the summary's fields are decoded).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn trust_applicants(&self, vpd: &str) -> Result<Vec<ApplicantSummary>, StoreError>;

    /// Marks an item of a trust's inbox (its key under `trusts/<vpd>/`) as read by the trust.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn mark_read(&self, vpd: &str, item: &str, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// The items of a trust's inbox marked read.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn read_items(&self, vpd: &str) -> Result<std::collections::HashSet<String>, StoreError>;
}

/// An object for [`BlobStore::put_all`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewObject {
    pub area: Area,
    pub key: String,
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}

/// The three areas of file storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    /// Files received (kept for replay).
    Inbound,
    /// Files and reports written for TIS, trusts and operators.
    Outbound,
    /// Files refused whole, with their reason.
    Quarantine,
}

/// One stored version of a received object: its size and, where the store keeps versions (S3),
/// the version's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedObject {
    pub size: u64,
    pub version: Option<String>,
}

/// Folders locally, S3 buckets in AWS.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// The object's bytes, or `None` when absent.
    ///
    /// # Errors
    /// [`BlobError`] when the store fails.
    async fn get(&self, area: Area, key: &str) -> Result<Option<Vec<u8>>, BlobError>;

    /// The object's size in bytes, or `None` when absent.
    ///
    /// # Errors
    /// [`BlobError`] when the store fails.
    async fn size(&self, area: Area, key: &str) -> Result<Option<u64>, BlobError>;

    /// Writes (or overwrites with) the bytes.
    ///
    /// # Errors
    /// [`BlobError`] when the store fails.
    async fn put(
        &self,
        area: Area,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), BlobError>;

    /// Writes the bytes only when no object is at `key` yet: `true` when this call wrote them,
    /// `false` when one was there (left as it was). Adapters make it one conditional write (S3
    /// `If-None-Match: *`, a hard link locally) so two concurrent calls never both write; this
    /// default only looks first.
    ///
    /// # Errors
    /// [`BlobError`] when the store fails.
    async fn put_new(
        &self,
        area: Area,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<bool, BlobError> {
        if self.size(area, key).await?.is_some() {
            return Ok(false);
        }
        self.put(area, key, bytes, content_type).await?;
        Ok(true)
    }

    /// Writes every object as [`BlobStore::put`] would, in any order and where the store can,
    /// several at once (the default writes them in turn). A failure may leave some written,
    /// never half of one; writing them all again is safe.
    ///
    /// # Errors
    /// [`BlobError`] when the store fails.
    async fn put_all(&self, objects: Vec<NewObject>) -> Result<(), BlobError> {
        for object in objects {
            self.put(object.area, &object.key, object.bytes, object.content_type)
                .await?;
        }
        Ok(())
    }

    /// Removes the object; absent objects are not an error.
    ///
    /// # Errors
    /// [`BlobError`] when the store fails.
    async fn delete(&self, area: Area, key: &str) -> Result<(), BlobError>;

    /// Copies an object between areas (the default reads it whole; adapters may copy server-side).
    ///
    /// # Errors
    /// [`BlobError`] when the store fails; copying an absent object is a no-op.
    async fn copy(
        &self,
        from: Area,
        from_key: &str,
        to: Area,
        to_key: &str,
    ) -> Result<(), BlobError> {
        if let Some(bytes) = self.get(from, from_key).await? {
            self.put(to, to_key, bytes, "application/octet-stream")
                .await?;
        }
        Ok(())
    }

    /// A link a person can open to read the object, valid for `expires_in` where the store can
    /// make links expire (an S3 presigned URL); locally, the file's path.
    ///
    /// # Errors
    /// [`BlobError`] when the link cannot be made.
    async fn link(
        &self,
        area: Area,
        key: &str,
        expires_in: std::time::Duration,
    ) -> Result<String, BlobError>;

    /// Keys under a prefix, sorted.
    ///
    /// # Errors
    /// [`BlobError`] when the store fails.
    async fn list(&self, area: Area, prefix: &str) -> Result<Vec<String>, BlobError>;

    // A received object (the inbound area) is addressed by its key as the sender wrote it and,
    // where the store keeps versions, by one version: the one a notification named or the one
    // whose size was read, so the object checked is the object processed, and a replaced object
    // is never handled under another's check. Stores whose keys are names, not paths (S3), take
    // the key literally (`..` or `//` in it cannot leave the area), so such a file can still be
    // read and moved to the quarantine; folders refuse keys that would leave the area.

    /// The received object's size and version: version `version` when given, else the current
    /// one; `None` when absent.
    ///
    /// # Errors
    /// [`BlobError`] when the store fails or the key cannot be addressed.
    async fn head_received(
        &self,
        key: &str,
        version: Option<&str>,
    ) -> Result<Option<ReceivedObject>, BlobError> {
        let _ = version;
        Ok(self
            .size(Area::Inbound, key)
            .await?
            .map(|size| ReceivedObject {
                size,
                version: None,
            }))
    }

    /// The bytes of version `version` of the received object (the current one without a version).
    ///
    /// # Errors
    /// [`BlobError`] when the store fails or the key cannot be addressed.
    async fn get_received(
        &self,
        key: &str,
        version: Option<&str>,
    ) -> Result<Option<Vec<u8>>, BlobError> {
        let _ = version;
        self.get(Area::Inbound, key).await
    }

    /// Copies version `version` of the received object to `to_key` of the quarantine (a no-op
    /// when absent).
    ///
    /// # Errors
    /// [`BlobError`] when the store fails or a key cannot be addressed.
    async fn quarantine_received(
        &self,
        key: &str,
        version: Option<&str>,
        to_key: &str,
    ) -> Result<(), BlobError> {
        let _ = version;
        self.copy(Area::Inbound, key, Area::Quarantine, to_key)
            .await
    }

    /// Removes version `version` of the received object (the object without a version); absent
    /// is not an error. Removing one version leaves a newer one the sender wrote since in place.
    ///
    /// # Errors
    /// [`BlobError`] when the store fails or the key cannot be addressed.
    async fn delete_received(&self, key: &str, version: Option<&str>) -> Result<(), BlobError> {
        let _ = version;
        self.delete(Area::Inbound, key).await
    }
}

/// What became of a mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailOutcome {
    /// Handed over (or written) now.
    Sent,
    /// An earlier delivery already sent the mail with this key: not sent again.
    AlreadySent,
    /// Alerts are switched off here: nothing was sent.
    Off,
}

/// `.eml` files locally, SES in AWS.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends `mail`, at most once per [`Mail::key`] where the transport cannot take it back
    /// (rewriting the same local file is harmless).
    ///
    /// # Errors
    /// [`MailError`]; after an error the mail may be sent again.
    async fn send(&self, mail: &Mail) -> Result<MailOutcome, MailError>;
}

/// Alerts switched off: nothing is sent.
pub struct NoMailer;

#[async_trait]
impl Mailer for NoMailer {
    async fn send(&self, _mail: &Mail) -> Result<MailOutcome, MailError> {
        Ok(MailOutcome::Off)
    }
}

/// Operational metrics (section 12: a quarantined file counts, per local office, for an alarm):
/// CloudWatch in AWS, counted in memory locally. Best effort: a metric lost is logged by the
/// adapter, never an error, so no file is held up by monitoring.
#[async_trait]
pub trait Metrics: Send + Sync {
    /// One more file quarantined; `local_office` is the one its name names (`None`: unparsable),
    /// `reason_code` the quarantine reason's stable code (never its text, which may quote a line).
    async fn file_quarantined(&self, local_office: Option<&str>, reason_code: &str);
}

/// Metrics kept nowhere.
pub struct NoMetrics;

#[async_trait]
impl Metrics for NoMetrics {
    async fn file_quarantined(&self, _local_office: Option<&str>, _reason_code: &str) {}
}

/// Metrics counted in memory, per local office (`""` for a file naming none).
#[derive(Default)]
pub struct CountingMetrics {
    quarantined: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
}

impl CountingMetrics {
    /// Files quarantined so far, per local office.
    pub fn quarantined(&self) -> std::collections::BTreeMap<String, u64> {
        self.quarantined
            .lock()
            .map(|counts| counts.clone())
            .unwrap_or_default()
    }
}

#[async_trait]
impl Metrics for CountingMetrics {
    async fn file_quarantined(&self, local_office: Option<&str>, _reason_code: &str) {
        if let Ok(mut counts) = self.quarantined.lock() {
            *counts
                .entry(local_office.unwrap_or_default().to_string())
                .or_default() += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::without_values;

    #[test]
    fn decoder_messages_lose_their_values_but_keep_field_names() {
        let err = serde_json::from_str::<chrono::NaiveDate>("\"Okafor\"").unwrap_err();
        let shown = without_values(&err.to_string());
        assert!(!shown.contains("Okafor"), "{shown}");
        assert_eq!(
            without_values("invalid type: string \"Okafor\", expected u32 at line 1"),
            "invalid type: string <6 characters>, expected u32 at line 1"
        );
        assert_eq!(
            without_values("unknown variant `Adaeze`, expected `offer` or `accept`"),
            "unknown variant <6 characters>, expected <5 characters> or <6 characters>"
        );
        assert_eq!(
            without_values("missing field `projected_hire_date`"),
            "missing field `projected_hire_date`"
        );
        assert_eq!(without_values("cut \"Oka"), "cut <...>");
        assert_eq!(without_values("no quotes"), "no quotes");
    }
}

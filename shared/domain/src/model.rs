//! Records the system keeps: applicants and their history, persons, processed files.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::app::ApplicantDetails;
use super::lifecycle::{ApplicantState, Transition};
use super::messages::Message;

/// A loaded APP record: the applicant a trust works with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Applicant {
    pub applicant_number: String,
    pub assignment_id: String,
    pub placement_id: String,
    pub vpd: String,
    pub local_office: String,
    pub position_id: String,
    pub position_number: String,
    pub dpn: String,
    pub state: ApplicantState,
    /// Bumped by every stored move or refusal; the history item of a move has this number.
    pub version: u32,
    #[serde(serialize_with = "crate::timestamp::serialize_date")]
    pub projected_hire_date: NaiveDate,
    #[serde(serialize_with = "crate::timestamp::serialize_optional_date")]
    pub projected_end_date: Option<NaiveDate>,
    /// The trust-scoped person identity (see [`person_key`]); absent when no identifier survived checks.
    pub person_key: Option<String>,
    pub details: ApplicantDetails,
    pub source_file: String,
    pub source_sha256: String,
    pub record_number: u64,
    /// WARNING and INFO messages given when loaded, kept so that a redelivered file gives the same APC.
    pub load_messages: Vec<Message>,
    #[serde(serialize_with = "crate::timestamp::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::timestamp::serialize")]
    pub updated_at: DateTime<Utc>,
    /// Trac employment checks, transferred once at "outcome recruited" (identity data never kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employment_checks: Option<EmploymentChecks>,
    /// The last new-starter reminder that named this applicant (section 5): a starter is reminded
    /// once per projected hire date, so one re-dated since is reminded again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminded: Option<Reminded>,
    /// An internal mover (section 10): at load the person was already an employee of this trust
    /// (the APC's `Application is from an EXISTING Employee`), so the trust updates the existing
    /// assignment (`update_assignment`) instead of hiring again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub internal_mover: bool,
    /// Employment checks recorded by the trust itself (`record_checks`, organisations without
    /// Trac; section 11), with who recorded them; the latest recording kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_checks: Option<EmploymentChecks>,
    /// DNC type-4 changes applied whose new hire date was under 12 weeks after the DNC's business
    /// date (section 12's late changes; `reports::is_late_change`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub late_changes: u32,
}

fn is_zero(count: &u32) -> bool {
    *count == 0
}

/// A new-starter reminder that named an applicant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminded {
    /// The projected hire date it was reminded for.
    pub hire_date: NaiveDate,
    /// The business date of the reminder run.
    pub business_date: NaiveDate,
    /// Reminded after its D + 5 run had passed (loaded or re-dated late).
    pub late: bool,
}

/// Employment checks copied from Trac (DBS, registration, references, checklists, EU status).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmploymentChecks {
    pub message_id: String,
    pub received_at: DateTime<Utc>,
    /// The checks by allow-list (section 3): per check only `status`, `outcome`, `completed_on`,
    /// `expires_on` and `reference`; per reference only `status` and `completed_on`.
    pub checks: serde_json::Value,
    /// Paths of the keys that were dropped (e.g. `person`, `checks.dbs.date_of_birth`).
    #[serde(alias = "dropped_identity_fields")]
    pub dropped_fields: Vec<String>,
    /// Who recorded them, for checks a trust recorded (`None`: from Trac).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<String>,
}

/// Where a person update from a trust goes (2.9: only Full Records lead-employer updates reach TIS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonUpdateStatus {
    /// Kept for the next RMC to TIS.
    PendingRmc,
    /// Sent in an RMC.
    Sent,
    #[serde(rename = "not sent: part records")]
    NotSentPartRecords,
    #[serde(rename = "not sent: host employer")]
    NotSentHostEmployer,
}

/// A trust's change to a hired trainee's personal details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonUpdate {
    pub vpd: String,
    pub local_office: String,
    pub applicant_number: String,
    pub message_id: String,
    pub received_at: DateTime<Utc>,
    pub effective_date: Option<NaiveDate>,
    /// The person fields as sent (the PER fields of 2.9).
    pub person: serde_json::Value,
    pub status: PersonUpdateStatus,
}

impl Applicant {
    pub fn gmc_number(&self) -> Option<&str> {
        self.details.gmc_number.as_deref()
    }
}

/// What a list of applicants shows and is searched on (the portal): a few fields of the applicant,
/// read without the rest of its record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicantSummary {
    pub applicant_number: String,
    pub vpd: String,
    /// The local office whose APP file loaded it (a local office's data team sees only its own).
    pub local_office: String,
    pub state: ApplicantState,
    pub placement_id: String,
    pub position_number: String,
    pub dpn: String,
    pub projected_hire_date: NaiveDate,
    pub first_name: String,
    pub last_name: String,
    pub gmc_number: Option<String>,
}

impl From<&Applicant> for ApplicantSummary {
    fn from(applicant: &Applicant) -> Self {
        ApplicantSummary {
            applicant_number: applicant.applicant_number.clone(),
            vpd: applicant.vpd.clone(),
            local_office: applicant.local_office.clone(),
            state: applicant.state,
            placement_id: applicant.placement_id.clone(),
            position_number: applicant.position_number.clone(),
            dpn: applicant.dpn.clone(),
            projected_hire_date: applicant.projected_hire_date,
            first_name: applicant.details.first_name.clone(),
            last_name: applicant.details.last_name.clone(),
            gmc_number: applicant.details.gmc_number.clone(),
        }
    }
}

/// Why something happened to an applicant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Cause {
    File {
        name: String,
        record_number: u64,
        line: u64,
    },
    Message {
        id: String,
        /// Who sent it (`trust:504`, `trac`): ids are unique per sender only (section 7).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sender: Option<String>,
    },
    Schedule {
        run: String,
    },
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cause::File {
                name,
                record_number,
                line,
            } => {
                write!(f, "file {name} record {record_number} (line {line})")
            }
            Cause::Message {
                id,
                sender: Some(sender),
            } => write!(f, "message {id} from {sender}"),
            Cause::Message { id, sender: None } => write!(f, "message {id}"),
            Cause::Schedule { run } => write!(f, "schedule run {run}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum HistoryOutcome {
    Moved,
    Unchanged,
    Refused { reason: String },
}

/// One stored move (or refused move) of an applicant. An absent `from` or `detail` is left out
/// of its JSON, as an applicant's absent details are ([`ApplicantDetails`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Equal to the applicant's version after this entry.
    pub seq: u32,
    #[serde(serialize_with = "crate::timestamp::serialize")]
    pub at: DateTime<Utc>,
    pub command: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<ApplicantState>,
    pub to: ApplicantState,
    pub outcome: HistoryOutcome,
    pub cause: Cause,
    pub actor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl HistoryEntry {
    pub fn from_transition(
        seq: u32,
        at: DateTime<Utc>,
        command: &str,
        transition: Transition,
        cause: Cause,
        actor: &str,
    ) -> Self {
        let (from, to, outcome) = match transition {
            Transition::Moved { from, to } => (from, to, HistoryOutcome::Moved),
            Transition::Unchanged(state) => (Some(state), state, HistoryOutcome::Unchanged),
        };
        HistoryEntry {
            seq,
            at,
            command: command.to_string(),
            from,
            to,
            outcome,
            cause,
            actor: actor.to_string(),
            detail: None,
        }
    }
}

/// A person known in one trust, built from its applicants (and later its employees).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub vpd: String,
    pub person_key: String,
    pub employee: bool,
    #[serde(default)]
    pub applicant_numbers: Vec<String>,
}

/// The trust-scoped identity of a person: the GMC number, or else NI number and date of birth.
/// The NI/DOB form is hashed so that no identifier is readable in a key.
pub fn person_key(gmc: Option<&str>, ni: Option<&str>, dob: Option<NaiveDate>) -> Option<String> {
    use sha2::{Digest, Sha256};
    if let Some(gmc) = gmc {
        return Some(format!("GMC#{gmc}"));
    }
    let (ni, dob) = (ni?, dob?);
    let digest = Sha256::digest(format!("{ni}|{dob}").as_bytes());
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    Some(format!("NIDOB#{hex}"))
}

/// Which applicant a placement became, and from which file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacementLink {
    pub placement_id: String,
    pub applicant_number: String,
    pub source_file: String,
    pub source_sha256: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Claimed; outputs not yet all written.
    InProgress,
    Processed,
}

/// A file this system has taken in (quarantined files are not recorded: a corrected file may reuse the SEQ).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessedFile {
    /// `<source>#<type>#<seq>`.
    pub identity: String,
    /// Local office or VPD code.
    pub source: String,
    /// File type code (APP, POS, ...).
    pub file_type: String,
    pub seq: u64,
    pub name: String,
    pub sha256: String,
    pub business_date: NaiveDate,
    pub status: FileStatus,
    pub claimed_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The processing summary (counts, outputs, warnings) as JSON, once processed.
    pub summary: Option<serde_json::Value>,
}

/// Outcome of claiming a file for processing.
#[derive(Debug, Clone, PartialEq)]
pub enum FileClaim {
    /// First time: go ahead. (Sequence gaps are not judged per file: see the daily sequence
    /// check, [`ReceivedSequence`].)
    New,
    /// Same name and content already claimed (processed or interrupted).
    SameContent(ProcessedFile),
    /// The same `<source>,<type>,<seq>` was processed with different content.
    DifferentContent(ProcessedFile),
}

/// An APP record that failed its load checks (2.5), kept so that "where is my applicant?" finds
/// it. It has no applicant number and blocks nothing: the placement is judged afresh in a later
/// file. Identified by its file and record number, so a redelivered file stores it once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedApplication {
    /// As supplied (may be empty when PLACEMENT_ID was the missing item).
    pub placement_id: String,
    /// As supplied, even when malformed; absent when not supplied.
    pub gmc_number: Option<String>,
    pub last_name: String,
    pub first_name: String,
    pub position_id: String,
    pub position_number: String,
    pub dpn: String,
    /// The trust the record resolved to (by position, else by DPN), if any.
    pub vpd: Option<String>,
    pub local_office: String,
    pub source_file: String,
    pub source_sha256: String,
    /// The file's business date (retention runs from it).
    pub business_date: NaiveDate,
    /// 1-based among the file's data lines, as in the APC.
    pub record_number: u64,
    /// 1-based line in the file.
    pub line: u64,
    /// Every message the record got (the ERRORs that rejected it).
    pub messages: Vec<Message>,
    /// The record's projected hire date, when it was a valid date (the state report counts a
    /// rejected application in the range of its hire date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projected_hire_date: Option<NaiveDate>,
}

/// How rejected applications are looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectedLookup<'a> {
    Placement(&'a str),
    Gmc(&'a str),
    /// Every rejected application that resolved to this trust.
    Trust(&'a str),
    /// Every rejected application of the files of this business date (the exception report).
    FiledOn(NaiveDate),
}

/// A TIS file number received (2.3): what the daily sequence check reads. TIS numbers its files
/// with one sequence per file type across all local offices, so these are kept per file type,
/// findable by business date and by number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedSequence {
    /// APP, DNC or DNF.
    pub file_type: String,
    pub seq: u64,
    /// The local office that sent it.
    pub source: String,
    /// The file's business date (the date in its name, unless processed with another).
    pub business_date: NaiveDate,
    pub name: String,
}

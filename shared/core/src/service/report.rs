//! What processing one inbound file did: counts, outputs and warnings, without personal data, so it
//! can be logged, shown in the `dit` summary and stored as the operator report.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use dit_domain::envelope::QuarantineReason;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Applied; some records may have been rejected.
    Processed,
    /// The same file (name and content) was processed before: nothing changed.
    Duplicate,
    /// Refused whole and moved to quarantine.
    Quarantined,
    /// The object was no longer there (already moved or deleted).
    Missing,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileReport {
    pub file: String,
    pub outcome: Outcome,
    pub file_type: Option<String>,
    pub business_date: Option<NaiveDate>,
    pub records: u64,
    pub loaded: u64,
    pub rejected: u64,
    pub warnings: u64,
    pub quarantine: Option<QuarantineReason>,
    /// Keys written, prefixed with their area (`outbound/...`, `quarantine/...`).
    pub outputs: Vec<String>,
    /// Things an operator should look at (records no trust can be told about, an older POS file).
    /// Sequence gaps are not judged per file: see the daily sequence check.
    pub operator_warnings: Vec<String>,
    pub message: Option<String>,
}

impl FileReport {
    pub fn new(file: &str, outcome: Outcome) -> Self {
        FileReport {
            file: file.to_string(),
            outcome,
            file_type: None,
            business_date: None,
            records: 0,
            loaded: 0,
            rejected: 0,
            warnings: 0,
            quarantine: None,
            outputs: vec![],
            operator_warnings: vec![],
            message: None,
        }
    }
}

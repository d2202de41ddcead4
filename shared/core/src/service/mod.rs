//! Application services: the handler code shared by the Lambda functions and the `dit` program.
//! They orchestrate the domain over the ports and never see an AWS type.

pub mod context;
pub mod data_team;
pub mod export;
pub mod inbound;
pub mod messages;
pub mod moves;
pub mod output;
pub mod reminders;
pub mod report;
pub mod reporting;
pub mod sequence_check;
pub mod trainee;
pub mod worklist;

/// Receives progress of long runs (a progress bar in `dit`, nothing in Lambda).
pub trait Progress: Send + Sync {
    fn begin(&self, _file: &str, _records: u64) {}
    fn advance(&self, _records: u64) {}
    fn end(&self) {}
}

/// Progress that goes nowhere.
pub struct NoProgress;

impl Progress for NoProgress {}

//! The daily sequence check (2.3, 5): for business date D, per TIS file type (APP, DNC, DNF)
//! across all local offices, the numbers between the lowest and the highest received over the 30
//! days up to D that have not arrived, written for operators as
//! `operator/schedules/sequence-check/<D>.json` and `.html`.
//!
//! Per file type it reads the numbers of the window (one range read on the per-type date index)
//! and then the numbers between the window's lowest and highest received on any date (one range
//! read on the per-type number index), so a number whose file carries an older date, or that
//! arrived after an earlier check, is not reported. Never a scan of the whole store. The business
//! date comes from the caller, so a date's record is the same bytes however often it is run (for
//! the same files received).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tracing::info;

use super::context::{Context, ProcessError};
use super::data_team::send_missing_numbers;
use super::output::put_json_and_html;
use dit_domain::envelope::FileType;
use dit_domain::sequence::{type_sequence, window, SequenceCheck};

/// The job's name (schedule payloads, operator prefix).
pub const JOB: &str = "sequence-check";

/// The record's key without its extension (`.json` / `.html`).
pub fn operator_base(business_date: NaiveDate) -> String {
    format!("operator/schedules/{JOB}/{business_date}")
}

/// What a run wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceCheckRun {
    pub check: SequenceCheck,
    /// `outbound/...` keys written.
    pub outputs: Vec<String>,
}

/// Checks the sequences for `business_date` and writes the operator record.
///
/// # Errors
/// Store or blob failures ([`ProcessError::is_transient`] tells whether to retry; a rerun writes
/// the same record).
pub async fn run(
    ctx: &Context<'_>,
    business_date: NaiveDate,
) -> Result<SequenceCheckRun, ProcessError> {
    let (from, to) = window(business_date);
    let mut file_types = Vec::new();
    for file_type in FileType::TIS_SEQUENCES {
        let code = file_type.to_string();
        let in_window: BTreeSet<u64> = ctx
            .store
            .received_sequences_between_dates(&code, from, to)
            .await?
            .into_iter()
            .map(|r| r.seq)
            .collect();
        let arrived: BTreeSet<u64> = match (in_window.first(), in_window.last()) {
            (Some(&lowest), Some(&highest)) if highest > lowest + 1 => ctx
                .store
                .received_sequences_between_numbers(&code, lowest, highest)
                .await?
                .into_iter()
                .filter(|r| r.business_date <= business_date)
                .map(|r| r.seq)
                .collect(),
            _ => BTreeSet::new(),
        };
        let sequence = type_sequence(&code, &in_window, &arrived);
        info!(
            job = JOB,
            %business_date,
            file_type = %code,
            received = sequence.received,
            missing = sequence.missing_count,
            "sequence checked"
        );
        file_types.push(sequence);
    }
    let check = SequenceCheck::new(business_date, file_types);
    let html = check.render_html();
    let base = operator_base(business_date);
    let outputs = put_json_and_html(ctx.blobs, &base, &check, html).await?;
    send_missing_numbers(ctx, &check, &base).await?;
    info!(job = JOB, %business_date, missing = check.missing_count, "sequence check written");
    Ok(SequenceCheckRun {
        check,
        outputs: outputs.to_vec(),
    })
}

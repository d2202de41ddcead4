//! The reports of section 12 over the store: the applicants with hire dates in the range, read
//! through the hire-date index (one read per day, or one per trust when the report is for one
//! trust), and the rejected applications of files dated in the range through the business-date
//! index (one read per day); never the whole table. Counted by `dit_domain::reports`.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::ports::StoreError;
use crate::service::context::Context;
use dit_domain::model::RejectedLookup;
use dit_domain::reports::{
    exception_report, notice_report, state_report, ExceptionReport, NoticeReport, ReportFilter,
    ReportedApplicant, StateReport,
};

/// The longest range a report reads (a little over a year of hire dates).
pub const MAX_REPORT_DAYS: u64 = 400;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("the report's range is empty: --from {from} is after --to {to}")]
    EmptyRange { from: NaiveDate, to: NaiveDate },
    #[error(
        "the report's range {from} to {to} is over {MAX_REPORT_DAYS} days: ask for a shorter one"
    )]
    TooLong { from: NaiveDate, to: NaiveDate },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn check_range(from: NaiveDate, to: NaiveDate) -> Result<(), ReportError> {
    if from > to {
        return Err(ReportError::EmptyRange { from, to });
    }
    if (to - from).num_days() > MAX_REPORT_DAYS as i64 {
        return Err(ReportError::TooLong { from, to });
    }
    Ok(())
}

/// What the reports read of the applicants with hire dates `from`..=`to` (of one trust when the
/// filter names one).
async fn applicants_between(
    ctx: &Context<'_>,
    from: NaiveDate,
    to: NaiveDate,
    filter: &ReportFilter,
) -> Result<Vec<ReportedApplicant>, ReportError> {
    check_range(from, to)?;
    Ok(ctx
        .store
        .reported_applicants_starting_between(filter.vpd.as_deref(), from, to)
        .await?)
}

/// The 12 weeks' notice report for hire dates `from`..=`to`.
///
/// # Errors
/// [`ReportError`] for a range that is empty or too long, or when the store fails.
pub async fn notice(
    ctx: &Context<'_>,
    from: NaiveDate,
    to: NaiveDate,
    filter: &ReportFilter,
) -> Result<NoticeReport, ReportError> {
    let applicants = applicants_between(ctx, from, to, filter).await?;
    Ok(notice_report(from, to, &applicants, filter))
}

/// The state report for hire dates `from`..=`to`, with the rejected applications whose record's
/// hire date is in the range, per trust they resolved to (one read per configured trust; a
/// rejected record with no valid hire date, or no trust, is in no row).
///
/// # Errors
/// [`ReportError`] for a range that is empty or too long, or when the store fails.
pub async fn states(
    ctx: &Context<'_>,
    from: NaiveDate,
    to: NaiveDate,
    filter: &ReportFilter,
) -> Result<StateReport, ReportError> {
    let applicants = applicants_between(ctx, from, to, filter).await?;
    let mut rejected: BTreeMap<(String, String), u64> = BTreeMap::new();
    for organisation in ctx.organisations.iter() {
        if filter
            .vpd
            .as_ref()
            .is_some_and(|vpd| *vpd != organisation.vpd)
        {
            continue;
        }
        let found = ctx
            .store
            .rejected_applications(RejectedLookup::Trust(&organisation.vpd))
            .await?;
        for record in found.iter().filter(|r| {
            r.projected_hire_date
                .is_some_and(|d| (from..=to).contains(&d))
        }) {
            *rejected
                .entry((record.local_office.clone(), organisation.vpd.clone()))
                .or_default() += 1;
        }
    }
    Ok(state_report(from, to, &applicants, &rejected, filter))
}

/// The exception report: the rejected applications of files dated `from`..=`to` (one read per
/// day, through the business-date index), by local office and message.
///
/// # Errors
/// [`ReportError`] for a range that is empty or too long, or when the store fails.
pub async fn exceptions(
    ctx: &Context<'_>,
    from: NaiveDate,
    to: NaiveDate,
    local_office: Option<&str>,
) -> Result<ExceptionReport, ReportError> {
    check_range(from, to)?;
    let mut rejected = Vec::new();
    for day in from.iter_days().take_while(|d| *d <= to) {
        rejected.extend(
            ctx.store
                .rejected_applications(RejectedLookup::FiledOn(day))
                .await?,
        );
    }
    Ok(exception_report(from, to, &rejected, local_office))
}

//! The trust's worklist (section 11) and the daily **Outstanding actions** notification.
//!
//! Reads, for trust V and business date D: V's applicants with hire dates D - 13 weeks to
//! D + 13 weeks through the hire-date index (`trust_applicants_starting_between`), V's rotation
//! grid (the current holders of DNC/DNF type 1, one read), and for each possible leaver the
//! applicants with its GMC number (one read each): the cost grows with V's starters near D and its
//! leavers, not with the applicants stored. The rules are `dit_domain::worklist::build`.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::ports::StoreError;
use crate::service::context::{Context, ProcessError};
use crate::service::output::put_notification;
use dit_domain::lifecycle::ApplicantState;
use dit_domain::model::Applicant;
use dit_domain::worklist::{build, read_window, OutstandingActions, Worklist, LEAVING_DAYS};

/// The worklist of trust `vpd` for business date `date`.
///
/// # Errors
/// [`StoreError`] from the store.
pub async fn worklist(
    ctx: &Context<'_>,
    vpd: &str,
    date: NaiveDate,
) -> Result<Worklist, StoreError> {
    let (from, to) = read_window(date);
    let applicants = ctx
        .store
        .trust_applicants_starting_between(vpd, from, to)
        .await?;
    let grid = ctx.store.rotation_grid(vpd).await?;
    let leaving_by = date + chrono::Days::new(LEAVING_DAYS);
    let ends_soon = |end: Option<NaiveDate>| end.is_some_and(|e| e >= date && e <= leaving_by);
    let mut candidates: Vec<String> = applicants
        .iter()
        .filter(|a| a.state == ApplicantState::Hired && ends_soon(a.projected_end_date))
        .filter_map(|a| a.gmc_number().map(str::to_string))
        .chain(
            grid.iter()
                .filter(|e| ends_soon(e.current_projected_end_date))
                .map(|e| e.current.gmc_number.clone())
                .filter(|g| !g.is_empty()),
        )
        .collect();
    candidates.sort();
    candidates.dedup();
    let mut by_gmc: HashMap<String, Vec<Applicant>> = HashMap::new();
    for gmc in candidates {
        let found = ctx.store.applicants_by_gmc(&gmc).await?;
        by_gmc.insert(gmc, found);
    }
    let later_of = |gmc: &str, after: NaiveDate| {
        by_gmc.get(gmc).is_some_and(|found| {
            found.iter().any(|a| {
                a.vpd == vpd
                    && !matches!(
                        a.state,
                        ApplicantState::Withdrawn | ApplicantState::Rejected
                    )
                    && a.projected_hire_date > after
            })
        })
    };
    Ok(build(vpd, date, &applicants, &grid, later_of))
}

/// What the daily run did for one trust.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutstandingRun {
    pub vpd: String,
    pub counts: [usize; 6],
    /// The notification written (only when Overdue or Ready to hire is not empty).
    pub written: Option<String>,
}

/// The daily **Outstanding actions** notification (section 11): for every live trust whose
/// worklist for `date` has Overdue or Ready to hire rows, one notification in its inbox (counts
/// only) with its e-mail alert. Rerunning a date rewrites the same objects and sends no second alert
/// where the mailer keeps claims (SES); locally the `.eml` is rewritten with the same bytes.
///
/// # Errors
/// [`ProcessError`] from the store, the blob store or the mailer (a rerun redoes the date).
pub async fn outstanding_actions(
    ctx: &Context<'_>,
    date: NaiveDate,
) -> Result<Vec<OutstandingRun>, ProcessError> {
    let mut runs = Vec::new();
    let mut live: Vec<_> = ctx.organisations.iter().filter(|o| o.live).collect();
    live.sort_by(|a, b| a.vpd.cmp(&b.vpd));
    for organisation in live {
        let vpd = organisation.vpd.clone();
        let list = worklist(ctx, &vpd, date).await?;
        let mut run = OutstandingRun {
            vpd: vpd.clone(),
            counts: list.counts(),
            written: None,
        };
        if list.needs_action() {
            let notification = OutstandingActions::new(&vpd, &organisation.name, &list);
            let base = format!("trusts/{vpd}/notifications/outstanding/{date}.outstanding-actions");
            let made_at = date.and_hms_opt(6, 0, 0).map_or(ctx.now, |t| t.and_utc());
            put_notification(
                ctx,
                &vpd,
                None,
                &base,
                &notification,
                notification.render_html(),
                made_at,
            )
            .await?;
            run.written = Some(base);
        }
        runs.push(run);
    }
    Ok(runs)
}

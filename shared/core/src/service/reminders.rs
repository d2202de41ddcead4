//! The new-starter reminder (section 5): for business date D, every applicant in `loaded`,
//! `offered` or `accepted` whose projected hire date is D + 5 days goes into one
//! "Deanery - Jnr. Doctor Starter(s) (<VPD>)" reminder per live trust.
//!
//! Every starter is reminded once per projected hire date: one loaded, or re-dated by a DNC type
//! 4, after its D + 5 run (hire date D + 1 to D + 4, not yet reminded for it) goes into the next
//! run, marked late. Each reminded applicant keeps a [`Reminded`] mark (hire date, run), stored as
//! a history entry with a conditional write after the reminder is written, so a re-dated starter
//! is reminded again for its new date and a rerun of the same date gives the same reminder.
//!
//! The business date always comes from the caller (the schedule's payload, or `dit remind
//! --date`), never from the clock. A watermark per job makes runs idempotent and lets a run catch
//! up dates that were missed: each date from the watermark's next day to D is reminded once, and
//! the watermark moves past a date only once all of its outputs are written. A run that stops half
//! way is simply run again: the same date gives the same keys and the same bytes.
//!
//! Each date reads only the starters due within 5 days (`applicants_starting_on` for each of the
//! dates D + 1 to D + 5, the hire-date index), their positions in one lookup, and writes one mark
//! per starter reminded, so the cost follows those starters, not the applicants stored.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use tracing::info;

use super::context::{Context, ProcessError};
use super::moves::{change, Decision};
use super::output::{put_json, put_notification};
use crate::ports::{Area, MoveOutcome};
use dit_domain::lifecycle::{ApplicantState, PersonType, Transition};
use dit_domain::model::{Applicant, Cause, HistoryEntry, Reminded};
use dit_domain::notify::{Starter, StarterReminder};
use dit_domain::pos::Position;

/// The watermark's job name (and the file-name fragment of the outputs).
pub const JOB: &str = "new-starter-reminder";
/// Trainees are reminded this many days before their projected hire date.
pub const DAYS_AHEAD: u64 = 5;
/// Who a reminder mark is recorded as, in the applicant's history.
const ACTOR: &str = "new-starter reminder";
/// The history command of a reminder mark.
pub const REMIND_COMMAND: &str = "remind";
/// The states in which an applicant still has to be hired.
pub const REMINDED_STATES: [ApplicantState; 3] = [
    ApplicantState::Loaded,
    ApplicantState::Offered,
    ApplicantState::Accepted,
];

/// What one run did: the dates it reminded (oldest first), none when it was already done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderReport {
    pub job: String,
    pub business_date: NaiveDate,
    /// The last date reminded before this run (`None` on the first run ever).
    pub watermark_before: Option<NaiveDate>,
    /// The last date reminded after this run.
    pub watermark_after: Option<NaiveDate>,
    pub dates: Vec<DateReport>,
}

impl ReminderReport {
    /// Reminders written by this run (one per trust and date).
    pub fn notifications(&self) -> usize {
        self.dates.iter().map(|d| d.trusts.len()).sum()
    }

    /// True when the watermark already covered the business date, so nothing was written.
    pub fn already_done(&self) -> bool {
        self.dates.is_empty()
    }
}

/// One business date reminded. Counts, codes and keys only: no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateReport {
    pub business_date: NaiveDate,
    /// The hire date of the starters reminded on time (business date + 5 days).
    pub hire_date: NaiveDate,
    /// Applicants read with a hire date from the business date + 1 to + 5 days, in any state.
    pub read: usize,
    /// Of those, the ones reminded (in any trust): due on `hire_date`, or late (loaded or
    /// re-dated after their own D + 5 run, not yet reminded for their hire date).
    pub starters: usize,
    /// Of the starters, the late ones.
    #[serde(default)]
    pub late: usize,
    /// Trusts reminded, by VPD.
    pub trusts: Vec<TrustReminded>,
    /// Trusts with starters that were not reminded (not configured, or not live).
    pub not_notified: Vec<TrustSkipped>,
    /// Every key written for this date, `outbound/...`.
    pub outputs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustReminded {
    pub vpd: String,
    pub starters: usize,
    /// Starters reminded late.
    #[serde(default)]
    pub late: usize,
    /// Starters on Host Employer positions, to be hired as Honorary.
    pub honorary: usize,
    pub outputs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustSkipped {
    pub vpd: String,
    pub starters: usize,
    /// `not configured` or `not live`.
    pub reason: String,
}

/// The reminder's keys for a trust and business date (without the area).
pub fn reminder_key(vpd: &str, business_date: NaiveDate, extension: &str) -> String {
    format!("{}.{extension}", reminder_base(vpd, business_date))
}

/// The reminder's key without its extension (`.json` / `.html`).
fn reminder_base(vpd: &str, business_date: NaiveDate) -> String {
    format!("trusts/{vpd}/notifications/new-starters/{business_date}.{JOB}")
}

/// The operator's record of one date: the [`DateReport`] (counts and keys only).
pub fn operator_key(business_date: NaiveDate) -> String {
    format!("operator/schedules/{JOB}/{business_date}.json")
}

/// Reminds every date from the watermark's next day up to `business_date` (only `business_date`
/// on the first run ever), advancing the watermark after each date.
///
/// # Errors
/// Store or blob failures ([`ProcessError::is_transient`] tells whether to retry). The dates
/// finished before the failure stay finished; the failed date is redone by the next run.
pub async fn run(
    ctx: &Context<'_>,
    business_date: NaiveDate,
) -> Result<ReminderReport, ProcessError> {
    let watermark_before = ctx.store.watermark(JOB).await?;
    let first = match watermark_before {
        None => business_date,
        Some(done) => done.succ_opt().unwrap_or(done),
    };
    let mut report = ReminderReport {
        job: JOB.to_string(),
        business_date,
        watermark_before,
        watermark_after: watermark_before,
        dates: Vec::new(),
    };
    if watermark_before.is_some_and(|done| done >= business_date) {
        info!(job = JOB, %business_date, watermark = ?watermark_before, "already reminded; nothing to do");
        return Ok(report);
    }
    if first < business_date {
        info!(job = JOB, from = %first, to = %business_date, "catching up missed dates");
    }
    // Starters reminded by this run: a later date of a catch-up must not name them again, even
    // where the hire-date index has not caught up with their mark yet.
    let mut reminded: HashSet<(String, NaiveDate)> = HashSet::new();
    for date in first.iter_days().take_while(|d| *d <= business_date) {
        let day = remind(ctx, date, &mut reminded).await?;
        ctx.store.advance_watermark(JOB, date).await?;
        report.watermark_after = Some(date);
        report.dates.push(day);
    }
    Ok(report)
}

/// Whether `applicant` (hire date within 5 days of `business_date`) goes into that date's
/// reminder, and whether late: due on D + 5, or not yet reminded for its hire date by another run.
fn to_remind(
    applicant: &Applicant,
    business_date: NaiveDate,
    due: NaiveDate,
    reminded_now: &HashSet<(String, NaiveDate)>,
) -> Option<bool> {
    let hire = applicant.projected_hire_date;
    if !REMINDED_STATES.contains(&applicant.state) || hire <= business_date || hire > due {
        return None;
    }
    if hire == due {
        return Some(false);
    }
    let reminded_before = applicant
        .reminded
        .is_some_and(|r| r.hire_date == hire && r.business_date != business_date)
        || reminded_now.contains(&(applicant.applicant_number.clone(), hire));
    (!reminded_before).then_some(true)
}

/// Writes the reminders of one business date (idempotent: same date, same keys and bytes), then
/// marks every starter reminded.
async fn remind(
    ctx: &Context<'_>,
    business_date: NaiveDate,
    reminded_now: &mut HashSet<(String, NaiveDate)>,
) -> Result<DateReport, ProcessError> {
    let hire_date = business_date
        .checked_add_days(Days::new(DAYS_AHEAD))
        .unwrap_or(business_date);
    let mut read = Vec::new();
    for offset in 1..=DAYS_AHEAD {
        if let Some(hire) = business_date.checked_add_days(Days::new(offset)) {
            read.extend(ctx.store.applicants_starting_on(hire).await?);
        }
    }
    let mut day = DateReport {
        business_date,
        hire_date,
        read: read.len(),
        starters: 0,
        late: 0,
        trusts: Vec::new(),
        not_notified: Vec::new(),
        outputs: Vec::new(),
    };
    // The store's index gives the applicants by hire date; the dates are checked again all the same.
    let mut by_trust: BTreeMap<String, Vec<(Applicant, bool)>> = BTreeMap::new();
    for applicant in read {
        if let Some(late) = to_remind(&applicant, business_date, hire_date, reminded_now) {
            day.starters += 1;
            day.late += usize::from(late);
            by_trust
                .entry(applicant.vpd.clone())
                .or_default()
                .push((applicant, late));
        }
    }
    let mut live = BTreeMap::new();
    for (vpd, starters) in by_trust {
        match ctx.organisations.live(&vpd) {
            Some(organisation) => {
                live.insert(vpd, (organisation.name.clone(), starters));
            }
            None => day.not_notified.push(TrustSkipped {
                reason: if ctx.organisations.get(&vpd).is_some() {
                    "not live"
                } else {
                    "not configured"
                }
                .to_string(),
                vpd,
                starters: starters.len(),
            }),
        }
    }

    // One lookup for every reminded starter's position: Host Employer positions hire Honorary.
    let ids: Vec<String> = live
        .values()
        .flat_map(|(_, starters)| starters.iter().map(|(a, _)| a.position_id.clone()))
        .filter(|id| !id.is_empty())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let positions = if ids.is_empty() {
        Default::default()
    } else {
        ctx.store.positions(&ids).await?
    };

    let mut to_mark: Vec<(Applicant, bool)> = Vec::new();
    for (vpd, (name, applicants)) in live {
        let mut reminder = StarterReminder::new(&vpd, &name, business_date, hire_date);
        reminder.starters = applicants
            .iter()
            .map(|(a, late)| Starter {
                position_number: a.position_number.clone(),
                last_name: a.details.last_name.clone(),
                first_name: a.details.first_name.clone(),
                gmc_number: a.gmc_number().unwrap_or_default().to_string(),
                projected_hire_date: a.projected_hire_date,
                hire_as: positions
                    .get(&a.position_id)
                    .map_or(PersonType::Employee, Position::hire_as),
                applicant_number: a.applicant_number.clone(),
                late: *late,
                internal_move: a.internal_mover,
            })
            .collect();
        // Stores return starters in different orders; the reminder's order must not depend on it.
        reminder.starters.sort_by(|a, b| {
            (
                a.projected_hire_date,
                &a.position_number,
                &a.last_name,
                &a.first_name,
                a.applicant_number.len(),
                &a.applicant_number,
            )
                .cmp(&(
                    b.projected_hire_date,
                    &b.position_number,
                    &b.last_name,
                    &b.first_name,
                    b.applicant_number.len(),
                    &b.applicant_number,
                ))
        });
        let html = reminder.render_html();
        // The reminder is made for its business date: a rerun for that date composes the same alert.
        let made_at = business_date.and_time(chrono::NaiveTime::MIN).and_utc();
        let base = reminder_base(&vpd, business_date);
        let outputs = put_notification(ctx, &vpd, None, &base, &reminder, html, made_at).await?;
        day.outputs.extend(outputs.iter().cloned());
        let honorary = reminder
            .starters
            .iter()
            .filter(|s| s.hire_as == PersonType::Honorary)
            .count();
        let late = reminder.starters.iter().filter(|s| s.late).count();
        info!(job = JOB, %business_date, %hire_date, vpd = %vpd, starters = reminder.starters.len(), late, honorary, "trust reminded");
        day.trusts.push(TrustReminded {
            vpd,
            starters: reminder.starters.len(),
            late,
            honorary,
            outputs: outputs.to_vec(),
        });
        to_mark.extend(applicants);
    }
    // Marked once the reminders are written: a run that stops before is redone with the same
    // starters; a mark of this same date does not make a late starter "already reminded".
    for (applicant, late) in &to_mark {
        let mark = Reminded {
            hire_date: applicant.projected_hire_date,
            business_date,
            late: *late,
        };
        mark_reminded(ctx, applicant, mark).await?;
        reminded_now.insert((applicant.applicant_number.clone(), mark.hire_date));
    }
    for skipped in &day.not_notified {
        info!(job = JOB, %business_date, vpd = %skipped.vpd, starters = skipped.starters, reason = %skipped.reason, "trust not reminded");
    }
    let operator = operator_key(business_date);
    day.outputs.push(format!("outbound/{operator}"));
    put_json(ctx.blobs, Area::Outbound, &operator, &day).await?;
    info!(job = JOB, %business_date, %hire_date, read = day.read, starters = day.starters, late = day.late, trusts = day.trusts.len(), "date reminded");
    Ok(day)
}

/// Records on the applicant that it was reminded (a history entry, conditional on its version):
/// first on the applicant as the index returned it, without reading it again; if it changed
/// since, decided again on the stored one (a starter re-dated or moved meanwhile is not marked).
async fn mark_reminded(
    ctx: &Context<'_>,
    applicant: &Applicant,
    mark: Reminded,
) -> Result<(), ProcessError> {
    if applicant.reminded == Some(mark) {
        return Ok(());
    }
    let cause = Cause::Schedule {
        run: format!("{JOB} {}", mark.business_date),
    };
    let detail = format!(
        "reminded for projected hire date {}{}",
        mark.hire_date,
        if mark.late { " (late)" } else { "" }
    );
    let mut marked = applicant.clone();
    marked.reminded = Some(mark);
    marked.version = applicant.version + 1;
    marked.updated_at = ctx.now;
    let mut entry = HistoryEntry::from_transition(
        marked.version,
        ctx.now,
        REMIND_COMMAND,
        Transition::Unchanged(applicant.state),
        cause.clone(),
        ACTOR,
    );
    entry.detail = Some(detail.clone());
    if ctx
        .store
        .record_move(applicant.version, &marked, &entry)
        .await?
        == MoveOutcome::Stored
    {
        return Ok(());
    }
    change(
        ctx.store,
        &applicant.applicant_number,
        ctx.now,
        &cause,
        ACTOR,
        |current, _| {
            if current.reminded == Some(mark)
                || current.projected_hire_date != mark.hire_date
                || !REMINDED_STATES.contains(&current.state)
            {
                return Decision::NoChange;
            }
            let mut updated = current.clone();
            updated.reminded = Some(mark);
            Decision::Apply {
                updated,
                command: REMIND_COMMAND.to_string(),
                transition: Transition::Unchanged(current.state),
                detail: Some(detail.clone()),
            }
        },
    )
    .await?;
    Ok(())
}

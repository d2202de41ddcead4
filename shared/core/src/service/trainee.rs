//! The trainee's own view (section 13): a doctor in training, known by their GMC number, reads the
//! placements held under that number and reports a problem with one of them.
//!
//! Reads are the store's GMC index (`applicants_by_gmc`: SQLite's index, DynamoDB's GSI2, one
//! Query), so applicants past their retention are not there, as everywhere else. An applicant of
//! another GMC number is answered as a missing one. A problem report becomes a
//! [`TraineeDataQuery`] in the trust's inbox, written once per key
//! ([`put_notification_once`]) with the trust's one e-mail alert; see
//! [`dit_domain::trainee_query`] for what makes two reports the same one.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::ports::StoreError;
use crate::service::context::{Context, ProcessError};
use crate::service::output::put_notification_once;
use dit_domain::model::Applicant;
use dit_domain::trainee_query::{self, TraineeDataQuery, BODY, TRAINEE_DATA_QUERY};

/// One placement as the trainee sees it: the applicant and what its position and grid add.
#[derive(Debug, Clone)]
pub struct Placement {
    pub applicant: Applicant,
    pub position_name: String,
    pub site: String,
    /// From the trust's rotation grid (DNC), when it names the position; else empty.
    pub specialty: String,
}

/// The placements held under GMC number `gmc`, hire date first: one Query of the GMC index,
/// then one read of the positions and one of each trust's rotation grid.
///
/// # Errors
/// [`StoreError`] from the store.
pub async fn placements(ctx: &Context<'_>, gmc: &str) -> Result<Vec<Placement>, StoreError> {
    let mut found: Vec<Applicant> = ctx
        .store
        .applicants_by_gmc(gmc)
        .await?
        .into_iter()
        // The index is the store's; the rule (exactly this number) is checked here too.
        .filter(|a| a.gmc_number() == Some(gmc))
        .collect();
    found.sort_by(|a, b| {
        (a.projected_hire_date, &a.applicant_number)
            .cmp(&(b.projected_hire_date, &b.applicant_number))
    });
    described(ctx, found).await
}

/// Applicant `number` when it holds GMC number `gmc` (and is live), as [`placements`] describes
/// it; `None` otherwise.
///
/// # Errors
/// [`StoreError`] from the store.
pub async fn placement(
    ctx: &Context<'_>,
    gmc: &str,
    number: &str,
) -> Result<Option<Placement>, StoreError> {
    let Some(applicant) = own_applicant(ctx, gmc, number).await? else {
        return Ok(None);
    };
    Ok(described(ctx, vec![applicant]).await?.into_iter().next())
}

async fn own_applicant(
    ctx: &Context<'_>,
    gmc: &str,
    number: &str,
) -> Result<Option<Applicant>, StoreError> {
    Ok(ctx
        .store
        .applicant(number)
        .await?
        .filter(|a| a.gmc_number() == Some(gmc)))
}

/// The applicants with their positions' names and sites and the specialty their trust's rotation
/// grid gives the position.
async fn described(
    ctx: &Context<'_>,
    applicants: Vec<Applicant>,
) -> Result<Vec<Placement>, StoreError> {
    let mut ids: Vec<String> = applicants.iter().map(|a| a.position_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let positions = ctx.store.positions(&ids).await?;
    let mut specialties: HashMap<(String, String), String> = HashMap::new();
    let mut trusts: Vec<&str> = applicants.iter().map(|a| a.vpd.as_str()).collect();
    trusts.sort_unstable();
    trusts.dedup();
    for vpd in trusts {
        for entry in ctx.store.rotation_grid(vpd).await? {
            if !entry.specialty.is_empty() {
                specialties
                    .entry((vpd.to_string(), entry.position_id))
                    .or_insert(entry.specialty);
            }
        }
    }
    Ok(applicants
        .into_iter()
        .map(|applicant| {
            let position = positions.get(&applicant.position_id);
            Placement {
                position_name: position
                    .map(|p| p.position_name.clone())
                    .unwrap_or_default(),
                site: position.map(|p| p.site.clone()).unwrap_or_default(),
                specialty: specialties
                    .get(&(applicant.vpd.clone(), applicant.position_id.clone()))
                    .cloned()
                    .unwrap_or_default(),
                applicant,
            }
        })
        .collect())
}

/// What became of a problem report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    /// The notification's key (without `.json`).
    pub key: String,
    /// `false` when the same report was already there (sent twice): nothing new was written.
    pub new: bool,
}

/// Why a problem report was not taken.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// No such applicant, or not this trainee's: the same answer either way.
    #[error("not found")]
    NotFound,
    /// The text is not a query the trust can take (what the trainee is told).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Process(#[from] ProcessError),
}

impl From<StoreError> for ReportError {
    fn from(err: StoreError) -> Self {
        ReportError::Process(err.into())
    }
}

/// The trainee with GMC number `gmc` reports `text` about applicant `number`, on the form issued
/// on `day`: a **Trainee data query** in the applicant's trust's inbox and its alert, once.
///
/// # Errors
/// [`ReportError::NotFound`] for an applicant not theirs, [`ReportError::Invalid`] for text the
/// domain refuses (nothing written), [`ReportError::Process`] when a write or the alert failed
/// (posting again completes it).
pub async fn report_problem(
    ctx: &Context<'_>,
    gmc: &str,
    number: &str,
    text: &str,
    day: NaiveDate,
) -> Result<Reported, ReportError> {
    let applicant = own_applicant(ctx, gmc, number)
        .await?
        .ok_or(ReportError::NotFound)?;
    let text = trainee_query::checked_text(text).map_err(ReportError::Invalid)?;
    let vpd = applicant.vpd.as_str();
    let trust_name = ctx
        .organisations
        .get(vpd)
        .map(|o| o.name.clone())
        .unwrap_or_default();
    let query = TraineeDataQuery {
        title: TRAINEE_DATA_QUERY.to_string(),
        trust_id: vpd.to_string(),
        trust_name,
        date_of_notification: day,
        applicant_number: applicant.applicant_number.clone(),
        position_number: applicant.position_number.clone(),
        projected_hire_date: applicant.projected_hire_date,
        query: text.clone(),
        body: BODY.to_string(),
    };
    let key = trainee_query::key(vpd, &applicant.applicant_number, day, &text);
    // The alert's date is the query's day, not the moment: a second post composes the same mail.
    let made_at = day.and_time(chrono::NaiveTime::MIN).and_utc();
    let new = put_notification_once(
        ctx,
        vpd,
        Some(&applicant.local_office),
        &key,
        &query,
        query.render_html(),
        made_at,
    )
    .await?;
    tracing::info!(
        vpd,
        applicant = %applicant.applicant_number,
        new,
        "trainee data query"
    );
    Ok(Reported { key, new })
}

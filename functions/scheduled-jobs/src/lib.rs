//! The scheduled-jobs Lambda handler: EventBridge Scheduler invokes it with a small JSON payload
//! naming the job and the time the run was scheduled for:
//!
//! ```json
//! {"job": "new-starter-reminder", "scheduled_time": "<aws.scheduler.scheduled-time>"}
//! ```
//!
//! The business date is the date part of `scheduled_time` as written (Scheduler writes UTC, e.g.
//! `2027-01-29T06:00:00Z`). The schedules run between 06:00 and 23:00 UK time (06:00 Europe/London
//! is 06:00 or 05:00 UTC; the sequence check's 23:00 is 23:00 or 22:00 UTC), so the UTC date is
//! the UK date. A manual run may give
//! `"business_date": "YYYY-MM-DD"` instead; it wins over `scheduled_time`.
//!
//! Scheduler invokes Lambda asynchronously: an error returned here is retried by Lambda's
//! asynchronous retries and then lands in the dead-letter queue. So only transient store or
//! bucket failures return an error; a payload that cannot be run (malformed, unknown job) and a
//! failure retrying cannot fix are logged and answered with `Ok` and the reason.
//!
//! A plain async function over the ports, so tests call it with SQLite and folders or with
//! DynamoDB and S3 on moto; `main.rs` only builds the real adapters once and starts the runtime.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use dit_core::service::context::{Ports, ProcessError};
use dit_core::service::export::{export_to_tis, ExportKind, ExportReport};
use dit_core::service::reminders::{self, ReminderReport};
use dit_core::service::sequence_check::{self, SequenceCheckRun};
use dit_core::service::worklist::{outstanding_actions, OutstandingRun};
use dit_domain::envelope::LOCAL_OFFICES;
use lambda_runtime::{Error, LambdaEvent};
use serde::Serialize;
use serde_json::{Map, Value};
use tracing::{error, info, warn};

/// The jobs this function runs. A job with parameters of its own (a local office, say) carries
/// them in its variant and reads them from the payload in [`Job::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// The daily new-starter reminder (spec section 5).
    NewStarterReminder,
    /// The RMC to TIS (or, with `"full": true`, the RMF), for one local office (`"local_office"`)
    /// or every office with a live trust.
    TisExport {
        local_office: Option<String>,
        full: bool,
    },
    /// The daily TIS file sequence check (spec 2.3): per file type, the numbers missing over the
    /// 30 days up to the business date.
    SequenceCheck,
    /// The daily Outstanding actions notification (spec section 11): each live trust whose
    /// worklist has Overdue or Ready to hire rows gets the counts in its inbox and one alert.
    OutstandingActions,
}

/// The name of the Outstanding actions job in payloads.
pub const OUTSTANDING_ACTIONS: &str = "outstanding-actions";

/// The name of the export job in payloads.
pub const TIS_EXPORT: &str = "tis-export";

impl Job {
    /// Every job's name, as the payload's `job` gives it.
    pub const NAMES: [&'static str; 4] = [
        reminders::JOB,
        TIS_EXPORT,
        sequence_check::JOB,
        OUTSTANDING_ACTIONS,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Job::NewStarterReminder => reminders::JOB,
            Job::TisExport { .. } => TIS_EXPORT,
            Job::SequenceCheck => sequence_check::JOB,
            Job::OutstandingActions => OUTSTANDING_ACTIONS,
        }
    }

    /// The job named `name` (any case, `_` or `-`), with its parameters from `payload`.
    ///
    /// # Errors
    /// An unknown job, or a job parameter that is missing or malformed.
    pub fn parse(name: &str, payload: &Map<String, Value>) -> Result<Job, PayloadError> {
        match name.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            reminders::JOB => Ok(Job::NewStarterReminder),
            sequence_check::JOB => Ok(Job::SequenceCheck),
            OUTSTANDING_ACTIONS => Ok(Job::OutstandingActions),
            TIS_EXPORT => {
                let local_office = match payload.get("local_office") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(lo)) if LOCAL_OFFICES.contains(&lo.trim()) => {
                        Some(lo.trim().to_string())
                    }
                    Some(other) => {
                        return Err(PayloadError::BadParameter(format!(
                            "local_office {other} is not a local office code"
                        )))
                    }
                };
                let full = match payload.get("full") {
                    None | Some(Value::Null) => false,
                    Some(Value::Bool(full)) => *full,
                    Some(other) => {
                        return Err(PayloadError::BadParameter(format!(
                            "full {other} is not true or false"
                        )))
                    }
                };
                Ok(Job::TisExport { local_office, full })
            }
            _ => Err(PayloadError::UnknownJob(name.to_string())),
        }
    }
}

/// One run asked for: the job and its business date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub job: Job,
    pub business_date: NaiveDate,
    /// The time the run was scheduled for, when the payload gives one (stamped on files written).
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Scheduler's id of this attempt (`<aws.scheduler.execution-id>`), for the logs.
    pub execution_id: Option<String>,
}

/// Why a payload cannot be run. Never retried: the same payload would fail the same way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("the payload is not a JSON object")]
    NotAnObject,
    #[error("the payload names no job (field \"job\")")]
    NoJob,
    #[error("unknown job {0:?} (known: {known})", known = Job::NAMES.join(", "))]
    UnknownJob(String),
    #[error("{0}")]
    BadParameter(String),
    #[error("the payload has neither \"scheduled_time\" nor \"business_date\"")]
    NoDate,
    #[error("{field} {value:?} is neither a date (YYYY-MM-DD) nor an ISO 8601 time")]
    BadDate { field: String, value: String },
}

/// Reads a payload tolerantly: unknown fields are ignored; the job may be given as `job` or inside
/// `detail` (an EventBridge rule's event); the time as `scheduled_time`, `scheduledTime` or `time`;
/// a payload sent as a JSON string holding the object is unwrapped.
///
/// # Errors
/// [`PayloadError`] naming what is missing or malformed.
pub fn parse(payload: &Value) -> Result<Invocation, PayloadError> {
    let unwrapped;
    let payload = match payload {
        Value::String(text) => {
            unwrapped =
                serde_json::from_str::<Value>(text).map_err(|_| PayloadError::NotAnObject)?;
            &unwrapped
        }
        other => other,
    };
    let object = payload.as_object().ok_or(PayloadError::NotAnObject)?;
    let text = |o: &Map<String, Value>, field: &str| {
        o.get(field)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let detail = object.get("detail").and_then(Value::as_object);
    let name = text(object, "job")
        .or_else(|| detail.and_then(|d| text(d, "job")))
        .ok_or(PayloadError::NoJob)?;
    let job = Job::parse(&name, object)?;
    let (field, value) = ["business_date", "scheduled_time", "scheduledTime", "time"]
        .into_iter()
        .find_map(|field| text(object, field).map(|value| (field, value)))
        .ok_or(PayloadError::NoDate)?;
    let business_date = date_part(&value).ok_or_else(|| PayloadError::BadDate {
        field: field.to_string(),
        value: value.clone(),
    })?;
    let scheduled_at = ["scheduled_time", "scheduledTime", "time"]
        .into_iter()
        .find_map(|field| text(object, field))
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc));
    Ok(Invocation {
        job,
        business_date,
        scheduled_at,
        execution_id: text(object, "execution_id"),
    })
}

/// The date of `2027-01-29`, `2027-01-29T06:00:00Z`, `2027-01-29T06:00:00+01:00` or
/// `2027-01-29T06:00:00`: the date as written, whatever the offset.
fn date_part(value: &str) -> Option<NaiveDate> {
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Some(date);
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(value) {
        return Some(time.date_naive());
    }
    NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.date())
}

/// The report of a job that ran.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum JobReport {
    NewStarterReminder(ReminderReport),
    TisExport(Vec<ExportReport>),
    SequenceCheck(SequenceCheckRun),
    OutstandingActions(Vec<OutstandingRun>),
}

/// The handler's answer (also shown by `cargo lambda invoke`; Scheduler discards it).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum JobResponse {
    Done {
        job: String,
        business_date: NaiveDate,
        report: JobReport,
    },
    /// The payload cannot be run; not retried.
    Rejected { reason: String },
    /// A failure that retrying cannot fix (unreadable stored data); not retried, logged as an error.
    Failed {
        job: String,
        business_date: NaiveDate,
        error: String,
    },
}

/// Runs one scheduled invocation.
///
/// # Errors
/// Only transient store or bucket failures, so that Lambda's retries (then the dead-letter queue)
/// take over; every step is idempotent, so a retry redoes nothing twice.
pub async fn handle(ports: &Ports, event: LambdaEvent<Value>) -> Result<JobResponse, Error> {
    let invocation = match parse(&event.payload) {
        Ok(invocation) => invocation,
        Err(reason) => {
            // Log the reason only: the payload is ours, but a wrong target could send anything.
            error!(error = %reason, "payload rejected; not retried");
            return Ok(JobResponse::Rejected {
                reason: reason.to_string(),
            });
        }
    };
    let job = invocation.job.name();
    let business_date = invocation.business_date;
    info!(
        job,
        %business_date,
        execution_id = invocation.execution_id.as_deref().unwrap_or(""),
        "job started"
    );
    match run(ports, &invocation).await {
        Ok(report) => {
            log_report(&report);
            Ok(JobResponse::Done {
                job: job.to_string(),
                business_date,
                report,
            })
        }
        Err(err) if err.is_transient() => {
            warn!(job, %business_date, error = %err, "transient failure; the invocation will be retried");
            Err(err.into())
        }
        Err(err) => {
            error!(job, %business_date, error = %err, "job failed; retrying cannot help, so not retried");
            Ok(JobResponse::Failed {
                job: job.to_string(),
                business_date,
                error: err.to_string(),
            })
        }
    }
}

/// Runs the job of `invocation` on the ports.
///
/// # Errors
/// The job's store or bucket failure.
pub async fn run(ports: &Ports, invocation: &Invocation) -> Result<JobReport, ProcessError> {
    // Not a business date: jobs take theirs from the invocation.
    let ctx = ports.context(Utc::now());
    match &invocation.job {
        Job::NewStarterReminder => reminders::run(&ctx, invocation.business_date)
            .await
            .map(JobReport::NewStarterReminder),
        Job::SequenceCheck => sequence_check::run(&ctx, invocation.business_date)
            .await
            .map(JobReport::SequenceCheck),
        Job::OutstandingActions => outstanding_actions(&ctx, invocation.business_date)
            .await
            .map(JobReport::OutstandingActions),
        Job::TisExport { local_office, full } => {
            let kind = if *full {
                ExportKind::Full
            } else {
                ExportKind::Changes
            };
            export_to_tis(
                &ctx,
                invocation.business_date,
                invocation.scheduled_at,
                local_office.as_deref(),
                kind,
            )
            .await
            .map(JobReport::TisExport)
            .map_err(|failure| failure.error)
        }
    }
}

fn log_report(report: &JobReport) {
    match report {
        JobReport::NewStarterReminder(r) => info!(
            job = %r.job,
            business_date = %r.business_date,
            watermark_before = ?r.watermark_before,
            watermark_after = ?r.watermark_after,
            dates = r.dates.len(),
            starters = r.dates.iter().map(|d| d.starters).sum::<usize>(),
            notifications = r.notifications(),
            "job done"
        ),
        JobReport::SequenceCheck(run) => info!(
            job = sequence_check::JOB,
            business_date = %run.check.business_date,
            missing = run.check.missing_count,
            file_types = run.check.file_types.len(),
            "job done"
        ),
        JobReport::OutstandingActions(runs) => info!(
            trusts = runs.len(),
            written = runs.iter().filter(|r| r.written.is_some()).count(),
            "outstanding actions done"
        ),
        JobReport::TisExport(reports) => {
            for r in reports {
                info!(
                    job = TIS_EXPORT,
                    local_office = %r.local_office,
                    business_date = %r.business_date,
                    file = r.file.as_deref().unwrap_or(""),
                    changed = r.changed,
                    deleted = r.deleted,
                    person_updates = r.person_updates,
                    "job done"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_business_date_is_the_date_part_of_the_scheduled_time() {
        let invocation = parse(&json!({
            "job": "new-starter-reminder",
            "scheduled_time": "2027-01-29T06:00:00Z",
            "execution_id": "d32c5kddcf5bb8c3",
            "extra": [1, 2]
        }))
        .unwrap();
        assert_eq!(invocation.job, Job::NewStarterReminder);
        assert_eq!(invocation.business_date, date("2027-01-29"));
        assert_eq!(invocation.execution_id.as_deref(), Some("d32c5kddcf5bb8c3"));
        // Summer: 06:00 in London is 05:00 UTC, the same day.
        let summer = parse(
            &json!({"job": "new-starter-reminder", "scheduled_time": "2027-07-01T05:00:00Z"}),
        );
        assert_eq!(summer.unwrap().business_date, date("2027-07-01"));
        let offset = parse(
            &json!({"job": "NEW_STARTER_REMINDER", "scheduledTime": "2027-07-01T06:00:00+01:00"}),
        );
        assert_eq!(offset.unwrap().business_date, date("2027-07-01"));
    }

    #[test]
    fn a_business_date_wins_and_other_shapes_are_read() {
        let manual = parse(&json!({
            "job": "new-starter-reminder",
            "scheduled_time": "2027-01-29T06:00:00Z",
            "business_date": "2027-01-20"
        }));
        assert_eq!(manual.unwrap().business_date, date("2027-01-20"));
        let rule = parse(&json!({
            "detail-type": "Scheduled Event",
            "time": "2027-01-29T06:00:00Z",
            "detail": {"job": "new-starter-reminder"}
        }));
        assert_eq!(rule.unwrap().business_date, date("2027-01-29"));
        let string = parse(&json!(
            "{\"job\": \"new-starter-reminder\", \"scheduled_time\": \"2027-01-29T06:00:00.000Z\"}"
        ));
        assert_eq!(string.unwrap().business_date, date("2027-01-29"));
    }

    #[test]
    fn the_sequence_check_is_a_job() {
        let invocation = parse(&json!({
            "job": "sequence-check",
            "scheduled_time": "2026-11-21T23:00:00Z"
        }))
        .unwrap();
        assert_eq!(invocation.job, Job::SequenceCheck);
        assert_eq!(invocation.business_date, date("2026-11-21"));
        // Summer: 23:00 in London is 22:00 UTC, the same day.
        let summer =
            parse(&json!({"job": "Sequence_Check", "scheduled_time": "2027-07-01T22:00:00Z"}));
        assert_eq!(summer.unwrap().business_date, date("2027-07-01"));
    }

    #[test]
    fn malformed_payloads_are_named() {
        assert_eq!(parse(&json!([1])), Err(PayloadError::NotAnObject));
        assert_eq!(parse(&json!("not json")), Err(PayloadError::NotAnObject));
        assert_eq!(
            parse(&json!({"scheduled_time": "2027-01-29T06:00:00Z"})),
            Err(PayloadError::NoJob)
        );
        let unknown = parse(&json!({"job": "tea", "scheduled_time": "2027-01-29T06:00:00Z"}));
        assert_eq!(unknown, Err(PayloadError::UnknownJob("tea".into())));
        assert!(unknown
            .unwrap_err()
            .to_string()
            .contains("new-starter-reminder"));
        assert_eq!(
            parse(&json!({"job": "new-starter-reminder"})),
            Err(PayloadError::NoDate)
        );
        assert!(matches!(
            parse(
                &json!({"job": "new-starter-reminder", "scheduled_time": "<aws.scheduler.scheduled-time>"})
            ),
            Err(PayloadError::BadDate { .. })
        ));
        assert!(matches!(
            parse(&json!({"job": "new-starter-reminder", "scheduled_time": "2027-02-30"})),
            Err(PayloadError::BadDate { .. })
        ));
    }
}

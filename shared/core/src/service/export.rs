//! RMC / RMF to TIS (2.9): per local office, the positions TIS should know (usable positions of the
//! office's live trusts) compared with what TIS was last sent, and, in Full Records mode, the person
//! updates of hired lead-employer trainees.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ports::{Area, Counter};
use crate::service::context::{Context, ProcessError};
use dit_domain::app::PERSON_FIELDS;
use dit_domain::envelope::{FileType, LineReader, OutboundFile};
use dit_domain::model::{FileClaim, FileStatus, PersonUpdate, PersonUpdateStatus, ProcessedFile};
use dit_domain::org::InterfaceMode;
use dit_domain::pos::Position;

/// The PER fields of 2.9, in order, after the record code (the person fields are
/// [`PERSON_FIELDS`], in the same order).
pub const PER_FIELDS: [&str; 18] = [
    "gmc_number",
    "national_insurance_number",
    "last_name",
    "first_name",
    "title",
    "gender",
    "date_of_birth",
    "home_tel",
    "mobile_tel",
    "email_address",
    "ethnic_origin",
    "address_line_1",
    "address_line_2",
    "address_line_3",
    "town",
    "postcode",
    "country",
    "effective_date",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportReport {
    pub local_office: String,
    pub business_date: NaiveDate,
    /// `None` when nothing was new (or the date was already exported).
    pub file: Option<String>,
    pub changed: usize,
    pub deleted: usize,
    pub person_updates: usize,
    pub message: String,
}

/// Which file an export writes for each office.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// The RMC: what changed since the office's last export.
    Changes,
    /// The RMF: every usable position, after which TIS's view is exactly that.
    Full,
}

/// The export that stopped at an office: the offices exported before it, and its error.
#[derive(Debug, thiserror::Error)]
#[error("{local_office}: {error}")]
pub struct ExportFailure {
    pub exported: Vec<ExportReport>,
    pub local_office: String,
    #[source]
    pub error: ProcessError,
}

/// The export to TIS of one business date, as the `tis-export` schedule and `dit export` run it:
/// one file of `kind` for every local office with a live trust (or only `only_office`), in office
/// order. The files are stamped with `scheduled_at` (the schedule's time) or else the business
/// date's midnight, never the clock, so the same inputs give the same bytes on every run.
///
/// An empty result means no live trust is managed by the office(s) asked for.
///
/// # Errors
/// The first office's store or blob failure, with the offices exported before it (a rerun gives
/// the same files).
pub async fn export_to_tis(
    ctx: &Context<'_>,
    business_date: NaiveDate,
    scheduled_at: Option<DateTime<Utc>>,
    only_office: Option<&str>,
    kind: ExportKind,
) -> Result<Vec<ExportReport>, ExportFailure> {
    let stamped = Context {
        now: scheduled_at.unwrap_or_else(|| business_date.and_time(NaiveTime::MIN).and_utc()),
        ..*ctx
    };
    let offices: BTreeSet<&str> = ctx
        .organisations
        .iter()
        .filter(|o| o.live)
        .map(|o| o.local_office.as_str())
        .filter(|office| only_office.is_none_or(|wanted| wanted == *office))
        .collect();
    let mut exported = Vec::new();
    for office in offices {
        let report = match kind {
            ExportKind::Changes => export_changes(&stamped, office, business_date).await,
            ExportKind::Full => export_full(&stamped, office, business_date).await,
        };
        match report {
            Ok(report) => exported.push(report),
            Err(error) => {
                return Err(ExportFailure {
                    exported,
                    local_office: office.to_string(),
                    error,
                })
            }
        }
    }
    Ok(exported)
}

/// The POR fields (after POSITION_ID and CHANGE_DELETE) TIS should hold for a position, or `None`
/// when the position should not be on TIS (removed, inactive, or DPN not usable).
fn por_fields(position: &Position) -> Option<Vec<String>> {
    position.is_usable().then(|| {
        vec![
            position.position_number.clone(),
            position.position_name.clone(),
            position.dpn.clone(),
            position.managing_deanery_body.clone(),
            position
                .host_lead
                .map(|h| h.label().to_string())
                .unwrap_or_default(),
            position.ods_code.clone(),
            position.vpd.clone(),
            position.organisation.clone(),
            position.site.clone(),
        ]
    })
}

fn por_line(id: &str, change: &str, fields: &[String]) -> Vec<String> {
    let mut line = vec!["POR".to_string(), id.to_string(), change.to_string()];
    line.extend(fields.iter().cloned());
    line
}

/// Every position of the office's live trusts, by id.
async fn office_positions(
    ctx: &Context<'_>,
    local_office: &str,
) -> Result<BTreeMap<String, Position>, ProcessError> {
    let mut positions = BTreeMap::new();
    for org in ctx
        .organisations
        .iter()
        .filter(|o| o.local_office == local_office && o.live)
    {
        for position in ctx.store.trust_positions(&org.vpd).await? {
            positions.insert(position.position_id.clone(), position);
        }
    }
    Ok(positions)
}

/// The RMC for one office and business date: only what changed since the last export.
///
/// # Errors
/// Only store and blob failures (worth retrying: a rerun gives the same file).
pub async fn export_changes(
    ctx: &Context<'_>,
    local_office: &str,
    date: NaiveDate,
) -> Result<ExportReport, ProcessError> {
    let job = format!("rmc#{local_office}");
    let mut report = ExportReport {
        local_office: local_office.to_string(),
        business_date: date,
        file: None,
        changed: 0,
        deleted: 0,
        person_updates: 0,
        message: String::new(),
    };
    if ctx
        .store
        .watermark(&job)
        .await?
        .is_some_and(|done| done >= date)
    {
        report.message = format!(
            "the RMC for {local_office} on {date} was already exported; nothing new is sent twice"
        );
        return Ok(report);
    }
    let positions = office_positions(ctx, local_office).await?;
    let sent = ctx.store.tis_positions(local_office).await?;
    let mut lines: Vec<Vec<String>> = Vec::new();
    let mut now_sent: Vec<(String, Option<Vec<String>>)> = Vec::new();
    let mut ids: Vec<&String> = positions.keys().chain(sent.keys()).collect();
    ids.sort();
    ids.dedup();
    for id in ids {
        let wanted = positions.get(id).and_then(por_fields);
        let last = sent.get(id);
        match (wanted, last) {
            (Some(fields), last) if last != Some(&fields) => {
                lines.push(por_line(id, "C", &fields));
                report.changed += 1;
                now_sent.push((id.clone(), Some(fields)));
            }
            (None, Some(last)) => {
                lines.push(por_line(id, "D", last));
                report.deleted += 1;
                now_sent.push((id.clone(), None));
            }
            _ => {}
        }
    }
    let updates = pending_person_updates(ctx, local_office).await?;
    lines.extend(updates.iter().map(|(_, line)| line.clone()));
    report.person_updates = updates.len();
    if lines.is_empty() {
        ctx.store.advance_watermark(&job, date).await?;
        report.message =
            format!("nothing new for {local_office} since the last export; no file written");
        return Ok(report);
    }

    // The SEQ is reserved for this office and date once, so an export interrupted anywhere (even
    // between taking its SEQ and claiming) writes under the same name when it runs again.
    let identity = format!("{local_office}#RMC-EXPORT#{}", date.format("%Y%m%d"));
    let candidate = ctx
        .store
        .reserve_numbers(
            Counter::Sequence(&format!("RMC#{local_office}")),
            &identity,
            1,
        )
        .await?
        .start;
    // The claim keeps which person updates go into the file, for a rerun (see `resume`).
    let plan: Vec<(String, String)> = updates
        .iter()
        .map(|(u, _)| (u.applicant_number.clone(), u.message_id.clone()))
        .collect();
    let claim = ctx
        .store
        .claim_file(&ProcessedFile {
            identity: identity.clone(),
            source: local_office.to_string(),
            file_type: "RMC-EXPORT".to_string(),
            seq: candidate,
            name: String::new(),
            sha256: String::new(),
            business_date: date,
            status: FileStatus::InProgress,
            claimed_at: ctx.now,
            completed_at: None,
            summary: Some(serde_json::json!({ PLANNED_UPDATES: plan })),
        })
        .await?;
    let (seq, earlier) = match claim {
        FileClaim::SameContent(existing) | FileClaim::DifferentContent(existing) => {
            (existing.seq, Some(existing))
        }
        FileClaim::New => (candidate, None),
    };
    let name = file_name(FileType::Rmc, local_office, date, seq);
    if let Some(earlier) = earlier {
        let written = ctx
            .blobs
            .get(Area::Outbound, &format!("tis/{local_office}/{name}"))
            .await?;
        if let Some(bytes) = written {
            return resume(ctx, &earlier, &bytes, &job, report, name).await;
        }
    }
    write_file(ctx, FileType::Rmc, local_office, date, seq, &lines).await?;
    ctx.store
        .save_tis_positions(local_office, &now_sent)
        .await?;
    for (update, _) in updates {
        ctx.store
            .save_person_update(&PersonUpdate {
                status: PersonUpdateStatus::Sent,
                ..update
            })
            .await?;
    }
    let summary = serde_json::json!({ "file": name, "lines": lines.len() });
    ctx.store
        .complete_file(&identity, &summary, ctx.now)
        .await?;
    ctx.store.advance_watermark(&job, date).await?;
    report.message = format!(
        "{} changed, {} deleted position(s), {} person update(s)",
        report.changed, report.deleted, report.person_updates
    );
    report.file = Some(name);
    Ok(report)
}

/// The RMF: every position TIS should hold for the office; afterwards TIS's view is exactly that.
///
/// # Errors
/// Only store and blob failures.
pub async fn export_full(
    ctx: &Context<'_>,
    local_office: &str,
    date: NaiveDate,
) -> Result<ExportReport, ProcessError> {
    let positions = office_positions(ctx, local_office).await?;
    let sent = ctx.store.tis_positions(local_office).await?;
    let mut lines = Vec::new();
    let mut now_sent: Vec<(String, Option<Vec<String>>)> = Vec::new();
    for (id, position) in &positions {
        if let Some(fields) = por_fields(position) {
            lines.push(por_line(id, "C", &fields));
            now_sent.push((id.clone(), Some(fields)));
        }
    }
    for id in sent
        .keys()
        .filter(|id| positions.get(*id).and_then(por_fields).is_none())
    {
        now_sent.push((id.clone(), None));
    }
    let seq = ctx
        .store
        .next_in_sequence(&format!("RMF#{local_office}"))
        .await?;
    let name = write_file(ctx, FileType::Rmf, local_office, date, seq, &lines).await?;
    ctx.store
        .save_tis_positions(local_office, &now_sent)
        .await?;
    Ok(ExportReport {
        local_office: local_office.to_string(),
        business_date: date,
        file: Some(name),
        changed: lines.len(),
        deleted: 0,
        person_updates: 0,
        message: format!("{} current position(s)", lines.len()),
    })
}

/// The key of the claim's summary that lists the person updates an RMC carries.
const PLANNED_UPDATES: &str = "planned_person_updates";

/// Finishes an export that wrote its file and was interrupted before it had recorded everything:
/// the file written stands as it is (TIS may already hold it), and what it says is recorded from
/// the file itself — its POR lines become TIS's view, the person updates the claim listed are
/// marked sent. Recomputing instead would leave out what the interrupted run had recorded already.
async fn resume(
    ctx: &Context<'_>,
    claim: &ProcessedFile,
    written: &[u8],
    job: &str,
    mut report: ExportReport,
    name: String,
) -> Result<ExportReport, ProcessError> {
    let local_office = report.local_office.clone();
    let mut now_sent: Vec<(String, Option<Vec<String>>)> = Vec::new();
    let mut reader = LineReader::new(written);
    let mut record = csv::StringRecord::new();
    let mut lines = 0;
    while let Ok(Some(_)) = reader.read(&mut record) {
        let fields: Vec<String> = record.iter().map(str::to_string).collect();
        match fields.first().map(String::as_str) {
            Some("POR") if fields.len() >= 3 => {
                lines += 1;
                if fields[2] == "C" {
                    report.changed += 1;
                    now_sent.push((fields[1].clone(), Some(fields[3..].to_vec())));
                } else {
                    report.deleted += 1;
                    now_sent.push((fields[1].clone(), None));
                }
            }
            Some("PER") => {
                lines += 1;
                report.person_updates += 1;
            }
            _ => {}
        }
    }
    ctx.store
        .save_tis_positions(&local_office, &now_sent)
        .await?;
    let planned: Vec<(String, String)> = claim
        .summary
        .as_ref()
        .and_then(|s| s.get(PLANNED_UPDATES))
        .and_then(|p| serde_json::from_value(p.clone()).ok())
        .unwrap_or_default();
    for org in ctx
        .organisations
        .iter()
        .filter(|o| o.local_office == local_office && o.live && o.mode == InterfaceMode::Full)
    {
        for update in ctx.store.person_updates(&org.vpd).await? {
            let key = (update.applicant_number.clone(), update.message_id.clone());
            if update.status == PersonUpdateStatus::PendingRmc && planned.contains(&key) {
                ctx.store
                    .save_person_update(&PersonUpdate {
                        status: PersonUpdateStatus::Sent,
                        ..update
                    })
                    .await?;
            }
        }
    }
    let summary = serde_json::json!({ "file": name, "lines": lines });
    ctx.store
        .complete_file(&claim.identity, &summary, ctx.now)
        .await?;
    ctx.store
        .advance_watermark(job, report.business_date)
        .await?;
    report.message = format!(
        "{} changed, {} deleted position(s), {} person update(s)",
        report.changed, report.deleted, report.person_updates
    );
    report.file = Some(name);
    Ok(report)
}

fn file_name(file_type: FileType, local_office: &str, date: NaiveDate, seq: u64) -> String {
    format!(
        "DE_{local_office}_{file_type}_{}_{seq:08}.DAT",
        date.format("%Y%m%d")
    )
}

async fn write_file(
    ctx: &Context<'_>,
    file_type: FileType,
    local_office: &str,
    date: NaiveDate,
    seq: u64,
    lines: &[Vec<String>],
) -> Result<String, ProcessError> {
    let generated = ctx.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut file = OutboundFile::new(
        file_type,
        local_office,
        date,
        &format!("{seq:08}"),
        &generated,
    );
    for line in lines {
        file.line(line);
    }
    let name = file_name(file_type, local_office, date, seq);
    ctx.blobs
        .put(
            Area::Outbound,
            &format!("tis/{local_office}/{name}"),
            file.finish(),
            "text/plain",
        )
        .await?;
    Ok(name)
}

/// Person updates waiting for the RMC, for Full Records trusts of the office, with their PER lines.
async fn pending_person_updates(
    ctx: &Context<'_>,
    local_office: &str,
) -> Result<Vec<(PersonUpdate, Vec<String>)>, ProcessError> {
    let mut pending = Vec::new();
    for org in ctx
        .organisations
        .iter()
        .filter(|o| o.local_office == local_office && o.live && o.mode == InterfaceMode::Full)
    {
        for update in ctx.store.person_updates(&org.vpd).await? {
            if update.status != PersonUpdateStatus::PendingRmc {
                continue;
            }
            let line = per_line(ctx, &update).await?;
            pending.push((update, line));
        }
    }
    Ok(pending)
}

/// A PER line: the person's current values (every accepted update is already in the stored
/// applicant, so a later update never reverts an earlier one), with the update's effective date.
async fn per_line(ctx: &Context<'_>, update: &PersonUpdate) -> Result<Vec<String>, ProcessError> {
    let details = ctx
        .store
        .applicant(&update.applicant_number)
        .await?
        .map(|a| a.details)
        .unwrap_or_default();
    let mut line = vec!["PER".to_string()];
    line.extend(
        PERSON_FIELDS
            .iter()
            .map(|field| details.person_value(field)),
    );
    line.push(
        update
            .effective_date
            .map(|d| d.to_string())
            .unwrap_or_default(),
    );
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_per_line_holds_the_person_fields_in_order_then_the_effective_date() {
        let mut expected: Vec<String> = PERSON_FIELDS
            .iter()
            .map(|f| f.to_ascii_lowercase())
            .collect();
        expected.push("effective_date".into());
        assert_eq!(PER_FIELDS.to_vec(), expected);
    }
}

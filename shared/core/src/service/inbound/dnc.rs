//! The DNC/DNF pipeline (2.7): each notification record refreshes the rotation grid, withdraws or
//! re-dates an applicant, or tells the trust of a replacement or a new post; a DCC line goes back to
//! TIS for every record; the trust gets one workflow notification per title, and every trust whose
//! grid changed gets its regenerated MEDROT with a Medical Rotation Notification linking to it.

use std::collections::{BTreeMap, BTreeSet};

use super::accepted::AcceptedFile;
use crate::ports::{Area, StoreError};
use crate::service::context::{Context, ProcessError};
use crate::service::moves::{change, entry_caused_by, moved, ChangeOutcome, Decision};
use crate::service::output::{file_made_at, put_notification};
use crate::service::report::{FileReport, Outcome};
use dit_domain::dnc::{
    read_record, DncRecord, NamedTrainee, NotificationType, RotationEntry, DNC_FIELDS,
};
use dit_domain::envelope::{FileType, LineReader, OutboundFile};
use dit_domain::lifecycle::{decide, ApplicantState, Command, Transition};
use dit_domain::messages::MAX_MESSAGE_CHARS;
use dit_domain::model::{person_key, Applicant, Cause};
use dit_domain::notify::{long_date, NotificationKind, RotationNotification, TrustNotification};
use dit_domain::pos::Position;
use dit_domain::reports::is_late_change;
use dit_domain::sheets::{medrot_xlsx, XLSX_CONTENT_TYPE};

/// Rotation rows are saved in batches of this size, so a large DNF never sits whole in memory.
const ROTATION_BATCH: usize = 500;
const ACTOR: &str = "TIS notification";
const NUMBER_UNAVAILABLE: &str = "Number Unavailable - Person has been removed from the position and does not have a GMC record in this VPD, so unable to identify Applicant/Employee Number";

struct Run<'a, 'c> {
    ctx: &'a Context<'c>,
    file: &'a AcceptedFile<'a>,
    rotation: Vec<RotationEntry>,
    notifications: BTreeMap<(String, NotificationKind, String), TrustNotification>,
    /// Trusts whose rotation grid this file changed (their MEDROT is regenerated).
    medrot_trusts: BTreeSet<String>,
    /// For a DNF: the live trusts it names, whose grids become exactly its type-1 rows.
    snapshot_trusts: BTreeSet<String>,
    /// For a DNF: grid rows of type-1 lines that could not be read, kept as they were.
    unread_rows: BTreeSet<(String, String)>,
    /// Type-1 current holders with a GMC number: employees of their trust, as `(vpd, person key)`.
    employees: BTreeSet<(String, String)>,
}

/// The DCC answer for one record.
struct Answer {
    success: bool,
    message: String,
}

impl Answer {
    fn success(message: impl Into<String>) -> Self {
        Answer {
            success: true,
            message: message.into(),
        }
    }

    fn fail(message: impl Into<String>) -> Self {
        Answer {
            success: false,
            message: message.into(),
        }
    }
}

pub(crate) async fn process(
    ctx: &Context<'_>,
    file: &AcceptedFile<'_>,
) -> Result<FileReport, ProcessError> {
    let name = file.name;
    let mut report = FileReport::new(&name.name, Outcome::Processed);
    let mut dcc = OutboundFile::new(
        FileType::Dcc,
        &name.source,
        name.date,
        &name.seq,
        &file.generated_at,
    );
    let mut run = Run {
        ctx,
        file,
        rotation: Vec::new(),
        notifications: BTreeMap::new(),
        medrot_trusts: BTreeSet::new(),
        snapshot_trusts: BTreeSet::new(),
        unread_rows: BTreeSet::new(),
        employees: BTreeSet::new(),
    };
    let mut reader = LineReader::new(file.bytes);
    let mut record = csv::StringRecord::new();
    let mut record_number = 0u64;
    while let Some(line) = reader.read(&mut record).unwrap_or(None) {
        if record.get(0) != Some("DNC") {
            continue;
        }
        record_number += 1;
        let answer = match read_record(&record) {
            Ok(dnc) => run.apply(&dnc, record_number, line).await?,
            Err(reason) => {
                run.note_unread_row(&record);
                Answer::fail(format!("{reason}. Notification rejected."))
            }
        };
        if answer.success {
            report.loaded += 1;
        } else {
            report.rejected += 1;
        }
        let field = |name: &str| dnc_field(&record, name);
        let message: String = answer.message.chars().take(MAX_MESSAGE_CHARS).collect();
        dcc.line([
            "DCC".to_string(),
            record_number.to_string(),
            field("DEANERY_POST_NUMBER"),
            field("NOTIFICATION_TYPE"),
            if answer.success { "SUCCESS" } else { "FAIL" }.to_string(),
            message,
        ]);
        if run.rotation.len() >= ROTATION_BATCH {
            ctx.store
                .save_rotation(&std::mem::take(&mut run.rotation))
                .await?;
        }
        if record_number % 1000 == 0 {
            ctx.progress.advance(1000);
        }
    }
    ctx.progress.advance(record_number % 1000);
    ctx.store.save_rotation(&run.rotation).await?;
    for (vpd, person_key) in &run.employees {
        ctx.store.mark_employee(vpd, person_key).await?;
    }
    if name.file_type == FileType::Dnf {
        let mut snapshots = Vec::new();
        for vpd in &run.snapshot_trusts {
            let (kept, removed) = replace_grid(ctx, file, vpd, &run.unread_rows).await?;
            snapshots.push(format!(
                "grid of trust {vpd} now {kept} row(s), {removed} dropped"
            ));
            run.medrot_trusts.insert(vpd.clone());
        }
        if !snapshots.is_empty() {
            report.message = Some(format!("snapshot: {}", snapshots.join("; ")));
        }
    }

    let dcc_key = format!(
        "tis/{}/{}",
        name.source,
        name.confirmation_name().unwrap_or_default()
    );
    ctx.blobs
        .put(Area::Outbound, &dcc_key, dcc.finish(), "text/plain")
        .await?;
    report.outputs.push(format!("outbound/{dcc_key}"));
    let stem = name.name.trim_end_matches(".DAT");
    let made_at = file_made_at(&file.generated_at, file.business_date);
    for ((vpd, _, _), notification) in run.notifications {
        let base = format!("trusts/{vpd}/notifications/{stem}.{}", notification.slug());
        let html = notification.render_html();
        let written = put_notification(
            ctx,
            &vpd,
            Some(&name.source),
            &base,
            &notification,
            html,
            made_at,
        )
        .await?;
        report.outputs.extend(written);
    }
    for vpd in &run.medrot_trusts {
        report.outputs.extend(write_medrot(ctx, file, vpd).await?);
    }
    Ok(report)
}

/// Makes a trust's grid exactly this DNF's type-1 rows (saved above, so they carry this file's
/// name): every other row goes, except those of this file's unreadable type-1 lines. Returns the
/// rows kept and removed.
async fn replace_grid(
    ctx: &Context<'_>,
    file: &AcceptedFile<'_>,
    vpd: &str,
    unread_rows: &BTreeSet<(String, String)>,
) -> Result<(usize, usize), StoreError> {
    let grid = ctx.store.rotation_grid(vpd).await?;
    let total = grid.len();
    let stale: Vec<String> = grid
        .into_iter()
        .filter(|row| row.source_file != file.name.name)
        .filter(|row| !unread_rows.contains(&(row.vpd.clone(), row.position_key.clone())))
        .map(|row| row.position_key)
        .collect();
    ctx.store.remove_rotation(vpd, &stale).await?;
    Ok((total - stale.len(), stale.len()))
}

/// The GMC numbers of the grid's next post holders who are employees of the trust (10): hired on
/// one of its applicants or named as a current holder, the person match that makes an APP record's
/// APC say `Application is from an EXISTING Employee` (type-1 holders of this file are marked above).
async fn internal_next_holders(
    ctx: &Context<'_>,
    vpd: &str,
    grid: &[RotationEntry],
) -> Result<BTreeSet<String>, ProcessError> {
    let by_key: BTreeMap<(String, String), &String> = grid
        .iter()
        .map(|entry| &entry.next.gmc_number)
        .filter(|gmc| !gmc.is_empty())
        .filter_map(|gmc| {
            person_key(Some(gmc.as_str()), None, None).map(|key| ((vpd.to_string(), key), gmc))
        })
        .collect();
    if by_key.is_empty() {
        return Ok(BTreeSet::new());
    }
    let keys: Vec<(String, String)> = by_key.keys().cloned().collect();
    let persons = ctx.store.persons(&keys).await?;
    Ok(by_key
        .into_iter()
        .filter(|(key, _)| persons.get(key).is_some_and(|person| person.employee))
        .map(|(_, gmc)| gmc.clone())
        .collect())
}

/// Regenerates a trust's MEDROT from its whole rotation grid (as saved above) and writes the Medical
/// Rotation Notification with a link to its download in the portal. Returns the outputs' keys.
async fn write_medrot(
    ctx: &Context<'_>,
    file: &AcceptedFile<'_>,
    vpd: &str,
) -> Result<Vec<String>, ProcessError> {
    let name = file.name;
    let grid = ctx.store.rotation_grid(vpd).await?;
    let internal_next = internal_next_holders(ctx, vpd, &grid).await?;
    // The file's HDR generated-at is the sheet's date and creation time: same input, same bytes.
    let bytes = medrot_xlsx(
        vpd,
        &file.generated_at,
        file.business_date,
        &grid,
        &internal_next,
    )?;
    let medrot_key = format!(
        // The notification file's type keeps a DNC and a DNF of the same date and SEQ apart.
        "trusts/{vpd}/medrot/DE_{}_{vpd}_MEDROT_{}_{}_{}.xlsx",
        name.source,
        name.file_type,
        name.date.format("%Y%m%d"),
        name.seq
    );
    ctx.blobs
        .put(Area::Outbound, &medrot_key, bytes, XLSX_CONTENT_TYPE)
        .await?;
    // The portal's download, not a presigned URL: it cannot expire before the trust opens it.
    let medrot_file = medrot_key.rsplit('/').next().unwrap_or(&medrot_key);
    let link = ctx
        .settings
        .portal_link(&format!("/downloads/medrot/{medrot_file}"));
    let trust_name = ctx
        .organisations
        .get(vpd)
        .map(|o| o.name.clone())
        .unwrap_or_default();
    let notification = RotationNotification::new(
        vpd,
        &trust_name,
        &name.source,
        file.business_date,
        &name.name,
        &medrot_key,
        grid.len(),
        &link,
    );
    let stem = name.name.trim_end_matches(".DAT");
    let base = format!("trusts/{vpd}/notifications/{stem}.medical-rotation");
    let html = notification.render_html();
    let made_at = file_made_at(&file.generated_at, file.business_date);
    let [json, html] = put_notification(
        ctx,
        vpd,
        Some(&name.source),
        &base,
        &notification,
        html,
        made_at,
    )
    .await?;
    Ok(vec![format!("outbound/{medrot_key}"), json, html])
}

impl Run<'_, '_> {
    /// A DNF type-1 line that could not be read: its trust's row for that position is kept.
    fn note_unread_row(&mut self, record: &csv::StringRecord) {
        if self.file.name.file_type != FileType::Dnf {
            return;
        }
        let field = |name: &str| dnc_field(record, name);
        if field("NOTIFICATION_TYPE") != "1" {
            return;
        }
        let (position_id, dpn) = (field("POSITION_ID"), field("DEANERY_POST_NUMBER"));
        let key = if position_id.is_empty() {
            format!("DPN:{dpn}")
        } else {
            position_id
        };
        self.unread_rows.insert((field("VPD"), key));
    }

    async fn apply(
        &mut self,
        record: &DncRecord,
        record_number: u64,
        line: u64,
    ) -> Result<Answer, StoreError> {
        // A record acts only on trusts its local office manages (2.5, 7).
        let lo = &self.file.name.source;
        if self
            .ctx
            .organisations
            .get(&record.vpd)
            .is_some_and(|org| !org.accepts_local_office(lo))
        {
            return Ok(Answer::fail(format!(
                "Organisation {} is not managed by local office {lo}. Notification rejected.",
                record.vpd
            )));
        }
        if self.ctx.organisations.live(&record.vpd).is_none() {
            return Ok(Answer::fail(format!(
                "Organisation {} is not live on the interface. Notification rejected.",
                record.vpd
            )));
        }
        if self.file.name.file_type == FileType::Dnf {
            self.snapshot_trusts.insert(record.vpd.clone());
        }
        let cause = Cause::File {
            name: self.file.name.name.clone(),
            record_number,
            line,
        };
        Ok(match record.notification_type {
            NotificationType::CurrentAndNext => {
                let gmc = &record.current.gmc_number;
                if gmc.len() == 7 && gmc.bytes().all(|b| b.is_ascii_digit()) {
                    if let Some(key) = person_key(Some(gmc), None, None) {
                        self.employees.insert((record.vpd.clone(), key));
                    }
                }
                let entry = RotationEntry::from_record(
                    record,
                    &self.file.name.name,
                    self.file.business_date,
                );
                let answer = Answer::success(format!(
                    "Rotation grid updated for position {}",
                    entry.position_key
                ));
                self.rotation.push(entry);
                self.medrot_trusts.insert(record.vpd.clone());
                answer
            }
            NotificationType::Withdrawal => self.withdraw(record, &cause).await?,
            NotificationType::Replacement => {
                let position = self.position(record).await?;
                self.row(
                    record,
                    NotificationKind::ReplacementApplication,
                    vec![
                        record.replacement.last_name.clone(),
                        record.replacement.first_name.clone(),
                        record.replacement.gmc_number.clone(),
                        record
                            .replacement_projected_hire_date
                            .map(long_date)
                            .unwrap_or_default(),
                        record.withdrawn.last_name.clone(),
                        record.withdrawn.first_name.clone(),
                        record.withdrawn.gmc_number.clone(),
                        position_id(record, position.as_ref()),
                        record.dpn.clone(),
                        location(record, position.as_ref()),
                    ],
                );
                Answer::success(format!(
                    "Trust {} notified of the replacement trainee",
                    record.vpd
                ))
            }
            NotificationType::DateChange => self.change_dates(record, &cause).await?,
            NotificationType::NewPost => {
                self.row(
                    record,
                    NotificationKind::NewPost,
                    vec![
                        record.dpn.clone(),
                        record.managing_deanery_body.clone(),
                        record.site.clone(),
                    ],
                );
                Answer::success(format!(
                    "Trust {} notified of the new training post",
                    record.vpd
                ))
            }
        })
    }

    fn row(&mut self, record: &DncRecord, kind: NotificationKind, row: Vec<String>) {
        let ctx = self.ctx;
        let name = ctx
            .organisations
            .get(&record.vpd)
            .map(|o| o.name.clone())
            .unwrap_or_default();
        let specialty = record.specialty_title().to_string();
        self.notifications
            .entry((record.vpd.clone(), kind, specialty.clone()))
            .or_insert_with(|| {
                TrustNotification::new(
                    kind,
                    &specialty,
                    &record.vpd,
                    &name,
                    self.file.business_date,
                    &self.file.name.name,
                )
            })
            .rows
            .push(row);
    }

    async fn position(&self, record: &DncRecord) -> Result<Option<Position>, StoreError> {
        if record.position_id.is_empty() {
            return Ok(None);
        }
        Ok(self
            .ctx
            .store
            .positions(std::slice::from_ref(&record.position_id))
            .await?
            .remove(&record.position_id))
    }

    /// The trust's applicant for this trainee on this position: live ones first, then the latest.
    async fn find_applicant(
        &self,
        record: &DncRecord,
        trainee: &NamedTrainee,
    ) -> Result<Option<Applicant>, StoreError> {
        if trainee.gmc_number.is_empty() {
            return Ok(None);
        }
        let mut candidates: Vec<Applicant> = self
            .ctx
            .store
            .applicants_by_gmc(&trainee.gmc_number)
            .await?
            .into_iter()
            .filter(|a| a.vpd == record.vpd)
            .filter(|a| {
                (!record.position_id.is_empty() && a.position_id == record.position_id)
                    || a.dpn == record.dpn
            })
            .collect();
        candidates.sort_by_key(|a| {
            (
                !a.state.is_terminal(),
                a.applicant_number.len(),
                a.applicant_number.clone(),
            )
        });
        Ok(candidates.pop())
    }

    async fn withdraw(&mut self, record: &DncRecord, cause: &Cause) -> Result<Answer, StoreError> {
        let position = self.position(record).await?;
        let applicant = self.find_applicant(record, &record.withdrawn).await?;
        let (number, status, answer) = match applicant {
            None => (
                NUMBER_UNAVAILABLE.to_string(),
                String::new(),
                Answer::fail(format!(
                    "No applicant of trust {} with this GMC number on this position: none was withdrawn (trust notified: Number Unavailable)",
                    record.vpd
                )),
            ),
            Some(applicant) => {
                let number = applicant.applicant_number.clone();
                let reason = record.withdrawal_reason.clone();
                let outcome = change(self.ctx.store, &number, self.ctx.now, cause, ACTOR, |a, history| {
                    if entry_caused_by(history, cause).is_some() {
                        return Decision::NoChange;
                    }
                    match decide(&a.applicant_number, Some(a.state), &Command::Withdraw) {
                        Ok(transition @ Transition::Moved { to, .. }) => Decision::Apply {
                            updated: moved(a, to),
                            command: Command::Withdraw.name().to_string(),
                            transition,
                            detail: Some(format!("withdrawal reason {reason}")),
                        },
                        Ok(Transition::Unchanged(_)) => Decision::NoChange,
                        Err(refusal) => Decision::Refuse {
                            command: Command::Withdraw.name().to_string(),
                            reason: refusal.reason,
                        },
                    }
                })
                .await?;
                let history = self.ctx.store.history(&number).await?;
                let refused_by_this = entry_caused_by(&history, cause)
                    .is_some_and(|e| matches!(e.outcome, dit_domain::model::HistoryOutcome::Refused { .. }));
                let answer = match outcome {
                    ChangeOutcome::Refused { applicant, .. } => refused(&applicant),
                    ChangeOutcome::Unchanged(applicant) if refused_by_this => refused(&applicant),
                    ChangeOutcome::Applied { .. } => Answer::success(format!("Applicant {number} withdrawn")),
                    ChangeOutcome::Unchanged(_) if entry_caused_by(&history, cause).is_some() => {
                        Answer::success(format!("Applicant {number} withdrawn"))
                    }
                    ChangeOutcome::Unchanged(_) => Answer::success(format!("Applicant {number} was already withdrawn")),
                    ChangeOutcome::NotFound => Answer::fail(format!("Applicant {number} no longer exists: none was withdrawn (trust {} notified)", record.vpd)),
                };
                let status = if applicant.state == ApplicantState::Hired { "Employee" } else { "Applicant" };
                (number, status.to_string(), answer)
            }
        };
        self.row(
            record,
            NotificationKind::ApplicantsWithdrawn,
            vec![
                record.withdrawn.last_name.clone(),
                record.withdrawn.first_name.clone(),
                record.withdrawn.gmc_number.clone(),
                number,
                status,
                record.withdrawal_reason.clone(),
                position_id(record, position.as_ref()),
                record.dpn.clone(),
                record.managing_deanery_body.clone(),
                position
                    .as_ref()
                    .map(|p| p.position_name.clone())
                    .unwrap_or_default(),
                position
                    .as_ref()
                    .and_then(|p| p.host_lead)
                    .map(|h| h.label().to_string())
                    .unwrap_or_default(),
                location(record, position.as_ref()),
            ],
        );
        Ok(answer)
    }

    async fn change_dates(
        &mut self,
        record: &DncRecord,
        cause: &Cause,
    ) -> Result<Answer, StoreError> {
        let trainee = if record.next.gmc_number.is_empty() {
            &record.current
        } else {
            &record.next
        };
        let position = self.position(record).await?;
        let new_hire = record.change_of_projected_hire_date;
        let new_end = record.change_of_projected_end_date;
        let business_date = self.file.business_date;
        let answer = match self.find_applicant(record, trainee).await? {
            None => Answer::fail(format!(
                "No applicant of trust {} with this GMC number on this position: no dates were changed (trust notified)",
                record.vpd
            )),
            Some(applicant) if matches!(applicant.state, ApplicantState::Withdrawn | ApplicantState::Rejected) => {
                Answer::success(format!(
                    "Trust {} notified; applicant {} is {}, so its dates were not changed",
                    record.vpd, applicant.applicant_number, applicant.state
                ))
            }
            Some(applicant) => {
                let number = applicant.applicant_number.clone();
                let outcome = change(self.ctx.store, &number, self.ctx.now, cause, ACTOR, |a, history| {
                    let hire = new_hire.unwrap_or(a.projected_hire_date);
                    let end = new_end.or(a.projected_end_date);
                    if entry_caused_by(history, cause).is_some() || (hire == a.projected_hire_date && end == a.projected_end_date) {
                        return Decision::NoChange;
                    }
                    let mut updated = a.clone();
                    updated.projected_hire_date = hire;
                    updated.projected_end_date = end;
                    if new_hire.is_some_and(|h| h != a.projected_hire_date && is_late_change(h, business_date)) {
                        updated.late_changes += 1;
                    }
                    let show = |d: Option<chrono::NaiveDate>| d.map_or("-".to_string(), |d| d.to_string());
                    Decision::Apply {
                        updated,
                        command: "change_dates".to_string(),
                        transition: Transition::Unchanged(a.state),
                        detail: Some(format!(
                            "projected hire {} -> {}; projected end {} -> {}",
                            a.projected_hire_date,
                            hire,
                            show(a.projected_end_date),
                            show(end)
                        )),
                    }
                })
                .await?;
                match outcome {
                    ChangeOutcome::Applied { .. } => Answer::success(format!("Applicant {number} projected dates changed")),
                    ChangeOutcome::Unchanged(_) => {
                        let history = self.ctx.store.history(&number).await?;
                        if entry_caused_by(&history, cause).is_some() {
                            Answer::success(format!("Applicant {number} projected dates changed"))
                        } else {
                            Answer::success(format!("Applicant {number} already had these projected dates"))
                        }
                    }
                    ChangeOutcome::Refused { reason, .. } => Answer::fail(reason),
                    ChangeOutcome::NotFound => Answer::fail(format!("Applicant {number} no longer exists: no dates were changed (trust {} notified)", record.vpd)),
                }
            }
        };
        self.row(
            record,
            NotificationKind::DateChange,
            vec![
                trainee.last_name.clone(),
                trainee.first_name.clone(),
                trainee.gmc_number.clone(),
                position
                    .as_ref()
                    .map(|p| p.position_number.clone())
                    .unwrap_or_else(|| record.position_id.clone()),
                position
                    .as_ref()
                    .map(|p| p.position_name.clone())
                    .unwrap_or_else(|| record.dpn.clone()),
                new_hire.map(long_date).unwrap_or_default(),
                new_end.map(long_date).unwrap_or_default(),
            ],
        );
        Ok(answer)
    }
}

fn refused(applicant: &Applicant) -> Answer {
    Answer::success(format!(
        "Trust notified; applicant {} is {}, so it was not withdrawn: the trust must end the assignment",
        applicant.applicant_number, applicant.state
    ))
}

fn position_id(record: &DncRecord, position: Option<&Position>) -> String {
    position
        .map(|p| p.position_id.clone())
        .unwrap_or_else(|| record.position_id.clone())
}

fn location(record: &DncRecord, position: Option<&Position>) -> String {
    if record.site.is_empty() {
        position.map(|p| p.site.clone()).unwrap_or_default()
    } else {
        record.site.clone()
    }
}

/// A DNC/DNF field of a raw record by its column name, trimmed ("" when the line is short).
fn dnc_field(record: &csv::StringRecord, name: &str) -> String {
    DNC_FIELDS
        .iter()
        .position(|f| *f == name)
        .and_then(|i| record.get(i))
        .unwrap_or("")
        .trim()
        .to_string()
}

//! Processing one inbound file: the whole-file checks of 2.3, the claim that makes redelivery safe,
//! then the pipeline of the file's type, then the outputs.
//!
//! This module only dispatches: each pipeline is a child (`app`, `dnc`, `pos`) that knows the
//! [`AcceptedFile`] of `accepted` and never this module, so the imports run one way.

mod accepted;
mod app;
mod dnc;
mod pos;

use chrono::NaiveDate;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::ports::Area;
use crate::service::context::{Context, ProcessError};
use crate::service::data_team::{self, QuarantineAlert};
use crate::service::output::{hex, put_json};
use crate::service::report::{FileReport, Outcome};
use accepted::AcceptedFile;
use dit_domain::app::RecordsPerPosition;
use dit_domain::boundary::{quarantine_key, quarantine_name, FileOrigin};
use dit_domain::envelope::{self, FileName, FileType, QuarantineReason};
use dit_domain::model::{FileClaim, FileStatus, ProcessedFile, ReceivedSequence};

/// Files of this many bytes or more are hashed on a thread of their own while scanned.
const HASHED_BESIDE_THE_SCAN: usize = 1 << 20;

/// Processes the inbound object `key` (relative to the inbound area), dropped by `origin`: in AWS
/// the folder of the key ([`FileOrigin::of_inbound_key`]), locally `dit process --from` (or the
/// trusted local operator). A file its sender may not send is quarantined (section 7).
///
/// `as_of` overrides the business date, which otherwise is the date in the file's name.
///
/// # Errors
/// Only [`ProcessError`]s worth retrying; bad input ends in quarantine, never in an error.
pub async fn process_inbound(
    ctx: &Context<'_>,
    key: &str,
    origin: &FileOrigin,
    as_of: Option<NaiveDate>,
) -> Result<FileReport, ProcessError> {
    process_received(ctx, key, None, origin, as_of).await
}

/// [`process_inbound`] of one version of the object (S3: the version its notification named):
/// that version's size is checked and that version is read, quarantined or removed, never a newer
/// one written since at the same key (which is handled on its own notification). Without a
/// version, the version whose size is read is the one processed.
///
/// # Errors
/// Only [`ProcessError`]s worth retrying; bad input ends in quarantine, never in an error.
pub async fn process_received(
    ctx: &Context<'_>,
    key: &str,
    version: Option<&str>,
    origin: &FileOrigin,
    as_of: Option<NaiveDate>,
) -> Result<FileReport, ProcessError> {
    let display = quarantine_name(key);
    let received = Received { key, version };
    let name = match FileName::parse(key) {
        Ok(name) => name,
        Err(reason) => {
            return quarantine(
                ctx,
                &received,
                &display,
                QuarantineReason::new("bad_name", reason, None),
                Kept::Moved,
            )
            .await
        }
    };
    if !name.file_type.is_inbound() {
        let reason = QuarantineReason::new(
            "not_inbound",
            format!(
                "{} files are written by this system, not received",
                name.file_type
            ),
            None,
        );
        return quarantine(ctx, &received, &display, reason, Kept::Moved).await;
    }
    if let Err(reason) = origin.accepts(&name) {
        return quarantine(ctx, &received, &display, reason, Kept::Moved).await;
    }
    let Some(object) = ctx.blobs.head_received(key, version).await? else {
        let mut report = FileReport::new(&display, Outcome::Missing);
        report.message =
            Some("the file is no longer in the inbound area (already handled?)".into());
        return Ok(report);
    };
    // From here on the version whose size was read is the one handled.
    let pinned = version.map(str::to_string).or(object.version);
    let received = Received {
        key,
        version: pinned.as_deref(),
    };
    let size = object.size;
    if size > ctx.settings.max_file_bytes {
        return quarantine(
            ctx,
            &received,
            &display,
            too_large(size, ctx),
            Kept::InPlace,
        )
        .await;
    }
    let Some(bytes) = ctx.blobs.get_received(key, received.version).await? else {
        return Ok(FileReport::new(&display, Outcome::Missing));
    };
    // A store without versions may hand back a file replaced since its size was read.
    let read = bytes.len() as u64;
    if read > ctx.settings.max_file_bytes {
        return quarantine(
            ctx,
            &received,
            &display,
            too_large(read, ctx),
            Kept::InPlace,
        )
        .await;
    }

    // Pass 1: the whole file must be sound before anything in it is applied. A large file is
    // hashed on a second thread meanwhile (both passes read every byte, before anything else).
    let mut per_position = RecordsPerPosition::default();
    let mut scan = || {
        envelope::scan(&bytes, &name, |line| {
            if name.file_type == FileType::App {
                per_position.count(line.record, line.line)?;
            }
            Ok(())
        })
    };
    let hash = || hex(&Sha256::digest(&bytes));
    let (scanned, sha256) = if bytes.len() >= HASHED_BESIDE_THE_SCAN {
        std::thread::scope(|scope| {
            let hashing = std::thread::Builder::new().spawn_scoped(scope, hash);
            let scanned = scan();
            let sha256 = match hashing {
                Ok(hashing) => hashing.join().unwrap_or_else(|_| hash()),
                Err(_) => hash(),
            };
            (scanned, sha256)
        })
    } else {
        (scan(), hash())
    };
    let envelope = match scanned {
        Ok(envelope) => envelope,
        Err(reason) => return quarantine(ctx, &received, &display, reason, Kept::Moved).await,
    };
    let business_date = as_of.unwrap_or(name.date);
    let claim = ctx
        .store
        .claim_file(&ProcessedFile {
            identity: name.identity(),
            source: name.source.clone(),
            file_type: name.file_type.to_string(),
            seq: name.seq_number(),
            name: name.name.clone(),
            sha256: sha256.clone(),
            business_date,
            status: FileStatus::InProgress,
            claimed_at: ctx.now,
            completed_at: None,
            summary: None,
        })
        .await?;
    let business_date = match claim {
        FileClaim::DifferentContent(existing) => {
            let reason = QuarantineReason::new(
                "sequence_reused",
                format!(
                    "{} {} {} was already processed from {} with different content (sha256 {} vs {})",
                    name.source,
                    name.file_type,
                    name.seq,
                    existing.name,
                    short(&existing.sha256),
                    short(&sha256)
                ),
                None,
            );
            return quarantine(ctx, &received, &display, reason, Kept::Moved).await;
        }
        FileClaim::SameContent(existing) if existing.status == FileStatus::Processed => {
            let mut report = existing
                .summary
                .and_then(|s| serde_json::from_value::<FileReport>(s).ok())
                .unwrap_or_else(|| FileReport::new(&display, Outcome::Processed));
            report.outcome = Outcome::Duplicate;
            report.message = Some(format!(
                "the same file was already processed (business date {}); nothing changed and its outputs stand",
                existing.business_date
            ));
            return Ok(report);
        }
        // Interrupted or concurrent run of this very file: redo it; every write is idempotent.
        FileClaim::SameContent(existing) => existing.business_date,
        FileClaim::New => business_date,
    };
    // Gaps are not judged per file (files arrive concurrently and out of order): the number is
    // noted for the daily sequence check (2.3). Noted again when an interrupted run is redone.
    if name.file_type.is_tis_sequence() {
        ctx.store
            .note_received_sequence(&ReceivedSequence {
                file_type: name.file_type.to_string(),
                seq: name.seq_number(),
                source: name.source.clone(),
                business_date,
                name: name.name.clone(),
            })
            .await?;
    }

    let accepted = AcceptedFile {
        name: &name,
        bytes: &bytes,
        sha256,
        business_date,
        generated_at: envelope.header.generated_at.clone(),
    };
    ctx.progress.begin(&display, envelope.data_lines);
    // Only inbound types get here (checked above): POS, APP, DNC or DNF.
    let result = match name.file_type {
        FileType::Pos => pos::process(ctx, &accepted).await,
        FileType::Dnc | FileType::Dnf => dnc::process(ctx, &accepted).await,
        _ => app::process(ctx, &accepted).await,
    };
    ctx.progress.end();
    let mut report = result?;
    report.file_type = Some(name.file_type.to_string());
    report.business_date = Some(business_date);
    report.records = envelope.data_lines;
    let operator_key = format!("operator/files/{}.json", name.name);
    report.outputs.push(format!("outbound/{operator_key}"));
    put_json(ctx.blobs, Area::Outbound, &operator_key, &report).await?;
    let summary = serde_json::to_value(&report).unwrap_or_default();
    ctx.store
        .complete_file(&name.identity(), &summary, ctx.now)
        .await?;
    Ok(report)
}

/// The quarantine report written beside a quarantined file.
#[derive(Debug, Serialize)]
struct QuarantineRecord<'a> {
    file: &'a str,
    reason: &'a str,
    code: &'a str,
    line: Option<u64>,
    /// Whether the local office's data team was alerted, and if not why (only where local
    /// offices are configured, so that records stay as they were without them).
    #[serde(skip_serializing_if = "Option::is_none")]
    data_team_alert: Option<String>,
}

fn too_large(size: u64, ctx: &Context<'_>) -> QuarantineReason {
    QuarantineReason::new(
        "too_large",
        format!(
            "the file is {size} bytes, larger than the configured maximum of {} bytes",
            ctx.settings.max_file_bytes
        ),
        None,
    )
}

/// The received object being handled: its key as the sender wrote it and, once known, its version.
struct Received<'k> {
    key: &'k str,
    version: Option<&'k str>,
}

/// What becomes of a refused file's bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kept {
    /// Copied into the quarantine under its origin folder and name ([`quarantine_key`]), then
    /// removed from the inbound area.
    Moved,
    /// Left where it was dropped (a file over the maximum size: copying it is the cost the limit
    /// is there to avoid), for the inbound area's lifecycle rule or an operator to remove.
    InPlace,
}

/// A refused file: its reason written under its quarantine key, the file itself [`Kept`].
async fn quarantine(
    ctx: &Context<'_>,
    received: &Received<'_>,
    display: &str,
    reason: QuarantineReason,
    kept: Kept,
) -> Result<FileReport, ProcessError> {
    let key = quarantine_key(received.key);
    if kept == Kept::Moved {
        ctx.blobs
            .quarantine_received(received.key, received.version, &key)
            .await?;
    }
    let alert = QuarantineAlert::of(ctx, display, &key, &reason);
    let reason_key = write_reason(ctx, &key, display, &reason, alert.note(ctx)).await?;
    ctx.metrics
        .file_quarantined(alert.local_office.as_deref(), &reason.code)
        .await;
    data_team::send_quarantine_alert(ctx, &alert).await?;
    let mut outputs = vec![format!("quarantine/{reason_key}")];
    if kept == Kept::Moved {
        // Deleted only once the copy and its reason are safe.
        ctx.blobs
            .delete_received(received.key, received.version)
            .await?;
        outputs.insert(0, format!("quarantine/{key}"));
    }
    let mut report = FileReport::new(display, Outcome::Quarantined);
    report.file_type = FileName::parse(display)
        .ok()
        .map(|n| n.file_type.to_string());
    report.quarantine = Some(reason);
    report.outputs = outputs;
    Ok(report)
}

/// `<quarantine key>.reason.json`, returned.
async fn write_reason(
    ctx: &Context<'_>,
    key: &str,
    display: &str,
    reason: &QuarantineReason,
    data_team_alert: Option<String>,
) -> Result<String, ProcessError> {
    let record = QuarantineRecord {
        file: display,
        reason: &reason.reason,
        code: &reason.code,
        line: reason.line,
        data_team_alert,
    };
    let reason_key = format!("{key}.reason.json");
    put_json(ctx.blobs, Area::Quarantine, &reason_key, &record).await?;
    Ok(reason_key)
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

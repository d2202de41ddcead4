//! `dit process`: copy each file into DIR/inbound (kept for replay) and run the inbound handler on it.

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, Utc};
use dit_core::ports::Area;
use dit_core::service::inbound::process_inbound;
use dit_core::service::report::{FileReport, Outcome};
use dit_domain::boundary::FileOrigin;
use dit_domain::envelope::business_order_key;

use crate::exit::{EXIT_FAILED, EXIT_QUARANTINED};
use crate::local::{Local, ORGANISATIONS_FILE};
use crate::progress::Bar;

/// The files to process, in order: explicit files as given, each folder's files in business order.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_file() {
            files.push(path.clone());
        } else if path.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| format!("cannot read folder {}: {e}", path.display()))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .filter(|p| {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    name != ORGANISATIONS_FILE && !name.starts_with('.')
                })
                .collect();
            inside.sort_by_key(|p| business_order_key(&file_name(p)));
            files.extend(inside);
        } else {
            return Err(format!("{} is neither a file nor a folder", path.display()));
        }
    }
    Ok(files)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A first run on a fresh DIR may take its configuration from a processed folder.
pub fn adopt_configuration(data_dir: &Path, paths: &[PathBuf]) -> Result<(), (u8, String)> {
    let target = data_dir.join(ORGANISATIONS_FILE);
    if target.exists() {
        return Ok(());
    }
    let Some(found) = paths
        .iter()
        .map(|p| p.join(ORGANISATIONS_FILE))
        .find(|p| p.is_file())
    else {
        return Ok(());
    };
    dit_embedded::private::create_dir_all(data_dir).map_err(|e| {
        (
            EXIT_FAILED,
            format!("cannot create {}: {e}", data_dir.display()),
        )
    })?;
    dit_embedded::private::copy(&found, &target)
        .map_err(|e| (EXIT_FAILED, format!("cannot copy {}: {e}", found.display())))?;
    eprintln!("Using {} (copied to {})", found.display(), target.display());
    Ok(())
}

pub async fn run(
    local: Local,
    as_of: Option<NaiveDate>,
    origin: &FileOrigin,
    files: &[PathBuf],
) -> u8 {
    let data_dir = local.dir.as_path();
    let bar = Bar::default();
    let mut reports: Vec<FileReport> = Vec::new();
    for path in files {
        let name = file_name(path);
        let inbound = match local.blobs.path(Area::Inbound, &name) {
            Ok(inbound) => inbound,
            Err(err) => {
                eprintln!("error: {}: {err}", path.display());
                return EXIT_FAILED;
            }
        };
        let copied = inbound
            .parent()
            .map_or(Ok(()), dit_embedded::private::create_dir_all)
            .and_then(|()| dit_embedded::private::copy(path, &inbound));
        if let Err(err) = copied {
            eprintln!(
                "error: cannot copy {} into {}: {err}",
                path.display(),
                inbound.display()
            );
            return EXIT_FAILED;
        }
        let ctx = local.context(Utc::now()).with_progress(&bar);
        match process_inbound(&ctx, &name, origin, as_of).await {
            Ok(report) => {
                print_line(&report);
                reports.push(report);
            }
            Err(err) => {
                eprintln!("error: {name}: {err}\nThe file is kept in {}; run the same command again to retry.", inbound.display());
                return EXIT_FAILED;
            }
        }
    }
    print_summary(data_dir, &reports);
    if reports.iter().any(|r| r.outcome == Outcome::Quarantined) {
        EXIT_QUARANTINED
    } else {
        0
    }
}

fn print_line(report: &FileReport) {
    let detail = match report.outcome {
        Outcome::Processed if report.file_type.as_deref() == Some("POS") => format!(
            "processed: {} positions, {} unreadable, {} DPN/name issues",
            report.loaded, report.rejected, report.warnings
        ),
        Outcome::Processed if matches!(report.file_type.as_deref(), Some("DNC" | "DNF")) => {
            format!(
                "processed: {} notifications, {} applied, {} failed{}",
                report.records,
                report.loaded,
                report.rejected,
                // A DNF says how it replaced the grids it names.
                report
                    .message
                    .as_deref()
                    .map(|m| format!("; {m}"))
                    .unwrap_or_default()
            )
        }
        Outcome::Processed => format!(
            "processed: {} records, {} loaded, {} rejected, {} warnings",
            report.records, report.loaded, report.rejected, report.warnings
        ),
        Outcome::Duplicate => "duplicate: already processed, nothing changed".to_string(),
        Outcome::Quarantined => format!(
            "QUARANTINED: {}",
            report
                .quarantine
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        ),
        Outcome::Missing => "missing: the file was not found".to_string(),
    };
    println!("{:<40} {detail}", report.file);
    for warning in &report.operator_warnings {
        println!("{:<40}   warning: {warning}", "");
    }
}

fn print_summary(data_dir: &Path, reports: &[FileReport]) {
    let count = |outcome: Outcome| reports.iter().filter(|r| r.outcome == outcome).count();
    let app = |f: fn(&FileReport) -> u64| -> u64 {
        reports
            .iter()
            .filter(|r| r.outcome == Outcome::Processed && r.file_type.as_deref() == Some("APP"))
            .map(f)
            .sum()
    };
    println!();
    println!(
        "{} file(s): {} processed, {} duplicate, {} quarantined",
        reports.len(),
        count(Outcome::Processed),
        count(Outcome::Duplicate),
        count(Outcome::Quarantined)
    );
    println!(
        "Applicant records: {} loaded, {} rejected, {} warnings",
        app(|r| r.loaded),
        app(|r| r.rejected),
        app(|r| r.warnings)
    );
    let dir = data_dir.display();
    println!("Outputs:");
    println!("  files for TIS (APC)          {dir}/outbound/tis/");
    println!("  trust notifications/reports  {dir}/outbound/trusts/<VPD>/");
    println!("  per-file operator reports    {dir}/outbound/operator/files/");
    if data_dir.join("outbound/mail").is_dir() {
        println!("  e-mail alerts (.eml)         {dir}/outbound/mail/<VPD>/");
    }
    if count(Outcome::Quarantined) > 0 {
        println!("  quarantined files + reasons  {dir}/quarantine/");
    }
    println!("Where is an applicant?  dit --data-dir {dir} show <applicant number | GMC number | placement id>");
}

//! `dit export`: the RMC (changes) or, with `--full`, the RMF to TIS, per local office: the one
//! export of the `tis-export` schedule ([`export_to_tis`]), stamped from the business date.

use chrono::NaiveDate;
use dit_core::service::export::{export_to_tis, ExportKind, ExportReport};

use crate::exit::{EXIT_FAILED, EXIT_USAGE};
use crate::local::Local;

pub async fn run(local: Local, date: NaiveDate, full: bool, local_office: Option<&str>) -> u8 {
    let data_dir = local.dir.as_path();
    let kind = if full {
        ExportKind::Full
    } else {
        ExportKind::Changes
    };
    // export_to_tis stamps the files from the business date itself; the context's time is unused.
    let ctx = local.context(date.and_time(chrono::NaiveTime::MIN).and_utc());
    match export_to_tis(&ctx, date, None, local_office, kind).await {
        Ok(reports) if reports.is_empty() => {
            eprintln!(
                "error: no live trust in {}/organisations.toml is managed by {}",
                data_dir.display(),
                local_office.unwrap_or("any local office")
            );
            EXIT_USAGE
        }
        Ok(reports) => {
            for report in &reports {
                print_report(data_dir, report);
            }
            0
        }
        Err(failure) => {
            for report in &failure.exported {
                print_report(data_dir, report);
            }
            eprintln!("error: {failure}\nRun the same command again: a rerun gives the same file.");
            EXIT_FAILED
        }
    }
}

fn print_report(data_dir: &std::path::Path, report: &ExportReport) {
    let office = &report.local_office;
    match &report.file {
        Some(file) => println!(
            "{office}: {} -> {}/outbound/tis/{office}/{file}",
            report.message,
            data_dir.display()
        ),
        None => println!("{office}: {}", report.message),
    }
}

//! `dit export`: the RMC (changes) or, with `--full`, the RMF to TIS, per local office.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{NaiveDate, Utc};
use dit_core::service::export::{export_changes, export_full};

use crate::process::open;
use crate::{EXIT_FAILED, EXIT_USAGE};

pub async fn run(data_dir: &Path, date: NaiveDate, full: bool, local_office: Option<&str>) -> u8 {
    let local = match open(data_dir, false) {
        Ok(local) => local,
        Err((status, message)) => {
            eprintln!("error: {message}");
            return status;
        }
    };
    let offices: BTreeSet<String> = local
        .organisations
        .iter()
        .filter(|o| o.live)
        .map(|o| o.local_office.clone())
        .filter(|lo| local_office.is_none_or(|wanted| wanted == lo))
        .collect();
    if offices.is_empty() {
        eprintln!(
            "error: no live trust in {}/organisations.toml is managed by {}",
            data_dir.display(),
            local_office.unwrap_or("any local office")
        );
        return EXIT_USAGE;
    }
    let ctx = local.context(Utc::now());
    for office in offices {
        let result = if full {
            export_full(&ctx, &office, date).await
        } else {
            export_changes(&ctx, &office, date).await
        };
        match result {
            Ok(report) => match &report.file {
                Some(file) => println!(
                    "{office}: {} -> {}/outbound/tis/{office}/{file}",
                    report.message,
                    data_dir.display()
                ),
                None => println!("{office}: {}", report.message),
            },
            Err(err) => {
                eprintln!("error: {office}: {err}\nRun the same command again: a rerun gives the same file.");
                return EXIT_FAILED;
            }
        }
    }
    0
}

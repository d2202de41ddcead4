//! `dit check-sequences --date D`: the daily sequence check (2.3) on the embedded store: per TIS
//! file type, the numbers between the lowest and the highest received over the 30 days up to D
//! that have not arrived, written to `outbound/operator/schedules/sequence-check/<D>.json|html`.

use std::path::Path;

use chrono::{NaiveDate, Utc};
use dit_core::service::sequence_check::{self, SequenceCheckRun};

use crate::exit::EXIT_FAILED;
use crate::local::Local;

pub async fn run(local: Local, date: NaiveDate) -> u8 {
    let data_dir = local.dir.as_path();
    let ctx = local.context(Utc::now());
    match sequence_check::run(&ctx, date).await {
        Ok(run) => {
            print(data_dir, &run);
            0
        }
        Err(err) => {
            eprintln!("error: {err}\nRun the same command again: it writes the same record.");
            EXIT_FAILED
        }
    }
}

fn print(data_dir: &Path, run: &SequenceCheckRun) {
    let check = &run.check;
    println!(
        "Sequence check for business date {} (files dated {} to {})",
        check.business_date, check.window_from, check.window_to
    );
    for t in &check.file_types {
        match (&t.lowest, &t.highest) {
            (Some(lowest), Some(highest)) => {
                let missing = if t.missing.is_empty() {
                    "none missing".to_string()
                } else {
                    format!("{} missing: {}", t.missing_count, t.listed_missing())
                };
                println!(
                    "  {:<4} {} received, {lowest} to {highest}; {missing}",
                    t.file_type, t.received
                );
            }
            _ => println!("  {:<4} none received", t.file_type),
        }
    }
    for output in &run.outputs {
        println!("{}/{output}", data_dir.display());
    }
}

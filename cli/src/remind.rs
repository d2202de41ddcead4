//! `dit remind --date D`: the daily new-starter reminder on the embedded store, for business date
//! D (and any dates missed since the last run).

use std::path::Path;

use chrono::{NaiveDate, Utc};
use dit_core::service::reminders::{self, ReminderReport};

use crate::exit::EXIT_FAILED;
use crate::local::Local;

pub async fn run(local: Local, date: NaiveDate) -> u8 {
    let data_dir = local.dir.as_path();
    let ctx = local.context(Utc::now());
    match reminders::run(&ctx, date).await {
        Ok(report) => {
            print(data_dir, &report);
            0
        }
        Err(err) => {
            eprintln!(
                "error: {err}\nDates finished before the failure stay finished; run the same command again to continue."
            );
            EXIT_FAILED
        }
    }
}

fn print(data_dir: &Path, report: &ReminderReport) {
    let dir = data_dir.display();
    let before = report
        .watermark_before
        .map_or("never run".to_string(), |d| format!("done up to {d}"));
    println!(
        "New-starter reminder for business date {} ({before})",
        report.business_date
    );
    if report.already_done() {
        println!("Nothing new: already reminded up to that date.");
        return;
    }
    if report.dates.len() > 1 {
        println!("Catching up {} dates.", report.dates.len());
    }
    for day in &report.dates {
        println!(
            "{}  starters hired on {}: {}; late (hired sooner, not yet reminded): {} (of {} applicants hired within 5 days)",
            day.business_date,
            day.hire_date,
            day.starters - day.late,
            day.late,
            day.read
        );
        for trust in &day.trusts {
            let late = if trust.late > 0 {
                format!(", {} late", trust.late)
            } else {
                String::new()
            };
            let honorary = if trust.honorary > 0 {
                format!(", {} as Honorary", trust.honorary)
            } else {
                String::new()
            };
            println!(
                "  trust {:<5} {} starter(s){late}{honorary}",
                trust.vpd, trust.starters
            );
            for output in &trust.outputs {
                println!("    {dir}/{output}");
            }
        }
        for skipped in &day.not_notified {
            println!(
                "  trust {:<5} {} starter(s) not reminded: {}",
                skipped.vpd, skipped.starters, skipped.reason
            );
        }
    }
    if let Some(done) = report.watermark_after {
        println!("Reminded up to {done}.");
    }
}

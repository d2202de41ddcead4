//! `dit purge --date D`: section 8 on the data directory. Records past their retention on D leave
//! `state.db` (the same rules as DynamoDB's TTL attribute) and files past theirs leave `inbound/`,
//! `quarantine/` and `outbound/` (the same rules as the buckets' lifecycle, by the file's age).
//! Prints what it removed, by count.

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use dit_domain::retention::{self, BLOB_RULES};

use crate::exit::EXIT_FAILED;
use crate::local::Local;

pub fn run(local: Local, date: NaiveDate) -> u8 {
    let data_dir = local.dir.as_path();
    let purged = match local.store.purge(date) {
        Ok(purged) => purged,
        Err(err) => {
            eprintln!(
                "error: {err}\nNothing was removed from state.db; run the same command again."
            );
            return EXIT_FAILED;
        }
    };
    println!("Purge for {date} (section 8 retention)");
    println!("state.db:");
    for (what, count) in [
        ("applicants", purged.applicants),
        ("history entries", purged.history),
        ("placement links", purged.placements),
        ("person updates", purged.person_updates),
        ("person records", purged.persons),
        ("rejected applications", purged.rejected_applications),
        ("rotation grid rows", purged.rotation_rows),
        ("processed-file records", purged.files),
        ("TIS numbers received", purged.received_sequences),
    ] {
        println!("  {what:<24} {count}");
    }
    println!("files:");
    let mut failed = false;
    for rule in &BLOB_RULES {
        let folder = data_dir.join(rule.area).join(rule.prefix);
        let mut removed = 0u64;
        if let Err(err) = remove_older(&folder, rule.days, date, &mut removed) {
            eprintln!("error: {}: {err}", folder.display());
            failed = true;
        }
        let shown = format!("{}/{}", rule.area, rule.prefix);
        println!("  {shown:<24} {removed} (kept {} days)", rule.days);
    }
    if failed {
        EXIT_FAILED
    } else {
        0
    }
}

/// Removes the files under `folder` last written more than `days` days before `date`.
fn remove_older(
    folder: &Path,
    days: u64,
    date: NaiveDate,
    removed: &mut u64,
) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err),
    };
    for entry in entries {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            remove_older(&entry.path(), days, date, removed)?;
        } else if kind.is_file() {
            let written: DateTime<Utc> = entry.metadata()?.modified()?.into();
            let kept_until = written
                .date_naive()
                .checked_add_days(chrono::Days::new(days))
                .unwrap_or(NaiveDate::MAX);
            if retention::expired(kept_until, date) {
                std::fs::remove_file(entry.path())?;
                *removed += 1;
            }
        }
    }
    Ok(())
}

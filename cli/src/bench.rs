//! `dit bench`: times the inbound pipeline on generated files against the embedded store, and
//! reports throughput and peak memory (the figures in docs/PERFORMANCE.md come from here).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use chrono::Utc;
use dit_core::domain::org::Organisations;
use dit_core::ports::{Area, BlobStore};
use dit_core::service::inbound::process_inbound;
use dit_core::service::report::Outcome;
use dit_core::service::Context;
use dit_embedded::folders::FolderBlobs;
use dit_embedded::sqlite::SqliteStore;

use crate::EXIT_FAILED;

const ORGS: &str = "[[organisation]]\nvpd = \"504\"\nname = \"Bench Trust\"\nlocal_office = \"KSS\"\nmode = \"full\"\nlive = true\n";

/// Positions needed so that no position has more than 20 records.
fn positions_for(records: u64) -> u64 {
    records.div_ceil(20).max(1)
}

fn dpn(position: u64) -> String {
    format!(
        "KSS/RJZ01/{:03}/STR/{:03}",
        position / 1000,
        position % 1000
    )
}

pub fn pos_file(records: u64) -> String {
    let positions = positions_for(records);
    let mut text = String::from("HDR,POS,504,20261121,00000001,2026-11-21T13:00:00Z,1\n");
    for p in 0..positions {
        let id = 10_000_000 + p;
        let _ = writeln!(
            text,
            "POS,{id},{id},{id}|Specialty Registrar|ST4|Medicine,{},KSS,Lead Employer,2020-01-01,,N1L,ST4,Site,RXX,504 Bench",
            dpn(p)
        );
    }
    let _ = writeln!(text, "TRL,{positions}");
    text
}

pub fn app_file(records: u64) -> String {
    let positions = positions_for(records);
    let mut text = String::from("HDR,APP,KSS,20261121,00000001,2026-11-21T13:00:00Z,1\n");
    for r in 0..records {
        let p = r % positions;
        let id = 10_000_000 + p;
        let _ = writeln!(
            text,
            "APP,{},2026-11-21,{id},{id},{},Surname{r},Forename{r},,Dr,1990-01-31,F,{},,,,f{r}@example.nhs.uk,,07700900000,1 Street,,,Town,,EX1 1AA,GB,GB,GB,Z,S,,,N,,2027-02-03,2027-08-03,1.0,ST4",
            8_000_000 + r,
            dpn(p),
            7_000_000 + r
        );
    }
    let _ = writeln!(text, "TRL,{records}");
    text
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub async fn run(records: u64) -> u8 {
    match bench(records).await {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("error: {message}");
            EXIT_FAILED
        }
    }
}

async fn bench(records: u64) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("dit-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = measure(&dir, records).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure(dir: &Path, records: u64) -> Result<(), String> {
    let store = SqliteStore::open(&dir.join("state.db")).map_err(|e| e.to_string())?;
    let blobs = FolderBlobs::new(dir);
    let organisations = Organisations::from_toml(ORGS, "bench").map_err(|e| e.to_string())?;
    let ctx = Context::new(&store, &blobs, &organisations, Utc::now());
    let app = app_file(records);
    let app_bytes = app.len();
    for (name, text) in [
        ("ESR_504_POS_20261121_00000001.DAT", pos_file(records)),
        ("DE_KSS_APP_20261121_00000001.DAT", app),
    ] {
        blobs
            .put(Area::Inbound, name, text.into_bytes(), "text/plain")
            .await
            .map_err(|e| e.to_string())?;
        let started = Instant::now();
        let report = process_inbound(&ctx, name, None)
            .await
            .map_err(|e| e.to_string())?;
        let seconds = started.elapsed().as_secs_f64();
        if report.outcome != Outcome::Processed {
            return Err(format!("{name} was not processed: {:?}", report.outcome));
        }
        let count = if name.starts_with("ESR") {
            positions_for(records)
        } else {
            records
        };
        println!(
            "{name:<36} {count:>8} records {seconds:>8.3} s {:>10.0} records/s",
            count as f64 / seconds.max(1e-9)
        );
        if name.starts_with("DE") && report.loaded != records {
            return Err(format!("expected {records} loaded, got {}", report.loaded));
        }
    }
    println!("APP file size {:.1} MiB", app_bytes as f64 / 1_048_576.0);
    if let Some(kib) = peak_rss_kib() {
        println!("peak resident memory {:.1} MiB", kib as f64 / 1024.0);
    }
    Ok(())
}

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

/// `dit bench --portal`: the portal's pages for a trust with `records` applicants (plus their
/// notification), rendered in-process through the router on the embedded store, each page asked
/// `ROUNDS` times; prints the median and the slowest time per page.
pub async fn portal(records: u64) -> u8 {
    let dir = std::env::temp_dir().join(format!("dit-bench-portal-{}", std::process::id()));
    let result = match std::fs::create_dir_all(&dir) {
        Ok(()) => measure_portal(&dir, records).await,
        Err(e) => Err(e.to_string()),
    };
    let _ = std::fs::remove_dir_all(&dir);
    match result {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("error: {message}");
            EXIT_FAILED
        }
    }
}

const ROUNDS: usize = 30;

async fn measure_portal(dir: &Path, records: u64) -> Result<(), String> {
    use std::sync::Arc;
    use tower::ServiceExt;

    let organisations = Organisations::from_toml(ORGS, "bench").map_err(|e| e.to_string())?;
    {
        let store = SqliteStore::open(&dir.join("state.db")).map_err(|e| e.to_string())?;
        let blobs = FolderBlobs::new(dir);
        let ctx = Context::new(&store, &blobs, &organisations, Utc::now());
        for (name, text) in [
            ("ESR_504_POS_20261121_00000001.DAT", pos_file(records)),
            ("DE_KSS_APP_20261121_00000001.DAT", app_file(records)),
        ] {
            blobs
                .put(Area::Inbound, name, text.into_bytes(), "text/plain")
                .await
                .map_err(|e| e.to_string())?;
            process_inbound(&ctx, name, None)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    let ports = dit_core::service::Ports {
        store: Box::new(SqliteStore::open(&dir.join("state.db")).map_err(|e| e.to_string())?),
        blobs: Box::new(FolderBlobs::new(dir)),
        organisations,
        mailer: Box::new(dit_core::ports::NoMailer),
        settings: dit_core::service::Settings::default(),
    };
    let csrf = dit_portal::CsrfKey::random()?;
    let portal = dit_portal::Portal::new(
        ports,
        csrf,
        dit_portal::Downloads::Stream,
        dit_portal::Assets::none(),
    );
    let identity =
        dit_portal::Identity::parse_as("trust:504", "bench").map_err(|e| e.to_string())?;
    let app = dit_portal::router(Arc::new(portal)).layer(axum::Extension(identity));
    let last = 8_000_000 + records - 1;
    let pages = [
        ("inbox", "/inbox".to_string()),
        ("all applicants, page 1", "/applicants".to_string()),
        (
            "search by GMC number",
            format!("/applicants?q={}", 7_000_000 + records / 2),
        ),
        ("search by name", "/applicants?q=surname1".to_string()),
        (
            "state filter",
            "/applicants?q=&state=loaded&page=2".to_string(),
        ),
        (
            "applicant page",
            format!("/applicants/{}", placement_applicant(&app, last).await?),
        ),
    ];
    println!("Portal pages for one trust with {records} applicants ({ROUNDS} rounds each, in-process, SQLite):");
    for (label, uri) in pages {
        let mut times = Vec::with_capacity(ROUNDS);
        let mut bytes = 0;
        for _ in 0..ROUNDS {
            let request = axum::http::Request::get(&uri)
                .body(axum::body::Body::empty())
                .map_err(|e| e.to_string())?;
            let started = Instant::now();
            let response = app
                .clone()
                .oneshot(request)
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .map_err(|e| e.to_string())?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            if !status.is_success() {
                return Err(format!("{uri} answered {status}"));
            }
            bytes = body.len();
        }
        times.sort_by(f64::total_cmp);
        println!(
            "  {label:<24} median {:>6.1} ms  slowest {:>6.1} ms  {:>7} bytes",
            times[ROUNDS / 2],
            times[ROUNDS - 1],
            bytes
        );
    }
    Ok(())
}

/// The applicant number the APP record of placement `placement` became (found through the portal's
/// own search, as a person would).
async fn placement_applicant(app: &axum::Router, placement: u64) -> Result<String, String> {
    use tower::ServiceExt;
    let request = axum::http::Request::get(format!("/applicants?q={placement}"))
        .body(axum::body::Body::empty())
        .map_err(|e| e.to_string())?;
    let response = app
        .clone()
        .oneshot(request)
        .await
        .map_err(|e| e.to_string())?;
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&body);
    text.split("href=\"/applicants/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_string)
        .ok_or_else(|| format!("placement {placement} not found"))
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

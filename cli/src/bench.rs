//! `dit bench`: times `dit process` on generated files against the embedded store, and reports
//! throughput and peak memory (the figures in docs/PERFORMANCE.md come from here).
//!
//! Each size runs in fresh child processes of this same binary, so that the wall time includes
//! start-up and the peak resident memory is that one run's, not the largest of several.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use chrono::Utc;
use dit_core::ports::{Area, BlobStore};
use dit_core::service::context::Context;
use dit_core::service::inbound::process_inbound;
use dit_domain::boundary::FileOrigin;
use dit_domain::org::Organisations;
use dit_embedded::folders::FolderBlobs;
use dit_embedded::sqlite::SqliteStore;

use crate::exit::{EXIT_FAILED, EXIT_USAGE};

/// The sizes `dit bench` runs without `--records`: the largest daily APP file seen, then 10k, 60k, 100k.
pub const DEFAULT_SIZES: [u64; 4] = [1_072, 10_000, 60_000, 100_000];

/// The generated APP file's name (business date 2026-11-21, as the POS files').
const APP_NAME: &str = "DE_KSS_APP_20261121_00000001.DAT";

/// Trusts get the VPD codes 100, 101, ...: three digits.
const MAX_TRUSTS: u64 = 899;

/// Records per position (ESR allows at most 40 for one position in one file).
const RECORDS_PER_POSITION: u64 = 20;

/// The shape of a generated load: `records` APP records on `records / 20` positions, the positions
/// dealt round the trusts (at most one trust per position).
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub records: u64,
    pub trusts: u64,
}

impl Shape {
    pub fn positions(self) -> u64 {
        self.records.div_ceil(RECORDS_PER_POSITION).max(1)
    }

    pub fn trusts(self) -> u64 {
        self.trusts.clamp(1, self.positions())
    }

    fn vpd(trust: u64) -> String {
        (100 + trust).to_string()
    }

    fn trust_of(self, position: u64) -> u64 {
        position % self.trusts()
    }

    pub fn organisations_toml(self) -> String {
        let mut text = String::new();
        for t in 0..self.trusts() {
            let vpd = Self::vpd(t);
            let _ = writeln!(
                text,
                "[[organisation]]\nvpd = \"{vpd}\"\nname = \"Bench Trust {vpd}\"\nlocal_office = \"KSS\"\nmode = \"full\"\nlive = true\n"
            );
        }
        text
    }

    fn dpn(position: u64) -> String {
        format!(
            "KSS/RJZ01/{:03}/STR/{:03}",
            position / 1000,
            position % 1000
        )
    }

    /// One POS file per trust: `(file name, contents)`.
    pub fn pos_files(self) -> Vec<(String, String)> {
        let mut texts: Vec<(String, String, u64)> = (0..self.trusts())
            .map(|t| {
                let vpd = Self::vpd(t);
                let header = format!("HDR,POS,{vpd},20261121,00000001,2026-11-21T13:00:00Z,1\n");
                (format!("ESR_{vpd}_POS_20261121_00000001.DAT"), header, 0)
            })
            .collect();
        for p in 0..self.positions() {
            let t = self.trust_of(p);
            let vpd = Self::vpd(t);
            let id = 10_000_000 + p;
            let (_, text, count) = &mut texts[t as usize];
            let _ = writeln!(
                text,
                "POS,{id},{id},{id}|Specialty Registrar|ST4|Medicine,{},KSS,Lead Employer,2020-01-01,,N1L,ST4,Site,RXX,{vpd} Bench",
                Self::dpn(p)
            );
            *count += 1;
        }
        texts
            .into_iter()
            .map(|(name, mut text, count)| {
                let _ = writeln!(text, "TRL,{count}");
                (name, text)
            })
            .collect()
    }

    /// The APP file: record `r` is for position `r mod positions`, so every trust's records are
    /// spread through the file.
    pub fn app_file(self) -> String {
        let positions = self.positions();
        let mut text = String::from("HDR,APP,KSS,20261121,00000001,2026-11-21T13:00:00Z,1\n");
        for r in 0..self.records {
            let p = r % positions;
            let id = 10_000_000 + p;
            let _ = writeln!(
                text,
                "APP,{},2026-11-21,{id},{id},{},Surname{r},Forename{r},,Dr,1990-01-31,F,{},,,,f{r}@example.nhs.uk,,07700900000,1 Street,,,Town,,EX1 1AA,GB,GB,GB,Z,S,,,N,,2027-02-03,2027-08-03,1.0,ST4",
                8_000_000 + r,
                Self::dpn(p),
                7_000_000 + r
            );
        }
        let _ = writeln!(text, "TRL,{}", self.records);
        text
    }

    /// Writes `organisations.toml` and the POS files into `pos`, and the APP file into `app`
    /// (both may be the same folder). Returns the APP file's path.
    pub fn write(self, pos: &Path, app: &Path) -> Result<PathBuf, String> {
        let write = |path: PathBuf, text: &str| {
            std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
        };
        for dir in [pos, app] {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        write(pos.join("organisations.toml"), &self.organisations_toml())?;
        for (name, text) in self.pos_files() {
            write(pos.join(name), &text)?;
        }
        let app_path = app.join(APP_NAME);
        write(app_path.clone(), &self.app_file())?;
        Ok(app_path)
    }
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

    // One trust (VPD 100) with every applicant.
    let shape = Shape { records, trusts: 1 };
    let organisations = Organisations::from_toml(&shape.organisations_toml(), "bench")
        .map_err(|e| e.to_string())?;
    {
        let store = SqliteStore::open(&dir.join("state.db")).map_err(|e| e.to_string())?;
        let blobs = FolderBlobs::new(dir);
        let ctx = Context::new(&store, &blobs, &organisations, Utc::now());
        let mut files = shape.pos_files();
        files.push((APP_NAME.to_string(), shape.app_file()));
        for (name, text) in files {
            let name = name.as_str();
            blobs
                .put(Area::Inbound, name, text.into_bytes(), "text/plain")
                .await
                .map_err(|e| e.to_string())?;
            process_inbound(&ctx, name, &FileOrigin::Operator, None)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    let ports = dit_core::service::context::Ports {
        store: Box::new(SqliteStore::open(&dir.join("state.db")).map_err(|e| e.to_string())?),
        blobs: Box::new(FolderBlobs::new(dir)),
        organisations,
        mailer: Box::new(dit_core::ports::NoMailer),
        settings: dit_core::service::context::Settings::default(),
    };
    let csrf = dit_portal::csrf::CsrfKey::random()?;
    let portal = dit_portal::Portal::new(
        ports,
        csrf,
        dit_portal::Downloads::Stream,
        dit_portal::assets::Assets::none(),
    );
    let identity = dit_portal::identity::Identity::parse_as("trust:100", "bench")
        .map_err(|e| e.to_string())?;
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

/// What one timed child run of `dit process` took.
struct Measured {
    seconds: f64,
    /// User plus system CPU time: steadier than the wall on a shared machine.
    cpu_seconds: f64,
    peak_rss_kib: u64,
}

/// Runs this binary with `args` (stdout discarded, stderr to `log`) and returns its wall time and
/// peak resident memory.
fn run_child(args: &[&std::ffi::OsStr], log: &Path) -> Result<Measured, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    run_program(&exe, args, log)
}

/// Runs `exe` with `args` (stdout discarded, stderr to `log`) and returns its wall time, CPU time
/// and peak resident memory.
fn run_program(exe: &Path, args: &[&std::ffi::OsStr], log: &Path) -> Result<Measured, String> {
    let stderr =
        std::fs::File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let started = Instant::now();
    let child = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    let pid = child.id() as libc::pid_t;
    // std's wait does not report the child's resource use; wait4 does (ru_maxrss, in KiB on Linux).
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value for this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own unreaped child; status and usage are valid for writes.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let seconds = started.elapsed().as_secs_f64();
    if reaped != pid {
        return Err(format!(
            "waiting for {}: {}",
            exe.display(),
            std::io::Error::last_os_error()
        ));
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        let stderr = std::fs::read_to_string(log).unwrap_or_default();
        return Err(format!(
            "`{} {}` failed (wait status {status}): {}",
            exe.display(),
            args.iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" "),
            stderr.trim()
        ));
    }
    let cpu = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok(Measured {
        seconds,
        cpu_seconds: cpu(usage.ru_utime) + cpu(usage.ru_stime),
        peak_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
    })
}

/// The machine's cores and load average (Linux's `/proc/loadavg`; `None` elsewhere), which the
/// figures of a run depend on and are written down with (docs/PERFORMANCE.md).
fn machine_load() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut averages = text.split_whitespace();
    let (one, five, fifteen) = (averages.next()?, averages.next()?, averages.next()?);
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    Some(format!(
        "machine: {cores} cores, load average {one} {five} {fifteen} (1, 5, 15 minutes) as the run began"
    ))
}

/// The reference loader `--baseline` runs beside `dit process` (benches/reference_loader.py),
/// carried in the binary so that `dit bench --baseline` runs from any folder.
const REFERENCE_LOADER: &str = include_str!("../../benches/reference_loader.py");

/// The worklist's business date and the notice report's hire-date range for the generated
/// applicants (every one starts on 2027-02-03: all of a trust's are "starting within 14 days").
const WORKLIST_DATE: &str = "2027-01-25";
const NOTICE_FROM: &str = "2027-02-01";
const NOTICE_TO: &str = "2027-02-28";

/// What one size measured: `dit process` on the APP file, then the worklist of one trust and the
/// notice report over every applicant on the loaded store, and the reference loader if asked.
struct Measurements {
    process: Measured,
    worklist: Measured,
    notice: Measured,
    reference: Option<Measured>,
}

/// Generates the files of `shape` in `dir`, loads the positions, then times `dit process` on the
/// APP file, the queries on what it loaded, and (`baseline`) the reference loader on the same file.
fn measure(dir: &Path, shape: Shape, baseline: bool) -> Result<Measurements, String> {
    let (pos, app, data) = (dir.join("pos"), dir.join("app"), dir.join("data"));
    let app_path = shape.write(&pos, &app)?;
    let data_arg = data.as_os_str();
    let log = dir.join("stderr.log");
    run_child(
        &[
            "--data-dir".as_ref(),
            data_arg,
            "process".as_ref(),
            pos.as_os_str(),
        ],
        &log,
    )?;
    let process = run_child(
        &[
            "--data-dir".as_ref(),
            data_arg,
            "process".as_ref(),
            app_path.as_os_str(),
        ],
        &log,
    )?;
    let report_path = data.join(format!("outbound/operator/files/{APP_NAME}.json"));
    let report: serde_json::Value = std::fs::read(&report_path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| format!("cannot read {}", report_path.display()))?;
    let loaded = report.get("loaded").and_then(serde_json::Value::as_u64);
    if loaded != Some(shape.records) {
        return Err(format!(
            "expected {} records loaded, the report says {loaded:?}",
            shape.records
        ));
    }
    let trust = format!("trust:{}", Shape::vpd(0));
    let worklist = run_child(
        &[
            "--data-dir".as_ref(),
            data_arg,
            "worklist".as_ref(),
            "--as".as_ref(),
            trust.as_ref(),
            "--date".as_ref(),
            WORKLIST_DATE.as_ref(),
            "--json".as_ref(),
        ],
        &log,
    )?;
    let notice = run_child(
        &[
            "--data-dir".as_ref(),
            data_arg,
            "report".as_ref(),
            "notice".as_ref(),
            "--from".as_ref(),
            NOTICE_FROM.as_ref(),
            "--to".as_ref(),
            NOTICE_TO.as_ref(),
            "--json".as_ref(),
        ],
        &log,
    )?;
    let reference = if baseline {
        Some(run_reference(dir, &pos, &app_path, &log)?)
    } else {
        None
    };
    Ok(Measurements {
        process,
        worklist,
        notice,
        reference,
    })
}

/// Runs the reference loader (`DIT_PYTHON`, default `python3`) on the same POS folder and APP file
/// into a database of its own.
fn run_reference(dir: &Path, pos: &Path, app: &Path, log: &Path) -> Result<Measured, String> {
    let script = dir.join("reference_loader.py");
    std::fs::write(&script, REFERENCE_LOADER)
        .map_err(|e| format!("cannot write {}: {e}", script.display()))?;
    let database = dir.join("reference.db");
    let python = std::env::var_os("DIT_PYTHON").unwrap_or_else(|| "python3".into());
    run_program(
        Path::new(&python),
        &[
            script.as_os_str(),
            pos.as_os_str(),
            app.as_os_str(),
            database.as_os_str(),
        ],
        log,
    )
}

pub fn run(records: Option<u64>, trusts: u64, write: Option<&Path>, baseline: bool) -> u8 {
    if !(1..=MAX_TRUSTS).contains(&trusts) {
        eprintln!("error: --trusts must be 1 to {MAX_TRUSTS}");
        return EXIT_USAGE;
    }
    if let Some(folder) = write {
        let shape = Shape {
            records: records.unwrap_or(60_000),
            trusts,
        };
        return match shape.write(folder, folder) {
            Ok(app) => {
                println!(
                    "wrote organisations.toml, {} POS file(s) and {} ({} records, {} positions) to {}",
                    shape.trusts(),
                    app.display(),
                    shape.records,
                    shape.positions(),
                    folder.display()
                );
                0
            }
            Err(message) => {
                eprintln!("error: {message}");
                EXIT_FAILED
            }
        };
    }
    let sizes: Vec<u64> = records.map_or(DEFAULT_SIZES.to_vec(), |n| vec![n]);
    if sizes.contains(&0) {
        eprintln!("error: --records must be at least 1");
        return EXIT_USAGE;
    }
    // Read before the first run: what the figures are to be written down with.
    let machine = machine_load();
    println!(
        "{:>8} {:>7} {:>9} {:>8} {:>8} {:>8} {:>10} {:>13} {:>12} {:>10}{}",
        "records",
        "trusts",
        "positions",
        "APP MiB",
        "wall s",
        "CPU s",
        "records/s",
        "peak RSS MiB",
        "worklist ms",
        "notice ms",
        if baseline {
            "  reference s  ref CPU s  ratio"
        } else {
            ""
        }
    );
    // Each size's folder is removed only after the last size is measured: ext4 without a
    // journal (as on these build machines) passes over every inode deleted in the last minutes
    // when it creates a file, so removing one size's 1,400 output files just before the next
    // size made that size's file creation several times slower (docs/PERFORMANCE.md).
    let mut folders = Vec::new();
    let mut failed = false;
    for records in sizes {
        let shape = Shape { records, trusts };
        let dir = std::env::temp_dir().join(format!("dit-bench-{}-{records}", std::process::id()));
        let result = measure(&dir, shape, baseline);
        let app_bytes = std::fs::metadata(dir.join("app").join(APP_NAME)).map_or(0, |m| m.len());
        folders.push(dir);
        match result {
            Ok(m) => {
                let p = &m.process;
                let reference = m.reference.as_ref().map_or(String::new(), |r| {
                    format!(
                        "  {:>11.3} {:>10.3} {:>6.2}",
                        r.seconds,
                        r.cpu_seconds,
                        p.seconds / r.seconds.max(1e-9)
                    )
                });
                println!(
                    "{:>8} {:>7} {:>9} {:>8.1} {:>8.3} {:>8.3} {:>10.0} {:>13.1} {:>12.1} {:>10.1}{reference}",
                    records,
                    shape.trusts(),
                    shape.positions(),
                    app_bytes as f64 / 1_048_576.0,
                    p.seconds,
                    p.cpu_seconds,
                    records as f64 / p.seconds.max(1e-9),
                    p.peak_rss_kib as f64 / 1024.0,
                    m.worklist.seconds * 1000.0,
                    m.notice.seconds * 1000.0,
                );
            }
            Err(message) => {
                eprintln!("error: {records} records: {message}");
                failed = true;
                break;
            }
        }
    }
    if baseline {
        println!(
            "ratio: dit's wall time over the reference loader's (benches/reference_loader.py; target <= 0.5)"
        );
    }
    println!("worklist ms, notice ms: `dit worklist` for one trust and `dit report notice` over every applicant, each a whole process on the loaded store");
    if let Some(machine) = machine {
        println!("{machine}");
    }
    for dir in folders {
        let _ = std::fs::remove_dir_all(&dir);
    }
    if failed {
        EXIT_FAILED
    } else {
        0
    }
}

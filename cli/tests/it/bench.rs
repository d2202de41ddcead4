//! `dit bench`: the generated files are sound (every record loads) and the report has its columns.
//! Only shapes and counts are checked here; the timings are for docs/PERFORMANCE.md.

use std::path::Path;
use std::process::Command;

fn dit(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_dit"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn written_files_spread_positions_over_the_trusts_and_every_record_loads() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    let (status, out, err) = dit(&[
        "bench",
        "--records",
        "130",
        "--trusts",
        "3",
        "--write",
        path(&files),
    ]);
    assert_eq!(status, 0, "{out}{err}");
    let organisations = std::fs::read_to_string(files.join("organisations.toml")).unwrap();
    assert_eq!(organisations.matches("[[organisation]]").count(), 3);
    // 130 records at 20 a position: 7 positions, dealt round 3 trusts (3, 2, 2).
    for (vpd, positions) in [("100", 3), ("101", 2), ("102", 2)] {
        let pos =
            std::fs::read_to_string(files.join(format!("ESR_{vpd}_POS_20261121_00000001.DAT")))
                .unwrap();
        assert_eq!(
            pos.lines().filter(|l| l.starts_with("POS,")).count(),
            positions
        );
        assert!(pos.ends_with(&format!("TRL,{positions}\n")), "{vpd}");
    }
    let app = std::fs::read_to_string(files.join("DE_KSS_APP_20261121_00000001.DAT")).unwrap();
    assert_eq!(app.lines().filter(|l| l.starts_with("APP,")).count(), 130);

    let data = dir.path().join("data");
    let (status, out, err) = dit(&["--data-dir", path(&data), "process", path(&files)]);
    assert_eq!(status, 0, "{out}{err}");
    assert!(
        out.contains("130 records, 130 loaded, 0 rejected, 0 warnings"),
        "{out}"
    );
    for vpd in ["100", "101", "102"] {
        assert!(data
            .join(format!(
                "outbound/trusts/{vpd}/notifications/DE_KSS_APP_20261121_00000001.deanery-applicant-notification.json"
            ))
            .is_file());
    }
}

#[test]
fn a_bench_run_reports_its_size_throughput_and_memory() {
    let (status, out, err) = dit(&["bench", "--records", "60", "--trusts", "2"]);
    assert_eq!(status, 0, "{out}{err}");
    let mut lines = out.lines();
    let header = lines.next().unwrap();
    for column in [
        "records",
        "trusts",
        "positions",
        "wall s",
        "records/s",
        "peak RSS MiB",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(&row[..3], ["60", "2", "3"], "{out}");
    let peak_mib: f64 = row.last().unwrap().parse().unwrap();
    assert!(peak_mib > 1.0, "{out}");
}

#[test]
fn a_baseline_run_times_the_reference_loader_on_the_same_files_and_gives_the_ratio() {
    let (status, out, err) = dit(&["bench", "--records", "60", "--trusts", "2", "--baseline"]);
    assert_eq!(status, 0, "{out}{err}");
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header.last(), Some(&"ratio"), "{out}");
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(&row[..3], ["60", "2", "3"], "{out}");
    let number = |text: &str| {
        text.parse::<f64>()
            .unwrap_or_else(|_| panic!("{text}: {out}"))
    };
    let (dit_wall, reference, ratio) = (
        number(row[4]),
        number(row[row.len() - 3]),
        number(row[row.len() - 1]),
    );
    assert!(reference > 0.0, "{out}");
    // The ratio as printed (two decimals) is dit's wall time over the reference's, each printed
    // to the millisecond: within what those roundings allow.
    let rounding = 0.005 + 0.0005 * (1.0 + ratio) / reference;
    assert!(
        (ratio - dit_wall / reference).abs() <= rounding + 1e-9,
        "{out}"
    );
    if cfg!(target_os = "linux") {
        assert!(
            out.lines()
                .any(|l| l.starts_with("machine: ") && l.contains("load average")),
            "{out}"
        );
    }
}

#[test]
fn trusts_out_of_range_are_a_usage_error() {
    let (status, _, err) = dit(&["bench", "--records", "10", "--trusts", "0"]);
    assert_eq!(status, 2, "{err}");
    assert!(err.contains("--trusts"), "{err}");
}

#[test]
fn the_portal_bench_renders_every_page_for_one_trust() {
    let (status, out, err) = dit(&["bench", "--portal", "--records", "40"]);
    assert_eq!(status, 0, "{out}{err}");
    assert!(out.contains("one trust with 40 applicants"), "{out}");
    for page in ["inbox", "search by GMC number", "applicant page"] {
        assert!(out.contains(page), "{page}: {out}");
    }
}

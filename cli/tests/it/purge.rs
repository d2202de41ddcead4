//! `dit purge --date D` on a data directory (section 8): files leave `inbound/`, `quarantine/` and
//! `outbound/` by their age and their folder's period, records leave `state.db` on their day, and
//! what was removed is printed by count only.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::NaiveDate;

use crate::common::dit;

/// Noon (UTC) of `days` days before `date`: the file's age as `dit purge --date date` sees it.
fn days_before(date: NaiveDate, days: u64) -> SystemTime {
    let day = date - chrono::Days::new(days);
    let seconds = day.and_hms_opt(12, 0, 0).unwrap().and_utc().timestamp();
    SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).unwrap())
}

/// Writes `path` (making its folder) last modified `days` days before `date`.
fn file_aged(path: &Path, date: NaiveDate, days: u64) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, b"x").unwrap();
    aged(path, date, days)
}

/// Makes the existing file `path` last modified `days` days before `date`.
fn aged(path: &Path, date: NaiveDate, days: u64) -> PathBuf {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(days_before(date, days))
        .unwrap();
    path.to_path_buf()
}

/// The count printed on the line of `what`.
fn count(out: &str, what: &str) -> u64 {
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with(what))
        .unwrap_or_else(|| panic!("no line {what:?} in\n{out}"));
    line.trim_start()[what.len()..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count on {line:?}"))
}

#[test]
fn files_leave_each_folder_after_its_period_and_config_stays() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let (status, _, _) = dit(&data, &["process", "events/files/"]);
    assert_eq!(status, 3, "the samples include quarantined files");
    // Judged on today: the samples just processed are new and stay.
    let date = chrono::Utc::now().date_naive();
    let date_arg = date.to_string();

    // (folder, its period): one file a day past it (removed), one on its last day (kept).
    let mut removed = Vec::new();
    let mut kept = Vec::new();
    for (folder, days) in [
        ("inbound/tis", 30),
        ("quarantine", 30),
        ("outbound/tis/KSS", 30),
        ("outbound/trusts/504/notifications", 90),
        ("outbound/trac/messages", 90),
        ("outbound/mail/504", 90),
        ("outbound/operator/files", 365),
    ] {
        removed.push(file_aged(
            &data.join(folder).join("old.json"),
            date,
            days + 1,
        ));
        kept.push(file_aged(&data.join(folder).join("new.json"), date, days));
    }
    // Configuration is not data: never removed, however old.
    kept.push(file_aged(&data.join("outbound/config/x.toml"), date, 4000));
    kept.push(aged(&data.join("organisations.toml"), date, 4000));

    let inbound_before = files_under(&data.join("inbound"));
    let (status, out, err) = dit(&data, &["purge", "--date", &date_arg]);
    assert_eq!(status, 0, "{out}{err}");
    for path in &removed {
        assert!(!path.exists(), "{} should be gone\n{out}", path.display());
    }
    for path in &kept {
        assert!(path.exists(), "{} should be kept\n{out}", path.display());
    }
    assert_eq!(count(&out, "inbound/"), 1, "{out}");
    assert_eq!(count(&out, "quarantine/"), 1, "{out}");
    assert_eq!(count(&out, "outbound/tis/"), 1, "{out}");
    assert_eq!(count(&out, "outbound/trusts/"), 1, "{out}");
    assert_eq!(count(&out, "outbound/trac/"), 1, "{out}");
    assert_eq!(count(&out, "outbound/mail/"), 1, "{out}");
    assert_eq!(count(&out, "outbound/operator/"), 1, "{out}");
    // The samples' files, written today, are all still there.
    assert_eq!(files_under(&data.join("inbound")), inbound_before - 1);
}

fn files_under(folder: &Path) -> usize {
    std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                files_under(&entry.path())
            } else {
                1
            }
        })
        .sum()
}

#[test]
fn records_leave_state_db_on_their_day_and_a_rerun_removes_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let (status, _, _) = dit(&data, &["process", "events/files/"]);
    assert_eq!(status, 3);

    // The samples' applicants start in 2027 and none ends after 2029: kept through 2027.
    let (status, out, err) = dit(&data, &["purge", "--date", "2027-01-01"]);
    assert_eq!(status, 0, "{out}{err}");
    assert_eq!(count(&out, "applicants"), 0, "{out}");
    let (status, shown, _) = dit(&data, &["show", "5000001"]);
    assert_eq!(status, 0, "{shown}");

    let (status, out, err) = dit(&data, &["purge", "--date", "2031-01-01"]);
    assert_eq!(status, 0, "{out}{err}");
    assert!(count(&out, "applicants") > 0, "{out}");
    assert!(count(&out, "history entries") > 0, "{out}");
    assert!(count(&out, "placement links") > 0, "{out}");
    assert!(count(&out, "rejected applications") > 0, "{out}");
    assert!(count(&out, "rotation grid rows") > 0, "{out}");
    assert!(count(&out, "processed-file records") > 0, "{out}");
    assert!(count(&out, "TIS numbers received") > 0, "{out}");
    let (status, _, _) = dit(&data, &["show", "5000001"]);
    assert_ne!(status, 0, "applicant 5000001 is gone");

    let (status, again, _) = dit(&data, &["purge", "--date", "2031-01-01"]);
    assert_eq!(status, 0);
    for what in [
        "applicants",
        "history entries",
        "placement links",
        "person updates",
        "person records",
        "rejected applications",
        "rotation grid rows",
        "processed-file records",
        "TIS numbers received",
    ] {
        assert_eq!(count(&again, what), 0, "{what}: {again}");
    }
}

#[test]
fn a_missing_data_directory_or_date_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let (status, _, _) = dit(&dir.path().join("none"), &["purge", "--date", "2027-01-01"]);
    assert_eq!(status, 2);
    let (status, _, _) = dit(dir.path(), &["purge"]);
    assert_eq!(status, 2);
    let (status, _, _) = dit(dir.path(), &["purge", "--date", "01/01/2027"]);
    assert_eq!(status, 2);
}

/// Every file under `dir` whose name starts with `state.db` (the database, its WAL and shared
/// memory), read whole.
fn state_db_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("state.db"))
        })
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

#[test]
fn purged_personal_data_leaves_no_trace_in_state_db_or_its_wal() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let (status, _, _) = dit(&data, &["process", "events/files/"]);
    assert_eq!(status, 3);
    // A sample applicant's surname and GMC number are in the database before the purge.
    let before = state_db_bytes(&data);
    for text in ["Okafor", "7544158"] {
        assert!(
            before.iter().any(|(_, bytes)| holds(bytes, text)),
            "{text} is stored before the purge"
        );
    }
    let (status, out, err) = dit(&data, &["purge", "--date", "2031-01-01"]);
    assert_eq!(status, 0, "{out}{err}");
    assert!(count(&out, "applicants") > 0, "{out}");
    for (file, bytes) in state_db_bytes(&data) {
        for text in ["Okafor", "7544158"] {
            assert!(!holds(&bytes, text), "{text} is still in {file}");
        }
    }
}

#[cfg(unix)]
#[test]
fn the_data_directory_is_0700_and_every_file_dit_creates_in_it_0600() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let (status, _, _) = dit(&data, &["process", "events/files/"]);
    assert_eq!(status, 3);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "{}", data.display());
    let mut pending = vec![data.clone()];
    let (mut files, mut folders) = (0, 0);
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                assert_eq!(mode(&path), 0o700, "{}", path.display());
                folders += 1;
                pending.push(path);
            } else {
                assert_eq!(mode(&path), 0o600, "{}", path.display());
                files += 1;
            }
        }
    }
    // state.db and its WAL, the copied inputs, outputs, quarantined files, .eml alerts.
    assert!(
        files > 20 && folders > 5,
        "{files} files, {folders} folders"
    );
    assert!(data.join("state.db").is_file());
}

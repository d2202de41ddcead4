//! `dit report notice|states|exceptions` on the sample data (section 12): the JSON, the CSV with the same
//! figures and formula-safe cells, and the errors of a bad range or of two formats at once. The
//! figures themselves are checked on hand-computed files in `tests/it/reports.rs`.

use crate::common::dit;
use dit_domain::reports::STATE_COLUMNS;
use serde_json::Value;

/// `dit report KIND --from FROM --to TO MORE...` on `data`: exit status, stdout, stderr.
fn report(
    data: &std::path::Path,
    kind: &str,
    (from, to): (&str, &str),
    more: &[&str],
) -> (i32, String, String) {
    let mut args = vec!["report", kind, "--from", from, "--to", to];
    args.extend_from_slice(more);
    dit(data, &args)
}

#[test]
fn the_sample_reports_print_json_csv_and_text_with_the_same_figures() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let (status, _, _) = dit(&data, &["process", "events/files/"]);
    assert_eq!(status, 3, "the samples include quarantined files");
    let year = ("2027-01-01", "2027-12-31");

    let (status, out, err) = report(&data, "notice", year, &["--json"]);
    assert_eq!(status, 0, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["from"], "2027-01-01");
    let rows = json["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    let summed: u64 = rows.iter().map(|r| r["count"].as_u64().unwrap()).sum();
    assert_eq!(json["total"]["count"].as_u64().unwrap(), summed);

    let (status, csv, err) = report(&data, "notice", year, &["--csv"]);
    assert_eq!(status, 0, "{err}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "local_office,vpd,count,median_days,under_12_weeks,under_12_weeks_pct,under_8_weeks,under_2_weeks,late_changes"
    );
    assert_eq!(
        lines.len(),
        rows.len() + 2,
        "header, a row per trust, the total"
    );
    let first: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(first[1], rows[0]["vpd"].as_str().unwrap());
    assert_eq!(first[2], rows[0]["count"].to_string());
    assert!(lines
        .last()
        .unwrap()
        .starts_with(&format!("Total,,{summed},")));

    let (status, text, err) = report(&data, "states", year, &[]);
    assert_eq!(status, 0, "{err}");
    assert!(text.starts_with("Applicants by state, hire dates 2027-01-01 to 2027-12-31"));
    let (status, states, _) = report(&data, "states", year, &["--json"]);
    assert_eq!(status, 0);
    let states: Value = serde_json::from_str(&states).unwrap();
    let loaded: u64 = ["loaded", "offered", "accepted", "hired", "withdrawn"]
        .iter()
        .map(|s| states["total"][s].as_u64().unwrap())
        .sum();
    assert_eq!(loaded, summed, "the same applicants in both reports");

    // The sample file's rejected records, without what identifies the person (its invalid date
    // of birth is withheld from the message).
    let (status, csv, err) = report(
        &data,
        "exceptions",
        ("2026-11-21", "2026-11-21"),
        &["--csv"],
    );
    assert_eq!(status, 0, "{err}");
    assert!(csv.starts_with(
        "local_office,message,placement_id,vpd,dpn,position_number,source_file,record_number\n"
    ));
    assert!(
        csv.contains("Invalid date (withheld) for DATE_OF_BIRTH"),
        "{csv}"
    );
    assert!(!csv.contains("1994-02-30"), "{csv}");
}

#[test]
fn a_bad_range_and_two_formats_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    dit(&data, &["process", "events/files/"]);
    let (status, _, err) = report(&data, "notice", ("2027-02-01", "2027-01-01"), &[]);
    assert_eq!(status, 1, "{err}");
    assert!(
        err.contains("--from 2027-02-01 is after --to 2027-01-01"),
        "{err}"
    );
    let (status, _, err) = report(&data, "notice", ("2027-01-01", "2028-06-01"), &[]);
    assert_eq!(status, 1, "{err}");
    assert!(err.contains("over 400 days"), "{err}");
    let (status, _, err) = report(
        &data,
        "states",
        ("2027-01-01", "2027-01-31"),
        &["--json", "--csv"],
    );
    assert_eq!(status, 2, "a usage error: {err}");
    let (status, _, err) = report(
        &data,
        "exceptions",
        ("2026-11-21", "2026-11-21"),
        &["--vpd", "504"],
    );
    assert_eq!(status, 2, "exceptions takes no --vpd: {err}");
    assert!(err.contains("report exceptions has no --vpd"), "{err}");
    // An office or trust organisations.toml does not name: an empty report, and a note saying why.
    let (status, out, err) = report(
        &data,
        "notice",
        ("2027-01-01", "2027-12-31"),
        &["--local-office", "XYZ", "--vpd", "998", "--json"],
    );
    assert_eq!(status, 0, "{err}");
    assert!(
        err.contains("local office XYZ is not in organisations.toml"),
        "{err}"
    );
    assert!(
        err.contains("trust 998 is not in organisations.toml"),
        "{err}"
    );
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["rows"].as_array().map(Vec::len), Some(0), "{out}");
}

/// `dit serve --as WHO` on `data`: each path fetched with the session its sign-in link gives,
/// through a plain socket; the answers (status line, headers, body) in order.
fn served(data: &std::path::Path, who: &str, paths: &[String]) -> Vec<String> {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut child = crate::common::command(data)
        .args(["serve", "--as", who, "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut line, mut sign_in) = (String::new(), String::new());
    out.read_line(&mut line).unwrap();
    out.read_line(&mut sign_in).unwrap();
    let address = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    let sign_in = sign_in
        .split(&format!("http://{address}"))
        .nth(1)
        .unwrap_or_else(|| panic!("no sign-in URL in {sign_in:?}"))
        .trim()
        .to_string();
    let get = |path: &str, cookie: &str| {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {address}\r\n{cookie}Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    };
    let signed_in = get(&sign_in, "");
    let pair = signed_in
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("no cookie in {signed_in}"))
        .to_string();
    let answers = paths
        .iter()
        .map(|path| get(path, &format!("Cookie: {pair}\r\n")))
        .collect();
    child.kill().unwrap();
    child.wait().unwrap();
    answers
}

fn body(answer: &str) -> &str {
    answer.split_once("\r\n\r\n").map_or("", |(_, body)| body)
}

#[test]
fn the_portals_csv_downloads_are_the_clis_csv_for_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let (status, _, _) = dit(&data, &["process", "events/files/"]);
    assert_eq!(status, 3, "the samples include quarantined files");
    let cli = |args: &[&str]| {
        let (status, out, err) = dit(&data, args);
        assert_eq!(status, 0, "{args:?}: {err}");
        assert!(out.lines().count() > 1, "{args:?}: {out}");
        out
    };
    let year = ["--from", "2027-01-01", "--to", "2027-12-31", "--csv"];
    let notice = cli(&[&["report", "notice"][..], &year].concat());
    let states = cli(&[&["report", "states"][..], &year].concat());
    let exceptions = cli(&[
        "report",
        "exceptions",
        "--from",
        "2026-11-21",
        "--to",
        "2026-11-21",
        "--csv",
    ]);
    let own_states = cli(&[&["report", "states", "--vpd", "504"][..], &year].concat());

    let range = "from=2027-01-01&to=2027-12-31";
    let answers = served(
        &data,
        "operator",
        &[
            format!("/reports/notice.csv?{range}"),
            format!("/reports/states.csv?{range}"),
            "/reports/exceptions.csv?from=21/11/2026&to=21/11/2026".to_string(),
        ],
    );
    for (answer, expected) in answers.iter().zip([&notice, &states, &exceptions]) {
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("content-type: text/csv"), "{answer}");
        assert_eq!(body(answer), expected.as_str());
    }
    // A trust gets its own rows whatever trust the query string names.
    let answers = served(
        &data,
        "trust:504",
        &[format!("/reports/states.csv?{range}&vpd=505")],
    );
    assert_eq!(body(&answers[0]), own_states);
    assert!(!body(&answers[0]).contains(",505,"));
}

/// Every placement id of the sample APP files, in order, once each.
fn sample_placement_ids() -> Vec<String> {
    let files = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/files");
    let mut names: Vec<_> = std::fs::read_dir(&files)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.contains("_APP_"))
        .collect();
    names.sort();
    let mut ids = Vec::new();
    for name in names {
        let text = String::from_utf8_lossy(&std::fs::read(files.join(name)).unwrap()).into_owned();
        for line in text.lines().filter(|l| l.starts_with("APP,")) {
            let id = line.split(',').nth(1).unwrap_or_default().to_string();
            if !id.is_empty() && !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

#[test]
fn the_state_and_exception_reports_agree_with_dit_show_on_every_sample_placement() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let (status, _, _) = dit(&data, &["process", "events/files/"]);
    assert_eq!(status, 3, "the samples include quarantined files");
    let (from, to) = ("2027-01-01", "2027-12-31");
    // What `dit show` says of each placement: each applicant and rejected record once (a
    // placement id may lead to an applicant of another placement, as an internal move does).
    let mut applicants = std::collections::BTreeMap::new();
    let mut rejected = std::collections::BTreeMap::new();
    for id in sample_placement_ids() {
        let (status, out, err) = dit(&data, &["show", "--json", &id]);
        if status != 0 {
            // Only in quarantined files (nothing of a quarantined file is loaded or rejected).
            assert!(
                err.contains("No applicant or rejected application found"),
                "{err}"
            );
            continue;
        }
        for shown in serde_json::from_str::<Vec<Value>>(&out).unwrap() {
            if let Some(applicant) = shown.get("applicant") {
                let number = applicant["applicant_number"].as_str().unwrap().to_string();
                applicants.insert(number, applicant.clone());
            } else {
                let record = shown["rejected_application"].clone();
                let key = (
                    record["source_file"].as_str().unwrap().to_string(),
                    record["record_number"].as_u64().unwrap(),
                );
                rejected.insert(key, record);
            }
        }
    }
    // Counted as the state report counts them.
    let in_range = |date: &Value| date.as_str().is_some_and(|d| (from..=to).contains(&d));
    let mut by_show: std::collections::BTreeMap<(String, String, String), u64> =
        std::collections::BTreeMap::new();
    for applicant in applicants.values() {
        let state = applicant["state"].as_str().unwrap().to_string();
        if in_range(&applicant["projected_hire_date"]) && state != "received" {
            let key = (
                applicant["local_office"].as_str().unwrap().to_string(),
                applicant["vpd"].as_str().unwrap().to_string(),
                state,
            );
            *by_show.entry(key).or_default() += 1;
        }
    }
    for record in rejected.values() {
        if let (Some(vpd), true) = (
            record["vpd"].as_str(),
            in_range(&record["projected_hire_date"]),
        ) {
            let key = (
                record["local_office"].as_str().unwrap().to_string(),
                vpd.to_string(),
                "rejected".to_string(),
            );
            *by_show.entry(key).or_default() += 1;
        }
    }
    let rejected_by_show: std::collections::BTreeSet<_> = rejected.into_keys().collect();
    assert!(
        by_show.keys().any(|(_, _, state)| state == "rejected"),
        "the samples have rejected records in the range: {by_show:?}"
    );

    let (status, out, err) = report(&data, "states", (from, to), &["--json"]);
    assert_eq!(status, 0, "{err}");
    let states: Value = serde_json::from_str(&out).unwrap();
    let mut by_report = std::collections::BTreeMap::new();
    for row in states["rows"].as_array().unwrap() {
        for state in STATE_COLUMNS {
            let count = row[state].as_u64().unwrap();
            if count > 0 {
                let key = (
                    row["local_office"].as_str().unwrap().to_string(),
                    row["vpd"].as_str().unwrap().to_string(),
                    state.to_string(),
                );
                by_report.insert(key, count);
            }
        }
    }
    assert_eq!(by_report, by_show, "states report against dit show");

    // Every rejected record of the exception report is one `dit show` finds by its placement id.
    let (status, out, err) = report(
        &data,
        "exceptions",
        ("2026-11-21", "2026-11-22"),
        &["--json"],
    );
    assert_eq!(status, 0, "{err}");
    let exceptions: Value = serde_json::from_str(&out).unwrap();
    let mut listed = Vec::new();
    for group in exceptions["groups"].as_array().unwrap() {
        for record in group["records"].as_array().unwrap() {
            // A record whose PLACEMENT_ID was the missing item has no id to show it by.
            if record["placement_id"]
                .as_str()
                .is_some_and(|id| !id.is_empty())
            {
                listed.push((
                    record["source_file"].as_str().unwrap().to_string(),
                    record["record_number"].as_u64().unwrap(),
                ));
            }
        }
    }
    assert!(!listed.is_empty(), "{out}");
    for record in &listed {
        assert!(
            rejected_by_show.contains(record),
            "{record:?} of the exception report is not what dit show shows"
        );
    }
}

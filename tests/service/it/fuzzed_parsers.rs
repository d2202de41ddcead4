//! Every parser of outside input, fuzzed: arbitrary bytes and mutated valid inputs never panic, and
//! every refusal is a typed error carrying a reason (a quarantine code and sentence, a record
//! message, a named parse error).
//!
//! The parsers: the file name and HDR/TRL envelope scan, the APP, POS and DNC record parsers, the
//! trust/Trac message parser, the S3-via-SQS notification parser and the schedule payload. The
//! valid inputs mutated are the samples of `events/`. Then the whole inbound service and the
//! message service run on mutated inputs (SQLite in memory, folders): bad input must end in a
//! quarantine or a refusal, never in a panic or an error.
//!
//! [`CASES`] inputs per property keep the run to seconds; `PROPTEST_CASES` is not read, so CI
//! fuzzes exactly what `docs/RELIABILITY.md` says.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{NaiveDate, TimeZone, Utc};
use dit_core::ports::Area;
use dit_core::service::inbound::process_inbound;
use dit_core::service::messages::handle_message;
use dit_core::service::report::Outcome;
use dit_domain::actions;
use dit_domain::app::{check_record, RawApp, APP_FIELDS};
use dit_domain::boundary::{FileOrigin, MessageSender, Principal};
use dit_domain::dnc::{read_record, DNC_FIELDS};
use dit_domain::envelope::{scan, FileName, FileType, LineReader, QuarantineReason};
use dit_domain::messages::MessageType;
use dit_domain::pos::{read_position, POS_FIELDS};
use dit_test_support::samples::{embedded_ports, process_samples_into, repo};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

/// Inputs generated per property.
const CASES: u32 = 256;
/// Inputs per property that run a whole service (each on a fresh store).
const SERVICE_CASES: u32 = 96;

fn config(cases: u32) -> Config {
    Config {
        cases,
        // Shrunk failures are printed; nothing is written into the source tree.
        failure_persistence: None,
        ..Config::default()
    }
}

/// Runs a property, counting the inputs it saw (printed for `docs/RELIABILITY.md`).
fn check<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let seen = AtomicU64::new(0);
    let mut runner = TestRunner::new(config(cases));
    let result = runner.run(&strategy, |value| {
        seen.fetch_add(1, Ordering::Relaxed);
        test(value)
    });
    eprintln!("fuzzed {name}: {} inputs", seen.load(Ordering::Relaxed));
    if let Err(err) = result {
        panic!("{name}: {err}");
    }
}

// ---------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------

fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The sample `.DAT` files (name, bytes).
fn sample_files() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(repo().join("events/files"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "DAT"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                read(p),
            )
        })
        .collect();
    files.sort();
    files
}

/// The sample files whose name parses as an inbound file.
fn inbound_samples() -> Vec<(String, Vec<u8>)> {
    sample_files()
        .into_iter()
        .filter(|(name, _)| FileName::parse(name).is_ok_and(|n| n.file_type.is_inbound()))
        .collect()
}

/// The data lines (fields) of every sample file with this record code.
fn sample_records(code: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    for (_, bytes) in sample_files() {
        let mut reader = LineReader::new(&bytes);
        let mut record = csv::StringRecord::new();
        while let Ok(Some(_)) = reader.read(&mut record) {
            if record.get(0) == Some(code) {
                records.push(record.iter().map(str::to_string).collect());
            }
        }
    }
    assert!(!records.is_empty(), "no {code} sample records");
    records
}

/// The sample message bodies: the walkthrough and the single messages.
fn sample_messages() -> Vec<String> {
    let dir = repo().join("events/messages");
    let mut bodies: Vec<String> = String::from_utf8(read(dir.join("walkthrough.jsonl")))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            bodies.push(String::from_utf8(read(path)).unwrap());
        }
    }
    bodies.sort();
    bodies
}

/// The SQS message bodies of the sample S3 notifications.
fn sample_notification_bodies() -> Vec<String> {
    let mut bodies = Vec::new();
    for entry in std::fs::read_dir(repo().join("events/s3-via-sqs")).unwrap() {
        let event: Value = serde_json::from_slice(&read(entry.unwrap().path())).unwrap();
        for record in event["Records"].as_array().unwrap() {
            bodies.push(record["body"].as_str().unwrap().to_string());
        }
    }
    bodies.sort();
    bodies
}

/// The sample schedule payloads.
fn sample_schedules() -> Vec<Value> {
    let mut payloads: Vec<Value> = std::fs::read_dir(repo().join("events/schedules"))
        .unwrap()
        .map(|e| serde_json::from_slice(&read(e.unwrap().path())).unwrap())
        .collect();
    payloads.sort_by_key(Value::to_string);
    payloads
}

/// Text a field might hold: the awkward values of real files more often than pure noise.
fn field_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        2 => prop::sample::select(vec![
            "", " ", "\u{feff}", "0", "-1", "18446744073709551616", "1.0", "0.5", "abc",
            "2027-02-03", "2027-02-30", "1990-13-45", "20270203", "03/02/2027", "9999-12-31",
            "0000-01-01", "Y", "N", "NO", "YES", "Lead Employer", "Host Employer", "F", "M",
            "=cmd|' /C calc'!A0", "+SUM(A1)", "KSS/RJZ01/030/STR/001", "KSS//", "/////", "504",
            "10508064", "7000001", "\"", "\"\"", ",", "\r\n", "\n", "\u{0}", "é", "\u{202e}",
        ])
        .prop_map(str::to_string),
        1 => prop::collection::vec(prop::sample::select(b"ABCKSZ0189/ -".to_vec()), 0..80)
            .prop_map(|b| String::from_utf8(b).unwrap()),
        1 => (1usize..5000).prop_map(|n| "x".repeat(n)),
    ]
}

fn fields(count: usize) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(field_text(), count)
}

/// A valid record with some of its fields replaced.
fn mutated_record(samples: Vec<Vec<String>>) -> impl Strategy<Value = Vec<String>> {
    (
        prop::sample::select(samples),
        prop::collection::vec((any::<prop::sample::Index>(), field_text()), 1..6),
    )
        .prop_map(|(mut record, changes)| {
            for (index, text) in changes {
                let i = index.index(record.len());
                record[i] = text;
            }
            record
        })
}

/// One edit of a file's bytes.
#[derive(Debug, Clone)]
enum Edit {
    SetByte(prop::sample::Index, u8),
    Insert(prop::sample::Index, Vec<u8>),
    Delete(prop::sample::Index, usize),
    Truncate(prop::sample::Index),
    DuplicateLine(prop::sample::Index),
    DeleteLine(prop::sample::Index),
    SwapLines(prop::sample::Index, prop::sample::Index),
    ReplaceField(prop::sample::Index, prop::sample::Index, String),
    CrLf,
}

fn edit() -> impl Strategy<Value = Edit> {
    let index = any::<prop::sample::Index>;
    let structural = prop::sample::select(vec![
        b",".to_vec(),
        b"\n".to_vec(),
        b"\r\n".to_vec(),
        b"\"".to_vec(),
        b"HDR,".to_vec(),
        b"TRL,".to_vec(),
        b"APP,".to_vec(),
        vec![0xff, 0xfe],
        vec![0xEF, 0xBB, 0xBF],
    ]);
    prop_oneof![
        (index(), any::<u8>()).prop_map(|(i, b)| Edit::SetByte(i, b)),
        (
            index(),
            prop_oneof![structural, prop::collection::vec(any::<u8>(), 1..16)]
        )
            .prop_map(|(i, bytes)| Edit::Insert(i, bytes)),
        (index(), 1usize..64).prop_map(|(i, n)| Edit::Delete(i, n)),
        index().prop_map(Edit::Truncate),
        index().prop_map(Edit::DuplicateLine),
        index().prop_map(Edit::DeleteLine),
        (index(), index()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        (index(), index(), field_text()).prop_map(|(l, f, t)| Edit::ReplaceField(l, f, t)),
        Just(Edit::CrLf),
    ]
}

fn apply(bytes: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut bytes = bytes.to_vec();
    for edit in edits {
        let at = |i: &prop::sample::Index, len: usize| if len == 0 { 0 } else { i.index(len + 1) };
        let mut lines: Vec<Vec<u8>> = bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
        match edit {
            Edit::SetByte(i, b) if !bytes.is_empty() => {
                let i = i.index(bytes.len());
                bytes[i] = *b;
            }
            Edit::SetByte(..) => {}
            Edit::Insert(i, inserted) => {
                let i = at(i, bytes.len());
                bytes.splice(i..i, inserted.iter().copied());
            }
            Edit::Delete(i, n) => {
                let i = at(i, bytes.len());
                let end = (i + n).min(bytes.len());
                bytes.drain(i..end);
            }
            Edit::Truncate(i) => bytes.truncate(at(i, bytes.len())),
            Edit::DuplicateLine(i) => {
                let line = lines[i.index(lines.len())].clone();
                lines.insert(i.index(lines.len()), line);
                bytes = lines.join(&b'\n');
            }
            Edit::DeleteLine(i) => {
                lines.remove(i.index(lines.len()));
                bytes = lines.join(&b'\n');
            }
            Edit::SwapLines(a, b) => {
                let (a, b) = (a.index(lines.len()), b.index(lines.len()));
                lines.swap(a, b);
                bytes = lines.join(&b'\n');
            }
            Edit::ReplaceField(l, f, text) => {
                let l = l.index(lines.len());
                let mut fields: Vec<Vec<u8>> =
                    lines[l].split(|b| *b == b',').map(<[u8]>::to_vec).collect();
                let f = f.index(fields.len());
                fields[f] = text.as_bytes().to_vec();
                lines[l] = fields.join(&b',');
                bytes = lines.join(&b'\n');
            }
            Edit::CrLf => {
                bytes = lines.join(&b"\r\n"[..]);
            }
        }
    }
    bytes
}

/// A sample file with a few edits, under its own name.
fn mutated_file() -> impl Strategy<Value = (String, Vec<u8>)> {
    (
        prop::sample::select(inbound_samples()),
        prop::collection::vec(edit(), 1..5),
    )
        .prop_map(|((name, bytes), edits)| {
            let mutated = apply(&bytes, &edits);
            (name, mutated)
        })
}

/// Arbitrary JSON, nested a few levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        field_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(field_text(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A JSON document with one value somewhere in it replaced, a key removed, or its type changed.
fn mutated_json(samples: Vec<Value>) -> impl Strategy<Value = Value> {
    (
        prop::sample::select(samples),
        prop::collection::vec((any::<prop::sample::Index>(), json_value(), 0u8..3), 1..4),
    )
        .prop_map(|(mut value, edits)| {
            for (index, replacement, kind) in edits {
                mutate_json(&mut value, index, replacement, kind);
            }
            value
        })
}

fn mutate_json(value: &mut Value, index: prop::sample::Index, replacement: Value, kind: u8) {
    // Walk down a path chosen by `index` to some node, then edit it.
    let mut node = value;
    let mut seed = index.index(usize::MAX);
    loop {
        let children = match node {
            Value::Object(o) => o.len(),
            Value::Array(a) => a.len(),
            _ => 0,
        };
        if children == 0 || seed % 3 == 0 {
            break;
        }
        let pick = seed % children;
        seed /= 3;
        node = match node {
            Value::Object(o) => o.values_mut().nth(pick).unwrap(),
            Value::Array(a) => &mut a[pick],
            _ => unreachable!(),
        };
    }
    match (kind, &mut *node) {
        (0, Value::Object(o)) if !o.is_empty() => {
            let key = o.keys().nth(seed % o.len()).unwrap().clone();
            o.remove(&key);
        }
        (1, Value::Object(o)) => {
            let key = [
                "id",
                "action",
                "vpd",
                "applicant_number",
                "source",
                "job",
                "Records",
            ][seed % 7];
            o.insert(key.to_string(), replacement);
        }
        _ => *node = replacement,
    }
}

// ---------------------------------------------------------------------------------------------
// What a refusal must look like
// ---------------------------------------------------------------------------------------------

/// A quarantine code is a stable snake_case word; the reason is a sentence; the line is in the file.
fn is_typed_quarantine(reason: &QuarantineReason, bytes: &[u8]) -> Result<(), TestCaseError> {
    prop_assert!(
        !reason.code.is_empty()
            && reason
                .code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "code {:?}",
        reason.code
    );
    prop_assert!(!reason.reason.trim().is_empty(), "empty reason");
    if let Some(line) = reason.line {
        let lines = bytes.iter().filter(|b| **b == b'\n').count() as u64 + 1;
        prop_assert!(line >= 1 && line <= lines, "line {line} of {lines}");
    }
    Ok(())
}

fn any_file_name() -> impl Strategy<Value = FileName> {
    prop::sample::select(
        inbound_samples()
            .into_iter()
            .map(|(name, _)| FileName::parse(&name).unwrap())
            .collect::<Vec<_>>(),
    )
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

#[test]
fn file_names_never_panic_and_refusals_say_why() {
    let names = sample_files()
        .into_iter()
        .map(|(n, _)| n)
        .collect::<Vec<_>>();
    let strategy = prop_oneof![
        any::<String>(),
        (
            prop::sample::select(vec!["DE", "ESR", "XX", ""]),
            prop::sample::select(vec!["KSS", "504", "ABCDE", "", "kss"]),
            prop::sample::select(vec!["APP", "POS", "DNC", "DNF", "APC", "RMC", "", "app"]),
            prop::sample::select(vec!["20261121", "20261131", "2026112", "", "99999999"]),
            prop::sample::select(vec!["00000001", "1", "", "0000000x", "000000001"]),
            prop::sample::select(vec![".DAT", ".dat", "", ".DAT.DAT"]),
        )
            .prop_map(|(p, s, t, d, q, e)| format!("{p}_{s}_{t}_{d}_{q}{e}")),
        (
            prop::sample::select(names),
            any::<prop::sample::Index>(),
            any::<char>()
        )
            .prop_map(|(name, i, c)| {
                let mut chars: Vec<char> = name.chars().collect();
                let i = i.index(chars.len());
                chars[i] = c;
                chars.into_iter().collect()
            }),
    ];
    check("file names", CASES, strategy, |name| {
        match FileName::parse(&name) {
            Ok(parsed) => {
                prop_assert!(parsed.name.ends_with(".DAT"));
                prop_assert_eq!(parsed.seq.len(), 8);
            }
            Err(reason) => prop_assert!(!reason.trim().is_empty()),
        }
        Ok(())
    });
}

#[test]
fn the_envelope_scan_of_arbitrary_bytes_never_panics() {
    let strategy = (any_file_name(), prop::collection::vec(any::<u8>(), 0..4096));
    check(
        "envelope, arbitrary bytes",
        CASES,
        strategy,
        |(name, bytes)| {
            if let Err(reason) = scan(&bytes, &name, |_| Ok(())) {
                is_typed_quarantine(&reason, &bytes)?;
            }
            Ok(())
        },
    );
}

#[test]
fn the_envelope_scan_of_mutated_sample_files_never_panics() {
    let quarantined = AtomicU64::new(0);
    check(
        "envelope, mutated samples",
        CASES,
        mutated_file(),
        |(name, bytes)| {
            let name = FileName::parse(&name).unwrap();
            match scan(&bytes, &name, |_| Ok(())) {
                Ok(envelope) => {
                    prop_assert_eq!(envelope.header.file_type, name.file_type);
                }
                Err(reason) => {
                    quarantined.fetch_add(1, Ordering::Relaxed);
                    is_typed_quarantine(&reason, &bytes)?;
                }
            }
            Ok(())
        },
    );
    // The mutations are strong enough to break most files, so the refusals were exercised.
    assert!(quarantined.load(Ordering::Relaxed) > u64::from(CASES) / 4);
}

/// Record messages: errors with text, warnings and infos with text.
fn app_messages_are_typed(messages: &[dit_domain::messages::Message]) -> Result<(), TestCaseError> {
    for message in messages {
        prop_assert!(!message.text.trim().is_empty(), "empty message");
    }
    Ok(())
}

fn check_app(fields: Vec<String>) -> Result<(), TestCaseError> {
    match check_record(&RawApp::from_fields(fields)) {
        Ok(checked) => app_messages_are_typed(&checked.warnings)?,
        Err(errors) => {
            prop_assert!(!errors.is_empty(), "a refusal without a message");
            prop_assert!(errors.iter().any(|m| m.message_type == MessageType::Error));
            app_messages_are_typed(&errors)?;
        }
    }
    Ok(())
}

#[test]
fn app_records_never_panic_and_rejections_name_a_field() {
    let strategy = prop_oneof![
        fields(APP_FIELDS.len()),
        prop::collection::vec(field_text(), 0..50),
        mutated_record(sample_records("APP")),
    ];
    check("APP records", CASES, strategy, check_app);
}

fn check_pos(fields: Vec<String>) -> Result<(), TestCaseError> {
    let record = csv::StringRecord::from(fields);
    let date = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
    match read_position(
        &record,
        "504",
        date,
        "ESR_504_POS_20261121_00000001.DAT",
        2,
        1,
    ) {
        Ok(position) => prop_assert_eq!(position.vpd, "504"),
        Err(problems) => {
            prop_assert!(!problems.is_empty(), "a refusal without a problem");
            for problem in problems {
                prop_assert!(!problem.field.is_empty() && !problem.problem.trim().is_empty());
                prop_assert_eq!(problem.line, 2);
            }
        }
    }
    Ok(())
}

#[test]
fn pos_records_never_panic_and_problems_name_a_field() {
    let strategy = prop_oneof![
        fields(POS_FIELDS.len()),
        prop::collection::vec(field_text(), 0..30),
        mutated_record(sample_records("POS")),
    ];
    check("POS records", CASES, strategy, check_pos);
}

fn check_dnc(fields: Vec<String>) -> Result<(), TestCaseError> {
    if let Err(reason) = read_record(&csv::StringRecord::from(fields)) {
        prop_assert!(!reason.trim().is_empty(), "a refusal without a reason");
    }
    Ok(())
}

#[test]
fn dnc_records_never_panic_and_refusals_say_why() {
    let strategy = prop_oneof![
        fields(DNC_FIELDS.len()),
        prop::collection::vec(field_text(), 0..50),
        mutated_record(sample_records("DNC")),
    ];
    check("DNC records", CASES, strategy, check_dnc);
}

#[test]
fn every_record_of_a_mutated_file_parses_or_is_refused() {
    check(
        "records of mutated files",
        CASES,
        mutated_file(),
        |(name, bytes)| {
            let file_type = FileName::parse(&name).unwrap().file_type;
            let mut reader = LineReader::new(&bytes);
            let mut record = csv::StringRecord::new();
            // A CSV error ends the read, as it ends the envelope scan.
            while let Ok(Some(_)) = reader.read(&mut record) {
                let fields: Vec<String> = record.iter().map(str::to_string).collect();
                match (file_type, record.get(0)) {
                    (FileType::App, Some("APP")) => check_app(fields)?,
                    (FileType::Pos, Some("POS")) => check_pos(fields)?,
                    (FileType::Dnc | FileType::Dnf, Some("DNC")) => check_dnc(fields)?,
                    _ => {}
                }
            }
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Messages, notifications, schedules
// ---------------------------------------------------------------------------------------------

fn check_message(body: &str) -> Result<(), TestCaseError> {
    match actions::parse(body) {
        Ok(message) => {
            prop_assert!(!message.header.id.is_empty());
            if let Err(reason) = &message.request {
                prop_assert!(!reason.trim().is_empty(), "a refusal without a reason");
            }
        }
        Err(unreadable) => {
            prop_assert!(
                ["not_json", "not_object", "missing_id", "invalid_id"].contains(&unreadable.code())
            );
            prop_assert!(!unreadable.to_string().trim().is_empty());
        }
    }
    Ok(())
}

fn sample_message_values() -> Vec<Value> {
    sample_messages()
        .iter()
        .filter_map(|b| serde_json::from_str(b).ok())
        .collect()
}

#[test]
fn messages_never_panic_and_refusals_say_why() {
    let bodies = sample_messages();
    let strategy = prop_oneof![
        any::<String>(),
        json_value().prop_map(|v| v.to_string()),
        mutated_json(sample_message_values()).prop_map(|v| v.to_string()),
        (prop::sample::select(bodies), any::<prop::sample::Index>()).prop_map(|(body, i)| {
            // A body cut short anywhere (at a character boundary).
            let mut end = i.index(body.len() + 1);
            while !body.is_char_boundary(end) {
                end -= 1;
            }
            body[..end].to_string()
        }),
    ];
    check("messages", CASES, strategy, |body| check_message(&body));
}

#[test]
fn s3_notifications_never_panic_and_refusals_say_why() {
    let bodies = sample_notification_bodies();
    let values: Vec<Value> = bodies
        .iter()
        .filter_map(|b| serde_json::from_str(b).ok())
        .collect();
    let strategy = prop_oneof![
        any::<String>(),
        json_value().prop_map(|v| v.to_string()),
        mutated_json(values).prop_map(|v| v.to_string()),
    ];
    check("S3 notifications", CASES, strategy, |body| {
        match dit_aws::s3_notification::parse(&body) {
            Ok(dit_aws::s3_notification::Notification::Objects(objects)) => {
                for object in objects {
                    // Decoding is total: a key that was decoded once decodes to itself or less.
                    let _ = dit_aws::s3_notification::decode_key(&object.key);
                }
            }
            Ok(dit_aws::s3_notification::Notification::Test) => {}
            Err(err) => prop_assert!(!err.to_string().trim().is_empty()),
        }
        Ok(())
    });
    check("S3 object keys", CASES, any::<String>(), |key| {
        let _ = dit_aws::s3_notification::decode_key(&key);
        Ok(())
    });
}

#[test]
fn schedule_payloads_never_panic_and_refusals_say_why() {
    let strategy = prop_oneof![
        json_value(),
        any::<String>().prop_map(Value::String),
        mutated_json(sample_schedules()),
    ];
    check("schedule payloads", CASES, strategy, |payload| {
        match scheduled_jobs::parse(&payload) {
            Ok(invocation) => prop_assert!(!invocation.job.name().is_empty()),
            Err(err) => prop_assert!(!err.to_string().trim().is_empty()),
        }
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------
// The services on fuzzed input
// ---------------------------------------------------------------------------------------------

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 14, 0, 0).unwrap()
}

#[test]
fn the_inbound_service_quarantines_or_processes_every_mutated_file() {
    let runtime = runtime();
    let outcomes = std::sync::Mutex::new(BTreeSet::new());
    check(
        "inbound service, mutated files",
        SERVICE_CASES,
        mutated_file(),
        |(name, bytes)| {
            runtime.block_on(async {
                let dir = tempfile::tempdir().unwrap();
                let ports = embedded_ports(dir.path());
                // Positions first, so mutated APP and DNC files meet known positions (a mutated
                // POS file meets an empty store, so it is not refused as a reused sequence).
                if !name.contains("_POS_") {
                    process_samples_into(
                        &ports,
                        at(),
                        Some(&[
                            "ESR_504_POS_20261121_00000001.DAT",
                            "ESR_505_POS_20261121_00000001.DAT",
                        ]),
                    )
                    .await;
                }
                let key = format!("mutant/{name}");
                ports
                    .blobs
                    .put(Area::Inbound, &key, bytes.clone(), "text/plain")
                    .await
                    .unwrap();
                let report =
                    process_inbound(&ports.context(at()), &key, &FileOrigin::Operator, None).await;
                let report = match report {
                    Ok(report) => report,
                    Err(err) => {
                        return Err(TestCaseError::fail(format!(
                            "an error, not a quarantine: {err}"
                        )))
                    }
                };
                outcomes
                    .lock()
                    .unwrap()
                    .insert(format!("{:?}", report.outcome));
                match report.outcome {
                    Outcome::Quarantined => {
                        let reason = report.quarantine.as_ref().expect("a quarantine reason");
                        is_typed_quarantine(reason, &bytes)?;
                        // The file is kept for replay, with its reason beside it.
                        // Under its origin folder (`mutant/`), as every quarantined file is.
                        let kept = ports.blobs.get(Area::Quarantine, &key).await.unwrap();
                        prop_assert_eq!(kept.as_deref(), Some(&bytes[..]));
                        let reason_file = format!("{key}.reason.json");
                        prop_assert!(ports
                            .blobs
                            .get(Area::Quarantine, &reason_file)
                            .await
                            .unwrap()
                            .is_some());
                    }
                    Outcome::Processed => {
                        prop_assert!(report.outputs.iter().any(|o| o.starts_with("outbound/")));
                    }
                    other => prop_assert!(false, "outcome {other:?}"),
                }
                Ok(())
            })
        },
    );
    let seen = outcomes.into_inner().unwrap();
    assert!(seen.contains("Quarantined"), "{seen:?}");
}

#[test]
fn the_message_service_answers_every_mutated_message() {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let ports = embedded_ports(dir.path());
    runtime.block_on(process_samples_into(&ports, at(), None));
    let bodies = sample_messages();
    let bodies = prop_oneof![
        any::<String>(),
        json_value().prop_map(|v| v.to_string()),
        mutated_json(sample_message_values()).prop_map(|v| v.to_string()),
        prop::sample::select(bodies),
    ];
    // Every kind of sender, the configured ones of the samples and one that is not configured.
    let senders = prop::sample::select(vec![
        MessageSender::Known(Principal::Operator),
        MessageSender::Known(Principal::Trust("504".into())),
        MessageSender::Known(Principal::Trust("505".into())),
        MessageSender::Known(Principal::Trac),
        MessageSender::Unknown("AIDAEXAMPLENOTCONFIGURED".into()),
    ]);
    check(
        "message service, mutated messages",
        SERVICE_CASES,
        (senders, bodies),
        |(sender, body)| {
            runtime.block_on(async {
                let result = handle_message(&ports.context(at()), &sender, &body).await;
                match result {
                    Ok(result) => {
                        if let Some(reason) = &result.answer.reason {
                            prop_assert!(!reason.trim().is_empty());
                        }
                        prop_assert!(!result.code.is_empty());
                    }
                    Err(err) => prop_assert!(false, "an error, not an answer: {err}"),
                }
                Ok(())
            })
        },
    );
}

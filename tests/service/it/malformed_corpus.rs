//! The hand-made malformed files of `tests/corpus/malformed/`, each dropped into the inbound area
//! and run through the inbound service on SQLite and folders: each is quarantined whole with the
//! code and line `expectations.toml` gives, kept byte for byte for replay with its reason beside
//! it, removed from the inbound area, and its reason quotes none of the file's personal values.

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use dit_core::ports::Area;
use dit_core::service::inbound::process_inbound;
use dit_core::service::report::Outcome;
use dit_domain::boundary::FileOrigin;
use dit_test_support::personal;
use dit_test_support::samples::{embedded_ports, process_samples_into};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Expectations {
    file: Vec<Expected>,
}

#[derive(Debug, Deserialize)]
struct Expected {
    corpus: String,
    drop_as: String,
    code: String,
    line: Option<u64>,
    why: String,
}

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus/malformed")
}

fn expectations() -> Vec<Expected> {
    let text = std::fs::read_to_string(corpus().join("expectations.toml")).unwrap();
    toml::from_str::<Expectations>(&text).unwrap().file
}

#[test]
fn the_corpus_has_at_least_30_files_each_with_its_expectation() {
    let expected: BTreeSet<String> = expectations().into_iter().map(|e| e.corpus).collect();
    let on_disk: BTreeSet<String> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "expectations.toml")
        .collect();
    assert_eq!(expected, on_disk, "every corpus file has one expectation");
    assert!(expected.len() >= 30, "{} files", expected.len());
}

#[tokio::test]
async fn every_malformed_file_is_quarantined_with_its_reason_and_line() {
    let mut personal_values = BTreeSet::new();
    for expected in expectations() {
        personal_values.extend(personal::of_file(
            &std::fs::read(corpus().join(&expected.corpus)).unwrap(),
        ));
    }
    assert!(
        personal_values.contains("Mbeki"),
        "the corpus' names are searched for"
    );
    let now = Utc.with_ymd_and_hms(2026, 11, 21, 14, 0, 0).unwrap();
    let mut failures = Vec::new();
    for expected in expectations() {
        let bytes = std::fs::read(corpus().join(&expected.corpus)).unwrap();
        // Each file on a fresh store holding the sample positions.
        let dir = tempfile::tempdir().unwrap();
        let ports = embedded_ports(dir.path());
        process_samples_into(
            &ports,
            now,
            Some(&[
                "ESR_504_POS_20261121_00000001.DAT",
                "ESR_505_POS_20261121_00000001.DAT",
            ]),
        )
        .await;
        ports
            .blobs
            .put(
                Area::Inbound,
                &expected.drop_as,
                bytes.clone(),
                "text/plain",
            )
            .await
            .unwrap();
        let report = process_inbound(
            &ports.context(now),
            &expected.drop_as,
            &FileOrigin::Operator,
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("{}: an error, not a quarantine: {e}", expected.corpus));
        let name = &report.file;
        let got = report.quarantine.clone();
        let (code, line) = got
            .as_ref()
            .map_or((None, None), |q| (Some(q.code.as_str()), q.line));
        if report.outcome != Outcome::Quarantined
            || code != Some(expected.code.as_str())
            || line != expected.line
        {
            failures.push(format!(
                "{} ({}): expected {} at line {:?}, got {:?} {:?}",
                expected.corpus, expected.why, expected.code, expected.line, report.outcome, got
            ));
            continue;
        }
        let reason = got.unwrap();
        assert!(!reason.reason.trim().is_empty(), "{}", expected.corpus);
        let leaked = personal::found_in(&reason.reason, &personal_values);
        assert!(
            leaked.is_empty(),
            "{}: the quarantine reason quotes personal values {leaked:?}: {}",
            expected.corpus,
            reason.reason
        );
        // Kept for replay, byte for byte, with its reason; gone from the inbound area.
        let kept = ports.blobs.get(Area::Quarantine, name).await.unwrap();
        assert_eq!(kept.as_deref(), Some(&bytes[..]), "{}", expected.corpus);
        let written: serde_json::Value = serde_json::from_slice(
            &ports
                .blobs
                .get(Area::Quarantine, &format!("{name}.reason.json"))
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("{}: no reason file", expected.corpus)),
        )
        .unwrap();
        assert_eq!(
            written["code"],
            expected.code.as_str(),
            "{}",
            expected.corpus
        );
        assert_eq!(
            written["line"],
            serde_json::json!(expected.line),
            "{}",
            expected.corpus
        );
        assert!(
            ports
                .blobs
                .get(Area::Inbound, &expected.drop_as)
                .await
                .unwrap()
                .is_none(),
            "{}: still in the inbound area",
            expected.corpus
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

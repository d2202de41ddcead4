//! The trust boundary locally (section 7): `dit action --as` and `dit process --from` apply the
//! checks the queue and the bucket apply in AWS; without them the local operator is trusted.

use std::path::Path;

use crate::common::dit;

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{path:?}: {e}")))
        .unwrap()
}

#[test]
fn action_as_a_sender_applies_the_queue_checks() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let (status, _, _) = dit(&data, &["process", "events/files/"]);
    assert_eq!(status, 3, "the samples include quarantined files");

    // Trust 505 in trust 504's name.
    let (status, out, _) = dit(
        &data,
        &[
            "action",
            "--as",
            "trust:505",
            "events/messages/sender-not-trust-504.json",
        ],
    );
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("sender is not trust 504"), "{out}");
    let answer = json(&data.join("outbound/trusts/505/messages/505-0007.json"));
    assert_eq!(answer["status"], "refused");
    assert!(!data
        .join("outbound/trusts/504/messages/505-0007.json")
        .exists());

    // Trac cannot move an applicant; trust 504 cannot send Trac checks.
    let (_, out, _) = dit(
        &data,
        &[
            "action",
            "--as",
            "trac",
            "events/messages/offer-5000001.json",
        ],
    );
    assert!(out.contains("sender is not trust 504"), "{out}");
    assert!(data.join("outbound/trac/messages/504-0001.json").is_file());
    let (_, out, _) = dit(
        &data,
        &[
            "action",
            "--as",
            "trust:504",
            "events/messages/trac-5000001.json",
        ],
    );
    assert!(out.contains("sender is not trac"), "{out}");

    // 505 naming 504's applicant in its own name: not found, nothing written on 5000001.
    let (_, out, _) = dit(
        &data,
        &[
            "action",
            "--as",
            "trust:505",
            "events/messages/wrong-trust.json",
        ],
    );
    assert!(
        out.contains("Applicant 5000001 not found for trust 505."),
        "{out}"
    );
    let (_, shown, _) = dit(&data, &["show", "--json", "5000001"]);
    assert!(!shown.contains("505-0001"), "{shown}");

    // The same offer as trust 504 is applied: the ids the others used were theirs.
    let (_, out, _) = dit(
        &data,
        &[
            "action",
            "--as",
            "trust:504",
            "events/messages/offer-5000001.json",
        ],
    );
    assert!(out.contains("accepted"), "{out}");
}

#[test]
fn action_as_needs_a_known_sender() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::copy(
        "../events/files/organisations.toml",
        data.join("organisations.toml"),
    )
    .unwrap();
    for (sender, expected) in [
        ("trust:123", "123 is not a configured organisation"),
        ("trust:5", "is not a VPD code"),
        ("operator", "leave out --as"),
        ("tis", "is not a sender"),
    ] {
        let (status, _, err) = dit(
            &data,
            &[
                "action",
                "--as",
                sender,
                "events/messages/offer-5000001.json",
            ],
        );
        assert_eq!(status, 2, "{sender}: {err}");
        assert!(err.contains(expected), "{sender}: {err}");
    }
}

#[test]
fn process_from_a_sender_applies_the_bucket_rule() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::copy(
        "../events/files/organisations.toml",
        data.join("organisations.toml"),
    )
    .unwrap();
    for (from, file, prefix) in [
        (
            "trust:504",
            "ESR_505_POS_20261121_00000001.DAT",
            "incoming/trusts/504/",
        ),
        (
            "trust:504",
            "DE_KSS_APP_20261121_00000042.DAT",
            "incoming/trusts/504/",
        ),
        ("tis", "ESR_504_POS_20261121_00000001.DAT", "incoming/tis/"),
    ] {
        let path = format!("events/files/{file}");
        let (status, out, err) = dit(&data, &["process", "--from", from, &path]);
        assert_eq!(status, 3, "{from} {file}: {out}{err}");
        let reason = json(&data.join(format!("quarantine/{file}.reason.json")));
        assert_eq!(reason["code"], "wrong_sender");
        assert_eq!(
            reason["reason"],
            format!("{file} is not accepted from {prefix}")
        );
        assert!(!data.join("outbound/tis").exists(), "{file}: no APC");
    }
    // Each sender's own files are taken.
    for (from, file) in [
        ("trust:504", "ESR_504_POS_20261121_00000001.DAT"),
        ("tis", "DE_KSS_APP_20261121_00000042.DAT"),
    ] {
        let path = format!("events/files/{file}");
        let (status, out, err) = dit(&data, &["process", "--from", from, &path]);
        assert_eq!(status, 0, "{from} {file}: {out}{err}");
    }
    assert!(data
        .join("outbound/tis/KSS/DE_KSS_APC_20261121_00000042.DAT")
        .is_file());
    let (status, _, err) = dit(
        &data,
        &[
            "process",
            "--from",
            "trac",
            "events/files/ESR_504_POS_20261121_00000001.DAT",
        ],
    );
    assert_eq!(status, 2, "{err}");
    assert!(err.contains("use tis or trust:<VPD>"), "{err}");
}

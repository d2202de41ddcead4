//! `dit show` on the sample data, as the README shows it: applicants and rejected applications.

use crate::common::dit;

#[test]
fn a_rejected_sample_record_is_found_by_placement_and_gmc_number_with_every_message() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let (status, _, _) = dit(&data, &["process", "events/files/"]);
    assert_eq!(status, 3, "the samples include quarantined files");

    // Record 16 of APP 42 misses two mandatory items.
    for key in ["7000016", "7544169"] {
        let (status, out, _) = dit(&data, &["show", key]);
        assert_eq!(status, 0, "{out}");
        assert!(out.contains("Rejected application  (rejected)"), "{out}");
        assert!(out.contains("Placement          7000016"), "{out}");
        assert!(
            out.contains("Name               Mandatory, Missing"),
            "{out}"
        );
        assert!(
            out.contains("Trust              504 Example Hospital NHS Trust"),
            "{out}"
        );
        assert!(
            out.contains("DE_KSS_APP_20261121_00000042.DAT record 16 (line 17"),
            "{out}"
        );
        assert!(
            out.contains(
                "ERROR Mandatory item POSITION_NUMBER not supplied. Application rejected."
            ),
            "{out}"
        );
        assert!(
            out.contains(
                "ERROR Mandatory item PROJECTED_HIRE_DATE not supplied. Application rejected."
            ),
            "{out}"
        );
    }

    let (status, out, _) = dit(&data, &["show", "--json", "7000016"]);
    assert_eq!(status, 0, "{out}");
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    let entries = shown.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{out}");
    assert_eq!(entries[0]["state"], "rejected");
    let rejected = &entries[0]["rejected_application"];
    assert_eq!(rejected["source_file"], "DE_KSS_APP_20261121_00000042.DAT");
    assert_eq!(rejected["record_number"], 16);
    assert_eq!(rejected["line"], 17);
    assert_eq!(rejected["messages"].as_array().unwrap().len(), 2);

    // A placement both loaded (record 1) and repeated (record 10): the applicant and the rejection.
    let (status, out, _) = dit(&data, &["show", "7000001"]);
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("Applicant 5000001  (loaded)"), "{out}");
    assert!(
        out.contains(
            "ERROR Placement 7000001 appears more than once in this file. Application rejected."
        ),
        "{out}"
    );

    let (status, _, _) = dit(&data, &["show", "7999999"]);
    assert_eq!(status, 4, "nothing matches");
}

#[test]
fn the_next_days_samples_load_a_corrected_placement_an_employee_and_a_dnf_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let (status, out, _) = dit(&data, &["process", "events/files/"]);
    assert_eq!(status, 3, "the samples include quarantined files");
    assert!(
        out.contains("snapshot: grid of trust 504 now 2 row(s), 1 dropped"),
        "{out}"
    );

    // Placement 7000004, rejected in APP 42, loads from APP 59; the rejection stays findable.
    let (status, out, _) = dit(&data, &["show", "7000004"]);
    assert_eq!(status, 0, "{out}");
    assert!(
        out.contains("Loaded from        DE_KSS_APP_20261122_00000059.DAT record 1"),
        "{out}"
    );
    assert!(
        out.contains("ERROR Mandatory item LAST_NAME not supplied. Application rejected."),
        "{out}"
    );

    // GMC 7100001, the current holder of 10508064 in DNF 1, is an employee of trust 504.
    let (status, out, _) = dit(&data, &["show", "7000041"]);
    assert_eq!(status, 0, "{out}");
    assert!(
        out.contains("INFO Application is from an EXISTING Employee"),
        "{out}"
    );

    // DNF 2 lists two of trust 504's three grid rows: its MEDROT has two.
    let notification: serde_json::Value = serde_json::from_slice(
        &std::fs::read(data.join(
            "outbound/trusts/504/notifications/DE_KSS_DNF_20261122_00000002.medical-rotation.json",
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(notification["positions"], 2);
    let before: serde_json::Value = serde_json::from_slice(
        &std::fs::read(data.join(
            "outbound/trusts/504/notifications/DE_KSS_DNC_20261121_00000046.medical-rotation.json",
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(before["positions"], 3);

    // DNC 46 record 4 withdraws someone trust 504 has no applicant for: FAIL, with a reason.
    let dcc =
        std::fs::read_to_string(data.join("outbound/tis/KSS/DE_KSS_DCC_20261121_00000046.DAT"))
            .unwrap();
    let record_4 = dcc.lines().find(|l| l.starts_with("DCC,4,")).unwrap();
    assert!(
        record_4.contains(",2,FAIL,No applicant of trust 504"),
        "{record_4}"
    );
}

/// `dit show` with `DIT_TODAY`: the same applicant.
fn show_on(data: &std::path::Path, today: &str, key: &str) -> (i32, String) {
    let output = crate::common::command(data)
        .env("DIT_TODAY", today)
        .args(["show", key])
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn an_applicant_past_its_retention_is_not_shown_though_state_db_still_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let (status, _, _) = dit(&data, &["process", "events/files/"]);
    assert_eq!(status, 3, "the samples include quarantined files");

    // Applicant 5000001 (placement 7000001) ends on 2027-08-03: kept a year after, to 2028-08-02.
    let (status, out) = show_on(&data, "2028-08-02", "5000001");
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("Applicant 5000001  (loaded)"), "{out}");
    for key in ["5000001", "7000001", "7544158"] {
        let (status, out) = show_on(&data, "2028-08-03", key);
        assert_eq!(status, 4, "{key} is past its retention: {out}");
        assert!(!out.contains("Applicant 5000001"), "{key}: {out}");
    }

    // Still in state.db until purged: an earlier day shows it again; purge on that day removes it.
    let (status, out) = show_on(&data, "2026-11-21", "5000001");
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("Applicant 5000001  (loaded)"), "{out}");
    let (status, out, err) = dit(&data, &["purge", "--date", "2028-08-03"]);
    assert_eq!(status, 0, "{out}{err}");
    let (status, out) = show_on(&data, "2026-11-21", "5000001");
    assert_eq!(status, 4, "purged: {out}");

    // A day that is not a date is refused, naming the variable.
    let output = crate::common::command(&data)
        .env("DIT_TODAY", "tomorrow")
        .args(["show", "5000001"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("DIT_TODAY"));
}

//! APP and POS files: applicants found or created, the APC, resumed and concurrent runs, the
//! sequence check, the size and per-position limits, position snapshots.

use super::*;

#[tokio::test]
async fn a_person_seen_earlier_in_the_file_or_store_is_an_existing_applicant() {
    let env = with_positions().await;
    let lines = [
        app("1", "100", DPN, &[("GMC_NUMBER", "7000001")]),
        app(
            "2",
            "101",
            "KSS/RJZ01/030/STR/002",
            &[("GMC_NUMBER", "7000001")],
        ),
        app(
            "3",
            "100",
            DPN,
            &[
                ("GMC_NUMBER", ""),
                ("NATIONAL_INSURANCE_NUMBER", "QQ123456C"),
            ],
        ),
        app(
            "4",
            "101",
            "KSS/RJZ01/030/STR/002",
            &[
                ("GMC_NUMBER", ""),
                ("NATIONAL_INSURANCE_NUMBER", "QQ123456C"),
            ],
        ),
        app(
            "5",
            "100",
            DPN,
            &[
                ("GMC_NUMBER", ""),
                ("NATIONAL_INSURANCE_NUMBER", "QQ123456C"),
                ("DATE_OF_BIRTH", "1991-01-31"),
            ],
        ),
    ];
    env.process(
        "DE_KSS_APP_20261121_00000001.DAT",
        &envelope("APP", "KSS", 1, &lines),
    )
    .await;
    let infos: Vec<String> = env
        .apc("DE_KSS_APC_20261121_00000001.DAT")
        .await
        .into_iter()
        .map(|r| r[5].clone())
        .collect();
    assert_eq!(
        infos,
        vec![
            "Application is from a NEW Applicant",
            "Application is from an EXISTING Applicant",
            "Application is from a NEW Applicant",
            "Application is from an EXISTING Applicant",
            "Application is from a NEW Applicant",
        ]
    );
    env.process(
        "DE_KSS_APP_20261121_00000002.DAT",
        &envelope("APP", "KSS", 2, &[app("6", "100", DPN, &[])]),
    )
    .await;
    let rows = env.apc("DE_KSS_APC_20261121_00000002.DAT").await;
    assert_eq!(rows[0][5], "Application is from an EXISTING Applicant");
}

#[tokio::test]
async fn apc_lines_carry_numbers_only_on_success_and_record_numbers_count_data_lines() {
    let env = with_positions().await;
    let lines = [
        app("1", "100", DPN, &[]),
        app("2", "999", "KSS/X/1/2", &[("GMC_NUMBER", "7000002")]),
    ];
    env.process(
        "DE_KSS_APP_20261121_00000001.DAT",
        &envelope("APP", "KSS", 1, &lines),
    )
    .await;
    let rows = env.apc("DE_KSS_APC_20261121_00000001.DAT").await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].len(), 11);
    assert_eq!(&rows[0][1..5], ["1", DPN, "SUCCESS", "INFO"]);
    assert!(!rows[0][6].is_empty() && !rows[0][7].is_empty());
    assert_eq!(rows[0][10], "1");
    assert_eq!(
        &rows[1][3..6],
        [
            "FAIL",
            "ERROR",
            "Position 999 does not exist in ESR. Application rejected."
        ]
    );
    assert_eq!(
        (
            rows[1][6].as_str(),
            rows[1][7].as_str(),
            rows[1][10].as_str()
        ),
        ("", "", "2")
    );
    let text = env
        .outbound("tis/KSS/DE_KSS_APC_20261121_00000001.DAT")
        .await;
    assert!(text.trim_end().ends_with("TRL,2"));
}

#[tokio::test]
async fn a_placement_loaded_by_an_earlier_file_is_rejected_naming_its_applicant() {
    let env = with_positions().await;
    env.process(
        "DE_KSS_APP_20261121_00000001.DAT",
        &envelope("APP", "KSS", 1, &[app("1", "100", DPN, &[])]),
    )
    .await;
    let first = env.apc("DE_KSS_APC_20261121_00000001.DAT").await;
    let number = first[0][6].clone();
    env.process(
        "DE_KSS_APP_20261121_00000002.DAT",
        &envelope("APP", "KSS", 2, &[app("1", "100", DPN, &[])]),
    )
    .await;
    let rows = env.apc("DE_KSS_APC_20261121_00000002.DAT").await;
    assert_eq!(
        rows[0][5],
        format!("Placement 1 has already been loaded as applicant {number}. Application rejected.")
    );
}

#[tokio::test]
async fn an_interrupted_run_of_a_file_is_resumed_with_the_same_answers() {
    let env = with_positions().await;
    let name = "DE_KSS_APP_20261121_00000001.DAT";
    let text = envelope(
        "APP",
        "KSS",
        1,
        &[
            app("1", "100", DPN, &[]),
            app(
                "2",
                "101",
                "KSS/RJZ01/030/STR/002",
                &[("GMC_NUMBER", "7000002")],
            ),
        ],
    );
    env.process(name, &text).await;
    let apc_name = "DE_KSS_APC_20261121_00000001.DAT";
    let first = env.outbound(&format!("tis/KSS/{apc_name}")).await;
    // Simulate a crash after the applicants were stored but before completion: the claim stays in progress.
    let fresh = Env::new();
    let report = fresh
        .process(
            POS_FILE,
            &envelope(
                "POS",
                "504",
                1,
                &[pos("100", DPN), pos("101", "KSS/RJZ01/030/STR/002")],
            ),
        )
        .await;
    assert_eq!(report.outcome, Outcome::Processed);
    fresh.drop_file(name, &text).await;
    let claim = dit_domain::model::ProcessedFile {
        identity: "KSS#APP#00000001".into(),
        source: "KSS".into(),
        file_type: "APP".into(),
        seq: 1,
        name: name.into(),
        sha256: String::new(),
        business_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
        status: dit_domain::model::FileStatus::InProgress,
        claimed_at: Utc::now(),
        completed_at: None,
        summary: None,
    };
    // A different hash would quarantine: the resumed claim must carry the real one.
    let sha = {
        use sha2::{Digest, Sha256};
        Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    fresh
        .store
        .claim_file(&dit_domain::model::ProcessedFile {
            sha256: sha,
            ..claim
        })
        .await
        .unwrap();
    let report = fresh.run(name).await;
    assert_eq!(report.outcome, Outcome::Processed);
    assert_eq!(fresh.outbound(&format!("tis/KSS/{apc_name}")).await, first);
    // And once more after completion: a duplicate, nothing changes.
    let again = fresh.run(name).await;
    assert_eq!(again.outcome, Outcome::Duplicate);
    assert_eq!(fresh.outbound(&format!("tis/KSS/{apc_name}")).await, first);
}

#[tokio::test]
async fn a_rerun_of_a_processed_file_after_new_positions_still_changes_nothing() {
    let env = Env::new();
    let name = "DE_KSS_APP_20261121_00000001.DAT";
    let text = envelope("APP", "KSS", 1, &[app("1", "100", DPN, &[])]);
    env.process(name, &text).await;
    let rows = env.apc("DE_KSS_APC_20261121_00000001.DAT").await;
    assert_eq!(rows[0][3], "FAIL");
    env.process(POS_FILE, &envelope("POS", "504", 1, &[pos("100", DPN)]))
        .await;
    let report = env.process(name, &text).await;
    assert_eq!(report.outcome, Outcome::Duplicate);
    assert!(env
        .store
        .placements(&["1".into()])
        .await
        .unwrap()
        .is_empty());
    assert_eq!(env.apc("DE_KSS_APC_20261121_00000001.DAT").await, rows);
}

#[tokio::test]
async fn concurrent_deliveries_of_one_file_create_each_applicant_once() {
    let env = with_positions().await;
    let name = "DE_KSS_APP_20261121_00000001.DAT";
    let lines: Vec<String> = (1..=30)
        .map(|i| {
            app(
                &i.to_string(),
                if i % 2 == 0 { "100" } else { "101" },
                if i % 2 == 0 {
                    DPN
                } else {
                    "KSS/RJZ01/030/STR/002"
                },
                &[("GMC_NUMBER", &format!("{}", 7100000 + i))],
            )
        })
        .collect();
    env.drop_file(name, &envelope("APP", "KSS", 1, &lines))
        .await;
    let (a, b) = tokio::join!(env.run(name), env.run(name));
    assert!(matches!(a.outcome, Outcome::Processed | Outcome::Duplicate));
    assert!(matches!(b.outcome, Outcome::Processed | Outcome::Duplicate));
    let links = env
        .store
        .placements(&(1..=30).map(|i| i.to_string()).collect::<Vec<_>>())
        .await
        .unwrap();
    assert_eq!(links.len(), 30);
    let rows = env.apc("DE_KSS_APC_20261121_00000001.DAT").await;
    assert_eq!(rows.iter().filter(|r| r[3] == "SUCCESS").count(), 30);
    let numbers: std::collections::HashSet<&String> = rows.iter().map(|r| &r[6]).collect();
    assert_eq!(numbers.len(), 30);
}

/// Revision 2 (2.3): files arrive out of order, so a gap is not judged per file; the daily
/// sequence check lists it.
#[tokio::test]
async fn a_gap_in_the_sequence_is_processed_without_a_per_file_warning_and_listed_by_the_check() {
    let env = with_positions().await;
    env.process(
        "DE_KSS_APP_20261121_00000039.DAT",
        &envelope("APP", "KSS", 39, &[app("1", "100", DPN, &[])]),
    )
    .await;
    let report = env
        .process(
            "DE_KSS_APP_20261121_00000041.DAT",
            &envelope("APP", "KSS", 41, &[app("2", "100", DPN, &[])]),
        )
        .await;
    assert_eq!(report.outcome, Outcome::Processed);
    assert!(
        report.operator_warnings.is_empty(),
        "{:?}",
        report.operator_warnings
    );
    let stored = env
        .outbound("operator/files/DE_KSS_APP_20261121_00000041.DAT.json")
        .await;
    assert!(!stored.contains("00000040"));
    let ctx = dit_core::service::context::Context::new(
        &env.store,
        &env.blobs,
        &env.organisations,
        chrono::Utc::now(),
    );
    let run = dit_core::service::sequence_check::run(&ctx, day(21))
        .await
        .unwrap();
    assert_eq!(run.check.file_types[0].missing, ["00000040"]);
    let record = env
        .outbound("operator/schedules/sequence-check/2026-11-21.json")
        .await;
    assert!(record.contains("00000040"));
}

#[tokio::test]
async fn files_over_the_size_limit_are_refused_without_being_read_or_copied() {
    let mut env = with_positions().await;
    env.settings.max_file_bytes = 100;
    let name = "DE_KSS_APP_20261121_00000001.DAT";
    let report = env
        .process(
            name,
            &envelope("APP", "KSS", 1, &[app("1", "100", DPN, &[])]),
        )
        .await;
    assert_eq!(report.outcome, Outcome::Quarantined);
    assert_eq!(report.quarantine.unwrap().code, "too_large");
    // Only the reason is written; the file is not copied and stays where it was dropped.
    assert!(!env.dir.path().join("quarantine").join(name).exists());
    assert!(env
        .dir
        .path()
        .join("quarantine")
        .join(format!("{name}.reason.json"))
        .is_file());
    assert!(env.dir.path().join("inbound").join(name).is_file());
    assert_eq!(report.outputs, [format!("quarantine/{name}.reason.json")]);
}

#[tokio::test]
async fn forty_records_for_one_position_load_and_forty_one_quarantine_the_file() {
    let env = with_positions().await;
    let lines = |n: u32| -> Vec<String> {
        (1..=n)
            .map(|i| {
                app(
                    &i.to_string(),
                    "100",
                    DPN,
                    &[("GMC_NUMBER", &format!("{}", 7200000 + i))],
                )
            })
            .collect()
    };
    let ok = env
        .process(
            "DE_KSS_APP_20261121_00000001.DAT",
            &envelope("APP", "KSS", 1, &lines(40)),
        )
        .await;
    assert_eq!((ok.outcome, ok.loaded), (Outcome::Processed, 40));
    let refused = env
        .process(
            "DE_KSS_APP_20261121_00000002.DAT",
            &envelope("APP", "KSS", 2, &lines(41)),
        )
        .await;
    assert_eq!(refused.outcome, Outcome::Quarantined);
    let reason = refused.quarantine.unwrap();
    assert_eq!(
        (reason.code.as_str(), reason.line),
        ("position_over_limit", Some(42))
    );
    assert!(env
        .blobs
        .get(Area::Outbound, "tis/KSS/DE_KSS_APC_20261121_00000002.DAT")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_pos_snapshot_marks_missing_positions_removed_and_keeps_unchanged_stamps() {
    let env = with_positions().await;
    let before = env.store.trust_positions("504").await.unwrap();
    assert_eq!(before.len(), 2);
    let second = "ESR_504_POS_20261121_00000002.DAT";
    env.process(second, &envelope("POS", "504", 2, &[pos("100", DPN)]))
        .await;
    let after = env.store.trust_positions("504").await.unwrap();
    let by_id = |id: &str| after.iter().find(|p| p.position_id == id).unwrap().clone();
    assert_eq!(
        by_id("100").changed_in,
        POS_FILE,
        "unchanged positions keep their change stamp"
    );
    assert_eq!(
        by_id("101").status,
        dit_domain::pos::PositionStatus::Removed
    );
    assert_eq!(by_id("101").changed_in, second);
    let report: serde_json::Value = serde_json::from_str(
        &env.outbound("trusts/504/reports/ESR_504_POS_20261121_00000002.dpn-readiness.json")
            .await,
    )
    .unwrap();
    assert_eq!(
        report["summary"]["No. of ESR Records with Deanery Records"],
        1
    );
}

#[tokio::test]
async fn apps_resolve_only_usable_positions() {
    let env = Env::new();
    let dup = "KSS/RJZ01/030/STR/009";
    env.process(
        POS_FILE,
        &envelope(
            "POS",
            "504",
            1,
            &[
                pos("100", DPN),
                pos("200", dup),
                pos("201", dup),
                pos("300", "KSS//1/2"),
            ],
        ),
    )
    .await;
    let lines = [
        app("1", "200", dup, &[]),
        app("2", "300", "KSS//1/2", &[("GMC_NUMBER", "7000002")]),
        app("3", "100", DPN, &[("GMC_NUMBER", "7000003")]),
    ];
    env.process(
        "DE_KSS_APP_20261121_00000001.DAT",
        &envelope("APP", "KSS", 1, &lines),
    )
    .await;
    let rows = env.apc("DE_KSS_APC_20261121_00000001.DAT").await;
    let statuses: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[1].as_str(), r[3].as_str()))
        .collect();
    assert_eq!(
        statuses,
        vec![("1", "FAIL"), ("2", "FAIL"), ("3", "SUCCESS")]
    );
    assert_eq!(
        rows[0][5],
        "Position 200 does not exist in ESR. Application rejected."
    );
}

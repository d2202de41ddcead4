//! The inbound service end to end on the embedded adapters: SQLite (in memory) and folders.

use chrono::{TimeZone, Utc};
use dit_core::ports::{Area, BlobStore, StateStore};
use dit_core::service::context::Context;
use dit_core::service::report::Outcome;
use dit_domain::app::APP_FIELDS;
use dit_test_support::applicants::envelope;
use dit_test_support::one_trust::OneTrust;

/// The one-trust environment, with readers of its outputs.
struct Env(OneTrust);

impl std::ops::Deref for Env {
    type Target = OneTrust;
    fn deref(&self) -> &OneTrust {
        &self.0
    }
}

impl std::ops::DerefMut for Env {
    fn deref_mut(&mut self) -> &mut OneTrust {
        &mut self.0
    }
}

impl Env {
    fn new() -> Env {
        Env(OneTrust::new())
    }

    async fn outbound(&self, key: &str) -> String {
        String::from_utf8(
            self.blobs
                .get(Area::Outbound, key)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("no {key}")),
        )
        .unwrap()
    }

    /// The APC data lines (without HDR/TRL), as field vectors.
    async fn apc(&self, name: &str) -> Vec<Vec<String>> {
        let text = self.outbound(&format!("tis/KSS/{name}")).await;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect::<Vec<_>>())
            .filter(|r| r[0] == "APC")
            .collect()
    }
}

fn pos(id: &str, dpn: &str) -> String {
    format!("POS,{id},{id},{id}|Foundation|F1|Medicine,{dpn},KSS,Lead Employer,2020-01-01,,N1L,F1,Site,RXX,504 Org")
}

fn app(placement: &str, position: &str, dpn: &str, edits: &[(&str, &str)]) -> String {
    let mut fields: Vec<String> = APP_FIELDS.iter().map(|_| String::new()).collect();
    let base = [
        ("RECORD_CODE", "APP"),
        ("PLACEMENT_ID", placement),
        ("EFFECTIVE_DATE", "2026-11-21"),
        ("POSITION_ID", position),
        ("POSITION_NUMBER", position),
        ("DEANERY_POST_NUMBER", dpn),
        ("LAST_NAME", "Trainee"),
        ("FIRST_NAME", "Test"),
        ("DATE_OF_BIRTH", "1990-01-31"),
        ("GMC_NUMBER", "7000001"),
        ("PROJECTED_HIRE_DATE", "2027-02-03"),
    ];
    for (field, value) in base.iter().chain(edits) {
        let i = APP_FIELDS.iter().position(|f| f == field).unwrap();
        fields[i] = value.to_string();
    }
    fields.join(",")
}

const DPN: &str = "KSS/RJZ01/030/STR/001";
const POS_FILE: &str = "ESR_504_POS_20261121_00000001.DAT";

async fn with_positions() -> Env {
    let env = Env::new();
    let report = env
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
    env
}

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
async fn files_over_the_size_limit_are_quarantined_without_being_read() {
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
    assert!(env.dir.path().join("quarantine").join(name).is_file());
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

// ---------------------------------------------------------------------------------------------
// Notification files (DNC/DNF)
// ---------------------------------------------------------------------------------------------

use dit_domain::dnc::DNC_FIELDS;
use dit_domain::lifecycle::ApplicantState;
use dit_domain::model::{Cause, HistoryOutcome};

fn dnc(kind: &str, edits: &[(&str, &str)]) -> String {
    let mut fields: Vec<String> = DNC_FIELDS.iter().map(|_| String::new()).collect();
    let base = [
        ("RECORD_CODE", "DNC"),
        ("NOTIFICATION_TYPE", kind),
        ("DEANERY_POST_NUMBER", DPN),
        ("MANAGING_DEANERY_BODY", "KSS"),
        ("POSITION_ID", "100"),
        ("VPD", "504"),
        ("POST_SPECIALTY", "Cardiology"),
        ("SITE", "Example Hospital"),
    ];
    for (field, value) in base.iter().chain(edits) {
        let i = DNC_FIELDS.iter().position(|f| f == field).unwrap();
        fields[i] = value.to_string();
    }
    fields.join(",")
}

/// Trust 504 with positions 100 and 101, and applicant 5000001 (GMC 7000001) loaded on position 100.
async fn with_applicant() -> Env {
    let env = with_positions().await;
    let report = env
        .process(
            "DE_KSS_APP_20261121_00000001.DAT",
            &envelope("APP", "KSS", 1, &[app("1", "100", DPN, &[])]),
        )
        .await;
    assert_eq!(report.loaded, 1);
    env
}

async fn dcc(env: &Env, name: &str) -> Vec<Vec<String>> {
    let text = env.outbound(&format!("tis/KSS/{name}")).await;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect::<Vec<_>>())
        .filter(|r| r[0] == "DCC")
        .collect()
}

async fn notification(env: &Env, key: &str) -> serde_json::Value {
    serde_json::from_str(&env.outbound(key).await).unwrap()
}

#[tokio::test]
async fn a_withdrawal_moves_the_matching_applicant_and_tells_the_trust() {
    let env = with_applicant().await;
    let lines = [
        dnc(
            "2",
            &[
                ("WITHDRAWN_LAST_NAME", "Trainee"),
                ("WITHDRAWN_FIRST_NAME", "Test"),
                ("WITHDRAWN_GMC_NUMBER", "7000001"),
            ],
        ),
        dnc(
            "2",
            &[
                ("WITHDRAWN_LAST_NAME", "Smith"),
                ("WITHDRAWN_FIRST_NAME", "Frederick"),
                ("WITHDRAWN_GMC_NUMBER", "9999999"),
            ],
        ),
    ];
    let report = env
        .process(
            "DE_KSS_DNC_20261121_00000002.DAT",
            &envelope("DNC", "KSS", 2, &lines),
        )
        .await;
    // Revision 2 (2.7): the withdrawal that matches no applicant fails in the DCC.
    assert_eq!(
        (report.outcome, report.loaded, report.rejected),
        (Outcome::Processed, 1, 1)
    );
    let applicant = env.store.applicant("5000001").await.unwrap().unwrap();
    assert_eq!(applicant.state, ApplicantState::Withdrawn);
    let history = env.store.history("5000001").await.unwrap();
    let last = history.last().unwrap();
    assert_eq!(
        (last.seq, last.command.as_str(), last.outcome.clone()),
        (3, "withdraw", HistoryOutcome::Moved)
    );
    assert_eq!(
        last.cause,
        Cause::File {
            name: "DE_KSS_DNC_20261121_00000002.DAT".into(),
            record_number: 1,
            line: 2
        }
    );
    let rows = dcc(&env, "DE_KSS_DCC_20261121_00000002.DAT").await;
    assert_eq!(
        rows[0],
        vec![
            "DCC",
            "1",
            DPN,
            "2",
            "SUCCESS",
            "Applicant 5000001 withdrawn"
        ]
    );
    assert_eq!(rows[1][4], "FAIL");
    assert!(
        rows[1][5].starts_with("No applicant of trust 504"),
        "{rows:?}"
    );
    let n = notification(&env, "trusts/504/notifications/DE_KSS_DNC_20261121_00000002.applicants-withdrawn-cardiology.json").await;
    assert_eq!(
        n["title"],
        "Medical Training - Applicant(s) Withdrawn (Cardiology)"
    );
    assert_eq!(n["rows"][0][3], "5000001");
    assert_eq!(n["rows"][0][5], "3: Other");
    assert!(n["rows"][1][3]
        .as_str()
        .unwrap()
        .starts_with("Number Unavailable - "));
    // The same file again is a duplicate: nothing moves twice.
    let again = env
        .process(
            "DE_KSS_DNC_20261121_00000002.DAT",
            &envelope("DNC", "KSS", 2, &lines),
        )
        .await;
    assert_eq!(again.outcome, Outcome::Duplicate);
    assert_eq!(env.store.history("5000001").await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_date_change_moves_the_applicants_dates_and_its_reminder_day() {
    let env = with_applicant().await;
    let lines = [dnc(
        "4",
        &[
            ("NEXT_LAST_NAME", "Trainee"),
            ("NEXT_FIRST_NAME", "Test"),
            ("NEXT_GMC_NUMBER", "7000001"),
            ("CHANGE_OF_PROJECTED_HIRE_DATE", "2027-02-10"),
            ("CHANGE_OF_PROJECTED_END_DATE", "2027-08-09"),
        ],
    )];
    env.process(
        "DE_KSS_DNC_20261121_00000002.DAT",
        &envelope("DNC", "KSS", 2, &lines),
    )
    .await;
    let applicant = env.store.applicant("5000001").await.unwrap().unwrap();
    assert_eq!(applicant.projected_hire_date.to_string(), "2027-02-10");
    assert_eq!(
        applicant.projected_end_date.unwrap().to_string(),
        "2027-08-09"
    );
    assert_eq!(applicant.state, ApplicantState::Loaded);
    let last = env.store.history("5000001").await.unwrap().pop().unwrap();
    assert_eq!(last.command, "change_dates");
    assert_eq!(
        last.detail.as_deref(),
        Some("projected hire 2027-02-03 -> 2027-02-10; projected end - -> 2027-08-09")
    );
    let rows = dcc(&env, "DE_KSS_DCC_20261121_00000002.DAT").await;
    assert_eq!(rows[0][5], "Applicant 5000001 projected dates changed");
    let n = notification(&env, "trusts/504/notifications/DE_KSS_DNC_20261121_00000002.change-to-projected-hire-end-date-cardiology.json").await;
    assert_eq!(
        n["title"],
        "Medical Training - Change to Project Hire/End Date Notification (Cardiology)"
    );
    assert_eq!(
        n["rows"][0],
        serde_json::json!([
            "Trainee",
            "Test",
            "7000001",
            "100",
            "100|Foundation|F1|Medicine",
            "10 February 2027",
            "09 August 2027"
        ])
    );
}

#[tokio::test]
async fn rotation_rows_are_stored_per_position_and_a_later_file_replaces_them() {
    let env = with_positions().await;
    let first = [
        dnc(
            "1",
            &[
                ("CURRENT_LAST_NAME", "Holder"),
                ("NEXT_LAST_NAME", "Next"),
                ("NEXT_GMC_NUMBER", "7000001"),
            ],
        ),
        dnc(
            "1",
            &[
                ("POSITION_ID", "101"),
                ("DEANERY_POST_NUMBER", "KSS/RJZ01/030/STR/002"),
                ("CURRENT_LAST_NAME", "Other"),
            ],
        ),
    ];
    env.process(
        "DE_KSS_DNF_20261121_00000001.DAT",
        &envelope("DNF", "KSS", 1, &first),
    )
    .await;
    let grid = env.store.rotation_grid("504").await.unwrap();
    assert_eq!(grid.len(), 2);
    assert_eq!(grid[0].next.gmc_number, "7000001");
    let second = [dnc(
        "1",
        &[
            ("CURRENT_LAST_NAME", "Holder"),
            ("POST_VACANT_AT_NEXT_ROTATION", "Y"),
        ],
    )];
    env.process(
        "DE_KSS_DNC_20261121_00000002.DAT",
        &envelope("DNC", "KSS", 2, &second),
    )
    .await;
    let grid = env.store.rotation_grid("504").await.unwrap();
    assert_eq!(grid.len(), 2);
    assert_eq!(
        grid[0].next.gmc_number, "",
        "the whole row is replaced, next holder included"
    );
    assert_eq!(grid[0].post_vacant_at_next_rotation, Some(true));
    assert_eq!(grid[1].current.last_name, "Other");
    assert_eq!(
        dcc(&env, "DE_KSS_DCC_20261121_00000002.DAT").await[0][5],
        "Rotation grid updated for position 100"
    );
}

#[tokio::test]
async fn notifications_are_grouped_per_trust_and_title_and_bad_records_fail_with_a_reason() {
    let env = with_positions().await;
    let lines = [
        dnc(
            "5",
            &[
                ("POST_SPECIALTY", "General Practice"),
                ("DEANERY_POST_NUMBER", "KSS/C99999/999/GP/003"),
                ("SITE", "Medical Centre"),
            ],
        ),
        dnc(
            "5",
            &[
                ("POST_SPECIALTY", "General Practice"),
                ("DEANERY_POST_NUMBER", "KSS/C99999/999/GP/005"),
                ("SITE", "Health Centre"),
            ],
        ),
        dnc(
            "5",
            &[
                ("POST_SPECIALTY", ""),
                ("DEANERY_POST_NUMBER", "KSS/FFFFF/999/DDD/002"),
            ],
        ),
        dnc(
            "3",
            &[
                ("REPLACEMENT_LAST_NAME", "New"),
                ("REPLACEMENT_FIRST_NAME", "Person"),
                ("REPLACEMENT_GMC_NUMBER", "7000009"),
                ("REPLACEMENT_PROJECTED_HIRE_DATE", "2027-02-03"),
            ],
        ),
        dnc("5", &[("VPD", "999")]),
        dnc("7", &[]),
        dnc("2", &[]),
        dnc("1", &[("NEXT_PROJECTED_START_DATE", "2027-13-01")]),
    ];
    let report = env
        .process(
            "DE_KSS_DNC_20261121_00000003.DAT",
            &envelope("DNC", "KSS", 3, &lines),
        )
        .await;
    assert_eq!((report.loaded, report.rejected), (4, 4));
    let rows = dcc(&env, "DE_KSS_DCC_20261121_00000003.DAT").await;
    let answers: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[4].as_str(), r[5].as_str()))
        .collect();
    assert_eq!(
        answers[4],
        (
            "FAIL",
            "Organisation 999 is not live on the interface. Notification rejected."
        )
    );
    assert_eq!(
        answers[5],
        (
            "FAIL",
            "NOTIFICATION_TYPE \"7\" is not one of 1, 2, 3, 4, 5. Notification rejected."
        )
    );
    assert_eq!(
        answers[6],
        (
            "FAIL",
            "Mandatory item WITHDRAWN_GMC_NUMBER not supplied. Notification rejected."
        )
    );
    assert_eq!(answers[7], ("FAIL", "Invalid date 2027-13-01 for NEXT_PROJECTED_START_DATE (expected YYYY-MM-DD). Notification rejected."));
    let gp = notification(&env, "trusts/504/notifications/DE_KSS_DNC_20261121_00000003.new-training-post-general-practice.json").await;
    assert_eq!(
        gp["title"],
        "Medical Training - New Training Post Created by LETB (General Practice)"
    );
    assert_eq!(gp["rows"].as_array().unwrap().len(), 2);
    assert_eq!(
        gp["rows"][0],
        serde_json::json!(["KSS/C99999/999/GP/003", "KSS", "Medical Centre"])
    );
    let none = notification(&env, "trusts/504/notifications/DE_KSS_DNC_20261121_00000003.new-training-post-no-specialty-supplied.json").await;
    assert_eq!(
        none["title"],
        "Medical Training - New Training Post Created by LETB (No specialty supplied)"
    );
    let replacement = notification(&env, "trusts/504/notifications/DE_KSS_DNC_20261121_00000003.replacement-application-cardiology.json").await;
    assert_eq!(replacement["rows"][0][0], "New");
    assert_eq!(replacement["rows"][0][3], "03 February 2027");
    let html = env.outbound("trusts/504/notifications/DE_KSS_DNC_20261121_00000003.new-training-post-general-practice.html").await;
    assert!(html.contains("with effect from 21 November 2026"));
}

#[tokio::test]
async fn a_withdrawal_of_a_hired_trainee_is_refused_in_history_and_the_trust_still_told() {
    use dit_core::service::moves::{change, Decision};
    use dit_domain::lifecycle::Transition;
    let env = with_applicant().await;
    let cause = Cause::Message {
        id: "setup".into(),
        sender: None,
    };
    change(&env.store, "5000001", Utc::now(), &cause, "test", |a, _| {
        let mut hired = a.clone();
        hired.state = ApplicantState::Hired;
        Decision::Apply {
            updated: hired,
            command: "hire".into(),
            transition: Transition::Moved {
                from: Some(a.state),
                to: ApplicantState::Hired,
            },
            detail: None,
        }
    })
    .await
    .unwrap();
    let lines = [dnc("2", &[("WITHDRAWN_GMC_NUMBER", "7000001")])];
    env.process(
        "DE_KSS_DNC_20261121_00000002.DAT",
        &envelope("DNC", "KSS", 2, &lines),
    )
    .await;
    assert_eq!(
        env.store.applicant("5000001").await.unwrap().unwrap().state,
        ApplicantState::Hired
    );
    let last = env.store.history("5000001").await.unwrap().pop().unwrap();
    assert!(
        matches!(last.outcome, HistoryOutcome::Refused { .. }),
        "{last:?}"
    );
    let rows = dcc(&env, "DE_KSS_DCC_20261121_00000002.DAT").await;
    assert!(
        rows[0][5].contains("is hired, so it was not withdrawn"),
        "{}",
        rows[0][5]
    );
    let n = notification(&env, "trusts/504/notifications/DE_KSS_DNC_20261121_00000002.applicants-withdrawn-cardiology.json").await;
    assert_eq!(n["rows"][0][4], "Employee");
}

// ---------------------------------------------------------------------------------------------
// RMC / RMF export
// ---------------------------------------------------------------------------------------------

use dit_core::service::export::{export_changes, export_full};

fn export_ctx(env: &Env) -> Context<'_> {
    Context::new(
        &env.store,
        &env.blobs,
        &env.organisations,
        Utc.with_ymd_and_hms(2026, 11, 21, 14, 30, 0).unwrap(),
    )
}

fn day(d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

async fn lines_of(env: &Env, name: &str) -> Vec<String> {
    env.outbound(&format!("tis/KSS/{name}"))
        .await
        .lines()
        .filter(|l| !l.starts_with("HDR") && !l.starts_with("TRL"))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn the_rmc_sends_each_change_once_and_nothing_when_nothing_is_new() {
    let env = with_positions().await;
    let ctx = export_ctx(&env);
    let first = export_changes(&ctx, "KSS", day(21)).await.unwrap();
    assert_eq!(
        first.file.as_deref(),
        Some("DE_KSS_RMC_20261121_00000001.DAT")
    );
    assert_eq!(
        lines_of(&env, "DE_KSS_RMC_20261121_00000001.DAT").await,
        vec![
            format!("POR,100,C,100,100|Foundation|F1|Medicine,{DPN},KSS,Lead Employer,RXX,504,504 Org,Site"),
            "POR,101,C,101,101|Foundation|F1|Medicine,KSS/RJZ01/030/STR/002,KSS,Lead Employer,RXX,504,504 Org,Site".to_string(),
        ]
    );
    let header = env
        .outbound("tis/KSS/DE_KSS_RMC_20261121_00000001.DAT")
        .await;
    assert!(header.starts_with("HDR,RMC,KSS,20261121,00000001,2026-11-21T14:30:00Z,1\r\n"));
    assert!(header.ends_with("TRL,2\r\n"));
    let again = export_changes(&ctx, "KSS", day(21)).await.unwrap();
    assert_eq!(again.file, None);
    let next_day = export_changes(&ctx, "KSS", day(22)).await.unwrap();
    assert_eq!((next_day.file, next_day.changed), (None, 0));
    assert_eq!(
        env.blobs
            .list(Area::Outbound, "tis/KSS/DE_KSS_RMC")
            .await
            .unwrap()
            .len(),
        1
    );

    // A new snapshot: 101 renamed, 100 gone, 102 new, 103 with a bad DPN (never sent).
    let renamed = "POS,101,101,101|Foundation|F2|Medicine,KSS/RJZ01/030/STR/002,KSS,Lead Employer,2020-01-01,,N1L,F2,Site,RXX,504 Org";
    let snapshot = [
        renamed.to_string(),
        pos("102", "KSS/RJZ01/030/STR/003"),
        pos("103", "KSS//1/2"),
    ];
    env.process(
        "ESR_504_POS_20261123_00000002.DAT",
        &envelope("POS", "504", 2, &snapshot).replace("20261121", "20261123"),
    )
    .await;
    let third = export_changes(&ctx, "KSS", day(23)).await.unwrap();
    assert_eq!((third.changed, third.deleted), (2, 1));
    assert_eq!(
        lines_of(&env, "DE_KSS_RMC_20261123_00000002.DAT").await,
        vec![
            format!("POR,100,D,100,100|Foundation|F1|Medicine,{DPN},KSS,Lead Employer,RXX,504,504 Org,Site"),
            "POR,101,C,101,101|Foundation|F2|Medicine,KSS/RJZ01/030/STR/002,KSS,Lead Employer,RXX,504,504 Org,Site".to_string(),
            "POR,102,C,102,102|Foundation|F1|Medicine,KSS/RJZ01/030/STR/003,KSS,Lead Employer,RXX,504,504 Org,Site".to_string(),
        ]
    );
}

#[tokio::test]
async fn the_rmf_holds_every_current_position_and_resets_what_tis_knows() {
    let env = with_positions().await;
    let ctx = export_ctx(&env);
    let full = export_full(&ctx, "KSS", day(21)).await.unwrap();
    assert_eq!(
        full.file.as_deref(),
        Some("DE_KSS_RMF_20261121_00000001.DAT")
    );
    assert_eq!(
        lines_of(&env, "DE_KSS_RMF_20261121_00000001.DAT")
            .await
            .len(),
        2
    );
    let after = export_changes(&ctx, "KSS", day(21)).await.unwrap();
    assert_eq!(after.file, None, "the RMF already told TIS everything");
    assert!(export_changes(&ctx, "LDN", day(21))
        .await
        .unwrap()
        .file
        .is_none());
}

#[tokio::test]
async fn person_updates_go_in_the_rmc_once_and_only_for_full_records_trusts() {
    use dit_domain::model::{PersonUpdate, PersonUpdateStatus};
    let env = with_applicant().await;
    let ctx = export_ctx(&env);
    export_changes(&ctx, "KSS", day(21)).await.unwrap();
    // An accepted update changes the stored person (the messages service does this); the PER
    // line carries the person's current values, read from the applicant.
    let mut applicant = env.store.applicant("5000001").await.unwrap().unwrap();
    let entry = dit_domain::model::HistoryEntry {
        seq: applicant.version + 1,
        at: Utc::now(),
        command: "person_update".into(),
        from: Some(applicant.state),
        to: applicant.state,
        outcome: dit_domain::model::HistoryOutcome::Moved,
        cause: dit_domain::model::Cause::Message {
            id: "m-1".into(),
            sender: None,
        },
        actor: "trust 504".into(),
        detail: None,
    };
    let expected = applicant.version;
    applicant.version += 1;
    applicant.details.email_address = Some("new@example.nhs.uk".into());
    applicant.details.mobile_tel = Some("07700900999".into());
    env.store
        .record_move(expected, &applicant, &entry)
        .await
        .unwrap();
    let update = PersonUpdate {
        vpd: "504".into(),
        local_office: "KSS".into(),
        applicant_number: "5000001".into(),
        message_id: "m-1".into(),
        received_at: Utc::now(),
        effective_date: Some(day(22)),
        person: serde_json::json!({"EMAIL_ADDRESS": "new@example.nhs.uk", "MOBILE_TEL": "07700900999"}),
        status: PersonUpdateStatus::PendingRmc,
    };
    env.store.save_person_update(&update).await.unwrap();
    env.store
        .save_person_update(&PersonUpdate {
            message_id: "m-2".into(),
            status: PersonUpdateStatus::NotSentPartRecords,
            ..update.clone()
        })
        .await
        .unwrap();
    let report = export_changes(&ctx, "KSS", day(22)).await.unwrap();
    assert_eq!((report.changed, report.person_updates), (0, 1));
    let lines = lines_of(&env, "DE_KSS_RMC_20261122_00000002.DAT").await;
    assert_eq!(lines, vec!["PER,7000001,,Trainee,Test,,,1990-01-31,,07700900999,new@example.nhs.uk,,,,,,,,2026-11-22"]);
    let stored = env.store.person_updates("504").await.unwrap();
    assert_eq!(
        stored
            .iter()
            .find(|u| u.message_id == "m-1")
            .unwrap()
            .status,
        PersonUpdateStatus::Sent
    );
    assert_eq!(
        export_changes(&ctx, "KSS", day(23)).await.unwrap().file,
        None
    );
}

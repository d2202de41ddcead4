//! Notification files (DNC/DNF): withdrawals and date changes move applicants, rotation rows,
//! the trusts told.

use super::*;

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

//! The handler fed with the payloads in `events/schedules/`, on the embedded adapters (SQLite,
//! folders) holding the sample files of `events/files/`.

use std::path::Path;

use chrono::{NaiveDate, TimeZone, Utc};
use dit_core::ports::StateStore;
use dit_core::service::context::Ports;
use dit_embedded::sqlite::SqliteStore;
use dit_test_support::samples::{
    json_event, payload, ports_with, process_samples_into, unreachable_dynamo,
};
use lambda_runtime::LambdaEvent;
use scheduled_jobs::{handle, JobReport, JobResponse};
use serde_json::{json, Value};

fn event(name: &str) -> LambdaEvent<Value> {
    json_event("schedules", name)
}

/// A data dir where the sample files were processed (`dit process events/files/`), and a handler
/// over it.
async fn deps_with(store: Box<dyn StateStore>, load: bool) -> (tempfile::TempDir, Ports) {
    let dir = tempfile::tempdir().unwrap();
    let ports = ports_with(store, dir.path());
    if load {
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 14, 0, 0).unwrap();
        process_samples_into(&ports, now, None).await;
    }
    (dir, ports)
}

async fn sample_deps() -> (tempfile::TempDir, Ports) {
    deps_with(Box::new(SqliteStore::in_memory().unwrap()), true).await
}

fn reminder_files(dir: &Path) -> Vec<String> {
    let mut found = vec![];
    for vpd in ["504", "505", "999"] {
        let folder = dir.join(format!("outbound/trusts/{vpd}/notifications/new-starters"));
        if let Ok(entries) = std::fs::read_dir(folder) {
            for entry in entries {
                found.push(format!(
                    "{vpd}/{}",
                    entry.unwrap().file_name().to_string_lossy()
                ));
            }
        }
    }
    found.sort();
    found
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

#[tokio::test]
async fn when_the_daily_schedule_fires_should_remind_each_trust_of_starters_in_five_days() {
    let (dir, deps) = sample_deps().await;
    let response = handle(&deps, event("new-starter-reminder.json"))
        .await
        .unwrap();
    let JobResponse::Done {
        job,
        business_date,
        report: JobReport::NewStarterReminder(report),
    } = response
    else {
        panic!("not done: {response:?}");
    };
    assert_eq!(job, "new-starter-reminder");
    assert_eq!(business_date, date("2027-01-29"));
    assert_eq!(report.dates.len(), 1);
    assert_eq!(report.dates[0].hire_date, date("2027-02-03"));
    assert_eq!(
        reminder_files(dir.path()),
        [
            "504/2027-01-29.new-starter-reminder.html",
            "504/2027-01-29.new-starter-reminder.json",
            "505/2027-01-29.new-starter-reminder.html",
            "505/2027-01-29.new-starter-reminder.json",
        ]
    );
    let reminder: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join(
            "outbound/trusts/504/notifications/new-starters/2027-01-29.new-starter-reminder.json",
        ))
        .unwrap(),
    )
    .unwrap();
    let numbers: Vec<&str> = reminder["starters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Applicant Number"].as_str().unwrap())
        .collect();
    assert!(numbers.contains(&"5000001"));
    assert!(
        !numbers.contains(&"5000002"),
        "moved to 2027-02-10 by the DNC"
    );
    assert!(!numbers.contains(&"5000003"), "withdrawn by the DNC");

    // The schedule firing again (Lambda retried, or a duplicate delivery) sends nothing new.
    let again = handle(&deps, event("new-starter-reminder.json"))
        .await
        .unwrap();
    let JobResponse::Done {
        report: JobReport::NewStarterReminder(again),
        ..
    } = again
    else {
        panic!("not done");
    };
    assert!(again.already_done());
}

#[tokio::test]
async fn when_days_were_missed_a_manual_run_catches_them_up() {
    let (dir, deps) = sample_deps().await;
    handle(&deps, event("new-starter-reminder.json"))
        .await
        .unwrap();
    let response = handle(&deps, event("manual-business-date.json"))
        .await
        .unwrap();
    let JobResponse::Done {
        report: JobReport::NewStarterReminder(report),
        ..
    } = response
    else {
        panic!("not done: {response:?}");
    };
    let dates: Vec<String> = report
        .dates
        .iter()
        .map(|d| d.business_date.to_string())
        .collect();
    assert_eq!(
        dates,
        [
            "2027-01-30",
            "2027-01-31",
            "2027-02-01",
            "2027-02-02",
            "2027-02-03",
            "2027-02-04",
            "2027-02-05"
        ]
    );
    // 2027-02-05 reminds the applicant the DNC moved to 2027-02-10.
    let moved = std::fs::read_to_string(dir.path().join(
        "outbound/trusts/504/notifications/new-starters/2027-02-05.new-starter-reminder.json",
    ))
    .unwrap();
    assert!(moved.contains("\"Applicant Number\": \"5000002\""));
}

#[tokio::test]
async fn when_the_payload_is_malformed_or_names_an_unknown_job_should_answer_without_retry() {
    let (dir, deps) = sample_deps().await;
    for event in [
        event("unknown-job.json"),
        payload(json!([])),
        payload(json!({"scheduled_time": "2027-01-29T06:00:00Z"})),
        payload(
            json!({"job": "new-starter-reminder", "scheduled_time": "<aws.scheduler.scheduled-time>"}),
        ),
        payload(json!({"job": "new-starter-reminder"})),
    ] {
        let response = handle(&deps, event).await.unwrap();
        assert!(
            matches!(response, JobResponse::Rejected { .. }),
            "{response:?}"
        );
    }
    assert!(reminder_files(dir.path()).is_empty());
    assert_eq!(
        deps.store.watermark("new-starter-reminder").await.unwrap(),
        None
    );
}

#[tokio::test]
async fn when_the_store_is_unavailable_should_fail_so_that_lambda_retries() {
    let (dir, deps) = deps_with(unreachable_dynamo(), false).await;
    let result = handle(&deps, event("new-starter-reminder.json")).await;
    assert!(result.is_err(), "{result:?}");
    assert!(reminder_files(dir.path()).is_empty());
}

#[tokio::test]
async fn when_stored_data_is_unreadable_should_log_and_not_retry() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let store = SqliteStore::open(&db).unwrap();
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "INSERT INTO watermarks (job, date) VALUES ('new-starter-reminder', 'yesterday')",
            [],
        )
        .unwrap();
    let (_out, deps) = deps_with(Box::new(store), false).await;
    let response = handle(&deps, event("new-starter-reminder.json"))
        .await
        .unwrap();
    match response {
        JobResponse::Failed { error, .. } => assert!(error.contains("watermark"), "{error}"),
        other => panic!("expected a failure without retry: {other:?}"),
    }
}

#[tokio::test]
async fn when_the_export_schedule_fires_should_write_the_rmc_once_per_local_office_and_date() {
    let (dir, deps) = sample_deps().await;
    let response = handle(&deps, event("tis-export.json")).await.unwrap();
    let JobResponse::Done {
        report: JobReport::TisExport(reports),
        ..
    } = response
    else {
        panic!("expected a done export, got {response:?}");
    };
    assert_eq!(reports.len(), 1, "the sample trusts are all managed by KSS");
    assert_eq!(
        reports[0].file.as_deref(),
        Some("DE_KSS_RMC_20261121_00000001.DAT")
    );
    let text = std::fs::read_to_string(
        dir.path()
            .join("outbound/tis/KSS/DE_KSS_RMC_20261121_00000001.DAT"),
    )
    .unwrap();
    assert!(
        text.starts_with("HDR,RMC,KSS,20261121,00000001,2026-11-21T14:30:00Z,1\r\n"),
        "{text}"
    );
    assert!(text.contains("POR,10508064,C,10508064,"));
    assert!(
        !text.contains("POR,99900001"),
        "positions of a trust that is not live stay with ESR"
    );
    // The same schedule again (a retry): nothing is sent twice.
    let again = handle(&deps, event("tis-export.json")).await.unwrap();
    let JobResponse::Done {
        report: JobReport::TisExport(reports),
        ..
    } = again
    else {
        panic!("expected a done export");
    };
    assert_eq!(reports[0].file, None);
    // The RMF on request, for one office.
    let full = handle(
        &deps,
        payload(json!({"job": "tis-export", "business_date": "2026-11-22", "full": true, "local_office": "KSS"})),
    )
    .await
    .unwrap();
    let JobResponse::Done {
        report: JobReport::TisExport(reports),
        ..
    } = full
    else {
        panic!("expected a done export");
    };
    assert_eq!(
        reports[0].file.as_deref(),
        Some("DE_KSS_RMF_20261122_00000001.DAT")
    );
    let rejected = handle(
        &deps,
        payload(json!({"job": "tis-export", "business_date": "2026-11-22", "local_office": "XYZ"})),
    )
    .await
    .unwrap();
    assert!(
        matches!(rejected, JobResponse::Rejected { .. }),
        "{rejected:?}"
    );
}

#[tokio::test]
async fn when_the_sequence_check_fires_should_list_the_numbers_missing_per_file_type() {
    let (dir, deps) = sample_deps().await;
    let response = handle(&deps, event("sequence-check.json")).await.unwrap();
    let JobResponse::Done {
        job,
        business_date,
        report: JobReport::SequenceCheck(run),
    } = response
    else {
        panic!("not done: {response:?}");
    };
    assert_eq!(job, "sequence-check");
    assert_eq!(business_date, date("2026-11-21"));
    let app = &run.check.file_types[0];
    assert_eq!(app.file_type, "APP");
    // The samples: KSS APP 42, 43 and 45 taken in (50-58 are quarantined); 44 never sent.
    assert_eq!(app.missing, ["00000044"]);
    assert_eq!(
        (app.lowest.as_deref(), app.highest.as_deref()),
        (Some("00000042"), Some("00000045"))
    );
    for base in ["json", "html"] {
        let path = dir.path().join(format!(
            "outbound/operator/schedules/sequence-check/2026-11-21.{base}"
        ));
        assert!(std::fs::read_to_string(path).unwrap().contains("00000044"));
    }
}

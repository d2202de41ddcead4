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

/// A day of November 2026.
fn day(d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

mod app_and_pos;
mod export;
mod notifications;

//! The daily sequence check (2.3) on SQLite and folders and on DynamoDB and S3 (moto): per TIS file
//! type across all local offices, the numbers between the lowest and the highest received over the
//! 30 days up to D that have not arrived; no per-file gap warning; a number that arrives later is
//! no longer reported; on DynamoDB the reads are two range queries per file type, never a scan.

use std::sync::Arc;

use chrono::NaiveDate;
use dit_aws::dynamo::DynamoStore;
use dit_core::ports::Area;
use dit_core::service::report::Outcome;
use dit_core::service::sequence_check::{self, operator_base};
use dit_domain::model::ReceivedSequence;
use dit_domain::sequence::SequenceCheck;
use dit_embedded::folders::FolderBlobs;
use dit_test_support::applicants::{at, Env};
use dit_test_support::{on_both_stores, Moto, RequestCounter};

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

/// A TIS file with no records: enough to be taken in and have its number noted.
async fn drop(env: &Env, lo: &str, kind: &str, date: NaiveDate, seq: u64) -> Outcome {
    let stamp = date.format("%Y%m%d");
    let name = format!("DE_{lo}_{kind}_{stamp}_{seq:08}.DAT");
    let text = format!("HDR,{kind},{lo},{stamp},{seq:08},{date}T13:00:00Z,1\nTRL,0\n");
    let report = env.process(&name, &text).await;
    assert!(
        report.operator_warnings.is_empty(),
        "no per-file warning: {:?}",
        report.operator_warnings
    );
    report.outcome
}

async fn check(env: &Env, date: NaiveDate) -> SequenceCheck {
    let run = sequence_check::run(&env.ctx(at(59)), date).await.unwrap();
    let stored = env
        .blobs
        .get(Area::Outbound, &format!("{}.json", operator_base(date)))
        .await
        .unwrap()
        .expect("the operator record");
    assert_eq!(
        serde_json::from_slice::<SequenceCheck>(&stored).unwrap(),
        run.check
    );
    let html = env
        .blobs
        .get(Area::Outbound, &format!("{}.html", operator_base(date)))
        .await
        .unwrap()
        .expect("its HTML");
    let html = String::from_utf8(html).unwrap();
    for t in &run.check.file_types {
        for number in &t.missing {
            assert!(html.contains(number.as_str()), "{number} in the HTML");
        }
    }
    run.check
}

fn missing(check: &SequenceCheck, file_type: &str) -> Vec<String> {
    check
        .file_types
        .iter()
        .find(|t| t.file_type == file_type)
        .unwrap_or_else(|| panic!("{file_type} checked"))
        .missing
        .clone()
}

async fn gaps_are_judged_per_file_type_across_local_offices(env: Env) {
    // One APP sequence across offices, out of order; one DNC sequence of its own.
    for (lo, kind, date, seq) in [
        ("NTH", "APP", day(20), 2690),
        ("KSS", "APP", day(20), 2689),
        ("KSS", "APP", day(21), 2695),
        ("LDN", "APP", day(21), 2693),
        ("KSS", "DNC", day(21), 10),
        ("NTH", "DNC", day(21), 12),
        // Older than the 30 days: does not stretch the range.
        (
            "KSS",
            "APP",
            NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
            2600,
        ),
        // After D: not yet received for D's check.
        ("KSS", "APP", day(22), 2697),
    ] {
        assert_eq!(drop(&env, lo, kind, date, seq).await, Outcome::Processed);
    }
    // A file that is quarantined has not arrived.
    let bad = "HDR,APP,KSS,20261121,00002691,2026-11-21T13:00:00Z,1\nTRL,3\n";
    let report = env.process("DE_KSS_APP_20261121_00002691.DAT", bad).await;
    assert_eq!(report.outcome, Outcome::Quarantined);

    let first = check(&env, day(21)).await;
    assert_eq!(missing(&first, "APP"), ["00002691", "00002692", "00002694"]);
    assert_eq!(missing(&first, "DNC"), ["00000011"]);
    assert_eq!(missing(&first, "DNF"), Vec::<String>::new());
    assert_eq!(first.missing_count, 4);
    let app = &first.file_types[0];
    assert_eq!(
        (app.received, app.lowest.as_deref(), app.highest.as_deref()),
        (4, Some("00002689"), Some("00002695"))
    );

    // Later arrivals: 2691 corrected and sent again with its old date, 2692 dated the next day.
    assert_eq!(
        drop(&env, "EOE", "APP", day(21), 2691).await,
        Outcome::Processed
    );
    assert_eq!(
        drop(&env, "WMD", "APP", day(22), 2692).await,
        Outcome::Processed
    );
    assert_eq!(
        drop(&env, "KSS", "DNC", day(19), 11).await,
        Outcome::Processed
    );
    let next = check(&env, day(22)).await;
    assert_eq!(missing(&next, "APP"), ["00002694", "00002696"]);
    assert_eq!(missing(&next, "DNC"), Vec::<String>::new());
    // D's record, run again, shows what had arrived by the end of D.
    let again = check(&env, day(21)).await;
    assert_eq!(missing(&again, "APP"), ["00002692", "00002694"]);
}

on_both_stores!(gaps_are_judged_per_file_type_across_local_offices
    => sqlite_sequence_gaps_per_file_type_across_offices, moto_sequence_gaps_per_file_type_across_offices);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_reads_two_ranges_per_file_type_never_the_whole_table() {
    let moto = Moto::start();
    let table = "dit-state";
    moto.create_table(table).await;
    let counter = RequestCounter::new();
    let store = DynamoStore::new(moto.counting_dynamo_client(counter.clone()).await, table);
    let dir = tempfile::tempdir().unwrap();
    let env = Env::new(Arc::new(store), Arc::new(FolderBlobs::new(dir.path())));
    let note = |file_type: &str, seq: u64, date: NaiveDate| ReceivedSequence {
        file_type: file_type.into(),
        seq,
        source: "KSS".into(),
        business_date: date,
        name: format!("DE_KSS_{file_type}_{}_{seq:08}.DAT", date.format("%Y%m%d")),
    };
    // A year of earlier files: none of them is read.
    let old = NaiveDate::from_ymd_opt(2025, 11, 1).unwrap();
    for i in 0..150 {
        let date = old + chrono::Days::new(i / 2);
        for file_type in ["APP", "DNC", "DNF"] {
            env.store
                .note_received_sequence(&note(file_type, 1000 + i, date))
                .await
                .unwrap();
        }
    }
    // The window's files: APP 5000..=5009 without 5004, DNC 70 and 72.
    for seq in (5000..=5009).filter(|n| *n != 5004) {
        env.store
            .note_received_sequence(&note("APP", seq, day(20)))
            .await
            .unwrap();
    }
    for seq in [70, 72] {
        env.store
            .note_received_sequence(&note("DNC", seq, day(21)))
            .await
            .unwrap();
    }
    counter.reset();
    let check = check(&env, day(21)).await;
    assert_eq!(missing(&check, "APP"), ["00005004"]);
    assert_eq!(missing(&check, "DNC"), ["00000071"]);
    assert_eq!(counter.count("Scan"), 0, "no Scan");
    // APP: 9 by date + 9 by number; DNC: 2 + 2; DNF: none in the window, no number range read.
    assert_eq!(counter.count("Query"), 5);
    assert_eq!(counter.items_queried_or_scanned(), 9 + 9 + 2 + 2);
}

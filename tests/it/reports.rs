//! The reports of section 12 on hand-computed files, on SQLite and on DynamoDB (moto): the 12
//! weeks' notice per trust and in total at each threshold's edge, the state report with the
//! rejected applications, and the reads bounded by the hire-date range.

use chrono::NaiveDate;
use dit_core::service::reporting::{exceptions as exceptions_of, notice, states};
use dit_domain::dnc::DNC_FIELDS;
use dit_domain::org::Organisations;
use dit_domain::reports::ReportFilter;
use dit_test_support::applicants::{app, at, envelope, Env, DPN_101, ORGANISATIONS};
use dit_test_support::on_both_stores;

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// The fixture's four applicants (hire 2027-02-03 from the APP file of 2026-11-21: 74 days'
/// notice; two in 504, one each in 505 and 506), then four more in 504 with 84, 83, 55 and 13
/// days' notice and one rejected record (no last name) of 504 hired on 2027-02-10.
async fn loaded(env: &Env) {
    env.load().await;
    let lines: Vec<String> = [
        ("21", "2027-02-13"),
        ("22", "2027-02-12"),
        ("23", "2027-01-15"),
        ("24", "2026-12-04"),
    ]
    .iter()
    .map(|(placement, hire)| {
        app(placement, "101", DPN_101, &format!("70000{placement}")).replace("2027-02-03", hire)
    })
    .chain([app("25", "101", DPN_101, "7000025")
        .replace("2027-02-03", "2027-02-10")
        .replace("Trainee", "")])
    .collect();
    let report = env.process_app(2, &lines).await;
    assert_eq!((report.loaded, report.rejected), (4, 1), "{report:?}");
}

async fn notice_and_states_are_exact_on_hand_computed_files(env: Env) {
    loaded(&env).await;
    let ctx = env.ctx(at(6));
    let all = ReportFilter::default();
    let report = notice(&ctx, date("2026-12-01"), date("2027-02-28"), &all)
        .await
        .unwrap();
    let json = serde_json::to_value(&report).unwrap();
    let row = |lo: &str,
               vpd: &str,
               count: u64,
               median: f64,
               u12: u64,
               pct: f64,
               u8: u64,
               u2: u64| {
        serde_json::json!({"local_office": lo, "vpd": vpd, "count": count, "median_days": median,
            "under_12_weeks": u12, "under_12_weeks_pct": pct, "under_8_weeks": u8,
            "under_2_weeks": u2, "late_changes": 0})
    };
    // 504: 13, 55, 74, 74, 83, 84 days.
    assert_eq!(
        json["rows"],
        serde_json::json!([
            row("KSS", "504", 6, 74.0, 5, 83.3, 2, 1),
            row("KSS", "505", 1, 74.0, 1, 100.0, 0, 0),
            row("KSS", "506", 1, 74.0, 1, 100.0, 0, 0),
        ])
    );
    assert_eq!(
        json["total"],
        serde_json::json!({"count": 8, "median_days": 74.0, "under_12_weeks": 7,
            "under_12_weeks_pct": 87.5, "under_8_weeks": 2, "under_2_weeks": 1, "late_changes": 0})
    );

    // The range bounds it: from 2027-02-04 only the 84 and 83 days' starters of 504.
    let late = notice(&ctx, date("2027-02-04"), date("2027-02-28"), &all)
        .await
        .unwrap();
    assert_eq!(late.total.count, 2);
    assert_eq!(late.total.median_days, Some(83.5));
    assert_eq!(late.total.under_12_weeks, 1);
    // One trust.
    let only_505 = ReportFilter {
        vpd: Some("505".into()),
        ..ReportFilter::default()
    };
    let one = notice(&ctx, date("2026-12-01"), date("2027-02-28"), &only_505)
        .await
        .unwrap();
    assert_eq!(one.rows.len(), 1);
    assert_eq!(one.total.count, 1);

    let by_state = states(&ctx, date("2026-12-01"), date("2027-02-28"), &all)
        .await
        .unwrap();
    let counts: Vec<(String, [u64; 6])> = by_state
        .rows
        .iter()
        .map(|r| (r.vpd.clone(), r.counts.values()))
        .collect();
    assert_eq!(
        counts,
        [
            ("504".to_string(), [6, 0, 0, 0, 0, 1]),
            ("505".to_string(), [1, 0, 0, 0, 0, 0]),
            ("506".to_string(), [1, 0, 0, 0, 0, 0]),
        ]
    );
    // The rejected record's hire date is outside this range.
    let later = states(&ctx, date("2027-02-11"), date("2027-02-28"), &all)
        .await
        .unwrap();
    assert_eq!(later.total.values(), [2, 0, 0, 0, 0, 0]);

    // The rejected record, in the exception report of its file's date only, without the person.
    let exceptions = exceptions_of(&ctx, date("2026-11-20"), date("2026-11-22"), Some("KSS"))
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&exceptions).unwrap()["groups"],
        serde_json::json!([{"local_office": "KSS",
            "message": "Mandatory item LAST_NAME not supplied. Application rejected.", "count": 1,
            "records": [{"placement_id": "25", "vpd": "504", "dpn": DPN_101,
                "position_number": "101", "source_file": "DE_KSS_APP_20261121_00000002.DAT",
                "record_number": 5}]}])
    );
    let csv = dit_domain::reports::exception_csv(&exceptions);
    assert!(!csv.contains("7000025") && !csv.contains("Test"), "{csv}");
    for (from, to, lo) in [
        ("2026-11-22", "2026-11-30", Some("KSS")),
        ("2026-11-21", "2026-11-21", Some("LDN")),
    ] {
        let none = exceptions_of(&ctx, date(from), date(to), lo).await.unwrap();
        assert!(none.groups.is_empty(), "{from}..{to} {lo:?}");
    }

    // DNC type 4 of 2026-11-21: placement 21 to 2027-02-01 (72 days after the DNC: a late
    // change), placement 22 to 2027-03-01 (98 days: not late).
    let lines = [("7000021", "2027-02-01"), ("7000022", "2027-03-01")].map(|(gmc, hire)| {
        dnc_line(&[
            ("RECORD_CODE", "DNC"),
            ("NOTIFICATION_TYPE", "4"),
            ("DEANERY_POST_NUMBER", DPN_101),
            ("MANAGING_DEANERY_BODY", "KSS"),
            ("POSITION_ID", "101"),
            ("VPD", "504"),
            ("NEXT_LAST_NAME", "Trainee"),
            ("NEXT_FIRST_NAME", "Test"),
            ("NEXT_GMC_NUMBER", gmc),
            ("CHANGE_OF_PROJECTED_HIRE_DATE", hire),
        ])
    });
    let report = env
        .process(
            "DE_KSS_DNC_20261121_00000003.DAT",
            &envelope("DNC", "KSS", 3, &lines),
        )
        .await;
    assert_eq!(report.loaded, 2, "{report:?}");
    let changed = notice(&ctx, date("2026-12-01"), date("2027-03-31"), &all)
        .await
        .unwrap();
    assert_eq!(changed.total.count, 8);
    assert_eq!(changed.total.late_changes, 1);
    assert_eq!(changed.rows[0].figures.late_changes, 1, "in 504's row");
    // 504 now: 13, 55, 72, 74, 74 and 98 days.
    assert_eq!(changed.rows[0].figures.median_days, Some(73.0));
}

fn dnc_line(values: &[(&str, &str)]) -> String {
    let mut fields = vec![String::new(); DNC_FIELDS.len()];
    for (field, value) in values {
        let i = DNC_FIELDS.iter().position(|f| f == field).unwrap();
        fields[i] = value.to_string();
    }
    fields.join(",")
}

/// Trust 504 also takes LDN's files: its starters loaded from an LDN file are a row of their own
/// (LDN, 504), every office's filter sees its own rows only, and the total counts both.
async fn notice_rows_are_per_local_office_and_trust(mut env: Env) {
    let organisations = ORGANISATIONS.replacen(
        "local_office = \"KSS\"\n",
        "local_office = \"KSS\"\naccept_local_offices = [\"LDN\"]\n",
        1,
    );
    env.organisations = std::sync::Arc::new(Organisations::from_toml(&organisations, "t").unwrap());
    env.load().await;
    // From LDN's file of 2026-11-28: 504's starters of 2027-02-03 (67 days) and 2027-01-30 (63).
    let lines = [("31", "2027-02-03"), ("32", "2027-01-30")].map(|(placement, hire)| {
        app(placement, "101", DPN_101, &format!("70000{placement}")).replace("2027-02-03", hire)
    });
    let report = env
        .process(
            "DE_LDN_APP_20261128_00000001.DAT",
            &envelope("APP", "LDN", 1, &lines)
                .replace("HDR,APP,LDN,20261121", "HDR,APP,LDN,20261128"),
        )
        .await;
    assert_eq!(report.loaded, 2, "{report:?}");
    let ctx = env.ctx(at(6));
    let (from, to) = (date("2026-12-01"), date("2027-02-28"));
    let rows =
        |report: &dit_domain::reports::NoticeReport| -> Vec<(String, String, u64, Option<f64>)> {
            report
                .rows
                .iter()
                .map(|r| {
                    (
                        r.local_office.clone(),
                        r.vpd.clone(),
                        r.figures.count,
                        r.figures.median_days,
                    )
                })
                .collect()
        };
    let all = notice(&ctx, from, to, &ReportFilter::default())
        .await
        .unwrap();
    let row = |lo: &str, vpd: &str, count: u64, median: f64| {
        (lo.to_string(), vpd.to_string(), count, Some(median))
    };
    assert_eq!(
        rows(&all),
        [
            row("KSS", "504", 2, 74.0),
            row("KSS", "505", 1, 74.0),
            row("KSS", "506", 1, 74.0),
            row("LDN", "504", 2, 65.0),
        ]
    );
    assert_eq!(all.total.count, 6);
    assert_eq!(all.total.median_days, Some(74.0));
    let ldn = ReportFilter {
        local_office: Some("LDN".into()),
        ..ReportFilter::default()
    };
    let only_ldn = notice(&ctx, from, to, &ldn).await.unwrap();
    assert_eq!(rows(&only_ldn), [row("LDN", "504", 2, 65.0)]);
    assert_eq!(
        (only_ldn.total.count, only_ldn.total.under_12_weeks),
        (2, 2)
    );
}

on_both_stores!(notice_rows_are_per_local_office_and_trust
    => sqlite_notice_rows_are_per_local_office_and_trust, moto_notice_rows_are_per_local_office_and_trust);

on_both_stores!(notice_and_states_are_exact_on_hand_computed_files
    => sqlite_reports_are_exact_on_hand_computed_files, moto_reports_are_exact_on_hand_computed_files);

/// On DynamoDB the notice report reads the hire-date index day by day: no Scan, and the items
/// read are the applicants with hire dates in the range, however many others are stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_notice_report_reads_only_the_applicants_of_its_range_on_moto() {
    use std::sync::Arc;

    use dit_aws::dynamo::DynamoStore;
    use dit_embedded::folders::FolderBlobs;
    use dit_test_support::RequestCounter;

    let moto = dit_test_support::Moto::start();
    let seeded = Env::moto(&moto).await;
    loaded(&seeded).await;
    let counter = RequestCounter::new();
    let store = DynamoStore::new(
        moto.counting_dynamo_client(counter.clone()).await,
        "dit-state",
    );
    let dir = tempfile::tempdir().unwrap();
    let env = Env::new(Arc::new(store), Arc::new(FolderBlobs::new(dir.path())));
    let ctx = env.ctx(at(6));
    let (from, to) = (date("2027-02-04"), date("2027-02-28"));
    let report = notice(&ctx, from, to, &ReportFilter::default())
        .await
        .unwrap();
    assert_eq!(report.total.count, 2);
    let rejected = exceptions_of(&ctx, date("2026-11-20"), date("2026-11-22"), None)
        .await
        .unwrap();
    assert_eq!(rejected.groups.len(), 1);
    assert_eq!(counter.count("Scan"), 0, "no Scan");
    assert_eq!(
        counter.items_queried_or_scanned(),
        3,
        "only the two applicants of the range and the one rejected record of the files' dates \
         are read (8 applicants are stored): {:?}",
        counter.snapshot()
    );
}

/// The portal's reports are the CLI's: its pages and CSV downloads call the same
/// `service::reporting` functions (`shared/portal/src/reports.rs`), so on DynamoDB they read the
/// same indexed queries, request for request, and never Scan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portals_reports_read_through_the_same_indexed_queries_as_the_cli() {
    use std::sync::Arc;

    use dit_aws::dynamo::DynamoStore;
    use dit_core::service::context::{Ports, Settings};
    use dit_domain::reports::{exception_csv, notice_csv};
    use dit_embedded::folders::FolderBlobs;
    use dit_portal::assets::Assets;
    use dit_portal::csrf::CsrfKey;
    use dit_portal::identity::Identity;
    use dit_portal::{Downloads, Portal};
    use dit_test_support::RequestCounter;
    use tower::ServiceExt;

    let moto = dit_test_support::Moto::start();
    let seeded = Env::moto(&moto).await;
    loaded(&seeded).await;
    let dir = tempfile::tempdir().unwrap();
    let counted = |counter: RequestCounter| {
        let moto = &moto;
        async move { DynamoStore::new(moto.counting_dynamo_client(counter).await, "dit-state") }
    };
    let (from, to) = (date("2027-02-04"), date("2027-02-28"));
    let (filed_from, filed_to) = (date("2026-11-20"), date("2026-11-22"));

    // The CLI's path: `dit report notice|exceptions --csv`.
    let cli = RequestCounter::new();
    let env = Env::new(
        Arc::new(counted(cli.clone()).await),
        Arc::new(FolderBlobs::new(dir.path())),
    );
    let ctx = env.ctx(at(6));
    let notice_report = notice(&ctx, from, to, &ReportFilter::default())
        .await
        .unwrap();
    let exception_report = exceptions_of(&ctx, filed_from, filed_to, None)
        .await
        .unwrap();

    // The portal's, as an operator downloads the same two reports.
    let through_portal = RequestCounter::new();
    let ports = Ports {
        store: Box::new(counted(through_portal.clone()).await),
        blobs: Box::new(FolderBlobs::new(dir.path())),
        mailer: Box::new(dit_core::ports::NoMailer),
        organisations: dit_test_support::applicants::organisations(),
        settings: Settings::default(),
    };
    let app = dit_portal::router(Arc::new(Portal::new(
        ports,
        CsrfKey::from_secret(&[7u8; 32]).unwrap(),
        Downloads::Redirect,
        Assets::none(),
    )));
    let mut bodies = Vec::new();
    for uri in [
        format!("/reports/notice.csv?from={from}&to={to}"),
        format!("/reports/exceptions.csv?from={filed_from}&to={filed_to}"),
    ] {
        let mut request = axum::http::Request::get(&uri)
            .body(axum::body::Body::empty())
            .unwrap();
        request
            .extensions_mut()
            .insert(Identity::parse_as("operator", "audit@example.nhs.uk").unwrap());
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), 200, "{uri}");
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        bodies.push(String::from_utf8(bytes.to_vec()).unwrap());
    }
    assert_eq!(bodies[0], notice_csv(&notice_report));
    assert_eq!(bodies[1], exception_csv(&exception_report));
    assert_eq!(through_portal.count("Scan"), 0, "no Scan");
    assert_eq!(through_portal.snapshot(), cli.snapshot());
    assert_eq!(
        through_portal.items_queried_or_scanned(),
        cli.items_queried_or_scanned()
    );
    assert_eq!(cli.items_queried_or_scanned(), 3);
}

//! The trainee's problem report (section 13) on DynamoDB, S3 and SES (moto): posted twice (a
//! double click, a retry) it is one **Trainee data query** in the trust's notifications and one
//! e-mail alert, with no personal data in the e-mail; the trainee's placements are read through
//! the GMC index, no Scan.

use chrono::{NaiveDate, TimeZone, Utc};
use dit_aws::dynamo::DynamoStore;
use dit_aws::s3::{S3Blobs, S3Layout};
use dit_aws::ses::SesMailer;
use dit_core::ports::Area;
use dit_core::service::context::{Context, Ports, Settings};
use dit_core::service::trainee::{self, ReportError};
use dit_domain::mail::FromAddress;
use dit_test_support::samples::{process_samples, sample_organisations};
use dit_test_support::{Moto, RequestCounter};

const TABLE: &str = "dit-state";
const GMC: &str = "7544158";
const QUERY: &str = "My address is out of date: I moved in October.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_sent_twice_is_one_notification_and_one_email() {
    let moto = Moto::start();
    let dynamo = moto.create_table(TABLE).await;
    let s3 = moto.create_buckets("dit-inbound", "dit-outbound").await;
    let ses = moto.ses_client("dit@example.nhs.uk").await;
    let store = DynamoStore::new(dynamo, TABLE);
    let ports = Ports {
        store: Box::new(store.clone()),
        blobs: Box::new(S3Blobs::new(
            s3,
            S3Layout {
                inbound_bucket: "dit-inbound".into(),
                inbound_prefix: "incoming/".into(),
                quarantine_prefix: "quarantine/".into(),
                outbound_bucket: "dit-outbound".into(),
            },
        )),
        mailer: Box::new(SesMailer::new(
            ses,
            store,
            FromAddress::parse("Doctors in Training <dit@example.nhs.uk>").unwrap(),
        )),
        organisations: sample_organisations(),
        settings: Settings {
            portal_url: "https://portal.example.nhs.uk".into(),
            ..Settings::default()
        },
    };
    let ctx = ports.context(Utc.with_ymd_and_hms(2026, 11, 21, 14, 0, 0).unwrap());
    process_samples(
        &ctx,
        Some(&[
            "ESR_504_POS_20261121_00000001.DAT",
            "DE_KSS_APP_20261121_00000042.DAT",
        ]),
    )
    .await;
    let before = moto.sent_emails().len();

    // The trainee's placements: one Query of the GMC index.
    let counter = RequestCounter::new();
    let counted = DynamoStore::new(moto.counting_dynamo_client(counter.clone()).await, TABLE);
    let read = Context::new(&counted, ctx.blobs, ctx.organisations, ctx.now);
    let placements = trainee::placements(&read, GMC).await.unwrap();
    assert!(!placements.is_empty());
    assert!(placements
        .iter()
        .all(|p| p.applicant.gmc_number() == Some(GMC)));
    assert_eq!(counter.count("Scan"), 0, "{:?}", counter.snapshot());
    let number = placements[0].applicant.applicant_number.clone();
    let vpd = placements[0].applicant.vpd.clone();
    assert_eq!(vpd, "504");

    let day = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
    let first = trainee::report_problem(&ctx, GMC, &number, QUERY, day)
        .await
        .unwrap();
    assert!(first.new);
    // Twice more, the second two at once (a double click reaching two instances).
    let retyped = format!("  {QUERY}\r\n");
    let (a, b) = tokio::join!(
        trainee::report_problem(&ctx, GMC, &number, QUERY, day),
        trainee::report_problem(&ctx, GMC, &number, &retyped, day),
    );
    for again in [a.unwrap(), b.unwrap()] {
        assert!(!again.new);
        assert_eq!(again.key, first.key);
    }
    let written = ctx
        .blobs
        .list(
            Area::Outbound,
            &format!("trusts/{vpd}/notifications/trainee-queries/"),
        )
        .await
        .unwrap();
    assert_eq!(
        written,
        [format!("{}.html", first.key), format!("{}.json", first.key)]
    );
    let json: serde_json::Value = serde_json::from_slice(
        &ctx.blobs
            .get(Area::Outbound, &format!("{}.json", first.key))
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(json["query"], QUERY);
    assert_eq!(json["applicant_number"], number.as_str());
    assert_eq!(json["title"], "Trainee data query");

    let sent = moto.sent_emails();
    let alerts: Vec<_> = sent[before..]
        .iter()
        .filter(|m| m["subject"] == "Trainee data query")
        .collect();
    assert_eq!(alerts.len(), 1, "{sent:?}");
    assert_eq!(sent.len(), before + 1, "no other e-mail");
    let mail = alerts[0].to_string();
    let applicant = &placements[0].applicant.details;
    for personal in [
        QUERY,
        "October",
        GMC,
        applicant.last_name.as_str(),
        applicant.first_name.as_str(),
    ] {
        assert!(!mail.contains(personal), "{personal} in {mail}");
    }

    // Another GMC number's applicant is not found; nothing written, nothing sent.
    let refused = trainee::report_problem(&ctx, "7000000", &number, QUERY, day).await;
    assert!(matches!(refused, Err(ReportError::NotFound)), "{refused:?}");
    let empty = trainee::report_problem(&ctx, GMC, &number, " ", day).await;
    assert!(matches!(empty, Err(ReportError::Invalid(_))), "{empty:?}");
    assert_eq!(moto.sent_emails().len(), before + 1);
}

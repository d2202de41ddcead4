//! E-mail alerts (section 9): one message per trust notification, reminder or report to the trust's
//! `alert_emails`, with the title, a count and a portal link and no personal data. Locally `.eml`
//! files under `outbound/mail/<VPD>/` (SQLite and folders); in AWS by SES, tested on moto, sent once
//! however often a file is delivered.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{NaiveDate, TimeZone, Utc};
use dit_aws::dynamo::DynamoStore;
use dit_aws::s3::{S3Blobs, S3Layout};
use dit_aws::ses::SesMailer;
use dit_core::ports::{MailOutcome, Mailer};
use dit_core::service::context::{Ports, Settings};
use dit_core::service::reminders;
use dit_core::service::report::Outcome;
use dit_domain::mail::FromAddress;
use dit_domain::mail::Mail;
use dit_embedded::mail::EmlMailer;
use dit_embedded::sqlite::SqliteStore;
use dit_test_support::samples::{
    files_under, ports_with, process_samples, repo, sample_files, sample_organisations,
};
use dit_test_support::{personal, Moto};

const FROM: &str = "Doctors in Training <dit@example.nhs.uk>";
const RECIPIENTS: [&str; 2] = [
    "medical.staffing@example.nhs.uk",
    "rota.team@example.nhs.uk",
];
/// The sample trainees start on 2027-02-03: the reminder for 2027-01-29 lists them.
const REMINDER_DATE: (i32, u32, u32) = (2027, 1, 29);

fn from() -> FromAddress {
    FromAddress::parse(FROM).unwrap()
}

/// Every personal value of every sample input file.
fn personal_values_of_the_samples() -> BTreeSet<String> {
    let values: BTreeSet<String> = sample_files()
        .iter()
        .flat_map(|path| personal::of_file(&std::fs::read(path).unwrap()))
        .collect();
    assert!(
        values.len() > 20,
        "the samples hold names, GMC numbers, dates of birth: {values:?}"
    );
    values
}

/// The personal values in an alert's text, once its parts that are not personal by construction
/// are taken out: the notification's title (a fixed ESR text, maybe with a specialty), the trust's
/// configured name and the count's label. (Sample trainees are called "Start", "Trust" and
/// "Position", after what they test.)
fn leaked<'v>(text: &str, title: &str, personal: &'v BTreeSet<String>) -> Vec<&'v str> {
    let mut text = text
        .replace(title, "")
        .replace("Example Hospital NHS Trust", "");
    let count_label = text.lines().find_map(|line| {
        let (label, count) = line.rsplit_once(": ")?;
        count.parse::<usize>().ok().map(|_| label.to_string())
    });
    if let Some(label) = count_label {
        text = text.replace(&label, "");
    }
    personal::found_in(&text, personal)
}

/// A quoted-printable body as text (soft line breaks joined, `=XX` decoded).
fn decode_quoted_printable(body: &str) -> String {
    let joined = body.replace("=\r\n", "");
    let mut bytes = Vec::new();
    let mut rest = joined.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'=' && tail.len() >= 2 {
            let hex = std::str::from_utf8(&tail[..2]).unwrap();
            bytes.push(u8::from_str_radix(hex, 16).expect("=XX in quoted-printable"));
            rest = &tail[2..];
        } else {
            bytes.push(first);
            rest = tail;
        }
    }
    String::from_utf8(bytes).expect("a UTF-8 body")
}

/// The sample files and the reminder on SQLite and folders under `dir`, alerts as `.eml` files.
async fn run_samples_locally(dir: &Path, now: chrono::DateTime<Utc>) {
    let mut ports = ports_with(
        Box::new(SqliteStore::open(&dir.join("state.db")).unwrap()),
        dir,
    );
    ports.mailer = Box::new(EmlMailer::new(dir, from()));
    let ctx = ports.context(now);
    process_samples(&ctx, None).await;
    let (y, m, d) = REMINDER_DATE;
    reminders::run(&ctx, NaiveDate::from_ymd_opt(y, m, d).unwrap())
        .await
        .unwrap();
}

/// The headers of an `.eml` (folded lines unfolded) and its body.
fn parse_eml(bytes: &[u8]) -> (BTreeMap<String, String>, String) {
    let text = std::str::from_utf8(bytes).expect("an alert is UTF-8 text");
    let (head, body) = text
        .split_once("\r\n\r\n")
        .expect("headers, a blank line, a body");
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    let headers: BTreeMap<String, String> = unfolded
        .split("\r\n")
        .map(|line| {
            let (name, value) = line.split_once(": ").expect("a header line");
            (name.to_string(), value.to_string())
        })
        .collect();
    let body = match headers_value(&headers, "Content-Transfer-Encoding") {
        Some("quoted-printable") => decode_quoted_printable(body),
        Some("7bit") | None => body.to_string(),
        Some(other) => panic!("unexpected transfer encoding {other}"),
    };
    (headers, body.replace("\r\n", "\n"))
}

fn headers_value<'h>(headers: &'h BTreeMap<String, String>, name: &str) -> Option<&'h str> {
    headers.get(name).map(String::as_str)
}

#[tokio::test]
async fn the_samples_alert_the_trust_once_per_notification_with_no_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    run_samples_locally(
        dir.path(),
        Utc.with_ymd_and_hms(2026, 11, 21, 14, 0, 0).unwrap(),
    )
    .await;
    let outbound = files_under(dir.path(), "outbound");
    let mails: BTreeMap<&str, &[u8]> = outbound
        .iter()
        .filter_map(|(key, bytes)| Some((key.strip_prefix("mail/")?, bytes.as_slice())))
        // The local offices' data-team alerts are tests/it/data_team_alerts.rs's.
        .filter(|(key, _)| !key.starts_with("lo-"))
        .collect();

    // One alert per notification, reminder or report written for 504 (the trust with
    // alert_emails), named after it; none for 505, which has none configured.
    let notifications: BTreeSet<String> = outbound
        .iter()
        .filter_map(|(key, _)| {
            let item = key.strip_prefix("trusts/504/")?.strip_suffix(".json")?;
            (item.starts_with("notifications/") || item.starts_with("reports/"))
                .then(|| item.to_string())
        })
        .collect();
    let expected: BTreeSet<String> = notifications
        .iter()
        .map(|item| format!("504/{}.eml", item.rsplit('/').next().unwrap()))
        .collect();
    let written: BTreeSet<String> = mails.keys().map(|k| k.to_string()).collect();
    assert_eq!(written, expected);
    for kind in [
        ".deanery-applicant-notification.eml",
        ".medical-rotation.eml",
        ".dpn-readiness.eml",
        ".new-starter-reminder.eml",
        "applicants-withdrawn",
        "change-to-projected-hire-end-date",
        "new-training-post",
    ] {
        assert!(
            written.iter().any(|k| k.contains(kind)),
            "no alert for {kind}: {written:?}"
        );
    }
    assert!(outbound
        .iter()
        .any(|(k, _)| k.starts_with("trusts/505/notifications/")));
    assert!(!outbound.iter().any(|(k, _)| k.starts_with("mail/505/")));

    let personal = personal_values_of_the_samples();
    for (name, bytes) in &mails {
        let (headers, body) = parse_eml(bytes);
        let text = headers
            .iter()
            .filter(|(header, _)| *header != "Subject")
            .map(|(header, value)| format!("{header}: {value}\n"))
            .collect::<String>()
            + &body;
        let found = leaked(&text, &headers["Subject"], &personal);
        assert!(found.is_empty(), "{name} holds personal values {found:?}");

        assert_eq!(
            headers["From"],
            "\"Doctors in Training\" <dit@example.nhs.uk>"
        );
        assert_eq!(headers["To"], RECIPIENTS.join(", "));
        assert_eq!(headers["MIME-Version"], "1.0");
        assert_eq!(headers["Content-Type"], "text/plain; charset=utf-8");
        assert!(
            headers["Message-ID"].ends_with("@example.nhs.uk>"),
            "{name}"
        );
        // The date is the input's (the files' HDR time, the reminder's business date), not the clock.
        let date = if name.ends_with(".new-starter-reminder.eml") {
            "Fri, 29 Jan 2027 00:00:00 +0000"
        } else {
            "Sat, 21 Nov 2026 13:00:00 +0000"
        };
        assert_eq!(headers["Date"], date, "{name}");

        // The subject is the notification's title, the body the count and the portal page.
        let item = notifications
            .iter()
            .find(|item| name.ends_with(&format!("/{}.eml", item.rsplit('/').next().unwrap())))
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(
            &outbound
                .iter()
                .find(|(k, _)| *k == format!("trusts/504/{item}.json"))
                .unwrap()
                .1,
        )
        .unwrap();
        assert_eq!(
            headers["Subject"],
            json["title"].as_str().unwrap(),
            "{name}"
        );
        assert!(
            body.contains(&format!("\nhttp://127.0.0.1:8080/inbox/{item}\n")),
            "{name}: {body}"
        );
        assert!(body.contains("Example Hospital NHS Trust (504)"), "{body}");
        let count = body
            .lines()
            .find_map(|l| {
                [
                    "Applicants concerned: ",
                    "Training posts concerned: ",
                    "Positions in the rotation grid: ",
                    "Data quality issues: ",
                ]
                .iter()
                .find_map(|label| l.strip_prefix(label))
            })
            .unwrap_or_else(|| panic!("{name} has no count: {body}"));
        let rows = |field: &str| json[field].as_array().map_or(0, Vec::len);
        let expected_count = if item.ends_with(".deanery-applicant-notification") {
            rows("failed") + rows("created")
        } else if item.ends_with(".new-starter-reminder") {
            rows("starters")
        } else if item.ends_with(".medical-rotation") {
            json["positions"].as_u64().unwrap() as usize
        } else if item.ends_with(".dpn-readiness") {
            let summary = &json["summary"];
            let issues = |k: &str| summary[k].as_u64().unwrap() as usize;
            issues("No. of data quality issues with DPN")
                + issues("No. of data quality issues with Position Name")
                + rows("duplicate_dpn")
        } else {
            rows("rows")
        };
        assert_eq!(count, expected_count.to_string(), "{name}");
    }

    // Processing the same files again changes nothing and sends nothing new.
    let before = files_under(dir.path(), "outbound/mail");
    run_samples_locally(
        dir.path(),
        Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap(),
    )
    .await;
    assert_eq!(files_under(dir.path(), "outbound/mail"), before);

    // And from scratch, at another moment, the alerts are the same bytes.
    let again = tempfile::tempdir().unwrap();
    run_samples_locally(
        again.path(),
        Utc.with_ymd_and_hms(2027, 3, 1, 8, 0, 0).unwrap(),
    )
    .await;
    assert_eq!(files_under(again.path(), "outbound/mail"), before);
}

#[tokio::test]
async fn a_trust_without_alert_emails_gets_no_mail() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo().join("events/files/organisations.toml"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("alert_emails"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut ports = ports_with(Box::new(SqliteStore::in_memory().unwrap()), dir.path());
    ports.organisations =
        dit_domain::org::Organisations::from_toml(&text, "organisations.toml").unwrap();
    ports.mailer = Box::new(EmlMailer::new(dir.path(), from()));
    process_samples(&ports.context(Utc::now()), None).await;
    assert!(!files_under(dir.path(), "outbound/trusts/504").is_empty());
    assert!(files_under(dir.path(), "outbound/mail").is_empty());
}

// ---------------------------------------------------------------------------------------------
// SES on moto
// ---------------------------------------------------------------------------------------------

const TABLE: &str = "dit-state";
const INBOUND: &str = "dit-inbound";
const OUTBOUND: &str = "dit-outbound";

struct Aws {
    moto: Moto,
    dynamo: aws_sdk_dynamodb::Client,
    ports: Ports,
}

async fn aws() -> Aws {
    let moto = Moto::start();
    let dynamo = moto.create_table(TABLE).await;
    let s3 = moto.create_buckets(INBOUND, OUTBOUND).await;
    let ses = moto.ses_client("dit@example.nhs.uk").await;
    let store = DynamoStore::new(dynamo.clone(), TABLE);
    let ports = Ports {
        store: Box::new(store.clone()),
        blobs: Box::new(S3Blobs::new(
            s3,
            S3Layout {
                inbound_bucket: INBOUND.into(),
                inbound_prefix: "incoming/".into(),
                quarantine_prefix: "quarantine/".into(),
                outbound_bucket: OUTBOUND.into(),
            },
        )),
        mailer: Box::new(SesMailer::new(ses, store, from())),
        organisations: sample_organisations(),
        settings: Settings {
            portal_url: "https://portal.example.nhs.uk".into(),
            ..Settings::default()
        },
    };
    Aws {
        moto,
        dynamo,
        ports,
    }
}

/// Makes every processed file look as if its delivery had stopped before it was marked done, so
/// that the next delivery of it runs again (writing its notifications again).
async fn interrupt_every_file(dynamo: &aws_sdk_dynamodb::Client) -> usize {
    let items = dynamo
        .scan()
        .table_name(TABLE)
        .filter_expression("begins_with(PK, :file)")
        .expression_attribute_values(":file", AttributeValue::S("FILE#".into()))
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    for item in &items {
        dynamo
            .update_item()
            .table_name(TABLE)
            .key("PK", item["PK"].clone())
            .key("SK", item["SK"].clone())
            .update_expression("SET #status = :in_progress")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":in_progress", AttributeValue::S("in_progress".into()))
            .send()
            .await
            .unwrap();
    }
    items.len()
}

const APP_FILE: &str = "DE_KSS_APP_20261121_00000042.DAT";
const DNC_FILE: &str = "DE_KSS_DNC_20261121_00000046.DAT";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_sends_each_alert_once_however_often_a_file_is_delivered() {
    let aws = aws().await;
    let names = [
        "ESR_504_POS_20261121_00000001.DAT",
        "ESR_505_POS_20261121_00000001.DAT",
        APP_FILE,
        DNC_FILE,
    ];
    let ctx = aws.ports.context(Utc::now());
    process_samples(&ctx, Some(&names)).await;
    let sent = aws.moto.sent_emails();
    let subjects: Vec<&str> = sent
        .iter()
        .map(|m| m["subject"].as_str().unwrap())
        .collect();
    assert!(
        subjects.contains(&"Deanery Applicant Notification"),
        "{subjects:?}"
    );
    assert!(subjects.contains(&"DPN Readiness Report"), "{subjects:?}");
    assert!(
        subjects.contains(&"Medical Training - Medical Rotation Notification"),
        "{subjects:?}"
    );
    // One per notification object written for 504 (and none for 505).
    let outputs = aws
        .ports
        .blobs
        .list(dit_core::ports::Area::Outbound, "trusts/504/")
        .await
        .unwrap();
    let alerted = outputs
        .iter()
        .filter(|k| {
            k.ends_with(".json") && (k.contains("/notifications/") || k.contains("/reports/"))
        })
        .count();
    assert_eq!(sent.len(), alerted, "{subjects:?}");

    let personal = personal_values_of_the_samples();
    for mail in &sent {
        assert_eq!(mail["source"], FROM);
        assert_eq!(
            mail["destinations"]["ToAddresses"],
            serde_json::json!(RECIPIENTS)
        );
        let body = mail["body"].as_str().unwrap();
        assert!(
            body.contains("https://portal.example.nhs.uk/inbox/"),
            "{body}"
        );
        let text = format!("{} {} {}", mail["source"], mail["destinations"], body);
        let found = leaked(&text, mail["subject"].as_str().unwrap(), &personal);
        assert!(found.is_empty(), "personal values {found:?} in {mail}");
    }

    // The same files delivered again: already processed, nothing is sent.
    process_samples(&ctx, Some(&names)).await;
    assert_eq!(aws.moto.sent_emails().len(), sent.len());

    // Delivered again after a stop before each was marked done: the files run again and write
    // their notifications again, and still no alert goes out twice.
    assert_eq!(interrupt_every_file(&aws.dynamo).await, names.len());
    for name in names {
        let report = dit_core::service::inbound::process_inbound(
            &ctx,
            name,
            &dit_domain::boundary::FileOrigin::Operator,
            None,
        )
        .await
        .unwrap();
        assert_eq!(report.outcome, Outcome::Processed, "{name}: {report:?}");
    }
    assert_eq!(aws.moto.sent_emails().len(), sent.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_concurrent_and_failed_sends() {
    let aws = aws().await;
    let mail = Mail {
        key: "trusts/504/notifications/DE_KSS_APP_20261121_00000042.deanery-applicant-notification"
            .into(),
        vpd: "504".into(),
        to: RECIPIENTS.iter().map(|r| r.to_string()).collect(),
        subject: "Deanery Applicant Notification".into(),
        body: "A new notification is ready.\n".into(),
        date: Utc::now(),
    };
    // Two deliveries at once: one sends, the other finds it claimed.
    let mailer = aws.ports.mailer.as_ref();
    let (a, b) = tokio::join!(mailer.send(&mail), mailer.send(&mail));
    let mut outcomes = [a.unwrap(), b.unwrap()];
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(outcomes, [MailOutcome::AlreadySent, MailOutcome::Sent]);
    assert_eq!(aws.moto.sent_emails().len(), 1);
    assert_eq!(mailer.send(&mail).await.unwrap(), MailOutcome::AlreadySent);

    // SES refuses a sender it has not verified: the claim is given back, so once the identity
    // is verified the next delivery sends the alert.
    let ses = aws.moto.ses_client("dit@example.nhs.uk").await;
    let unverified = SesMailer::new(
        ses.clone(),
        DynamoStore::new(aws.dynamo.clone(), TABLE),
        FromAddress::parse("dit@unverified.example.org").unwrap(),
    );
    let other = Mail {
        key: format!("{}-2", mail.key),
        ..mail.clone()
    };
    let err = unverified.send(&other).await.unwrap_err();
    assert!(!err.is_transient(), "{err}");
    assert!(
        !err.to_string().contains("@"),
        "no address in errors: {err}"
    );
    assert_eq!(aws.moto.sent_emails().len(), 1);
    ses.create_email_identity()
        .email_identity("unverified.example.org")
        .send()
        .await
        .unwrap();
    assert_eq!(unverified.send(&other).await.unwrap(), MailOutcome::Sent);
    assert_eq!(aws.moto.sent_emails().len(), 2);
}

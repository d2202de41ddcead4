//! Local offices (section 12): the contact every trust notification and report names, and the
//! data-team alerts of a quarantined file and of missing sequence numbers: one `.eml` under
//! `outbound/mail/lo-<LO>/` locally, one SES message on moto however often it is delivered, and
//! never a record's content.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{NaiveDate, TimeZone, Utc};
use dit_aws::dynamo::DynamoStore;
use dit_aws::s3::{S3Blobs, S3Layout};
use dit_aws::ses::SesMailer;
use dit_core::ports::{Area, CountingMetrics};
use dit_core::service::context::{Ports, Settings};
use dit_core::service::inbound::process_inbound;
use dit_core::service::report::Outcome;
use dit_core::service::sequence_check;
use dit_domain::boundary::FileOrigin;
use dit_domain::mail::FromAddress;
use dit_domain::org::Organisations;
use dit_embedded::mail::EmlMailer;
use dit_embedded::sqlite::SqliteStore;
use dit_test_support::samples::{
    files_under, ports_with, process_samples, repo, sample_organisations,
};
use dit_test_support::{personal, Moto};

const FROM: &str = "Doctors in Training <dit@example.nhs.uk>";
const DATA_TEAM: &str = "kss.data@example.nhs.uk";
const CONTACT: &str =
    "Questions about this file: KSS TIS support, kss.tis@example.nhs.uk, 01234 567890";
/// Processed first: its number is then sent again with other content, and quarantined.
const FIRST: &str = "DE_KSS_APP_20261121_00000042.DAT";
/// The day's first APP files but for number 44: the sequence check finds it missing.
const WITHOUT_44: [&str; 3] = [
    FIRST,
    "DE_KSS_APP_20261121_00000043.DAT",
    "DE_KSS_APP_20261121_00000045.DAT",
];
const REUSED: &str = "DE_KSS_APP_20261122_00000042.DAT";

fn from() -> FromAddress {
    FromAddress::parse(FROM).unwrap()
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("events/files").join(name)).unwrap()
}

fn local_ports(dir: &Path) -> Ports {
    let mut ports = ports_with(
        Box::new(SqliteStore::open(&dir.join("state.db")).unwrap()),
        dir,
    );
    ports.mailer = Box::new(EmlMailer::new(dir, from()));
    ports
}

/// The `.eml` files of the KSS data team, by name.
fn data_team_mails(dir: &Path) -> Vec<(String, String)> {
    files_under(dir, "outbound/mail/lo-KSS")
        .into_iter()
        .map(|(name, bytes)| (name, String::from_utf8(bytes).unwrap()))
        .collect()
}

#[tokio::test]
async fn a_quarantined_file_alerts_its_local_office_once_with_no_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let ports = local_ports(dir.path());
    let metrics = CountingMetrics::default();
    let at = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();
    let ctx = ports.context(at).with_metrics(&metrics);
    process_samples(&ctx, Some(&[FIRST, REUSED])).await;

    let mails = data_team_mails(dir.path());
    let names: Vec<&str> = mails.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, [format!("{REUSED}.sequence_reused.eml")]);
    let (_, eml) = &mails[0];
    assert!(eml.contains(&format!("To: {DATA_TEAM}")), "{eml}");
    assert!(
        eml.contains(&format!("Subject: File quarantined: {REUSED}")),
        "{eml}"
    );
    assert!(eml.contains("Reason code: sequence_reused"), "{eml}");
    // Nothing of the file's records: no name, GMC number or date of birth.
    let personal = personal::of_file(&sample(REUSED));
    assert!(personal.len() > 3, "{personal:?}");
    let found = personal::found_in(eml, &personal);
    assert!(found.is_empty(), "personal values {found:?} in\n{eml}");
    assert_eq!(metrics.quarantined(), [("KSS".to_string(), 1)].into());
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join(format!("quarantine/{REUSED}.reason.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(record["data_team_alert"], "sent to the KSS data team");

    // The same file dropped again is quarantined again: still the one alert, the same bytes.
    let before = files_under(dir.path(), "outbound/mail");
    process_samples(&ctx, Some(&[REUSED])).await;
    assert_eq!(files_under(dir.path(), "outbound/mail"), before);
    assert_eq!(metrics.quarantined(), [("KSS".to_string(), 2)].into());
}

#[tokio::test]
async fn a_file_whose_name_names_no_local_office_alerts_no_one_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let ports = local_ports(dir.path());
    let ctx = ports.context(Utc::now());
    let name = "DE_XYZ_APP_20261121_00000050.DAT";
    process_samples(&ctx, Some(&[name])).await;
    assert!(files_under(dir.path(), "outbound/mail").is_empty());
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join(format!("quarantine/{name}.reason.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(record["code"], "bad_name");
    assert_eq!(
        record["data_team_alert"],
        "none: the file's name names no local office"
    );

    // Without any [[local_office]], the quarantine record is as it was.
    let text = std::fs::read_to_string(repo().join("events/files/organisations.toml")).unwrap();
    let without = text.split("[[local_office]]").next().unwrap().to_string()
        + "\n[[sender]]"
        + text.split_once("[[sender]]").unwrap().1;
    let mut ports = local_ports(dir.path());
    ports.organisations = Organisations::from_toml(&without, "organisations.toml").unwrap();
    assert!(ports.organisations.local_office("KSS").is_none());
    process_samples(&ports.context(Utc::now()), Some(&[name])).await;
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join(format!("quarantine/{name}.reason.json"))).unwrap(),
    )
    .unwrap();
    assert!(record.get("data_team_alert").is_none(), "{record}");
}

#[tokio::test]
async fn a_sequence_check_with_missing_numbers_alerts_once_with_the_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let ports = local_ports(dir.path());
    let ctx = ports.context(Utc::now());
    let names = WITHOUT_44;
    process_samples(&ctx, Some(&names)).await;
    let date = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
    let run = sequence_check::run(&ctx, date).await.unwrap();
    assert_eq!(run.check.missing_count, 1);
    let mails = data_team_mails(dir.path());
    let names: Vec<&str> = mails.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["2026-11-21.missing.lo-KSS.eml"]);
    let eml = &mails[0].1;
    assert!(eml.contains("APP: 00000044\r\n"), "{eml}");
    assert!(eml.contains(&format!("To: {DATA_TEAM}")), "{eml}");
    // Run again: the same one alert.
    sequence_check::run(&ctx, date).await.unwrap();
    assert_eq!(data_team_mails(dir.path()), mails);

    // Nothing missing: no alert.
    let clean = tempfile::tempdir().unwrap();
    let ports = local_ports(clean.path());
    let ctx = ports.context(Utc::now());
    process_samples(&ctx, Some(&[FIRST, "DE_KSS_APP_20261121_00000043.DAT"])).await;
    sequence_check::run(&ctx, date).await.unwrap();
    assert!(data_team_mails(clean.path()).is_empty());
}

#[tokio::test]
async fn notifications_and_reports_name_the_local_office_contact_only_where_configured() {
    let dir = tempfile::tempdir().unwrap();
    let ports = local_ports(dir.path());
    let names = [
        "ESR_504_POS_20261121_00000001.DAT",
        FIRST,
        "DE_KSS_DNC_20261121_00000046.DAT",
    ];
    process_samples(&ports.context(Utc::now()), Some(&names)).await;
    let outputs = files_under(dir.path(), "outbound/trusts/504");
    let mut kinds = BTreeSet::new();
    for (key, bytes) in &outputs {
        let text = String::from_utf8_lossy(bytes);
        if !(key.starts_with("notifications/") || key.starts_with("reports/")) {
            continue;
        }
        if key.ends_with(".html") {
            assert!(
                text.contains(&format!("<p class=\"contact\">{CONTACT}</p>\n</body>")),
                "{key}"
            );
            kinds.insert(key.rsplit('.').nth(1).unwrap().to_string());
        } else if key.ends_with(".json") {
            let json: serde_json::Value = serde_json::from_slice(bytes).unwrap();
            assert_eq!(
                json["questions_about_this_file"],
                CONTACT.trim_start_matches("Questions about this file: "),
                "{key}"
            );
            assert!(json.get("trust_contact").is_none(), "{key}");
        }
    }
    for kind in [
        "dpn-readiness",
        "deanery-applicant-notification",
        "medical-rotation",
    ] {
        assert!(kinds.contains(kind), "no {kind} in {kinds:?}");
    }

    // Without contacts, the same outputs carry no contact at all.
    let bare = tempfile::tempdir().unwrap();
    let mut ports = local_ports(bare.path());
    let text = std::fs::read_to_string(repo().join("events/files/organisations.toml")).unwrap();
    let without = text
        .lines()
        .filter(|l| !l.starts_with("contact ="))
        .collect::<Vec<_>>()
        .join("\n");
    ports.organisations = Organisations::from_toml(&without, "organisations.toml").unwrap();
    process_samples(&ports.context(Utc::now()), Some(&names)).await;
    for (key, bytes) in files_under(bare.path(), "outbound/trusts/504") {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("Questions about this file"), "{key}");
        assert!(!text.contains("questions_about_this_file"), "{key}");
    }
}

// ---------------------------------------------------------------------------------------------
// SES on moto
// ---------------------------------------------------------------------------------------------

const TABLE: &str = "dit-state";
const INBOUND: &str = "dit-inbound";
const OUTBOUND: &str = "dit-outbound";

/// The ports on moto: DynamoDB, the two buckets, SES (the alerts' exactly-once record in the
/// table).
async fn moto_ports(moto: &Moto) -> Ports {
    let dynamo = moto.create_table(TABLE).await;
    let s3 = moto.create_buckets(INBOUND, OUTBOUND).await;
    let ses = moto.ses_client("dit@example.nhs.uk").await;
    let store = DynamoStore::new(dynamo, TABLE);
    Ports {
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
        settings: Settings::default(),
    }
}

/// The e-mails moto's SES sent to the KSS data team.
fn sent_to_data_team(moto: &Moto) -> Vec<serde_json::Value> {
    moto.sent_emails()
        .into_iter()
        .filter(|m| m["destinations"]["ToAddresses"] == serde_json::json!([DATA_TEAM]))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_sends_a_quarantine_alert_once_however_often_the_file_is_dropped() {
    let moto = Moto::start();
    let ports = moto_ports(&moto).await;
    let ctx = ports.context(Utc::now());
    let to_data_team = || sent_to_data_team(&moto);
    process_samples(&ctx, Some(&[FIRST, REUSED])).await;
    let sent = to_data_team();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["subject"], format!("File quarantined: {REUSED}"));
    let body = sent[0]["body"].as_str().unwrap();
    assert!(body.contains("Reason code: sequence_reused"), "{body}");
    let personal = personal::of_file(&sample(REUSED));
    let found = personal::found_in(body, &personal);
    assert!(found.is_empty(), "personal values {found:?} in {body}");

    // Dropped again, twice: quarantined each time, and no second alert.
    for _ in 0..2 {
        ctx.blobs
            .put(Area::Inbound, REUSED, sample(REUSED), "text/plain")
            .await
            .unwrap();
        let report = process_inbound(&ctx, REUSED, &FileOrigin::Operator, None)
            .await
            .unwrap();
        assert_eq!(report.outcome, Outcome::Quarantined);
    }
    assert_eq!(to_data_team().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_sends_a_missing_numbers_alert_once_however_often_the_check_runs() {
    let moto = Moto::start();
    let ports = moto_ports(&moto).await;
    let ctx = ports.context(Utc::now());
    let names = WITHOUT_44;
    process_samples(&ctx, Some(&names)).await;
    let date = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
    for _ in 0..3 {
        let run = sequence_check::run(&ctx, date).await.unwrap();
        assert_eq!(run.check.missing_count, 1);
    }
    let sent = sent_to_data_team(&moto);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        sent[0]["subject"],
        "TIS file sequence check 21/11/2026: numbers missing"
    );
    let body = sent[0]["body"].as_str().unwrap();
    assert!(body.contains("APP: 00000044"), "{body}");
    let mut personal = std::collections::BTreeSet::new();
    for name in names {
        personal.extend(personal::of_file(&sample(name)));
    }
    let found = personal::found_in(body, &personal);
    assert!(found.is_empty(), "personal values {found:?} in {body}");
}

// ---------------------------------------------------------------------------------------------
// The CloudWatch metric: EMF lines from the inbound-file handler on moto
// ---------------------------------------------------------------------------------------------

/// What the handler writes where Lambda's standard output would be.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines(&self) -> Vec<String> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarantine_on_moto_emits_one_emf_metric_line_and_a_loaded_file_none() {
    use dit_aws::metrics::{EmfMetrics, FILES_QUARANTINED, LOCAL_OFFICE, NAMESPACE};
    use dit_tests::inbound_on_moto::{aws, deliver_until, deps};

    let aws = aws().await;
    let captured = Captured::default();
    let mut deps = deps(&aws, aws.moto.dynamo_client().await);
    deps.metrics = Box::new(EmfMetrics::to(NAMESPACE, Box::new(captured.clone())));
    // A loaded file, then one whose trailer count differs.
    let bad = "DE_KSS_APP_20261121_00000054.DAT";
    for name in ["ESR_504_POS_20261121_00000001.DAT", FIRST, bad] {
        let key = format!("incoming/{}{name}", dit_domain::boundary::drop_folder(name));
        aws.s3
            .put_object()
            .bucket(dit_tests::inbound_on_moto::INBOUND)
            .key(&key)
            .body(sample(name).into())
            .send()
            .await
            .unwrap();
        deliver_until(&aws, &deps, &key).await;
    }

    let lines = captured.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let doc: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    let directives = doc["_aws"]["CloudWatchMetrics"].as_array().unwrap();
    assert_eq!(directives.len(), 1);
    assert_eq!(directives[0]["Namespace"], NAMESPACE);
    assert_eq!(
        directives[0]["Metrics"],
        serde_json::json!([{"Name": FILES_QUARANTINED, "Unit": "Count"}])
    );
    assert_eq!(
        directives[0]["Dimensions"],
        serde_json::json!([[LOCAL_OFFICE], []])
    );
    assert!(doc["_aws"]["Timestamp"].is_i64());
    assert_eq!(doc[LOCAL_OFFICE], "KSS");
    assert_eq!(doc[FILES_QUARANTINED], 1);
    assert_eq!(doc["ReasonCode"], "trl_count");
    // The line names no file and nothing of its records.
    assert!(!lines[0].contains(bad), "{}", lines[0]);
    let personal = personal::of_file(&sample(bad));
    let found = personal::found_in(&lines[0], &personal);
    assert!(
        found.is_empty(),
        "personal values {found:?} in {}",
        lines[0]
    );
}

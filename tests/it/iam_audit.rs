//! What each function's code asks of AWS (issue 9 item 6, least privilege), recorded on moto: the
//! inbound-file, trust-messages and scheduled-jobs handlers run the samples (every file of
//! `events/files/` dropped where its sender drops it, every message of `events/sqs/`, every job of
//! `events/schedules/`) through SDK clients that record the IAM action of each request and the
//! partition key kind of each DynamoDB write. The records go to
//! `$CARGO_TARGET_TMPDIR/iam-audit/<function>.json`, which scripts/iam_audit.py (run by
//! scripts/test.sh after the tests) compares with each function's role in `infra/template.yaml`:
//! an action or key kind used but not granted, or granted but never used, fails the test command.
//!
//! The portal's router runs its pages (inbox, items, downloads, search, applicant pages, every
//! move its forms allow, the operator pages) with an identity in each request, as the function
//! does behind API Gateway.

use std::path::Path;
use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use dit_aws::dynamo::DynamoStore;
use dit_aws::s3::{S3Blobs, S3Layout};
use dit_aws::ses::SesMailer;
use dit_core::ports::Mailer;
use dit_core::service::context::{Ports, Settings};
use dit_domain::boundary::drop_folder;
use dit_domain::dnc::DNC_FIELDS;
use dit_domain::mail::FromAddress;
use dit_portal::assets::Assets;
use dit_portal::csrf::CsrfKey;
use dit_portal::identity::Identity;
use dit_portal::{Downloads, Portal};
use dit_test_support::applicants::envelope;
use dit_test_support::samples::{
    batch_failures, json_event, repo, sample_files, sample_organisations,
};
use dit_test_support::{IamRecorder, Moto};
use serde_json::json;
use tower::ServiceExt;

const INBOUND: &str = "dit-inbound";
const OUTBOUND: &str = "dit-outbound";
const TABLE: &str = "dit-state";
const FROM: &str = "dit@example.nhs.uk";

fn audit_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_TARGET_TMPDIR"), "/iam-audit"))
}

fn layout() -> S3Layout {
    S3Layout {
        inbound_bucket: INBOUND.into(),
        inbound_prefix: "incoming/".into(),
        quarantine_prefix: "quarantine/".into(),
        outbound_bucket: OUTBOUND.into(),
    }
}

/// The adapters a function builds (`LambdaConfig::connect`), on clients recording into `recorder`;
/// with `mail`, alerts go through SES as with `ALERT_FROM` set.
async fn recorded_ports(moto: &Moto, recorder: &IamRecorder, mail: bool) -> Ports {
    let dynamo = moto.dynamo_client_with(recorder.clone()).await;
    let store = DynamoStore::new(dynamo, TABLE);
    let mailer: Box<dyn Mailer> = if mail {
        let ses = moto.ses_client_with(FROM, recorder.clone()).await;
        Box::new(SesMailer::new(
            ses,
            store.clone(),
            FromAddress::parse(FROM).unwrap(),
        ))
    } else {
        Box::new(dit_core::ports::NoMailer)
    };
    Ports {
        store: Box::new(store),
        blobs: Box::new(S3Blobs::new(
            moto.s3_client_with(recorder.clone()).await,
            layout(),
        )),
        mailer,
        organisations: sample_organisations(),
        settings: Settings {
            portal_url: "https://portal.example.nhs.uk".into(),
            ..Settings::default()
        },
    }
}

/// An S3 notification of the version `version` of `key`, as the inbound queue delivers it.
fn notification(key: &str, version: &str) -> SqsEvent {
    let body = json!({"Records": [{
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": INBOUND}, "object": {
            "key": key.replace('/', "%2F"), "size": 1, "versionId": version}},
    }]});
    serde_json::from_value(json!({"Records": [{
        "messageId": "m-1", "receiptHandle": "r-1", "body": body.to_string(), "eventSource": "aws:sqs",
    }]}))
    .unwrap()
}

/// Puts `bytes` at `key` of the inbound bucket as its sender would (a plain client, not the
/// function) and hands the notification of that version to the inbound-file handler; returns the
/// batch item failures.
async fn drop_and_handle(
    s3: &aws_sdk_s3::Client,
    deps: &inbound_file::Deps,
    key: &str,
    bytes: Vec<u8>,
) -> Vec<String> {
    let version = s3
        .put_object()
        .bucket(INBOUND)
        .key(key)
        .body(ByteStream::from(bytes))
        .send()
        .await
        .unwrap()
        .version_id
        .unwrap();
    let response = inbound_file::handle(
        deps,
        lambda_runtime::LambdaEvent::new(
            notification(key, &version),
            lambda_runtime::Context::default(),
        ),
    )
    .await
    .unwrap();
    batch_failures(&response)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_function_s_requests_are_recorded_for_the_iam_audit_on_moto() {
    let moto = Moto::start();
    moto.create_table(TABLE).await;
    let s3 = moto.create_buckets(INBOUND, OUTBOUND).await;
    // As the template has it: the inbound bucket keeps versions.
    s3.put_bucket_versioning()
        .bucket(INBOUND)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();

    // inbound-file: every sample file, dropped by its sender (a plain client: not the function).
    let recorder = IamRecorder::new();
    let deps = inbound_file::Deps {
        ports: recorded_ports(&moto, &recorder, true).await,
        inbound_bucket: INBOUND.into(),
        inbound_prefix: "incoming/".into(),
        metrics: Box::new(dit_core::ports::NoMetrics),
    };
    for path in sample_files() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let key = format!("incoming/{}{name}", drop_folder(&name));
        let failures = drop_and_handle(&s3, &deps, &key, std::fs::read(&path).unwrap()).await;
        assert!(failures.is_empty(), "{name}");
    }
    assert!(recorder.actions().contains("s3:GetObjectVersion"));
    assert!(recorder.leading_keys().contains("APPLICANT#"));
    recorder.save(audit_dir(), "inbound-file");

    // trust-messages: every sample message (its ports have no mailer, as deployed).
    let recorder = IamRecorder::new();
    let ports = recorded_ports(&moto, &recorder, false).await;
    let mut samples: Vec<_> = std::fs::read_dir(repo().join("events/sqs"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    samples.sort();
    for name in samples {
        let event = dit_test_support::samples::sqs_event("sqs", &name);
        let response = trust_messages::handle(&ports, event).await.unwrap();
        assert!(batch_failures(&response).is_empty(), "{name}");
    }
    assert!(recorder.leading_keys().contains("APPLICANT#"));
    recorder.save(audit_dir(), "trust-messages");

    // inbound-file again: a DNC re-dating applicant 5000001, who now has a person update (whose
    // TTL follows the applicant's).
    let recorder = IamRecorder::new();
    let deps = inbound_file::Deps {
        ports: recorded_ports(&moto, &recorder, true).await,
        ..deps
    };
    let applicant = deps
        .ports
        .store
        .applicant("5000001")
        .await
        .unwrap()
        .unwrap();
    assert!(!deps
        .ports
        .store
        .person_updates("504")
        .await
        .unwrap()
        .is_empty());
    let mut line: Vec<String> = DNC_FIELDS.iter().map(|_| String::new()).collect();
    for (field, value) in [
        ("RECORD_CODE", "DNC"),
        ("NOTIFICATION_TYPE", "4"),
        ("DEANERY_POST_NUMBER", applicant.dpn.as_str()),
        ("MANAGING_DEANERY_BODY", applicant.local_office.as_str()),
        ("POSITION_ID", applicant.position_id.as_str()),
        ("VPD", applicant.vpd.as_str()),
        ("POST_SPECIALTY", "Cardiology"),
        ("SITE", "Example Hospital"),
        ("CURRENT_LAST_NAME", "Trainee"),
        ("CURRENT_FIRST_NAME", "Test"),
        ("CURRENT_GMC_NUMBER", applicant.gmc_number().unwrap_or("")),
        ("CHANGE_OF_PROJECTED_END_DATE", "2030-08-31"),
    ] {
        line[DNC_FIELDS.iter().position(|f| *f == field).unwrap()] = value.to_string();
    }
    let name = "DE_KSS_DNC_20261121_00000090.DAT";
    let key = format!("incoming/tis/{name}");
    let text = envelope("DNC", "KSS", 90, &[line.join(",")]);
    assert!(drop_and_handle(&s3, &deps, &key, text.into_bytes())
        .await
        .is_empty());
    let redated = deps
        .ports
        .store
        .applicant("5000001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        redated.projected_end_date.map(|d| d.to_string()).as_deref(),
        Some("2030-08-31")
    );
    recorder.save(audit_dir(), "inbound-file");

    // scheduled-jobs: every job payload (a job added with its sample is audited with it).
    let recorder = IamRecorder::new();
    let ports = recorded_ports(&moto, &recorder, true).await;
    let mut jobs: Vec<_> = std::fs::read_dir(repo().join("events/schedules"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    jobs.sort();
    for name in jobs {
        scheduled_jobs::handle(&ports, json_event("schedules", &name))
            .await
            .unwrap();
    }
    assert!(recorder.leading_keys().contains("WATERMARK#"));
    recorder.save(audit_dir(), "scheduled-jobs");

    // portal: its pages as a trust, an operator, a local office and a trainee, moves through its
    // forms, and a trainee's problem report (with its alert: the portal sends mail).
    let recorder = IamRecorder::new();
    let mut ports = recorded_ports(&moto, &recorder, true).await;
    // As deployed (portal::config): its ListBucket is limited by prefix.
    ports.blobs = Box::new(
        S3Blobs::new(moto.s3_client_with(recorder.clone()).await, layout()).forbidden_as_missing(),
    );
    // The applicants with person updates come first: withdrawing one would re-stamp their
    // retention (PERSONUPDATE#; the samples' applicants with updates cannot be withdrawn, so the
    // audit explains that key kind).
    let updated: Vec<String> = ports
        .store
        .person_updates("504")
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.applicant_number)
        .collect();
    let app = dit_portal::router(Arc::new(Portal::new(
        ports,
        CsrfKey::from_secret(&[5u8; 32]).unwrap(),
        Downloads::Redirect,
        Assets::none(),
    )));
    portal_pages(&app, &updated).await;
    assert!(recorder.leading_keys().contains("READ#"));
    assert!(recorder.leading_keys().contains("PLACEMENT#"));
    assert!(recorder.leading_keys().contains("ALERT#"));
    assert!(recorder.actions().contains("s3:PutObject"));
    assert!(recorder.actions().contains("ses:SendEmail"));
    recorder.save(audit_dir(), "portal");
}

/// A page of the portal for `who` (`trust:504`, `operator`), or a form posted.
async fn page(app: &axum::Router, who: &str, uri: &str, form: Option<String>) -> (u16, String) {
    let mut request = match &form {
        Some(_) => axum::http::Request::post(uri)
            .header("content-type", "application/x-www-form-urlencoded"),
        None => axum::http::Request::get(uri),
    }
    .body(axum::body::Body::from(form.unwrap_or_default()))
    .unwrap();
    request
        .extensions_mut()
        .insert(Identity::parse_as(who, "audit@example.nhs.uk").unwrap());
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// Each of `uris` answers `who` exactly as a page that does not exist does (404, same body).
async fn answer_as_missing(app: &axum::Router, who: &str, uris: &[&str]) {
    let (status, missing) = page(app, who, "/no/such/page", None).await;
    assert_eq!(status, 404);
    for uri in uris {
        assert_eq!(
            page(app, who, uri, None).await,
            (404, missing.clone()),
            "{who} {uri}"
        );
    }
}

/// The `href`s of a page that start with `prefix`.
fn links(body: &str, prefix: &str) -> Vec<String> {
    body.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|href| href.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

fn hidden(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker)? + marker.len();
    Some(body[start..].split('"').next()?.to_string())
}

/// Every page kind of the portal, and every move its forms allow on trust 504's applicants.
async fn portal_pages(app: &axum::Router, first: &[String]) {
    let trust = "trust:504";
    let (status, inbox) = page(app, trust, "/inbox", None).await;
    assert_eq!(status, 200);
    let items = links(&inbox, "/inbox/");
    assert!(!items.is_empty());
    for item in &items {
        let (status, body) = page(app, trust, item, None).await;
        assert_eq!(status, 200, "{item}");
        for download in links(&body, "/downloads/") {
            assert_eq!(page(app, trust, &download, None).await.0, 302, "{download}");
        }
    }
    for download in links(&inbox, "/downloads/") {
        assert_eq!(page(app, trust, &download, None).await.0, 302, "{download}");
    }
    // A missing item and a missing download: 404 (S3 answers 403 to this role in AWS).
    assert_eq!(
        page(app, trust, "/inbox/notifications/none", None).await.0,
        404
    );
    let (status, found) = page(app, trust, "/applicants", None).await;
    assert_eq!(status, 200);
    let mut numbers: Vec<String> = links(&found, "/applicants/")
        .into_iter()
        .filter(|l| l[12..].bytes().all(|b| b.is_ascii_digit()))
        .collect();
    numbers.sort_by_key(|n| {
        (
            !first.iter().any(|f| n.ends_with(&format!("/{f}"))),
            n.clone(),
        )
    });
    numbers.dedup();
    assert!(!numbers.is_empty(), "{found}");
    let mut withdrawn = false;
    for number in &numbers {
        assert_eq!(page(app, trust, number, None).await.0, 200, "{number}");
        // Every move allowed now, in the order a trust makes them; the first applicant that may
        // be withdrawn is, which re-stamps the retention of its placement link and updates.
        let moves: &[(&str, &str)] = if withdrawn {
            &[
                ("offer", ""),
                ("accept", ""),
                ("hire", "person_type=Employee"),
                ("hire", "person_type=Honorary"),
            ]
        } else {
            &[("withdraw", "reason=Declined")]
        };
        for (action, query) in moves {
            let (status, body) =
                page(app, trust, &format!("{number}/{action}?{query}"), None).await;
            let (Some(action_id), Some(csrf)) = (hidden(&body, "action_id"), hidden(&body, "csrf"))
            else {
                assert!(matches!(status, 400 | 409), "{number}/{action}: {status}");
                continue;
            };
            let mut form = format!("action_id={action_id}&csrf={csrf}");
            for field in ["person_type", "reason", "effective_date"] {
                let value = hidden(&body, field).unwrap_or_default();
                form.push_str(&format!("&{field}={value}"));
            }
            let (status, _) = page(app, trust, &format!("{number}/{action}"), Some(form)).await;
            assert_eq!(status, 303, "{number}/{action}");
            withdrawn |= *action == "withdraw";
            let (status, _) = page(app, trust, &format!("{number}?answer={action_id}"), None).await;
            assert_eq!(status, 200, "{number} after {action}");
        }
    }
    // The start page and the reports (their downloads read what their pages read).
    for uri in [
        "/",
        "/reports/notice?from=2026-11-01&to=2027-11-30",
        "/reports/states.csv?from=2026-11-01&to=2027-11-30",
    ] {
        assert_eq!(page(app, trust, uri, None).await.0, 200, "{uri}");
    }
    for (who, uri) in [
        ("operator", "/reports/states?from=2026-11-01&to=2027-11-30"),
        (
            "operator",
            "/reports/exceptions.csv?from=2026-11-01&to=2026-11-30",
        ),
        (
            "local-office:KSS",
            "/reports/notice?from=2026-11-01&to=2027-11-30",
        ),
        ("local-office:KSS", "/applicants"),
    ] {
        assert_eq!(page(app, who, uri, None).await.0, 200, "{who} {uri}");
    }
    let operator = "operator";
    for uri in [
        "/operator/files",
        "/operator/quarantine",
        "/operator/sequence-check",
        "/applicants?q=5000001",
    ] {
        let (status, body) = page(app, operator, uri, None).await;
        assert_eq!(status, 200, "{uri}");
        for link in links(&body, "/operator/files/")
            .into_iter()
            .chain(links(&body, "/operator/sequence-check/"))
        {
            assert_eq!(page(app, operator, &link, None).await.0, 200, "{link}");
        }
    }
    // A trainee (the sample applicants' GMC number): their placements, each page, one report.
    let trainee = "trainee:7544158";
    let (status, start) = page(app, trainee, "/", None).await;
    assert_eq!(status, 200);
    let placements = links(&start, "/my/placements/");
    assert!(!placements.is_empty(), "{start}");
    for placement in &placements {
        assert_eq!(
            page(app, trainee, placement, None).await.0,
            200,
            "{placement}"
        );
    }
    let (_, body) = page(app, trainee, &placements[0], None).await;
    let (Some(action_id), Some(csrf)) = (hidden(&body, "action_id"), hidden(&body, "csrf")) else {
        panic!("no report form on {body}");
    };
    let form = format!("action_id={action_id}&csrf={csrf}&text=My+surname+is+misspelt");
    let report = format!("{}/report", placements[0]);
    assert_eq!(page(app, trainee, &report, Some(form)).await.0, 200);

    // On DynamoDB as on SQLite, what a role must not see answers as a missing page does.
    let another = "/my/placements/5000002"; // the samples' second applicant, another GMC number
    assert!(!placements.iter().any(|p| p == another), "{start}");
    let not_a_trainees = [
        another,
        "/inbox",
        "/applicants/5000001",
        "/operator/files",
        "/reports",
    ];
    answer_as_missing(app, trainee, &not_a_trainees).await;
    let (_, files) = page(app, operator, "/operator/files", None).await;
    let kss_file = links(&files, "/operator/files/")
        .into_iter()
        .find(|link| link.contains("_KSS_"))
        .expect("a KSS file on the operator's list");
    let ldn = "local-office:LDN";
    let (status, own_files) = page(app, ldn, "/operator/files", None).await;
    assert_eq!(status, 200);
    assert!(!own_files.contains("_KSS_"), "{own_files}");
    answer_as_missing(
        app,
        ldn,
        &[kss_file.as_str(), "/applicants/5000001", "/inbox"],
    )
    .await;
    assert_eq!(page(app, "local-office:KSS", &kss_file, None).await.0, 200);
}

//! No personal data in logs or operator outputs.
//!
//! The whole sample flow runs through the three Lambda handlers on SQLite and folders: every file
//! of `events/files/` and every malformed file of `tests/corpus/malformed/` (S3 notifications via
//! SQS), every message of `events/messages/` (SQS), the new-starter reminder and the RMC export
//! (schedule payloads); then hostile inputs: a trust message and a notification with a personal
//! value where a number belongs sent to the inbound-file function, a trust message sent to the
//! scheduled-jobs function, and stored records made unreadable with a personal value in them.
//! A subscriber captures every log line at every level (TRACE). Then every personal value of the
//! inputs (names, GMC/GDC and NI numbers, dates of birth, e-mails, phones, addresses; read from the
//! inputs themselves) is searched for in every log line, every operator output
//! (`outbound/operator/**`), every quarantine reason, every answer to a message and every handler
//! response. Outputs for trusts and TIS (notifications, APC, RMC) carry personal data by design and
//! are not searched.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use aws_lambda_events::event::sqs::SqsEvent;
use dit_core::ports::Area;
use dit_domain::boundary::drop_folder;
use dit_embedded::sqlite::SqliteStore;
use dit_test_support::personal;
use dit_test_support::samples::{files_under, payload, ports_with, repo, sample_files};
use lambda_runtime::LambdaEvent;
use serde_json::{json, Value};

/// Every line written by the subscriber, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .map(str::to_string)
            .collect()
    }
}

fn corpus() -> PathBuf {
    repo().join("tests/corpus/malformed")
}

#[derive(serde::Deserialize)]
struct Expectations {
    file: Vec<Expected>,
}

#[derive(serde::Deserialize)]
struct Expected {
    corpus: String,
    drop_as: String,
}

fn corpus_files() -> Vec<(String, Vec<u8>)> {
    let text = std::fs::read_to_string(corpus().join("expectations.toml")).unwrap();
    toml::from_str::<Expectations>(&text)
        .unwrap()
        .file
        .into_iter()
        .map(|e| (e.drop_as, std::fs::read(corpus().join(e.corpus)).unwrap()))
        .collect()
}

fn sample_message_bodies() -> Vec<String> {
    let dir = repo().join("events/messages");
    let mut bodies: Vec<String> = std::fs::read_to_string(dir.join("walkthrough.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    let mut singles: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    singles.sort();
    for path in singles {
        bodies.push(std::fs::read_to_string(path).unwrap());
    }
    bodies
}

fn sqs(bodies: &[String]) -> LambdaEvent<SqsEvent> {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            json!({"messageId": format!("m-{i:04}"), "body": body, "eventSource": "aws:sqs",
                   "attributes": {"SenderId": sender_id(body)}})
        })
        .collect();
    LambdaEvent::new(
        serde_json::from_value(json!({ "Records": records })).unwrap(),
        lambda_runtime::Context::default(),
    )
}

/// The SenderId of the sample sender a message body stands for (`events/files/organisations.toml`).
fn sender_id(body: &str) -> &'static str {
    let value: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    if value["source"] == "trac" {
        "AIDAEXAMPLETRAC"
    } else if value["vpd"] == "505" {
        "AROAEXAMPLETRUST505:test"
    } else {
        "AROAEXAMPLETRUST504:test"
    }
}

fn notification(key: &str) -> String {
    json!({"Records": [{
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "dit-inbound"}, "object": {"key": format!("incoming/{key}"), "size": 1}}
    }]})
    .to_string()
}

/// One place searched, and what it holds.
struct Searched {
    what: String,
    text: String,
}

fn operator_outputs(dir: &Path) -> Vec<Searched> {
    let mut found = Vec::new();
    for (path, bytes) in files_under(dir, "outbound") {
        let searched = path.starts_with("operator/") || path.contains("/messages/");
        if searched {
            found.push(Searched {
                what: format!("outbound/{path}"),
                text: String::from_utf8_lossy(&bytes).into_owned(),
            });
        }
    }
    for (path, bytes) in files_under(dir, "quarantine") {
        if path.ends_with(".reason.json") {
            found.push(Searched {
                what: format!("quarantine/{path}"),
                text: String::from_utf8_lossy(&bytes).into_owned(),
            });
        }
    }
    found
}

#[tokio::test]
async fn no_personal_value_of_the_inputs_reaches_a_log_or_an_operator_output() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_current_span(true)
        .with_span_list(true)
        .with_writer(captured.clone())
        .finish();
    // The test runs on one thread (tokio's current-thread runtime), so this catches every event
    // (once no callsite keeps a "never enabled" cached by another test's thread meanwhile).
    let _guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let deps = inbound_file::Deps {
        ports: ports_with(Box::new(SqliteStore::open(&db).unwrap()), dir.path()),
        inbound_bucket: "dit-inbound".into(),
        inbound_prefix: "incoming/".into(),
        metrics: Box::new(dit_core::ports::NoMetrics),
    };
    let ports = &deps.ports;
    let mut values: BTreeSet<String> = BTreeSet::new();
    let mut responses: Vec<Searched> = Vec::new();
    let mut respond = |what: &str, value: Value| {
        responses.push(Searched {
            what: what.to_string(),
            text: value.to_string(),
        })
    };

    // Files: the samples in business order, then the malformed corpus.
    let mut files: Vec<(String, Vec<u8>)> = sample_files()
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(p).unwrap())
        })
        .collect();
    files.extend(corpus_files());
    for (name, bytes) in &files {
        values.extend(personal::of_file(bytes));
        // In its sender's folder, where inbound-file takes it from (section 7).
        let key = format!("{}{name}", drop_folder(name));
        ports
            .blobs
            .put(Area::Inbound, &key, bytes.clone(), "text/plain")
            .await
            .unwrap();
        let response = inbound_file::handle(&deps, sqs(&[notification(&key)]))
            .await
            .unwrap();
        assert!(response.batch_item_failures.is_empty(), "{name}");
        respond(
            &format!("inbound-file response for {name}"),
            serde_json::to_value(&response).unwrap(),
        );
    }

    // Messages: the walkthrough and every single sample, as one batch.
    let bodies = sample_message_bodies();
    for body in &bodies {
        values.extend(personal::of_message(body));
    }
    let response = trust_messages::handle(ports, sqs(&bodies)).await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    respond(
        "trust-messages response",
        serde_json::to_value(&response).unwrap(),
    );

    // Schedules: the reminder where the samples have starters, the sample payloads, the RMC after
    // the person updates.
    let mut schedules: Vec<Value> = vec![
        json!({"job": "new-starter-reminder", "business_date": "2027-01-29"}),
        json!({"job": "tis-export", "business_date": "2026-11-23"}),
    ];
    for entry in std::fs::read_dir(repo().join("events/schedules")).unwrap() {
        schedules
            .push(serde_json::from_slice(&std::fs::read(entry.unwrap().path()).unwrap()).unwrap());
    }
    for schedule in schedules {
        let response = scheduled_jobs::handle(ports, payload(schedule.clone()))
            .await
            .unwrap();
        respond(
            &format!("scheduled-jobs response to {schedule}"),
            serde_json::to_value(&response).unwrap(),
        );
    }
    assert!(
        files_under(dir.path(), "outbound")
            .iter()
            .any(|(p, b)| p.contains("_RMC_") && String::from_utf8_lossy(b).contains("\nPER,")),
        "the RMC carries the person updates"
    );

    // Hostile inputs. A surname, a GMC number and a date of birth from the samples.
    let applicant = ports.store.applicant("5000002").await.unwrap().unwrap();
    let surname = applicant.details.last_name.clone();
    let gmc = applicant.gmc_number().unwrap().to_string();
    let born = applicant.details.date_of_birth.unwrap().to_string();
    for value in [&surname, &gmc, &born] {
        assert!(values.contains(value.as_str()), "{value} is searched for");
    }
    let misrouted =
        std::fs::read_to_string(repo().join("events/messages/person-update-5000001.json")).unwrap();
    let mistyped = json!({"Records": [{
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": surname}, "object": {"key": "incoming/x.DAT", "size": surname}}
    }]})
    .to_string();
    let response = inbound_file::handle(&deps, sqs(&[misrouted.clone(), mistyped]))
        .await
        .unwrap();
    respond(
        "inbound-file response to hostile bodies",
        serde_json::to_value(&response).unwrap(),
    );
    let response =
        scheduled_jobs::handle(ports, payload(serde_json::from_str(&misrouted).unwrap()))
            .await
            .unwrap();
    respond(
        "scheduled-jobs response to a trust message",
        serde_json::to_value(&response).unwrap(),
    );

    // Stored records made unreadable, each with a personal value where a number or date belongs:
    // an applicant a message then acts on, and one the reminder then reads.
    let raw = rusqlite::Connection::open(&db).unwrap();
    raw.execute(
        "UPDATE applicants SET body = json_set(body, '$.version', ?1) WHERE applicant_number = '5000002'",
        [&surname],
    )
    .unwrap();
    raw.execute(
        "UPDATE applicants SET hire_date = '2027-02-11', body = json_set(body, '$.projected_hire_date', ?1) WHERE applicant_number = '5000003'",
        [&born],
    )
    .unwrap();
    raw.execute(
        "UPDATE applicants SET body = json_set(body, '$.details.date_of_birth', ?1) WHERE applicant_number = '5000003'",
        [&gmc],
    )
    .unwrap();
    let offer =
        json!({"id": "504-9001", "action": "offer", "vpd": "504", "applicant_number": "5000002"})
            .to_string();
    let response = trust_messages::handle(ports, sqs(&[offer])).await.unwrap();
    respond(
        "trust-messages response on an unreadable applicant",
        serde_json::to_value(&response).unwrap(),
    );
    let response = scheduled_jobs::handle(
        ports,
        payload(json!({"job": "new-starter-reminder", "business_date": "2027-02-06"})),
    )
    .await
    .unwrap();
    let response = serde_json::to_value(&response).unwrap();
    assert_eq!(
        response["outcome"], "failed",
        "the unreadable applicant stops the reminder: {response}"
    );
    respond(
        "scheduled-jobs response on an unreadable applicant",
        response,
    );

    // The search.
    let lines = captured.lines();
    assert!(lines.len() > 100, "{} log lines captured", lines.len());
    let mut levels = std::collections::BTreeMap::new();
    for line in &lines {
        let level = serde_json::from_str::<Value>(line).map_or(Value::Null, |v| v["level"].clone());
        *levels
            .entry(level.as_str().unwrap_or("?").to_string())
            .or_insert(0) += 1;
    }
    eprintln!("log lines by level: {levels:?}");
    assert!(
        lines.iter().any(|l| l.contains("cannot decode record")),
        "the decoding error is logged"
    );
    let mut searched: Vec<Searched> = lines
        .into_iter()
        .enumerate()
        .map(|(i, text)| Searched {
            what: format!("log line {}", i + 1),
            text,
        })
        .collect();
    let log_lines = searched.len();
    let outputs = operator_outputs(dir.path());
    let output_count = outputs.len();
    assert!(outputs
        .iter()
        .any(|o| o.what.starts_with("outbound/operator/files/")));
    assert!(outputs.iter().any(|o| o.what.starts_with("quarantine/")));
    assert!(outputs
        .iter()
        .any(|o| o.what.starts_with("outbound/operator/schedules/")));
    searched.extend(outputs);
    let response_count = responses.len();
    searched.extend(responses);

    let common = personal::remove_system_words(&mut values);
    eprintln!(
        "not searched: {} personal values that are also words of the system's own text: {common:?}",
        common.len()
    );
    let mut leaks = Vec::new();
    for place in &searched {
        let found = personal::found_in(&place.text, &values);
        if !found.is_empty() {
            let excerpt: String = place.text.chars().take(400).collect();
            leaks.push(format!("{}: {found:?}\n    {excerpt}", place.what));
        }
    }
    eprintln!(
        "searched {} personal values in {log_lines} log lines, {output_count} operator outputs and quarantine reasons, {response_count} handler responses",
        values.len()
    );
    assert!(
        leaks.is_empty(),
        "personal data found:\n{}",
        leaks.join("\n")
    );
}

/// The DynamoDB adapter on moto, logging through the functions' own filter with `RUST_LOG=trace`:
/// an item made unreadable with a personal value in it is reported without that value, and the
/// AWS SDK, which prints whole items at TRACE and error details at DEBUG, is held at INFO.
#[tokio::test]
async fn moto_unreadable_items_are_reported_without_their_values() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use dit_aws::dynamo::DynamoStore;
    use dit_core::ports::StateStore;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::Layer;

    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(captured.clone())
            .with_filter(dit_aws::logging::filter(Some("trace"))),
    );
    let _guard = tracing::subscriber::set_default(subscriber);
    // Other tests of this binary run on other threads with no subscriber: a callsite they hit
    // while this one was being set as the default may have cached "never enabled".
    tracing::callsite::rebuild_interest_cache();

    let moto = dit_test_support::Moto::start();
    let client = moto.create_table("dit-state").await;
    let store = DynamoStore::new(client.clone(), "dit-state");
    let surname = "Lindqvist";
    let born = "1994-03-14";
    let item = std::collections::HashMap::from([
        (
            "PK".to_string(),
            AttributeValue::S("APPLICANT#5000002".into()),
        ),
        ("SK".to_string(), AttributeValue::S("A".into())),
        (
            "applicant_number".to_string(),
            AttributeValue::S("5000002".into()),
        ),
        ("version".to_string(), AttributeValue::S(surname.into())),
        (
            "projected_hire_date".to_string(),
            AttributeValue::S(born.into()),
        ),
    ]);
    client
        .put_item()
        .table_name("dit-state")
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
    store.positions(&["10508064".to_string()]).await.unwrap();
    let err = store.applicant("5000002").await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains("applicant 5000002"), "{message}");
    let values = BTreeSet::from([surname.to_string(), born.to_string()]);
    assert!(
        personal::found_in(&message, &values).is_empty(),
        "{message}"
    );
    tracing::error!(error = %err, "as the handlers log it");
    let lines = captured.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("\"level\":\"DEBUG\"") && l.contains("dit_aws")),
        "the adapter's own DEBUG lines are kept"
    );
    assert!(
        !lines.iter().any(|l| l.contains("\"target\":\"aws_smithy")
            && !l.contains("\"level\":\"INFO\"")
            && !l.contains("\"level\":\"WARN\"")
            && !l.contains("\"level\":\"ERROR\"")),
        "the SDK is held at INFO"
    );
    let leaks: Vec<&String> = lines
        .iter()
        .filter(|l| !personal::found_in(l, &values).is_empty())
        .collect();
    eprintln!("moto: {} log lines searched", lines.len());
    assert!(leaks.is_empty(), "{leaks:#?}");
}

//! Crash at every write: each path runs once cleanly, then once per write N with a fault at the
//! Nth write (a transient failure before it, a panic before it, or a failure after it was made),
//! then again on the real store and blob store, as a redelivery or a rerun would. The rerun must
//! converge to exactly the clean run: the same applicants (numbers included), history, persons,
//! positions, rotation grids, person updates, watermarks, TIS view and rejected records (compared
//! through store reads), and byte-identical files in every area.
//!
//! The paths: an APP file of 120 records, a POS file, a DNC and a DNF file, a batch of trust
//! messages, the new-starter reminder over two dates, the RMC export. Each notification, reminder
//! and report the paths write for trust 504 is e-mailed (its `alert_emails`): an alert handed
//! over is a write too, and the rerun must have sent each alert exactly once (`.eml` files
//! locally, SES on moto). On SQLite (in memory) and
//! folders for every N and each of the three faults; on DynamoDB and S3 (moto) for a sample of N.
//! A write of many records is faulted between any two of them (see `dit_test_support::faults`).
//!
//! A batch of messages stops at its first failure, as a process that dies there would; the rerun
//! sends the whole batch again. Every run uses the same clock, so timestamps compare equal.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use dit_aws::dynamo::DynamoStore;
use dit_aws::s3::{S3Blobs, S3Layout};
use dit_aws::ses::SesMailer;
use dit_core::ports::{Area, BlobStore, Mailer, StateStore};
use dit_core::service::context::Context;
use dit_core::service::export::export_changes;
use dit_core::service::inbound::process_inbound;
use dit_core::service::messages::handle_message;
use dit_core::service::reminders;
use dit_domain::boundary::{FileOrigin, MessageSender, Principal};
use dit_domain::mail::FromAddress;
use dit_domain::model::RejectedLookup;
use dit_domain::org::Organisations;
use dit_embedded::folders::FolderBlobs;
use dit_embedded::mail::EmlMailer;
use dit_embedded::sqlite::SqliteStore;
use dit_test_support::faults::{Fault, Faults, FaultyBlobs, FaultyMailer, FaultyStore};
use dit_test_support::samples::{repo, sample_organisations};
use dit_test_support::Moto;
use serde_json::Value;

const FAULTS: [Fault; 3] = [Fault::Fail, Fault::Panic, Fault::FailAfter];

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 14, 0, 0).unwrap()
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

// ---------------------------------------------------------------------------------------------
// A world: a store, a blob store, the organisations
// ---------------------------------------------------------------------------------------------

#[derive(Clone)]
struct World {
    store: Arc<dyn StateStore>,
    blobs: Arc<dyn BlobStore>,
    /// E-mail alerts: `.eml` files in the outbound area locally, SES on moto.
    mailer: Arc<dyn Mailer>,
    organisations: Arc<Organisations>,
    /// Text in outputs that differs between worlds of the same content (the data folder in a
    /// local link), replaced before comparing.
    local_root: Option<String>,
}

impl World {
    fn ctx(&self) -> Context<'_> {
        Context::new(
            self.store.as_ref(),
            self.blobs.as_ref(),
            &self.organisations,
            now(),
        )
        .with_mailer(self.mailer.as_ref())
    }

    fn faulty(&self, faults: &Arc<Faults>) -> World {
        World {
            store: Arc::new(FaultyStore::new(
                Arc::clone(&self.store),
                Arc::clone(faults),
            )),
            blobs: Arc::new(FaultyBlobs::new(
                Arc::clone(&self.blobs),
                Arc::clone(faults),
            )),
            mailer: Arc::new(FaultyMailer::new(
                Arc::clone(&self.mailer),
                Arc::clone(faults),
            )),
            ..self.clone()
        }
    }
}

/// Where worlds come from: SQLite in memory and folders, or moto.
enum Ground {
    Sqlite,
    Moto(Moto),
}

struct Fresh {
    world: World,
    _dir: Option<tempfile::TempDir>,
}

const TABLE: &str = "dit-state";
const INBOUND: &str = "dit-inbound";
const OUTBOUND: &str = "dit-outbound";
const MAIL_FROM: &str = "dit@example.nhs.uk";

fn mail_from() -> FromAddress {
    FromAddress::parse(MAIL_FROM).unwrap()
}

impl Ground {
    async fn fresh(&self) -> Fresh {
        match self {
            Ground::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                Fresh {
                    world: World {
                        store: Arc::new(SqliteStore::in_memory().unwrap()),
                        blobs: Arc::new(FolderBlobs::new(dir.path())),
                        mailer: Arc::new(EmlMailer::new(dir.path(), mail_from())),
                        organisations: Arc::new(sample_organisations()),
                        local_root: Some(dir.path().display().to_string()),
                    },
                    _dir: Some(dir),
                }
            }
            Ground::Moto(moto) => {
                moto.reset();
                let dynamo = moto.create_table(TABLE).await;
                moto.create_buckets(INBOUND, OUTBOUND).await;
                let ses = moto.ses_client(MAIL_FROM).await;
                let layout = S3Layout {
                    inbound_bucket: INBOUND.into(),
                    inbound_prefix: "incoming/".into(),
                    quarantine_prefix: "quarantine/".into(),
                    outbound_bucket: OUTBOUND.into(),
                };
                Fresh {
                    world: World {
                        store: Arc::new(DynamoStore::new(dynamo.clone(), TABLE)),
                        blobs: Arc::new(S3Blobs::new(moto.s3_client().await, layout)),
                        mailer: Arc::new(SesMailer::new(
                            ses,
                            DynamoStore::new(dynamo, TABLE),
                            mail_from(),
                        )),
                        organisations: Arc::new(sample_organisations()),
                        local_root: None,
                    },
                    _dir: None,
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The paths
// ---------------------------------------------------------------------------------------------

type Run = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

struct Path {
    name: &'static str,
    /// What is there before (run on the real store).
    setup: fn(World) -> Run,
    /// The step faulted and rerun.
    step: fn(World) -> Run,
    /// Whether the step writes a notification, reminder or report for trust 504 (e-mailed).
    alerts: bool,
}

async fn drop_and_process(world: &World, name: &str, bytes: Vec<u8>) -> Result<(), String> {
    world
        .blobs
        .put(Area::Inbound, name, bytes, "text/plain")
        .await
        .map_err(|e| e.to_string())?;
    process(world, name).await
}

async fn process(world: &World, name: &str) -> Result<(), String> {
    process_inbound(&world.ctx(), name, &FileOrigin::Operator, None)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("events/files").join(name)).unwrap()
}

/// The sample positions and applicants (POS 504 and 505, APP 42).
async fn load_samples(world: &World) -> Result<(), String> {
    for name in [
        "ESR_504_POS_20261121_00000001.DAT",
        "ESR_505_POS_20261121_00000001.DAT",
        "DE_KSS_APP_20261121_00000042.DAT",
    ] {
        drop_and_process(world, name, sample(name)).await?;
    }
    Ok(())
}

fn walkthrough() -> Vec<String> {
    std::fs::read_to_string(repo().join("events/messages/walkthrough.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

async fn send_batch(world: &World) -> Result<(), String> {
    for body in walkthrough() {
        // The local operator's authority (dit action without --as), as the walkthrough is sent.
        handle_message(
            &world.ctx(),
            &MessageSender::Known(Principal::Operator),
            &body,
        )
        .await
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

const APP_POSITIONS: u64 = 6;

fn app_position(p: u64) -> (u64, String) {
    (32_000_000 + p, format!("KSS/RJZ01/640/STR/{p:03}"))
}

/// Six positions of trust 504 for the generated APP files.
fn app_positions_file() -> Vec<u8> {
    let mut text = String::from("HDR,POS,504,20261121,00000007,2026-11-21T13:00:00Z,1\n");
    for p in 0..APP_POSITIONS {
        let (id, dpn) = app_position(p);
        text.push_str(&format!("POS,{id},{id},{id}|Registrar|ST4|Medicine,{dpn},KSS,Lead Employer,2020-01-01,,N1L,ST4,Site,RXX,504\n"));
    }
    text.push_str(&format!("TRL,{APP_POSITIONS}\n"));
    text.into_bytes()
}

fn app_line(placement: u64, position: u64, gmc: u64, born: &str, surname: &str) -> String {
    let (id, dpn) = app_position(position);
    format!("APP,{placement},2026-11-21,{id},{id},{dpn},{surname},Forename,,Dr,{born},F,{gmc},,,,,,,,,,,,,GB,GB,GB,Z,S,,,N,,2027-02-03,,1.0,ST4")
}

fn app_file(seq: u32, lines: &[String]) -> Vec<u8> {
    let mut text = format!("HDR,APP,KSS,20261121,{seq:08},2026-11-21T13:00:00Z,1\n");
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(&format!("TRL,{}\n", lines.len()));
    text.into_bytes()
}

/// 120 records: most load; some are the same person twice, some have an impossible date of
/// birth, one names an unknown position, one repeats a placement.
fn app_120() -> Vec<u8> {
    let lines: Vec<String> = (0..120u64)
        .map(|i| {
            let placement = if i == 50 { 9_200_049 } else { 9_200_000 + i };
            let gmc = if i % 10 == 9 {
                7_800_000 + i - 1
            } else {
                7_800_000 + i
            };
            let born = if i % 15 == 14 {
                "1990-02-30"
            } else {
                "1990-01-31"
            };
            let line = app_line(
                placement,
                i % APP_POSITIONS,
                gmc,
                born,
                &format!("Surname{i}"),
            );
            if i == 7 {
                line.replace("32000001,32000001", "39999999,39999999")
            } else {
                line
            }
        })
        .collect();
    app_file(2, &lines)
}

fn setup_app(world: World) -> Run {
    Box::pin(async move {
        drop_and_process(
            &world,
            "ESR_504_POS_20261121_00000007.DAT",
            app_positions_file(),
        )
        .await?;
        // An earlier file: applicant numbers are already in use.
        let earlier = app_file(
            1,
            &[app_line(9_199_000, 0, 7_799_000, "1991-05-05", "Earlier")],
        );
        drop_and_process(&world, "DE_KSS_APP_20261121_00000001.DAT", earlier).await?;
        world
            .blobs
            .put(
                Area::Inbound,
                "DE_KSS_APP_20261121_00000002.DAT",
                app_120(),
                "text/plain",
            )
            .await
            .map_err(|e| e.to_string())
    })
}

fn step_app(world: World) -> Run {
    Box::pin(async move { process(&world, "DE_KSS_APP_20261121_00000002.DAT").await })
}

/// Trust 504's positions again, a day later: one renamed, one gone, one new.
fn next_pos_file() -> Vec<u8> {
    let text = String::from_utf8(sample("ESR_504_POS_20261121_00000001.DAT")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let data: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with("POS,"))
        .collect();
    lines[data[0]] = lines[data[0]].replace("Anaesthetics", "Intensive Care");
    lines.remove(data[1]);
    lines.insert(
        lines.len() - 1,
        "POS,10509999,10509999,10509999|Foundation House Officer|F2|Surgery,KSS/RJZ01/030/STR/999,KSS,Lead Employer,2020-08-01,,N1L,F2,Example Hospital,RXX,504 Example Hospital".into(),
    );
    let count = lines.iter().filter(|l| l.starts_with("POS,")).count();
    let last = lines.len() - 1;
    lines[last] = format!("TRL,{count}");
    lines[0] = lines[0].replace("20261121,00000001", "20261122,00000002");
    let mut text = lines.join("\n");
    text.push('\n');
    text.into_bytes()
}

fn setup_pos(world: World) -> Run {
    Box::pin(async move {
        load_samples(&world).await?;
        world
            .blobs
            .put(
                Area::Inbound,
                "ESR_504_POS_20261122_00000002.DAT",
                next_pos_file(),
                "text/plain",
            )
            .await
            .map_err(|e| e.to_string())
    })
}

fn step_pos(world: World) -> Run {
    Box::pin(async move { process(&world, "ESR_504_POS_20261122_00000002.DAT").await })
}

fn setup_notification(name: &'static str) -> impl Fn(World) -> Run {
    move |world: World| -> Run {
        Box::pin(async move {
            load_samples(&world).await?;
            world
                .blobs
                .put(Area::Inbound, name, sample(name), "text/plain")
                .await
                .map_err(|e| e.to_string())
        })
    }
}

const DNC: &str = "DE_KSS_DNC_20261121_00000046.DAT";
const DNF: &str = "DE_KSS_DNF_20261121_00000001.DAT";

fn setup_dnc(world: World) -> Run {
    setup_notification(DNC)(world)
}

fn step_dnc(world: World) -> Run {
    Box::pin(async move { process(&world, DNC).await })
}

fn setup_dnf(world: World) -> Run {
    setup_notification(DNF)(world)
}

fn step_dnf(world: World) -> Run {
    Box::pin(async move { process(&world, DNF).await })
}

fn setup_messages(world: World) -> Run {
    Box::pin(async move { load_samples(&world).await })
}

fn step_messages(world: World) -> Run {
    Box::pin(async move { send_batch(&world).await })
}

fn setup_reminder(world: World) -> Run {
    Box::pin(async move {
        load_samples(&world).await?;
        reminders::run(&world.ctx(), date("2027-01-27"))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

/// Two dates at once: the watermark stands at the 27th, the run is for the 29th (starters on
/// 3 February are reminded on the 29th).
fn step_reminder(world: World) -> Run {
    Box::pin(async move {
        reminders::run(&world.ctx(), date("2027-01-29"))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

fn setup_export(world: World) -> Run {
    Box::pin(async move {
        load_samples(&world).await?;
        send_batch(&world).await
    })
}

fn step_export(world: World) -> Run {
    Box::pin(async move {
        export_changes(&world.ctx(), "KSS", date("2026-11-23"))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

fn app_path() -> Path {
    Path {
        name: "APP file of 120 records",
        setup: setup_app,
        step: step_app,
        alerts: true,
    }
}

fn pos_path() -> Path {
    Path {
        name: "POS file",
        setup: setup_pos,
        step: step_pos,
        alerts: true,
    }
}

fn dnc_path() -> Path {
    Path {
        name: "DNC file",
        setup: setup_dnc,
        step: step_dnc,
        alerts: true,
    }
}

fn dnf_path() -> Path {
    Path {
        name: "DNF file",
        setup: setup_dnf,
        step: step_dnf,
        alerts: true,
    }
}

fn messages_path() -> Path {
    Path {
        name: "trust-message batch",
        setup: setup_messages,
        step: step_messages,
        alerts: false,
    }
}

fn reminder_path() -> Path {
    Path {
        name: "reminder over two dates",
        setup: setup_reminder,
        step: step_reminder,
        alerts: true,
    }
}

fn export_path() -> Path {
    Path {
        name: "RMC export",
        setup: setup_export,
        step: step_export,
        alerts: false,
    }
}

// ---------------------------------------------------------------------------------------------
// What a world holds, read back
// ---------------------------------------------------------------------------------------------

type Snapshot = BTreeMap<String, Value>;

fn json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

/// Everything the store and the blob store hold that the paths can touch, by name, and on moto
/// the e-mails SES accepted (locally they are `.eml` files in the outbound area).
async fn snapshot(ground: &Ground, world: &World, highest_number: u64) -> Snapshot {
    let store = world.store.as_ref();
    let mut snap = Snapshot::new();
    let mut persons = Vec::new();
    let mut placements = Vec::new();
    // Applicants by number, beyond the clean run's highest: a number used twice or a record
    // numbered differently shows as a difference.
    for n in 1..=highest_number * 2 + 50 {
        let number = (5_000_000 + n).to_string();
        let Some(applicant) = store.applicant(&number).await.unwrap() else {
            continue;
        };
        let history = store.history(&number).await.unwrap();
        let seqs: Vec<u32> = history.iter().map(|e| e.seq).collect();
        let expected: Vec<u32> = (1..=history.len() as u32).collect();
        assert_eq!(
            seqs, expected,
            "applicant {number}: history without gaps or duplicates"
        );
        if let Some(key) = &applicant.person_key {
            persons.push((applicant.vpd.clone(), key.clone()));
        }
        placements.push(applicant.placement_id.clone());
        snap.insert(format!("applicant {number}"), json(&applicant));
        snap.insert(format!("history {number}"), json(&history));
    }
    for (id, link) in store.placements(&placements).await.unwrap() {
        snap.insert(format!("placement {id}"), json(&link));
    }
    for ((vpd, key), person) in store.persons(&persons).await.unwrap() {
        snap.insert(format!("person {vpd} {key}"), json(&person));
    }
    for org in world.organisations.iter() {
        let vpd = &org.vpd;
        snap.insert(
            format!("positions {vpd}"),
            json(&store.trust_positions(vpd).await.unwrap()),
        );
        snap.insert(
            format!("rotation {vpd}"),
            json(&store.rotation_grid(vpd).await.unwrap()),
        );
        snap.insert(
            format!("person updates {vpd}"),
            json(&store.person_updates(vpd).await.unwrap()),
        );
        snap.insert(
            format!("rejected {vpd}"),
            json(
                &store
                    .rejected_applications(RejectedLookup::Trust(vpd))
                    .await
                    .unwrap(),
            ),
        );
        let watermark = format!("rmc#{}", org.local_office);
        snap.insert(
            format!("watermark {watermark}"),
            json(&store.watermark(&watermark).await.unwrap()),
        );
        let tis: BTreeMap<String, Vec<String>> = store
            .tis_positions(&org.local_office)
            .await
            .unwrap()
            .into_iter()
            .collect();
        snap.insert(format!("tis view {}", org.local_office), json(&tis));
    }
    snap.insert(
        format!("watermark {}", reminders::JOB),
        json(&store.watermark(reminders::JOB).await.unwrap()),
    );
    for (area, name) in [
        (Area::Inbound, "inbound"),
        (Area::Outbound, "outbound"),
        (Area::Quarantine, "quarantine"),
    ] {
        for key in world.blobs.list(area, "").await.unwrap() {
            let bytes = world
                .blobs
                .get(area, &key)
                .await
                .unwrap()
                .unwrap_or_default();
            snap.insert(
                format!("{name}/{key}"),
                Value::String(comparable(world, &key, bytes)),
            );
        }
    }
    if let Ground::Moto(moto) = ground {
        // What SES was asked to send, each mail as it went out (the id is moto's own); sorted,
        // so that a mail sent twice shows as two.
        let mut sent: Vec<Value> = moto
            .sent_emails()
            .into_iter()
            .map(|m| {
                serde_json::json!({
                    "source": m["source"],
                    "destinations": m["destinations"],
                    "subject": m["subject"],
                    "body": m["body"],
                })
            })
            .collect();
        sent.sort_by_key(|m| m.to_string());
        snap.insert("ses sent".into(), Value::Array(sent));
    }
    snap
}

/// The bytes as text, with what differs between equal worlds masked: the local data folder, and
/// the presigned link of a Medical Rotation Notification (a fresh signature each time).
fn comparable(world: &World, key: &str, bytes: Vec<u8>) -> String {
    let mut text = String::from_utf8(bytes.clone()).unwrap_or_else(|_| {
        format!(
            "{} binary bytes, sha {:x?}",
            bytes.len(),
            short_hash(&bytes)
        )
    });
    if let Some(root) = &world.local_root {
        text = text.replace(root.as_str(), "<dir>");
    }
    if key.contains(".medical-rotation.") && world.local_root.is_none() {
        for (start, end) in [("\"link\": \"", "\""), ("href=\"", "\"")] {
            while let Some(at) = text
                .find(start)
                .filter(|at| !text[at + start.len()..].starts_with("<link>"))
            {
                let from = at + start.len();
                let to = from + text[from..].find(end).unwrap_or(0);
                text.replace_range(from..to, "<link>");
            }
        }
    }
    text
}

fn short_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    })
}

fn highest_number(snap: &Snapshot) -> u64 {
    snap.keys()
        .filter_map(|k| k.strip_prefix("applicant "))
        .filter_map(|n| n.parse::<u64>().ok())
        .map(|n| n - 5_000_000)
        .max()
        .unwrap_or(0)
}

/// The first differences between two snapshots, for the failure message.
fn differences(clean: &Snapshot, got: &Snapshot) -> Vec<String> {
    let mut found = Vec::new();
    for (key, value) in clean {
        match got.get(key) {
            None => found.push(format!("missing {key}")),
            Some(other) if other != value => {
                let (a, b) = (value.to_string(), other.to_string());
                let at = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
                let from = at.saturating_sub(80);
                let show = |s: &str| s.chars().skip(from).take(240).collect::<String>();
                found.push(format!(
                    "{key} differs:\n      clean: ...{}\n      rerun: ...{}",
                    show(&a),
                    show(&b)
                ));
            }
            _ => {}
        }
    }
    for key in got.keys().filter(|k| !clean.contains_key(*k)) {
        found.push(format!("extra {key}"));
    }
    found
}

// ---------------------------------------------------------------------------------------------
// Crash, rerun, compare
// ---------------------------------------------------------------------------------------------

/// Injected panics are expected: keep them out of the test output (one hook for every test of
/// this file, however many run at once).
fn quiet_injected_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let injected = info
                .payload()
                .downcast_ref::<String>()
                .is_some_and(|m| m.starts_with("injected panic"));
            if !injected {
                default(info);
            }
        }));
    });
}

struct Clean {
    snapshot: Snapshot,
    writes: u64,
    /// The numbers of the step's writes that hand an e-mail alert over.
    mail_writes: Vec<u64>,
    /// E-mail alerts sent by the step of the clean run.
    mails: usize,
}

fn mails(snap: &Snapshot) -> usize {
    let local = snap
        .keys()
        .filter(|k| k.starts_with("outbound/mail/"))
        .count();
    let ses = snap
        .get("ses sent")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    local + ses
}

async fn clean_run(ground: &Ground, path: &Path) -> Clean {
    let fresh = ground.fresh().await;
    (path.setup)(fresh.world.clone()).await.unwrap();
    let mails_before = mails(&snapshot(ground, &fresh.world, 0).await);
    let counter = Faults::none();
    (path.step)(fresh.world.faulty(&counter)).await.unwrap();
    // Twice: the step is idempotent by itself (a redelivery after success changes nothing).
    (path.step)(fresh.world.clone()).await.unwrap();
    let first = snapshot(ground, &fresh.world, 0).await;
    let snapshot = snapshot(ground, &fresh.world, highest_number(&first)).await;
    assert_eq!(
        mails(&snapshot) > mails_before,
        path.alerts,
        "{}: e-mail alerts sent by the step",
        path.name
    );
    assert_eq!(
        counter.writes_of("mail").len(),
        mails(&snapshot) - mails_before,
        "{}: one hand-over per alert",
        path.name
    );
    Clean {
        mails: mails(&snapshot) - mails_before,
        snapshot,
        writes: counter.writes(),
        mail_writes: counter.writes_of("mail"),
    }
}

/// One fault at write `n`, then the rerun; `Err` with the differences when it does not converge.
async fn crash_and_rerun(
    ground: &Ground,
    path: &Path,
    clean: &Snapshot,
    n: u64,
    fault: Fault,
) -> Result<(), String> {
    let fresh = ground.fresh().await;
    (path.setup)(fresh.world.clone()).await.unwrap();
    let faults = Faults::at(n, fault);
    let faulty = fresh.world.faulty(&faults);
    let outcome = tokio::spawn((path.step)(faulty)).await;
    if faults.injected() != 1 {
        return Err(format!(
            "write {n} was never reached ({} writes)",
            faults.writes()
        ));
    }
    let stopped = match outcome {
        Ok(Ok(())) => "finished without reporting the fault".to_string(),
        Ok(Err(error)) => format!("stopped: {error}"),
        Err(join) if join.is_panic() => "panicked".to_string(),
        Err(join) => format!("aborted: {join}"),
    };
    (path.step)(fresh.world.clone())
        .await
        .map_err(|e| format!("the rerun failed ({stopped}): {e}"))?;
    let got = snapshot(ground, &fresh.world, highest_number(clean)).await;
    let differences = differences(clean, &got);
    if differences.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{stopped}; then the rerun differs from the clean run:\n    {}",
            differences
                .into_iter()
                .take(6)
                .collect::<Vec<_>>()
                .join("\n    ")
        ))
    }
}

/// Every write of the path on SQLite and folders, each of the three faults at it.
async fn sqlite_path_converges_after_a_fault_at_every_write(path: Path) {
    quiet_injected_panics();
    let ground = Ground::Sqlite;
    let clean = clean_run(&ground, &path).await;
    assert!(clean.writes > 0, "{}: no writes", path.name);
    let mut failures = Vec::new();
    let mut survived = 0;
    for n in 1..=clean.writes {
        for fault in FAULTS {
            match crash_and_rerun(&ground, &path, &clean.snapshot, n, fault).await {
                Ok(()) => survived += 1,
                // A few are enough to see what went wrong.
                Err(why) if failures.len() < 3 => failures.push(format!(
                    "{}: {fault:?} at write {n} of {}: {why}",
                    path.name, clean.writes
                )),
                Err(_) => {}
            }
        }
    }
    eprintln!(
        "crash at every write (SQLite), {}: {} writes ({} e-mail alerts), {} faults injected, {survived} converged",
        path.name,
        clean.writes,
        clean.mails,
        clean.writes * 3
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The writes faulted on moto, where what differs from SQLite is the adapters' handling of a
/// write that landed though its caller saw an error (conditional writes met again, SES's
/// send record): the middle write and, where the step e-mails, the first hand-over to SES with
/// its acknowledgement lost (the rerun must not send it again), each made and then failed; and
/// the last write failing before it is made (the rerun must finish the step). Faults before a
/// write and panics are the same to every store, so the SQLite runs cover them at every write.
fn moto_sample(writes: u64, mail_writes: &[u64]) -> Vec<(u64, Fault)> {
    let mut sample = vec![
        (writes.div_ceil(2), Fault::FailAfter),
        (writes, Fault::Fail),
    ];
    if let Some(&first) = mail_writes.first() {
        sample.push((first, Fault::FailAfter));
    }
    sample.sort_by_key(|(n, _)| *n);
    sample.dedup_by_key(|(n, _)| *n);
    sample
}

async fn moto_path_converges_after_a_fault_at_sampled_writes(path: Path) {
    quiet_injected_panics();
    let ground = Ground::Moto(Moto::start());
    let clean = clean_run(&ground, &path).await;
    let sample = moto_sample(clean.writes, &clean.mail_writes);
    let mut failures = Vec::new();
    for &(n, fault) in &sample {
        if let Err(why) = crash_and_rerun(&ground, &path, &clean.snapshot, n, fault).await {
            failures.push(format!(
                "{}: {fault:?} at write {n} of {}: {why}",
                path.name, clean.writes
            ));
        }
    }
    eprintln!(
        "crash at sampled writes (moto), {}: {} writes ({} e-mail alerts, at {:?}), faults injected at {:?}, {} converged",
        path.name,
        clean.writes,
        clean.mails,
        clean.mail_writes,
        sample,
        sample.len() - failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// One test per path and ground, so that the test threads share the paths out.
macro_rules! crash_tests {
    ($($name:ident: $path:expr;)*) => {
        mod sqlite {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    sqlite_path_converges_after_a_fault_at_every_write($path).await;
                }
            )*
        }
        mod moto {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    moto_path_converges_after_a_fault_at_sampled_writes($path).await;
                }
            )*
        }
    };
}

crash_tests! {
    app_file_of_120_records: app_path();
    pos_file: pos_path();
    dnc_file: dnc_path();
    dnf_file: dnf_path();
    trust_message_batch: messages_path();
    reminder_over_two_dates: reminder_path();
    rmc_export: export_path();
}

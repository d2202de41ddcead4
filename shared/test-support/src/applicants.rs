//! Applicants to act on: small POS and APP files processed through the inbound service, on any
//! store and blob store, and a helper that sends trust/Trac messages to the messages service.

use crate::fixtures::SAMPLES_TODAY;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use dit_core::ports::{Area, BlobStore, StateStore};
use dit_core::service::context::{Context, Settings};
use dit_core::service::inbound::process_inbound;
use dit_core::service::messages::answering::MessageResult;
use dit_core::service::messages::handle_message;
use dit_core::service::report::{FileReport, Outcome};
use dit_core::service::NoProgress;
use dit_domain::app::APP_FIELDS;
use dit_domain::boundary::{FileOrigin, MessageSender, Principal};
use dit_domain::org::Organisations;

/// 504 Full Records (Trac enabled), 505 Part Records, 506 Full Records (hosting trainees on a
/// Host Employer post); a sender for each of 504 and 505, and one for Trac.
pub const ORGANISATIONS: &str = r#"
[[organisation]]
vpd = "504"
name = "Lead Hospital NHS Trust"
local_office = "KSS"
mode = "full"
live = true
trac = true

[[organisation]]
vpd = "505"
name = "Part Records NHS Trust"
local_office = "KSS"
mode = "part"
live = true

[[organisation]]
vpd = "506"
name = "Host Full Records NHS Trust"
local_office = "KSS"
mode = "full"
live = true

[[sender]]
id = "AROATRUST504"
role = "trust"
vpd = "504"

[[sender]]
id = "AROATRUST505"
role = "trust"
vpd = "505"

[[sender]]
id = "AIDATRAC"
role = "trac"
"#;

/// The applicants [`Env::load`] creates.
pub const LEAD_504: &str = "5000001";
pub const SECOND_504: &str = "5000002";
pub const HOST_505_PART: &str = "5000003";
pub const HOST_506_FULL: &str = "5000004";

pub fn organisations() -> Organisations {
    Organisations::from_toml(ORGANISATIONS, "fixtures").expect("fixture organisations")
}

/// When the fixtures' files and messages are handled.
pub fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 14, minute, 0)
        .single()
        .expect("a valid time")
}

/// A file of `kind` from `source` (an LO or a VPD), dated 2026-11-21, with these data lines.
pub fn envelope(kind: &str, source: &str, seq: u32, lines: &[String]) -> String {
    let mut text = format!("HDR,{kind},{source},20261121,{seq:08},2026-11-21T13:00:00Z,1\n");
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(&format!("TRL,{}\n", lines.len()));
    text
}

/// One POS line of trust `vpd`: position `id` with its DPN, `Lead Employer` or `Host Employer`.
pub fn pos(id: &str, dpn: &str, host_lead: &str, vpd: &str) -> String {
    format!("POS,{id},{id},{id}|Foundation|F1|Medicine,{dpn},KSS,{host_lead},2020-01-01,,N1L,F1,Site,RXX,{vpd} Org")
}

/// One APP line: placement, position and DPN, GMC number; the other mandatory items fixed.
pub fn app(placement: &str, position: &str, dpn: &str, gmc: &str) -> String {
    let mut fields: Vec<String> = APP_FIELDS.iter().map(|_| String::new()).collect();
    for (field, value) in [
        ("RECORD_CODE", "APP"),
        ("PLACEMENT_ID", placement),
        ("EFFECTIVE_DATE", "2026-11-21"),
        ("POSITION_ID", position),
        ("POSITION_NUMBER", position),
        ("DEANERY_POST_NUMBER", dpn),
        ("LAST_NAME", "Trainee"),
        ("FIRST_NAME", "Test"),
        ("DATE_OF_BIRTH", "1990-01-31"),
        ("GMC_NUMBER", gmc),
        ("PROJECTED_HIRE_DATE", "2027-02-03"),
    ] {
        if let Some(i) = APP_FIELDS.iter().position(|f| *f == field) {
            fields[i] = value.to_string();
        }
    }
    fields.join(",")
}

/// `line` (an APP record) with the named fields set to these values.
///
/// # Panics
/// When a name is not an APP field.
pub fn with_fields(line: &str, values: &[(&str, &str)]) -> String {
    let mut fields: Vec<String> = line.split(',').map(str::to_string).collect();
    fields.resize(APP_FIELDS.len().max(fields.len()), String::new());
    for (field, value) in values {
        let i = APP_FIELDS
            .iter()
            .position(|f| f == field)
            .unwrap_or_else(|| panic!("{field} is not an APP field"));
        fields[i] = (*value).to_string();
    }
    fields.join(",")
}

pub const DPN_100: &str = "KSS/RJZ01/030/STR/100";
pub const DPN_101: &str = "KSS/RJZ01/030/STR/101";
pub const DPN_200: &str = "KSS/RXX01/600/GPST/200";
pub const DPN_300: &str = "KSS/RYY01/600/GPST/300";

/// A store, a blob store and the fixture organisations.
#[derive(Clone)]
pub struct Env {
    pub store: Arc<dyn StateStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub organisations: Arc<Organisations>,
}

impl Env {
    pub fn new(store: Arc<dyn StateStore>, blobs: Arc<dyn BlobStore>) -> Env {
        Env {
            store,
            blobs,
            organisations: Arc::new(organisations()),
        }
    }

    /// SQLite (`dir/state.db`) and folders under `dir`: the embedded adapters.
    ///
    /// # Panics
    /// When the database cannot be opened.
    pub fn sqlite(dir: &std::path::Path) -> Env {
        Env::new(
            Arc::new(
                dit_embedded::sqlite::SqliteStore::open(&dir.join("state.db"))
                    .expect("open the SQLite store")
                    .with_today(SAMPLES_TODAY),
            ),
            Arc::new(dit_embedded::folders::FolderBlobs::new(dir)),
        )
    }

    /// [`Env::sqlite`] in a new temporary directory (removed when the returned handle drops).
    ///
    /// # Panics
    /// When no temporary directory can be made.
    pub fn sqlite_temp() -> (tempfile::TempDir, Env) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let env = Env::sqlite(dir.path());
        (dir, env)
    }

    /// DynamoDB and S3 on `moto` (the table `dit-state` and the buckets `dit-inbound` and
    /// `dit-outbound` are created): the AWS adapters.
    pub async fn moto(moto: &crate::Moto) -> Env {
        const TABLE: &str = "dit-state";
        let dynamo = moto.create_table(TABLE).await;
        let s3 = moto.create_buckets("dit-inbound", "dit-outbound").await;
        Env::new(
            Arc::new(dit_aws::dynamo::DynamoStore::new(dynamo, TABLE).with_today(SAMPLES_TODAY)),
            Arc::new(dit_aws::s3::S3Blobs::new(
                s3,
                dit_aws::s3::S3Layout {
                    inbound_bucket: "dit-inbound".into(),
                    inbound_prefix: "incoming/".into(),
                    quarantine_prefix: "quarantine/".into(),
                    outbound_bucket: "dit-outbound".into(),
                },
            )),
        )
    }

    /// The same store and blobs under other organisations (a configuration change).
    pub fn with_organisations(&self, organisations: Organisations) -> Env {
        Env {
            organisations: Arc::new(organisations),
            ..self.clone()
        }
    }

    /// Drops a file in the inbound area and processes it.
    ///
    /// # Panics
    /// When the store or blob store fails.
    pub async fn process(&self, name: &str, text: &str) -> FileReport {
        self.process_from(&FileOrigin::Operator, name, text).await
    }

    /// Drops a file at `key` of the inbound area and processes it as sent by `origin`.
    ///
    /// # Panics
    /// When the store or blob store fails.
    pub async fn process_from(&self, origin: &FileOrigin, key: &str, text: &str) -> FileReport {
        self.blobs
            .put(Area::Inbound, key, text.as_bytes().to_vec(), "text/plain")
            .await
            .expect("drop a file");
        let ctx = Context {
            store: self.store.as_ref(),
            blobs: self.blobs.as_ref(),
            mailer: &dit_core::ports::NoMailer,
            metrics: &dit_core::ports::NoMetrics,
            organisations: &self.organisations,
            settings: &Settings::default(),
            progress: &NoProgress,
            now: at(0),
        };
        process_inbound(&ctx, key, origin, None)
            .await
            .expect("process a file")
    }

    /// Positions for 504 (two Lead Employer), 505 and 506 (one Host Employer each), then one APP
    /// file loading [`LEAD_504`], [`SECOND_504`], [`HOST_505_PART`] and [`HOST_506_FULL`].
    ///
    /// # Panics
    /// When a file is not processed as expected.
    pub async fn load(&self) {
        for (vpd, lines) in [
            (
                "504",
                vec![
                    pos("100", DPN_100, "Lead Employer", "504"),
                    pos("101", DPN_101, "Lead Employer", "504"),
                ],
            ),
            ("505", vec![pos("200", DPN_200, "Host Employer", "505")]),
            ("506", vec![pos("300", DPN_300, "Host Employer", "506")]),
        ] {
            let report = self
                .process(
                    &format!("ESR_{vpd}_POS_20261121_00000001.DAT"),
                    &envelope("POS", vpd, 1, &lines),
                )
                .await;
            assert_eq!(report.outcome, Outcome::Processed);
        }
        let report = self
            .process(
                "DE_KSS_APP_20261121_00000001.DAT",
                &envelope(
                    "APP",
                    "KSS",
                    1,
                    &[
                        app("1", "100", DPN_100, "7000001"),
                        app("2", "101", DPN_101, "7000002"),
                        app("3", "200", DPN_200, "7000003"),
                        app("4", "300", DPN_300, "7000004"),
                    ],
                ),
            )
            .await;
        assert_eq!(report.outcome, Outcome::Processed);
        assert_eq!(report.loaded, 4, "{report:?}");
    }

    /// An APP file (KSS, date 2026-11-21) with these lines.
    ///
    /// # Panics
    /// When the file is not processed.
    pub async fn process_app(&self, seq: u32, lines: &[String]) -> FileReport {
        self.process(
            &format!("DE_KSS_APP_20261121_{seq:08}.DAT"),
            &envelope("APP", "KSS", seq, lines),
        )
        .await
    }

    pub fn ctx(&self, now: DateTime<Utc>) -> Context<'_> {
        Context::new(
            self.store.as_ref(),
            self.blobs.as_ref(),
            &self.organisations,
            now,
        )
    }

    /// Sends one message body as the trusted local operator (`dit action` without `--as`).
    ///
    /// # Panics
    /// When the message fails (store or blob store unavailable).
    pub async fn send(&self, body: &str) -> MessageResult {
        self.send_from(&MessageSender::Known(Principal::Operator), body)
            .await
    }

    /// Sends one message body from `sender`.
    ///
    /// # Panics
    /// When the message fails (store or blob store unavailable).
    pub async fn send_from(&self, sender: &MessageSender, body: &str) -> MessageResult {
        handle_message(&self.ctx(at(30)), sender, body)
            .await
            .expect("handle a message")
    }

    /// Sends one message body as `principal` (`dit action --as`).
    ///
    /// # Panics
    /// When the message fails (store or blob store unavailable).
    pub async fn send_as(&self, principal: Principal, body: &str) -> MessageResult {
        self.send_from(&MessageSender::Known(principal), body).await
    }
}

/// A trust action message.
pub fn action(id: &str, action: &str, vpd: &str, applicant: &str) -> serde_json::Value {
    serde_json::json!({"id": id, "action": action, "vpd": vpd, "applicant_number": applicant})
}

/// Every object under `outbound/`, sorted, with its bytes (for before/after comparisons).
///
/// # Panics
/// When the blob store fails.
pub async fn outbound(blobs: &dyn BlobStore) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    for key in blobs.list(Area::Outbound, "").await.expect("list outbound") {
        let bytes = blobs
            .get(Area::Outbound, &key)
            .await
            .expect("read outbound")
            .unwrap_or_default();
        found.push((key, bytes));
    }
    found.sort();
    found
}

/// Runs `rule` on the fixture applicants (`Env::load`) held by SQLite in memory and folders.
pub async fn on_sqlite<F, Fut>(rule: F)
where
    F: FnOnce(Env) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let env = Env::new(
        Arc::new(
            dit_embedded::sqlite::SqliteStore::in_memory()
                .unwrap()
                .with_today(SAMPLES_TODAY),
        ),
        Arc::new(dit_embedded::folders::FolderBlobs::new(dir.path())),
    );
    env.load().await;
    rule(env).await;
}

/// Runs `rule` on the fixture applicants (`Env::load`) held by DynamoDB and S3 on a moto_server
/// of its own (table `dit-state`, buckets `dit-inbound` and `dit-outbound`).
pub async fn on_moto<F, Fut>(rule: F)
where
    F: FnOnce(Env) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    const TABLE: &str = "dit-state";
    const INBOUND: &str = "dit-inbound";
    const OUTBOUND: &str = "dit-outbound";
    let moto = crate::Moto::start();
    moto.create_table(TABLE).await;
    moto.create_buckets(INBOUND, OUTBOUND).await;
    let env = Env::new(
        Arc::new(
            dit_aws::dynamo::DynamoStore::new(moto.dynamo_client().await, TABLE)
                .with_today(SAMPLES_TODAY),
        ),
        Arc::new(dit_aws::s3::S3Blobs::new(
            moto.s3_client().await,
            dit_aws::s3::S3Layout {
                inbound_bucket: INBOUND.into(),
                inbound_prefix: "incoming/".into(),
                quarantine_prefix: "quarantine/".into(),
                outbound_bucket: OUTBOUND.into(),
            },
        )),
    );
    env.load().await;
    rule(env).await;
}

//! The worlds the paths run in (SQLite in memory and folders, or moto), and what a path is.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use dit_aws::dynamo::DynamoStore;
use dit_aws::s3::{S3Blobs, S3Layout};
use dit_aws::ses::SesMailer;
use dit_core::ports::{BlobStore, Mailer, StateStore};
use dit_core::service::context::Context;
use dit_domain::mail::FromAddress;
use dit_domain::org::Organisations;
use dit_embedded::folders::FolderBlobs;
use dit_embedded::mail::EmlMailer;
use dit_embedded::sqlite::SqliteStore;
use dit_test_support::faults::{Faults, FaultyBlobs, FaultyMailer, FaultyStore};
use dit_test_support::samples::sample_organisations;
use dit_test_support::Moto;

pub(super) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 14, 0, 0).unwrap()
}

pub(super) fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

// ---------------------------------------------------------------------------------------------
// A world: a store, a blob store, the organisations
// ---------------------------------------------------------------------------------------------

#[derive(Clone)]
pub(super) struct World {
    pub(super) store: Arc<dyn StateStore>,
    pub(super) blobs: Arc<dyn BlobStore>,
    /// E-mail alerts: `.eml` files in the outbound area locally, SES on moto.
    pub(super) mailer: Arc<dyn Mailer>,
    pub(super) organisations: Arc<Organisations>,
    /// Text in outputs that differs between worlds of the same content (the data folder in a
    /// local link), replaced before comparing.
    pub(super) local_root: Option<String>,
}

impl World {
    pub(super) fn ctx(&self) -> Context<'_> {
        Context::new(
            self.store.as_ref(),
            self.blobs.as_ref(),
            &self.organisations,
            now(),
        )
        .with_mailer(self.mailer.as_ref())
    }

    pub(super) fn faulty(&self, faults: &Arc<Faults>) -> World {
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
pub(super) enum Ground {
    Sqlite,
    Moto(Moto),
}

pub(super) struct Fresh {
    pub(super) world: World,
    pub(super) _dir: Option<tempfile::TempDir>,
}

pub(super) const TABLE: &str = "dit-state";
pub(super) const INBOUND: &str = "dit-inbound";
pub(super) const OUTBOUND: &str = "dit-outbound";
pub(super) const MAIL_FROM: &str = "dit@example.nhs.uk";

pub(super) fn mail_from() -> FromAddress {
    FromAddress::parse(MAIL_FROM).unwrap()
}

impl Ground {
    pub(super) async fn fresh(&self) -> Fresh {
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
// A path: what is set up, and the step that is faulted
// ---------------------------------------------------------------------------------------------

pub(super) type Run = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

pub(super) struct Path {
    pub(super) name: &'static str,
    /// What is there before (run on the real store).
    pub(super) setup: fn(World) -> Run,
    /// The step faulted and rerun.
    pub(super) step: fn(World) -> Run,
    /// Whether the step writes a notification, reminder or report for trust 504 (e-mailed).
    pub(super) alerts: bool,
}

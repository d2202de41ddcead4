//! One live trust (504, office KSS) on the embedded adapters: SQLite in memory and folders in a
//! temporary directory, with files run through the inbound service by the local operator at
//! 2026-11-21 14:00 UTC. The setup of the service tests in `tests/service/it/core_*`.

use chrono::{TimeZone, Utc};
use dit_core::ports::{Area, BlobStore};
use dit_core::service::context::{Context, Settings};
use dit_core::service::inbound::process_inbound;
use dit_core::service::report::FileReport;
use dit_core::service::NoProgress;
use dit_domain::boundary::FileOrigin;
use dit_domain::org::Organisations;
use dit_embedded::folders::FolderBlobs;
use dit_embedded::sqlite::SqliteStore;

pub const ORGANISATIONS: &str = r#"
[[organisation]]
vpd = "504"
name = "Example Hospital NHS Trust"
local_office = "KSS"
mode = "full"
live = true
"#;

pub struct OneTrust {
    /// The folders' root (removed when this drops).
    pub dir: tempfile::TempDir,
    pub store: SqliteStore,
    pub blobs: FolderBlobs,
    pub organisations: Organisations,
    pub settings: Settings,
}

impl OneTrust {
    /// # Panics
    /// When no temporary directory can be made or SQLite cannot open.
    pub fn new() -> OneTrust {
        let dir = tempfile::tempdir().expect("a temporary directory");
        OneTrust {
            blobs: FolderBlobs::new(dir.path()),
            dir,
            store: SqliteStore::in_memory()
                .expect("SQLite in memory")
                .with_today(crate::fixtures::SAMPLES_TODAY),
            organisations: Organisations::from_toml(ORGANISATIONS, "test")
                .expect("the organisations"),
            settings: Settings::default(),
        }
    }

    /// Puts a file in the inbound area.
    ///
    /// # Panics
    /// When the folder cannot be written.
    pub async fn drop_file(&self, name: &str, text: &str) {
        self.blobs
            .put(Area::Inbound, name, text.as_bytes().to_vec(), "text/plain")
            .await
            .expect("drop a file");
    }

    /// Runs the inbound service on a file already in the inbound area.
    ///
    /// # Panics
    /// When the service fails (store or folders unavailable).
    pub async fn run(&self, name: &str) -> FileReport {
        let ctx = Context {
            store: &self.store,
            blobs: &self.blobs,
            mailer: &dit_core::ports::NoMailer,
            metrics: &dit_core::ports::NoMetrics,
            organisations: &self.organisations,
            settings: &self.settings,
            progress: &NoProgress,
            now: Utc
                .with_ymd_and_hms(2026, 11, 21, 14, 0, 0)
                .single()
                .expect("a valid time"),
        };
        process_inbound(&ctx, name, &FileOrigin::Operator, None)
            .await
            .expect("process a file")
    }

    /// [`OneTrust::drop_file`] then [`OneTrust::run`].
    pub async fn process(&self, name: &str, text: &str) -> FileReport {
        self.drop_file(name, text).await;
        self.run(name).await
    }
}

impl Default for OneTrust {
    fn default() -> Self {
        OneTrust::new()
    }
}

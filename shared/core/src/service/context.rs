//! What every service runs with: the ports, the organisation configuration, the settings, where
//! progress goes, and the moment it runs. One context for files, messages, schedules and exports,
//! borrowed from [`Ports`], which a function or `dit` builds once.

use std::borrow::Cow;

use chrono::{DateTime, Utc};

use super::{NoProgress, Progress};
use dit_domain::mail::MailError;
use dit_domain::org::Organisations;

use crate::ports::{
    BlobError, BlobStore, Mailer, Metrics, NoMailer, NoMetrics, StateStore, StoreError,
};

pub const DEFAULT_MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;

/// Where `dit serve` answers by default: the portal links in notifications point here locally.
pub const DEFAULT_PORTAL_URL: &str = "http://127.0.0.1:8080";

/// An error worth retrying: the file is untouched or safely resumable, and nothing was lost.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    /// An output could not be built (e.g. a spreadsheet over the format's limits): not retried.
    #[error(transparent)]
    Sheet(#[from] dit_domain::sheets::SheetError),
    /// An e-mail alert could not be handed over for now (refused alerts are logged, not errors).
    #[error(transparent)]
    Mail(#[from] MailError),
}

impl ProcessError {
    pub fn is_transient(&self) -> bool {
        match self {
            ProcessError::Store(e) => e.is_transient(),
            ProcessError::Blob(e) => e.is_transient(),
            ProcessError::Sheet(_) => false,
            ProcessError::Mail(e) => e.is_transient(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub max_file_bytes: u64,
    /// The portal's address (no trailing `/`): links in notifications and e-mails lead to its
    /// pages, which sign the person in and mint any download link at the click, so no link in a
    /// notification expires unused.
    pub portal_url: Cow<'static, str>,
}

impl Settings {
    pub const DEFAULT: Settings = Settings {
        max_file_bytes: DEFAULT_MAX_FILE_BYTES,
        portal_url: Cow::Borrowed(DEFAULT_PORTAL_URL),
    };

    /// The default settings with the portal at `url` (a trailing `/` is dropped).
    pub fn with_portal_url(url: &str) -> Settings {
        Settings {
            portal_url: Cow::Owned(url.trim_end_matches('/').to_string()),
            ..Settings::DEFAULT
        }
    }

    /// The portal page or download at `path` (which starts with `/`).
    pub fn portal_link(&self, path: &str) -> String {
        format!("{}{path}", self.portal_url)
    }
}

static DEFAULT_SETTINGS: Settings = Settings::DEFAULT;

impl Default for Settings {
    fn default() -> Self {
        Settings::DEFAULT
    }
}

/// What a service runs with: ports, configuration, progress and the moment it runs.
pub struct Context<'a> {
    pub store: &'a dyn StateStore,
    pub blobs: &'a dyn BlobStore,
    /// Where e-mail alerts go (nowhere unless set with [`Context::with_mailer`]).
    pub mailer: &'a dyn Mailer,
    /// Where operational metrics go (nowhere unless set with [`Context::with_metrics`]).
    pub metrics: &'a dyn Metrics,
    pub organisations: &'a Organisations,
    pub settings: &'a Settings,
    pub progress: &'a dyn Progress,
    pub now: DateTime<Utc>,
}

impl<'a> Context<'a> {
    /// A context with the default settings and no progress reporting.
    pub fn new(
        store: &'a dyn StateStore,
        blobs: &'a dyn BlobStore,
        organisations: &'a Organisations,
        now: DateTime<Utc>,
    ) -> Self {
        Context {
            store,
            blobs,
            mailer: &NoMailer,
            metrics: &NoMetrics,
            organisations,
            settings: &DEFAULT_SETTINGS,
            progress: &NoProgress,
            now,
        }
    }

    pub fn with_settings(self, settings: &'a Settings) -> Self {
        Context { settings, ..self }
    }

    pub fn with_progress(self, progress: &'a dyn Progress) -> Self {
        Context { progress, ..self }
    }

    pub fn with_mailer(self, mailer: &'a dyn Mailer) -> Self {
        Context { mailer, ..self }
    }

    pub fn with_metrics(self, metrics: &'a dyn Metrics) -> Self {
        Context { metrics, ..self }
    }
}

/// The owned ports and configuration, built once per Lambda instance or `dit` run.
pub struct Ports {
    pub store: Box<dyn StateStore>,
    pub blobs: Box<dyn BlobStore>,
    /// E-mail alerts: [`NoMailer`] when they are off.
    pub mailer: Box<dyn Mailer>,
    pub organisations: Organisations,
    pub settings: Settings,
}

impl Ports {
    /// The context for one file, message or run, handled at `now`.
    pub fn context(&self, now: DateTime<Utc>) -> Context<'_> {
        Context::new(
            self.store.as_ref(),
            self.blobs.as_ref(),
            &self.organisations,
            now,
        )
        .with_settings(&self.settings)
        .with_mailer(self.mailer.as_ref())
    }
}

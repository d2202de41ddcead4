//! The data directory of a `dit` run (`--data-dir`): its configuration, store and folders, opened
//! once by `main` for every command that uses them, so each command starts from an open [`Local`]
//! and the "no such directory" and "no organisations.toml" errors are worded in one place.

use std::path::PathBuf;

use chrono::Utc;
use dit_core::service::context::{Context, Settings};
use dit_domain::mail::FromAddress;
use dit_domain::org::Organisations;
use dit_embedded::folders::FolderBlobs;
use dit_embedded::mail::EmlMailer;
use dit_embedded::sqlite::SqliteStore;

use crate::exit::{EXIT_FAILED, EXIT_USAGE};

/// The configuration file in the data directory (and in a folder of files to process).
pub const ORGANISATIONS_FILE: &str = "organisations.toml";

/// The embedded environment: the data directory's store, folders and configuration.
pub struct Local {
    /// The data directory itself (`--data-dir`), for the paths printed.
    pub dir: PathBuf,
    pub store: SqliteStore,
    pub blobs: FolderBlobs,
    pub organisations: Organisations,
    /// The settings of this run (the portal address given by `--portal-url`).
    pub settings: Settings,
    /// E-mail alerts as `.eml` files under `DIR/outbound/mail/<VPD>/`, from `--mail-from`.
    pub mailer: EmlMailer,
}

impl Local {
    /// The services' context, at `now`.
    pub fn context(&self, now: chrono::DateTime<Utc>) -> Context<'_> {
        Context::new(&self.store, &self.blobs, &self.organisations, now)
            .with_settings(&self.settings)
            .with_mailer(&self.mailer)
    }
}

/// The data directory of this run and what its services run with (`--portal-url`,
/// `--mail-from`), given once by `main`.
pub struct DataDir {
    pub path: PathBuf,
    pub settings: Settings,
    /// The sender of e-mail alerts, checked at start.
    pub mail_from: FromAddress,
}

impl DataDir {
    /// Opens the directory; with `create`, makes it and its database if missing.
    ///
    /// # Errors
    /// The exit status and message of a missing directory, configuration or database.
    pub fn open(&self, create: bool) -> Result<Local, (u8, String)> {
        let data_dir = self.path.as_path();
        if !data_dir.is_dir() {
            if !create {
                return Err((
                    EXIT_USAGE,
                    format!(
                    "data directory {} does not exist; run `dit --data-dir {} process ...` first",
                    data_dir.display(),
                    data_dir.display()
                ),
                ));
            }
            // Only its owner may enter it (0700); every file in it is 0600.
            dit_embedded::private::create_dir_all(data_dir).map_err(|e| {
                (
                    EXIT_FAILED,
                    format!("cannot create data directory {}: {e}", data_dir.display()),
                )
            })?;
        }
        let config_path = data_dir.join(ORGANISATIONS_FILE);
        let text = std::fs::read_to_string(&config_path).map_err(|e| {
        (
            EXIT_USAGE,
            format!(
                "cannot read {}: {e}\nCreate it (see README, \"Organisation configuration\"), or process a folder that holds an {ORGANISATIONS_FILE}.",
                config_path.display()
            ),
        )
    })?;
        let organisations = Organisations::from_toml(&text, &config_path.display().to_string())
            .map_err(|e| (EXIT_USAGE, e.to_string()))?;
        let mut store = SqliteStore::open(&data_dir.join("state.db"))
            .map_err(|e| (EXIT_FAILED, e.to_string()))?;
        if let Some(today) = today_from_env()? {
            store = store.with_today(today);
        }
        Ok(Local {
            dir: data_dir.to_path_buf(),
            store,
            blobs: FolderBlobs::new(data_dir),
            organisations,
            settings: self.settings.clone(),
            mailer: EmlMailer::new(data_dir, self.mail_from.clone()),
        })
    }
}

/// The environment variable that sets the day retention is judged on (7.1: what is past its time
/// is neither shown nor acted on), so an archived data directory can be replayed as it was.
pub const TODAY_VARIABLE: &str = "DIT_TODAY";

/// `DIT_TODAY` as a date, if set (refused unless `YYYY-MM-DD`).
fn today_from_env() -> Result<Option<chrono::NaiveDate>, (u8, String)> {
    match std::env::var(TODAY_VARIABLE) {
        Ok(text) if !text.trim().is_empty() => {
            chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map(Some)
                .map_err(|_| {
                    (
                        EXIT_USAGE,
                        format!("{TODAY_VARIABLE} must be a date YYYY-MM-DD, not {text:?}"),
                    )
                })
        }
        _ => Ok(None),
    }
}

//! E-mail alerts on this machine: each alert is written as an RFC 5322 `.eml` file under
//! `outbound/mail/<VPD>/`, where a person (or a mail client) can open it. The file's bytes depend on
//! the alert only, so writing it again on a rerun changes nothing.

use std::path::PathBuf;

use async_trait::async_trait;
use dit_core::ports::{Area, BlobStore, MailOutcome, Mailer};
use dit_domain::mail::{eml_key, render_eml, FromAddress};
use dit_domain::mail::{Mail, MailError};

use crate::folders::FolderBlobs;

/// The sender of local alerts unless `--mail-from` says otherwise.
pub const DEFAULT_FROM: &str = "Doctors in Training interface <dit@localhost>";

pub struct EmlMailer {
    blobs: FolderBlobs,
    from: FromAddress,
}

impl EmlMailer {
    /// Alerts written under `root/outbound/mail/`, from `from`.
    pub fn new(root: impl Into<PathBuf>, from: FromAddress) -> Self {
        EmlMailer {
            blobs: FolderBlobs::new(root),
            from,
        }
    }
}

#[async_trait]
impl Mailer for EmlMailer {
    async fn send(&self, mail: &Mail) -> Result<MailOutcome, MailError> {
        let bytes = render_eml(mail, &self.from)?;
        self.blobs
            .put(Area::Outbound, &eml_key(mail), bytes, "message/rfc822")
            .await
            .map_err(|e| MailError::Unavailable(e.to_string()))?;
        Ok(MailOutcome::Sent)
    }
}

//! Downloads of a trust's MEDROT grids and reports. In AWS the portal answers `302` to a presigned
//! URL minted at the click (so a link in a notification never expires unused: it points here);
//! locally the bytes are streamed from the data directory.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};
use axum::http::StatusCode;
use axum::response::IntoResponse;

use dit_core::ports::Area;

use crate::error::{Page, PageError};
use crate::identity::Identity;
use crate::state::{trust_of, Downloads, Shared};

/// How long a presigned download link lives: long enough to start the download, no longer.
pub const LINK_SECONDS: u64 = 300;

/// The downloadable files of a trust's area: `medrot/<file>.xlsx`, `reports/<file>.xlsx|json`.
fn content_type(path: &str) -> Option<&'static str> {
    let (folder, file) = path.split_once('/')?;
    let plain = !file.is_empty()
        && !file.starts_with('.')
        && file
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !plain {
        return None;
    }
    match (folder, file.rsplit('.').next()?) {
        ("medrot" | "reports", "xlsx") => {
            Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        }
        ("reports", "json") => Some("application/json"),
        _ => None,
    }
}

pub async fn download(
    State(portal): State<Shared>,
    identity: Identity,
    Path(path): Path<String>,
) -> Page {
    let vpd = trust_of(&portal, &identity)?;
    let content_type = content_type(&path).ok_or(PageError::NotFound)?;
    let key = format!("trusts/{vpd}/{path}");
    let blobs = portal.ports.blobs.as_ref();
    let file = path.rsplit('/').next().unwrap_or(&path).to_string();
    let response = match portal.downloads {
        Downloads::Redirect => {
            if blobs.size(Area::Outbound, &key).await?.is_none() {
                return Err(PageError::NotFound);
            }
            let link = blobs
                .link(Area::Outbound, &key, Duration::from_secs(LINK_SECONDS))
                .await?;
            let location = HeaderValue::from_str(&link)
                .map_err(|_| PageError::Unavailable("the download link is not a URL".into()))?;
            (StatusCode::FOUND, [(LOCATION, location)]).into_response()
        }
        Downloads::Stream => {
            let bytes = blobs
                .get(Area::Outbound, &key)
                .await?
                .ok_or(PageError::NotFound)?;
            let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file}\""))
                .map_err(|_| PageError::NotFound)?;
            (
                [
                    (CONTENT_TYPE, HeaderValue::from_static(content_type)),
                    (CONTENT_DISPOSITION, disposition),
                    (CACHE_CONTROL, HeaderValue::from_static("no-store")),
                ],
                bytes,
            )
                .into_response()
        }
    };
    if path.starts_with("medrot/") {
        portal
            .ports
            .store
            .mark_read(vpd, &path, (portal.clock)())
            .await?;
    }
    tracing::info!(vpd, kind = path.split('/').next().unwrap_or(""), "download");
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_grids_and_reports_are_downloadable() {
        assert!(content_type("medrot/DE_KSS_504_MEDROT_DNC_20261121_00000046.xlsx").is_some());
        assert!(content_type("reports/ESR_504_POS_20261121_00000001.dpn-readiness.xlsx").is_some());
        for bad in [
            "messages/504-0001.json",
            "medrot/../../505/medrot/x.xlsx",
            "medrot/x.html",
            "medrot/.xlsx",
            "reports/a/b.xlsx",
            "notifications/x.json",
        ] {
            assert!(content_type(bad).is_none(), "{bad}");
        }
    }
}

//! A trust's inbox: its notifications (incl. new-starter reminders and Medical Rotation
//! Notifications), readiness reports and MEDROT grids, newest first, unread marked. Items are the
//! objects under `trusts/<VPD>/` in the outbound area; the trust comes from the signed-in identity
//! only, so another trust's item is simply not there (404).

use std::collections::HashSet;

use askama::Template;
use axum::extract::{Path, Query, State};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;

use dit_core::ports::Area;

use crate::chrome::Chrome;
use crate::error::{Page, PageError};
use crate::format;
use crate::identity::Identity;
use crate::render::{self, Document};
use crate::state::{trust_of, Shared};

/// Items per page.
pub const PAGE_SIZE: usize = 25;

/// The folders of a trust's area that make its inbox (message answers are not inbox items).
const FOLDERS: [&str; 3] = ["notifications/", "reports/", "medrot/"];

/// What kind of item, from the end of its name.
const KINDS: [(&str, &str); 12] = [
    (".outstanding-actions", "Outstanding actions"),
    (".trainee-data-query", "Trainee data query"),
    (
        ".deanery-applicant-notification",
        "Deanery Applicant Notification",
    ),
    (
        ".medical-rotation",
        "Medical Training - Medical Rotation Notification",
    ),
    (".new-starter-reminder", "Deanery - Jnr. Doctor Starter(s)"),
    (".dpn-readiness", "DPN Readiness Report"),
    (
        ".applicants-withdrawn",
        "Medical Training - Applicant(s) Withdrawn",
    ),
    (
        ".replacement-application",
        "Medical Training - Replacement Application",
    ),
    (
        ".change-to-projected-hire-end-date",
        "Medical Training - Change to Project Hire/End Date Notification",
    ),
    (
        ".new-training-post",
        "Medical Training - New Training Post Created by LETB",
    ),
    ("_MEDROT_", "MEDROT: Medical Rotation grid (.xlsx)"),
    (".", "Notification"),
];

/// One item of the inbox.
pub struct Item {
    /// Its key under `trusts/<VPD>/`, without `.json` (a MEDROT keeps its `.xlsx`).
    pub id: String,
    pub date: Option<NaiveDate>,
    pub title: String,
    pub unread: bool,
}

impl Item {
    pub fn date_text(&self) -> String {
        format::opt_date(self.date)
    }

    /// Where the item opens: its page, or for a MEDROT the download.
    pub fn href(&self) -> String {
        if self.is_download() {
            format!("/downloads/{}", self.id)
        } else {
            format!("/inbox/{}", self.id)
        }
    }

    pub fn is_download(&self) -> bool {
        self.id.starts_with("medrot/")
    }
}

fn kind_of(id: &str) -> (&'static str, String) {
    let file = id.rsplit('/').next().unwrap_or(id);
    for (marker, title) in KINDS {
        if let Some(at) = file.find(marker) {
            // A specialty follows the kind in notification names: `.applicants-withdrawn-cardiology`.
            let rest = &file[at + marker.len()..];
            let specialty = rest
                .strip_prefix('-')
                .filter(|s| !s.is_empty() && marker.len() > 1);
            let shown = match specialty {
                Some(s) if marker != "_MEDROT_" => format!("{title} ({})", s.replace('-', " ")),
                _ => title.to_string(),
            };
            return (title, shown);
        }
    }
    ("Notification", file.to_string())
}

/// Every item of a trust's inbox, newest first.
pub async fn items(portal: &crate::state::Portal, vpd: &str) -> Result<Vec<Item>, PageError> {
    let blobs = portal.ports.blobs.as_ref();
    let read: HashSet<String> = portal.ports.store.read_items(vpd).await?;
    let prefix = format!("trusts/{vpd}/");
    let mut items = Vec::new();
    for folder in FOLDERS {
        for key in blobs
            .list(Area::Outbound, &format!("{prefix}{folder}"))
            .await?
        {
            let Some(relative) = key.strip_prefix(&prefix) else {
                continue;
            };
            let id = if folder == "medrot/" {
                if !relative.ends_with(".xlsx") {
                    continue;
                }
                relative.to_string()
            } else {
                match relative.strip_suffix(".json") {
                    Some(id) => id.to_string(),
                    None => continue,
                }
            };
            let (_, title) = kind_of(&id);
            items.push(Item {
                date: format::date_in_name(&id),
                unread: !read.contains(&id),
                title,
                id,
            });
        }
    }
    items.sort_by(|a, b| (b.date, &b.id).cmp(&(a.date, &a.id)));
    Ok(items)
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<usize>,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    chrome: Chrome,
    items: Vec<Item>,
    worklist: Vec<crate::worklist::Count>,
    today: String,
    unread: usize,
    total: usize,
    page: usize,
    pages: usize,
}

pub async fn list(
    State(portal): State<Shared>,
    identity: Identity,
    Query(query): Query<PageQuery>,
) -> Page {
    let vpd = trust_of(&portal, &identity)?;
    let all = items(&portal, vpd).await?;
    // The start page shows the worklist's counts for today, each linking to its list.
    let today = portal.context().now.date_naive();
    let list = crate::worklist::of_trust(&portal, &identity, today).await?;
    let unread = all.iter().filter(|i| i.unread).count();
    let total = all.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = query.page.unwrap_or(1).clamp(1, pages);
    let items = all
        .into_iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();
    render::html(&InboxPage {
        chrome: Chrome::new(&portal.ports.organisations, &identity, "/inbox"),
        items,
        worklist: crate::worklist::counts(&list, ""),
        today: today.to_string(),
        unread,
        total,
        page,
        pages,
    })
}

#[derive(Template)]
#[template(path = "document.html")]
pub struct DocumentPage {
    pub chrome: Chrome,
    pub doc: Document,
    pub back: &'static str,
    pub back_label: &'static str,
    /// Downloads offered with the document: (href, label).
    pub downloads: Vec<(String, String)>,
}

/// Is `id` a plain relative key in one of the inbox folders (no `..`, no empty part)?
fn is_item_id(id: &str) -> bool {
    FOLDERS.iter().any(|f| id.starts_with(f))
        && id.split('/').all(|part| {
            !part.is_empty()
                && part != ".."
                && part != "."
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
}

pub async fn show(
    State(portal): State<Shared>,
    identity: Identity,
    Path(id): Path<String>,
) -> Page {
    let vpd = trust_of(&portal, &identity)?;
    if !is_item_id(&id) || id.starts_with("medrot/") {
        return Err(PageError::NotFound);
    }
    let key = format!("trusts/{vpd}/{id}.json");
    let bytes = portal
        .ports
        .blobs
        .get(Area::Outbound, &key)
        .await?
        .ok_or(PageError::NotFound)?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| PageError::Unavailable(format!("{key} is not JSON: {e}")))?;
    portal
        .ports
        .store
        .mark_read(vpd, &id, (portal.clock)())
        .await?;
    let mut downloads = Vec::new();
    if let Some(file) = value.get("medrot_file").and_then(Value::as_str) {
        downloads.push((
            format!("/downloads/medrot/{file}"),
            format!("Download the Medical Rotation grid {file}"),
        ));
    }
    if id.starts_with("reports/") {
        let xlsx = format!("trusts/{vpd}/{id}.xlsx");
        if portal
            .ports
            .blobs
            .size(Area::Outbound, &xlsx)
            .await?
            .is_some()
        {
            let file = id.rsplit('/').next().unwrap_or(&id);
            downloads.push((
                format!("/downloads/{id}.xlsx"),
                format!("Download the spreadsheet {file}.xlsx"),
            ));
        }
    }
    render::html(&DocumentPage {
        chrome: Chrome::new(&portal.ports.organisations, &identity, "/inbox"),
        doc: render::document(&value, &["link", "link_valid_days", "medrot_key"]),
        back: "/inbox",
        back_label: "Back to the inbox",
        downloads,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_specialties_are_read_from_names() {
        assert_eq!(
            kind_of("notifications/DE_KSS_DNC_20261121_00000046.applicants-withdrawn-cardiology").1,
            "Medical Training - Applicant(s) Withdrawn (cardiology)"
        );
        assert_eq!(
            kind_of("medrot/DE_KSS_504_MEDROT_DNC_20261121_00000046.xlsx").0,
            "MEDROT: Medical Rotation grid (.xlsx)"
        );
        assert_eq!(
            kind_of("notifications/new-starters/2027-01-29.new-starter-reminder").1,
            "Deanery - Jnr. Doctor Starter(s)"
        );
    }

    #[test]
    fn item_ids_stay_inside_the_inbox_folders() {
        assert!(is_item_id(
            "notifications/new-starters/2027-01-29.new-starter-reminder"
        ));
        assert!(is_item_id(
            "reports/ESR_504_POS_20261121_00000001.dpn-readiness"
        ));
        for bad in [
            "messages/504-0001",
            "notifications/../messages/x",
            "notifications//x",
            "../505/notifications/x",
            "notifications/a b",
        ] {
            assert!(!is_item_id(bad), "{bad}");
        }
    }
}

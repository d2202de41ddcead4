//! Operator views: every file with its outcome and counts (the per-file operator records under
//! `operator/files/`), quarantined files with their reason and line (`<file>.reason.json` in the
//! quarantine area), and the daily sequence check (`operator/schedules/sequence-check/<D>.json`).
//! None of them holds personal data. A trust gets 404 for all of them.
//!
//! A local office's data team (section 12) gets the same pages narrowed to its own files: a file
//! is its when the file's name names it ([`local_office_of_file`], the rule its data-team alerts
//! follow: `DE_<LO>_...`, or a trust of that local office); another's file or quarantine entry
//! answers 404 like a missing one. The sequence check is shown whole: TIS numbers one sequence
//! per file type across every local office, so a gap cannot be told apart by office (and every
//! office's data team is alerted of it).

use askama::Template;
use axum::extract::{Path, Query, State};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;

use dit_core::ports::Area;
use dit_core::service::data_team::local_office_of_file;

use crate::chrome::Chrome;
use crate::error::{Page, PageError};
use crate::format;
use crate::identity::Identity;
use crate::inbox::DocumentPage;
use crate::render;
use crate::state::{Portal, Shared};

/// Records per page.
pub const PAGE_SIZE: usize = 50;

const FILES: &str = "operator/files/";
const SEQUENCE_CHECKS: &str = "operator/schedules/sequence-check/";
const REASON_SUFFIX: &str = ".reason.json";

fn operator_only(identity: &Identity) -> Result<(), PageError> {
    if identity.sees_operator_pages() {
        Ok(())
    } else {
        Err(PageError::NotFound)
    }
}

/// Whether the identity may see the file named `name` (the last segment of a quarantine key).
fn sees_file(portal: &Portal, identity: &Identity, name: &str) -> bool {
    if identity.is_operator() {
        return true;
    }
    let display = name.rsplit('/').next().unwrap_or(name);
    local_office_of_file(&portal.ports.organisations, display)
        .is_some_and(|code| identity.sees_local_office(&code))
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<usize>,
}

/// Names newest first (by the date in the name, then the name), one page of them.
fn page_of(mut names: Vec<String>, page: Option<usize>) -> (Vec<String>, usize, usize, usize) {
    names.sort_by(|a, b| {
        (format::date_in_name(b), b.as_str()).cmp(&(format::date_in_name(a), a.as_str()))
    });
    let total = names.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = page.unwrap_or(1).clamp(1, pages);
    let shown = names
        .into_iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();
    (shown, total, page, pages)
}

async fn json(portal: &Portal, area: Area, key: &str) -> Result<Option<Value>, PageError> {
    Ok(portal
        .ports
        .blobs
        .get(area, key)
        .await?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok()))
}

fn text(value: &Value, key: &str) -> String {
    value.get(key).map(render::scalar).unwrap_or_default()
}

pub struct FileRow {
    pub name: String,
    pub file_type: String,
    pub business_date: String,
    pub outcome: String,
    pub records: String,
    pub loaded: String,
    pub rejected: String,
    pub warnings: String,
    pub operator_warnings: usize,
}

#[derive(Template)]
#[template(path = "files.html")]
struct FilesPage {
    chrome: Chrome,
    rows: Vec<FileRow>,
    total: usize,
    page: usize,
    pages: usize,
}

pub async fn files(
    State(portal): State<Shared>,
    identity: Identity,
    Query(query): Query<PageQuery>,
) -> Page {
    operator_only(&identity)?;
    let names: Vec<String> = portal
        .ports
        .blobs
        .list(Area::Outbound, FILES)
        .await?
        .into_iter()
        .filter_map(|k| {
            k.strip_prefix(FILES)
                .and_then(|n| n.strip_suffix(".json"))
                .map(str::to_string)
        })
        .filter(|name| sees_file(&portal, &identity, name))
        .collect();
    let (shown, total, page, pages) = page_of(names, query.page);
    let mut rows = Vec::with_capacity(shown.len());
    for name in shown {
        let record = json(&portal, Area::Outbound, &format!("{FILES}{name}.json"))
            .await?
            .unwrap_or(Value::Null);
        rows.push(FileRow {
            file_type: text(&record, "file_type"),
            business_date: text(&record, "business_date"),
            outcome: text(&record, "outcome"),
            records: text(&record, "records"),
            loaded: text(&record, "loaded"),
            rejected: text(&record, "rejected"),
            warnings: text(&record, "warnings"),
            operator_warnings: record
                .get("operator_warnings")
                .and_then(Value::as_array)
                .map_or(0, Vec::len),
            name,
        });
    }
    render::html(&FilesPage {
        chrome: Chrome::new(&portal.ports.organisations, &identity, "/operator/files"),
        rows,
        total,
        page,
        pages,
    })
}

/// A file name as stored (no folders, nothing to climb out with).
fn is_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

pub async fn file(
    State(portal): State<Shared>,
    identity: Identity,
    Path(name): Path<String>,
) -> Page {
    operator_only(&identity)?;
    if !is_file_name(&name) || !sees_file(&portal, &identity, &name) {
        return Err(PageError::NotFound);
    }
    let mut record = json(&portal, Area::Outbound, &format!("{FILES}{name}.json"))
        .await?
        .ok_or(PageError::NotFound)?;
    if let Value::Object(fields) = &mut record {
        fields.insert("title".into(), Value::String(format!("File {name}")));
    }
    render::html(&DocumentPage {
        chrome: Chrome::new(&portal.ports.organisations, &identity, "/operator/files"),
        doc: render::document(&record, &[]),
        back: "/operator/files",
        back_label: "Back to files",
        downloads: Vec::new(),
    })
}

pub struct QuarantineRow {
    pub file: String,
    pub reason: String,
    pub code: String,
    pub line: String,
}

#[derive(Template)]
#[template(path = "quarantine.html")]
struct QuarantinePage {
    chrome: Chrome,
    rows: Vec<QuarantineRow>,
    total: usize,
    page: usize,
    pages: usize,
}

pub async fn quarantine(
    State(portal): State<Shared>,
    identity: Identity,
    Query(query): Query<PageQuery>,
) -> Page {
    operator_only(&identity)?;
    let names: Vec<String> = portal
        .ports
        .blobs
        .list(Area::Quarantine, "")
        .await?
        .into_iter()
        .filter_map(|k| k.strip_suffix(REASON_SUFFIX).map(str::to_string))
        .filter(|name| sees_file(&portal, &identity, name))
        .collect();
    let (shown, total, page, pages) = page_of(names, query.page);
    let mut rows = Vec::with_capacity(shown.len());
    for name in shown {
        let record = json(&portal, Area::Quarantine, &format!("{name}{REASON_SUFFIX}"))
            .await?
            .unwrap_or(Value::Null);
        rows.push(QuarantineRow {
            reason: text(&record, "reason"),
            code: text(&record, "code"),
            line: text(&record, "line"),
            file: name,
        });
    }
    render::html(&QuarantinePage {
        chrome: Chrome::new(
            &portal.ports.organisations,
            &identity,
            "/operator/quarantine",
        ),
        rows,
        total,
        page,
        pages,
    })
}

#[derive(Template)]
#[template(path = "sequence_checks.html")]
struct SequenceChecksPage {
    chrome: Chrome,
    dates: Vec<(String, String)>,
}

pub async fn sequence_checks(State(portal): State<Shared>, identity: Identity) -> Page {
    operator_only(&identity)?;
    let mut dates: Vec<NaiveDate> = portal
        .ports
        .blobs
        .list(Area::Outbound, SEQUENCE_CHECKS)
        .await?
        .iter()
        .filter_map(|k| k.strip_prefix(SEQUENCE_CHECKS)?.strip_suffix(".json"))
        .filter_map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .collect();
    dates.sort_unstable_by(|a, b| b.cmp(a));
    render::html(&SequenceChecksPage {
        chrome: Chrome::new(
            &portal.ports.organisations,
            &identity,
            "/operator/sequence-check",
        ),
        dates: dates
            .into_iter()
            .map(|d| (d.to_string(), format::date(d)))
            .collect(),
    })
}

pub async fn sequence_check(
    State(portal): State<Shared>,
    identity: Identity,
    Path(date): Path<String>,
) -> Page {
    operator_only(&identity)?;
    let date = NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(|_| PageError::NotFound)?;
    let mut record = json(
        &portal,
        Area::Outbound,
        &format!("{SEQUENCE_CHECKS}{date}.json"),
    )
    .await?
    .ok_or(PageError::NotFound)?;
    if let Value::Object(fields) = &mut record {
        fields
            .entry("title")
            .or_insert_with(|| Value::String(format!("Sequence check of {}", format::date(date))));
    }
    render::html(&DocumentPage {
        chrome: Chrome::new(
            &portal.ports.organisations,
            &identity,
            "/operator/sequence-check",
        ),
        doc: render::document(&record, &[]),
        back: "/operator/sequence-check",
        back_label: "Back to sequence checks",
        downloads: Vec::new(),
    })
}

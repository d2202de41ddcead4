//! The trust's worklist (section 11): the six sections' counts, each linking to its list, and one
//! section's rows linking to the applicant pages. The business date is today (or `?date=`).

use askama::Template;
use axum::extract::{Query, State};
use chrono::NaiveDate;
use serde::Deserialize;

use dit_core::service::worklist::worklist;
use dit_domain::worklist::{Row, Worklist, HEADINGS, SECTIONS};

use crate::chrome::Chrome;
use crate::error::{Page, PageError};
use crate::format;
use crate::identity::Identity;
use crate::render;
use crate::state::{trust_of, Portal, Shared};

/// One section's count and where its list is.
pub struct Count {
    pub name: &'static str,
    pub heading: &'static str,
    pub count: usize,
    pub current: bool,
}

impl Count {
    pub fn href(&self, date: &str) -> String {
        format!("/worklist?section={}&date={date}#rows", self.name)
    }
}

/// The counts of a worklist, `current` marked.
pub fn counts(list: &Worklist, current: &str) -> Vec<Count> {
    SECTIONS
        .iter()
        .zip(HEADINGS)
        .zip(list.counts())
        .map(|((name, heading), count)| Count {
            name,
            heading,
            count,
            current: *name == current,
        })
        .collect()
}

/// A row as the page shows it.
pub struct RowView {
    pub number: String,
    pub name: String,
    pub gmc: String,
    pub position: String,
    pub hire: String,
    pub state: String,
    pub days: String,
}

impl RowView {
    fn of(row: &Row) -> RowView {
        RowView {
            number: row.applicant_number.clone(),
            name: format!("{} {}", row.first_name, row.last_name)
                .trim()
                .to_string(),
            gmc: row.gmc_number.clone().unwrap_or_default(),
            position: row.position_number.clone(),
            hire: format::opt_date(row.projected_hire_date),
            state: row.state.clone(),
            days: match row.days {
                0 => "today".to_string(),
                d if d > 0 => format!("in {d} days"),
                d => format!("{} days ago", -d),
            },
        }
    }
}

#[derive(Template)]
#[template(path = "worklist.html")]
struct WorklistPage {
    chrome: Chrome,
    date: String,
    date_text: String,
    counts: Vec<Count>,
    heading: String,
    rows: Vec<RowView>,
}

#[derive(Deserialize, Default)]
pub struct WorklistQuery {
    section: Option<String>,
    date: Option<String>,
}

/// The business date asked for, or today.
fn business_date(portal: &Portal, asked: Option<&str>) -> Result<NaiveDate, PageError> {
    match asked.filter(|d| !d.is_empty()) {
        None => Ok(portal.context().now.date_naive()),
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| PageError::BadRequest("The date must be a date like 2027-02-03".into())),
    }
}

/// The worklist of the signed-in trust for `date`.
pub async fn of_trust(
    portal: &Portal,
    identity: &Identity,
    date: NaiveDate,
) -> Result<Worklist, PageError> {
    let vpd = trust_of(portal, identity)?;
    Ok(worklist(&portal.context(), vpd, date).await?)
}

pub async fn show(
    State(portal): State<Shared>,
    identity: Identity,
    Query(query): Query<WorklistQuery>,
) -> Page {
    trust_of(&portal, &identity)?;
    let date = business_date(&portal, query.date.as_deref())?;
    let list = of_trust(&portal, &identity, date).await?;
    let section = query.section.as_deref().unwrap_or("overdue");
    let rows = list.sections.named(section).ok_or(PageError::NotFound)?;
    let heading = SECTIONS
        .iter()
        .position(|s| *s == section)
        .map_or("", |i| HEADINGS[i]);
    render::html(&WorklistPage {
        chrome: Chrome::new(&portal.ports.organisations, &identity, "/worklist"),
        date: date.to_string(),
        date_text: format::date(date),
        counts: counts(&list, section),
        heading: heading.to_string(),
        rows: rows.iter().map(RowView::of).collect(),
    })
}

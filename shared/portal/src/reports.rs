//! The reports of section 12 in the portal: 12 weeks' notice, applicants by state, and the
//! exception report, each a page with a from/to form (GET: a report only reads) and a CSV
//! download with the CLI's `--csv` columns.
//!
//! The figures come from the same service functions as `dit report`
//! ([`dit_core::service::reporting`]): the hire-date index read once per day (or once per trust
//! for a trust's own report) and the business-date index for exceptions, never the whole table;
//! the CSV is the same writer's ([`dit_domain::reports`]), formula-safe cells and all.
//!
//! Who sees what (choices where the specification is silent are marked *):
//! - an operator: every local office, with a local office filter;
//! - a local office's data team: its own office only, whatever the query string says;
//! - a trust: its own rows only (one per local office whose files loaded its applicants), the
//!   trust forced from the signed-in identity, never from the query string; *no exception report,
//!   which is HEE's list across trusts (a trust finds its own rejected records in the search).
//! - *The range when none is given: hire dates from today for 12 weeks (the notice the Code of
//!   Practice asks for), and for exceptions the files of the last 30 days. The page says which.
//!
//! Dates are typed as dd/mm/yyyy (yyyy-mm-dd is accepted too, as the CSV links carry them).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::{HeaderValue, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{Days, NaiveDate};
use serde::Deserialize;

use dit_core::service::reporting::{self, ReportError};
use dit_domain::envelope::LOCAL_OFFICES;
use dit_domain::reports::{
    exception_csv, notice_csv, state_csv, ExceptionReport, NoticeFigures, NoticeReport,
    ReportFilter, StateCounts, StateReport, EXCEPTION_COLUMNS, TOTAL_LABEL,
};

use crate::chrome::{Chrome, REPORTS_NAV as NAV};
use crate::error::{Page, PageError};
use crate::format;
use crate::identity::Identity;
use crate::render;
use crate::state::{trust_of, Portal, Shared};

/// The default notice and state range: hire dates in the next 12 weeks, today included.
const DEFAULT_AHEAD_DAYS: u64 = 83;
/// The default exception range: files dated in the last 30 days, today included.
const DEFAULT_BACK_DAYS: u64 = 29;

/// What the form sends. A `vpd` in the query string is not even read.
#[derive(Deserialize, Default)]
pub struct ReportQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    local_office: String,
}

/// Whose rows the signed-in identity sees.
enum Scope {
    Everyone,
    LocalOffice(String),
    Trust(String),
}

impl Scope {
    fn of(portal: &Portal, identity: &Identity) -> Result<Scope, PageError> {
        if identity.is_operator() {
            return Ok(Scope::Everyone);
        }
        if let Some(code) = identity.local_office() {
            return Ok(Scope::LocalOffice(code.to_string()));
        }
        Ok(Scope::Trust(trust_of(portal, identity)?.to_string()))
    }

    /// The report's filter: the identity's own office or trust, or the operator's choice of
    /// office (a code that is not one is no filter).
    fn filter(&self, query: &ReportQuery) -> ReportFilter {
        match self {
            Scope::Everyone => ReportFilter {
                local_office: LOCAL_OFFICES
                    .contains(&query.local_office.as_str())
                    .then(|| query.local_office.clone()),
                vpd: None,
            },
            Scope::LocalOffice(code) => ReportFilter {
                local_office: Some(code.clone()),
                vpd: None,
            },
            Scope::Trust(vpd) => ReportFilter {
                local_office: None,
                vpd: Some(vpd.clone()),
            },
        }
    }

    fn describe(&self, filter: &ReportFilter) -> String {
        match (self, &filter.local_office) {
            (Scope::Everyone, None) => "Every local office and trust.".to_string(),
            (Scope::Everyone, Some(code)) | (Scope::LocalOffice(code), _) => {
                format!("Applicants loaded from local office {code}'s files.")
            }
            (Scope::Trust(vpd), _) => format!("Trust {vpd}'s own applicants."),
        }
    }
}

/// A date as typed: dd/mm/yyyy, or yyyy-mm-dd as the download links carry it.
fn parse_day(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%d/%m/%Y")
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y-%m-%d"))
        .ok()
}

/// The report's range: the form's dates, or the default around `today`; else what is wrong.
fn range(
    query: &ReportQuery,
    today: NaiveDate,
    ahead: bool,
) -> Result<(NaiveDate, NaiveDate), String> {
    let (default_from, default_to) = if ahead {
        (today, today + Days::new(DEFAULT_AHEAD_DAYS))
    } else {
        (today - Days::new(DEFAULT_BACK_DAYS), today)
    };
    let day = |text: &str, default: NaiveDate, which: &str| {
        if text.trim().is_empty() {
            Ok(default)
        } else {
            parse_day(text).ok_or(format!(
                "Enter the {which} date as day, month and year, for example 01/02/2027"
            ))
        }
    };
    Ok((
        day(&query.from, default_from, "from")?,
        day(&query.to, default_to, "to")?,
    ))
}

/// Why a report was not made, for people.
fn explained(err: ReportError) -> Result<String, PageError> {
    match err {
        ReportError::EmptyRange { .. } => {
            Ok("The from date must be on or before the to date".into())
        }
        ReportError::TooLong { .. } => Ok(format!(
            "Choose a range of at most {} days",
            reporting::MAX_REPORT_DAYS
        )),
        ReportError::Store(err) => Err(err.into()),
    }
}

/// One report laid out as a table, and its download.
pub struct ReportTable {
    pub caption: String,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    pub total: Option<Vec<String>>,
}

pub struct Tab {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportPage {
    chrome: Chrome,
    title: &'static str,
    action: &'static str,
    explanation: &'static str,
    tabs: Vec<Tab>,
    scope: String,
    from: String,
    to: String,
    range_text: String,
    offices: Vec<(&'static str, bool)>,
    any_office: bool,
    error: Option<String>,
    table: Option<ReportTable>,
    csv_href: String,
}

/// The three reports: what each is called, where it lives and how its figures are laid out.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Notice,
    States,
    Exceptions,
}

impl Kind {
    fn path(self) -> &'static str {
        match self {
            Kind::Notice => "/reports/notice",
            Kind::States => "/reports/states",
            Kind::Exceptions => "/reports/exceptions",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Kind::Notice => "12 weeks' notice",
            Kind::States => "Applicants by state",
            Kind::Exceptions => "Exception report",
        }
    }

    fn explanation(self) -> &'static str {
        match self {
            Kind::Notice => "For applicants with projected hire dates in the range: the days between the date of the file that first loaded them and their hire date, and how many had under 12, 8 and 2 weeks' notice. A late change is a change of hire date to under 12 weeks after its file's date.",
            Kind::States => "Applicants with projected hire dates in the range, counted by state, and rejected applications whose hire date is in the range.",
            Kind::Exceptions => "Rejected applications of files dated in the range, by local office and message: placement id, trust, deanery post number and position number only.",
        }
    }

    /// Whether the range is of hire dates ahead (notice, states) or of file dates past.
    fn ahead(self) -> bool {
        self != Kind::Exceptions
    }

    fn file_name(self) -> &'static str {
        match self {
            Kind::Notice => "notice",
            Kind::States => "states",
            Kind::Exceptions => "exceptions",
        }
    }
}

/// A report made for one request: its table and its CSV.
struct Made {
    table: ReportTable,
    csv: String,
}

async fn make(
    portal: &Portal,
    kind: Kind,
    from: NaiveDate,
    to: NaiveDate,
    filter: &ReportFilter,
) -> Result<Made, ReportError> {
    let ctx = portal.context();
    Ok(match kind {
        Kind::Notice => {
            let report = reporting::notice(&ctx, from, to, filter).await?;
            Made {
                csv: notice_csv(&report),
                table: notice_table(&report),
            }
        }
        Kind::States => {
            let report = reporting::states(&ctx, from, to, filter).await?;
            Made {
                csv: state_csv(&report),
                table: state_table(&report),
            }
        }
        Kind::Exceptions => {
            let report =
                reporting::exceptions(&ctx, from, to, filter.local_office.as_deref()).await?;
            Made {
                csv: exception_csv(&report),
                table: exception_table(&report),
            }
        }
    })
}

fn shown(value: Option<f64>) -> String {
    value.map_or("-".to_string(), |v| v.to_string())
}

fn notice_cells(lo: &str, vpd: &str, f: &NoticeFigures) -> Vec<String> {
    vec![
        lo.to_string(),
        vpd.to_string(),
        f.count.to_string(),
        shown(f.median_days),
        f.under_12_weeks.to_string(),
        shown(f.under_12_weeks_pct),
        f.under_8_weeks.to_string(),
        f.under_2_weeks.to_string(),
        f.late_changes.to_string(),
    ]
}

fn notice_table(report: &NoticeReport) -> ReportTable {
    ReportTable {
        caption: format!(
            "Notice by local office and trust, hire dates {} to {}",
            format::date(report.from),
            format::date(report.to)
        ),
        columns: vec![
            "Local office",
            "Trust",
            "Applicants",
            "Median notice (days)",
            "Under 12 weeks",
            "Under 12 weeks (%)",
            "Under 8 weeks",
            "Under 2 weeks",
            "Late changes",
        ],
        rows: report
            .rows
            .iter()
            .map(|r| notice_cells(&r.local_office, &r.vpd, &r.figures))
            .collect(),
        total: Some(notice_cells(TOTAL_LABEL, "", &report.total)),
    }
}

fn state_cells(lo: &str, vpd: &str, counts: &StateCounts) -> Vec<String> {
    let mut cells = vec![lo.to_string(), vpd.to_string()];
    cells.extend(counts.values().iter().map(u64::to_string));
    cells
}

fn state_table(report: &StateReport) -> ReportTable {
    ReportTable {
        caption: format!(
            "Applicants by state, hire dates {} to {}",
            format::date(report.from),
            format::date(report.to)
        ),
        columns: vec![
            "Local office",
            "Trust",
            "Loaded",
            "Offered",
            "Accepted",
            "Hired",
            "Withdrawn",
            "Rejected applications",
        ],
        rows: report
            .rows
            .iter()
            .map(|r| state_cells(&r.local_office, &r.vpd, &r.counts))
            .collect(),
        total: Some(state_cells(TOTAL_LABEL, "", &report.total)),
    }
}

fn exception_table(report: &ExceptionReport) -> ReportTable {
    debug_assert_eq!(EXCEPTION_COLUMNS.len(), 8);
    ReportTable {
        caption: format!(
            "Rejected applications of files dated {} to {}",
            format::date(report.from),
            format::date(report.to)
        ),
        columns: vec![
            "Local office",
            "Message",
            "Placement id",
            "Trust",
            "Deanery post number",
            "Position number",
            "File",
            "Record",
        ],
        rows: report
            .groups
            .iter()
            .flat_map(|group| {
                group.records.iter().map(|r| {
                    vec![
                        group.local_office.clone(),
                        group.message.clone(),
                        r.placement_id.clone(),
                        r.vpd.clone().unwrap_or_default(),
                        r.dpn.clone(),
                        r.position_number.clone(),
                        r.source_file.clone(),
                        r.record_number.to_string(),
                    ]
                })
            })
            .collect(),
        total: None,
    }
}

fn tabs(scope: &Scope, current: Kind) -> Vec<Tab> {
    [Kind::Notice, Kind::States, Kind::Exceptions]
        .into_iter()
        .filter(|k| *k != Kind::Exceptions || !matches!(scope, Scope::Trust(_)))
        .map(|k| Tab {
            href: k.path(),
            label: k.title(),
            current: k == current,
        })
        .collect()
}

fn query_string(from: NaiveDate, to: NaiveDate, filter: &ReportFilter, scope: &Scope) -> String {
    let mut query = format!("from={from}&to={to}");
    if let (Scope::Everyone, Some(code)) = (scope, &filter.local_office) {
        query.push_str(&format!("&local_office={code}"));
    }
    query
}

async fn page(portal: &Portal, identity: &Identity, kind: Kind, query: &ReportQuery) -> Page {
    let scope = Scope::of(portal, identity)?;
    if kind == Kind::Exceptions && matches!(scope, Scope::Trust(_)) {
        return Err(PageError::NotFound);
    }
    let filter = scope.filter(query);
    let today = (portal.clock)().date_naive();
    let (mut error, mut table, mut csv_href, mut range_text) =
        (None, None, String::new(), String::new());
    match range(query, today, kind.ahead()) {
        Err(message) => error = Some(message),
        Ok((from, to)) => match make(portal, kind, from, to, &filter).await {
            Ok(made) => {
                range_text = format!(
                    "{} {} to {}",
                    if kind.ahead() {
                        "Projected hire dates"
                    } else {
                        "Files dated"
                    },
                    format::date(from),
                    format::date(to)
                );
                csv_href = format!(
                    "{}.csv?{}",
                    kind.path(),
                    query_string(from, to, &filter, &scope)
                );
                table = Some(made.table);
            }
            Err(err) => error = Some(explained(err)?),
        },
    }
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let offices = match scope {
        Scope::Everyone => LOCAL_OFFICES
            .iter()
            .map(|code| (*code, filter.local_office.as_deref() == Some(*code)))
            .collect(),
        _ => Vec::new(),
    };
    let mut response = render::html(&ReportPage {
        chrome: Chrome::new(&portal.ports.organisations, identity, NAV),
        title: kind.title(),
        action: kind.path(),
        explanation: kind.explanation(),
        tabs: tabs(&scope, kind),
        scope: scope.describe(&filter),
        from: query.from.trim().to_string(),
        to: query.to.trim().to_string(),
        range_text,
        any_office: filter.local_office.is_none(),
        offices,
        error,
        table,
        csv_href,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

async fn download(portal: &Portal, identity: &Identity, kind: Kind, query: &ReportQuery) -> Page {
    let scope = Scope::of(portal, identity)?;
    if kind == Kind::Exceptions && matches!(scope, Scope::Trust(_)) {
        return Err(PageError::NotFound);
    }
    let filter = scope.filter(query);
    let today = (portal.clock)().date_naive();
    let (from, to) = range(query, today, kind.ahead()).map_err(PageError::BadRequest)?;
    let made = match make(portal, kind, from, to, &filter).await {
        Ok(made) => made,
        Err(err) => return Err(PageError::BadRequest(explained(err)?)),
    };
    let name = format!("{}-{from}-{to}.csv", kind.file_name());
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .map_err(|_| PageError::NotFound)?;
    Ok((
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (CONTENT_DISPOSITION, disposition),
        ],
        made.csv,
    )
        .into_response())
}

pub async fn notice(
    State(portal): State<Shared>,
    identity: Identity,
    Query(query): Query<ReportQuery>,
) -> Page {
    page(&portal, &identity, Kind::Notice, &query).await
}

pub async fn notice_download(
    State(portal): State<Shared>,
    identity: Identity,
    Query(query): Query<ReportQuery>,
) -> Page {
    download(&portal, &identity, Kind::Notice, &query).await
}

pub async fn states(
    State(portal): State<Shared>,
    identity: Identity,
    Query(query): Query<ReportQuery>,
) -> Page {
    page(&portal, &identity, Kind::States, &query).await
}

pub async fn states_download(
    State(portal): State<Shared>,
    identity: Identity,
    Query(query): Query<ReportQuery>,
) -> Page {
    download(&portal, &identity, Kind::States, &query).await
}

pub async fn exceptions(
    State(portal): State<Shared>,
    identity: Identity,
    Query(query): Query<ReportQuery>,
) -> Page {
    page(&portal, &identity, Kind::Exceptions, &query).await
}

pub async fn exceptions_download(
    State(portal): State<Shared>,
    identity: Identity,
    Query(query): Query<ReportQuery>,
) -> Page {
    download(&portal, &identity, Kind::Exceptions, &query).await
}

/// `/reports`: the first report.
pub async fn index(_signed_in: Identity) -> Response {
    axum::response::Redirect::to(NAV).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_day_first_or_as_iso_and_default_around_today() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(parse_day("01/02/2027"), Some(d(2027, 2, 1)));
        assert_eq!(parse_day(" 2027-02-01 "), Some(d(2027, 2, 1)));
        assert_eq!(parse_day("02/30/2027"), None);
        let empty = ReportQuery::default();
        assert_eq!(range(&empty, today, true), Ok((today, d(2027, 2, 13))));
        assert_eq!(range(&empty, today, false), Ok((d(2026, 10, 24), today)));
        let bad = ReportQuery {
            from: "tomorrow".into(),
            ..ReportQuery::default()
        };
        assert!(range(&bad, today, true).unwrap_err().contains("from date"));
    }
}

//! A trust's start page (`/`): its applicants of the coming rotation counted by state, as a bar
//! chart drawn on the server (an inline SVG: no script, text labels in it) and the same figures
//! as a table, for screen readers and for copying.
//!
//! The coming rotation (the specification names none; this is what a medical staffing officer
//! plans around): hire dates from today to four weeks after the next main changeover, the first
//! Wednesday of February or of August, so that the stragglers who start in the weeks after a
//! changeover are counted with it. The page names the window and the changeover.
//!
//! The counts are the state report's for the trust ([`dit_core::service::reporting::states`]),
//! read through the trust's hire-date index as `dit report states --vpd` reads them.

use askama::Template;
use chrono::{Datelike, Days, NaiveDate, Weekday};

use dit_core::service::reporting;
use dit_domain::reports::{ReportFilter, STATE_COLUMNS};

use crate::chrome::Chrome;
use crate::error::{Page, PageError};
use crate::format;
use crate::identity::Identity;
use crate::render;
use crate::state::{trust_of, Portal};

/// How long after a changeover its starters are still counted with it.
const AFTER_CHANGEOVER_DAYS: u64 = 27;
/// The widest bar, in the chart's units.
const BAR_WIDTH: u64 = 300;

/// The first Wednesday of `month` in `year`.
fn first_wednesday(year: i32, month: u32) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Wed, 1)
}

/// The next main changeover on or after `today`.
fn next_changeover(today: NaiveDate) -> NaiveDate {
    [today.year(), today.year() + 1]
        .into_iter()
        .flat_map(|year| [first_wednesday(year, 2), first_wednesday(year, 8)])
        .flatten()
        .find(|day| *day >= today)
        .unwrap_or(today)
}

/// The coming rotation's hire dates: from `today` to four weeks after the next changeover.
pub fn rotation_window(today: NaiveDate) -> (NaiveDate, NaiveDate, NaiveDate) {
    let changeover = next_changeover(today);
    (
        today,
        changeover + Days::new(AFTER_CHANGEOVER_DAYS),
        changeover,
    )
}

pub struct Bar {
    pub label: &'static str,
    pub count: u64,
    pub y: u64,
    pub width: u64,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    vpd: String,
    from: String,
    to: String,
    changeover: String,
    bars: Vec<Bar>,
    height: u64,
    total: u64,
    report_href: String,
}

fn label(column: &str) -> &'static str {
    match column {
        "loaded" => "Loaded",
        "offered" => "Offered",
        "accepted" => "Accepted",
        "hired" => "Hired",
        "withdrawn" => "Withdrawn",
        _ => "Rejected",
    }
}

pub async fn show(portal: &Portal, identity: &Identity) -> Page {
    let vpd = trust_of(portal, identity)?.to_string();
    let today = (portal.clock)().date_naive();
    let (from, to, changeover) = rotation_window(today);
    let filter = ReportFilter {
        local_office: None,
        vpd: Some(vpd.clone()),
    };
    let report = reporting::states(&portal.context(), from, to, &filter)
        .await
        .map_err(|err| PageError::Unavailable(err.to_string()))?;
    let counts = report.total.values();
    let most = counts.iter().copied().max().unwrap_or(0).max(1);
    let bars = STATE_COLUMNS
        .iter()
        .zip(counts)
        .enumerate()
        .map(|(i, (column, count))| Bar {
            label: label(column),
            count,
            y: i as u64 * 32,
            width: count * BAR_WIDTH / most,
        })
        .collect::<Vec<_>>();
    render::html(&DashboardPage {
        chrome: Chrome::new(&portal.ports.organisations, identity, "/"),
        height: bars.len() as u64 * 32,
        total: counts.iter().sum(),
        bars,
        report_href: format!("/reports/states?from={from}&to={to}"),
        from: format::date(from),
        to: format::date(to),
        changeover: format::date(changeover),
        vpd,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_runs_to_four_weeks_after_the_next_first_wednesday_of_february_or_august() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(
            rotation_window(d(2026, 11, 22)),
            (d(2026, 11, 22), d(2027, 3, 2), d(2027, 2, 3))
        );
        // On the changeover itself it is still the coming one; the day after, August's.
        assert_eq!(rotation_window(d(2027, 2, 3)).2, d(2027, 2, 3));
        assert_eq!(rotation_window(d(2027, 2, 4)).2, d(2027, 8, 4));
        assert_eq!(rotation_window(d(2027, 12, 31)).2, d(2028, 2, 2));
    }
}

//! A trust's start page: its applicants of the coming rotation by state, as a chart and a table.

use super::support::*;

/// The table's count for `state` on the dashboard.
fn count(page: &str, state: &str) -> u64 {
    let row = format!("<th scope=\"row\" class=\"nhsuk-table__header\">{state}</th>");
    let start = page
        .find(&row)
        .unwrap_or_else(|| panic!("no {state} row in {page}"))
        + row.len();
    let cell = &page[start..];
    let value = cell.split('>').nth(1).unwrap().split('<').next().unwrap();
    value.trim().parse().unwrap()
}

#[tokio::test]
async fn the_dashboard_counts_the_trusts_own_applicants_of_the_coming_rotation_by_state() {
    let fixture = Fixture::new().await;
    let app = fixture.app();
    let page = get(&app, &trust("504"), "/").await;
    assert_eq!(page.status, StatusCode::OK);
    // The window is named: today (22/11/2026) to four weeks after 03/02/2027.
    assert!(
        page.body.contains("from 22/11/2026 to 02/03/2027")
            && page.body.contains("next changeover, 03/02/2027"),
        "{}",
        page.body
    );
    assert_eq!(count(&page.body, "Loaded"), 2);
    assert_eq!(count(&page.body, "Offered"), 0);
    // The chart: no script, an accessible name, a bar and a text label per state.
    assert!(!page.body.contains("<script"));
    assert!(page
        .body
        .contains("role=\"img\" aria-labelledby=\"chart-title chart-desc\""));
    assert_eq!(page.body.matches("<rect ").count(), 6);
    assert!(
        page.body.contains("width=\"300\" height=\"20\""),
        "the longest bar is full width"
    );

    // A move shows at once; another trust's applicants are never counted.
    let offered = confirm(&app, &trust("504"), LEAD_504, "offer", "").await;
    assert_eq!(offered.status, StatusCode::SEE_OTHER, "{}", offered.body);
    let page = get(&app, &trust("504"), "/").await;
    assert_eq!(
        (count(&page.body, "Loaded"), count(&page.body, "Offered")),
        (1, 1)
    );
    assert!(page.body.contains("2 in all"));
    let other = get(&app, &trust("505"), "/").await;
    assert_eq!(count(&other.body, "Loaded"), 1);
    assert_eq!(count(&other.body, "Offered"), 0);
    // The link to the same range as a report.
    assert!(page
        .body
        .contains("href=\"/reports/states?from=2026-11-22&#38;to=2027-03-02\""));
}

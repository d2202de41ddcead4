//! The reports of section 12 in the portal: who sees which rows, the form's dates, the CSV.

use super::local_office::local_office;
use super::support::*;

/// A table cell holding exactly `text`.
fn cell(text: &str) -> String {
    format!("<td class=\"nhsuk-table__cell\">{text}</td>")
}

#[tokio::test]
async fn a_trust_sees_only_its_own_row_whatever_the_query_string_says() {
    let fixture = Fixture::new().await;
    let app = fixture.app();
    for uri in [
        "/reports/notice",
        "/reports/states?from=01/02/2027&to=28/02/2027",
        "/reports/states?from=01/02/2027&to=28/02/2027&vpd=505",
        "/reports/notice?vpd=505&local_office=LDN",
    ] {
        let page = get(&app, &trust("504"), uri).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}: {}", page.body);
        assert!(page.body.contains(&cell("504")), "{uri}: {}", page.body);
        for other in ["505", "506"] {
            assert!(!page.body.contains(&cell(other)), "{uri}: {}", page.body);
        }
        // The page says whose rows these are (askama escapes the apostrophe).
        assert!(
            page.body.contains("Trust 504&#39;s own applicants."),
            "{uri}"
        );
    }
    // Its CSV too: the header, its row and the total, 504's two applicants.
    let csv = get(
        &app,
        &trust("504"),
        "/reports/states.csv?from=2027-02-01&to=2027-02-28&vpd=505",
    )
    .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(
        csv.body,
        "local_office,vpd,loaded,offered,accepted,hired,withdrawn,rejected\nKSS,504,2,0,0,0,0,0\nTotal,,2,0,0,0,0,0\n"
    );
    assert!(csv.headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("states-2027-02-01-2027-02-28.csv"));
    // The exception report is HEE's, across trusts.
    for uri in ["/reports/exceptions", "/reports/exceptions.csv"] {
        assert_eq!(
            get(&app, &trust("504"), uri).await.status,
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
}

#[tokio::test]
async fn operators_see_every_trust_and_filter_by_local_office_and_a_local_office_only_its_own() {
    let fixture = Fixture::new().await;
    let app = fixture.app();
    let range = "from=01/02/2027&to=28/02/2027";
    let everyone = get(&app, &operator(), &format!("/reports/states?{range}")).await;
    for vpd in ["504", "505", "506"] {
        assert!(everyone.body.contains(&cell(vpd)), "{}", everyone.body);
    }
    assert!(everyone.body.contains("href=\"/reports/notice\""));
    assert!(everyone.body.contains("Every local office and trust."));
    let ldn = get(
        &app,
        &operator(),
        &format!("/reports/states?{range}&local_office=LDN"),
    )
    .await;
    assert!(ldn.body.contains("Nothing in this range."), "{}", ldn.body);
    assert!(ldn.body.contains("<option value=\"LDN\" selected>"));
    // A local office's data team: its own office, whatever it asks for.
    let kss = get(
        &app,
        &local_office("KSS"),
        &format!("/reports/states?{range}&local_office=LDN"),
    )
    .await;
    assert!(kss.body.contains(&cell("505")), "{}", kss.body);
    assert!(!kss.body.contains("name=\"local_office\""));
    let other = get(
        &app,
        &local_office("LDN"),
        &format!("/reports/notice?{range}"),
    )
    .await;
    assert!(
        other.body.contains("Nothing in this range."),
        "{}",
        other.body
    );
    let csv = get(
        &app,
        &local_office("LDN"),
        "/reports/states.csv?from=2027-02-01&to=2027-02-28",
    )
    .await;
    assert_eq!(
        csv.body,
        "local_office,vpd,loaded,offered,accepted,hired,withdrawn,rejected\nTotal,,0,0,0,0,0,0\n"
    );
    assert_eq!(
        get(&app, &local_office("KSS"), "/reports/exceptions")
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_form_takes_dd_mm_yyyy_defaults_to_the_next_12_weeks_and_explains_a_bad_range() {
    let fixture = Fixture::new().await;
    let app = fixture.app();
    let page = get(&app, &operator(), "/reports/notice").await;
    assert!(
        page.body
            .contains("Projected hire dates 22/11/2026 to 13/02/2027"),
        "{}",
        page.body
    );
    // The download link carries the range shown (its `&` escaped).
    assert!(
        page.body
            .contains("href=\"/reports/notice.csv?from=2026-11-22&#38;to=2027-02-13\""),
        "{}",
        page.body
    );
    // The notice of the fixture's applicants: loaded 21/11/2026, hired 03/02/2027 (74 days).
    assert!(page.body.contains(&cell("74")), "{}", page.body);
    for (uri, message) in [
        ("/reports/notice?from=31/02/2027", "Enter the from date"),
        (
            "/reports/notice?from=01/03/2027&to=01/02/2027",
            "on or before",
        ),
        (
            "/reports/states?from=01/01/2027&to=01/01/2029",
            "at most 400 days",
        ),
    ] {
        let page = get(&app, &operator(), uri).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(page.body.contains("nhsuk-error-summary"), "{uri}");
        assert!(page.body.contains(message), "{uri}: {}", page.body);
    }
    let exceptions = get(&app, &operator(), "/reports/exceptions").await;
    assert!(exceptions
        .body
        .contains("Files dated 24/10/2026 to 22/11/2026"));
    // Every role's menu leads to the reports.
    for who in [trust("504"), operator(), local_office("KSS")] {
        let page = get(&app, &who, "/reports").await;
        assert_eq!(page.headers["location"], "/reports/notice");
        let page = get(&app, &who, "/reports/notice").await;
        assert!(page.body.contains(">Reports</a>"), "{}", page.body);
    }
}

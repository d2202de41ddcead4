//! The trainee's own view (section 13): a doctor in training sees exactly the placements held
//! under their GMC number and reports a problem, which reaches that trust's inbox once.

use super::support::*;
use dit_test_support::applicants::{app, DPN_200};

const GMC: &str = "7000001";

fn trainee(gmc: &str) -> Identity {
    Identity::parse_as(&format!("trainee:{gmc}"), "trainee-sub-1").unwrap()
}

/// The fixture, with a second placement for the trainee of 5000001 at trust 505.
async fn two_placements() -> (Fixture, String) {
    let fixture = Fixture::new().await;
    let report = fixture
        .env
        .process_app(2, &[app("9", "200", DPN_200, GMC)])
        .await;
    assert_eq!(report.loaded, 1, "{report:?}");
    let mut numbers: Vec<String> = fixture
        .store()
        .applicants_by_gmc(GMC)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.applicant_number)
        .collect();
    numbers.sort();
    assert_eq!(numbers.len(), 2);
    assert_eq!(numbers[0], LEAD_504);
    let second = numbers[1].clone();
    (fixture, second)
}

#[tokio::test]
async fn a_trainee_sees_exactly_their_own_placements_and_details() {
    let (fixture, second) = two_placements().await;
    let app = fixture.app();
    let me = trainee(GMC);
    let start = get(&app, &me, "/").await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.body);
    assert!(start.body.contains("<h1>Your placements</h1>"));
    assert!(start.body.contains("Signed in: Doctor in training"));
    for number in [LEAD_504, second.as_str()] {
        assert!(
            start
                .body
                .contains(&format!("href=\"/my/placements/{number}\"")),
            "{number}: {}",
            start.body
        );
    }
    assert!(start.body.contains("Lead Hospital NHS Trust"));
    assert!(start.body.contains("Part Records NHS Trust"));
    assert!(start.body.contains("03/02/2027"));
    // Nobody else's placement, and no staff menu.
    for other in [
        SECOND_504,
        HOST_505_PART,
        "/inbox",
        "/worklist",
        "/applicants\"",
    ] {
        assert!(!start.body.contains(other), "{other} on {}", start.body);
    }

    let page = get(&app, &me, &format!("/my/placements/{LEAD_504}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for shown in [
        "Lead Hospital NHS Trust",
        "<dd class=\"nhsuk-summary-list__value\">100</dd>",
        "Test Trainee",
        "31/01/1990",
        "03/02/2027",
        "loaded",
        "Report a problem",
        "name=\"csrf\"",
    ] {
        assert!(page.body.contains(shown), "{shown} not on {}", page.body);
    }
    // No history (its actors are staff), no checks, no GMC or NI number, no staff moves.
    for hidden in [
        "History",
        "Employment checks",
        "7000001",
        "/applicants/",
        "Offer",
    ] {
        assert!(!page.body.contains(hidden), "{hidden} on {}", page.body);
    }
}

#[tokio::test]
async fn every_other_page_and_another_gmcs_applicant_answer_404_as_a_missing_page() {
    let (fixture, _) = two_placements().await;
    let app = fixture.app();
    let me = trainee(GMC);
    let missing = get(&app, &me, "/no/such/page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    for uri in [
        format!("/my/placements/{SECOND_504}"),
        format!("/my/placements/{HOST_505_PART}"),
        "/my/placements/99999".to_string(),
        "/my/placements/..%2F5000001".to_string(),
        "/inbox".to_string(),
        "/inbox/notifications/x".to_string(),
        "/worklist".to_string(),
        "/bulk".to_string(),
        "/applicants".to_string(),
        format!("/applicants?q={GMC}"),
        format!("/applicants/{LEAD_504}"),
        format!("/applicants/{LEAD_504}/offer"),
        "/downloads/medrot/x.xlsx".to_string(),
        "/operator/files".to_string(),
        "/operator/quarantine".to_string(),
        "/operator/sequence-check".to_string(),
        "/reports".to_string(),
        "/reports/notice".to_string(),
        "/reports/states.csv".to_string(),
    ] {
        let answer = get(&app, &me, &uri).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(answer.body, missing.body, "{uri}");
    }
    let foreign = post(
        &app,
        &me,
        &format!("/my/placements/{SECOND_504}/report"),
        &[("text", "x"), ("csrf", "1.00"), ("action_id", "y")],
    )
    .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert_eq!(foreign.body, missing.body);
    let bulk = post(&app, &me, "/bulk", &[("applicant", LEAD_504)]).await;
    assert_eq!(bulk.status, StatusCode::NOT_FOUND);
    // The trainee pages are no one else's.
    for who in [trust("504"), operator()] {
        let answer = get(&app, &who, &format!("/my/placements/{LEAD_504}")).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
    }
}

async fn report(app: &Router, who: &Identity, number: &str, text: &str) -> Answer {
    let page = get(app, who, &format!("/my/placements/{number}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let (csrf, action_id) = (hidden(&page.body, "csrf"), hidden(&page.body, "action_id"));
    let uri = format!("/my/placements/{number}/report");
    post(
        app,
        who,
        &uri,
        &[("text", text), ("action_id", &action_id), ("csrf", &csrf)],
    )
    .await
}

async fn queries(fixture: &Fixture, vpd: &str) -> Vec<String> {
    fixture
        .blobs()
        .list(Area::Outbound, &format!("trusts/{vpd}/notifications/"))
        .await
        .unwrap()
        .into_iter()
        .filter(|k| k.contains(".trainee-data-query"))
        .collect()
}

#[tokio::test]
async fn a_report_reaches_the_trusts_inbox_once_even_when_posted_twice() {
    let (fixture, _) = two_placements().await;
    let app = fixture.app();
    let me = trainee(GMC);
    let text = "My surname is spelt Trainée, with an accent <b>please</b>.";
    let page = get(&app, &me, &format!("/my/placements/{LEAD_504}")).await;
    let (csrf, action_id) = (hidden(&page.body, "csrf"), hidden(&page.body, "action_id"));
    let uri = format!("/my/placements/{LEAD_504}/report");
    let form = [("text", text), ("action_id", &action_id), ("csrf", &csrf)];
    let first = post(&app, &me, &uri, &form).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(first.body.contains("Report sent"));
    assert!(!first.body.contains("already sent"));
    // A double click, then a reload of the form sending the same words: the same query.
    let again = post(&app, &me, &uri, &form).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.body.contains("already sent"), "{}", again.body);
    assert!(report(&app, &me, LEAD_504, text)
        .await
        .body
        .contains("already sent"));
    let written = queries(&fixture, "504").await;
    assert_eq!(written.len(), 2, "one JSON and its HTML: {written:?}");
    assert!(queries(&fixture, "505").await.is_empty());

    // The trust reads it in its inbox, with the text, as a Trainee data query.
    let staff = trust("504");
    let inbox = get(&app, &staff, "/inbox").await;
    assert_eq!(
        inbox.body.matches("Trainee data query").count(),
        1,
        "{}",
        inbox.body
    );
    let id = written[0]
        .strip_prefix("trusts/504/")
        .unwrap()
        .trim_end_matches(".html")
        .trim_end_matches(".json")
        .to_string();
    let item = get(&app, &staff, &format!("/inbox/{id}")).await;
    assert_eq!(item.status, StatusCode::OK, "{}", item.body);
    assert!(
        item.body
            .contains("with an accent &#60;b&#62;please&#60;/b&#62;."),
        "{}",
        item.body
    );
    assert!(item.body.contains(LEAD_504));
    // Another trust does not see it.
    assert!(!get(&app, &trust("505"), "/inbox")
        .await
        .body
        .contains("Trainee data query"));

    // Other words are another query.
    let other = report(&app, &me, LEAD_504, "My date of birth is wrong").await;
    assert!(!other.body.contains("already sent"));
    assert_eq!(queries(&fixture, "504").await.len(), 4);
}

#[tokio::test]
async fn an_empty_or_overlong_report_is_refused_on_the_form() {
    let (fixture, _) = two_placements().await;
    let app = fixture.app();
    let me = trainee(GMC);
    for (text, error) in [
        ("   ", "Enter what is wrong"),
        (&"x".repeat(1001)[..], "1000 characters or fewer"),
    ] {
        let answer = report(&app, &me, LEAD_504, text).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert!(
            answer.body.contains("There is a problem"),
            "{}",
            answer.body
        );
        assert!(answer.body.contains(error), "{}", answer.body);
        assert!(answer.body.contains("nhsuk-textarea--error"));
        assert!(
            answer.body.contains("name=\"csrf\""),
            "the form, to send again"
        );
    }
    assert!(report(&app, &me, LEAD_504, &"x".repeat(1000))
        .await
        .body
        .contains("Report sent"));
    assert_eq!(queries(&fixture, "504").await.len(), 2);
}

#[tokio::test]
async fn a_report_with_a_bad_csrf_token_is_refused() {
    let (fixture, second) = two_placements().await;
    let app = fixture.app();
    let me = trainee(GMC);
    let page = get(&app, &me, &format!("/my/placements/{LEAD_504}")).await;
    let (csrf, action_id) = (hidden(&page.body, "csrf"), hidden(&page.body, "action_id"));
    let uri = format!("/my/placements/{LEAD_504}/report");
    // The other placement's form, another trainee's session, a changed or missing token.
    let theirs = get(&app, &me, &format!("/my/placements/{second}")).await;
    let other_csrf = hidden(&theirs.body, "csrf");
    let other_id = hidden(&theirs.body, "action_id");
    for (who, csrf, action_id) in [
        (me.clone(), other_csrf.as_str(), other_id.as_str()),
        (me.clone(), "", action_id.as_str()),
        (me.clone(), &csrf[..csrf.len() - 1], action_id.as_str()),
        (
            Identity::parse_as(&format!("trainee:{GMC}"), "someone-else").unwrap(),
            csrf.as_str(),
            action_id.as_str(),
        ),
    ] {
        let answer = post(
            &app,
            &who,
            &uri,
            &[
                ("text", "wrong name"),
                ("action_id", action_id),
                ("csrf", csrf),
            ],
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
        assert!(answer
            .body
            .contains("did not come from your portal session"));
    }
    assert!(queries(&fixture, "504").await.is_empty());
}

#[tokio::test]
async fn a_placement_past_its_retention_is_not_shown() {
    let (fixture, _) = two_placements().await;
    // The same data directory judged years later: the applicants' retention has run out,
    // though the database still holds them (purge has not run).
    let later = chrono::NaiveDate::from_ymd_opt(2031, 1, 1).unwrap();
    let ports = Ports {
        store: Box::new(
            SqliteStore::open(&fixture.dir.path().join("state.db"))
                .unwrap()
                .with_today(later),
        ),
        blobs: Box::new(FolderBlobs::new(fixture.dir.path())),
        mailer: Box::new(dit_core::ports::NoMailer),
        organisations: organisations(),
        settings: Settings::default(),
    };
    let mut portal = Portal::new(
        ports,
        fixture.csrf.clone(),
        Downloads::Stream,
        Assets::none(),
    );
    portal.clock = moment;
    let app = dit_portal::router(Arc::new(portal));
    let me = trainee(GMC);
    let start = get(&app, &me, "/").await;
    assert_eq!(start.status, StatusCode::OK);
    assert!(
        start.body.contains("No placements are held"),
        "{}",
        start.body
    );
    let page = get(&app, &me, &format!("/my/placements/{LEAD_504}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    // Today they are still there.
    let today = get(&fixture.app(), &me, &format!("/my/placements/{LEAD_504}")).await;
    assert_eq!(today.status, StatusCode::OK);
}

//! Rotation day in the portal (sections 10 and 11): the worklist's counts and lists, an internal
//! mover's update_assignment form, and the contact details a trust sees and an operator does not.

use crate::support::*;
use dit_test_support::applicants::with_fields;
use serde_json::json;

/// An APP line with contact details set.
fn with_contacts(line: &str) -> String {
    with_fields(
        line,
        &[
            ("EMAIL_ADDRESS", "new.starter@example.nhs.uk"),
            ("HOME_TEL", "01632 960001"),
            ("MOBILE_TEL", "07700 900123"),
        ],
    )
}

/// Hires LEAD_504 (GMC 7000001) and loads the same person on position 101 a week later, with
/// contact details: the mover's applicant number, accepted.
async fn internal_mover(fixture: &Fixture) -> String {
    let env = &fixture.env;
    for (id, action) in [("o", "offer"), ("a", "accept")] {
        env.send(
            &json!({"id": id, "action": action, "vpd": "504", "applicant_number": LEAD_504})
                .to_string(),
        )
        .await;
    }
    env.send(
        &json!({"id": "h", "action": "hire", "vpd": "504", "applicant_number": LEAD_504,
            "person_type": "Employee"})
        .to_string(),
    )
    .await;
    let line = with_contacts(
        &app("9", "101", dit_test_support::applicants::DPN_101, "7000001")
            .replace("2027-02-03", "2027-02-10"),
    );
    let report = env.process_app(2, &[line]).await;
    assert_eq!(report.loaded, 1, "{report:?}");
    let number = fixture.store().placements(&["9".into()]).await.unwrap()["9"]
        .applicant_number
        .clone();
    for (id, action) in [("mo", "offer"), ("ma", "accept")] {
        env.send(
            &json!({"id": id, "action": action, "vpd": "504", "applicant_number": number})
                .to_string(),
        )
        .await;
    }
    number
}

#[tokio::test]
async fn an_internal_mover_is_moved_with_update_assignment_never_hired() {
    let fixture = Fixture::new().await;
    let mover = internal_mover(&fixture).await;
    let app = fixture.app();
    let me = trust("504");
    let page = get(&app, &me, &format!("/applicants/{mover}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Internal mover"), "{}", page.body);
    assert!(page
        .body
        .contains(&format!("/applicants/{mover}/update_assignment")));
    assert!(!page.body.contains(&format!("/applicants/{mover}/hire\"")));

    let done = confirm(
        &app,
        &me,
        &mover,
        "update_assignment",
        "person_type=Employee",
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(state_of(&fixture, &mover).await, ApplicantState::Hired);
    let earlier = get(&app, &me, &format!("/applicants/{LEAD_504}")).await;
    assert!(
        earlier.body.contains(&format!(
            "Assignment moved to position 101 from 2027-02-10 (applicant {mover})"
        )),
        "{}",
        earlier.body
    );
}

#[tokio::test]
async fn contact_details_are_on_the_trusts_page_and_never_on_an_operators() {
    let fixture = Fixture::new().await;
    let mover = internal_mover(&fixture).await;
    let app = fixture.app();
    let page = get(&app, &trust("504"), &format!("/applicants/{mover}")).await;
    for shown in ["new.starter@example.nhs.uk", "01632 960001", "07700 900123"] {
        assert!(page.body.contains(shown), "{shown}");
    }
    let page = get(&app, &operator(), &format!("/applicants/{mover}")).await;
    assert_eq!(page.status, StatusCode::OK);
    for hidden in [
        "new.starter@example.nhs.uk",
        "01632 960001",
        "07700 900123",
        "Contact details",
    ] {
        assert!(!page.body.contains(hidden), "{hidden} on an operator page");
    }
    for uri in [
        "/operator/files",
        "/operator/quarantine",
        "/operator/sequence-check",
    ] {
        let page = get(&app, &operator(), uri).await;
        assert!(!page.body.contains("new.starter@example.nhs.uk"), "{uri}");
    }
}

#[tokio::test]
async fn the_worklist_shows_counts_linking_to_lists_of_the_trusts_own_applicants() {
    let fixture = Fixture::new().await;
    let app = fixture.app();
    let me = trust("504");
    // The fixture's applicants start on 2027-02-03: 9 days after 2027-01-25.
    let page = get(
        &app,
        &me,
        "/worklist?section=starting_not_accepted&date=2027-01-25",
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("Starting within 14 days, not accepted: 2"),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!("/applicants/{LEAD_504}")));
    assert!(page.body.contains(&format!("/applicants/{SECOND_504}")));
    assert!(!page.body.contains(&format!("/applicants/{HOST_505_PART}")));
    assert!(page.body.contains("in 9 days"));
    assert!(page.body.contains("/worklist?section=overdue&"));
    assert!(page.body.contains("date=2027-01-25#rows"));
    let inbox = get(&app, &me, "/inbox").await;
    assert!(inbox.body.contains("Worklist for today"), "{}", inbox.body);
    assert_eq!(
        get(&app, &me, "/worklist?section=nothing").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, &operator(), "/worklist").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_trust_without_trac_records_checks_and_accept_names_those_not_complete() {
    let fixture = Fixture::new().await;
    fixture
        .env
        .send(
            &json!({"id": "o", "action": "offer", "vpd": "505", "applicant_number": HOST_505_PART})
                .to_string(),
        )
        .await;
    let app = fixture.app();
    let me = trust("505");
    let page = get(&app, &me, &format!("/applicants/{HOST_505_PART}")).await;
    assert!(page
        .body
        .contains(&format!("/applicants/{HOST_505_PART}/record_checks")));
    let done = confirm(
        &app,
        &me,
        HOST_505_PART,
        "record_checks",
        "dbs_status=clear&dbs_completed_on=01%2F11%2F2026&eu_status_status=settled&eu_status_completed_on=2026-11-02",
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let applicant = fixture
        .store()
        .applicant(HOST_505_PART)
        .await
        .unwrap()
        .unwrap();
    let held = applicant.trust_checks.expect("recorded");
    assert_eq!(
        held.recorded_by.as_deref(),
        Some("alice@example.nhs.uk (trust 505, portal)")
    );
    assert_eq!(
        held.checks,
        json!({"dbs": {"status": "clear", "completed_on": "2026-11-01"},
            "eu_status": {"status": "settled", "completed_on": "2026-11-02"}})
    );
    let page = get(&app, &me, &format!("/applicants/{HOST_505_PART}")).await;
    assert!(page
        .body
        .contains("Employment checks recorded by the trust"));
    let accept = get(&app, &me, &format!("/applicants/{HOST_505_PART}/accept")).await;
    assert!(
        accept.body.contains(
            "Professional registration, References, Employment checklist, Illegal working checklist"
        ),
        "{}",
        accept.body
    );
    // A trust that takes Trac's checks has no such form.
    let page = get(&app, &trust("504"), &format!("/applicants/{LEAD_504}")).await;
    assert!(!page.body.contains("record_checks"));
}

/// The hidden inputs of a form, in order, unescaped as a browser sends them.
fn hidden_inputs(page: &str) -> Vec<(String, String)> {
    page.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|rest| {
            let (name, rest) = rest.split_once('"').unwrap();
            let value = rest
                .split_once("value=\"")
                .unwrap()
                .1
                .split('"')
                .next()
                .unwrap();
            (name.to_string(), value.to_string())
        })
        .collect()
}

#[tokio::test]
async fn a_bulk_move_sends_one_message_per_applicant_and_a_second_submit_is_a_duplicate() {
    let fixture = Fixture::new().await;
    let app = fixture.app();
    let me = trust("504");
    let uri = format!(
        "/bulk?applicant={LEAD_504}&applicant={SECOND_504}&applicant={HOST_505_PART}&move=offer&effective_date=02%2F12%2F2026"
    );
    let page = get(&app, &me, &uri).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Offer the post: 3 applicants?"));
    assert!(!page.body.contains("Trainee Test 5000003"));
    let form = hidden_inputs(&page.body);
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let done = post(&app, &me, "/bulk", &fields).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(
        done.body
            .matches("class=\"nhsuk-table__row outcome\"")
            .count(),
        3
    );
    assert!(done.body.contains("moved: 2; refused: 1"), "{}", done.body);
    assert_eq!(state_of(&fixture, LEAD_504).await, ApplicantState::Offered);
    assert_eq!(
        state_of(&fixture, SECOND_504).await,
        ApplicantState::Offered
    );
    assert_eq!(
        state_of(&fixture, HOST_505_PART).await,
        ApplicantState::Loaded
    );
    let history = fixture.store().history(LEAD_504).await.unwrap();
    let last = history.last().unwrap();
    assert_eq!(last.detail.as_deref(), Some("effective 2026-12-02"));
    assert!(last.actor.starts_with("alice@example.nhs.uk"));

    let again = post(&app, &me, "/bulk", &fields).await;
    assert!(again.body.contains("duplicate: 3"), "{}", again.body);

    // A changed field (another move) breaks the token: nothing is sent.
    let mut forged = fields.clone();
    for field in forged.iter_mut() {
        if field.0 == "move" {
            field.1 = "withdraw";
        }
    }
    forged.push(("reason", "x"));
    let refused = post(&app, &me, "/bulk", &forged).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(state_of(&fixture, LEAD_504).await, ApplicantState::Offered);

    // The worklist and the search results carry the checkboxes.
    let list = get(
        &app,
        &me,
        "/worklist?section=starting_not_accepted&date=2027-01-25",
    )
    .await;
    assert!(list.body.contains("name=\"applicant\" type=\"checkbox\""));
    let search = get(&app, &me, "/applicants").await;
    assert!(search.body.contains("name=\"applicant\" type=\"checkbox\""));
    let operator_search = get(&app, &operator(), "/applicants").await;
    assert!(!operator_search.body.contains("type=\"checkbox\""));
}

//! The portal's routes in-process (`tower::ServiceExt::oneshot`) on the embedded store for real:
//! a SQLite file and folders in a temporary directory, loaded through the inbound service.

mod support;

// One test binary for the portal: rotation day (sections 10 and 11) is a module of it.
#[path = "routes/rotation_day.rs"]
mod rotation_day;
// The footer's contacts (section 12).
#[path = "routes/contacts.rs"]
mod contacts;
// Local offices' data teams (section 12).
#[path = "routes/local_office.rs"]
mod local_office;
// The reports of section 12.
#[path = "routes/reports.rs"]
mod reports;
// A trust's start page: the coming rotation by state.
#[path = "routes/dashboard.rs"]
mod dashboard;
// The trainee's own view (section 13).
#[path = "routes/trainee.rs"]
mod trainee;

use support::*;

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_page_sends_the_security_headers_and_needs_a_signed_in_identity() {
    let fixture = Fixture::new().await;
    let app = fixture.app();
    for (who, uri) in [
        (Some(trust("504")), "/inbox"),
        (Some(trust("504")), "/applicants"),
        (Some(trust("504")), "/applicants/99999"),
        (Some(operator()), "/operator/files"),
        (None, "/inbox"),
    ] {
        let answer = send(
            &app,
            who.as_ref(),
            Request::get(uri).body(Body::empty()).unwrap(),
        )
        .await;
        let csp = answer
            .headers
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("form-action 'self'"),
            "{uri}"
        );
        assert_eq!(
            answer.headers.get("x-content-type-options").unwrap(),
            "nosniff"
        );
        assert_eq!(
            answer.headers.get("referrer-policy").unwrap(),
            "no-referrer"
        );
        assert_eq!(answer.headers.get("cache-control").unwrap(), "no-store");
        if who.is_none() {
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{uri}");
        }
    }
    // A trust group of a trust not configured here gives no access.
    let stranger = trust("777");
    assert_eq!(
        get(&app, &stranger, "/inbox").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(&app, &stranger, "/applicants").await.status,
        StatusCode::UNAUTHORIZED
    );
    // A trust's start page is its dashboard (tests in routes/dashboard.rs).
    let start = get(&app, &trust("504"), "/").await;
    assert_eq!(start.status, StatusCode::OK);
    assert!(start.body.contains("<h1>The coming rotation</h1>"));
    let start = get(&app, &operator(), "/").await;
    assert_eq!(start.headers.get("location").unwrap(), "/operator/files");
}

#[tokio::test]
async fn the_inbox_lists_the_trusts_items_newest_first_and_marks_what_was_read() {
    let fixture = Fixture::new().await;
    let blobs = fixture.blobs();
    for (key, title) in [
        (
            "trusts/504/notifications/new-starters/2027-01-29.new-starter-reminder.json",
            "Deanery - Jnr. Doctor Starter(s) (504)",
        ),
        (
            "trusts/505/notifications/new-starters/2027-01-30.new-starter-reminder.json",
            "Deanery - Jnr. Doctor Starter(s) (505)",
        ),
    ] {
        let body = serde_json::json!({"title": title, "date_of_notification": "2027-01-29", "starters": [{"Position Number": "100", "Last Name": "Trainee"}]});
        blobs
            .put(
                Area::Outbound,
                key,
                body.to_string().into_bytes(),
                "application/json",
            )
            .await
            .unwrap();
    }
    blobs
        .put(
            Area::Outbound,
            "trusts/504/medrot/DE_KSS_504_MEDROT_DNC_20261121_00000046.xlsx",
            b"PK grid".to_vec(),
            "application/octet-stream",
        )
        .await
        .unwrap();
    let app = fixture.app();
    let inbox = get(&app, &trust("504"), "/inbox").await;
    assert_eq!(inbox.status, StatusCode::OK);
    let reminder = inbox.body.find("2027-01-29.new-starter-reminder").unwrap();
    let notification = inbox
        .body
        .find("DE_KSS_APP_20261121_00000001.deanery-applicant-notification")
        .unwrap();
    let readiness = inbox
        .body
        .find("ESR_504_POS_20261121_00000001.dpn-readiness")
        .unwrap();
    assert!(
        reminder < notification && reminder < readiness,
        "newest first"
    );
    assert!(inbox
        .body
        .contains("/downloads/medrot/DE_KSS_504_MEDROT_DNC_20261121_00000046.xlsx"));
    assert!(inbox.body.contains("29/01/2027"), "dates dd/mm/yyyy");
    assert!(
        !inbox.body.contains("2027-01-30"),
        "another trust's reminder is not listed"
    );
    assert!(inbox.body.contains("4 unread of 4"), "{}", inbox.body);

    let item = get(
        &app,
        &trust("504"),
        "/inbox/notifications/new-starters/2027-01-29.new-starter-reminder",
    )
    .await;
    assert_eq!(item.status, StatusCode::OK);
    assert!(item.body.contains("Deanery - Jnr. Doctor Starter(s) (504)"));
    assert!(item
        .body
        .contains("<th scope=\"col\" class=\"nhsuk-table__header\">Last Name</th>"));
    let inbox = get(&app, &trust("504"), "/inbox").await;
    assert!(inbox.body.contains("3 unread of 4"), "{}", inbox.body);

    // Another trust's notification: 404, exactly like one that does not exist; 505's stays unread.
    let foreign = get(
        &app,
        &trust("504"),
        "/inbox/notifications/new-starters/2027-01-30.new-starter-reminder",
    )
    .await;
    let missing = get(
        &app,
        &trust("504"),
        "/inbox/notifications/new-starters/2031-01-01.new-starter-reminder",
    )
    .await;
    assert_eq!(
        (foreign.status, missing.status),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    assert_eq!(foreign.body, missing.body);
    assert!(fixture.store().read_items("505").await.unwrap().is_empty());
    assert_eq!(
        get(&app, &trust("504"), "/inbox/messages/504-0001")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, &operator(), "/inbox").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn downloads_stream_locally_redirect_in_aws_and_stay_inside_the_trust() {
    let fixture = Fixture::new().await;
    let key = "trusts/504/medrot/DE_KSS_504_MEDROT_DNC_20261121_00000046.xlsx";
    fixture
        .blobs()
        .put(
            Area::Outbound,
            key,
            b"PK grid bytes".to_vec(),
            "application/octet-stream",
        )
        .await
        .unwrap();
    let path = "/downloads/medrot/DE_KSS_504_MEDROT_DNC_20261121_00000046.xlsx";
    let app = fixture.app();
    let streamed = get(&app, &trust("504"), path).await;
    assert_eq!(streamed.status, StatusCode::OK);
    assert_eq!(streamed.body, "PK grid bytes");
    assert!(streamed
        .headers
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap()
        .contains("attachment"));
    assert!(fixture
        .store()
        .read_items("504")
        .await
        .unwrap()
        .contains("medrot/DE_KSS_504_MEDROT_DNC_20261121_00000046.xlsx"));

    let redirected = get(&fixture.portal(Downloads::Redirect), &trust("504"), path).await;
    assert_eq!(redirected.status, StatusCode::FOUND);
    assert!(redirected
        .headers
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .ends_with(key));

    let foreign = get(&app, &trust("505"), path).await;
    let missing = get(
        &app,
        &trust("505"),
        "/downloads/medrot/DE_KSS_505_MEDROT_DNC_20261121_00000099.xlsx",
    )
    .await;
    assert_eq!(
        (foreign.status, missing.status),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    assert_eq!(foreign.body, missing.body);
    for bad in [
        "/downloads/medrot/..%2F..%2F504%2Fmedrot%2Fx.xlsx",
        "/downloads/messages/504-0001.json",
        "/downloads/../504/medrot/x.xlsx",
    ] {
        assert_eq!(
            get(&app, &trust("505"), bad).await.status,
            StatusCode::NOT_FOUND,
            "{bad}"
        );
    }
    let readiness = get(
        &app,
        &trust("504"),
        "/downloads/reports/ESR_504_POS_20261121_00000001.dpn-readiness.xlsx",
    )
    .await;
    assert_eq!(readiness.status, StatusCode::OK);
    assert!(readiness.body.starts_with("PK"), "an .xlsx is a zip");
}

#[tokio::test]
async fn search_finds_the_trusts_applicants_by_each_key_and_state() {
    let fixture = Fixture::new().await;
    let app = fixture.app();
    let find = |q: &str| format!("/applicants?q={q}");
    for query in [
        LEAD_504,
        "7000001",
        "1",
        "test%20trainee",
        "trainee",
        "KSS%2FRJZ01%2F030%2FSTR%2F100",
    ] {
        let page = get(&app, &trust("504"), &find(query)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains(&format!("/applicants/{LEAD_504}\"")),
            "{query}"
        );
        assert!(
            !page
                .body
                .contains(&format!("/applicants/{HOST_505_PART}\"")),
            "{query}: only the trust's own"
        );
    }
    let by_gmc = get(&app, &trust("504"), &find("7000002")).await;
    assert!(
        by_gmc.body.contains(SECOND_504)
            && !by_gmc.body.contains(&format!("/applicants/{LEAD_504}\""))
    );
    assert!(get(&app, &trust("504"), &find(HOST_505_PART))
        .await
        .body
        .contains("0 found"));
    let offered = get(&app, &trust("504"), "/applicants?q=&state=offered").await;
    assert!(offered.body.contains("0 found"));
    let loaded = get(&app, &trust("504"), "/applicants?q=&state=loaded").await;
    assert!(loaded.body.contains("2 found"), "{}", loaded.body);
    assert!(DPN_100.contains("100"));

    // Operators search every trust.
    let everyone = get(&app, &operator(), "/applicants?q=trainee").await;
    assert!(everyone.body.contains("4 found"), "{}", everyone.body);
    assert!(everyone
        .body
        .contains(&format!("/applicants/{HOST_505_PART}\"")));
}

#[tokio::test]
async fn every_value_is_escaped_a_script_in_a_name_or_a_search_is_only_text() {
    let fixture = Fixture::new().await;
    let mut line = app("9", "100", DPN_100, "7000009");
    line = line.replace("Trainee", "<script>alert(1)</script>");
    let report = fixture.env.process_app(2, &[line]).await;
    assert_eq!(report.loaded, 1, "{report:?}");
    let number = fixture.store().applicants_by_gmc("7000009").await.unwrap()[0]
        .applicant_number
        .clone();
    let app = fixture.app();
    for uri in [
        format!("/applicants/{number}"),
        "/applicants?q=7000009".to_string(),
        "/applicants?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E".to_string(),
    ] {
        let page = get(&app, &trust("504"), &uri).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}");
        assert!(!page.body.contains("<script>"), "{uri}: {}", page.body);
        assert!(
            page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
                || page.body.contains("&#60;script&#62;"),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn the_applicant_page_shows_state_position_dates_messages_and_history_and_only_allowed_moves()
{
    let fixture = Fixture::new().await;
    let app = fixture.app();
    let page = get(&app, &trust("504"), &format!("/applicants/{LEAD_504}")).await;
    assert_eq!(page.status, StatusCode::OK);
    for expected in [
        "loaded",
        "7000001",
        "03/02/2027",
        "DE_KSS_APP_20261121_00000001.DAT",
        "No employment checks held",
        "receive",
        "interface",
    ] {
        assert!(page.body.contains(expected), "{expected}");
    }
    // Loaded: offer and withdraw, nothing else.
    assert!(page
        .body
        .contains(&format!("action=\"/applicants/{LEAD_504}/offer\"")));
    assert!(page
        .body
        .contains(&format!("action=\"/applicants/{LEAD_504}/withdraw\"")));
    assert!(!page
        .body
        .contains(&format!("action=\"/applicants/{LEAD_504}/accept\"")));
    assert!(!page
        .body
        .contains(&format!("action=\"/applicants/{LEAD_504}/hire\"")));

    // Another trust's applicant answers exactly like a missing one; so do its move URLs.
    let foreign = get(&app, &trust("505"), &format!("/applicants/{LEAD_504}")).await;
    let missing = get(&app, &trust("505"), "/applicants/9999999").await;
    assert_eq!(
        (foreign.status, missing.status),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    assert_eq!(foreign.body, missing.body);
    assert_eq!(
        get(
            &app,
            &trust("505"),
            &format!("/applicants/{LEAD_504}/offer")
        )
        .await
        .body,
        missing.body
    );

    // Operators read it, with no move forms; their own pages are not a trust's.
    let read_only = get(&app, &operator(), &format!("/applicants/{LEAD_504}")).await;
    assert_eq!(read_only.status, StatusCode::OK);
    assert!(!read_only.body.contains("Moves allowed now"));
    assert_eq!(
        get(&app, &operator(), &format!("/applicants/{LEAD_504}/offer"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post(
            &app,
            &operator(),
            &format!("/applicants/{LEAD_504}/offer"),
            &[]
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_move_goes_through_the_message_path_with_the_signed_in_user_as_actor() {
    let fixture = Fixture::new().await;
    let app = fixture.app();
    let me = trust("504");
    let done = confirm(&app, &me, LEAD_504, "offer", "day=2&month=12&year=2026").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let location = done
        .headers
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(location.starts_with(&format!("/applicants/{LEAD_504}?answer=portal-")));
    assert_eq!(state_of(&fixture, LEAD_504).await, ApplicantState::Offered);

    let history = fixture.store().history(LEAD_504).await.unwrap();
    let entry = history.last().unwrap();
    assert_eq!(entry.command, "offer");
    assert_eq!(entry.actor, "alice@example.nhs.uk (trust 504, portal)");
    assert_eq!(entry.at, moment());
    assert!(entry
        .detail
        .as_deref()
        .unwrap_or_default()
        .contains("effective 2026-12-02"));
    let id = location.rsplit('=').next().unwrap();
    // The trust's answer is written as for a queue message.
    let answer = fixture
        .blobs()
        .get(Area::Outbound, &format!("trusts/504/messages/{id}.json"))
        .await
        .unwrap();
    assert!(answer.is_some());

    let page = get(&app, &me, &location).await;
    assert!(page.body.contains("Done: offer"), "{}", page.body);
    assert!(page
        .body
        .contains("alice@example.nhs.uk (trust 504, portal)"));
    assert!(page
        .body
        .contains(&format!("action=\"/applicants/{LEAD_504}/accept\"")));

    // The same form sent again (a double click) is a duplicate: nothing changes.
    let versions = fixture.store().history(LEAD_504).await.unwrap().len();
    let again = get(&app, &me, &format!("/applicants/{LEAD_504}/accept")).await;
    let (action_id, csrf) = (
        hidden(&again.body, "action_id"),
        hidden(&again.body, "csrf"),
    );
    let form = [("action_id", action_id.as_str()), ("csrf", csrf.as_str())];
    assert_eq!(
        post(&app, &me, &format!("/applicants/{LEAD_504}/accept"), &form)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        post(&app, &me, &format!("/applicants/{LEAD_504}/accept"), &form)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(state_of(&fixture, LEAD_504).await, ApplicantState::Accepted);
    assert_eq!(
        fixture.store().history(LEAD_504).await.unwrap().len(),
        versions + 1
    );

    // Hire (Employee on a Lead Employer post), then the new-starter reminder's applicant is hired.
    let hired = confirm(&app, &me, LEAD_504, "hire", "person_type=Employee").await;
    assert_eq!(hired.status, StatusCode::SEE_OTHER);
    assert_eq!(state_of(&fixture, LEAD_504).await, ApplicantState::Hired);
}

#[tokio::test]
async fn a_refused_move_is_recorded_and_answered_and_a_withdrawal_needs_a_reason() {
    let fixture = Fixture::new().await;
    let app = fixture.app();
    let me = trust("504");
    // Accept is not offered on a loaded applicant; a crafted post still goes through the message
    // path, which refuses it and records the refusal.
    assert_eq!(
        get(&app, &me, &format!("/applicants/{SECOND_504}/accept"))
            .await
            .status,
        StatusCode::CONFLICT
    );
    // The offer page's token is bound to the offer: sign an accept form with the portal's key, as
    // a confirmation page for it would.
    let page = get(&app, &me, &format!("/applicants/{SECOND_504}/offer")).await;
    let action_id = hidden(&page.body, "action_id");
    let csrf = fixture.csrf.token(
        &me,
        &FormScope {
            applicants: &[SECOND_504],
            action: "accept",
            action_id: &action_id,
            fields: &[
                ("person_type", ""),
                ("reason", ""),
                ("effective_date", ""),
                ("checks", ""),
            ],
        },
        moment(),
    );
    let refused = post(
        &app,
        &me,
        &format!("/applicants/{SECOND_504}/accept"),
        &[("action_id", &action_id), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert_eq!(state_of(&fixture, SECOND_504).await, ApplicantState::Loaded);
    let last = fixture
        .store()
        .history(SECOND_504)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert!(matches!(
        last.outcome,
        dit_domain::model::HistoryOutcome::Refused { .. }
    ));
    assert_eq!(last.actor, "alice@example.nhs.uk (trust 504, portal)");
    let shown = get(
        &app,
        &me,
        refused.headers.get("location").unwrap().to_str().unwrap(),
    )
    .await;
    assert!(shown.body.contains("Not done: accept"), "{}", shown.body);

    let no_reason = get(
        &app,
        &me,
        &format!("/applicants/{SECOND_504}/withdraw?reason="),
    )
    .await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);
    assert!(no_reason.body.contains("Enter the reason"));
    assert!(!no_reason.body.contains("name=\"csrf\""));
    let withdrawn = confirm(
        &app,
        &me,
        SECOND_504,
        "withdraw",
        "reason=Declined%20the%20post",
    )
    .await;
    assert_eq!(withdrawn.status, StatusCode::SEE_OTHER);
    assert_eq!(
        state_of(&fixture, SECOND_504).await,
        ApplicantState::Withdrawn
    );
}

#[tokio::test]
async fn a_post_without_the_right_csrf_token_or_for_another_trust_changes_nothing() {
    let fixture = Fixture::new().await;
    let app = fixture.app();
    let me = trust("504");
    let page = get(&app, &me, &format!("/applicants/{LEAD_504}/offer")).await;
    let (action_id, csrf) = (hidden(&page.body, "action_id"), hidden(&page.body, "csrf"));
    let uri = format!("/applicants/{LEAD_504}/offer");
    let before = fixture.store().history(LEAD_504).await.unwrap();
    for form in [
        vec![("action_id", action_id.as_str())],
        vec![("action_id", action_id.as_str()), ("csrf", "00ff")],
        vec![
            ("action_id", "portal-00000000000000000000000000000000"),
            ("csrf", csrf.as_str()),
        ],
    ] {
        assert_eq!(
            post(&app, &me, &uri, &form).await.status,
            StatusCode::BAD_REQUEST
        );
    }
    // Another user of the same trust cannot replay alice's token.
    let bob = Identity::parse_as("trust:504", "bob@example.nhs.uk").unwrap();
    assert_eq!(
        post(
            &app,
            &bob,
            &uri,
            &[("action_id", &action_id), ("csrf", &csrf)]
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    // Trust 505 gets 404, as for a missing applicant, whatever the form holds.
    let foreign = post(
        &app,
        &trust("505"),
        &uri,
        &[("action_id", &action_id), ("csrf", &csrf)],
    )
    .await;
    let missing = post(&app, &trust("505"), "/applicants/9999999/offer", &[]).await;
    assert_eq!(
        (foreign.status, missing.status),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    assert_eq!(foreign.body, missing.body);
    assert_eq!(fixture.store().history(LEAD_504).await.unwrap(), before);
    assert!(fixture
        .blobs()
        .list(Area::Outbound, "trusts/504/messages/")
        .await
        .unwrap()
        .is_empty());
    assert!(fixture
        .blobs()
        .list(Area::Outbound, "trusts/505/messages/")
        .await
        .unwrap()
        .is_empty());
    assert!(fixture
        .blobs()
        .list(Area::Outbound, "operator/messages/")
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_token_for_another_applicant_move_or_fields_or_older_than_30_minutes_is_refused() {
    let fixture = Fixture::new().await;
    let app = fixture.app();
    let me = trust("504");
    let page = get(
        &app,
        &me,
        &format!("/applicants/{LEAD_504}/offer?day=2&month=12&year=2026"),
    )
    .await;
    let (action_id, csrf) = (hidden(&page.body, "action_id"), hidden(&page.body, "csrf"));
    let date = hidden(&page.body, "effective_date");
    assert_eq!(date, "2026-12-02");
    let signed = [
        ("action_id", action_id.as_str()),
        ("csrf", csrf.as_str()),
        ("effective_date", date.as_str()),
    ];
    let before = (
        fixture.store().history(LEAD_504).await.unwrap(),
        fixture.store().history(SECOND_504).await.unwrap(),
    );
    let other_date = [
        ("action_id", action_id.as_str()),
        ("csrf", csrf.as_str()),
        ("effective_date", "2027-01-04"),
    ];
    let no_date = &signed[..2];
    for (uri, form, why) in [
        (
            format!("/applicants/{SECOND_504}/offer"),
            &signed[..],
            "another applicant",
        ),
        (
            format!("/applicants/{LEAD_504}/withdraw"),
            &signed[..],
            "another move",
        ),
        (
            format!("/applicants/{LEAD_504}/offer"),
            &other_date[..],
            "another date",
        ),
        (
            format!("/applicants/{LEAD_504}/offer"),
            no_date,
            "a field dropped",
        ),
    ] {
        let answer = post(&app, &me, &uri, form).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{why}");
        assert!(
            answer
                .body
                .contains("did not come from your portal session"),
            "{why}"
        );
    }
    // 31 minutes later the genuine form is refused as too old.
    fn later() -> DateTime<Utc> {
        moment() + chrono::Duration::minutes(31)
    }
    let late = fixture.portal_at(Downloads::Stream, later);
    let uri = format!("/applicants/{LEAD_504}/offer");
    let expired = post(&late, &me, &uri, &signed).await;
    assert_eq!(expired.status, StatusCode::BAD_REQUEST);
    assert!(
        expired.body.contains("more than 30 minutes old"),
        "{}",
        expired.body
    );
    assert_eq!(
        (
            fixture.store().history(LEAD_504).await.unwrap(),
            fixture.store().history(SECOND_504).await.unwrap(),
        ),
        before
    );
    // Within 30 minutes it holds.
    fn soon() -> DateTime<Utc> {
        moment() + chrono::Duration::minutes(29)
    }
    let done = post(
        &fixture.portal_at(Downloads::Stream, soon),
        &me,
        &uri,
        &signed,
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn opening_an_inbox_item_writes_no_history_and_changes_no_applicant() {
    let fixture = Fixture::new().await;
    let app = fixture.app();
    let me = trust("504");
    let inbox = get(&app, &me, "/inbox").await;
    let id = inbox
        .body
        .split("href=\"/inbox/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("an inbox item")
        .to_string();
    let before = (
        fixture.store().history(LEAD_504).await.unwrap(),
        fixture.store().history(SECOND_504).await.unwrap(),
        fixture.store().applicant(LEAD_504).await.unwrap(),
    );
    let opened = get(&app, &me, &format!("/inbox/{id}")).await;
    assert_eq!(opened.status, StatusCode::OK);
    // The read mark is the only effect of the GET (spec 9.1: a side effect that writes no history).
    assert_eq!(
        (
            fixture.store().history(LEAD_504).await.unwrap(),
            fixture.store().history(SECOND_504).await.unwrap(),
            fixture.store().applicant(LEAD_504).await.unwrap(),
        ),
        before
    );
}

#[tokio::test]
async fn operators_see_files_quarantine_and_sequence_checks_and_trusts_do_not() {
    let fixture = Fixture::new().await;
    let report = fixture
        .env
        .process("DE_KSS_APP_20261121_00000077.DAT", "APP,not a header\n")
        .await;
    assert_eq!(
        report.outcome,
        dit_core::service::report::Outcome::Quarantined
    );
    let check = serde_json::json!({"business_date": "2026-11-21", "gaps": [{"file_type": "APP", "missing": "00000002"}]});
    fixture
        .blobs()
        .put(
            Area::Outbound,
            "operator/schedules/sequence-check/2026-11-21.json",
            check.to_string().into_bytes(),
            "application/json",
        )
        .await
        .unwrap();
    let app = fixture.app();
    let files = get(&app, &operator(), "/operator/files").await;
    assert_eq!(files.status, StatusCode::OK);
    assert!(files.body.contains("DE_KSS_APP_20261121_00000001.DAT"));
    assert!(files.body.contains("ESR_504_POS_20261121_00000001.DAT"));
    let file = get(
        &app,
        &operator(),
        "/operator/files/DE_KSS_APP_20261121_00000001.DAT",
    )
    .await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(file.body.contains("Loaded"));
    let quarantine = get(&app, &operator(), "/operator/quarantine").await;
    assert!(quarantine.body.contains("DE_KSS_APP_20261121_00000077.DAT"));
    assert!(
        quarantine.body.contains("hdr_missing"),
        "{}",
        quarantine.body
    );
    let checks = get(&app, &operator(), "/operator/sequence-check").await;
    assert!(checks.body.contains("/operator/sequence-check/2026-11-21"));
    let check = get(&app, &operator(), "/operator/sequence-check/2026-11-21").await;
    assert!(check.body.contains("00000002"));
    for uri in [
        "/operator/files",
        "/operator/files/DE_KSS_APP_20261121_00000001.DAT",
        "/operator/quarantine",
        "/operator/sequence-check",
        "/operator/sequence-check/2026-11-21",
    ] {
        assert_eq!(
            get(&app, &trust("504"), uri).await.status,
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
    assert_eq!(
        get(&app, &operator(), "/operator/files/..%2Fstate.db")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn rejected_applications_are_found_with_their_messages_by_their_own_trust_only() {
    let fixture = Fixture::new().await;
    let line = app("88", "100", DPN_100, "7000088").replace("Trainee", "");
    let report = fixture.env.process_app(3, &[line]).await;
    assert_eq!(report.rejected, 1, "{report:?}");
    let app = fixture.app();
    for query in ["88", "7000088"] {
        let page = get(&app, &trust("504"), &format!("/applicants?q={query}")).await;
        assert!(
            page.body.contains("Rejected applications: 1"),
            "{query}: {}",
            page.body
        );
        assert!(page.body.contains("LAST_NAME"), "{query}");
        assert!(page
            .body
            .contains("DE_KSS_APP_20261121_00000003.DAT record 1 (line 2)"));
    }
    let loaded_only = get(&app, &trust("504"), "/applicants?q=88&state=loaded").await;
    assert!(!loaded_only.body.contains("Rejected applications"));
    let other_trust = get(&app, &trust("505"), "/applicants?q=88").await;
    assert!(!other_trust.body.contains("Rejected applications"));
    let operator_view = get(&app, &operator(), "/applicants?q=7000088").await;
    assert!(operator_view.body.contains("Rejected applications: 1"));
}

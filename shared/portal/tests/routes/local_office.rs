//! A local office's data team (section 12, `lo-<LO>`): its own files, quarantine, sequence check
//! and the applicants its files loaded, read-only; another office's, and every trust page, 404.

use super::support::*;
use dit_core::service::report::Outcome;
use dit_test_support::applicants::{envelope, DPN_101, ORGANISATIONS};

pub fn local_office(code: &str) -> Identity {
    Identity::parse_as(&format!("local-office:{code}"), "dora@example.nhs.uk").unwrap()
}

/// The fixture, plus what LDN's files brought: an applicant of trust 504 (which takes LDN's
/// files too), a file record and a quarantined file. Returns the LDN applicant's number.
async fn with_ldn_files(fixture: &Fixture) -> String {
    let mut env = fixture.env.clone();
    env.organisations = Arc::new(
        dit_domain::org::Organisations::from_toml(
            &ORGANISATIONS.replace(
                "trac = true",
                "trac = true\naccept_local_offices = [\"LDN\"]",
            ),
            "fixtures",
        )
        .unwrap(),
    );
    let report = env
        .process(
            "DE_LDN_APP_20261121_00000009.DAT",
            &envelope("APP", "LDN", 9, &[app("9", "101", DPN_101, "7000009")]),
        )
        .await;
    assert_eq!(report.loaded, 1, "{report:?}");
    for (name, lo) in [
        ("DE_KSS_APP_20261121_00000077.DAT", "KSS"),
        ("DE_LDN_APP_20261121_00000078.DAT", "LDN"),
    ] {
        let report = env.process(name, "APP,not a header\n").await;
        assert_eq!(report.outcome, Outcome::Quarantined, "{lo}");
    }
    fixture
        .store()
        .trust_applicants("504")
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.local_office == "LDN")
        .expect("the LDN applicant")
        .applicant_number
}

#[tokio::test]
async fn a_local_office_sees_its_own_files_quarantine_and_applicants_read_only() {
    let fixture = Fixture::new().await;
    let ldn_applicant = with_ldn_files(&fixture).await;
    let app = fixture.app();
    let kss = local_office("KSS");

    let start = get(&app, &kss, "/").await;
    assert_eq!(start.headers.get("location").unwrap(), "/operator/files");
    let files = get(&app, &kss, "/operator/files").await;
    assert_eq!(files.status, StatusCode::OK);
    assert!(files.body.contains("Local office KSS"), "{}", files.body);
    assert!(files.body.contains("DE_KSS_APP_20261121_00000001.DAT"));
    // A trust's POS file belongs to its trust's local office.
    assert!(files.body.contains("ESR_504_POS_20261121_00000001.DAT"));
    assert!(!files.body.contains("DE_LDN_APP_20261121_00000009.DAT"));
    let own = get(
        &app,
        &kss,
        "/operator/files/DE_KSS_APP_20261121_00000001.DAT",
    )
    .await;
    assert_eq!(own.status, StatusCode::OK);
    let quarantine = get(&app, &kss, "/operator/quarantine").await;
    assert!(quarantine.body.contains("DE_KSS_APP_20261121_00000077.DAT"));
    assert!(!quarantine.body.contains("DE_LDN_APP_20261121_00000078.DAT"));
    assert_eq!(
        get(&app, &kss, "/operator/sequence-check").await.status,
        StatusCode::OK
    );

    let search = get(&app, &kss, "/applicants").await;
    assert!(search.body.contains(LEAD_504), "{}", search.body);
    assert!(!search.body.contains(&format!(">{ldn_applicant}<")));
    // Read-only: the applicant page has no move forms and no bulk selection on the list.
    let page = get(&app, &kss, &format!("/applicants/{LEAD_504}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains("/applicants/5000001/offer"),
        "{}",
        page.body
    );
    assert!(!search.body.contains("action=\"/bulk\""));

    // The LDN data team sees the other side of the same line.
    let ldn = local_office("LDN");
    let ldn_files = get(&app, &ldn, "/operator/files").await;
    assert!(ldn_files.body.contains("DE_LDN_APP_20261121_00000009.DAT"));
    assert!(!ldn_files.body.contains("DE_KSS_APP_20261121_00000001.DAT"));
    assert_eq!(
        get(&app, &ldn, &format!("/applicants/{ldn_applicant}"))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn another_offices_file_or_applicant_and_every_trust_page_answer_404_like_a_missing_one() {
    let fixture = Fixture::new().await;
    let ldn_applicant = with_ldn_files(&fixture).await;
    let app = fixture.app();
    let kss = local_office("KSS");
    let missing = get(&app, &kss, "/applicants/99999").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    for uri in [
        "/operator/files/DE_LDN_APP_20261121_00000009.DAT".to_string(),
        "/operator/files/DE_KSS_APP_20261121_00000099.DAT".to_string(),
        format!("/applicants/{ldn_applicant}"),
        format!("/applicants/{LEAD_504}/offer"),
        "/inbox".to_string(),
        "/inbox/notifications/x.json".to_string(),
        "/worklist".to_string(),
        "/bulk".to_string(),
        "/downloads/trusts/504/medrot/x.xlsx".to_string(),
    ] {
        let answer = get(&app, &kss, &uri).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(answer.body, missing.body, "{uri}");
    }
    // No move is made, whatever is posted.
    let before = state_of(&fixture, LEAD_504).await;
    let posted = post(
        &app,
        &kss,
        &format!("/applicants/{LEAD_504}/offer"),
        &[("action_id", "x"), ("csrf", "x")],
    )
    .await;
    assert_eq!(posted.status, StatusCode::NOT_FOUND);
    assert_eq!(state_of(&fixture, LEAD_504).await, before);
    // Searching by its number finds nothing either.
    let search = get(&app, &kss, &format!("/applicants?q={ldn_applicant}")).await;
    assert!(!search
        .body
        .contains(&format!("/applicants/{ldn_applicant}")));
    let search = get(&app, &kss, "/applicants?q=7000009").await;
    assert!(!search
        .body
        .contains(&format!("/applicants/{ldn_applicant}")));
}

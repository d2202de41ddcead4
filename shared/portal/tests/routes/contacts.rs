//! The footer names contacts (section 12): on a trust's pages its local office's, on the operator
//! pages each trust's (its own, else its local office's); none where none is configured.

use super::support::*;
use dit_domain::org::Organisations;
use dit_test_support::applicants::ORGANISATIONS;

const KSS: &str = r#"
[[local_office]]
code = "KSS"
name = "Kent, Surrey and Sussex"
alert_emails = ["kss.data@example.nhs.uk"]
contact = { name = "KSS TIS support", email = "kss.tis@example.nhs.uk", phone = "01234 567890" }
"#;

const KSS_LINE: &str = "KSS TIS support, kss.tis@example.nhs.uk, 01234 567890";

fn with_contacts() -> Organisations {
    let own = ORGANISATIONS.replace(
        "name = \"Part Records NHS Trust\"\n",
        "name = \"Part Records NHS Trust\"\ncontact = { name = \"505 rota\", email = \"rota@505.example.nhs.uk\" }\n",
    );
    Organisations::from_toml(&format!("{own}{KSS}"), "fixtures").unwrap()
}

#[tokio::test]
async fn the_footer_names_the_local_office_contact_to_a_trust_and_each_trusts_to_operators() {
    let fixture = Fixture::new().await;
    let app = fixture.portal_with(Downloads::Stream, moment, with_contacts());
    let trust_line =
        format!("<li>Questions about this file: {KSS_LINE} (Kent, Surrey and Sussex)</li>");
    for uri in ["/inbox", "/worklist", "/applicants"] {
        let page = get(&app, &trust("504"), uri).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}");
        let footer = page.body.split("<footer").nth(1).unwrap();
        assert!(footer.contains(&trust_line), "{uri}: {footer}");
    }
    // A trust's own contact is for the operators; the trust's pages name its local office's.
    let page = get(&app, &trust("505"), "/inbox").await;
    assert!(page.body.contains(&trust_line), "{}", page.body);
    assert!(!page.body.contains("rota@505"), "{}", page.body);

    for uri in [
        "/operator/files",
        "/operator/quarantine",
        "/operator/sequence-check",
    ] {
        let page = get(&app, &operator(), uri).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}");
        let footer = page.body.split("<footer").nth(1).unwrap();
        for line in [
            format!("<li>504 Lead Hospital NHS Trust: {KSS_LINE} (local office KSS)</li>"),
            "<li>505 Part Records NHS Trust: 505 rota, rota@505.example.nhs.uk</li>".to_string(),
        ] {
            assert!(footer.contains(&line), "{uri}: {line} not in {footer}");
        }
    }

    // No contact configured: the footer is as it was.
    let plain = fixture.app();
    for (who, uri) in [(trust("504"), "/inbox"), (operator(), "/operator/files")] {
        let page = get(&plain, &who, uri).await;
        let footer = page.body.split("<footer").nth(1).unwrap();
        assert!(!footer.contains("Contacts"), "{footer}");
        assert!(
            footer.contains("dd/mm/yyyy.</p>\n    </div>\n  </footer>"),
            "{footer}"
        );
    }
}

/// An APP line for GMC `gmc` at position 200 (trust 505) with every personal detail the
/// trainee's page shows.
fn full_app_line(gmc: &str) -> String {
    use dit_test_support::applicants::{app, with_fields, DPN_200};
    with_fields(
        &app("77", "200", DPN_200, gmc),
        &[
            ("TITLE", "Dr"),
            ("MIDDLE_NAMES", "Quinn"),
            ("EMAIL_ADDRESS", "quinn.trainee@example.nhs.uk"),
            ("HOME_TEL", "01632 960001"),
            ("MOBILE_TEL", "07700 900002"),
            ("ADDRESS_LINE_1", "2 Sample Road"),
            ("TOWN", "Exampleton"),
            ("POSTCODE", "EX2 2BB"),
            ("PROJECTED_END_DATE", "2027-08-03"),
            ("GRADE", "F2"),
        ],
    )
}

#[tokio::test]
async fn a_trainees_placement_shows_every_detail_held_and_the_trusts_and_local_offices_contacts() {
    let fixture = Fixture::new().await;
    let gmc = "7000077";
    let report = fixture.env.process_app(2, &[full_app_line(gmc)]).await;
    assert_eq!(report.loaded, 1, "{report:?}");
    let number = fixture.store().applicants_by_gmc(gmc).await.unwrap()[0]
        .applicant_number
        .clone();
    let app = fixture.portal_with(Downloads::Stream, moment, with_contacts());
    let me = Identity::parse_as(&format!("trainee:{gmc}"), "trainee-sub-77").unwrap();
    let page = get(&app, &me, &format!("/my/placements/{number}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let value = |text: &str| format!("<dd class=\"nhsuk-summary-list__value\">{text}</dd>");
    for shown in [
        value("Part Records NHS Trust"),
        value("200"),
        value("Site"),
        value("F2"),
        value("03/02/2027"),
        value("03/08/2027"),
        value("loaded"),
        value("Dr Test Quinn Trainee"),
        value("31/01/1990"),
        value("2 Sample Road, Exampleton, EX2 2BB"),
        value("quinn.trainee@example.nhs.uk"),
        value("01632 960001"),
        value("07700 900002"),
        // The trust's own contact, then the local office's that sent the file.
        "Part Records NHS Trust (medical staffing): 505 rota, rota@505.example.nhs.uk".to_string(),
        format!("Kent, Surrey and Sussex (local office): {KSS_LINE}"),
    ] {
        assert!(page.body.contains(&shown), "{shown} not on {}", page.body);
    }
    assert!(page.body.contains(">Specialty<"), "{}", page.body);
}

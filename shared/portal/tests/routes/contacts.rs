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

//! The portal Lambda in-process: every sample API Gateway event of `events/portal/` read by
//! lambda_http (as the runtime reads it) and answered by the function's router, over the sample
//! files processed into the embedded store. The identity comes only from the JWT claims.

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{TimeZone, Utc};
use tower::ServiceExt;

use dit_portal::assets::Assets;
use dit_portal::csrf::CsrfKey;
use dit_portal::{Downloads, Portal};
use dit_test_support::samples::{embedded_ports, process_samples_into, repo};

struct Answered {
    status: StatusCode,
    location: Option<String>,
    csp: bool,
    body: String,
}

async fn portal(dir: &std::path::Path) -> axum::Router {
    let ports = embedded_ports(dir);
    let now = Utc.with_ymd_and_hms(2026, 11, 21, 14, 0, 0).unwrap();
    process_samples_into(&ports, now, None).await;
    let portal = Portal::new(
        ports,
        CsrfKey::from_secret(&[9u8; 32]).unwrap(),
        Downloads::Redirect,
        Assets::none(),
    );
    portal::app(Arc::new(portal))
}

async fn invoke(app: &axum::Router, name: &str) -> Answered {
    let text = std::fs::read_to_string(repo().join("events/portal").join(name)).unwrap();
    let request = lambda_http::request::from_str(&text)
        .unwrap_or_else(|e| panic!("{name} is not an event lambda_http reads: {e}"));
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    let csp = response.headers().contains_key("content-security-policy");
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Answered {
        status,
        location,
        csp,
        body: String::from_utf8_lossy(&bytes).to_string(),
    }
}

#[tokio::test]
async fn every_sample_event_is_answered_by_the_identity_its_token_gives() {
    let dir = tempfile::tempdir().unwrap();
    let app = portal(dir.path()).await;
    let mut names: Vec<String> = std::fs::read_dir(repo().join("events/portal"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    let expected = [
        ("applicant-of-504-as-trust-505.json", StatusCode::NOT_FOUND),
        ("applicant-trust-504.json", StatusCode::OK),
        ("inbox-trust-504.json", StatusCode::OK),
        ("medrot-download-trust-504.json", StatusCode::FOUND),
        ("no-claims.json", StatusCode::UNAUTHORIZED),
        ("no-portal-group.json", StatusCode::UNAUTHORIZED),
        ("offer-confirmation-trust-504.json", StatusCode::OK),
        (
            "offer-without-csrf-token-trust-504.json",
            StatusCode::BAD_REQUEST,
        ),
        ("operator-files.json", StatusCode::OK),
        ("search-by-gmc-trust-504.json", StatusCode::OK),
        ("trainee-asks-for-the-inbox.json", StatusCode::NOT_FOUND),
        ("trainee-placements.json", StatusCode::OK),
        ("trainee-without-gmc-number.json", StatusCode::UNAUTHORIZED),
        ("two-trust-groups.json", StatusCode::UNAUTHORIZED),
    ];
    assert_eq!(
        names,
        expected
            .iter()
            .map(|(n, _)| n.to_string())
            .collect::<Vec<_>>(),
        "every sample has an expectation"
    );
    for (name, status) in expected {
        let answered = invoke(&app, name).await;
        assert_eq!(answered.status, status, "{name}: {}", answered.body);
        assert!(answered.csp, "{name}: security headers");
    }

    let inbox = invoke(&app, "inbox-trust-504.json").await;
    assert!(inbox.body.contains("Signed in: Trust 504"));
    assert!(inbox.body.contains("medical-rotation"));
    let found = invoke(&app, "search-by-gmc-trust-504.json").await;
    assert!(
        found.body.contains("/applicants/5000001\""),
        "{}",
        found.body
    );
    let confirmation = invoke(&app, "offer-confirmation-trust-504.json").await;
    assert!(confirmation.body.contains("name=\"csrf\""));
    assert!(confirmation.body.contains("02/12/2026"));
    // The MEDROT is a 302 to a link minted now (locally the file's path; in AWS a presigned URL).
    let download = invoke(&app, "medrot-download-trust-504.json").await;
    assert!(download
        .location
        .unwrap()
        .ends_with("trusts/504/medrot/DE_KSS_504_MEDROT_DNC_20261121_00000046.xlsx"));
    // Another trust's applicant: the same page as a missing one.
    let foreign = invoke(&app, "applicant-of-504-as-trust-505.json").await;
    assert!(foreign.body.contains("Page not found"));
    assert!(!foreign.body.contains("5000001"));
    // A trainee: their placements only, by the token's administrator-set GMC number.
    let trainee = invoke(&app, "trainee-placements.json").await;
    assert!(trainee.body.contains("Your placements"), "{}", trainee.body);
    assert!(
        trainee.body.contains("/my/placements/5000001\""),
        "{}",
        trainee.body
    );
    // A token whose groups name no portal identity signs no one in.
    let stranger = invoke(&app, "no-portal-group.json").await;
    assert!(stranger.body.contains("Sign in"));
}

#[test]
fn the_identity_comes_from_the_claims_only() {
    for (name, identity) in [
        ("inbox-trust-504.json", Some("Trust 504")),
        ("operator-files.json", Some("Operator")),
        ("no-portal-group.json", None),
        ("trainee-placements.json", Some("Doctor in training")),
        ("trainee-without-gmc-number.json", None),
        ("two-trust-groups.json", None),
        ("no-claims.json", None),
    ] {
        let text = std::fs::read_to_string(repo().join("events/portal").join(name)).unwrap();
        let request = lambda_http::request::from_str(&text).unwrap();
        let found = portal::identity(request.extensions().get());
        assert_eq!(found.map(|i| i.describe()).as_deref(), identity, "{name}");
    }
    // The user recorded as actor is the token's e-mail.
    let text = std::fs::read_to_string(repo().join("events/portal/inbox-trust-504.json")).unwrap();
    let actor = |text: &str| {
        let request = lambda_http::request::from_str(text).unwrap();
        portal::identity(request.extensions().get())
            .unwrap()
            .actor()
    };
    assert_eq!(actor(&text), "mso.504@example.nhs.uk (trust 504, portal)");
    // An e-mail the token does not call verified never names the actor: the user pool's user name.
    let unverified = text.replace(
        r#""email_verified": "true""#,
        r#""email_verified": "false""#,
    );
    assert_ne!(unverified, text);
    assert_eq!(
        actor(&unverified),
        "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b (trust 504, portal)"
    );
}

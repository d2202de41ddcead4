//! What the portal's route tests share: a data directory with the fixture applicants, the
//! portal over it, identities, and requests as a browser sends them.
#![allow(dead_code, unused_imports)]

pub use std::sync::Arc;

pub use axum::body::Body;
pub use axum::http::{header, HeaderMap, Request, StatusCode};
pub use axum::Router;
pub use chrono::{DateTime, TimeZone, Utc};
pub use tower::ServiceExt;

pub use dit_core::ports::{Area, BlobStore, StateStore};
pub use dit_core::service::context::{Ports, Settings};
pub use dit_domain::lifecycle::ApplicantState;
pub use dit_embedded::folders::FolderBlobs;
pub use dit_embedded::sqlite::SqliteStore;
pub use dit_portal::assets::Assets;
pub use dit_portal::csrf::{CsrfKey, FormScope};
pub use dit_portal::identity::Identity;
pub use dit_portal::{Downloads, Portal};
pub use dit_test_support::applicants::{
    app, organisations, Env, DPN_100, HOST_505_PART, LEAD_504, SECOND_504,
};

pub fn moment() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 30, 0).unwrap()
}

/// A data directory with the fixture applicants (504: 5000001, 5000002; 505: 5000003; 506:
/// 5000004), and the portal over it.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub env: Env,
    pub csrf: CsrfKey,
}

impl Fixture {
    pub async fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let env = Env::new(
            Arc::new(SqliteStore::open(&dir.path().join("state.db")).unwrap()),
            Arc::new(FolderBlobs::new(dir.path())),
        );
        env.load().await;
        Fixture {
            dir,
            env,
            csrf: CsrfKey::from_secret(&[42u8; 32]).unwrap(),
        }
    }

    pub fn portal(&self, downloads: Downloads) -> Router {
        self.portal_at(downloads, moment)
    }

    /// The portal with its clock at `clock` (a form's token holds 30 minutes).
    pub fn portal_at(&self, downloads: Downloads, clock: fn() -> DateTime<Utc>) -> Router {
        self.portal_with(downloads, clock, organisations())
    }

    /// The portal over another organisation configuration (the same trusts, say, with contacts).
    pub fn portal_with(
        &self,
        downloads: Downloads,
        clock: fn() -> DateTime<Utc>,
        organisations: dit_domain::org::Organisations,
    ) -> Router {
        let ports = Ports {
            store: Box::new(SqliteStore::open(&self.dir.path().join("state.db")).unwrap()),
            blobs: Box::new(FolderBlobs::new(self.dir.path())),
            mailer: Box::new(dit_core::ports::NoMailer),
            organisations,
            settings: Settings::default(),
        };
        let mut portal = Portal::new(ports, self.csrf.clone(), downloads, Assets::none());
        portal.clock = clock;
        dit_portal::router(Arc::new(portal))
    }

    pub fn app(&self) -> Router {
        self.portal(Downloads::Stream)
    }

    pub fn store(&self) -> &dyn StateStore {
        self.env.store.as_ref()
    }

    pub fn blobs(&self) -> &dyn BlobStore {
        self.env.blobs.as_ref()
    }
}

pub fn trust(vpd: &str) -> Identity {
    Identity::parse_as(&format!("trust:{vpd}"), "alice@example.nhs.uk").unwrap()
}

pub fn operator() -> Identity {
    Identity::parse_as("operator", "oscar@example.nhs.uk").unwrap()
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

pub async fn send(app: &Router, who: Option<&Identity>, request: Request<Body>) -> Answer {
    let mut request = request;
    if let Some(identity) = who {
        request.extensions_mut().insert(identity.clone());
    }
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).to_string(),
    }
}

pub async fn get(app: &Router, who: &Identity, uri: &str) -> Answer {
    send(
        app,
        Some(who),
        Request::get(uri).body(Body::empty()).unwrap(),
    )
    .await
}

pub async fn post(app: &Router, who: &Identity, uri: &str, form: &[(&str, &str)]) -> Answer {
    let body = form
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&");
    let request = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    send(app, Some(who), request).await
}

/// The value of a hidden input on a page.
pub fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {page}"))
        + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

/// Opens the confirmation page of a move and confirms it, as a browser would.
pub async fn confirm(
    app: &Router,
    who: &Identity,
    number: &str,
    action: &str,
    query: &str,
) -> Answer {
    let page = get(app, who, &format!("/applicants/{number}/{action}?{query}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let fields: Vec<(String, String)> = [
        "action_id",
        "csrf",
        "person_type",
        "reason",
        "effective_date",
    ]
    .iter()
    .map(|n| (n.to_string(), hidden(&page.body, n)))
    .collect();
    let mut fields = fields;
    // Only the record_checks confirmation carries its checks (JSON, unescaped as a browser would).
    if page.body.contains("name=\"checks\"") {
        let value = hidden(&page.body, "checks")
            .replace("&#34;", "\"")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&");
        fields.push(("checks".to_string(), value));
    }
    let form: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    post(app, who, &format!("/applicants/{number}/{action}"), &form).await
}

pub async fn state_of(fixture: &Fixture, number: &str) -> ApplicantState {
    fixture
        .store()
        .applicant(number)
        .await
        .unwrap()
        .unwrap()
        .state
}

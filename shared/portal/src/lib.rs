//! The web portal of section 9: server-rendered pages (no JavaScript needed) for a trust's medical
//! staffing team (inbox, applicant search, applicant pages with the moves allowed now) and for
//! operators (files, quarantine, sequence check, search across trusts, read-only applicant pages).
//!
//! One axum [`Router`] serves both entry points: `functions/portal` (Lambda behind API Gateway,
//! identity from the Cognito token's groups) and `dit serve` (127.0.0.1, identity from `--as`).
//! The entry point puts the signed-in [`Identity`] into each request's extensions; every route
//! checks it. Moves go through [`dit_core::service::messages::handle_portal_action`], the path of
//! a trust message, with the signed-in user as the history's actor.

pub mod assets;
pub mod csrf;
pub mod identity;

mod applicants;
mod downloads;
mod format;
mod inbox;
mod operator;
mod pages;
mod render;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::{HeaderName, HeaderValue};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};

use dit_core::ports::{BlobError, StoreError};
use dit_core::service::context::{Context, Ports};

pub use assets::Assets;
pub use csrf::CsrfKey;
pub use identity::{Identity, Role};

/// How a download reaches the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Downloads {
    /// `302` to a link the blob store mints at the click (an S3 presigned URL valid for
    /// [`downloads::LINK_SECONDS`]): AWS.
    Redirect,
    /// The bytes, streamed through the portal: locally, where the "bucket" is a folder.
    Stream,
}

/// Everything the portal runs with, built once per Lambda instance or `dit serve`.
pub struct Portal {
    pub ports: Ports,
    pub csrf: CsrfKey,
    pub downloads: Downloads,
    pub assets: Assets,
    /// The moment a move is made (the clock in production; fixed in tests).
    pub clock: fn() -> DateTime<Utc>,
}

impl Portal {
    pub fn new(ports: Ports, csrf: CsrfKey, downloads: Downloads, assets: Assets) -> Portal {
        Portal {
            ports,
            csrf,
            downloads,
            assets,
            clock: Utc::now,
        }
    }

    fn context(&self) -> Context<'_> {
        self.ports.context((self.clock)())
    }
}

pub type Shared = Arc<Portal>;

/// The portal's routes, with the security headers on every response.
pub fn router(portal: Arc<Portal>) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/inbox", get(inbox::list))
        .route("/inbox/{*item}", get(inbox::show))
        .route("/downloads/{*path}", get(downloads::download))
        .route("/applicants", get(applicants::search::search))
        .route("/applicants/{number}", get(applicants::page::show))
        .route(
            "/applicants/{number}/{action}",
            get(applicants::moves::confirm).post(applicants::moves::act),
        )
        .route("/operator/files", get(operator::files))
        .route("/operator/files/{name}", get(operator::file))
        .route("/operator/quarantine", get(operator::quarantine))
        .route("/operator/sequence-check", get(operator::sequence_checks))
        .route(
            "/operator/sequence-check/{date}",
            get(operator::sequence_check),
        )
        .route("/assets/{*path}", get(assets::serve))
        .fallback(pages::not_found)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(portal)
}

/// The Content-Security-Policy: nothing but the portal's own styles and images, forms posting
/// back to the portal, no framing, no scripts at all. The stylesheet's Frutiger font lives on a
/// third-party CDN and is not fetched (no request leaves the portal's origin): text is in Arial,
/// the NHS.UK fallback.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
    ] {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    // Pages hold personal data: no shared or browser cache keeps them (the styles may be cached).
    headers
        .entry(axum::http::header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// Why a page is not shown.
#[derive(Debug)]
pub enum PageError {
    /// No identity, or one the portal does not know.
    Unauthorized,
    /// Missing, or another trust's: the same answer either way.
    NotFound,
    /// A form that cannot be acted on (bad CSRF token, bad field): nothing changed.
    BadRequest(String),
    /// The move is not allowed from the applicant's state now: nothing changed.
    Conflict(String),
    /// The store or bucket failed: try again.
    Unavailable(String),
}

impl From<StoreError> for PageError {
    fn from(err: StoreError) -> Self {
        PageError::Unavailable(err.to_string())
    }
}

impl From<BlobError> for PageError {
    fn from(err: BlobError) -> Self {
        PageError::Unavailable(err.to_string())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, detail) = match self {
            PageError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "Sign in to use the portal",
                "You are not signed in as a member of a trust's medical staffing team or as an operator.".to_string(),
            ),
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "If you typed the web address, check it is correct. If you followed a link, the item may no longer exist.".to_string(),
            ),
            PageError::BadRequest(reason) => (StatusCode::BAD_REQUEST, "Nothing was changed", reason),
            PageError::Conflict(reason) => (StatusCode::CONFLICT, "Nothing was changed", reason),
            PageError::Unavailable(reason) => {
                tracing::warn!(reason = %reason, "portal page failed");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Sorry, there is a problem with the service",
                    "Try again later.".to_string(),
                )
            }
        };
        (status, pages::error_page(title, &detail)).into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Identity {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Identity>()
            .cloned()
            .ok_or(PageError::Unauthorized)
    }
}

/// The identity of a trust configured here (an unknown trust's group gives no access).
fn trust_of<'i>(portal: &Portal, identity: &'i Identity) -> Result<&'i str, PageError> {
    match identity.vpd() {
        Some(vpd) if portal.ports.organisations.get(vpd).is_some() => Ok(vpd),
        Some(_) => Err(PageError::Unauthorized),
        None => Err(PageError::NotFound),
    }
}

/// Where `/` leads.
fn start_page(identity: &Identity) -> Redirect {
    if identity.is_operator() {
        Redirect::to("/operator/files")
    } else {
        Redirect::to("/inbox")
    }
}

type Page = Result<Response, PageError>;

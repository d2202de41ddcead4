//! The web portal of section 9: server-rendered pages (no JavaScript needed) for a trust's medical
//! staffing team (inbox, applicant search, applicant pages with the moves allowed now) and for
//! operators (files, quarantine, sequence check, search across trusts, read-only applicant pages),
//! narrowed to one local office for its data team; the reports of section 12 for all three; and
//! a doctor in training's own placements (section 13, the `trainee` module).
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
mod bulk;
mod chrome;
mod dashboard;
mod downloads;
mod error;
mod format;
mod inbox;
mod operator;
mod pages;
mod render;
mod reports;
mod state;
mod trainee;
mod worklist;

use std::sync::Arc;

use axum::http::header::{HeaderName, HeaderValue};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

pub use state::{Downloads, Portal};

/// The portal's routes, with the security headers on every response.
pub fn router(portal: Arc<Portal>) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/inbox", get(inbox::list))
        .route("/inbox/{*item}", get(inbox::show))
        .route("/downloads/{*path}", get(downloads::download))
        .route("/worklist", get(worklist::show))
        .route("/bulk", get(bulk::confirm).post(bulk::act))
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
        .route("/reports", get(reports::index))
        .route("/reports/notice", get(reports::notice))
        .route("/reports/notice.csv", get(reports::notice_download))
        .route("/reports/states", get(reports::states))
        .route("/reports/states.csv", get(reports::states_download))
        .route("/reports/exceptions", get(reports::exceptions))
        .route("/reports/exceptions.csv", get(reports::exceptions_download))
        .route("/assets/{*path}", get(pages::asset))
        .route("/my/placements/{number}", get(trainee::placement))
        .route("/my/placements/{number}/report", post(trainee::report))
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn(trainee::only_trainee_pages))
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

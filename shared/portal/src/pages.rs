//! The start page, the error pages and the fallback.

use axum::extract::{Path, State};
use axum::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::{Page, PageError};
use crate::identity::Identity;
use crate::state::Shared;

pub async fn home(identity: Identity) -> Response {
    start_page(&identity).into_response()
}

/// Unknown paths: 404 for a signed-in person, 401 otherwise (nothing about the portal's routes is
/// told to someone not signed in).
pub async fn not_found(identity: Option<axum::Extension<Identity>>) -> PageError {
    match identity {
        Some(_) => PageError::NotFound,
        None => PageError::Unauthorized,
    }
}

/// Where `/` leads.
fn start_page(identity: &Identity) -> Redirect {
    if identity.sees_operator_pages() {
        Redirect::to("/operator/files")
    } else {
        Redirect::to("/inbox")
    }
}

/// The NHS.UK frontend files under `/assets/`, to signed-in people only.
pub async fn asset(
    State(portal): State<Shared>,
    _signed_in: Identity,
    Path(path): Path<String>,
) -> Page {
    let (kind, bytes) = portal.assets.files.get(&path).ok_or(PageError::NotFound)?;
    Ok((
        [
            (CONTENT_TYPE, HeaderValue::from_static(kind)),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        bytes.clone(),
    )
        .into_response())
}

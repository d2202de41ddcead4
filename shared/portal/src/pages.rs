//! The start page (a trust's dashboard, [`crate::dashboard`]; the operator pages' first for the
//! others), the error pages and the fallback.

use axum::extract::{Path, State};
use axum::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::{Page, PageError};
use crate::identity::Identity;
use crate::state::Shared;

pub async fn home(State(portal): State<Shared>, identity: Identity) -> Response {
    if identity.trainee_gmc().is_some() {
        return crate::trainee::placements(&portal, &identity)
            .await
            .into_response();
    }
    if identity.vpd().is_some() {
        return crate::dashboard::show(&portal, &identity)
            .await
            .into_response();
    }
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

/// Where `/` leads those who have no dashboard.
fn start_page(identity: &Identity) -> Result<Redirect, PageError> {
    if identity.sees_operator_pages() {
        Ok(Redirect::to("/operator/files"))
    } else {
        Err(PageError::NotFound)
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

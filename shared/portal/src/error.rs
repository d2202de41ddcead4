//! Why a page is not shown, and the page that says so.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use dit_core::ports::{BlobError, StoreError};

use crate::chrome::Chrome;

pub type Page = Result<Response, PageError>;

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
                "You are not signed in as a member of a trust's medical staffing team, a local office's data team or as an operator.".to_string(),
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
        (status, error_page(title, &detail)).into_response()
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    title: &'a str,
    detail: &'a str,
}

/// An error page (no menu: it may be shown before anyone is known).
pub fn error_page(title: &str, detail: &str) -> Html<String> {
    let page = ErrorPage {
        chrome: Chrome::anonymous(),
        title,
        detail,
    };
    Html(page.render().unwrap_or_else(|_| title.to_string()))
}

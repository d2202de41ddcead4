//! The start page, the error pages and the fallback.

use askama::Template;
use axum::response::{Html, IntoResponse, Response};

use crate::identity::Identity;
use crate::render::Chrome;
use crate::{start_page, PageError};

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

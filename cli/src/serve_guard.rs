//! What stands in front of `dit serve`'s pages (issue 22, item 2): loopback binding alone lets any
//! local user, or a web page that rebinds its DNS name to 127.0.0.1, read every page. So:
//!
//! - only a request whose `Host` is `127.0.0.1:<port>` or `localhost:<port>` is answered (another
//!   `Host` is `421`, none at all `400`): a rebound name never reaches the pages;
//! - a per-run secret: `serve` prints a sign-in URL carrying a one-time token; visiting it sets an
//!   `HttpOnly`, `SameSite=Strict` session cookie (a second random value) and redirects to `/`;
//!   any other request without that cookie is `401`.
//!
//! The token works once: a copy of the printed URL found later signs no one in. The cookie is
//! named after the port, as browsers share cookies between the ports of one host.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The path of the sign-in URL.
pub const SIGN_IN_PATH: &str = "/sign-in";

/// The per-run secrets of one `dit serve`.
pub struct Guard {
    port: u16,
    sign_in_token: String,
    session: String,
    used: AtomicBool,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Guard(port {}, ..)", self.port)
    }
}

impl Guard {
    /// Fresh random secrets for a server listening on `port` (the bound one, after `--port 0`).
    ///
    /// # Errors
    /// The operating system has no randomness to give.
    pub fn new(port: u16) -> Result<Guard, String> {
        Ok(Guard {
            port,
            sign_in_token: random_hex()?,
            session: random_hex()?,
            used: AtomicBool::new(false),
        })
    }

    /// The URL that signs the browser in (once).
    pub fn sign_in_url(&self) -> String {
        format!(
            "http://127.0.0.1:{}{SIGN_IN_PATH}?token={}",
            self.port, self.sign_in_token
        )
    }

    fn cookie_name(&self) -> String {
        format!("dit_session_{}", self.port)
    }

    fn host_is_ours(&self, host: &str) -> bool {
        let port = self.port.to_string();
        ["127.0.0.1", "localhost"].iter().any(|name| {
            host.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(':'))
                .is_some_and(|p| p == port)
        })
    }

    fn has_session(&self, request: &Request) -> bool {
        let name = self.cookie_name();
        request
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(k, v)| k == name && same(v, &self.session))
    }

    fn sign_in(&self, query: Option<&str>) -> Response {
        let token = query
            .unwrap_or_default()
            .split('&')
            .find_map(|pair| pair.strip_prefix("token="));
        let valid = token.is_some_and(|t| same(t, &self.sign_in_token));
        // Only the first valid visit signs in: the token is spent even if the browser drops it.
        if !valid || self.used.swap(true, Ordering::SeqCst) {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "This sign-in link is not valid, or was already used. Restart `dit serve` for a new one.",
            );
        }
        let cookie = format!(
            "{}={}; Path=/; HttpOnly; SameSite=Strict",
            self.cookie_name(),
            self.session
        );
        let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
        no_store(response)
    }
}

/// The middleware: Host first, then the sign-in URL, then the session cookie.
pub async fn check(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    match host {
        None => return refuse(StatusCode::BAD_REQUEST, "The request names no Host."),
        Some(host) if !guard.host_is_ours(&host) => {
            return refuse(
                StatusCode::MISDIRECTED_REQUEST,
                "This server answers only http://127.0.0.1:<port>/ and http://localhost:<port>/.",
            )
        }
        Some(_) => {}
    }
    if request.uri().path() == SIGN_IN_PATH {
        return guard.sign_in(request.uri().query());
    }
    if !guard.has_session(&request) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "Not signed in: open the sign-in link `dit serve` printed.",
        );
    }
    next.run(request).await
}

fn refuse(status: StatusCode, message: &'static str) -> Response {
    no_store((status, message).into_response())
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Equal, in a time that does not depend on where the strings differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn random_hex() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no random secret: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    use axum::body::Body;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    fn app(guard: Arc<Guard>) -> Router {
        Router::new()
            .route("/", get(|| async { "the inbox" }))
            .layer(axum::middleware::from_fn_with_state(guard, check))
    }

    async fn send(app: &Router, host: Option<&str>, uri: &str, cookie: Option<&str>) -> Response {
        let mut request = Request::builder().uri(uri);
        if let Some(host) = host {
            request = request.header(header::HOST, host);
        }
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        app.clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    fn token_of(url: &str) -> &str {
        url.split("token=").nth(1).unwrap()
    }

    /// The sign-in link `url` visited with `host`.
    async fn visit(app: &Router, host: Option<&str>, url: &str) -> Response {
        send(
            app,
            host,
            &format!("/sign-in?token={}", token_of(url)),
            None,
        )
        .await
    }

    #[tokio::test]
    async fn a_foreign_host_is_refused_before_anything_else() {
        let guard = Arc::new(Guard::new(8080).unwrap());
        let url = guard.sign_in_url();
        let app = app(guard);
        for host in [
            "evil.example:8080",
            "127.0.0.1:8081",
            "127.0.0.1",
            "localhost.evil.example:8080",
            "127.0.0.1:8080.evil.example",
        ] {
            let answer = visit(&app, Some(host), &url).await;
            assert_eq!(answer.status(), StatusCode::MISDIRECTED_REQUEST, "{host}");
            assert!(answer.headers().get(header::SET_COOKIE).is_none());
        }
        assert_eq!(
            send(&app, None, "/", None).await.status(),
            StatusCode::BAD_REQUEST
        );
        // The token was not spent by the refused requests.
        let answer = visit(&app, Some("localhost:8080"), &url).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    }

    #[tokio::test]
    async fn without_the_session_cookie_every_page_is_401_and_the_sign_in_link_works_once() {
        let guard = Arc::new(Guard::new(8080).unwrap());
        let url = guard.sign_in_url();
        assert!(url.starts_with("http://127.0.0.1:8080/sign-in?token="));
        let app = app(guard);
        let host = Some("127.0.0.1:8080");
        assert_eq!(
            send(&app, host, "/", None).await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            send(&app, host, "/", Some("dit_session_8080=guess"))
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
        for wrong in ["/sign-in", "/sign-in?token=", "/sign-in?token=00"] {
            assert_eq!(
                send(&app, host, wrong, None).await.status(),
                StatusCode::UNAUTHORIZED,
                "{wrong}"
            );
        }

        let signed_in = visit(&app, host, &url).await;
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
        assert_eq!(signed_in.headers()[header::LOCATION], "/");
        let cookie = signed_in.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .to_string();
        assert!(cookie.starts_with("dit_session_8080="), "{cookie}");
        assert!(
            cookie.contains("; HttpOnly") && cookie.contains("; SameSite=Strict"),
            "{cookie}"
        );
        let pair = cookie.split(';').next().unwrap();

        let page = send(&app, host, "/", Some(&format!("other=1; {pair}"))).await;
        assert_eq!(page.status(), StatusCode::OK);
        // The link is spent.
        let again = visit(&app, host, &url).await;
        assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
        assert!(again.headers().get(header::SET_COOKIE).is_none());
    }
}

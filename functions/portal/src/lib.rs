//! The portal as a Lambda function behind an API Gateway HTTP API whose Cognito user pool JWT
//! authorizer has already checked the token. The identity is the token's groups (`trust-<VPD>` or
//! `operator`), read from the request context API Gateway adds; the pages are `dit_portal`'s.

use std::sync::Arc;

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use lambda_http::request::RequestContext;

use dit_portal::identity::groups_claim;
use dit_portal::identity::Identity;
use dit_portal::Portal;

pub mod config;

/// The portal's router with the identity taken from the authorizer's JWT claims.
pub fn app(portal: Arc<Portal>) -> Router {
    dit_portal::router(portal).layer(middleware::from_fn(identity_from_token))
}

/// Puts the signed-in [`Identity`] into the request, when the token gives one. A request without
/// one is answered 401 by the portal (API Gateway has already refused a missing or invalid token;
/// this is the token of someone in no portal group, or in several).
async fn identity_from_token(mut request: Request, next: Next) -> Response {
    request.extensions_mut().remove::<Identity>();
    if let Some(identity) = identity(request.extensions().get::<RequestContext>()) {
        request.extensions_mut().insert(identity);
    }
    next.run(request).await
}

/// The identity in an HTTP API request context's JWT claims: groups from `cognito:groups`, the
/// user from `email` (else `cognito:username`, else `username`, else `sub`).
pub fn identity(context: Option<&RequestContext>) -> Option<Identity> {
    let Some(RequestContext::ApiGatewayV2(context)) = context else {
        tracing::warn!(
            code = "no_context",
            "request without an API Gateway context"
        );
        return None;
    };
    let Some(claims) = context
        .authorizer
        .as_ref()
        .and_then(|a| a.jwt.as_ref())
        .map(|jwt| &jwt.claims)
    else {
        tracing::warn!(code = "no_claims", "request without JWT claims");
        return None;
    };
    let groups = claims
        .get("cognito:groups")
        .map(|g| groups_claim(g))
        .unwrap_or_default();
    let user = ["email", "cognito:username", "username", "sub"]
        .iter()
        .find_map(|k| claims.get(*k).filter(|v| !v.trim().is_empty()))
        .cloned()
        .unwrap_or_default();
    match Identity::from_groups(groups.iter().map(String::as_str), &user) {
        Ok(identity) => Some(identity),
        Err(err) => {
            // Group names carry no personal data; the user's name is never logged.
            tracing::warn!(code = "no_portal_identity", reason = %err, "token gives no portal identity");
            None
        }
    }
}

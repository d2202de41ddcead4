//! The portal as a Lambda function behind an API Gateway HTTP API whose Cognito user pool JWT
//! authorizer has already checked the token. The identity is the token's groups (`trust-<VPD>`,
//! `lo-<LO>`, `trainee` or `operator`; a trainee's GMC number from the administrator-set
//! [`GMC_CLAIM`]), read from the request context API Gateway adds; the pages are `dit_portal`'s.

use std::collections::HashMap;
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

/// The ID token's claim of the user pool's custom attribute that holds a trainee's GMC number:
/// only administrators may write it (the app client's write attributes leave it out), so a
/// trainee cannot change whose placements they see.
pub const GMC_CLAIM: &str = "custom:gmc_number";

/// The identity in an HTTP API request context's JWT claims: groups from `cognito:groups`, the
/// user from [`user_of`], a trainee's GMC number from [`GMC_CLAIM`].
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
    let user = user_of(claims);
    let gmc = claims.get(GMC_CLAIM).map(String::as_str);
    match Identity::from_groups(groups.iter().map(String::as_str), &user, gmc) {
        Ok(identity) => Some(identity),
        Err(err) => {
            // Group names carry no personal data; the user's name is never logged.
            tracing::warn!(code = "no_portal_identity", reason = %err, "token gives no portal identity");
            None
        }
    }
}

/// The user a token names, recorded as the history's actor: the `email` only when the token says
/// it is verified (`email_verified` is `true`; the app client cannot write it), else the user
/// pool's own `cognito:username`, else `sub`. An unverified e-mail is something the user may have
/// typed, so it never names the actor.
pub fn user_of(claims: &HashMap<String, String>) -> String {
    let claim = |name: &str| claims.get(name).filter(|v| !v.trim().is_empty());
    let verified = claims
        .get("email_verified")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    verified
        .then(|| claim("email"))
        .flatten()
        .or_else(|| claim("cognito:username"))
        .or_else(|| claim("sub"))
        .cloned()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_actor_is_the_email_only_when_the_token_says_it_is_verified() {
        let base = [
            ("sub", "0f1e-sub"),
            ("cognito:username", "0f1e-user"),
            ("email", "mso@example.nhs.uk"),
        ];
        let mut verified = claims(&base);
        verified.insert("email_verified".into(), "true".into());
        assert_eq!(user_of(&verified), "mso@example.nhs.uk");
        for unverified in ["false", "", "yes"] {
            let mut c = claims(&base);
            c.insert("email_verified".into(), unverified.into());
            assert_eq!(user_of(&c), "0f1e-user", "email_verified = {unverified:?}");
        }
        assert_eq!(user_of(&claims(&base)), "0f1e-user");
        assert_eq!(
            user_of(&claims(&[("sub", "0f1e-sub"), ("email", "x@y")])),
            "0f1e-sub"
        );
        // `username` (an access token's claim, settable by nobody here) is not consulted.
        assert_eq!(user_of(&claims(&[("username", "mallory")])), "");
    }
}

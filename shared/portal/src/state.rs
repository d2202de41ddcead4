//! What every route runs with: the portal's ports and keys, built once, and who may see a trust's
//! pages.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};

use dit_core::service::context::{Context, Ports};

use crate::assets::Assets;
use crate::csrf::CsrfKey;
use crate::error::PageError;
use crate::identity::Identity;

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

    pub(crate) fn context(&self) -> Context<'_> {
        self.ports.context((self.clock)())
    }
}

pub(crate) type Shared = Arc<Portal>;

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
pub(crate) fn trust_of<'i>(portal: &Portal, identity: &'i Identity) -> Result<&'i str, PageError> {
    match identity.vpd() {
        Some(vpd) if portal.ports.organisations.get(vpd).is_some() => Ok(vpd),
        Some(_) => Err(PageError::Unauthorized),
        None => Err(PageError::NotFound),
    }
}

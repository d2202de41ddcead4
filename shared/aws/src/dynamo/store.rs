//! The store itself: the client and table every module of the adapter writes through, the item
//! type, and the one classification of SDK errors. It imports none of those modules, so each can
//! be read against this alone.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{NaiveDate, Utc};
use dit_domain::retention;
use dit_domain::retention::TTL_ATTRIBUTE;

use dit_core::ports::StoreError;

pub(crate) type Item = HashMap<String, AttributeValue>;

/// Service error codes that mean the request itself (its data) was refused: retrying cannot help.
pub(super) const REFUSED_CODES: [&str; 2] = [
    "ValidationException",
    "ItemCollectionSizeLimitExceededException",
];

/// [`StateStore`] on one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    pub(super) client: aws_sdk_dynamodb::Client,
    pub(super) table: String,
    /// The day reads judge retention on (7.1): the system's date (UTC) unless pinned by
    /// [`DynamoStore::with_today`].
    pub(super) today: Option<NaiveDate>,
}

impl DynamoStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
            today: None,
        }
    }

    /// Judges retention on `date` instead of the system's date (tests whose fixtures are dated).
    #[must_use]
    pub fn with_today(mut self, date: NaiveDate) -> Self {
        self.today = Some(date);
        self
    }

    /// The day retention is judged on now.
    pub fn today(&self) -> NaiveDate {
        self.today.unwrap_or_else(|| Utc::now().date_naive())
    }

    /// Whether `item` is live today: TTL deletes up to days late, so an item whose `expires_at`
    /// has passed is still returned by DynamoDB and must not be seen (7.1). Items without the
    /// attribute (positions, counters, watermarks) never expire.
    pub(super) fn live(&self, item: &Item) -> bool {
        match item.get(TTL_ATTRIBUTE) {
            Some(AttributeValue::N(ttl)) => ttl
                .parse::<i64>()
                .map_or(true, |ttl| retention::ttl_live_on(ttl, self.today())),
            _ => true,
        }
    }

    /// The condition value `:now` of a put that may replace an expired item
    /// ([`REPLACEABLE_IF_ABSENT`]).
    pub(super) fn expired_at_or_before(&self) -> AttributeValue {
        AttributeValue::N(retention::expired_at_or_before(self.today()).to_string())
    }
}

/// The condition of a put that must not overwrite a live item of its key but may replace one past
/// its retention that TTL has not deleted yet (a file or placement sent again after expiry).
/// Names `#pk` and `#expires`, value `:now`.
pub(super) const REPLACEABLE_IF_ABSENT: &str = "attribute_not_exists(#pk) OR #expires <= :now";

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Classifies an SDK error once for every operation: refused data is [`StoreError::Corrupt`]
/// (needs an operator); throttling, service faults, timeouts, network and configuration faults
/// are [`StoreError::Unavailable`] (retry later). Only the error code and service message are
/// kept: the `Debug` form may hold items returned by a failed condition.
pub(super) fn sdk_error<E, R>(op: &str, err: &SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("UnknownError");
            let message = service.err().message().unwrap_or("");
            if REFUSED_CODES.contains(&code) {
                StoreError::Corrupt(format!("{op} refused: {code}: {message}"))
            } else {
                StoreError::Unavailable(format!("{op} failed: {code}: {message}"))
            }
        }
        other => StoreError::Unavailable(format!("{op} failed: {}", DisplayErrorContext(other))),
    }
}

pub(super) fn build_error(err: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Corrupt(format!("cannot build DynamoDB request: {err}"))
}

//! The store itself: the client and table every module of the adapter writes through, the item
//! type, and the one classification of SDK errors. It imports none of those modules, so each can
//! be read against this alone.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;

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
}

impl DynamoStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
        }
    }
}

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

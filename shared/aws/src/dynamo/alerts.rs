//! Sent-markers of e-mail alerts: one item per alert key, put only if absent, so that a file
//! delivered again (or two deliveries at once) never e-mails the same alert twice.

use super::keys::{alert_key_item, n, s, with_keys, PK};
use super::store::*;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use chrono::{DateTime, Utc};
use dit_core::ports::StoreError;
use std::collections::HashMap;

/// How long a marker is kept (DynamoDB's TTL removes it after): far past any redelivery.
const ALERT_MARKER_DAYS: i64 = 180;

const STATUS: &str = "status";
const SENDING: &str = "sending";
const SENT: &str = "sent";

/// The outcome of claiming an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertClaim {
    /// This delivery sends it.
    Claimed,
    /// Sent already, or being sent by another delivery (or by one that stopped after claiming).
    Held { sent: bool },
}

impl DynamoStore {
    /// Claims the alert with this key for sending (a conditional put of its marker).
    ///
    /// # Errors
    /// [`StoreError`] when the table fails.
    pub async fn claim_alert(
        &self,
        alert_key: &str,
        vpd: &str,
        at: DateTime<Utc>,
    ) -> Result<AlertClaim, StoreError> {
        let expires_at = (at + chrono::Duration::days(ALERT_MARKER_DAYS)).timestamp();
        let item = with_keys(
            HashMap::from([
                ("vpd".to_string(), s(vpd)),
                (STATUS.to_string(), s(SENDING)),
                ("claimed_at".to_string(), s(at.to_rfc3339())),
                ("expires_at".to_string(), n(expires_at)),
            ]),
            alert_key_item(alert_key),
        );
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(AlertClaim::Claimed),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    let sent = failed
                        .item()
                        .and_then(|item| item.get(STATUS))
                        .and_then(|v| v.as_s().ok())
                        .is_some_and(|status| status == SENT);
                    Ok(AlertClaim::Held { sent })
                }
                _ => Err(sdk_error("PutItem", &err)),
            },
        }
    }

    /// Records that the claimed alert was handed to the mail service.
    ///
    /// # Errors
    /// [`StoreError`] when the table fails (the claim still holds: the alert is not sent again).
    pub async fn mark_alert_sent(
        &self,
        alert_key: &str,
        message_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(alert_key_item(alert_key)))
            .update_expression("SET #status = :sent, sent_at = :at, message_id = :id")
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_values(":sent", s(SENT))
            .expression_attribute_values(":at", s(at.to_rfc3339()))
            .expression_attribute_values(":id", s(message_id))
            .send()
            .await
            .map_err(|e| sdk_error("UpdateItem", &e))?;
        Ok(())
    }

    /// Gives a claim back after the send failed, so that the next delivery sends the alert.
    ///
    /// # Errors
    /// [`StoreError`] when the table fails.
    pub async fn release_alert(&self, alert_key: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(alert_key_item(alert_key)))
            .condition_expression("#status = :sending")
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_values(":sending", s(SENDING))
            .send()
            .await
            .map(|_| ())
            .or_else(|err| match err.as_service_error() {
                // Marked sent meanwhile: the claim is not ours to give back.
                Some(e) if e.is_conditional_check_failed_exception() => Ok(()),
                _ => Err(sdk_error("DeleteItem", &err)),
            })
    }
}

//! E-mail alerts by Amazon SES (v2 `SendEmail`), sent at most once per alert: a sent-marker in the
//! table is claimed (a conditional put) before sending, so a file delivered again, or twice at
//! once, does not e-mail the same alert again. A failed send gives the claim back, so the retry
//! sends it; only a stop between claim and send loses an alert (never duplicates one).
//!
//! Errors and logs name the alert's key and SES's error code only: never an address (SES's own
//! messages may quote the recipients).

use async_trait::async_trait;
use aws_sdk_sesv2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use chrono::Utc;
use dit_core::ports::{MailOutcome, Mailer};
use dit_domain::mail::FromAddress;
use dit_domain::mail::{Mail, MailError};
use tracing::warn;

use crate::dynamo::{AlertClaim, DynamoStore};

/// SES error codes that refuse the message itself: retrying the same message cannot help.
const REFUSED_CODES: [&str; 5] = [
    "MessageRejected",
    "MailFromDomainNotVerifiedException",
    "BadRequestException",
    "NotFoundException",
    "AccountSuspendedException",
];

pub struct SesMailer {
    ses: aws_sdk_sesv2::Client,
    markers: DynamoStore,
    from: FromAddress,
}

impl SesMailer {
    /// Sends from `from` (an SES verified identity), with its sent-markers in `markers`' table.
    pub fn new(ses: aws_sdk_sesv2::Client, markers: DynamoStore, from: FromAddress) -> Self {
        SesMailer { ses, markers, from }
    }

    async fn send_now(&self, mail: &Mail) -> Result<String, MailError> {
        let text = |data: &str| {
            Content::builder()
                .data(data)
                .charset("UTF-8")
                .build()
                .map_err(|e| MailError::Refused(format!("alert {}: {e}", mail.key)))
        };
        let message = Message::builder()
            .subject(text(&mail.subject)?)
            .body(Body::builder().text(text(&mail.body)?).build())
            .build();
        let out = self
            .ses
            .send_email()
            .from_email_address(self.from.header_text())
            .destination(
                Destination::builder()
                    .set_to_addresses(Some(mail.to.clone()))
                    .build(),
            )
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| ses_error(&mail.key, &e))?;
        Ok(out.message_id.unwrap_or_default())
    }
}

fn ses_error<E, R>(key: &str, err: &SdkError<E, R>) -> MailError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("UnknownError");
            if REFUSED_CODES.contains(&code) {
                MailError::Refused(format!("alert {key}: SES SendEmail refused: {code}"))
            } else {
                MailError::Unavailable(format!("alert {key}: SES SendEmail failed: {code}"))
            }
        }
        other => MailError::Unavailable(format!(
            "alert {key}: SES SendEmail failed: {}",
            DisplayErrorContext(other)
        )),
    }
}

fn marker_error(err: dit_core::ports::StoreError) -> MailError {
    MailError::Unavailable(format!("alert marker: {err}"))
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &Mail) -> Result<MailOutcome, MailError> {
        match self
            .markers
            .claim_alert(&mail.key, &mail.vpd, Utc::now())
            .await
            .map_err(marker_error)?
        {
            AlertClaim::Claimed => {}
            AlertClaim::Held { sent } => {
                if !sent {
                    warn!(key = %mail.key, vpd = %mail.vpd, "alert claimed by another delivery and not marked sent: not sent again");
                }
                return Ok(MailOutcome::AlreadySent);
            }
        }
        match self.send_now(mail).await {
            Ok(message_id) => {
                if let Err(err) = self
                    .markers
                    .mark_alert_sent(&mail.key, &message_id, Utc::now())
                    .await
                {
                    // The claim stays, so the alert is still never sent twice.
                    warn!(key = %mail.key, error = %err, "alert sent; marking it sent failed");
                }
                Ok(MailOutcome::Sent)
            }
            Err(err) => {
                if let Err(release) = self.markers.release_alert(&mail.key).await {
                    warn!(key = %mail.key, error = %release, "alert not sent and its claim not given back: it will not be retried");
                }
                Err(err)
            }
        }
    }
}

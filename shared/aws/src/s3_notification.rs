//! S3 "object created" notifications as they arrive in SQS message bodies, read tolerantly.
//!
//! Real S3 and LocalStack send `userIdentity`, `requestParameters` and `responseElements`; moto does
//! not, so strict event types refuse its messages. Only the fields used here are required. Keys are
//! URL-encoded in notifications (`+` for a space, `%2F` for `/` on moto) and are always decoded.

use serde::Deserialize;

/// One object named by a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectCreated {
    pub event_name: String,
    pub bucket: String,
    /// The decoded object key.
    pub key: String,
    pub size: Option<u64>,
    /// The version created, in a bucket that keeps versions (moto's notifications leave it out).
    pub version_id: Option<String>,
}

/// What an SQS body held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// `s3:TestEvent`, sent when a notification is configured: nothing to do.
    Test,
    Objects(Vec<ObjectCreated>),
}

#[derive(Deserialize)]
struct Body {
    #[serde(rename = "Event")]
    event: Option<String>,
    #[serde(rename = "Records")]
    records: Option<Vec<Record>>,
}

#[derive(Deserialize)]
struct Record {
    #[serde(rename = "eventName", default)]
    event_name: String,
    s3: S3Entity,
}

#[derive(Deserialize)]
struct S3Entity {
    bucket: Bucket,
    object: Object,
}

#[derive(Deserialize)]
struct Bucket {
    name: String,
}

#[derive(Deserialize)]
struct Object {
    key: String,
    size: Option<u64>,
    #[serde(rename = "versionId")]
    version_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("the message is not an S3 notification: {0}")]
pub struct NotS3Notification(String);

/// Parses an SQS message body.
///
/// # Errors
/// [`NotS3Notification`] when the body is neither a test event nor S3 records.
pub fn parse(body: &str) -> Result<Notification, NotS3Notification> {
    // The body is not ours to log: serde's message loses the values it would quote.
    let body: Body = serde_json::from_str(body)
        .map_err(|e| NotS3Notification(dit_core::ports::without_values(&e.to_string())))?;
    if body.event.as_deref() == Some("s3:TestEvent") {
        return Ok(Notification::Test);
    }
    let records = body
        .records
        .ok_or_else(|| NotS3Notification("no Records and not an s3:TestEvent".to_string()))?;
    Ok(Notification::Objects(
        records
            .into_iter()
            .map(|r| ObjectCreated {
                event_name: r.event_name,
                bucket: r.s3.bucket.name,
                key: decode_key(&r.s3.object.key),
                size: r.s3.object.size,
                version_id: r.s3.object.version_id.filter(|v| !v.is_empty()),
            })
            .collect(),
    ))
}

/// Decodes an S3 notification key: `+` is a space, `%XX` a byte.
pub fn decode_key(key: &str) -> String {
    let spaced = key.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_event_is_recognised() {
        let body = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-21T10:00:00.000Z","Bucket":"inbound","RequestId":"x","HostId":"y"}"#;
        assert_eq!(parse(body).unwrap(), Notification::Test);
    }

    #[test]
    fn moto_records_without_identity_fields_parse_and_keys_are_decoded() {
        let body = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-west-2","eventTime":"2026-11-21T10:00:00.000Z","eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0","configurationId":"c","bucket":{"name":"inbound","arn":"arn:aws:s3:::inbound"},"object":{"key":"incoming%2FDE_KSS_APP_20261121_00000042.DAT","size":123,"eTag":"e"}}}]}"#;
        let Notification::Objects(objects) = parse(body).unwrap() else {
            panic!("expected objects")
        };
        assert_eq!(objects.len(), 1);
        assert_eq!(objects[0].key, "incoming/DE_KSS_APP_20261121_00000042.DAT");
        assert_eq!(objects[0].bucket, "inbound");
        assert_eq!(objects[0].size, Some(123));
        assert_eq!(objects[0].event_name, "ObjectCreated:Put");
        assert_eq!(objects[0].version_id, None);
    }

    #[test]
    fn the_version_created_is_read_when_s3_names_it() {
        let body = r#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"inbound"},"object":{"key":"incoming/tis/a.DAT","size":5,"versionId":"3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"}}}]}"#;
        let Notification::Objects(objects) = parse(body).unwrap() else {
            panic!("expected objects")
        };
        assert_eq!(
            objects[0].version_id.as_deref(),
            Some("3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY")
        );
    }

    #[test]
    fn plus_is_a_space_and_percent_escapes_are_bytes() {
        assert_eq!(decode_key("incoming/a+b%2Bc%20d"), "incoming/a b+c d");
    }

    #[test]
    fn other_bodies_are_refused() {
        assert!(parse("not json").is_err());
        assert!(parse(r#"{"hello":1}"#).is_err());
    }
}

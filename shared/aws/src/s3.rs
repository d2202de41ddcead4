//! S3 adapter for [`BlobStore`]: received and quarantined files in the inbound bucket (under
//! their prefixes), everything written for TIS, trusts and operators in the outbound bucket.

use async_trait::async_trait;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::operation::head_object::HeadObjectError;
use aws_sdk_s3::primitives::ByteStream;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use dit_core::ports::{Area, BlobError, BlobStore, NewObject, ReceivedObject};
use dit_domain::boundary::loggable_key;

/// Where each [`Area`] lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Layout {
    pub inbound_bucket: String,
    /// Received files, e.g. `incoming/`.
    pub inbound_prefix: String,
    /// Refused files, in the inbound bucket, e.g. `quarantine/`.
    pub quarantine_prefix: String,
    /// Outputs, at the bucket root.
    pub outbound_bucket: String,
}

/// [`BlobStore`] on two S3 buckets.
#[derive(Debug, Clone)]
pub struct S3Blobs {
    client: aws_sdk_s3::Client,
    layout: S3Layout,
    forbidden_is_missing: bool,
}

impl S3Blobs {
    pub fn new(client: aws_sdk_s3::Client, layout: S3Layout) -> Self {
        S3Blobs {
            client,
            layout,
            forbidden_is_missing: false,
        }
    }

    /// For a role whose `s3:ListBucket` is limited by prefix (the portal's): S3 then answers a
    /// missing key `403`, not `404`, so [`BlobStore::get`] and [`BlobStore::size`] read a `403`
    /// as "not there" (the page is a `404`, not a `5xx`). The role reads only its own prefixes, so
    /// a key outside them is not there for it either.
    pub fn forbidden_as_missing(mut self) -> Self {
        self.forbidden_is_missing = true;
        self
    }

    /// Whether a failed single-object read means "not there" for this store.
    fn missing<E>(&self, err: &SdkError<E, HttpResponse>) -> bool {
        missing_status(
            err.raw_response().map(|r| r.status().as_u16()),
            self.forbidden_is_missing,
        )
    }

    /// The bucket and key prefix of an area.
    fn place(&self, area: Area) -> (&str, &str) {
        match area {
            Area::Inbound => (&self.layout.inbound_bucket, &self.layout.inbound_prefix),
            Area::Quarantine => (&self.layout.inbound_bucket, &self.layout.quarantine_prefix),
            Area::Outbound => (&self.layout.outbound_bucket, ""),
        }
    }

    /// The bucket and full object key of a received object: the key as the sender wrote it. In S3
    /// a key is a name, not a path, so `..` or `//` in it cannot leave the inbound prefix, and the
    /// file must stay reachable to be moved to the quarantine.
    fn locate_received(&self, key: &str) -> Result<(&str, String), BlobError> {
        if key.is_empty() {
            return Err(BlobError::BadKey(key.to_string()));
        }
        Ok((
            &self.layout.inbound_bucket,
            format!("{}{key}", self.layout.inbound_prefix),
        ))
    }

    /// One PutObject, checked and ready to send: the future owns all it needs, so `put_all` can
    /// run several side by side.
    fn put_object(
        &self,
        area: Area,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<impl std::future::Future<Output = Result<(), BlobError>> + Send + 'static, BlobError>
    {
        let (bucket, object) = self.locate(area, key)?;
        let bucket = bucket.to_string();
        let len = bytes.len();
        let request = self
            .client
            .put_object()
            .bucket(&bucket)
            .key(&object)
            .content_type(content_type)
            .body(ByteStream::from(bytes));
        Ok(async move {
            request
                .send()
                .await
                .map_err(|e| sdk_error("PutObject", &object, &e))?;
            tracing::debug!(bucket, key = %object, bytes = len, "object written");
            Ok(())
        })
    }

    /// The bucket and full object key of an area-relative key.
    fn locate(&self, area: Area, key: &str) -> Result<(&str, String), BlobError> {
        check_relative(key)?;
        if key.is_empty() {
            return Err(BlobError::BadKey(key.to_string()));
        }
        let (bucket, prefix) = self.place(area);
        Ok((bucket, format!("{prefix}{key}")))
    }
}

/// Keys (and list prefixes) are relative to their area: no `..`, no leading `/`.
fn check_relative(key: &str) -> Result<(), BlobError> {
    if key.contains("..") || key.starts_with('/') {
        return Err(BlobError::BadKey(key.to_string()));
    }
    Ok(())
}

/// What `x-amz-copy-source` escapes: everything but unreserved characters and `/`.
const COPY_SOURCE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// Whether a failed request's status says the object (or the version asked for) is not there.
fn not_there<E>(err: &SdkError<E, HttpResponse>) -> bool {
    missing_status(err.raw_response().map(|r| r.status().as_u16()), false)
}

/// `404`, or `403` when the role's listing is limited by prefix ([`S3Blobs::forbidden_as_missing`]).
fn missing_status(status: Option<u16>, forbidden_is_missing: bool) -> bool {
    match status {
        Some(404) => true,
        Some(403) => forbidden_is_missing,
        _ => false,
    }
}

/// The `x-amz-copy-source` of an object (of one version of it, if given).
fn copy_source(bucket: &str, object: &str, version: Option<&str>) -> String {
    let mut source = format!("{bucket}/{}", utf8_percent_encode(object, COPY_SOURCE));
    if let Some(version) = version {
        source.push_str("?versionId=");
        source.extend(utf8_percent_encode(version, NON_ALPHANUMERIC));
    }
    source
}

/// Every S3 failure is worth retrying later (the keys themselves were checked before).
fn sdk_error<E, R>(op: &str, key: &str, err: &SdkError<E, R>) -> BlobError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(service) => BlobError::Unavailable(format!(
            "{op} {key}: {}: {}",
            service.err().code().unwrap_or("UnknownError"),
            service.err().message().unwrap_or("")
        )),
        other => BlobError::Unavailable(format!("{op} {key}: {}", DisplayErrorContext(other))),
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn get(&self, area: Area, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        let (bucket, object) = self.locate(area, key)?;
        let out = match self
            .client
            .get_object()
            .bucket(bucket)
            .key(&object)
            .send()
            .await
        {
            Ok(out) => out,
            Err(err) => {
                if let Some(GetObjectError::NoSuchKey(_)) = err.as_service_error() {
                    return Ok(None);
                }
                if self.missing(&err) {
                    return Ok(None);
                }
                return Err(sdk_error("GetObject", &object, &err));
            }
        };
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| BlobError::Unavailable(format!("GetObject {object}: body: {e}")))?;
        let bytes = bytes.into_bytes().to_vec();
        tracing::debug!(bucket, key = %object, bytes = bytes.len(), "object read");
        Ok(Some(bytes))
    }

    async fn size(&self, area: Area, key: &str) -> Result<Option<u64>, BlobError> {
        let (bucket, object) = self.locate(area, key)?;
        match self
            .client
            .head_object()
            .bucket(bucket)
            .key(&object)
            .send()
            .await
        {
            Ok(out) => Ok(Some(
                out.content_length
                    .and_then(|len| u64::try_from(len).ok())
                    .unwrap_or(0),
            )),
            Err(err) => match err.as_service_error() {
                Some(HeadObjectError::NotFound(_)) => Ok(None),
                _ if self.missing(&err) => Ok(None),
                _ => Err(sdk_error("HeadObject", &object, &err)),
            },
        }
    }

    async fn put(
        &self,
        area: Area,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), BlobError> {
        self.put_object(area, key, bytes, content_type)?.await
    }

    async fn put_new(
        &self,
        area: Area,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<bool, BlobError> {
        let (bucket, object) = self.locate(area, key)?;
        let written = self
            .client
            .put_object()
            .bucket(bucket)
            .key(&object)
            .content_type(content_type)
            .if_none_match("*")
            .body(ByteStream::from(bytes))
            .send()
            .await;
        match written {
            Ok(_) => Ok(true),
            // 412: an object is there already; 409: a concurrent conditional write is under way,
            // which will leave one there.
            Err(err)
                if err
                    .raw_response()
                    .is_some_and(|r| matches!(r.status().as_u16(), 412 | 409)) =>
            {
                Ok(false)
            }
            Err(err) => Err(sdk_error("PutObject", &object, &err)),
        }
    }

    async fn put_all(&self, objects: Vec<NewObject>) -> Result<(), BlobError> {
        // Side by side: each PUT waits mostly on the network.
        let mut puts = tokio::task::JoinSet::new();
        for object in objects {
            puts.spawn(self.put_object(
                object.area,
                &object.key,
                object.bytes,
                object.content_type,
            )?);
        }
        let mut result = Ok(());
        while let Some(done) = puts.join_next().await {
            let done = done.unwrap_or_else(|e| {
                Err(BlobError::Unavailable(format!(
                    "a PutObject task failed: {e}"
                )))
            });
            // The first failure is reported; the other writes still finish.
            if result.is_ok() {
                result = done;
            }
        }
        result
    }

    async fn delete(&self, area: Area, key: &str) -> Result<(), BlobError> {
        let (bucket, object) = self.locate(area, key)?;
        self.client
            .delete_object()
            .bucket(bucket)
            .key(&object)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteObject", &object, &e))?;
        tracing::debug!(bucket, key = %object, "object deleted");
        Ok(())
    }

    /// Server-side copy (keeps the content type); an absent source is a no-op.
    async fn copy(
        &self,
        from: Area,
        from_key: &str,
        to: Area,
        to_key: &str,
    ) -> Result<(), BlobError> {
        let (from_bucket, from_object) = self.locate(from, from_key)?;
        let (to_bucket, to_object) = self.locate(to, to_key)?;
        let source = copy_source(from_bucket, &from_object, None);
        let result = self
            .client
            .copy_object()
            .copy_source(source)
            .bucket(to_bucket)
            .key(&to_object)
            .send()
            .await;
        match result {
            Ok(_) => {
                tracing::debug!(from = %from_object, to = %to_object, to_bucket, "object copied");
                Ok(())
            }
            Err(err) if err.as_service_error().and_then(|e| e.code()) == Some("NoSuchKey") => {
                tracing::debug!(from = %from_object, "nothing to copy");
                Ok(())
            }
            Err(err) => Err(sdk_error("CopyObject", &from_object, &err)),
        }
    }

    async fn link(
        &self,
        area: Area,
        key: &str,
        expires_in: std::time::Duration,
    ) -> Result<String, BlobError> {
        let (bucket, object) = self.locate(area, key)?;
        let config = aws_sdk_s3::presigning::PresigningConfig::expires_in(expires_in)
            .map_err(|e| BlobError::BadKey(format!("{object}: {e}")))?;
        let request = self
            .client
            .get_object()
            .bucket(bucket)
            .key(&object)
            .presigned(config)
            .await
            .map_err(|e| sdk_error("presign GetObject", &object, &e))?;
        Ok(request.uri().to_string())
    }

    async fn head_received(
        &self,
        key: &str,
        version: Option<&str>,
    ) -> Result<Option<ReceivedObject>, BlobError> {
        let (bucket, object) = self.locate_received(key)?;
        match self
            .client
            .head_object()
            .bucket(bucket)
            .key(&object)
            .set_version_id(version.map(str::to_string))
            .send()
            .await
        {
            Ok(out) => Ok(Some(ReceivedObject {
                size: out
                    .content_length
                    .and_then(|len| u64::try_from(len).ok())
                    .unwrap_or(0),
                version: out.version_id,
            })),
            Err(err) if not_there(&err) => Ok(None),
            Err(err) => Err(sdk_error("HeadObject", &object, &err)),
        }
    }

    async fn get_received(
        &self,
        key: &str,
        version: Option<&str>,
    ) -> Result<Option<Vec<u8>>, BlobError> {
        let (bucket, object) = self.locate_received(key)?;
        let out = match self
            .client
            .get_object()
            .bucket(bucket)
            .key(&object)
            .set_version_id(version.map(str::to_string))
            .send()
            .await
        {
            Ok(out) => out,
            Err(err) if not_there(&err) => return Ok(None),
            Err(err) => return Err(sdk_error("GetObject", &object, &err)),
        };
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| BlobError::Unavailable(format!("GetObject {object}: body: {e}")))?;
        Ok(Some(bytes.into_bytes().to_vec()))
    }

    async fn quarantine_received(
        &self,
        key: &str,
        version: Option<&str>,
        to_key: &str,
    ) -> Result<(), BlobError> {
        let (from_bucket, from_object) = self.locate_received(key)?;
        let (to_bucket, to_object) = self.locate(Area::Quarantine, to_key)?;
        let source = copy_source(from_bucket, &from_object, version);
        let result = self
            .client
            .copy_object()
            .copy_source(source)
            .bucket(to_bucket)
            .key(&to_object)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if not_there(&err) => {
                // A sender-chosen key: logged only once it is a valid file name.
                tracing::debug!(from = %loggable_key(&from_object), "nothing to copy");
                Ok(())
            }
            Err(err) => Err(sdk_error("CopyObject", &from_object, &err)),
        }
    }

    async fn delete_received(&self, key: &str, version: Option<&str>) -> Result<(), BlobError> {
        let (bucket, object) = self.locate_received(key)?;
        self.client
            .delete_object()
            .bucket(bucket)
            .key(&object)
            .set_version_id(version.map(str::to_string))
            .send()
            .await
            .map_err(|e| sdk_error("DeleteObject", &object, &e))?;
        Ok(())
    }

    async fn list(&self, area: Area, prefix: &str) -> Result<Vec<String>, BlobError> {
        check_relative(prefix)?;
        let (bucket, area_prefix) = self.place(area);
        let full_prefix = format!("{area_prefix}{prefix}");
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(&full_prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| sdk_error("ListObjectsV2", &full_prefix, &e))?;
            for object in out.contents.unwrap_or_default() {
                if let Some(relative) = object
                    .key
                    .as_deref()
                    .and_then(|k| k.strip_prefix(area_prefix))
                {
                    keys.push(relative.to_string());
                }
            }
            match out.next_continuation_token {
                Some(next) if out.is_truncated == Some(true) => token = Some(next),
                _ => break,
            }
        }
        keys.sort();
        tracing::debug!(bucket, prefix = %full_prefix, count = keys.len(), "objects listed");
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_403_is_not_there_only_for_a_role_listing_by_prefix() {
        assert!(missing_status(Some(404), false));
        assert!(missing_status(Some(404), true));
        // The portal: ListBucket limited by prefix makes S3 answer a missing key 403.
        assert!(missing_status(Some(403), true));
        // Every other role: a 403 is a real refusal, retried and alarmed, never "not there".
        assert!(!missing_status(Some(403), false));
        for other in [Some(500), Some(503), Some(400), None] {
            assert!(!missing_status(other, true), "{other:?}");
        }
    }
}

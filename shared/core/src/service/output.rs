//! Writing outputs: structured JSON (pretty, one trailing newline) and its HTML rendering for people.

use serde::Serialize;

use crate::ports::{Area, BlobError, BlobStore};

/// Writes `value` as pretty JSON under `key`.
pub async fn put_json<T: Serialize>(
    blobs: &dyn BlobStore,
    area: Area,
    key: &str,
    value: &T,
) -> Result<(), BlobError> {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    blobs.put(area, key, bytes, "application/json").await
}

/// Writes a structured output as `<base>.json` and its rendering for people as `<base>.html`,
/// and returns both keys as outputs (`outbound/...`).
pub async fn put_json_and_html<T: Serialize>(
    blobs: &dyn BlobStore,
    base: &str,
    value: &T,
    html: String,
) -> Result<[String; 2], BlobError> {
    let (json_key, html_key) = (format!("{base}.json"), format!("{base}.html"));
    put_json(blobs, Area::Outbound, &json_key, value).await?;
    blobs
        .put(
            Area::Outbound,
            &html_key,
            html.into_bytes(),
            "text/html; charset=utf-8",
        )
        .await?;
    Ok([
        format!("outbound/{json_key}"),
        format!("outbound/{html_key}"),
    ])
}

/// Lower-case hexadecimal, for digests.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

//! S3Blobs against a private moto_server per test: each area of the blob port in its bucket under
//! its prefix.

use dit_aws::s3::{S3Blobs, S3Layout};
use dit_core::ports::{Area, BlobError, BlobStore};
use dit_test_support::Moto;

async fn object_keys(client: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    let out = client
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let mut keys: Vec<String> = out
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn s3_areas_map_to_buckets_and_prefixes() {
    let moto = Moto::start();
    let raw = moto.create_buckets("dit-inbound", "dit-outbound").await;
    let blobs = S3Blobs::new(
        moto.s3_client().await,
        S3Layout {
            inbound_bucket: "dit-inbound".to_string(),
            inbound_prefix: "incoming/".to_string(),
            quarantine_prefix: "quarantine/".to_string(),
            outbound_bucket: "dit-outbound".to_string(),
        },
    );

    let app = b"HEADER\nAPP,1\n".to_vec();
    blobs
        .put(
            Area::Inbound,
            "APP_LDN_20250301_00005.csv",
            app.clone(),
            "text/csv",
        )
        .await
        .unwrap();
    blobs
        .put(
            Area::Quarantine,
            "APP_LDN_20250301_00004.csv",
            b"bad".to_vec(),
            "text/csv",
        )
        .await
        .unwrap();
    blobs
        .put(
            Area::Quarantine,
            "APP_LDN_20250301_00004.csv.reason.json",
            b"{}".to_vec(),
            "application/json",
        )
        .await
        .unwrap();
    blobs
        .put(
            Area::Outbound,
            "tis/APC_LDN_20250301_00005.csv",
            b"APC".to_vec(),
            "text/csv",
        )
        .await
        .unwrap();
    blobs
        .put(
            Area::Outbound,
            "reports/RJ1/summary.json",
            b"{}".to_vec(),
            "application/json",
        )
        .await
        .unwrap();

    // Where they landed.
    assert_eq!(
        object_keys(&raw, "dit-inbound").await,
        vec![
            "incoming/APP_LDN_20250301_00005.csv",
            "quarantine/APP_LDN_20250301_00004.csv",
            "quarantine/APP_LDN_20250301_00004.csv.reason.json",
        ]
    );
    assert_eq!(
        object_keys(&raw, "dit-outbound").await,
        vec!["reports/RJ1/summary.json", "tis/APC_LDN_20250301_00005.csv"]
    );
    let head = raw
        .head_object()
        .bucket("dit-inbound")
        .key("incoming/APP_LDN_20250301_00005.csv")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("text/csv"));

    // Reading back, relative to the area.
    assert_eq!(
        blobs
            .get(Area::Inbound, "APP_LDN_20250301_00005.csv")
            .await
            .unwrap(),
        Some(app.clone())
    );
    assert_eq!(
        blobs
            .size(Area::Inbound, "APP_LDN_20250301_00005.csv")
            .await
            .unwrap(),
        Some(app.len() as u64)
    );
    assert_eq!(
        blobs
            .get(Area::Quarantine, "APP_LDN_20250301_00005.csv")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        blobs
            .size(Area::Outbound, "APP_LDN_20250301_00005.csv")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        blobs
            .get(Area::Outbound, "tis/APC_LDN_20250301_00005.csv")
            .await
            .unwrap(),
        Some(b"APC".to_vec())
    );
    assert_eq!(
        blobs.list(Area::Quarantine, "").await.unwrap(),
        vec![
            "APP_LDN_20250301_00004.csv",
            "APP_LDN_20250301_00004.csv.reason.json"
        ]
    );
    assert_eq!(
        blobs.list(Area::Inbound, "").await.unwrap(),
        vec!["APP_LDN_20250301_00005.csv"]
    );
    assert_eq!(
        blobs.list(Area::Outbound, "tis/").await.unwrap(),
        vec!["tis/APC_LDN_20250301_00005.csv"]
    );
    assert!(blobs.list(Area::Inbound, "POS_").await.unwrap().is_empty());

    // Overwrite, then delete (twice: absent is fine).
    blobs
        .put(
            Area::Inbound,
            "APP_LDN_20250301_00005.csv",
            b"v2".to_vec(),
            "text/csv",
        )
        .await
        .unwrap();
    assert_eq!(
        blobs
            .get(Area::Inbound, "APP_LDN_20250301_00005.csv")
            .await
            .unwrap(),
        Some(b"v2".to_vec())
    );
    blobs
        .delete(Area::Inbound, "APP_LDN_20250301_00005.csv")
        .await
        .unwrap();
    blobs
        .delete(Area::Inbound, "APP_LDN_20250301_00005.csv")
        .await
        .unwrap();
    assert_eq!(
        blobs
            .get(Area::Inbound, "APP_LDN_20250301_00005.csv")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        object_keys(&raw, "dit-inbound").await,
        vec![
            "quarantine/APP_LDN_20250301_00004.csv",
            "quarantine/APP_LDN_20250301_00004.csv.reason.json",
        ]
    );

    // Server-side copy between areas (and buckets), keeping the content type; an absent
    // source is a no-op.
    blobs
        .put(
            Area::Inbound,
            "DE_KSS_APP_20261121 #1+2.DAT",
            b"odd name".to_vec(),
            "text/csv",
        )
        .await
        .unwrap();
    blobs
        .copy(
            Area::Inbound,
            "DE_KSS_APP_20261121 #1+2.DAT",
            Area::Quarantine,
            "DE_KSS_APP_20261121 #1+2.DAT",
        )
        .await
        .unwrap();
    blobs
        .copy(
            Area::Quarantine,
            "APP_LDN_20250301_00004.csv",
            Area::Outbound,
            "q/copy.csv",
        )
        .await
        .unwrap();
    blobs
        .copy(Area::Inbound, "absent.csv", Area::Outbound, "never.csv")
        .await
        .unwrap();
    assert_eq!(
        blobs
            .get(Area::Quarantine, "DE_KSS_APP_20261121 #1+2.DAT")
            .await
            .unwrap(),
        Some(b"odd name".to_vec())
    );
    assert_eq!(
        blobs.get(Area::Outbound, "q/copy.csv").await.unwrap(),
        Some(b"bad".to_vec())
    );
    let head = raw
        .head_object()
        .bucket("dit-outbound")
        .key("q/copy.csv")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("text/csv"));
    assert_eq!(blobs.size(Area::Outbound, "never.csv").await.unwrap(), None);
    assert!(matches!(
        blobs.copy(Area::Inbound, "../x", Area::Outbound, "y").await,
        Err(BlobError::BadKey(_))
    ));
    blobs
        .delete(Area::Inbound, "DE_KSS_APP_20261121 #1+2.DAT")
        .await
        .unwrap();
    blobs
        .delete(Area::Quarantine, "DE_KSS_APP_20261121 #1+2.DAT")
        .await
        .unwrap();
    blobs.delete(Area::Outbound, "q/copy.csv").await.unwrap();

    // Many objects: list follows pages.
    for i in 0..1005 {
        raw.put_object()
            .bucket("dit-outbound")
            .key(format!("bulk/{i:04}.csv"))
            .body(Vec::<u8>::new().into())
            .send()
            .await
            .unwrap();
    }
    let bulk = blobs.list(Area::Outbound, "bulk/").await.unwrap();
    assert_eq!(bulk.len(), 1005);
    assert_eq!(bulk[0], "bulk/0000.csv");
    assert_eq!(bulk[1004], "bulk/1004.csv");

    // Keys must stay inside their area.
    for bad in ["../incoming/x.csv", "/etc/passwd", "a/../../b", ""] {
        assert!(
            matches!(
                blobs.get(Area::Quarantine, bad).await,
                Err(BlobError::BadKey(_))
            ),
            "{bad:?}"
        );
        assert!(matches!(
            blobs
                .put(Area::Outbound, bad, Vec::new(), "text/plain")
                .await,
            Err(BlobError::BadKey(_))
        ));
        assert!(matches!(
            blobs.size(Area::Inbound, bad).await,
            Err(BlobError::BadKey(_))
        ));
        assert!(matches!(
            blobs.delete(Area::Inbound, bad).await,
            Err(BlobError::BadKey(_))
        ));
    }
    assert!(matches!(
        blobs.list(Area::Inbound, "../quarantine/").await,
        Err(BlobError::BadKey(_))
    ));
    assert!(matches!(
        blobs.list(Area::Inbound, "/").await,
        Err(BlobError::BadKey(_))
    ));
}

//! `BlobStore::put_all` (the objects of several trusts' notifications written together, side
//! by side where the store can): on folders and on S3 (moto), every object is written whole,
//! and a failure is reported rather than lost. `BlobStore::put_new` (a trainee's query, written
//! once): of many writers at once exactly one writes, the others find it there and leave it.

use dit_aws::s3::{S3Blobs, S3Layout};
use dit_core::ports::{Area, BlobError, BlobStore, NewObject};
use dit_embedded::folders::FolderBlobs;
use dit_test_support::Moto;

fn objects(count: usize) -> Vec<NewObject> {
    (0..count)
        .map(|i| NewObject {
            area: Area::Outbound,
            // Two objects per folder, as a trust's JSON and HTML.
            key: format!("trusts/{}/notifications/n{i}.json", 100 + i / 2),
            bytes: format!("object {i}\n").repeat(i + 1).into_bytes(),
            content_type: "application/json",
        })
        .collect()
}

async fn every_object_is_written_whole(blobs: &dyn BlobStore) {
    let written = objects(17);
    blobs.put_all(written.clone()).await.expect("put all");
    for object in &written {
        let read = blobs
            .get(object.area, &object.key)
            .await
            .expect("read back");
        assert_eq!(read.as_deref(), Some(&object.bytes[..]), "{}", object.key);
    }
    // Writing them again (a rerun) is safe and changes nothing.
    blobs.put_all(written.clone()).await.expect("put all again");
    assert_eq!(
        blobs
            .list(Area::Outbound, "trusts/")
            .await
            .expect("list")
            .len(),
        17
    );
}

async fn put_new_writes_once_of_many_at_once(blobs: &dyn BlobStore) {
    let key =
        "trusts/504/notifications/trainee-queries/2026-12-03.5000001-ab.trainee-data-query.json";
    let put = |i: usize| {
        blobs.put_new(
            Area::Outbound,
            key,
            format!("writer {i}\n").into_bytes(),
            "application/json",
        )
    };
    let (a, b, c, d) = tokio::join!(put(0), put(1), put(2), put(3));
    let results = [a, b, c, d];
    let won: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| *r.as_ref().expect("put_new"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(won.len(), 1, "{results:?}");
    let read = blobs.get(Area::Outbound, key).await.unwrap().unwrap();
    assert_eq!(read, format!("writer {}\n", won[0]).into_bytes());
    assert!(!blobs
        .put_new(Area::Outbound, key, b"later".to_vec(), "application/json")
        .await
        .unwrap());
    assert_eq!(blobs.get(Area::Outbound, key).await.unwrap().unwrap(), read);
    // Nothing but the object is left behind (no partial file is listed).
    assert_eq!(
        blobs
            .list(Area::Outbound, "trusts/504/notifications/trainee-queries/")
            .await
            .unwrap(),
        [key]
    );
}

#[tokio::test]
async fn folders_write_a_new_object_once() {
    let dir = tempfile::tempdir().unwrap();
    put_new_writes_once_of_many_at_once(&FolderBlobs::new(dir.path())).await;
}

#[tokio::test]
async fn s3_writes_a_new_object_once() {
    let moto = Moto::start();
    moto.create_buckets("put-new-in", "put-new-out").await;
    let blobs = S3Blobs::new(
        moto.s3_client().await,
        S3Layout {
            inbound_bucket: "put-new-in".into(),
            inbound_prefix: "incoming/".into(),
            quarantine_prefix: "quarantine/".into(),
            outbound_bucket: "put-new-out".into(),
        },
    );
    put_new_writes_once_of_many_at_once(&blobs).await;
}

#[tokio::test]
async fn folders_write_every_object_and_refuse_a_key_leaving_the_area() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = FolderBlobs::new(dir.path());
    every_object_is_written_whole(&blobs).await;

    let mut bad = objects(4);
    bad[3].key = "../outside.json".into();
    assert!(matches!(
        blobs.put_all(bad).await,
        Err(BlobError::BadKey(key)) if key == "../outside.json"
    ));
    assert!(!dir.path().join("outside.json").exists());
}

#[tokio::test]
async fn s3_writes_every_object_and_reports_a_failed_put() {
    let moto = Moto::start();
    moto.create_buckets("put-all-in", "put-all-out").await;
    let layout = |outbound: &str| S3Layout {
        inbound_bucket: "put-all-in".into(),
        inbound_prefix: "incoming/".into(),
        quarantine_prefix: "quarantine/".into(),
        outbound_bucket: outbound.into(),
    };
    let blobs = S3Blobs::new(moto.s3_client().await, layout("put-all-out"));
    every_object_is_written_whole(&blobs).await;

    let missing = S3Blobs::new(moto.s3_client().await, layout("no-such-bucket"));
    let failed = missing.put_all(objects(5)).await;
    assert!(
        matches!(&failed, Err(BlobError::Unavailable(message)) if message.contains("PutObject")),
        "{failed:?}"
    );
}

//! The worklist's read cost (section 11) on DynamoDB (moto): it reads the trust's applicants near
//! their dates through the hire-date index, never the other trusts' or the far-off ones, and it
//! gives the same worklist as SQLite.

use chrono::Days;
use dit_aws::dynamo::DynamoStore;
use dit_core::ports::{BlobStore, NewApplicant, StateStore};
use dit_core::service::context::Context;
use dit_core::service::worklist::worklist;
use dit_domain::lifecycle::ApplicantState;
use dit_domain::org::Organisations;
use dit_domain::worklist::read_window;
use dit_embedded::folders::FolderBlobs;
use dit_embedded::sqlite::SqliteStore;
use dit_test_support::fixtures::{at, date, new_applicant, position};
use dit_test_support::{Moto, RequestCounter};

const TABLE: &str = "dit-state";

fn organisations() -> Organisations {
    let mut text = String::new();
    for vpd in ["RJ1", "RJ7", "RQM"] {
        text.push_str(&format!(
            "[[organisation]]\nvpd = \"{vpd}\"\nname = \"Trust {vpd}\"\nlocal_office = \"LDN\"\nmode = \"full\"\nlive = true\n\n"
        ));
    }
    Organisations::from_toml(&text, "test").unwrap()
}

/// 90 applicants of three trusts: a fifth hired near D (D - 30 to D + 30), the others far from it
/// (200 days either side).
fn applicants(d: chrono::NaiveDate) -> Vec<NewApplicant> {
    (0..90)
        .map(|i| {
            let mut new = new_applicant(5_000_001 + i as u64, i);
            let k = (i % 30) as u64 + 1;
            let (near, far) = (i % 5 == 0, Days::new(200 + k));
            new.applicant.projected_hire_date = match (near, i % 2 == 0) {
                (true, true) => d.checked_add_days(Days::new(k)).unwrap(),
                (true, false) => d.checked_sub_days(Days::new(k)).unwrap(),
                (false, true) => d.checked_add_days(far).unwrap(),
                (false, false) => d.checked_sub_days(far).unwrap(),
            };
            new.applicant.state = [
                ApplicantState::Loaded,
                ApplicantState::Offered,
                ApplicantState::Accepted,
            ][i % 3];
            new
        })
        .collect()
}

async fn load(store: &dyn StateStore, all: &[NewApplicant]) {
    let positions: Vec<_> = ["RJ1", "RJ7", "RQM"]
        .iter()
        .flat_map(|vpd| (0..50).map(move |i| position(vpd, i, &format!("LDN/{vpd}/MED/{i:03}"))))
        .collect();
    store.save_positions(&positions).await.unwrap();
    for chunk in all.chunks(20) {
        store.create_applicants(chunk).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worklist_reads_only_the_trusts_applicants_near_their_dates() {
    let d = date(2027, 3, 1);
    let moto = Moto::start();
    moto.create_table(TABLE).await;
    let all = applicants(d);
    load(&DynamoStore::new(moto.dynamo_client().await, TABLE), &all).await;

    let counter = RequestCounter::new();
    let store = DynamoStore::new(moto.counting_dynamo_client(counter.clone()).await, TABLE);
    let dir = tempfile::tempdir().unwrap();
    let blobs = FolderBlobs::new(dir.path());
    let organisations = organisations();
    let ctx = Context::new(&store, &blobs as &dyn BlobStore, &organisations, at(1, 6));
    let list = worklist(&ctx, "RJ1", d).await.unwrap();

    let (from, to) = read_window(d);
    let near: Vec<_> = all
        .iter()
        .map(|n| &n.applicant)
        .filter(|a| a.vpd == "RJ1" && a.projected_hire_date >= from && a.projected_hire_date <= to)
        .collect();
    let stored_rj1 = all.iter().filter(|n| n.applicant.vpd == "RJ1").count();
    assert!(
        !near.is_empty() && near.len() * 2 < stored_rj1,
        "{} of {stored_rj1}",
        near.len()
    );
    assert_eq!(counter.count("Scan"), 0, "no Scan");
    assert_eq!(
        counter.items_queried_or_scanned(),
        near.len() as u64,
        "items read must be the trust's applicants near the date: {:?}",
        counter.snapshot()
    );
    let rows: usize = list.counts().iter().sum();
    assert!(rows > 0);

    // The same worklist from SQLite.
    let sqlite = SqliteStore::in_memory().unwrap();
    load(&sqlite, &all).await;
    let ctx = Context::new(&sqlite, &blobs as &dyn BlobStore, &organisations, at(1, 6));
    assert_eq!(worklist(&ctx, "RJ1", d).await.unwrap(), list);
}

//! Retention of personal data (section 8), a test per row of the table: on DynamoDB (moto) every
//! item holding personal data carries the TTL attribute the policy gives it; on SQLite
//! `SqliteStore::purge` removes exactly what is past its time on a date. (The buckets' lifecycle
//! rules and the dead-letter queues are checked on moto by scripts/local-cloud-test.sh; files of
//! the data directory by `dit purge` in cli/tests/purge.rs.)

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::NaiveDate;
use dit_core::domain::boundary::Principal;
use dit_core::domain::lifecycle::ApplicantState;
use dit_core::domain::model::RejectedLookup;
use dit_core::domain::retention::{ttl_seconds, TTL_ATTRIBUTE};
use dit_test_support::applicants::{action, app, Env, DPN_100, LEAD_504, SECOND_504};
use dit_test_support::Moto;

const TABLE: &str = "dit-state";

fn d(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// The fixtures' applicants, then: SECOND_504 withdrawn by its trust (2026-11-21), one APP record
/// rejected (no LAST_NAME) in a file of 2026-11-21.
async fn prepare(env: &Env) {
    env.load().await;
    let result = env
        .send_as(
            Principal::Trust("504".into()),
            &action("w-1", "withdraw", "504", SECOND_504).to_string(),
        )
        .await;
    assert_eq!(
        env.store
            .applicant(SECOND_504)
            .await
            .unwrap()
            .unwrap()
            .state,
        ApplicantState::Withdrawn,
        "{result:?}"
    );
    let rejected = app("90", "100", DPN_100, "7000090").replacen(",Trainee,", ",,", 1);
    let report = env.process_app(9, &[rejected]).await;
    assert_eq!(report.rejected, 1, "{report:?}");
}

async fn item(
    client: &aws_sdk_dynamodb::Client,
    pk: &str,
    sk: &str,
) -> HashMap<String, AttributeValue> {
    client
        .get_item()
        .table_name(TABLE)
        .key("PK", AttributeValue::S(pk.into()))
        .key("SK", AttributeValue::S(sk.into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap_or_else(|| panic!("no item {pk} {sk}"))
}

fn ttl(item: &HashMap<String, AttributeValue>) -> i64 {
    match item.get(TTL_ATTRIBUTE) {
        Some(AttributeValue::N(n)) => n.parse().unwrap(),
        other => panic!("no {TTL_ATTRIBUTE}: {other:?} in {:?}", item.get("PK")),
    }
}

async fn items_of(
    client: &aws_sdk_dynamodb::Client,
    pk: &str,
) -> Vec<HashMap<String, AttributeValue>> {
    client
        .query()
        .table_name(TABLE)
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(pk.into()))
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_item_with_personal_data_carries_its_ttl_on_moto() {
    let moto = Moto::start();
    let env = Env::moto(&moto).await;
    prepare(&env).await;
    let client = moto.dynamo_client().await;

    // Hired and other live applicants: a year after the projected end date (here none: the
    // projected hire date 2027-02-03), on the applicant, its history and its placement link.
    let live = ttl_seconds(d("2028-02-03"));
    let applicant = item(&client, &format!("APPLICANT#{LEAD_504}"), "A").await;
    assert_eq!(ttl(&applicant), live);
    let entries = items_of(&client, &format!("APPLICANT#{LEAD_504}")).await;
    assert!(entries.len() >= 2, "the applicant and its history");
    for entry in &entries {
        assert_eq!(ttl(entry), live);
    }
    assert_eq!(ttl(&item(&client, "PLACEMENT#1", "PLACEMENT").await), live);

    // Withdrawn: a year after the withdrawal, on the applicant and every history entry written
    // before it, and its placement link.
    let withdrawn = ttl_seconds(d("2027-11-21"));
    let entries = items_of(&client, &format!("APPLICANT#{SECOND_504}")).await;
    assert!(
        entries.len() >= 3,
        "the applicant, its load and its withdrawal"
    );
    for entry in &entries {
        assert_eq!(ttl(entry), withdrawn, "{:?}", entry.get("SK"));
    }
    assert_eq!(
        ttl(&item(&client, "PLACEMENT#2", "PLACEMENT").await),
        withdrawn
    );

    // Rejected applications: 90 days after their file (2026-11-21).
    let rejected = env
        .store
        .rejected_applications(RejectedLookup::Placement("90"))
        .await
        .unwrap();
    assert_eq!(rejected.len(), 1);
    let items = items_of(&client, "REJECTED#90").await;
    assert_eq!(items.len(), 1);
    assert_eq!(ttl(&items[0]), ttl_seconds(d("2027-02-19")));

    // Person records: as long as the person's newest applicant.
    let persons = client
        .scan()
        .table_name(TABLE)
        .filter_expression("begins_with(PK, :p)")
        .expression_attribute_values(":p", AttributeValue::S("PERSON#".into()))
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    assert!(!persons.is_empty());
    for person in &persons {
        assert!(ttl(person) >= withdrawn, "{:?}", person.get("PK"));
    }
}

#[tokio::test]
async fn purge_removes_each_kind_on_its_day_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(
        dit_embedded::sqlite::SqliteStore::open(&dir.path().join("state.db")).unwrap(),
    );
    let env = Env::new(
        store.clone(),
        std::sync::Arc::new(dit_embedded::folders::FolderBlobs::new(dir.path())),
    );
    prepare(&env).await;
    let rejected = |env: &Env| {
        let env = env.clone();
        async move {
            env.store
                .rejected_applications(RejectedLookup::Placement("90"))
                .await
                .unwrap()
                .len()
        }
    };
    let present = |env: &Env, number: &'static str| {
        let env = env.clone();
        async move { env.store.applicant(number).await.unwrap().is_some() }
    };

    // Rejected applications: kept up to 90 days after their file, gone the day after.
    assert_eq!(
        store.purge(d("2027-02-19")).unwrap().rejected_applications,
        0
    );
    assert_eq!(rejected(&env).await, 1);
    assert_eq!(
        store.purge(d("2027-02-20")).unwrap().rejected_applications,
        1
    );
    assert_eq!(rejected(&env).await, 0);

    // Withdrawn: a year after the withdrawal, with its history and placement link.
    assert_eq!(store.purge(d("2027-11-21")).unwrap().applicants, 0);
    assert!(present(&env, SECOND_504).await);
    let purged = store.purge(d("2027-11-22")).unwrap();
    assert_eq!(purged.applicants, 1, "{purged:?}");
    assert!(purged.history >= 2, "{purged:?}");
    assert_eq!(purged.placements, 1, "{purged:?}");
    assert!(!present(&env, SECOND_504).await);
    assert!(env.store.history(SECOND_504).await.unwrap().is_empty());
    assert!(env
        .store
        .placements(&["2".to_string()])
        .await
        .unwrap()
        .is_empty());
    assert!(present(&env, LEAD_504).await);

    // Live applicants: a year after the projected end date (the hire date without one).
    assert_eq!(store.purge(d("2028-02-03")).unwrap().applicants, 0);
    let purged = store.purge(d("2028-02-04")).unwrap();
    assert_eq!(purged.applicants, 3, "{purged:?}");
    assert!(purged.persons >= 1, "{purged:?}");
    assert!(!present(&env, LEAD_504).await);
    // A second run on the same date finds nothing more.
    assert_eq!(
        store.purge(d("2028-02-04")).unwrap(),
        dit_embedded::sqlite::Purged::default()
    );
}

//! Retention of personal data (section 8), a test per row of the table: on DynamoDB (moto) every
//! item holding personal data, and every operator record (processed file, TIS number received),
//! carries the TTL attribute the policy gives it; on SQLite
//! `SqliteStore::purge` removes exactly what is past its time on a date. (The buckets' lifecycle
//! rules, the dead-letter queues' retention and the table's TTL setting are read back from moto by
//! scripts/local-cloud-test.sh; files of the data directory are removed by `dit purge`, tested in
//! cli/tests/purge.rs.)

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::NaiveDate;
use dit_core::service::messages::answering::AnswerStatus;
use dit_core::service::report::Outcome;
use dit_domain::boundary::Principal;
use dit_domain::dnc::DNC_FIELDS;
use dit_domain::lifecycle::ApplicantState;
use dit_domain::model::{FileClaim, FileStatus, ProcessedFile, RejectedLookup};
use dit_domain::retention::{ttl_seconds, TTL_ATTRIBUTE};
use dit_test_support::applicants::with_fields;
use dit_test_support::applicants::{
    action, app, envelope, Env, DPN_100, DPN_101, LEAD_504, SECOND_504,
};
use dit_test_support::Moto;
use serde_json::json;

const TABLE: &str = "dit-state";
/// The placement link's attribute holding the creation history (`dit_aws::dynamo::keys`).
const HISTORY_ENTRIES: &str = "entries";

fn d(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// The placement of the hired applicant [`prepare`] makes.
const HIRED_PLACEMENT: &str = "5";

/// A DNC record of KSS for trust 504 with these fields.
fn dnc(fields: &[(&str, &str)]) -> String {
    let mut line: Vec<String> = DNC_FIELDS.iter().map(|_| String::new()).collect();
    for (field, value) in [
        ("RECORD_CODE", "DNC"),
        ("MANAGING_DEANERY_BODY", "KSS"),
        ("VPD", "504"),
        ("POST_SPECIALTY", "Cardiology"),
        ("SITE", "Example Hospital"),
    ]
    .iter()
    .chain(fields)
    {
        let i = DNC_FIELDS.iter().position(|f| f == field).unwrap();
        line[i] = (*value).to_string();
    }
    line.join(",")
}

/// The fixtures' applicants, then: SECOND_504 withdrawn by its trust (2026-11-21), one APP record
/// rejected (no LAST_NAME) in a file of 2026-11-21; an applicant (placement 5) loaded with the
/// projected end date 2029-08-31, hired, given a person update, then re-dated by a DNC of
/// 2026-11-21 to end on 2029-09-30; that DNC also sets the rotation row of position 100 and names
/// a current holder (GMC 7000099) who has no applicant. Returns the hired applicant's number.
async fn prepare(env: &Env) -> String {
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

    let with_end = with_fields(
        &app(HIRED_PLACEMENT, "101", DPN_101, "7000005"),
        &[("PROJECTED_END_DATE", "2029-08-31")],
    );
    let report = env.process_app(10, &[with_end]).await;
    assert_eq!(report.loaded, 1, "{report:?}");
    let number = env
        .store
        .placements(&[HIRED_PLACEMENT.to_string()])
        .await
        .unwrap()
        .remove(HIRED_PLACEMENT)
        .expect("the placement link")
        .applicant_number;
    for step in ["offer", "accept", "hire"] {
        let mut body = action(&format!("{step}-h"), step, "504", &number);
        body["person_type"] = json!("Employee");
        let result = env.send(&body.to_string()).await;
        assert_eq!(result.answer.status, AnswerStatus::Accepted, "{result:?}");
    }
    let mut update = action("pu-h", "person_update", "504", &number);
    update["effective_date"] = json!("2027-03-01");
    update["person"] = json!({"MOBILE_TEL": "07700900111"});
    let result = env.send(&update.to_string()).await;
    assert_eq!(result.answer.status, AnswerStatus::Accepted, "{result:?}");
    assert_eq!(env.store.person_updates("504").await.unwrap().len(), 1);

    let report = env
        .process(
            "DE_KSS_DNC_20261121_00000040.DAT",
            &envelope(
                "DNC",
                "KSS",
                40,
                &[
                    dnc(&[
                        ("NOTIFICATION_TYPE", "1"),
                        ("DEANERY_POST_NUMBER", DPN_100),
                        ("POSITION_ID", "100"),
                        ("CURRENT_LAST_NAME", "Holder"),
                        ("CURRENT_FIRST_NAME", "Current"),
                        ("CURRENT_GMC_NUMBER", "7000099"),
                    ]),
                    dnc(&[
                        ("NOTIFICATION_TYPE", "4"),
                        ("DEANERY_POST_NUMBER", DPN_101),
                        ("POSITION_ID", "101"),
                        ("CURRENT_LAST_NAME", "Trainee"),
                        ("CURRENT_FIRST_NAME", "Test"),
                        ("CURRENT_GMC_NUMBER", "7000005"),
                        ("CHANGE_OF_PROJECTED_END_DATE", "2029-09-30"),
                    ]),
                ],
            ),
        )
        .await;
    assert_eq!(report.outcome, Outcome::Processed, "{report:?}");
    assert_eq!(report.loaded, 2, "{report:?}");
    let hired = env.store.applicant(&number).await.unwrap().unwrap();
    assert_eq!(hired.state, ApplicantState::Hired);
    assert_eq!(hired.projected_end_date, Some(d("2029-09-30")));
    assert_eq!(env.store.rotation_grid("504").await.unwrap().len(), 1);
    number
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
    let hired = prepare(&env).await;
    let client = moto.dynamo_client().await;

    // Hired and other live applicants: a year after the projected end date (here none: the
    // projected hire date 2027-02-03), on the applicant, its history and its placement link.
    let live = ttl_seconds(d("2028-02-03"));
    let applicant = item(&client, &format!("APPLICANT#{LEAD_504}"), "A").await;
    assert_eq!(ttl(&applicant), live);
    // Its partition (the applicant, and any later history) and its placement link, which carries
    // its creation history (received, loaded).
    let entries = items_of(&client, &format!("APPLICANT#{LEAD_504}")).await;
    assert!(!entries.is_empty(), "the applicant");
    for entry in &entries {
        assert_eq!(ttl(entry), live);
    }
    let link = item(&client, "PLACEMENT#1", "PLACEMENT").await;
    match link.get(HISTORY_ENTRIES) {
        Some(AttributeValue::L(created)) => assert_eq!(created.len(), 2, "{link:?}"),
        other => panic!("no creation history in the link: {other:?}"),
    }
    assert_eq!(ttl(&link), live);

    // Withdrawn: a year after the withdrawal, on the applicant and every history entry written
    // before it, and its placement link.
    let withdrawn = ttl_seconds(d("2027-11-21"));
    let entries = items_of(&client, &format!("APPLICANT#{SECOND_504}")).await;
    // Its creation history is in its placement link (checked below).
    assert!(entries.len() >= 2, "the applicant and its withdrawal");
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
    assert!(
        persons.len() >= 5,
        "four fixtures, the hired one and 7000099"
    );
    for person in &persons {
        assert!(ttl(person) >= withdrawn, "{:?}", person.get("PK"));
    }

    // Hired: a year after the projected end date as the DNC re-dated it (2029-09-30), on the
    // applicant, its history, its placement link and its person update written before the DNC.
    let hired_until = ttl_seconds(d("2030-09-30"));
    let entries = items_of(&client, &format!("APPLICANT#{hired}")).await;
    assert!(
        entries.len() >= 5,
        "the applicant, its load, offer, accept, hire"
    );
    for entry in &entries {
        assert_eq!(ttl(entry), hired_until, "{:?}", entry.get("SK"));
    }
    assert_eq!(
        ttl(&item(
            &client,
            &format!("PLACEMENT#{HIRED_PLACEMENT}"),
            "PLACEMENT"
        )
        .await),
        hired_until
    );
    let person = env
        .store
        .applicant(&hired)
        .await
        .unwrap()
        .unwrap()
        .person_key
        .expect("a person key");
    assert_eq!(
        ttl(&item(&client, &format!("PERSON#504#{person}"), "PERSON").await),
        hired_until,
        "the person record is kept as long as its applicant"
    );
    let updates = items_of(&client, "PERSONUPDATE#504").await;
    assert_eq!(updates.len(), 1);
    assert_eq!(ttl(&updates[0]), hired_until);

    // Rotation rows (the MEDROT's names): 90 days after the file that set them (2026-11-21).
    let rows = items_of(&client, "ROTATION#504").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(ttl(&rows[0]), ttl_seconds(d("2027-02-19")));

    // Operator records (no personal data): processed-file records and the TIS numbers received,
    // a year after their file's business date (2026-11-21).
    let operator = ttl_seconds(d("2027-11-21"));
    for identity in [
        "KSS#APP#00000001",
        "KSS#APP#00000010",
        "KSS#DNC#00000040",
        "504#POS#00000001",
    ] {
        let file = item(&client, &format!("FILE#{identity}"), "FILE").await;
        assert_eq!(ttl(&file), operator, "{identity}");
    }
    for file_type in ["APP", "DNC"] {
        let numbers = items_of(&client, &format!("RECEIVED#{file_type}")).await;
        assert!(!numbers.is_empty(), "{file_type}");
        for number in &numbers {
            assert_eq!(ttl(number), operator, "{:?}", number.get("SK"));
        }
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
    let hired = prepare(&env).await;
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
    let present = |env: &Env, number: &str| {
        let env = env.clone();
        let number = number.to_string();
        async move { env.store.applicant(&number).await.unwrap().is_some() }
    };

    // Rejected applications and rotation rows: kept up to 90 days after their file, gone the day
    // after.
    let purged = store.purge(d("2027-02-19")).unwrap();
    assert_eq!(purged.rejected_applications, 0, "{purged:?}");
    assert_eq!(purged.rotation_rows, 0, "{purged:?}");
    assert_eq!(rejected(&env).await, 1);
    assert_eq!(env.store.rotation_grid("504").await.unwrap().len(), 1);
    let purged = store.purge(d("2027-02-20")).unwrap();
    assert_eq!(purged.rejected_applications, 1, "{purged:?}");
    assert_eq!(purged.rotation_rows, 1, "{purged:?}");
    assert_eq!(rejected(&env).await, 0);
    assert!(env.store.rotation_grid("504").await.unwrap().is_empty());

    // Withdrawn: a year after the withdrawal, with its history and placement link. Operator
    // records (processed files, TIS numbers received): a year after their file (all 2026-11-21).
    let app_numbers = |env: &Env| {
        let env = env.clone();
        async move {
            env.store
                .received_sequences_between_numbers("APP", 0, 99_999_999)
                .await
                .unwrap()
                .len()
        }
    };
    let first_app_again = ProcessedFile {
        identity: "KSS#APP#00000001".into(),
        source: "KSS".into(),
        file_type: "APP".into(),
        seq: 1,
        name: "DE_KSS_APP_20261121_00000001.DAT".into(),
        sha256: "other content".into(),
        business_date: d("2026-11-21"),
        status: FileStatus::InProgress,
        claimed_at: "2027-11-23T09:00:00Z".parse().unwrap(),
        completed_at: None,
        summary: None,
    };
    let purged = store.purge(d("2027-11-21")).unwrap();
    assert_eq!(purged.applicants, 0, "{purged:?}");
    assert_eq!(purged.files, 0, "{purged:?}");
    assert_eq!(purged.received_sequences, 0, "{purged:?}");
    assert!(present(&env, SECOND_504).await);
    assert_eq!(app_numbers(&env).await, 3, "APP 1, 9 and 10");
    assert!(matches!(
        env.store.claim_file(&first_app_again).await.unwrap(),
        FileClaim::DifferentContent(_)
    ));
    let purged = store.purge(d("2027-11-22")).unwrap();
    assert_eq!(purged.files, 7, "three POS, three APP, one DNC: {purged:?}");
    assert_eq!(purged.received_sequences, 4, "{purged:?}");
    assert_eq!(app_numbers(&env).await, 0);
    assert_eq!(
        env.store.claim_file(&first_app_again).await.unwrap(),
        FileClaim::New,
        "a file sent again after a year is judged afresh"
    );
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

    // Hired and its person updates: a year after the projected end date as re-dated.
    let purged = store.purge(d("2030-09-30")).unwrap();
    assert_eq!(purged, dit_embedded::sqlite::Purged::default());
    assert!(present(&env, &hired).await);
    assert_eq!(env.store.person_updates("504").await.unwrap().len(), 1);
    let purged = store.purge(d("2030-10-01")).unwrap();
    assert_eq!(purged.applicants, 1, "{purged:?}");
    assert_eq!(purged.person_updates, 1, "{purged:?}");
    assert_eq!(purged.placements, 1, "{purged:?}");
    assert!(purged.history >= 5, "{purged:?}");
    assert!(!present(&env, &hired).await);
    assert!(env.store.person_updates("504").await.unwrap().is_empty());
}

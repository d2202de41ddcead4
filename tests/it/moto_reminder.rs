//! The new-starter reminder through the scheduled-jobs handler on DynamoDB and S3 (moto): its reads
//! grow with the starters due within 5 days, not with the applicants stored (late starters, hired
//! within the 5 days and never reminded, included), nobody is reminded twice, and its outputs are
//! the embedded run's byte for byte.

use std::collections::BTreeMap;

use chrono::{Days, Utc};
use dit_aws::dynamo::DynamoStore;
use dit_aws::s3::{S3Blobs, S3Layout};
use dit_core::ports::{Area, BlobStore, NewApplicant, StateStore};
use dit_core::service::context::{Context, Ports, Settings};
use dit_core::service::reminders;
use dit_core::service::NoProgress;
use dit_domain::lifecycle::ApplicantState;
use dit_domain::model::Applicant;
use dit_domain::org::Organisations;
use dit_embedded::folders::FolderBlobs;
use dit_embedded::sqlite::SqliteStore;
use dit_test_support::fixtures::{date, new_applicant, position};
use dit_test_support::{Moto, RequestCounter};
use scheduled_jobs::{handle, JobReport, JobResponse};

const INBOUND: &str = "dit-inbound";
const OUTBOUND: &str = "dit-outbound";
const TABLE: &str = "dit-state";
/// Applicants hired on the reminder's day + 5. (moto copies the whole table for every transaction, so
/// loading grows with the square of the applicants: kept small, the ratio is what matters.)
const STARTERS: usize = 12;
/// Applicants hired on other days: ten times as many.
const OTHERS: usize = 10 * STARTERS;
const BATCH: usize = 20;

fn organisations() -> Organisations {
    let text = r#"
[[organisation]]
vpd = "RJ1"
name = "Trust RJ1"
local_office = "LDN"
mode = "full"
live = true

[[organisation]]
vpd = "RJ7"
name = "Trust RJ7"
local_office = "LDN"
mode = "part"
live = true

[[organisation]]
vpd = "RQM"
name = "Trust RQM"
local_office = "LDN"
mode = "part"
live = false
"#;
    Organisations::from_toml(text, "test").unwrap()
}

/// The fixture applicants: the first [`STARTERS`] hired on `hire` (loaded, offered or accepted),
/// the next [`OTHERS`] on the 20 days either side of it.
fn applicants(hire: chrono::NaiveDate) -> Vec<NewApplicant> {
    (0..STARTERS + OTHERS)
        .map(|i| {
            let mut new = new_applicant(5_000_001 + i as u64, i);
            if i < STARTERS {
                new.applicant.projected_hire_date = hire;
                new.applicant.state = [
                    ApplicantState::Loaded,
                    ApplicantState::Offered,
                    ApplicantState::Accepted,
                ][i % 3];
            } else {
                let k = (i % 20) as u64 + 1;
                new.applicant.projected_hire_date = if i % 2 == 0 {
                    hire.checked_add_days(Days::new(k)).unwrap()
                } else {
                    hire.checked_sub_days(Days::new(k)).unwrap()
                };
            }
            new
        })
        .collect()
}

async fn load(store: &dyn StateStore, applicants: &[NewApplicant]) {
    let positions: Vec<_> = ["RJ1", "RJ7", "RQM"]
        .iter()
        .flat_map(|vpd| (0..50).map(move |i| position(vpd, i, &format!("LDN/{vpd}/MED/{i:03}"))))
        .collect();
    store.save_positions(&positions).await.unwrap();
    for chunk in applicants.chunks(BATCH) {
        store.create_applicants(chunk).await.unwrap();
    }
}

async fn s3_objects(s3: &aws_sdk_s3::Client) -> BTreeMap<String, Vec<u8>> {
    let mut objects = BTreeMap::new();
    let listed = s3.list_objects_v2().bucket(OUTBOUND).send().await.unwrap();
    for object in listed.contents.unwrap_or_default() {
        let key = object.key.unwrap();
        let body = s3
            .get_object()
            .bucket(OUTBOUND)
            .key(&key)
            .send()
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .into_bytes()
            .to_vec();
        objects.insert(key, body);
    }
    objects
}

/// The fixture applicants a run for `business_date` reads: hired from its next day to 5 days on.
fn due_within_five_days(all: &[NewApplicant], business_date: chrono::NaiveDate) -> Vec<&Applicant> {
    all.iter()
        .map(|new| &new.applicant)
        .filter(|a| {
            a.projected_hire_date > business_date
                && a.projected_hire_date <= business_date.checked_add_days(Days::new(5)).unwrap()
        })
        .collect()
}

fn job(business_date: &str) -> serde_json::Value {
    serde_json::json!({
        "job": "new-starter-reminder",
        "scheduled_time": format!("{business_date}T06:00:00Z")
    })
}

async fn run_job(deps: &Ports, business_date: &str) -> reminders::ReminderReport {
    let response = handle(
        deps,
        lambda_runtime::LambdaEvent::new(job(business_date), lambda_runtime::Context::default()),
    )
    .await
    .unwrap();
    let JobResponse::Done {
        report: JobReport::NewStarterReminder(report),
        ..
    } = response
    else {
        panic!("not done: {response:?}");
    };
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reminder_reads_only_the_starters_due_within_five_days_however_many_applicants_are_stored(
) {
    let business_date = date(2027, 1, 29);
    let hire = date(2027, 2, 3);
    let moto = Moto::start();
    moto.create_table(TABLE).await;
    let s3 = moto.create_buckets(INBOUND, OUTBOUND).await;
    let all = applicants(hire);
    load(&DynamoStore::new(moto.dynamo_client().await, TABLE), &all).await;

    let counter = RequestCounter::new();
    let deps = Ports {
        store: Box::new(DynamoStore::new(
            moto.counting_dynamo_client(counter.clone()).await,
            TABLE,
        )),
        blobs: Box::new(S3Blobs::new(
            s3.clone(),
            S3Layout {
                inbound_bucket: INBOUND.into(),
                inbound_prefix: "incoming/".into(),
                quarantine_prefix: "quarantine/".into(),
                outbound_bucket: OUTBOUND.into(),
            },
        )),
        mailer: Box::new(dit_core::ports::NoMailer),
        organisations: organisations(),
        settings: Settings::default(),
    };
    let report = run_job(&deps, "2027-01-29").await;

    let items = counter.items_queried_or_scanned();
    eprintln!(
        "{} applicants stored, {STARTERS} starting on {hire}: {items} items read by Query/Scan; \
         requests {:?}; items by operation: Query {}, Scan {}, GetItem {}, BatchGetItem {}",
        all.len(),
        counter.snapshot(),
        counter.items_read("Query"),
        counter.items_read("Scan"),
        counter.items_read("GetItem"),
        counter.items_read("BatchGetItem"),
    );
    let due = due_within_five_days(&all, business_date);
    // Those hired before D + 5 were never reminded (no earlier run): late.
    let late = due.iter().filter(|a| a.projected_hire_date < hire).count();
    assert!(
        late > 0 && due.len() < all.len() / 3,
        "{} of {}",
        due.len(),
        all.len()
    );
    assert_eq!(counter.count("Scan"), 0, "no Scan");
    assert_eq!(
        items,
        due.len() as u64,
        "items read by Query/Scan must equal the starters due within 5 days"
    );
    // Each starter is marked reminded with one conditional write of the item as read: no reads.
    assert_eq!(counter.count("GetItem"), 1, "the watermark only");
    assert_eq!(report.dates.len(), 1);
    let day = &report.dates[0];
    assert_eq!(day.read, due.len());
    assert_eq!(day.starters, due.len());
    assert_eq!(day.late, late);
    // One position lookup for the day (BatchGetItem pages of up to 100 keys).
    assert_eq!(counter.count("BatchGetItem"), 1);
    let vpds: Vec<&str> = day.trusts.iter().map(|t| t.vpd.as_str()).collect();
    assert_eq!(vpds, ["RJ1", "RJ7"]);
    assert_eq!(day.not_notified.len(), 1);
    assert_eq!(day.not_notified[0].vpd, "RQM");
    assert!(day.trusts.iter().any(|t| t.honorary > 0));
    assert_eq!(
        deps.store.watermark(reminders::JOB).await.unwrap(),
        Some(business_date)
    );

    // The next day reads the starters due within its 5 days and reminds only those hired on its
    // D + 5: everyone else among them was reminded the day before.
    counter.reset();
    let next_date = date(2027, 1, 30);
    let next = run_job(&deps, "2027-01-30").await;
    let due_next = due_within_five_days(&all, next_date);
    let new_due: Vec<_> = due_next
        .iter()
        .filter(|a| a.projected_hire_date == next_date.checked_add_days(Days::new(5)).unwrap())
        .collect();
    assert!(!new_due.is_empty());
    assert_eq!(counter.count("Scan"), 0, "no Scan");
    assert_eq!(counter.items_queried_or_scanned(), due_next.len() as u64);
    // RQM is not live: its starters were not reminded, so they are still late starters (counted,
    // not reminded); the live trusts' are not named again.
    let not_live_late = due_next
        .iter()
        .filter(|a| a.vpd == "RQM" && a.projected_hire_date < next_date + Days::new(5))
        .count();
    assert!(not_live_late > 0);
    let next_day = &next.dates[0];
    assert_eq!(
        (next_day.starters, next_day.late),
        (new_due.len() + not_live_late, not_live_late)
    );
    assert!(next_day.trusts.iter().all(|t| t.late == 0), "{next_day:?}");
    assert_eq!(next_day.read, due_next.len());

    // The counter sees what a read costs: another day's query reads that day's applicants.
    counter.reset();
    let next_day = hire.checked_add_days(Days::new(3)).unwrap();
    let expected = all
        .iter()
        .filter(|a| a.applicant.projected_hire_date == next_day)
        .count();
    assert!(expected > 0);
    let read = deps.store.applicants_starting_on(next_day).await.unwrap();
    assert_eq!(read.len(), expected);
    assert_eq!(counter.items_queried_or_scanned(), expected as u64);

    // The embedded run of the same data writes the same keys and bytes.
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::in_memory().unwrap();
    load(&store, &all).await;
    let blobs = FolderBlobs::new(dir.path());
    let orgs = organisations();
    let settings = Settings::default();
    let ctx = Context {
        store: &store,
        blobs: &blobs,
        mailer: &dit_core::ports::NoMailer,
        metrics: &dit_core::ports::NoMetrics,
        organisations: &orgs,
        settings: &settings,
        progress: &NoProgress,
        now: Utc::now(),
    };
    let local = reminders::run(&ctx, business_date).await.unwrap();
    assert_eq!(local.dates, report.dates);
    let local_next = reminders::run(&ctx, next_date).await.unwrap();
    assert_eq!(local_next.dates, next.dates);
    let mut embedded = BTreeMap::new();
    for key in blobs.list(Area::Outbound, "").await.unwrap() {
        let bytes = blobs.get(Area::Outbound, &key).await.unwrap().unwrap();
        embedded.insert(key, bytes);
    }
    let from_s3 = s3_objects(&s3).await;
    assert_eq!(
        from_s3.len(),
        10,
        "two days x (two trusts x (JSON, HTML) + the operator record)"
    );
    assert_eq!(from_s3, embedded);
}

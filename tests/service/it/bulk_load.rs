//! A bulk load on SQLite commits its applicants in groups rather than chunk by chunk (see
//! `StateStore::begin_bulk`). These tests hold it to what that promises: a process that dies in
//! the middle of an APP file keeps the groups committed before and loses the rest whole (never
//! half an applicant), and running the file again loads every record once, with the numbers and
//! outputs a clean run gives.

use std::sync::Arc;

use dit_core::ports::{NewApplicant, StateStore};
use dit_core::service::report::Outcome;
use dit_domain::model::RejectedLookup;
use dit_embedded::folders::FolderBlobs;
use dit_embedded::sqlite::SqliteStore;
use dit_test_support::applicants::{app, envelope, pos, Env};
use dit_test_support::faults::{Fault, Faults, FaultyStore};
use dit_test_support::fixtures::{batch, FIXTURES_TODAY};
use dit_test_support::samples::files_under;

/// Three chunks of the APP pipeline (500, 500, 200), one record in 50 rejected.
const RECORDS: usize = 1_200;
/// Two commits before the crash: after 400 and 800 applicants.
const GROUP: usize = 400;
const APP_NAME: &str = "DE_KSS_APP_20261121_00000001.DAT";

/// ESR allows 40 records per position in one file.
const POSITIONS: usize = 40;

fn position(k: usize) -> (String, String) {
    let id = 1_000 + k;
    (id.to_string(), format!("KSS/RJZ01/030/STR/{id}"))
}

fn app_file() -> String {
    let lines: Vec<String> = (1..=RECORDS)
        .map(|i| {
            let (position, dpn) = position(i % POSITIONS);
            // A DPN that is not its position's is rejected (and told to the position's trust).
            let dpn = if i % 50 == 0 { format!("{dpn}X") } else { dpn };
            let gmc = (7_100_000 + i).to_string();
            app(&i.to_string(), &position, &dpn, &gmc)
        })
        .collect();
    envelope("APP", "KSS", 1, &lines)
}

fn store(dir: &std::path::Path) -> SqliteStore {
    SqliteStore::open(&dir.join("state.db"))
        .expect("open the store")
        // The fixtures' applicants of 2025 are past their retention on today's date.
        .with_today(FIXTURES_TODAY)
        .with_bulk_commit_every(GROUP)
}

/// The placement of each of `news`, in order.
fn placement_ids(news: &[NewApplicant]) -> Vec<String> {
    news.iter()
        .map(|n| n.applicant.placement_id.clone())
        .collect()
}

async fn load_positions(env: &Env) {
    let lines: Vec<String> = (0..POSITIONS)
        .map(|k| {
            let (id, dpn) = position(k);
            pos(&id, &dpn, "Lead Employer", "504")
        })
        .collect();
    let report = env
        .process(
            "ESR_504_POS_20261121_00000001.DAT",
            &envelope("POS", "504", 1, &lines),
        )
        .await;
    assert_eq!(report.outcome, Outcome::Processed);
}

/// Every record's placement: its applicant number, or `None` when it has no applicant.
async fn placements(store: &dyn StateStore) -> Vec<Option<String>> {
    let ids: Vec<String> = (1..=RECORDS).map(|i| i.to_string()).collect();
    let links = store.placements(&ids).await.expect("read placements");
    let mut found = Vec::with_capacity(RECORDS);
    for id in &ids {
        let number = match links.get(id) {
            Some(link) => {
                let applicant = store
                    .applicant(&link.applicant_number)
                    .await
                    .expect("read an applicant");
                // A link is never written without its applicant, nor an applicant without its
                // history and person.
                let applicant =
                    applicant.unwrap_or_else(|| panic!("placement {id}: link without applicant"));
                let history = store
                    .history(&applicant.applicant_number)
                    .await
                    .expect("read history");
                assert_eq!(history.len(), 2, "placement {id}: history");
                Some(applicant.applicant_number)
            }
            None => None,
        };
        found.push(number);
    }
    found
}

async fn process_app(env: &Env) -> dit_core::service::report::FileReport {
    env.process(APP_NAME, &app_file()).await
}

#[tokio::test]
async fn a_crash_in_a_bulk_load_loses_whole_groups_and_the_rerun_converges_on_a_clean_run() {
    // The clean run.
    let clean_dir = tempfile::tempdir().unwrap();
    let clean = Env::new(
        Arc::new(store(clean_dir.path())),
        Arc::new(FolderBlobs::new(clean_dir.path())),
    );
    load_positions(&clean).await;
    let report = process_app(&clean).await;
    assert_eq!((report.loaded, report.rejected), (1_176, 24), "{report:?}");
    let clean_placements = placements(clean.store.as_ref()).await;
    assert_eq!(clean_placements.iter().flatten().count(), 1_176);

    // Which write is the 1,000th applicant's (the fault wrapper passes applicants on one at a
    // time, so the store commits after the 400th and the 800th).
    let counting_dir = tempfile::tempdir().unwrap();
    let counting = Env::new(
        Arc::new(store(counting_dir.path())),
        Arc::new(FolderBlobs::new(counting_dir.path())),
    );
    load_positions(&counting).await;
    let counted = Faults::none();
    let faulty = Env::new(
        Arc::new(FaultyStore::new(
            counting.store.clone(),
            Arc::clone(&counted),
        )),
        counting.blobs.clone(),
    );
    process_app(&faulty).await;
    let thousandth = counted.writes_of("create_applicants")[999];

    // The crashed run: the process dies just before that write.
    let dir = tempfile::tempdir().unwrap();
    let env = Env::new(
        Arc::new(store(dir.path())),
        Arc::new(FolderBlobs::new(dir.path())),
    );
    load_positions(&env).await;
    let faulty = Env::new(
        Arc::new(FaultyStore::new(
            env.store.clone(),
            Faults::at(thousandth, Fault::Panic),
        )),
        env.blobs.clone(),
    );
    let store_alive = Arc::downgrade(&env.store);
    drop(env);
    let crashed = tokio::spawn(async move { process_app(&faulty).await }).await;
    assert!(
        crashed.is_err_and(|e| e.is_panic()),
        "the run should have died"
    );
    // The process is gone: nothing holds the store, whose connection closed with the third
    // group uncommitted.
    assert!(
        store_alive.upgrade().is_none(),
        "the store outlived the crash"
    );

    let env = Env::new(
        Arc::new(store(dir.path())),
        Arc::new(FolderBlobs::new(dir.path())),
    );
    let kept = placements(env.store.as_ref()).await;
    assert_eq!(
        kept.iter().flatten().count(),
        800,
        "the two committed groups, whole, and nothing of the third"
    );
    for (kept, clean) in kept.iter().zip(&clean_placements) {
        if kept.is_some() {
            assert_eq!(
                kept, clean,
                "a kept applicant has the number a clean run gives"
            );
        }
    }
    assert!(
        !files_under(dir.path(), "outbound")
            .iter()
            .any(|(path, _)| path.contains("DE_KSS_AP")),
        "no APC or notification of the file before its load is committed"
    );

    // The rerun.
    let report = process_app(&env).await;
    assert_eq!((report.loaded, report.rejected), (1_176, 24), "{report:?}");
    assert_eq!(placements(env.store.as_ref()).await, clean_placements);
    let rejected = |env: &Env| {
        let store = env.store.clone();
        async move {
            store
                .rejected_applications(RejectedLookup::Trust("504"))
                .await
                .expect("read rejections")
                .len()
        }
    };
    assert_eq!(rejected(&env).await, rejected(&clean).await);
    assert_eq!(
        files_under(dir.path(), "outbound"),
        files_under(clean_dir.path(), "outbound"),
        "the rerun's APC and notifications are the clean run's, byte for byte"
    );
}

#[tokio::test]
async fn grouping_the_commits_changes_no_number_and_no_output_and_the_end_of_the_load_commits_the_rest(
) {
    // Committing after every write (as before bulk loads), in groups of 400, and in the
    // default groups (larger than the file).
    let mut runs = Vec::new();
    for group in [1, GROUP, usize::MAX] {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("state.db"))
            .expect("open the store")
            .with_today(FIXTURES_TODAY)
            .with_bulk_commit_every(group);
        let env = Env::new(Arc::new(store), Arc::new(FolderBlobs::new(dir.path())));
        load_positions(&env).await;
        let report = process_app(&env).await;
        assert_eq!(report.loaded, 1_176, "group {group}");
        drop(env);
        // What a second process opening the database sees once the load has ended.
        let reopened = SqliteStore::open(&dir.path().join("state.db"))
            .expect("reopen")
            .with_today(FIXTURES_TODAY);
        runs.push((
            placements(&reopened).await,
            files_under(dir.path(), "outbound"),
        ));
    }
    assert_eq!(runs[0].0.iter().flatten().count(), 1_176);
    assert!(!runs[0].1.is_empty());
    assert_eq!(runs[1], runs[0], "groups of {GROUP}");
    assert_eq!(runs[2], runs[0], "one group");
}

#[tokio::test]
async fn a_failed_write_fails_every_bulk_load_running_on_the_store_not_only_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    // Loads A and B side by side on one store.
    store.begin_bulk().await.unwrap();
    store.begin_bulk().await.unwrap();
    let b = batch(5_000_001, 0..10);
    store.create_applicants(&b).await.expect("B's applicants");
    // A's write fails (an applicant number B already has), taking the group back with B's.
    let clash = batch(5_000_001, 20..21);
    assert!(store.create_applicants(&clash).await.is_err());
    assert!(store
        .placements(&placement_ids(&b))
        .await
        .unwrap()
        .is_empty());
    // So B must not go on as if its applicants were stored: its next write and its end fail.
    assert!(store
        .create_applicants(&batch(5_000_100, 30..31))
        .await
        .is_err());
    assert!(store.end_bulk().await.is_err(), "A's end");
    assert!(store.end_bulk().await.is_err(), "B's end");

    // Run again, B's applicants are stored and kept.
    store.begin_bulk().await.unwrap();
    store.create_applicants(&b).await.expect("B again");
    store.end_bulk().await.expect("B's end");
    drop(store);
    let reopened = SqliteStore::open(&dir.path().join("state.db"))
        .unwrap()
        .with_today(FIXTURES_TODAY);
    assert_eq!(
        reopened.placements(&placement_ids(&b)).await.unwrap().len(),
        10
    );
}

/// The checkpoints of a bulk load run beside it (see `sqlite::checkpoint`): its groups reach the
/// database file while the store is open, though far fewer pages than SQLite's own threshold
/// (1,000) were written, and the WAL is gone once the store closes.
#[tokio::test]
async fn a_bulk_loads_groups_are_checkpointed_beside_it_and_the_wal_removed_on_close() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("state.db");
    let env = Env::new(
        Arc::new(store(dir.path())),
        Arc::new(FolderBlobs::new(dir.path())),
    );
    load_positions(&env).await;
    let size = || std::fs::metadata(&database).map(|m| m.len()).unwrap_or(0);
    let before = size();
    let report = process_app(&env).await;
    assert_eq!(report.loaded, 1_176, "{report:?}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while size() < before + 1_000_000 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        size() >= before + 1_000_000,
        "the load's pages should be in the database file while the store is open ({} -> {} bytes)",
        before,
        size()
    );

    drop(env);
    assert!(
        !dir.path().join("state.db-wal").exists(),
        "the WAL should be removed when the store closes"
    );
    let reopened = Env::new(
        Arc::new(store(dir.path())),
        Arc::new(FolderBlobs::new(dir.path())),
    );
    assert_eq!(
        placements(reopened.store.as_ref())
            .await
            .iter()
            .flatten()
            .count(),
        1_176
    );
}

/// What a load decides from (placements, persons) is read on a connection of its own, which
/// sees what is committed: the next chunk is decided while the writing thread holds the main
/// connection, and the bulk group not yet committed is seen only once it is.
#[tokio::test]
async fn a_loads_decisions_are_read_beside_its_open_group_and_see_it_once_committed() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let created = batch(5_000_001, 0..3);
    let placement_ids = placement_ids(&created);
    let person_keys: Vec<(String, String)> = created
        .iter()
        .filter_map(|n| Some((n.applicant.vpd.clone(), n.applicant.person_key.clone()?)))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(
        !person_keys.is_empty(),
        "the fixtures' applicants have persons"
    );

    store.begin_bulk().await.unwrap();
    store.create_applicants(&created).await.unwrap();
    assert!(
        store.placements(&placement_ids).await.unwrap().is_empty(),
        "the open group's links are not committed yet"
    );
    assert!(store.persons(&person_keys).await.unwrap().is_empty());
    // The applicant itself is read where the load writes (its own open group included).
    assert!(store
        .applicant(&created[0].applicant.applicant_number)
        .await
        .unwrap()
        .is_some());

    store.end_bulk().await.unwrap();
    assert_eq!(
        store.placements(&placement_ids).await.unwrap().len(),
        created.len()
    );
    assert_eq!(
        store.persons(&person_keys).await.unwrap().len(),
        person_keys.len()
    );
}

/// Polls `call` once (a bulk load's call is handed to the writing thread when first polled),
/// then waits for its answer.
async fn hand_over<'a, T>(
    mut call: std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>
where
    T: Send + 'a,
{
    match std::future::poll_fn(|cx| std::task::Poll::Ready(call.as_mut().poll(cx))).await {
        std::task::Poll::Ready(done) => Box::pin(std::future::ready(done)),
        std::task::Poll::Pending => call,
    }
}

/// The APP pipeline hands a chunk's applicants over before the chunk before is written: the
/// store writes the calls one after another, in the order handed over, so a group is committed
/// only between calls and a call that fails takes back none of the one before.
#[tokio::test]
async fn calls_handed_over_before_the_last_is_written_are_written_whole_one_after_another() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("state.db");
    // Every call fills a group: the group is committed after each call's last batch.
    let store = store(dir.path()).with_bulk_commit_every(1);
    // A hundred batches, held back (below) until the second call is handed over: the second's
    // batches could come between them.
    let first = batch(5_000_001, 0..1_600);
    // The second call's sixth applicant has a number of the first's: its first batch fails.
    let mut second = batch(5_020_000, 20_000..20_080);
    second[5] = batch(5_000_001, 30_000..30_001).remove(0);

    store.begin_bulk().await.unwrap();
    // Another process writing: the first call's writer waits for it, holding the connection,
    // while the second call is handed over (and encoded by this thread, the writer being busy).
    let other = rusqlite::Connection::open(&database).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let other_ends = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        other.execute_batch("COMMIT").unwrap();
    });
    let first_call = hand_over(Box::pin(store.create_applicants(&first))).await;
    let second_call = hand_over(Box::pin(store.create_applicants(&second))).await;
    let (first_done, second_done) = tokio::join!(first_call, second_call);
    other_ends.join().unwrap();
    let created = first_done.expect("the first call, written before the second's");
    assert_eq!(created.len(), first.len());
    assert!(second_done.is_err());
    assert!(store.end_bulk().await.is_err(), "the load lost a write");
    drop(store);

    let reopened = SqliteStore::open(&database)
        .unwrap()
        .with_today(FIXTURES_TODAY);
    assert_eq!(
        reopened
            .placements(&placement_ids(&first))
            .await
            .unwrap()
            .len(),
        first.len()
    );
    assert!(reopened
        .placements(&placement_ids(&second))
        .await
        .unwrap()
        .is_empty());
}

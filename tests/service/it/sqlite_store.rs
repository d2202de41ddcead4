//! The SQLite store beyond the shared contract: a chunk-sized batch of new applicants, written
//! in one transaction or, in a bulk load, in batches on a thread of its own, gives the same
//! answers, in input order, as a small one; the `report` column added after release, the
//! index dropped since, and the checkpoint thread's lower priority.

use dit_core::ports::{CreateOutcome, StateStore};
use dit_domain::reports::ReportedApplicant;
use dit_embedded::sqlite::SqliteStore;
use dit_test_support::fixtures::{batch, link_of, FIXTURES_TODAY};

#[tokio::test]
async fn a_chunk_of_applicants_keeps_input_order_with_taken_placements_among_them() {
    chunk_with_taken_placements(false).await;
}

#[tokio::test]
async fn in_a_bulk_load_a_chunk_of_applicants_keeps_input_order_with_taken_placements_among_them() {
    chunk_with_taken_placements(true).await;
}

async fn chunk_with_taken_placements(bulk: bool) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("state.db"))
        .unwrap()
        .with_today(FIXTURES_TODAY);
    if bulk {
        store.begin_bulk().await.unwrap();
    }

    // Fixtures 40, 41 and 77 loaded earlier under other numbers (a small batch).
    let mut earlier = batch(9_001, 40..42);
    earlier.extend(batch(9_003, 77..78));
    assert_eq!(
        store.create_applicants(&earlier).await.unwrap(),
        vec![CreateOutcome::Created; 3]
    );

    // A chunk of 500 (the APP pipeline's size) holding those three placements again.
    let chunk = batch(1, 0..500);
    let outcomes = store.create_applicants(&chunk).await.unwrap();
    assert_eq!(outcomes.len(), chunk.len());
    for (index, (new, outcome)) in chunk.iter().zip(&outcomes).enumerate() {
        let taken_by = earlier
            .iter()
            .find(|e| e.applicant.placement_id == new.applicant.placement_id);
        match taken_by {
            Some(first) => {
                assert_eq!(
                    outcome,
                    &CreateOutcome::PlacementTaken(link_of(first)),
                    "record {index}"
                );
                let number = &new.applicant.applicant_number;
                assert_eq!(store.applicant(number).await.unwrap(), None);
                assert!(store.history(number).await.unwrap().is_empty());
            }
            None => {
                assert_eq!(outcome, &CreateOutcome::Created, "record {index}");
                let number = &new.applicant.applicant_number;
                assert_eq!(
                    store.applicant(number).await.unwrap().as_ref(),
                    Some(&new.applicant),
                    "record {index}"
                );
                assert_eq!(store.history(number).await.unwrap(), new.history);
            }
        }
    }
    let ids: Vec<String> = chunk
        .iter()
        .map(|n| n.applicant.placement_id.clone())
        .collect();
    let links = store.placements(&ids).await.unwrap();
    assert_eq!(links.len(), 500);
    assert_eq!(
        links
            .values()
            .filter(|l| l.applicant_number.starts_with("900"))
            .count(),
        3
    );

    // Again: every placement is now taken, each by its first applicant, in input order.
    let again = store.create_applicants(&chunk).await.unwrap();
    let expected: Vec<CreateOutcome> = chunk
        .iter()
        .map(|n| CreateOutcome::PlacementTaken(links[&n.applicant.placement_id].clone()))
        .collect();
    assert_eq!(again, expected);
    if bulk {
        store.end_bulk().await.unwrap();
    }
}

/// A database made before the `report` column gains it on open; its rows, which have none, are
/// reported from their documents, and the reports are what the applicants say either way.
#[tokio::test]
async fn a_database_from_before_the_report_column_gains_it_and_reports_its_rows_alike() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let store = SqliteStore::open(&path).unwrap().with_today(FIXTURES_TODAY);
    let applicants = batch(1, 0..60);
    store.create_applicants(&applicants).await.unwrap();
    let hires = applicants.iter().map(|n| n.applicant.projected_hire_date);
    let (from, to) = (hires.clone().min().unwrap(), hires.max().unwrap());
    let sorted = |mut reported: Vec<ReportedApplicant>| {
        reported.sort_by_key(|r| format!("{r:?}"));
        reported
    };
    let expected = sorted(
        applicants
            .iter()
            .map(|n| ReportedApplicant::from(&n.applicant))
            .filter(|r| r.live_on(FIXTURES_TODAY))
            .collect(),
    );
    assert!(!expected.is_empty());
    let trust = applicants[0].applicant.vpd.clone();
    let read = |store: SqliteStore| {
        let trust = trust.clone();
        async move {
            let all = store
                .reported_applicants_starting_between(None, from, to)
                .await
                .unwrap();
            let of_trust = store
                .reported_applicants_starting_between(Some(&trust), from, to)
                .await
                .unwrap();
            assert!(!of_trust.is_empty() && of_trust.iter().all(|r| r.vpd == trust));
            all
        }
    };
    assert_eq!(sorted(read(store).await), expected, "with the column");

    // The same database as a release before the column left it.
    let old = rusqlite::Connection::open(&path).unwrap();
    old.execute_batch("ALTER TABLE applicants DROP COLUMN report")
        .unwrap();
    drop(old);
    let store = SqliteStore::open(&path).unwrap().with_today(FIXTURES_TODAY);
    let empty: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM applicants WHERE report IS NULL",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(empty, 60, "the column is back, empty in the old rows");
    assert_eq!(sorted(read(store).await), expected, "from the documents");
}

/// A database from before the index of applicants by trust and number was dropped loses it on
/// open, and a trust's applicants are found as before (through the index by trust and hire date).
#[tokio::test]
async fn a_database_with_the_dropped_index_by_trust_loses_it_and_lists_a_trust_alike() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let store = SqliteStore::open(&path).unwrap().with_today(FIXTURES_TODAY);
    store.create_applicants(&batch(1, 0..60)).await.unwrap();
    let trust = batch(1, 0..1)[0].applicant.vpd.clone();
    let listed = store.trust_applicants(&trust).await.unwrap();
    assert!(listed.len() > 10, "the fixtures give the trust a list");
    drop(store);

    let indexes = |path: &std::path::Path| -> Vec<String> {
        let connection = rusqlite::Connection::open(path).unwrap();
        let mut statement = connection
            .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'applicants' ORDER BY name")
            .unwrap();
        let names = statement
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        names
    };
    assert!(!indexes(&path).contains(&"applicants_by_trust".to_string()));
    // The same database as a release before left it.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE INDEX applicants_by_trust ON applicants(vpd, applicant_number)")
        .unwrap();
    assert!(indexes(&path).contains(&"applicants_by_trust".to_string()));

    let store = SqliteStore::open(&path).unwrap().with_today(FIXTURES_TODAY);
    assert!(!indexes(&path).contains(&"applicants_by_trust".to_string()));
    assert!(indexes(&path).contains(&"applicants_by_trust_and_hire_date".to_string()));
    assert_eq!(store.trust_applicants(&trust).await.unwrap(), listed);
}

/// The nice value in a `/proc/.../stat` text: after "pid (comm) ", the fields from the third
/// (state) on; the nice value is the 19th.
#[cfg(target_os = "linux")]
fn nice_in_stat(stat: &str) -> i64 {
    let after_name = &stat[stat.rfind(')').unwrap() + 1..];
    after_name
        .split_whitespace()
        .nth(16)
        .unwrap()
        .parse()
        .unwrap()
}

/// The nice value of each of this process's threads named `name` (Linux: `/proc/self/task`).
#[cfg(target_os = "linux")]
fn nice_of_threads(name: &str) -> Vec<i64> {
    let mut nice = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let task = task.unwrap().path();
        let Ok(comm) = std::fs::read_to_string(task.join("comm")) else {
            continue; // the thread ended meanwhile
        };
        if comm.trim_end() == name {
            nice.push(nice_in_stat(
                &std::fs::read_to_string(task.join("stat")).unwrap(),
            ));
        }
    }
    nice
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_checkpoint_thread_of_a_bulk_load_gives_way_to_the_load_threads() {
    let own = nice_in_stat(&std::fs::read_to_string("/proc/thread-self/stat").unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("state.db"))
        .unwrap()
        .with_today(FIXTURES_TODAY);
    store.begin_bulk().await.unwrap();
    // The writing thread starts with the bulk load's first applicants.
    let outcomes = store.create_applicants(&batch(1, 0..20)).await.unwrap();
    assert_eq!(outcomes, vec![CreateOutcome::Created; 20]);
    // The checkpoint thread lowers its own priority to nice 10 as it starts (a process already
    // below that stays where it is).
    let expected = [own.max(10)];
    let mut checkpointers = nice_of_threads("dit-checkpoint");
    for _ in 0..500 {
        if checkpointers == expected {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
        checkpointers = nice_of_threads("dit-checkpoint");
    }
    assert_eq!(checkpointers, expected);
    assert_eq!(nice_of_threads("dit-writer"), [own]);
    store.end_bulk().await.unwrap();
}

//! The store contract: the same tests against both adapters of the `StateStore` port, SQLite on a
//! file in a temporary directory and DynamoDB on a private moto_server per test.
//!
//! Each contract is an `async fn contract_*` taking the store (or two handles on one store, for
//! races); `contract!` and `racing_contract!` turn it into one test per adapter.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use dit_aws::dynamo::DynamoStore;
use dit_core::ports::{Counter, CreateOutcome, MoveOutcome, NewApplicant, StateStore, StoreError};
use dit_domain::lifecycle::{decide, ApplicantState, Command};
use dit_domain::messages::Message;
use dit_domain::model::{
    Applicant, ApplicantSummary, Cause, FileClaim, FileStatus, HistoryEntry, RejectedApplication,
    RejectedLookup,
};
use dit_domain::pos::{Position, PositionStatus};
use dit_embedded::sqlite::SqliteStore;
use dit_test_support::fixtures::{at, batch, date, file, link_of, position, SOURCE_SHA};
use dit_test_support::Moto;
use serde_json::json;
use tokio::sync::Barrier;

const TABLE: &str = "dit-state";

/// A SQLite database file in a temporary directory of its own (removed on drop).
struct SqliteFile {
    dir: tempfile::TempDir,
}

impl SqliteFile {
    fn new() -> SqliteFile {
        SqliteFile {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// A store on its own connection to the file.
    fn open(&self) -> SqliteStore {
        SqliteStore::open(&self.dir.path().join("state.db")).expect("open the SQLite store")
    }
}

/// The state table on this moto, and a store on it.
async fn dynamo(moto: &Moto) -> DynamoStore {
    DynamoStore::new(moto.create_table(TABLE).await, TABLE)
}

/// One test per adapter for a contract taking `&dyn StateStore`.
macro_rules! contract {
    ($contract:ident => $sqlite:ident, $dynamo:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $sqlite() {
            let db = SqliteFile::new();
            $contract(&db.open()).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $dynamo() {
            let moto = Moto::start();
            $contract(&dynamo(&moto).await).await;
        }
    };
}

/// One test per adapter for a contract taking two handles on the same store: two connections to
/// one SQLite file, or two DynamoDB clients on one table.
macro_rules! racing_contract {
    ($contract:ident => $sqlite:ident, $dynamo:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $sqlite() {
            let db = SqliteFile::new();
            $contract(Arc::new(db.open()), Arc::new(db.open())).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $dynamo() {
            let moto = Moto::start();
            let first = dynamo(&moto).await;
            let second = DynamoStore::new(moto.dynamo_client().await, TABLE);
            $contract(Arc::new(first), Arc::new(second)).await;
        }
    };
}

/// `command` decided against the applicant as read, built as the service builds a move: the
/// applicant after it (version one up) and its history entry.
fn decided_move(
    read: &Applicant,
    command: &Command,
    when: DateTime<Utc>,
    message: &str,
) -> (Applicant, HistoryEntry) {
    let transition = decide(&read.applicant_number, Some(read.state), command)
        .unwrap_or_else(|refusal| panic!("{} refused: {refusal}", command.name()));
    let seq = read.version + 1;
    let entry = HistoryEntry::from_transition(
        seq,
        when,
        command.name(),
        transition,
        Cause::Message {
            id: message.to_string(),
            sender: None,
        },
        "trust",
    );
    let mut moved = read.clone();
    moved.state = entry.to;
    moved.version = seq;
    moved.updated_at = when;
    (moved, entry)
}

fn seqs(history: &[HistoryEntry]) -> Vec<u32> {
    history.iter().map(|h| h.seq).collect()
}

fn sorted_by_id(mut positions: Vec<Position>) -> Vec<Position> {
    positions.sort_by(|a, b| a.position_id.cmp(&b.position_id));
    positions
}

fn sorted_by_number(mut applicants: Vec<Applicant>) -> Vec<Applicant> {
    applicants.sort_by(|a, b| a.applicant_number.cmp(&b.applicant_number));
    applicants
}

/// Creates applicants (all must be new) and returns them.
async fn created(store: &dyn StateStore, input: Vec<NewApplicant>) -> Vec<NewApplicant> {
    let outcomes = store.create_applicants(&input).await.unwrap();
    assert_eq!(outcomes, vec![CreateOutcome::Created; input.len()]);
    input
}

/// Every person the input makes, by `(vpd, person_key)`, with its applicant numbers.
fn persons_of(input: &[NewApplicant]) -> HashMap<(String, String), BTreeSet<String>> {
    let mut persons: HashMap<(String, String), BTreeSet<String>> = HashMap::new();
    for new in input {
        if let Some(key) = &new.applicant.person_key {
            persons
                .entry((new.applicant.vpd.clone(), key.clone()))
                .or_default()
                .insert(new.applicant.applicant_number.clone());
        }
    }
    persons
}

/// The stored persons for `expected`'s keys (plus an unknown one), checked against it.
async fn assert_persons(
    store: &dyn StateStore,
    expected: &HashMap<(String, String), BTreeSet<String>>,
) {
    let mut keys: Vec<(String, String)> = expected.keys().cloned().collect();
    keys.push(("RJ1".to_string(), "GMC#0000000".to_string()));
    let persons = store.persons(&keys).await.unwrap();
    assert_eq!(
        persons.keys().collect::<BTreeSet<_>>(),
        expected.keys().collect::<BTreeSet<_>>()
    );
    for (key, numbers) in expected {
        let person = &persons[key];
        assert_eq!((&person.vpd, &person.person_key), (&key.0, &key.1));
        assert!(!person.employee, "{key:?} is not an employee");
        let got: BTreeSet<String> = person.applicant_numbers.iter().cloned().collect();
        assert_eq!(&got, numbers, "applicant numbers of {key:?}");
        assert_eq!(
            person.applicant_numbers.len(),
            numbers.len(),
            "no number twice"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Processed files
// ---------------------------------------------------------------------------------------------

async fn contract_claim_file(store: &dyn StateStore) {
    let first = file("LDN", "APP", 5, "sha-first");
    assert_eq!(store.claim_file(&first).await.unwrap(), FileClaim::New);
    let second = file("LDN", "APP", 6, "sha-second");
    assert_eq!(store.claim_file(&second).await.unwrap(), FileClaim::New);
    // Other types and sources are new files too.
    assert_eq!(
        store
            .claim_file(&file("LDN", "POS", 9, "sha-pos"))
            .await
            .unwrap(),
        FileClaim::New
    );
    assert_eq!(
        store
            .claim_file(&file("KSS", "APP", 1, "sha-kss"))
            .await
            .unwrap(),
        FileClaim::New
    );
    // A late lower SEQ is a new file like any other.
    assert_eq!(
        store
            .claim_file(&file("LDN", "APP", 3, "sha-late"))
            .await
            .unwrap(),
        FileClaim::New
    );
    assert_eq!(
        store
            .claim_file(&file("LDN", "APP", 7, "sha-next"))
            .await
            .unwrap(),
        FileClaim::New
    );

    // The same file again: the claim as stored, still in progress.
    let FileClaim::SameContent(existing) = store.claim_file(&first).await.unwrap() else {
        panic!("the same file again is SameContent");
    };
    assert_eq!(existing.status, FileStatus::InProgress);
    assert_eq!(existing, first);

    // Completed: the same claim now reads processed, with the summary exactly as given.
    let summary = json!({
        "records": 120,
        "loaded": 118,
        "wte": 0.8,
        "big": 18_446_744_073_709_551_615u64,
        "negative": -3,
        "outputs": ["APC_LDN_20250301_00005.csv", "reports/RJ1/summary.json"],
        "warnings": [{"record": 3, "text": "value ignored"}],
        "empty": {},
        "nothing": null
    });
    store
        .complete_file(&first.identity, &summary, at(1, 10))
        .await
        .unwrap();
    let FileClaim::SameContent(done) = store.claim_file(&first).await.unwrap() else {
        panic!("a completed file claimed again is SameContent");
    };
    assert_eq!(done.status, FileStatus::Processed);
    assert_eq!(done.summary.as_ref(), Some(&summary));
    assert_eq!(done.completed_at, Some(at(1, 10)));
    let mut as_claimed = done.clone();
    as_claimed.status = FileStatus::InProgress;
    as_claimed.completed_at = None;
    as_claimed.summary = None;
    assert_eq!(as_claimed, first, "completing changes nothing else");

    // The same identity with other content: refused with the stored file, which stays as it was.
    let changed = file("LDN", "APP", 5, "sha-changed");
    assert_eq!(
        store.claim_file(&changed).await.unwrap(),
        FileClaim::DifferentContent(done.clone())
    );
    assert_eq!(
        store.claim_file(&first).await.unwrap(),
        FileClaim::SameContent(done)
    );
    // Completing one file left the others alone.
    assert_eq!(
        store.claim_file(&second).await.unwrap(),
        FileClaim::SameContent(second.clone())
    );
}

contract!(contract_claim_file =>
    sqlite_claiming_a_file_tells_new_same_and_different_content,
    dynamo_claiming_a_file_tells_new_same_and_different_content);

async fn contract_complete_unclaimed_file(store: &dyn StateStore) {
    let claimed = file("LDN", "APP", 5, "sha-5");
    assert_eq!(store.claim_file(&claimed).await.unwrap(), FileClaim::New);
    let never = file("LDN", "APP", 6, "sha-6");
    let result = store
        .complete_file(&never.identity, &json!({"records": 1}), at(1, 10))
        .await;
    let err = result.expect_err("completing a file never claimed is an error");
    assert!(!err.is_transient(), "retrying cannot help: {err}");
    // Nothing was created: the file is still new when it comes, after the one claimed.
    assert_eq!(store.claim_file(&never).await.unwrap(), FileClaim::New);
    assert_eq!(
        store.claim_file(&claimed).await.unwrap(),
        FileClaim::SameContent(claimed.clone())
    );
}

contract!(contract_complete_unclaimed_file =>
    sqlite_completing_a_file_never_claimed_is_an_error,
    dynamo_completing_a_file_never_claimed_is_an_error);

async fn contract_received_sequences(store: &dyn StateStore) {
    use dit_domain::model::ReceivedSequence;
    let received = |file_type: &str, seq: u64, source: &str, day: u32| ReceivedSequence {
        file_type: file_type.into(),
        seq,
        source: source.into(),
        business_date: date(2026, 11, day),
        name: format!("DE_{source}_{file_type}_202611{day:02}_{seq:08}.DAT"),
    };
    let notes = [
        received("APP", 12, "KSS", 20),
        received("APP", 10, "NTH", 21),
        received("APP", 11, "LDN", 19),
        received("APP", 12, "NTH", 22),
        received("APP", 9, "KSS", 30),
        received("DNC", 10, "KSS", 21),
    ];
    for note in &notes {
        store.note_received_sequence(note).await.unwrap();
    }
    // Noting the same file again changes nothing.
    store.note_received_sequence(&notes[0]).await.unwrap();
    let seqs = |found: Vec<ReceivedSequence>| -> Vec<(u64, String)> {
        found.into_iter().map(|r| (r.seq, r.source)).collect()
    };
    let by_date = store
        .received_sequences_between_dates("APP", date(2026, 11, 20), date(2026, 11, 22))
        .await
        .unwrap();
    assert_eq!(by_date[0], notes[1], "read back whole");
    assert_eq!(
        seqs(by_date),
        [(10, "NTH".into()), (12, "KSS".into()), (12, "NTH".into())],
        "by number, then source; the dates at both ends included"
    );
    assert_eq!(
        seqs(
            store
                .received_sequences_between_numbers("APP", 10, 11)
                .await
                .unwrap()
        ),
        [(10, "NTH".into()), (11, "LDN".into())]
    );
    assert_eq!(
        seqs(
            store
                .received_sequences_between_numbers("APP", 1, 99_999_999)
                .await
                .unwrap()
        )
        .len(),
        5
    );
    assert!(store
        .received_sequences_between_dates("DNF", date(2026, 1, 1), date(2026, 12, 31))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        seqs(
            store
                .received_sequences_between_dates("DNC", date(2026, 11, 21), date(2026, 11, 21))
                .await
                .unwrap()
        ),
        [(10, "KSS".into())]
    );
}

contract!(contract_received_sequences =>
    sqlite_received_sequences_by_date_and_by_number,
    dynamo_received_sequences_by_date_and_by_number);

// ---------------------------------------------------------------------------------------------
// Positions
// ---------------------------------------------------------------------------------------------

async fn contract_positions(store: &dyn StateStore) {
    const SHARED_DPN: &str = "KSS/SHARED/MED/009";
    let trust_504 = vec![
        position("504", 1, "KSS/RJ1/MED/001"),
        position("504", 2, ""),
        position("504", 3, SHARED_DPN),
    ];
    let mut in_505 = position("505", 1, SHARED_DPN);
    in_505.duplicate_dpn = true;
    in_505.dpn_issues = vec!["DPN is on two positions".to_string()];
    let mut all = trust_504.clone();
    all.push(in_505.clone());
    store.save_positions(&all).await.unwrap();

    // By id: exactly the known ones (an id asked twice is found once, unknown ids are absent).
    let mut ids: Vec<String> = all.iter().map(|p| p.position_id.clone()).collect();
    ids.push(all[0].position_id.clone());
    ids.push("504-P0099".to_string());
    ids.push("999-P0001".to_string());
    let found = store.positions(&ids).await.unwrap();
    assert_eq!(
        found.keys().cloned().collect::<BTreeSet<_>>(),
        all.iter().map(|p| p.position_id.clone()).collect()
    );
    for p in &all {
        assert_eq!(found.get(&p.position_id), Some(p));
    }
    assert!(store.positions(&[]).await.unwrap().is_empty());

    // By trust.
    assert_eq!(
        sorted_by_id(store.trust_positions("504").await.unwrap()),
        trust_504
    );
    assert_eq!(
        store.trust_positions("505").await.unwrap(),
        vec![in_505.clone()]
    );
    assert!(store.trust_positions("506").await.unwrap().is_empty());

    // By DPN, across trusts; a position without a DPN is not found by an empty one.
    assert_eq!(
        sorted_by_id(store.positions_by_dpn(SHARED_DPN).await.unwrap()),
        vec![trust_504[2].clone(), in_505.clone()]
    );
    assert_eq!(
        store.positions_by_dpn("KSS/RJ1/MED/001").await.unwrap(),
        vec![trust_504[0].clone()]
    );
    assert!(store
        .positions_by_dpn("NO/SUCH/DPN/1")
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.positions_by_dpn("").await.unwrap(),
        Vec::<Position>::new(),
        "an empty DPN finds nothing"
    );

    // Saving changed positions replaces them: every field reads back, old DPNs no longer find them.
    let mut removed = trust_504[0].clone();
    removed.status = PositionStatus::Removed;
    removed.dpn = "KSS/RJ1/MED/002".to_string();
    removed.grade = "ST4".to_string();
    removed.host_lead = None;
    removed.effective_to = Some(date(2025, 3, 7));
    removed.name_issues = vec!["name issue".to_string()];
    removed.changed_in = "POS_504_20250308_00002.csv".to_string();
    removed.changed_on = date(2025, 3, 8);
    let mut without_dpn = trust_504[2].clone();
    without_dpn.dpn = String::new();
    without_dpn.changed_in = "POS_504_20250308_00002.csv".to_string();
    without_dpn.changed_on = date(2025, 3, 8);
    store
        .save_positions(&[removed.clone(), without_dpn.clone()])
        .await
        .unwrap();
    let found = store
        .positions(&[removed.position_id.clone(), without_dpn.position_id.clone()])
        .await
        .unwrap();
    assert_eq!(found.get(&removed.position_id), Some(&removed));
    assert_eq!(found.get(&without_dpn.position_id), Some(&without_dpn));
    assert_eq!(
        sorted_by_id(store.trust_positions("504").await.unwrap()),
        vec![removed.clone(), trust_504[1].clone(), without_dpn.clone()]
    );
    assert!(store
        .positions_by_dpn("KSS/RJ1/MED/001")
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.positions_by_dpn("KSS/RJ1/MED/002").await.unwrap(),
        vec![removed]
    );
    assert_eq!(
        store.positions_by_dpn(SHARED_DPN).await.unwrap(),
        vec![in_505.clone()]
    );
    assert_eq!(
        store.positions_by_dpn("").await.unwrap(),
        Vec::<Position>::new(),
        "an empty DPN finds nothing"
    );
    assert_eq!(store.trust_positions("505").await.unwrap(), vec![in_505]);
}

contract!(contract_positions =>
    sqlite_positions_read_back_by_id_trust_and_dpn_and_saving_again_replaces_them,
    dynamo_positions_read_back_by_id_trust_and_dpn_and_saving_again_replaces_them);

// ---------------------------------------------------------------------------------------------
// Applicants
// ---------------------------------------------------------------------------------------------

async fn contract_create_applicants(store: &dyn StateStore) {
    // Records 0 and 1 of the fixtures are one doctor (same trust and GMC number); record 3 has a
    // person key from NI number and date of birth.
    let input = batch(1, 0..5);
    let shared = &input[0].applicant;
    assert!(shared.person_key.is_some());
    assert_eq!(
        (&shared.vpd, &shared.person_key),
        (&input[1].applicant.vpd, &input[1].applicant.person_key)
    );
    let outcomes = store.create_applicants(&input).await.unwrap();
    assert_eq!(outcomes, vec![CreateOutcome::Created; 5]);

    // Placements link to their applicant number and file.
    let mut ids: Vec<String> = input
        .iter()
        .map(|n| n.applicant.placement_id.clone())
        .collect();
    ids.push("PLC-UNKNOWN".to_string());
    let links = store.placements(&ids).await.unwrap();
    assert_eq!(links.len(), 5);
    for new in &input {
        let link = &links[&new.applicant.placement_id];
        assert_eq!(link, &link_of(new));
        assert_eq!(link.applicant_number, new.applicant.applicant_number);
        assert_eq!(link.source_sha256, SOURCE_SHA);
    }

    // Applicants and their creation history read back exactly.
    for new in &input {
        let number = &new.applicant.applicant_number;
        assert_eq!(
            store.applicant(number).await.unwrap().as_ref(),
            Some(&new.applicant)
        );
        let history = store.history(number).await.unwrap();
        assert_eq!(seqs(&history), vec![1, 2]);
        assert_eq!(history, new.history);
    }
    assert_eq!(store.applicant("999").await.unwrap(), None);
    assert!(store.history("999").await.unwrap().is_empty());

    // Persons: the shared one has both numbers.
    let persons = persons_of(&input);
    let shared_key = (shared.vpd.clone(), shared.person_key.clone().unwrap());
    assert_eq!(
        persons[&shared_key],
        BTreeSet::from(["1".to_string(), "2".to_string()])
    );
    assert_eq!(persons.len(), 4);
    assert_persons(store, &persons).await;

    // By GMC number.
    let gmc = shared.gmc_number().unwrap();
    assert_eq!(
        sorted_by_number(store.applicants_by_gmc(gmc).await.unwrap()),
        vec![input[0].applicant.clone(), input[1].applicant.clone()]
    );
    let single = input[4].applicant.gmc_number().unwrap();
    assert_eq!(
        store.applicants_by_gmc(single).await.unwrap(),
        vec![input[4].applicant.clone()]
    );
    assert!(store.applicants_by_gmc("0000000").await.unwrap().is_empty());

    // The same batch again: every placement is taken by its original applicant.
    let taken: Vec<CreateOutcome> = input
        .iter()
        .map(|n| CreateOutcome::PlacementTaken(link_of(n)))
        .collect();
    assert_eq!(store.create_applicants(&input).await.unwrap(), taken);

    // The same placements under new numbers from a later file: still taken by the originals.
    let mut later = batch(101, 0..5);
    for new in &mut later {
        new.applicant.source_file = "APP_LDN_20250308_00006.csv".to_string();
        new.applicant.source_sha256 = "sha-later".to_string();
        new.applicant.details.last_name = "Renamed".to_string();
    }
    assert_eq!(store.create_applicants(&later).await.unwrap(), taken);

    // Nothing changed.
    for new in &input {
        let number = &new.applicant.applicant_number;
        let stored = store.applicant(number).await.unwrap().unwrap();
        assert_eq!(stored.version, 2);
        assert_eq!(stored, new.applicant);
        assert_eq!(store.history(number).await.unwrap(), new.history);
    }
    for new in &later {
        let number = &new.applicant.applicant_number;
        assert_eq!(store.applicant(number).await.unwrap(), None);
        assert!(store.history(number).await.unwrap().is_empty());
    }
    assert_eq!(store.placements(&ids).await.unwrap(), links);
    assert_persons(store, &persons).await;
    assert_eq!(store.applicants_by_gmc(gmc).await.unwrap().len(), 2);
}

contract!(contract_create_applicants =>
    sqlite_created_applicants_read_back_and_creating_them_again_changes_nothing,
    dynamo_created_applicants_read_back_and_creating_them_again_changes_nothing);

async fn contract_allocate_numbers(store: &dyn StateStore) {
    assert_eq!(store.allocate_numbers(3).await.unwrap(), 1);
    assert_eq!(store.allocate_numbers(2).await.unwrap(), 4);
    assert_eq!(store.allocate_numbers(1).await.unwrap(), 6);

    // Requests at the same time get disjoint blocks, together consecutive.
    let (a, b, c) = tokio::join!(
        store.allocate_numbers(10),
        store.allocate_numbers(1),
        store.allocate_numbers(4),
    );
    let mut blocks = vec![(a.unwrap(), 10), (b.unwrap(), 1), (c.unwrap(), 4)];
    blocks.sort_unstable();
    let mut next = 7;
    for (first, count) in blocks {
        assert_eq!(first, next, "blocks are consecutive and disjoint");
        next = first + count;
    }
    assert_eq!(store.allocate_numbers(1).await.unwrap(), 22);
}

contract!(contract_allocate_numbers =>
    sqlite_numbers_are_allocated_in_consecutive_disjoint_blocks_from_one,
    dynamo_numbers_are_allocated_in_consecutive_disjoint_blocks_from_one);

async fn contract_reserve_numbers(store: &dyn StateStore) {
    use Counter::{ApplicantNumbers, Sequence};
    // A holder's block is taken once and given again, whatever the count asked the second time.
    let first = store.reserve_numbers(ApplicantNumbers, "APP KSS#APP#1 chunk 0", 3);
    assert_eq!(first.await.unwrap(), 1..4);
    for count in [3, 7, 0] {
        let again = store.reserve_numbers(ApplicantNumbers, "APP KSS#APP#1 chunk 0", count);
        assert_eq!(again.await.unwrap(), 1..4);
    }
    // One counter with allocate_numbers.
    assert_eq!(store.allocate_numbers(2).await.unwrap(), 4);
    let other = store.reserve_numbers(ApplicantNumbers, "APP KSS#APP#1 chunk 1", 5);
    assert_eq!(other.await.unwrap(), 6..11);
    // Nothing reserved for a count of 0, until a count is given.
    let empty = store.reserve_numbers(ApplicantNumbers, "APP KSS#APP#2 chunk 0", 0);
    assert_eq!(empty.await.unwrap(), 11..11);
    let later = store.reserve_numbers(ApplicantNumbers, "APP KSS#APP#2 chunk 0", 2);
    assert_eq!(later.await.unwrap(), 11..13);
    // A sequence is a counter of its own, shared with next_in_sequence; holders are per counter.
    let rmc = store.reserve_numbers(Sequence("RMC#KSS"), "KSS#RMC-EXPORT#20261123", 1);
    assert_eq!(rmc.await.unwrap(), 1..2);
    assert_eq!(store.next_in_sequence("RMC#KSS").await.unwrap(), 2);
    let rmc = store.reserve_numbers(Sequence("RMC#KSS"), "KSS#RMC-EXPORT#20261123", 1);
    assert_eq!(rmc.await.unwrap(), 1..2);
    let ldn = store.reserve_numbers(Sequence("RMC#LDN"), "KSS#RMC-EXPORT#20261123", 1);
    assert_eq!(ldn.await.unwrap(), 1..2);
    assert_eq!(store.allocate_numbers(1).await.unwrap(), 13);
}

contract!(contract_reserve_numbers =>
    sqlite_a_reservation_is_taken_once_per_holder,
    dynamo_a_reservation_is_taken_once_per_holder);

/// Holders reserving at the same time through two handles, each twice: one block per holder,
/// the same both times, the blocks disjoint and together consecutive.
async fn contract_racing_reservations(first: Arc<dyn StateStore>, second: Arc<dyn StateStore>) {
    let holders: [&'static str; 4] = ["a", "b", "c", "d"];
    let barrier = Arc::new(Barrier::new(holders.len() * 2));
    let mut tasks = Vec::new();
    for (i, holder) in holders.into_iter().enumerate() {
        for store in [Arc::clone(&first), Arc::clone(&second)] {
            let barrier = Arc::clone(&barrier);
            let count = i as u64 + 1;
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let block = store.reserve_numbers(Counter::ApplicantNumbers, holder, count);
                (holder, block.await.unwrap())
            }));
        }
    }
    let mut blocks: HashMap<&str, Vec<std::ops::Range<u64>>> = HashMap::new();
    for task in tasks {
        let (holder, block) = task.await.unwrap();
        blocks.entry(holder).or_default().push(block);
    }
    let mut all: Vec<std::ops::Range<u64>> = Vec::new();
    for (holder, got) in &blocks {
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], got[1], "{holder} got one block");
        all.push(got[0].clone());
    }
    all.sort_by_key(|b| b.start);
    let mut next = 1;
    for block in all {
        assert_eq!(block.start, next, "blocks are consecutive and disjoint");
        next = block.end;
    }
    assert_eq!(next, 11);
}

racing_contract!(contract_racing_reservations =>
    sqlite_racing_reservations_give_one_block_per_holder,
    dynamo_racing_reservations_give_one_block_per_holder);

// ---------------------------------------------------------------------------------------------
// Moves
// ---------------------------------------------------------------------------------------------

/// Two loaded applicants, "1" and "2", at version 2.
async fn two_loaded(store: &dyn StateStore) -> Vec<NewApplicant> {
    let input = created(store, batch(1, 0..2)).await;
    for new in &input {
        assert_eq!(new.applicant.version, 2);
        assert_eq!(new.applicant.state, ApplicantState::Loaded);
    }
    input
}

/// The applicant and its history are exactly as created.
async fn assert_untouched(store: &dyn StateStore, new: &NewApplicant) {
    let number = &new.applicant.applicant_number;
    assert_eq!(
        store.applicant(number).await.unwrap().as_ref(),
        Some(&new.applicant)
    );
    assert_eq!(store.history(number).await.unwrap(), new.history);
}

/// Offers applicant "1" (version 2 to 3); returns it as read before, and the stored move.
async fn offered(store: &dyn StateStore) -> (Applicant, Applicant, HistoryEntry) {
    let read = store.applicant("1").await.unwrap().unwrap();
    let (moved, entry) = decided_move(&read, &Command::Offer, at(3, 12), "offer-1");
    assert_eq!(
        store.record_move(2, &moved, &entry).await.unwrap(),
        MoveOutcome::Stored
    );
    (read, moved, entry)
}

async fn contract_move_stored(store: &dyn StateStore) {
    let input = two_loaded(store).await;
    let (_, moved, entry) = offered(store).await;
    assert_eq!((moved.version, moved.state), (3, ApplicantState::Offered));
    assert_eq!(store.applicant("1").await.unwrap(), Some(moved));
    let history = store.history("1").await.unwrap();
    assert_eq!(seqs(&history), vec![1, 2, 3]);
    assert_eq!(history[..2], input[0].history[..]);
    assert_eq!(history[2], entry);
    assert_untouched(store, &input[1]).await;
}

contract!(contract_move_stored =>
    sqlite_a_move_with_the_expected_version_is_stored_with_its_history,
    dynamo_a_move_with_the_expected_version_is_stored_with_its_history);

async fn contract_stale_move_conflicts(store: &dyn StateStore) {
    let input = two_loaded(store).await;
    let (before, moved, entry) = offered(store).await;

    // Decided on what was read before the offer: version 2 is gone.
    let (stale, stale_entry) = decided_move(&before, &Command::Withdraw, at(3, 13), "withdraw-1");
    assert_eq!(
        store.record_move(2, &stale, &stale_entry).await.unwrap(),
        MoveOutcome::Conflict
    );
    // A version the applicant never had.
    let mut ahead = moved.clone();
    ahead.version = 7;
    let (ahead, ahead_entry) = decided_move(&ahead, &Command::Withdraw, at(3, 14), "withdraw-2");
    assert_eq!(
        store.record_move(7, &ahead, &ahead_entry).await.unwrap(),
        MoveOutcome::Conflict
    );
    assert_eq!(store.applicant("1").await.unwrap().as_ref(), Some(&moved));
    let history = store.history("1").await.unwrap();
    assert_eq!(seqs(&history), vec![1, 2, 3]);
    assert_eq!(history[2], entry);

    // Read again and decided again: stored.
    let read = store.applicant("1").await.unwrap().unwrap();
    let (withdrawn, withdrawn_entry) =
        decided_move(&read, &Command::Withdraw, at(3, 15), "withdraw-3");
    assert_eq!(
        store
            .record_move(3, &withdrawn, &withdrawn_entry)
            .await
            .unwrap(),
        MoveOutcome::Stored
    );
    assert_eq!(store.applicant("1").await.unwrap(), Some(withdrawn));
    let history = store.history("1").await.unwrap();
    assert_eq!(seqs(&history), vec![1, 2, 3, 4]);
    assert_eq!(history[3], withdrawn_entry);
    assert_untouched(store, &input[1]).await;
}

contract!(contract_stale_move_conflicts =>
    sqlite_a_move_with_a_stale_version_conflicts,
    dynamo_a_move_with_a_stale_version_conflicts);

async fn contract_existing_seq_refused(store: &dyn StateStore) {
    let input = two_loaded(store).await;
    let (_, moved, entry) = offered(store).await;

    let refused = |result: Result<MoveOutcome, StoreError>| match result {
        Ok(MoveOutcome::Conflict) | Err(_) => {}
        Ok(MoveOutcome::Stored) => panic!("a history entry whose seq exists was stored"),
    };
    // The expected version is right, but history 3 exists.
    let (mut clash, mut clash_entry) =
        decided_move(&moved, &Command::Withdraw, at(3, 13), "withdraw-1");
    clash.version = 3;
    clash_entry.seq = 3;
    refused(store.record_move(3, &clash, &clash_entry).await);
    // History 2 (a creation entry) exists too.
    clash_entry.seq = 2;
    clash.version = 4;
    refused(store.record_move(3, &clash, &clash_entry).await);

    assert_eq!(store.applicant("1").await.unwrap().as_ref(), Some(&moved));
    let history = store.history("1").await.unwrap();
    assert_eq!(seqs(&history), vec![1, 2, 3]);
    assert_eq!(history[..2], input[0].history[..]);
    assert_eq!(history[2], entry);

    // The refusals left nothing behind: the move with the next seq is stored.
    let (withdrawn, withdrawn_entry) =
        decided_move(&moved, &Command::Withdraw, at(3, 14), "withdraw-2");
    assert_eq!(
        store
            .record_move(3, &withdrawn, &withdrawn_entry)
            .await
            .unwrap(),
        MoveOutcome::Stored
    );
    assert_eq!(seqs(&store.history("1").await.unwrap()), vec![1, 2, 3, 4]);
    assert_untouched(store, &input[1]).await;
}

contract!(contract_existing_seq_refused =>
    sqlite_a_history_entry_whose_seq_exists_is_refused,
    dynamo_a_history_entry_whose_seq_exists_is_refused);

async fn contract_unknown_applicant_move_conflicts(store: &dyn StateStore) {
    let input = two_loaded(store).await;
    let mut ghost = input[0].applicant.clone();
    ghost.applicant_number = "777".to_string();
    let (ghost, ghost_entry) = decided_move(&ghost, &Command::Offer, at(3, 12), "offer-777");
    assert_eq!(
        store.record_move(2, &ghost, &ghost_entry).await.unwrap(),
        MoveOutcome::Conflict
    );
    assert_eq!(store.applicant("777").await.unwrap(), None);
    assert!(store.history("777").await.unwrap().is_empty());
    for new in &input {
        assert_untouched(store, new).await;
    }
}

contract!(contract_unknown_applicant_move_conflicts =>
    sqlite_a_move_of_an_unknown_applicant_conflicts_and_writes_nothing,
    dynamo_a_move_of_an_unknown_applicant_conflicts_and_writes_nothing);

// ---------------------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------------------

const RACERS: usize = 8;

struct Attempt {
    expected: u32,
    outcome: MoveOutcome,
    moved: Applicant,
    entry: HistoryEntry,
}

/// Eight tasks on two handles read one applicant, decide an offer (or, for half, a withdrawal),
/// wait until all have read, then record their move with the version they read. Three rounds,
/// one applicant each.
async fn contract_racing_moves(first: Arc<dyn StateStore>, second: Arc<dyn StateStore>) {
    let input = created(first.as_ref(), batch(1, 0..3)).await;
    for new in &input {
        let number = new.applicant.applicant_number.clone();
        let everyone_read = Arc::new(Barrier::new(RACERS));
        let mut tasks = Vec::with_capacity(RACERS);
        for racer in 0..RACERS {
            let store = Arc::clone(if racer % 2 == 0 { &first } else { &second });
            let everyone_read = Arc::clone(&everyone_read);
            let number = number.clone();
            tasks.push(tokio::spawn(async move {
                let read = store.applicant(&number).await.unwrap().unwrap();
                let command = if racer < RACERS / 2 {
                    Command::Offer
                } else {
                    Command::Withdraw
                };
                let when = at(4, 9) + Duration::seconds(racer as i64);
                let (moved, entry) = decided_move(&read, &command, when, &format!("racer-{racer}"));
                everyone_read.wait().await;
                let outcome = store
                    .record_move(read.version, &moved, &entry)
                    .await
                    .unwrap_or_else(|e| panic!("racer {racer}: {e}"));
                Attempt {
                    expected: read.version,
                    outcome,
                    moved,
                    entry,
                }
            }));
        }
        let mut attempts = Vec::with_capacity(RACERS);
        for task in tasks {
            attempts.push(task.await.expect("a racer panicked"));
        }
        assert!(attempts.iter().all(|a| a.expected == 2));
        let stored: Vec<&Attempt> = attempts
            .iter()
            .filter(|a| a.outcome == MoveOutcome::Stored)
            .collect();
        assert_eq!(
            stored.len(),
            1,
            "applicant {number}: exactly one move stored"
        );
        let winner = stored[0];

        for store in [&first, &second] {
            let history = store.history(&number).await.unwrap();
            assert_eq!(seqs(&history), vec![1, 2, 3], "applicant {number}");
            assert_eq!(history[..2], new.history[..]);
            assert_eq!(history[2], winner.entry);
            let applicant = store.applicant(&number).await.unwrap().unwrap();
            assert_eq!(applicant.state, history[2].to);
            assert_eq!(applicant, winner.moved);
        }
    }
}

racing_contract!(contract_racing_moves =>
    sqlite_of_eight_racing_moves_from_one_version_exactly_one_is_stored,
    dynamo_of_eight_racing_moves_from_one_version_exactly_one_is_stored);

/// Starters of a day are found by hire date across trusts; other days are not returned.
async fn contract_applicants_starting_on(store: &dyn StateStore) {
    let mut input = batch(1, 0..6);
    for (i, new) in input.iter_mut().enumerate() {
        new.applicant.projected_hire_date = if i % 2 == 0 {
            date(2027, 2, 3)
        } else {
            date(2027, 2, 4)
        };
    }
    store.create_applicants(&input).await.unwrap();
    let starters = sorted_by_number(
        store
            .applicants_starting_on(date(2027, 2, 3))
            .await
            .unwrap(),
    );
    let expected: Vec<Applicant> = sorted_by_number(
        input
            .iter()
            .step_by(2)
            .map(|n| n.applicant.clone())
            .collect(),
    );
    assert_eq!(starters, expected);
    assert!(store
        .applicants_starting_on(date(2027, 2, 5))
        .await
        .unwrap()
        .is_empty());
}

contract!(contract_applicants_starting_on =>
    sqlite_starters_are_read_by_hire_date,
    dynamo_starters_are_read_by_hire_date);

/// Watermarks only move forward; sequences count from 1 per name.
async fn contract_watermarks_and_sequences(store: &dyn StateStore) {
    assert_eq!(store.watermark("reminder").await.unwrap(), None);
    assert!(store
        .advance_watermark("reminder", date(2026, 11, 21))
        .await
        .unwrap());
    assert!(!store
        .advance_watermark("reminder", date(2026, 11, 21))
        .await
        .unwrap());
    assert!(!store
        .advance_watermark("reminder", date(2026, 11, 20))
        .await
        .unwrap());
    assert_eq!(
        store.watermark("reminder").await.unwrap(),
        Some(date(2026, 11, 21))
    );
    assert!(store
        .advance_watermark("reminder", date(2026, 11, 23))
        .await
        .unwrap());
    assert_eq!(
        store.watermark("reminder").await.unwrap(),
        Some(date(2026, 11, 23))
    );
    assert_eq!(store.watermark("rmc#KSS").await.unwrap(), None);
    assert_eq!(store.next_in_sequence("RMC#KSS").await.unwrap(), 1);
    assert_eq!(store.next_in_sequence("RMC#KSS").await.unwrap(), 2);
    assert_eq!(store.next_in_sequence("RMC#LDN").await.unwrap(), 1);
}

contract!(contract_watermarks_and_sequences =>
    sqlite_watermarks_move_forward_only_and_sequences_count_per_name,
    dynamo_watermarks_move_forward_only_and_sequences_count_per_name);

/// Rotation rows replace by trust and position; person updates are idempotent by message id;
/// marking an employee creates or updates the person.
async fn contract_rotation_person_updates_and_employees(store: &dyn StateStore) {
    use dit_domain::dnc::{NamedTrainee, RotationEntry};
    use dit_domain::model::{PersonUpdate, PersonUpdateStatus};
    let row = |vpd: &str, key: &str, next: &str| RotationEntry {
        vpd: vpd.into(),
        position_key: key.into(),
        position_id: key.into(),
        dpn: format!("KSS/A/{key}/B"),
        managing_deanery_body: "KSS".into(),
        specialty: "Cardiology".into(),
        site: "Site".into(),
        current: NamedTrainee::default(),
        current_projected_end_date: None,
        current_next_placement_site: String::new(),
        current_wte: String::new(),
        next: NamedTrainee {
            last_name: next.into(),
            first_name: "F".into(),
            gmc_number: "7000001".into(),
        },
        next_current_placement_site: String::new(),
        next_projected_start_date: Some(date(2027, 2, 3)),
        next_email_address: String::new(),
        next_grade: String::new(),
        next_wte: String::new(),
        post_vacant_at_next_rotation: Some(false),
        source_file: "f".into(),
        updated_on: date(2026, 11, 21),
    };
    store
        .save_rotation(&[
            row("504", "2", "A"),
            row("504", "1", "B"),
            row("505", "1", "C"),
        ])
        .await
        .unwrap();
    store.save_rotation(&[row("504", "2", "D")]).await.unwrap();
    let grid = store.rotation_grid("504").await.unwrap();
    assert_eq!(grid, vec![row("504", "1", "B"), row("504", "2", "D")]);
    assert_eq!(store.rotation_grid("505").await.unwrap().len(), 1);

    let update = |id: &str, minute: u32, status| PersonUpdate {
        vpd: "504".into(),
        local_office: "KSS".into(),
        applicant_number: "5000001".into(),
        message_id: id.into(),
        received_at: at(21, 10) + Duration::minutes(minute as i64),
        effective_date: Some(date(2026, 12, 1)),
        person: json!({"email_address": "new@example.nhs.uk"}),
        status,
    };
    store
        .save_person_update(&update("m2", 2, PersonUpdateStatus::PendingRmc))
        .await
        .unwrap();
    store
        .save_person_update(&update("m1", 1, PersonUpdateStatus::NotSentPartRecords))
        .await
        .unwrap();
    store
        .save_person_update(&update("m2", 2, PersonUpdateStatus::Sent))
        .await
        .unwrap();
    let updates = store.person_updates("504").await.unwrap();
    assert_eq!(
        updates,
        vec![
            update("m1", 1, PersonUpdateStatus::NotSentPartRecords),
            update("m2", 2, PersonUpdateStatus::Sent)
        ]
    );
    assert!(store.person_updates("505").await.unwrap().is_empty());

    store.create_applicants(&batch(1, 0..1)).await.unwrap();
    let key = batch(1, 0..1)[0].applicant.person_key.clone().unwrap();
    let vpd = batch(1, 0..1)[0].applicant.vpd.clone();
    store.mark_employee(&vpd, &key).await.unwrap();
    store.mark_employee("505", "GMC#7999999").await.unwrap();
    let persons = store
        .persons(&[
            (vpd.clone(), key.clone()),
            ("505".into(), "GMC#7999999".into()),
        ])
        .await
        .unwrap();
    let person = &persons[&(vpd, key)];
    assert!(person.employee);
    assert_eq!(
        person.applicant_numbers,
        vec![batch(1, 0..1)[0].applicant.applicant_number.clone()]
    );
    assert!(persons[&("505".to_string(), "GMC#7999999".to_string())].employee);
}

contract!(contract_rotation_person_updates_and_employees =>
    sqlite_rotation_rows_person_updates_and_employees_round_trip,
    dynamo_rotation_rows_person_updates_and_employees_round_trip);

/// What TIS was sent per local office: saved, replaced, removed, kept apart per office.
async fn contract_tis_positions(store: &dyn StateStore) {
    let fields = |name: &str| vec!["1".to_string(), name.to_string(), "KSS/A/1/B".to_string()];
    store
        .save_tis_positions(
            "KSS",
            &[
                ("1".into(), Some(fields("a"))),
                ("2".into(), Some(fields("b"))),
            ],
        )
        .await
        .unwrap();
    store
        .save_tis_positions("LDN", &[("9".into(), Some(fields("z")))])
        .await
        .unwrap();
    store
        .save_tis_positions(
            "KSS",
            &[("1".into(), Some(fields("c"))), ("2".into(), None)],
        )
        .await
        .unwrap();
    let kss = store.tis_positions("KSS").await.unwrap();
    assert_eq!(kss, HashMap::from([("1".to_string(), fields("c"))]));
    assert_eq!(store.tis_positions("LDN").await.unwrap().len(), 1);
    assert!(store.tis_positions("EOE").await.unwrap().is_empty());
}

contract!(contract_tis_positions =>
    sqlite_what_tis_was_sent_is_kept_per_local_office,
    dynamo_what_tis_was_sent_is_kept_per_local_office);

/// A rejected APP record of `file`, record `record`; `vpd` and `gmc` may be absent.
fn rejected(
    placement: &str,
    gmc: Option<&str>,
    vpd: Option<&str>,
    file: &str,
    day: u32,
    record: u64,
) -> RejectedApplication {
    RejectedApplication {
        placement_id: placement.into(),
        gmc_number: gmc.map(str::to_string),
        last_name: "Surname".into(),
        first_name: format!("Record{record}"),
        position_id: "10508064".into(),
        position_number: "10508064".into(),
        dpn: "KSS/RJZ01/030/STR/001".into(),
        vpd: vpd.map(str::to_string),
        local_office: "KSS".into(),
        source_file: file.into(),
        source_sha256: format!("sha-of-{file}"),
        business_date: date(2026, 11, day),
        record_number: record,
        line: record + 1,
        messages: vec![
            Message::mandatory_missing("LAST_NAME"),
            Message::invalid_date("1994-02-30", "DATE_OF_BIRTH"),
        ],
    }
}

/// Rejected applications are found by placement, GMC number and trust, in file order; a
/// redelivered file stores the same rejections, not more; they never show up as applicants,
/// placements or positions (the indexes they share keep them apart).
async fn contract_rejected_applications(store: &dyn StateStore) {
    let f1 = "DE_KSS_APP_20261121_00000042.DAT";
    let f2 = "DE_KSS_APP_20261123_00000047.DAT";
    let a = rejected("7000004", Some("7544160"), Some("504"), f1, 21, 4);
    let b = rejected("7000004", Some("7544160"), Some("504"), f2, 23, 2);
    let c = rejected("7000006", None, None, f1, 21, 6);
    let d = rejected("", Some("7544999"), Some("505"), f1, 21, 1);
    let e = rejected("7000009", Some("7544160"), Some("505"), f1, 21, 9);
    store.save_rejected_applications(&[]).await.unwrap();
    // Out of order, and split over two calls, as chunks of a file would be.
    store
        .save_rejected_applications(&[b.clone(), e.clone()])
        .await
        .unwrap();
    store
        .save_rejected_applications(&[c.clone(), a.clone(), d.clone()])
        .await
        .unwrap();

    let find = |lookup| async move { store.rejected_applications(lookup).await.unwrap() };
    assert_eq!(
        find(RejectedLookup::Placement("7000004")).await,
        vec![a.clone(), b.clone()]
    );
    assert_eq!(
        find(RejectedLookup::Placement("7000006")).await,
        vec![c.clone()]
    );
    assert_eq!(
        find(RejectedLookup::Gmc("7544160")).await,
        vec![a.clone(), e.clone(), b.clone()]
    );
    assert_eq!(find(RejectedLookup::Gmc("7544999")).await, vec![d.clone()]);
    assert_eq!(
        find(RejectedLookup::Trust("504")).await,
        vec![a.clone(), b.clone()]
    );
    assert_eq!(
        find(RejectedLookup::Trust("505")).await,
        vec![d.clone(), e.clone()]
    );
    for nothing in [
        RejectedLookup::Placement(""),
        RejectedLookup::Gmc(""),
        RejectedLookup::Trust(""),
        RejectedLookup::Placement("7999999"),
        RejectedLookup::Gmc("7000000"),
        RejectedLookup::Trust("999"),
    ] {
        assert!(find(nothing).await.is_empty(), "{nothing:?}");
    }

    // The same file again: the same rejections, none twice; a record rewritten wins.
    store
        .save_rejected_applications(&[a.clone(), c.clone(), d.clone(), e.clone(), a.clone()])
        .await
        .unwrap();
    let mut a_again = a.clone();
    a_again.messages.truncate(1);
    store
        .save_rejected_applications(&[a_again.clone()])
        .await
        .unwrap();
    assert_eq!(
        find(RejectedLookup::Placement("7000004")).await,
        vec![a_again.clone(), b.clone()]
    );
    assert_eq!(
        find(RejectedLookup::Gmc("7544160")).await,
        vec![a_again.clone(), e.clone(), b.clone()]
    );
    assert_eq!(find(RejectedLookup::Trust("505")).await.len(), 2);

    // A rejection blocks nothing and is no applicant, placement or position.
    assert!(store
        .placements(&["7000004".to_string()])
        .await
        .unwrap()
        .is_empty());
    assert!(store.applicants_by_gmc("7544160").await.unwrap().is_empty());
    assert!(store.trust_positions("504").await.unwrap().is_empty());
    assert!(store
        .positions_by_dpn("KSS/RJZ01/030/STR/001")
        .await
        .unwrap()
        .is_empty());
}

contract!(contract_rejected_applications =>
    sqlite_rejected_applications_are_found_by_placement_gmc_and_trust_once_each,
    dynamo_rejected_applications_are_found_by_placement_gmc_and_trust_once_each);

// ---------------------------------------------------------------------------------------------
// The portal: a trust's applicants, inbox read marks
// ---------------------------------------------------------------------------------------------

async fn contract_trust_applicants_and_read_marks(store: &dyn StateStore) {
    // Applicants 1..=12 of batch index 0..12: the fixtures spread them over trusts by index.
    let input = created(store, batch(1, 0..12)).await;
    let mut by_trust: HashMap<String, Vec<ApplicantSummary>> = HashMap::new();
    for new in &input {
        by_trust
            .entry(new.applicant.vpd.clone())
            .or_default()
            .push(ApplicantSummary::from(&new.applicant));
    }
    assert!(by_trust.len() >= 2, "the fixtures span several trusts");
    for (vpd, expected) in &by_trust {
        let listed = store.trust_applicants(vpd).await.unwrap();
        // In numeric order of applicant number (10 after 9, not after 1).
        assert_eq!(&listed, expected, "trust {vpd}");
    }
    assert!(store.trust_applicants("000").await.unwrap().is_empty());

    // A move shows in the listing (the index follows the applicant).
    let (_, moved, _) = offered(store).await;
    let listed = store.trust_applicants(&moved.vpd).await.unwrap();
    assert_eq!(
        listed.iter().find(|a| a.applicant_number == "1"),
        Some(&ApplicantSummary::from(&moved))
    );
    assert_eq!(moved.state, ApplicantState::Offered);

    assert!(store.read_items("504").await.unwrap().is_empty());
    store
        .mark_read("504", "notifications/a.medical-rotation", at(4, 9))
        .await
        .unwrap();
    store
        .mark_read("504", "notifications/a.medical-rotation", at(5, 9))
        .await
        .unwrap();
    store
        .mark_read("505", "reports/b.dpn-readiness", at(4, 9))
        .await
        .unwrap();
    assert_eq!(
        store.read_items("504").await.unwrap(),
        ["notifications/a.medical-rotation".to_string()].into()
    );
    assert_eq!(
        store.read_items("505").await.unwrap(),
        ["reports/b.dpn-readiness".to_string()].into()
    );
}

contract!(contract_trust_applicants_and_read_marks =>
    sqlite_a_trusts_applicants_are_listed_in_number_order_and_read_marks_are_per_trust,
    dynamo_a_trusts_applicants_are_listed_in_number_order_and_read_marks_are_per_trust);

/// Rotation rows are removed by trust and position key; other trusts' rows, and keys not in the
/// grid, are left alone; removing twice is no error.
async fn contract_remove_rotation(store: &dyn StateStore) {
    use dit_domain::dnc::{NamedTrainee, RotationEntry};
    let row = |vpd: &str, key: &str| RotationEntry {
        vpd: vpd.into(),
        position_key: key.into(),
        position_id: key.trim_start_matches("DPN:").into(),
        dpn: format!("KSS/A/{key}/B"),
        managing_deanery_body: "KSS".into(),
        specialty: "Cardiology".into(),
        site: "Site".into(),
        current: NamedTrainee::default(),
        current_projected_end_date: None,
        current_next_placement_site: String::new(),
        current_wte: String::new(),
        next: NamedTrainee::default(),
        next_current_placement_site: String::new(),
        next_projected_start_date: None,
        next_email_address: String::new(),
        next_grade: String::new(),
        next_wte: String::new(),
        post_vacant_at_next_rotation: None,
        source_file: "f".into(),
        updated_on: date(2026, 11, 21),
    };
    let rows: Vec<RotationEntry> = ["1", "2", "3", "DPN:KSS/X/1/2"]
        .iter()
        .map(|k| row("504", k))
        .chain(["1", "2"].iter().map(|k| row("505", k)))
        .collect();
    store.save_rotation(&rows).await.unwrap();
    store.remove_rotation("504", &[]).await.unwrap();
    let keys = |v: &[&str]| v.iter().map(|k| k.to_string()).collect::<Vec<_>>();
    store
        .remove_rotation("504", &keys(&["2", "DPN:KSS/X/1/2", "9", "2"]))
        .await
        .unwrap();
    assert_eq!(
        store.rotation_grid("504").await.unwrap(),
        vec![row("504", "1"), row("504", "3")]
    );
    assert_eq!(
        store.rotation_grid("505").await.unwrap(),
        vec![row("505", "1"), row("505", "2")]
    );
    store
        .remove_rotation("504", &keys(&["2", "DPN:KSS/X/1/2"]))
        .await
        .unwrap();
    // More keys than one batch request holds.
    let many: Vec<String> = (0..60).map(|i| format!("M{i:02}")).collect();
    store
        .save_rotation(&many.iter().map(|k| row("506", k)).collect::<Vec<_>>())
        .await
        .unwrap();
    store.remove_rotation("506", &many[..55]).await.unwrap();
    let left: Vec<String> = store
        .rotation_grid("506")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.position_key)
        .collect();
    assert_eq!(left, many[55..].to_vec());
}

contract!(contract_remove_rotation =>
    sqlite_rotation_rows_are_removed_by_trust_and_position_key,
    dynamo_rotation_rows_are_removed_by_trust_and_position_key);

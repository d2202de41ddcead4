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
use dit_test_support::fixtures::{
    at, batch, date, file, link_of, position, FIXTURES_TODAY, SOURCE_SHA,
};
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

    /// A store on its own connection to the file, judging retention on the fixtures' day.
    fn open(&self) -> SqliteStore {
        SqliteStore::open(&self.dir.path().join("state.db"))
            .expect("open the SQLite store")
            .with_today(FIXTURES_TODAY)
    }
}

/// The state table on this moto, and a store on it.
async fn dynamo(moto: &Moto) -> DynamoStore {
    DynamoStore::new(moto.create_table(TABLE).await, TABLE).with_today(FIXTURES_TODAY)
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
            let second =
                DynamoStore::new(moto.dynamo_client().await, TABLE).with_today(FIXTURES_TODAY);
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

mod applicants;
mod expiry;
mod files;
mod moves;
mod portal;
mod positions;
mod rejected;
mod rotation;

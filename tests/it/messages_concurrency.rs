//! Trust actions racing on one applicant, and batches delivered twice, on SQLite (two or sixteen
//! connections to one database file, as so many `dit` processes or Lambda instances would have) and
//! on DynamoDB and S3 emulated by moto.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use dit_aws::dynamo::DynamoStore;
use dit_aws::s3::{S3Blobs, S3Layout};
use dit_core::ports::Area;
use dit_core::service::messages::answering::{answer_key, AnswerStatus, MessageResult};
use dit_core::service::messages::handle_message;
use dit_domain::boundary::{MessageSender, Principal};
use dit_domain::envelope::business_order_key;
use dit_domain::lifecycle::ApplicantState;
use dit_domain::model::{Applicant, Cause, HistoryEntry, HistoryOutcome};
use dit_embedded::folders::FolderBlobs;
use dit_embedded::sqlite::SqliteStore;
use dit_test_support::applicants::{action, at, outbound, Env, LEAD_504};
use dit_test_support::Moto;
use tokio::sync::Barrier;

const TABLE: &str = "dit-state";
const INBOUND: &str = "dit-inbound";
const OUTBOUND: &str = "dit-outbound";

/// Two environments on one SQLite database file and one data folder.
fn sqlite_pair(dir: &Path) -> (Env, Env) {
    let open = || {
        Env::new(
            Arc::new(SqliteStore::open(&dir.join("state.db")).unwrap()),
            Arc::new(FolderBlobs::new(dir)),
        )
    };
    (open(), open())
}

fn s3_layout() -> S3Layout {
    S3Layout {
        inbound_bucket: INBOUND.into(),
        inbound_prefix: "incoming/".into(),
        quarantine_prefix: "quarantine/".into(),
        outbound_bucket: OUTBOUND.into(),
    }
}

/// `count` environments on one SQLite database file and one data folder: one connection each.
fn sqlite_many(dir: &Path, count: usize) -> Vec<Env> {
    (0..count)
        .map(|_| {
            Env::new(
                Arc::new(SqliteStore::open(&dir.join("state.db")).unwrap()),
                Arc::new(FolderBlobs::new(dir)),
            )
        })
        .collect()
}

/// `count` environments on one DynamoDB table and one pair of buckets, each with its own clients.
async fn moto_many(moto: &Moto, count: usize) -> Vec<Env> {
    moto.create_table(TABLE).await;
    moto.create_buckets(INBOUND, OUTBOUND).await;
    let mut envs = Vec::new();
    for _ in 0..count {
        envs.push(Env::new(
            Arc::new(DynamoStore::new(moto.dynamo_client().await, TABLE)),
            Arc::new(S3Blobs::new(moto.s3_client().await, s3_layout())),
        ));
    }
    envs
}

/// Two environments on one DynamoDB table and one pair of buckets, each with its own clients.
async fn moto_pair(moto: &Moto) -> (Env, Env) {
    moto.create_table(TABLE).await;
    moto.create_buckets(INBOUND, OUTBOUND).await;
    let mut pair = Vec::new();
    for _ in 0..2 {
        pair.push(Env::new(
            Arc::new(DynamoStore::new(moto.dynamo_client().await, TABLE)),
            Arc::new(S3Blobs::new(moto.s3_client().await, s3_layout())),
        ));
    }
    let second = pair.pop().unwrap();
    (pair.pop().unwrap(), second)
}

/// Sends every body at once from its own task, alternating between the two environments.
async fn race(a: &Env, b: &Env, bodies: Vec<String>) -> Vec<(String, MessageResult)> {
    let barrier = Arc::new(Barrier::new(bodies.len()));
    let mut tasks = Vec::new();
    for (i, body) in bodies.into_iter().enumerate() {
        let env = if i % 2 == 0 { a.clone() } else { b.clone() };
        let barrier = Arc::clone(&barrier);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let operator = MessageSender::Known(Principal::Operator);
            let result = handle_message(&env.ctx(at(40)), &operator, &body)
                .await
                .expect("no store failure");
            (body, result)
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("task finished"));
    }
    results
}

/// Sends every body at once, each from its own task on its own environment (`envs[i % len]`).
async fn race_all(envs: &[Env], bodies: Vec<String>) -> Vec<(String, MessageResult)> {
    let barrier = Arc::new(Barrier::new(bodies.len()));
    let mut tasks = Vec::new();
    for (i, body) in bodies.into_iter().enumerate() {
        let env = envs[i % envs.len()].clone();
        let barrier = Arc::clone(&barrier);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let operator = MessageSender::Known(Principal::Operator);
            let result = handle_message(&env.ctx(at(40)), &operator, &body)
                .await
                .expect("no store failure");
            (body, result)
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("task finished"));
    }
    results
}

/// 16 final moves of one accepted applicant, each with its own id: 8 hires and 8 withdrawals.
/// Whichever is stored first ends the applicant (hired and withdrawn are both final), so exactly
/// one of the 16 can move it.
fn sixteen_final_moves() -> Vec<String> {
    (0..16)
        .map(|i| {
            let id = format!("final-{i:02}");
            if i % 2 == 0 {
                serde_json::json!({"id": id, "action": "hire", "person_type": "Employee", "vpd": "504", "applicant_number": LEAD_504})
            } else {
                action(&id, "withdraw", "504", LEAD_504)
            }
            .to_string()
        })
        .collect()
}

/// 16 concurrent conflicting moves, each through its own store connection or client: exactly one
/// wins; every other is refused (in the history) or a repeat of the winner's move (no entry); the
/// history has no gap, every entry starts where the one before ended, and every message is answered.
async fn sixteen_conflicting_moves_have_exactly_one_winner(envs: Vec<Env>) {
    let first = &envs[0];
    first.load().await;
    for (id, command) in [("pre-offer", "offer"), ("pre-accept", "accept")] {
        let result = first
            .send(&action(id, command, "504", LEAD_504).to_string())
            .await;
        assert_eq!(result.answer.status, AnswerStatus::Accepted, "{id}");
    }
    let results = race_all(&envs, sixteen_final_moves()).await;
    assert_eq!(results.len(), 16);

    let applicant = first.store.applicant(LEAD_504).await.unwrap().unwrap();
    let history = first.store.history(LEAD_504).await.unwrap();
    history_is_consistent(&applicant, &history);
    let raced: Vec<&HistoryEntry> = history
        .iter()
        .filter(|e| matches!(&e.cause, Cause::Message { id, .. } if id.starts_with("final-")))
        .collect();
    let winners: Vec<&&HistoryEntry> = raced
        .iter()
        .filter(|e| e.outcome == HistoryOutcome::Moved)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one winner: {raced:#?}");
    let winner = winners[0];
    assert_eq!(applicant.state, winner.to);
    assert!(matches!(
        applicant.state,
        ApplicantState::Hired | ApplicantState::Withdrawn
    ));

    let mut accepted = 0;
    for (body, result) in &results {
        let id = result.answer.id.clone().expect("an id");
        let entries: Vec<&&HistoryEntry> = raced
            .iter()
            .filter(|e| matches!(&e.cause, Cause::Message { id: cause, .. } if *cause == id))
            .collect();
        match result.answer.status {
            AnswerStatus::Accepted => {
                accepted += 1;
                assert_eq!(entries.len(), 1, "{id}");
                assert_eq!(entries[0].seq, winner.seq, "{id} is the winner");
            }
            AnswerStatus::Refused => {
                assert_eq!(entries.len(), 1, "refused {id} is in the history");
                assert!(matches!(entries[0].outcome, HistoryOutcome::Refused { .. }));
            }
            AnswerStatus::Unchanged => {
                assert!(entries.is_empty(), "{id}");
                assert_eq!(
                    body.contains("\"hire\""),
                    winner.command == "hire",
                    "{id}: only a repeat of the winning move is unchanged"
                );
            }
            AnswerStatus::Duplicate => panic!("{id} has a unique id"),
        }
        assert!(
            first
                .blobs
                .get(Area::Outbound, &answer_key("504", &id))
                .await
                .unwrap()
                .is_some(),
            "no answer for {id}"
        );
    }
    assert_eq!(accepted, 1);
    let statuses: Vec<&str> = results
        .iter()
        .map(|(_, r)| r.answer.status.name())
        .collect();
    eprintln!(
        "16 conflicting moves: winner {} {:?}; answers {statuses:?}",
        winner.command, winner.cause
    );
    let recorded = results
        .iter()
        .filter(|(_, r)| r.answer.status != AnswerStatus::Unchanged)
        .count();
    assert_eq!(
        history.len(),
        4 + recorded,
        "load (2), offer, accept, then the race"
    );
}

/// 16 conflicting moves of one loaded applicant, each with its own id.
fn conflicting_moves() -> Vec<String> {
    (0..16)
        .map(|i| {
            let command = ["offer", "accept", "withdraw", "offer"][i % 4];
            action(&format!("race-{i:02}"), command, "504", LEAD_504).to_string()
        })
        .collect()
}

fn history_is_consistent(applicant: &Applicant, history: &[HistoryEntry]) {
    let seqs: Vec<u32> = history.iter().map(|e| e.seq).collect();
    let expected: Vec<u32> = (1..=u32::try_from(history.len()).unwrap()).collect();
    assert_eq!(seqs, expected, "seqs without gaps or duplicates");
    assert_eq!(applicant.version as usize, history.len());
    // Every entry (move or refusal) starts where the one before it ended, and the applicant is
    // where the last one ended.
    let mut state: Option<ApplicantState> = None;
    for entry in history {
        assert_eq!(entry.from, state, "entry {} starts elsewhere", entry.seq);
        state = Some(entry.to);
    }
    assert_eq!(state, Some(applicant.state));
}

async fn many_conflicting_actions_have_one_winner_per_move(a: Env, b: Env) {
    a.load().await;
    let results = race(&a, &b, conflicting_moves()).await;
    let applicant = a.store.applicant(LEAD_504).await.unwrap().unwrap();
    let history = a.store.history(LEAD_504).await.unwrap();
    history_is_consistent(&applicant, &history);

    let mut moved: BTreeMap<&str, usize> = BTreeMap::new();
    for entry in history
        .iter()
        .filter(|e| e.outcome == HistoryOutcome::Moved)
    {
        *moved.entry(entry.command.as_str()).or_default() += 1;
    }
    for command in ["offer", "accept", "withdraw"] {
        assert!(
            moved.get(command).copied().unwrap_or(0) <= 1,
            "{command} won more than once: {moved:?}"
        );
    }
    // Something moved: the applicant left "loaded".
    assert_ne!(applicant.state, ApplicantState::Loaded);

    for (_, result) in &results {
        let id = result.answer.id.clone().unwrap();
        let entries: Vec<&HistoryEntry> = history
            .iter()
            .filter(|e| matches!(&e.cause, Cause::Message { id: cause, .. } if *cause == id))
            .collect();
        match result.answer.status {
            AnswerStatus::Accepted => {
                assert_eq!(entries.len(), 1, "{id}");
                assert_eq!(entries[0].outcome, HistoryOutcome::Moved, "{id}");
            }
            AnswerStatus::Refused => {
                assert_eq!(entries.len(), 1, "refused {id} must be in the history");
                assert!(matches!(entries[0].outcome, HistoryOutcome::Refused { .. }));
            }
            AnswerStatus::Unchanged => assert!(entries.is_empty(), "{id}"),
            AnswerStatus::Duplicate => panic!("{id} has a unique id"),
        }
        let written = a
            .blobs
            .get(Area::Outbound, &answer_key("504", &id))
            .await
            .unwrap();
        assert!(written.is_some(), "no answer for {id}");
    }
    let recorded = results
        .iter()
        .filter(|(_, r)| r.answer.status != AnswerStatus::Unchanged)
        .count();
    assert_eq!(history.len(), 2 + recorded);
}

async fn the_same_message_racing_itself_is_applied_once(a: Env, b: Env) {
    a.load().await;
    let body = action("same", "offer", "504", LEAD_504).to_string();
    let results = race(&a, &b, vec![body; 8]).await;
    let statuses: Vec<AnswerStatus> = results.iter().map(|(_, r)| r.answer.status).collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == AnswerStatus::Accepted)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(statuses
        .iter()
        .all(|s| matches!(s, AnswerStatus::Accepted | AnswerStatus::Duplicate)));
    let history = a.store.history(LEAD_504).await.unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(
        history[2].cause,
        Cause::Message {
            id: "same".into(),
            sender: Some("trust:504".into())
        }
    );
    let written: serde_json::Value = serde_json::from_slice(
        &a.blobs
            .get(Area::Outbound, &answer_key("504", "same"))
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(written["status"], "accepted");
}

/// The sample files that load 5000001-5000006 (POS before APP, as `dit process events/files/`
/// orders them). The fixtures' trusts 504 and 505 are configured as in the samples.
async fn load_samples(env: &Env) {
    let dir = dit_test_support::samples::repo().join("events/files");
    let mut names: Vec<String> = [
        "ESR_504_POS_20261121_00000001.DAT",
        "ESR_505_POS_20261121_00000001.DAT",
        "DE_KSS_APP_20261121_00000042.DAT",
    ]
    .map(String::from)
    .to_vec();
    names.sort_by_key(|n| business_order_key(n));
    for name in names {
        let text = std::fs::read_to_string(dir.join(&name)).unwrap();
        env.process(&name, &text).await;
    }
}

fn walkthrough() -> Vec<String> {
    let path = dit_test_support::samples::repo().join("events/messages/walkthrough.jsonl");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(String::from)
        .collect()
}

async fn snapshot(env: &Env) -> (Vec<(Applicant, Vec<HistoryEntry>)>, Vec<(String, Vec<u8>)>) {
    let mut applicants = Vec::new();
    for n in 5_000_001..=5_000_006 {
        let number = n.to_string();
        let applicant = env.store.applicant(&number).await.unwrap().unwrap();
        applicants.push((applicant, env.store.history(&number).await.unwrap()));
    }
    (applicants, outbound(env.blobs.as_ref()).await)
}

async fn a_batch_delivered_twice_changes_nothing_the_second_time(env: Env) {
    load_samples(&env).await;
    let batch = walkthrough();
    for body in &batch {
        env.send(body).await;
    }
    let first = snapshot(&env).await;
    let hired = &first.0[0].0;
    assert_eq!(hired.state, ApplicantState::Hired);
    assert!(hired.employment_checks.is_some());
    for body in &batch {
        let result = env.send(body).await;
        assert_eq!(result.answer.status, AnswerStatus::Duplicate, "{body}");
        assert!(result.outputs.is_empty());
    }
    assert_eq!(snapshot(&env).await, first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn sqlite_many_conflicting_actions_have_one_winner_per_move() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = sqlite_pair(dir.path());
    many_conflicting_actions_have_one_winner_per_move(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn sqlite_the_same_message_racing_itself_is_applied_once() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = sqlite_pair(dir.path());
    the_same_message_racing_itself_is_applied_once(a, b).await;
}

#[tokio::test]
async fn sqlite_a_batch_delivered_twice_changes_nothing_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let (env, _) = sqlite_pair(dir.path());
    a_batch_delivered_twice_changes_nothing_the_second_time(env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn moto_many_conflicting_actions_have_one_winner_per_move() {
    let moto = Moto::start();
    let (a, b) = moto_pair(&moto).await;
    many_conflicting_actions_have_one_winner_per_move(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn moto_the_same_message_racing_itself_is_applied_once() {
    let moto = Moto::start();
    let (a, b) = moto_pair(&moto).await;
    the_same_message_racing_itself_is_applied_once(a, b).await;
}

#[tokio::test]
async fn moto_a_batch_delivered_twice_changes_nothing_the_second_time() {
    let moto = Moto::start();
    let (env, _) = moto_pair(&moto).await;
    a_batch_delivered_twice_changes_nothing_the_second_time(env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn sqlite_sixteen_conflicting_moves_have_exactly_one_winner() {
    let dir = tempfile::tempdir().unwrap();
    sixteen_conflicting_moves_have_exactly_one_winner(sqlite_many(dir.path(), 16)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn moto_sixteen_conflicting_moves_have_exactly_one_winner() {
    let moto = Moto::start();
    sixteen_conflicting_moves_have_exactly_one_winner(moto_many(&moto, 16).await).await;
}

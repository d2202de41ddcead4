//! Internal movers (section 10) on SQLite and on DynamoDB (moto): the flag stored at load, `hire`
//! refused with the contract's text, `update_assignment` hiring the mover and telling the earlier
//! assignment where it went, and two racing moves with one winner.

use std::sync::Arc;

use chrono::NaiveDate;
use dit_aws::dynamo::DynamoStore;
use dit_aws::s3::{S3Blobs, S3Layout};
use dit_core::service::messages::answering::AnswerStatus;
use dit_core::service::messages::handle_message;
use dit_domain::boundary::{MessageSender, Principal};
use dit_domain::lifecycle::ApplicantState;
use dit_domain::model::HistoryOutcome;
use dit_embedded::folders::FolderBlobs;
use dit_embedded::sqlite::SqliteStore;
use dit_test_support::applicants::{action, app, at, on_moto, on_sqlite, Env, DPN_101, LEAD_504};
use dit_test_support::Moto;
use serde_json::json;
use tokio::sync::Barrier;

/// Hires [`LEAD_504`] (GMC 7000001) and loads the same person on position 101 a week later:
/// the new applicant's number.
async fn hired_then_loaded_again(env: &Env) -> String {
    for (id, step) in [("o", "offer"), ("a", "accept")] {
        let result = env
            .send(&action(id, step, "504", LEAD_504).to_string())
            .await;
        assert_eq!(result.answer.status, AnswerStatus::Accepted, "{result:?}");
    }
    let mut hire = action("h", "hire", "504", LEAD_504);
    hire["person_type"] = json!("Employee");
    assert_eq!(
        env.send(&hire.to_string()).await.answer.status,
        AnswerStatus::Accepted
    );
    let line = app("9", "101", DPN_101, "7000001").replace("2027-02-03", "2027-02-10");
    let report = env.process_app(2, &[line]).await;
    assert_eq!(report.loaded, 1, "{report:?}");
    let links = env.store.placements(&["9".into()]).await.unwrap();
    links["9"].applicant_number.clone()
}

async fn accept(env: &Env, number: &str) {
    for (id, step) in [("mo", "offer"), ("ma", "accept")] {
        let result = env.send(&action(id, step, "504", number).to_string()).await;
        assert_eq!(result.answer.status, AnswerStatus::Accepted, "{result:?}");
    }
}

/// How many history entries of `number` have `command` (and, given, `outcome`).
async fn count_entries(
    env: &Env,
    number: &str,
    command: &str,
    outcome: Option<HistoryOutcome>,
) -> usize {
    env.store
        .history(number)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.command == command && outcome.as_ref().is_none_or(|o| &e.outcome == o))
        .count()
}

fn update_assignment(id: &str, number: &str) -> String {
    let mut body = action(id, "update_assignment", "504", number);
    body["person_type"] = json!("Employee");
    body.to_string()
}

async fn the_internal_move_rule(env: Env) {
    let mover = hired_then_loaded_again(&env).await;
    let stored = env.store.applicant(&mover).await.unwrap().unwrap();
    assert!(stored.internal_mover, "stored at load");
    assert!(
        !env.store
            .applicant(LEAD_504)
            .await
            .unwrap()
            .unwrap()
            .internal_mover
    );
    accept(&env, &mover).await;

    let mut hire = action("mh", "hire", "504", &mover);
    hire["person_type"] = json!("Employee");
    let refused = env.send(&hire.to_string()).await;
    assert_eq!(refused.answer.status, AnswerStatus::Refused);
    assert_eq!(
        refused.answer.reason.as_deref(),
        Some(
            format!(
                "Applicant {mover} is an existing employee of trust 504: update the assignment (update_assignment) instead of hiring again."
            )
            .as_str()
        )
    );

    let moved = env.send(&update_assignment("mu", &mover)).await;
    assert_eq!(moved.answer.status, AnswerStatus::Accepted, "{moved:?}");
    assert_eq!(moved.answer.state, Some(ApplicantState::Hired));
    let history = env.store.history(&mover).await.unwrap();
    let last = history.last().unwrap();
    assert_eq!(last.command, "update_assignment");
    assert_eq!(
        last.detail.as_deref(),
        Some("hired (internal move); person type Employee")
    );

    let earlier = env.store.applicant(LEAD_504).await.unwrap().unwrap();
    assert_eq!(earlier.state, ApplicantState::Hired);
    assert_eq!(
        earlier.projected_end_date,
        NaiveDate::from_ymd_opt(2027, 2, 9)
    );
    let entries: Vec<_> = env
        .store
        .history(LEAD_504)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.command == "assignment_moved")
        .collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].detail.as_deref(),
        Some(
            format!("Assignment moved to position 101 from 2027-02-10 (applicant {mover})")
                .as_str()
        )
    );

    // Redelivered: a duplicate, and the earlier applicant is not told twice.
    let again = env.send(&update_assignment("mu", &mover)).await;
    assert_eq!(again.answer.status, AnswerStatus::Duplicate);
    assert_eq!(
        count_entries(&env, LEAD_504, "assignment_moved", None).await,
        1
    );

    // update_assignment of a new hire is refused.
    let refused = env.send(&update_assignment("x", "5000002")).await;
    assert_eq!(refused.answer.status, AnswerStatus::Refused);
}

#[tokio::test]
async fn internal_movers_on_sqlite() {
    on_sqlite(the_internal_move_rule).await;
}

#[tokio::test]
async fn internal_movers_on_dynamodb() {
    on_moto(the_internal_move_rule).await;
}

/// Two `update_assignment` messages (different ids) at once on two connections: one moves the
/// mover, the other finds it hired; the earlier applicant gets one entry.
async fn two_racing_moves(a: Env, b: Env) {
    a.load().await;
    let mover = hired_then_loaded_again(&a).await;
    accept(&a, &mover).await;
    let barrier = Arc::new(Barrier::new(2));
    let mut tasks = Vec::new();
    for (i, env) in [a.clone(), b.clone()].into_iter().enumerate() {
        let barrier = Arc::clone(&barrier);
        let body = update_assignment(&format!("race-{i}"), &mover);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let operator = MessageSender::Known(Principal::Operator);
            handle_message(&env.ctx(at(40)), &operator, &body)
                .await
                .expect("no store failure")
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap().answer.status);
    }
    statuses.sort_by_key(|s| s.name());
    assert_eq!(
        statuses,
        vec![AnswerStatus::Accepted, AnswerStatus::Unchanged]
    );
    let moved = Some(HistoryOutcome::Moved);
    assert_eq!(
        count_entries(&a, &mover, "update_assignment", moved).await,
        1
    );
    assert_eq!(
        count_entries(&a, LEAD_504, "assignment_moved", None).await,
        1
    );
}

#[tokio::test]
async fn two_racing_update_assignments_have_one_winner_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        Env::new(
            Arc::new(SqliteStore::open(&dir.path().join("state.db")).unwrap()),
            Arc::new(FolderBlobs::new(dir.path())),
        )
    };
    two_racing_moves(open(), open()).await;
}

#[tokio::test]
async fn two_racing_update_assignments_have_one_winner_on_dynamodb() {
    let moto = Moto::start();
    moto.create_table("dit-state").await;
    moto.create_buckets("dit-inbound", "dit-outbound").await;
    let layout = || S3Layout {
        inbound_bucket: "dit-inbound".into(),
        inbound_prefix: "incoming/".into(),
        quarantine_prefix: "quarantine/".into(),
        outbound_bucket: "dit-outbound".into(),
    };
    let mut envs = Vec::new();
    for _ in 0..2 {
        envs.push(Env::new(
            Arc::new(DynamoStore::new(moto.dynamo_client().await, "dit-state")),
            Arc::new(S3Blobs::new(moto.s3_client().await, layout())),
        ));
    }
    let b = envs.pop().unwrap();
    two_racing_moves(envs.pop().unwrap(), b).await;
}

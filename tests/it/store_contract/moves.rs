//! Moves: stored only on the version read, and of racing moves from one version exactly one.

use super::*;

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
pub(super) async fn offered(store: &dyn StateStore) -> (Applicant, Applicant, HistoryEntry) {
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

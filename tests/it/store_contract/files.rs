//! Processed files: claims, completion, the received sequences, watermarks and named sequences.

use super::*;

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

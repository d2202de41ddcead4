//! The SQLite store beyond the shared contract: a chunk-sized batch of new applicants, whose JSON
//! is encoded on a helper thread while the rows are written, gives the same answers, in input
//! order, as a small one encoded in line.

use dit_core::ports::{CreateOutcome, StateStore};
use dit_embedded::sqlite::SqliteStore;
use dit_test_support::fixtures::{batch, link_of, FIXTURES_TODAY};

#[tokio::test]
async fn a_chunk_of_applicants_keeps_input_order_with_taken_placements_among_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("state.db"))
        .unwrap()
        .with_today(FIXTURES_TODAY);

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
}

//! The portal's reads: a trust's applicants in number order, inbox read marks per trust.

use super::moves::offered;
use super::*;

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

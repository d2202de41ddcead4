//! Rejected APP records: found by placement, GMC number and trust, each once.

use super::*;

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
        projected_hire_date: Some(date(2027, 2, day)),
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

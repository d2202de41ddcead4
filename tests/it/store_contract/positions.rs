//! Positions: saved and read by trust and by DPN; what TIS was sent per local office.

use super::*;

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

//! The rotation grid: rows replaced and removed by trust and position key; person updates and
//! employees.

use super::*;

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

//! Expired is gone (contract 7.1 and 8): a record past its retention is neither read nor in the
//! way of a write, on both stores, while it still exists (before `dit purge` or DynamoDB's TTL).
//!
//! Each contract gets two handles on one store: `then`, judging on [`THEN`] (when the records
//! were live), and `now`, judging on [`NOW`] (when the old ones are past their retention). What
//! `then` still reads proves the records are stored; what `now` does not read is hidden.

use super::*;
use chrono::NaiveDate;
use dit_domain::dnc::{NamedTrainee, RotationEntry};
use dit_domain::model::{PersonUpdate, PersonUpdateStatus, ReceivedSequence};
use dit_domain::reports::ReportedApplicant;
use dit_test_support::fixtures::new_applicant;

/// When the old records were live.
const THEN: (i32, u32, u32) = (2023, 1, 1);
/// The fixtures' day: the old records are past their retention, the fixtures' own are not.
const NOW: (i32, u32, u32) = (2025, 3, 1);

fn day((y, m, d): (i32, u32, u32)) -> NaiveDate {
    date(y, m, d)
}

/// One test per adapter for a contract taking `(then, now)`: two handles on one SQLite file or
/// one DynamoDB table, judging retention on [`THEN`] and [`NOW`].
macro_rules! dated_contract {
    ($contract:ident => $sqlite:ident, $dynamo:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $sqlite() {
            let db = SqliteFile::new();
            $contract(
                &db.open().with_today(day(THEN)),
                &db.open().with_today(day(NOW)),
            )
            .await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $dynamo() {
            let moto = Moto::start();
            let then = dynamo(&moto).await.with_today(day(THEN));
            let now = DynamoStore::new(moto.dynamo_client().await, TABLE).with_today(day(NOW));
            $contract(&then, &now).await;
        }
    };
}

/// Fixture applicant `i` as number `number`, loaded for a hire on `hire` with no end date: kept a
/// year after `hire`.
fn ending_a_year_after(number: u64, i: usize, hire: NaiveDate) -> NewApplicant {
    let mut new = new_applicant(number, i);
    new.applicant.projected_hire_date = hire;
    new.applicant.projected_end_date = None;
    new
}

/// The live applicant (1), one past its retention a year after its 2023 hire (2), and one
/// withdrawn in 2023 (3), all of trust RJ1 with persons of their own.
fn three_applicants() -> [NewApplicant; 3] {
    let live = new_applicant(1, 0);
    let expired = ending_a_year_after(2, 6, date(2023, 8, 2));
    let mut withdrawn = new_applicant(3, 12);
    withdrawn.applicant.state = ApplicantState::Withdrawn;
    withdrawn.applicant.updated_at = "2023-06-01T10:00:00Z".parse().unwrap();
    for new in [&live, &expired, &withdrawn] {
        assert_eq!(new.applicant.vpd, "RJ1");
    }
    [live, expired, withdrawn]
}

fn numbers(applicants: &[Applicant]) -> Vec<&str> {
    applicants
        .iter()
        .map(|a| a.applicant_number.as_str())
        .collect()
}

fn summary_numbers(summaries: &[ApplicantSummary]) -> Vec<&str> {
    summaries
        .iter()
        .map(|a| a.applicant_number.as_str())
        .collect()
}

fn rotation_row(key: &str, updated_on: NaiveDate) -> RotationEntry {
    RotationEntry {
        vpd: "RJ1".into(),
        position_key: key.into(),
        position_id: key.into(),
        dpn: format!("LDN/RJ1/MED/{key}"),
        managing_deanery_body: "LDN".into(),
        specialty: "Cardiology".into(),
        site: "Site".into(),
        current: NamedTrainee::default(),
        current_projected_end_date: None,
        current_next_placement_site: String::new(),
        current_wte: String::new(),
        next: NamedTrainee {
            last_name: "Next".into(),
            first_name: "F".into(),
            gmc_number: "7000001".into(),
        },
        next_current_placement_site: String::new(),
        next_projected_start_date: None,
        next_email_address: String::new(),
        next_grade: String::new(),
        next_wte: String::new(),
        post_vacant_at_next_rotation: Some(false),
        source_file: "f".into(),
        updated_on,
    }
}

fn person_update(applicant: &Applicant, effective: NaiveDate) -> PersonUpdate {
    PersonUpdate {
        vpd: applicant.vpd.clone(),
        local_office: "LDN".into(),
        applicant_number: applicant.applicant_number.clone(),
        message_id: format!("m-{}", applicant.applicant_number),
        received_at: effective.and_hms_opt(9, 0, 0).unwrap().and_utc(),
        effective_date: Some(effective),
        person: json!({"email_address": "new@example.nhs.uk"}),
        status: PersonUpdateStatus::PendingRmc,
    }
}

fn rejected_on(placement: &str, gmc: &str, business_date: NaiveDate) -> RejectedApplication {
    RejectedApplication {
        placement_id: placement.into(),
        gmc_number: Some(gmc.into()),
        last_name: "Surname".into(),
        first_name: "Given".into(),
        position_id: "RJ1-P0001".into(),
        position_number: "RJ1/00001".into(),
        dpn: "LDN/RJ1/MED/001".into(),
        vpd: Some("RJ1".into()),
        local_office: "LDN".into(),
        source_file: format!("DE_LDN_APP_{}_00000001.DAT", business_date.format("%Y%m%d")),
        source_sha256: "sha".into(),
        business_date,
        record_number: 1,
        line: 2,
        messages: vec![Message::mandatory_missing("LAST_NAME")],
        projected_hire_date: None,
    }
}

fn received_on(seq: u64, business_date: NaiveDate) -> ReceivedSequence {
    ReceivedSequence {
        file_type: "APP".into(),
        seq,
        source: "LDN".into(),
        business_date,
        name: format!("DE_LDN_APP_{}_{seq:08}.DAT", business_date.format("%Y%m%d")),
    }
}

/// Every read of a kind that expires leaves out what is past its retention on the store's day,
/// though the store still holds it: applicants by number, GMC number, hire date and trust (and
/// the trust's list), their history, placement links, persons and person updates, rotation rows,
/// rejected applications and TIS numbers received.
async fn contract_expired_records_are_not_read(then: &dyn StateStore, now: &dyn StateStore) {
    let [live, expired, withdrawn] = three_applicants();
    created(then, vec![live.clone(), expired.clone(), withdrawn.clone()]).await;
    let (l, e, w) = (&live.applicant, &expired.applicant, &withdrawn.applicant);

    // By number, with history.
    for old in [e, w] {
        assert_eq!(
            then.applicant(&old.applicant_number)
                .await
                .unwrap()
                .as_ref(),
            Some(old)
        );
        assert_eq!(now.applicant(&old.applicant_number).await.unwrap(), None);
        assert_eq!(
            seqs(&then.history(&old.applicant_number).await.unwrap()),
            vec![1, 2]
        );
        assert!(now.history(&old.applicant_number).await.unwrap().is_empty());
    }
    assert_eq!(now.applicant("1").await.unwrap().as_ref(), Some(l));
    assert_eq!(seqs(&now.history("1").await.unwrap()), vec![1, 2]);

    // By GMC number.
    let gmc = e.gmc_number().unwrap();
    assert_eq!(
        numbers(&then.applicants_by_gmc(gmc).await.unwrap()),
        vec!["2"]
    );
    assert!(now.applicants_by_gmc(gmc).await.unwrap().is_empty());
    let live_gmc = l.gmc_number().unwrap();
    assert_eq!(
        numbers(&now.applicants_by_gmc(live_gmc).await.unwrap()),
        vec!["1"]
    );

    // By hire date: the reminder's day and the worklist's range.
    assert_eq!(
        numbers(
            &then
                .applicants_starting_on(e.projected_hire_date)
                .await
                .unwrap()
        ),
        vec!["2"]
    );
    assert!(now
        .applicants_starting_on(e.projected_hire_date)
        .await
        .unwrap()
        .is_empty());
    let (from, to) = (date(2023, 1, 1), date(2026, 12, 31));
    assert_eq!(
        numbers(
            &then
                .trust_applicants_starting_between("RJ1", from, to)
                .await
                .unwrap()
        ),
        vec!["2", "1", "3"]
    );
    assert_eq!(
        numbers(
            &now.trust_applicants_starting_between("RJ1", from, to)
                .await
                .unwrap()
        ),
        vec!["1"]
    );

    // What the reports read, of every trust and of the one, on each applicant's hire date (a
    // range read on DynamoDB is a query per day), field for field as the applicant holds it.
    for a in [e, l, w] {
        let day = a.projected_hire_date;
        for vpd in [None, Some("RJ1")] {
            let read = then
                .reported_applicants_starting_between(vpd, day, day)
                .await
                .unwrap();
            assert!(read.contains(&ReportedApplicant::from(a)), "{read:?}");
            let read = now
                .reported_applicants_starting_between(vpd, day, day)
                .await
                .unwrap();
            assert_eq!(
                read.contains(&ReportedApplicant::from(a)),
                a == l,
                "{vpd:?} {read:?}"
            );
        }
    }

    // The trust's list (the portal's search).
    assert_eq!(
        summary_numbers(&then.trust_applicants("RJ1").await.unwrap()),
        vec!["1", "2", "3"]
    );
    assert_eq!(
        summary_numbers(&now.trust_applicants("RJ1").await.unwrap()),
        vec!["1"]
    );

    // Placement links.
    let ids: Vec<String> = [l, e, w].iter().map(|a| a.placement_id.clone()).collect();
    assert_eq!(then.placements(&ids).await.unwrap().len(), 3);
    let links = now.placements(&ids).await.unwrap();
    assert_eq!(links.keys().collect::<Vec<_>>(), vec![&l.placement_id]);

    // Persons: the expired applicants' persons have no live applicant.
    let keys: Vec<(String, String)> = [l, e, w]
        .iter()
        .map(|a| (a.vpd.clone(), a.person_key.clone().unwrap()))
        .collect();
    assert_eq!(then.persons(&keys).await.unwrap().len(), 3);
    let persons = now.persons(&keys).await.unwrap();
    assert_eq!(persons.keys().collect::<Vec<_>>(), vec![&keys[0]]);
    assert_eq!(persons[&keys[0]].applicant_numbers, vec!["1".to_string()]);

    // Person updates: the expired applicant's (of 2023) goes; the live one's stays.
    let old_update = person_update(e, date(2023, 9, 1));
    let new_update = person_update(l, date(2025, 2, 1));
    then.save_person_update(&old_update).await.unwrap();
    now.save_person_update(&new_update).await.unwrap();
    assert_eq!(then.person_updates("RJ1").await.unwrap().len(), 2);
    assert_eq!(
        now.person_updates("RJ1").await.unwrap(),
        vec![new_update.clone()]
    );

    // Rotation rows (the MEDROT is built from them): kept 90 days after their file.
    let old_row = rotation_row("P1", date(2024, 6, 1));
    let new_row = rotation_row("P2", date(2025, 2, 1));
    then.save_rotation(&[old_row.clone(), new_row.clone()])
        .await
        .unwrap();
    assert_eq!(
        then.rotation_grid("RJ1").await.unwrap(),
        vec![old_row, new_row.clone()]
    );
    assert_eq!(now.rotation_grid("RJ1").await.unwrap(), vec![new_row]);

    // Rejected applications: kept 90 days after their file, by every lookup.
    let old_rejection = rejected_on("PLC-R", "7100001", date(2024, 6, 1));
    let new_rejection = rejected_on("PLC-R", "7100001", date(2025, 1, 15));
    then.save_rejected_applications(&[old_rejection.clone(), new_rejection.clone()])
        .await
        .unwrap();
    for lookup in [
        RejectedLookup::Placement("PLC-R"),
        RejectedLookup::Gmc("7100001"),
        RejectedLookup::Trust("RJ1"),
    ] {
        assert_eq!(
            then.rejected_applications(lookup).await.unwrap(),
            vec![old_rejection.clone(), new_rejection.clone()],
            "{lookup:?} then"
        );
        assert_eq!(
            now.rejected_applications(lookup).await.unwrap(),
            vec![new_rejection.clone()],
            "{lookup:?} now"
        );
    }
    let filed_on = RejectedLookup::FiledOn(date(2024, 6, 1));
    assert_eq!(
        then.rejected_applications(filed_on).await.unwrap(),
        vec![old_rejection.clone()]
    );
    assert!(now
        .rejected_applications(filed_on)
        .await
        .unwrap()
        .is_empty());

    // TIS numbers received: kept a year after their file, by date and by number.
    let old_number = received_on(7, date(2023, 6, 1));
    let new_number = received_on(8, date(2024, 6, 1));
    for number in [&old_number, &new_number] {
        then.note_received_sequence(number).await.unwrap();
    }
    let (from, to) = (date(2023, 1, 1), date(2025, 3, 1));
    assert_eq!(
        then.received_sequences_between_dates("APP", from, to)
            .await
            .unwrap(),
        vec![old_number.clone(), new_number.clone()]
    );
    assert_eq!(
        now.received_sequences_between_dates("APP", from, to)
            .await
            .unwrap(),
        vec![new_number.clone()]
    );
    assert_eq!(
        now.received_sequences_between_numbers("APP", 1, 100)
            .await
            .unwrap(),
        vec![new_number.clone()]
    );
    // Noted again after its retention, the number is stored afresh and seen again.
    let renoted = received_on(7, date(2025, 2, 28));
    now.note_received_sequence(&renoted).await.unwrap();
    assert_eq!(
        now.received_sequences_between_numbers("APP", 1, 100)
            .await
            .unwrap(),
        vec![renoted, new_number]
    );
}

dated_contract!(contract_expired_records_are_not_read =>
    sqlite_records_past_their_retention_are_not_read,
    dynamo_records_past_their_retention_are_not_read);

/// Sent again after its record expired, a file is a new file (its claim replaces the old record,
/// then it is a duplicate of itself), and a placement becomes a new applicant (its link replaces
/// the expired applicant's) while the expired applicant stays unseen.
async fn contract_resent_after_expiry(then: &dyn StateStore, now: &dyn StateStore) {
    // A processed-file record of 2023: kept until 2024.
    let mut old = file("LDN", "APP", 5, "sha-old");
    old.business_date = date(2023, 6, 1);
    assert_eq!(then.claim_file(&old).await.unwrap(), FileClaim::New);
    then.complete_file(&old.identity, &json!({"records": 1}), at(1, 10))
        .await
        .unwrap();
    assert!(matches!(
        then.claim_file(&old).await.unwrap(),
        FileClaim::SameContent(_)
    ));
    // Now the same file, sent again (taken in on a date of its own), is new; then its new
    // record, not the old one, makes it a duplicate.
    let mut resent_file = old.clone();
    resent_file.business_date = date(2025, 3, 1);
    assert_eq!(now.claim_file(&resent_file).await.unwrap(), FileClaim::New);
    let FileClaim::SameContent(again) = now.claim_file(&resent_file).await.unwrap() else {
        panic!("claimed afresh, the file is then a duplicate of itself");
    };
    assert_eq!(again, resent_file, "the new claim, not the old record");
    // Under an expired record's identity, other content is a new file too.
    let mut other = file("LDN", "APP", 6, "sha-first");
    other.business_date = date(2023, 6, 1);
    assert_eq!(then.claim_file(&other).await.unwrap(), FileClaim::New);
    let mut changed = other.clone();
    changed.sha256 = "sha-changed".into();
    changed.business_date = date(2025, 3, 1);
    assert_eq!(now.claim_file(&changed).await.unwrap(), FileClaim::New);
    assert_eq!(
        now.claim_file(&other).await.unwrap(),
        FileClaim::DifferentContent(changed)
    );

    // An applicant past its retention, its placement sent again: a new applicant.
    let expired = ending_a_year_after(2, 6, date(2023, 8, 2));
    created(then, vec![expired.clone()]).await;
    let mut resent = new_applicant(40, 6);
    assert_eq!(
        resent.applicant.placement_id,
        expired.applicant.placement_id
    );
    resent.applicant.projected_hire_date = date(2025, 8, 6);
    assert_eq!(
        now.create_applicants(std::slice::from_ref(&resent))
            .await
            .unwrap(),
        vec![CreateOutcome::Created]
    );
    let placement = &resent.applicant.placement_id;
    let links = now
        .placements(std::slice::from_ref(placement))
        .await
        .unwrap();
    assert_eq!(links[placement], link_of(&resent));
    assert_eq!(
        now.applicant("40").await.unwrap().as_ref(),
        Some(&resent.applicant)
    );
    assert_eq!(seqs(&now.history("40").await.unwrap()), vec![1, 2]);
    assert_eq!(now.applicant("2").await.unwrap(), None);
    let gmc = resent.applicant.gmc_number().unwrap();
    assert_eq!(
        numbers(&now.applicants_by_gmc(gmc).await.unwrap()),
        vec!["40"]
    );
    // Sent once more, it is the new applicant's placement.
    assert_eq!(
        now.create_applicants(&[new_applicant(41, 6)])
            .await
            .unwrap(),
        vec![CreateOutcome::PlacementTaken(link_of(&resent))]
    );
}

dated_contract!(contract_resent_after_expiry =>
    sqlite_a_file_or_placement_sent_again_after_expiry_is_new,
    dynamo_a_file_or_placement_sent_again_after_expiry_is_new);

//! DynamoStore against a private moto_server per test: what only DynamoDB shows (batched
//! requests and their counts, placement claims left by an interrupted creation, racing
//! deliveries, items that cannot be read, an unreachable endpoint). What both stores must do is in
//! the store contract (`store_contract`), on SQLite and on DynamoDB.

use std::collections::{BTreeSet, HashMap};

use chrono::Duration;
use dit_aws::dynamo::DynamoStore;
use dit_aws::s3::{S3Blobs, S3Layout};
use dit_core::ports::{
    Area, BlobStore, CreateOutcome, MoveOutcome, NewApplicant, StateStore, StoreError,
};
use dit_domain::lifecycle::ApplicantState;
use dit_domain::model::{Cause, HistoryEntry, HistoryOutcome};
use dit_domain::pos::PositionStatus;
use dit_test_support::fixtures::{at, batch, link_of, new_applicant, position, FIXTURES_TODAY};
use dit_test_support::{Moto, RequestCounter};

use aws_sdk_dynamodb::types::AttributeValue;

const TABLE: &str = "dit-state";

/// A store on a new table, judging retention on the fixtures' day (their files of 2025-03-01 and
/// applicants of 2025 are past their retention on today's date; every store here is pinned).
async fn store(moto: &Moto) -> DynamoStore {
    DynamoStore::new(moto.create_table(TABLE).await, TABLE).with_today(FIXTURES_TODAY)
}

// ---------------------------------------------------------------------------------------------
// Positions
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn positions_save_read_by_trust_and_by_dpn() {
    let moto = Moto::start();
    moto.create_table(TABLE).await;
    let counter = RequestCounter::new();
    let store = DynamoStore::new(moto.counting_dynamo_client(counter.clone()).await, TABLE)
        .with_today(FIXTURES_TODAY);

    // 110 positions in RJ1, 30 in RJ7 (140: six BatchWriteItem chunks); every 7th has no DPN.
    let mut positions = Vec::new();
    for i in 0..110 {
        let dpn = if i % 7 == 0 {
            String::new()
        } else {
            format!("LDN/RJ1/MED/{i:03}")
        };
        positions.push(position("RJ1", i, &dpn));
    }
    for i in 0..30 {
        positions.push(position("RJ7", i, &format!("KSS/RJ7/SUR/{i:03}")));
    }
    // One DPN shared by a position of each trust.
    positions[1].dpn = "LDN/SHARED/MED/001".to_string();
    positions[111].dpn = "LDN/SHARED/MED/001".to_string();
    positions[111].duplicate_dpn = true;

    store.save_positions(&positions).await.unwrap();
    assert_eq!(counter.count("BatchWriteItem"), 6);

    // 140 known ids, one repeated, two unknown: two BatchGetItem chunks.
    let mut ids: Vec<String> = positions.iter().map(|p| p.position_id.clone()).collect();
    ids.push(positions[0].position_id.clone());
    ids.push("RJ1-UNKNOWN".to_string());
    ids.push("RJ9-P0001".to_string());
    let found = store.positions(&ids).await.unwrap();
    assert_eq!(found.len(), 140);
    assert_eq!(counter.count("BatchGetItem"), 2);
    for p in &positions {
        assert_eq!(found.get(&p.position_id), Some(p));
    }
    assert!(store.positions(&[]).await.unwrap().is_empty());

    let mut rj1 = store.trust_positions("RJ1").await.unwrap();
    rj1.sort_by(|a, b| a.position_id.cmp(&b.position_id));
    assert_eq!(rj1, positions[..110].to_vec());
    assert_eq!(store.trust_positions("RJ7").await.unwrap().len(), 30);
    assert!(store.trust_positions("RJ9").await.unwrap().is_empty());

    let mut shared = store.positions_by_dpn("LDN/SHARED/MED/001").await.unwrap();
    shared.sort_by(|a, b| a.position_id.cmp(&b.position_id));
    assert_eq!(shared, vec![positions[1].clone(), positions[111].clone()]);
    assert_eq!(
        store.positions_by_dpn("KSS/RJ7/SUR/005").await.unwrap(),
        vec![positions[115].clone()]
    );
    assert!(store.positions_by_dpn("").await.unwrap().is_empty());
    assert!(store
        .positions_by_dpn("NO/SUCH/DPN/1")
        .await
        .unwrap()
        .is_empty());

    // Replacing: a removed position and a changed DPN (the old DPN no longer finds it).
    let mut changed = vec![positions[2].clone(), positions[3].clone()];
    changed[0].status = PositionStatus::Removed;
    changed[1].dpn = "LDN/RJ1/MED/NEW".to_string();
    // The same position twice in one call: the last one wins.
    let mut again = positions[4].clone();
    again.grade = "ST4".to_string();
    changed.push(positions[4].clone());
    changed.push(again.clone());
    store.save_positions(&changed).await.unwrap();
    let found = store
        .positions(&[
            positions[2].position_id.clone(),
            positions[3].position_id.clone(),
            positions[4].position_id.clone(),
        ])
        .await
        .unwrap();
    assert_eq!(
        found[&positions[2].position_id].status,
        PositionStatus::Removed
    );
    assert_eq!(found[&positions[4].position_id], again);
    assert!(store
        .positions_by_dpn(&positions[3].dpn)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.positions_by_dpn("LDN/RJ1/MED/NEW").await.unwrap(),
        vec![changed[1].clone()]
    );
    assert_eq!(store.trust_positions("RJ1").await.unwrap().len(), 110);
}

// ---------------------------------------------------------------------------------------------
// Applicant numbers
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn allocate_numbers_gives_disjoint_blocks() {
    let moto = Moto::start();
    let store = store(&moto).await;

    assert_eq!(store.allocate_numbers(0).await.unwrap(), 1);
    assert_eq!(store.allocate_numbers(10).await.unwrap(), 1);
    assert_eq!(store.allocate_numbers(5).await.unwrap(), 11);
    assert_eq!(store.allocate_numbers(0).await.unwrap(), 16);

    let (a, b, c, d) = tokio::join!(
        store.allocate_numbers(100),
        store.allocate_numbers(7),
        store.allocate_numbers(1),
        store.allocate_numbers(50),
    );
    let mut blocks = vec![
        (a.unwrap(), 100),
        (b.unwrap(), 7),
        (c.unwrap(), 1),
        (d.unwrap(), 50),
    ];
    blocks.sort();
    let mut next = 16;
    for (first, count) in blocks {
        assert_eq!(first, next, "blocks are consecutive and disjoint");
        next = first + count;
    }
    assert_eq!(store.allocate_numbers(1).await.unwrap(), 16 + 158);
}

// ---------------------------------------------------------------------------------------------
// Applicants
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn create_applicants_batched_idempotent_and_mixed() {
    let moto = Moto::start();
    moto.create_table(TABLE).await;
    let counter = RequestCounter::new();
    let store = DynamoStore::new(moto.counting_dynamo_client(counter.clone()).await, TABLE)
        .with_today(FIXTURES_TODAY);

    let first = store.allocate_numbers(200).await.unwrap();
    let input = batch(first, 0..200);
    counter.reset();
    let outcomes = store.create_applicants(&input).await.unwrap();
    let writes = counter.writes();
    let units = counter.write_units();
    println!(
        "creating 200 applicants: {units} write units, {writes} write requests ({:?}, {:?})",
        counter.written(),
        counter.snapshot()
    );
    assert_eq!(outcomes, vec![CreateOutcome::Created; 200]);
    // Link (holding the creation history), applicant and person: one standard write each (at
    // most 1 KB), no transaction.
    assert!(units <= 3 * 200, "{units} write units for 200 applicants");
    assert_eq!(counter.count("TransactWriteItems"), 0);

    // Everything is readable back.
    for new in input.iter().step_by(17) {
        let number = &new.applicant.applicant_number;
        assert_eq!(
            store.applicant(number).await.unwrap().as_ref(),
            Some(&new.applicant)
        );
        assert_eq!(store.history(number).await.unwrap(), new.history);
    }
    assert_eq!(store.applicant("999999").await.unwrap(), None);
    let ids: Vec<String> = input
        .iter()
        .map(|n| n.applicant.placement_id.clone())
        .chain(["PLC-UNKNOWN".to_string()])
        .collect();
    let links = store.placements(&ids).await.unwrap();
    assert_eq!(links.len(), 200);
    for new in &input {
        assert_eq!(links[&new.applicant.placement_id], link_of(new));
    }

    // Persons: one per person key, with every applicant number of that person.
    let mut expected: HashMap<(String, String), BTreeSet<String>> = HashMap::new();
    for new in &input {
        if let Some(key) = &new.applicant.person_key {
            expected
                .entry((new.applicant.vpd.clone(), key.clone()))
                .or_default()
                .insert(new.applicant.applicant_number.clone());
        }
    }
    assert!(expected.values().any(|numbers| numbers.len() == 2));
    assert!(input.iter().any(|n| n.applicant.person_key.is_none()));
    let keys: Vec<(String, String)> = expected.keys().cloned().collect();
    let persons = store.persons(&keys).await.unwrap();
    assert_eq!(persons.len(), expected.len());
    for (key, numbers) in &expected {
        let person = &persons[key];
        assert_eq!((&person.vpd, &person.person_key), (&key.0, &key.1));
        assert!(!person.employee);
        let got: BTreeSet<String> = person.applicant_numbers.iter().cloned().collect();
        assert_eq!(&got, numbers);
    }

    // The same input again: every placement is taken, by the applicant created above, and
    // finding that out writes nothing.
    let before = counter.writes();
    let again = store.create_applicants(&input).await.unwrap();
    assert_eq!(counter.writes(), before);
    let expected_taken: Vec<CreateOutcome> = input
        .iter()
        .map(|n| CreateOutcome::PlacementTaken(link_of(n)))
        .collect();
    assert_eq!(again, expected_taken);

    // A mixed batch with new numbers: 10 taken placements, 60 new ones, and one placement
    // repeated inside the batch (the repeat is taken by the first, when its transaction is
    // cancelled).
    let next = store.allocate_numbers(71).await.unwrap();
    let mut mixed = batch(next, 190..260);
    mixed.push(new_applicant(next + 70, 250));
    let before = counter.write_units();
    let outcomes = store.create_applicants(&mixed).await.unwrap();
    let mixed_units = counter.write_units() - before;
    println!("mixed batch of 71 (11 taken): {mixed_units} write units");
    // The 60 new ones; the taken placements and the repeat cost no write.
    assert!(mixed_units <= 3 * 60, "{mixed_units}");
    for (k, outcome) in outcomes.iter().enumerate() {
        match k {
            0..=9 => assert_eq!(
                outcome,
                &CreateOutcome::PlacementTaken(link_of(&input[190 + k])),
                "record {k}"
            ),
            70 => assert_eq!(
                outcome,
                &CreateOutcome::PlacementTaken(link_of(&mixed[60])),
                "record {k}"
            ),
            _ => assert_eq!(outcome, &CreateOutcome::Created, "record {k}"),
        }
    }
    // Taken placements kept their first applicant; the losers were not written.
    assert_eq!(
        store
            .applicant(&mixed[0].applicant.applicant_number)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .applicant(&mixed[70].applicant.applicant_number)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .applicant(&mixed[10].applicant.applicant_number)
            .await
            .unwrap()
            .as_ref(),
        Some(&mixed[10].applicant)
    );
    let links = store
        .placements(&[mixed[0].applicant.placement_id.clone()])
        .await
        .unwrap();
    assert_eq!(
        links[&mixed[0].applicant.placement_id],
        link_of(&input[190])
    );
    // Records 210 and 211 (both new) share a GMC number: one person with both numbers.
    let shared = &mixed[20].applicant;
    assert_eq!(shared.person_key, mixed[21].applicant.person_key);
    let key = (shared.vpd.clone(), shared.person_key.clone().unwrap());
    let persons = store.persons(std::slice::from_ref(&key)).await.unwrap();
    assert_eq!(
        persons[&key].applicant_numbers,
        vec![
            mixed[20].applicant.applicant_number.clone(),
            mixed[21].applicant.applicant_number.clone()
        ]
    );
}

/// What a delivery interrupted right after claiming a placement leaves: its link, nothing else.
/// A placement link as claimed before the creation history moved into the link: a creation
/// interrupted across that change must still be completed with its history.
async fn interrupted_claim(moto: &Moto, new: &NewApplicant) {
    let a = &new.applicant;
    let s = |v: &str| AttributeValue::S(v.to_string());
    moto.dynamo_client()
        .await
        .put_item()
        .table_name(TABLE)
        .item("PK", s(&format!("PLACEMENT#{}", a.placement_id)))
        .item("SK", s("PLACEMENT"))
        .item("placement_id", s(&a.placement_id))
        .item("applicant_number", s(&a.applicant_number))
        .item("source_file", s(&a.source_file))
        .item("source_sha256", s(&a.source_sha256))
        .item("assignment_id", s(&a.assignment_id))
        .send()
        .await
        .unwrap();
}

/// Refuses every put of an applicant item (sort key `A`), as a delivery that stops after claiming
/// its links would leave them.
#[derive(Debug)]
struct RefuseApplicantPuts;

impl aws_sdk_dynamodb::config::Intercept for RefuseApplicantPuts {
    fn name(&self) -> &'static str {
        "RefuseApplicantPuts"
    }

    fn read_before_execution(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef<
            '_,
        >,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let applicant_put = context
            .input()
            .downcast_ref::<aws_sdk_dynamodb::operation::put_item::PutItemInput>()
            .and_then(|put| put.item())
            .is_some_and(|item| item.get("SK") == Some(&AttributeValue::S("A".to_string())));
        if applicant_put {
            Err("applicant puts refused".into())
        } else {
            Ok(())
        }
    }
}

#[tokio::test]
async fn an_interrupted_creation_keeps_the_history_its_claim_wrote() {
    let moto = Moto::start();
    let store = store(&moto).await;
    let refusing = DynamoStore::new(moto.dynamo_client_with(RefuseApplicantPuts).await, TABLE)
        .with_today(FIXTURES_TODAY);
    let first = batch(10, 0..2);
    assert!(refusing.create_applicants(&first).await.is_err());
    assert_eq!(store.applicant("10").await.unwrap(), None);
    assert!(store.history("10").await.unwrap().is_empty());

    // The file again an hour later: completed under the claim's numbers, with the history the
    // claim recorded (received and loaded when the file first came), not the rerun's.
    let mut again = batch(30, 0..2);
    for new in &mut again {
        for entry in &mut new.history {
            entry.at += Duration::hours(1);
        }
    }
    let counter = RequestCounter::new();
    let counting = DynamoStore::new(moto.counting_dynamo_client(counter.clone()).await, TABLE)
        .with_today(FIXTURES_TODAY);
    let outcomes = counting.create_applicants(&again).await.unwrap();
    assert_eq!(
        outcomes,
        vec![
            CreateOutcome::PlacementTaken(link_of(&first[0])),
            CreateOutcome::PlacementTaken(link_of(&first[1]))
        ]
    );
    // The completion writes the persons and the applicants, no history item.
    assert_eq!(
        counter.count("BatchWriteItem"),
        0,
        "{:?}",
        counter.snapshot()
    );
    for (claimed, rerun) in first.iter().zip(&again) {
        let number = &claimed.applicant.applicant_number;
        let mut expected = rerun.applicant.clone();
        expected.applicant_number = number.clone();
        assert_eq!(store.applicant(number).await.unwrap(), Some(expected));
        assert_eq!(store.history(number).await.unwrap(), claimed.history);
    }
}

#[tokio::test]
async fn an_interrupted_creation_is_completed_by_its_file_and_taken_for_any_other() {
    let moto = Moto::start();
    let store = store(&moto).await;
    let mut first = batch(10, 0..3);
    first[0].applicant.assignment_id = "ASG-FIRST".to_string();
    interrupted_claim(&moto, &first[0]).await;
    let ids: Vec<String> = first
        .iter()
        .map(|n| n.applicant.placement_id.clone())
        .collect();

    // Not loaded yet: the applicant is missing.
    assert!(store.placements(&ids).await.unwrap().is_empty());
    assert_eq!(store.applicant("10").await.unwrap(), None);

    // Another file with the same placement: taken by the interrupted creation's number.
    let mut other = batch(20, 0..1);
    other[0].applicant.source_sha256 = "sha-other".to_string();
    assert_eq!(
        store.create_applicants(&other).await.unwrap(),
        vec![CreateOutcome::PlacementTaken(link_of(&first[0]))]
    );
    assert_eq!(store.applicant("20").await.unwrap(), None);
    assert!(store.placements(&ids).await.unwrap().is_empty());

    // The same file again, under new numbers: the interrupted one is completed under its own
    // number and assignment id, the others are created.
    let again = batch(30, 0..3);
    let outcomes = store.create_applicants(&again).await.unwrap();
    assert_eq!(
        outcomes,
        vec![
            CreateOutcome::PlacementTaken(link_of(&first[0])),
            CreateOutcome::Created,
            CreateOutcome::Created
        ]
    );
    let completed = store.applicant("10").await.unwrap().unwrap();
    let mut expected = again[0].applicant.clone();
    expected.applicant_number = "10".to_string();
    expected.assignment_id = first[0].applicant.assignment_id.clone();
    assert_eq!(completed, expected);
    assert_eq!(store.history("10").await.unwrap(), again[0].history);
    assert_eq!(store.applicant("30").await.unwrap(), None);
    let key = (
        expected.vpd.clone(),
        expected.person_key.clone().expect("a person key"),
    );
    // Records 0 and 1 are one doctor.
    let persons = store.persons(std::slice::from_ref(&key)).await.unwrap();
    assert_eq!(
        persons[&key].applicant_numbers,
        vec!["10".to_string(), "31".to_string()]
    );
    let links = store.placements(&ids).await.unwrap();
    assert_eq!(links.len(), 3);
    assert_eq!(links[&ids[0]], link_of(&first[0]));
    assert_eq!(links[&ids[1]], link_of(&again[1]));
}

#[tokio::test]
async fn racing_creations_of_one_file_create_each_applicant_once() {
    let moto = Moto::start();
    moto.create_table(TABLE).await;
    let left = DynamoStore::new(moto.dynamo_client().await, TABLE).with_today(FIXTURES_TODAY);
    let right = DynamoStore::new(moto.dynamo_client().await, TABLE).with_today(FIXTURES_TODAY);
    let ours = batch(1_000, 0..60);
    let theirs = batch(2_000, 0..60);
    let (a, b) = tokio::join!(
        left.create_applicants(&ours),
        right.create_applicants(&theirs)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let ids: Vec<String> = ours
        .iter()
        .map(|n| n.applicant.placement_id.clone())
        .collect();
    let links = left.placements(&ids).await.unwrap();
    assert_eq!(links.len(), 60);
    for (k, id) in ids.iter().enumerate() {
        let number = &links[id].applicant_number;
        // Exactly one applicant per placement: the linked number's.
        let (winner, loser) = if *number == ours[k].applicant.applicant_number {
            (&ours[k], &theirs[k])
        } else {
            (&theirs[k], &ours[k])
        };
        assert_eq!(number, &winner.applicant.applicant_number);
        assert_eq!(
            left.applicant(&loser.applicant.applicant_number)
                .await
                .unwrap(),
            None
        );
        let stored = left.applicant(number).await.unwrap().unwrap();
        assert_eq!(stored.placement_id, *id);
        assert_eq!(left.history(number).await.unwrap().len(), 2);
        // Each side either created it or was told whose it is.
        for outcome in [&a[k], &b[k]] {
            match outcome {
                CreateOutcome::Created => {}
                CreateOutcome::PlacementTaken(link) => assert_eq!(link, &links[id]),
            }
        }
        let created = [&a[k], &b[k]]
            .iter()
            .filter(|o| matches!(o, CreateOutcome::Created))
            .count();
        assert!(created <= 1, "placement {id} created twice");
    }
}

#[tokio::test]
async fn applicants_by_gmc_and_history_order() {
    let moto = Moto::start();
    let store = store(&moto).await;

    let mut input = batch(500, 0..12);
    // The same doctor in another trust.
    let mut elsewhere = new_applicant(600, 40);
    elsewhere.applicant.vpd = "RQM".to_string();
    elsewhere.applicant.details.gmc_number = input[0].applicant.details.gmc_number.clone();
    input.push(elsewhere.clone());
    let outcomes = store.create_applicants(&input).await.unwrap();
    assert!(outcomes.iter().all(|o| o == &CreateOutcome::Created));

    let gmc = input[0].applicant.gmc_number().unwrap().to_string();
    let mut found = store.applicants_by_gmc(&gmc).await.unwrap();
    found.sort_by(|a, b| a.applicant_number.cmp(&b.applicant_number));
    assert_eq!(
        found,
        vec![
            input[0].applicant.clone(),
            input[1].applicant.clone(),
            elsewhere.applicant.clone()
        ]
    );
    assert!(store.applicants_by_gmc("0000000").await.unwrap().is_empty());
    assert!(store.applicants_by_gmc("").await.unwrap().is_empty());

    // Moves 3..=12 give history in seq order (past the 9 -> 10 digit change).
    let mut applicant = input[2].applicant.clone();
    for seq in 3..=12u32 {
        let expected = applicant.version;
        applicant.version = seq;
        applicant.state = if seq % 2 == 1 {
            ApplicantState::Offered
        } else {
            ApplicantState::Loaded
        };
        let entry = HistoryEntry {
            seq,
            at: at(2, 0) + Duration::minutes(i64::from(seq)),
            command: "offer".to_string(),
            from: Some(ApplicantState::Loaded),
            to: applicant.state,
            outcome: if seq == 4 {
                HistoryOutcome::Refused {
                    reason: "not allowed".to_string(),
                }
            } else {
                HistoryOutcome::Moved
            },
            cause: Cause::Message {
                id: format!("msg-{seq}"),
                sender: None,
            },
            actor: "trust".to_string(),
            detail: None,
        };
        assert_eq!(
            store
                .record_move(expected, &applicant, &entry)
                .await
                .unwrap(),
            MoveOutcome::Stored
        );
    }
    let history = store.history(&applicant.applicant_number).await.unwrap();
    assert_eq!(
        history.iter().map(|h| h.seq).collect::<Vec<_>>(),
        (1..=12).collect::<Vec<_>>()
    );
    assert_eq!(
        store.applicant(&applicant.applicant_number).await.unwrap(),
        Some(applicant)
    );
    assert!(store.history("424242").await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Failures
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn unreadable_items_are_corrupt_and_an_unreachable_store_is_unavailable() {
    let moto = Moto::start();
    let store = store(&moto).await;
    let raw = moto.dynamo_client().await;
    raw.put_item()
        .table_name(TABLE)
        .item("PK", AttributeValue::S("APPLICANT#13".to_string()))
        .item("SK", AttributeValue::S("A".to_string()))
        .item("applicant_number", AttributeValue::S("13".to_string()))
        .item("version", AttributeValue::S("two".to_string()))
        .send()
        .await
        .unwrap();
    let err = store.applicant("13").await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
    assert!(!err.is_transient());

    let blobs = S3Blobs::new(
        moto.s3_client().await,
        S3Layout {
            inbound_bucket: "in".to_string(),
            inbound_prefix: "incoming/".to_string(),
            quarantine_prefix: "quarantine/".to_string(),
            outbound_bucket: "out".to_string(),
        },
    );
    moto.stop();
    let err = store.applicant("13").await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err}");
    assert!(err.is_transient());
    let err = blobs.get(Area::Inbound, "x.csv").await.unwrap_err();
    assert!(err.is_transient(), "{err}");
}

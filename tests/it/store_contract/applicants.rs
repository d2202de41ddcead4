//! Applicants: batched creation, numbers allocated and reserved (also racing), starters by day.

use super::*;

async fn contract_create_applicants(store: &dyn StateStore) {
    // Records 0 and 1 of the fixtures are one doctor (same trust and GMC number); record 3 has a
    // person key from NI number and date of birth.
    let input = batch(1, 0..5);
    let shared = &input[0].applicant;
    assert!(shared.person_key.is_some());
    assert_eq!(
        (&shared.vpd, &shared.person_key),
        (&input[1].applicant.vpd, &input[1].applicant.person_key)
    );
    let outcomes = store.create_applicants(&input).await.unwrap();
    assert_eq!(outcomes, vec![CreateOutcome::Created; 5]);

    // Placements link to their applicant number and file.
    let mut ids: Vec<String> = input
        .iter()
        .map(|n| n.applicant.placement_id.clone())
        .collect();
    ids.push("PLC-UNKNOWN".to_string());
    let links = store.placements(&ids).await.unwrap();
    assert_eq!(links.len(), 5);
    for new in &input {
        let link = &links[&new.applicant.placement_id];
        assert_eq!(link, &link_of(new));
        assert_eq!(link.applicant_number, new.applicant.applicant_number);
        assert_eq!(link.source_sha256, SOURCE_SHA);
    }

    // Applicants and their creation history read back exactly.
    for new in &input {
        let number = &new.applicant.applicant_number;
        assert_eq!(
            store.applicant(number).await.unwrap().as_ref(),
            Some(&new.applicant)
        );
        let history = store.history(number).await.unwrap();
        assert_eq!(seqs(&history), vec![1, 2]);
        assert_eq!(history, new.history);
    }
    assert_eq!(store.applicant("999").await.unwrap(), None);
    assert!(store.history("999").await.unwrap().is_empty());

    // Persons: the shared one has both numbers.
    let persons = persons_of(&input);
    let shared_key = (shared.vpd.clone(), shared.person_key.clone().unwrap());
    assert_eq!(
        persons[&shared_key],
        BTreeSet::from(["1".to_string(), "2".to_string()])
    );
    assert_eq!(persons.len(), 4);
    assert_persons(store, &persons).await;

    // By GMC number.
    let gmc = shared.gmc_number().unwrap();
    assert_eq!(
        sorted_by_number(store.applicants_by_gmc(gmc).await.unwrap()),
        vec![input[0].applicant.clone(), input[1].applicant.clone()]
    );
    let single = input[4].applicant.gmc_number().unwrap();
    assert_eq!(
        store.applicants_by_gmc(single).await.unwrap(),
        vec![input[4].applicant.clone()]
    );
    assert!(store.applicants_by_gmc("0000000").await.unwrap().is_empty());

    // The same batch again: every placement is taken by its original applicant.
    let taken: Vec<CreateOutcome> = input
        .iter()
        .map(|n| CreateOutcome::PlacementTaken(link_of(n)))
        .collect();
    assert_eq!(store.create_applicants(&input).await.unwrap(), taken);

    // The same placements under new numbers from a later file: still taken by the originals.
    let mut later = batch(101, 0..5);
    for new in &mut later {
        new.applicant.source_file = "APP_LDN_20250308_00006.csv".to_string();
        new.applicant.source_sha256 = "sha-later".to_string();
        new.applicant.details.last_name = "Renamed".to_string();
    }
    assert_eq!(store.create_applicants(&later).await.unwrap(), taken);

    // Nothing changed.
    for new in &input {
        let number = &new.applicant.applicant_number;
        let stored = store.applicant(number).await.unwrap().unwrap();
        assert_eq!(stored.version, 2);
        assert_eq!(stored, new.applicant);
        assert_eq!(store.history(number).await.unwrap(), new.history);
    }
    for new in &later {
        let number = &new.applicant.applicant_number;
        assert_eq!(store.applicant(number).await.unwrap(), None);
        assert!(store.history(number).await.unwrap().is_empty());
    }
    assert_eq!(store.placements(&ids).await.unwrap(), links);
    assert_persons(store, &persons).await;
    assert_eq!(store.applicants_by_gmc(gmc).await.unwrap().len(), 2);
}

contract!(contract_create_applicants =>
    sqlite_created_applicants_read_back_and_creating_them_again_changes_nothing,
    dynamo_created_applicants_read_back_and_creating_them_again_changes_nothing);

async fn contract_allocate_numbers(store: &dyn StateStore) {
    assert_eq!(store.allocate_numbers(3).await.unwrap(), 1);
    assert_eq!(store.allocate_numbers(2).await.unwrap(), 4);
    assert_eq!(store.allocate_numbers(1).await.unwrap(), 6);

    // Requests at the same time get disjoint blocks, together consecutive.
    let (a, b, c) = tokio::join!(
        store.allocate_numbers(10),
        store.allocate_numbers(1),
        store.allocate_numbers(4),
    );
    let mut blocks = vec![(a.unwrap(), 10), (b.unwrap(), 1), (c.unwrap(), 4)];
    blocks.sort_unstable();
    let mut next = 7;
    for (first, count) in blocks {
        assert_eq!(first, next, "blocks are consecutive and disjoint");
        next = first + count;
    }
    assert_eq!(store.allocate_numbers(1).await.unwrap(), 22);
}

contract!(contract_allocate_numbers =>
    sqlite_numbers_are_allocated_in_consecutive_disjoint_blocks_from_one,
    dynamo_numbers_are_allocated_in_consecutive_disjoint_blocks_from_one);

async fn contract_reserve_numbers(store: &dyn StateStore) {
    use Counter::{ApplicantNumbers, Sequence};
    // A holder's block is taken once and given again, whatever the count asked the second time.
    let first = store.reserve_numbers(ApplicantNumbers, "APP KSS#APP#1 chunk 0", 3);
    assert_eq!(first.await.unwrap(), 1..4);
    for count in [3, 7, 0] {
        let again = store.reserve_numbers(ApplicantNumbers, "APP KSS#APP#1 chunk 0", count);
        assert_eq!(again.await.unwrap(), 1..4);
    }
    // One counter with allocate_numbers.
    assert_eq!(store.allocate_numbers(2).await.unwrap(), 4);
    let other = store.reserve_numbers(ApplicantNumbers, "APP KSS#APP#1 chunk 1", 5);
    assert_eq!(other.await.unwrap(), 6..11);
    // Nothing reserved for a count of 0, until a count is given.
    let empty = store.reserve_numbers(ApplicantNumbers, "APP KSS#APP#2 chunk 0", 0);
    assert_eq!(empty.await.unwrap(), 11..11);
    let later = store.reserve_numbers(ApplicantNumbers, "APP KSS#APP#2 chunk 0", 2);
    assert_eq!(later.await.unwrap(), 11..13);
    // A sequence is a counter of its own, shared with next_in_sequence; holders are per counter.
    let rmc = store.reserve_numbers(Sequence("RMC#KSS"), "KSS#RMC-EXPORT#20261123", 1);
    assert_eq!(rmc.await.unwrap(), 1..2);
    assert_eq!(store.next_in_sequence("RMC#KSS").await.unwrap(), 2);
    let rmc = store.reserve_numbers(Sequence("RMC#KSS"), "KSS#RMC-EXPORT#20261123", 1);
    assert_eq!(rmc.await.unwrap(), 1..2);
    let ldn = store.reserve_numbers(Sequence("RMC#LDN"), "KSS#RMC-EXPORT#20261123", 1);
    assert_eq!(ldn.await.unwrap(), 1..2);
    assert_eq!(store.allocate_numbers(1).await.unwrap(), 13);
}

contract!(contract_reserve_numbers =>
    sqlite_a_reservation_is_taken_once_per_holder,
    dynamo_a_reservation_is_taken_once_per_holder);

/// Holders reserving at the same time through two handles, each twice: one block per holder,
/// the same both times, the blocks disjoint and together consecutive.
async fn contract_racing_reservations(first: Arc<dyn StateStore>, second: Arc<dyn StateStore>) {
    let holders: [&'static str; 4] = ["a", "b", "c", "d"];
    let barrier = Arc::new(Barrier::new(holders.len() * 2));
    let mut tasks = Vec::new();
    for (i, holder) in holders.into_iter().enumerate() {
        for store in [Arc::clone(&first), Arc::clone(&second)] {
            let barrier = Arc::clone(&barrier);
            let count = i as u64 + 1;
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let block = store.reserve_numbers(Counter::ApplicantNumbers, holder, count);
                (holder, block.await.unwrap())
            }));
        }
    }
    let mut blocks: HashMap<&str, Vec<std::ops::Range<u64>>> = HashMap::new();
    for task in tasks {
        let (holder, block) = task.await.unwrap();
        blocks.entry(holder).or_default().push(block);
    }
    let mut all: Vec<std::ops::Range<u64>> = Vec::new();
    for (holder, got) in &blocks {
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], got[1], "{holder} got one block");
        all.push(got[0].clone());
    }
    all.sort_by_key(|b| b.start);
    let mut next = 1;
    for block in all {
        assert_eq!(block.start, next, "blocks are consecutive and disjoint");
        next = block.end;
    }
    assert_eq!(next, 11);
}

racing_contract!(contract_racing_reservations =>
    sqlite_racing_reservations_give_one_block_per_holder,
    dynamo_racing_reservations_give_one_block_per_holder);

/// Starters of a day are found by hire date across trusts; other days are not returned.
async fn contract_applicants_starting_on(store: &dyn StateStore) {
    let mut input = batch(1, 0..6);
    for (i, new) in input.iter_mut().enumerate() {
        new.applicant.projected_hire_date = if i % 2 == 0 {
            date(2027, 2, 3)
        } else {
            date(2027, 2, 4)
        };
    }
    store.create_applicants(&input).await.unwrap();
    let starters = sorted_by_number(
        store
            .applicants_starting_on(date(2027, 2, 3))
            .await
            .unwrap(),
    );
    let expected: Vec<Applicant> = sorted_by_number(
        input
            .iter()
            .step_by(2)
            .map(|n| n.applicant.clone())
            .collect(),
    );
    assert_eq!(starters, expected);
    assert!(store
        .applicants_starting_on(date(2027, 2, 5))
        .await
        .unwrap()
        .is_empty());
}

contract!(contract_applicants_starting_on =>
    sqlite_starters_are_read_by_hire_date,
    dynamo_starters_are_read_by_hire_date);

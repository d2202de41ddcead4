//! `create_applicants` without transactions: a condition on each item that must be created once.
//!
//! A placement becomes an applicant by a conditional put of its link (`attribute_not_exists`):
//! that put is the decision, and the delivery that makes it owns the applicant number in it. The
//! link carries the creation history (received, loaded), so it is written in the same put. The
//! owner then writes the person's applicant numbers (an idempotent `ADD`) and last the applicant
//! item, by a conditional put too: three items, three write units, per applicant.
//! Until that last put the link is *incomplete*: [`DynamoStore::placements`] does not report it,
//! and a delivery of the same file that finds it (a redelivery after an interruption, or a
//! concurrent delivery) completes it under the link's number. The applicant item's condition lets
//! exactly one of them write it; every other reports the stored applicant, as the port asks.
//! A delivery of another file finds the placement taken either way.
//!
//! Each item is written once at the standard price (one unit per KB), not twice as inside a
//! transaction, and no write costs more as the table grows (moto copies the whole table for every
//! action of a transaction).

use super::codec::{
    applicant_expiry, applicant_item, creation_entries, creation_history_item, decode, link_item,
};
use super::keys::{
    applicant_key, applicant_pk, person_key_item, placement_key, s, HISTORY_ENTRIES, PK,
};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use dit_core::ports::{CreateOutcome, NewApplicant, StoreError};
use dit_domain::model::{Applicant, PlacementLink};
use dit_domain::retention::TTL_ATTRIBUTE;
use std::collections::{BTreeSet, HashMap, HashSet};
use tokio::task::JoinSet;

use super::store::*;

/// Conditional puts and updates in flight at once.
const PARALLEL_WRITES: usize = 8;

/// The attribute of a link item that keeps the applicant's assignment id, so that an interrupted
/// creation can be completed under the link's number.
pub(super) const LINK_ASSIGNMENT_ID: &str = "assignment_id";

/// A link as stored.
#[derive(Debug, Clone)]
pub(super) struct StoredLink {
    pub(super) link: PlacementLink,
    pub(super) assignment_id: Option<String>,
    /// Whether the link holds the creation history (every link claimed since it moved there).
    pub(super) holds_history: bool,
}

pub(super) fn decode_link(item: Item) -> Result<StoredLink, StoreError> {
    let assignment_id = match item.get(LINK_ASSIGNMENT_ID) {
        Some(AttributeValue::S(id)) => Some(id.clone()),
        _ => None,
    };
    let holds_history = item.contains_key(HISTORY_ENTRIES);
    Ok(StoredLink {
        link: decode("placement link", item)?,
        assignment_id,
        holds_history,
    })
}

fn claimed_link_item(new: &NewApplicant) -> Result<Item, StoreError> {
    let applicant = &new.applicant;
    let mut item = link_item(&link_of(applicant), applicant)?;
    item.insert(
        LINK_ASSIGNMENT_ID.to_string(),
        s(applicant.assignment_id.clone()),
    );
    item.insert(
        HISTORY_ENTRIES.to_string(),
        creation_entries(applicant, &new.history)?,
    );
    Ok(item)
}

fn link_of(applicant: &Applicant) -> PlacementLink {
    PlacementLink {
        placement_id: applicant.placement_id.clone(),
        applicant_number: applicant.applicant_number.clone(),
        source_file: applicant.source_file.clone(),
        source_sha256: applicant.source_sha256.clone(),
    }
}

/// Refuses input the writes below could not keep apart: two history entries with one seq, or
/// one applicant number for two placements.
fn check_input(applicants: &[NewApplicant]) -> Result<(), StoreError> {
    let mut numbers: HashMap<&str, &str> = HashMap::new();
    for new in applicants {
        let a = &new.applicant;
        if let Some(other) = numbers.insert(&a.applicant_number, &a.placement_id) {
            if other != a.placement_id {
                return Err(StoreError::Corrupt(format!(
                    "applicant number {} is given to two placements",
                    a.applicant_number
                )));
            }
        }
        let mut seqs = HashSet::new();
        for entry in &new.history {
            if !seqs.insert(entry.seq) {
                return Err(StoreError::Corrupt(format!(
                    "applicant {} has two history entries with seq {}",
                    a.applicant_number, entry.seq
                )));
            }
        }
    }
    Ok(())
}

/// A creation to write under `link`'s number: this delivery's own claim, or an interrupted one.
struct Completion {
    index: usize,
    link: PlacementLink,
    assignment_id: String,
    /// The creation history is in the link already; otherwise it is written as an item.
    history_in_link: bool,
}

impl Completion {
    fn own(index: usize, applicant: &Applicant) -> Completion {
        Completion {
            index,
            link: link_of(applicant),
            assignment_id: applicant.assignment_id.clone(),
            history_in_link: true,
        }
    }

    /// Whether the link is this delivery's own claim (its number is the one it was given).
    fn is_own(&self, applicant: &Applicant) -> bool {
        self.link.applicant_number == applicant.applicant_number
    }
}

/// Runs `tasks` with at most [`PARALLEL_WRITES`] in flight; results in input order.
async fn in_parallel<T, F>(tasks: Vec<F>) -> Result<Vec<T>, StoreError>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let mut results: Vec<Option<T>> = std::iter::repeat_with(|| None).take(tasks.len()).collect();
    let mut pending = tasks.into_iter().enumerate();
    let mut running = JoinSet::new();
    loop {
        while running.len() < PARALLEL_WRITES {
            let Some((index, task)) = pending.next() else {
                break;
            };
            running.spawn(async move { (index, task.await) });
        }
        let Some(done) = running.join_next().await else {
            break;
        };
        let (index, result) =
            done.map_err(|e| StoreError::Unavailable(format!("a write did not finish: {e}")))?;
        results[index] = Some(result);
    }
    Ok(results.into_iter().flatten().collect())
}

/// The outcome of a conditional put: written, or the item that was there (possibly not returned).
enum Put {
    Written,
    Exists(Option<Item>),
}

impl DynamoStore {
    /// Puts `item` only if no live item has its key (one past its retention is replaced).
    fn put_if_absent(
        &self,
        item: Item,
    ) -> impl std::future::Future<Output = Result<Put, StoreError>> + Send + 'static {
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(REPLACEABLE_IF_ABSENT)
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#expires", TTL_ATTRIBUTE)
            .expression_attribute_values(":now", self.expired_at_or_before())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        async move {
            match request.send().await {
                Ok(_) => Ok(Put::Written),
                Err(err) => match err.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(failed)) => Ok(Put::Exists(
                        failed.item().filter(|i| !i.is_empty()).cloned(),
                    )),
                    _ => Err(sdk_error("PutItem", &err)),
                },
            }
        }
    }

    /// Adds applicant numbers to a person of a trust, creating the person if new.
    fn add_to_person(
        &self,
        vpd: &str,
        person_key: &str,
        numbers: Vec<String>,
        expires_at: AttributeValue,
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send + 'static {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(person_key_item(vpd, person_key)))
            .update_expression(
                "ADD #numbers :numbers SET #employee = if_not_exists(#employee, :false), #vpd = :vpd, #key = :key, #expires = :expires",
            )
            // Kept as long as the person's newest applicant (section 8).
            .expression_attribute_names("#expires", TTL_ATTRIBUTE)
            .expression_attribute_values(":expires", expires_at)
            .expression_attribute_names("#numbers", "applicant_numbers")
            .expression_attribute_names("#employee", "employee")
            .expression_attribute_names("#vpd", "vpd")
            .expression_attribute_names("#key", "person_key")
            .expression_attribute_values(":numbers", AttributeValue::Ss(numbers))
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":vpd", s(vpd))
            .expression_attribute_values(":key", s(person_key));
        async move {
            request
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("UpdateItem", &e))
        }
    }

    /// Links of `ids` as stored, each with whether its applicant item exists (complete).
    pub(super) async fn stored_links(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, (StoredLink, bool)>, StoreError> {
        let unique: BTreeSet<&String> = ids.iter().collect();
        let keys = unique.into_iter().map(|id| placement_key(id)).collect();
        let mut links = Vec::new();
        for item in self.batch_get(keys, None).await? {
            links.push(decode_link(item)?);
        }
        let numbers: BTreeSet<&str> = links
            .iter()
            .map(|l| l.link.applicant_number.as_str())
            .collect();
        let keys = numbers.into_iter().map(applicant_key).collect();
        let existing: HashSet<String> = self
            .batch_get(keys, Some(PK))
            .await?
            .into_iter()
            .filter_map(|mut item| match item.remove(PK) {
                Some(AttributeValue::S(pk)) => Some(pk),
                _ => None,
            })
            .collect();
        Ok(links
            .into_iter()
            .map(|stored| {
                let complete = existing.contains(&applicant_pk(&stored.link.applicant_number));
                (stored.link.placement_id.clone(), (stored, complete))
            })
            .collect())
    }

    pub(super) async fn create(
        &self,
        applicants: &[NewApplicant],
    ) -> Result<Vec<CreateOutcome>, StoreError> {
        check_input(applicants)?;
        let mut outcomes: Vec<Option<CreateOutcome>> = vec![None; applicants.len()];

        // A placement repeated in the input is decided by its first occurrence.
        let mut first_of: HashMap<&str, usize> = HashMap::new();
        let mut repeats = Vec::new();
        let mut firsts = Vec::new();
        for (index, new) in applicants.iter().enumerate() {
            match first_of.get(new.applicant.placement_id.as_str()) {
                Some(&first) => repeats.push((index, first)),
                None => {
                    first_of.insert(&new.applicant.placement_id, index);
                    firsts.push(index);
                }
            }
        }

        // Placements already loaded (a redelivered file) cost reads, not refused writes.
        let ids: Vec<String> = firsts
            .iter()
            .map(|&i| applicants[i].applicant.placement_id.clone())
            .collect();
        let stored = self.stored_links(&ids).await?;
        let mut completions = Vec::new();
        let mut to_claim = Vec::new();
        for &index in &firsts {
            let applicant = &applicants[index].applicant;
            let Some((found, complete)) = stored.get(&applicant.placement_id) else {
                to_claim.push(index);
                continue;
            };
            match completion_of(index, applicant, found, *complete)? {
                Some(completion) => completions.push(completion),
                None => outcomes[index] = Some(CreateOutcome::PlacementTaken(found.link.clone())),
            }
        }

        // The claims: one conditional put of each free placement's link.
        let mut claims = Vec::with_capacity(to_claim.len());
        for &index in &to_claim {
            claims.push(self.put_if_absent(claimed_link_item(&applicants[index])?));
        }
        let claimed = in_parallel(claims).await?;
        let mut lost = 0;
        for (&index, result) in to_claim.iter().zip(claimed) {
            let applicant = &applicants[index].applicant;
            let Put::Exists(old) = result? else {
                completions.push(Completion::own(index, applicant));
                continue;
            };
            lost += 1;
            let item = match old {
                Some(item) => Some(item),
                None => {
                    self.get_item(placement_key(&applicant.placement_id))
                        .await?
                }
            };
            let Some(item) = item else {
                return Err(StoreError::Unavailable(format!(
                    "placement {} was claimed and is gone: retry",
                    applicant.placement_id
                )));
            };
            let found = decode_link(item)?;
            let complete = self
                .get_item(applicant_key(&found.link.applicant_number))
                .await?
                .is_some();
            match completion_of(index, applicant, &found, complete)? {
                Some(completion) => completions.push(completion),
                None => outcomes[index] = Some(CreateOutcome::PlacementTaken(found.link)),
            }
        }

        let written = completions.len();
        self.complete(applicants, completions, &mut outcomes)
            .await?;

        for (index, first) in repeats {
            outcomes[index] = Some(match &outcomes[first] {
                Some(CreateOutcome::PlacementTaken(link)) => {
                    CreateOutcome::PlacementTaken(link.clone())
                }
                _ => CreateOutcome::PlacementTaken(link_of(&applicants[first].applicant)),
            });
        }
        let outcomes: Vec<CreateOutcome> = outcomes
            .into_iter()
            .map(|o| {
                o.ok_or_else(|| StoreError::Corrupt("an applicant was left unwritten".to_string()))
            })
            .collect::<Result<_, _>>()?;
        let created = outcomes
            .iter()
            .filter(|o| matches!(o, CreateOutcome::Created))
            .count();
        tracing::info!(
            applicants = applicants.len(),
            created,
            taken = applicants.len() - created,
            claims_lost = lost,
            written,
            "applicants created"
        );
        Ok(outcomes)
    }

    /// Writes, for each completion, the person's number and last the applicant item
    /// (conditionally), before them the creation history of a link that does not hold it, and records the outcomes: created for this delivery's own
    /// claims, the link's applicant for a completed or concurrently completed one.
    async fn complete(
        &self,
        applicants: &[NewApplicant],
        completions: Vec<Completion>,
        outcomes: &mut [Option<CreateOutcome>],
    ) -> Result<(), StoreError> {
        if completions.is_empty() {
            return Ok(());
        }
        let mut histories = Vec::with_capacity(completions.len());
        let mut items = Vec::with_capacity(completions.len());
        let mut persons: Vec<((String, String), Vec<String>, AttributeValue)> = Vec::new();
        for completion in &completions {
            let new = &applicants[completion.index];
            let number = &completion.link.applicant_number;
            let mut applicant = new.applicant.clone();
            applicant.applicant_number = number.clone();
            applicant.assignment_id = completion.assignment_id.clone();
            if !completion.history_in_link {
                histories.push(creation_history_item(&applicant, &new.history)?);
            }
            items.push(applicant_item(&applicant)?);
            if let Some(person_key) = &applicant.person_key {
                let person = (applicant.vpd.clone(), person_key.clone());
                let expires = applicant_expiry(&applicant).1;
                match persons.iter_mut().find(|(k, _, _)| *k == person) {
                    Some((_, numbers, expires_at)) => {
                        numbers.push(number.clone());
                        if ttl_value(&expires) > ttl_value(expires_at) {
                            *expires_at = expires;
                        }
                    }
                    None => persons.push((person, vec![number.clone()], expires)),
                }
            }
        }
        self.batch_put(histories).await?;
        let updates = persons
            .into_iter()
            .map(|((vpd, key), numbers, expires_at)| {
                self.add_to_person(&vpd, &key, numbers, expires_at)
            })
            .collect();
        for result in in_parallel(updates).await? {
            result?;
        }
        let puts = items
            .into_iter()
            .map(|item| self.put_if_absent(item))
            .collect();
        let results = in_parallel(puts).await?;
        for (completion, result) in completions.into_iter().zip(results) {
            let new = &applicants[completion.index].applicant;
            let number = &completion.link.applicant_number;
            let written = match result? {
                Put::Written => true,
                Put::Exists(old) => {
                    // Completed at the same time by another delivery of the file, unless the
                    // number is another placement's.
                    let old = match old {
                        Some(item) => Some(item),
                        None => self.get_item(applicant_key(number)).await?,
                    };
                    let placement = old
                        .as_ref()
                        .and_then(|item| match item.get("placement_id") {
                            Some(AttributeValue::S(id)) => Some(id.as_str()),
                            _ => None,
                        });
                    if placement != Some(new.placement_id.as_str()) {
                        return Err(StoreError::Corrupt(format!(
                            "applicant {number} already exists for another placement"
                        )));
                    }
                    false
                }
            };
            outcomes[completion.index] = Some(if written && completion.is_own(new) {
                CreateOutcome::Created
            } else {
                CreateOutcome::PlacementTaken(completion.link)
            });
        }
        Ok(())
    }
}

/// A placement found linked: taken (`None`), unless its link is an incomplete creation from this
/// very file, which is then completed under the link's number. The link may be this delivery's
/// own (a claim retried after its answer was lost).
fn completion_of(
    index: usize,
    applicant: &Applicant,
    found: &StoredLink,
    complete: bool,
) -> Result<Option<Completion>, StoreError> {
    if complete || found.link.source_sha256 != applicant.source_sha256 {
        return Ok(None);
    }
    let Some(assignment_id) = found.assignment_id.clone() else {
        return Err(StoreError::Corrupt(format!(
            "placement {} links applicant {}, which does not exist",
            found.link.placement_id, found.link.applicant_number
        )));
    };
    if found.link.applicant_number != applicant.applicant_number {
        tracing::info!(
            placement_id = %found.link.placement_id,
            applicant_number = %found.link.applicant_number,
            "completing an interrupted or concurrent creation"
        );
    }
    Ok(Some(Completion {
        index,
        link: found.link.clone(),
        assignment_id,
        history_in_link: found.holds_history,
    }))
}

/// The number in a TTL attribute (0 when it is not one).
fn ttl_value(value: &AttributeValue) -> i64 {
    match value {
        AttributeValue::N(text) => text.parse().unwrap_or(0),
        _ => 0,
    }
}

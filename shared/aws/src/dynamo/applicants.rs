//! `create_applicants`: whole applicants packed into transactions of up to 100 actions.

use super::*;

/// One applicant's own items, encoded before anything is written.
pub(super) struct Prepared {
    pub(super) placement_id: String,
    pub(super) applicant_number: String,
    pub(super) link: Item,
    pub(super) applicant: Item,
    pub(super) history: Vec<Item>,
    pub(super) person: Option<(String, String)>,
    /// The applicant's TTL value, which its person record gets too.
    pub(super) expires_at: AttributeValue,
}

/// What each action of a transaction is, to read its cancellation reason.
#[derive(Clone, Copy)]
pub(super) enum Role {
    Placement(usize),
    Applicant(usize),
    History(usize),
    Person,
}

pub(super) fn prepare(new: &NewApplicant) -> Result<Prepared, StoreError> {
    let applicant = &new.applicant;
    let number = applicant.applicant_number.clone();
    let link = PlacementLink {
        placement_id: applicant.placement_id.clone(),
        applicant_number: number.clone(),
        source_file: applicant.source_file.clone(),
        source_sha256: applicant.source_sha256.clone(),
    };
    let mut seqs = HashSet::new();
    let mut history = Vec::with_capacity(new.history.len());
    for entry in &new.history {
        if !seqs.insert(entry.seq) {
            return Err(StoreError::Corrupt(format!(
                "applicant {number} has two history entries with seq {}",
                entry.seq
            )));
        }
        history.push(history_item(applicant, entry)?);
    }
    Ok(Prepared {
        placement_id: applicant.placement_id.clone(),
        applicant_number: number,
        link: link_item(&link, applicant)?,
        expires_at: applicant_expiry(applicant).1,
        applicant: applicant_item(applicant)?,
        history,
        person: applicant
            .person_key
            .as_ref()
            .map(|key| (applicant.vpd.clone(), key.clone())),
    })
}

/// Takes the next applicants from `queue` that fit one transaction: at most 100 actions, and no
/// item twice (a placement or applicant repeated in the input waits for a later transaction).
pub(super) fn next_group(queue: &mut VecDeque<usize>, prepared: &[Prepared]) -> Vec<usize> {
    let mut group = Vec::new();
    let mut actions = 0;
    let mut placements = HashSet::new();
    let mut numbers = HashSet::new();
    let mut persons = HashSet::new();
    while let Some(&index) = queue.front() {
        let p = &prepared[index];
        let new_person = p.person.as_ref().is_some_and(|k| !persons.contains(k));
        let cost = 2 + p.history.len() + usize::from(new_person);
        if actions + cost > TRANSACTION_LIMIT
            || placements.contains(&p.placement_id)
            || numbers.contains(&p.applicant_number)
        {
            break;
        }
        actions += cost;
        placements.insert(p.placement_id.clone());
        numbers.insert(p.applicant_number.clone());
        if let Some(k) = &p.person {
            persons.insert(k.clone());
        }
        group.push(index);
        queue.pop_front();
    }
    group
}

impl DynamoStore {
    pub(super) fn put_action(
        &self,
        item: Item,
        condition: &str,
        return_old: bool,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .expression_attribute_names("#pk", PK);
        if return_old {
            put = put.return_values_on_condition_check_failure(
                ReturnValuesOnConditionCheckFailure::AllOld,
            );
        }
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(build_error)?)
            .build())
    }

    pub(super) fn person_action(
        &self,
        vpd: &str,
        person_key: &str,
        numbers: Vec<String>,
        expires_at: AttributeValue,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
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
            .expression_attribute_values(":key", s(person_key))
            .build()
            .map_err(build_error)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    pub(super) fn transaction(
        &self,
        group: &[usize],
        prepared: &[Prepared],
    ) -> Result<(Vec<TransactWriteItem>, Vec<Role>), StoreError> {
        let mut actions = Vec::new();
        let mut roles = Vec::new();
        let mut persons: Vec<((String, String), Vec<String>, AttributeValue)> = Vec::new();
        for &index in group {
            let p = &prepared[index];
            actions.push(self.put_action(p.link.clone(), "attribute_not_exists(#pk)", true)?);
            roles.push(Role::Placement(index));
            actions.push(self.put_action(
                p.applicant.clone(),
                "attribute_not_exists(#pk)",
                false,
            )?);
            roles.push(Role::Applicant(index));
            for entry in &p.history {
                actions.push(self.put_action(entry.clone(), "attribute_not_exists(#pk)", false)?);
                roles.push(Role::History(index));
            }
            if let Some(person) = &p.person {
                match persons.iter_mut().find(|(k, _, _)| k == person) {
                    Some((_, numbers, expires_at)) => {
                        numbers.push(p.applicant_number.clone());
                        if ttl_value(&p.expires_at) > ttl_value(expires_at) {
                            *expires_at = p.expires_at.clone();
                        }
                    }
                    None => persons.push((
                        person.clone(),
                        vec![p.applicant_number.clone()],
                        p.expires_at.clone(),
                    )),
                }
            }
        }
        for ((vpd, person_key), numbers, expires_at) in persons {
            actions.push(self.person_action(&vpd, &person_key, numbers, expires_at)?);
            roles.push(Role::Person);
        }
        Ok((actions, roles))
    }

    /// Writes one group, dropping applicants whose placement is taken, until it is stored.
    pub(super) async fn write_group(
        &self,
        mut group: Vec<usize>,
        prepared: &[Prepared],
        outcomes: &mut [Option<CreateOutcome>],
    ) -> Result<usize, StoreError> {
        let mut requests = 0;
        let mut attempt = 0;
        while !group.is_empty() {
            let (actions, roles) = self.transaction(&group, prepared)?;
            requests += 1;
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(actions))
                .send()
                .await;
            let err = match result {
                Ok(_) => {
                    for &index in &group {
                        outcomes[index] = Some(CreateOutcome::Created);
                    }
                    return Ok(requests);
                }
                Err(err) => err,
            };
            let reasons: &[CancellationReason] = match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                    cancelled.cancellation_reasons()
                }
                _ => return Err(sdk_error("TransactWriteItems", &err)),
            };
            let failed =
                |reason: &CancellationReason| reason.code() == Some("ConditionalCheckFailed");
            let mut taken = Vec::new();
            for (reason, role) in reasons.iter().zip(&roles) {
                if let (true, Role::Placement(index)) = (failed(reason), role) {
                    taken.push((*index, reason.item().cloned()));
                }
            }
            for (reason, role) in reasons.iter().zip(&roles) {
                match role {
                    // The applicant number or its history exists, but the placement was free.
                    Role::Applicant(index) | Role::History(index)
                        if failed(reason) && !taken.iter().any(|(i, _)| i == index) =>
                    {
                        return Err(StoreError::Corrupt(format!(
                            "applicant {} already exists for another placement",
                            prepared[*index].applicant_number
                        )));
                    }
                    _ if reason.code() == Some("ValidationError") => {
                        let message = reason.message().unwrap_or("");
                        return Err(StoreError::Corrupt(format!(
                            "TransactWriteItems refused: {message}"
                        )));
                    }
                    _ => {}
                }
            }
            let mut progressed = false;
            for (index, old) in taken {
                let p = &prepared[index];
                let link = match old.filter(|item| !item.is_empty()) {
                    Some(item) => Some(decode(&format!("placement {}", p.placement_id), item)?),
                    None => self.placement_link(&p.placement_id).await?,
                };
                if let Some(link) = link {
                    tracing::debug!(
                        placement_id = %p.placement_id,
                        applicant_number = %link.applicant_number,
                        "placement already an applicant"
                    );
                    outcomes[index] = Some(CreateOutcome::PlacementTaken(link));
                    group.retain(|&i| i != index);
                    progressed = true;
                }
            }
            if progressed {
                continue;
            }
            // Conflicting transactions or throttling: back off and try the same group again.
            attempt += 1;
            let codes: BTreeSet<&str> = reasons.iter().filter_map(|r| r.code()).collect();
            if attempt >= MAX_ATTEMPTS {
                return Err(StoreError::Unavailable(format!(
                    "TransactWriteItems cancelled {attempt} times ({codes:?})"
                )));
            }
            tracing::debug!(attempt, ?codes, "retrying cancelled transaction");
            backoff(attempt).await;
        }
        Ok(requests)
    }
}

/// The number in a TTL attribute (0 when it is not one).
fn ttl_value(value: &AttributeValue) -> i64 {
    match value {
        AttributeValue::N(text) => text.parse().unwrap_or(0),
        _ => 0,
    }
}

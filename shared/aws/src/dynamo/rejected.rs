//! Rejected applications (2.5): one item per rejected APP record, under its placement, found
//! by trust through GSI1, by GMC number through GSI2 and by their file's business date through
//! GSI3 (partitions of their own, so the applicant lookups on those indexes never meet them).

use super::codec::{decode, encode, expires_at};
use super::keys::{
    key, rejected_filed_pk, rejected_gmc_pk, rejected_pk, s, trust_rejected_pk, with_keys, GSI1,
    GSI1PK, GSI1SK, GSI2, GSI2PK, GSI2SK, GSI3, GSI3PK, GSI3SK, PK,
};
use dit_core::ports::StoreError;
use dit_domain::model::{RejectedApplication, RejectedLookup};
use dit_domain::retention;
use std::collections::BTreeMap;

use super::store::*;

/// `<business date>#<file>#<record:08>`: the order the port promises, and unique per record.
fn rejected_sort_key(rejected: &RejectedApplication) -> String {
    format!(
        "{}#{}#{:08}",
        rejected.business_date, rejected.source_file, rejected.record_number
    )
}

fn rejected_item(rejected: &RejectedApplication) -> Result<Item, StoreError> {
    let what = format!(
        "rejected record {} of file {}",
        rejected.record_number, rejected.source_file
    );
    let sort_key = rejected_sort_key(rejected);
    let item = encode(&what, rejected)?;
    let mut item = with_keys(item, key(rejected_pk(&rejected.placement_id), &sort_key));
    item.extend([expires_at(retention::rejected_kept_until(rejected))]);
    if let Some(vpd) = rejected.vpd.as_deref().filter(|v| !v.is_empty()) {
        item.insert(GSI1PK.to_string(), s(trust_rejected_pk(vpd)));
        item.insert(GSI1SK.to_string(), s(sort_key.clone()));
    }
    if let Some(gmc) = rejected.gmc_number.as_deref().filter(|g| !g.is_empty()) {
        item.insert(GSI2PK.to_string(), s(rejected_gmc_pk(gmc)));
        item.insert(GSI2SK.to_string(), s(sort_key.clone()));
    }
    item.insert(
        GSI3PK.to_string(),
        s(rejected_filed_pk(rejected.business_date)),
    );
    item.insert(GSI3SK.to_string(), s(sort_key));
    Ok(item)
}

impl DynamoStore {
    pub(super) async fn put_rejected(
        &self,
        rejected: &[RejectedApplication],
    ) -> Result<(), StoreError> {
        // A batch may not hold one key twice: the last version of a record wins.
        let mut latest: BTreeMap<(String, String), Item> = BTreeMap::new();
        for r in rejected {
            latest.insert(
                (r.placement_id.clone(), rejected_sort_key(r)),
                rejected_item(r)?,
            );
        }
        let count = latest.len();
        self.batch_put(latest.into_values().collect()).await?;
        tracing::info!(count, "rejected applications saved");
        Ok(())
    }

    pub(super) async fn query_rejected(
        &self,
        lookup: RejectedLookup<'_>,
    ) -> Result<Vec<RejectedApplication>, StoreError> {
        let (index, pk_name, partition) = match lookup {
            RejectedLookup::Placement(id) if !id.is_empty() => (None, PK, rejected_pk(id)),
            RejectedLookup::Gmc(gmc) if !gmc.is_empty() => {
                (Some(GSI2), GSI2PK, rejected_gmc_pk(gmc))
            }
            RejectedLookup::Trust(vpd) if !vpd.is_empty() => {
                (Some(GSI1), GSI1PK, trust_rejected_pk(vpd))
            }
            RejectedLookup::FiledOn(date) => (Some(GSI3), GSI3PK, rejected_filed_pk(date)),
            _ => return Ok(Vec::new()),
        };
        let items = self.query_partition(index, pk_name, partition).await?;
        let mut found = items
            .into_iter()
            .map(|item| decode("rejected application", item))
            .collect::<Result<Vec<RejectedApplication>, _>>()?;
        found.sort_by(|a, b| {
            (a.business_date, &a.source_file, a.record_number).cmp(&(
                b.business_date,
                &b.source_file,
                b.record_number,
            ))
        });
        tracing::debug!(count = found.len(), "rejected applications read");
        Ok(found)
    }
}

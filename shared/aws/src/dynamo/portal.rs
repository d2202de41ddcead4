//! The portal's reads: a trust's applicants (GSI3, projected to the list's fields) and its inbox
//! read marks.

use super::codec::decode;
use super::keys::{
    read_mark_key, read_pk, s, trust_applicants_pk, with_keys, GSI3, GSI3PK, PK, SK,
};
use super::store::*;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, NaiveDate, Utc};
use dit_core::ports::StoreError;
use dit_domain::model::ApplicantSummary;
use dit_domain::retention::TTL_ATTRIBUTE;
use std::collections::{HashMap, HashSet};

impl DynamoStore {
    /// A trust's applicants in number order, as the list shows them.
    pub(super) async fn query_trust_applicants(
        &self,
        vpd: &str,
    ) -> Result<Vec<ApplicantSummary>, StoreError> {
        // Only the summary's attributes come back (a trust's whole list is read for every search).
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(GSI3)
                .key_condition_expression("#pk = :pk")
                .projection_expression(
                    "applicant_number, vpd, local_office, #state, placement_id, position_number, dpn, \
                     projected_hire_date, details.first_name, details.last_name, details.gmc_number, \
                     #expires",
                )
                .expression_attribute_names("#expires", TTL_ATTRIBUTE)
                .expression_attribute_names("#pk", GSI3PK)
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":pk", s(trust_applicants_pk(vpd)))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error("Query", &e))?;
            // Applicants past their retention are not listed (7.1).
            items.extend(
                out.items
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|item| self.live(item)),
            );
            match out.last_evaluated_key {
                Some(next) if !next.is_empty() => start = Some(next),
                _ => break,
            }
        }
        let mut summaries = items
            .into_iter()
            .map(|item| {
                decode::<ListedApplicant>(&format!("applicant of trust {vpd}"), item)
                    .map(ApplicantSummary::from)
            })
            .collect::<Result<Vec<_>, _>>()?;
        summaries.sort_by(|a, b| {
            (a.applicant_number.len(), &a.applicant_number)
                .cmp(&(b.applicant_number.len(), &b.applicant_number))
        });
        tracing::debug!(vpd, count = summaries.len(), "trust applicants read");
        Ok(summaries)
    }

    /// `item` read by the trust `vpd` at `at`.
    pub(super) async fn put_read_mark(
        &self,
        vpd: &str,
        item: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(with_keys(
                HashMap::from([("at".to_string(), s(at.to_rfc3339()))]),
                read_mark_key(vpd, item),
            )))
            // The first reading stands: marking again changes nothing.
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(_)) => Ok(()),
                _ => Err(sdk_error("PutItem", &err)),
            },
        }
    }

    /// The items the trust `vpd` has read.
    pub(super) async fn query_read_marks(&self, vpd: &str) -> Result<HashSet<String>, StoreError> {
        let items = self.query_partition(None, PK, read_pk(vpd)).await?;
        Ok(items
            .into_iter()
            .filter_map(|mut item| match item.remove(SK) {
                Some(AttributeValue::S(sk)) => Some(sk),
                _ => None,
            })
            .collect())
    }
}

/// The attributes of an applicant item that a summary is made of (the projection above).
#[derive(serde::Deserialize)]
struct ListedApplicant {
    applicant_number: String,
    vpd: String,
    local_office: String,
    state: dit_domain::lifecycle::ApplicantState,
    placement_id: String,
    position_number: String,
    dpn: String,
    projected_hire_date: NaiveDate,
    details: ListedDetails,
}

#[derive(serde::Deserialize)]
struct ListedDetails {
    first_name: String,
    last_name: String,
    #[serde(default)]
    gmc_number: Option<String>,
}

impl From<ListedApplicant> for ApplicantSummary {
    fn from(listed: ListedApplicant) -> Self {
        ApplicantSummary {
            applicant_number: listed.applicant_number,
            vpd: listed.vpd,
            local_office: listed.local_office,
            state: listed.state,
            placement_id: listed.placement_id,
            position_number: listed.position_number,
            dpn: listed.dpn,
            projected_hire_date: listed.projected_hire_date,
            first_name: listed.details.first_name,
            last_name: listed.details.last_name,
            gmc_number: listed.details.gmc_number,
        }
    }
}

//! The TIS file numbers received, for the sequence check (2.6): one item per number under
//! `RECEIVED#<type>`, sorted twice (by business date and by number), so that either range the
//! check reads is one Query.

use super::codec::{decode, encode, expires_at};
use super::keys::{
    key, received_by_date_sk, received_by_number_sk, received_pk, s, with_keys, PK, SK,
};
use super::store::*;
use dit_core::ports::StoreError;
use dit_domain::model::ReceivedSequence;
use dit_domain::retention;
use std::collections::HashMap;

impl DynamoStore {
    /// One number, put under both of its sort keys.
    pub(super) async fn put_received(&self, received: &ReceivedSequence) -> Result<(), StoreError> {
        let what = format!("received {} {}", received.file_type, received.seq);
        let mut item = encode(&what, received)?;
        item.extend([expires_at(retention::operator_record_kept_until(
            received.business_date,
        ))]);
        let pk = received_pk(&received.file_type);
        let by_date = received_by_date_sk(received.business_date, received.seq, &received.source);
        let by_number = received_by_number_sk(received.seq, &received.source);
        self.batch_put(vec![
            with_keys(item.clone(), key(pk.clone(), &by_date)),
            with_keys(item, key(pk, &by_number)),
        ])
        .await
    }

    /// The received numbers of one type whose sort key lies in `from..=to`, ordered by number.
    pub(super) async fn received_between(
        &self,
        file_type: &str,
        from: String,
        to: String,
    ) -> Result<Vec<ReceivedSequence>, StoreError> {
        let items = self
            .query_all(
                None,
                "#pk = :pk AND #sk BETWEEN :from AND :to",
                &[("#pk", PK), ("#sk", SK)],
                HashMap::from([
                    (":pk".to_string(), s(received_pk(file_type))),
                    (":from".to_string(), s(from)),
                    (":to".to_string(), s(to)),
                ]),
            )
            .await?;
        let mut received = items
            .into_iter()
            .map(|item| decode(&format!("received {file_type} number"), item))
            .collect::<Result<Vec<ReceivedSequence>, _>>()?;
        received.sort_by(|a, b| (a.seq, &a.source).cmp(&(b.seq, &b.source)));
        Ok(received)
    }
}

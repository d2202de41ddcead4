//! Write capacity units as DynamoDB bills them, worked out from the requests themselves (moto
//! reports no consumed capacity worth counting): an item's size by the published sizing rules,
//! then one unit per started KB for a standard write and two for a write inside a transaction.
//!
//! Only the base table is counted, as the budgets in `docs/PERFORMANCE.md` are stated; an item
//! that carries index keys is also written to each index it projects into.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemInput;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemInput;
use aws_sdk_dynamodb::operation::put_item::PutItemInput;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemInput;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::client::interceptors::context::Input;

const KB: usize = 1024;

/// The size of an item in bytes: attribute names plus values, with the list and map overheads.
pub fn item_size(item: &HashMap<String, AttributeValue>) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(text) => text.len(),
        AttributeValue::N(number) => number_size(number),
        AttributeValue::B(blob) => blob.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(texts) => texts.iter().map(String::len).sum(),
        AttributeValue::Ns(numbers) => numbers.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(blobs) => blobs.iter().map(|b| b.as_ref().len()).sum(),
        // 3 bytes per list or map, 1 byte per element.
        AttributeValue::L(values) => 3 + values.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => {
            3 + map
                .iter()
                .map(|(name, v)| 1 + name.len() + value_size(v))
                .sum::<usize>()
        }
        _ => 0,
    }
}

/// One byte per two significant digits, plus one.
fn number_size(number: &str) -> usize {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    significant.div_ceil(2) + 1
}

/// Units for writing an item of `bytes` outside a transaction (at least one).
pub fn standard_units(bytes: usize) -> u64 {
    bytes.div_ceil(KB).max(1) as u64
}

/// The operation, write units and items written of one request, from its input; `None` for an
/// operation that writes nothing.
///
/// An update is billed on the larger of the item before and after it, which the request does not
/// show: it is counted on its key and the values it sets, a lower bound that is exact for the
/// small counters and person items this project updates.
pub fn write_units(input: &Input) -> Option<(&'static str, u64, u64)> {
    if let Some(put) = input.downcast_ref::<PutItemInput>() {
        let size = put.item.as_ref().map_or(0, item_size);
        return Some(("PutItem", standard_units(size), 1));
    }
    if let Some(update) = input.downcast_ref::<UpdateItemInput>() {
        return Some((
            "UpdateItem",
            standard_units(update_size(
                update.key.as_ref(),
                update.expression_attribute_values.as_ref(),
            )),
            1,
        ));
    }
    if input.downcast_ref::<DeleteItemInput>().is_some() {
        return Some(("DeleteItem", 1, 1));
    }
    if let Some(batch) = input.downcast_ref::<BatchWriteItemInput>() {
        let mut units = 0;
        let mut items = 0;
        for request in batch
            .request_items
            .iter()
            .flat_map(|r| r.values())
            .flatten()
        {
            items += 1;
            units += match &request.put_request {
                Some(put) => standard_units(item_size(&put.item)),
                None => 1,
            };
        }
        return Some(("BatchWriteItem", units, items));
    }
    if let Some(transaction) = input.downcast_ref::<TransactWriteItemsInput>() {
        let mut units = 0;
        let mut items = 0;
        for action in transaction.transact_items.iter().flatten() {
            items += 1;
            let size = if let Some(put) = &action.put {
                item_size(&put.item)
            } else if let Some(update) = &action.update {
                update_size(
                    Some(&update.key),
                    update.expression_attribute_values.as_ref(),
                )
            } else {
                0
            };
            units += 2 * standard_units(size);
        }
        return Some(("TransactWriteItems", units, items));
    }
    None
}

fn update_size(
    key: Option<&HashMap<String, AttributeValue>>,
    values: Option<&HashMap<String, AttributeValue>>,
) -> usize {
    key.map_or(0, item_size) + values.map_or(0, |v| v.values().map(value_size).sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> AttributeValue {
        AttributeValue::S(text.to_string())
    }

    #[test]
    fn sizes_follow_the_published_rules() {
        let item = HashMap::from([
            ("PK".to_string(), s("APPLICANT#1")),                   // 2 + 11
            ("n".to_string(), AttributeValue::N("0012300".into())), // 1 + (3 digits -> 2) + 1
            ("ok".to_string(), AttributeValue::Bool(true)),         // 2 + 1
            (
                "m".to_string(),
                AttributeValue::M(HashMap::from([("a".to_string(), s("xy"))])),
            ), // 1 + 3 + (1 + 1 + 2)
            ("l".to_string(), AttributeValue::L(vec![s("abc")])),   // 1 + 3 + (1 + 3)
        ]);
        assert_eq!(item_size(&item), 13 + 4 + 3 + 8 + 8);
    }

    #[test]
    fn units_round_up_per_started_kilobyte() {
        assert_eq!(standard_units(0), 1);
        assert_eq!(standard_units(1024), 1);
        assert_eq!(standard_units(1025), 2);
    }
}

//! Rendering a page, and the generic view of a
//! stored JSON document (notifications, reports, file records, sequence checks): its plain fields
//! as a summary list, each list of records as a table, each nested record as its own list.
//! Every value reaches the page through askama's HTML escaping.

use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;

use crate::error::PageError;
use crate::format;

/// Renders a template as an HTML response.
pub fn html<T: Template>(template: &T) -> Result<Response, PageError> {
    template
        .render()
        .map(|body| Html(body).into_response())
        .map_err(|e| PageError::Unavailable(format!("template: {e}")))
}

/// A stored JSON document, laid out for reading.
#[derive(Default)]
pub struct Document {
    pub title: String,
    pub fields: Vec<(String, String)>,
    pub lists: Vec<FieldList>,
    pub tables: Vec<Table>,
}

pub struct FieldList {
    pub heading: String,
    pub fields: Vec<(String, String)>,
}

pub struct Table {
    pub caption: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Lays out `value`, leaving out the keys in `skip` (e.g. links the page replaces).
pub fn document(value: &Value, skip: &[&str]) -> Document {
    let mut doc = Document::default();
    let Value::Object(object) = value else {
        doc.fields.push((String::new(), scalar(value)));
        return doc;
    };
    doc.title = object
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or("Document")
        .to_string();
    for (key, value) in object {
        if key == "title" || skip.contains(&key.as_str()) {
            continue;
        }
        match value {
            Value::Array(items) if items.iter().any(Value::is_object) => {
                doc.tables.push(table(&format::label(key), items));
            }
            Value::Array(items) => doc.fields.push((
                format::label(key),
                if items.is_empty() {
                    "none".to_string()
                } else {
                    items.iter().map(scalar).collect::<Vec<_>>().join("; ")
                },
            )),
            Value::Object(inner) => doc.lists.push(FieldList {
                heading: format::label(key),
                fields: inner
                    .iter()
                    .map(|(k, v)| (format::label(k), scalar(v)))
                    .collect(),
            }),
            other => doc.fields.push((format::label(key), scalar(other))),
        }
    }
    doc
}

fn table(caption: &str, items: &[Value]) -> Table {
    let mut columns: Vec<String> = Vec::new();
    for item in items {
        if let Value::Object(row) = item {
            for key in row.keys() {
                if !columns.contains(key) {
                    columns.push(key.clone());
                }
            }
        }
    }
    let rows = items
        .iter()
        .map(|item| {
            columns
                .iter()
                .map(|c| item.get(c).map(scalar).unwrap_or_default())
                .collect()
        })
        .collect();
    Table {
        caption: caption.to_string(),
        columns: columns.iter().map(|c| format::label(c)).collect(),
        rows,
    }
}

/// One value as text: dates in UK form, nested values as compact JSON.
pub fn scalar(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(true) => "yes".to_string(),
        Value::Bool(false) => "no".to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format::text(s),
        Value::Array(items) => items.iter().map(scalar).collect::<Vec<_>>().join("; "),
        Value::Object(_) => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_document_is_fields_lists_and_tables() {
        let doc = document(
            &json!({
                "title": "Deanery Applicant Notification",
                "date_of_notification": "2026-11-21",
                "link": "https://example/x",
                "summary": {"No. of issues": 2},
                "created": [{"Applicant Number": "5000001", "Message": "ok"}, {"Applicant Number": "5000002", "Extra": true}],
                "warnings": []
            }),
            &["link"],
        );
        assert_eq!(doc.title, "Deanery Applicant Notification");
        assert_eq!(
            doc.fields,
            vec![
                ("Date of notification".to_string(), "21/11/2026".to_string()),
                ("Warnings".to_string(), "none".to_string())
            ]
        );
        assert_eq!(
            doc.lists[0].fields,
            vec![("No. of issues".into(), "2".into())]
        );
        assert_eq!(
            doc.tables[0].columns,
            ["Applicant Number", "Message", "Extra"]
        );
        assert_eq!(doc.tables[0].rows[1], ["5000002", "", "yes"]);
    }
}

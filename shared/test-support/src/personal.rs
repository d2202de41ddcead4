//! The personal values of inputs (names, GMC/GDC and NI numbers, dates of birth, e-mails, phone
//! numbers, addresses), read from the inputs themselves, so tests can search outputs and logs for
//! every one of them.

use std::collections::BTreeSet;

use dit_domain::actions::is_identity_key;
use dit_domain::app::APP_FIELDS;
use dit_domain::dnc::DNC_FIELDS;
use dit_domain::envelope::LineReader;
use serde_json::Value;

/// Values shorter than this (a gender code, a country code) are too common to search for.
pub const MIN_CHARS: usize = 4;

/// The APP fields that hold personal data.
pub const PERSONAL_APP_FIELDS: [&str; 17] = [
    "LAST_NAME",
    "FIRST_NAME",
    "MIDDLE_NAMES",
    "DATE_OF_BIRTH",
    "GMC_NUMBER",
    "GDC_NUMBER",
    "NATIONAL_INSURANCE_NUMBER",
    "NATIONAL_TRAINING_NUMBER",
    "EMAIL_ADDRESS",
    "HOME_TEL",
    "MOBILE_TEL",
    "ADDRESS_LINE_1",
    "ADDRESS_LINE_2",
    "ADDRESS_LINE_3",
    "TOWN",
    "POSTCODE",
    "PREVIOUS_LAST_NAME",
];

/// The DNC/DNF fields that hold personal data.
pub const PERSONAL_DNC_FIELDS: [&str; 13] = [
    "CURRENT_LAST_NAME",
    "CURRENT_FIRST_NAME",
    "CURRENT_GMC_NUMBER",
    "NEXT_LAST_NAME",
    "NEXT_FIRST_NAME",
    "NEXT_GMC_NUMBER",
    "NEXT_EMAIL_ADDRESS",
    "WITHDRAWN_LAST_NAME",
    "WITHDRAWN_FIRST_NAME",
    "WITHDRAWN_GMC_NUMBER",
    "REPLACEMENT_LAST_NAME",
    "REPLACEMENT_FIRST_NAME",
    "REPLACEMENT_GMC_NUMBER",
];

fn keep(values: &mut BTreeSet<String>, value: &str) {
    let value = value.trim();
    if value.chars().count() >= MIN_CHARS {
        values.insert(value.to_string());
    }
}

/// The personal values of every APP and DNC record of a file (any line that reads as one).
pub fn of_file(bytes: &[u8]) -> BTreeSet<String> {
    let mut values = BTreeSet::new();
    let mut reader = LineReader::new(bytes);
    let mut record = csv::StringRecord::new();
    while let Ok(Some(_)) = reader.read(&mut record) {
        let (names, personal): (&[&str], &[&str]) = match record.get(0) {
            Some("APP") => (&APP_FIELDS, &PERSONAL_APP_FIELDS),
            Some("DNC") => (&DNC_FIELDS, &PERSONAL_DNC_FIELDS),
            _ => continue,
        };
        for field in personal {
            if let Some(value) = names
                .iter()
                .position(|n| n == field)
                .and_then(|i| record.get(i))
            {
                keep(&mut values, value);
            }
        }
    }
    values
}

/// The personal values of a message body: every value under an identity key (names, date of
/// birth, NI number, address, contact details) at any depth, and every value of a person update.
pub fn of_message(body: &str) -> BTreeSet<String> {
    let mut values = BTreeSet::new();
    if let Ok(value) = serde_json::from_str::<Value>(body) {
        collect(&value, false, &mut values);
    }
    values
}

fn collect(value: &Value, personal: bool, values: &mut BTreeSet<String>) {
    match value {
        Value::Object(object) => {
            for (key, inner) in object {
                collect(
                    inner,
                    personal || is_identity_key(key) || key == "gmc_number",
                    values,
                );
            }
        }
        Value::Array(items) => {
            for item in items {
                collect(item, personal, values);
            }
        }
        Value::String(text) if personal => keep(values, text),
        Value::Number(number) if personal => keep(values, &number.to_string()),
        _ => {}
    }
}

/// The values found in `text` as whole words (a surname "Quarantine" is not found in
/// "Quarantined"; a GMC number is not found inside a longer number).
pub fn found_in<'v>(text: &str, values: &'v BTreeSet<String>) -> Vec<&'v str> {
    values
        .iter()
        .filter(|v| occurs_as_word(text, v))
        .map(String::as_str)
        .collect()
}

/// True when `value` occurs in `text` with no letter or digit right before or after it.
pub fn occurs_as_word(text: &str, value: &str) -> bool {
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    text.match_indices(value).any(|(at, _)| {
        !word(text[..at].chars().next_back()) && !word(text[at + value.len()..].chars().next())
    })
}

/// The text of the system's own source code (`shared/core/src`, without its test modules): the
/// words it writes itself.
pub fn system_vocabulary() -> String {
    let mut text = String::new();
    let mut pending = vec![crate::samples::repo().join("shared/core/src")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let source = std::fs::read_to_string(&path).unwrap_or_default();
                // Test modules close each file and hold sample data, not the system's words.
                let code = source.split("#[cfg(test)]").next().unwrap_or("");
                text.push_str(code);
            }
        }
    }
    text
}

/// Splits off the values that are words of the system's own vocabulary (a surname "Host" cannot
/// be told apart from "Host Employer"): returns them, leaving the distinctive ones in `values`.
pub fn remove_system_words(values: &mut BTreeSet<String>) -> BTreeSet<String> {
    let vocabulary = system_vocabulary();
    let common: BTreeSet<String> = values
        .iter()
        .filter(|v| occurs_as_word(&vocabulary, v))
        .cloned()
        .collect();
    values.retain(|v| !common.contains(v));
    common
}

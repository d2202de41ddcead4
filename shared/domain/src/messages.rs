//! Per-record outcome messages (ERROR, WARNING, INFO) with the exact texts of section 2.5.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum MessageType {
    Error,
    Warning,
    Info,
}

impl MessageType {
    pub fn code(self) -> &'static str {
        match self {
            MessageType::Error => "ERROR",
            MessageType::Warning => "WARNING",
            MessageType::Info => "INFO",
        }
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// APC MESSAGE_TEXT holds at most 200 characters.
pub const MAX_MESSAGE_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    #[serde(rename = "type")]
    pub message_type: MessageType,
    pub text: String,
}

/// Whether `text` has more than `chars` characters, counted only when its bytes could be that
/// many (a character is at least one byte): most texts checked are far below their limit.
pub(crate) fn longer_than(text: &str, chars: usize) -> bool {
    text.len() > chars && text.chars().count() > chars
}

impl Message {
    fn new(message_type: MessageType, text: String) -> Self {
        let text = if longer_than(&text, MAX_MESSAGE_CHARS) {
            text.chars().take(MAX_MESSAGE_CHARS).collect()
        } else {
            text
        };
        Message { message_type, text }
    }

    pub fn error(text: String) -> Self {
        Message::new(MessageType::Error, text)
    }

    pub fn warning(text: String) -> Self {
        Message::new(MessageType::Warning, text)
    }

    pub fn info(text: String) -> Self {
        Message::new(MessageType::Info, text)
    }

    pub fn is_error(&self) -> bool {
        self.message_type == MessageType::Error
    }

    pub fn mandatory_missing(field: &str) -> Self {
        Message::error(format!(
            "Mandatory item {field} not supplied. Application rejected."
        ))
    }

    pub fn invalid_date(value: &str, field: &str) -> Self {
        Message::error(format!(
            "Invalid date {value} for {field}. Application rejected."
        ))
    }

    pub fn invalid_value(value: &str, field: &str, rule: &str) -> Self {
        Message::error(format!(
            "Invalid value {value} for {field} ({rule}). Application rejected."
        ))
    }

    pub fn position_unknown(position_id: &str) -> Self {
        Message::error(format!(
            "Position {position_id} does not exist in ESR. Application rejected."
        ))
    }

    pub fn dpn_mismatch(dpn: &str, position_id: &str) -> Self {
        Message::error(format!(
            "Deanery Post Number {dpn} does not match position {position_id}. Application rejected."
        ))
    }

    pub fn hire_too_soon(hire: NaiveDate, file_date: NaiveDate) -> Self {
        Message::error(format!(
            "Projected hire date {hire} is less than 2 days after the file date {file_date}. Application rejected."
        ))
    }

    pub fn hire_too_late(hire: NaiveDate, file_date: NaiveDate) -> Self {
        Message::error(format!(
            "Projected hire date {hire} is more than 13 weeks after the file date {file_date}. Application rejected."
        ))
    }

    pub fn placement_repeated(placement_id: &str) -> Self {
        Message::error(format!(
            "Placement {placement_id} appears more than once in this file. Application rejected."
        ))
    }

    pub fn placement_already_loaded(placement_id: &str, applicant_number: &str) -> Self {
        Message::error(format!(
            "Placement {placement_id} has already been loaded as applicant {applicant_number}. Application rejected."
        ))
    }

    pub fn organisation_not_live(vpd: &str) -> Self {
        Message::error(format!(
            "Organisation {vpd} is not live on the interface. Application rejected."
        ))
    }

    /// The file's local office neither manages the trust nor is one it accepts (2.5, 7).
    pub fn organisation_not_managed(vpd: &str, local_office: &str) -> Self {
        Message::error(format!(
            "Organisation {vpd} is not managed by local office {local_office}. Application rejected."
        ))
    }

    pub fn value_ignored(field: &str, value: &str) -> Self {
        Message::warning(format!(
            "Value for {field} does not exist in ESR. The value {value} will be ignored."
        ))
    }

    pub fn person_match(kind: PersonMatch) -> Self {
        Message::info(
            match kind {
                PersonMatch::NewApplicant => "Application is from a NEW Applicant",
                PersonMatch::ExistingApplicant => "Application is from an EXISTING Applicant",
                PersonMatch::ExistingEmployee => "Application is from an EXISTING Employee",
            }
            .to_string(),
        )
    }
}

/// Whether the trust already knows the person on an application (INFO of 2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonMatch {
    NewApplicant,
    ExistingApplicant,
    ExistingEmployee,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_exactly_those_of_the_contract() {
        assert_eq!(
            Message::mandatory_missing("LAST_NAME").text,
            "Mandatory item LAST_NAME not supplied. Application rejected."
        );
        assert_eq!(
            Message::value_ignored("DISABILITY", "NO").text,
            "Value for DISABILITY does not exist in ESR. The value NO will be ignored."
        );
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            Message::hire_too_soon(d("2026-11-22"), d("2026-11-21")).text,
            "Projected hire date 2026-11-22 is less than 2 days after the file date 2026-11-21. Application rejected."
        );
        assert_eq!(
            Message::organisation_not_managed("504", "LDN").text,
            "Organisation 504 is not managed by local office LDN. Application rejected."
        );
        assert_eq!(
            Message::person_match(PersonMatch::ExistingEmployee).text,
            "Application is from an EXISTING Employee"
        );
    }

    #[test]
    fn long_texts_are_cut_to_200_characters() {
        let long = "X".repeat(500);
        let message = Message::value_ignored("RELIGIOUS_BELIEF", &long);
        assert_eq!(message.text.chars().count(), MAX_MESSAGE_CHARS);
        assert!(message.text.starts_with("Value for RELIGIOUS_BELIEF"));
    }
}

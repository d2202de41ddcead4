//! Messages on the queue (section 3): trust actions (offer, accept, hire, withdraw, person update)
//! and Trac employment checks. Parsing is total: any text gives either a [`InboundMessage`] (which
//! may carry a refusal naming the missing or malformed field) or an [`Unreadable`] error. Trac
//! checks are cut down to their allow-list here, before anything else sees them. Pure: no clock,
//! no store.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::app::{check_person_value, person_field, PERSON_FIELDS};
use super::boundary::{is_valid_message_id, short_hash, MAX_MESSAGE_ID_CHARS};
use super::envelope::is_vpd;
use super::lifecycle::{Command, PersonType};

/// The trust actions of section 3, as spelt in the `action` field.
pub const ACTIONS: [&str; 5] = ["offer", "accept", "hire", "withdraw", "person_update"];
/// The trust actions of revision 3 (sections 10 and 11), accepted beside [`ACTIONS`].
pub const MORE_ACTIONS: [&str; 2] = ["update_assignment", "record_checks"];
/// The command name under which Trac employment checks are recorded.
pub const EMPLOYMENT_CHECKS: &str = "employment_checks";
/// The only Trac status at which checks are copied.
pub const OUTCOME_RECRUITED: &str = "outcome recruited";
/// Longest free-text `reason` accepted.
pub const MAX_REASON_CHARS: usize = 500;

/// Who sent the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Trust,
    Trac,
}

/// What could be read of a message that has an id, whether or not the rest is sound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub id: String,
    pub source: Source,
    /// `offer` ... `person_update`, or `employment_checks` for Trac; `None` when missing or unknown.
    pub action: Option<String>,
    /// Only a well-formed VPD code (3 or 4 capital letters or digits).
    pub vpd: Option<String>,
    /// Only a well-formed applicant number (digits).
    pub applicant_number: Option<String>,
}

/// What the message asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Offer,
    Accept,
    Withdraw,
    Hire {
        person_type: PersonType,
    },
    /// An internal mover's move to its new post (section 10).
    UpdateAssignment {
        person_type: PersonType,
    },
    /// The changed person fields, checked: [`PERSON_FIELDS`] names, values as stored.
    PersonUpdate {
        person: Map<String, Value>,
    },
    /// Employment checks recorded by a trust without Trac (section 11), cut down to Trac's
    /// allow-list.
    RecordChecks {
        checks: Value,
    },
    /// Trac checks, already cut down to the allow-list.
    EmploymentChecks {
        status: String,
        checks: Value,
    },
}

impl Request {
    /// The state-machine command, for the four moves (`host_employer` from the applicant's position).
    pub fn command(&self, host_employer: bool) -> Option<Command> {
        match self {
            Request::Offer => Some(Command::Offer),
            Request::Accept => Some(Command::Accept),
            Request::Withdraw => Some(Command::Withdraw),
            Request::Hire { person_type } => Some(Command::Hire {
                person_type: *person_type,
                host_employer,
            }),
            Request::UpdateAssignment { person_type } => Some(Command::UpdateAssignment {
                person_type: *person_type,
                host_employer,
            }),
            Request::PersonUpdate { .. }
            | Request::EmploymentChecks { .. }
            | Request::RecordChecks { .. } => None,
        }
    }
}

/// A message with an id.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundMessage {
    pub header: Header,
    pub effective_date: Option<NaiveDate>,
    pub reason: Option<String>,
    /// Paths of the keys of a Trac message that are not on the allow-list and were dropped
    /// (e.g. `person`, `checks.dbs.date_of_birth`).
    pub dropped_fields: Vec<String>,
    /// The request, or the refusal naming every missing or malformed field.
    pub request: Result<Request, String>,
}

/// A message that cannot be answered by id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("the message is not JSON ({0})")]
    NotJson(String),
    #[error("the message is not a JSON object")]
    NotObject,
    #[error("the message has no id (a non-empty string)")]
    MissingId,
    #[error("the message id is not 1 to {MAX_MESSAGE_ID_CHARS} characters of A-Z a-z 0-9 . _ : -")]
    InvalidId,
}

impl Unreadable {
    pub fn code(&self) -> &'static str {
        match self {
            Unreadable::NotJson(_) => "not_json",
            Unreadable::NotObject => "not_object",
            Unreadable::MissingId => "missing_id",
            Unreadable::InvalidId => "invalid_id",
        }
    }
}

/// Reads a message body. Never panics.
///
/// # Errors
/// [`Unreadable`] when the body is not a JSON object with an id.
pub fn parse(body: &str) -> Result<InboundMessage, Unreadable> {
    let value: Value = serde_json::from_str(body.trim_start_matches('\u{feff}'))
        .map_err(|e| Unreadable::NotJson(position_only(&e)))?;
    let Value::Object(mut object) = value else {
        return Err(Unreadable::NotObject);
    };
    let id = match object.get("id") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(Unreadable::MissingId),
    };
    // Used as given in keys, so never hashed into something that could collide (section 7).
    if !is_valid_message_id(&id) {
        return Err(Unreadable::InvalidId);
    }
    let mut problems: Vec<String> = Vec::new();
    let source = match object.get("source") {
        None | Some(Value::Null) => Source::Trust,
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("trac") => Source::Trac,
        Some(_) => {
            problems.push("source must be \"trac\" (or absent for a trust action)".into());
            Source::Trust
        }
    };
    let vpd = match code_field(&object, "vpd") {
        Field::Missing => {
            problems.push("vpd is missing".into());
            None
        }
        Field::Text(v) if is_vpd(&v) => Some(v),
        _ => {
            problems.push("vpd is not a VPD code (3 or 4 capital letters or digits)".into());
            None
        }
    };
    let applicant_number = match code_field(&object, "applicant_number") {
        Field::Missing => {
            problems.push("applicant_number is missing".into());
            None
        }
        Field::Text(n) if is_applicant_number(&n) => Some(n),
        _ => {
            problems.push("applicant_number is not an applicant number (1 to 15 digits)".into());
            None
        }
    };
    // A Trac message carries no dates or reasons of its own: those keys are dropped with the rest.
    let trust = source == Source::Trust;
    let effective_date = match object.get("effective_date").filter(|_| trust) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
            Ok(date) => Some(date),
            Err(_) => {
                problems.push("effective_date is not a date in YYYY-MM-DD form".into());
                None
            }
        },
        Some(_) => {
            problems.push("effective_date is not a date in YYYY-MM-DD form".into());
            None
        }
    };
    let reason = match object.get("reason").filter(|_| trust) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) if s.chars().count() > MAX_REASON_CHARS => {
            problems.push(format!(
                "reason is longer than {MAX_REASON_CHARS} characters"
            ));
            None
        }
        Some(Value::String(s)) => Some(s.trim().to_string()),
        Some(_) => {
            problems.push("reason must be text".into());
            None
        }
    };

    let mut dropped = Vec::new();
    let (action, request) = match source {
        Source::Trac => {
            let request = trac_request(&mut object, &mut problems, &mut dropped);
            // Named in one order whatever order the keys came in.
            dropped.sort();
            (Some(EMPLOYMENT_CHECKS.to_string()), request)
        }
        Source::Trust => {
            let found = trust_request(&object, &mut problems, &mut dropped);
            dropped.sort();
            found
        }
    };
    let request = match request {
        Some(request) if problems.is_empty() => Ok(request),
        _ => Err(problems.join("; ")),
    };
    Ok(InboundMessage {
        header: Header {
            id,
            source,
            action,
            vpd,
            applicant_number,
        },
        effective_date,
        reason,
        dropped_fields: dropped,
        request,
    })
}

fn trust_request(
    object: &Map<String, Value>,
    problems: &mut Vec<String>,
    dropped: &mut Vec<String>,
) -> (Option<String>, Option<Request>) {
    let action = match object.get("action") {
        None | Some(Value::Null) => {
            problems.push(format!("action is missing (one of {})", ACTIONS.join(", ")));
            return (None, None);
        }
        Some(Value::String(s)) => s.trim().to_ascii_lowercase(),
        Some(_) => String::new(),
    };
    if !ACTIONS.contains(&action.as_str()) && !MORE_ACTIONS.contains(&action.as_str()) {
        problems.push(format!("action is not one of {}", ACTIONS.join(", ")));
        return (None, None);
    }
    let request = match action.as_str() {
        "offer" => Some(Request::Offer),
        "accept" => Some(Request::Accept),
        "withdraw" => Some(Request::Withdraw),
        "hire" => {
            person_type(object, "hire", problems).map(|person_type| Request::Hire { person_type })
        }
        "update_assignment" => person_type(object, "update_assignment", problems)
            .map(|person_type| Request::UpdateAssignment { person_type }),
        // The same six checks and allow-list as Trac's (section 3): every other key dropped.
        "record_checks" => match object.get("checks") {
            Some(Value::Object(checks)) => Some(Request::RecordChecks {
                checks: allow_listed_checks(checks.clone(), dropped),
            }),
            None | Some(Value::Null) => {
                problems.push("checks is missing: record_checks needs the checks recorded".into());
                None
            }
            Some(_) => {
                problems.push("checks must be a JSON object".into());
                None
            }
        },
        _ => match object.get("person") {
            Some(Value::Object(person)) if !person.is_empty() => {
                checked_person(person, problems).map(|person| Request::PersonUpdate { person })
            }
            None | Some(Value::Null) => {
                problems.push(
                    "person is missing: person_update needs the changed person fields".into(),
                );
                None
            }
            Some(_) => {
                problems.push("person must be a JSON object with at least one field".into());
                None
            }
        },
    };
    (Some(action), request)
}

/// The person type a hire (or an update of the assignment) needs.
fn person_type(
    object: &Map<String, Value>,
    action: &str,
    problems: &mut Vec<String>,
) -> Option<PersonType> {
    match object.get("person_type") {
        None | Some(Value::Null) => {
            problems.push(format!(
                "person_type is missing: {action} needs person_type Employee or Honorary"
            ));
            None
        }
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("employee") => {
            Some(PersonType::Employee)
        }
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("honorary") => {
            Some(PersonType::Honorary)
        }
        Some(_) => {
            problems.push("person_type must be Employee or Honorary".into());
            None
        }
    }
}

/// The person fields of an update, each checked like the APP field it mirrors (2.9): keys become
/// their [`PERSON_FIELDS`] names, values their stored form (`null` for a cleared optional field).
/// Every unknown key and every invalid value is a problem naming it; `None` when there is any.
fn checked_person(
    person: &Map<String, Value>,
    problems: &mut Vec<String>,
) -> Option<Map<String, Value>> {
    let before = problems.len();
    let mut checked = Map::new();
    for (key, value) in person {
        let Some(field) = person_field(key) else {
            let shown: String = key.chars().filter(|c| !c.is_control()).take(40).collect();
            problems.push(format!(
                "person.{shown} is not a person field (one of {})",
                PERSON_FIELDS.join(", ")
            ));
            continue;
        };
        if checked.contains_key(field) {
            problems.push(format!("person.{field} is given more than once"));
            continue;
        }
        let text = match value {
            Value::String(text) => text.as_str(),
            Value::Null => "",
            _ => {
                problems.push(format!("person.{field} must be text"));
                continue;
            }
        };
        match check_person_value(field, text) {
            Ok(value) => {
                checked.insert(field.to_string(), value.map_or(Value::Null, Value::String));
            }
            Err(reason) => problems.push(format!("person.{reason}")),
        }
    }
    (problems.len() == before).then_some(checked)
}

fn trac_request(
    object: &mut Map<String, Value>,
    problems: &mut Vec<String>,
    dropped: &mut Vec<String>,
) -> Option<Request> {
    // Only what routes the message, its status and its checks are read: anything else (a
    // `person`, an `effective_date`, ...) is dropped and named.
    let extra: Vec<String> = object
        .keys()
        .filter(|k| !TRAC_FIELDS.contains(&k.as_str()))
        .cloned()
        .collect();
    for key in extra {
        object.remove(&key);
        dropped.push(key);
    }
    let status = match object.get("status") {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        None | Some(Value::Null) => {
            problems.push("status is missing".into());
            None
        }
        Some(_) => {
            problems.push("status must be text".into());
            None
        }
    };
    let checks = match object.remove("checks") {
        Some(Value::Object(checks)) => Some(allow_listed_checks(checks, dropped)),
        None | Some(Value::Null) => {
            problems.push("checks is missing".into());
            None
        }
        Some(_) => {
            problems.push("checks must be a JSON object".into());
            None
        }
    };
    Some(Request::EmploymentChecks {
        status: status?,
        checks: checks?,
    })
}

/// The fields of a Trac message that are read; every other top-level key is dropped.
const TRAC_FIELDS: [&str; 6] = [
    "id",
    "source",
    "vpd",
    "applicant_number",
    "status",
    "checks",
];

/// The six employment checks Trac sends (section 3).
pub const TRAC_CHECKS: [&str; 6] = [
    "dbs",
    "professional_registration",
    "references",
    "employment_checklist",
    "illegal_working_checklist",
    "eu_status",
];

/// The only fields kept of each check other than `references` (`reference` is the certificate or
/// registration number).
pub const CHECK_FIELDS: [&str; 5] = [
    "status",
    "outcome",
    "completed_on",
    "expires_on",
    "reference",
];

/// The only fields kept of each of the `references`.
pub const REFERENCE_FIELDS: [&str; 2] = ["status", "completed_on"];

/// The checks by allow-list: the six known checks, each with only its allowed fields holding a
/// plain value (text, number, true/false). Every other key is dropped and its path (from
/// `checks`, array elements as `[i]`) added to `dropped`, so no identity data (names, dates of
/// birth, passport or NI numbers, addresses, referees) can slip in under a name nobody foresaw.
pub fn allow_listed_checks(checks: Map<String, Value>, dropped: &mut Vec<String>) -> Value {
    let mut kept = Map::new();
    for (name, value) in checks {
        let path = format!("checks.{name}");
        if !TRAC_CHECKS.contains(&name.as_str()) {
            dropped.push(path);
            continue;
        }
        let value = if name == "references" {
            match value {
                Value::Array(items) => Some(Value::Array(
                    items
                        .into_iter()
                        .enumerate()
                        .filter_map(|(i, item)| {
                            allow_listed(item, &REFERENCE_FIELDS, &format!("{path}[{i}]"), dropped)
                        })
                        .collect(),
                )),
                _ => {
                    dropped.push(path);
                    None
                }
            }
        } else {
            allow_listed(value, &CHECK_FIELDS, &path, dropped)
        };
        if let Some(value) = value {
            kept.insert(name, value);
        }
    }
    Value::Object(kept)
}

/// An object with only `fields` (plain values); `None` (and `path` dropped) when not an object.
fn allow_listed(
    value: Value,
    fields: &[&str],
    path: &str,
    dropped: &mut Vec<String>,
) -> Option<Value> {
    let Value::Object(object) = value else {
        dropped.push(path.to_string());
        return None;
    };
    let mut kept = Map::new();
    for (key, value) in object {
        match value {
            Value::Null => {}
            Value::String(_) | Value::Number(_) | Value::Bool(_)
                if fields.contains(&key.as_str()) =>
            {
                kept.insert(key, value);
            }
            _ => dropped.push(format!("{path}.{key}")),
        }
    }
    Some(Value::Object(kept))
}

/// The checks of [`TRAC_CHECKS`] not complete in any of `held` (Trac's, the trust's): a check is
/// complete when it has a `completed_on` (`references`: at least one, each with one).
pub fn incomplete_checks(held: &[Option<&Value>]) -> Vec<&'static str> {
    let complete = |name: &str| {
        held.iter().flatten().any(|checks| match checks.get(name) {
            Some(Value::Array(items)) => {
                !items.is_empty() && items.iter().all(|i| i.get("completed_on").is_some())
            }
            Some(check) => check.get("completed_on").is_some(),
            None => false,
        })
    };
    TRAC_CHECKS.into_iter().filter(|n| !complete(n)).collect()
}

/// True when the Trac status is `outcome recruited` (case and spacing aside).
pub fn is_outcome_recruited(status: &str) -> bool {
    let words: Vec<&str> = status.split_whitespace().collect();
    words.join(" ").eq_ignore_ascii_case(OUTCOME_RECRUITED)
}

enum Field {
    Missing,
    Text(String),
    Invalid,
}

/// A code given as a string or a whole number (`"504"` or `504`).
fn code_field(object: &Map<String, Value>, name: &str) -> Field {
    match object.get(name) {
        None | Some(Value::Null) => Field::Missing,
        Some(Value::String(s)) if s.trim().is_empty() => Field::Missing,
        Some(Value::String(s)) => Field::Text(s.trim().to_string()),
        Some(Value::Number(n)) if n.is_u64() => Field::Text(n.to_string()),
        Some(_) => Field::Invalid,
    }
}

fn is_applicant_number(text: &str) -> bool {
    (1..=15).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
}

/// serde_json's error without the text it quotes (a body may hold personal data).
fn position_only(err: &serde_json::Error) -> String {
    format!(
        "{:?} error at line {} column {}",
        err.classify(),
        err.line(),
        err.column()
    )
    .to_lowercase()
}

/// Key names (compared without case, spaces, `_` or `-`) that are identity data in every form.
const IDENTITY_EXACT: [&str; 19] = [
    "name",
    "names",
    "title",
    "dob",
    "ni",
    "nino",
    "ninumber",
    "postcode",
    "postalcode",
    "zip",
    "zipcode",
    "town",
    "city",
    "county",
    "person",
    "identity",
    "personaldetails",
    "gender",
    "sex",
];

/// Fragments that make a key identity data wherever they appear in it.
const IDENTITY_PARTS: [&str; 22] = [
    "firstname",
    "forename",
    "givenname",
    "middlename",
    "lastname",
    "surname",
    "familyname",
    "fullname",
    "maidenname",
    "previousname",
    "applicantname",
    "candidatename",
    "refereename",
    "dateofbirth",
    "birthdate",
    "nationalinsurance",
    "passport",
    "address",
    "postcode",
    "email",
    "phone",
    "mobile",
];

/// Is a JSON key identity data (names, date of birth, NI number, passport, address, contact)?
/// Trac checks are protected by their allow-list, not by this; it names the keys whose values
/// are personal when outputs and logs are searched for personal data.
pub fn is_identity_key(key: &str) -> bool {
    let normal: String = key
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    IDENTITY_EXACT.contains(&normal.as_str()) || IDENTITY_PARTS.iter().any(|p| normal.contains(p))
}

/// `sha256-` and the first 32 hex digits of the text's SHA-256: the key of a message body that
/// has no usable id.
pub fn hash_key(text: &str) -> String {
    short_hash(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refusal(body: &str) -> String {
        parse(body).unwrap().request.unwrap_err()
    }

    #[test]
    fn a_full_trust_action_is_read() {
        let m = parse(r#"{"id":"m-1","action":"Hire","vpd":"504","applicant_number":"4769160","effective_date":"2026-12-02","person_type":"honorary","reason":"start"}"#).unwrap();
        assert_eq!(m.header.id, "m-1");
        assert_eq!(m.header.source, Source::Trust);
        assert_eq!(m.header.action.as_deref(), Some("hire"));
        assert_eq!(m.header.vpd.as_deref(), Some("504"));
        assert_eq!(m.header.applicant_number.as_deref(), Some("4769160"));
        assert_eq!(m.effective_date, NaiveDate::from_ymd_opt(2026, 12, 2));
        assert_eq!(m.reason.as_deref(), Some("start"));
        assert_eq!(
            m.request,
            Ok(Request::Hire {
                person_type: PersonType::Honorary
            })
        );
        assert_eq!(
            m.request.unwrap().command(true),
            Some(Command::Hire {
                person_type: PersonType::Honorary,
                host_employer: true
            })
        );
    }

    #[test]
    fn each_move_maps_to_its_command() {
        for (action, command) in [
            ("offer", Command::Offer),
            ("accept", Command::Accept),
            ("withdraw", Command::Withdraw),
        ] {
            let m = parse(&format!(
                r#"{{"id":"x","action":"{action}","vpd":"504","applicant_number":"1"}}"#
            ))
            .unwrap();
            assert_eq!(m.request.unwrap().command(false), Some(command));
        }
    }

    #[test]
    fn numbers_are_accepted_for_id_vpd_and_applicant_number() {
        let m =
            parse(r#"{"id":17,"action":"offer","vpd":504,"applicant_number":5000001}"#).unwrap();
        assert_eq!(m.header.id, "17");
        assert_eq!(m.header.vpd.as_deref(), Some("504"));
        assert_eq!(m.header.applicant_number.as_deref(), Some("5000001"));
        assert!(m.request.is_ok());
    }

    #[test]
    fn a_body_that_is_not_json_or_has_no_id_is_unreadable_without_quoting_it() {
        let err = parse("name: Jane Smith").unwrap_err();
        assert_eq!(err.code(), "not_json");
        assert!(!err.to_string().contains("Jane"), "{err}");
        assert_eq!(parse("").unwrap_err().code(), "not_json");
        assert_eq!(parse("[1,2]").unwrap_err(), Unreadable::NotObject);
        assert_eq!(parse("\"x\"").unwrap_err(), Unreadable::NotObject);
        assert_eq!(
            parse(r#"{"action":"offer"}"#).unwrap_err(),
            Unreadable::MissingId
        );
        assert_eq!(parse(r#"{"id":"  "}"#).unwrap_err(), Unreadable::MissingId);
        assert_eq!(parse(r#"{"id":null}"#).unwrap_err(), Unreadable::MissingId);
        assert_eq!(parse(r#"{"id":{}}"#).unwrap_err(), Unreadable::MissingId);
        assert!(parse("\u{feff}{\"id\":\"a\"}").is_ok());
    }

    #[test]
    fn missing_required_fields_are_refusals_naming_each_field() {
        let reason = refusal(r#"{"id":"a"}"#);
        assert_eq!(
            reason,
            "vpd is missing; applicant_number is missing; action is missing (one of offer, accept, hire, withdraw, person_update)"
        );
        let m = parse(r#"{"id":"a","vpd":"504","applicant_number":"1"}"#).unwrap();
        assert_eq!(m.header.action, None);
        assert!(m.request.unwrap_err().starts_with("action is missing"));
        assert_eq!(
            refusal(r#"{"id":"a","vpd":"504","applicant_number":"1","action":"promote"}"#),
            "action is not one of offer, accept, hire, withdraw, person_update"
        );
        assert_eq!(
            refusal(r#"{"id":"a","vpd":"504","applicant_number":"1","action":"hire"}"#),
            "person_type is missing: hire needs person_type Employee or Honorary"
        );
        assert_eq!(
            refusal(
                r#"{"id":"a","vpd":"504","applicant_number":"1","action":"hire","person_type":"Locum"}"#
            ),
            "person_type must be Employee or Honorary"
        );
        assert_eq!(
            refusal(r#"{"id":"a","vpd":"504","applicant_number":"1","action":"person_update"}"#),
            "person is missing: person_update needs the changed person fields"
        );
        assert_eq!(
            refusal(
                r#"{"id":"a","vpd":"504","applicant_number":"1","action":"person_update","person":{}}"#
            ),
            "person must be a JSON object with at least one field"
        );
    }

    #[test]
    fn malformed_fields_are_refused_and_not_used_for_routing() {
        let m = parse(r#"{"id":"a","vpd":"50/4","applicant_number":"12a","action":"offer","effective_date":"02/12/2026"}"#).unwrap();
        assert_eq!(m.header.vpd, None);
        assert_eq!(m.header.applicant_number, None);
        assert_eq!(
            m.request.unwrap_err(),
            "vpd is not a VPD code (3 or 4 capital letters or digits); applicant_number is not an applicant number (1 to 15 digits); effective_date is not a date in YYYY-MM-DD form"
        );
        assert!(refusal(&format!(
            r#"{{"id":"a","vpd":"504","applicant_number":"1","action":"withdraw","reason":"{}"}}"#,
            "x".repeat(MAX_REASON_CHARS + 1)
        ))
        .starts_with("reason is longer than"));
        assert_eq!(
            refusal(
                r#"{"id":"a","vpd":"504","applicant_number":"1","action":"offer","source":"esr"}"#
            ),
            "source must be \"trac\" (or absent for a trust action)"
        );
    }

    #[test]
    fn a_person_update_is_refused_naming_unknown_keys_and_invalid_values() {
        assert_eq!(
            refusal(
                r#"{"id":"p","action":"person_update","vpd":"504","applicant_number":"1","person":{"MOBILE_TEL":"1","favourite_colour":"blue","DATE_OF_BIRTH":"1990-02-30","gmc_number":7000001}}"#
            ),
            format!(
                "person.DATE_OF_BIRTH is not a valid date (YYYY-MM-DD); person.favourite_colour is not a person field (one of {}); person.GMC_NUMBER must be text",
                PERSON_FIELDS.join(", ")
            )
        );
        let m = parse(r#"{"id":"p","action":"person_update","vpd":"504","applicant_number":"1","person":{"title":"dr","Email_Address":null,"country":"fr"}}"#).unwrap();
        let Ok(Request::PersonUpdate { person }) = m.request else {
            panic!("not a person update");
        };
        assert_eq!(
            Value::Object(person),
            json!({"TITLE": "Dr", "EMAIL_ADDRESS": null, "COUNTRY": "FR"})
        );
    }

    #[test]
    fn a_person_update_keeps_the_person_fields() {
        let m = parse(r#"{"id":"p","action":"person_update","vpd":"504","applicant_number":"1","person":{"MOBILE_TEL":"07700900001"}}"#).unwrap();
        let Ok(Request::PersonUpdate { person }) = m.request else {
            panic!("not a person update");
        };
        assert_eq!(person["MOBILE_TEL"], "07700900001");
        assert!(m.dropped_fields.is_empty());
    }

    #[test]
    fn a_trac_message_keeps_only_the_allow_listed_check_fields() {
        let body = json!({
            "id": "trac-1", "source": "TRAC", "vpd": "504", "applicant_number": "5000001",
            "status": "Outcome  Recruited",
            "first_name": "Jane",
            "effective_date": "2026-12-01",
            "person": {"surname": "Smith"},
            "checks": {
                "dbs": {"status": "clear", "reference": "001234", "level": "enhanced", "date_of_birth": "1990-01-01"},
                "professional_registration": {"outcome": "registered", "expires_on": "2027-11-30", "Full Name": "J Smith", "reference": {"number": "7"}},
                "references": [{"referee_name": "Dr A", "status": "satisfactory", "completed_on": "2026-10-20"}, {"status": "satisfactory", "address": {"line1": "x"}}, "Dr B"],
                "employment_checklist": {"completed_on": "2026-10-01", "occupational_health": "cleared"},
                "illegal_working_checklist": {"passportNumber": "123", "status": true, "NI_Number": "QQ"},
                "eu_status": "settled",
                "right_to_work_share_code": {"reference": "W12345"}
            }
        });
        let m = parse(&body.to_string()).unwrap();
        assert_eq!(m.header.source, Source::Trac);
        assert_eq!(m.header.action.as_deref(), Some(EMPLOYMENT_CHECKS));
        assert_eq!(m.effective_date, None);
        let Ok(Request::EmploymentChecks { status, checks }) = m.request else {
            panic!("not checks");
        };
        assert!(is_outcome_recruited(&status));
        assert_eq!(
            checks,
            json!({
                "dbs": {"status": "clear", "reference": "001234"},
                "professional_registration": {"outcome": "registered", "expires_on": "2027-11-30"},
                "references": [{"status": "satisfactory", "completed_on": "2026-10-20"}, {"status": "satisfactory"}],
                "employment_checklist": {"completed_on": "2026-10-01"},
                "illegal_working_checklist": {"status": true}
            })
        );
        assert_eq!(
            m.dropped_fields,
            vec![
                "checks.dbs.date_of_birth",
                "checks.dbs.level",
                "checks.employment_checklist.occupational_health",
                "checks.eu_status",
                "checks.illegal_working_checklist.NI_Number",
                "checks.illegal_working_checklist.passportNumber",
                "checks.professional_registration.Full Name",
                "checks.professional_registration.reference",
                "checks.references[0].referee_name",
                "checks.references[1].address",
                "checks.references[2]",
                "checks.right_to_work_share_code",
                "effective_date",
                "first_name",
                "person",
            ]
        );
    }

    #[test]
    fn references_must_be_a_list_and_checks_keep_plain_values_only() {
        let m = parse(r#"{"id":"t","source":"trac","vpd":"504","applicant_number":"1","status":"outcome recruited","checks":{"references":{"status":"ok"},"dbs":{"status":null,"outcome":1.5,"expires_on":["2027-01-01"]}}}"#).unwrap();
        let Ok(Request::EmploymentChecks { checks, .. }) = m.request else {
            panic!("not checks");
        };
        assert_eq!(checks, json!({"dbs": {"outcome": 1.5}}));
        assert_eq!(
            m.dropped_fields,
            vec!["checks.dbs.expires_on", "checks.references"]
        );
    }

    #[test]
    fn trac_needs_status_and_an_object_of_checks() {
        assert_eq!(
            refusal(r#"{"id":"t","source":"trac","vpd":"504","applicant_number":"1"}"#),
            "status is missing; checks is missing"
        );
        assert_eq!(
            refusal(
                r#"{"id":"t","source":"trac","vpd":"504","applicant_number":"1","status":"outcome recruited","checks":[1]}"#
            ),
            "checks must be a JSON object"
        );
        // A refused Trac message still reports what it carried beyond the allow-list.
        let m = parse(r#"{"id":"t","source":"trac","vpd":"504","applicant_number":"1","checks":{"dbs":{"dob":"x"}}}"#).unwrap();
        assert_eq!(m.dropped_fields, vec!["checks.dbs.dob"]);
        assert!(m.request.is_err());
    }

    #[test]
    fn identity_keys_are_recognised_in_any_case_and_spelling() {
        for key in [
            "first_name",
            "FirstName",
            "forename",
            "Forenames",
            "last_name",
            "SURNAME",
            "full_name",
            "name",
            "middle_names",
            "title",
            "date_of_birth",
            "dateOfBirth",
            "DOB",
            "birth_date",
            "national_insurance_number",
            "ni_number",
            "NINO",
            "passport",
            "passport_number",
            "PassportExpiry",
            "address",
            "address_line_1",
            "home-address",
            "postcode",
            "town",
            "County",
            "person",
            "identity",
            "email_address",
            "mobile_tel",
        ] {
            assert!(is_identity_key(key), "{key} should be identity data");
        }
        for key in [
            "status",
            "level",
            "certificate_number",
            "outcome",
            "right_to_work",
            "job_title",
            "registration_number",
            "expiry_date",
            "checked_on",
            "settled",
            "country",
        ] {
            assert!(!is_identity_key(key), "{key} is not identity data");
        }
    }

    #[test]
    fn outcome_recruited_is_compared_without_case_or_extra_spaces() {
        assert!(is_outcome_recruited("outcome recruited"));
        assert!(is_outcome_recruited(" Outcome   RECRUITED "));
        assert!(!is_outcome_recruited("offer accepted"));
        assert!(!is_outcome_recruited("outcome"));
    }

    #[test]
    fn ids_outside_the_rule_of_section_7_are_unreadable_not_hashed() {
        for id in ["a/b", "a b", "é", &"x".repeat(129), "a#b"] {
            let body = json!({"id": id, "action": "offer", "vpd": "504", "applicant_number": "1"});
            assert_eq!(
                parse(&body.to_string()).unwrap_err(),
                Unreadable::InvalidId,
                "{id}"
            );
        }
        for id in ["urn:trac:1", "..", "m-1.a_b", &"x".repeat(128)] {
            let body = json!({"id": id, "action": "offer", "vpd": "504", "applicant_number": "1"});
            assert_eq!(parse(&body.to_string()).unwrap().header.id, id);
        }
    }

    #[test]
    fn parsing_never_panics_on_odd_input() {
        for body in [
            "{",
            "null",
            "{\"id\":\"a\",\"action\":5,\"vpd\":[],\"applicant_number\":-1}",
            "{\"id\":\"a\",\"applicant_number\":1.5,\"vpd\":true,\"effective_date\":5,\"reason\":7}",
            "{\"id\":\"a\",\"source\":\"trac\",\"checks\":{\"x\":[[[{\"dob\":1}]]]},\"status\":3}",
            "{\"id\":\"a\",\"action\":\"hire\",\"person_type\":{}}",
        ] {
            let _ = parse(body);
        }
        let m = parse("{\"id\":\"a\",\"action\":5,\"vpd\":[],\"applicant_number\":-1}").unwrap();
        assert!(m.request.is_err());
    }
}

//! The APP record of section 2.4 and the record-local checks of 2.5.
//!
//! Checks that need other records or stored state (repeats in the file, earlier loads, positions,
//! organisations, known persons) live in the inbound service; this module only looks at one line.

use foldhash::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::envelope::{date_of_digits, QuarantineReason};
use super::messages::{longer_than, Message};

/// Field names in file order, index 0 being the record code.
pub const APP_FIELDS: [&str; 38] = [
    "RECORD_CODE",
    "PLACEMENT_ID",
    "EFFECTIVE_DATE",
    "POSITION_ID",
    "POSITION_NUMBER",
    "DEANERY_POST_NUMBER",
    "LAST_NAME",
    "FIRST_NAME",
    "MIDDLE_NAMES",
    "TITLE",
    "DATE_OF_BIRTH",
    "GENDER",
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
    "COUNTY",
    "POSTCODE",
    "COUNTRY",
    "NATIONALITY",
    "COUNTRY_OF_BIRTH",
    "ETHNIC_ORIGIN",
    "MARITAL_STATUS",
    "RELIGIOUS_BELIEF",
    "SEXUAL_ORIENTATION",
    "DISABILITY",
    "PREVIOUS_LAST_NAME",
    "PROJECTED_HIRE_DATE",
    "PROJECTED_END_DATE",
    "WTE",
    "GRADE",
];

const MANDATORY: [&str; 9] = [
    "PLACEMENT_ID",
    "EFFECTIVE_DATE",
    "POSITION_ID",
    "POSITION_NUMBER",
    "DEANERY_POST_NUMBER",
    "LAST_NAME",
    "FIRST_NAME",
    "DATE_OF_BIRTH",
    "PROJECTED_HIRE_DATE",
];

const TITLES: [&str; 7] = ["Mr", "Mrs", "Miss", "Ms", "Mx", "Dr", "Prof"];
const GENDERS: [&str; 4] = ["M", "F", "X", "U"];
const ETHNIC_ORIGINS: [&str; 17] = [
    "A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "R", "S", "Z",
];
const MARITAL_STATUSES: [&str; 6] = ["S", "M", "D", "W", "P", "U"];
const DISABILITIES: [&str; 3] = ["Y", "N", "U"];

/// ISO 3166-1 alpha-2 codes.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// `value` as an ISO 3166-1 alpha-2 code in capitals, if it is one (in any case).
fn country_code(value: &str) -> Option<String> {
    let &[first, second] = value.as_bytes() else {
        return None;
    };
    let code = [first.to_ascii_uppercase(), second.to_ascii_uppercase()];
    // The codes are in order, each followed by a space: searched by halves, three records
    // a line (COUNTRY, NATIONALITY, COUNTRY_OF_BIRTH) among about 250 codes.
    let listed = COUNTRIES.as_bytes();
    let (mut low, mut high) = (0, listed.len().div_ceil(3));
    while low < high {
        let middle = (low + high) / 2;
        match listed[middle * 3..middle * 3 + 2].cmp(&code) {
            std::cmp::Ordering::Less => low = middle + 1,
            std::cmp::Ordering::Greater => high = middle,
            std::cmp::Ordering::Equal => return String::from_utf8(code.to_vec()).ok(),
        }
    }
    None
}

/// ESR's limit on applicant records for one position in one APP file.
pub const MAX_RECORDS_PER_POSITION: u64 = 40;

/// The limit of [`MAX_RECORDS_PER_POSITION`] over one APP file: counts the records of each
/// POSITION_ID as the lines are scanned, so a file over the limit is quarantined before any of it
/// is applied.
#[derive(Debug, Default)]
pub struct RecordsPerPosition {
    counted: HashMap<String, u64>,
}

impl RecordsPerPosition {
    /// Counts one APP data line as read (`line` is its line in the file).
    ///
    /// # Errors
    /// The `position_over_limit` quarantine once a POSITION_ID has more than the limit.
    pub fn count(&mut self, record: &csv::StringRecord, line: u64) -> Result<(), QuarantineReason> {
        let position = field_of(record, "POSITION_ID").trim();
        // Looked up before inserting: a position's later records find it without a new key.
        let count = match self.counted.get_mut(position) {
            Some(count) => {
                *count += 1;
                *count
            }
            None => {
                self.counted.insert(position.to_string(), 1);
                1
            }
        };
        if count > MAX_RECORDS_PER_POSITION {
            return Err(QuarantineReason::new(
                "position_over_limit",
                format!(
                    "more than {MAX_RECORDS_PER_POSITION} records for POSITION_ID {position} (ESR's limit for one position in one file)"
                ),
                Some(line),
            ));
        }
        Ok(())
    }
}

/// The untrimmed value of the named APP field in a record as read, empty when not supplied.
///
/// Inlined, so that a field named by a literal (every caller's) is found at compile time rather
/// than by comparing names on every record.
#[inline(always)]
fn field_of<'r>(record: &'r csv::StringRecord, field: &str) -> &'r str {
    APP_FIELDS
        .iter()
        .position(|f| *f == field)
        .and_then(|i| record.get(i))
        .unwrap_or("")
}

/// An APP field: its name (for messages) and its position in the record, found when compiling
/// (`const { AppField::named(..) }`), for the checks that take a field as an argument: a name
/// looked up at run time costs a comparison with each name before it, 16 fields a record.
#[derive(Debug, Clone, Copy)]
struct AppField {
    name: &'static str,
    at: usize,
}

impl AppField {
    /// Fails to compile for a name that is not an APP field.
    const fn named(name: &'static str) -> AppField {
        let mut at = 0;
        while at < APP_FIELDS.len() {
            if same_name(APP_FIELDS[at], name) {
                return AppField { name, at };
            }
            at += 1;
        }
        panic!("not an APP field")
    }

    const fn all<const N: usize>(names: [&'static str; N]) -> [AppField; N] {
        let mut fields = [AppField { name: "", at: 0 }; N];
        let mut i = 0;
        while i < N {
            fields[i] = AppField::named(names[i]);
            i += 1;
        }
        fields
    }
}

const fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const MANDATORY_FIELDS: [AppField; 9] = AppField::all(MANDATORY);

/// Free-text fields limited to 60 characters.
const SHORT_TEXT_FIELDS: [AppField; 2] = AppField::all(["RELIGIOUS_BELIEF", "SEXUAL_ORIENTATION"]);

/// An APP data line as read, before any checks.
#[derive(Debug, Clone)]
pub struct RawApp {
    /// The trimmed fields, in one buffer (one allocation per line, not one per field).
    fields: csv::StringRecord,
}

impl RawApp {
    pub fn from_record(record: &csv::StringRecord) -> Self {
        let mut fields = csv::StringRecord::with_capacity(record.as_slice().len(), record.len());
        for field in record {
            fields.push_field(field.trim());
        }
        RawApp { fields }
    }

    pub fn from_fields(fields: Vec<String>) -> Self {
        RawApp {
            fields: csv::StringRecord::from(fields),
        }
    }

    /// The trimmed value of a field, empty when not supplied.
    #[inline(always)]
    pub fn get(&self, field: &str) -> &str {
        field_of(&self.fields, field)
    }

    #[inline(always)]
    fn opt(&self, field: &str) -> Option<String> {
        Some(self.get(field))
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    fn at(&self, field: AppField) -> &str {
        self.fields.get(field.at).unwrap_or("")
    }

    pub fn placement_id(&self) -> &str {
        self.get("PLACEMENT_ID")
    }

    pub fn position_id(&self) -> &str {
        self.get("POSITION_ID")
    }

    /// "Last,First" as the Deanery Applicant Notification shows it.
    pub fn display_name(&self) -> String {
        format!("{},{}", self.get("LAST_NAME"), self.get("FIRST_NAME"))
    }
}

/// The person and placement details an applicant keeps, after dropped values are removed.
///
/// A value not given is left out of its JSON (the stored document, `dit show --json`) rather
/// than written as `null`: most records leave a dozen items empty, and their nulls were a fifth
/// of every stored applicant. Documents written before, with their nulls, read the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ApplicantDetails {
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::timestamp::serialize_optional_date"
    )]
    pub effective_date: Option<NaiveDate>,
    pub last_name: String,
    pub first_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle_names: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::timestamp::serialize_optional_date"
    )]
    pub date_of_birth: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gmc_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gdc_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub national_insurance_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub national_training_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub home_tel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile_tel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_line_1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_line_2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_line_3: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub town: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub county: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nationality: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_of_birth: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ethnic_origin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marital_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub religious_belief: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sexual_orientation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disability: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wte: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grade: Option<String>,
}

/// A record that passed every record-local check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedApp {
    pub placement_id: String,
    pub position_id: String,
    pub position_number: String,
    pub dpn: String,
    pub projected_hire_date: NaiveDate,
    pub projected_end_date: Option<NaiveDate>,
    pub details: ApplicantDetails,
    pub warnings: Vec<Message>,
}

/// Record-local checks: mandatory items, dates, identifiers (ERROR) and lookups (WARNING).
///
/// # Errors
/// Every ERROR found, in field order.
pub fn check_record(raw: &RawApp) -> Result<CheckedApp, Vec<Message>> {
    let mut errors = Vec::new();
    for field in MANDATORY_FIELDS {
        if raw.at(field).is_empty() {
            errors.push(Message::mandatory_missing(field.name));
        }
    }
    let mut date = |field: AppField| -> Option<NaiveDate> {
        let value = raw.at(field);
        if value.is_empty() {
            return None;
        }
        let parsed = parse_iso_date(value);
        if parsed.is_none() {
            errors.push(Message::invalid_date(value, field.name));
        }
        parsed
    };
    let effective_date = date(const { AppField::named("EFFECTIVE_DATE") });
    let date_of_birth = date(const { AppField::named("DATE_OF_BIRTH") });
    let projected_hire_date = date(const { AppField::named("PROJECTED_HIRE_DATE") });
    let projected_end_date = date(const { AppField::named("PROJECTED_END_DATE") });
    const DIGITS: [(AppField, usize); 3] = [
        (AppField::named("PLACEMENT_ID"), 18),
        (AppField::named("POSITION_ID"), 15),
        (AppField::named("POSITION_NUMBER"), 10),
    ];
    for (field, max_digits) in DIGITS {
        let value = raw.at(field);
        if !value.is_empty() && !is_digits(value, max_digits) {
            errors.push(Message::invalid_value(
                value,
                field.name,
                &format!("1 to {max_digits} digits"),
            ));
        }
    }
    let dpn = raw.get("DEANERY_POST_NUMBER");
    if longer_than(dpn, 30) {
        errors.push(Message::invalid_value(
            dpn,
            "DEANERY_POST_NUMBER",
            "at most 30 characters",
        ));
    }
    if let (Some(hire), Some(end)) = (projected_hire_date, projected_end_date) {
        if end < hire {
            errors.push(Message::error(format!(
                "Projected end date {end} is before the projected hire date {hire}. Application rejected."
            )));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut warnings = Vec::new();
    let mut lookup =
        |field: AppField, allowed: &dyn Fn(&str) -> Option<String>| -> Option<String> {
            let value = raw.at(field);
            if value.is_empty() {
                return None;
            }
            let accepted = allowed(value);
            if accepted.is_none() {
                warnings.push(Message::value_ignored(field.name, value));
            }
            accepted
        };
    let in_list = |list: &'static [&'static str]| {
        move |value: &str| {
            list.iter()
                .find(|item| item.eq_ignore_ascii_case(value))
                .map(|item| item.to_string())
        }
    };
    let title = lookup(const { AppField::named("TITLE") }, &in_list(&TITLES));
    let gender = lookup(const { AppField::named("GENDER") }, &in_list(&GENDERS));
    let gmc_number = lookup(const { AppField::named("GMC_NUMBER") }, &|v: &str| {
        is_digits(v, 7)
            .then(|| v.to_string())
            .filter(|v| v.len() == 7)
    });
    let national_insurance_number = lookup(
        const { AppField::named("NATIONAL_INSURANCE_NUMBER") },
        &normalise_ni,
    );
    let email_address = lookup(const { AppField::named("EMAIL_ADDRESS") }, &|v: &str| {
        is_email(v).then(|| v.to_string())
    });
    let country = lookup(const { AppField::named("COUNTRY") }, &country_code);
    let nationality = lookup(const { AppField::named("NATIONALITY") }, &country_code);
    let country_of_birth = lookup(const { AppField::named("COUNTRY_OF_BIRTH") }, &country_code);
    let ethnic_origin = lookup(
        const { AppField::named("ETHNIC_ORIGIN") },
        &in_list(&ETHNIC_ORIGINS),
    );
    let marital_status = lookup(
        const { AppField::named("MARITAL_STATUS") },
        &in_list(&MARITAL_STATUSES),
    );
    let [religious_belief, sexual_orientation] = SHORT_TEXT_FIELDS.map(|field| {
        lookup(field, &|v: &str| {
            (!longer_than(v, 60)).then(|| v.to_string())
        })
    });
    let disability = lookup(
        const { AppField::named("DISABILITY") },
        &in_list(&DISABILITIES),
    );
    let wte = lookup(const { AppField::named("WTE") }, &|v: &str| {
        v.parse::<f64>()
            .ok()
            .filter(|w| (0.1..=1.0).contains(w))
            .map(|_| v.to_string())
    })
    .and_then(|v| v.parse().ok());

    Ok(CheckedApp {
        placement_id: raw.get("PLACEMENT_ID").to_string(),
        position_id: raw.get("POSITION_ID").to_string(),
        position_number: raw.get("POSITION_NUMBER").to_string(),
        dpn: dpn.to_string(),
        projected_hire_date: projected_hire_date.expect("mandatory, checked above"),
        projected_end_date,
        details: ApplicantDetails {
            effective_date,
            last_name: raw.get("LAST_NAME").to_string(),
            first_name: raw.get("FIRST_NAME").to_string(),
            middle_names: raw.opt("MIDDLE_NAMES"),
            title,
            date_of_birth,
            gender,
            gmc_number,
            gdc_number: raw.opt("GDC_NUMBER"),
            national_insurance_number,
            national_training_number: raw.opt("NATIONAL_TRAINING_NUMBER"),
            email_address,
            home_tel: raw.opt("HOME_TEL"),
            mobile_tel: raw.opt("MOBILE_TEL"),
            address_line_1: raw.opt("ADDRESS_LINE_1"),
            address_line_2: raw.opt("ADDRESS_LINE_2"),
            address_line_3: raw.opt("ADDRESS_LINE_3"),
            town: raw.opt("TOWN"),
            county: raw.opt("COUNTY"),
            postcode: raw.opt("POSTCODE"),
            country,
            nationality,
            country_of_birth,
            ethnic_origin,
            marital_status,
            religious_belief,
            sexual_orientation,
            disability,
            previous_last_name: raw.opt("PREVIOUS_LAST_NAME"),
            wte,
            grade: raw.opt("GRADE"),
        },
        warnings,
    })
}

/// The person fields a trust may change by `person_update`: the PER fields of 2.9 (without the
/// EFFECTIVE_DATE, which the message gives beside them), named as in the APP record.
pub const PERSON_FIELDS: [&str; 17] = [
    "GMC_NUMBER",
    "NATIONAL_INSURANCE_NUMBER",
    "LAST_NAME",
    "FIRST_NAME",
    "TITLE",
    "GENDER",
    "DATE_OF_BIRTH",
    "HOME_TEL",
    "MOBILE_TEL",
    "EMAIL_ADDRESS",
    "ETHNIC_ORIGIN",
    "ADDRESS_LINE_1",
    "ADDRESS_LINE_2",
    "ADDRESS_LINE_3",
    "TOWN",
    "POSTCODE",
    "COUNTRY",
];

/// The [`PERSON_FIELDS`] name for a key given in any case (`mobile_tel`, `MOBILE_TEL`).
pub fn person_field(key: &str) -> Option<&'static str> {
    PERSON_FIELDS
        .iter()
        .find(|f| f.eq_ignore_ascii_case(key.trim()))
        .copied()
}

/// Checks a new value for a person field as the APP record checks it (2.4, 2.5): dates,
/// lookups, GMC/NI/e-mail formats, mandatory items. Returns the value as stored (lookups in their
/// listed spelling, NI upper-case without spaces, `None` for an empty optional field), or the
/// reason it is refused, naming the field but never quoting the value (it is personal data).
///
/// # Errors
/// The reason, e.g. `DATE_OF_BIRTH is not a valid date (YYYY-MM-DD)`.
pub fn check_person_value(field: &str, value: &str) -> Result<Option<String>, String> {
    let value = value.trim();
    if value.is_empty() {
        return if MANDATORY.contains(&field) {
            Err(format!("{field} is mandatory and cannot be removed"))
        } else {
            Ok(None)
        };
    }
    let in_list = |list: &[&str]| {
        list.iter()
            .find(|item| item.eq_ignore_ascii_case(value))
            .map(|item| item.to_string())
            .ok_or_else(|| format!("{field} is not one of {}", list.join(", ")))
    };
    let checked = match field {
        "DATE_OF_BIRTH" => parse_iso_date(value)
            .map(|d| d.to_string())
            .ok_or_else(|| format!("{field} is not a valid date (YYYY-MM-DD)")),
        "TITLE" => in_list(&TITLES),
        "GENDER" => in_list(&GENDERS),
        "ETHNIC_ORIGIN" => in_list(&ETHNIC_ORIGINS),
        "GMC_NUMBER" => (value.len() == 7 && is_digits(value, 7))
            .then(|| value.to_string())
            .ok_or_else(|| format!("{field} is not a GMC number (7 digits)")),
        "NATIONAL_INSURANCE_NUMBER" => normalise_ni(value).ok_or_else(|| {
            format!("{field} is not a National Insurance number (two letters, six digits, one letter A-D)")
        }),
        "EMAIL_ADDRESS" => is_email(value)
            .then(|| value.to_string())
            .ok_or_else(|| format!("{field} is not an e-mail address")),
        "COUNTRY" => country_code(value)
            .ok_or_else(|| format!("{field} is not an ISO 3166-1 alpha-2 country code")),
        _ if value.chars().any(char::is_control) => {
            Err(format!("{field} holds control characters"))
        }
        _ => Ok(value.to_string()),
    };
    checked.map(Some)
}

impl ApplicantDetails {
    /// Sets one of the [`PERSON_FIELDS`] to a value already checked by [`check_person_value`]
    /// (`None` clears an optional field). Other names change nothing.
    pub fn set_person_field(&mut self, field: &str, value: Option<String>) {
        let slot = match field {
            "LAST_NAME" => {
                self.last_name = value.unwrap_or_default();
                return;
            }
            "FIRST_NAME" => {
                self.first_name = value.unwrap_or_default();
                return;
            }
            "DATE_OF_BIRTH" => {
                self.date_of_birth = value.as_deref().and_then(parse_iso_date);
                return;
            }
            "GMC_NUMBER" => &mut self.gmc_number,
            "NATIONAL_INSURANCE_NUMBER" => &mut self.national_insurance_number,
            "TITLE" => &mut self.title,
            "GENDER" => &mut self.gender,
            "HOME_TEL" => &mut self.home_tel,
            "MOBILE_TEL" => &mut self.mobile_tel,
            "EMAIL_ADDRESS" => &mut self.email_address,
            "ETHNIC_ORIGIN" => &mut self.ethnic_origin,
            "ADDRESS_LINE_1" => &mut self.address_line_1,
            "ADDRESS_LINE_2" => &mut self.address_line_2,
            "ADDRESS_LINE_3" => &mut self.address_line_3,
            "TOWN" => &mut self.town,
            "POSTCODE" => &mut self.postcode,
            "COUNTRY" => &mut self.country,
            _ => return,
        };
        *slot = value;
    }

    /// The current value of one of the [`PERSON_FIELDS`] as text (empty when not held): the PER
    /// line's values.
    pub fn person_value(&self, field: &str) -> String {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        match field {
            "LAST_NAME" => self.last_name.clone(),
            "FIRST_NAME" => self.first_name.clone(),
            "DATE_OF_BIRTH" => self
                .date_of_birth
                .map(|d| d.to_string())
                .unwrap_or_default(),
            "GMC_NUMBER" => text(&self.gmc_number),
            "NATIONAL_INSURANCE_NUMBER" => text(&self.national_insurance_number),
            "TITLE" => text(&self.title),
            "GENDER" => text(&self.gender),
            "HOME_TEL" => text(&self.home_tel),
            "MOBILE_TEL" => text(&self.mobile_tel),
            "EMAIL_ADDRESS" => text(&self.email_address),
            "ETHNIC_ORIGIN" => text(&self.ethnic_origin),
            "ADDRESS_LINE_1" => text(&self.address_line_1),
            "ADDRESS_LINE_2" => text(&self.address_line_2),
            "ADDRESS_LINE_3" => text(&self.address_line_3),
            "TOWN" => text(&self.town),
            "POSTCODE" => text(&self.postcode),
            "COUNTRY" => text(&self.country),
            _ => String::new(),
        }
    }
}

pub fn parse_iso_date(value: &str) -> Option<NaiveDate> {
    if value.len() != 10 {
        return None;
    }
    // Nearly every date is plain `YYYY-MM-DD`, read directly; anything else (or a date that
    // does not exist) goes to chrono, which decides as before.
    let bytes = value.as_bytes();
    if bytes[4] == b'-' && bytes[7] == b'-' {
        if let Some(date) = date_of_digits(&bytes[0..4], &bytes[5..7], &bytes[8..10]) {
            return Some(date);
        }
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()
}

fn is_digits(value: &str, max: usize) -> bool {
    !value.is_empty() && value.len() <= max && value.bytes().all(|b| b.is_ascii_digit())
}

/// Two letters, six digits, one letter A-D; spaces are ignored and letters upper-cased.
fn normalise_ni(value: &str) -> Option<String> {
    let compact: String = value
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let b = compact.as_bytes();
    let valid = b.len() == 9
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..8].iter().all(u8::is_ascii_digit)
        && (b'A'..=b'D').contains(&b[8]);
    valid.then_some(compact)
}

fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes_are_found_by_halves_as_by_reading_the_whole_list() {
        let codes: Vec<&str> = COUNTRIES.split(' ').collect();
        assert!(codes.windows(2).all(|pair| pair[0] < pair[1]), "in order");
        let mut found = 0;
        for first in (b'A'..=b'Z').chain(b'a'..=b'z') {
            for second in (b'A'..=b'Z').chain(b'a'..=b'z') {
                let value = String::from_utf8(vec![first, second]).unwrap();
                let upper = value.to_ascii_uppercase();
                let expected = codes.contains(&upper.as_str()).then_some(upper);
                assert_eq!(country_code(&value), expected, "{value}");
                found += usize::from(expected.is_some());
            }
        }
        assert_eq!(found, codes.len() * 4);
        for value in ["", "G", "GBR", " GB", "\u{e9}", "G\u{e9}"] {
            assert_eq!(country_code(value), None, "{value:?}");
        }
    }

    #[test]
    fn absent_details_are_left_out_of_the_json_and_documents_with_nulls_read_the_same() {
        let details = ApplicantDetails {
            last_name: "Surname".into(),
            first_name: "Forename".into(),
            date_of_birth: NaiveDate::from_ymd_opt(1990, 1, 31),
            gmc_number: Some("7000000".into()),
            wte: Some(1.0),
            ..ApplicantDetails::default()
        };
        let json = serde_json::to_string(&details).unwrap();
        assert_eq!(
            json,
            r#"{"last_name":"Surname","first_name":"Forename","date_of_birth":"1990-01-31","gmc_number":"7000000","wte":1.0}"#
        );
        assert_eq!(
            serde_json::from_str::<ApplicantDetails>(&json).unwrap(),
            details
        );
        // As written before absent values were left out.
        let mut with_nulls = serde_json::to_value(&details).unwrap();
        for item in [
            "middle_names",
            "effective_date",
            "home_tel",
            "county",
            "grade",
        ] {
            with_nulls[item] = serde_json::Value::Null;
        }
        assert_eq!(
            serde_json::from_value::<ApplicantDetails>(with_nulls).unwrap(),
            details
        );
    }

    #[test]
    fn dates_are_read_as_chrono_reads_them() {
        for value in [
            "2027-02-03",
            "2024-02-29",
            "2027-02-29",
            "2027-02-30",
            "2027-13-01",
            "2027-00-10",
            "2027-01-00",
            "0000-01-01",
            "9999-12-31",
            "2027-1-011",
            "+202-01-01",
            "2027/01/01",
            "2027-01-0a",
            " 027-01-01",
            "2027-01-01 ",
            "20270101",
            "",
        ] {
            assert_eq!(
                parse_iso_date(value),
                if value.len() == 10 {
                    NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()
                } else {
                    None
                },
                "{value:?}"
            );
        }
    }

    /// A valid record; `edits` replace named fields.
    pub(crate) fn raw(edits: &[(&str, &str)]) -> RawApp {
        let mut fields: Vec<String> = APP_FIELDS.iter().map(|_| String::new()).collect();
        let base = [
            ("RECORD_CODE", "APP"),
            ("PLACEMENT_ID", "1001"),
            ("EFFECTIVE_DATE", "2026-11-21"),
            ("POSITION_ID", "84682"),
            ("POSITION_NUMBER", "236103"),
            ("DEANERY_POST_NUMBER", "KSS/RJZ01/030/STR/001"),
            ("LAST_NAME", "Applicant"),
            ("FIRST_NAME", "Dean"),
            ("TITLE", "Dr"),
            ("DATE_OF_BIRTH", "1990-01-31"),
            ("GENDER", "M"),
            ("GMC_NUMBER", "7544158"),
            ("NATIONAL_INSURANCE_NUMBER", "QQ123456C"),
            ("EMAIL_ADDRESS", "dean@example.nhs.uk"),
            ("COUNTRY", "GB"),
            ("DISABILITY", "N"),
            ("PROJECTED_HIRE_DATE", "2027-02-03"),
            ("PROJECTED_END_DATE", "2027-08-03"),
            ("WTE", "1.0"),
            ("GRADE", "ST4"),
        ];
        for (field, value) in base.iter().chain(edits) {
            let i = APP_FIELDS.iter().position(|f| f == field).unwrap();
            fields[i] = value.to_string();
        }
        RawApp::from_fields(fields)
    }

    fn texts(messages: &[Message]) -> Vec<String> {
        messages.iter().map(|m| m.text.clone()).collect()
    }

    #[test]
    fn person_values_are_checked_like_the_app_fields() {
        assert_eq!(person_field("mobile_tel"), Some("MOBILE_TEL"));
        assert_eq!(person_field("Middle_Names"), None);
        assert_eq!(person_field("EFFECTIVE_DATE"), None);
        let ok = |field, value: &str| check_person_value(field, value).unwrap();
        assert_eq!(ok("TITLE", "dr"), Some("Dr".to_string()));
        assert_eq!(
            ok("NATIONAL_INSURANCE_NUMBER", "qq 12 34 56 c"),
            Some("QQ123456C".into())
        );
        assert_eq!(ok("COUNTRY", "gb"), Some("GB".to_string()));
        assert_eq!(ok("DATE_OF_BIRTH", "1990-02-28"), Some("1990-02-28".into()));
        assert_eq!(
            ok("MOBILE_TEL", " 07700 900001 "),
            Some("07700 900001".into())
        );
        assert_eq!(ok("MOBILE_TEL", ""), None);
        for (field, value, reason) in [
            (
                "DATE_OF_BIRTH",
                "1990-02-30",
                "DATE_OF_BIRTH is not a valid date (YYYY-MM-DD)",
            ),
            (
                "DATE_OF_BIRTH",
                "",
                "DATE_OF_BIRTH is mandatory and cannot be removed",
            ),
            (
                "LAST_NAME",
                " ",
                "LAST_NAME is mandatory and cannot be removed",
            ),
            (
                "GMC_NUMBER",
                "123456",
                "GMC_NUMBER is not a GMC number (7 digits)",
            ),
            (
                "TITLE",
                "Sir",
                "TITLE is not one of Mr, Mrs, Miss, Ms, Mx, Dr, Prof",
            ),
            ("GENDER", "male", "GENDER is not one of M, F, X, U"),
            (
                "ETHNIC_ORIGIN",
                "Q",
                "ETHNIC_ORIGIN is not one of A, B, C, D, E, F, G, H, J, K, L, M, N, P, R, S, Z",
            ),
            (
                "EMAIL_ADDRESS",
                "no-at-sign",
                "EMAIL_ADDRESS is not an e-mail address",
            ),
            (
                "COUNTRY",
                "XX",
                "COUNTRY is not an ISO 3166-1 alpha-2 country code",
            ),
            ("TOWN", "Line\nBreak", "TOWN holds control characters"),
        ] {
            assert_eq!(
                check_person_value(field, value),
                Err(reason.to_string()),
                "{field}"
            );
        }
        assert!(check_person_value("NATIONAL_INSURANCE_NUMBER", "QQ123456E")
            .unwrap_err()
            .starts_with("NATIONAL_INSURANCE_NUMBER is not"));
    }

    #[test]
    fn person_fields_are_set_and_read_back() {
        let mut details = check_record(&raw(&[])).unwrap().details;
        details.set_person_field("MOBILE_TEL", Some("07700900001".into()));
        details.set_person_field("EMAIL_ADDRESS", None);
        details.set_person_field("DATE_OF_BIRTH", Some("1991-03-04".into()));
        details.set_person_field("LAST_NAME", Some("Renamed".into()));
        assert_eq!(details.person_value("MOBILE_TEL"), "07700900001");
        assert_eq!(details.person_value("EMAIL_ADDRESS"), "");
        assert_eq!(details.person_value("DATE_OF_BIRTH"), "1991-03-04");
        assert_eq!(details.person_value("LAST_NAME"), "Renamed");
        assert_eq!(details.person_value("GMC_NUMBER"), "7544158");
        for field in PERSON_FIELDS {
            let mut copy = details.clone();
            copy.set_person_field(field, Some("1990-01-01".into()));
            assert_eq!(copy.person_value(field), "1990-01-01", "{field}");
        }
    }

    #[test]
    fn a_clean_record_passes_without_messages() {
        let checked = check_record(&raw(&[])).unwrap();
        assert!(checked.warnings.is_empty());
        assert_eq!(checked.details.gmc_number.as_deref(), Some("7544158"));
        assert_eq!(checked.details.wte, Some(1.0));
        assert_eq!(checked.projected_hire_date.to_string(), "2027-02-03");
    }

    #[test]
    fn every_mandatory_item_missing_is_named() {
        for field in MANDATORY {
            let errors = check_record(&raw(&[(field, "")])).unwrap_err();
            assert_eq!(
                texts(&errors),
                vec![format!(
                    "Mandatory item {field} not supplied. Application rejected."
                )]
            );
        }
    }

    #[test]
    fn invalid_dates_are_errors_with_value_and_field() {
        for field in [
            "EFFECTIVE_DATE",
            "DATE_OF_BIRTH",
            "PROJECTED_HIRE_DATE",
            "PROJECTED_END_DATE",
        ] {
            let errors = check_record(&raw(&[(field, "2026-02-30")])).unwrap_err();
            assert_eq!(
                texts(&errors),
                vec![format!(
                    "Invalid date 2026-02-30 for {field}. Application rejected."
                )]
            );
        }
        let errors = check_record(&raw(&[("DATE_OF_BIRTH", "31/01/1990")])).unwrap_err();
        assert_eq!(
            texts(&errors),
            vec!["Invalid date 31/01/1990 for DATE_OF_BIRTH. Application rejected."]
        );
    }

    #[test]
    fn identifiers_must_be_digits_and_dpn_at_most_30() {
        let errors = check_record(&raw(&[("POSITION_ID", "12a")])).unwrap_err();
        assert_eq!(
            texts(&errors),
            vec!["Invalid value 12a for POSITION_ID (1 to 15 digits). Application rejected."]
        );
        let errors = check_record(&raw(&[("POSITION_NUMBER", "12345678901")])).unwrap_err();
        assert!(errors[0].text.contains("POSITION_NUMBER"));
        let long_dpn = "KSS/RJZ01/030/STR/001/ABCDEFGHIJ";
        let errors = check_record(&raw(&[("DEANERY_POST_NUMBER", long_dpn)])).unwrap_err();
        assert!(errors[0].text.contains("DEANERY_POST_NUMBER"));
    }

    #[test]
    fn several_errors_are_all_reported_in_field_order() {
        let errors = check_record(&raw(&[("LAST_NAME", ""), ("DATE_OF_BIRTH", "x")])).unwrap_err();
        assert_eq!(
            texts(&errors),
            vec![
                "Mandatory item LAST_NAME not supplied. Application rejected.",
                "Invalid date x for DATE_OF_BIRTH. Application rejected.",
            ]
        );
    }

    #[test]
    fn bad_lookups_and_malformed_identifiers_are_warnings_and_dropped() {
        for (field, value) in [
            ("DISABILITY", "NO"),
            ("TITLE", "Sir"),
            ("GENDER", "Q"),
            ("GMC_NUMBER", "12345"),
            ("NATIONAL_INSURANCE_NUMBER", "QQ123456E"),
            ("EMAIL_ADDRESS", "not-an-email"),
            ("COUNTRY", "UK"),
            ("NATIONALITY", "GBR"),
            ("COUNTRY_OF_BIRTH", "ZZ"),
            ("ETHNIC_ORIGIN", "I"),
            ("MARITAL_STATUS", "X"),
            ("WTE", "1.5"),
            ("RELIGIOUS_BELIEF", &"x".repeat(61)),
        ] {
            let checked = check_record(&raw(&[(field, value)])).unwrap();
            assert_eq!(
                texts(&checked.warnings),
                vec![Message::value_ignored(field, value).text],
                "{field}"
            );
        }
        let checked = check_record(&raw(&[("DISABILITY", "NO"), ("GMC_NUMBER", "12345")])).unwrap();
        assert_eq!(checked.details.disability, None);
        assert_eq!(checked.details.gmc_number, None);
    }

    #[test]
    fn lookups_are_case_insensitive_and_ni_numbers_normalised() {
        let checked = check_record(&raw(&[
            ("TITLE", "dr"),
            ("NATIONAL_INSURANCE_NUMBER", "qq 12 34 56 c"),
            ("COUNTRY", "gb"),
        ]))
        .unwrap();
        assert!(checked.warnings.is_empty());
        assert_eq!(checked.details.title.as_deref(), Some("Dr"));
        assert_eq!(
            checked.details.national_insurance_number.as_deref(),
            Some("QQ123456C")
        );
        assert_eq!(checked.details.country.as_deref(), Some("GB"));
    }
}

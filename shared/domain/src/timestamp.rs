//! Timestamps written as chrono writes them (RFC 3339, `Z`, as many fraction digits as needed),
//! formatted once per value rather than once per record; dates written as chrono writes them
//! (`YYYY-MM-DD`), digit by digit.
//!
//! Every applicant of a file and every history entry of the load carry the same instant, and
//! chrono formats through `fmt` each time: about a sixth of encoding a new applicant's rows.
//! Its dates go through `fmt` too, a character at a time into the JSON writer: an applicant
//! has four.

use std::cell::RefCell;

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};
use serde::{Serialize, Serializer};

thread_local! {
    /// The instant last written on this thread, and its text.
    static LAST: RefCell<Option<(DateTime<Utc>, String)>> = const { RefCell::new(None) };
}

/// `#[serde(serialize_with = "crate::timestamp::serialize")]`: the same text as chrono's own
/// `Serialize`, which deserializes with it.
///
/// # Errors
/// The serializer's.
pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        match last.as_ref() {
            Some((instant, text)) if instant == at => serializer.serialize_str(text),
            _ => {
                let text = at.to_rfc3339_opts(SecondsFormat::AutoSi, true);
                let written = serializer.serialize_str(&text);
                *last = Some((*at, text));
                written
            }
        }
    })
}

/// `#[serde(serialize_with = "crate::timestamp::serialize_date")]`: the same text as chrono's
/// own `Serialize` for a date, which deserializes with it.
///
/// # Errors
/// The serializer's.
pub fn serialize_date<S: Serializer>(date: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
    match iso_date(date) {
        Some(text) => serializer.serialize_str(std::str::from_utf8(&text).unwrap_or_default()),
        // Years chrono writes with a sign or more digits.
        None => date.serialize(serializer),
    }
}

/// [`serialize_date`] for an optional date (`null` when absent).
///
/// # Errors
/// The serializer's.
pub fn serialize_optional_date<S: Serializer>(
    date: &Option<NaiveDate>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match date {
        Some(date) => serialize_date(date, serializer),
        None => serializer.serialize_none(),
    }
}

/// A date of the years 0 to 9999 as `YYYY-MM-DD`.
fn iso_date(date: &NaiveDate) -> Option<[u8; 10]> {
    let year = u32::try_from(date.year()).ok().filter(|y| *y <= 9999)?;
    let mut text = *b"0000-00-00";
    for (at, value, digits) in [(0, year, 4), (5, date.month(), 2), (8, date.day(), 2)] {
        let mut value = value;
        for place in (at..at + digits).rev() {
            // A digit: below 10, so it fits a byte.
            text[place] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Timelike};
    use serde::Serialize;

    use super::*;

    #[derive(Serialize)]
    struct Formatted(#[serde(serialize_with = "serialize")] DateTime<Utc>);

    #[test]
    fn writes_what_chrono_writes_for_every_precision_and_again_for_a_repeat() {
        let second = Utc.with_ymd_and_hms(2026, 12, 7, 13, 37, 58).unwrap();
        let instants = [
            0,
            5_000_000,
            254_000_000,
            254_659_000,
            254_659_299,
            999_999_999,
        ]
        .map(|nanos| second.with_nanosecond(nanos).unwrap());
        for at in instants.into_iter().chain(instants) {
            assert_eq!(
                serde_json::to_string(&Formatted(at)).unwrap(),
                serde_json::to_string(&at).unwrap()
            );
        }
        let leap = second.with_nanosecond(1_500_000_000).unwrap();
        assert_eq!(
            serde_json::to_string(&Formatted(leap)).unwrap(),
            serde_json::to_string(&leap).unwrap()
        );
    }

    #[derive(Serialize)]
    struct Dates(
        #[serde(serialize_with = "serialize_date")] NaiveDate,
        #[serde(serialize_with = "serialize_optional_date")] Option<NaiveDate>,
    );

    #[test]
    fn writes_dates_as_chrono_writes_them_in_every_year_it_can_hold() {
        let mut dates: Vec<NaiveDate> = [
            (2026, 12, 7),
            (2027, 2, 3),
            (1990, 1, 31),
            (2024, 2, 29),
            (1, 1, 1),
            (0, 6, 15),
            (999, 10, 9),
            (9999, 12, 31),
            (10_000, 1, 1),
            (-1, 3, 4),
            (-2_000, 11, 30),
        ]
        .into_iter()
        .map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap())
        .collect();
        dates.extend([NaiveDate::MIN, NaiveDate::MAX]);
        let mut day = NaiveDate::from_ymd_opt(2023, 12, 25).unwrap();
        while day.year() < 2025 {
            dates.push(day);
            day = day.succ_opt().unwrap();
        }
        for date in dates {
            assert_eq!(
                serde_json::to_string(&Dates(date, Some(date))).unwrap(),
                serde_json::to_string(&(date, Some(date))).unwrap()
            );
        }
        assert_eq!(
            serde_json::to_string(&Dates(NaiveDate::MIN, None)).unwrap(),
            serde_json::to_string(&(NaiveDate::MIN, None::<NaiveDate>)).unwrap()
        );
    }
}

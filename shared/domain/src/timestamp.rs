//! Timestamps written as chrono writes them (RFC 3339, `Z`, as many fraction digits as needed),
//! formatted once per value rather than once per record.
//!
//! Every applicant of a file and every history entry of the load carry the same instant, and
//! chrono formats through `fmt` each time: about a sixth of encoding a new applicant's rows.

use std::cell::RefCell;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serializer;

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
}

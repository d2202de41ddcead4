//! The daily sequence check (2.3): TIS numbers its files with one sequence per file type across all
//! local offices, and files arrive concurrently and out of order, so a gap is judged over a window
//! of days, not per file. For business date D, per file type, every number between the lowest and
//! the highest SEQ received with a business date in the 30 days up to D that has not arrived (by
//! the end of D) is listed. Pure: the service reads the numbers from the store.

use std::collections::BTreeSet;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::notify::{page_start, short_date, table};

/// The days (D included) whose files set the lowest and highest number of a check.
pub const WINDOW_DAYS: u64 = 30;
/// Missing numbers listed per file type; beyond that they are only counted (a mistyped SEQ far
/// ahead must not make a record of millions of lines).
pub const MAX_LISTED: usize = 1000;

/// The check of one business date: an operator record (no personal data, numbers only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceCheck {
    pub title: String,
    pub business_date: NaiveDate,
    /// The first business date of the window (D - 29).
    pub window_from: NaiveDate,
    pub window_to: NaiveDate,
    /// Missing numbers over every file type.
    pub missing_count: u64,
    pub file_types: Vec<TypeSequence>,
}

/// One file type's sequence over the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeSequence {
    pub file_type: String,
    /// Distinct numbers received with a business date in the window.
    pub received: usize,
    /// The lowest and highest of those (8 digits), `None` when none was received.
    pub lowest: Option<String>,
    pub highest: Option<String>,
    /// Numbers between lowest and highest that have not arrived.
    pub missing_count: u64,
    /// Those numbers (8 digits, ascending), at most [`MAX_LISTED`].
    pub missing: Vec<String>,
    /// True when more are missing than are listed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// The first and last business date of the window ending on `business_date`.
pub fn window(business_date: NaiveDate) -> (NaiveDate, NaiveDate) {
    let from = business_date
        .checked_sub_days(Days::new(WINDOW_DAYS - 1))
        .unwrap_or(business_date);
    (from, business_date)
}

/// The gaps of one file type: `in_window` are the numbers received with a business date in the
/// window (they set the range), `arrived` any others known to have arrived by the end of D (a
/// number of the range whose file carries an older date is not missing).
pub fn type_sequence(
    file_type: &str,
    in_window: &BTreeSet<u64>,
    arrived: &BTreeSet<u64>,
) -> TypeSequence {
    let (Some(&lowest), Some(&highest)) = (in_window.first(), in_window.last()) else {
        return TypeSequence {
            file_type: file_type.to_string(),
            received: 0,
            lowest: None,
            highest: None,
            missing_count: 0,
            missing: Vec::new(),
            truncated: false,
        };
    };
    let present: BTreeSet<u64> = in_window
        .iter()
        .chain(arrived.range(lowest..=highest))
        .copied()
        .collect();
    let mut missing = Vec::new();
    let mut missing_count = 0;
    let mut previous = lowest;
    for &number in present.iter().skip(1) {
        let gap = number - previous - 1;
        missing_count += gap;
        missing.extend(
            (previous + 1..number)
                .take(MAX_LISTED.saturating_sub(missing.len()))
                .map(|n| format!("{n:08}")),
        );
        previous = number;
    }
    TypeSequence {
        file_type: file_type.to_string(),
        received: in_window.len(),
        lowest: Some(format!("{lowest:08}")),
        highest: Some(format!("{highest:08}")),
        truncated: missing_count > missing.len() as u64,
        missing_count,
        missing,
    }
}

impl TypeSequence {
    /// The missing numbers listed, comma-separated, and how many more there are when not all
    /// could be listed.
    pub fn listed_missing(&self) -> String {
        let listed = self.missing.join(", ");
        if self.truncated {
            format!(
                "{listed}, ... ({} more)",
                self.missing_count - self.missing.len() as u64
            )
        } else {
            listed
        }
    }
}

impl SequenceCheck {
    pub fn new(business_date: NaiveDate, file_types: Vec<TypeSequence>) -> SequenceCheck {
        let (window_from, window_to) = window(business_date);
        SequenceCheck {
            title: format!("TIS file sequence check {}", short_date(business_date)),
            business_date,
            window_from,
            window_to,
            missing_count: file_types.iter().map(|t| t.missing_count).sum(),
            file_types,
        }
    }

    pub fn render_html(&self) -> String {
        let mut html = page_start(&self.title);
        html.push_str(&format!(
            "<p>TIS files with a business date from {} to {}. Per file type, every number between \
             the lowest and the highest received that has not arrived by the end of {}.</p>\n\
             <p><b>Missing numbers:</b> {}</p>\n",
            short_date(self.window_from),
            short_date(self.window_to),
            short_date(self.business_date),
            self.missing_count
        ));
        html.push_str(&table(
            &[
                "File type",
                "Received",
                "Lowest",
                "Highest",
                "Missing",
                "Missing numbers",
            ],
            self.file_types.iter().map(|t| {
                let listed = if t.missing.is_empty() {
                    "none".to_string()
                } else {
                    t.listed_missing()
                };
                vec![
                    t.file_type.clone(),
                    t.received.to_string(),
                    t.lowest.clone().unwrap_or_else(|| "-".into()),
                    t.highest.clone().unwrap_or_else(|| "-".into()),
                    t.missing_count.to_string(),
                    listed,
                ]
            }),
        ));
        html.push_str("</body></html>\n");
        html
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(numbers: &[u64]) -> BTreeSet<u64> {
        numbers.iter().copied().collect()
    }

    #[test]
    fn numbers_between_the_lowest_and_highest_that_did_not_arrive_are_missing() {
        let t = type_sequence("APP", &set(&[2689, 2690, 2693, 2695]), &set(&[]));
        assert_eq!(t.lowest.as_deref(), Some("00002689"));
        assert_eq!(t.highest.as_deref(), Some("00002695"));
        assert_eq!(t.received, 4);
        assert_eq!(t.missing, vec!["00002691", "00002692", "00002694"]);
        assert_eq!(t.missing_count, 3);
        assert!(!t.truncated);
    }

    #[test]
    fn a_number_that_arrived_with_an_older_date_is_not_missing() {
        let t = type_sequence("DNC", &set(&[10, 14]), &set(&[5, 12, 20]));
        assert_eq!(t.missing, vec!["00000011", "00000013"]);
        assert_eq!(t.received, 2);
    }

    #[test]
    fn nothing_received_means_nothing_missing() {
        let t = type_sequence("DNF", &set(&[]), &set(&[3]));
        assert_eq!((t.received, t.missing_count), (0, 0));
        assert_eq!(t.lowest, None);
        let one = type_sequence("DNF", &set(&[7]), &set(&[]));
        assert_eq!(one.missing_count, 0);
    }

    #[test]
    fn a_huge_gap_is_counted_and_listed_only_in_part() {
        let t = type_sequence("APP", &set(&[1, 99_999_999]), &set(&[]));
        assert_eq!(t.missing_count, 99_999_997);
        assert_eq!(t.missing.len(), MAX_LISTED);
        assert_eq!(t.missing[0], "00000002");
        assert!(t.truncated);
        let check = SequenceCheck::new(NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(), vec![t]);
        assert!(check.render_html().contains("(99998997 more)"));
    }

    #[test]
    fn the_window_is_thirty_days_up_to_the_business_date() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        assert_eq!(
            window(d),
            (NaiveDate::from_ymd_opt(2026, 10, 23).unwrap(), d)
        );
        let check = SequenceCheck::new(d, vec![type_sequence("APP", &set(&[1, 3]), &set(&[]))]);
        assert_eq!(check.missing_count, 1);
        assert_eq!(check.title, "TIS file sequence check 21/11/2026");
        let html = check.render_html();
        assert!(html.contains("<td>00000002</td>"), "{html}");
        assert!(html.contains("from 23/10/2026 to 21/11/2026"));
    }
}

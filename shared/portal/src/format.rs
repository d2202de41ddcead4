//! How values read on a page: dates `dd/mm/yyyy`, times `dd/mm/yyyy HH:MM UTC`, labels from keys.

use chrono::{DateTime, NaiveDate, Utc};

pub fn date(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

pub fn opt_date(value: Option<NaiveDate>) -> String {
    value.map(date).unwrap_or_default()
}

pub fn time(at: DateTime<Utc>) -> String {
    at.format("%d/%m/%Y %H:%M UTC").to_string()
}

/// A stored value for a person: ISO dates and RFC 3339 times in UK form, the rest as it is.
pub fn text(value: &str) -> String {
    if let Ok(d) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return date(d);
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return time(at.with_timezone(&Utc));
    }
    value.to_string()
}

/// A JSON key as a label: `date_of_notification` reads "Date of notification"; keys already
/// written for people ("Position Number") stay as they are.
pub fn label(key: &str) -> String {
    if key.contains(' ') || !key.contains('_') && key.chars().next().is_some_and(char::is_uppercase)
    {
        return key.to_string();
    }
    let spaced = key.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A date in a file or item name: `YYYYMMDD` after an underscore, or a leading `YYYY-MM-DD`.
pub fn date_in_name(name: &str) -> Option<NaiveDate> {
    let file = name.rsplit('/').next().unwrap_or(name);
    if let Some(d) = file
        .get(..10)
        .and_then(|p| NaiveDate::parse_from_str(p, "%Y-%m-%d").ok())
    {
        return Some(d);
    }
    file.split(['_', '.']).find_map(|part| {
        (part.len() == 8 && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| NaiveDate::parse_from_str(part, "%Y%m%d").ok())
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_day_month_year() {
        let d = NaiveDate::from_ymd_opt(2027, 2, 3).unwrap();
        assert_eq!(date(d), "03/02/2027");
        assert_eq!(text("2027-02-03"), "03/02/2027");
        assert_eq!(text("2026-11-21T14:30:00Z"), "21/11/2026 14:30 UTC");
        assert_eq!(text("7000001"), "7000001");
    }

    #[test]
    fn keys_become_labels() {
        assert_eq!(label("date_of_notification"), "Date of notification");
        assert_eq!(label("Position Number"), "Position Number");
        assert_eq!(label("positions"), "Positions");
    }

    #[test]
    fn dates_are_found_in_names() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
        assert_eq!(
            date_in_name(
                "notifications/DE_KSS_APP_20261121_00000042.deanery-applicant-notification"
            ),
            d(2026, 11, 21)
        );
        assert_eq!(
            date_in_name("notifications/new-starters/2027-01-29.new-starter-reminder"),
            d(2027, 1, 29)
        );
        assert_eq!(
            date_in_name("medrot/DE_KSS_504_MEDROT_DNC_20261121_00000046.xlsx"),
            d(2026, 11, 21)
        );
        assert_eq!(date_in_name("reports/odd.json"), None);
    }
}

//! Parsers of command-line values shared by the commands (kept apart from `main`, which declares
//! the commands' modules, so none of them imports its parent).

/// A `YYYY-MM-DD` date.
pub fn parse_date(text: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("{text:?} is not a date in YYYY-MM-DD form"))
}

//! The portal's and the reports' reads: a trust's applicants for its list, its inbox read marks,
//! and the few fields of each applicant the reports count.

use super::store::*;
use chrono::{DateTime, NaiveDate, Utc};
use dit_core::ports::StoreError;
use dit_domain::app::parse_iso_date;
use dit_domain::lifecycle::ApplicantState;
use dit_domain::model::{Applicant, ApplicantSummary};
use dit_domain::reports::ReportedApplicant;
use dit_domain::retention;
use rusqlite::{params, Connection};

impl SqliteStore {
    /// A trust's applicants in number order, as the portal's list shows them.
    pub(super) async fn select_trust_applicants(
        &self,
        vpd: &str,
    ) -> Result<Vec<ApplicantSummary>, StoreError> {
        // Only the summary's fields are taken out of each record (by SQLite, without decoding the
        // rest): a trust's whole list is read for every search.
        let today = self.today();
        self.with(|connection| {
            let mut statement = connection
                .prepare_cached(
                    "SELECT applicant_number, vpd, json_extract(body, '$.state'),
                            json_extract(body, '$.placement_id'), json_extract(body, '$.position_number'),
                            json_extract(body, '$.dpn'), hire_date,
                            json_extract(body, '$.details.first_name'),
                            json_extract(body, '$.details.last_name'), gmc,
                            json_extract(body, '$.updated_at'),
                            json_extract(body, '$.projected_end_date'),
                            json_extract(body, '$.local_office')
                     FROM applicants WHERE vpd = ?1
                     ORDER BY length(applicant_number), applicant_number",
                )
                .map_err(unavailable)?;
            let rows = statement
                .query_map([vpd], |row| {
                    Ok((
                        [
                            row.get::<_, String>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, String>(2)?,
                            row.get::<_, String>(3)?,
                            row.get::<_, String>(4)?,
                            row.get::<_, String>(5)?,
                            row.get::<_, String>(6)?,
                            row.get::<_, String>(7)?,
                            row.get::<_, String>(8)?,
                        ],
                        row.get::<_, Option<String>>(9)?,
                        (row.get::<_, String>(10)?, row.get::<_, Option<String>>(11)?),
                        row.get::<_, String>(12)?,
                    ))
                })
                .map_err(unavailable)?;
            let mut summaries = Vec::new();
            for row in rows {
                let (
                    [number, vpd, state, placement, position, dpn, hire, first, last],
                    gmc,
                    (updated, end),
                    local_office,
                ) = row.map_err(unavailable)?;
                let corrupt = |what: &str| {
                    StoreError::Corrupt(format!("applicant {number}: unreadable {what}"))
                };
                let state = serde_json::from_value(serde_json::Value::String(state))
                    .map_err(|_| corrupt("state"))?;
                let projected_hire_date = NaiveDate::parse_from_str(&hire, "%Y-%m-%d")
                    .map_err(|_| corrupt("hire date"))?;
                let updated_on = DateTime::parse_from_rfc3339(&updated)
                    .map_err(|_| corrupt("update time"))?
                    .with_timezone(&Utc)
                    .date_naive();
                let end = end
                    .map(|end| NaiveDate::parse_from_str(&end, "%Y-%m-%d"))
                    .transpose()
                    .map_err(|_| corrupt("end date"))?;
                let kept_until = retention::kept_until_of_applicant(
                    state,
                    updated_on,
                    end,
                    projected_hire_date,
                );
                // Past its retention (7.1): not listed, as not found by number.
                if !retention::live_on(kept_until, today) {
                    continue;
                }
                summaries.push(ApplicantSummary {
                    state,
                    projected_hire_date,
                    applicant_number: number,
                    vpd,
                    local_office,
                    placement_id: placement,
                    position_number: position,
                    dpn,
                    first_name: first,
                    last_name: last,
                    gmc_number: gmc,
                });
            }
            Ok(summaries)
        })
    }

    /// `item` read by the trust `vpd` at `at`.
    pub(super) async fn insert_read_mark(
        &self,
        vpd: &str,
        item: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with(|connection| {
            // The first reading stands: marking again changes nothing.
            connection
                .execute(
                    "INSERT INTO read_marks (vpd, item, at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (vpd, item) DO NOTHING",
                    params![vpd, item, at.to_rfc3339()],
                )
                .map_err(unavailable)?;
            Ok(())
        })
    }

    /// The items the trust `vpd` has read.
    pub(super) async fn select_read_marks(
        &self,
        vpd: &str,
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        self.with(|connection| {
            let mut statement = connection
                .prepare_cached("SELECT item FROM read_marks WHERE vpd = ?1")
                .map_err(unavailable)?;
            let rows = statement
                .query_map([vpd], |row| row.get::<_, String>(0))
                .map_err(unavailable)?;
            rows.map(|row| row.map_err(unavailable)).collect()
        })
    }
}

/// An applicant's report fields as the `report` column holds them: the JSON array
/// `[local office, source file, state, projected end date, day of last change (UTC), late
/// changes]` that [`reported_rows`] reads (and that the reports build from the document itself
/// where a row from before the column has none).
pub(super) fn report_fields(applicant: &Applicant) -> Result<String, StoreError> {
    /// Serialized as the array, its dates as the documents write them.
    #[derive(serde::Serialize)]
    struct Fields<'a>(
        &'a str,
        &'a str,
        ApplicantState,
        #[serde(serialize_with = "dit_domain::timestamp::serialize_optional_date")]
        Option<NaiveDate>,
        #[serde(serialize_with = "dit_domain::timestamp::serialize_date")] NaiveDate,
        u32,
    );
    // The fields of `ReportedApplicant::from(applicant)`, read in place.
    to_json(&Fields(
        &applicant.local_office,
        &applicant.source_file,
        applicant.state,
        applicant.projected_end_date,
        applicant.updated_at.date_naive(),
        applicant.late_changes,
    ))
}

/// The report's fields of each row of `sql`, which selects the trust, the hire date and one
/// `json_extract` of the local office, source file, state, end date, update time and late
/// changes (an array, so each body is parsed once, by SQLite).
pub(super) fn reported_rows(
    connection: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<ReportedApplicant>, StoreError> {
    // Dates as text, read by `parse_iso_date` (chrono's own reading is slower, per row).
    type Extracted = (
        String,
        String,
        ApplicantState,
        Option<String>,
        String,
        Option<u32>,
    );
    let mut statement = connection.prepare_cached(sql).map_err(unavailable)?;
    let mut rows = statement.query(params).map_err(unavailable)?;
    let mut found = Vec::new();
    while let Some(row) = rows.next().map_err(unavailable)? {
        let vpd: String = row.get(0).map_err(unavailable)?;
        let hire: String = row.get(1).map_err(unavailable)?;
        let extracted: String = row.get(2).map_err(unavailable)?;
        let corrupt = |what: &str| {
            StoreError::Corrupt(format!(
                "an applicant of trust {vpd} hired {hire}: unreadable {what}"
            ))
        };
        let (local_office, source_file, state, projected_end_date, updated, late): Extracted =
            serde_json::from_str(&extracted).map_err(|_| corrupt("report fields"))?;
        let projected_hire_date = parse_iso_date(&hire).ok_or_else(|| corrupt("hire date"))?;
        let projected_end_date = match projected_end_date {
            Some(end) => Some(parse_iso_date(&end).ok_or_else(|| corrupt("end date"))?),
            None => None,
        };
        // The day (UTC) is all retention needs.
        let updated_on = parse_iso_date(&updated).ok_or_else(|| corrupt("update day"))?;
        found.push(ReportedApplicant {
            vpd,
            local_office,
            source_file,
            state,
            projected_hire_date,
            projected_end_date,
            updated_on,
            late_changes: late.unwrap_or(0),
        });
    }
    Ok(found)
}

//! How long personal data is kept (section 8): one policy, applied by DynamoDB's TTL attribute and
//! S3 lifecycle rules in AWS (infra/template.yaml) and by `dit purge --date D` locally. Pure: the
//! date each record or object may be removed after, from what it holds.

use chrono::{Days, NaiveDate};

use super::dnc::RotationEntry;
use super::lifecycle::ApplicantState;
use super::model::{Applicant, PersonUpdate, RejectedApplication};

/// Inbound files once processed, quarantined files and their reasons.
pub const FILE_DAYS: u64 = 30;
/// Trust notifications, reminders, reports, MEDROT, message answers (and the rotation grid the
/// MEDROT is built from).
pub const TRUST_OUTPUT_DAYS: u64 = 90;
/// Rejected applications, from their file's business date.
pub const REJECTED_DAYS: u64 = 90;
/// Withdrawn applicants and their history, from the withdrawal.
pub const WITHDRAWN_DAYS: u64 = 365;
/// Hired (and every other live) applicant and its person updates, from the projected end date.
pub const AFTER_END_DAYS: u64 = 365;
/// Messages in a dead-letter queue.
pub const DLQ_DAYS: u64 = 4;
/// Operator records (no personal data).
pub const OPERATOR_DAYS: u64 = 365;

/// The attribute DynamoDB's TTL reads (seconds since the epoch), as in the template.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// Where objects are kept and for how long, by area folder: the S3 lifecycle rules of the template
/// (bucket, prefix) and what `dit purge` removes from the data directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobRule {
    /// `inbound`, `quarantine` or `outbound`: the data directory's folders, the buckets' areas.
    pub area: &'static str,
    /// Within the area; empty for all of it.
    pub prefix: &'static str,
    pub days: u64,
}

/// Every rule, most specific first is not needed: the prefixes do not overlap.
pub const BLOB_RULES: [BlobRule; 7] = [
    BlobRule {
        area: "inbound",
        prefix: "",
        days: FILE_DAYS,
    },
    BlobRule {
        area: "quarantine",
        prefix: "",
        days: FILE_DAYS,
    },
    // Files for TIS carry what the inbound files carried: kept as long as those.
    BlobRule {
        area: "outbound",
        prefix: "tis/",
        days: FILE_DAYS,
    },
    BlobRule {
        area: "outbound",
        prefix: "trusts/",
        days: TRUST_OUTPUT_DAYS,
    },
    BlobRule {
        area: "outbound",
        prefix: "trac/",
        days: TRUST_OUTPUT_DAYS,
    },
    BlobRule {
        area: "outbound",
        prefix: "mail/",
        days: TRUST_OUTPUT_DAYS,
    },
    BlobRule {
        area: "outbound",
        prefix: "operator/",
        days: OPERATOR_DAYS,
    },
];

/// The rule for an object of `area` at `key` (relative to the area), if any (`config/` has none:
/// it is configuration, not data).
pub fn blob_rule(area: &str, key: &str) -> Option<&'static BlobRule> {
    BLOB_RULES
        .iter()
        .find(|rule| rule.area == area && key.starts_with(rule.prefix))
}

fn plus(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_add_days(Days::new(days))
        .unwrap_or(NaiveDate::MAX)
}

/// The last day an applicant (its item, history, placement link and person updates) is kept: a
/// year after its withdrawal when withdrawn, else a year after its projected end date (its
/// projected hire date when TIS sent no end date).
pub fn applicant_kept_until(applicant: &Applicant) -> NaiveDate {
    kept_until_of_applicant(
        applicant.state,
        applicant.updated_at.date_naive(),
        applicant.projected_end_date,
        applicant.projected_hire_date,
    )
}

/// [`applicant_kept_until`] from the four fields it depends on, for a store that reads only those
/// (a trust's list of summaries is not decoded whole).
pub fn kept_until_of_applicant(
    state: ApplicantState,
    updated_on: NaiveDate,
    projected_end_date: Option<NaiveDate>,
    projected_hire_date: NaiveDate,
) -> NaiveDate {
    if state == ApplicantState::Withdrawn {
        plus(updated_on, WITHDRAWN_DAYS)
    } else {
        plus(
            projected_end_date.unwrap_or(projected_hire_date),
            AFTER_END_DAYS,
        )
    }
}

/// The last day a rejected application is kept: 90 days after its file.
pub fn rejected_kept_until(rejected: &RejectedApplication) -> NaiveDate {
    plus(rejected.business_date, REJECTED_DAYS)
}

/// The last day a person update is kept without its applicant at hand: a year after it took effect
/// (or arrived). Stores keep it as long as its applicant when they can.
pub fn person_update_kept_until(update: &PersonUpdate) -> NaiveDate {
    plus(
        update
            .effective_date
            .unwrap_or(update.received_at.date_naive()),
        AFTER_END_DAYS,
    )
}

/// The last day a person record known without an applicant (a notification named the person as
/// a position's current holder on `today`) is kept: a year, unless an applicant gives it its own.
pub fn person_only_kept_until(today: NaiveDate) -> NaiveDate {
    plus(today, AFTER_END_DAYS)
}

/// The last day a rotation grid row (names of current and next trainees) is kept: 90 days after
/// the file that last set it, like the MEDROT made from it.
pub fn rotation_kept_until(entry: &RotationEntry) -> NaiveDate {
    plus(entry.updated_on, TRUST_OUTPUT_DAYS)
}

/// The last day an operator record without personal data (a processed-file record, a TIS number
/// received) is kept: a year after its file's business date. A file sent again after that is
/// judged afresh (no duplicate found), and the sequence check no longer sees its number.
pub fn operator_record_kept_until(business_date: NaiveDate) -> NaiveDate {
    plus(business_date, OPERATOR_DAYS)
}

/// DynamoDB's TTL value for "kept until the end of `date`": the first second of the next day, UTC.
pub fn ttl_seconds(kept_until: NaiveDate) -> i64 {
    plus(kept_until, 1)
        .and_hms_opt(0, 0, 0)
        .map_or(i64::MAX, |t| t.and_utc().timestamp())
}

/// Whether something kept until `kept_until` is past its time on `date`.
pub fn expired(kept_until: NaiveDate, date: NaiveDate) -> bool {
    kept_until < date
}

/// Whether something kept until `kept_until` may still be shown or acted on `today` (7.1): every
/// read of both stores asks this, so nothing past its retention is seen while it waits for
/// `dit purge` or DynamoDB's TTL (which deletes up to days late).
pub fn live_on(kept_until: NaiveDate, today: NaiveDate) -> bool {
    !expired(kept_until, today)
}

/// The TTL value (seconds, [`ttl_seconds`]) at or below which an item is expired on `today`: the
/// first second of `today`, UTC. `ttl_seconds(k) <= expired_at_or_before(d)` exactly when
/// `expired(k, d)`.
pub fn expired_at_or_before(today: NaiveDate) -> i64 {
    today
        .and_hms_opt(0, 0, 0)
        .map_or(i64::MIN, |t| t.and_utc().timestamp())
}

/// [`live_on`] for a stored TTL value: an item whose `expires_at` is `ttl` is live on `today`.
pub fn ttl_live_on(ttl: i64, today: NaiveDate) -> bool {
    ttl > expired_at_or_before(today)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn blob_rules_follow_section_8() {
        assert_eq!(blob_rule("inbound", "tis/DE_KSS_APP.DAT").unwrap().days, 30);
        assert_eq!(blob_rule("quarantine", "x.DAT").unwrap().days, 30);
        assert_eq!(
            blob_rule("outbound", "trusts/504/messages/a.json")
                .unwrap()
                .days,
            90
        );
        assert_eq!(
            blob_rule("outbound", "trac/messages/a.json").unwrap().days,
            90
        );
        assert_eq!(
            blob_rule("outbound", "operator/files/a.json").unwrap().days,
            365
        );
        assert!(blob_rule("outbound", "config/organisations.toml").is_none());
    }

    #[test]
    fn ttl_is_the_first_second_after_the_last_day() {
        assert_eq!(ttl_seconds(d("1970-01-01")), 86_400);
        assert!(expired(d("2026-01-01"), d("2026-01-02")));
        assert!(!expired(d("2026-01-01"), d("2026-01-01")));
    }

    #[test]
    fn a_ttl_is_live_exactly_when_its_day_is() {
        for (kept, today) in [
            ("2026-01-01", "2026-01-01"),
            ("2026-01-01", "2026-01-02"),
            ("2026-01-02", "2026-01-01"),
            ("2025-12-31", "2026-12-31"),
        ] {
            let (kept, today) = (d(kept), d(today));
            assert_eq!(
                ttl_live_on(ttl_seconds(kept), today),
                live_on(kept, today),
                "{kept} on {today}"
            );
        }
        assert!(live_on(d("2026-01-01"), d("2026-01-01")));
        assert!(!live_on(d("2026-01-01"), d("2026-01-02")));
    }

    #[test]
    fn operator_records_are_kept_a_year_after_their_file() {
        assert_eq!(operator_record_kept_until(d("2026-03-01")), d("2027-03-01"));
    }
}

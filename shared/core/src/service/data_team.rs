//! Data-team alerts (section 12): a quarantined file, and a sequence check that finds numbers
//! missing, each send one e-mail to the local office's `alert_emails` through the [`Mailer`]
//! port. An alert says a file's name, reason code and line, or the missing numbers: never a
//! record's content, nor a reason's wording (which may quote a line of the file).
//!
//! Each alert has a key of its own (the quarantined file and its reason code; the sequence
//! check's date and the local office), so SES sends it once however often the file or the check
//! is delivered again, and the local `.eml` is written again with the same bytes.
//!
//! [`Mailer`]: crate::ports::Mailer

use chrono::{DateTime, NaiveTime, Utc};
use tracing::{info, warn};

use super::context::{Context, ProcessError};
use dit_domain::envelope::{FileName, QuarantineReason};
use dit_domain::mail::{compose_data_team, DataTeamFacts, Mail};
use dit_domain::org::Organisations;
use dit_domain::sequence::SequenceCheck;

/// The local office a file belongs to, by its name: a TIS file's own (`DE_<LO>_...`), a trust's
/// file its trust's configured one; `None` when the name cannot be read or names no configured
/// trust. The data-team alerts and the portal's local-office pages use the same rule.
pub fn local_office_of_file(organisations: &Organisations, display: &str) -> Option<String> {
    let name = FileName::parse(display).ok()?;
    if dit_domain::envelope::LOCAL_OFFICES.contains(&name.source.as_str()) {
        Some(name.source)
    } else {
        organisations
            .get(&name.source)
            .map(|o| o.local_office.clone())
    }
}

/// The alert a quarantined file gives, and the local office it goes to.
pub struct QuarantineAlert {
    /// The local office its name names: a TIS file's own, a trust's file its trust's (`None`
    /// when the name cannot be read, or names no configured trust).
    pub local_office: Option<String>,
    facts: DataTeamFacts,
    key: String,
    date: DateTime<Utc>,
}

impl QuarantineAlert {
    /// The alert of the file `display`, kept at quarantine key `key`, for `reason`.
    pub fn of(
        ctx: &Context<'_>,
        display: &str,
        key: &str,
        reason: &QuarantineReason,
    ) -> QuarantineAlert {
        let name = FileName::parse(display).ok();
        let local_office = local_office_of_file(ctx.organisations, display);
        // The file's own date, never the clock: a redelivery composes the same alert.
        let date = name
            .as_ref()
            .map_or(ctx.now, |name| name.date.and_time(NaiveTime::MIN).and_utc());
        QuarantineAlert {
            local_office,
            facts: DataTeamFacts::Quarantined {
                file: display.to_string(),
                code: reason.code.clone(),
                line: reason.line,
            },
            key: format!("quarantine/{key}.{}", reason.code),
            date,
        }
    }

    /// What the quarantine record says of the alert; `None` where no local office is
    /// configured at all, so that such records are as they were.
    pub fn note(&self, ctx: &Context<'_>) -> Option<String> {
        ctx.organisations.local_offices().next()?;
        Some(match &self.local_office {
            None => "none: the file's name names no local office".to_string(),
            Some(lo) => match ctx.organisations.local_office(lo) {
                Some(office) if !office.alert_emails.is_empty() => {
                    format!("sent to the {lo} data team")
                }
                _ => format!("none: local office {lo} has no alert_emails"),
            },
        })
    }
}

/// Sends the alert of a quarantined file to its local office's data team, if it has one.
///
/// # Errors
/// The mail service is unavailable for now (a refused alert is logged, not an error).
pub async fn send_quarantine_alert(
    ctx: &Context<'_>,
    alert: &QuarantineAlert,
) -> Result<(), ProcessError> {
    let Some(lo) = &alert.local_office else {
        return Ok(());
    };
    send(ctx, lo, &alert.facts, &alert.key, alert.date).await
}

/// Sends the missing numbers of a sequence check, if any, to every configured local office's
/// data team: TIS numbers its files across all local offices, so a missing number names none.
///
/// # Errors
/// As [`send_quarantine_alert`].
pub async fn send_missing_numbers(
    ctx: &Context<'_>,
    check: &SequenceCheck,
    base: &str,
) -> Result<(), ProcessError> {
    if check.missing_count == 0 {
        return Ok(());
    }
    let facts = DataTeamFacts::MissingNumbers {
        business_date: check.business_date,
        missing: check
            .file_types
            .iter()
            .filter(|t| t.missing_count > 0)
            .map(|t| (t.file_type.clone(), t.listed_missing()))
            .collect(),
    };
    let date = check.business_date.and_time(NaiveTime::MIN).and_utc();
    let offices: Vec<String> = ctx
        .organisations
        .local_offices()
        .map(|o| o.code.clone())
        .collect();
    for lo in offices {
        send(ctx, &lo, &facts, &format!("{base}.missing.lo-{lo}"), date).await?;
    }
    Ok(())
}

async fn send(
    ctx: &Context<'_>,
    lo: &str,
    facts: &DataTeamFacts,
    key: &str,
    date: DateTime<Utc>,
) -> Result<(), ProcessError> {
    let Some(office) = ctx
        .organisations
        .local_office(lo)
        .filter(|o| !o.alert_emails.is_empty())
    else {
        return Ok(());
    };
    let mail: Mail = compose_data_team(facts, lo, key, &office.alert_emails, date);
    match ctx.mailer.send(&mail).await {
        Ok(outcome) => {
            info!(
                local_office = lo,
                key,
                recipients = mail.to.len(),
                ?outcome,
                "data-team alert"
            );
            Ok(())
        }
        Err(err) if err.is_transient() => Err(err.into()),
        Err(err) => {
            warn!(local_office = lo, key, error = %err, "data-team alert refused, not sent");
            Ok(())
        }
    }
}

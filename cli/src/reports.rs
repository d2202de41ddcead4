//! `dit report notice|states|exceptions --from D1 --to D2 [--local-office LO] [--vpd VPD]
//! [--json|--csv]` (`exceptions` takes no `--vpd`):
//! the reports of section 12, as text, the JSON of section 12 or CSV (formula-safe cells).

use chrono::{NaiveDate, Utc};
use clap::{Args, Subcommand};
use dit_core::service::reporting::{exceptions, notice, states};
use dit_domain::reports::{
    exception_csv, notice_csv, state_csv, ExceptionReport, NoticeFigures, NoticeReport,
    ReportFilter, StateCounts, StateReport, STATE_COLUMNS, TOTAL_LABEL,
};

use crate::arguments::parse_date;
use crate::exit::{EXIT_FAILED, EXIT_USAGE};
use crate::local::Local;

#[derive(Debug, Subcommand)]
pub enum Report {
    /// The 12 weeks' notice: per local office and trust, applicants with hire dates in the range,
    /// the median notice in days and how many had under 12, 8 and 2 weeks, and late changes.
    Notice(Range),
    /// Applicants with hire dates in the range by state (and rejected applications whose record's
    /// hire date is in the range), per local office and trust.
    States(Range),
    /// Rejected applications of files dated in the range, by local office and message, with the
    /// placement id, trust, DPN and position number (no names).
    Exceptions(Range),
}

#[derive(Debug, Args)]
pub struct Range {
    /// First hire date (YYYY-MM-DD).
    #[arg(long, value_parser = parse_date)]
    from: NaiveDate,
    /// Last hire date (YYYY-MM-DD), included.
    #[arg(long, value_parser = parse_date)]
    to: NaiveDate,
    /// Only applicants loaded from this local office's files.
    #[arg(long)]
    local_office: Option<String>,
    /// Only this trust's applicants (not for `exceptions`).
    #[arg(long)]
    vpd: Option<String>,
    /// Print the JSON of section 12.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print CSV (the JSON's columns, the total last).
    #[arg(long)]
    csv: bool,
}

impl Range {
    fn filter(&self) -> ReportFilter {
        ReportFilter {
            local_office: self.local_office.clone(),
            vpd: self.vpd.clone(),
        }
    }
}

impl Range {
    /// The report as the options ask: the JSON of section 12, CSV, or text.
    fn render<T: serde::Serialize>(
        &self,
        report: &T,
        csv: fn(&T) -> String,
        text: fn(&T) -> String,
    ) -> String {
        if self.json {
            serde_json::to_string_pretty(report).unwrap_or_default()
        } else if self.csv {
            csv(report)
        } else {
            text(report)
        }
    }
}

/// A usage error for what the report cannot honour, and notes (on stderr) for codes that
/// organisations.toml does not know, which give an empty report rather than an error: a trust or
/// office no longer configured may still have applicants within their retention.
fn check_options(local: &Local, report: &Report) -> Result<Vec<String>, String> {
    let range = match report {
        Report::Exceptions(range) if range.vpd.is_some() => {
            return Err(
                "report exceptions has no --vpd: it lists a local office's rejected applications of every trust"
                    .to_string(),
            )
        }
        Report::Notice(range) | Report::States(range) | Report::Exceptions(range) => range,
    };
    let organisations = &local.organisations;
    let mut notes = Vec::new();
    if let Some(code) = &range.local_office {
        let known = organisations.local_office(code).is_some()
            || organisations
                .iter()
                .any(|org| org.accepts_local_office(code));
        if !known {
            notes.push(format!(
                "note: local office {code} is not in organisations.toml (no trust takes its files)"
            ));
        }
    }
    if let Some(vpd) = &range.vpd {
        if organisations.get(vpd).is_none() {
            notes.push(format!("note: trust {vpd} is not in organisations.toml"));
        }
    }
    Ok(notes)
}

pub async fn run(local: Local, report: Report) -> u8 {
    match check_options(&local, &report) {
        Ok(notes) => notes.iter().for_each(|note| eprintln!("{note}")),
        Err(usage) => {
            eprintln!("error: {usage}");
            return EXIT_USAGE;
        }
    }
    let ctx = local.context(Utc::now());
    let printed = match &report {
        Report::Notice(range) => notice(&ctx, range.from, range.to, &range.filter())
            .await
            .map(|report| range.render(&report, notice_csv, notice_text)),
        Report::States(range) => states(&ctx, range.from, range.to, &range.filter())
            .await
            .map(|report| range.render(&report, state_csv, state_text)),
        Report::Exceptions(range) => {
            exceptions(&ctx, range.from, range.to, range.local_office.as_deref())
                .await
                .map(|report| range.render(&report, exception_csv, exception_text))
        }
    };
    match printed {
        Ok(text) => {
            print!("{text}");
            if !text.ends_with('\n') {
                println!();
            }
            0
        }
        Err(err) => {
            eprintln!("error: {err}");
            EXIT_FAILED
        }
    }
}

fn notice_text(report: &NoticeReport) -> String {
    let mut text = format!(
        "12 weeks' notice, hire dates {} to {}\n",
        report.from, report.to
    );
    text.push_str(&format!(
        "{:<6} {:<6} {:>6} {:>7} {:>9} {:>7} {:>8} {:>8} {:>5}\n",
        "LO", "VPD", "count", "median", "<12 wks", "%", "<8 wks", "<2 wks", "late"
    ));
    for row in &report.rows {
        text.push_str(&notice_line(&row.local_office, &row.vpd, &row.figures));
    }
    text.push_str(&notice_line(TOTAL_LABEL, "", &report.total));
    text
}

fn state_text(report: &StateReport) -> String {
    let mut text = format!(
        "Applicants by state, hire dates {} to {}\n",
        report.from, report.to
    );
    text.push_str(&format!("{:<6} {:<6}", "LO", "VPD"));
    for column in STATE_COLUMNS {
        text.push_str(&format!(" {column:>9}"));
    }
    text.push('\n');
    for row in &report.rows {
        text.push_str(&state_line(&row.local_office, &row.vpd, &row.counts));
    }
    text.push_str(&state_line(TOTAL_LABEL, "", &report.total));
    text
}

fn exception_text(report: &ExceptionReport) -> String {
    let mut text = format!(
        "Rejected applications of files dated {} to {}\n",
        report.from, report.to
    );
    for group in &report.groups {
        text.push_str(&format!(
            "\n{} ({}): {}\n",
            group.local_office, group.count, group.message
        ));
        for r in &group.records {
            text.push_str(&format!(
                "  placement {:<10} trust {:<4} position {:<10} {}  {} record {}\n",
                r.placement_id,
                r.vpd.as_deref().unwrap_or("-"),
                r.position_number,
                r.dpn,
                r.source_file,
                r.record_number
            ));
        }
    }
    text
}

fn notice_line(lo: &str, vpd: &str, f: &NoticeFigures) -> String {
    let shown = |v: Option<f64>| v.map_or("-".to_string(), |v| v.to_string());
    format!(
        "{lo:<6} {vpd:<6} {:>6} {:>7} {:>9} {:>7} {:>8} {:>8} {:>5}\n",
        f.count,
        shown(f.median_days),
        f.under_12_weeks,
        shown(f.under_12_weeks_pct),
        f.under_8_weeks,
        f.under_2_weeks,
        f.late_changes
    )
}

fn state_line(lo: &str, vpd: &str, counts: &StateCounts) -> String {
    let mut line = format!("{lo:<6} {vpd:<6}");
    for count in counts.values() {
        line.push_str(&format!(" {count:>9}"));
    }
    line.push('\n');
    line
}

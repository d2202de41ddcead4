//! The POS pipeline (2.8): a trust's position snapshot replaces what the system knows of its
//! positions, and the trust gets its DPN readiness report. A snapshot never destroys what it
//! cannot read: an unreadable line keeps the position stored before, a POSITION_ID held by another
//! trust is not taken over, and a file older than the trust's last applied one is only reported.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::accepted::AcceptedFile;
use crate::ports::Area;
use crate::service::context::{Context, ProcessError};
use crate::service::output::{file_made_at, put_notification};
use crate::service::report::{FileReport, Outcome};
use dit_domain::envelope::LineReader;
use dit_domain::notify::{escape, page_start, table};
use dit_domain::pos::{
    mark_duplicate_dpns, read_position, readiness_report, Position, PositionStatus,
    ReadinessReport, RecordProblem, POS_FIELDS,
};
use dit_domain::sheets::{readiness_xlsx, XLSX_CONTENT_TYPE};

/// The watermark holding the business date of the trust's last applied POS file.
fn applied_watermark(vpd: &str) -> String {
    format!("pos-applied#{vpd}")
}

/// A POS line that could not be read, with what may still identify the position it is about.
struct UnreadLine {
    line: u64,
    position_id: String,
    position_number: String,
    dpn: String,
}

impl UnreadLine {
    fn of(record: &csv::StringRecord, line: u64) -> Self {
        let get = |field: &str| {
            POS_FIELDS
                .iter()
                .position(|f| *f == field)
                .and_then(|i| record.get(i))
                .unwrap_or("")
                .trim()
                .to_string()
        };
        UnreadLine {
            line,
            position_id: get("POSITION_ID"),
            position_number: get("POSITION_NUMBER"),
            dpn: get("DEANERY_POST_NUMBER"),
        }
    }

    /// The stored position of this trust the line is about: by POSITION_ID, or, when that
    /// cannot be read, by the one stored position (not named by a readable line) with its
    /// POSITION_NUMBER, else with its DPN.
    fn identify<'p>(
        &self,
        stored: &'p BTreeMap<String, Position>,
        read_ids: &HashMap<String, (u64, u64)>,
    ) -> Option<&'p Position> {
        let id_readable = !self.position_id.is_empty()
            && self.position_id.len() <= 15
            && self.position_id.bytes().all(|b| b.is_ascii_digit());
        if id_readable {
            return stored.get(&self.position_id);
        }
        let unique = |matches: &dyn Fn(&Position) -> bool| {
            let mut found = stored
                .values()
                .filter(|p| p.status != PositionStatus::Removed)
                .filter(|p| !read_ids.contains_key(&p.position_id))
                .filter(|p| matches(p));
            match (found.next(), found.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            }
        };
        let by_number = (!self.position_number.is_empty())
            .then(|| unique(&|p: &Position| p.position_number == self.position_number))
            .flatten();
        by_number.or_else(|| {
            (!self.dpn.is_empty())
                .then(|| unique(&|p: &Position| p.dpn == self.dpn))
                .flatten()
        })
    }
}

pub(crate) async fn process(
    ctx: &Context<'_>,
    file: &AcceptedFile<'_>,
) -> Result<FileReport, ProcessError> {
    let name = file.name;
    let vpd = name.source.as_str();
    let mut positions: Vec<Position> = Vec::new();
    let mut problems: Vec<RecordProblem> = Vec::new();
    // Each readable position id with its line and record number.
    let mut ids: HashMap<String, (u64, u64)> = HashMap::new();
    let mut unread: Vec<UnreadLine> = Vec::new();
    let mut reader = LineReader::new(file.bytes);
    let mut record = csv::StringRecord::new();
    let mut record_number = 0u64;
    while let Some(line) = reader.read(&mut record).unwrap_or(None) {
        if record.get(0) != Some("POS") {
            continue;
        }
        record_number += 1;
        match read_position(
            &record,
            vpd,
            file.business_date,
            &name.name,
            line,
            record_number,
        ) {
            Ok(position) if ids.contains_key(&position.position_id) => {
                problems.push(RecordProblem {
                    line,
                    record_number,
                    field: "POSITION_ID".to_string(),
                    problem: format!(
                    "POSITION_ID {} appears more than once in this file; the later line is ignored",
                    position.position_id
                ),
                })
            }
            Ok(position) => {
                ids.insert(position.position_id.clone(), (line, record_number));
                positions.push(position);
            }
            Err(mut found) => {
                unread.push(UnreadLine::of(&record, line));
                problems.append(&mut found);
            }
        }
        if record_number % 1000 == 0 {
            ctx.progress.advance(1000);
        }
    }
    ctx.progress.advance(record_number % 1000);

    // A POSITION_ID that another trust holds is not taken over (a removed one is free).
    let read: Vec<String> = positions.iter().map(|p| p.position_id.clone()).collect();
    let held = ctx.store.positions(&read).await?;
    positions.retain(|p| match held.get(&p.position_id) {
        Some(other) if other.vpd != vpd && other.status != PositionStatus::Removed => {
            let (line, record_number) = ids.get(&p.position_id).copied().unwrap_or_default();
            problems.push(RecordProblem {
                line,
                record_number,
                field: "POSITION_ID".to_string(),
                problem: format!(
                    "POSITION_ID {} belongs to another organisation",
                    p.position_id
                ),
            });
            false
        }
        _ => true,
    });
    mark_duplicate_dpns(&mut positions);

    let stored: BTreeMap<String, Position> = ctx
        .store
        .trust_positions(vpd)
        .await?
        .into_iter()
        .map(|p| (p.position_id.clone(), p))
        .collect();
    // Stored positions that an unreadable line is about stay as they were.
    let mut kept: HashSet<String> = HashSet::new();
    for line in &unread {
        if let Some(position) = line.identify(&stored, &ids) {
            kept.insert(position.position_id.clone());
            if let Some(problem) = problems.iter_mut().rev().find(|p| p.line == line.line) {
                problem.problem.push_str(&format!(
                    "; the stored position {} is kept as it was",
                    position.position_id
                ));
            }
        }
    }
    problems.sort_by_key(|p| p.line);

    let last_applied = ctx.store.watermark(&applied_watermark(vpd)).await?;
    let older = last_applied.filter(|last| *last > file.business_date);

    // Keep the change stamp of positions that did not change, so the RMC sends only real changes.
    // A position stamped with this very file was changed by an interrupted earlier run of it: it
    // still counts as changed here, so a rerun reports what a clean run would.
    let changed_by_this_file = |old: &Position| old.changed_in == name.name;
    let mut changed: Vec<Position> = Vec::new();
    for position in &mut positions {
        match stored.get(&position.position_id) {
            Some(old) if !position.differs_from(old) => {
                position.changed_in.clone_from(&old.changed_in);
                position.changed_on = old.changed_on;
                if changed_by_this_file(old) {
                    changed.push(position.clone());
                }
            }
            _ => changed.push(position.clone()),
        }
    }
    for (id, old) in &stored {
        let removed_before = old.status == PositionStatus::Removed && !changed_by_this_file(old);
        if !ids.contains_key(id) && !kept.contains(id) && !removed_before {
            let mut removed = old.clone();
            removed.status = PositionStatus::Removed;
            removed.duplicate_dpn = false;
            removed.changed_in.clone_from(&name.name);
            removed.changed_on = file.business_date;
            changed.push(removed);
        }
    }
    let not_applied = older.map(|last| {
        format!(
            "Not applied: this file is dated {}, older than the last POS file applied for trust {vpd} (dated {last}); the positions stay as that file left them.",
            file.business_date
        )
    });
    if not_applied.is_none() {
        ctx.store.save_positions(&changed).await?;
        ctx.store
            .advance_watermark(&applied_watermark(vpd), file.business_date)
            .await?;
    }

    let organisation = ctx.organisations.get(vpd).map(|o| o.name.as_str());
    let mut report_data = readiness_report(
        vpd,
        organisation,
        &name.name,
        file.business_date,
        &positions,
        problems,
    );
    report_data.not_applied.clone_from(&not_applied);
    let mut report = FileReport::new(&name.name, Outcome::Processed);
    if let Some(last) = older {
        report.operator_warnings.push(format!(
            "POS file of trust {vpd} dated {} is older than the last applied one (dated {last}): reported to the trust, not applied",
            file.business_date
        ));
    }
    report.loaded = positions.len() as u64;
    report.rejected = report_data.unreadable_records.len() as u64;
    report.warnings = (report_data.summary.dpn_quality_issues
        + report_data.summary.position_name_quality_issues
        + report_data.duplicate_dpn.len()) as u64;
    if ctx.organisations.get(vpd).is_none() {
        report
            .operator_warnings
            .push(format!("trust {vpd} is not in the organisation configuration; its positions are kept but cannot receive applicants"));
    }
    let stem = name.name.trim_end_matches(".DAT");
    let base = format!("trusts/{vpd}/reports/{stem}.dpn-readiness");
    let made_at = file_made_at(&file.generated_at, file.business_date);
    let html = render_html(&report_data);
    let [json, html] = put_notification(ctx, vpd, None, &base, &report_data, html, made_at).await?;
    report.outputs.push(json);
    // The spreadsheet's creation time is the file's HDR generated-at: same input, same bytes.
    let xlsx = readiness_xlsx(&report_data, &file.generated_at)?;
    ctx.blobs
        .put(
            Area::Outbound,
            &format!("{base}.xlsx"),
            xlsx,
            XLSX_CONTENT_TYPE,
        )
        .await?;
    report.outputs.push(html);
    report.outputs.push(format!("outbound/{base}.xlsx"));
    report.message = Some(match &not_applied {
        None => format!(
            "{} positions ({} changed), {} usable by the interface",
            positions.len(),
            changed.len(),
            report_data.summary.usable_positions
        ),
        Some(_) => format!(
            "{} positions read, not applied: older than the last applied POS file",
            positions.len()
        ),
    });
    Ok(report)
}

fn render_html(report: &ReadinessReport) -> String {
    let mut html = page_start(&format!("{} - VPD {}", report.title, report.vpd));
    html.push_str(&format!(
        "<p><b>File:</b> {}<br><b>Date:</b> {}</p>\n",
        escape(&report.file),
        report.business_date
    ));
    if let Some(note) = &report.not_applied {
        html.push_str(&format!("<p><b>{}</b></p>\n", escape(note)));
    }
    html.push_str("<h2>Summary</h2>\n");
    let s = &report.summary;
    html.push_str(&table(
        &["Statistic", "Value"],
        [
            (
                "No. of ESR Records with Deanery Records",
                s.records_with_dpn,
            ),
            (
                "No. of Deanery Records linked to multiple Positions",
                s.dpns_on_multiple_positions,
            ),
            ("No. of data quality issues with DPN", s.dpn_quality_issues),
            (
                "No. of data quality issues with Position Name",
                s.position_name_quality_issues,
            ),
            (
                "No. of positions usable by the interface",
                s.usable_positions,
            ),
            ("No. of unreadable records", s.unreadable_records),
        ]
        .into_iter()
        .map(|(k, v)| vec![k.to_string(), v.to_string()]),
    ));
    let row = |r: &dit_domain::pos::ReportRow| {
        vec![
            r.vpd.clone(),
            r.position_id.clone(),
            r.position_number.clone(),
            r.position_name.clone(),
            r.dpn.clone(),
            r.managing_deanery_body.clone(),
            format!("{:?}", r.status).to_lowercase(),
            r.dpn_issues
                .iter()
                .chain(&r.name_issues)
                .cloned()
                .collect::<Vec<_>>()
                .join("; "),
        ]
    };
    let headers = [
        "VPD",
        "Position Id",
        "Position Number",
        "Position Name",
        "DPN",
        "Managing Deanery Body",
        "Status",
        "Issues",
    ];
    html.push_str("<h2>Duplicate DPN</h2>\n");
    html.push_str(&table(&headers, report.duplicate_dpn.iter().map(row)));
    html.push_str("<h2>All DPN Positions</h2>\n");
    html.push_str(&table(&headers, report.all_dpn_positions.iter().map(row)));
    if !report.unreadable_records.is_empty() {
        html.push_str("<h2>Unreadable records</h2>\n");
        html.push_str(&table(
            &["Line", "Field", "Problem"],
            report
                .unreadable_records
                .iter()
                .map(|p| vec![p.line.to_string(), p.field.clone(), p.problem.clone()]),
        ));
    }
    html.push_str("<h2>Advice</h2>\n<ul>");
    for advice in &report.advice {
        html.push_str(&format!("<li>{}</li>", escape(advice)));
    }
    html.push_str("</ul>\n</body></html>\n");
    html
}

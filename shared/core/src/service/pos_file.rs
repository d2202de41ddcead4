//! The POS pipeline (2.8): a trust's position snapshot replaces what the system knows of its
//! positions, and the trust gets its DPN readiness report.

use std::collections::{BTreeMap, HashSet};

use super::context::{Context, ProcessError};
use super::inbound::Accepted;
use super::output::{file_made_at, put_notification};
use super::report::{FileReport, Outcome};
use crate::domain::envelope::LineReader;
use crate::domain::notify::{escape, page_start, table};
use crate::domain::pos::{
    mark_duplicate_dpns, read_position, readiness_report, Position, PositionStatus,
    ReadinessReport, RecordProblem,
};
use crate::domain::sheets::{readiness_xlsx, XLSX_CONTENT_TYPE};
use crate::ports::Area;

pub(crate) async fn process(
    ctx: &Context<'_>,
    file: &Accepted<'_>,
) -> Result<FileReport, ProcessError> {
    let name = file.name;
    let vpd = name.source.as_str();
    let mut positions: Vec<Position> = Vec::new();
    let mut problems: Vec<RecordProblem> = Vec::new();
    let mut ids: HashSet<String> = HashSet::new();
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
            Ok(position) if !ids.insert(position.position_id.clone()) => {
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
            Ok(position) => positions.push(position),
            Err(mut found) => problems.append(&mut found),
        }
        if record_number % 1000 == 0 {
            ctx.progress.advance(1000);
        }
    }
    ctx.progress.advance(record_number % 1000);
    mark_duplicate_dpns(&mut positions);

    // Keep the change stamp of positions that did not change, so the RMC sends only real changes.
    let stored: BTreeMap<String, Position> = ctx
        .store
        .trust_positions(vpd)
        .await?
        .into_iter()
        .map(|p| (p.position_id.clone(), p))
        .collect();
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
        if !ids.contains(id) && !removed_before {
            let mut removed = old.clone();
            removed.status = PositionStatus::Removed;
            removed.duplicate_dpn = false;
            removed.changed_in.clone_from(&name.name);
            removed.changed_on = file.business_date;
            changed.push(removed);
        }
    }
    ctx.store.save_positions(&changed).await?;

    let organisation = ctx.organisations.get(vpd).map(|o| o.name.as_str());
    let report_data = readiness_report(
        vpd,
        organisation,
        &name.name,
        file.business_date,
        &positions,
        problems,
    );
    let mut report = FileReport::new(&name.name, Outcome::Processed);
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
    let [json, html] = put_notification(ctx, vpd, &base, &report_data, html, made_at).await?;
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
    report.message = Some(format!(
        "{} positions ({} changed), {} usable by the interface",
        positions.len(),
        changed.len(),
        report_data.summary.usable_positions
    ));
    Ok(report)
}

fn render_html(report: &ReadinessReport) -> String {
    let mut html = page_start(&format!("{} - VPD {}", report.title, report.vpd));
    html.push_str(&format!(
        "<p><b>File:</b> {}<br><b>Date:</b> {}</p>\n<h2>Summary</h2>\n",
        escape(&report.file),
        report.business_date
    ));
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
    let row = |r: &crate::domain::pos::ReportRow| {
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

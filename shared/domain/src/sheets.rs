//! Spreadsheets (`.xlsx`) for a trust's Medical Staffing Officer: the MEDROT rotation grid and the
//! DPN readiness report (section 4).
//!
//! Safety rule: every text cell is written by [`write_text`], and only there. Text is always stored
//! as a string cell (never as a formula, never through a writer that guesses the type), and text
//! beginning with `=`, `+`, `-` or `@` (or a tab or carriage return) also carries the quote-prefix
//! style, so a spreadsheet program keeps it as text even when someone edits the cell. Numbers that
//! are identifiers (position ids, GMC numbers, position numbers) are text too.
//!
//! Deterministic bytes: the document's creation time comes from the input (the file's HDR
//! generated-at), and the zip entries carry a fixed time, so the same input gives the same bytes in
//! every run, locally and in AWS.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike};
use rust_xlsxwriter::{
    Color, DocProperties, ExcelDateTime, Format, FormatBorder, FormatPattern, FormatUnderline,
    Workbook, Worksheet, XlsxError,
};

use super::dnc::RotationEntry;
use super::pos::{ReadinessReport, ReportRow, DPN_RULES, POSITION_NAME_RULES};

/// Excel's limit on the characters of one cell.
pub const MAX_CELL_CHARS: usize = 32_767;

/// The MIME type of an `.xlsx` file.
pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A spreadsheet that could not be built (a limit of the format was exceeded).
#[derive(Debug, thiserror::Error)]
#[error("spreadsheet {what} could not be written: {reason}")]
pub struct SheetError {
    pub what: String,
    pub reason: String,
}

impl SheetError {
    fn new(what: &str, err: &XlsxError) -> Self {
        SheetError {
            what: what.to_string(),
            reason: err.to_string(),
        }
    }
}

/// True when a spreadsheet program would read this text, typed into a cell, as a formula.
pub fn is_formula_like(text: &str) -> bool {
    matches!(
        text.chars().next(),
        Some('=' | '+' | '-' | '@' | '\t' | '\r')
    )
}

/// Writes `text` into a cell as a string: the one way text gets into a spreadsheet here.
///
/// Formula-like text gets the quote-prefix style as well; text longer than Excel's cell limit is
/// cut at [`MAX_CELL_CHARS`] characters.
///
/// # Errors
/// [`XlsxError`] when the cell is outside the sheet's limits.
pub fn write_text(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    text: &str,
    format: &Format,
) -> Result<(), XlsxError> {
    let text = match text.char_indices().nth(MAX_CELL_CHARS) {
        Some((cut, _)) => &text[..cut],
        None => text,
    };
    if is_formula_like(text) {
        sheet.write_string_with_format(row, col, text, &format.clone().set_quote_prefix())?;
    } else {
        sheet.write_string_with_format(row, col, text, format)?;
    }
    Ok(())
}

/// A date cell shown as `8 August 2019`; empty when there is no date.
fn write_date(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    date: Option<NaiveDate>,
    styles: &Styles,
) -> Result<(), XlsxError> {
    let Some(date) = date else {
        return Ok(());
    };
    match excel_date(date) {
        Some(excel) => {
            sheet.write_datetime_with_format(row, col, &excel, &styles.date)?;
        }
        // Outside Excel's calendar (before 1900 or after 9999): the ISO text instead.
        None => write_text(sheet, row, col, &date.to_string(), &styles.cell)?,
    }
    Ok(())
}

/// A working-time equivalent as a number when it is plainly one (`1.0`, `0.6`), otherwise as text.
fn write_wte(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    wte: &str,
    styles: &Styles,
) -> Result<(), XlsxError> {
    let plain = !wte.is_empty()
        && wte.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && wte.bytes().filter(|b| *b == b'.').count() <= 1
        && wte.bytes().next().is_some_and(|b| b.is_ascii_digit());
    match wte.parse::<f64>() {
        Ok(value) if plain => {
            sheet.write_number_with_format(row, col, value, &styles.wte)?;
        }
        _ => write_text(sheet, row, col, wte, &styles.cell)?,
    }
    Ok(())
}

fn excel_date(date: NaiveDate) -> Option<ExcelDateTime> {
    ExcelDateTime::from_ymd(
        u16::try_from(date.year()).ok()?,
        u8::try_from(date.month()).ok()?,
        u8::try_from(date.day()).ok()?,
    )
    .ok()
}

/// The HDR generated-at as a time, when it is valid RFC 3339 (its own offset kept).
fn generated_time(generated_at: &str) -> Option<NaiveDateTime> {
    DateTime::parse_from_rfc3339(generated_at.trim())
        .ok()
        .map(|t| t.naive_local())
}

/// `Date generated : 2019/07/02 18:04:01`, as the ESR MEDROT shows it.
pub fn date_generated(generated_at: &str) -> String {
    match generated_time(generated_at) {
        Some(t) => format!("Date generated : {}", t.format("%Y/%m/%d %H:%M:%S")),
        None => format!("Date generated : {}", generated_at.trim()),
    }
}

/// A workbook whose creation time is `created` (UTC), so its bytes depend on the input only.
fn workbook(title: &str, generated_at: &str, fallback: NaiveDate) -> Workbook {
    let utc = DateTime::parse_from_rfc3339(generated_at.trim())
        .ok()
        .map(|t| t.naive_utc())
        .unwrap_or_else(|| fallback.and_hms_opt(0, 0, 0).unwrap_or_default());
    let created = excel_date(utc.date())
        .and_then(|d| {
            d.and_hms(
                u16::try_from(utc.hour()).ok()?,
                u8::try_from(utc.minute()).ok()?,
                utc.second(),
            )
            .ok()
        })
        .or_else(|| ExcelDateTime::from_ymd(2000, 1, 1).ok());
    let mut properties = DocProperties::new().set_title(title);
    if let Some(created) = created {
        properties = properties.set_creation_datetime(&created);
    }
    let mut book = Workbook::new();
    book.set_properties(&properties);
    book
}

/// The styles of both spreadsheets.
struct Styles {
    title: Format,
    heading: Format,
    group: Format,
    header: Format,
    cell: Format,
    wrapped: Format,
    date: Format,
    wte: Format,
    count: Format,
    issue: Format,
}

impl Styles {
    fn new() -> Self {
        let header = Format::new()
            .set_bold()
            .set_text_wrap()
            .set_border(FormatBorder::Thin)
            .set_background_color(Color::RGB(0xD9E1F2))
            .set_pattern(FormatPattern::Solid);
        Styles {
            title: Format::new().set_bold().set_font_size(12),
            heading: Format::new()
                .set_bold()
                .set_underline(FormatUnderline::Single),
            group: header
                .clone()
                .set_background_color(Color::RGB(0xB4C6E7))
                .set_align(rust_xlsxwriter::FormatAlign::Center),
            header,
            cell: Format::new(),
            wrapped: Format::new()
                .set_text_wrap()
                .set_align(rust_xlsxwriter::FormatAlign::Top),
            date: Format::new().set_num_format("d mmmm yyyy"),
            wte: Format::new().set_num_format("0.0#"),
            count: Format::new().set_align(rust_xlsxwriter::FormatAlign::Left),
            // Excel's "Bad" style: light red fill, dark red text.
            issue: Format::new()
                .set_background_color(Color::RGB(0xFFC7CE))
                .set_pattern(FormatPattern::Solid)
                .set_font_color(Color::RGB(0x9C0006)),
        }
    }
}

/// Prints landscape, one page wide, with the header rows (up to `last_header_row`) on every page.
fn print_wide(sheet: &mut Worksheet, last_header_row: u32) -> Result<(), XlsxError> {
    sheet.set_landscape().set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(0, last_header_row)?;
    Ok(())
}

/// The MEDROT column headers, in order: eight for the current post holder, eight for the next.
pub const MEDROT_CURRENT_COLUMNS: [&str; 8] = [
    "ESR Position",
    "TPN Number",
    "Place of Work",
    "Last Name",
    "First Name",
    "GMC Number",
    "Projected End Date",
    "Next Placement",
];
pub const MEDROT_NEXT_COLUMNS: [&str; 8] = [
    "Last Name",
    "First Name",
    "GMC Number",
    "Current Placement",
    "Email Address",
    "Projected Working (WTE)",
    "Projected Start Date",
    "Grade",
];
const MEDROT_WIDTHS: [f64; 16] = [
    13.0, 26.0, 24.0, 16.0, 16.0, 11.0, 17.0, 26.0, 16.0, 16.0, 11.0, 26.0, 30.0, 12.0, 17.0, 8.0,
];

/// The rotation grid in position order: position ids numerically, then rows known by DPN only.
pub fn medrot_order(entries: &mut [RotationEntry]) {
    entries.sort_by(|a, b| {
        (
            a.position_id.is_empty(),
            a.position_id.len(),
            &a.position_id,
            &a.dpn,
        )
            .cmp(&(
                b.position_id.is_empty(),
                b.position_id.len(),
                &b.position_id,
                &b.dpn,
            ))
    });
}

/// How the MEDROT marks a next post holder who is already an employee of the trust (10): after
/// their current placement, so the sixteen columns of section 4 stay as they are.
pub const INTERNAL_MARK: &str = "internal";

/// The Medical Rotation grid (MEDROT) of one trust, one row per position, in position order.
///
/// `generated_at` is the notification file's HDR generated-at: it is the "Date generated" title and
/// the document's creation time. `internal_next` holds the GMC numbers of next post holders who are
/// internal movers: their Current Placement is marked [`INTERNAL_MARK`].
///
/// # Errors
/// [`SheetError`] when the grid exceeds the format's limits (over a million rows).
pub fn medrot_xlsx(
    vpd: &str,
    generated_at: &str,
    business_date: NaiveDate,
    entries: &[RotationEntry],
    internal_next: &BTreeSet<String>,
) -> Result<Vec<u8>, SheetError> {
    let what = format!("MEDROT {vpd}");
    let mut rows = entries.to_vec();
    medrot_order(&mut rows);
    let mut book = workbook(
        &format!("Medical Rotation Grid - VPD {vpd}"),
        generated_at,
        business_date,
    );
    build_medrot(book.add_worksheet(), generated_at, &rows, internal_next)
        .map_err(|e| SheetError::new(&what, &e))?;
    book.save_to_buffer()
        .map_err(|e| SheetError::new(&what, &e))
}

fn build_medrot(
    sheet: &mut Worksheet,
    generated_at: &str,
    rows: &[RotationEntry],
    internal_next: &BTreeSet<String>,
) -> Result<(), XlsxError> {
    let styles = Styles::new();
    sheet.set_name("MEDROT")?;
    for (col, width) in (0u16..).zip(MEDROT_WIDTHS) {
        sheet.set_column_width(col, width)?;
    }
    write_text(sheet, 0, 0, &date_generated(generated_at), &styles.title)?;
    // Two-level header: the group over its eight columns, then the column names.
    for (first, group) in [(0u16, "Current Post Holder"), (8, "Next Post Holder")] {
        sheet.merge_range(1, first, 1, first + 7, "", &styles.group)?;
        write_text(sheet, 1, first, group, &styles.group)?;
    }
    for (col, header) in (0u16..).zip(MEDROT_CURRENT_COLUMNS.iter().chain(&MEDROT_NEXT_COLUMNS)) {
        write_text(sheet, 2, col, header, &styles.header)?;
    }
    sheet.set_freeze_panes(3, 0)?;
    print_wide(sheet, 2)?;
    let mut row = 3u32;
    for entry in rows {
        let c = &styles.cell;
        write_text(sheet, row, 0, &entry.position_id, c)?;
        write_text(sheet, row, 1, &entry.dpn, c)?;
        write_text(sheet, row, 2, &entry.site, c)?;
        write_text(sheet, row, 3, &entry.current.last_name, c)?;
        write_text(sheet, row, 4, &entry.current.first_name, c)?;
        write_text(sheet, row, 5, &entry.current.gmc_number, c)?;
        write_date(sheet, row, 6, entry.current_projected_end_date, &styles)?;
        write_text(sheet, row, 7, &entry.current_next_placement_site, c)?;
        write_text(sheet, row, 8, &entry.next.last_name, c)?;
        write_text(sheet, row, 9, &entry.next.first_name, c)?;
        write_text(sheet, row, 10, &entry.next.gmc_number, c)?;
        write_text(sheet, row, 11, &next_placement(entry, internal_next), c)?;
        write_text(sheet, row, 12, &entry.next_email_address, c)?;
        write_wte(sheet, row, 13, &entry.next_wte, &styles)?;
        write_date(sheet, row, 14, entry.next_projected_start_date, &styles)?;
        write_text(sheet, row, 15, &entry.next_grade, c)?;
        row += 1;
    }
    sheet.autofilter(2, 0, row.max(4) - 1, 15)?;
    Ok(())
}

/// The next holder's current placement, marked when the holder is an internal mover.
fn next_placement(entry: &RotationEntry, internal_next: &BTreeSet<String>) -> String {
    let site = &entry.next_current_placement_site;
    let gmc = &entry.next.gmc_number;
    if gmc.is_empty() || !internal_next.contains(gmc) {
        site.clone()
    } else if site.is_empty() {
        INTERNAL_MARK.to_string()
    } else {
        format!("{site} ({INTERNAL_MARK})")
    }
}

/// The background and issue wording of the ESR DPN report.
pub const READINESS_BACKGROUND: [&str; 2] = [
    "As ESR position data is transferred to Deanery/Local office system (e.g. Intrepid/TIS) as part of the Streamlined Deanery Interface, where a trust has the same DPN on more than one active ESR positions, problems may occur with the interface process. The duplicate posts cause the Deanery/Local office system confusion and may generate multiple applications for the same DPN within a single file.",
    "Additionally, it has been identified that it is possible for the DPN and/or Position Name to contain invalid characters (such as tabs/linefeeds). These data quality issues can result in the record not transferring correctly.",
];
pub const READINESS_ISSUE: &str = "We have established that there are a number of posts within your workstructures that have either duplicate DPNs and/or data quality issues and must be resolved before go-live on the Streamlined Deanery Interface. Duplicates are itemised on the 'Duplicate DPN' tab and data quality issues will be highlighted in red on the 'All DPN Positions' tab.";
pub const READINESS_NO_ISSUE: &str =
    "No duplicate DPNs and no data quality issues were found in this file.";

/// The columns of the Duplicate DPN sheet; All DPN Positions adds Status and Issues.
pub const DPN_COLUMNS: [&str; 5] = [
    "VPD",
    "Position Number",
    "Position Name",
    "DPN",
    "Managing Deanery Body",
];

/// The DPN readiness report as a workbook: Summary, Duplicate DPN and All DPN Positions.
///
/// `generated_at` is the POS file's HDR generated-at (the document's creation time).
///
/// # Errors
/// [`SheetError`] when the report exceeds the format's limits (over a million positions).
pub fn readiness_xlsx(report: &ReadinessReport, generated_at: &str) -> Result<Vec<u8>, SheetError> {
    let what = format!("DPN readiness report {}", report.file);
    let fail = |e: XlsxError| SheetError::new(&what, &e);
    let mut book = workbook(
        &format!("{} - VPD {}", report.title, report.vpd),
        generated_at,
        report.business_date,
    );
    let styles = Styles::new();
    build_summary(book.add_worksheet(), report, &styles).map_err(fail)?;
    build_positions(
        book.add_worksheet(),
        "Duplicate DPN",
        &report.duplicate_dpn,
        false,
        &styles,
    )
    .map_err(fail)?;
    build_positions(
        book.add_worksheet(),
        "All DPN Positions",
        &report.all_dpn_positions,
        true,
        &styles,
    )
    .map_err(fail)?;
    book.save_to_buffer().map_err(fail)
}

/// Writes the Summary sheet line by line: a label in column A, a value or paragraph in column B.
struct Lines {
    row: u32,
}

impl Lines {
    fn line(
        &mut self,
        sheet: &mut Worksheet,
        label: &str,
        value: &str,
        label_format: &Format,
        value_format: &Format,
    ) -> Result<(), XlsxError> {
        write_text(sheet, self.row, 0, label, label_format)?;
        write_text(sheet, self.row, 1, value, value_format)?;
        self.row += 1;
        Ok(())
    }

    fn count(
        &mut self,
        sheet: &mut Worksheet,
        label: &str,
        value: usize,
        styles: &Styles,
    ) -> Result<(), XlsxError> {
        write_text(sheet, self.row, 0, label, &styles.cell)?;
        sheet.write_number_with_format(self.row, 1, value as f64, &styles.count)?;
        self.row += 1;
        Ok(())
    }

    fn heading(
        &mut self,
        sheet: &mut Worksheet,
        text: &str,
        styles: &Styles,
    ) -> Result<(), XlsxError> {
        self.line(sheet, text, "", &styles.heading, &styles.cell)
    }

    fn paragraph(
        &mut self,
        sheet: &mut Worksheet,
        text: &str,
        styles: &Styles,
    ) -> Result<(), XlsxError> {
        // Spreadsheet programs do not grow a row for wrapped text on their own: about 100
        // characters fit on one line of the 110-wide column.
        let lines = text.chars().count().div_ceil(100).max(1);
        sheet.set_row_height(self.row, 15.0 * lines as f64)?;
        self.line(sheet, "", text, &styles.cell, &styles.wrapped)
    }

    fn field(
        &mut self,
        sheet: &mut Worksheet,
        label: &str,
        value: &str,
        styles: &Styles,
    ) -> Result<(), XlsxError> {
        self.line(sheet, label, value, &styles.cell, &styles.cell)
    }

    fn gap(&mut self) {
        self.row += 1;
    }
}

fn build_summary(
    sheet: &mut Worksheet,
    report: &ReadinessReport,
    styles: &Styles,
) -> Result<(), XlsxError> {
    sheet.set_name("Summary")?;
    sheet.set_landscape().set_print_fit_to_pages(1, 0);
    sheet.set_column_width(0, 52.0)?;
    sheet.set_column_width(1, 110.0)?;
    let mut lines = Lines { row: 0 };
    lines.heading(sheet, "Deanery Report Summary", styles)?;
    lines.field(sheet, "VPD", &report.vpd, styles)?;
    if let Some(name) = &report.organisation_name {
        lines.field(sheet, "Organisation", name, styles)?;
    }
    lines.field(sheet, "File Name", &report.file, styles)?;
    lines.field(
        sheet,
        "Business Date",
        &report.business_date.format("%d %B %Y").to_string(),
        styles,
    )?;
    if let Some(note) = &report.not_applied {
        lines.field(sheet, "Not Applied", note, styles)?;
    }
    lines.gap();
    lines.heading(sheet, "Background", styles)?;
    for paragraph in READINESS_BACKGROUND {
        lines.paragraph(sheet, paragraph, styles)?;
    }
    lines.heading(sheet, "Issue", styles)?;
    let s = &report.summary;
    let clean = s.dpns_on_multiple_positions == 0
        && s.dpn_quality_issues == 0
        && s.position_name_quality_issues == 0;
    lines.paragraph(
        sheet,
        if clean {
            READINESS_NO_ISSUE
        } else {
            READINESS_ISSUE
        },
        styles,
    )?;
    lines.gap();
    lines.heading(sheet, "Statistics", styles)?;
    for (label, value) in [
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
    ] {
        lines.count(sheet, label, value, styles)?;
    }
    lines.gap();
    lines.heading(sheet, "Advice Notes", styles)?;
    for (i, advice) in report.advice.iter().enumerate() {
        lines.paragraph(sheet, &format!("{}. {advice}", i + 1), styles)?;
    }
    lines.paragraph(
        sheet,
        "For more information, please contact your ESR Deanery Programme Lead.",
        styles,
    )?;
    lines.gap();
    lines.heading(
        sheet,
        "A DPN format should adhere to the following rules:",
        styles,
    )?;
    for rule in DPN_RULES {
        lines.paragraph(sheet, rule, styles)?;
    }
    lines.gap();
    lines.heading(
        sheet,
        "A Position Name format should adhere to the following rules:",
        styles,
    )?;
    for rule in POSITION_NAME_RULES {
        lines.paragraph(sheet, rule, styles)?;
    }
    if !report.unreadable_records.is_empty() {
        lines.gap();
        lines.heading(
            sheet,
            "Unreadable records (left out of this report)",
            styles,
        )?;
        for problem in &report.unreadable_records {
            lines.field(
                sheet,
                &format!("Line {}", problem.line),
                &format!("{}: {}", problem.field, problem.problem),
                styles,
            )?;
        }
    }
    Ok(())
}

/// The issues of one row, as the Issues column shows them.
pub fn row_issues(row: &ReportRow) -> Vec<String> {
    let mut issues: Vec<String> = Vec::new();
    if row.duplicate_dpn {
        issues.push("Duplicate DPN: on more than one active position".to_string());
    }
    issues.extend(row.dpn_issues.iter().cloned());
    issues.extend(row.name_issues.iter().cloned());
    issues
}

fn status_label(row: &ReportRow) -> &'static str {
    match row.status {
        super::pos::PositionStatus::Active => "Active",
        super::pos::PositionStatus::Inactive => "Inactive",
        super::pos::PositionStatus::Removed => "Removed",
    }
}

fn build_positions(
    sheet: &mut Worksheet,
    name: &str,
    rows: &[ReportRow],
    with_status: bool,
    styles: &Styles,
) -> Result<(), XlsxError> {
    sheet.set_name(name)?;
    let mut headers: Vec<&str> = DPN_COLUMNS.to_vec();
    let mut widths = vec![8.0, 16.0, 40.0, 30.0, 22.0];
    if with_status {
        headers.extend(["Status", "Issues"]);
        widths.extend([10.0, 80.0]);
    }
    for (col, (header, width)) in (0u16..).zip(headers.iter().zip(widths)) {
        sheet.set_column_width(col, width)?;
        write_text(sheet, 0, col, header, &styles.header)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    print_wide(sheet, 0)?;
    let mut at = 1u32;
    for row in rows {
        let issues = row_issues(row);
        let format = if with_status && !issues.is_empty() {
            &styles.issue
        } else {
            &styles.cell
        };
        let mut cells = vec![
            row.vpd.clone(),
            row.position_number.clone(),
            row.position_name.clone(),
            row.dpn.clone(),
            row.managing_deanery_body.clone(),
        ];
        if with_status {
            cells.push(status_label(row).to_string());
            cells.push(issues.join("; "));
        }
        for (col, cell) in (0u16..).zip(&cells) {
            write_text(sheet, at, col, cell, format)?;
        }
        at += 1;
    }
    let last_col = u16::try_from(headers.len()).unwrap_or(1) - 1;
    sheet.autofilter(0, 0, at.max(2) - 1, last_col)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// The text of one part of an `.xlsx` package.
    fn part(bytes: &[u8], name: &str) -> String {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut text = String::new();
        archive
            .by_name(name)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    fn parts(bytes: &[u8]) -> Vec<String> {
        let archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        archive
            .file_names()
            .map(|n| n.unwrap().into_owned())
            .collect()
    }

    #[test]
    fn formula_like_text_is_recognised() {
        for text in ["=1+1", "+1", "-2", "@SUM(A1)", "\t=x", "\r=x"] {
            assert!(is_formula_like(text), "{text:?}");
        }
        for text in ["", "Smith", "1-2", "a=b", " =1"] {
            assert!(!is_formula_like(text), "{text:?}");
        }
    }

    #[test]
    fn text_cells_are_strings_with_a_quote_prefix_when_formula_like() {
        let mut book = Workbook::new();
        book.set_properties(
            &DocProperties::new()
                .set_creation_datetime(&ExcelDateTime::from_ymd(2026, 1, 1).unwrap()),
        );
        let sheet = book.add_worksheet();
        let plain = Format::new();
        write_text(sheet, 0, 0, "=HYPERLINK(\"http://x\",\"y\")", &plain).unwrap();
        write_text(sheet, 0, 1, "Smith", &plain).unwrap();
        write_text(sheet, 0, 2, &"x".repeat(MAX_CELL_CHARS + 10), &plain).unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let xml = part(&bytes, "xl/worksheets/sheet1.xml");
        assert!(!xml.contains("<f>") && !xml.contains("<f "), "{xml}");
        assert!(xml.contains(r#"<c r="A1" s="1" t="s">"#), "{xml}");
        assert!(xml.contains(r#"<c r="B1" t="s">"#), "{xml}");
        let styles = part(&bytes, "xl/styles.xml");
        assert!(styles.contains(r#"quotePrefix="1""#), "{styles}");
        let strings = part(&bytes, "xl/sharedStrings.xml");
        assert!(
            strings.contains("=HYPERLINK(\"http://x\",\"y\")"),
            "{strings}"
        );
    }

    #[test]
    fn the_same_input_gives_the_same_bytes() {
        let generated = "2026-11-21T13:00:00Z";
        let date = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        let a = medrot_xlsx("504", generated, date, &[], &BTreeSet::new()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let b = medrot_xlsx("504", generated, date, &[], &BTreeSet::new()).unwrap();
        assert_eq!(a, b);
        let core = part(&a, "docProps/core.xml");
        assert!(core.contains("2026-11-21T13:00:00Z"), "{core}");
        assert!(parts(&a).contains(&"xl/worksheets/sheet1.xml".to_string()));
    }

    #[test]
    fn the_title_shows_the_generated_time_as_esr_does() {
        assert_eq!(
            date_generated("2019-07-02T18:04:01+01:00"),
            "Date generated : 2019/07/02 18:04:01"
        );
        assert_eq!(date_generated("not a time"), "Date generated : not a time");
    }

    /// Guards the safety rule: this module writes strings in one place only, and never formulas.
    #[test]
    fn text_is_written_in_one_place_only() {
        let source = include_str!("sheets.rs");
        let code = source.split("#[cfg(test)]").next().unwrap();
        let count = |needle: &str| code.matches(needle).count();
        assert_eq!(count(".write_string"), 2, "only write_text writes strings");
        for forbidden in [
            concat!("write_", "formula"),
            concat!(".write", "("),
            concat!(".write_", "with_format("),
            concat!("write_", "row"),
            concat!("write_", "column"),
            concat!("write_", "rich"),
            concat!("write_", "url"),
        ] {
            assert_eq!(count(forbidden), 0, "{forbidden} is not used");
        }
    }
}

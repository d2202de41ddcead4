//! File names and the HDR/TRL envelope of section 2.1-2.3 of the interface contract.
//!
//! The envelope scan is the first of two streaming passes over a file: it proves the file is whole
//! and well formed before anything in it is applied.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Local office codes accepted in `DE_<LO>_...` file names.
pub const LOCAL_OFFICES: [&str; 14] = [
    "EMD", "EOE", "KSS", "LDN", "MER", "NTH", "NWN", "OXF", "PEN", "SEV", "WES", "WMD", "YHD",
    "WAL",
];

/// The only format version this build reads (last field of HDR).
pub const FORMAT_VERSION: &str = "1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "UPPERCASE")]
pub enum FileType {
    Pos,
    App,
    Dnf,
    Dnc,
    Apc,
    Dcc,
    Rmc,
    Rmf,
}

impl FileType {
    pub fn code(self) -> &'static str {
        match self {
            FileType::Pos => "POS",
            FileType::App => "APP",
            FileType::Dnf => "DNF",
            FileType::Dnc => "DNC",
            FileType::Apc => "APC",
            FileType::Dcc => "DCC",
            FileType::Rmc => "RMC",
            FileType::Rmf => "RMF",
        }
    }

    pub fn parse(code: &str) -> Option<FileType> {
        Some(match code {
            "POS" => FileType::Pos,
            "APP" => FileType::App,
            "DNF" => FileType::Dnf,
            "DNC" => FileType::Dnc,
            "APC" => FileType::Apc,
            "DCC" => FileType::Dcc,
            "RMC" => FileType::Rmc,
            "RMF" => FileType::Rmf,
            _ => return None,
        })
    }

    /// Files this system receives (the others it only writes).
    pub fn is_inbound(self) -> bool {
        matches!(
            self,
            FileType::Pos | FileType::App | FileType::Dnf | FileType::Dnc
        )
    }

    /// The file types TIS sends, each numbered with one sequence across all local offices (2.3):
    /// the types the daily sequence check looks at.
    pub const TIS_SEQUENCES: [FileType; 3] = [FileType::App, FileType::Dnc, FileType::Dnf];

    /// A TIS file type with a sequence of its own (APP, DNC, DNF; not a trust's POS).
    pub fn is_tis_sequence(self) -> bool {
        Self::TIS_SEQUENCES.contains(&self)
    }

    /// The record code of data lines and the number of fields on each (record code included).
    pub fn data_layout(self) -> Option<(&'static str, usize)> {
        match self {
            FileType::App => Some(("APP", 38)),
            FileType::Pos => Some(("POS", 14)),
            FileType::Dnc | FileType::Dnf => Some(("DNC", 33)),
            _ => None,
        }
    }

    /// Business order inside one date: positions first, then applicants, then notifications.
    fn business_rank(self) -> u8 {
        match self {
            FileType::Pos => 0,
            FileType::App => 1,
            FileType::Dnf => 2,
            FileType::Dnc => 3,
            _ => 4,
        }
    }
}

impl fmt::Display for FileType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A parsed file name: `DE_<LO>_<TYPE>_<YYYYMMDD>_<SEQ>.DAT` or `ESR_<VPD>_POS_<YYYYMMDD>_<SEQ>.DAT`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FileName {
    pub name: String,
    pub file_type: FileType,
    /// Local office code for TIS files, VPD code for trust POS files.
    pub source: String,
    pub date: NaiveDate,
    pub seq: String,
}

impl FileName {
    /// Parses the last path segment of `path_or_name`.
    ///
    /// # Errors
    /// A sentence saying which part of the name is wrong.
    pub fn parse(path_or_name: &str) -> Result<FileName, String> {
        let name = path_or_name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(path_or_name);
        let expected =
            "expected DE_<LO>_<TYPE>_<YYYYMMDD>_<SEQ>.DAT or ESR_<VPD>_POS_<YYYYMMDD>_<SEQ>.DAT";
        let Some(stem) = name.strip_suffix(".DAT") else {
            return Err(format!(
                "file name {name} does not end in .DAT ({expected})"
            ));
        };
        let parts: Vec<&str> = stem.split('_').collect();
        if parts.len() != 5 {
            return Err(format!(
                "file name {name} does not match the pattern ({expected})"
            ));
        }
        let (prefix, source, type_code, date, seq) =
            (parts[0], parts[1], parts[2], parts[3], parts[4]);
        let file_type = FileType::parse(type_code).ok_or_else(|| {
            format!("file name {name}: unknown file type {type_code} ({expected})")
        })?;
        match prefix {
            "DE" => {
                if !LOCAL_OFFICES.contains(&source) {
                    return Err(format!(
                        "file name {name}: {source} is not a local office code ({})",
                        LOCAL_OFFICES.join(", ")
                    ));
                }
                if file_type == FileType::Pos {
                    return Err(format!(
                        "file name {name}: POS files come from a trust and are named ESR_<VPD>_POS_..."
                    ));
                }
            }
            "ESR" => {
                if file_type != FileType::Pos {
                    return Err(format!(
                        "file name {name}: ESR_<VPD>_ files must be POS files"
                    ));
                }
                if !is_vpd(source) {
                    return Err(format!(
                        "file name {name}: {source} is not a VPD code (3 or 4 letters or digits)"
                    ));
                }
            }
            _ => {
                return Err(format!(
                    "file name {name} does not match the pattern ({expected})"
                ))
            }
        }
        let date = parse_compact_date(date)
            .ok_or_else(|| format!("file name {name}: {date} is not a date in YYYYMMDD form"))?;
        if seq.len() != 8 || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("file name {name}: sequence {seq} is not 8 digits"));
        }
        Ok(FileName {
            name: name.to_string(),
            file_type,
            source: source.to_string(),
            date,
            seq: seq.to_string(),
        })
    }

    /// The name of the file that confirms this one (APP -> APC, DNC/DNF -> DCC), same date and SEQ.
    pub fn confirmation_name(&self) -> Option<String> {
        let confirm = match self.file_type {
            FileType::App => FileType::Apc,
            FileType::Dnc | FileType::Dnf => FileType::Dcc,
            _ => return None,
        };
        Some(format!(
            "DE_{}_{}_{}_{}.DAT",
            self.source,
            confirm,
            self.date.format("%Y%m%d"),
            self.seq
        ))
    }

    /// The key identifying "the same file" for duplicate and re-use checks.
    pub fn identity(&self) -> String {
        format!("{}#{}#{}", self.source, self.file_type, self.seq)
    }

    pub fn seq_number(&self) -> u64 {
        self.seq.parse().unwrap_or(0)
    }
}

pub fn is_vpd(code: &str) -> bool {
    (3..=4).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

pub fn parse_compact_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    if bytes.len() != 8 {
        return None;
    }
    date_of_digits(&bytes[0..4], &bytes[4..6], &bytes[6..8])
}

/// The date of a year, month and day given as ASCII digits; `None` when one is not all digits or
/// the date does not exist. Read directly: chrono's parser reads its format string on every
/// call, and dates are read per record and per reported applicant.
pub(crate) fn date_of_digits(year: &[u8], month: &[u8], day: &[u8]) -> Option<NaiveDate> {
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0u32, |n, b| {
            b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
        })
    };
    let year = i32::try_from(number(year)?).ok()?;
    NaiveDate::from_ymd_opt(year, number(month)?, number(day)?)
}

/// Sort key for business order: date, then POS < APP < DNF < DNC, then SEQ. Unparseable names last.
pub fn business_order_key(name: &str) -> (u8, NaiveDate, u8, String, String) {
    match FileName::parse(name) {
        Ok(parsed) => (
            0,
            parsed.date,
            parsed.file_type.business_rank(),
            parsed.seq,
            parsed.name,
        ),
        Err(_) => (1, NaiveDate::MIN, 0, String::new(), name.to_string()),
    }
}

/// Why a whole file is quarantined (section 2.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineReason {
    /// Stable machine-readable reason code.
    pub code: String,
    /// The reason, for people.
    pub reason: String,
    /// 1-based line number in the file, where there is one.
    pub line: Option<u64>,
}

impl QuarantineReason {
    pub fn new(code: &str, reason: impl Into<String>, line: Option<u64>) -> Self {
        QuarantineReason {
            code: code.to_string(),
            reason: reason.into(),
            line,
        }
    }
}

impl fmt::Display for QuarantineReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

/// What the HDR line says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub file_type: FileType,
    pub source: String,
    pub date: NaiveDate,
    pub seq: String,
    /// The generated-at timestamp exactly as written (RFC 3339).
    pub generated_at: String,
}

/// Strips a UTF-8 byte order mark.
pub fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes)
}

/// The 1-based line of the first byte that is not valid UTF-8, if any.
pub fn first_invalid_utf8_line(bytes: &[u8]) -> Option<u64> {
    match std::str::from_utf8(bytes) {
        Ok(_) => None,
        Err(err) => {
            let valid = &bytes[..err.valid_up_to()];
            Some(valid.iter().filter(|&&b| b == b'\n').count() as u64 + 1)
        }
    }
}

/// Reads CSV records with their true 1-based line numbers.
///
/// The csv crate's own line count drifts on CRLF files, so lines are counted here from the record's
/// byte offset, which on CRLF files can point at the line end before the record.
pub struct LineReader<'a> {
    bytes: &'a [u8],
    reader: csv::Reader<&'a [u8]>,
    counted_to: usize,
    newlines: u64,
}

impl<'a> LineReader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        let bytes = without_bom(bytes);
        LineReader {
            bytes,
            reader: csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(bytes),
            counted_to: 0,
            newlines: 0,
        }
    }

    /// Reads the next record; `Ok(None)` at the end, otherwise the line the record starts on.
    ///
    /// # Errors
    /// The csv crate's error (its position names the line).
    pub fn read(&mut self, record: &mut csv::StringRecord) -> Result<Option<u64>, csv::Error> {
        if !self.reader.read_record(record)? {
            return Ok(None);
        }
        // The reported start may sit on line ends before the record (CRLF, blank lines): skip them.
        let mut start = record.position().map_or(0, |p| p.byte()) as usize;
        while start < self.bytes.len() && matches!(self.bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        if start > self.counted_to {
            self.newlines += self.bytes[self.counted_to..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            self.counted_to = start;
        }
        Ok(Some(self.newlines + 1))
    }
}

/// One data line met by [`scan`], handed to the caller's visitor.
pub struct DataLine<'r> {
    /// 1-based position among the data lines.
    pub record_number: u64,
    /// 1-based line in the file where the record starts.
    pub line: u64,
    pub record: &'r csv::StringRecord,
}

/// Result of a clean envelope scan.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub header: Header,
    pub data_lines: u64,
}

/// Streams over the file checking every envelope rule of 2.2-2.3; `visit` sees each data line and may
/// itself quarantine the file (for content-wide rules such as the 40-per-position limit).
///
/// # Errors
/// The first [`QuarantineReason`] met.
pub fn scan(
    bytes: &[u8],
    name: &FileName,
    mut visit: impl FnMut(&DataLine<'_>) -> Result<(), QuarantineReason>,
) -> Result<Envelope, QuarantineReason> {
    if let Some(line) = first_invalid_utf8_line(without_bom(bytes)) {
        return Err(QuarantineReason::new(
            "invalid_utf8",
            "the file is not valid UTF-8 text",
            Some(line),
        ));
    }
    let (data_code, data_fields) = name.file_type.data_layout().ok_or_else(|| {
        QuarantineReason::new(
            "not_inbound",
            format!(
                "{} files are written by this system, not received",
                name.file_type
            ),
            None,
        )
    })?;
    let mut reader = LineReader::new(bytes);
    let mut record = csv::StringRecord::new();
    let mut header: Option<Header> = None;
    let mut trailer_count: Option<(u64, u64)> = None;
    let mut data_lines = 0u64;
    loop {
        let read = reader.read(&mut record).map_err(|err| {
            let line = err.position().map(|p| p.line());
            QuarantineReason::new(
                "unreadable",
                format!("the file cannot be read as CSV: {err}"),
                line,
            )
        })?;
        let Some(line) = read else {
            break;
        };
        let code = record.get(0).unwrap_or("");
        if let Some((_, trl_line)) = trailer_count {
            return Err(QuarantineReason::new(
                "data_after_trl",
                format!(
                    "{} follows the TRL line (line {trl_line}); TRL must be the last line",
                    shown_line(code)
                ),
                Some(line),
            ));
        }
        if header.is_none() {
            if code != "HDR" {
                return Err(QuarantineReason::new(
                    "hdr_missing",
                    format!(
                        "HDR missing: the first line starts with {}, expected HDR",
                        shown_code(code)
                    ),
                    Some(line),
                ));
            }
            header = Some(check_header(&record, name, line)?);
            continue;
        }
        match code {
            "TRL" => {
                if record.len() != 2 {
                    return Err(wrong_field_count("TRL", 2, record.len(), line));
                }
                let count = record[1].trim().parse::<u64>().map_err(|_| {
                    QuarantineReason::new(
                        "trl_invalid",
                        format!("TRL count {:?} is not a number", &record[1]),
                        Some(line),
                    )
                })?;
                trailer_count = Some((count, line));
            }
            "HDR" => {
                return Err(QuarantineReason::new(
                    "hdr_repeated",
                    "a second HDR line was found",
                    Some(line),
                ))
            }
            code if code == data_code => {
                if record.len() != data_fields {
                    return Err(wrong_field_count(
                        data_code,
                        data_fields,
                        record.len(),
                        line,
                    ));
                }
                data_lines += 1;
                visit(&DataLine {
                    record_number: data_lines,
                    line,
                    record: &record,
                })?;
            }
            other => {
                return Err(QuarantineReason::new(
                    "unknown_record_code",
                    format!(
                        "unknown record code: {} in a {} file (expected {data_code})",
                        shown_line(other),
                        name.file_type
                    ),
                    Some(line),
                ))
            }
        }
    }
    let Some(header) = header else {
        return Err(QuarantineReason::new(
            "hdr_missing",
            "HDR missing: the file is empty",
            None,
        ));
    };
    match trailer_count {
        None => Err(QuarantineReason::new(
            "trl_missing",
            format!("TRL missing: the file ends after {data_lines} data lines without a TRL line (truncated?)"),
            None,
        )),
        Some((count, line)) if count != data_lines => Err(QuarantineReason::new(
            "trl_count",
            format!("TRL says {count} data lines but the file has {data_lines}"),
            Some(line),
        )),
        Some(_) => Ok(Envelope { header, data_lines }),
    }
}

/// Record codes any file of the contract uses: safe to quote in a reason.
const RECORD_CODES: [&str; 12] = [
    "HDR", "TRL", "APP", "APC", "POS", "DNC", "DCC", "POR", "PER", "RMC", "RMF", "DNF",
];

/// The first field of a line as a reason may quote it: a record code of the contract as it is;
/// anything else only by its length, since a line without its code (a broken record, a stray
/// line) may start with a name or another personal value. The line number leads to it.
fn shown_code(code: &str) -> String {
    if RECORD_CODES.contains(&code) {
        format!("{code:?}")
    } else if code.is_empty() {
        "an empty field".to_string()
    } else {
        format!(
            "a field of {} characters that is not a record code",
            code.chars().count()
        )
    }
}

fn shown_line(code: &str) -> String {
    if RECORD_CODES.contains(&code) {
        format!("a {code} line")
    } else {
        format!("a line starting with {}", shown_code(code))
    }
}

fn wrong_field_count(code: &str, expected: usize, found: usize, line: u64) -> QuarantineReason {
    QuarantineReason::new(
        "field_count",
        format!("{code} line has {found} fields, expected {expected}"),
        Some(line),
    )
}

fn check_header(
    record: &csv::StringRecord,
    name: &FileName,
    line: u64,
) -> Result<Header, QuarantineReason> {
    if record.len() != 7 {
        return Err(wrong_field_count("HDR", 7, record.len(), line));
    }
    let mismatch = |field: &str, found: &str, expected: &str| {
        QuarantineReason::new(
            "hdr_mismatch",
            format!("HDR {field} {found:?} disagrees with the file name ({expected})"),
            Some(line),
        )
    };
    let file_type = FileType::parse(&record[1]);
    if file_type != Some(name.file_type) {
        return Err(mismatch("type", &record[1], name.file_type.code()));
    }
    if record[2] != name.source {
        return Err(mismatch("source", &record[2], &name.source));
    }
    let date_text = name.date.format("%Y%m%d").to_string();
    if record[3] != date_text {
        return Err(mismatch("date", &record[3], &date_text));
    }
    if record[4] != name.seq {
        return Err(mismatch("sequence", &record[4], &name.seq));
    }
    if chrono::DateTime::parse_from_rfc3339(&record[5]).is_err() {
        return Err(QuarantineReason::new(
            "hdr_invalid",
            format!(
                "HDR generated-at {:?} is not an RFC 3339 timestamp",
                &record[5]
            ),
            Some(line),
        ));
    }
    if &record[6] != FORMAT_VERSION {
        return Err(QuarantineReason::new(
            "hdr_invalid",
            format!(
                "HDR format version {:?} is not supported (this system reads version {FORMAT_VERSION})",
                &record[6]
            ),
            Some(line),
        ));
    }
    Ok(Header {
        file_type: name.file_type,
        source: name.source.clone(),
        date: name.date,
        seq: name.seq.clone(),
        generated_at: record[5].to_string(),
    })
}

/// Writes an outbound file with its HDR and TRL lines.
pub struct OutboundFile {
    writer: csv::Writer<Vec<u8>>,
    lines: u64,
}

impl OutboundFile {
    pub fn new(
        file_type: FileType,
        source: &str,
        date: NaiveDate,
        seq: &str,
        generated_at: &str,
    ) -> Self {
        let mut writer = csv::WriterBuilder::new()
            .flexible(true)
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        let date = date.format("%Y%m%d").to_string();
        writer
            .write_record([
                "HDR",
                file_type.code(),
                source,
                &date,
                seq,
                generated_at,
                FORMAT_VERSION,
            ])
            .expect("writing to memory cannot fail");
        OutboundFile { writer, lines: 0 }
    }

    pub fn line<I, T>(&mut self, fields: I)
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.writer
            .write_record(fields)
            .expect("writing to memory cannot fail");
        self.lines += 1;
    }

    pub fn finish(mut self) -> Vec<u8> {
        let count = self.lines.to_string();
        self.writer
            .write_record(["TRL", count.as_str()])
            .expect("writing to memory cannot fail");
        self.writer
            .into_inner()
            .expect("writing to memory cannot fail")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_dates_are_read_as_chrono_reads_them() {
        for text in [
            "20261121",
            "20240229",
            "20270229",
            "20271301",
            "20270100",
            "00000101",
            "99991231",
            "2026112",
            "202611211",
            "2026-1121",
            "2026112a",
            "",
        ] {
            let chrono = (text.len() == 8 && text.bytes().all(|b| b.is_ascii_digit()))
                .then(|| NaiveDate::parse_from_str(text, "%Y%m%d").ok())
                .flatten();
            assert_eq!(parse_compact_date(text), chrono, "{text:?}");
        }
    }

    fn name(text: &str) -> FileName {
        FileName::parse(text).unwrap()
    }

    const APP_FIELDS: usize = 37;

    fn app_line(placement: &str) -> String {
        let mut fields = vec!["APP".to_string(), placement.to_string()];
        fields.extend((2..=APP_FIELDS).map(|_| String::new()));
        fields.join(",")
    }

    fn app_file(lines: &[String], trl: Option<u64>) -> Vec<u8> {
        let mut text = String::from("HDR,APP,KSS,20261121,00000042,2026-11-21T13:00:00Z,1\n");
        for line in lines {
            text.push_str(line);
            text.push('\n');
        }
        if let Some(count) = trl {
            text.push_str(&format!("TRL,{count}\n"));
        }
        text.into_bytes()
    }

    const KSS_APP: &str = "DE_KSS_APP_20261121_00000042.DAT";

    #[test]
    fn names_of_each_inbound_type_parse() {
        let app = name("incoming/DE_KSS_APP_20261121_00000042.DAT");
        assert_eq!(app.file_type, FileType::App);
        assert_eq!(app.source, "KSS");
        assert_eq!(app.seq, "00000042");
        assert_eq!(
            app.confirmation_name().unwrap(),
            "DE_KSS_APC_20261121_00000042.DAT"
        );
        let pos = name("ESR_504_POS_20261101_00000001.DAT");
        assert_eq!((pos.file_type, pos.source.as_str()), (FileType::Pos, "504"));
        assert_eq!(
            name("DE_LDN_DNC_20261121_00000043.DAT")
                .confirmation_name()
                .unwrap(),
            "DE_LDN_DCC_20261121_00000043.DAT"
        );
    }

    #[test]
    fn bad_names_are_refused_with_the_wrong_part_named() {
        for (bad, says) in [
            ("DE_KSS_APP_20261121_00000042.csv", ".DAT"),
            (
                "DE_XYZ_APP_20261121_00000042.DAT",
                "XYZ is not a local office",
            ),
            ("DE_KSS_ZZZ_20261121_00000042.DAT", "unknown file type ZZZ"),
            ("DE_KSS_APP_20261321_00000042.DAT", "not a date"),
            ("DE_KSS_APP_20261121_0042.DAT", "not 8 digits"),
            ("ESR_504_APP_20261121_00000042.DAT", "must be POS"),
            ("DE_KSS_POS_20261121_00000042.DAT", "ESR_<VPD>_POS"),
            ("ESR_5_POS_20261121_00000042.DAT", "not a VPD"),
            ("DE_KSS_APP_20261121.DAT", "does not match"),
        ] {
            let err = FileName::parse(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn business_order_is_date_then_pos_app_dnf_dnc_then_seq() {
        let mut names = vec![
            "DE_KSS_DNC_20261121_00000005.DAT",
            "DE_KSS_APP_20261121_00000004.DAT",
            "DE_KSS_APP_20261121_00000002.DAT",
            "ESR_504_POS_20261121_00000009.DAT",
            "DE_KSS_DNF_20261121_00000001.DAT",
            "DE_KSS_APP_20261120_00000099.DAT",
            "readme.txt",
        ];
        names.sort_by_key(|n| business_order_key(n));
        assert_eq!(
            names,
            vec![
                "DE_KSS_APP_20261120_00000099.DAT",
                "ESR_504_POS_20261121_00000009.DAT",
                "DE_KSS_APP_20261121_00000002.DAT",
                "DE_KSS_APP_20261121_00000004.DAT",
                "DE_KSS_DNF_20261121_00000001.DAT",
                "DE_KSS_DNC_20261121_00000005.DAT",
                "readme.txt",
            ]
        );
    }

    #[test]
    fn a_whole_file_scans_and_every_data_line_is_visited() {
        let bytes = app_file(&[app_line("1"), app_line("2")], Some(2));
        let mut seen = vec![];
        let envelope = scan(&bytes, &name(KSS_APP), |line| {
            seen.push((line.record_number, line.line, line.record[1].to_string()));
            Ok(())
        })
        .unwrap();
        assert_eq!(envelope.data_lines, 2);
        assert_eq!(envelope.header.generated_at, "2026-11-21T13:00:00Z");
        assert_eq!(seen, vec![(1, 2, "1".to_string()), (2, 3, "2".to_string())]);
    }

    #[test]
    fn a_bom_and_crlf_line_ends_are_tolerated_and_lines_counted_right() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        let lines = [app_line("1"), app_line("2"), app_line("3")];
        let text = String::from_utf8(app_file(&lines, Some(3))).unwrap();
        bytes.extend(text.replace('\n', "\r\n").bytes());
        let mut seen = vec![];
        let envelope = scan(&bytes, &name(KSS_APP), |line| {
            seen.push(line.line);
            Ok(())
        })
        .unwrap();
        assert_eq!(envelope.data_lines, 3);
        assert_eq!(seen, vec![2, 3, 4]);
    }

    #[test]
    fn line_numbers_count_quoted_line_feeds_and_blank_lines() {
        let text = "A,1\r\n\r\nB,\"two\nlines\"\r\nC,3\nD,4";
        let mut reader = LineReader::new(text.as_bytes());
        let mut record = csv::StringRecord::new();
        let mut lines = vec![];
        while let Some(line) = reader.read(&mut record).unwrap() {
            lines.push((record[0].to_string(), line));
        }
        let expected = [("A", 1), ("B", 3), ("C", 5), ("D", 6)];
        let expected: Vec<(String, u64)> =
            expected.iter().map(|(a, l)| (a.to_string(), *l)).collect();
        assert_eq!(lines, expected);
    }

    fn reason(bytes: &[u8]) -> QuarantineReason {
        scan(bytes, &name(KSS_APP), |_| Ok(())).unwrap_err()
    }

    #[test]
    fn each_envelope_fault_has_its_own_reason_and_line() {
        let truncated = app_file(&[app_line("1")], None);
        assert_eq!(reason(&truncated).code, "trl_missing");
        let miscounted = app_file(&[app_line("1")], Some(3));
        let r = reason(&miscounted);
        assert_eq!((r.code.as_str(), r.line), ("trl_count", Some(3)));
        assert!(r
            .reason
            .contains("TRL says 3 data lines but the file has 1"));
        let no_header = format!("{}\nTRL,1\n", app_line("1"));
        assert_eq!(reason(no_header.as_bytes()).code, "hdr_missing");
        assert_eq!(reason(b"").code, "hdr_missing");
        let unknown = app_file(&["XYZ,1".to_string()], Some(1));
        let r = reason(&unknown);
        assert_eq!((r.code.as_str(), r.line), ("unknown_record_code", Some(2)));
        let short = app_file(&["APP,1,2".to_string()], Some(1));
        let r = reason(&short);
        assert_eq!((r.code.as_str(), r.line), ("field_count", Some(2)));
        assert!(r.reason.contains("3 fields, expected 38"), "{}", r.reason);
        let mut after = app_file(&[app_line("1")], Some(1));
        after.extend(app_line("2").bytes());
        assert_eq!(reason(&after).code, "data_after_trl");
        let mut invalid = app_file(&[app_line("1")], Some(1));
        invalid.splice(60..60, [0xFF, 0xFE]);
        let r = reason(&invalid);
        assert_eq!((r.code.as_str(), r.line), ("invalid_utf8", Some(2)));
    }

    #[test]
    fn a_header_disagreeing_with_the_name_is_named() {
        for (hdr, field) in [
            (
                "HDR,DNC,KSS,20261121,00000042,2026-11-21T13:00:00Z,1",
                "type",
            ),
            (
                "HDR,APP,LDN,20261121,00000042,2026-11-21T13:00:00Z,1",
                "source",
            ),
            (
                "HDR,APP,KSS,20261120,00000042,2026-11-21T13:00:00Z,1",
                "date",
            ),
            (
                "HDR,APP,KSS,20261121,00000043,2026-11-21T13:00:00Z,1",
                "sequence",
            ),
        ] {
            let text = format!("{hdr}\nTRL,0\n");
            let r = reason(text.as_bytes());
            assert_eq!(r.code, "hdr_mismatch");
            assert!(r.reason.contains(field), "{}", r.reason);
            assert_eq!(r.line, Some(1));
        }
        let bad_version = "HDR,APP,KSS,20261121,00000042,2026-11-21T13:00:00Z,2\nTRL,0\n";
        assert_eq!(reason(bad_version.as_bytes()).code, "hdr_invalid");
        let bad_time = "HDR,APP,KSS,20261121,00000042,yesterday,1\nTRL,0\n";
        assert_eq!(reason(bad_time.as_bytes()).code, "hdr_invalid");
    }

    #[test]
    fn outbound_files_carry_hdr_and_a_trl_count() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        let mut out = OutboundFile::new(
            FileType::Apc,
            "KSS",
            date,
            "00000042",
            "2026-11-21T13:00:00Z",
        );
        out.line(["APC", "1", "text, with comma"]);
        let text = String::from_utf8(out.finish()).unwrap();
        assert_eq!(
            text,
            "HDR,APC,KSS,20261121,00000042,2026-11-21T13:00:00Z,1\r\nAPC,1,\"text, with comma\"\r\nTRL,1\r\n"
        );
    }
}

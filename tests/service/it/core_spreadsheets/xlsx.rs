//! Reads an `.xlsx` written by the service back, for tests: the package is a zip of XML parts, read
//! here with plain string scanning (enough for the simple, known shape rust_xlsxwriter writes).

use std::collections::BTreeMap;
use std::io::Read;

/// One cell as stored: its reference, type, style index, value (shared strings resolved) and
/// whether it holds a formula.
#[derive(Debug, Clone)]
pub struct Cell {
    pub reference: String,
    pub kind: String,
    pub style: usize,
    pub value: String,
    pub formula: bool,
}

/// One cell format (`<xf>` of `cellXfs`).
#[derive(Debug, Clone)]
pub struct CellFormat {
    pub fill: Option<String>,
    pub quote_prefix: bool,
    pub num_format: Option<String>,
}

pub struct Xlsx {
    pub parts: BTreeMap<String, String>,
    pub sheet_names: Vec<String>,
    formats: Vec<CellFormat>,
    strings: Vec<String>,
}

impl Xlsx {
    pub fn open(bytes: &[u8]) -> Xlsx {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip package");
        let mut parts = BTreeMap::new();
        for i in 0..archive.len() {
            let mut file = archive.by_index(i).unwrap();
            let mut text = String::new();
            file.read_to_string(&mut text).unwrap();
            parts.insert(file.name().unwrap().into_owned(), text);
        }
        let workbook = &parts["xl/workbook.xml"];
        let sheet_names = elements(workbook, "sheet")
            .iter()
            .map(|(attrs, _)| unescape(&attr(attrs, "name").unwrap()))
            .collect();
        let strings = parts
            .get("xl/sharedStrings.xml")
            .map(|xml| {
                elements(xml, "si")
                    .iter()
                    .map(|(_, body)| {
                        elements(body, "t")
                            .iter()
                            .map(|(_, t)| unescape(t))
                            .collect::<String>()
                    })
                    .collect()
            })
            .unwrap_or_default();
        let styles = &parts["xl/styles.xml"];
        let fills: Vec<Option<String>> = elements(section(styles, "fills"), "fill")
            .iter()
            .map(|(_, body)| {
                let (attrs, inner) = elements(body, "patternFill").into_iter().next()?;
                if attr(&attrs, "patternType").as_deref() != Some("solid") {
                    return None;
                }
                let (fg, _) = elements(&inner, "fgColor").into_iter().next()?;
                attr(&fg, "rgb")
            })
            .collect();
        let num_formats: BTreeMap<String, String> = elements(section(styles, "numFmts"), "numFmt")
            .iter()
            .map(|(attrs, _)| {
                (
                    attr(attrs, "numFmtId").unwrap(),
                    unescape(&attr(attrs, "formatCode").unwrap()),
                )
            })
            .collect();
        let formats = elements(section(styles, "cellXfs"), "xf")
            .iter()
            .map(|(attrs, _)| CellFormat {
                fill: attr(attrs, "fillId")
                    .and_then(|id| fills.get(id.parse::<usize>().unwrap()).cloned().flatten()),
                quote_prefix: attr(attrs, "quotePrefix").as_deref() == Some("1"),
                num_format: attr(attrs, "numFmtId").and_then(|id| num_formats.get(&id).cloned()),
            })
            .collect();
        Xlsx {
            parts,
            sheet_names,
            formats,
            strings,
        }
    }

    /// The XML of a sheet by its name (rust_xlsxwriter numbers sheet parts in workbook order).
    pub fn sheet_xml(&self, name: &str) -> &str {
        let index = self
            .sheet_names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("no sheet {name:?} in {:?}", self.sheet_names));
        &self.parts[&format!("xl/worksheets/sheet{}.xml", index + 1)]
    }

    pub fn cells(&self, sheet: &str) -> Vec<Cell> {
        elements(self.sheet_xml(sheet), "c")
            .iter()
            .map(|(attrs, body)| {
                let kind = attr(attrs, "t").unwrap_or_default();
                let raw = elements(body, "v")
                    .first()
                    .map(|(_, v)| unescape(v))
                    .unwrap_or_default();
                let value = match kind.as_str() {
                    "s" => self.strings[raw.parse::<usize>().unwrap()].clone(),
                    "inlineStr" => elements(body, "t")
                        .iter()
                        .map(|(_, t)| unescape(t))
                        .collect(),
                    _ => raw,
                };
                Cell {
                    reference: attr(attrs, "r").unwrap(),
                    kind,
                    style: attr(attrs, "s").map_or(0, |s| s.parse().unwrap()),
                    value,
                    formula: !elements(body, "f").is_empty(),
                }
            })
            .collect()
    }

    pub fn cell(&self, sheet: &str, reference: &str) -> Option<Cell> {
        self.cells(sheet)
            .into_iter()
            .find(|c| c.reference == reference)
    }

    /// The value of a cell, empty when the cell is absent.
    pub fn value(&self, sheet: &str, reference: &str) -> String {
        self.cell(sheet, reference)
            .map(|c| c.value)
            .unwrap_or_default()
    }

    /// The sheet as rows of values (1-based row numbers; missing cells empty).
    pub fn rows(&self, sheet: &str) -> BTreeMap<u32, Vec<String>> {
        let mut rows: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        for cell in self.cells(sheet) {
            let (col, row) = split_reference(&cell.reference);
            let values = rows.entry(row).or_default();
            if values.len() <= col {
                values.resize(col + 1, String::new());
            }
            values[col] = cell.value;
        }
        rows
    }

    pub fn format(&self, cell: &Cell) -> &CellFormat {
        &self.formats[cell.style]
    }

    /// True when no worksheet holds a formula (`<f>` element).
    pub fn has_no_formula(&self) -> bool {
        self.parts
            .iter()
            .filter(|(name, _)| name.starts_with("xl/worksheets/"))
            .all(|(_, xml)| !xml.contains("<f>") && !xml.contains("<f "))
    }
}

/// Column index (0-based) and row number (1-based) of `B12`.
pub fn split_reference(reference: &str) -> (usize, u32) {
    let letters: String = reference
        .chars()
        .take_while(|c| c.is_ascii_uppercase())
        .collect();
    let col = letters
        .bytes()
        .fold(0usize, |n, b| n * 26 + usize::from(b - b'A' + 1))
        - 1;
    (col, reference[letters.len()..].parse().unwrap())
}

/// The body of the first `<tag ...>...</tag>` element (empty when absent).
fn section<'a>(xml: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}");
    let Some(start) = xml.find(&open) else {
        return "";
    };
    let close = format!("</{tag}>");
    let end = xml[start..].find(&close).map_or(xml.len(), |e| start + e);
    &xml[start..end]
}

/// Every `<tag attrs>body</tag>` or `<tag attrs/>` element: (attributes text, body).
fn elements(xml: &str, tag: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        // The tag name must end here (`<c ` is a cell, `<cols` is not).
        if !after.starts_with([' ', '>', '/']) {
            rest = after;
            continue;
        }
        let head_end = after.find('>').unwrap();
        let head = &after[..head_end];
        if let Some(attrs) = head.strip_suffix('/') {
            found.push((attrs.to_string(), String::new()));
            rest = &after[head_end + 1..];
        } else {
            let body_start = head_end + 1;
            let body_end = after[body_start..].find(&close).unwrap() + body_start;
            found.push((head.to_string(), after[body_start..body_end].to_string()));
            rest = &after[body_end + close.len()..];
        }
    }
    found
}

fn attr(attrs: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = attrs.find(&needle)? + needle.len();
    let end = attrs[start..].find('"')? + start;
    Some(attrs[start..end].to_string())
}

/// XML entities and Excel's `_xHHHH_` escapes of control characters.
fn unescape(text: &str) -> String {
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("_x") {
        out.push_str(&rest[..i]);
        let candidate = &rest[i..];
        let code = candidate
            .get(2..6)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
        match code {
            Some(hex) if candidate.get(6..7) == Some("_") => {
                out.push(char::from_u32(u32::from_str_radix(hex, 16).unwrap()).unwrap());
                rest = &candidate[7..];
            }
            _ => {
                out.push_str("_x");
                rest = &candidate[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

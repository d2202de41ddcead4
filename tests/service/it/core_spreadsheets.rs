//! The spreadsheets a trust receives, read back from the files the service wrote: the MEDROT with
//! its Medical Rotation Notification (DNC/DNF files) and the DPN readiness report (POS files).

mod xlsx;

use chrono::NaiveDate;
use dit_core::ports::{Area, BlobStore};
use dit_core::service::report::{FileReport, Outcome};
use dit_domain::dnc::DNC_FIELDS;
use dit_test_support::applicants::envelope;
use dit_test_support::one_trust::OneTrust;
use xlsx::{Cell, Xlsx};

/// Text that a spreadsheet program would take for a formula if it were typed into a cell.
const HYPERLINK: &str = r#"=HYPERLINK("http://x","y")"#;
const FORMULA_LIKE: [&str; 4] = [HYPERLINK, "+1", "-2", "@SUM(A1)"];

/// The one-trust environment, every file expected to be processed.
struct Env(OneTrust);

impl Env {
    fn new() -> Env {
        Env(OneTrust::new())
    }

    async fn process(&self, name: &str, text: &str) -> FileReport {
        let report = self.0.process(name, text).await;
        assert_eq!(report.outcome, Outcome::Processed, "{name}: {report:?}");
        report
    }

    async fn outbound(&self, key: &str) -> Option<Vec<u8>> {
        self.0.blobs.get(Area::Outbound, key).await.unwrap()
    }

    async fn xlsx(&self, key: &str) -> Xlsx {
        Xlsx::open(
            &self
                .outbound(key)
                .await
                .unwrap_or_else(|| panic!("no {key}")),
        )
    }

    async fn json(&self, key: &str) -> serde_json::Value {
        serde_json::from_slice(
            &self
                .outbound(key)
                .await
                .unwrap_or_else(|| panic!("no {key}")),
        )
        .unwrap()
    }
}

/// One CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// A POS line: position id (also its number), name, DPN and managing deanery body.
fn pos(id: &str, name: &str, dpn: &str, mdb: &str) -> String {
    [
        "POS",
        id,
        id,
        name,
        dpn,
        mdb,
        "Lead Employer",
        "2020-01-01",
        "",
        "N1L",
        "F1",
        "Site",
        "RXX",
        "504 Org",
    ]
    .iter()
    .map(|f| csv_field(f))
    .collect::<Vec<_>>()
    .join(",")
}

/// A type-1 DNC line for trust 504; `edits` replace named fields.
fn rotation(position: &str, edits: &[(&str, &str)]) -> String {
    let dpn = format!("KSS/RJZ01/030/STR/{position}");
    let mut fields: Vec<String> = DNC_FIELDS.iter().map(|_| String::new()).collect();
    let base = [
        ("RECORD_CODE", "DNC"),
        ("NOTIFICATION_TYPE", "1"),
        ("DEANERY_POST_NUMBER", dpn.as_str()),
        ("MANAGING_DEANERY_BODY", "KSS"),
        ("POSITION_ID", position),
        ("VPD", "504"),
        ("POST_SPECIALTY", "Cardiology"),
        ("SITE", "Example Hospital"),
        ("CURRENT_LAST_NAME", "Holder"),
        ("CURRENT_FIRST_NAME", "Current"),
        ("CURRENT_GMC_NUMBER", "7100001"),
        ("CURRENT_PROJECTED_END_DATE", "2027-02-02"),
        ("CURRENT_NEXT_PLACEMENT_SITE", "Other Hospital"),
        ("NEXT_LAST_NAME", "Okafor"),
        ("NEXT_FIRST_NAME", "Adaeze"),
        ("NEXT_GMC_NUMBER", "0544158"),
        ("NEXT_CURRENT_PLACEMENT_SITE", "Third Hospital"),
        ("NEXT_PROJECTED_START_DATE", "2027-02-03"),
        ("NEXT_EMAIL_ADDRESS", "adaeze.okafor@example.nhs.uk"),
        ("NEXT_GRADE", "ST4"),
        ("NEXT_WTE", "0.8"),
        ("POST_VACANT_AT_NEXT_ROTATION", "N"),
    ];
    for (field, value) in base.iter().chain(edits) {
        let i = DNC_FIELDS.iter().position(|f| f == field).unwrap();
        fields[i] = value.to_string();
    }
    fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",")
}

/// Excel's serial number of a date (days since 1899-12-30).
fn serial(date: &str) -> String {
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    (date - NaiveDate::from_ymd_opt(1899, 12, 30).unwrap())
        .num_days()
        .to_string()
}

fn assert_literal_text(book: &Xlsx, cell: &Cell, expected: &str) {
    assert_eq!(cell.value, expected, "{}", cell.reference);
    assert_eq!(cell.kind, "s", "{} is a string cell", cell.reference);
    assert!(!cell.formula, "{} holds no formula", cell.reference);
    assert!(
        book.format(cell).quote_prefix,
        "{} carries the quote prefix",
        cell.reference
    );
}

const MEDROT_1: &str = "trusts/504/medrot/DE_KSS_504_MEDROT_DNF_20261121_00000001.xlsx";
const MEDROT_2: &str = "trusts/504/medrot/DE_KSS_504_MEDROT_DNC_20261121_00000002.xlsx";

#[tokio::test]
async fn the_medrot_shows_each_position_under_a_two_level_header_in_position_order() {
    let env = Env::new();
    let lines = [
        rotation("101", &[("CURRENT_LAST_NAME", "Second")]),
        rotation(
            "100",
            &[
                ("CURRENT_LAST_NAME", HYPERLINK),
                ("CURRENT_FIRST_NAME", "+1"),
                ("NEXT_LAST_NAME", "-2"),
                ("NEXT_FIRST_NAME", "@SUM(A1)"),
            ],
        ),
        rotation(
            "20",
            &[
                ("NEXT_LAST_NAME", ""),
                ("NEXT_FIRST_NAME", ""),
                ("NEXT_GMC_NUMBER", ""),
                ("NEXT_PROJECTED_START_DATE", ""),
                ("NEXT_WTE", ""),
                ("POST_VACANT_AT_NEXT_ROTATION", "Y"),
            ],
        ),
    ];
    let report = env
        .process(
            "DE_KSS_DNF_20261121_00000001.DAT",
            &envelope("DNF", "KSS", 1, &lines),
        )
        .await;
    assert!(report.outputs.contains(&format!("outbound/{MEDROT_1}")));

    let book = env.xlsx(MEDROT_1).await;
    assert_eq!(book.sheet_names, ["MEDROT"]);
    assert_eq!(
        book.value("MEDROT", "A1"),
        "Date generated : 2026/11/21 13:00:00"
    );
    assert_eq!(book.value("MEDROT", "A2"), "Current Post Holder");
    assert_eq!(book.value("MEDROT", "I2"), "Next Post Holder");
    let xml = book.sheet_xml("MEDROT");
    assert!(xml.contains(r#"<mergeCell ref="A2:H2"/>"#), "{xml}");
    assert!(xml.contains(r#"<mergeCell ref="I2:P2"/>"#), "{xml}");
    let rows = book.rows("MEDROT");
    assert_eq!(
        rows[&3],
        [
            "ESR Position",
            "TPN Number",
            "Place of Work",
            "Last Name",
            "First Name",
            "GMC Number",
            "Projected End Date",
            "Next Placement",
            "Last Name",
            "First Name",
            "GMC Number",
            "Current Placement",
            "Email Address",
            "Projected Working (WTE)",
            "Projected Start Date",
            "Grade",
        ]
    );
    let positions: Vec<&str> = rows.range(4..).map(|(_, r)| r[0].as_str()).collect();
    assert_eq!(positions, ["20", "100", "101"], "numeric position order");

    // Row 6 (position 101), every column.
    assert_eq!(
        rows[&6],
        [
            "101",
            "KSS/RJZ01/030/STR/101",
            "Example Hospital",
            "Second",
            "Current",
            "7100001",
            &serial("2027-02-02"),
            "Other Hospital",
            "Okafor",
            "Adaeze",
            "0544158",
            "Third Hospital",
            "adaeze.okafor@example.nhs.uk",
            "0.8",
            &serial("2027-02-03"),
            "ST4",
        ]
    );
    // Identifiers are text (the GMC number keeps its leading zero); dates are dates.
    for reference in ["A6", "F6", "K6"] {
        assert_eq!(book.cell("MEDROT", reference).unwrap().kind, "s");
    }
    let end = book.cell("MEDROT", "G6").unwrap();
    assert_eq!(book.format(&end).num_format.as_deref(), Some("d mmmm yyyy"));
    let wte = book.cell("MEDROT", "N6").unwrap();
    assert_eq!(wte.kind, "", "a number");
    // A vacant next post leaves the next holder's cells empty.
    assert_eq!(&rows[&4][8..11], ["", "", ""]);

    // Row 5 (position 100): formula-like names are literal text.
    for (reference, text) in [
        ("D5", HYPERLINK),
        ("E5", "+1"),
        ("I5", "-2"),
        ("J5", "@SUM(A1)"),
    ] {
        assert_literal_text(&book, &book.cell("MEDROT", reference).unwrap(), text);
    }
    assert!(book.has_no_formula());

    // The notification: ESR's title and wording, and a link instead of a password.
    let n = env
        .json("trusts/504/notifications/DE_KSS_DNF_20261121_00000001.medical-rotation.json")
        .await;
    assert_eq!(
        n["title"],
        "Medical Training - Medical Rotation Notification"
    );
    assert_eq!(n["trust_id"], "504");
    assert_eq!(n["medrot_key"], MEDROT_1);
    assert_eq!(n["positions"], 3);
    // The link is the portal's download page: it signs the trust in and mints the download at
    // the click, so it never expires unused (and it is not the file's path or a presigned URL).
    let link = n["link"].as_str().unwrap();
    assert_eq!(
        link,
        "http://127.0.0.1:8080/downloads/medrot/DE_KSS_504_MEDROT_DNF_20261121_00000001.xlsx"
    );
    assert!(n.get("link_valid_days").is_none());
    assert!(n["body"]
        .as_str()
        .unwrap()
        .starts_with("Below is a link which will take you to the latest Medical Rotation grid"));
    let access = n["access"].as_str().unwrap();
    assert!(
        access.contains("sign in to the Doctors in Training portal"),
        "{access}"
    );
    assert!(access.contains("does not expire"), "{access}");
    let html = String::from_utf8(
        env.outbound("trusts/504/notifications/DE_KSS_DNF_20261121_00000001.medical-rotation.html")
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(html.contains(&format!(
        "<a href=\"{link}\">DE_KSS_504_MEDROT_DNF_20261121_00000001.xlsx</a>"
    )));
    assert!(!html.contains("LETB specific password"));
}

/// Section 10: a next post holder who is already an employee of the trust (here the current holder
/// of another of its positions) is an internal mover, marked in the Next Post Holder's columns.
#[tokio::test]
async fn the_medrot_marks_a_next_post_holder_who_is_an_employee_of_the_trust_internal() {
    let env = Env::new();
    let lines = [
        rotation("100", &[("CURRENT_GMC_NUMBER", "7100001")]),
        rotation(
            "101",
            &[
                ("CURRENT_GMC_NUMBER", "7100002"),
                ("NEXT_GMC_NUMBER", "7100001"),
            ],
        ),
        rotation(
            "102",
            &[
                ("CURRENT_GMC_NUMBER", "7100003"),
                ("NEXT_GMC_NUMBER", "7100002"),
                ("NEXT_CURRENT_PLACEMENT_SITE", ""),
            ],
        ),
        rotation("103", &[("CURRENT_GMC_NUMBER", "7100004")]),
    ];
    env.process(
        "DE_KSS_DNF_20261121_00000001.DAT",
        &envelope("DNF", "KSS", 1, &lines),
    )
    .await;
    let rows = env.xlsx(MEDROT_1).await.rows("MEDROT");
    let next_holder = |row: u32| (rows[&row][10].as_str(), rows[&row][11].as_str());
    assert_eq!(
        next_holder(4),
        ("0544158", "Third Hospital"),
        "not an employee"
    );
    assert_eq!(next_holder(5), ("7100001", "Third Hospital (internal)"));
    assert_eq!(
        next_holder(6),
        ("7100002", "internal"),
        "no placement site sent"
    );
    assert_eq!(next_holder(7), ("0544158", "Third Hospital"));
    assert_eq!(rows[&3].len(), 16, "the sixteen columns of section 4");
}

#[tokio::test]
async fn a_later_file_that_changes_the_grid_regenerates_the_medrot_and_notifies_again() {
    let env = Env::new();
    env.process(
        "DE_KSS_DNF_20261121_00000001.DAT",
        &envelope(
            "DNF",
            "KSS",
            1,
            &[rotation("100", &[]), rotation("101", &[])],
        ),
    )
    .await;
    let first = env.outbound(MEDROT_1).await.unwrap();

    // A DNC without type-1 records leaves the grid as it is: no MEDROT, no rotation notification.
    let new_post = rotation("102", &[("NOTIFICATION_TYPE", "5")]);
    let report = env
        .process(
            "DE_KSS_DNC_20261121_00000002.DAT",
            &envelope("DNC", "KSS", 2, &[new_post]),
        )
        .await;
    assert!(!report.outputs.iter().any(|o| o.contains("medrot")));
    assert!(env.outbound(MEDROT_2).await.is_none());

    // A type 1 for position 100 (with a new next holder) and one for a trust not on the interface.
    let lines = [
        rotation(
            "100",
            &[
                ("NEXT_LAST_NAME", "Lindqvist"),
                ("NEXT_FIRST_NAME", "Erik"),
                ("NEXT_GMC_NUMBER", "7544159"),
            ],
        ),
        rotation("300", &[("VPD", "999")]),
    ];
    let report = env
        .process(
            "DE_KSS_DNC_20261121_00000003.DAT",
            &envelope("DNC", "KSS", 3, &lines),
        )
        .await;
    let medrot_3 = "trusts/504/medrot/DE_KSS_504_MEDROT_DNC_20261121_00000003.xlsx";
    assert!(report.outputs.contains(&format!("outbound/{medrot_3}")));
    assert!(
        env.0
            .blobs
            .list(Area::Outbound, "trusts/999/")
            .await
            .unwrap()
            .is_empty(),
        "nothing for a trust that is not on the interface"
    );
    let book = env.xlsx(medrot_3).await;
    let rows = book.rows("MEDROT");
    assert_eq!(rows.len(), 5, "title, two header rows, two positions");
    assert_eq!(&rows[&4][..1], ["100"]);
    assert_eq!(&rows[&4][8..11], ["Lindqvist", "Erik", "7544159"]);
    assert_eq!(
        &rows[&5][8..11],
        ["Okafor", "Adaeze", "0544158"],
        "position 101 kept from the DNF"
    );
    // The earlier MEDROT stays as it was.
    assert_eq!(env.outbound(MEDROT_1).await.unwrap(), first);
    assert_ne!(env.outbound(medrot_3).await.unwrap(), first);
    let n = env
        .json("trusts/504/notifications/DE_KSS_DNC_20261121_00000003.medical-rotation.json")
        .await;
    assert_eq!(n["medrot_key"], medrot_3);
    assert_eq!(n["positions"], 2);
    assert!(n["link"]
        .as_str()
        .unwrap()
        .ends_with("DE_KSS_504_MEDROT_DNC_20261121_00000003.xlsx"));
}

#[tokio::test]
async fn the_same_notification_file_gives_the_same_medrot_bytes_in_another_run() {
    let text = envelope(
        "DNF",
        "KSS",
        1,
        &[rotation("100", &[("CURRENT_LAST_NAME", HYPERLINK)])],
    );
    let mut outputs = Vec::new();
    for _ in 0..2 {
        let env = Env::new();
        env.process("DE_KSS_DNF_20261121_00000001.DAT", &text).await;
        outputs.push(env.outbound(MEDROT_1).await.unwrap());
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
    assert_eq!(outputs[0], outputs[1]);
}

const REPORT: &str = "trusts/504/reports/ESR_504_POS_20261121_00000001.dpn-readiness.xlsx";

#[tokio::test]
async fn the_dpn_readiness_spreadsheet_has_summary_duplicates_and_all_positions_with_issues_in_red()
{
    let env = Env::new();
    let lines = [
        pos(
            "100",
            "100|Foundation|F1|Medicine",
            "KSS/RJZ01/030/STR/001",
            "KSS",
        ),
        pos(
            "101",
            "101|Registrar|ST4|Cardiology",
            "KSS/A12345/100/STR/123",
            "KSS",
        ),
        pos(
            "102",
            "102|Registrar|ST4|Cardiology",
            "KSS/A12345/100/STR/123",
            "KSS",
        ),
        pos("103", "103|Foundation|F1|Medicine", HYPERLINK, "KSS"),
        pos("104", "+1", "KSS/RJZ01/030/STR/004", "KSS"),
        pos("105", "@SUM(A1)", "-2/RJZ01/030/STR", "KSS"),
        pos(
            "106",
            "106|Foundation|F1|Medicine",
            "KSS/RJZ01/030/STR/006",
            "-2",
        ),
        pos("107", "107|Not a training post||", "", ""),
    ];
    let report = env
        .process(
            "ESR_504_POS_20261121_00000001.DAT",
            &envelope("POS", "504", 1, &lines),
        )
        .await;
    assert!(report.outputs.contains(&format!("outbound/{REPORT}")));
    let book = env.xlsx(REPORT).await;
    assert_eq!(
        book.sheet_names,
        ["Summary", "Duplicate DPN", "All DPN Positions"]
    );

    // Summary: who and what, ESR's wording, the statistics under their exact labels, the rules.
    let summary: Vec<Vec<String>> = book.rows("Summary").into_values().collect();
    let find = |label: &str| {
        summary
            .iter()
            .find(|r| r[0] == label)
            .unwrap_or_else(|| panic!("no {label:?} in {summary:?}"))
            .get(1)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(summary[0][0], "Deanery Report Summary");
    assert_eq!(find("VPD"), "504");
    assert_eq!(find("File Name"), "ESR_504_POS_20261121_00000001.DAT");
    assert_eq!(find("No. of ESR Records with Deanery Records"), "7");
    assert_eq!(
        find("No. of Deanery Records linked to multiple Positions"),
        "1"
    );
    assert_eq!(find("No. of data quality issues with DPN"), "2");
    assert_eq!(find("No. of data quality issues with Position Name"), "2");
    let text: String = summary
        .iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    for wording in [
        "where a trust has the same DPN on more than one active ESR positions",
        "Duplicates are itemised on the 'Duplicate DPN' tab and data quality issues will be highlighted in red on the 'All DPN Positions' tab.",
        "Advice Notes",
        "1. To resolve a duplicate DPN",
        "a. Must contain a minimum of 4 parts separated by /",
        "d. Each part must contain a value (e.g. MER//123/123 would not be allowed)",
        "a. Must contain exactly 4 parts separated by |",
        "c. The remaining parts must either be empty or contain only readable ascii text",
    ] {
        assert!(text.contains(wording), "{wording:?} in the summary");
    }

    // Duplicate DPN: the two positions sharing a DPN.
    let duplicates = book.rows("Duplicate DPN");
    assert_eq!(
        duplicates[&1],
        [
            "VPD",
            "Position Number",
            "Position Name",
            "DPN",
            "Managing Deanery Body"
        ]
    );
    assert_eq!(duplicates.len(), 3);
    assert_eq!(
        duplicates[&2],
        [
            "504",
            "101",
            "101|Registrar|ST4|Cardiology",
            "KSS/A12345/100/STR/123",
            "KSS"
        ]
    );
    assert_eq!(duplicates[&3][1], "102");

    // All DPN Positions: every position with a DPN; rows with an issue or a duplicate in red.
    let all = book.rows("All DPN Positions");
    assert_eq!(
        all[&1],
        [
            "VPD",
            "Position Number",
            "Position Name",
            "DPN",
            "Managing Deanery Body",
            "Status",
            "Issues"
        ]
    );
    assert_eq!(all.len(), 8, "header and seven positions with a DPN");
    let cells = book.cells("All DPN Positions");
    let row_of = |number: &str| -> u32 { *all.iter().find(|(_, r)| r[1] == number).unwrap().0 };
    for (number, red) in [
        ("100", false),
        ("101", true),
        ("102", true),
        ("103", true),
        ("104", true),
        ("105", true),
        ("106", false),
    ] {
        let row = row_of(number);
        for cell in cells
            .iter()
            .filter(|c| xlsx::split_reference(&c.reference).1 == row)
        {
            let fill = book.format(cell).fill.clone();
            if red {
                assert_eq!(
                    fill.as_deref(),
                    Some("FFFFC7CE"),
                    "{number} {}",
                    cell.reference
                );
            } else {
                assert_eq!(fill, None, "{number} {}", cell.reference);
            }
        }
        assert_eq!(all[&row][5], "Active");
        // An empty Issues cell is not stored at all.
        let issues = all[&row].get(6).cloned().unwrap_or_default();
        assert_eq!(issues.is_empty(), !red, "{number}: {issues:?}");
    }
    assert!(all[&row_of("101")][6].starts_with("Duplicate DPN"));

    // Formula-like positions, names, DPNs and bodies are literal text; no formula anywhere.
    let cell = |row: u32, col: &str| {
        cells
            .iter()
            .find(|c| c.reference == format!("{col}{row}"))
            .unwrap()
            .clone()
    };
    assert_literal_text(&book, &cell(row_of("103"), "D"), HYPERLINK);
    assert_literal_text(&book, &cell(row_of("104"), "C"), "+1");
    assert_literal_text(&book, &cell(row_of("105"), "C"), "@SUM(A1)");
    assert_literal_text(&book, &cell(row_of("105"), "D"), "-2/RJZ01/030/STR");
    assert_literal_text(&book, &cell(row_of("106"), "E"), "-2");
    let plain = cell(row_of("100"), "C");
    assert!(!book.format(&plain).quote_prefix, "ordinary text as it is");
    for sheet in ["Duplicate DPN", "All DPN Positions"] {
        for cell in book.cells(sheet) {
            assert_eq!(cell.kind, "s", "{sheet} {} is text", cell.reference);
        }
    }
    assert!(book.has_no_formula());
    for value in FORMULA_LIKE {
        assert!(
            book.cells("All DPN Positions")
                .iter()
                .any(|c| c.value == value || c.value.starts_with(value)),
            "{value} is in the sheet"
        );
    }

    // The JSON and HTML forms are still there, and the same file in another run gives the same bytes.
    assert!(env
        .outbound("trusts/504/reports/ESR_504_POS_20261121_00000001.dpn-readiness.json")
        .await
        .is_some());
    let again = Env::new();
    again
        .process(
            "ESR_504_POS_20261121_00000001.DAT",
            &envelope("POS", "504", 1, &lines),
        )
        .await;
    assert_eq!(
        again.outbound(REPORT).await.unwrap(),
        env.outbound(REPORT).await.unwrap()
    );
}

#[tokio::test]
async fn the_sample_notification_file_shows_its_formula_like_site_as_text() {
    let env = Env::new();
    let name = "DE_KSS_DNF_20261121_00000001.DAT";
    let path = dit_test_support::samples::repo()
        .join("events/files")
        .join(name);
    env.process(name, &std::fs::read_to_string(path).unwrap())
        .await;
    let book = env.xlsx(MEDROT_1).await;
    let site = book.cell("MEDROT", "H6").unwrap();
    assert_literal_text(
        &book,
        &site,
        r#"=HYPERLINK("http://example.invalid","Next site")"#,
    );
    assert!(book.has_no_formula());
}

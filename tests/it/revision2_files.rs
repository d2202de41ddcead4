//! Revision 2 of the file rules, through the inbound service on both adapter pairs: SQLite and
//! folders, DynamoDB and S3 on moto. Each scenario is an `async fn` taking an [`Env`]; `scenario!`
//! makes one test per adapter pair.
//!
//! - Rejected APP records are kept and findable (2.5, 3).
//! - A DNF is a full snapshot of the grids of the trusts it names; type-1 current holders are
//!   employees; type 2/4 records that match no applicant fail (2.7).
//! - A POS file never destroys what it cannot read, never takes over another trust's position,
//!   and is not applied when older than the trust's last applied one (2.8).

use std::sync::Arc;

use dit_aws::dynamo::DynamoStore;
use dit_aws::s3::{S3Blobs, S3Layout};
use dit_core::ports::Area;
use dit_core::service::report::Outcome;
use dit_domain::dnc::DNC_FIELDS;
use dit_domain::messages::MessageType;
use dit_domain::model::{person_key, RejectedApplication, RejectedLookup};
use dit_domain::pos::{Position, PositionStatus};
use dit_embedded::folders::FolderBlobs;
use dit_embedded::sqlite::SqliteStore;
use dit_test_support::applicants::{app, envelope, outbound, Env, DPN_100, DPN_101};
use dit_test_support::Moto;

const TABLE: &str = "dit-state";
const INBOUND: &str = "dit-inbound";
const OUTBOUND: &str = "dit-outbound";

async fn moto_env(moto: &Moto) -> Env {
    moto.create_table(TABLE).await;
    moto.create_buckets(INBOUND, OUTBOUND).await;
    Env::new(
        Arc::new(DynamoStore::new(moto.dynamo_client().await, TABLE)),
        Arc::new(S3Blobs::new(
            moto.s3_client().await,
            S3Layout {
                inbound_bucket: INBOUND.into(),
                inbound_prefix: "incoming/".into(),
                quarantine_prefix: "quarantine/".into(),
                outbound_bucket: OUTBOUND.into(),
            },
        )),
    )
}

/// One test on SQLite and folders, one on DynamoDB and S3 (moto), for a scenario taking `&Env`.
macro_rules! scenario {
    ($scenario:ident => $sqlite:ident, $moto:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            let dir = tempfile::tempdir().unwrap();
            let env = Env::new(
                Arc::new(SqliteStore::open(&dir.path().join("state.db")).unwrap()),
                Arc::new(FolderBlobs::new(dir.path())),
            );
            $scenario(&env).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $moto() {
            let moto = Moto::start();
            $scenario(&moto_env(&moto).await).await;
        }
    };
}

/// `line` with one field replaced (fields by position in the APP layout, 0 = record code).
fn with_field(line: &str, index: usize, value: &str) -> String {
    let mut fields: Vec<&str> = line.split(',').collect();
    fields[index] = value;
    fields.join(",")
}

const LAST_NAME: usize = 6;
const GMC_NUMBER: usize = 12;

/// The APC FAIL lines of a record: (message type, text).
async fn apc_failures(env: &Env, apc: &str, placement: &str) -> Vec<(String, String)> {
    let text = outbound(env.blobs.as_ref())
        .await
        .into_iter()
        .find(|(key, _)| key.ends_with(apc))
        .map(|(_, bytes)| String::from_utf8(bytes).unwrap())
        .unwrap_or_else(|| panic!("no {apc}"));
    text.lines()
        .map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>())
        .filter(|f| f[0] == "APC" && f[1] == placement && f[3] == "FAIL")
        .map(|f| (f[4].clone(), f[5].clone()))
        .collect()
}

fn messages_of(rejected: &RejectedApplication) -> Vec<(String, String)> {
    rejected
        .messages
        .iter()
        .map(|m| (m.message_type.code().to_string(), m.text.clone()))
        .collect()
}

/// Every rejected record is kept with its messages, found by placement, GMC number and trust;
/// the file again stores nothing more; a later valid record of the same placement loads.
async fn rejected_records_are_kept_and_block_nothing(env: &Env) {
    env.load().await;
    let no_last_name = with_field(&app("10", "100", DPN_100, "7000010"), LAST_NAME, "");
    let report = env
        .process_app(
            2,
            &[
                // 1: mandatory item missing (and a malformed GMC number: a warning it never got).
                with_field(&no_last_name, GMC_NUMBER, "70000"),
                // 2: DPN mismatch, resolved to trust 504 by its position.
                app("11", "100", DPN_101, "7000011"),
                // 3: unknown position, resolved to trust 504 by its DPN.
                app("12", "999", DPN_100, "7000012"),
                // 4: unknown position and DPN: no trust.
                app("13", "998", "KSS/NONE/000/XX/001", "7000013"),
                // 5: loads.
                app("14", "101", DPN_101, "7000014"),
            ],
        )
        .await;
    assert_eq!((report.loaded, report.rejected), (1, 4), "{report:?}");
    let apc = "DE_KSS_APC_20261121_00000002.DAT";

    for (placement, record, vpd, gmc) in [
        ("10", 1, Some("504"), Some("70000")),
        ("11", 2, Some("504"), Some("7000011")),
        ("12", 3, Some("504"), Some("7000012")),
        ("13", 4, None, Some("7000013")),
    ] {
        let found = env
            .store
            .rejected_applications(RejectedLookup::Placement(placement))
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "placement {placement}: {found:?}");
        let r = &found[0];
        assert_eq!(r.source_file, "DE_KSS_APP_20261121_00000002.DAT");
        assert_eq!((r.record_number, r.line), (record, record + 1));
        assert_eq!(r.vpd.as_deref(), vpd, "placement {placement}");
        assert_eq!(r.gmc_number.as_deref(), gmc);
        assert_eq!(r.local_office, "KSS");
        assert_eq!(r.first_name, "Test");
        // Exactly what TIS was told, message for message.
        assert_eq!(messages_of(r), apc_failures(env, apc, placement).await);
        assert!(r
            .messages
            .iter()
            .all(|m| m.message_type == MessageType::Error));
    }
    let first = &env
        .store
        .rejected_applications(RejectedLookup::Placement("10"))
        .await
        .unwrap()[0];
    assert_eq!(first.last_name, "");
    assert_eq!(
        first.messages[0].text,
        "Mandatory item LAST_NAME not supplied. Application rejected."
    );
    let by_gmc = env
        .store
        .rejected_applications(RejectedLookup::Gmc("7000011"))
        .await
        .unwrap();
    assert_eq!(by_gmc.len(), 1);
    assert_eq!(by_gmc[0].placement_id, "11");
    let trust: Vec<String> = env
        .store
        .rejected_applications(RejectedLookup::Trust("504"))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.placement_id)
        .collect();
    assert_eq!(trust, vec!["10", "11", "12"]);
    assert!(env
        .store
        .rejected_applications(RejectedLookup::Placement("14"))
        .await
        .unwrap()
        .is_empty());

    // The same file delivered again: a duplicate, the same rejections, none twice.
    let again = env
        .process_app(
            2,
            &[
                with_field(&no_last_name, GMC_NUMBER, "70000"),
                app("11", "100", DPN_101, "7000011"),
                app("12", "999", DPN_100, "7000012"),
                app("13", "998", "KSS/NONE/000/XX/001", "7000013"),
                app("14", "101", DPN_101, "7000014"),
            ],
        )
        .await;
    assert_eq!(again.outcome, Outcome::Duplicate);
    assert_eq!(
        env.store
            .rejected_applications(RejectedLookup::Trust("504"))
            .await
            .unwrap()
            .len(),
        3
    );

    // A later file with the placements corrected: they load as usual, and the earlier
    // rejections stay findable beside the applicants.
    let later = env
        .process_app(
            3,
            &[
                app("10", "100", DPN_100, "7000010"),
                app("11", "101", DPN_101, "7000011"),
            ],
        )
        .await;
    assert_eq!((later.loaded, later.rejected), (2, 0), "{later:?}");
    let links = env
        .store
        .placements(&["10".to_string(), "11".to_string()])
        .await
        .unwrap();
    assert_eq!(links.len(), 2);
    assert_eq!(
        env.store
            .rejected_applications(RejectedLookup::Placement("10"))
            .await
            .unwrap()
            .len(),
        1
    );
}

scenario!(rejected_records_are_kept_and_block_nothing =>
    sqlite_rejected_app_records_are_kept_findable_and_block_nothing,
    moto_rejected_app_records_are_kept_findable_and_block_nothing);

/// A DNC line of `kind` for trust `vpd`, position `position` with DPN `dpn`; `edits` set fields.
fn dnc(kind: &str, vpd: &str, position: &str, dpn: &str, edits: &[(&str, &str)]) -> String {
    let mut fields: Vec<String> = DNC_FIELDS.iter().map(|_| String::new()).collect();
    let base = [
        ("RECORD_CODE", "DNC"),
        ("NOTIFICATION_TYPE", kind),
        ("DEANERY_POST_NUMBER", dpn),
        ("MANAGING_DEANERY_BODY", "KSS"),
        ("POSITION_ID", position),
        ("VPD", vpd),
        ("POST_SPECIALTY", "Cardiology"),
        ("SITE", "Example Hospital"),
    ];
    for (field, value) in base.iter().chain(edits) {
        let i = DNC_FIELDS.iter().position(|f| f == field).unwrap();
        fields[i] = value.to_string();
    }
    fields.join(",")
}

/// A type-1 line whose current holder has this GMC number.
fn holder(vpd: &str, position: &str, dpn: &str, gmc: &str) -> String {
    dnc(
        "1",
        vpd,
        position,
        dpn,
        &[
            ("CURRENT_LAST_NAME", "Holder"),
            ("CURRENT_FIRST_NAME", "Current"),
            ("CURRENT_GMC_NUMBER", gmc),
            ("CURRENT_PROJECTED_END_DATE", "2027-02-02"),
        ],
    )
}

async fn text_of(env: &Env, key: &str) -> String {
    let bytes = env
        .blobs
        .get(Area::Outbound, key)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no {key}"));
    String::from_utf8(bytes).unwrap()
}

/// The DCC lines of a notification file: (status, message) per record.
async fn dcc(env: &Env, name: &str) -> Vec<(String, String)> {
    text_of(env, &format!("tis/KSS/{name}"))
        .await
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>())
        .filter(|f| f[0] == "DCC")
        .map(|f| (f[4].clone(), f[5..].join(",")))
        .collect()
}

async fn grid_keys(env: &Env, vpd: &str) -> Vec<(String, String)> {
    env.store
        .rotation_grid(vpd)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.position_key, r.source_file))
        .collect()
}

/// A DNF replaces the grid of every trust it names (rows of its unreadable type-1 lines kept),
/// leaves other trusts alone, regenerates the MEDROT with exactly those rows, and makes its
/// current holders employees: a later APP for one of them says EXISTING Employee.
async fn a_dnf_replaces_the_grids_of_the_trusts_it_names(env: &Env) {
    env.load().await;
    let dnc_name = "DE_KSS_DNC_20261121_00000002.DAT";
    let report = env
        .process(
            dnc_name,
            &envelope(
                "DNC",
                "KSS",
                2,
                &[
                    holder("504", "100", DPN_100, "7100001"),
                    holder("504", "101", DPN_101, "7100002"),
                    holder("504", "102", "KSS/RJZ01/030/STR/102", "7100003"),
                    holder("505", "200", "KSS/RXX01/600/GPST/200", "7100004"),
                ],
            ),
        )
        .await;
    assert_eq!((report.loaded, report.rejected), (4, 0), "{report:?}");
    let dnf_name = "DE_KSS_DNF_20261121_00000003.DAT";
    let dnf = envelope(
        "DNF",
        "KSS",
        3,
        &[
            holder("504", "100", DPN_100, "7100005"),
            // Unreadable (a bad date): 101's row stays as the DNC left it.
            dnc(
                "1",
                "504",
                "101",
                DPN_101,
                &[("NEXT_PROJECTED_START_DATE", "2027-02-30")],
            ),
            // A malformed GMC number makes no employee.
            holder("504", "103", "KSS/RJZ01/030/STR/103", "71000"),
        ],
    );
    let report = env.process(dnf_name, &dnf).await;
    assert_eq!((report.loaded, report.rejected), (2, 1), "{report:?}");
    assert_eq!(
        grid_keys(env, "504").await,
        vec![
            ("100".to_string(), dnf_name.to_string()),
            ("101".to_string(), dnc_name.to_string()),
            ("103".to_string(), dnf_name.to_string()),
        ],
        "102 is not in the snapshot"
    );
    assert_eq!(
        grid_keys(env, "505").await,
        vec![("200".to_string(), dnc_name.to_string())],
        "a trust the DNF does not name keeps its grid"
    );
    assert!(report
        .message
        .as_deref()
        .is_some_and(|m| m.contains("grid of trust 504 now 3 row(s), 1 dropped")));
    let rotation: serde_json::Value = serde_json::from_str(
        &text_of(
            env,
            "trusts/504/notifications/DE_KSS_DNF_20261121_00000003.medical-rotation.json",
        )
        .await,
    )
    .unwrap();
    assert_eq!(rotation["positions"], 3);
    assert!(env
        .blobs
        .get(
            Area::Outbound,
            "trusts/504/medrot/DE_KSS_504_MEDROT_DNF_20261121_00000003.xlsx"
        )
        .await
        .unwrap()
        .is_some());
    assert!(
        env.blobs
            .get(
                Area::Outbound,
                "trusts/505/notifications/DE_KSS_DNF_20261121_00000003.medical-rotation.json"
            )
            .await
            .unwrap()
            .is_none(),
        "505's MEDROT is not regenerated"
    );

    // Current holders with a GMC number became employees of their trust (DNC and DNF alike).
    let key = |gmc: &str| person_key(Some(gmc), None, None).unwrap();
    let persons = env
        .store
        .persons(&[
            ("504".to_string(), key("7100001")),
            ("504".to_string(), key("7100005")),
            ("505".to_string(), key("7100004")),
            ("504".to_string(), key("7100004")),
        ])
        .await
        .unwrap();
    assert!(persons[&("504".to_string(), key("7100001"))].employee);
    assert!(persons[&("504".to_string(), key("7100005"))].employee);
    assert!(persons[&("505".to_string(), key("7100004"))].employee);
    assert!(
        !persons.contains_key(&("504".to_string(), key("7100004"))),
        "an employee of 505 only"
    );
    let report = env
        .process_app(
            4,
            &[
                app("40", "101", DPN_101, "7100005"),
                app("41", "101", DPN_101, "7100004"),
            ],
        )
        .await;
    assert_eq!(report.loaded, 2, "{report:?}");
    let messages = |placement: &str| {
        let placement = placement.to_string();
        async move {
            let link = env
                .store
                .placements(std::slice::from_ref(&placement))
                .await
                .unwrap()[&placement]
                .clone();
            env.store
                .applicant(&link.applicant_number)
                .await
                .unwrap()
                .unwrap()
                .load_messages
                .into_iter()
                .map(|m| m.text)
                .collect::<Vec<_>>()
        }
    };
    assert!(messages("40")
        .await
        .contains(&"Application is from an EXISTING Employee".to_string()));
    assert!(messages("41")
        .await
        .contains(&"Application is from a NEW Applicant".to_string()));

    // The same DNF again: a duplicate, nothing changes.
    let again = env.process(dnf_name, &dnf).await;
    assert_eq!(again.outcome, Outcome::Duplicate);
    assert_eq!(grid_keys(env, "504").await.len(), 3);
}

scenario!(a_dnf_replaces_the_grids_of_the_trusts_it_names =>
    sqlite_a_dnf_replaces_the_grids_of_the_trusts_it_names,
    moto_a_dnf_replaces_the_grids_of_the_trusts_it_names);

/// A DNC (not a snapshot) only adds and replaces rows.
async fn a_dnc_only_adds_and_replaces_grid_rows(env: &Env) {
    env.load().await;
    env.process(
        "DE_KSS_DNC_20261121_00000002.DAT",
        &envelope(
            "DNC",
            "KSS",
            2,
            &[
                holder("504", "100", DPN_100, "7100001"),
                holder("504", "101", DPN_101, "7100002"),
            ],
        ),
    )
    .await;
    env.process(
        "DE_KSS_DNC_20261121_00000003.DAT",
        &envelope("DNC", "KSS", 3, &[holder("504", "100", DPN_100, "7100003")]),
    )
    .await;
    assert_eq!(
        grid_keys(env, "504").await,
        vec![
            (
                "100".to_string(),
                "DE_KSS_DNC_20261121_00000003.DAT".to_string()
            ),
            (
                "101".to_string(),
                "DE_KSS_DNC_20261121_00000002.DAT".to_string()
            ),
        ]
    );
}

scenario!(a_dnc_only_adds_and_replaces_grid_rows =>
    sqlite_a_dnc_only_adds_and_replaces_grid_rows,
    moto_a_dnc_only_adds_and_replaces_grid_rows);

/// A withdrawal or date change that matches no applicant fails in the DCC with a reason; the
/// withdrawal still tells the trust, with "Number Unavailable - ...".
async fn withdrawals_and_date_changes_matching_no_applicant_fail(env: &Env) {
    env.load().await;
    let name = "DE_KSS_DNC_20261121_00000002.DAT";
    let report = env
        .process(
            name,
            &envelope(
                "DNC",
                "KSS",
                2,
                &[
                    // 1: matches applicant 5000001 (GMC 7000001 on position 100).
                    dnc(
                        "2",
                        "504",
                        "100",
                        DPN_100,
                        &[("WITHDRAWN_GMC_NUMBER", "7000001")],
                    ),
                    // 2: nobody with that GMC number on that position.
                    dnc(
                        "2",
                        "504",
                        "100",
                        DPN_100,
                        &[
                            ("WITHDRAWN_LAST_NAME", "Smith"),
                            ("WITHDRAWN_GMC_NUMBER", "9999999"),
                        ],
                    ),
                    // 3: a date change for nobody.
                    dnc(
                        "4",
                        "504",
                        "101",
                        DPN_101,
                        &[
                            ("NEXT_GMC_NUMBER", "9999998"),
                            ("CHANGE_OF_PROJECTED_HIRE_DATE", "2027-02-10"),
                        ],
                    ),
                    // 4: a date change for applicant 5000002 (GMC 7000002 on position 101).
                    dnc(
                        "4",
                        "504",
                        "101",
                        DPN_101,
                        &[
                            ("NEXT_GMC_NUMBER", "7000002"),
                            ("CHANGE_OF_PROJECTED_HIRE_DATE", "2027-02-10"),
                        ],
                    ),
                ],
            ),
        )
        .await;
    assert_eq!((report.loaded, report.rejected), (2, 2), "{report:?}");
    let lines = dcc(env, "DE_KSS_DCC_20261121_00000002.DAT").await;
    assert_eq!(
        lines,
        vec![
            ("SUCCESS".to_string(), "Applicant 5000001 withdrawn".to_string()),
            (
                "FAIL".to_string(),
                "No applicant of trust 504 with this GMC number on this position: none was withdrawn (trust notified: Number Unavailable)".to_string()
            ),
            (
                "FAIL".to_string(),
                "No applicant of trust 504 with this GMC number on this position: no dates were changed (trust notified)".to_string()
            ),
            (
                "SUCCESS".to_string(),
                "Applicant 5000002 projected dates changed".to_string()
            ),
        ]
    );
    let withdrawn: serde_json::Value = serde_json::from_str(
        &text_of(
            env,
            "trusts/504/notifications/DE_KSS_DNC_20261121_00000002.applicants-withdrawn-cardiology.json",
        )
        .await,
    )
    .unwrap();
    assert_eq!(withdrawn["rows"][0][3], "5000001");
    assert!(withdrawn["rows"][1][3]
        .as_str()
        .unwrap()
        .starts_with("Number Unavailable - "));
}

scenario!(withdrawals_and_date_changes_matching_no_applicant_fail =>
    sqlite_withdrawals_and_date_changes_matching_no_applicant_fail_in_the_dcc,
    moto_withdrawals_and_date_changes_matching_no_applicant_fail_in_the_dcc);

/// A POS line of a Lead Employer position effective from `from`; its number is its id.
fn pos_line(id: &str, dpn: &str, from: &str, vpd: &str) -> String {
    format!("POS,{id},{id},{id}|Foundation|F1|Medicine,{dpn},KSS,Lead Employer,{from},,N1L,F1,Site,RXX,{vpd} Org")
}

/// A POS file of trust `vpd` dated `date` (YYYYMMDD).
fn pos_file(vpd: &str, date: &str, seq: u32, lines: &[String]) -> (String, String) {
    let mut text = format!("HDR,POS,{vpd},{date},{seq:08},2026-11-21T13:00:00Z,1\n");
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(&format!("TRL,{}\n", lines.len()));
    (format!("ESR_{vpd}_POS_{date}_{seq:08}.DAT"), text)
}

async fn position(env: &Env, id: &str) -> Option<Position> {
    env.store
        .positions(&[id.to_string()])
        .await
        .unwrap()
        .remove(id)
}

async fn readiness(env: &Env, file: &str) -> serde_json::Value {
    let key = format!(
        "trusts/504/reports/{}.dpn-readiness.json",
        file.trim_end_matches(".DAT")
    );
    serde_json::from_str(&text_of(env, &key).await).unwrap()
}

/// Lines not applied, as the readiness report lists them: (line, problem).
fn not_applied_lines(report: &serde_json::Value) -> Vec<(u64, String)> {
    report["unreadable_records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().unwrap(),
                p["problem"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// An unreadable line keeps the stored position; another trust's POSITION_ID is not taken over;
/// only positions absent from the file are removed; an older file is reported, not applied; a
/// line whose POSITION_ID cannot be read keeps the one stored position with its number.
async fn a_pos_file_never_destroys_what_it_cannot_read(env: &Env) {
    env.load().await;
    let before_100 = position(env, "100").await.unwrap();
    let before_200 = position(env, "200").await.unwrap();
    let dpn_102 = "KSS/RJZ01/030/STR/102";

    let (name, text) = pos_file(
        "504",
        "20261122",
        2,
        &[
            // Line 2: a bad date: unreadable.
            pos_line("100", DPN_100, "2020-13-01", "504"),
            // Line 3: trust 505's position.
            pos_line("200", "KSS/RXX01/600/GPST/200", "2020-01-01", "504"),
            // Line 4: a new position. (101 is absent: removed.)
            pos_line("102", dpn_102, "2020-01-01", "504"),
        ],
    );
    let report = env.process(&name, &text).await;
    assert_eq!(report.outcome, Outcome::Processed);
    assert_eq!(
        position(env, "100").await.unwrap(),
        before_100,
        "the unreadable line's position is kept as it was"
    );
    assert_eq!(
        position(env, "200").await.unwrap(),
        before_200,
        "505's position is not taken over"
    );
    let removed = position(env, "101").await.unwrap();
    assert_eq!(removed.status, PositionStatus::Removed);
    assert_eq!(removed.changed_in, name);
    let added = position(env, "102").await.unwrap();
    assert_eq!(
        (added.vpd.as_str(), added.status),
        ("504", PositionStatus::Active)
    );
    let data = readiness(env, &name).await;
    let lines = not_applied_lines(&data);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0].0, 2);
    assert!(lines[0].1.contains("EFFECTIVE_FROM"), "{lines:?}");
    assert!(
        lines[0]
            .1
            .ends_with("the stored position 100 is kept as it was"),
        "{lines:?}"
    );
    assert_eq!(
        lines[1],
        (
            3,
            "POSITION_ID 200 belongs to another organisation".to_string()
        )
    );
    assert!(data.get("not_applied").is_none());
    // The kept position still resolves applications.
    let app_report = env
        .process_app(5, &[app("50", "100", DPN_100, "7000050")])
        .await;
    assert_eq!(app_report.loaded, 1, "{app_report:?}");

    // An older file: reported, not applied.
    let (older, text) = pos_file(
        "504",
        "20261120",
        3,
        &[pos_line(
            "103",
            "KSS/RJZ01/030/STR/103",
            "2020-01-01",
            "504",
        )],
    );
    let stored_before: Vec<Position> = env.store.trust_positions("504").await.unwrap();
    let report = env.process(&older, &text).await;
    assert_eq!(report.outcome, Outcome::Processed);
    assert!(
        report.operator_warnings.iter().any(|w| w
            == "POS file of trust 504 dated 2026-11-20 is older than the last applied one (dated 2026-11-22): reported to the trust, not applied"),
        "{report:?}"
    );
    assert_eq!(
        env.store.trust_positions("504").await.unwrap(),
        stored_before
    );
    assert!(position(env, "103").await.is_none());
    let data = readiness(env, &older).await;
    assert!(data["not_applied"]
        .as_str()
        .unwrap()
        .starts_with("Not applied: this file is dated 2026-11-20"));
    assert_eq!(data["all_dpn_positions"][0]["position_id"], "103");

    // A line whose POSITION_ID cannot be read keeps the stored position with its number; a file
    // of the same date as the last applied one is applied.
    let (same_day, text) = pos_file(
        "504",
        "20261122",
        4,
        &[
            pos_line("100", DPN_100, "2020-01-01", "504"),
            "POS,1O2,102,102|Foundation|F1|Medicine,KSS/RJZ01/030/STR/102,KSS,Lead Employer,2020-01-01,,N1L,F1,Site,RXX,504 Org".to_string(),
        ],
    );
    env.process(&same_day, &text).await;
    assert_eq!(position(env, "102").await.unwrap(), added);
    let lines = not_applied_lines(&readiness(env, &same_day).await);
    assert!(
        lines[0]
            .1
            .ends_with("the stored position 102 is kept as it was"),
        "{lines:?}"
    );
    assert_eq!(
        position(env, "100").await.unwrap().status,
        PositionStatus::Active
    );

    // A position its trust removed is free: another trust's snapshot takes it.
    let (name_505, text) = pos_file(
        "505",
        "20261122",
        2,
        &[
            pos_line("200", "KSS/RXX01/600/GPST/200", "2020-01-01", "505"),
            pos_line("101", DPN_101, "2020-01-01", "505"),
        ],
    );
    env.process(&name_505, &text).await;
    let taken = position(env, "101").await.unwrap();
    assert_eq!(
        (taken.vpd.as_str(), taken.status),
        ("505", PositionStatus::Active)
    );
}

scenario!(a_pos_file_never_destroys_what_it_cannot_read =>
    sqlite_a_pos_file_never_destroys_what_it_cannot_read,
    moto_a_pos_file_never_destroys_what_it_cannot_read);

//! The trust boundary for files (section 7, 2.5), each rule on SQLite and folders and on DynamoDB
//! and S3 emulated by moto: a file is taken only from its sender's folder, and a record acts only
//! on trusts that the file's local office manages.

use dit_core::ports::Area;
use dit_core::service::report::Outcome;
use dit_domain::boundary::FileOrigin;
use dit_domain::dnc::DNC_FIELDS;
use dit_domain::lifecycle::ApplicantState;
use dit_domain::org::Organisations;
use dit_test_support::applicants::{
    app, envelope, on_moto, on_sqlite, pos, Env, DPN_100, LEAD_504, ORGANISATIONS,
};

/// Drops `text` at `key` of the inbound area and processes it as inbound-file does: the sender is
/// the folder the key is in.
async fn drop_at(env: &Env, key: &str, text: &str) -> dit_core::service::report::FileReport {
    env.process_from(&FileOrigin::of_inbound_key(key), key, text)
        .await
}

async fn outbound_text(env: &Env, key: &str) -> Option<String> {
    env.blobs
        .get(Area::Outbound, key)
        .await
        .unwrap()
        .map(|bytes| String::from_utf8(bytes).unwrap())
}

/// A file in a folder its sender may not write is quarantined whole with the reason of section 7;
/// the same file in its sender's folder is processed.
async fn a_file_is_taken_only_from_its_senders_folder(env: Env) {
    let pos_505 = envelope(
        "POS",
        "505",
        2,
        &[
            pos("200", "KSS/RXX01/600/GPST/200", "Host Employer", "505"),
            pos("201", "KSS/RXX01/600/GPST/201", "Host Employer", "505"),
        ],
    );
    let pos_504 = envelope(
        "POS",
        "504",
        2,
        &[pos("100", DPN_100, "Lead Employer", "504")],
    );
    let app_text = envelope("APP", "KSS", 2, &[app("20", "100", DPN_100, "7000020")]);
    let positions_505 = env.store.trust_positions("505").await.unwrap();
    let positions_504 = env.store.trust_positions("504").await.unwrap();
    for (key, text, prefix) in [
        // 504 trying to take over 505's positions.
        (
            "trusts/504/ESR_505_POS_20261121_00000002.DAT",
            &pos_505,
            "incoming/trusts/504/",
        ),
        // A trust sending a TIS file.
        (
            "trusts/504/DE_KSS_APP_20261121_00000002.DAT",
            &app_text,
            "incoming/trusts/504/",
        ),
        // TIS sending a trust's positions.
        (
            "tis/ESR_504_POS_20261121_00000002.DAT",
            &pos_504,
            "incoming/tis/",
        ),
        // Nobody's folder.
        ("DE_KSS_APP_20261121_00000002.DAT", &app_text, "incoming/"),
        (
            "tis/x/DE_KSS_APP_20261121_00000002.DAT",
            &app_text,
            "incoming/tis/x/",
        ),
    ] {
        let name = key.rsplit('/').next().unwrap();
        let report = drop_at(&env, key, text).await;
        assert_eq!(report.outcome, Outcome::Quarantined, "{key}");
        let reason = report.quarantine.unwrap();
        assert_eq!(reason.code, "wrong_sender", "{key}");
        assert_eq!(
            reason.reason,
            format!("{name} is not accepted from {prefix}")
        );
        // Moved to the quarantine with its reason, nothing applied.
        assert!(env.blobs.get(Area::Inbound, key).await.unwrap().is_none());
        // Under the folder it was dropped in.
        assert!(env
            .blobs
            .get(Area::Quarantine, key)
            .await
            .unwrap()
            .is_some());
        let kept: serde_json::Value = serde_json::from_slice(
            &env.blobs
                .get(Area::Quarantine, &format!("{key}.reason.json"))
                .await
                .unwrap()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(kept["code"], "wrong_sender");
        assert_eq!(
            env.store.trust_positions("505").await.unwrap(),
            positions_505
        );
        assert_eq!(
            env.store.trust_positions("504").await.unwrap(),
            positions_504
        );
        assert!(env
            .store
            .placements(&["20".to_string()])
            .await
            .unwrap()
            .is_empty());
        assert!(
            outbound_text(&env, "tis/KSS/DE_KSS_APC_20261121_00000002.DAT")
                .await
                .is_none()
        );
    }

    // From their senders' own folders the same files are taken.
    let report = drop_at(
        &env,
        "trusts/505/ESR_505_POS_20261121_00000002.DAT",
        &pos_505,
    )
    .await;
    assert_eq!(report.outcome, Outcome::Processed, "{report:?}");
    assert_eq!(env.store.trust_positions("505").await.unwrap().len(), 2);
    let report = drop_at(&env, "tis/DE_KSS_APP_20261121_00000002.DAT", &app_text).await;
    assert_eq!(
        (report.outcome, report.loaded),
        (Outcome::Processed, 1),
        "{report:?}"
    );
}

#[tokio::test]
async fn a_file_is_taken_only_from_its_senders_folder_on_sqlite() {
    on_sqlite(a_file_is_taken_only_from_its_senders_folder).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_is_taken_only_from_its_senders_folder_on_moto() {
    on_moto(a_file_is_taken_only_from_its_senders_folder).await;
}

/// The fixture organisations with 504 also accepting files of LDN.
/// A same-named file quarantined from two senders' folders: each kept under its own origin
/// folder with its own reason; the second never overwrites the first.
async fn same_named_files_from_two_senders_are_quarantined_apart(env: Env) {
    let name = "DE_KSS_APP_20261121_00000077.DAT";
    // From TIS: its own folder, a broken file (no trailer).
    let from_tis = format!("tis/{name}");
    let broken = "HDR,APP,KSS,20261121,00000077,2026-11-21T09:00:00Z,1\n";
    let first = drop_at(&env, &from_tis, broken).await;
    assert_eq!(first.outcome, Outcome::Quarantined);
    let tis_reason = first.quarantine.unwrap();
    // From trust 505's folder, the same name: not a file a trust may send.
    let from_505 = format!("trusts/505/{name}");
    let second = drop_at(&env, &from_505, "something else entirely\n").await;
    assert_eq!(second.outcome, Outcome::Quarantined);
    assert_eq!(second.quarantine.unwrap().code, "wrong_sender");
    assert_ne!(tis_reason.code, "wrong_sender");
    let kept = |key: String| {
        let env = &env;
        async move { env.blobs.get(Area::Quarantine, &key).await.unwrap() }
    };
    assert_eq!(
        kept(from_tis.clone()).await.as_deref(),
        Some(broken.as_bytes())
    );
    assert_eq!(
        kept(from_505.clone()).await.as_deref(),
        Some(&b"something else entirely\n"[..])
    );
    let reason = |bytes: Option<Vec<u8>>| -> serde_json::Value {
        serde_json::from_slice(&bytes.expect("a reason")).unwrap()
    };
    let tis = reason(kept(format!("{from_tis}.reason.json")).await);
    let trust = reason(kept(format!("{from_505}.reason.json")).await);
    assert_eq!(tis["code"], tis_reason.code.as_str());
    assert_eq!(trust["code"], "wrong_sender");
    // Nothing at the bare name, which both would have shared before.
    assert!(kept(name.to_string()).await.is_none());
}

#[tokio::test]
async fn same_named_files_from_two_senders_are_quarantined_apart_on_sqlite() {
    on_sqlite(same_named_files_from_two_senders_are_quarantined_apart).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_named_files_from_two_senders_are_quarantined_apart_on_moto() {
    on_moto(same_named_files_from_two_senders_are_quarantined_apart).await;
}

fn accepting_ldn() -> Organisations {
    let text = ORGANISATIONS.replacen(
        "trac = true\n",
        "trac = true\naccept_local_offices = [\"LDN\"]\n",
        1,
    );
    Organisations::from_toml(&text, "fixtures").unwrap()
}

const NOT_MANAGED: &str =
    "Organisation 504 is not managed by local office LDN. Application rejected.";

/// An APP record of a local office that neither manages the trust nor is one it accepts is rejected
/// with the ERROR of 2.5, and the trust is told nothing; once accepted, the same record loads.
async fn an_app_record_acts_only_on_trusts_its_local_office_manages(env: Env) {
    let lines = [app("30", "100", DPN_100, "7000030")];
    let report = drop_at(
        &env,
        "tis/DE_LDN_APP_20261121_00000030.DAT",
        &envelope("APP", "LDN", 30, &lines),
    )
    .await;
    assert_eq!(
        (report.outcome, report.loaded, report.rejected),
        (Outcome::Processed, 0, 1),
        "{report:?}"
    );
    let apc = outbound_text(&env, "tis/LDN/DE_LDN_APC_20261121_00000030.DAT")
        .await
        .unwrap();
    assert!(apc.contains(NOT_MANAGED), "{apc}");
    assert!(env
        .store
        .placements(&["30".to_string()])
        .await
        .unwrap()
        .is_empty());
    // Nothing written for 504 about a file of an office that does not manage it.
    let told_504: Vec<String> = env
        .blobs
        .list(Area::Outbound, "trusts/504/")
        .await
        .unwrap()
        .into_iter()
        .filter(|key| key.contains("DE_LDN_APP_20261121_00000030"))
        .collect();
    assert!(told_504.is_empty(), "{told_504:?}");

    // 504 accepts LDN: the same placement in LDN's next file loads.
    let env = env.with_organisations(accepting_ldn());
    let report = drop_at(
        &env,
        "tis/DE_LDN_APP_20261121_00000031.DAT",
        &envelope("APP", "LDN", 31, &lines),
    )
    .await;
    assert_eq!(
        (report.outcome, report.loaded, report.rejected),
        (Outcome::Processed, 1, 0),
        "{report:?}"
    );
    let apc = outbound_text(&env, "tis/LDN/DE_LDN_APC_20261121_00000031.DAT")
        .await
        .unwrap();
    assert!(!apc.contains("is not managed by"), "{apc}");
}

#[tokio::test]
async fn an_app_record_acts_only_on_trusts_its_local_office_manages_on_sqlite() {
    on_sqlite(an_app_record_acts_only_on_trusts_its_local_office_manages).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_record_acts_only_on_trusts_its_local_office_manages_on_moto() {
    on_moto(an_app_record_acts_only_on_trusts_its_local_office_manages).await;
}

/// A DNC withdrawal of [`LEAD_504`] from local office `lo`.
fn withdrawal(lo: &str) -> String {
    let mut fields: Vec<String> = DNC_FIELDS.iter().map(|_| String::new()).collect();
    for (field, value) in [
        ("RECORD_CODE", "DNC"),
        ("NOTIFICATION_TYPE", "2"),
        ("DEANERY_POST_NUMBER", DPN_100),
        ("MANAGING_DEANERY_BODY", lo),
        ("POSITION_ID", "100"),
        ("VPD", "504"),
        ("POST_SPECIALTY", "Cardiology"),
        ("SITE", "Example Hospital"),
        ("WITHDRAWN_LAST_NAME", "Trainee"),
        ("WITHDRAWN_FIRST_NAME", "Test"),
        ("WITHDRAWN_GMC_NUMBER", "7000001"),
    ] {
        let i = DNC_FIELDS.iter().position(|f| *f == field).unwrap();
        fields[i] = value.to_string();
    }
    fields.join(",")
}

fn dcc_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|line| line.starts_with("DCC,"))
        .map(|line| line.split(',').map(str::to_string).collect())
        .collect()
}

/// A DNC record of a local office that does not manage the trust gets a DCC `FAIL` with the same
/// reason and changes nothing; once the office is accepted, the same record applies.
async fn a_dnc_record_acts_only_on_trusts_its_local_office_manages(env: Env) {
    let history = env.store.history(LEAD_504).await.unwrap();
    let report = drop_at(
        &env,
        "tis/DE_LDN_DNC_20261121_00000040.DAT",
        &envelope("DNC", "LDN", 40, &[withdrawal("LDN")]),
    )
    .await;
    assert_eq!(report.outcome, Outcome::Processed, "{report:?}");
    let dcc = outbound_text(&env, "tis/LDN/DE_LDN_DCC_20261121_00000040.DAT")
        .await
        .unwrap();
    let rows = dcc_rows(&dcc);
    assert_eq!(rows.len(), 1, "{dcc}");
    assert_eq!(rows[0][4], "FAIL", "{dcc}");
    assert_eq!(
        rows[0][5],
        "Organisation 504 is not managed by local office LDN. Notification rejected."
    );
    let applicant = env.store.applicant(LEAD_504).await.unwrap().unwrap();
    assert_eq!(applicant.state, ApplicantState::Loaded);
    assert_eq!(env.store.history(LEAD_504).await.unwrap(), history);

    let env = env.with_organisations(accepting_ldn());
    drop_at(
        &env,
        "tis/DE_LDN_DNC_20261121_00000041.DAT",
        &envelope("DNC", "LDN", 41, &[withdrawal("LDN")]),
    )
    .await;
    let dcc = outbound_text(&env, "tis/LDN/DE_LDN_DCC_20261121_00000041.DAT")
        .await
        .unwrap();
    assert_eq!(dcc_rows(&dcc)[0][4], "SUCCESS", "{dcc}");
    let applicant = env.store.applicant(LEAD_504).await.unwrap().unwrap();
    assert_eq!(applicant.state, ApplicantState::Withdrawn);
}

#[tokio::test]
async fn a_dnc_record_acts_only_on_trusts_its_local_office_manages_on_sqlite() {
    on_sqlite(a_dnc_record_acts_only_on_trusts_its_local_office_manages).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dnc_record_acts_only_on_trusts_its_local_office_manages_on_moto() {
    on_moto(a_dnc_record_acts_only_on_trusts_its_local_office_manages).await;
}

//! The RMC / RMF export: each change once, the full file, person updates.

use super::*;

use dit_core::service::export::{export_changes, export_full};

fn export_ctx(env: &Env) -> Context<'_> {
    Context::new(
        &env.store,
        &env.blobs,
        &env.organisations,
        Utc.with_ymd_and_hms(2026, 11, 21, 14, 30, 0).unwrap(),
    )
}

async fn lines_of(env: &Env, name: &str) -> Vec<String> {
    env.outbound(&format!("tis/KSS/{name}"))
        .await
        .lines()
        .filter(|l| !l.starts_with("HDR") && !l.starts_with("TRL"))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn the_rmc_sends_each_change_once_and_nothing_when_nothing_is_new() {
    let env = with_positions().await;
    let ctx = export_ctx(&env);
    let first = export_changes(&ctx, "KSS", day(21)).await.unwrap();
    assert_eq!(
        first.file.as_deref(),
        Some("DE_KSS_RMC_20261121_00000001.DAT")
    );
    assert_eq!(
        lines_of(&env, "DE_KSS_RMC_20261121_00000001.DAT").await,
        vec![
            format!("POR,100,C,100,100|Foundation|F1|Medicine,{DPN},KSS,Lead Employer,RXX,504,504 Org,Site"),
            "POR,101,C,101,101|Foundation|F1|Medicine,KSS/RJZ01/030/STR/002,KSS,Lead Employer,RXX,504,504 Org,Site".to_string(),
        ]
    );
    let header = env
        .outbound("tis/KSS/DE_KSS_RMC_20261121_00000001.DAT")
        .await;
    assert!(header.starts_with("HDR,RMC,KSS,20261121,00000001,2026-11-21T14:30:00Z,1\r\n"));
    assert!(header.ends_with("TRL,2\r\n"));
    let again = export_changes(&ctx, "KSS", day(21)).await.unwrap();
    assert_eq!(again.file, None);
    let next_day = export_changes(&ctx, "KSS", day(22)).await.unwrap();
    assert_eq!((next_day.file, next_day.changed), (None, 0));
    assert_eq!(
        env.blobs
            .list(Area::Outbound, "tis/KSS/DE_KSS_RMC")
            .await
            .unwrap()
            .len(),
        1
    );

    // A new snapshot: 101 renamed, 100 gone, 102 new, 103 with a bad DPN (never sent).
    let renamed = "POS,101,101,101|Foundation|F2|Medicine,KSS/RJZ01/030/STR/002,KSS,Lead Employer,2020-01-01,,N1L,F2,Site,RXX,504 Org";
    let snapshot = [
        renamed.to_string(),
        pos("102", "KSS/RJZ01/030/STR/003"),
        pos("103", "KSS//1/2"),
    ];
    env.process(
        "ESR_504_POS_20261123_00000002.DAT",
        &envelope("POS", "504", 2, &snapshot).replace("20261121", "20261123"),
    )
    .await;
    let third = export_changes(&ctx, "KSS", day(23)).await.unwrap();
    assert_eq!((third.changed, third.deleted), (2, 1));
    assert_eq!(
        lines_of(&env, "DE_KSS_RMC_20261123_00000002.DAT").await,
        vec![
            format!("POR,100,D,100,100|Foundation|F1|Medicine,{DPN},KSS,Lead Employer,RXX,504,504 Org,Site"),
            "POR,101,C,101,101|Foundation|F2|Medicine,KSS/RJZ01/030/STR/002,KSS,Lead Employer,RXX,504,504 Org,Site".to_string(),
            "POR,102,C,102,102|Foundation|F1|Medicine,KSS/RJZ01/030/STR/003,KSS,Lead Employer,RXX,504,504 Org,Site".to_string(),
        ]
    );
}

#[tokio::test]
async fn the_rmf_holds_every_current_position_and_resets_what_tis_knows() {
    let env = with_positions().await;
    let ctx = export_ctx(&env);
    let full = export_full(&ctx, "KSS", day(21)).await.unwrap();
    assert_eq!(
        full.file.as_deref(),
        Some("DE_KSS_RMF_20261121_00000001.DAT")
    );
    assert_eq!(
        lines_of(&env, "DE_KSS_RMF_20261121_00000001.DAT")
            .await
            .len(),
        2
    );
    let after = export_changes(&ctx, "KSS", day(21)).await.unwrap();
    assert_eq!(after.file, None, "the RMF already told TIS everything");
    assert!(export_changes(&ctx, "LDN", day(21))
        .await
        .unwrap()
        .file
        .is_none());
}

#[tokio::test]
async fn person_updates_go_in_the_rmc_once_and_only_for_full_records_trusts() {
    use dit_domain::model::{PersonUpdate, PersonUpdateStatus};
    let env = with_applicant().await;
    let ctx = export_ctx(&env);
    export_changes(&ctx, "KSS", day(21)).await.unwrap();
    // An accepted update changes the stored person (the messages service does this); the PER
    // line carries the person's current values, read from the applicant.
    let mut applicant = env.store.applicant("5000001").await.unwrap().unwrap();
    let entry = dit_domain::model::HistoryEntry {
        seq: applicant.version + 1,
        at: Utc::now(),
        command: "person_update".into(),
        from: Some(applicant.state),
        to: applicant.state,
        outcome: dit_domain::model::HistoryOutcome::Moved,
        cause: dit_domain::model::Cause::Message {
            id: "m-1".into(),
            sender: None,
        },
        actor: "trust 504".into(),
        detail: None,
    };
    let expected = applicant.version;
    applicant.version += 1;
    applicant.details.email_address = Some("new@example.nhs.uk".into());
    applicant.details.mobile_tel = Some("07700900999".into());
    env.store
        .record_move(expected, &applicant, &entry)
        .await
        .unwrap();
    let update = PersonUpdate {
        vpd: "504".into(),
        local_office: "KSS".into(),
        applicant_number: "5000001".into(),
        message_id: "m-1".into(),
        received_at: Utc::now(),
        effective_date: Some(day(22)),
        person: serde_json::json!({"EMAIL_ADDRESS": "new@example.nhs.uk", "MOBILE_TEL": "07700900999"}),
        status: PersonUpdateStatus::PendingRmc,
    };
    env.store.save_person_update(&update).await.unwrap();
    env.store
        .save_person_update(&PersonUpdate {
            message_id: "m-2".into(),
            status: PersonUpdateStatus::NotSentPartRecords,
            ..update.clone()
        })
        .await
        .unwrap();
    let report = export_changes(&ctx, "KSS", day(22)).await.unwrap();
    assert_eq!((report.changed, report.person_updates), (0, 1));
    let lines = lines_of(&env, "DE_KSS_RMC_20261122_00000002.DAT").await;
    assert_eq!(lines, vec!["PER,7000001,,Trainee,Test,,,1990-01-31,,07700900999,new@example.nhs.uk,,,,,,,,2026-11-22"]);
    let stored = env.store.person_updates("504").await.unwrap();
    assert_eq!(
        stored
            .iter()
            .find(|u| u.message_id == "m-1")
            .unwrap()
            .status,
        PersonUpdateStatus::Sent
    );
    assert_eq!(
        export_changes(&ctx, "KSS", day(23)).await.unwrap().file,
        None
    );
}

//! Revision 2 of the file rules, through the inbound service on both adapter pairs: SQLite and
//! folders, DynamoDB and S3 on moto. Each scenario is an `async fn` taking an [`Env`]; `scenario!`
//! makes one test per adapter pair.
//!
//! - Rejected APP records are kept and findable (2.5, 3).

use std::sync::Arc;

use dit_aws::dynamo::DynamoStore;
use dit_aws::s3::{S3Blobs, S3Layout};
use dit_core::domain::messages::MessageType;
use dit_core::domain::model::{RejectedApplication, RejectedLookup};
use dit_core::service::report::Outcome;
use dit_embedded::folders::FolderBlobs;
use dit_embedded::sqlite::SqliteStore;
use dit_test_support::applicants::{app, outbound, Env, DPN_100, DPN_101};
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

//! The new-starter reminder on the embedded adapters (SQLite in memory, folders): applicants are
//! loaded through the inbound service from POS and APP files, moved to other states through
//! `moves::change`, then reminded.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use chrono::{Days, NaiveDate, TimeZone, Utc};
use dit_core::ports::{Area, BlobError, BlobStore, StateStore};
use dit_core::service::context::{Context, ProcessError, Settings};
use dit_core::service::inbound::process_inbound;
use dit_core::service::moves::{change, moved, ChangeOutcome, Decision};
use dit_core::service::reminders::{self, reminder_key, ReminderReport, JOB};
use dit_core::service::report::Outcome;
use dit_core::service::NoProgress;
use dit_domain::app::APP_FIELDS;
use dit_domain::boundary::FileOrigin;
use dit_domain::lifecycle::{ApplicantState, Transition};
use dit_domain::model::Cause;
use dit_domain::org::Organisations;
use dit_embedded::folders::FolderBlobs;
use dit_embedded::sqlite::SqliteStore;
use dit_test_support::applicants::envelope;

fn orgs(live_506: bool) -> Organisations {
    let mut text = String::new();
    for (vpd, live) in [("504", true), ("505", true), ("506", live_506)] {
        text.push_str(&format!(
            "[[organisation]]\nvpd = \"{vpd}\"\nname = \"Trust {vpd}\"\nlocal_office = \"KSS\"\nmode = \"full\"\nlive = {live}\n\n"
        ));
    }
    Organisations::from_toml(&text, "test").unwrap()
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// The business date of most tests; its starters are hired on 2027-02-03.
const D: &str = "2027-01-29";
const HIRE: &str = "2027-02-03";

/// Blobs that fail (as S3 being unreachable would) on the operator record of `fail_date`, once.
struct FlakyBlobs {
    inner: FolderBlobs,
    fail_on: std::sync::Mutex<Option<String>>,
    failed: AtomicBool,
}

#[async_trait]
impl BlobStore for FlakyBlobs {
    async fn get(&self, area: Area, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        self.inner.get(area, key).await
    }
    async fn size(&self, area: Area, key: &str) -> Result<Option<u64>, BlobError> {
        self.inner.size(area, key).await
    }
    async fn put(
        &self,
        area: Area,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), BlobError> {
        let fail = self
            .fail_on
            .lock()
            .unwrap()
            .as_deref()
            .is_some_and(|k| k == key);
        if fail && !self.failed.swap(true, Ordering::SeqCst) {
            return Err(BlobError::Unavailable("simulated outage".into()));
        }
        self.inner.put(area, key, bytes, content_type).await
    }
    async fn delete(&self, area: Area, key: &str) -> Result<(), BlobError> {
        self.inner.delete(area, key).await
    }
    async fn link(
        &self,
        area: Area,
        key: &str,
        expires_in: std::time::Duration,
    ) -> Result<String, BlobError> {
        self.inner.link(area, key, expires_in).await
    }
    async fn list(&self, area: Area, prefix: &str) -> Result<Vec<String>, BlobError> {
        self.inner.list(area, prefix).await
    }
}

struct Env {
    _dir: tempfile::TempDir,
    store: SqliteStore,
    blobs: FlakyBlobs,
    /// Trust 506 is live when its applicants are loaded, not when reminded.
    reminding: Organisations,
    settings: Settings,
}

fn pos(id: &str, dpn: &str, host_lead: &str) -> String {
    format!("POS,{id},{id},{id}|Foundation|F1|Medicine,{dpn},KSS,{host_lead},2020-01-01,,N1L,F1,Site,RXX,Org")
}

fn app(placement: &str, position: &str, dpn: &str, hire: &str) -> String {
    let mut fields: Vec<String> = APP_FIELDS.iter().map(|_| String::new()).collect();
    let gmc = format!("{}", 7_100_000 + placement.parse::<u32>().unwrap());
    let last = format!("Trainee{placement}");
    let values = [
        ("RECORD_CODE", "APP"),
        ("PLACEMENT_ID", placement),
        ("EFFECTIVE_DATE", "2026-11-21"),
        ("POSITION_ID", position),
        ("POSITION_NUMBER", position),
        ("DEANERY_POST_NUMBER", dpn),
        ("LAST_NAME", last.as_str()),
        ("FIRST_NAME", "Test"),
        ("DATE_OF_BIRTH", "1990-01-31"),
        ("GMC_NUMBER", gmc.as_str()),
        ("PROJECTED_HIRE_DATE", hire),
    ];
    for (field, value) in values {
        let i = APP_FIELDS.iter().position(|f| *f == field).unwrap();
        fields[i] = value.to_string();
    }
    fields.join(",")
}

const DPN_100: &str = "KSS/RJZ01/030/STR/001";
const DPN_101: &str = "KSS/RJZ01/030/STR/002";
const DPN_200: &str = "KSS/RJZ02/030/STR/001";
const DPN_300: &str = "KSS/RJZ03/030/STR/001";

/// Placements and what becomes of them (see [`Env::new`]).
const PLACEMENTS: [(&str, &str, &str, &str, ApplicantState); 12] = [
    ("1", "100", DPN_100, HIRE, ApplicantState::Loaded),
    ("2", "101", DPN_101, HIRE, ApplicantState::Loaded), // Host Employer position
    ("3", "100", DPN_100, HIRE, ApplicantState::Offered),
    ("4", "100", DPN_100, HIRE, ApplicantState::Accepted),
    ("5", "100", DPN_100, HIRE, ApplicantState::Withdrawn),
    ("6", "100", DPN_100, HIRE, ApplicantState::Hired),
    ("7", "100", DPN_100, HIRE, ApplicantState::Rejected),
    ("8", "100", DPN_100, "2027-02-02", ApplicantState::Loaded), // D + 4
    ("9", "100", DPN_100, "2027-02-04", ApplicantState::Loaded), // D + 6
    ("10", "200", DPN_200, HIRE, ApplicantState::Loaded),        // trust 505
    ("11", "300", DPN_300, HIRE, ApplicantState::Accepted),      // trust 506, not live
    ("12", "100", DPN_100, "2027-02-01", ApplicantState::Loaded), // D + 3
];

impl Env {
    /// Trusts 504 (positions 100, 101 Host Employer), 505 (200), 506 (300); the applicants of
    /// [`PLACEMENTS`] loaded and moved to their states.
    async fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let env = Env {
            blobs: FlakyBlobs {
                inner: FolderBlobs::new(dir.path()),
                fail_on: std::sync::Mutex::new(None),
                failed: AtomicBool::new(false),
            },
            _dir: dir,
            store: SqliteStore::in_memory().unwrap(),
            reminding: orgs(false),
            settings: Settings::default(),
        };
        let loading = orgs(true);
        let files = [
            (
                "ESR_504_POS_20261121_00000001.DAT",
                envelope(
                    "POS",
                    "504",
                    1,
                    &[
                        pos("100", DPN_100, "Lead Employer"),
                        pos("101", DPN_101, "Host Employer"),
                    ],
                ),
            ),
            (
                "ESR_505_POS_20261121_00000001.DAT",
                envelope("POS", "505", 1, &[pos("200", DPN_200, "Lead Employer")]),
            ),
            (
                "ESR_506_POS_20261121_00000001.DAT",
                envelope("POS", "506", 1, &[pos("300", DPN_300, "Lead Employer")]),
            ),
            (
                "DE_KSS_APP_20261121_00000001.DAT",
                envelope(
                    "APP",
                    "KSS",
                    1,
                    &PLACEMENTS
                        .iter()
                        .map(|(p, position, dpn, hire, _)| app(p, position, dpn, hire))
                        .collect::<Vec<_>>(),
                ),
            ),
        ];
        for (name, text) in files {
            env.blobs
                .put(Area::Inbound, name, text.into_bytes(), "text/plain")
                .await
                .unwrap();
            let ctx = Context {
                organisations: &loading,
                ..env.ctx()
            };
            let report = process_inbound(&ctx, name, &FileOrigin::Operator, None)
                .await
                .unwrap();
            assert_eq!(report.outcome, Outcome::Processed, "{name}");
            assert_eq!(report.rejected, 0, "{name}: {report:?}");
        }
        for (placement, _, _, _, state) in PLACEMENTS {
            if state != ApplicantState::Loaded {
                env.set_state(placement, state).await;
            }
        }
        env
    }

    fn ctx(&self) -> Context<'_> {
        Context {
            store: &self.store,
            blobs: &self.blobs,
            mailer: &dit_core::ports::NoMailer,
            metrics: &dit_core::ports::NoMetrics,
            organisations: &self.reminding,
            settings: &self.settings,
            progress: &NoProgress,
            now: Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap(),
        }
    }

    async fn number(&self, placement: &str) -> String {
        self.store
            .placements(&[placement.to_string()])
            .await
            .unwrap()[placement]
            .applicant_number
            .clone()
    }

    /// Puts the applicant of `placement` in `state` (a stored move, as a trust action would).
    async fn set_state(&self, placement: &str, state: ApplicantState) {
        let number = self.number(placement).await;
        let cause = Cause::Message {
            id: format!("test-{placement}"),
            sender: None,
        };
        let outcome = change(
            &self.store,
            &number,
            Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(),
            &cause,
            "test",
            |a, _| Decision::Apply {
                updated: moved(a, state),
                command: "test".to_string(),
                transition: Transition::Moved {
                    from: Some(a.state),
                    to: state,
                },
                detail: None,
            },
        )
        .await
        .unwrap();
        assert!(matches!(outcome, ChangeOutcome::Applied { .. }));
    }

    async fn remind(&self, business_date: &str) -> Result<ReminderReport, ProcessError> {
        reminders::run(&self.ctx(), date(business_date)).await
    }

    /// Every outbound object under `trusts/` and `operator/schedules/`, with its bytes.
    async fn outputs(&self) -> BTreeMap<String, Vec<u8>> {
        let mut found = BTreeMap::new();
        for prefix in ["trusts/", "operator/schedules/"] {
            for key in self.blobs.list(Area::Outbound, prefix).await.unwrap() {
                if key.contains("new-starter") {
                    let bytes = self.blobs.get(Area::Outbound, &key).await.unwrap().unwrap();
                    found.insert(key, bytes);
                }
            }
        }
        found
    }

    async fn reminder(&self, vpd: &str, business_date: &str) -> Option<serde_json::Value> {
        let key = reminder_key(vpd, date(business_date), "json");
        self.blobs
            .get(Area::Outbound, &key)
            .await
            .unwrap()
            .map(|bytes| serde_json::from_slice(&bytes).unwrap())
    }

    /// The applicant numbers in a reminder.
    async fn reminded(&self, vpd: &str, business_date: &str) -> Vec<String> {
        let mut numbers: Vec<String> = self
            .reminder(vpd, business_date)
            .await
            .map(|r| {
                r["starters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s["Applicant Number"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        numbers.sort();
        numbers
    }

    async fn numbers(&self, placements: &[&str]) -> Vec<String> {
        let mut numbers = Vec::new();
        for p in placements {
            numbers.push(self.number(p).await);
        }
        numbers.sort();
        numbers
    }
}

fn dates(report: &ReminderReport) -> Vec<String> {
    report
        .dates
        .iter()
        .map(|d| d.business_date.to_string())
        .collect()
}

#[tokio::test]
async fn only_loaded_offered_and_accepted_applicants_hired_in_five_days_are_reminded() {
    let env = Env::new().await;
    let report = env.remind(D).await.unwrap();
    assert_eq!(dates(&report), [D]);
    let day = &report.dates[0];
    assert_eq!(day.hire_date, date(HIRE));
    // Placements 1-7, 10 and 11 are hired on D + 5, 8 on D + 4 and 12 on D + 3 (never reminded:
    // late); 5 (withdrawn), 6 (hired) and 7 (rejected) are not due; 9 (D + 6) is not read.
    assert_eq!(day.read, 11);
    assert_eq!(day.starters, 8);
    assert_eq!(day.late, 2);
    assert_eq!(
        env.reminded("504", D).await,
        env.numbers(&["1", "2", "3", "4", "8", "12"]).await,
        "loaded, offered and accepted; not withdrawn, hired, rejected, nor D + 6"
    );
    assert_eq!(env.reminded("505", D).await, env.numbers(&["10"]).await);
}

#[tokio::test]
async fn each_live_trust_gets_one_reminder_and_others_are_counted() {
    let env = Env::new().await;
    let report = env.remind(D).await.unwrap();
    let day = &report.dates[0];
    let trusts: Vec<(&str, usize, usize, usize)> = day
        .trusts
        .iter()
        .map(|t| (t.vpd.as_str(), t.starters, t.late, t.honorary))
        .collect();
    assert_eq!(trusts, [("504", 6, 2, 1), ("505", 1, 0, 0)]);
    assert_eq!(day.not_notified.len(), 1);
    assert_eq!(day.not_notified[0].vpd, "506");
    assert_eq!(day.not_notified[0].starters, 1);
    assert_eq!(day.not_notified[0].reason, "not live");
    assert!(env.reminder("506", D).await.is_none());
    assert_eq!(report.notifications(), 2);

    let keys: Vec<String> = env.outputs().await.into_keys().collect();
    assert_eq!(
        keys,
        [
            "operator/schedules/new-starter-reminder/2027-01-29.json",
            "trusts/504/notifications/new-starters/2027-01-29.new-starter-reminder.html",
            "trusts/504/notifications/new-starters/2027-01-29.new-starter-reminder.json",
            "trusts/505/notifications/new-starters/2027-01-29.new-starter-reminder.html",
            "trusts/505/notifications/new-starters/2027-01-29.new-starter-reminder.json",
        ]
    );
    let operator = String::from_utf8(env.outputs().await[&keys[0]].clone()).unwrap();
    assert!(
        !operator.contains("Trainee"),
        "the operator record carries no names"
    );
}

#[tokio::test]
async fn a_host_employer_position_is_hired_as_honorary() {
    let env = Env::new().await;
    env.remind(D).await.unwrap();
    let reminder = env.reminder("504", D).await.unwrap();
    assert_eq!(reminder["title"], "Deanery - Jnr. Doctor Starter(s) (504)");
    assert!(reminder["body"].as_str().unwrap().ends_with(
        "If you are the host trust for the trainee, please ensure that you hire the applicant as an honorary employee."
    ));
    let host = env.number("2").await;
    for starter in reminder["starters"].as_array().unwrap() {
        let expected = if starter["Applicant Number"] == host.as_str() {
            "Honorary"
        } else {
            "Employee"
        };
        assert_eq!(starter["Hire As"], expected, "{starter}");
        let late = starter["Projected Hire Date"] != HIRE;
        assert_eq!(starter.get("Late").is_some(), late, "{starter}");
    }
    let html = String::from_utf8(
        env.blobs
            .get(Area::Outbound, &reminder_key("504", date(D), "html"))
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert!(html.contains("<th>Position Number</th><th>Last Name</th><th>First Name</th><th>GMC Number</th><th>Projected Hire Date</th><th>Hire As</th><th>Reminder</th>"));
    assert!(html.contains("<tr><td>101</td><td>Trainee2</td><td>Test</td><td>7100002</td><td>03/02/2027</td><td>Honorary</td><td></td></tr>"));
    assert!(html.contains("<tr><td>100</td><td>Trainee12</td><td>Test</td><td>7100012</td><td>01/02/2027</td><td>Employee</td><td>late</td></tr>"));
    assert!(html.contains("<b>Late:</b> 2 trainee(s) marked late"));

    // Without late starters the table is ESR's, as before.
    let html_505 = String::from_utf8(
        env.blobs
            .get(Area::Outbound, &reminder_key("505", date(D), "html"))
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert!(html_505.contains("<th>Projected Hire Date</th><th>Hire As</th></tr>"));
    assert!(!html_505.contains("Late"));
    assert!(html.contains("<b>Date of Notification:</b> 29/01/2027"));
}

#[tokio::test]
async fn running_the_same_date_twice_writes_nothing_new() {
    let env = Env::new().await;
    let first = env.remind(D).await.unwrap();
    assert_eq!(first.notifications(), 2);
    let outputs = env.outputs().await;

    // Remove one reminder: a second run that wrote anything would bring it back.
    let removed = reminder_key("505", date(D), "html");
    env.blobs.delete(Area::Outbound, &removed).await.unwrap();
    let second = env.remind(D).await.unwrap();
    assert!(second.already_done());
    assert_eq!(second.notifications(), 0);
    assert!(second.dates.is_empty());
    assert_eq!(second.watermark_before, Some(date(D)));
    let mut expected = outputs.clone();
    expected.remove(&removed);
    assert_eq!(env.outputs().await, expected);

    // An earlier date is covered by the watermark too.
    assert!(env.remind("2027-01-20").await.unwrap().already_done());
    assert_eq!(env.store.watermark(JOB).await.unwrap(), Some(date(D)));
}

#[tokio::test]
async fn missed_dates_are_caught_up_once_each_in_order() {
    let env = Env::new().await;
    let d = date(D);
    env.store
        .advance_watermark(JOB, d.checked_sub_days(Days::new(3)).unwrap())
        .await
        .unwrap();
    let report = env.remind(D).await.unwrap();
    assert_eq!(dates(&report), ["2027-01-27", "2027-01-28", D]);
    let starters: Vec<usize> = report.dates.iter().map(|d| d.starters).collect();
    assert_eq!(starters, [1, 1, 6], "placement 12, placement 8, then D's");
    assert_eq!(
        env.reminded("504", "2027-01-27").await,
        env.numbers(&["12"]).await
    );
    assert_eq!(
        env.reminded("504", "2027-01-28").await,
        env.numbers(&["8"]).await
    );
    assert_eq!(report.watermark_after, Some(d));
    assert_eq!(env.store.watermark(JOB).await.unwrap(), Some(d));

    // Then the next day reminds that day only.
    let next = env.remind("2027-01-30").await.unwrap();
    assert_eq!(dates(&next), ["2027-01-30"]);
    assert_eq!(
        env.reminded("504", "2027-01-30").await,
        env.numbers(&["9"]).await
    );
}

#[tokio::test]
async fn the_first_run_ever_reminds_only_its_own_date() {
    let env = Env::new().await;
    assert_eq!(env.store.watermark(JOB).await.unwrap(), None);
    let report = env.remind(D).await.unwrap();
    assert_eq!(report.watermark_before, None);
    assert_eq!(dates(&report), [D]);
    assert!(env.reminder("504", "2027-01-28").await.is_none());
    assert!(env.reminder("504", "2027-01-27").await.is_none());
}

#[tokio::test]
async fn a_date_without_starters_writes_no_reminder_but_is_done() {
    let env = Env::new().await;
    let report = env.remind("2027-01-10").await.unwrap();
    assert_eq!(report.dates[0].starters, 0);
    assert_eq!(report.notifications(), 0);
    assert_eq!(
        env.outputs().await.into_keys().collect::<Vec<_>>(),
        ["operator/schedules/new-starter-reminder/2027-01-10.json"]
    );
    assert_eq!(
        env.store.watermark(JOB).await.unwrap(),
        Some(date("2027-01-10"))
    );
}

#[tokio::test]
async fn a_run_that_fails_half_way_is_finished_by_the_next_with_the_same_bytes() {
    let clean = Env::new().await;
    clean
        .store
        .advance_watermark(JOB, date("2027-01-26"))
        .await
        .unwrap();
    clean.remind(D).await.unwrap();
    let expected = clean.outputs().await;

    let env = Env::new().await;
    env.store
        .advance_watermark(JOB, date("2027-01-26"))
        .await
        .unwrap();
    // The last write of 2027-01-28 fails: 2027-01-27 is done, 2027-01-28 half written.
    *env.blobs.fail_on.lock().unwrap() = Some(reminders::operator_key(date("2027-01-28")));
    let err = env.remind(D).await.unwrap_err();
    assert!(err.is_transient());
    assert_eq!(
        env.store.watermark(JOB).await.unwrap(),
        Some(date("2027-01-27"))
    );
    let retry = env.remind(D).await.unwrap();
    assert_eq!(dates(&retry), ["2027-01-28", D]);
    assert_eq!(env.outputs().await, expected);
}

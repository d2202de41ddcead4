//! Every starter is reminded once (section 5), through the inbound service and the reminder on
//! both adapter pairs: SQLite and folders, DynamoDB and S3 on moto. A starter loaded, or re-dated
//! by a DNC type 4, after its D + 5 run is in the next run, marked late; a starter re-dated after
//! being reminded is reminded again for its new date; nobody is reminded twice for one date.

use chrono::NaiveDate;
use dit_core::ports::Area;
use dit_core::service::reminders::{self, reminder_key, ReminderReport, REMIND_COMMAND};
use dit_domain::dnc::DNC_FIELDS;
use dit_test_support::applicants::with_fields;
use dit_test_support::applicants::{
    app, at, Env, DPN_100, DPN_101, HOST_505_PART, HOST_506_FULL, LEAD_504, SECOND_504,
};
use dit_test_support::Moto;

/// One test on SQLite and folders, one on DynamoDB and S3 (moto), for a scenario taking `&Env`.
macro_rules! scenario {
    ($scenario:ident => $sqlite:ident, $moto:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            let (_dir, env) = Env::sqlite_temp();
            $scenario(&env).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $moto() {
            let moto = Moto::start();
            $scenario(&Env::moto(&moto).await).await;
        }
    };
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// An APP line (see [`app`]) hired on `hire`.
fn app_hired(placement: &str, position: &str, dpn: &str, gmc: &str, hire: &str) -> String {
    with_fields(
        &app(placement, position, dpn, gmc),
        &[("PROJECTED_HIRE_DATE", hire)],
    )
}

/// A DNC file (KSS, 2026-11-21) with one type 4 record: the next trainee with GMC number `gmc`
/// on trust 504's position `position` now starts on `hire`.
fn date_change(seq: u32, position: &str, dpn: &str, gmc: &str, hire: &str) -> (String, String) {
    let mut fields: Vec<String> = DNC_FIELDS.iter().map(|_| String::new()).collect();
    for (field, value) in [
        ("RECORD_CODE", "DNC"),
        ("NOTIFICATION_TYPE", "4"),
        ("DEANERY_POST_NUMBER", dpn),
        ("MANAGING_DEANERY_BODY", "KSS"),
        ("POSITION_ID", position),
        ("VPD", "504"),
        ("NEXT_LAST_NAME", "Trainee"),
        ("NEXT_FIRST_NAME", "Test"),
        ("NEXT_GMC_NUMBER", gmc),
        ("CHANGE_OF_PROJECTED_HIRE_DATE", hire),
    ] {
        let i = DNC_FIELDS.iter().position(|f| *f == field).unwrap();
        fields[i] = value.to_string();
    }
    (
        format!("DE_KSS_DNC_20261121_{seq:08}.DAT"),
        format!(
            "HDR,DNC,KSS,20261121,{seq:08},2026-11-21T13:00:00Z,1\n{}\nTRL,1\n",
            fields.join(",")
        ),
    )
}

async fn remind(env: &Env, business_date: &str) -> ReminderReport {
    reminders::run(&env.ctx(at(45)), date(business_date))
        .await
        .unwrap()
}

/// A trust's reminder of a date: (applicant number, projected hire date, late) per starter.
async fn reminded(env: &Env, vpd: &str, business_date: &str) -> Vec<(String, String, bool)> {
    let Some(bytes) = env
        .blobs
        .get(
            Area::Outbound,
            &reminder_key(vpd, date(business_date), "json"),
        )
        .await
        .unwrap()
    else {
        return Vec::new();
    };
    let reminder: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let mut rows: Vec<(String, String, bool)> = reminder["starters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["Applicant Number"].as_str().unwrap().to_string(),
                s["Projected Hire Date"].as_str().unwrap().to_string(),
                s.get("Late").is_some_and(|l| l == true),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn row(number: &str, hire: &str, late: bool) -> (String, String, bool) {
    (number.to_string(), hire.to_string(), late)
}

async fn number_of(env: &Env, placement: &str) -> String {
    env.store
        .placements(&[placement.to_string()])
        .await
        .unwrap()[placement]
        .applicant_number
        .clone()
}

/// The "remind" history entries of an applicant: their details.
async fn reminders_in_history(env: &Env, number: &str) -> Vec<String> {
    env.store
        .history(number)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.command == REMIND_COMMAND)
        .map(|e| e.detail.unwrap_or_default())
        .collect()
}

async fn every_starter_is_reminded_once(env: &Env) {
    env.load().await; // 5000001-5000004, all hired on 2027-02-03.
    let first = remind(env, "2027-01-29").await;
    assert_eq!((first.dates[0].starters, first.dates[0].late), (4, 0));
    assert_eq!(
        reminded(env, "504", "2027-01-29").await,
        [
            row(LEAD_504, "2027-02-03", false),
            row(SECOND_504, "2027-02-03", false)
        ]
    );

    // After the 2027-01-29 run: placements loaded late, and 5000002 re-dated to 2027-02-02.
    let report = env
        .process_app(
            2,
            &[
                // Hired 2027-02-01: its D + 5 run (2027-01-27) has passed: late on 2027-01-30.
                app_hired("20", "100", DPN_100, "7000020", "2027-02-01"),
                // Hired on 2027-01-30, the next run's own date: too late for any reminder.
                app_hired("21", "101", DPN_101, "7000021", "2027-01-30"),
                // Hired 2027-02-04: on time for the 2027-01-30 run.
                app_hired("22", "101", DPN_101, "7000022", "2027-02-04"),
            ],
        )
        .await;
    assert_eq!(report.loaded, 3, "{report:?}");
    let (name, text) = date_change(3, "101", DPN_101, "7000002", "2027-02-02");
    let report = env.process(&name, &text).await;
    assert_eq!(report.loaded, 1, "{report:?}");
    // 5000001 re-dated further out: reminded again on its new D + 5 run.
    let (name, text) = date_change(4, "100", DPN_100, "7000001", "2027-02-06");
    env.process(&name, &text).await;
    let (late, too_late, on_time) = (
        number_of(env, "20").await,
        number_of(env, "21").await,
        number_of(env, "22").await,
    );

    let next = remind(env, "2027-01-30").await;
    let day = &next.dates[0];
    assert_eq!((day.starters, day.late), (3, 2), "{day:?}");
    assert_eq!(day.trusts.len(), 1, "505 and 506 were reminded already");
    assert_eq!(day.trusts[0].late, 2);
    let mut expected = vec![
        row(&late, "2027-02-01", true),
        row(SECOND_504, "2027-02-02", true),
        row(&on_time, "2027-02-04", false),
    ];
    expected.sort();
    assert_eq!(reminded(env, "504", "2027-01-30").await, expected);
    assert!(!reminded(env, "504", "2027-01-30")
        .await
        .iter()
        .any(|(n, _, _)| *n == too_late));
    let html = String::from_utf8(
        env.blobs
            .get(
                Area::Outbound,
                &reminder_key("504", date("2027-01-30"), "html"),
            )
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert!(
        html.contains("<b>Late:</b> 2 trainee(s) marked late"),
        "{html}"
    );
    assert!(html.contains("<th>Hire As</th><th>Reminder</th>"), "{html}");
    assert!(html.contains("<td>01/02/2027</td><td>Employee</td><td>late</td>"));
    assert!(html.contains("<td>04/02/2027</td><td>Employee</td><td></td>"));
    assert_eq!(
        reminders_in_history(env, SECOND_504).await,
        [
            "reminded for projected hire date 2027-02-03",
            "reminded for projected hire date 2027-02-02 (late)"
        ]
    );

    // The next days name nobody twice; 5000001 comes on its new D + 5 run, on time.
    let report = remind(env, "2027-01-31").await;
    assert_eq!(report.dates[0].starters, 0, "{report:?}");
    let report = remind(env, "2027-02-01").await;
    assert_eq!((report.dates[0].starters, report.dates[0].late), (1, 0));
    assert_eq!(
        reminded(env, "504", "2027-02-01").await,
        [row(LEAD_504, "2027-02-06", false)]
    );
    assert!(remind(env, "2027-02-01").await.already_done());
    assert_eq!(
        reminders_in_history(env, LEAD_504).await,
        [
            "reminded for projected hire date 2027-02-03",
            "reminded for projected hire date 2027-02-06"
        ]
    );
    for number in [HOST_505_PART, HOST_506_FULL, &late, &on_time] {
        assert_eq!(reminders_in_history(env, number).await.len(), 1, "{number}");
    }
    assert!(reminders_in_history(env, &too_late).await.is_empty());
}

scenario!(every_starter_is_reminded_once =>
    sqlite_every_starter_is_reminded_once_and_late_ones_are_marked,
    moto_every_starter_is_reminded_once_and_late_ones_are_marked);

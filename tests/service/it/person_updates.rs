//! Person updates accumulate (2.9), on SQLite and folders and on DynamoDB and S3 (moto): each
//! accepted update changes the stored person, a PER line carries the person's current values (a
//! second update never reverts the first), invalid values and unknown keys are refused by name.

use chrono::NaiveDate;
use dit_core::ports::Area;
use dit_core::service::export::export_changes;
use dit_core::service::messages::answering::AnswerStatus;
use dit_domain::model::HistoryOutcome;
use dit_test_support::applicants::{action, at, Env, LEAD_504};
use dit_test_support::on_both_stores;
use serde_json::{json, Value};

async fn hire(env: &Env, number: &str) {
    for step in ["offer", "accept", "hire"] {
        let mut body = action(&format!("{step}-{number}"), step, "504", number);
        body["person_type"] = json!("Employee");
        let result = env.send(&body.to_string()).await;
        assert_eq!(result.answer.status, AnswerStatus::Accepted, "{result:?}");
    }
}

fn update(id: &str, effective: &str, person: Value) -> String {
    let mut body = action(id, "person_update", "504", LEAD_504);
    body["effective_date"] = json!(effective);
    body["person"] = person;
    body.to_string()
}

/// The PER lines of the RMC exported for KSS on `date`.
async fn per_lines(env: &Env, date: NaiveDate) -> Vec<String> {
    let report = export_changes(&env.ctx(at(50)), "KSS", date).await.unwrap();
    let name = report.file.expect("an RMC was written");
    let bytes = env
        .blobs
        .get(Area::Outbound, &format!("tis/KSS/{name}"))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8(bytes)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("PER,"))
        .map(str::to_string)
        .collect()
}

async fn updates_accumulate_and_per_lines_carry_current_values(env: Env) {
    env.load().await;
    hire(&env, LEAD_504).await;
    let first = update(
        "pu-1",
        "2027-03-01",
        json!({"MOBILE_TEL": "07700900111", "ADDRESS_LINE_1": "1 New Road"}),
    );
    let second = update(
        "pu-2",
        "2027-03-02",
        json!({"email_address": "second@example.nhs.uk", "title": "dr"}),
    );
    for body in [first, second] {
        let result = env.send(&body).await;
        assert_eq!(result.answer.status, AnswerStatus::Accepted, "{result:?}");
    }
    let details = env
        .store
        .applicant(LEAD_504)
        .await
        .unwrap()
        .unwrap()
        .details;
    assert_eq!(details.mobile_tel.as_deref(), Some("07700900111"));
    assert_eq!(details.address_line_1.as_deref(), Some("1 New Road"));
    assert_eq!(
        details.email_address.as_deref(),
        Some("second@example.nhs.uk")
    );
    assert_eq!(details.title.as_deref(), Some("Dr"));

    // Both updates' lines carry both changes: whichever TIS applies last, nothing is reverted.
    let current = "PER,7000001,,Trainee,Test,Dr,,1990-01-31,,07700900111,second@example.nhs.uk,,1 New Road,,,,,";
    assert_eq!(
        per_lines(&env, NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()).await,
        vec![
            format!("{current},2027-03-01"),
            format!("{current},2027-03-02")
        ]
    );

    // A third update after that RMC changes one field; the others stay as the earlier updates left them.
    let third = update("pu-3", "2027-03-03", json!({"MOBILE_TEL": "07700900222"}));
    assert_eq!(env.send(&third).await.answer.status, AnswerStatus::Accepted);
    assert_eq!(
        per_lines(&env, NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()).await,
        vec!["PER,7000001,,Trainee,Test,Dr,,1990-01-31,,07700900222,second@example.nhs.uk,,1 New Road,,,,,,2027-03-03"]
    );
}

on_both_stores!(updates_accumulate_and_per_lines_carry_current_values
    => sqlite_person_updates_accumulate, moto_person_updates_accumulate);

async fn invalid_values_and_unknown_keys_are_refused_by_name(env: Env) {
    env.load().await;
    hire(&env, LEAD_504).await;
    let before = env.store.applicant(LEAD_504).await.unwrap().unwrap();
    for (id, person, named) in [
        (
            "bad-dob",
            json!({"DATE_OF_BIRTH": "1990-02-30"}),
            "person.DATE_OF_BIRTH is not a valid date",
        ),
        (
            "bad-gmc",
            json!({"GMC_NUMBER": "12345"}),
            "person.GMC_NUMBER is not a GMC number",
        ),
        (
            "bad-ni",
            json!({"NATIONAL_INSURANCE_NUMBER": "AB"}),
            "person.NATIONAL_INSURANCE_NUMBER is not a National Insurance number",
        ),
        (
            "bad-title",
            json!({"TITLE": "Sir"}),
            "person.TITLE is not one of Mr, Mrs",
        ),
        (
            "bad-ethnic",
            json!({"ETHNIC_ORIGIN": "Q"}),
            "person.ETHNIC_ORIGIN is not one of",
        ),
        (
            "bad-country",
            json!({"COUNTRY": "XX"}),
            "person.COUNTRY is not an ISO 3166-1",
        ),
        (
            "no-name",
            json!({"LAST_NAME": ""}),
            "person.LAST_NAME is mandatory",
        ),
        (
            "unknown",
            json!({"MOBILE_TEL": "07700900333", "favourite_colour": "blue"}),
            "person.favourite_colour is not a person field",
        ),
    ] {
        let result = env.send(&update(id, "2027-03-01", person)).await;
        assert_eq!(result.answer.status, AnswerStatus::Refused, "{id}");
        let reason = result.answer.reason.unwrap_or_default();
        assert!(reason.contains(named), "{id}: {reason}");
        assert!(
            !reason.contains("1990-02-30") && !reason.contains("12345"),
            "{reason}"
        );
    }
    let after = env.store.applicant(LEAD_504).await.unwrap().unwrap();
    assert_eq!(after.details, before.details, "nothing changed");
    assert!(env.store.person_updates("504").await.unwrap().is_empty());
    let refused = env
        .store
        .history(LEAD_504)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.command == "person_update")
        .filter(|e| matches!(e.outcome, HistoryOutcome::Refused { .. }))
        .count();
    assert_eq!(refused, 8);
}

on_both_stores!(invalid_values_and_unknown_keys_are_refused_by_name
    => sqlite_person_update_refused_by_name, moto_person_update_refused_by_name);

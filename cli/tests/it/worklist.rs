//! `dit worklist` and `dit outstanding-actions` on the sample data (sections 10 and 11).

use crate::common::dit;
use serde_json::{json, Value};

fn numbers(section: &Value) -> Vec<(String, i64)> {
    section
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["applicant_number"].as_str().unwrap().to_string(),
                row["days"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_sample_worklist_of_504_has_the_six_sections_of_section_11() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let (status, _, _) = dit(&data, &["process", "events/files/"]);
    assert_eq!(status, 3, "the samples include quarantined files");

    let (status, out, err) = dit(
        &data,
        &[
            "worklist",
            "--as",
            "trust:504",
            "--date",
            "2027-01-30",
            "--json",
        ],
    );
    assert_eq!(status, 0, "{err}");
    let list: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list["vpd"], "504");
    assert_eq!(list["date"], "2027-01-30");
    let sections = list["sections"].as_object().unwrap();
    assert_eq!(sections.len(), 6);
    // In the order of section 11 in the printed JSON.
    let at: Vec<usize> = [
        "overdue",
        "starting_not_accepted",
        "ready_to_hire",
        "checks_outstanding",
        "internal_moves",
        "leaving",
    ]
    .iter()
    .map(|name| out.find(&format!("\"{name}\": [")).unwrap())
    .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}");
    // Hire dates 2027-02-01 (DNC 47 moved it), 2027-02-03 (four) and 2027-02-10 (DNC moved it):
    // sorted by hire date, days counted from 2027-01-30.
    let starting: Vec<(String, i64)> = [
        ("5000008", 2),
        ("5000001", 4),
        ("5000005", 4),
        ("5000006", 4),
        ("5000007", 4),
        ("5000002", 11),
    ]
    .iter()
    .map(|(n, d)| (n.to_string(), *d))
    .collect();
    assert_eq!(
        numbers(&list["sections"]["starting_not_accepted"]),
        starting
    );
    assert_eq!(
        list["sections"]["starting_not_accepted"][0],
        json!({"applicant_number": "5000008", "last_name": "Gap", "first_name": "After",
            "gmc_number": "7544170", "position_number": "10508064",
            "projected_hire_date": "2027-02-01", "state": "loaded", "days": 2})
    );
    assert_eq!(
        numbers(&list["sections"]["internal_moves"]),
        vec![("5000010".to_string(), 18)]
    );
    assert!(list["sections"]["overdue"].as_array().unwrap().is_empty());
    // Another trust's applicants never appear.
    let all = out.clone();
    let (_, out_505, _) = dit(
        &data,
        &[
            "worklist",
            "--as",
            "trust:505",
            "--date",
            "2027-01-30",
            "--json",
        ],
    );
    let list_505: Value = serde_json::from_str(&out_505).unwrap();
    for row in list_505["sections"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|s| s.as_array().unwrap())
    {
        let number = row["applicant_number"].as_str().unwrap();
        assert!(number.is_empty() || !all.contains(number), "{number}");
    }

    // A day later than every hire date: the open ones are overdue.
    let (_, out, _) = dit(
        &data,
        &[
            "worklist",
            "--as",
            "trust:504",
            "--date",
            "2027-02-11",
            "--json",
        ],
    );
    let later: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        numbers(&later["sections"]["overdue"])
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        vec!["5000008", "5000001", "5000005", "5000006", "5000007", "5000002"]
    );

    let (status, text, _) = dit(
        &data,
        &["worklist", "--as", "trust:504", "--date", "2027-01-30"],
    );
    assert_eq!(status, 0);
    assert!(text.contains("Internal moves (1)"), "{text}");

    let (status, shown, _) = dit(&data, &["show", "5000010"]);
    assert_eq!(status, 0);
    assert!(shown.contains("Internal mover     yes"), "{shown}");
}

#[test]
fn outstanding_actions_notify_only_trusts_with_overdue_or_ready_rows_with_counts_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    dit(&data, &["process", "events/files/"]);
    let (status, out, _) = dit(&data, &["outstanding-actions", "--date", "2027-01-30"]);
    assert_eq!(status, 0, "{out}");
    assert!(
        out.contains("trust 504   nothing overdue or ready to hire"),
        "{out}"
    );
    let (status, out, _) = dit(&data, &["outstanding-actions", "--date", "2027-02-05"]);
    assert_eq!(status, 0, "{out}");
    assert!(
        out.contains("trust 504   overdue 5, ready to hire 0"),
        "{out}"
    );
    let base =
        data.join("outbound/trusts/504/notifications/outstanding/2027-02-05.outstanding-actions");
    let json = std::fs::read_to_string(base.with_extension("outstanding-actions.json")).unwrap();
    let html = std::fs::read_to_string(base.with_extension("outstanding-actions.html")).unwrap();
    let mail =
        std::fs::read_to_string(data.join("outbound/mail/504/2027-02-05.outstanding-actions.eml"))
            .unwrap();
    for text in [&json, &html, &mail] {
        for personal in ["Okafor", "7544158", "Lindqvist"] {
            assert!(!text.contains(personal), "{personal} in {text}");
        }
    }
    assert!(json.contains("\"overdue\": 5"), "{json}");
    assert!(mail.contains("Applicants concerned: 5"), "{mail}");
}

#[test]
fn the_worklist_is_a_trusts() {
    let dir = tempfile::tempdir().unwrap();
    let (status, _, err) = dit(dir.path(), &["worklist", "--as", "operator"]);
    assert_eq!(status, 2, "{err}");
}

/// The README's rotation-day walkthrough on the sample data.
#[test]
fn the_rotation_day_walkthrough_works_as_the_readme_says() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    dit(&data, &["process", "events/files/"]);
    let (status, _, _) = dit(&data, &["action", "events/messages/walkthrough.jsonl"]);
    assert_eq!(status, 0);
    let (status, out, _) = dit(&data, &["process", "events/rotation-day/"]);
    assert_eq!(status, 0, "{out}");
    let (_, shown, _) = dit(&data, &["show", "7000061"]);
    assert!(shown.contains("Applicant 5000011  (loaded)"), "{shown}");
    assert!(shown.contains("INFO Application is from an EXISTING Employee"));
    assert!(shown.contains("Internal mover     yes"));

    let (_, out, _) = dit(
        &data,
        &[
            "worklist",
            "--as",
            "trust:504",
            "--date",
            "2027-02-01",
            "--json",
        ],
    );
    let list: Value = serde_json::from_str(&out).unwrap();
    let movers: Vec<(String, i64)> = numbers(&list["sections"]["internal_moves"]);
    assert_eq!(
        movers,
        vec![("5000010".to_string(), 16), ("5000011".to_string(), 16)]
    );
    // The DNF's current holder of 10508065 (GMC 7100002) ends on 2027-02-02 with no later post.
    let leaving = &list["sections"]["leaving"];
    assert_eq!(leaving.as_array().unwrap().len(), 1, "{leaving}");
    assert_eq!(leaving[0]["gmc_number"], "7100002");
    assert_eq!(leaving[0]["days"], 1);

    let (status, out, _) = dit(&data, &["action", "events/messages/rotation-day.jsonl"]);
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("Applicant 5000011 is an existing employee of trust 504: update the assignment (update_assignment) instead of hiring again."), "{out}");
    assert!(
        out.contains("Organisation 504 takes employment checks from Trac"),
        "{out}"
    );
    let (_, shown, _) = dit(&data, &["show", "5000001"]);
    assert!(shown.contains("hire 2027-02-03, end 2027-02-16"), "{shown}");
    assert!(shown.contains("assignment_moved"), "{shown}");
    let (_, json, _) = dit(&data, &["show", "--json", "5000001"]);
    assert!(
        json.contains("Assignment moved to position 10508065 from 2027-02-17 (applicant 5000011)")
    );
}

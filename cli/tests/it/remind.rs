//! `dit remind` on the sample data, as the README shows it.

use crate::common::dit;

#[test]
fn the_sample_data_gives_reminders_on_2027_01_29_and_nothing_new_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let (status, _, _) = dit(&data, &["process", "events/files/"]);
    assert_eq!(status, 3, "the samples include quarantined files");

    let (status, out, _) = dit(&data, &["remind", "--date", "2027-01-29"]);
    assert_eq!(status, 0, "{out}");
    // DNC 47 moved applicant 5000008 to 2027-02-01, after its reminder date: reminded, late.
    assert!(
        out.contains("starters hired on 2027-02-03: 5; late (hired sooner, not yet reminded): 1"),
        "{out}"
    );
    assert!(out.contains("trust 504   5 starter(s), 1 late"), "{out}");
    let reminder = std::fs::read_to_string(data.join(
        "outbound/trusts/504/notifications/new-starters/2027-01-29.new-starter-reminder.json",
    ))
    .unwrap();
    assert!(reminder.contains("\"Applicant Number\": \"5000008\",\n      \"Late\": true"));
    assert!(
        out.contains("trust 505   1 starter(s), 1 as Honorary"),
        "{out}"
    );
    for vpd in ["504", "505"] {
        assert!(data
            .join(format!(
                "outbound/trusts/{vpd}/notifications/new-starters/2027-01-29.new-starter-reminder.html"
            ))
            .is_file());
    }

    let (status, out, _) = dit(&data, &["remind", "--date", "2027-01-29"]);
    assert_eq!(status, 0);
    assert!(out.contains("Nothing new"), "{out}");

    // The DNC moved applicant 5000002 to 2027-02-10: reminded on 2027-02-05, after catching up.
    let (status, out, _) = dit(&data, &["remind", "--date", "2027-02-05"]);
    assert_eq!(status, 0);
    assert!(out.contains("Catching up 7 dates."), "{out}");
    let moved = std::fs::read_to_string(data.join(
        "outbound/trusts/504/notifications/new-starters/2027-02-05.new-starter-reminder.json",
    ))
    .unwrap();
    assert!(moved.contains("\"Applicant Number\": \"5000002\""));
}

#[test]
fn a_missing_data_directory_or_date_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let (status, _, _) = dit(
        &dir.path().join("none"),
        &["remind", "--date", "2027-01-29"],
    );
    assert_eq!(status, 2);
    let (status, _, _) = dit(dir.path(), &["remind"]);
    assert_eq!(status, 2);
    let (status, _, _) = dit(dir.path(), &["remind", "--date", "29/01/2027"]);
    assert_eq!(status, 2);
}

//! `dit check-sequences` on the sample data, as the README shows it.

use crate::common::dit;

#[test]
fn the_sample_data_is_missing_app_44() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let (status, out, _) = dit(&data, &["process", "events/files/"]);
    assert_eq!(status, 3, "the samples include quarantined files");
    assert!(!out.contains("sequence gap"), "no per-file warning: {out}");

    let (status, out, _) = dit(&data, &["check-sequences", "--date", "2026-11-21"]);
    assert_eq!(status, 0, "{out}");
    assert!(
        out.contains("APP  3 received, 00000042 to 00000045; 1 missing: 00000044"),
        "{out}"
    );
    assert!(out.contains("DNC  1 received"), "{out}");
    let html = std::fs::read_to_string(
        data.join("outbound/operator/schedules/sequence-check/2026-11-21.html"),
    )
    .unwrap();
    assert!(html.contains("<td>00000044</td>"), "{html}");

    let (status, _, _) = dit(&data, &["check-sequences"]);
    assert_eq!(status, 2, "the date is required");
}

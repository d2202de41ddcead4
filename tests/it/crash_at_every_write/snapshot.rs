//! What a world holds, read back: every store read and blob the paths can touch, comparable
//! between worlds.

use std::collections::BTreeMap;

use dit_core::ports::Area;
use dit_core::service::reminders;
use dit_domain::model::RejectedLookup;
use serde_json::Value;

use super::world::*;

// ---------------------------------------------------------------------------------------------
// What a world holds, read back
// ---------------------------------------------------------------------------------------------

pub(super) type Snapshot = BTreeMap<String, Value>;

pub(super) fn json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

/// Everything the store and the blob store hold that the paths can touch, by name, and on moto
/// the e-mails SES accepted (locally they are `.eml` files in the outbound area).
pub(super) async fn snapshot(ground: &Ground, world: &World, highest_number: u64) -> Snapshot {
    let store = world.store.as_ref();
    let mut snap = Snapshot::new();
    let mut persons = Vec::new();
    let mut placements = Vec::new();
    // Applicants by number, beyond the clean run's highest: a number used twice or a record
    // numbered differently shows as a difference.
    for n in 1..=highest_number * 2 + 50 {
        let number = (5_000_000 + n).to_string();
        let Some(applicant) = store.applicant(&number).await.unwrap() else {
            continue;
        };
        let history = store.history(&number).await.unwrap();
        let seqs: Vec<u32> = history.iter().map(|e| e.seq).collect();
        let expected: Vec<u32> = (1..=history.len() as u32).collect();
        assert_eq!(
            seqs, expected,
            "applicant {number}: history without gaps or duplicates"
        );
        if let Some(key) = &applicant.person_key {
            persons.push((applicant.vpd.clone(), key.clone()));
        }
        placements.push(applicant.placement_id.clone());
        snap.insert(format!("applicant {number}"), json(&applicant));
        snap.insert(format!("history {number}"), json(&history));
    }
    for (id, link) in store.placements(&placements).await.unwrap() {
        snap.insert(format!("placement {id}"), json(&link));
    }
    for ((vpd, key), person) in store.persons(&persons).await.unwrap() {
        snap.insert(format!("person {vpd} {key}"), json(&person));
    }
    for org in world.organisations.iter() {
        let vpd = &org.vpd;
        snap.insert(
            format!("positions {vpd}"),
            json(&store.trust_positions(vpd).await.unwrap()),
        );
        snap.insert(
            format!("rotation {vpd}"),
            json(&store.rotation_grid(vpd).await.unwrap()),
        );
        snap.insert(
            format!("person updates {vpd}"),
            json(&store.person_updates(vpd).await.unwrap()),
        );
        snap.insert(
            format!("rejected {vpd}"),
            json(
                &store
                    .rejected_applications(RejectedLookup::Trust(vpd))
                    .await
                    .unwrap(),
            ),
        );
        let watermark = format!("rmc#{}", org.local_office);
        snap.insert(
            format!("watermark {watermark}"),
            json(&store.watermark(&watermark).await.unwrap()),
        );
        let tis: BTreeMap<String, Vec<String>> = store
            .tis_positions(&org.local_office)
            .await
            .unwrap()
            .into_iter()
            .collect();
        snap.insert(format!("tis view {}", org.local_office), json(&tis));
    }
    snap.insert(
        format!("watermark {}", reminders::JOB),
        json(&store.watermark(reminders::JOB).await.unwrap()),
    );
    for (area, name) in [
        (Area::Inbound, "inbound"),
        (Area::Outbound, "outbound"),
        (Area::Quarantine, "quarantine"),
    ] {
        for key in world.blobs.list(area, "").await.unwrap() {
            let bytes = world
                .blobs
                .get(area, &key)
                .await
                .unwrap()
                .unwrap_or_default();
            snap.insert(
                format!("{name}/{key}"),
                Value::String(comparable(world, &key, bytes)),
            );
        }
    }
    if let Ground::Moto(moto) = ground {
        // What SES was asked to send, each mail as it went out (the id is moto's own); sorted,
        // so that a mail sent twice shows as two.
        let mut sent: Vec<Value> = moto
            .sent_emails()
            .into_iter()
            .map(|m| {
                serde_json::json!({
                    "source": m["source"],
                    "destinations": m["destinations"],
                    "subject": m["subject"],
                    "body": m["body"],
                })
            })
            .collect();
        sent.sort_by_key(|m| m.to_string());
        snap.insert("ses sent".into(), Value::Array(sent));
    }
    snap
}

/// The bytes as text, with what differs between equal worlds masked: the local data folder, and
/// the presigned link of a Medical Rotation Notification (a fresh signature each time).
pub(super) fn comparable(world: &World, key: &str, bytes: Vec<u8>) -> String {
    let mut text = String::from_utf8(bytes.clone()).unwrap_or_else(|_| {
        format!(
            "{} binary bytes, sha {:x?}",
            bytes.len(),
            short_hash(&bytes)
        )
    });
    if let Some(root) = &world.local_root {
        text = text.replace(root.as_str(), "<dir>");
    }
    if key.contains(".medical-rotation.") && world.local_root.is_none() {
        for (start, end) in [("\"link\": \"", "\""), ("href=\"", "\"")] {
            while let Some(at) = text
                .find(start)
                .filter(|at| !text[at + start.len()..].starts_with("<link>"))
            {
                let from = at + start.len();
                let to = from + text[from..].find(end).unwrap_or(0);
                text.replace_range(from..to, "<link>");
            }
        }
    }
    text
}

pub(super) fn short_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    })
}

pub(super) fn highest_number(snap: &Snapshot) -> u64 {
    snap.keys()
        .filter_map(|k| k.strip_prefix("applicant "))
        .filter_map(|n| n.parse::<u64>().ok())
        .map(|n| n - 5_000_000)
        .max()
        .unwrap_or(0)
}

/// The first differences between two snapshots, for the failure message.
pub(super) fn differences(clean: &Snapshot, got: &Snapshot) -> Vec<String> {
    let mut found = Vec::new();
    for (key, value) in clean {
        match got.get(key) {
            None => found.push(format!("missing {key}")),
            Some(other) if other != value => {
                let (a, b) = (value.to_string(), other.to_string());
                let at = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
                let from = at.saturating_sub(80);
                let show = |s: &str| s.chars().skip(from).take(240).collect::<String>();
                found.push(format!(
                    "{key} differs:\n      clean: ...{}\n      rerun: ...{}",
                    show(&a),
                    show(&b)
                ));
            }
            _ => {}
        }
    }
    for key in got.keys().filter(|k| !clean.contains_key(*k)) {
        found.push(format!("extra {key}"));
    }
    found
}

//! `dit show KEY`: "where is my applicant?" by applicant number, GMC number or placement id,
//! rejected applications (records that failed their load checks) included.

use dit_core::ports::{StateStore, StoreError};
use dit_core::service::messages::answering::status_text;
use dit_domain::model::{
    Applicant, HistoryEntry, HistoryOutcome, PersonUpdate, RejectedApplication, RejectedLookup,
};

use crate::exit::EXIT_FAILED;
use crate::local::Local;

/// Exit status when nothing matches the key.
const EXIT_NOT_FOUND: u8 = 4;

async fn find(store: &dyn StateStore, key: &str) -> Result<Vec<Applicant>, StoreError> {
    let mut found: Vec<Applicant> = Vec::new();
    let add = |applicant: Applicant, found: &mut Vec<Applicant>| {
        if !found
            .iter()
            .any(|a| a.applicant_number == applicant.applicant_number)
        {
            found.push(applicant);
        }
    };
    if let Some(applicant) = store.applicant(key).await? {
        add(applicant, &mut found);
    }
    for link in store.placements(&[key.to_string()]).await?.into_values() {
        if let Some(applicant) = store.applicant(&link.applicant_number).await? {
            add(applicant, &mut found);
        }
    }
    for applicant in store.applicants_by_gmc(key).await? {
        add(applicant, &mut found);
    }
    Ok(found)
}

/// Rejected records with this placement id or GMC number, each once, oldest first.
async fn find_rejected(
    store: &dyn StateStore,
    key: &str,
) -> Result<Vec<RejectedApplication>, StoreError> {
    let mut found = store
        .rejected_applications(RejectedLookup::Placement(key))
        .await?;
    for rejected in store
        .rejected_applications(RejectedLookup::Gmc(key))
        .await?
    {
        let same = |r: &RejectedApplication| {
            r.source_file == rejected.source_file && r.record_number == rejected.record_number
        };
        if !found.iter().any(same) {
            found.push(rejected);
        }
    }
    found.sort_by(|a, b| {
        (a.business_date, &a.source_file, a.record_number).cmp(&(
            b.business_date,
            &b.source_file,
            b.record_number,
        ))
    });
    Ok(found)
}

pub async fn run(local: Local, key: &str, json: bool) -> u8 {
    let key = key.trim();
    let result = async {
        let mut shown = Vec::new();
        for applicant in find(&local.store, key).await? {
            let history = local.store.history(&applicant.applicant_number).await?;
            let updates: Vec<PersonUpdate> = local
                .store
                .person_updates(&applicant.vpd)
                .await?
                .into_iter()
                .filter(|u| u.applicant_number == applicant.applicant_number)
                .collect();
            shown.push((applicant, history, updates));
        }
        let rejected = find_rejected(&local.store, key).await?;
        Ok::<_, StoreError>((shown, rejected))
    }
    .await;
    let (shown, rejected) = match result {
        Ok(shown) => shown,
        Err(err) => {
            eprintln!("error: {err}");
            return EXIT_FAILED;
        }
    };
    if shown.is_empty() && rejected.is_empty() {
        eprintln!(
            "No applicant or rejected application found for {key:?} (tried applicant number, placement id and GMC number)."
        );
        return EXIT_NOT_FOUND;
    }
    if json {
        let value: Vec<serde_json::Value> = shown
            .iter()
            .map(|(applicant, history, updates)| {
                serde_json::json!({ "applicant": applicant, "history": history, "person_updates": updates })
            })
            .chain(rejected.iter().map(|r| {
                serde_json::json!({ "state": "rejected", "rejected_application": r })
            }))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
        return 0;
    }
    for (i, (applicant, history, updates)) in shown.iter().enumerate() {
        if i > 0 {
            println!();
        }
        let trust = local
            .organisations
            .get(&applicant.vpd)
            .map(|o| format!("{} {}", o.vpd, o.name))
            .unwrap_or_else(|| format!("{} (not configured)", applicant.vpd));
        print_applicant(applicant, &trust);
        print_checks_and_updates(applicant, updates);
        print_history(history);
    }
    for (i, r) in rejected.iter().enumerate() {
        if i > 0 || !shown.is_empty() {
            println!();
        }
        let trust = match r.vpd.as_deref() {
            None => "- (not resolved to a trust)".to_string(),
            Some(vpd) => local
                .organisations
                .get(vpd)
                .map(|o| format!("{} {}", o.vpd, o.name))
                .unwrap_or_else(|| format!("{vpd} (not configured)")),
        };
        print_rejected(r, &trust);
    }
    0
}

fn print_rejected(r: &RejectedApplication, trust: &str) {
    let or_dash = |text: &str| {
        if text.is_empty() {
            "-".to_string()
        } else {
            text.to_string()
        }
    };
    println!("Rejected application  (rejected)");
    println!("  Placement          {}", or_dash(&r.placement_id));
    println!(
        "  Name               {}, {}",
        or_dash(&r.last_name),
        or_dash(&r.first_name)
    );
    println!(
        "  GMC number         {}",
        r.gmc_number.as_deref().unwrap_or("-")
    );
    println!("  Trust              {trust}");
    println!(
        "  Position           {} (number {}), DPN {}",
        or_dash(&r.position_id),
        or_dash(&r.position_number),
        or_dash(&r.dpn)
    );
    println!(
        "  Rejected in        {} record {} (line {}, local office {}, business date {})",
        r.source_file, r.record_number, r.line, r.local_office, r.business_date
    );
    for message in &r.messages {
        println!(
            "  Message            {} {}",
            message.message_type, message.text
        );
    }
}

fn print_applicant(a: &Applicant, trust: &str) {
    let d = &a.details;
    println!("Applicant {}  ({})", a.applicant_number, a.state);
    println!("  Name               {}, {}", d.last_name, d.first_name);
    println!(
        "  GMC number         {}",
        d.gmc_number.as_deref().unwrap_or("-")
    );
    println!("  Trust              {trust}");
    println!(
        "  Position           {} (number {}), DPN {}",
        a.position_id, a.position_number, a.dpn
    );
    println!("  Placement          {}", a.placement_id);
    if a.internal_mover {
        println!(
            "  Internal mover     yes: already an employee of trust {}; update the assignment (update_assignment), do not hire",
            a.vpd
        );
    }
    println!("  Assignment id      {}", a.assignment_id);
    println!(
        "  Projected dates    hire {}, end {}",
        a.projected_hire_date,
        a.projected_end_date
            .map_or("-".to_string(), |d| d.to_string())
    );
    println!(
        "  Loaded from        {} record {} (local office {})",
        a.source_file, a.record_number, a.local_office
    );
    for message in &a.load_messages {
        println!(
            "  Load message       {} {}",
            message.message_type, message.text
        );
    }
}

fn print_checks_and_updates(a: &Applicant, updates: &[PersonUpdate]) {
    if let Some(held) = &a.trust_checks {
        let names: Vec<&str> = held
            .checks
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        println!(
            "  Checks by trust    recorded {} by {} (message {}): {}",
            held.received_at.format("%Y-%m-%d %H:%M:%S UTC"),
            held.recorded_by.as_deref().unwrap_or("the trust"),
            held.message_id,
            names.join(", ")
        );
    }
    match &a.employment_checks {
        None => println!("  Employment checks  none received from Trac"),
        Some(held) => {
            let checks: Vec<&str> = held
                .checks
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            println!(
                "  Employment checks  received {} (message {}): {}",
                held.received_at.format("%Y-%m-%d %H:%M:%S UTC"),
                held.message_id,
                if checks.is_empty() {
                    "(no checks)".to_string()
                } else {
                    checks.join(", ")
                }
            );
            if !held.dropped_fields.is_empty() {
                println!(
                    "                     fields dropped: {}",
                    held.dropped_fields.join(", ")
                );
            }
        }
    }
    for update in updates {
        println!(
            "  Person update      received {} (message {}){}: {}",
            update.received_at.format("%Y-%m-%d %H:%M:%S UTC"),
            update.message_id,
            update
                .effective_date
                .map(|d| format!(", effective {d}"))
                .unwrap_or_default(),
            status_text(update.status)
        );
    }
}

fn print_history(history: &[HistoryEntry]) {
    println!("  History");
    for entry in history {
        let from = entry.from.map_or("(new)".to_string(), |s| s.to_string());
        let what = match &entry.outcome {
            HistoryOutcome::Moved if entry.from == Some(entry.to) => {
                format!("{} (state kept)", entry.to)
            }
            HistoryOutcome::Moved => format!("{from} -> {}", entry.to),
            HistoryOutcome::Unchanged => format!("{} (repeated, unchanged)", entry.to),
            HistoryOutcome::Refused { reason } => format!("REFUSED: {reason}"),
        };
        println!(
            "    {:>3}  {}  {:<9} {}  by {}  cause: {}",
            entry.seq,
            entry.at.format("%Y-%m-%d %H:%M:%S UTC"),
            entry.command,
            what,
            entry.actor,
            entry.cause
        );
        if let Some(detail) = &entry.detail {
            println!("           {detail}");
        }
    }
}

//! Crash at every write: each path runs once cleanly, then once per write N with a fault at the
//! Nth write (a transient failure before it, a panic before it, or a failure after it was made),
//! then again on the real store and blob store, as a redelivery or a rerun would. The rerun must
//! converge to exactly the clean run: the same applicants (numbers included), history, persons,
//! positions, rotation grids, person updates, watermarks, TIS view and rejected records (compared
//! through store reads), and byte-identical files in every area.
//!
//! The paths: an APP file of 120 records, a POS file, a DNC and a DNF file, a batch of trust
//! messages, the new-starter reminder over two dates, the RMC export. Each notification, reminder
//! and report the paths write for trust 504 is e-mailed (its `alert_emails`): an alert handed
//! over is a write too, and the rerun must have sent each alert exactly once (`.eml` files
//! locally, SES on moto). On SQLite (in memory) and
//! folders for every N and each of the three faults; on DynamoDB and S3 (moto) for a sample of N.
//! A write of many records is faulted between any two of them (see `dit_test_support::faults`).
//!
//! A batch of messages stops at its first failure, as a process that dies there would; the rerun
//! sends the whole batch again. Every run uses the same clock, so timestamps compare equal.

mod paths;
mod snapshot;
mod world;

use dit_test_support::faults::{Fault, Faults};
use dit_test_support::Moto;
use serde_json::Value;

use paths::*;
use snapshot::*;
use world::*;

const FAULTS: [Fault; 3] = [Fault::Fail, Fault::Panic, Fault::FailAfter];

// ---------------------------------------------------------------------------------------------
// Crash, rerun, compare
// ---------------------------------------------------------------------------------------------

/// Injected panics are expected: keep them out of the test output (one hook for every test of
/// this file, however many run at once).
fn quiet_injected_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let injected = info
                .payload()
                .downcast_ref::<String>()
                .is_some_and(|m| m.starts_with("injected panic"));
            if !injected {
                default(info);
            }
        }));
    });
}

struct Clean {
    snapshot: Snapshot,
    writes: u64,
    /// The numbers of the step's writes that hand an e-mail alert over.
    mail_writes: Vec<u64>,
    /// E-mail alerts sent by the step of the clean run.
    mails: usize,
}

fn mails(snap: &Snapshot) -> usize {
    let local = snap
        .keys()
        .filter(|k| k.starts_with("outbound/mail/"))
        .count();
    let ses = snap
        .get("ses sent")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    local + ses
}

async fn clean_run(ground: &Ground, path: &Path) -> Clean {
    let fresh = ground.fresh().await;
    (path.setup)(fresh.world.clone()).await.unwrap();
    let mails_before = mails(&snapshot(ground, &fresh.world, 0).await);
    let counter = Faults::none();
    (path.step)(fresh.world.faulty(&counter)).await.unwrap();
    // Twice: the step is idempotent by itself (a redelivery after success changes nothing).
    (path.step)(fresh.world.clone()).await.unwrap();
    let first = snapshot(ground, &fresh.world, 0).await;
    let snapshot = snapshot(ground, &fresh.world, highest_number(&first)).await;
    assert_eq!(
        mails(&snapshot) > mails_before,
        path.alerts,
        "{}: e-mail alerts sent by the step",
        path.name
    );
    assert_eq!(
        counter.writes_of("mail").len(),
        mails(&snapshot) - mails_before,
        "{}: one hand-over per alert",
        path.name
    );
    Clean {
        mails: mails(&snapshot) - mails_before,
        snapshot,
        writes: counter.writes(),
        mail_writes: counter.writes_of("mail"),
    }
}

/// One fault at write `n`, then the rerun; `Err` with the differences when it does not converge.
async fn crash_and_rerun(
    ground: &Ground,
    path: &Path,
    clean: &Snapshot,
    n: u64,
    fault: Fault,
) -> Result<(), String> {
    let fresh = ground.fresh().await;
    (path.setup)(fresh.world.clone()).await.unwrap();
    let faults = Faults::at(n, fault);
    let faulty = fresh.world.faulty(&faults);
    let outcome = tokio::spawn((path.step)(faulty)).await;
    if faults.injected() != 1 {
        return Err(format!(
            "write {n} was never reached ({} writes)",
            faults.writes()
        ));
    }
    let stopped = match outcome {
        Ok(Ok(())) => "finished without reporting the fault".to_string(),
        Ok(Err(error)) => format!("stopped: {error}"),
        Err(join) if join.is_panic() => "panicked".to_string(),
        Err(join) => format!("aborted: {join}"),
    };
    (path.step)(fresh.world.clone())
        .await
        .map_err(|e| format!("the rerun failed ({stopped}): {e}"))?;
    let got = snapshot(ground, &fresh.world, highest_number(clean)).await;
    let differences = differences(clean, &got);
    if differences.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{stopped}; then the rerun differs from the clean run:\n    {}",
            differences
                .into_iter()
                .take(6)
                .collect::<Vec<_>>()
                .join("\n    ")
        ))
    }
}

/// Every write of the path on SQLite and folders, each of the three faults at it.
async fn sqlite_path_converges_after_a_fault_at_every_write(path: Path) {
    quiet_injected_panics();
    let ground = Ground::Sqlite;
    let clean = clean_run(&ground, &path).await;
    assert!(clean.writes > 0, "{}: no writes", path.name);
    let mut failures = Vec::new();
    let mut survived = 0;
    for n in 1..=clean.writes {
        for fault in FAULTS {
            match crash_and_rerun(&ground, &path, &clean.snapshot, n, fault).await {
                Ok(()) => survived += 1,
                // A few are enough to see what went wrong.
                Err(why) if failures.len() < 3 => failures.push(format!(
                    "{}: {fault:?} at write {n} of {}: {why}",
                    path.name, clean.writes
                )),
                Err(_) => {}
            }
        }
    }
    eprintln!(
        "crash at every write (SQLite), {}: {} writes ({} e-mail alerts), {} faults injected, {survived} converged",
        path.name,
        clean.writes,
        clean.mails,
        clean.writes * 3
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The writes faulted on moto, where what differs from SQLite is the adapters' handling of a
/// write that landed though its caller saw an error (conditional writes met again, SES's
/// send record): the middle write and, where the step e-mails, the first hand-over to SES with
/// its acknowledgement lost (the rerun must not send it again), each made and then failed; and
/// the last write failing before it is made (the rerun must finish the step). Faults before a
/// write and panics are the same to every store, so the SQLite runs cover them at every write.
fn moto_sample(writes: u64, mail_writes: &[u64]) -> Vec<(u64, Fault)> {
    let mut sample = vec![
        (writes.div_ceil(2), Fault::FailAfter),
        (writes, Fault::Fail),
    ];
    if let Some(&first) = mail_writes.first() {
        sample.push((first, Fault::FailAfter));
    }
    sample.sort_by_key(|(n, _)| *n);
    sample.dedup_by_key(|(n, _)| *n);
    sample
}

async fn moto_path_converges_after_a_fault_at_sampled_writes(path: Path) {
    quiet_injected_panics();
    let ground = Ground::Moto(Moto::start());
    let clean = clean_run(&ground, &path).await;
    let sample = moto_sample(clean.writes, &clean.mail_writes);
    let mut failures = Vec::new();
    for &(n, fault) in &sample {
        if let Err(why) = crash_and_rerun(&ground, &path, &clean.snapshot, n, fault).await {
            failures.push(format!(
                "{}: {fault:?} at write {n} of {}: {why}",
                path.name, clean.writes
            ));
        }
    }
    eprintln!(
        "crash at sampled writes (moto), {}: {} writes ({} e-mail alerts, at {:?}), faults injected at {:?}, {} converged",
        path.name,
        clean.writes,
        clean.mails,
        clean.mail_writes,
        sample,
        sample.len() - failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// One test per path and ground, so that the test threads share the paths out.
macro_rules! crash_tests {
    ($($name:ident: $path:expr;)*) => {
        mod sqlite {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    sqlite_path_converges_after_a_fault_at_every_write($path).await;
                }
            )*
        }
        mod moto {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    moto_path_converges_after_a_fault_at_sampled_writes($path).await;
                }
            )*
        }
    };
}

crash_tests! {
    app_file_of_120_records: app_path();
    pos_file: pos_path();
    dnc_file: dnc_path();
    dnf_file: dnf_path();
    trust_message_batch: messages_path();
    reminder_over_two_dates: reminder_path();
    rmc_export: export_path();
}

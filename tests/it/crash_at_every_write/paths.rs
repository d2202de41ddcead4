//! The paths: what each sets up on the real store, and the step that is faulted and rerun.

use dit_core::ports::Area;
use dit_core::service::export::export_changes;
use dit_core::service::inbound::process_inbound;
use dit_core::service::messages::handle_message;
use dit_core::service::reminders;
use dit_domain::boundary::{FileOrigin, MessageSender, Principal};
use dit_test_support::samples::repo;

use super::world::*;

pub(super) async fn drop_and_process(
    world: &World,
    name: &str,
    bytes: Vec<u8>,
) -> Result<(), String> {
    drop_file(world, name, bytes).await?;
    process(world, name).await
}

/// Puts a file into the inbound area, as a sender drops it.
async fn drop_file(world: &World, name: &str, bytes: Vec<u8>) -> Result<(), String> {
    world
        .blobs
        .put(Area::Inbound, name, bytes, "text/plain")
        .await
        .map_err(|e| e.to_string())
}

pub(super) async fn process(world: &World, name: &str) -> Result<(), String> {
    process_inbound(&world.ctx(), name, &FileOrigin::Operator, None)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

pub(super) fn sample(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("events/files").join(name)).unwrap()
}

/// The sample positions and applicants (POS 504 and 505, APP 42).
pub(super) async fn load_samples(world: &World) -> Result<(), String> {
    for name in [
        "ESR_504_POS_20261121_00000001.DAT",
        "ESR_505_POS_20261121_00000001.DAT",
        "DE_KSS_APP_20261121_00000042.DAT",
    ] {
        drop_and_process(world, name, sample(name)).await?;
    }
    Ok(())
}

pub(super) fn walkthrough() -> Vec<String> {
    std::fs::read_to_string(repo().join("events/messages/walkthrough.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

pub(super) async fn send_batch(world: &World) -> Result<(), String> {
    for body in walkthrough() {
        // The local operator's authority (dit action without --as), as the walkthrough is sent.
        handle_message(
            &world.ctx(),
            &MessageSender::Known(Principal::Operator),
            &body,
        )
        .await
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

pub(super) const APP_POSITIONS: u64 = 6;

pub(super) fn app_position(p: u64) -> (u64, String) {
    (32_000_000 + p, format!("KSS/RJZ01/640/STR/{p:03}"))
}

/// Six positions of trust 504 for the generated APP files.
pub(super) fn app_positions_file() -> Vec<u8> {
    let mut text = String::from("HDR,POS,504,20261121,00000007,2026-11-21T13:00:00Z,1\n");
    for p in 0..APP_POSITIONS {
        let (id, dpn) = app_position(p);
        text.push_str(&format!("POS,{id},{id},{id}|Registrar|ST4|Medicine,{dpn},KSS,Lead Employer,2020-01-01,,N1L,ST4,Site,RXX,504\n"));
    }
    text.push_str(&format!("TRL,{APP_POSITIONS}\n"));
    text.into_bytes()
}

pub(super) fn app_line(
    placement: u64,
    position: u64,
    gmc: u64,
    born: &str,
    surname: &str,
) -> String {
    let (id, dpn) = app_position(position);
    format!("APP,{placement},2026-11-21,{id},{id},{dpn},{surname},Forename,,Dr,{born},F,{gmc},,,,,,,,,,,,,GB,GB,GB,Z,S,,,N,,2027-02-03,,1.0,ST4")
}

pub(super) fn app_file(seq: u32, lines: &[String]) -> Vec<u8> {
    let mut text = format!("HDR,APP,KSS,20261121,{seq:08},2026-11-21T13:00:00Z,1\n");
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(&format!("TRL,{}\n", lines.len()));
    text.into_bytes()
}

/// 120 records: most load; some are the same person twice, some have an impossible date of
/// birth, one names an unknown position, one repeats a placement.
pub(super) fn app_120() -> Vec<u8> {
    let lines: Vec<String> = (0..120u64)
        .map(|i| {
            let placement = if i == 50 { 9_200_049 } else { 9_200_000 + i };
            let gmc = if i % 10 == 9 {
                7_800_000 + i - 1
            } else {
                7_800_000 + i
            };
            let born = if i % 15 == 14 {
                "1990-02-30"
            } else {
                "1990-01-31"
            };
            let line = app_line(
                placement,
                i % APP_POSITIONS,
                gmc,
                born,
                &format!("Surname{i}"),
            );
            if i == 7 {
                line.replace("32000001,32000001", "39999999,39999999")
            } else {
                line
            }
        })
        .collect();
    app_file(2, &lines)
}

pub(super) fn setup_app(world: World) -> Run {
    Box::pin(async move {
        drop_and_process(
            &world,
            "ESR_504_POS_20261121_00000007.DAT",
            app_positions_file(),
        )
        .await?;
        // An earlier file: applicant numbers are already in use.
        let earlier = app_file(
            1,
            &[app_line(9_199_000, 0, 7_799_000, "1991-05-05", "Earlier")],
        );
        drop_and_process(&world, "DE_KSS_APP_20261121_00000001.DAT", earlier).await?;
        drop_file(&world, "DE_KSS_APP_20261121_00000002.DAT", app_120()).await
    })
}

pub(super) fn step_app(world: World) -> Run {
    Box::pin(async move { process(&world, "DE_KSS_APP_20261121_00000002.DAT").await })
}

/// Trust 504's positions again, a day later: one renamed, one gone, one new.
pub(super) fn next_pos_file() -> Vec<u8> {
    let text = String::from_utf8(sample("ESR_504_POS_20261121_00000001.DAT")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let data: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with("POS,"))
        .collect();
    lines[data[0]] = lines[data[0]].replace("Anaesthetics", "Intensive Care");
    lines.remove(data[1]);
    lines.insert(
        lines.len() - 1,
        "POS,10509999,10509999,10509999|Foundation House Officer|F2|Surgery,KSS/RJZ01/030/STR/999,KSS,Lead Employer,2020-08-01,,N1L,F2,Example Hospital,RXX,504 Example Hospital".into(),
    );
    let count = lines.iter().filter(|l| l.starts_with("POS,")).count();
    let last = lines.len() - 1;
    lines[last] = format!("TRL,{count}");
    lines[0] = lines[0].replace("20261121,00000001", "20261122,00000002");
    let mut text = lines.join("\n");
    text.push('\n');
    text.into_bytes()
}

pub(super) fn setup_pos(world: World) -> Run {
    Box::pin(async move {
        load_samples(&world).await?;
        drop_file(&world, "ESR_504_POS_20261122_00000002.DAT", next_pos_file()).await
    })
}

pub(super) fn step_pos(world: World) -> Run {
    Box::pin(async move { process(&world, "ESR_504_POS_20261122_00000002.DAT").await })
}

pub(super) fn setup_notification(name: &'static str) -> impl Fn(World) -> Run {
    move |world: World| -> Run {
        Box::pin(async move {
            load_samples(&world).await?;
            drop_file(&world, name, sample(name)).await
        })
    }
}

pub(super) const DNC: &str = "DE_KSS_DNC_20261121_00000046.DAT";
pub(super) const DNF: &str = "DE_KSS_DNF_20261121_00000001.DAT";

pub(super) fn setup_dnc(world: World) -> Run {
    setup_notification(DNC)(world)
}

pub(super) fn step_dnc(world: World) -> Run {
    Box::pin(async move { process(&world, DNC).await })
}

pub(super) fn setup_dnf(world: World) -> Run {
    setup_notification(DNF)(world)
}

pub(super) fn step_dnf(world: World) -> Run {
    Box::pin(async move { process(&world, DNF).await })
}

pub(super) fn setup_messages(world: World) -> Run {
    Box::pin(async move { load_samples(&world).await })
}

pub(super) fn step_messages(world: World) -> Run {
    Box::pin(async move { send_batch(&world).await })
}

pub(super) fn setup_reminder(world: World) -> Run {
    Box::pin(async move {
        load_samples(&world).await?;
        remind(&world, "2027-01-27").await
    })
}

async fn remind(world: &World, day: &str) -> Result<(), String> {
    reminders::run(&world.ctx(), date(day))
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Two dates at once: the watermark stands at the 27th, the run is for the 29th (starters on
/// 3 February are reminded on the 29th).
pub(super) fn step_reminder(world: World) -> Run {
    Box::pin(async move { remind(&world, "2027-01-29").await })
}

pub(super) fn setup_export(world: World) -> Run {
    Box::pin(async move {
        load_samples(&world).await?;
        send_batch(&world).await
    })
}

pub(super) fn step_export(world: World) -> Run {
    Box::pin(async move {
        export_changes(&world.ctx(), "KSS", date("2026-11-23"))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

pub(super) fn app_path() -> Path {
    Path {
        name: "APP file of 120 records",
        setup: setup_app,
        step: step_app,
        alerts: true,
    }
}

pub(super) fn pos_path() -> Path {
    Path {
        name: "POS file",
        setup: setup_pos,
        step: step_pos,
        alerts: true,
    }
}

pub(super) fn dnc_path() -> Path {
    Path {
        name: "DNC file",
        setup: setup_dnc,
        step: step_dnc,
        alerts: true,
    }
}

pub(super) fn dnf_path() -> Path {
    Path {
        name: "DNF file",
        setup: setup_dnf,
        step: step_dnf,
        alerts: true,
    }
}

pub(super) fn messages_path() -> Path {
    Path {
        name: "trust-message batch",
        setup: setup_messages,
        step: step_messages,
        alerts: false,
    }
}

pub(super) fn reminder_path() -> Path {
    Path {
        name: "reminder over two dates",
        setup: setup_reminder,
        step: step_reminder,
        alerts: true,
    }
}

pub(super) fn export_path() -> Path {
    Path {
        name: "RMC export",
        setup: setup_export,
        step: step_export,
        alerts: false,
    }
}

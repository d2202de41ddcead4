//! `dit worklist --as trust:<VPD> [--date D] [--json]`: the trust's worklist (section 11), and
//! `dit outstanding-actions --date D`: the daily **Outstanding actions** notification for every
//! live trust with Overdue or Ready to hire rows (what the scheduled job does in AWS).

use chrono::{NaiveDate, Utc};
use dit_core::service::worklist::{outstanding_actions, worklist};
use dit_domain::worklist::{Row, Worklist, HEADINGS};

use crate::exit::EXIT_FAILED;
use crate::local::Local;

pub async fn run(local: Local, vpd: &str, date: Option<NaiveDate>, json: bool) -> u8 {
    let date = date.unwrap_or_else(|| Utc::now().date_naive());
    if local.organisations.get(vpd).is_none() {
        eprintln!("error: trust {vpd} is not in organisations.toml");
        return EXIT_FAILED;
    }
    let ctx = local.context(Utc::now());
    match worklist(&ctx, vpd, date).await {
        Ok(list) if json => {
            println!(
                "{}",
                serde_json::to_string_pretty(&list).unwrap_or_default()
            );
            0
        }
        Ok(list) => {
            print(&list);
            0
        }
        Err(err) => {
            eprintln!("error: {err}");
            EXIT_FAILED
        }
    }
}

fn print(list: &Worklist) {
    println!("Worklist of trust {} for {}", list.vpd, list.date);
    for (heading, rows) in HEADINGS.iter().zip(list.sections.all()) {
        println!("\n{heading} ({})", rows.len());
        for row in rows {
            println!("  {}", line(row));
        }
    }
}

fn line(row: &Row) -> String {
    let days = match row.days {
        0 => "today".to_string(),
        d if d > 0 => format!("in {d} day(s)"),
        d => format!("{} day(s) ago", -d),
    };
    format!(
        "{:<9} {}, {}  GMC {}  position {}  hire {}  {}  {days}",
        if row.applicant_number.is_empty() {
            "-"
        } else {
            &row.applicant_number
        },
        row.last_name,
        row.first_name,
        row.gmc_number.as_deref().unwrap_or("-"),
        row.position_number,
        row.projected_hire_date
            .map_or("-".to_string(), |d| d.to_string()),
        row.state
    )
}

pub async fn outstanding(local: Local, date: NaiveDate) -> u8 {
    let ctx = local.context(Utc::now());
    match outstanding_actions(&ctx, date).await {
        Ok(runs) => {
            println!("Outstanding actions for business date {date}");
            for run in runs {
                let [overdue, _, ready, ..] = run.counts;
                match &run.written {
                    Some(base) => println!(
                        "  trust {:<5} overdue {overdue}, ready to hire {ready}: {}/outbound/{base}.json",
                        run.vpd,
                        local.dir.as_path().display()
                    ),
                    None => println!("  trust {:<5} nothing overdue or ready to hire", run.vpd),
                }
            }
            0
        }
        Err(err) => {
            eprintln!(
                "error: {err}\nRun the same command again: it writes the same notifications."
            );
            EXIT_FAILED
        }
    }
}

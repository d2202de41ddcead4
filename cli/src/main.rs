//! `dit`: the Doctors in Training interface on this machine. The same handler code as the Lambda
//! functions, with folders for buckets and an embedded SQLite database for state.

mod action;
mod allocator;
mod arguments;
mod bench;
mod exit;
mod export;
mod local;
mod process;
mod progress;
mod purge;
mod remind;
mod reports;
mod sequences;
mod serve;
mod serve_guard;
mod show;
mod worklist;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dit_domain::boundary::{FileOrigin, Principal};
use dit_domain::mail::FromAddress;

use arguments::parse_date;
use exit::{EXIT_FAILED, EXIT_USAGE};
use local::DataDir;

#[derive(Parser)]
#[command(
    name = "dit",
    version,
    about = "Run the Doctors in Training interface locally: TIS and trust files in, applicants, APC files and trust notifications out",
    after_help = "Data directory layout:\n  DIR/organisations.toml   trusts on the interface\n  DIR/state.db             applicants, positions, history (SQLite)\n  DIR/inbound/             copies of the files taken in (kept for replay)\n  DIR/outbound/tis/<LO>/   files for TIS (APC, DCC)\n  DIR/outbound/trusts/<VPD>/  notifications, reports and message answers for each trust\n  DIR/outbound/operator/   per-file processing reports, messages with no applicant\n  DIR/outbound/mail/<VPD>/ e-mail alerts (.eml) for trusts with alert_emails\n  DIR/quarantine/          refused files and <file>.reason.json\n\nEnvironment:\n  DIT_TODAY=YYYY-MM-DD     the day retention is judged on (default: today, UTC): records past\n                           their retention are not shown or acted on, even before `dit purge`"
)]
struct Cli {
    /// Folder holding organisations.toml, state.db and the inbound/outbound/quarantine folders.
    #[arg(long, global = true, env = "DIT_DATA_DIR", default_value = "dit-data")]
    data_dir: PathBuf,

    /// The portal's address, for the links in notifications (where `dit serve` answers).
    #[arg(long, global = true, env = "DIT_PORTAL_URL", default_value = dit_core::service::context::DEFAULT_PORTAL_URL)]
    portal_url: String,

    /// The sender of e-mail alerts (written as .eml files under DIR/outbound/mail/<VPD>/).
    #[arg(long, global = true, env = "DIT_MAIL_FROM", default_value = dit_embedded::mail::DEFAULT_FROM)]
    mail_from: String,

    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    /// Process APP, POS, DNC and DNF files (a folder's files are taken in business order).
    Process {
        /// Business date (YYYY-MM-DD); defaults to the date in each file's name.
        #[arg(long, value_parser = parse_date)]
        as_of: Option<chrono::NaiveDate>,
        /// Take the files as dropped by this sender, with the checks the bucket applies to it:
        /// tis (APP, DNC and DNF files only) or trust:<VPD> (that trust's POS files only); any
        /// other file is quarantined. Without it the local operator is trusted with any file.
        #[arg(long, value_name = "SENDER", value_parser = parse_origin)]
        from: Option<FileOrigin>,
        /// Files or folders of files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Write the RMC (positions and person updates changed since the last export) to TIS, per local office.
    Export {
        /// Business date of the export (YYYY-MM-DD).
        #[arg(long, value_parser = parse_date)]
        date: chrono::NaiveDate,
        /// Write the RMF (every current position) instead of the RMC.
        #[arg(long)]
        full: bool,
        /// Only this local office (default: every office with a live trust).
        #[arg(long)]
        local_office: Option<String>,
    },
    /// Time `dit process` on generated APP files (embedded store): wall time, records/s and peak
    /// memory for 1,072, 10,000, 60,000 and 100,000 records; see docs/PERFORMANCE.md.
    Bench {
        /// Only this number of APP records (one position per 20 records).
        #[arg(long)]
        records: Option<u64>,
        /// Trusts the positions are dealt round (each trust gets its own POS file).
        #[arg(long, default_value_t = 200)]
        trusts: u64,
        /// Write the generated files (organisations.toml, POS files, APP file; 60,000 records
        /// unless --records) into this folder for `dit process`, instead of timing them.
        #[arg(long, value_name = "FOLDER")]
        write: Option<PathBuf>,
        /// Time the portal's pages for one trust with that many applicants (default 10,000) instead.
        #[arg(long, conflicts_with = "write")]
        portal: bool,
        /// Also time, on the same files, the reference loader benches/reference_loader.py (a plain
        /// Python bulk load into SQLite that validates nothing; DIT_PYTHON, default python3) and
        /// print dit's wall time over its.
        #[arg(long, conflicts_with_all = ["write", "portal"])]
        baseline: bool,
    },
    /// Handle trust actions and Trac employment checks: one JSON message, or one per line (JSONL).
    Action {
        /// Send as this sender, with the checks the queue applies to it: trust:<VPD> (only that
        /// trust's applicants) or trac (only employment checks, only for trac = true trusts).
        /// Without it the local operator is trusted to act as the sender each message names.
        #[arg(long = "as", value_name = "SENDER", value_parser = parse_sender)]
        as_sender: Option<Principal>,
        /// File of messages, or - to read them from stdin.
        file: PathBuf,
    },
    /// Remove what is past its retention on a date (spec section 8): records in state.db and
    /// files in the data directory, as DynamoDB's TTL and the buckets' lifecycle do in AWS.
    Purge {
        /// The date (YYYY-MM-DD) retention is judged on.
        #[arg(long, value_parser = parse_date)]
        date: chrono::NaiveDate,
    },
    /// New-starter reminder: each trust's trainees due to start 5 days after the business date
    /// (dates missed since the last run are caught up; a date already done sends nothing new).
    Remind {
        /// Business date (YYYY-MM-DD); reminds starters with a projected hire date 5 days later.
        #[arg(long, value_parser = parse_date)]
        date: chrono::NaiveDate,
    },
    /// The web portal on 127.0.0.1, signed in as a trust's medical staffing team or an operator.
    Serve {
        /// Who is signed in: trust:<VPD> (e.g. trust:504), local-office:<LO> (e.g. local-office:KSS,
        /// read-only, its own files only), trainee:<GMC> (a doctor in training's own placements)
        /// or operator.
        #[arg(
            long = "as",
            value_name = "trust:<VPD>|local-office:<LO>|trainee:<GMC>|operator"
        )]
        who: String,
        /// Port on 127.0.0.1 (0: any free port, printed at start).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// The nhsuk-frontend package's dist/nhsuk folder (default: node_modules/... here or in
        /// this repository; install it with `npm ci`).
        #[arg(long)]
        assets: Option<PathBuf>,
    },
    /// Sequence check: per TIS file type (APP, DNC, DNF) across all local offices, the numbers
    /// between the lowest and highest received over the 30 days up to the date that have not
    /// arrived (operator/schedules/sequence-check/<date>.json and .html).
    CheckSequences {
        /// Business date (YYYY-MM-DD): files dated up to it, over the last 30 days.
        #[arg(long, value_parser = parse_date)]
        date: chrono::NaiveDate,
    },
    /// The trust's worklist for a business date (section 11): overdue, starting within 14 days
    /// and not accepted, ready to hire, checks outstanding, internal moves, leaving.
    Worklist {
        /// The trust: trust:<VPD>.
        #[arg(long = "as", value_name = "trust:<VPD>", value_parser = parse_trust)]
        trust: String,
        /// Business date (YYYY-MM-DD); default today.
        #[arg(long, value_parser = parse_date)]
        date: Option<chrono::NaiveDate>,
        /// Print the JSON of section 11 instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The daily Outstanding actions notification (section 11): for each live trust whose worklist
    /// has Overdue or Ready to hire rows, a notification with the counts and one e-mail alert.
    OutstandingActions {
        /// Business date (YYYY-MM-DD).
        #[arg(long, value_parser = parse_date)]
        date: chrono::NaiveDate,
    },
    /// Reports of section 12 over applicants with hire dates in a range: `notice` (the 12 weeks'
    /// notice per local office and trust) and `states` (applicants by state).
    Report {
        #[command(subcommand)]
        report: reports::Report,
    },
    /// Where is my applicant? Show applicants by applicant number, GMC number or placement id.
    Show {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        key: String,
    },
}

fn parse_origin(text: &str) -> Result<FileOrigin, String> {
    text.parse()
}

fn parse_sender(text: &str) -> Result<Principal, String> {
    match text.parse::<Principal>()? {
        Principal::Operator => Err("operator is the default: leave out --as".to_string()),
        principal => Ok(principal),
    }
}

fn parse_trust(text: &str) -> Result<String, String> {
    match text.parse::<Principal>()? {
        Principal::Trust(vpd) => Ok(vpd),
        _ => Err("the worklist is a trust's: --as trust:<VPD>".to_string()),
    }
}

fn main() -> ExitCode {
    allocator::configure();
    // `dit show ... | head` should end quietly when the reader goes away, as other tools do,
    // instead of panicking on a broken pipe.
    // SAFETY: restoring the default SIGPIPE action before any thread starts is sound.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let mail_from = match FromAddress::parse(&cli.mail_from) {
        Ok(from) => from,
        Err(message) => {
            eprintln!("error: --mail-from: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let data_dir = DataDir {
        path: cli.data_dir,
        settings: dit_core::service::context::Settings::with_portal_url(&cli.portal_url),
        mail_from,
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let status = runtime.block_on(async {
        match run(cli.command, &data_dir).await {
            Ok(status) => status,
            Err((status, message)) => {
                eprintln!("error: {message}");
                status
            }
        }
    });
    ExitCode::from(status)
}

/// Runs one command. Its own arguments are checked first (a usage error wins), then the data
/// directory is opened, here and nowhere else, for every command that works on it.
///
/// # Errors
/// The exit status and message of a usage error or of a data directory that cannot be opened.
async fn run(command: Commands, data_dir: &DataDir) -> Result<u8, (u8, String)> {
    let open = || data_dir.open(false);
    Ok(match command {
        Commands::Process { as_of, from, paths } => {
            let origin = from.unwrap_or(FileOrigin::Operator);
            let files = process::expand(&paths).map_err(|message| (EXIT_USAGE, message))?;
            process::adopt_configuration(&data_dir.path, &paths)?;
            let local = data_dir.open(true)?;
            process::run(local, as_of, &origin, &files).await
        }
        Commands::Action { as_sender, file } => {
            let text = action::read_input(&file).map_err(|message| (EXIT_USAGE, message))?;
            let sender = as_sender.unwrap_or(Principal::Operator);
            action::run(open()?, sender, &file, &text).await
        }
        Commands::Show { json, key } => show::run(open()?, &key, json).await,
        Commands::Bench {
            records,
            portal: true,
            ..
        } => bench::portal(records.unwrap_or(10_000)).await,
        Commands::Bench {
            records,
            trusts,
            write,
            portal: false,
            baseline,
        } => bench::run(records, trusts, write.as_deref(), baseline),
        Commands::Export {
            date,
            full,
            local_office,
        } => export::run(open()?, date, full, local_office.as_deref()).await,
        Commands::Remind { date } => remind::run(open()?, date).await,
        Commands::Purge { date } => purge::run(open()?, date),
        Commands::Serve { who, port, assets } => {
            let identity = serve::identity(&who).map_err(|message| (EXIT_USAGE, message))?;
            serve::run(open()?, identity, port, assets.as_deref()).await
        }
        Commands::CheckSequences { date } => sequences::run(open()?, date).await,
        Commands::Worklist { trust, date, json } => {
            worklist::run(open()?, &trust, date, json).await
        }
        Commands::OutstandingActions { date } => worklist::outstanding(open()?, date).await,
        Commands::Report { report } => reports::run(open()?, report).await,
    })
}

//! `dit-local-bridge`: the event sources of the local stack (`scripts/local-cloud.sh`).
//!
//! - `run`: polls every SQS event source of `stack.json` like Lambda's event source mapping and
//!   invokes the function through `cargo lambda invoke` (served by `cargo lambda watch`);
//! - `invoke`: one invocation with a payload (the schedules' `tick`), recorded like the others;
//! - `order`: the files given, in the business order `dit process` takes a folder in.
//!
//! Local differences from Lambda, on purpose: one invocation at a time across all functions
//! (moto's DynamoDB transactions are not isolated from each other), and a failed message comes
//! back after `--retry-after` seconds instead of the queue's visibility timeout (minutes in the
//! template), so a redrive to the dead-letter queue is seen in seconds.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry, Message,
};
use clap::{Parser, Subcommand};
use dit_local_bridge::{batch_outcome, mappings, sqs_event, system_attribute_names, tally};
use dit_local_bridge::{BatchOutcome, Mapping};
use serde_json::{json, Value};

#[derive(Parser)]
#[command(
    name = "dit-local-bridge",
    about = "Local Lambda event sources for scripts/local-cloud.sh"
)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(clap::Args, Clone)]
struct Invoking {
    /// Where `cargo lambda watch` listens.
    #[arg(long, default_value = "127.0.0.1")]
    invoke_address: String,
    #[arg(long)]
    invoke_port: u16,
    /// The cargo that runs `cargo lambda invoke` (cargo-lambda on PATH).
    #[arg(long, env = "CARGO", default_value = "cargo")]
    cargo: String,
    /// One JSON line per invocation is appended here (what ran, for `local-cloud.sh status`).
    #[arg(long)]
    runs: PathBuf,
}

#[derive(Subcommand)]
enum Commands {
    /// Poll the stack's queues and invoke their functions until killed.
    Run {
        /// stack.json written by scripts/local_cloud.py.
        #[arg(long)]
        stack: PathBuf,
        /// Seconds before a failed message can be received again.
        #[arg(long, default_value_t = 1)]
        retry_after: i32,
        /// At most this many seconds of batching window for every queue (the template's
        /// MaximumBatchingWindowInSeconds otherwise): a test that waits out redeliveries.
        #[arg(long)]
        max_batching_window: Option<u64>,
        #[command(flatten)]
        invoking: Invoking,
    },
    /// Invoke a function once with a JSON payload; prints the response.
    Invoke {
        #[arg(long)]
        function: String,
        /// The payload as JSON text.
        #[arg(long)]
        payload: String,
        #[command(flatten)]
        invoking: Invoking,
    },
    /// Print the files in the order `dit process` takes a folder (business order).
    Order { files: Vec<PathBuf> },
    /// Print what ran, per function, from the runs file.
    Tally {
        #[arg(long)]
        runs: PathBuf,
    },
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Commands::Run {
            stack,
            retry_after,
            max_batching_window,
            invoking,
        } => {
            let cap = max_batching_window.map(Duration::from_secs);
            run(&stack, retry_after, cap, invoking).await
        }
        Commands::Invoke {
            function,
            payload,
            invoking,
        } => invoke_once(&function, &payload, invoking).await,
        Commands::Order { files } => {
            order(files);
            Ok(())
        }
        Commands::Tally { runs } => print_tally(&runs),
    };
    if let Err(message) = result {
        eprintln!("dit-local-bridge: {message}");
        std::process::exit(1);
    }
}

fn order(mut files: Vec<PathBuf>) {
    let name = |path: &PathBuf| {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    files.sort_by_cached_key(|path| dit_domain::envelope::business_order_key(&name(path)));
    for file in files {
        println!("{}", file.display());
    }
}

fn print_tally(runs: &Path) -> Result<(), String> {
    let text = match std::fs::read_to_string(runs) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("cannot read {}: {e}", runs.display())),
    };
    let mut tallies: Vec<_> = tally(&text).into_iter().collect();
    tallies.sort_by(|a, b| a.0.cmp(&b.0));
    if tallies.is_empty() {
        println!("  nothing invoked yet");
    }
    for (function, t) in tallies {
        println!(
            "  {function:<16} {:>4} invocation(s), {:>4} record(s) handled, {:>4} failed",
            t.batches, t.handled, t.failed
        );
    }
    Ok(())
}

/// Invokes functions through `cargo lambda invoke`, one at a time, and records each run.
struct Invoker {
    invoking: Invoking,
    gate: tokio::sync::Mutex<()>,
    scratch: PathBuf,
    counter: AtomicU64,
}

/// What one invocation returned: the response text, or why it failed.
type Invocation = Result<String, String>;

impl Invoker {
    fn new(invoking: Invoking) -> Result<Invoker, String> {
        let scratch = invoking
            .runs
            .parent()
            .unwrap_or(Path::new("."))
            .join("payloads");
        std::fs::create_dir_all(&scratch)
            .map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
        Ok(Invoker {
            invoking,
            gate: tokio::sync::Mutex::new(()),
            scratch,
            counter: AtomicU64::new(0),
        })
    }

    async fn invoke(&self, function: &str, payload: &Value) -> Invocation {
        let _one_at_a_time = self.gate.lock().await;
        // A file, not an argument: a batch of ten 256 KiB messages is longer than one argument may be.
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let file = self
            .scratch
            .join(format!("{}-{function}-{n}.json", std::process::id()));
        std::fs::write(&file, payload.to_string())
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        let mut command = Command::new(&self.invoking.cargo);
        command
            .args(["lambda", "invoke", "--invoke-address"])
            .arg(&self.invoking.invoke_address)
            .arg("--invoke-port")
            .arg(self.invoking.invoke_port.to_string())
            .arg("--output-format")
            .arg("json")
            .arg("--data-file")
            .arg(&file)
            .arg(function);
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .map_err(|e| format!("invoke task: {e}"))?;
        let _ = std::fs::remove_file(&file);
        let output = output.map_err(|e| {
            format!(
                "cannot run {} lambda invoke: {e} (is cargo-lambda on PATH?)",
                self.invoking.cargo
            )
        })?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let stdout = String::from_utf8_lossy(&output.stdout);
            Err(format!(
                "invocation failed ({}): {} {}",
                output.status,
                stdout.trim(),
                stderr.trim()
            ))
        }
    }

    fn record(&self, run: Value) {
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.invoking.runs)
            .and_then(|mut f| writeln!(f, "{run}"));
        if let Err(e) = appended {
            eprintln!(
                "cannot record the run in {}: {e}",
                self.invoking.runs.display()
            );
        }
    }
}

fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

async fn invoke_once(function: &str, payload: &str, invoking: Invoking) -> Result<(), String> {
    let payload: Value =
        serde_json::from_str(payload).map_err(|e| format!("the payload is not JSON: {e}"))?;
    let invoker = Invoker::new(invoking)?;
    let started = Instant::now();
    let result = invoker.invoke(function, &payload).await;
    invoker.record(json!({
        "at": now_seconds(),
        "function": function,
        "source": "invoke",
        "records": 1,
        "failed": u64::from(result.is_err()),
        "millis": started.elapsed().as_millis() as u64,
        "error": result.as_ref().err(),
    }));
    let response = result?;
    println!("{}", response.trim());
    Ok(())
}

async fn run(
    stack_path: &Path,
    retry_after: i32,
    max_batching_window: Option<Duration>,
    invoking: Invoking,
) -> Result<(), String> {
    let text = std::fs::read_to_string(stack_path)
        .map_err(|e| format!("cannot read {}: {e}", stack_path.display()))?;
    let stack: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not JSON: {e}", stack_path.display()))?;
    let region = stack["region"].as_str().unwrap_or("eu-west-2").to_string();
    let endpoint = stack["endpoint"]
        .as_str()
        .ok_or("stack.json has no endpoint")?;
    // The local stack's emulator speaks plain HTTP.
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .region(aws_config::Region::new(region.clone()))
        .endpoint_url(endpoint)
        .load()
        .await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let invoker = Arc::new(Invoker::new(invoking)?);
    let mut tasks = tokio::task::JoinSet::new();
    for mut mapping in mappings(&stack)? {
        if let Some(cap) = max_batching_window {
            mapping.batching_window = mapping.batching_window.min(cap);
        }
        eprintln!(
            "polling {} for {} (batch {}, window {:?})",
            mapping.queue, mapping.function, mapping.batch_size, mapping.batching_window
        );
        let poller = Poller {
            mapping,
            sqs: sqs.clone(),
            invoker: Arc::clone(&invoker),
            region: region.clone(),
            retry_after,
        };
        tasks.spawn(async move { poller.poll().await });
    }
    while tasks.join_next().await.is_some() {}
    Ok(())
}

struct Poller {
    mapping: Mapping,
    sqs: aws_sdk_sqs::Client,
    invoker: Arc<Invoker>,
    region: String,
    retry_after: i32,
}

impl Poller {
    async fn poll(&self) {
        loop {
            let batch = self.gather().await;
            if !batch.is_empty() {
                self.deliver(batch).await;
            }
        }
    }

    /// Receives until the batch is full or the batching window since its first message is over.
    async fn gather(&self) -> Vec<Message> {
        let mapping = &self.mapping;
        let mut batch: Vec<Message> = vec![];
        let mut first_at: Option<Instant> = None;
        loop {
            let wait = match first_at {
                None => Duration::from_secs(1),
                Some(at) => mapping.batching_window.saturating_sub(at.elapsed()),
            };
            if first_at.is_some() && wait.is_zero() {
                return batch;
            }
            let received = self
                .sqs
                .receive_message()
                .queue_url(&mapping.queue_url)
                .max_number_of_messages((mapping.batch_size - batch.len()) as i32)
                .wait_time_seconds(wait.as_secs_f64().ceil() as i32)
                .set_message_system_attribute_names(Some(system_attribute_names()))
                .message_attribute_names("All")
                .send()
                .await;
            match received {
                Ok(out) => batch.extend(out.messages.unwrap_or_default()),
                Err(e) => {
                    eprintln!(
                        "{}: receive failed: {}",
                        mapping.queue,
                        aws_sdk_sqs::error::DisplayErrorContext(&e)
                    );
                    if !batch.is_empty() {
                        return batch;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            }
            if !batch.is_empty() && first_at.is_none() {
                first_at = Some(Instant::now());
            }
            if batch.len() >= mapping.batch_size {
                return batch;
            }
        }
    }

    async fn deliver(&self, batch: Vec<Message>) {
        let mapping = &self.mapping;
        let ids: Vec<String> = batch
            .iter()
            .map(|m| m.message_id().unwrap_or_default().to_string())
            .collect();
        let event = sqs_event(&batch, &mapping.event_source_arn, &self.region);
        let started = Instant::now();
        let outcome = match self.invoker.invoke(&mapping.function, &event).await {
            Ok(response) => batch_outcome(&response, &ids, mapping.report_batch_item_failures),
            Err(error) => BatchOutcome::AllFailed(error),
        };
        let (handled, failed): (Vec<&Message>, Vec<&Message>) =
            batch.iter().partition(|m| match &outcome {
                BatchOutcome::Handled => true,
                BatchOutcome::Failed(failed) => {
                    !failed.contains(m.message_id().unwrap_or_default())
                }
                BatchOutcome::AllFailed(_) => false,
            });
        let error = match &outcome {
            BatchOutcome::AllFailed(reason) => Some(reason.clone()),
            _ => None,
        };
        eprintln!(
            "{} <- {}: {} record(s), {} failed{}",
            mapping.function,
            mapping.queue,
            batch.len(),
            failed.len(),
            error
                .as_deref()
                .map(|e| format!(" (whole batch: {e})"))
                .unwrap_or_default()
        );
        self.invoker.record(json!({
            "at": now_seconds(),
            "function": mapping.function,
            "source": mapping.queue,
            "records": batch.len(),
            "failed": failed.len(),
            "millis": started.elapsed().as_millis() as u64,
            "error": error,
        }));
        self.delete(&handled).await;
        self.retry_later(&failed).await;
    }

    async fn delete(&self, messages: &[&Message]) {
        if messages.is_empty() {
            return;
        }
        let entries = messages
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .build()
                    .ok()
            })
            .collect();
        let deleted = self
            .sqs
            .delete_message_batch()
            .queue_url(&self.mapping.queue_url)
            .set_entries(Some(entries))
            .send()
            .await;
        match deleted {
            Ok(out) if !out.failed().is_empty() => eprintln!(
                "{}: {} message(s) not deleted (they come back and are handled again)",
                self.mapping.queue,
                out.failed().len()
            ),
            Ok(_) => {}
            Err(e) => eprintln!(
                "{}: delete failed (the messages come back): {}",
                self.mapping.queue,
                aws_sdk_sqs::error::DisplayErrorContext(&e)
            ),
        }
    }

    async fn retry_later(&self, messages: &[&Message]) {
        if messages.is_empty() {
            return;
        }
        let entries = messages
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .visibility_timeout(self.retry_after)
                    .build()
                    .ok()
            })
            .collect();
        if let Err(e) = self
            .sqs
            .change_message_visibility_batch()
            .queue_url(&self.mapping.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
        {
            eprintln!(
                "{}: cannot shorten the visibility of failed messages (they come back after the \
                 queue's visibility timeout): {}",
                self.mapping.queue,
                aws_sdk_sqs::error::DisplayErrorContext(&e)
            );
        }
    }
}

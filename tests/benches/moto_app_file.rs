//! Benchmark (issue 7 item 4; figures in docs/PERFORMANCE.md): an APP file of 2,000 records
//! dropped into S3 on moto and handled by the inbound-file handler, as the local cloud and the
//! moto tests run it. Starts its own moto_server on a free loopback port (`$MOTO_SERVER`, else
//! `moto_server` on PATH) and stops it at the end.
//!
//! ```sh
//! cargo bench -p dit-tests --bench moto_app_file                    # 2,000 records
//! cargo bench -p dit-tests --bench moto_app_file -- --records 500
//! cargo test -p dit-tests --bench moto_app_file                     # quick: 200 records
//! ```
//!
//! Times the APP file from the handler's receipt of its notification to its answer (the POS file
//! that gives the records their positions is loaded first, untimed), prints seconds, records per
//! second, the CPU moto and this process used, and the DynamoDB requests and write units (from
//! the request-counting interceptor). Exits non-zero if any record was not loaded.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use dit_domain::boundary::drop_folder;
use dit_test_support::{own_cpu_time, RequestCounter};
use dit_tests::inbound_on_moto::{
    aws, deliver_until, deps, generated_files, generated_placement, INBOUND,
};

/// The issue's file: 2,000 records.
const RECORDS: u64 = 2_000;
/// Under `cargo test` (no `--bench` argument): enough to show the path works, in seconds.
const QUICK_RECORDS: u64 = 200;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let records = match args.iter().position(|a| a == "--records") {
        Some(i) => match args.get(i + 1).and_then(|n| n.parse().ok()) {
            Some(n) if n > 0 => n,
            _ => {
                eprintln!("--records needs a positive number");
                return ExitCode::from(2);
            }
        },
        None if args.iter().any(|a| a == "--bench") => RECORDS,
        None => QUICK_RECORDS,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run(records))
}

async fn run(records: u64) -> ExitCode {
    let aws = aws().await;
    let counter = RequestCounter::new();
    let deps = deps(&aws, aws.moto.counting_dynamo_client(counter.clone()).await);
    let mut app = Measured::default();
    for (name, text) in generated_files(records) {
        let key = format!("incoming/{}{name}", drop_folder(name));
        aws.s3
            .put_object()
            .bucket(INBOUND)
            .key(&key)
            .body(ByteStream::from(text.into_bytes()))
            .send()
            .await
            .expect("put the file");
        counter.reset();
        let (moto_before, own_before) = (aws.moto.cpu_time(), own_cpu_time());
        let started = Instant::now();
        let responses = deliver_until(&aws, &deps, &key).await;
        app = Measured {
            wall: started.elapsed(),
            moto_cpu: cpu_between(moto_before, aws.moto.cpu_time()),
            own_cpu: cpu_between(own_before, own_cpu_time()),
            retries: responses.iter().map(|r| r.batch_item_failures.len()).sum(),
        };
    }

    let placements: Vec<String> = (0..records).map(generated_placement).collect();
    let loaded = deps
        .ports
        .store
        .placements(&placements)
        .await
        .expect("read the placements back")
        .len() as u64;
    let seconds = app.wall.as_secs_f64();
    let units = counter.write_units();
    let requests: u64 = counter.snapshot().values().sum();
    println!(
        "APP file of {records} records through the inbound handler on moto: {seconds:.1} s, \
         {:.0} records/s",
        records as f64 / seconds
    );
    println!(
        "  CPU: moto {:.1} s, handler (this process) {:.1} s; DynamoDB: {requests} requests, \
         {} write requests, {units} write units ({:.1} per record), {} transactions",
        app.moto_cpu.as_secs_f64(),
        app.own_cpu.as_secs_f64(),
        counter.writes(),
        units as f64 / records as f64,
        counter.count("TransactWriteItems"),
    );
    if app.retries > 0 || loaded != records {
        eprintln!(
            "not every record loaded: {loaded} of {records} ({} deliveries asked for a retry)",
            app.retries
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

#[derive(Default)]
struct Measured {
    wall: Duration,
    moto_cpu: Duration,
    own_cpu: Duration,
    retries: usize,
}

fn cpu_between(before: Option<Duration>, after: Option<Duration>) -> Duration {
    match (before, after) {
        (Some(before), Some(after)) => after.saturating_sub(before),
        _ => Duration::ZERO,
    }
}

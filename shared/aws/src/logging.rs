//! Logging set-up for the Lambda functions: JSON lines for CloudWatch, level from `RUST_LOG`
//! (default `info`), the current span (message id, job) on every line, no timestamp (Lambda adds one).
//!
//! Whatever `RUST_LOG` says, the libraries that print what they send and receive at their verbose
//! levels are capped: the AWS SDK prints whole DynamoDB items and response bodies at TRACE and the
//! `Debug` form of errors (which can hold the item a failed condition returned) at DEBUG, and the
//! Lambda runtime prints each raw event (message bodies) at TRACE. Personal data must never reach
//! a log, so no setting can turn those on.

use tracing_subscriber::filter::{EnvFilter, FilterExt, LevelFilter, Targets};
use tracing_subscriber::layer::{Filter, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// Target prefixes and the most they may log.
pub const CAPPED: [(&str, LevelFilter); 9] = [
    ("aws_smithy", LevelFilter::INFO),
    ("aws_sdk", LevelFilter::INFO),
    ("aws_config", LevelFilter::INFO),
    ("aws_runtime", LevelFilter::INFO),
    ("aws_sigv4", LevelFilter::INFO),
    ("hyper", LevelFilter::INFO),
    ("h2", LevelFilter::INFO),
    ("rustls", LevelFilter::INFO),
    ("lambda_runtime", LevelFilter::DEBUG),
];

/// The functions' filter: `rust_log` (an `EnvFilter` directive string; `info` when absent or
/// unreadable), with the [`CAPPED`] libraries held at their caps.
pub fn filter<S>(rust_log: Option<&str>) -> impl Filter<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let wanted = rust_log
        .and_then(|directives| EnvFilter::try_new(directives).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let caps = Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_targets(CAPPED);
    wanted.and(caps)
}

pub fn init_lambda() {
    let rust_log = std::env::var("RUST_LOG").ok();
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .without_time()
                .with_filter(filter(rust_log.as_deref())),
        )
        .init();
}

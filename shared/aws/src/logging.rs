//! Logging set-up for the Lambda functions: JSON lines for CloudWatch, level from `RUST_LOG`
//! (default `info`), the current span (message id, job) on every line, no timestamp (Lambda adds one).

pub fn init_lambda() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(true)
        .without_time()
        .init();
}

//! The `dit` binary run as a user runs it (`CARGO_BIN_EXE_dit`, from the repository root, on a
//! data directory in a temporary folder): one module per command.
//!
//! One test binary for all of them: each would link the same dependencies, and one link instead
//! of seven keeps `cargo test` quick on a 2-core machine.

mod bench;
mod boundary;
mod check_sequences;
mod common;
mod purge;
mod remind;
mod report;
mod serve;
mod show;
mod worklist;

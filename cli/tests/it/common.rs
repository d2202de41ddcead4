//! Running the `dit` binary the way the README does: from the repository root, on a data directory.

use std::path::Path;
use std::process::Command;

/// `dit --data-dir DATA_DIR`, run from the repository root, arguments still to add.
pub fn command(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dit"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        // Retention judged on the samples' own date (they are dated 2026-11-21), so the tests do
        // not start failing when the calendar passes the samples' retention; a test may set
        // another day.
        .env("DIT_TODAY", "2026-11-21");
    command
}

/// `dit --data-dir DATA_DIR ARGS...` run from the repository root: exit status, stdout, stderr.
pub fn dit(data_dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = command(data_dir).args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

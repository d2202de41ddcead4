//! Running the `dit` binary the way the README does: from the repository root, on a data directory.

use std::path::Path;
use std::process::Command;

/// `dit --data-dir DATA_DIR ARGS...` run from the repository root: exit status, stdout, stderr.
pub fn dit(data_dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_dit"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

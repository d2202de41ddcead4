//! The exit statuses of `dit`, in a module of their own so that every command can name them
//! without importing `main`, which calls the commands.

/// Exit status for a usage error (bad arguments, missing configuration).
pub const EXIT_USAGE: u8 = 2;
/// Exit status when any file was quarantined.
pub const EXIT_QUARANTINED: u8 = 3;
/// Exit status when the run failed for another reason (disk, database).
pub const EXIT_FAILED: u8 = 1;

//! Files and folders of the data directory only their owner can read (issue 22, item 9): folders
//! `0700`, files `0600`, set when they are created and whatever the umask (the umask can only
//! take bits away, so the mode is set again on the open file).

use std::io::Write;
use std::path::Path;

/// The mode of every folder dit creates in the data directory.
pub const DIR_MODE: u32 = 0o700;
/// The mode of every file dit creates in the data directory.
pub const FILE_MODE: u32 = 0o600;

/// `create_dir_all`, each folder it makes `0700`.
///
/// # Errors
/// The folder cannot be made.
pub fn create_dir_all(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    let existed = path.is_dir();
    builder.create(path)?;
    if !existed {
        set_mode(path, DIR_MODE)?;
    }
    Ok(())
}

/// A new file (it must not exist) holding `bytes`, `0600`.
///
/// # Errors
/// The file exists already or cannot be written.
pub fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = create_new(path)?;
    file.write_all(bytes)
}

/// An empty new file, `0600` (e.g. a database before SQLite opens it: its WAL and shared-memory
/// files take the database file's mode).
///
/// # Errors
/// The file exists already or cannot be made.
pub fn create_new(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
    }
    Ok(file)
}

/// `std::fs::copy`, the copy `0600` (a copy would keep the source's mode).
///
/// # Errors
/// The copy fails.
pub fn copy(from: &Path, to: &Path) -> std::io::Result<u64> {
    let copied = std::fs::copy(from, to)?;
    set_mode(to, FILE_MODE)?;
    Ok(copied)
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

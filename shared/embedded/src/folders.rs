//! Local folders standing in for buckets: `DIR/inbound`, `DIR/outbound`, `DIR/quarantine`.

use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;

use dit_core::ports::{Area, BlobError, BlobStore, NewObject};

pub struct FolderBlobs {
    root: PathBuf,
}

impl FolderBlobs {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FolderBlobs { root: root.into() }
    }

    pub fn area_dir(&self, area: Area) -> PathBuf {
        self.root.join(match area {
            Area::Inbound => "inbound",
            Area::Outbound => "outbound",
            Area::Quarantine => "quarantine",
        })
    }

    /// The file behind a key; keys are relative paths with `/` separators and no `..`.
    ///
    /// # Errors
    /// [`BlobError::BadKey`] for absolute keys or keys leaving the area.
    pub fn path(&self, area: Area, key: &str) -> Result<PathBuf, BlobError> {
        let relative = Path::new(key);
        let clean = !key.is_empty()
            && relative
                .components()
                .all(|c| matches!(c, Component::Normal(_)));
        if !clean {
            return Err(BlobError::BadKey(key.to_string()));
        }
        Ok(self.area_dir(area).join(relative))
    }
}

fn io_error(path: &Path, err: std::io::Error) -> BlobError {
    BlobError::Unavailable(format!("{}: {err}", path.display()))
}

/// Writes the file (making its folder if need be) beside and renames it, so a reader never sees
/// half a file. Each write has its own partial file, so concurrent writers of one key (a
/// redelivered message) cannot collide.
/// Numbers this process's partial files, so two writers of one key never share one.
static WRITES: AtomicU64 = AtomicU64::new(0);

fn write_file(path: &Path, bytes: Vec<u8>) -> Result<(), BlobError> {
    // Looking first is far cheaper than a failing mkdir, and nearly every folder exists.
    if let Some(parent) = path.parent().filter(|parent| !parent.is_dir()) {
        crate::private::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
    }
    let partial = path.with_file_name(format!(
        "{}.{}-{}.partial",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("blob"),
        std::process::id(),
        WRITES.fetch_add(1, Ordering::Relaxed)
    ));
    // Only the owner reads it (0600), whatever the umask.
    crate::private::write_new(&partial, &bytes).map_err(|e| io_error(&partial, e))?;
    std::fs::rename(&partial, path).map_err(|e| io_error(path, e))
}

/// [`write_file`] only when nothing is at `path`: the whole file is written aside, then linked in
/// under its name, which fails when the name exists (so of two writers exactly one wins, and no
/// reader ever sees half a file).
fn write_new_file(path: &Path, bytes: Vec<u8>) -> Result<bool, BlobError> {
    if let Some(parent) = path.parent().filter(|parent| !parent.is_dir()) {
        crate::private::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
    }
    let partial = path.with_file_name(format!(
        "{}.{}-{}.partial",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("blob"),
        std::process::id(),
        WRITES.fetch_add(1, Ordering::Relaxed)
    ));
    crate::private::write_new(&partial, &bytes).map_err(|e| io_error(&partial, e))?;
    let linked = std::fs::hard_link(&partial, path);
    let _ = std::fs::remove_file(&partial);
    match linked {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(err) => Err(io_error(path, err)),
    }
}

#[async_trait]
impl BlobStore for FolderBlobs {
    async fn get(&self, area: Area, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        let path = self.path(area, key)?;
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(io_error(&path, err)),
        }
    }

    async fn size(&self, area: Area, key: &str) -> Result<Option<u64>, BlobError> {
        let path = self.path(area, key)?;
        match std::fs::metadata(&path) {
            Ok(meta) => Ok(Some(meta.len())),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(io_error(&path, err)),
        }
    }

    async fn put(
        &self,
        area: Area,
        key: &str,
        bytes: Vec<u8>,
        _content_type: &str,
    ) -> Result<(), BlobError> {
        write_file(&self.path(area, key)?, bytes)
    }

    async fn put_new(
        &self,
        area: Area,
        key: &str,
        bytes: Vec<u8>,
        _content_type: &str,
    ) -> Result<bool, BlobError> {
        write_new_file(&self.path(area, key)?, bytes)
    }

    async fn put_all(&self, objects: Vec<NewObject>) -> Result<(), BlobError> {
        let mut writes = objects
            .into_iter()
            .map(|object| Ok((self.path(object.area, &object.key)?, object.bytes)))
            .collect::<Result<Vec<_>, BlobError>>()?;
        let write_each = |writes: Vec<(PathBuf, Vec<u8>)>| {
            writes
                .into_iter()
                .try_for_each(|(path, bytes)| write_file(&path, bytes))
        };
        if writes.len() < 2 {
            return write_each(writes);
        }
        // Creating a file is mostly the file system's work (finding a free inode), which two
        // threads do side by side: the 54 trusts' notifications of a large daily file took
        // most of its time one by one.
        let theirs = writes.split_off(writes.len() / 2);
        std::thread::scope(|scope| {
            let helper = scope.spawn(|| write_each(theirs));
            let mine = write_each(writes);
            let theirs = helper.join().unwrap_or_else(|_| {
                Err(BlobError::Unavailable("the writing thread stopped".into()))
            });
            mine.and(theirs)
        })
    }

    async fn delete(&self, area: Area, key: &str) -> Result<(), BlobError> {
        let path = self.path(area, key)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(io_error(&path, err)),
        }
    }

    async fn link(
        &self,
        area: Area,
        key: &str,
        _expires_in: std::time::Duration,
    ) -> Result<String, BlobError> {
        // Local files do not expire: the link is the file's absolute path.
        let path = self.path(area, key)?;
        let absolute = std::path::absolute(&path).map_err(|e| io_error(&path, e))?;
        Ok(absolute.display().to_string())
    }

    async fn list(&self, area: Area, prefix: &str) -> Result<Vec<String>, BlobError> {
        let root = self.area_dir(area);
        let mut keys = Vec::new();
        let mut pending = vec![root.clone()];
        while let Some(dir) = pending.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                Err(err) => return Err(io_error(&dir, err)),
            };
            for entry in entries {
                let entry = entry.map_err(|e| io_error(&dir, e))?;
                let path = entry.path();
                if path.is_dir() {
                    pending.push(path);
                } else if let Ok(relative) = path.strip_prefix(&root) {
                    let key = relative
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy())
                        .collect::<Vec<_>>()
                        .join("/");
                    if key.starts_with(prefix) && !key.ends_with(".partial") {
                        keys.push(key);
                    }
                }
            }
        }
        keys.sort();
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn areas_are_folders_and_keys_cannot_escape_them() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = FolderBlobs::new(dir.path());
        blobs
            .put(
                Area::Outbound,
                "trusts/504/a.json",
                b"{}".to_vec(),
                "application/json",
            )
            .await
            .unwrap();
        assert!(dir.path().join("outbound/trusts/504/a.json").is_file());
        assert_eq!(
            blobs
                .get(Area::Outbound, "trusts/504/a.json")
                .await
                .unwrap()
                .unwrap(),
            b"{}"
        );
        assert_eq!(
            blobs
                .size(Area::Outbound, "trusts/504/a.json")
                .await
                .unwrap(),
            Some(2)
        );
        assert_eq!(
            blobs.get(Area::Inbound, "trusts/504/a.json").await.unwrap(),
            None
        );
        assert_eq!(
            blobs.list(Area::Outbound, "trusts/").await.unwrap(),
            vec!["trusts/504/a.json"]
        );
        assert!(blobs.list(Area::Quarantine, "").await.unwrap().is_empty());
        blobs
            .delete(Area::Outbound, "trusts/504/a.json")
            .await
            .unwrap();
        blobs
            .delete(Area::Outbound, "trusts/504/a.json")
            .await
            .unwrap();
        assert_eq!(
            blobs
                .get(Area::Outbound, "trusts/504/a.json")
                .await
                .unwrap(),
            None
        );
        for bad in ["../x", "/etc/passwd", "a/../../x", ""] {
            assert!(
                matches!(
                    blobs.get(Area::Inbound, bad).await,
                    Err(BlobError::BadKey(_))
                ),
                "{bad}"
            );
        }
    }
}

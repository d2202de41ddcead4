//! The WAL checkpoints of a bulk load, run on a thread of their own.
//!
//! A checkpoint copies what the WAL holds into the database file. Left to SQLite it runs inside
//! the commit that fills the WAL past 1,000 pages, on the loading thread, and during a large load
//! that was a tenth of its time. While bulk loads run, the connection's own checkpoints are off
//! and this thread, with a connection of its own, checkpoints after each group commit instead.
//! Nothing depends on when it runs: what is committed is in the WAL, and a checkpoint cut short
//! is taken up by the next one. The thread runs at a lower priority (nice 10 on Linux) than the
//! load's threads, whose cores it would otherwise share: its copying waits for the moments they
//! leave, and it catches up once they end.
//!
//! The WAL grows through a load (the writer's next group begins before the last is copied, and
//! the WAL starts over only under a writer that began once everything was copied): 190 MB for
//! 60,000 applicants. Once the loads end, the thread copies the rest and empties the WAL
//! (`TRUNCATE`), while the load's notifications are written; closing the store then deletes an
//! empty file rather than freeing 190 MB on the way out.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use rusqlite::Connection;

use dit_core::ports::StoreError;

/// SQLite's own threshold, restored when no bulk load runs.
pub(super) const AUTOCHECKPOINT_PAGES: i64 = 1_000;

pub(super) struct Checkpointer {
    wake: Option<SyncSender<()>>,
    /// The next checkpoint also empties the WAL (see [`Checkpointer::wake_to_truncate`]).
    truncate: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub(super) fn start(path: &Path) -> Result<Checkpointer, StoreError> {
        // The store's own error mapping is not imported: the store holds this module's type.
        let unavailable = |e: rusqlite::Error| StoreError::Unavailable(format!("sqlite: {e}"));
        let connection = Connection::open(path).map_err(unavailable)?;
        connection
            .busy_timeout(std::time::Duration::from_secs(30))
            .map_err(unavailable)?;
        // One wake waiting is enough: a checkpoint copies every frame committed before it starts.
        let (wake, woken) = sync_channel::<()>(1);
        let truncate = Arc::new(AtomicBool::new(false));
        let truncate_asked = Arc::clone(&truncate);
        let thread = std::thread::Builder::new()
            .name("dit-checkpoint".into())
            .spawn(move || {
                yield_to_the_load();
                while woken.recv().is_ok() {
                    // PASSIVE never waits for the writer or readers; a checkpoint that could not
                    // copy everything (or failed) leaves the rest for the next. TRUNCATE waits
                    // (up to the busy timeout) for the writer and readers of the moment, and
                    // holds back new writers while it copies; if it fails, the WAL stays whole.
                    let sql = if truncate_asked.swap(false, Ordering::SeqCst) {
                        "PRAGMA wal_checkpoint(TRUNCATE)"
                    } else {
                        "PRAGMA wal_checkpoint(PASSIVE)"
                    };
                    let _ = connection.query_row(sql, [], |_| Ok(()));
                }
            })
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot start the checkpoint thread: {e}"))
            })?;
        Ok(Checkpointer {
            wake: Some(wake),
            truncate,
            thread: Some(thread),
        })
    }

    /// Asks for a checkpoint of everything committed so far (without waiting for it).
    pub(super) fn wake(&self) {
        if let Some(wake) = &self.wake {
            let _ = wake.try_send(());
        }
    }

    /// Asks for a checkpoint of everything committed so far that then empties the WAL, for when
    /// no bulk load runs (without waiting for it).
    pub(super) fn wake_to_truncate(&self) {
        self.truncate.store(true, Ordering::SeqCst);
        self.wake();
    }
}

impl Drop for Checkpointer {
    /// Lets the thread finish the checkpoint asked for, then close its connection (the last one
    /// open, it also removes the WAL).
    fn drop(&mut self) {
        self.wake.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Lowers this thread's scheduling priority (nice 10), so that on a machine whose cores the load
/// keeps busy the checkpoints take the time its threads leave, rather than a share of theirs.
#[cfg(target_os = "linux")]
fn yield_to_the_load() {
    // On Linux the nice value belongs to each thread, and 0 names the calling one. A refusal
    // leaves the thread at the process's priority, as everywhere else.
    // SAFETY: setpriority reads no memory of ours.
    let _ = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 10) };
}

#[cfg(not(target_os = "linux"))]
fn yield_to_the_load() {}

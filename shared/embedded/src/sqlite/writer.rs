//! The thread that writes a bulk load's applicants: one per store while bulk loads run, taking
//! the calls in the order they came, each call's batches one after another.
//!
//! One thread, not one per call: a caller may start its next call before the last is written
//! (the APP pipeline hands over a chunk's applicants, then decides the next chunk and hands
//! those over too), and a group is committed only between calls (see `write_part`), which two
//! calls written side by side would never leave room for.

use std::sync::mpsc::{channel, Sender};
use std::sync::Mutex;
use std::thread::JoinHandle;

use dit_core::ports::StoreError;

/// One call's writing, which answers its caller itself.
pub(super) type Job = Box<dyn FnOnce() + Send>;

struct Running {
    jobs: Sender<Job>,
    thread: JoinHandle<()>,
}

/// The writing thread, started by the first call of a bulk load and stopped when the loads end.
#[derive(Default)]
pub(super) struct Writer {
    running: Mutex<Option<Running>>,
}

impl Writer {
    /// Queues `job` behind the calls before it, starting the thread if none runs.
    pub(super) fn submit(&self, job: Job) -> Result<(), StoreError> {
        let stopped =
            || StoreError::Unavailable("the thread writing the applicants stopped".into());
        let mut running = self.running.lock().map_err(|_| stopped())?;
        if running.is_none() {
            let (jobs, queued) = channel::<Job>();
            let thread = std::thread::Builder::new()
                .name("dit-writer".into())
                .spawn(move || {
                    for job in queued {
                        job();
                    }
                })
                .map_err(|e| {
                    StoreError::Unavailable(format!("cannot start a writing thread: {e}"))
                })?;
            *running = Some(Running { jobs, thread });
        }
        let queued = running.as_ref().map(|r| r.jobs.send(job));
        match queued {
            Some(Ok(())) => Ok(()),
            // The thread is gone (it panicked): the next call starts another.
            _ => {
                running.take();
                Err(stopped())
            }
        }
    }

    /// Lets the thread write what is queued, then stops it. Called with the connection unlocked:
    /// the thread needs it to finish.
    pub(super) fn stop(&self) {
        let running = match self.running.lock() {
            Ok(mut running) => running.take(),
            Err(_) => None,
        };
        if let Some(Running { jobs, thread }) = running {
            drop(jobs);
            let _ = thread.join();
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop();
    }
}

//! A progress bar on stderr for long files.

use std::sync::Mutex;

use dit_core::service::Progress;
use indicatif::{ProgressBar, ProgressStyle};

/// Files with fewer records finish too fast for a bar to help.
const BAR_THRESHOLD: u64 = 2_000;

#[derive(Default)]
pub struct Bar {
    bar: Mutex<Option<ProgressBar>>,
}

impl Progress for Bar {
    fn begin(&self, file: &str, records: u64) {
        if records < BAR_THRESHOLD {
            return;
        }
        let bar = ProgressBar::new(records);
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:40}] {pos}/{len} records ({per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(file.to_string());
        if let Ok(mut slot) = self.bar.lock() {
            *slot = Some(bar);
        }
    }

    fn advance(&self, records: u64) {
        if let Ok(slot) = self.bar.lock() {
            if let Some(bar) = slot.as_ref() {
                bar.inc(records);
            }
        }
    }

    fn end(&self) {
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(bar) = slot.take() {
                bar.finish_and_clear();
            }
        }
    }
}

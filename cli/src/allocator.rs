//! The program's allocator: mimalloc, with its freed memory given back sooner than its default.

use std::ffi::{c_int, c_long};

/// `dit process` allocates a few small buffers per record; with glibc, malloc and free were about
/// 15 % of a bulk load's CPU. mimalloc's per-thread free lists take most of that away; its `no_thp`
/// build keeps peak memory down (transparent huge pages had it at 106 MiB). Figures in
/// docs/PERFORMANCE.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long (ms) mimalloc keeps freed memory before giving it back to the system. Its version 3
/// waits 1,000 ms, so a load's freed chunks stayed resident to the end: a 60,000-record load
/// peaked at 92-103 MiB, and at 89-92 MiB with 250 ms, a few per cent slower at most (100 ms:
/// 87-90 MiB; 0: 78 MiB and 10-15 % slower). Figures in docs/PERFORMANCE.md.
const PURGE_DELAY_MS: c_long = 250;

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_t` (include/mimalloc.h), which the Rust
/// bindings do not name.
const MI_OPTION_PURGE_DELAY: c_int = 15;

extern "C" {
    fn mi_option_set(option: c_int, value: c_long);
    #[cfg(test)]
    fn mi_option_get(option: c_int) -> c_long;
}

/// Sets the purge delay, unless `MIMALLOC_PURGE_DELAY` sets it for this run.
pub fn configure() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mimalloc's options may be set at any time; the value is a plain integer.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option number is mimalloc's purge delay: its default is 1,000 ms, which no option
    /// beside it has, and it takes what is set. An upgrade that renumbers the options fails here.
    #[test]
    fn the_purge_delay_is_the_option_set() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // SAFETY: reading and setting an option of the linked mimalloc.
        unsafe {
            assert_eq!(mi_option_get(MI_OPTION_PURGE_DELAY), 1_000);
            configure();
            assert_eq!(mi_option_get(MI_OPTION_PURGE_DELAY), PURGE_DELAY_MS);
        }
    }
}

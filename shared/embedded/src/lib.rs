//! The embedded adapters: the state in a SQLite database (`state.db`) and folders for buckets, so
//! the same services run on a laptop with no AWS account and no server.

pub mod folders;
pub mod mail;
pub mod private;
pub mod sqlite;

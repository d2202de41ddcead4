//! The integration tests on the embedded store (SQLite and folders, no moto): the services of
//! dit-core, the Lambda handlers, the parsers (fuzzed and a corpus of malformed files) and the
//! spreadsheets a trust receives.
//!
//! One binary, a module per subject, so that the SDK stack the handlers link is linked once. They
//! live in a crate apart from the moto tests (`tests/`, crate `dit-tests`) so that neither crate
//! holds more than 30 % of the workspace's code; the helpers both share are in `dit-test-support`.

mod bulk_load;
mod core_inbound_service;
mod core_reminders_service;
mod core_spreadsheets;
mod file_boundary;
mod fuzzed_parsers;
mod inbound_file_handler;
mod malformed_corpus;
mod messages_service;
mod person_updates;
mod portal_handler;
mod scheduled_jobs_handler;
mod sqlite_store;
mod trac_allow_list;
mod trust_messages_handler;

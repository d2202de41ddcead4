//! The integration tests on moto_server (DynamoDB, S3, SQS, SES): the handlers end to end, the
//! adapters' request counts and failure paths, the store contract on SQLite and DynamoDB, the
//! crash, concurrency and IAM checks.
//!
//! One binary, a module per subject: every test binary links the AWS SDK stack, and one link
//! instead of one per file is most of the build time of `cargo test` on a 2-core machine. The
//! tests of the embedded store alone live in `tests/service` (crate `dit-service-tests`); the
//! helpers both share in `dit-test-support`.

mod blob_put_all;
mod concurrent_drops;
mod crash_at_every_write;
mod data_team_alerts;
mod dynamo_adapter;
mod iam_audit;
mod internal_moves;
mod late_starters;
mod mail_alerts;
mod message_boundary;
mod messages_concurrency;
mod moto_end_to_end;
mod moto_reminder;
mod moto_worklist;
mod no_personal_data;
mod portal_secret;
mod received_objects;
mod record_checks;
mod reports;
mod retention;
mod revision2_files;
mod s3_adapter;
mod sequence_check;
mod store_contract;
mod trainee_queries;

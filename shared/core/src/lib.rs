//! The Doctors in Training interface services: the ports (what the services need from storage,
//! files and mail, as traits) and the use cases that run the domain (`dit-domain`) on them.
//!
//! This crate depends on no AWS SDK, no SQLite and no Lambda runtime: the adapters live in
//! `dit-embedded` (SQLite and folders) and `dit-aws` (DynamoDB, S3, SQS, Lambda start-up), so the
//! compiler keeps the services free of them, as `dit-domain` keeps the rules free of async and I/O.

pub mod config;
pub mod ports;
pub mod service;

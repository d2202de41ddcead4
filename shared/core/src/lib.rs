//! The Doctors in Training interface core: the domain (file formats, validation, the applicant
//! state machine, notifications), the services that run it, and the ports they need.
//!
//! This crate depends on no AWS SDK, no SQLite and no Lambda runtime: the adapters live in
//! `dit-embedded` (SQLite and folders) and `dit-aws` (DynamoDB, S3, SQS, Lambda start-up), so the
//! compiler keeps the domain free of them.

pub mod config;
pub mod domain;
pub mod ports;
pub mod service;

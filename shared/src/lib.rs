//! The Doctors in Training interface: the domain (file formats, validation, the applicant state
//! machine, notifications), the ports it needs, and their adapters (SQLite and folders locally,
//! DynamoDB and S3 in AWS).
//!
//! Invariant: nothing under [`domain`] knows about AWS; only [`adapters`] do.

pub mod adapters;
pub mod config;
pub mod domain;
pub mod logging;
pub mod ports;
pub mod s3_notification;
pub mod service;

//! Adapters for the ports: SQLite and folders for the embedded default, DynamoDB and S3 for AWS.

pub mod folders;
pub mod sqlite;

//! Adapters for the ports: SQLite and folders for the embedded default, DynamoDB and S3 for AWS.

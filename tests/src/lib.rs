//! Integration tests (in `tests/`): the adapters' shared contract on SQLite and DynamoDB, the
//! handlers end to end on moto_server, concurrency and request counts. Their helpers live in the
//! `dit-test-support` crate.

pub mod inbound_on_moto;

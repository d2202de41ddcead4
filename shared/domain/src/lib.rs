//! The domain core: file formats, rules, the state machine and notifications. No AWS types here.

pub mod actions;
pub mod app;
pub mod boundary;
pub mod dnc;
pub mod envelope;
pub mod internal_move;
pub mod lifecycle;
pub mod mail;
pub mod messages;
pub mod model;
pub mod notify;
pub mod org;
pub mod pos;
pub mod reports;
pub mod retention;
pub mod sequence;
pub mod sheets;
pub mod timestamp;
pub mod trainee_query;
pub mod worklist;

#[cfg(test)]
mod testing;

//! Start-up configuration: the settings every function reads (see [`dit_shared::config`]);
//! a mistake fails the cold start, not a run.

pub use dit_shared::config::{ConfigError, LambdaConfig as Config, OrganisationsSource};

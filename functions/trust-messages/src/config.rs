//! Start-up configuration: the settings every function reads (see [`dit_aws::config`]);
//! a mistake fails the cold start, not a run.

pub use dit_aws::config::LambdaConfig as Config;
pub use dit_core::config::{ConfigError, OrganisationsSource};

//! Start-up only: read the configuration, build the adapters and load the styles once, then serve
//! API Gateway HTTP API requests with the portal's router.

use std::sync::Arc;

use dit_portal::assets::Assets;
use dit_portal::{Downloads, Portal};
use lambda_http::Error;
use portal::config::Config;

#[tokio::main]
async fn main() -> Result<(), Error> {
    dit_aws::logging::init_lambda();
    let config = Config::from_env(&|name| std::env::var(name).ok())?;
    // Once per cold start: the CSRF key from Secrets Manager (never logged).
    let csrf = config.csrf_key(&dit_aws::aws_config().await).await?;
    let ports = config.shared.connect().await?;
    let assets = Assets::load(&config.assets_dir).unwrap_or_else(|message| {
        // Pages work unstyled; the layer is missing or wrong, which the log says.
        tracing::error!(code = "no_styles", "{message}");
        Assets::none()
    });
    let portal = Arc::new(Portal::new(ports, csrf, Downloads::Redirect, assets));
    lambda_http::run(portal::app(portal)).await
}

//! `dit serve --as trust:<VPD>|local-office:<LO>|trainee:<GMC>|operator [--port N]`: the portal's pages on
//! 127.0.0.1 only, signed in as that identity, over the data directory's store and folders (downloads streamed), behind
//! [`serve_guard`]: the Host check and the per-run sign-in link it prints.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use axum::Extension;
use dit_core::service::context::Ports;
use dit_portal::assets::Assets;
use dit_portal::csrf::CsrfKey;
use dit_portal::identity::Identity;
use dit_portal::{Downloads, Portal};

use crate::exit::{EXIT_FAILED, EXIT_USAGE};
use crate::local::Local;
use crate::serve_guard::{self, Guard};

/// Who `--as` signs in, as the user running `dit`.
///
/// # Errors
/// The usage error of an `--as` that names no one.
pub fn identity(who: &str) -> Result<Identity, String> {
    let user = std::env::var("USER")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "local user".to_string());
    Identity::parse_as(who, &user).map_err(|err| format!("--as {err}"))
}

pub async fn run(local: Local, identity: Identity, port: u16, assets: Option<&Path>) -> u8 {
    let data_dir = local.dir.as_path();
    if let Some(vpd) = identity.vpd() {
        if local.organisations.get(vpd).is_none() {
            eprintln!(
                "error: trust {vpd} is not in {}/organisations.toml",
                data_dir.display()
            );
            return EXIT_USAGE;
        }
    }
    let assets = match Assets::find(assets) {
        Some(dir) => match Assets::load(&dir) {
            Ok(assets) => assets,
            Err(message) => {
                eprintln!("error: {message}");
                return EXIT_USAGE;
            }
        },
        None => {
            eprintln!(
                "warning: the NHS.UK frontend styles ({}) were not found: pages are served unstyled. Run `npm ci` in the repository, or pass --assets DIR.",
                dit_portal::assets::PACKAGE_DIR
            );
            Assets::none()
        }
    };
    let csrf = match CsrfKey::random() {
        Ok(key) => key,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_FAILED;
        }
    };
    let ports = Ports {
        store: Box::new(local.store),
        blobs: Box::new(local.blobs),
        // Portal actions write no trust notification: no alerts to send.
        mailer: Box::new(dit_core::ports::NoMailer),
        organisations: local.organisations,
        settings: local.settings,
    };
    let portal = Arc::new(Portal::new(ports, csrf, Downloads::Stream, assets));
    // Loopback only, and behind the Host check and the per-run sign-in (serve_guard).
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("error: cannot listen on {address}: {err}");
            return EXIT_USAGE;
        }
    };
    let bound = listener.local_addr().unwrap_or(address);
    let guard = match Guard::new(bound.port()) {
        Ok(guard) => Arc::new(guard),
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_FAILED;
        }
    };
    println!(
        "Portal for {} at http://{bound}/ (only this machine can reach it; Ctrl-C to stop)",
        identity.describe()
    );
    println!("Sign in (the link works once): {}", guard.sign_in_url());
    let app = dit_portal::router(portal)
        .layer(Extension(identity.clone()))
        .layer(axum::middleware::from_fn_with_state(
            guard,
            serve_guard::check,
        ));
    use std::io::Write;
    let _ = std::io::stdout().flush();
    match axum::serve(listener, app).await {
        Ok(()) => 0,
        Err(err) => {
            eprintln!("error: the portal stopped: {err}");
            EXIT_FAILED
        }
    }
}

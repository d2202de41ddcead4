//! The NHS.UK frontend styles and images, from the `nhsuk-frontend` npm package (installed by
//! `npm ci`, pinned by `package-lock.json`; no copy is kept in the repository). They are read once
//! at start from the package's `dist/nhsuk` folder: `node_modules/nhsuk-frontend/dist/nhsuk` for
//! `dit serve`, the Lambda layer built from the same folder (`/opt`) in AWS.

use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};

/// The stylesheet's name in the package and on the portal (`/assets/<name>`).
pub const STYLESHEET: &str = "nhsuk-frontend.min.css";

/// The package folder under a repository checkout.
pub const PACKAGE_DIR: &str = "node_modules/nhsuk-frontend/dist/nhsuk";

/// Files served under `/assets/`, by path.
#[derive(Default, Clone)]
pub struct Assets {
    pub(crate) files: HashMap<String, (&'static str, Vec<u8>)>,
}

impl Assets {
    /// No styles: pages still work (they are plain semantic HTML), unstyled.
    pub fn none() -> Assets {
        Assets::default()
    }

    /// Reads the stylesheet and the images it uses from the package's `dist/nhsuk` folder.
    ///
    /// # Errors
    /// The folder or its stylesheet is missing (names the path and what to run).
    pub fn load(dir: &FsPath) -> Result<Assets, String> {
        let css_path = dir.join(STYLESHEET);
        let css = std::fs::read(&css_path).map_err(|e| {
            format!(
                "NHS.UK frontend styles not found at {} ({e}): run `npm ci` in the repository",
                css_path.display()
            )
        })?;
        let mut files = HashMap::from([(STYLESHEET.to_string(), ("text/css", css))]);
        let images = dir.join("assets").join("images");
        if let Ok(entries) = std::fs::read_dir(&images) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                let kind = match name.rsplit('.').next() {
                    Some("svg") => "image/svg+xml",
                    Some("png") => "image/png",
                    Some("ico") => "image/x-icon",
                    _ => continue,
                };
                if let Ok(bytes) = std::fs::read(entry.path()) {
                    files.insert(format!("images/{name}"), (kind, bytes));
                }
            }
        }
        Ok(Assets { files })
    }

    /// The package folder: `explicit`, else `node_modules/...` under the current folder or under
    /// this repository (where `cargo` built the portal).
    pub fn find(explicit: Option<&FsPath>) -> Option<PathBuf> {
        if let Some(dir) = explicit {
            return Some(dir.to_path_buf());
        }
        let here = PathBuf::from(PACKAGE_DIR);
        let repository = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(PACKAGE_DIR);
        [here, repository]
            .into_iter()
            .find(|dir| dir.join(STYLESHEET).is_file())
    }

    pub fn has_styles(&self) -> bool {
        self.files.contains_key(STYLESHEET)
    }
}

//! The trust boundary (section 7): who is acting, and what a sender may touch.
//!
//! Nothing a sender writes about itself is believed. A queue message's sender is the principal AWS
//! authenticated (the SQS `SenderId`), mapped to a [`Principal`] by the `[[sender]]` entries of
//! `organisations.toml` ([`super::org::Organisations::sender`]); a file's sender is where it was
//! dropped ([`FileOrigin`]). Locally, `dit process --from` and `dit action --as` name them, and
//! without either the local operator is trusted. The portal (section 9) maps its signed-in
//! identity to the same [`Principal`]. Pure: no store, no clock.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use super::envelope::{is_vpd, FileName, FileType, QuarantineReason};

/// Who a message (or a portal action) comes from, once authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Principal {
    /// HEE/TIS data team or service desk: trusted to act as the sender a message names.
    Operator,
    /// A trust's medical staffing team or integration: only its own applicants.
    Trust(String),
    /// The e-recruitment system: employment checks only.
    Trac,
}

impl Principal {
    /// A name usable as one segment of a storage key: `operator`, `trust-504`, `trac`.
    pub fn key(&self) -> String {
        match self {
            Principal::Operator => "operator".to_string(),
            Principal::Trust(vpd) => format!("trust-{vpd}"),
            Principal::Trac => "trac".to_string(),
        }
    }

    /// How it is named in history entries and answers: `operator`, `trust 504`, `trac`.
    pub fn actor(&self) -> String {
        match self {
            Principal::Operator => "operator".to_string(),
            Principal::Trust(vpd) => format!("trust {vpd}"),
            Principal::Trac => "trac".to_string(),
        }
    }
}

/// `operator`, `trust:504`, `trac`: the spelling of `dit action --as` and `dit serve --as`.
impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::Operator => f.write_str("operator"),
            Principal::Trust(vpd) => write!(f, "trust:{vpd}"),
            Principal::Trac => f.write_str("trac"),
        }
    }
}

impl FromStr for Principal {
    type Err = String;

    fn from_str(text: &str) -> Result<Principal, String> {
        match text.trim() {
            "operator" => Ok(Principal::Operator),
            "trac" => Ok(Principal::Trac),
            other => match other.strip_prefix("trust:") {
                Some(vpd) if is_vpd(vpd) => Ok(Principal::Trust(vpd.to_string())),
                Some(vpd) => Err(format!(
                    "{vpd:?} is not a VPD code (3 or 4 capital letters or digits)"
                )),
                None => Err(format!(
                    "{other:?} is not a sender: use trust:<VPD>, trac or operator"
                )),
            },
        }
    }
}

/// The sender of a queue message as far as the configuration knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageSender {
    Known(Principal),
    /// A principal no `[[sender]]` entry names (or no SenderId at all): refused, operator entry only.
    Unknown(String),
}

impl MessageSender {
    /// A storage key segment: the principal's, or `unknown-<id>` (the id as is when it is plain,
    /// else a hash of it, so that any sender id gives a usable key).
    pub fn key(&self) -> String {
        match self {
            MessageSender::Known(principal) => principal.key(),
            MessageSender::Unknown(id) if is_plain_id(id) => format!("unknown-{id}"),
            MessageSender::Unknown(id) => format!("unknown-{}", short_hash(id)),
        }
    }
}

/// Longest message id accepted (section 7).
pub const MAX_MESSAGE_ID_CHARS: usize = 128;

/// A message id of section 7: 1 to 128 characters of `A-Z a-z 0-9 . _ : -`.
pub fn is_valid_message_id(id: &str) -> bool {
    (1..=MAX_MESSAGE_ID_CHARS).contains(&id.len()) && is_plain_id(id)
}

fn is_plain_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_MESSAGE_ID_CHARS
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// `sha256-` and the first 32 hex digits of the text's SHA-256 (never used for message ids).
pub fn short_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("sha256-{hex}")
}

/// The folder under the inbound area where TIS drops its files.
pub const TIS_FOLDER: &str = "tis/";
/// The folder under the inbound area holding one folder per trust (`trusts/<VPD>/`).
pub const TRUSTS_FOLDER: &str = "trusts/";
/// How the inbound area is named in reasons (`incoming/` in the inbound bucket).
pub const INBOUND_PREFIX_SHOWN: &str = "incoming/";

/// The folder of the inbound area a file's sender drops it in: `tis/` for a TIS file
/// (`DE_<LO>_...`), `trusts/<VPD>/` for a trust's POS file (`ESR_<VPD>_POS_...`); anything else
/// has no sender's folder (`""`: directly under the inbound area, where nothing is accepted).
pub fn drop_folder(file_name: &str) -> String {
    let name = file_name.rsplit('/').next().unwrap_or(file_name);
    let parts: Vec<&str> = name.split('_').collect();
    match parts.as_slice() {
        ["ESR", vpd, "POS", ..] if is_vpd(vpd) => format!("{TRUSTS_FOLDER}{vpd}/"),
        ["DE", ..] => TIS_FOLDER.to_string(),
        _ => String::new(),
    }
}

/// The name a refused file is kept under in the quarantine: the last segment of its key, with
/// anything that could not be one file name as it is (`..`, an empty segment after `//`, a
/// character outside `A-Z a-z 0-9 . _ -`) cleaned, so no file is left stranded because its key
/// was odd.
pub fn quarantine_name(key: &str) -> String {
    clean_segment(key.rsplit('/').next().unwrap_or(key))
}

/// Where a refused file is kept in the quarantine: its origin folder (each segment cleaned as
/// [`quarantine_name`] cleans the name, and its dots made `_`) and its name, so a same-named file from another sender's
/// folder (`trusts/505/` and `tis/`) never overwrites a quarantined file or its reason.
pub fn quarantine_key(key: &str) -> String {
    let mut segments: Vec<String> = key
        .rsplit_once('/')
        .map_or("", |(folder, _)| folder)
        .split('/')
        .filter(|s| !s.is_empty())
        // No dots in a folder (sender folders have none): `..` cannot appear in the key.
        .map(|s| clean_segment(s).replace('.', "_"))
        .collect();
    segments.push(quarantine_name(key));
    segments.join("/")
}

fn clean_segment(segment: &str) -> String {
    let mut name: String = segment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with('.') {
        name.insert(0, '_');
    }
    name
}

/// A sender-chosen key as it may be logged: itself once it is a sender folder and a valid file
/// name (2.1) in plain characters; anything else (a name that may carry personal data, odd
/// characters) as `key-sha256:` and the first 12 hex digits of its SHA-256, enough to find it.
pub fn loggable_key(key: &str) -> String {
    let plain = key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
        && !key.contains("..")
        && !key.contains("//");
    let folder = key.rsplit_once('/').map_or("", |(folder, _)| folder);
    let known_folder = folder.is_empty()
        || ["incoming", "incoming/tis", "tis"].contains(&folder)
        || folder
            .strip_prefix("incoming/")
            .unwrap_or(folder)
            .strip_prefix("trusts/")
            .is_some_and(is_vpd);
    if plain && known_folder && FileName::parse(key).is_ok() {
        return key.to_string();
    }
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("key-sha256:{hex}")
}

/// Where a file came from, which bounds what it may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOrigin {
    /// The local operator (`dit process` without `--from`): any file is taken.
    Operator,
    /// `incoming/tis/` (or `--from tis`): APP, DNC and DNF files.
    Tis,
    /// `incoming/trusts/<VPD>/` (or `--from trust:<VPD>`): that trust's POS files.
    Trust(String),
    /// Anywhere else under the inbound area, named by its folder (`incoming/`, `incoming/x/`).
    Elsewhere(String),
}

impl FileOrigin {
    /// The origin of an inbound object from its key relative to the inbound area (`tis/<file>`,
    /// `trusts/<VPD>/<file>`); a file in any other folder is from [`FileOrigin::Elsewhere`].
    pub fn of_inbound_key(key: &str) -> FileOrigin {
        let folder = key.rfind('/').map_or("", |i| &key[..=i]);
        if folder == TIS_FOLDER {
            return FileOrigin::Tis;
        }
        if let Some(vpd) = folder
            .strip_prefix(TRUSTS_FOLDER)
            .and_then(|rest| rest.strip_suffix('/'))
            .filter(|vpd| is_vpd(vpd))
        {
            return FileOrigin::Trust(vpd.to_string());
        }
        FileOrigin::Elsewhere(format!("{INBOUND_PREFIX_SHOWN}{folder}"))
    }

    /// The prefix a reason names: `incoming/tis/`, `incoming/trusts/504/`, or the folder found.
    pub fn prefix(&self) -> String {
        match self {
            FileOrigin::Operator => "the local operator".to_string(),
            FileOrigin::Tis => format!("{INBOUND_PREFIX_SHOWN}{TIS_FOLDER}"),
            FileOrigin::Trust(vpd) => format!("{INBOUND_PREFIX_SHOWN}{TRUSTS_FOLDER}{vpd}/"),
            FileOrigin::Elsewhere(prefix) => prefix.clone(),
        }
    }

    /// Whether a file of this name may come from here: TIS files only from TIS, a trust's POS
    /// files only from that trust's own folder.
    ///
    /// # Errors
    /// The quarantine reason `<file> is not accepted from <prefix>` (code `wrong_sender`).
    pub fn accepts(&self, name: &FileName) -> Result<(), QuarantineReason> {
        let accepted = match self {
            FileOrigin::Operator => true,
            FileOrigin::Tis => matches!(
                name.file_type,
                FileType::App | FileType::Dnc | FileType::Dnf
            ),
            FileOrigin::Trust(vpd) => name.file_type == FileType::Pos && name.source == *vpd,
            FileOrigin::Elsewhere(_) => false,
        };
        if accepted {
            Ok(())
        } else {
            Err(QuarantineReason::new(
                "wrong_sender",
                format!("{} is not accepted from {}", name.name, self.prefix()),
                None,
            ))
        }
    }
}

/// `tis` or `trust:<VPD>`: the spelling of `dit process --from`.
impl FromStr for FileOrigin {
    type Err = String;

    fn from_str(text: &str) -> Result<FileOrigin, String> {
        let text = text.trim();
        if text == "tis" {
            return Ok(FileOrigin::Tis);
        }
        match text.strip_prefix("trust:") {
            Some(vpd) if is_vpd(vpd) => Ok(FileOrigin::Trust(vpd.to_string())),
            Some(vpd) => Err(format!(
                "{vpd:?} is not a VPD code (3 or 4 capital letters or digits)"
            )),
            None => Err(format!(
                "{text:?} is not a file sender: use tis or trust:<VPD>"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> FileName {
        FileName::parse(text).unwrap()
    }

    #[test]
    fn principals_are_spelt_as_on_the_command_line() {
        for text in ["operator", "trac", "trust:504", "trust:RX1A"] {
            assert_eq!(text.parse::<Principal>().unwrap().to_string(), text);
        }
        assert_eq!(
            "trust:504".parse::<Principal>().unwrap(),
            Principal::Trust("504".into())
        );
        assert!("trust:5".parse::<Principal>().is_err());
        assert!("trust:".parse::<Principal>().is_err());
        assert!("tis".parse::<Principal>().is_err());
        assert_eq!(Principal::Trust("504".into()).key(), "trust-504");
        assert_eq!(Principal::Trust("504".into()).actor(), "trust 504");
    }

    #[test]
    fn message_ids_follow_section_7_and_are_never_hashed() {
        for id in ["a", "msg-001.a_b", "urn:trac:42", &"x".repeat(128)] {
            assert!(is_valid_message_id(id), "{id}");
        }
        for id in ["", "a/b", "a b", "é", "a#b", &"x".repeat(129)] {
            assert!(!is_valid_message_id(id), "{id}");
        }
    }

    #[test]
    fn unknown_senders_get_a_usable_key() {
        assert_eq!(
            MessageSender::Unknown("AROAEXAMPLE:session-1".into()).key(),
            "unknown-AROAEXAMPLE:session-1"
        );
        let odd = MessageSender::Unknown("a/../b".into()).key();
        assert!(odd.starts_with("unknown-sha256-"), "{odd}");
        assert_eq!(MessageSender::Known(Principal::Trac).key(), "trac");
    }

    #[test]
    fn a_file_origin_comes_from_its_folder() {
        assert_eq!(
            FileOrigin::of_inbound_key("tis/DE_KSS_APP_20261121_00000042.DAT"),
            FileOrigin::Tis
        );
        assert_eq!(
            FileOrigin::of_inbound_key("trusts/504/ESR_504_POS_20261121_00000001.DAT"),
            FileOrigin::Trust("504".into())
        );
        assert_eq!(
            FileOrigin::of_inbound_key("DE_KSS_APP_20261121_00000042.DAT"),
            FileOrigin::Elsewhere("incoming/".into())
        );
        assert_eq!(
            FileOrigin::of_inbound_key("trusts/504/x/ESR_504_POS_20261121_00000001.DAT"),
            FileOrigin::Elsewhere("incoming/trusts/504/x/".into())
        );
        assert_eq!(
            FileOrigin::of_inbound_key("tis/sub/DE_KSS_APP_20261121_00000042.DAT"),
            FileOrigin::Elsewhere("incoming/tis/sub/".into())
        );
    }

    #[test]
    fn each_origin_accepts_only_its_own_files() {
        let app = name("DE_KSS_APP_20261121_00000042.DAT");
        let dnf = name("DE_KSS_DNF_20261121_00000001.DAT");
        let pos_504 = name("ESR_504_POS_20261121_00000001.DAT");
        let pos_505 = name("ESR_505_POS_20261121_00000001.DAT");
        let trust = FileOrigin::Trust("504".into());
        assert!(FileOrigin::Tis.accepts(&app).is_ok());
        assert!(FileOrigin::Tis.accepts(&dnf).is_ok());
        assert!(trust.accepts(&pos_504).is_ok());
        for file in [&app, &pos_504, &pos_505, &dnf] {
            assert!(FileOrigin::Operator.accepts(file).is_ok());
        }
        let refused = FileOrigin::Tis.accepts(&pos_504).unwrap_err();
        assert_eq!(refused.code, "wrong_sender");
        assert_eq!(
            refused.reason,
            "ESR_504_POS_20261121_00000001.DAT is not accepted from incoming/tis/"
        );
        assert_eq!(
            trust.accepts(&pos_505).unwrap_err().reason,
            "ESR_505_POS_20261121_00000001.DAT is not accepted from incoming/trusts/504/"
        );
        assert_eq!(
            trust.accepts(&app).unwrap_err().reason,
            "DE_KSS_APP_20261121_00000042.DAT is not accepted from incoming/trusts/504/"
        );
        assert_eq!(
            FileOrigin::Elsewhere("incoming/".into())
                .accepts(&app)
                .unwrap_err()
                .reason,
            "DE_KSS_APP_20261121_00000042.DAT is not accepted from incoming/"
        );
    }

    #[test]
    fn each_file_has_its_senders_folder() {
        assert_eq!(drop_folder("DE_KSS_APP_20261121_00000042.DAT"), "tis/");
        assert_eq!(drop_folder("DE_XYZ_APP_20261121_00000050.DAT"), "tis/");
        assert_eq!(
            drop_folder("ESR_504_POS_20261121_00000001.DAT"),
            "trusts/504/"
        );
        assert_eq!(drop_folder("notes.txt"), "");
        assert_eq!(drop_folder("ESR_5/4_POS_20261121_00000001.DAT"), "");
    }

    #[test]
    fn odd_keys_get_a_clean_quarantine_name() {
        for (key, name) in [
            (
                "tis/DE_KSS_APP_20261121_00000042.DAT",
                "DE_KSS_APP_20261121_00000042.DAT",
            ),
            ("tis/..", "_.."),
            ("tis/", "_"),
            ("", "_"),
            ("a//b/.hidden", "_.hidden"),
            ("x/DE KSS?.DAT", "DE_KSS_.DAT"),
            ("x/Ämter.DAT", "_mter.DAT"),
        ] {
            assert_eq!(quarantine_name(key), name, "{key}");
        }
    }

    #[test]
    fn the_quarantine_key_keeps_the_origin_folder() {
        for (key, quarantined) in [
            (
                "tis/DE_KSS_APP_20261121_00000042.DAT",
                "tis/DE_KSS_APP_20261121_00000042.DAT",
            ),
            (
                "trusts/505/DE_KSS_APP_20261121_00000042.DAT",
                "trusts/505/DE_KSS_APP_20261121_00000042.DAT",
            ),
            (
                "DE_KSS_APP_20261121_00000042.DAT",
                "DE_KSS_APP_20261121_00000042.DAT",
            ),
            ("a//b/.hidden", "a/b/_.hidden"),
            ("../x/../y", "___/x/___/y"),
            (
                "tis/../DE_KSS_APP_20261121_00000042.DAT",
                "tis/___/DE_KSS_APP_20261121_00000042.DAT",
            ),
            ("tis/", "tis/_"),
            ("x y/Ämter.DAT", "x_y/_mter.DAT"),
        ] {
            assert_eq!(quarantine_key(key), quarantined, "{key}");
        }
    }

    #[test]
    fn only_valid_file_names_in_sender_folders_are_logged_as_they_are() {
        for key in [
            "tis/DE_KSS_APP_20261121_00000042.DAT",
            "trusts/504/ESR_504_POS_20261121_00000001.DAT",
            "incoming/trusts/504/ESR_504_POS_20261121_00000001.DAT",
            "DE_KSS_APP_20261121_00000042.DAT",
        ] {
            assert_eq!(loggable_key(key), key);
        }
        for key in [
            "tis/Smith_John_GMC7654321.csv",
            "trusts/504/notes about Dr Jones.DAT",
            "Jane Doe/DE_KSS_APP_20261121_00000042.DAT",
            "tis/../DE_KSS_APP_20261121_00000042.DAT",
            "",
        ] {
            let logged = loggable_key(key);
            assert!(logged.starts_with("key-sha256:"), "{key}: {logged}");
            assert_eq!(logged.len(), "key-sha256:".len() + 12);
            assert_eq!(logged, loggable_key(key), "stable");
        }
    }

    #[test]
    fn from_is_spelt_tis_or_trust() {
        assert_eq!("tis".parse::<FileOrigin>().unwrap(), FileOrigin::Tis);
        assert_eq!(
            "trust:504".parse::<FileOrigin>().unwrap(),
            FileOrigin::Trust("504".into())
        );
        assert!("trac".parse::<FileOrigin>().is_err());
        assert!("operator".parse::<FileOrigin>().is_err());
        assert!("trust:x".parse::<FileOrigin>().unwrap_err().contains("VPD"));
    }
}

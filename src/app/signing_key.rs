//! The key that signs the ledger's checkpoints lives outside the database,
//! so that someone who can write the database cannot re-sign a rewritten
//! ledger. It comes from `ledger.signing_key` (the environment), or from
//! the key file `ledger.key_file`:
//!
//! ```text
//! # Gorod ledger signing key: keep this file secret.
//! key <the Ed25519 seed, 64 hex digits>
//! retired <public key, hex> <size of the last checkpoint it signed>
//! ```
//!
//! The `retired` lines are the keys rotated out; their checkpoints stay
//! trusted. The file is written whole to a temporary file and renamed over
//! the old one, readable by its owner only.
//!
//! With neither, the first start on a ledger with no checkpoint writes a new
//! key file. A key an earlier version kept in the database moves to the key
//! file and leaves the database. A ledger with checkpoints and no key is an
//! error: a new key would make every check fail.

use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;

use crate::db::{self, ledger as ledger_db, DbConnection, DbError};
use crate::ledger::checkpoint::Rotation;
use crate::ledger::{LedgerKeys, SigningKeys};

/// Why the key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("ledger.key_file {path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("ledger.signing_key: {0}")]
    Configured(String),
    #[error(
        "the ledger has signed checkpoints but there is no signing key at {0}: set \
         ledger.key_file to the installation's key file, or ledger.signing_key \
         (GOROD__LEDGER__SIGNING_KEY)"
    )]
    Missing(PathBuf),
    #[error(
        "the ledger key comes from ledger.signing_key (the environment), which Gorod \
         cannot change: set ledger.key_file and leave ledger.signing_key empty to rotate \
         with gorod"
    )]
    NotRotatable,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// What a key file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFile {
    pub seed: String,
    /// Rotated-out keys: public key (hex) and their handover size.
    pub retired: Vec<(String, i64)>,
}

impl KeyFile {
    fn parse(text: &str) -> Result<KeyFile, String> {
        let mut seed = None;
        let mut retired = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["key", hex] if seed.is_none() => seed = Some(hex.to_string()),
                ["retired", public, size] => retired.push((
                    public.to_lowercase(),
                    size.parse()
                        .map_err(|_| format!("line {}: '{size}' is not a size", n + 1))?,
                )),
                _ => return Err(format!("line {} is not 'key …' or 'retired …'", n + 1)),
            }
        }
        let seed = seed.ok_or("it has no 'key' line")?;
        SigningKeys::from_hex(&seed)?;
        Ok(KeyFile { seed, retired })
    }

    fn text(&self) -> String {
        let mut out = format!(
            "# Gorod ledger signing key: keep this file secret.\nkey {}\n",
            self.seed
        );
        for (public, size) in &self.retired {
            out.push_str(&format!("retired {public} {size}\n"));
        }
        out
    }

    fn keys(&self, configured: &[String]) -> Result<LedgerKeys, String> {
        let signing = SigningKeys::from_hex(&self.seed)?;
        let mut trusted: Vec<String> = configured.to_vec();
        trusted.extend(self.retired.iter().map(|(public, _)| public.clone()));
        Ok(LedgerKeys::new(signing, &trusted))
    }
}

fn file_error(path: &Path, message: impl std::fmt::Display) -> KeyError {
    KeyError::File {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

fn read(path: &Path) -> Result<Option<KeyFile>, KeyError> {
    match std::fs::read_to_string(path) {
        Ok(text) => KeyFile::parse(&text)
            .map(Some)
            .map_err(|e| file_error(path, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(file_error(path, e)),
    }
}

/// Writes `text` to `path`, readable by its owner only and whole or not at
/// all (a temporary file, then a rename or a hard link): over the old file
/// when `replace`, otherwise only when there is none (false then: another
/// process wrote it first).
pub fn write_private(path: &Path, text: &str, replace: bool) -> std::io::Result<bool> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let temporary = path.with_extension(format!(
        "tmp{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temporary).and_then(|mut out| {
        out.write_all(text.as_bytes())?;
        out.sync_all()
    });
    let placed = written.and_then(|_| {
        if replace {
            std::fs::rename(&temporary, path).map(|_| true)
        } else {
            // A hard link appears whole or not at all, and never over
            // another file.
            match std::fs::hard_link(&temporary, path) {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(e),
            }
        }
    });
    let _ = std::fs::remove_file(&temporary);
    placed
}

/// Writes the key file over the old one.
fn write(path: &Path, file: &KeyFile) -> Result<(), KeyError> {
    write_private(path, &file.text(), true)
        .map(|_| ())
        .map_err(|e| file_error(path, e))
}

/// Writes a new key file unless there is one already (instances starting
/// together make one key between them); the file that is there afterwards.
fn write_new(path: &Path, file: &KeyFile) -> Result<KeyFile, KeyError> {
    match write_private(path, &file.text(), false) {
        Ok(true) => Ok(file.clone()),
        Ok(false) => read(path)?.ok_or_else(|| file_error(path, "it vanished as it was made")),
        Err(e) => Err(file_error(path, e)),
    }
}

/// The installation's ledger keys, from the environment or the key file (see
/// the module's documentation); `trusted` are `ledger.trusted_public_keys`.
pub fn load(
    conn: &mut DbConnection,
    configured: &str,
    key_file: &Path,
    trusted: &[String],
) -> Result<LedgerKeys, KeyError> {
    if !configured.trim().is_empty() {
        let file = KeyFile {
            seed: configured.trim().to_string(),
            retired: Vec::new(),
        };
        return file.keys(trusted).map_err(KeyError::Configured);
    }
    let file = match read(key_file)? {
        Some(file) => file,
        None => db::write_transaction(conn, |conn| {
            let file = match ledger_db::take_stored_key(conn)? {
                Some((seed, retired)) => KeyFile {
                    seed,
                    retired: retired.into_iter().map(|public| (public, 0)).collect(),
                },
                None if ledger_db::checkpoint(conn, None)?.is_some() => {
                    return Err(KeyError::Missing(key_file.to_path_buf()));
                }
                None => KeyFile {
                    seed: SigningKeys::fresh_seed(),
                    retired: Vec::new(),
                },
            };
            // Another instance sharing the file may write it first: its
            // key is the one (a key moved out of the database is the same).
            let file = write_new(key_file, &file)?;
            log::info!("the ledger signing key is in {}", key_file.display());
            Ok(file)
        })?,
    };
    file.keys(trusted).map_err(|e| file_error(key_file, e))
}

/// Replaces the key in the key file with a fresh one: the old key signs a
/// last checkpoint of the ledger as it stands (when it grew and verifies),
/// both keys sign the rotation, which the database records, and the key file
/// keeps the old public key as trusted. Instances read the new key when they
/// restart. The rotation.
pub fn rotate(
    conn: &mut DbConnection,
    configured: &str,
    key_file: &Path,
    now: NaiveDateTime,
) -> Result<Rotation, KeyError> {
    if !configured.trim().is_empty() {
        return Err(KeyError::NotRotatable);
    }
    let mut file = read(key_file)?.ok_or_else(|| KeyError::Missing(key_file.to_path_buf()))?;
    let keys = file.keys(&[]).map_err(|e| file_error(key_file, e))?;
    let old = keys.signing.clone();
    let handover = match ledger_db::sign_checkpoint(conn, &old, &keys.trusted, now) {
        Ok(c) => c.size,
        Err(ledger_db::CheckpointError::Db(e)) => return Err(e.into()),
        // A broken ledger (which `ledger verify` reports) gets no handover
        // checkpoint: the last one the old key signed stands.
        Err(_) => ledger_db::checkpoint(conn, None)?.map_or(0, |c| c.size),
    };
    let fresh = SigningKeys::fresh_seed();
    let new = SigningKeys::from_hex(&fresh).map_err(|e| file_error(key_file, e))?;
    let rotation = Rotation::sign(&old, &new, handover, now);
    db::write_transaction(conn, |conn| {
        ledger_db::record_rotation(conn, &rotation)?;
        file.retired.push((old.public_hex(), handover));
        file.seed = fresh;
        write(key_file, &file)
    })?;
    Ok(rotation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_reads_back_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("ledger.key");
        let file = KeyFile {
            seed: SigningKeys::fresh_seed(),
            retired: vec![("ab".repeat(32), 12)],
        };
        write(&path, &file).unwrap();
        assert_eq!(read(&path).unwrap(), Some(file));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "key 1234\n").unwrap();
        assert!(read(&path).is_err());
        assert_eq!(read(&dir.path().join("none")).unwrap(), None);
    }
}

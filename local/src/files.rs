//! Small, durable files in the data dir: written atomically, read-modify-written under a lock.
//!
//! The server and `todo-local token` may run at the same time on one data dir, so every
//! read-modify-write of a shared file holds an exclusive lock on the directory's `.lock` file,
//! and every write goes to a temporary file that is renamed over the old one: a reader sees the
//! old contents or the new, never half of either.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Owner-only permissions for secrets (the signing key, password hashes, refresh tokens).
pub const PRIVATE_FILE_MODE: u32 = 0o600;
const PRIVATE_DIR_MODE: u32 = 0o700;

/// Creates `dir` (and its parents) if missing, readable by the owner only.
pub fn ensure_private_dir(dir: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(PRIVATE_DIR_MODE))
        .with_context(|| format!("restricting permissions of {}", dir.display()))
}

/// Writes `contents` to `path` with `mode`, replacing it atomically.
pub fn write_atomically(path: &Path, contents: &[u8], mode: u32) -> anyhow::Result<()> {
    let dir = path.parent().context("a data file must live in a directory")?;
    let file_name = path.file_name().context("a data file needs a name")?.to_string_lossy();
    let temporary = dir.join(format!(".{file_name}.{}.tmp", uuid::Uuid::new_v4()));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temporary)
            .with_context(|| format!("creating {}", temporary.display()))?;
        file.write_all(contents).with_context(|| format!("writing {}", temporary.display()))?;
        file.sync_all().with_context(|| format!("syncing {}", temporary.display()))?;
        fs::rename(&temporary, path).with_context(|| format!("renaming {} to {}", temporary.display(), path.display()))
    })();
    if result.is_err() {
        // Best effort: the temporary file is garbage either way.
        let _ = fs::remove_file(&temporary);
    }
    result?;
    // Make the rename itself durable.
    File::open(dir).and_then(|d| d.sync_all()).with_context(|| format!("syncing {}", dir.display()))
}

/// Reads a JSON file, or `T::default()` when it does not exist yet.
pub fn read_json_or_default<T: DeserializeOwned + Default>(path: &Path) -> anyhow::Result<T> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| format!("parsing {}", path.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
    }
}

/// Writes `value` as pretty JSON, atomically, readable by the owner only.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).context("serialising a data file")?;
    bytes.push(b'\n');
    write_atomically(path, &bytes, PRIVATE_FILE_MODE)
}

/// An exclusive lock on a directory, held until dropped (closing the file releases it).
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

impl DirLock {
    /// Blocks until this process holds the lock of `dir`.
    pub fn acquire(dir: &Path) -> anyhow::Result<Self> {
        let path: PathBuf = dir.join(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(PRIVATE_FILE_MODE)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        file.lock().with_context(|| format!("locking {}", path.display()))?;
        Ok(Self { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_write_replaces_the_file_with_owner_only_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.json");
        write_json(&path, &vec![1, 2]).unwrap();
        write_json(&path, &vec![3]).unwrap();

        let read: Vec<i32> = read_json_or_default(&path).unwrap();
        assert_eq!(read, vec![3]);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .filter(|name| name.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left behind: {leftovers:?}");
    }

    #[test]
    fn a_missing_file_reads_as_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let read: Vec<i32> = read_json_or_default(&dir.path().join("absent.json")).unwrap();
        assert!(read.is_empty());
    }
}

//! Crash-safe file output: write to a temporary file in the target's
//! directory, fsync it, then rename it over the target. On any error the
//! target is untouched and the temporary file is removed.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Writes `bytes` to `path` atomically (keeping the target's permissions when it exists).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_inner(path, bytes, None)
}

fn temp_path(path: &Path) -> Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"),
    })?;
    let mut tmp = name.to_owned();
    // Unique per call too: threads of one process may write files of the same name.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    tmp.push(format!(".btfkit-tmp.{}.{n}", std::process::id()));
    Ok(path.with_file_name(tmp))
}

/// `fail_after`: test hook that fails the write after that many bytes.
fn write_atomic_inner(path: &Path, bytes: &[u8], fail_after: Option<usize>) -> Result<()> {
    let tmp = temp_path(path)?;
    let io = |source| Error::Io { path: path.to_owned(), source };
    let result = (|| -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        if let Ok(meta) = fs::metadata(path) {
            f.set_permissions(meta.permissions())?;
        }
        match fail_after {
            Some(n) if n < bytes.len() => {
                f.write_all(&bytes[..n])?;
                return Err(std::io::Error::other("injected write failure"));
            }
            _ => f.write_all(bytes)?,
        }
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(d) = File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(io(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_mid_write_keeps_original() {
        let dir = std::env::temp_dir().join(format!("btfkit-out-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let target = dir.join("vmlinux.btf");
        fs::write(&target, b"original contents").unwrap();
        let err = write_atomic_inner(&target, &[7u8; 4096], Some(100)).unwrap_err();
        assert!(err.to_string().contains("injected"), "{err}");
        assert_eq!(fs::read(&target).unwrap(), b"original contents");
        let leftovers: Vec<_> = fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
        assert_eq!(leftovers.len(), 1, "temporary file left behind: {leftovers:?}");
        write_atomic(&target, b"new").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_directory_is_an_error() {
        let err = write_atomic(Path::new("/nonexistent-btfkit-dir/x.btf"), b"x").unwrap_err();
        assert!(err.to_string().contains("/nonexistent-btfkit-dir/x.btf"), "{err}");
    }
}

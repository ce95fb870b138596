//! Consistent copies of the embedded store, and restoring from them.
//!
//! A live SQLite file must never be copied byte by byte (REFERENCES.md, durability): the
//! copy is made with SQLite's online backup API in one read transaction, so a running
//! server may keep writing, and every copy is checked with `PRAGMA integrity_check`.

use crate::sqlite::{connect, map_err};
use crate::{Backend, Result, StoreError, migrate};
use rusqlite::backup::Backup;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// What a backup or restore copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub schema_version: i64,
    pub bytes: u64,
}

/// Copies the store at `db` to the new file `to`.
pub fn backup(db: &Path, to: &Path) -> Result<Summary> {
    if to.exists() {
        return Err(StoreError::Setup(format!(
            "{} already exists; choose a new file name for the backup",
            to.display()
        )));
    }
    if !db.exists() {
        return Err(StoreError::Setup(format!(
            "there is no database at {}; check --data-dir",
            db.display()
        )));
    }
    let src = connect(db, true)?;
    let schema_version = write_checked_copy(&src, to, || Ok(()))?;
    Ok(Summary {
        schema_version,
        bytes: std::fs::metadata(to).map(|m| m.len()).unwrap_or(0),
    })
}

/// Replaces the store at `db` with the backup `from`, after checking the backup. Works
/// when the current file is damaged too. The server must be stopped (the caller holds
/// the data folder's lock).
pub fn restore(db: &Path, from: &Path) -> Result<Summary> {
    let src = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| {
        StoreError::Setup(format!("cannot read the backup {}: {e}", from.display()))
    })?;
    check(&src, from)?;
    let schema_version = write_checked_copy(&src, db, || {
        // The old file's write-ahead log must not be replayed onto the restored file.
        for suffix in ["-wal", "-shm"] {
            let mut side = db.as_os_str().to_owned();
            side.push(suffix);
            match std::fs::remove_file(&side) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(StoreError::Setup(format!(
                        "cannot remove {}: {e}",
                        Path::new(&side).display()
                    )));
                }
            }
        }
        Ok(())
    })?;
    Ok(Summary {
        schema_version,
        bytes: std::fs::metadata(from).map(|m| m.len()).unwrap_or(0),
    })
}

/// Copies `src` into a new file beside `to`, checks it, flushes it to disk, runs
/// `before_rename`, then renames it to `to`: a crash leaves either the old file or the
/// complete new one, never a half-written copy. Returns the copy's schema version.
fn write_checked_copy(
    src: &Connection,
    to: &Path,
    before_rename: impl FnOnce() -> Result<()>,
) -> Result<i64> {
    let partial = to.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let copied = (|| -> Result<i64> {
        let mut dst = Connection::open(&partial)
            .map_err(|e| StoreError::Setup(format!("cannot write {}: {e}", partial.display())))?;
        copy(src, &mut dst)?;
        dst.execute_batch("PRAGMA journal_mode=DELETE;")
            .map_err(map_err)?;
        let version = check(&dst, to)?;
        drop(dst);
        std::fs::File::open(&partial)
            .and_then(|f| f.sync_all())
            .map_err(|e| StoreError::Setup(format!("cannot flush {}: {e}", partial.display())))?;
        before_rename()?;
        std::fs::rename(&partial, to)
            .map_err(|e| StoreError::Setup(format!("cannot write {}: {e}", to.display())))?;
        Ok(version)
    })();
    if copied.is_err() {
        let _ = std::fs::remove_file(&partial);
    } else {
        sync_parent(to);
    }
    copied
}

/// Copies every page in one step, so the copy is one consistent snapshot of the source.
fn copy(src: &Connection, dst: &mut Connection) -> Result<()> {
    use rusqlite::backup::StepResult;
    let backup = Backup::new(src, dst).map_err(map_err)?;
    for _ in 0..600 {
        match backup.step(-1).map_err(map_err)? {
            StepResult::Done => return Ok(()),
            // Another connection holds a lock for a moment: try again shortly.
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    Err(StoreError::Setup(
        "the database stayed busy for 30 s; try the backup again".into(),
    ))
}

/// Checks a copy is intact and is a Fangkong database this binary can run; returns its
/// schema version.
fn check(conn: &Connection, shown: &Path) -> Result<i64> {
    let damaged = || {
        StoreError::Setup(format!(
            "{} is damaged or is not a Fangkong database",
            shown.display()
        ))
    };
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|_| damaged())?;
    if verdict != "ok" {
        return Err(damaged());
    }
    let version: i64 = conn
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )
        .map_err(|_| damaged())?;
    let known = migrate::list(Backend::Sqlite)
        .last()
        .map_or(0, |m| m.version);
    if version > known {
        return Err(StoreError::Setup(format!(
            "{} is at schema version {version}, newer than this fangkong knows; use the newer fangkong",
            shown.display()
        )));
    }
    Ok(version)
}

fn sync_parent(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
}

//! Schema migrations: one folder per backend, files paired by number.
//!
//! `migrations/sqlite/0001_foundation.sql` and `migrations/postgres/0001_foundation.sql`
//! describe the same change in each dialect. All pending migrations run in one
//! transaction (both backends have transactional DDL); on PostgreSQL an advisory lock lets
//! several `serve` processes start at once safely. A checksum per applied migration
//! catches a file edited after release.

use crate::{Backend, Result, Store, StoreError, params};
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

#[derive(RustEmbed)]
#[folder = "migrations/sqlite"]
struct SqliteFiles;

#[derive(RustEmbed)]
#[folder = "migrations/postgres"]
struct PostgresFiles;

/// Arbitrary, fixed key of the advisory lock that serialises migrations on PostgreSQL.
const LOCK_KEY: i64 = 0x0066_616e_676b;

/// One migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub version: i64,
    pub name: String,
    pub sql: String,
}

impl Migration {
    fn checksum(&self) -> String {
        Sha256::digest(self.sql.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The migrations of a backend, in order. File names are `NNNN_name.sql`.
pub fn list(backend: Backend) -> Vec<Migration> {
    let files: Vec<(String, Vec<u8>)> = match backend {
        Backend::Sqlite => SqliteFiles::iter()
            .filter_map(|f| SqliteFiles::get(&f).map(|c| (f.to_string(), c.data.to_vec())))
            .collect(),
        Backend::Postgres => PostgresFiles::iter()
            .filter_map(|f| PostgresFiles::get(&f).map(|c| (f.to_string(), c.data.to_vec())))
            .collect(),
    };
    let mut out: Vec<Migration> = files
        .into_iter()
        .filter_map(|(file, data)| {
            let stem = file.strip_suffix(".sql")?;
            let (num, name) = stem.split_once('_')?;
            Some(Migration {
                version: num.parse().ok()?,
                name: name.to_owned(),
                sql: String::from_utf8(data).ok()?,
            })
        })
        .collect();
    out.sort_by_key(|m| m.version);
    out
}

/// Checks that both backends have the same migrations: same numbers, same names, no gaps.
pub fn check_pairing() -> std::result::Result<(), String> {
    let names =
        |b| -> Vec<(i64, String)> { list(b).into_iter().map(|m| (m.version, m.name)).collect() };
    let (lite, pg) = (names(Backend::Sqlite), names(Backend::Postgres));
    if lite != pg {
        return Err(format!(
            "sqlite migrations {lite:?} differ from postgres migrations {pg:?}"
        ));
    }
    for (i, (v, _)) in lite.iter().enumerate() {
        if *v != i as i64 + 1 {
            return Err(format!(
                "migration numbers must run 1, 2, 3…; found {v} at place {}",
                i + 1
            ));
        }
    }
    Ok(())
}

/// What a migration run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub applied: Vec<i64>,
    pub version: i64,
}

/// Applies every pending migration in one transaction.
pub async fn run(store: &Store, now: OffsetDateTime) -> Result<Report> {
    run_until(store, now, i64::MAX).await
}

/// Applies the pending migrations up to `last` (tests of a migration over data made at
/// the schema before it).
pub async fn run_until(store: &Store, now: OffsetDateTime, last: i64) -> Result<Report> {
    let known: Vec<Migration> = list(store.backend())
        .into_iter()
        .filter(|m| m.version <= last)
        .collect();
    let mut tx = store.begin().await?;
    if store.backend() == Backend::Postgres {
        tx.query("SELECT pg_advisory_xact_lock($1)::TEXT", &params![LOCK_KEY])
            .await?;
    }
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            checksum TEXT NOT NULL,
            applied_at BIGINT NOT NULL
        )",
    )
    .await?;
    let applied = tx
        .query(
            "SELECT version, checksum FROM schema_migrations ORDER BY version",
            &[],
        )
        .await?;
    let mut done = Vec::new();
    for row in &applied {
        let version: i64 = row.get(0)?;
        let checksum: String = row.get(1)?;
        let Some(m) = known.iter().find(|m| m.version == version) else {
            return Err(StoreError::Setup(format!(
                "the database is at schema version {version}, newer than this fangkong knows; run the newer fangkong or restore a backup"
            )));
        };
        if m.checksum() != checksum {
            return Err(StoreError::Setup(format!(
                "migration {version} ({}) was changed after it was applied; restore the released file",
                m.name
            )));
        }
        done.push(version);
    }
    let mut report = Report {
        applied: Vec::new(),
        version: done.last().copied().unwrap_or(0),
    };
    for m in known.iter().filter(|m| !done.contains(&m.version)) {
        tx.execute_batch(&m.sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
            &params![m.version, m.name.as_str(), m.checksum(), now],
        )
        .await?;
        report.applied.push(m.version);
        report.version = m.version;
    }
    tx.commit().await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_paired_by_number_and_name() {
        check_pairing().unwrap();
        assert!(!list(Backend::Sqlite).is_empty());
    }
}

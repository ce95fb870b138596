//! The subcommands other than `serve`.

use crate::config::{Database, Settings};
use crate::server::{lock_data_dir, open_store};
use fangkong_domain::clock::Clock;
use fangkong_store::{backup, migrate};
use std::path::Path;

/// Applies pending migrations; returns a line for the user.
pub async fn migrate(settings: &Settings, clock: &dyn Clock) -> Result<String, String> {
    let opened = open_store(settings).await?;
    let report = migrate::run(&opened.store, clock.now())
        .await
        .map_err(|e| e.to_string())?;
    opened.store.close().await;
    Ok(if report.applied.is_empty() {
        format!("schema is up to date (version {})", report.version)
    } else {
        format!(
            "applied migrations {:?}; schema version {}",
            report.applied, report.version
        )
    })
}

const PG_BACKUP: &str = "this server runs on PostgreSQL: back it up with PostgreSQL's own tools, e.g. `pg_dump --format=custom --file=fangkong.dump \"$FANGKONG_DATABASE_URL\"`, and restore with `pg_restore --clean --if-exists --dbname=\"$FANGKONG_DATABASE_URL\" fangkong.dump` (see docs/OPERATIONS.md)";

/// Writes a consistent, checked copy of the embedded store; safe while a server runs.
pub fn backup(settings: &Settings, to: &Path) -> Result<String, String> {
    let Database::Sqlite { data_dir } = &settings.database else {
        return Err(PG_BACKUP.to_owned());
    };
    let summary =
        backup::backup(&Database::sqlite_file(data_dir), to).map_err(|e| e.to_string())?;
    Ok(format!(
        "backup written to {} ({} bytes, schema version {}, integrity checked)",
        to.display(),
        summary.bytes,
        summary.schema_version
    ))
}

/// Replaces the embedded store with a checked backup. Refuses while a server runs.
pub fn restore(settings: &Settings, from: &Path) -> Result<String, String> {
    let Database::Sqlite { data_dir } = &settings.database else {
        return Err(PG_BACKUP.to_owned());
    };
    let _lock = lock_data_dir(data_dir)?;
    let summary =
        backup::restore(&Database::sqlite_file(data_dir), from).map_err(|e| e.to_string())?;
    Ok(format!(
        "restored {} into {} (schema version {}); start the server to apply any newer migrations",
        from.display(),
        data_dir.display(),
        summary.schema_version
    ))
}

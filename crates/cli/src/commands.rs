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
    // The ticket search index follows the store it was made from: the next start rebuilds
    // it from the restored tickets.
    if let Some(dir) = &settings.hotline.search_dir
        && dir.exists()
    {
        std::fs::remove_dir_all(dir)
            .map_err(|e| format!("cannot remove the old search index {}: {e}", dir.display()))?;
    }
    Ok(format!(
        "restored {} into {} (schema version {}); start the server to apply any newer migrations",
        from.display(),
        data_dir.display(),
        summary.schema_version
    ))
}

/// Creates an account from a script: the password comes from standard input (first line),
/// never from the command line where other users could see it.
pub async fn user_add(
    settings: &Settings,
    clock: &dyn Clock,
    ids: &dyn fangkong_domain::clock::IdSource,
    username: &str,
    role: &str,
    site: Option<&str>,
    password: &str,
) -> Result<String, String> {
    use fangkong_domain::access::Role;
    use fangkong_store::{accounts, audit, org};
    let username = fangkong_web::auth::parse_username(username).map_err(|_| {
        "the user name must be 3 to 32 lower-case letters, digits, dots, hyphens or underscores"
            .to_owned()
    })?;
    let role = Role::parse(role.trim())
        .filter(|r| *r != Role::Public)
        .ok_or_else(|| {
            let names: Vec<_> = Role::assignable().map(Role::as_str).collect();
            format!("unknown role {role:?}; use one of {}", names.join(", "))
        })?;
    let password = password.trim_end_matches(['\r', '\n']);
    fangkong_domain::passwords::check(password, &username).map_err(|e| {
        format!(
            "the password is refused ({}): use at least {} characters, not a common password, not the user name",
            e.code,
            fangkong_domain::passwords::MIN_LENGTH
        )
    })?;
    let opened = crate::server::open_store_shared(settings).await?;
    let store = opened.store;
    let result = async {
        let site = match site {
            Some(code) => org::find_site(&store, code.trim())
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no site with code {code:?}"))?,
            None => org::list_sites(&store)
                .await
                .map_err(|e| e.to_string())?
                .into_iter()
                .next()
                .map(|t| t.site)
                .ok_or("the store has no site yet: run `fangkong serve` and complete the setup page first")?,
        };
        let pw = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || accounts::hash_password(&pw))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let now = clock.now();
        let mut tx = store.begin().await.map_err(|e| e.to_string())?;
        accounts::insert_user(
            &mut tx,
            &accounts::NewUser {
                id: ids.new_id(),
                username: &username,
                role,
                site_id: site.id,
                password_hash: &hash,
                must_change: false,
            },
            now,
        )
        .await
        .map_err(|e| match e {
            fangkong_store::StoreError::Invalid(_) => format!("the user name {username:?} is taken"),
            other => other.to_string(),
        })?;
        audit::append(
            &mut tx,
            now,
            &audit::Record {
                actor: "cli",
                addr: "local",
                action: "user.create",
                target: format!("user:{username}"),
                site: &site.code,
                outcome: fangkong_domain::audit::Outcome::Ok,
                detail: serde_json::json!({"role": role.as_str()}),
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        Ok(format!(
            "created {username} ({}) at {}",
            role.as_str(),
            site.code
        ))
    }
    .await;
    store.close().await;
    result
}

/// Walks the audit chain; fails (exit status 1) when a row was edited, deleted or cut off.
pub async fn audit_verify(settings: &Settings) -> Result<String, String> {
    use fangkong_store::audit::{self, Verdict};
    let opened = crate::server::open_store_shared(settings).await?;
    let verdict = audit::verify(&opened.store).await;
    opened.store.close().await;
    match verdict.map_err(|e| e.to_string())? {
        Verdict::Intact { entries } => Ok(format!("audit log intact: {entries} entries verified")),
        Verdict::Broken(fangkong_domain::audit::Break::Altered { seq }) => Err(format!(
            "audit log TAMPERED: entry {seq} does not match its hash (edited, or an earlier entry was)"
        )),
        Verdict::Broken(fangkong_domain::audit::Break::Gap { expected, found }) => Err(format!(
            "audit log TAMPERED: entry {expected} is missing (next found: {found})"
        )),
        Verdict::Truncated { head, last } => Err(format!(
            "audit log TAMPERED: entries {}..={head} were removed from the end",
            last + 1
        )),
        Verdict::HeadMismatch { head, last } => Err(format!(
            "audit log TAMPERED: the last entry ({last}) does not match the chain's head ({head}); it was rewritten or added outside the application"
        )),
    }
}

//! Accounts, sessions, API tokens and failed sign-ins.
//!
//! Session ids and API tokens are stored only as SHA-256 hashes: a copy of the database
//! cannot be used to sign in. Password hashes (argon2id, PHC strings) are made by the web
//! layer.

use crate::{Result, Row, Store, StoreError, Tx, params};
use fangkong_domain::FieldError;
use fangkong_domain::access::Role;
use fangkong_domain::clock::unix_millis;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

/// Hashes a password with argon2id (OWASP parameters: 19 MiB, 2 passes) and a fresh salt.
/// Slow on purpose: call it off the async threads (`spawn_blocking`).
pub fn hash_password(password: &str) -> Result<String> {
    use argon2::password_hash::PasswordHasher;
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Database(format!("password hashing failed: {e}")))
}

/// Checks a password against a stored hash; a malformed hash never matches.
pub fn verify_password(hash: &str, password: &str) -> bool {
    use argon2::password_hash::PasswordVerifier;
    use argon2::password_hash::phc::PasswordHash;
    PasswordHash::new(hash).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A new random secret (session id, API token, CSRF token, password): 32 bytes as 52
/// base32 characters, or fewer bytes for shorter secrets.
pub fn new_secret<const N: usize>() -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let bytes: [u8; N] = crate::system::random_bytes();
    let mut out = String::with_capacity(N * 8 / 5 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The SHA-256 of a secret (session id, API token), as stored.
pub fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// An account as the rest of the system sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: Uuid,
    pub username: String,
    pub role: Role,
    pub site_id: Uuid,
    pub site_code: String,
    pub must_change: bool,
    /// The staff member this account belongs to, for their own staff checks.
    pub person_id: Option<Uuid>,
}

const ACCOUNT: &str = "SELECT u.id, u.username, u.role, u.site_id, s.code, u.must_change, u.person_id FROM users u JOIN sites s ON s.id = u.site_id";

fn account_from(row: &Row) -> Result<Account> {
    let role: String = row.get(2)?;
    Ok(Account {
        id: row.get(0)?,
        username: row.get(1)?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Decode(format!("role {role}")))?,
        site_id: row.get(3)?,
        site_code: row.get(4)?,
        must_change: row.get(5)?,
        person_id: row.get(6)?,
    })
}

/// Links an account to the staff member it belongs to (or unlinks it).
pub async fn link_person(tx: &mut Tx, user: Uuid, person: Option<Uuid>) -> Result<()> {
    match tx
        .execute(
            "UPDATE users SET person_id = $2 WHERE id = $1",
            &params![user, person],
        )
        .await?
    {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

/// Whether any account exists (before the first one, only the setup page is open).
pub async fn any_user(store: &Store) -> Result<bool> {
    Ok(store
        .query_opt("SELECT 1 FROM users LIMIT 1", &[])
        .await?
        .is_some())
}

/// A new account, already validated.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub id: Uuid,
    pub username: &'a str,
    pub role: Role,
    pub site_id: Uuid,
    pub password_hash: &'a str,
    pub must_change: bool,
}

pub async fn insert_user(tx: &mut Tx, user: &NewUser<'_>, now: OffsetDateTime) -> Result<()> {
    tx.execute(
        "INSERT INTO users (id, username, role, site_id, password_hash, must_change, created_at, password_changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        &params![
            user.id,
            user.username,
            user.role.as_str(),
            user.site_id,
            user.password_hash,
            user.must_change,
            now
        ],
    )
    .await
    .map_err(|e| match e {
        StoreError::Unique { .. } => {
            StoreError::Invalid(FieldError::new("username", "user.username.taken"))
        }
        other => other,
    })?;
    Ok(())
}

/// An account with its password hash, for signing in.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub account: Account,
    pub password_hash: String,
}

pub async fn credentials(store: &Store, username: &str) -> Result<Option<Credentials>> {
    store
        .query_opt(
            "SELECT u.id, u.username, u.role, u.site_id, s.code, u.must_change, u.person_id, u.password_hash
             FROM users u JOIN sites s ON s.id = u.site_id WHERE u.username = $1",
            &params![username],
        )
        .await?
        .map(|r| {
            Ok(Credentials {
                account: account_from(&r)?,
                password_hash: r.get(7)?,
            })
        })
        .transpose()
}

pub async fn find_user(store: &Store, id: Uuid) -> Result<Option<Account>> {
    store
        .query_opt(&format!("{ACCOUNT} WHERE u.id = $1"), &params![id])
        .await?
        .as_ref()
        .map(account_from)
        .transpose()
}

/// Every account, by user name (callers keep those in the reader's scope).
pub async fn list_users(store: &Store) -> Result<Vec<Account>> {
    store
        .query(&format!("{ACCOUNT} ORDER BY u.username"), &[])
        .await?
        .iter()
        .map(account_from)
        .collect()
}

/// Replaces a password hash and ends every session and token of the account.
pub async fn set_password(
    tx: &mut Tx,
    user: Uuid,
    password_hash: &str,
    must_change: bool,
    now: OffsetDateTime,
) -> Result<()> {
    let n = tx
        .execute(
            "UPDATE users SET password_hash = $2, must_change = $3, password_changed_at = $4 WHERE id = $1",
            &params![user, password_hash, must_change, now],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    tx.execute("DELETE FROM sessions WHERE user_id = $1", &params![user])
        .await?;
    tx.execute(
        "UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
        &params![user, now],
    )
    .await?;
    Ok(())
}

// ---- failed sign-ins -------------------------------------------------------------------

/// Serialises sign-in attempts for one user name and one address until `tx` ends (on
/// PostgreSQL, transaction advisory locks, always taken in this order; SQLite has a
/// single writer already).
pub async fn lock_attempts(tx: &mut Tx, username: &str, addr: &str) -> Result<()> {
    if tx.backend() == crate::Backend::Postgres {
        tx.query(
            "SELECT pg_advisory_xact_lock(1718, hashtext($1))::TEXT, pg_advisory_xact_lock(1719, hashtext($2))::TEXT",
            &params![username, addr],
        )
        .await?;
    }
    Ok(())
}

/// Failed sign-ins since `since`, seen from inside a transaction: (for this user name, from
/// this address).
pub async fn failures_in(
    tx: &mut Tx,
    username: &str,
    addr: &str,
    since: OffsetDateTime,
) -> Result<(u32, u32)> {
    let row = tx
        .query_one(
            "SELECT (SELECT COUNT(*) FROM login_failures WHERE username = $1 AND at >= $3),
                    (SELECT COUNT(*) FROM login_failures WHERE addr = $2 AND at >= $3)",
            &params![username, addr, since],
        )
        .await?;
    Ok((row.get(0)?, row.get(1)?))
}

/// Failed sign-ins since `since`: (for this user name, from this address).
pub async fn failures_since(
    store: &Store,
    username: &str,
    addr: &str,
    since: OffsetDateTime,
) -> Result<(u32, u32)> {
    let row = store
        .query_one(
            "SELECT (SELECT COUNT(*) FROM login_failures WHERE username = $1 AND at >= $3),
                    (SELECT COUNT(*) FROM login_failures WHERE addr = $2 AND at >= $3)",
            &params![username, addr, since],
        )
        .await?;
    Ok((row.get(0)?, row.get(1)?))
}

pub async fn record_failure(
    tx: &mut Tx,
    username: &str,
    addr: &str,
    at: OffsetDateTime,
) -> Result<()> {
    tx.execute(
        "INSERT INTO login_failures (username, addr, at) VALUES ($1, $2, $3)",
        &params![username, addr, at],
    )
    .await
    .map(drop)
}

/// Forgets a user name's failures (after a good sign-in, or an admin lifting a lockout).
pub async fn clear_failures(tx: &mut Tx, username: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM login_failures WHERE username = $1",
        &params![username],
    )
    .await
    .map(drop)
}

/// Drops failures older than `before` (they no longer count for anything).
pub async fn purge_failures(store: &Store, before: OffsetDateTime) -> Result<u64> {
    let mut tx = store.begin().await?;
    let n = tx
        .execute("DELETE FROM login_failures WHERE at < $1", &params![before])
        .await?;
    tx.commit().await?;
    Ok(n)
}

// ---- sessions --------------------------------------------------------------------------

/// A signed-in browser: the account and the session's times.
#[derive(Debug, Clone)]
pub struct Session {
    pub account: Account,
    pub csrf: String,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
}

pub async fn insert_session(
    tx: &mut Tx,
    secret: &str,
    user: Uuid,
    csrf: &str,
    now: OffsetDateTime,
) -> Result<()> {
    tx.execute(
        "INSERT INTO sessions (id_hash, user_id, csrf, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)",
        &params![secret_hash(secret), user, csrf, now],
    )
    .await
    .map(drop)
}

pub async fn find_session(store: &Store, secret: &str) -> Result<Option<Session>> {
    store
        .query_opt(
            "SELECT u.id, u.username, u.role, u.site_id, s.code, u.must_change, u.person_id, x.csrf, x.created_at, x.last_seen_at
             FROM sessions x JOIN users u ON u.id = x.user_id JOIN sites s ON s.id = u.site_id
             WHERE x.id_hash = $1",
            &params![secret_hash(secret)],
        )
        .await?
        .map(|r| {
            Ok(Session {
                account: account_from(&r)?,
                csrf: r.get(7)?,
                created_at: r.get(8)?,
                last_seen_at: r.get(9)?,
            })
        })
        .transpose()
}

/// Records activity on a session (for the idle timeout).
pub async fn touch_session(store: &Store, secret: &str, now: OffsetDateTime) -> Result<()> {
    let mut tx = store.begin().await?;
    tx.execute(
        "UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1",
        &params![secret_hash(secret), now],
    )
    .await?;
    tx.commit().await
}

pub async fn delete_session(tx: &mut Tx, secret: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM sessions WHERE id_hash = $1",
        &params![secret_hash(secret)],
    )
    .await
    .map(drop)
}

/// Drops sessions idle since before `idle_before` or started before `started_before`.
pub async fn purge_sessions(
    store: &Store,
    idle_before: OffsetDateTime,
    started_before: OffsetDateTime,
) -> Result<u64> {
    let mut tx = store.begin().await?;
    let n = tx
        .execute(
            "DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2",
            &params![idle_before, started_before],
        )
        .await?;
    tx.commit().await?;
    Ok(n)
}

// ---- API tokens ------------------------------------------------------------------------

/// An API token as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub id: Uuid,
    pub label: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

pub async fn insert_token(
    tx: &mut Tx,
    id: Uuid,
    user: Uuid,
    secret: &str,
    label: &str,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Result<()> {
    tx.execute(
        "INSERT INTO api_tokens (id, user_id, token_hash, label, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        &params![id, user, secret_hash(secret), label, now, expires_at],
    )
    .await
    .map(drop)
}

/// The account behind a live token (not revoked, not expired at `now`).
pub async fn token_account(
    store: &Store,
    secret: &str,
    now: OffsetDateTime,
) -> Result<Option<Account>> {
    store
        .query_opt(
            &format!(
                "{ACCOUNT} JOIN api_tokens t ON t.user_id = u.id
                 WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2"
            ),
            &params![secret_hash(secret), unix_millis(now)],
        )
        .await?
        .as_ref()
        .map(account_from)
        .transpose()
}

pub async fn list_tokens(store: &Store, user: Uuid) -> Result<Vec<Token>> {
    store
        .query(
            "SELECT id, label, created_at, expires_at, revoked_at FROM api_tokens
             WHERE user_id = $1 ORDER BY created_at DESC, id DESC",
            &params![user],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Token {
                id: r.get(0)?,
                label: r.get(1)?,
                created_at: r.get(2)?,
                expires_at: r.get(3)?,
                revoked_at: r.get(4)?,
            })
        })
        .collect()
}

/// Revokes one of the user's tokens; `NotFound` when it is not theirs or already revoked.
pub async fn revoke_token(tx: &mut Tx, user: Uuid, id: Uuid, now: OffsetDateTime) -> Result<()> {
    let n = tx
        .execute(
            "UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
            &params![id, user, now],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("揭东-防控-2020").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password(&h, "揭东-防控-2020"));
        assert!(!verify_password(&h, "揭东-防控-2021"));
        assert!(!verify_password("not a hash", "x"));
        assert_ne!(h, hash_password("揭东-防控-2020").unwrap(), "fresh salt");
    }

    #[test]
    fn secrets_are_random_base32() {
        let a = new_secret::<32>();
        assert_eq!(a.len(), 52);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        assert_ne!(a, new_secret::<32>());
        assert_eq!(new_secret::<10>().len(), 16);
        assert_eq!(secret_hash("x").len(), 32);
    }
}

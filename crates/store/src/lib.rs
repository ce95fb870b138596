//! Fangkong's persistence: one API over embedded SQLite and PostgreSQL.
//!
//! * A unit of work is a transaction: [`Store::begin`], work on the [`Tx`], then
//!   [`Tx::commit`]. Dropping a `Tx` without committing rolls it back.
//! * Queries are written once with PostgreSQL placeholders (`$1`); the SQLite backend
//!   rewrites them. Backend-specific SQL lives only in the migrations.
//! * Hot append-only records go through the group-commit [`writer`].
//! * Live notices fan out in-process on SQLite and through LISTEN/NOTIFY on PostgreSQL,
//!   so any number of `serve` processes sharing one database see every notice.

pub mod accounts;
pub mod audit;
pub mod backup;
pub mod cases;
pub mod demo;
pub mod hotline;
pub mod idempotency;
pub mod migrate;
pub mod org;
mod postgres;
pub mod privacy;
pub mod reports;
pub mod screening;
mod sqlite;
pub mod sync;
pub mod system;
#[cfg(feature = "testing")]
pub mod testing;
mod value;
pub mod writer;

use std::path::Path;
use std::sync::Arc;
use tokio::sync::broadcast;

pub use value::{FromValue, Row, Value};
pub use writer::{Op, Then, WriterStats};

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub const fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Everything that can go wrong below the web layer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint on `table` refused the row.
    #[error("duplicate row in {table}")]
    Unique { table: String },
    /// A foreign key refused the row.
    #[error("a referenced row does not exist")]
    ForeignKey,
    #[error("not found")]
    NotFound,
    /// The input broke a rule that needs stored data to check (a taken code, an unknown
    /// parent): shown to the user next to the field.
    #[error("invalid input: {0}")]
    Invalid(fangkong_domain::FieldError),
    /// A stored value did not have the expected type (a programming error).
    #[error("cannot decode a stored value: {0}")]
    Decode(String),
    /// The database failed; the text is for logs, never for users.
    #[error("database error: {0}")]
    Database(String),
    /// Start-up problem: one line naming the problem and the fix.
    #[error("{0}")]
    Setup(String),
    /// The store is shutting down and takes no more work.
    #[error("the store is closed")]
    Closed,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A live notice for pages that update themselves (SSE).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Notice {
    pub topic: String,
    pub data: String,
}

/// Connection-pool figures for `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolStatus {
    pub size: usize,
    pub available: usize,
}

/// A handle on the store; cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    writer: writer::Writer,
    live: broadcast::Sender<Notice>,
    /// The audit chain's HMAC key (see [`Store::set_audit_key`]).
    audit_key: std::sync::OnceLock<[u8; 32]>,
}

#[derive(Clone)]
enum Db {
    Sqlite(sqlite::Db),
    Postgres(postgres::Db),
}

impl Store {
    /// Opens (creating if needed) the SQLite store at `path`. Runs no migrations.
    pub async fn open_sqlite(path: &Path) -> Result<Store> {
        let db = sqlite::Db::open(path)?;
        Ok(Store::assemble(Db::Sqlite(db), None))
    }

    /// Connects to PostgreSQL. Refuses a server with `fsync` off. Runs no migrations.
    pub async fn open_postgres(url: &str) -> Result<Store> {
        let (live, _) = broadcast::channel(1024);
        let db = postgres::Db::connect(url, live.clone()).await?;
        Ok(Store::assemble(Db::Postgres(db), Some(live)))
    }

    fn assemble(db: Db, live: Option<broadcast::Sender<Notice>>) -> Store {
        let live = live.unwrap_or_else(|| broadcast::channel(1024).0);
        let writer = writer::Writer::start(db.clone());
        Store {
            inner: Arc::new(Inner {
                db,
                writer,
                live,
                audit_key: std::sync::OnceLock::new(),
            }),
        }
    }

    pub fn backend(&self) -> Backend {
        match self.inner.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Sets the key the audit chain is made and checked with (from the personal-data
    /// master key, [`privacy::Vault::audit_key`]). Set once, before the first audited
    /// change; later calls are ignored.
    pub fn set_audit_key(&self, key: [u8; 32]) {
        let _ = self.inner.audit_key.set(key);
    }

    /// The audit chain's key; a setup error when none was set.
    pub(crate) fn audit_key(&self) -> Result<[u8; 32]> {
        self.inner.audit_key.get().copied().ok_or_else(|| {
            StoreError::Setup("the audit key is not set (Store::set_audit_key)".into())
        })
    }

    /// Starts a unit of work. On SQLite it holds the single write connection until it
    /// ends, so keep it short; on PostgreSQL it holds one pooled connection.
    pub async fn begin(&self) -> Result<Tx> {
        let inner = match &self.inner.db {
            Db::Sqlite(db) => TxInner::Sqlite(db.begin().await?),
            Db::Postgres(db) => TxInner::Postgres(Box::new(db.begin().await?)),
        };
        Ok(Tx {
            inner,
            failed: false,
            audit_key: self.inner.audit_key.get().copied(),
        })
    }

    /// Runs a read outside any transaction (a reader connection on SQLite).
    pub async fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        match &self.inner.db {
            Db::Sqlite(db) => db.query(sql, params),
            Db::Postgres(db) => db.query(sql, params).await,
        }
    }

    pub async fn query_opt(&self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }

    pub async fn query_one(&self, sql: &str, params: &[Value]) -> Result<Row> {
        self.query_opt(sql, params)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Queues hot append-only writes for the group-commit writer; returns, per operation,
    /// the number of rows it changed, once they are committed.
    pub async fn write(&self, ops: Vec<Op>) -> Result<Vec<u64>> {
        self.inner.writer.submit(ops, None).await
    }

    /// Like [`Store::write`], with a closing statement computed from the row counts and
    /// committed in the same transaction.
    pub async fn write_then(&self, ops: Vec<Op>, then: Then) -> Result<Vec<u64>> {
        self.inner.writer.submit(ops, Some(then)).await
    }

    pub fn writer_stats(&self) -> WriterStats {
        self.inner.writer.stats()
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<()> {
        self.query("SELECT 1", &[]).await.map(drop)
    }

    pub fn pool_status(&self) -> PoolStatus {
        match &self.inner.db {
            Db::Sqlite(db) => db.pool_status(),
            Db::Postgres(db) => db.pool_status(),
        }
    }

    /// Subscribes to live notices from every process sharing this database.
    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.inner.live.subscribe()
    }

    /// Publishes a live notice (after the change it announces has been committed).
    pub async fn publish(&self, topic: &str, data: &str) -> Result<()> {
        let notice = Notice {
            topic: topic.to_owned(),
            data: data.to_owned(),
        };
        match &self.inner.db {
            Db::Sqlite(_) => {
                // No receiver is not an error: nobody is watching.
                let _ = self.inner.live.send(notice);
                Ok(())
            }
            Db::Postgres(db) => db.notify(&notice).await,
        }
    }

    /// Stops taking hot writes, commits everything already queued, then closes.
    pub async fn close(&self) {
        self.inner.writer.close().await;
        if let Db::Postgres(db) = &self.inner.db {
            db.close();
        }
    }
}

/// A unit of work: a database transaction. Rolled back unless committed.
///
/// Once a statement fails, the transaction can only be rolled back: [`Tx::commit`]
/// refuses, on both backends alike (PostgreSQL would silently roll back; SQLite would
/// commit the statements before the failure).
pub struct Tx {
    inner: TxInner,
    failed: bool,
    audit_key: Option<[u8; 32]>,
}

enum TxInner {
    Sqlite(sqlite::Tx),
    Postgres(Box<postgres::Tx>),
}

impl Tx {
    /// The audit chain's key (taken from the store when the transaction began).
    pub(crate) fn audit_key(&self) -> Result<[u8; 32]> {
        self.audit_key.ok_or_else(|| {
            StoreError::Setup("the audit key is not set (Store::set_audit_key)".into())
        })
    }

    pub fn backend(&self) -> Backend {
        match self.inner {
            TxInner::Sqlite(_) => Backend::Sqlite,
            TxInner::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs one statement; returns the number of rows changed.
    pub async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let r = match &mut self.inner {
            TxInner::Sqlite(tx) => tx.execute(sql, params),
            TxInner::Postgres(tx) => tx.execute(sql, params).await,
        };
        self.failed |= r.is_err();
        r
    }

    pub async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let r = match &mut self.inner {
            TxInner::Sqlite(tx) => tx.query(sql, params),
            TxInner::Postgres(tx) => tx.query(sql, params).await,
        };
        self.failed |= r.is_err();
        r
    }

    pub async fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }

    pub async fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row> {
        self.query_opt(sql, params)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Runs a script of several statements without parameters (migrations).
    pub async fn execute_batch(&mut self, sql: &str) -> Result<()> {
        let r = match &mut self.inner {
            TxInner::Sqlite(tx) => tx.execute_batch(sql),
            TxInner::Postgres(tx) => tx.execute_batch(sql).await,
        };
        self.failed |= r.is_err();
        r
    }

    /// Commits; only after this returns `Ok` may the change be acknowledged. Refuses
    /// (rolling back) when a statement of the transaction failed.
    pub async fn commit(self) -> Result<()> {
        if self.failed {
            return Err(StoreError::Database(
                "a statement of this transaction failed; it was rolled back".into(),
            ));
        }
        match self.inner {
            TxInner::Sqlite(tx) => tx.commit(),
            TxInner::Postgres(tx) => tx.commit().await,
        }
    }
}

/// Runs SQLite work that may wait on the disk (a commit's fsync) without stalling other
/// tasks on a multi-threaded runtime.
pub(crate) fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

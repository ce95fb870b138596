//! The embedded backend: one SQLite file in WAL mode with `synchronous=FULL`.
//!
//! One write connection (SQLite allows one writer at a time) shared by transactions and
//! the group-commit writer; a small pool of read connections beside it.

use crate::value::sqlite_sql;
use crate::writer::Work;
use crate::{PoolStatus, Result, Row, StoreError, Value, blocking};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::sync::OwnedMutexGuard;

const MAX_READERS: usize = 8;

#[derive(Clone)]
pub(crate) struct Db {
    inner: Arc<DbInner>,
}

struct DbInner {
    path: std::path::PathBuf,
    writer: Arc<tokio::sync::Mutex<Connection>>,
    readers: Mutex<Vec<Connection>>,
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
            Value::Bool(b) => ValueRef::Integer(i64::from(*b)),
        }))
    }
}

impl Db {
    pub(crate) fn open(path: &Path) -> Result<Db> {
        let writer = connect(path, false)?;
        Ok(Db {
            inner: Arc::new(DbInner {
                path: path.to_owned(),
                writer: Arc::new(tokio::sync::Mutex::new(writer)),
                readers: Mutex::new(Vec::new()),
            }),
        })
    }

    pub(crate) async fn begin(&self) -> Result<Tx> {
        let conn = self.inner.writer.clone().lock_owned().await;
        blocking(|| conn.execute_batch("BEGIN IMMEDIATE")).map_err(map_err)?;
        Ok(Tx { conn, done: false })
    }

    pub(crate) fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let conn = self.take_reader()?;
        // Reads take microseconds: run them in place (handing the thread over for
        // `block_in_place` would cost more than the read).
        let out = query_on(&conn, sql, params);
        let mut readers = self.inner.readers.lock().unwrap_or_else(|e| e.into_inner());
        if readers.len() < MAX_READERS {
            readers.push(conn);
        }
        out
    }

    fn take_reader(&self) -> Result<Connection> {
        let pooled = self
            .inner
            .readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop();
        match pooled {
            Some(c) => Ok(c),
            None => connect(&self.inner.path, true),
        }
    }

    /// Commits the work of several requests in one transaction (the group-commit step).
    pub(crate) async fn run_batch(&self, work: &[&Work]) -> Result<Vec<Vec<u64>>> {
        let conn = self.inner.writer.lock().await;
        blocking(|| {
            conn.execute_batch("BEGIN IMMEDIATE").map_err(map_err)?;
            let run = || -> Result<Vec<Vec<u64>>> {
                let mut out = Vec::with_capacity(work.len());
                for w in work {
                    let counts = w
                        .ops
                        .iter()
                        .map(|op| {
                            if op.returning {
                                returning_on(&conn, op.sql, &op.params)
                            } else {
                                execute_on(&conn, op.sql, &op.params)
                            }
                        })
                        .collect::<Result<Vec<u64>>>()?;
                    if let Some(then) = &w.then {
                        let op = then(&counts);
                        execute_on(&conn, op.sql, &op.params)?;
                    }
                    out.push(counts);
                }
                Ok(out)
            };
            let result = run().and_then(|out| {
                conn.execute_batch("COMMIT").map_err(map_err)?;
                Ok(out)
            });
            if result.is_err() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            result
        })
    }

    pub(crate) fn pool_status(&self) -> PoolStatus {
        let idle = self.inner.readers.lock().map(|r| r.len()).unwrap_or(0);
        PoolStatus {
            size: idle + 1,
            available: idle + usize::from(self.inner.writer.try_lock().is_ok()),
        }
    }
}

/// Opens one connection with the durability and integrity settings every connection needs.
pub(crate) fn connect(path: &Path, read_only: bool) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let shown = path.display();
    let conn = Connection::open_with_flags(path, flags).map_err(|e| open_error(path, &e))?;
    let setup = || -> rusqlite::Result<String> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // Keep each cached statement's plan: otherwise SQLite (built with STAT4) re-parses
        // a statement whenever a bound value changes, which cost a quarter of the CPU of a
        // simple read in a profile.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        // Reading the schema fails at once on a file that is not a database.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        conn.execute_batch(
            "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;",
        )?;
        if read_only {
            conn.execute_batch("PRAGMA query_only=ON;")?;
        }
        Ok(mode)
    };
    match setup() {
        Ok(mode) if mode.eq_ignore_ascii_case("wal") => Ok(conn),
        Ok(mode) => Err(StoreError::Setup(format!(
            "the database {shown} cannot use write-ahead logging (journal mode {mode}); put the data folder on a local disk"
        ))),
        Err(e) => Err(open_error(path, &e)),
    }
}

fn open_error(path: &Path, e: &rusqlite::Error) -> StoreError {
    let shown = path.display();
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreError::Setup(format!(
            "the database file {shown} is damaged or is not a Fangkong database; restore it with `fangkong restore --from BACKUP` or move it aside"
        )),
        Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly | ErrorCode::PermissionDenied) => {
            StoreError::Setup(format!(
                "cannot write the database {shown}; fix the folder's permissions or choose another with --data-dir"
            ))
        }
        _ => StoreError::Setup(format!("cannot open the database {shown}: {e}")),
    }
}

pub(crate) fn query_on(conn: &Connection, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(&sqlite_sql(sql)).map_err(map_err)?;
    let cols = stmt.column_count();
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params))
        .map_err(map_err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(map_err)? {
        let mut values = Vec::with_capacity(cols);
        for i in 0..cols {
            values.push(match row.get_ref(i).map_err(map_err)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => Value::Int(n),
                ValueRef::Real(f) => Value::Real(f),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::Blob(b.to_vec()),
            });
        }
        out.push(Row(values));
    }
    Ok(out)
}

fn execute_on(conn: &Connection, sql: &str, params: &[Value]) -> Result<u64> {
    let mut stmt = conn.prepare_cached(&sqlite_sql(sql)).map_err(map_err)?;
    let n = stmt
        .execute(rusqlite::params_from_iter(params))
        .map_err(map_err)?;
    Ok(n as u64)
}

/// Runs a statement that returns one integer; the integer.
fn returning_on(conn: &Connection, sql: &str, params: &[Value]) -> Result<u64> {
    let mut stmt = conn.prepare_cached(&sqlite_sql(sql)).map_err(map_err)?;
    let v: i64 = stmt
        .query_row(rusqlite::params_from_iter(params), |r| r.get(0))
        .map_err(map_err)?;
    u64::try_from(v).map_err(|_| StoreError::Decode(format!("returned {v}")))
}

pub(crate) fn map_err(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, msg) = &e {
        match f.extended_code {
            rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                // "UNIQUE constraint failed: table.column[, table.column]"
                let table = msg
                    .as_deref()
                    .and_then(|m| m.split(": ").nth(1))
                    .and_then(|cols| cols.split('.').next())
                    .unwrap_or_default()
                    .to_owned();
                return StoreError::Unique { table };
            }
            rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => return StoreError::ForeignKey,
            _ => {}
        }
    }
    StoreError::Database(e.to_string())
}

/// A transaction on the write connection.
pub(crate) struct Tx {
    conn: OwnedMutexGuard<Connection>,
    done: bool,
}

impl Tx {
    pub(crate) fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        execute_on(&self.conn, sql, params)
    }

    pub(crate) fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        query_on(&self.conn, sql, params)
    }

    pub(crate) fn execute_batch(&mut self, sql: &str) -> Result<()> {
        blocking(|| self.conn.execute_batch(sql)).map_err(map_err)
    }

    pub(crate) fn commit(mut self) -> Result<()> {
        self.done = true;
        blocking(|| match self.conn.execute_batch("COMMIT") {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(map_err(e))
            }
        })
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if !self.done {
            let _ = blocking(|| self.conn.execute_batch("ROLLBACK"));
        }
    }
}

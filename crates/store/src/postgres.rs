//! The scale-out backend: PostgreSQL through tokio-postgres and a deadpool pool.

use crate::writer::{Op, Work};
use crate::{Notice, PoolStatus, Result, Row, StoreError, Value};
use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime, Timeouts};
use futures_util::StreamExt;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::task::AbortHandle;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{AsyncMessage, NoTls};

const POOL_SIZE: usize = 16;
const LIVE_CHANNEL: &str = "fangkong_live";

#[derive(Clone)]
pub(crate) struct Db {
    pool: Pool,
    listener: AbortHandle,
}

impl ToSql for Value {
    /// Binds a value to a parameter of a compatible type only: a text bound to a number
    /// (or the reverse) is an error, never a silent reinterpretation of bytes.
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        let mismatch = || -> Box<dyn std::error::Error + Sync + Send> {
            format!("cannot bind {self:?} to a parameter of type {ty}").into()
        };
        match (self, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Int(i), &Type::INT2) => i16::try_from(*i)?.to_sql(ty, out),
            (Value::Int(i), &Type::INT4) => i32::try_from(*i)?.to_sql(ty, out),
            (Value::Int(i), &Type::INT8) => i.to_sql(ty, out),
            (Value::Int(i), &Type::FLOAT8) => (*i as f64).to_sql(ty, out),
            (Value::Real(f), &Type::FLOAT4) => (*f as f32).to_sql(ty, out),
            (Value::Real(f), &Type::FLOAT8) => f.to_sql(ty, out),
            (Value::Text(s), &Type::TEXT | &Type::VARCHAR | &Type::BPCHAR | &Type::NAME) => {
                s.to_sql(ty, out)
            }
            (Value::Blob(b), &Type::BYTEA) => b.to_sql(ty, out),
            (Value::Bool(b), &Type::BOOL) => b.to_sql(ty, out),
            _ => Err(mismatch()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// Prepares the statements (from the cache after the first time), then sends every
/// execution at once: the server receives and runs them in the order given.
async fn execute_in_order(
    client: &Object,
    ops: &[&Op],
) -> std::result::Result<Vec<u64>, tokio_postgres::Error> {
    let mut statements = Vec::with_capacity(ops.len());
    for op in ops {
        statements.push(client.prepare_cached(op.sql).await?);
    }
    let params: Vec<Vec<&(dyn ToSql + Sync)>> = ops.iter().map(|op| refs(&op.params)).collect();
    // Sent in order on one connection (pipelined), so later statements see earlier ones.
    futures_util::future::try_join_all(statements.iter().zip(&params).zip(ops).map(
        |((stmt, p), op)| async move {
            if op.returning {
                let v: i64 = client.query_one(stmt, p).await?.get(0);
                Ok(u64::try_from(v).unwrap_or_default())
            } else {
                client.execute(stmt, p).await
            }
        },
    ))
    .await
}

fn refs(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

impl Db {
    pub(crate) async fn connect(url: &str, live: broadcast::Sender<Notice>) -> Result<Db> {
        let mut cfg: tokio_postgres::Config = url.parse().map_err(|e| {
            StoreError::Setup(format!(
                "the database URL is not valid ({e}); write it as postgres://USER@HOST:PORT/DATABASE"
            ))
        })?;
        if cfg.get_connect_timeout().is_none() {
            cfg.connect_timeout(Duration::from_secs(5));
        }
        if cfg.get_application_name().is_none() {
            cfg.application_name("fangkong");
        }
        let where_ = describe(&cfg);
        let manager = Manager::from_config(
            cfg.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .timeouts(Timeouts {
                wait: Some(Duration::from_secs(10)),
                create: Some(Duration::from_secs(5)),
                recycle: Some(Duration::from_secs(5)),
            })
            .build()
            .map_err(|e| StoreError::Setup(format!("cannot set up the PostgreSQL pool: {e}")))?;
        let client = pool.get().await.map_err(|e| {
            StoreError::Setup(format!(
                "cannot connect to PostgreSQL at {where_} ({e}); check that it runs and that --database-url (FANGKONG_DATABASE_URL) is right"
            ))
        })?;
        let fsync: String = client
            .query_one("SHOW fsync", &[])
            .await
            .map_err(|e| StoreError::Setup(format!("cannot read PostgreSQL settings: {e}")))?
            .get(0);
        refuse_unsafe_fsync(&fsync, &where_)?;
        drop(client);
        let listener = tokio::spawn(listen(cfg, live)).abort_handle();
        Ok(Db { pool, listener })
    }

    async fn client(&self) -> Result<Object> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Database(format!("no PostgreSQL connection: {e}")))
    }

    pub(crate) async fn begin(&self) -> Result<Tx> {
        let client = self.client().await?;
        client.batch_execute("BEGIN").await.map_err(map_err)?;
        Ok(Tx {
            client: Some(client),
        })
    }

    pub(crate) async fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let client = self.client().await?;
        query_on(&client, sql, params).await
    }

    /// Commits the work of several requests in one transaction, the statements pipelined
    /// on one connection in order: first every request's statements, then their closing
    /// statements.
    pub(crate) async fn run_batch(&self, work: &[&Work]) -> Result<Vec<Vec<u64>>> {
        let client = self.client().await?;
        client.batch_execute("BEGIN").await.map_err(map_err)?;
        let result = async {
            let ops: Vec<&Op> = work.iter().flat_map(|w| w.ops.iter()).collect();
            let flat = execute_in_order(&client, &ops).await?;
            let mut flat = flat.into_iter();
            let counts: Vec<Vec<u64>> = work
                .iter()
                .map(|w| flat.by_ref().take(w.ops.len()).collect())
                .collect();
            let closing: Vec<Op> = work
                .iter()
                .zip(&counts)
                .filter_map(|(w, c)| w.then.as_ref().map(|then| then(c)))
                .collect();
            execute_in_order(&client, &closing.iter().collect::<Vec<_>>()).await?;
            Ok::<_, tokio_postgres::Error>(counts)
        }
        .await;
        match result {
            Ok(counts) => {
                client.batch_execute("COMMIT").await.map_err(map_err)?;
                Ok(counts)
            }
            Err(e) => {
                // Report the statement's error; a failed ROLLBACK only retires the connection.
                if client.batch_execute("ROLLBACK").await.is_err() {
                    drop(Object::take(client));
                }
                Err(map_err(e))
            }
        }
    }

    pub(crate) async fn notify(&self, notice: &Notice) -> Result<()> {
        let payload =
            serde_json::to_string(notice).map_err(|e| StoreError::Decode(e.to_string()))?;
        let client = self.client().await?;
        client
            .execute("SELECT pg_notify($1, $2)", &[&LIVE_CHANNEL, &payload])
            .await
            .map_err(map_err)?;
        Ok(())
    }

    pub(crate) fn pool_status(&self) -> PoolStatus {
        let s = self.pool.status();
        PoolStatus {
            size: s.size,
            available: s.available,
        }
    }

    pub(crate) fn close(&self) {
        self.listener.abort();
        self.pool.close();
    }
}

/// A server with `fsync` off could lose committed (acknowledged) records in a crash.
fn refuse_unsafe_fsync(setting: &str, where_: &str) -> Result<()> {
    if setting.eq_ignore_ascii_case("on") {
        Ok(())
    } else {
        Err(StoreError::Setup(format!(
            "PostgreSQL at {where_} runs with fsync off, so a crash could lose acknowledged records; set fsync = on in postgresql.conf and reload it"
        )))
    }
}

/// Host, port and database of a configuration, for messages (never the password).
fn describe(cfg: &tokio_postgres::Config) -> String {
    let host = match cfg.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}/{}", cfg.get_dbname().unwrap_or("(default)"))
}

/// Listens for live notices from every process on this database, reconnecting as needed.
async fn listen(cfg: tokio_postgres::Config, live: broadcast::Sender<Notice>) {
    loop {
        if let Ok((client, mut conn)) = cfg.connect(NoTls).await {
            let live = live.clone();
            let driver = tokio::spawn(async move {
                let mut messages = futures_util::stream::poll_fn(move |cx| conn.poll_message(cx));
                while let Some(Ok(msg)) = messages.next().await {
                    if let AsyncMessage::Notification(n) = msg
                        && let Ok(notice) = serde_json::from_str::<Notice>(n.payload())
                    {
                        let _ = live.send(notice);
                    }
                }
            });
            if client
                .batch_execute(&format!("LISTEN {LIVE_CHANNEL}"))
                .await
                .is_ok()
            {
                let _ = driver.await;
            } else {
                driver.abort();
            }
            tracing::warn!("live notice connection to PostgreSQL lost; reconnecting");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn query_on(client: &Object, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
    let stmt = client.prepare_cached(sql).await.map_err(map_err)?;
    let rows = client.query(&stmt, &refs(params)).await.map_err(map_err)?;
    rows.iter().map(convert_row).collect()
}

fn convert_row(row: &tokio_postgres::Row) -> Result<Row> {
    let mut values = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let err = |e: tokio_postgres::Error| StoreError::Decode(e.to_string());
        let v = match *col.type_() {
            Type::INT2 => row
                .try_get::<_, Option<i16>>(i)
                .map_err(err)?
                .map(|n| Value::Int(n.into())),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(i)
                .map_err(err)?
                .map(|n| Value::Int(n.into())),
            Type::INT8 => row
                .try_get::<_, Option<i64>>(i)
                .map_err(err)?
                .map(Value::Int),
            Type::FLOAT4 => row
                .try_get::<_, Option<f32>>(i)
                .map_err(err)?
                .map(|f| Value::Real(f.into())),
            Type::FLOAT8 => row
                .try_get::<_, Option<f64>>(i)
                .map_err(err)?
                .map(Value::Real),
            Type::BOOL => row
                .try_get::<_, Option<bool>>(i)
                .map_err(err)?
                .map(Value::Bool),
            Type::BYTEA => row
                .try_get::<_, Option<Vec<u8>>>(i)
                .map_err(err)?
                .map(Value::Blob),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => row
                .try_get::<_, Option<String>>(i)
                .map_err(err)?
                .map(Value::Text),
            ref other => {
                return Err(StoreError::Decode(format!(
                    "column {} has unsupported type {other}; cast it in SQL",
                    col.name()
                )));
            }
        };
        values.push(v.unwrap_or(Value::Null));
    }
    Ok(Row(values))
}

pub(crate) fn map_err(e: tokio_postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        use tokio_postgres::error::SqlState;
        if *db.code() == SqlState::UNIQUE_VIOLATION {
            return StoreError::Unique {
                table: db.table().unwrap_or_default().to_owned(),
            };
        }
        if *db.code() == SqlState::FOREIGN_KEY_VIOLATION {
            return StoreError::ForeignKey;
        }
        return StoreError::Database(format!("{}: {}", db.code().code(), db.message()));
    }
    StoreError::Database(e.to_string())
}

/// A transaction on one pooled connection; rolled back if dropped uncommitted.
pub(crate) struct Tx {
    client: Option<Object>,
}

impl Tx {
    fn client(&self) -> &Object {
        self.client
            .as_ref()
            .expect("client is present until commit")
    }

    pub(crate) async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let client = self.client();
        let stmt = client.prepare_cached(sql).await.map_err(map_err)?;
        client.execute(&stmt, &refs(params)).await.map_err(map_err)
    }

    pub(crate) async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        query_on(self.client(), sql, params).await
    }

    pub(crate) async fn execute_batch(&mut self, sql: &str) -> Result<()> {
        self.client().batch_execute(sql).await.map_err(map_err)
    }

    pub(crate) async fn commit(mut self) -> Result<()> {
        let client = self.client.take().expect("client is present until commit");
        match client.batch_execute("COMMIT").await {
            Ok(()) => Ok(()),
            Err(e) => {
                // The connection's state is unknown: take it out of the pool.
                drop(Object::take(client));
                Err(map_err(e))
            }
        }
    }
}

impl Drop for Tx {
    /// An uncommitted transaction (an error path) takes its connection out of the pool
    /// and rolls back on it, so no pooled connection is ever left inside a transaction,
    /// even if the runtime stops before the rollback runs.
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let raw = Object::take(client);
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let _ = raw.batch_execute("ROLLBACK").await;
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_without_fsync_is_refused_with_the_fix() {
        assert!(refuse_unsafe_fsync("on", "db:5432/x").is_ok());
        let err = refuse_unsafe_fsync("off", "db:5432/x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("db:5432/x runs with fsync off"), "{err}");
        assert!(err.contains("set fsync = on"), "{err}");
    }

    #[test]
    fn messages_name_the_server_but_never_the_password() {
        let cfg: tokio_postgres::Config = "postgres://u:secret@db.example:6543/fk".parse().unwrap();
        assert_eq!(describe(&cfg), "db.example:6543/fk");
    }
}

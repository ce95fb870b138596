//! Support for tests of every crate: a fresh PostgreSQL schema per test.

use tokio_postgres::NoTls;

/// The server tests use: `FANGKONG_TEST_DATABASE_URL`, or the local default.
pub fn postgres_base_url() -> String {
    std::env::var("FANGKONG_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Creates an empty schema named `name` and returns a URL whose connections use it.
/// `None` (with the reason printed) when PostgreSQL is unreachable, unless
/// `FANGKONG_REQUIRE_POSTGRES` is set (CI), where that is a failure.
pub async fn postgres_schema_url(name: &str) -> Option<String> {
    let base = postgres_base_url();
    let (client, conn) = match tokio_postgres::connect(&base, NoTls).await {
        Ok(c) => c,
        Err(e) => {
            assert!(
                std::env::var_os("FANGKONG_REQUIRE_POSTGRES").is_none(),
                "PostgreSQL is required but unreachable at {base}: {e}"
            );
            eprintln!("skipping the PostgreSQL case: cannot reach {base} ({e})");
            return None;
        }
    };
    tokio::spawn(conn);
    let schema: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let schema = format!("t_{schema}_{}", std::process::id());
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .await
        .expect("create a test schema");
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}options=-csearch_path%3D{schema}"))
}

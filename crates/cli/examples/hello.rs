//! A bare axum hello-world server: the yardstick `bench/run.sh` measures door readings
//! against (the goal is a ratio to it). Usage: `hello 127.0.0.1:PORT`.

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8089".into());
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "hello" }));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, app).await
}

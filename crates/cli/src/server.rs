//! Wiring: open the store, migrate, load the demo, serve, shut down cleanly.

use crate::config::{Database, KeySource, LOCK_FILE, Settings};
use fangkong_domain::clock::{Clock, IdSource};
use fangkong_store::demo::DemoAccount;
use fangkong_store::privacy::Vault;
use fangkong_store::{Store, accounts, demo, idempotency, migrate};
use fangkong_web::access::{AuthSettings, SetupState};
use fangkong_web::{AppState, live};
use std::fs::File;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// An exclusive lock on a data folder, held as long as this value lives.
#[derive(Debug)]
pub struct DataLock(#[allow(dead_code)] File);

/// Creates the data folder if needed and locks it against a second server.
pub fn lock_data_dir(dir: &Path) -> Result<DataLock, String> {
    std::fs::create_dir_all(dir).map_err(|e| {
        format!(
            "cannot create the data folder {} ({e}); choose another with --data-dir or fix its permissions",
            dir.display()
        )
    })?;
    let path = dir.join(LOCK_FILE);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| {
            format!(
                "cannot write in the data folder {} ({e}); choose another with --data-dir or fix its permissions",
                dir.display()
            )
        })?;
    file.try_lock().map_err(|_| {
        format!(
            "another fangkong process is using {}; stop it first (or give this one another --data-dir)",
            dir.display()
        )
    })?;
    Ok(DataLock(file))
}

/// An open store, with the data-folder lock when it is the embedded one.
pub struct Opened {
    pub store: Store,
    pub lock: Option<DataLock>,
}

/// Opens the configured store. Runs no migrations.
pub async fn open_store(settings: &Settings) -> Result<Opened, String> {
    match &settings.database {
        Database::Sqlite { data_dir } => {
            let lock = lock_data_dir(data_dir)?;
            let store = Store::open_sqlite(&Database::sqlite_file(data_dir))
                .await
                .map_err(|e| e.to_string())?;
            Ok(Opened {
                store,
                lock: Some(lock),
            })
        }
        Database::Postgres { url } => Ok(Opened {
            store: Store::open_postgres(url).await.map_err(|e| e.to_string())?,
            lock: None,
        }),
    }
}

/// Loads the personal-data key (creating the key file on first start).
pub fn load_vault(settings: &Settings) -> Result<Vault, String> {
    match &settings.key {
        KeySource::Hex(hex) => Vault::from_hex(hex),
        KeySource::File(path) => Vault::load_or_create(path),
    }
    .map_err(|e| e.to_string())
}

/// Opens the configured store without the data-folder lock, for commands that may run
/// beside a server (SQLite coordinates the two processes itself). Runs no migrations.
pub async fn open_store_shared(settings: &Settings) -> Result<Opened, String> {
    let store = match &settings.database {
        Database::Sqlite { data_dir } => {
            let file = Database::sqlite_file(data_dir);
            if !file.exists() {
                return Err(format!(
                    "no store in {}; start `fangkong serve` once first (or give --data-dir)",
                    data_dir.display()
                ));
            }
            Store::open_sqlite(&file).await
        }
        Database::Postgres { url } => Store::open_postgres(url).await,
    }
    .map_err(|e| e.to_string())?;
    store.set_audit_key(load_vault(settings)?.audit_key());
    Ok(Opened { store, lock: None })
}

/// A server that is running.
pub struct Running {
    pub addr: SocketAddr,
    /// The application's state (tests run the alert worker's pass with it).
    pub state: AppState,
    pub store: Store,
    /// The demo accounts created at this start (empty unless the demo was loaded now).
    pub demo_accounts: Vec<DemoAccount>,
    /// The setup page's code, while no account exists.
    pub setup_code: Option<String>,
    stop: watch::Sender<bool>,
    task: JoinHandle<std::io::Result<()>>,
    _lock: Option<DataLock>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish, commits queued writes, closes.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.stop.send(true);
        let served = self
            .task
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        self.store.close().await;
        served
    }
}

/// Starts the whole platform on `settings.addr` (port 0 picks a free port).
pub async fn start(
    settings: &Settings,
    load_demo: bool,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
) -> Result<Running, String> {
    // Bind first: a taken port fails before anything is created or written.
    let listener = tokio::net::TcpListener::bind(settings.addr)
        .await
        .map_err(|e| {
            format!(
                "cannot listen on {} ({e}); choose another address with --addr",
                settings.addr
            )
        })?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let Opened { store, lock } = open_store(settings).await?;
    let vault = load_vault(settings)?;
    store.set_audit_key(vault.audit_key());
    let report = migrate::run(&store, clock.now())
        .await
        .map_err(|e| e.to_string())?;
    if !report.applied.is_empty() {
        tracing::info!(applied = ?report.applied, version = report.version, "migrations applied");
    }
    let mut demo_accounts = Vec::new();
    if load_demo {
        match demo::seed(&store, &vault, clock.as_ref(), ids.as_ref())
            .await
            .map_err(|e| e.to_string())?
        {
            Some(accounts) => {
                tracing::info!("demo district loaded");
                demo_accounts = accounts;
            }
            None => tracing::info!("the store already holds sites; demo not loaded"),
        }
    }
    let setup_code = if accounts::any_user(&store)
        .await
        .map_err(|e| e.to_string())?
    {
        None
    } else {
        Some(vault.setup_code())
    };
    let setup = SetupState::new(vault.setup_code());
    let (stop, stopping) = watch::channel(false);
    let state = AppState::new(fangkong_web::Shared {
        store: store.clone(),
        started: clock.now(),
        clock: clock.clone(),
        ids,
        schema_version: report.version,
        live: live::Hub::start(store.clone(), stopping.clone()),
        shutdown: stopping.clone(),
        vault,
        auth: settings.auth,
        setup,
        screening: settings.screening,
        cases: settings.cases.clone(),
        reports: settings.reports.clone(),
        hotline: settings.hotline.clone(),
        hotline_index: fangkong_web::hotline::Indexer::start(
            store.clone(),
            settings.hotline.search_dir.as_deref(),
        )
        .await
        .map_err(|e| format!("cannot open the ticket search index: {e}"))?,
        public_tickets: fangkong_web::screening::registration_limiter(),
        robots: Arc::default(),
        cache: fangkong_web::cache::Cache::default(),
        registrations: fangkong_web::screening::registration_limiter(),
    });
    fangkong_web::cache::follow(store.clone(), state.cache.clone(), stopping.clone());
    spawn_housekeeping(state.clone(), settings.auth, stopping.clone());
    fangkong_web::cases_alerts::start(state.clone(), stopping.clone());
    fangkong_web::hotline::start(state.clone(), stopping.clone());
    if let Some(broker) = &settings.mqtt {
        fangkong_web::mqtt::start(state.clone(), broker.clone(), stopping.clone());
    }
    let state_handle = state.clone();
    let app = fangkong_web::app(state).into_make_service_with_connect_info::<SocketAddr>();
    let mut until = stopping;
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = until.wait_for(|s| *s).await;
            })
            .await
    });
    Ok(Running {
        addr,
        state: state_handle,
        store,
        demo_accounts,
        setup_code,
        stop,
        task,
        _lock: lock,
    })
}

async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

/// Hourly: forget idempotency keys past their retention, ended sessions, failed
/// sign-ins too old to count, and door records past their retention (counts stay).
fn spawn_housekeeping(state: AppState, auth: AuthSettings, mut stopping: watch::Receiver<bool>) {
    let (store, clock) = (state.store.clone(), state.clock.clone());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    match idempotency::purge(&store, clock.now()).await {
                        Ok(n) if n > 0 => tracing::info!(removed = n, "old idempotency keys removed"),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "cannot remove old idempotency keys"),
                    }
                    let now = clock.now();
                    let idle = time::Duration::try_from(auth.idle).unwrap_or(time::Duration::HOUR);
                    let max = time::Duration::try_from(auth.absolute).unwrap_or(time::Duration::DAY);
                    if let Err(e) = accounts::purge_sessions(&store, now - idle, now - max).await {
                        tracing::warn!(error = %e, "cannot remove ended sessions");
                    }
                    if let Err(e) = accounts::purge_failures(&store, now - time::Duration::DAY).await {
                        tracing::warn!(error = %e, "cannot remove old failed sign-ins");
                    }
                    match fangkong_web::screening::purge(&state).await {
                        Ok(n) if n > 0 => tracing::info!(removed = n, "door records past retention purged"),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(code = e.code, "cannot purge door records"),
                    }
                }
                () = stopped(&mut stopping) => return,
            }
        }
    });
}

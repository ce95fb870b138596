//! `fangkong`: the whole platform in one binary.

use clap::{Parser, Subcommand};
use fangkong_cli::config::{Database, Options, Settings};
use fangkong_cli::{commands, server};
use fangkong_store::system::{SystemClock, SystemIds};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// mimalloc: a quarter of the CPU of a door reading went to the system allocator under
/// load (bench/run.sh, perf); mimalloc's per-thread heaps cut that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "fangkong",
    version,
    about = "防控 Fangkong: epidemic prevention for public service halls"
)]
struct Cli {
    #[command(flatten)]
    options: Options,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the platform (pages, API, live updates).
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long, env = "FANGKONG_ADDR", value_name = "HOST:PORT")]
        addr: Option<String>,
        /// On an empty store, first load the demo district.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Write a consistent copy of the embedded store to FILE (safe while serving).
    Backup {
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Replace the embedded store with the backup FILE (stop the server first).
    Restore {
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Check the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        /// admin, leader, support, service, web, hotline, procurement, volunteer, window,
        /// unit_admin or upper.
        #[arg(long)]
        role: String,
        /// Site code the account's grants cover, with its subtree [default: the root site].
        #[arg(long)]
        site: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walk the hash chain; exit 1 if any entry was edited, deleted or cut off.
    Verify,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let addr = match &cli.command {
        Command::Serve { addr, .. } => addr.as_deref(),
        _ => None,
    };
    let settings = match Settings::resolve(&cli.options, addr) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    init_logs(settings.log_json);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Serve { demo, .. } => serve(&settings, demo).await,
            Command::Migrate => commands::migrate(&settings, &SystemClock).await,
            Command::Backup { to } => commands::backup(&settings, &to),
            Command::Restore { from } => commands::restore(&settings, &from),
            Command::User {
                command:
                    UserCommand::Add {
                        username,
                        role,
                        site,
                    },
            } => {
                let mut password = String::new();
                if let Err(e) = std::io::stdin().read_line(&mut password) {
                    return Err(format!("cannot read the password from standard input: {e}"));
                }
                commands::user_add(
                    &settings,
                    &SystemClock,
                    &SystemIds,
                    &username,
                    &role,
                    site.as_deref(),
                    &password,
                )
                .await
            }
            Command::Audit {
                command: AuditCommand::Verify,
            } => commands::audit_verify(&settings).await,
        }
    });
    match outcome {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

async fn serve(settings: &Settings, demo: bool) -> Result<String, String> {
    let running = server::start(settings, demo, Arc::new(SystemClock), Arc::new(SystemIds)).await?;
    let store = match &settings.database {
        Database::Sqlite { data_dir } => format!("SQLite in {}", data_dir.display()),
        Database::Postgres { .. } => "PostgreSQL".to_owned(),
    };
    println!("fangkong listening on http://{} ({store})", running.addr);
    if let Some(code) = &running.setup_code {
        println!(
            "no account yet: open http://{}/setup and enter the setup code {code}",
            running.addr
        );
    }
    if !running.demo_accounts.is_empty() {
        println!("demo accounts (shown once; each covers the whole district from JD):");
        for a in &running.demo_accounts {
            println!(
                "  {:<12} {:<12} {}",
                a.username,
                a.role.as_str(),
                a.password
            );
        }
    }
    wait_for_signal().await;
    tracing::info!("shutting down: finishing requests in flight and queued writes");
    running
        .shutdown()
        .await
        .map_err(|e| format!("server error: {e}"))?;
    Ok("fangkong stopped".to_owned())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FANGKONG_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

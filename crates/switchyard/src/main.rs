//! The `switchyard` binary: command line, logging, and the server. All logic lives in
//! `switchyard-gateway`.

mod keys;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use switchyard_gateway::http::reload::Reloader;
use switchyard_gateway::{GatewayConfig, Server};

/// mimalloc: the request path allocates many small, short-lived buffers; measured in
/// docs/benchmarks.md against the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "switchyard",
    version,
    about = "A fast AI gateway that speaks the OpenAI API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log format.
    #[arg(
        long,
        global = true,
        env = "SWITCHYARD_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: LogFormat,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway. Once bound it prints one line on stdout, `listening on http://ADDR`
    /// (the actual address, so `--listen 127.0.0.1:0` picks a free port); logs go to stderr.
    Serve {
        /// YAML config file (optional: without one the gateway routes by request headers only).
        #[arg(long, short, env = "SWITCHYARD_CONFIG")]
        config: Option<PathBuf>,
        /// Address to listen on [default: server.listen from the config, else 127.0.0.1:8787].
        #[arg(long, short, env = "SWITCHYARD_LISTEN")]
        listen: Option<SocketAddr>,
    },
    /// Validate a config file and print every problem with its field path.
    Check {
        #[arg(long, short, env = "SWITCHYARD_CONFIG")]
        config: PathBuf,
    },
    /// Create, list and revoke gateway keys: through a running gateway's admin API (--url,
    /// --admin-key) or in the database its config names (--config).
    Keys(keys::KeysCommand),
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Log lines are written by a background thread: a request never waits on stderr. The guard
    // flushes what is queued when main returns.
    let _log_guard = init_logging(cli.log_format);
    match cli.command {
        Command::Check { config } => check(&config),
        Command::Serve { config, listen } => serve(config, listen),
        Command::Keys(cmd) => keys::run(cmd, |path| load(Some(path))),
    }
}

fn init_logging(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWITCHYARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(true)
        .finish(std::io::stderr());
    // Colours only on a terminal: a log file or collector gets plain `key=value` text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(writer);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
    guard
}

fn load(path: Option<&PathBuf>) -> Result<GatewayConfig, ExitCode> {
    let Some(path) = path else {
        // No file: the defaults, and what the environment sets (SWITCHYARD_ADMIN_KEY, …).
        return GatewayConfig::from_yaml("", &|k| std::env::var(k).ok()).map_err(|errs| {
            eprintln!("the environment's settings: {} problem(s):", errs.len());
            for e in &errs.0 {
                eprintln!("  {e}");
            }
            ExitCode::from(2)
        });
    };
    GatewayConfig::from_file(path).map_err(|errs| {
        eprintln!("{}: {} problem(s):", path.display(), errs.len());
        for e in &errs.0 {
            eprintln!("  {e}");
        }
        ExitCode::from(2)
    })
}

fn check(path: &PathBuf) -> ExitCode {
    match load(Some(path)) {
        Ok(config) => {
            println!(
                "{}: OK ({} route(s), {} configured provider(s), default route: {})",
                path.display(),
                config.routes.len(),
                config.providers.configured().len(),
                if config.default_route.is_some() {
                    "yes"
                } else {
                    "no"
                }
            );
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

fn serve(path: Option<PathBuf>, listen: Option<SocketAddr>) -> ExitCode {
    let config = match load(path.as_ref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = config.server.worker_threads {
        builder.worker_threads(n);
    }
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let server = match Server::bind(config, listen).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("cannot listen: {e}");
                return ExitCode::FAILURE;
            }
        };
        let addr = match server.local_addr() {
            Ok(addr) => addr,
            Err(e) => {
                eprintln!("cannot read the bound address: {e}");
                return ExitCode::FAILURE;
            }
        };
        tracing::info!(%addr, version = env!("CARGO_PKG_VERSION"), "switchyard listening");
        announce(addr);
        if let Some(path) = path {
            tokio::spawn(watch(path, server.reloader()));
        }
        match server.run(shutdown_signal()).await {
            Ok(()) => {
                tracing::info!("stopped");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("server error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// The one line serve writes on stdout, for whoever started the process (tests, scripts): the
/// address it is bound to. A closed stdout is not an error.
fn announce(addr: SocketAddr) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on http://{addr}").and_then(|()| out.flush());
}

/// How often the config file is checked for a change.
const WATCH_EVERY: Duration = Duration::from_secs(2);

/// Reloads the config file on SIGHUP and when it changes (its modification time or size,
/// checked every [`WATCH_EVERY`]; a Kubernetes ConfigMap update counts). The file is validated
/// as `switchyard check` does; a bad one is logged, problem by problem, and the running config
/// is kept.
async fn watch(path: PathBuf, reloader: Reloader) {
    #[cfg(unix)]
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut last = stamp(&path).await;
    let mut every = tokio::time::interval(WATCH_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        #[cfg(unix)]
        let asked = async {
            match hup.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let asked = std::future::pending::<()>();
        let forced = tokio::select! {
            () = asked => true,
            _ = every.tick() => false,
        };
        let now = stamp(&path).await;
        if !forced && now == last {
            continue;
        }
        last = now;
        let file = path.clone();
        let read = tokio::task::spawn_blocking(move || GatewayConfig::from_file(&file)).await;
        match read {
            Ok(Ok(config)) => {
                let restart = reloader.reload(config);
                tracing::info!(path = %path.display(), "config reloaded");
                if !restart.is_empty() {
                    tracing::warn!(sections = ?restart, "changed sections take effect after a restart; their running values are kept");
                }
            }
            Ok(Err(errs)) => {
                for e in &errs.0 {
                    tracing::error!(path = %path.display(), problem = %e, "config not reloaded");
                }
                tracing::warn!(path = %path.display(), problems = errs.len(), "the config file has problems; the running config is kept");
            }
            Err(e) => tracing::error!(error = %e, "reading the config file failed"),
        }
    }
}

/// What tells a changed file: its modification time and size.
async fn stamp(path: &PathBuf) -> Option<(std::time::SystemTime, u64)> {
    let m = tokio::fs::metadata(path).await.ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}

//! `switchyard-mock`: a standalone mock upstream for benchmarks and SDK tests.
//!
//! Usage: `switchyard-mock [--port N] [--latency-ms N] [--name NAME]`. Prints
//! `listening on http://127.0.0.1:PORT` on stdout once it accepts connections.

use std::net::SocketAddr;
use std::time::Duration;

use switchyard_mock::{MockOptions, MockServer};

fn arg(args: &[String], flag: &str) -> Option<String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = arg(&args, "--port")
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let latency = arg(&args, "--latency-ms")
        .and_then(|p| p.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or_default();
    let name = arg(&args, "--name").unwrap_or_else(|| "mock".into());
    let threads: usize = arg(&args, "--threads")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        let opts = MockOptions {
            name,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            record: false,
            latency,
        };
        match MockServer::start_with(opts).await {
            Ok(mock) => {
                println!("listening on http://{}", mock.addr());
                std::future::pending::<()>().await;
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("bind: {e}");
                std::process::ExitCode::FAILURE
            }
        }
    })
}

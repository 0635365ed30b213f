//! The command line: `check`, `--version`, `serve`'s address line and start-up errors.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn switchyard() -> Command {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
}

fn write(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("switchyard-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn version_prints_the_crate_version() {
    let out = switchyard().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("switchyard {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn check_accepts_a_valid_config() {
    let path = write("ok.yaml", "providers:\n  openai: {api_key: sk-1}\nroutes:\n  fast: {provider: openai}\ndefault_route: fast\n");
    let out = switchyard()
        .args(["check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("OK (1 route(s), 1 configured provider(s), default route: yes)"),
        "{stdout}"
    );
}

#[test]
fn check_lists_every_problem_with_its_path_and_fails() {
    let path = write(
        "bad.yaml",
        "server:\n  listen: nowhere\nroutes:\n  a:\n    strategy: {mode: fallbak}\n    targets: [{provider: openai, api_key: k}]\n  b: {provider: nope}\n",
    );
    let out = switchyard()
        .args(["check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("3 problem(s)"), "{stderr}");
    assert!(stderr.contains("server.listen"), "{stderr}");
    assert!(stderr.contains("routes.a.strategy.mode"), "{stderr}");
    assert!(
        stderr.contains("routes.b.provider: unknown provider `nope`"),
        "{stderr}"
    );
}

#[test]
fn check_reports_a_missing_file() {
    let out = switchyard()
        .args(["check", "--config", "/nonexistent/switchyard.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read config file"));
}

#[test]
fn serve_refuses_an_invalid_config_before_listening() {
    let path = write("serve-bad.yaml", "routes:\n  a: {provider: nope}\n");
    let out = switchyard()
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("routes.a.provider"));
}

/// Kills the child when the test ends, passed or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_on_port_zero_prints_the_address_it_answers_on() {
    let mut child = switchyard()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("SWITCHYARD_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let addr = address_of(&mut child);
    let _running = Running(child);
    assert!(addr.ip().is_loopback(), "{addr}");
    assert_ne!(addr.port(), 0, "the bound port, not the requested one");

    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    conn.write_all(b"GET /health HTTP/1.1\r\nHost: switchyard\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with(r#"{"status":"ok"}"#), "{response}");
}

/// The first stdout line of a `serve` child: the address it answers on.
fn address_of(child: &mut Child) -> std::net::SocketAddr {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("no address line on stdout within 30 s"));
    line.trim_end()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first stdout line: {line:?}"))
        .parse()
        .unwrap()
}

#[test]
fn every_request_gets_one_access_log_line_when_it_ends() {
    let mut child = switchyard()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("SWITCHYARD_CONFIG")
        .env("SWITCHYARD_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = address_of(&mut child);
    let stderr = child.stderr.take().unwrap();
    let _running = Running(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("switchyard::access") && tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    conn.write_all(
        b"GET /nowhere HTTP/1.1\r\nHost: switchyard\r\nx-portkey-trace-id: trace-cli-1\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 404"), "{response}");
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("no access line within 30 s"));
    assert!(
        !line.contains('\u{1b}'),
        "no colour codes when not on a terminal: {line:?}"
    );
    assert!(line.contains("trace_id=trace-cli-1"), "{line}");
    assert!(line.contains("status=404"), "{line}");
    assert!(line.contains("client_gone=false"), "{line}");
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "exactly one line per request"
    );
}

#[test]
fn an_admin_key_in_the_environment_alone_turns_gateway_keys_on() {
    let data = std::env::temp_dir().join(format!("switchyard-cli-env-{}", std::process::id()));
    let mut child = switchyard()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("SWITCHYARD_CONFIG")
        .env("SWITCHYARD_ADMIN_KEY", "env-admin-key-0123456789")
        .env("SWITCHYARD_DATA_DIR", &data)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = address_of(&mut child);
    let _running = Running(child);
    let get = |auth: &str| {
        let mut conn = TcpStream::connect(addr).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(
            conn,
            "GET /v1/models HTTP/1.1\r\nHost: switchyard\r\n{auth}Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        conn.read_to_string(&mut response).unwrap();
        response
    };
    let anonymous = get("");
    assert!(anonymous.starts_with("HTTP/1.1 401"), "{anonymous}");
    assert!(anonymous.contains("missing_gateway_key"), "{anonymous}");
    let admin = get("Authorization: Bearer env-admin-key-0123456789\r\n");
    assert!(admin.starts_with("HTTP/1.1 200"), "{admin}");
    let _ = std::fs::remove_dir_all(&data);
}

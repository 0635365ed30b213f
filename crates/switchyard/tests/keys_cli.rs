//! `switchyard keys create|list|revoke`: in the database a config names, and through a running
//! gateway's admin API (`--url`).
#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

const ADMIN: &str = "admin-key-0123456789";
const ENCRYPTION_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// The binary, with no `SWITCHYARD_*` variable of the environment that runs the tests.
fn switchyard() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_switchyard"));
    for var in [
        "SWITCHYARD_URL",
        "SWITCHYARD_ADMIN_KEY",
        "SWITCHYARD_CONFIG",
        "SWITCHYARD_DATABASE_URL",
        "SWITCHYARD_ENCRYPTION_KEY",
        "SWITCHYARD_DATA_DIR",
        "SWITCHYARD_LISTEN",
    ] {
        c.env_remove(var);
    }
    c
}

/// A fresh directory with a config whose database is a SQLite file in it.
fn setup(name: &str) -> (PathBuf, PathBuf) {
    let dir =
        std::env::temp_dir().join(format!("switchyard-keys-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("switchyard.yaml");
    let yaml = format!(
        "auth:\n  admin_key: {ADMIN}\ndatabase:\n  url: sqlite://{}/t.db\n  encryption_key: \"{ENCRYPTION_KEY}\"\n",
        dir.display()
    );
    std::fs::write(&config, yaml).unwrap();
    (dir, config)
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn failed(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).unwrap()
}

/// Whether any file of the database (the main file, its write-ahead log) holds `text`.
fn database_contains(dir: &Path, text: &str) -> bool {
    std::fs::read_dir(dir).unwrap().any(|e| {
        let path = e.unwrap().path();
        path.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("t.db")
            && std::fs::read(&path)
                .unwrap()
                .windows(text.len())
                .any(|w| w == text.as_bytes())
    })
}

#[test]
fn keys_are_created_listed_and_revoked_in_the_database() {
    let (dir, config) = setup("db");
    let keys = |args: &[&str]| {
        let mut c = switchyard();
        c.arg("keys").args(args).arg("--config").arg(&config);
        run(&mut c)
    };
    let created = json(&keys(&[
        "create",
        "--name",
        "ci",
        "--models",
        "gpt-4o*,claude-*",
        "--rpm",
        "60",
        "--tpm",
        "100000",
        "--budget-usd",
        "25",
        "--budget-reset",
        "monthly",
        "--json",
    ]));
    let id = created["id"].as_str().unwrap().to_owned();
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(
        id.starts_with("key_") && key.starts_with("sy-"),
        "{created}"
    );
    let settings = &created["settings"];
    assert_eq!(
        settings["models"],
        serde_json::json!(["gpt-4o*", "claude-*"])
    );
    assert_eq!(
        settings["rate_limits"].as_array().unwrap().len(),
        2,
        "{settings}"
    );
    assert_eq!(settings["usage_limits"]["periodic_reset"], "monthly");

    // Plain text: the id and the key, one line each.
    let plain = ok(&keys(&["create", "--name", "plain"]));
    let lines: Vec<&str> = plain.lines().collect();
    assert!(lines[0].starts_with("id:  key_"), "{plain}");
    assert!(lines[1].starts_with("key: sy-"), "{plain}");

    let listed = json(&keys(&["list", "--json"]));
    let data = listed["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert!(data.iter().all(|k| k.get("key").is_none()));
    assert!(!listed.to_string().contains(&key));
    assert!(
        !database_contains(&dir, &key),
        "the key's text is not stored"
    );
    let table = ok(&keys(&["list"]));
    assert!(table.starts_with("ID"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(&id) && l.contains("active")),
        "{table}"
    );

    let revoked = ok(&keys(&["revoke", &id]));
    assert_eq!(revoked.trim(), format!("revoked {id}"));
    let table = ok(&keys(&["list"]));
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(&id) && l.contains("revoked")),
        "{table}"
    );

    // Errors: a clear message and a failing exit code.
    assert!(failed(&keys(&["revoke", "key_nope"])).contains("no gateway key `key_nope`"));
    assert!(
        failed(&keys(&["create", "--name", "x", "--rpm", "0"])).contains("rate_limits[0].value")
    );
    assert!(
        failed(&keys(&["create", "--name", "x", "--team", "team_nope"]))
            .contains("no team `team_nope`")
    );
    assert!(
        failed(&keys(&["create", "--name", "x", "--expires-at", "1"])).contains("--expires-at")
    );
    let out = keys(&["create", "--name", "x", "--budget-reset", "monthly"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "--budget-reset needs --budget-usd"
    );
    assert_eq!(
        json(&keys(&["list", "--json"]))["data"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

/// Kills the child when the test ends, passed or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `serve` with `config` on a free port: the child and its address.
fn serve(config: &Path) -> (Running, SocketAddr) {
    let mut child = switchyard()
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("no address line on stdout within 30 s"));
    let addr = line
        .trim_end()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first stdout line: {line:?}"))
        .parse()
        .unwrap();
    (running, addr)
}

/// A chat completion with a gateway key and no route: the raw response.
fn chat(addr: SocketAddr, key: &str) -> String {
    let body = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        conn,
        "POST /v1/chat/completions HTTP/1.1\r\nHost: switchyard\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn keys_are_managed_through_a_running_gateways_admin_api() {
    let (dir, config) = setup("url");
    let (_server, addr) = serve(&config);
    let url = format!("http://{addr}");
    let keys = |args: &[&str]| {
        let mut c = switchyard();
        c.arg("keys")
            .args(args)
            .args(["--url", &url, "--admin-key", ADMIN]);
        run(&mut c)
    };
    let created = json(&keys(&[
        "create", "--name", "remote", "--rpm", "100", "--json",
    ]));
    let id = created["id"].as_str().unwrap().to_owned();
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("sy-"), "{created}");
    assert_eq!(created["settings"]["rate_limits"][0]["value"], 100);
    assert!(!database_contains(&dir, &key));
    // The gateway takes the key (the request then has no route: a 400, not a 401).
    let before = chat(addr, &key);
    assert!(before.starts_with("HTTP/1.1 400"), "{before}");

    // The URL and the admin key from the environment.
    let out = run(switchyard()
        .args(["keys", "list"])
        .env("SWITCHYARD_URL", &url)
        .env("SWITCHYARD_ADMIN_KEY", ADMIN));
    let table = ok(&out);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(&id) && l.contains("remote") && l.contains("active")),
        "{table}"
    );
    let listed = json(&keys(&["list", "--json"]));
    assert_eq!(listed["data"][0]["id"], id.as_str());

    assert_eq!(ok(&keys(&["revoke", &id])).trim(), format!("revoked {id}"));
    let after = chat(addr, &key);
    assert!(
        after.starts_with("HTTP/1.1 401"),
        "revoked at once: {after}"
    );
    assert!(after.contains("revoked_gateway_key"), "{after}");

    // Errors: the gateway's message, a failing exit code.
    let err = failed(&keys(&["revoke", "key_nope"]));
    assert!(err.contains("404") && err.contains("key_nope"), "{err}");
    let err = failed(&run(switchyard().args([
        "keys",
        "list",
        "--url",
        &url,
        "--admin-key",
        "wrong-key-0123456789",
    ])));
    assert!(err.contains("401"), "{err}");
    let err = failed(&run(switchyard().args(["keys", "list", "--url", &url])));
    assert!(err.contains("--admin-key"), "{err}");
    let err = failed(&run(switchyard().args([
        "keys",
        "list",
        "--url",
        "http://127.0.0.1:1",
        "--admin-key",
        ADMIN,
    ])));
    assert!(err.contains("cannot reach"), "{err}");
}

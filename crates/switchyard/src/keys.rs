//! `switchyard keys create|list|revoke`: gateway keys from the command line.
//!
//! Two ways in: `--url http://host:port --admin-key K` (or `SWITCHYARD_URL`,
//! `SWITCHYARD_ADMIN_KEY`) goes through a running gateway's admin API; otherwise the database
//! the config names (`--config FILE`, or the defaults and `SWITCHYARD_*` variables) is opened
//! directly. A key made in the database is seen by running gateways at once; a revocation within
//! their `auth.key_cache_ttl` (the admin API's is seen at once by the node that made it).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Map, Value};
use switchyard_gateway::governance::open_store;
use switchyard_gateway::governance::policy::Policy;
use switchyard_gateway::GatewayConfig;
use switchyard_store::{generate_key, KeyRecord, NewKey, Store, StoreError};

#[derive(Args)]
pub struct KeysCommand {
    #[command(subcommand)]
    action: Action,
    /// A running gateway's URL: use its admin API instead of opening the database.
    #[arg(long, global = true, env = "SWITCHYARD_URL")]
    url: Option<String>,
    /// The gateway's admin key (with --url).
    #[arg(
        long,
        global = true,
        env = "SWITCHYARD_ADMIN_KEY",
        hide_env_values = true
    )]
    admin_key: Option<String>,
    /// The gateway's config file, whose `database:` section says where keys are (without
    /// --url; without it too: the defaults and SWITCHYARD_* variables).
    #[arg(long, short, global = true, env = "SWITCHYARD_CONFIG")]
    config: Option<PathBuf>,
    /// Print JSON (the admin API's objects) instead of text.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand)]
enum Action {
    /// Create a key. Its text is printed once: store it then.
    Create(CreateArgs),
    /// List keys, revoked ones included.
    List {
        /// Only this team's keys.
        #[arg(long)]
        team: Option<String>,
    },
    /// Revoke a key (by its id, `key_…`).
    Revoke { id: String },
}

#[derive(Args)]
struct CreateArgs {
    /// A name for the key (who or what uses it).
    #[arg(long)]
    name: String,
    /// The id of the team it belongs to (`team_…`).
    #[arg(long)]
    team: Option<String>,
    /// Model globs it may use, comma-separated (`gpt-4o*,claude-*`); default: any.
    #[arg(long, value_delimiter = ',')]
    models: Vec<String>,
    /// Requests per minute.
    #[arg(long)]
    rpm: Option<u64>,
    /// Tokens per minute.
    #[arg(long)]
    tpm: Option<u64>,
    /// A budget in US dollars.
    #[arg(long)]
    budget_usd: Option<f64>,
    /// When the budget starts again (without it: never).
    #[arg(long, requires = "budget_usd")]
    budget_reset: Option<Reset>,
    /// When the key stops working, in unix seconds.
    #[arg(long)]
    expires_at: Option<i64>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Reset {
    Daily,
    Weekly,
    Monthly,
}

impl CreateArgs {
    /// The admin API's body for this key.
    fn body(&self) -> Map<String, Value> {
        let mut b = Map::new();
        b.insert("name".into(), json!(self.name));
        if let Some(t) = &self.team {
            b.insert("team_id".into(), json!(t));
        }
        if let Some(t) = self.expires_at {
            b.insert("expires_at".into(), json!(t));
        }
        if !self.models.is_empty() {
            b.insert("models".into(), json!(self.models));
        }
        let mut limits = Vec::new();
        for (kind, value) in [("requests", self.rpm), ("tokens", self.tpm)] {
            if let Some(v) = value {
                limits.push(json!({"type": kind, "unit": "rpm", "value": v}));
            }
        }
        if !limits.is_empty() {
            b.insert("rate_limits".into(), Value::Array(limits));
        }
        if let Some(usd) = self.budget_usd {
            let mut budget = json!({"type": "cost", "credit_limit": usd});
            if let (Some(r), Value::Object(m)) = (self.budget_reset, &mut budget) {
                let reset = match r {
                    Reset::Daily => "daily",
                    Reset::Weekly => "weekly",
                    Reset::Monthly => "monthly",
                };
                m.insert("periodic_reset".into(), json!(reset));
            }
            b.insert("usage_limits".into(), budget);
        }
        b
    }
}

/// Runs a `keys` command. `load` reads a config file (printing its problems).
pub fn run(
    cmd: KeysCommand,
    load: impl Fn(&PathBuf) -> Result<GatewayConfig, ExitCode>,
) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
    let json_out = cmd.json;
    let result = match &cmd.url {
        Some(url) => match &cmd.admin_key {
            Some(key) => runtime.block_on(over_http(url, key, &cmd.action)),
            None => Err("--url needs the admin key: --admin-key or SWITCHYARD_ADMIN_KEY".into()),
        },
        None => {
            let config = match &cmd.config {
                Some(path) => match load(path) {
                    Ok(c) => c,
                    Err(code) => return code,
                },
                None => match GatewayConfig::from_yaml("", &|k| std::env::var(k).ok()) {
                    Ok(c) => c,
                    Err(errs) => return fail(errs.to_string()),
                },
            };
            runtime.block_on(in_database(&config, &cmd.action))
        }
    };
    match result {
        Ok(out) => {
            print(&cmd.action, &out, json_out);
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

/// The command through a gateway's admin API: the API's answer.
async fn over_http(url: &str, admin_key: &str, action: &Action) -> Result<Value, String> {
    let base = url.trim_end_matches('/');
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
    let request = match action {
        Action::Create(args) => client
            .post(format!("{base}/admin/keys"))
            .json(&Value::Object(args.body())),
        Action::List { team } => {
            let rb = client.get(format!("{base}/admin/keys"));
            match team {
                Some(t) => rb.query(&[("team_id", t)]),
                None => rb,
            }
        }
        Action::Revoke { id } => client.delete(format!("{base}/admin/keys/{}", path_segment(id))),
    };
    let resp = request
        .bearer_auth(admin_key)
        .send()
        .await
        .map_err(|e| format!("cannot reach {base}: {e}"))?;
    let status = resp.status();
    let text = resp
        .text()
        .await
        .map_err(|e| format!("reading the answer of {base}: {e}"))?;
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if !status.is_success() {
        let message = body
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or(text.trim());
        return Err(format!("the gateway answered {status}: {message}"));
    }
    Ok(body)
}

/// An id as one URL path segment (ids are `[a-z0-9_]`; anything else is escaped).
fn path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The command in the database: the same objects the admin API answers with.
async fn in_database(config: &GatewayConfig, action: &Action) -> Result<Value, String> {
    let store = open_store(config).await?;
    let result = database_action(&store, action).await;
    store.close().await;
    result
}

async fn database_action(store: &Store, action: &Action) -> Result<Value, String> {
    match action {
        Action::Create(args) => {
            let mut settings = args.body();
            for k in ["name", "team_id", "expires_at"] {
                settings.remove(k);
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            if args.expires_at.is_some_and(|t| t <= now) {
                return Err("--expires-at: must be in the future (unix seconds)".into());
            }
            let policy = Policy::from_value(&Value::Object(settings))?;
            let (text, hash) = generate_key().map_err(|e| e.to_string())?;
            let new = NewKey {
                name: args.name.clone(),
                hash,
                team_id: args.team.clone(),
                expires_at: args.expires_at,
                settings: policy.to_value(),
            };
            let record = store
                .insert_key(new)
                .await
                .map_err(|e| match (e, &args.team) {
                    (StoreError::NotFound, Some(t)) => format!("no team `{t}`"),
                    (e, _) => e.to_string(),
                })?;
            let mut v = render(&record);
            if let Value::Object(m) = &mut v {
                m.insert("key".into(), json!(text));
            }
            Ok(v)
        }
        Action::List { team } => {
            let all = store
                .keys(team.as_deref())
                .await
                .map_err(|e| e.to_string())?;
            let data: Vec<Value> = all.iter().map(render).collect();
            Ok(json!({"object": "list", "data": data}))
        }
        Action::Revoke { id } => {
            if !store.revoke_key(id).await.map_err(|e| e.to_string())? {
                return Err(format!("no gateway key `{id}`"));
            }
            eprintln!("note: a running gateway stops accepting it within its auth.key_cache_ttl (10s by default)");
            Ok(json!({"id": id, "revoked": true}))
        }
    }
}

/// A key's record as the admin API shows it.
fn render(r: &KeyRecord) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or_else(|_| json!({}));
    if let Value::Object(m) = &mut v {
        m.insert("object".into(), json!("gateway_key"));
        m.insert("revoked".into(), json!(r.revoked_at.is_some()));
    }
    v
}

fn print(action: &Action, out: &Value, json_out: bool) {
    if json_out {
        println!("{out}");
        return;
    }
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    match action {
        Action::Create(_) => {
            println!("id:  {}", s(out, "id"));
            println!("key: {}", s(out, "key"));
            eprintln!("The key is shown only this once: store it now.");
        }
        Action::Revoke { .. } => println!("revoked {}", s(out, "id")),
        Action::List { .. } => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            let mut rows = vec![["ID", "NAME", "TEAM", "STATUS", "EXPIRES_AT"].map(str::to_owned)];
            for k in out["data"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let expires = k["expires_at"].as_i64();
                let status = if k["revoked_at"].is_i64() {
                    "revoked"
                } else if expires.is_some_and(|t| t <= now) {
                    "expired"
                } else {
                    "active"
                };
                let expires = expires.map_or_else(|| "-".to_owned(), |t| t.to_string());
                let team = Some(s(k, "team_id")).filter(|t| !t.is_empty());
                rows.push([
                    s(k, "id"),
                    s(k, "name"),
                    team.unwrap_or_else(|| "-".into()),
                    status.to_owned(),
                    expires,
                ]);
            }
            let widths: Vec<usize> = (0..5)
                .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
                .collect();
            for r in &rows {
                let cells: Vec<String> = r
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| format!("{c:<w$}"))
                    .collect();
                println!("{}", cells.join("  ").trim_end());
            }
        }
    }
}

//! The request log through the real server: rows written in batches to a real SQLite file,
//! read back through `GET /admin/logs` and `GET /admin/analytics`, with a mock upstream.
// Test helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use switchyard_gateway::{GatewayConfig, Server};
use switchyard_store::{generate_key, Cipher, LogFilter, NewKey, NewTeam, Store};

const ADMIN: &str = "admin-key-0123456789";
const ENC: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const OPERATOR_KEY: &str = "sk-operator-7f3a9c1e5b2d";

struct Setup {
    gw: Gateway,
    store: Store,
    mock: MockServer,
    file: PathBuf,
}

/// A gateway with keys on (unless `keys` is false), the operator's OpenAI key on `mock`, routes
/// `m` (one target) and `fb` (a fallback of two), and `extra` YAML.
async fn setup_with(extra: &str, keys: bool) -> Setup {
    let mock = MockServer::start("up").await;
    let dir = temp_dir("rlog");
    let file = dir.join("t.db");
    let db = format!("sqlite://{}", file.display());
    let auth = if keys {
        format!("auth:\n  admin_key: {ADMIN}\n")
    } else {
        String::new()
    };
    let yaml = format!(
        "{auth}database:\n  url: {db}\n  encryption_key: {ENC}\nproviders:\n  openai:\n    api_key: {OPERATOR_KEY}\n    base_url: {url}\nroutes:\n  m:\n    provider: openai\n    override_params: {{model: gpt-4o-mini}}\n  fb:\n    strategy: {{mode: fallback}}\n    targets:\n      - {{provider: openai, override_params: {{model: gpt-4o}}}}\n      - {{provider: openai, override_params: {{model: gpt-4o-mini}}}}\n{extra}",
        url = mock.url()
    );
    let gw = Gateway::start(&yaml).await;
    let store = Store::open(&db, Cipher::from_text(ENC).unwrap())
        .await
        .unwrap();
    Setup {
        gw,
        store,
        mock,
        file,
    }
}

async fn setup(extra: &str) -> Setup {
    setup_with(extra, true).await
}

/// A new gateway key (in `team`, if any): its text and id.
async fn key(store: &Store, team: Option<&str>) -> (String, String) {
    let (text, hash) = generate_key().unwrap();
    let r = store
        .insert_key(NewKey {
            name: "k".into(),
            hash,
            team_id: team.map(str::to_owned),
            expires_at: None,
            settings: json!({}),
        })
        .await
        .unwrap();
    (text, r.id)
}

async fn call(s: &Setup, key: &str, body: Value) -> reqwest::Response {
    s.gw.chat(body, &[("authorization", &format!("Bearer {key}"))])
        .await
}

async fn get(s: &Setup, path_and_query: &str) -> (u16, Value) {
    let resp =
        s.gw.http
            .get(s.gw.url(path_and_query))
            .header("authorization", format!("Bearer {ADMIN}"))
            .send()
            .await
            .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

/// `GET /admin/logs?<q>`, polled until it lists at least `n` rows (they are written in batches).
async fn logs_until(s: &Setup, q: &str, n: usize) -> Value {
    for _ in 0..100 {
        let (status, v) = get(s, &format!("/admin/logs?{q}")).await;
        assert_eq!(status, 200, "{v}");
        if v["data"].as_array().unwrap().len() >= n {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} rows for `{q}`");
}

/// The SQLite file's bytes and its write-ahead log's.
fn raw_bytes(file: &std::path::Path) -> Vec<u8> {
    let mut bytes = std::fs::read(file).unwrap();
    bytes.extend(std::fs::read(format!("{}-wal", file.display())).unwrap_or_default());
    bytes
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn a_request_appears_in_the_log_with_its_fields() {
    let s = setup("").await;
    let team = s
        .store
        .insert_team(NewTeam {
            name: "t".into(),
            settings: json!({}),
        })
        .await
        .unwrap();
    let (k, id) = key(&s.store, Some(&team.id)).await;
    let resp = call(&s, &k, hi("m")).await;
    assert_eq!(resp.status(), 200);
    let trace = header(&resp, "x-portkey-trace-id");
    let _ = resp.bytes().await.unwrap();

    let v = logs_until(&s, &format!("trace_id={trace}"), 1).await;
    let row = &v["data"][0];
    assert_eq!(row["trace_id"], trace.as_str());
    assert_eq!(row["key_id"], id.as_str());
    assert_eq!(row["team_id"], team.id.as_str());
    assert_eq!(row["op"], "chat_completions");
    assert_eq!(row["provider"], "openai");
    assert_eq!(row["model"], "m");
    assert_eq!(row["model_sent"], "gpt-4o-mini");
    assert_eq!(row["status"], 200);
    assert_eq!(row["error"], Value::Null);
    assert_eq!(row["input_tokens"], 5);
    assert_eq!(row["output_tokens"], 3);
    assert_eq!(row["cached_tokens"], 0);
    assert!(row["cost_usd"].as_f64().unwrap() > 0.0, "{row}");
    assert_eq!(row["cache_status"], "DISABLED");
    assert_eq!(row["stream"], false);
    assert_eq!(
        (row["retries"].clone(), row["attempts"].clone()),
        (json!(0), json!(1))
    );
    assert_eq!(row["client_gone"], false);
    assert_eq!(row["request_body"], Value::Null);
    let (latency, upstream, overhead) = (
        row["latency_ms"].as_i64().unwrap(),
        row["upstream_ms"].as_i64().unwrap(),
        row["overhead_ms"].as_i64().unwrap(),
    );
    assert!(
        latency >= upstream && (latency - upstream - overhead).abs() <= 1,
        "{row}"
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let t = row["time"].as_i64().unwrap();
    assert!(t <= now && now - t < 60_000, "{t} vs {now}");
    let targets = row["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 1, "{row}");
    assert_eq!(targets[0]["provider"], "openai");
    assert_eq!(targets[0]["status"], 200);
    assert_eq!(v["next"], Value::Null);

    // A stream too: its usage arrives at its end, and it is still one row.
    let resp = call(&s, &k, hi_stream("m")).await;
    let trace = header(&resp, "x-portkey-trace-id");
    let _ = resp.bytes().await.unwrap();
    let v = logs_until(&s, &format!("trace_id={trace}"), 1).await;
    assert_eq!(v["data"][0]["stream"], true);
    assert_eq!(v["data"][0]["output_tokens"], 3);
}

#[tokio::test]
async fn logs_filter_and_page() {
    let s = setup("").await;
    let (a, a_id) = key(&s.store, None).await;
    let (b, b_id) = key(&s.store, None).await;
    for _ in 0..3 {
        assert_eq!(call(&s, &a, hi("m")).await.status(), 200);
    }
    s.mock.push(Reply::error(500, "boom"));
    assert_eq!(call(&s, &b, hi("m")).await.status(), 500);
    assert_eq!(call(&s, &b, hi("m")).await.status(), 200);

    let all = logs_until(&s, "", 5).await;
    assert_eq!(all["data"].as_array().unwrap().len(), 5);
    let times: Vec<i64> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["time"].as_i64().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );

    let count = |q: String| {
        let s = &s;
        async move {
            let (status, v) = get(s, &format!("/admin/logs?{q}")).await;
            assert_eq!(status, 200, "{q}: {v}");
            v["data"].as_array().unwrap().len()
        }
    };
    assert_eq!(count(format!("key_id={a_id}")).await, 3);
    assert_eq!(count(format!("key_id={b_id}")).await, 2);
    assert_eq!(count("status=5xx".into()).await, 1);
    assert_eq!(count("status=500".into()).await, 1);
    assert_eq!(count("status=2xx".into()).await, 4);
    assert_eq!(count(format!("key_id={b_id}&status=2xx")).await, 1);
    assert_eq!(count("provider=openai".into()).await, 5);
    assert_eq!(count("provider=groq".into()).await, 0);
    // The model sent is the answering target's, or a failed request's last try's.
    assert_eq!(count("model=gpt-4o-mini".into()).await, 5);
    assert_eq!(count("model=m".into()).await, 5);
    assert_eq!(count("since=1h".into()).await, 5);
    assert_eq!(count("until=1h".into()).await, 0);
    let (_, failed) = get(&s, "/admin/logs?status=500").await;
    let label = failed["data"][0]["error"].as_str().unwrap().to_owned();
    assert_eq!(count(format!("error={label}")).await, 1);

    // Pages of two: every row once, in order, then no cursor.
    let mut seen = Vec::new();
    let mut q = "limit=2".to_owned();
    loop {
        let (status, v) = get(&s, &format!("/admin/logs?{q}")).await;
        assert_eq!(status, 200, "{v}");
        for r in v["data"].as_array().unwrap() {
            seen.push(r["trace_id"].as_str().unwrap().to_owned());
        }
        match v["next"].as_str() {
            Some(next) => q = format!("limit=2&before={next}"),
            None => break,
        }
    }
    let want: Vec<String> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["trace_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen, want);

    for (q, param) in [
        ("status=5x", "status"),
        ("limit=0", "limit"),
        ("limit=many", "limit"),
        ("since=yesterday", "since"),
        ("before=nope", "before"),
        ("colour=red", "colour"),
    ] {
        let (status, v) = get(&s, &format!("/admin/logs?{q}")).await;
        assert_eq!(status, 400, "{q}: {v}");
        assert_eq!(v["error"]["param"], param, "{q}: {v}");
    }
    // Admin key only.
    let resp =
        s.gw.http
            .get(s.gw.url("/admin/logs"))
            .header("authorization", format!("Bearer {a}"))
            .send()
            .await
            .unwrap();
    assert_eq!(resp.status(), 403);
    let resp =
        s.gw.http
            .get(s.gw.url("/admin/analytics"))
            .send()
            .await
            .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn a_failed_request_shows_the_targets_it_tried() {
    let s = setup("").await;
    let (k, _) = key(&s.store, None).await;
    // The first target fails; the fallback answers.
    s.mock.push(Reply::error(500, "first target down"));
    let resp = call(&s, &k, hi("fb")).await;
    assert_eq!(resp.status(), 200);
    let trace = header(&resp, "x-portkey-trace-id");
    let _ = resp.bytes().await.unwrap();
    let v = logs_until(&s, &format!("trace_id={trace}"), 1).await;
    let row = &v["data"][0];
    assert_eq!(row["status"], 200);
    assert_eq!(row["attempts"], 2);
    assert_eq!(row["model_sent"], "gpt-4o-mini");
    let targets = row["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2, "{row}");
    assert_eq!(targets[0]["status"], 500);
    assert_eq!(targets[1]["status"], 200);
    assert_ne!(targets[0]["target"], targets[1]["target"]);

    // Both fail: a failed row with its error label and both tries.
    s.mock.push(Reply::error(500, "down"));
    s.mock.push(Reply::error(502, "down too"));
    let resp = call(&s, &k, hi("fb")).await;
    assert!(resp.status().is_server_error());
    let trace = header(&resp, "x-portkey-trace-id");
    let _ = resp.bytes().await.unwrap();
    let v = logs_until(&s, &format!("trace_id={trace}"), 1).await;
    let row = &v["data"][0];
    assert!(row["status"].as_u64().unwrap() >= 500, "{row}");
    assert!(row["error"].is_string(), "{row}");
    let statuses: Vec<&Value> = row["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["status"])
        .collect();
    assert_eq!(statuses, [&json!(500), &json!(502)], "{row}");
}

#[tokio::test]
async fn analytics_sums_and_groups() {
    let s = setup("").await;
    let (a, a_id) = key(&s.store, None).await;
    let (b, b_id) = key(&s.store, None).await;
    for _ in 0..3 {
        assert_eq!(call(&s, &a, hi("m")).await.status(), 200);
    }
    s.mock.push(Reply::error(500, "boom"));
    let _ = call(&s, &b, hi("m")).await;
    logs_until(&s, "", 4).await;

    let (status, v) = get(&s, "/admin/analytics?bucket=day&group_by=key&since=1h").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["bucket"].clone(), v["group_by"].clone()),
        (json!("day"), json!("key"))
    );
    let data = v["data"].as_array().unwrap();
    let of = |id: &str| {
        data.iter()
            .find(|r| r["group"] == id)
            .unwrap_or_else(|| panic!("no group {id}: {v}"))
            .clone()
    };
    let ra = of(&a_id);
    assert_eq!(
        (ra["requests"].clone(), ra["errors"].clone()),
        (json!(3), json!(0))
    );
    assert_eq!(
        (ra["input_tokens"].clone(), ra["output_tokens"].clone()),
        (json!(15), json!(9))
    );
    assert!(ra["cost_usd"].as_f64().unwrap() > 0.0);
    assert!(ra["p95_ms"].as_i64().unwrap() >= ra["p50_ms"].as_i64().unwrap());
    let rb = of(&b_id);
    assert_eq!(
        (rb["requests"].clone(), rb["errors"].clone()),
        (json!(1), json!(1))
    );

    let (_, v) = get(
        &s,
        "/admin/analytics?bucket=minute&group_by=provider&since=1h",
    )
    .await;
    let total: i64 = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["group"], "openai");
            r["requests"].as_i64().unwrap()
        })
        .sum();
    assert_eq!(total, 4);
    let (_, v) = get(&s, "/admin/analytics?group_by=model").await;
    assert_eq!(v["data"][0]["group"], "gpt-4o-mini", "{v}");

    for (q, param) in [
        ("bucket=week", "bucket"),
        ("group_by=team", "group_by"),
        ("since=2h&until=3h", "since"),
        ("bucket=minute&since=30d", "since"),
        ("until=x", "until"),
        ("limit=3", "limit"),
    ] {
        let (status, v) = get(&s, &format!("/admin/analytics?{q}")).await;
        assert_eq!(status, 400, "{q}: {v}");
        assert_eq!(v["error"]["param"], param, "{q}: {v}");
    }
}

#[tokio::test]
async fn no_key_text_and_no_body_is_stored_by_default() {
    let s = setup("").await;
    let (k, _) = key(&s.store, None).await;
    let resp = s
        .gw
        .chat(
            json!({"model": "m", "messages": [{"role": "user", "content": "a secret-ish prompt 91c4"}]}),
            &[
                ("authorization", &format!("Bearer {k}")),
                ("x-custom-header", "header-value-5e2a"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let v = logs_until(&s, "", 1).await;
    assert_eq!(v["data"][0]["request_body"], Value::Null);
    // Checkpoint-independent: the rows are in the file or its write-ahead log.
    let bytes = raw_bytes(&s.file);
    assert!(contains(&bytes, v["data"][0]["trace_id"].as_str().unwrap()));
    for secret in [k.as_str(), ADMIN, OPERATOR_KEY, "91c4", "header-value-5e2a"] {
        assert!(!contains(&bytes, secret), "`{secret}` is in the database");
    }
    let text = v.to_string();
    assert!(!text.contains(&k) && !text.contains(OPERATOR_KEY));
}

#[tokio::test]
async fn bodies_are_logged_only_when_asked() {
    let s = setup("request_log:\n  bodies: true\n  retention: 7d\n").await;
    let (k, _) = key(&s.store, None).await;
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "log me 3b7d"}]});
    assert_eq!(call(&s, &k, body.clone()).await.status(), 200);
    let v = logs_until(&s, "", 1).await;
    let logged: Value =
        serde_json::from_str(v["data"][0]["request_body"].as_str().unwrap()).unwrap();
    assert_eq!(logged, body);
    let bytes = raw_bytes(&s.file);
    assert!(contains(&bytes, "log me 3b7d"));
    for secret in [k.as_str(), ADMIN, OPERATOR_KEY] {
        assert!(!contains(&bytes, secret), "`{secret}` is in the database");
    }

    // A large body is kept up to 64 KiB.
    let big = "x".repeat(100 * 1024);
    let body = json!({"model": "m", "messages": [{"role": "user", "content": big}]});
    assert_eq!(call(&s, &k, body).await.status(), 200);
    let v = logs_until(&s, "", 2).await;
    let kept = v["data"][0]["request_body"].as_str().unwrap();
    assert_eq!(kept.len(), 64 * 1024);
}

#[tokio::test]
async fn the_log_can_be_on_without_gateway_keys_and_off_with_them() {
    // Explicitly on without keys: the store is opened for it.
    let s = setup_with("request_log:\n  enabled: true\n", false).await;
    let resp = s.gw.chat(hi("m"), &[]).await;
    assert_eq!(resp.status(), 200);
    let _ = resp.bytes().await.unwrap();
    let mut rows = Vec::new();
    for _ in 0..100 {
        rows = s.store.logs(&LogFilter::default()).await.unwrap();
        if !rows.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].key_id, None);

    // Off with keys on: nothing is written.
    let s = setup("request_log:\n  enabled: false\n").await;
    let (k, _) = key(&s.store, None).await;
    assert_eq!(call(&s, &k, hi("m")).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(s
        .store
        .logs(&LogFilter::default())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn retention_prunes_old_rows() {
    let s = setup("request_log:\n  retention: 1d\n").await;
    let (k, _) = key(&s.store, None).await;
    assert_eq!(call(&s, &k, hi("m")).await.status(), 200);
    logs_until(&s, "", 1).await;
    let day_ago = switchyard_gateway::telemetry::request_log::now_ms() - 86_400_000;
    assert_eq!(s.store.prune_logs(day_ago).await.unwrap(), 0);
    let future = switchyard_gateway::telemetry::request_log::now_ms() + 1000;
    assert_eq!(s.store.prune_logs(future).await.unwrap(), 1);
    let (_, v) = get(&s, "/admin/logs").await;
    assert!(v["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_bad_request_log_section_is_refused_at_start_naming_the_field() {
    for (section, field) in [
        ("request_log:\n  retention: soon\n", "request_log.retention"),
        ("request_log:\n  bodies: maybe\n", "request_log.bodies"),
        ("request_log:\n  colour: red\n", "request_log"),
    ] {
        let yaml = format!("auth:\n  admin_key: {ADMIN}\n{section}");
        let dir = temp_dir("rlog-bad");
        let env = |k: &str| match k {
            "SWITCHYARD_DATA_DIR" => Some(dir.display().to_string()),
            _ => None,
        };
        let config = GatewayConfig::from_yaml(&yaml, &env).unwrap();
        let err = Server::bind_with(config, Some(([127, 0, 0, 1], 0).into()), Vec::new())
            .await
            .err()
            .unwrap_or_else(|| panic!("{section} was accepted"));
        assert!(err.to_string().starts_with(field), "{section}: {err}");
    }
}

//! Client-side helpers: sending to a provider, reading OpenAI responses and event streams.
//! The readers check what they read against OpenAI's spec (`openapi.rs`).

use serde_json::{json, Value};

use super::openapi::{assert_conforms, Shape};
use super::spec::{Call, Provider};
use crate::common::{header, Gateway, MockServer};

/// A gateway with no config and a mock upstream for `p`, scripted with `reply`.
pub async fn setup(p: Provider, reply: switchyard_mock::Reply) -> (Gateway, MockServer) {
    let mock = MockServer::start(p.slug()).await;
    mock.push(reply);
    (Gateway::start("").await, mock)
}

/// `POST /v1/chat/completions` routed to `p` on `mock` by request headers.
pub async fn chat(gw: &Gateway, p: Provider, mock: &MockServer, body: Value) -> reqwest::Response {
    post(gw, p, mock, "/v1/chat/completions", body).await
}

/// `POST path` routed to `p` on `mock` by request headers.
pub async fn post(
    gw: &Gateway,
    p: Provider,
    mock: &MockServer,
    path: &str,
    body: Value,
) -> reqwest::Response {
    let h = p.headers(mock);
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    gw.post(path, body, &h).await
}

/// The single request `mock` received, as JSON.
pub fn only_request(mock: &MockServer) -> (switchyard_mock::Recorded, Value) {
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1, "exactly one upstream request: {reqs:?}");
    let body = reqs[0].json();
    (reqs[0].clone(), body)
}

/// Asserts `v` is `p`'s OpenAI `chat.completion` (by OpenAI's spec, when the gateway wrote it)
/// for `p`'s model, and returns the first choice.
pub fn completion_choice(p: Provider, v: &Value) -> Value {
    assert_conforms(p, Shape::Completion, v);
    let model = p.model();
    assert_eq!(v["object"], "chat.completion", "{v}");
    assert!(v["id"].as_str().is_some_and(|s| !s.is_empty()), "id: {v}");
    assert!(v["created"].as_u64().is_some_and(|c| c > 0), "created: {v}");
    assert_eq!(v["model"], model, "{v}");
    let choices = v["choices"].as_array().expect("choices");
    assert_eq!(choices.len(), 1, "{v}");
    assert_eq!(choices[0]["index"], 0, "{v}");
    assert_eq!(choices[0]["message"]["role"], "assistant", "{v}");
    choices[0].clone()
}

/// Asserts a response's tool calls match `expected` (ids where the provider gives them;
/// otherwise non-empty and distinct), with arguments compared as JSON.
pub fn assert_calls(calls: &Value, expected: &[Call]) {
    let calls = calls
        .as_array()
        .unwrap_or_else(|| panic!("tool_calls: {calls}"));
    assert_eq!(calls.len(), expected.len(), "{calls:?}");
    let mut ids = Vec::new();
    for (c, (id, name, args)) in calls.iter().zip(expected) {
        assert_eq!(c["type"], "function", "{c}");
        assert_eq!(c["function"]["name"], *name, "{c}");
        let got: Value = serde_json::from_str(c["function"]["arguments"].as_str().unwrap_or("?"))
            .unwrap_or_else(|e| panic!("arguments are a JSON string ({e}): {c}"));
        assert_eq!(&got, args, "{c}");
        let got_id = c["id"].as_str().unwrap_or("");
        match id {
            Some(id) => assert_eq!(got_id, *id, "{c}"),
            None => assert!(!got_id.is_empty(), "a generated id: {c}"),
        }
        ids.push(got_id.to_owned());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), expected.len(), "tool call ids are distinct");
}

/// One client-side SSE event.
#[derive(Debug)]
pub struct Event {
    pub name: Option<String>,
    pub data: String,
}

/// A whole client event stream.
pub struct ClientStream {
    pub text: String,
    pub events: Vec<Event>,
}

impl ClientStream {
    /// Reads `p`'s stream and checks every event the gateway wrote against OpenAI's spec: each
    /// chunk (every unnamed event but `[DONE]`) and each `error` event.
    pub async fn read_from(p: Provider, resp: reqwest::Response) -> ClientStream {
        let s = Self::read(resp).await;
        for e in &s.events {
            let shape = match e.name.as_deref() {
                None if e.data == "[DONE]" => continue,
                None => Shape::Chunk,
                Some("error") => Shape::Error,
                Some(other) => panic!("unexpected SSE event `{other}`: {}", s.text),
            };
            let v: Value = serde_json::from_str(&e.data)
                .unwrap_or_else(|err| panic!("event data is JSON ({err}): {}", e.data));
            assert_conforms(p, shape, &v);
        }
        s
    }

    /// Reads a stream without checking it against the spec: for streams an OpenAI-compatible
    /// upstream wrote (passed through), like a fallback target's.
    pub async fn read(resp: reqwest::Response) -> ClientStream {
        assert_eq!(resp.status(), 200);
        assert!(
            header(&resp, "content-type").starts_with("text/event-stream"),
            "content-type: {}",
            header(&resp, "content-type")
        );
        let text = resp.text().await.expect("stream body");
        let events = text
            .split("\n\n")
            .filter(|b| !b.trim().is_empty())
            .map(|block| {
                let mut name = None;
                let mut data = Vec::new();
                for line in block.lines() {
                    if let Some(n) = line.strip_prefix("event:") {
                        name = Some(n.trim().to_owned());
                    } else if let Some(d) = line.strip_prefix("data:") {
                        data.push(d.strip_prefix(' ').unwrap_or(d));
                    }
                }
                Event {
                    name,
                    data: data.join("\n"),
                }
            })
            .collect();
        ClientStream { text, events }
    }

    /// The `chat.completion.chunk` events (every unnamed event but `[DONE]`).
    pub fn chunks(&self) -> Vec<Value> {
        self.events
            .iter()
            .filter(|e| e.name.is_none() && e.data != "[DONE]")
            .map(|e| {
                let v: Value = serde_json::from_str(&e.data)
                    .unwrap_or_else(|err| panic!("chunk is JSON ({err}): {}", e.data));
                assert_eq!(v["object"], "chat.completion.chunk", "{v}");
                v
            })
            .collect()
    }

    pub fn content(&self) -> String {
        self.chunks()
            .iter()
            .filter_map(|c| {
                c["choices"][0]["delta"]["content"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect()
    }

    pub fn ends_with_done(&self) -> bool {
        self.text.ends_with("data: [DONE]\n\n")
    }

    /// The finish reasons given, in order.
    pub fn finish_reasons(&self) -> Vec<String> {
        self.chunks()
            .iter()
            .filter_map(|c| c["choices"][0]["finish_reason"].as_str().map(str::to_owned))
            .collect()
    }

    /// The usage chunks (`choices: []` with `usage`).
    pub fn usage_chunks(&self) -> Vec<Value> {
        self.chunks()
            .into_iter()
            .filter(|c| !c["usage"].is_null())
            .collect()
    }

    /// Tool-call deltas assembled into OpenAI `tool_calls`, by `index`.
    pub fn tool_calls(&self) -> Value {
        let mut calls: Vec<Value> = Vec::new();
        for c in self.chunks() {
            let Some(deltas) = c["choices"][0]["delta"]["tool_calls"].as_array() else {
                continue;
            };
            for d in deltas {
                let i = d["index"].as_u64().expect("tool call delta index") as usize;
                while calls.len() <= i {
                    calls.push(
                        json!({"id": "", "type": "", "function": {"name": "", "arguments": ""}}),
                    );
                }
                let call = &mut calls[i];
                for (k, path) in [("id", "/id"), ("type", "/type"), ("name", "/function/name")] {
                    if let Some(s) = d.pointer(path).and_then(Value::as_str) {
                        let slot = if k == "name" {
                            &mut call["function"]["name"]
                        } else {
                            &mut call[k]
                        };
                        assert!(
                            slot.as_str().is_some_and(str::is_empty),
                            "{k} is sent once per call: {d}"
                        );
                        *slot = json!(s);
                    }
                }
                if let Some(a) = d.pointer("/function/arguments").and_then(Value::as_str) {
                    let args = format!(
                        "{}{a}",
                        call["function"]["arguments"].as_str().unwrap_or("")
                    );
                    call["function"]["arguments"] = json!(args);
                }
            }
        }
        Value::Array(calls)
    }

    /// The final `event: error` event's OpenAI error object, if the stream ended with one.
    pub fn final_error(&self) -> Option<Value> {
        let last = self.events.last()?;
        if last.name.as_deref() != Some("error") {
            return None;
        }
        let v: Value = serde_json::from_str(&last.data).expect("error event data is JSON");
        Some(v["error"].clone())
    }
}

/// Decodes unpadded base64url (a JWT segment).
pub fn base64url_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'-' => 62,
            b'_' => 63,
            _ => panic!("not base64url: {c}"),
        }
    };
    let mut out = Vec::new();
    for chunk in s.trim_end_matches('=').as_bytes().chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= val(*c) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

/// Asserts `got` carries an OCI `Signature` authorization (version 1, `rsa-sha256`) for
/// `key_id` that verifies with the public half of `pem` over the signing string rebuilt from
/// the request as the upstream received it, and that the signed body hash and length are the
/// body's.
pub fn assert_oci_signature(got: &switchyard_mock::Recorded, key_id: &str, pem: &str) {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use ring::signature::{RsaKeyPair, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
    use sha2::{Digest, Sha256};

    let auth = got
        .header("authorization")
        .expect("OCI authorization header");
    let param = |name: &str| -> String {
        auth.split(&format!("{name}=\""))
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_else(|| panic!("{name} in {auth}"))
            .to_owned()
    };
    assert!(auth.starts_with("Signature version=\"1\","), "{auth}");
    assert_eq!(param("keyId"), key_id);
    assert_eq!(param("algorithm"), "rsa-sha256");
    let headers = param("headers");
    assert_eq!(
        headers,
        "(request-target) date host x-content-sha256 content-type content-length"
    );
    let sha = STANDARD.encode(Sha256::digest(&got.body));
    assert_eq!(got.header("x-content-sha256"), Some(sha.as_str()));
    let length = got.body.len().to_string();
    assert_eq!(got.header("content-length"), Some(length.as_str()));
    let lines: Vec<String> = headers
        .split(' ')
        .map(|h| match h {
            "(request-target)" => format!(
                "(request-target): {} {}",
                got.method.as_str().to_ascii_lowercase(),
                got.path
            ),
            _ => format!(
                "{h}: {}",
                got.header(h).unwrap_or_else(|| panic!("{h} was not sent"))
            ),
        })
        .collect();
    let signature = STANDARD
        .decode(param("signature"))
        .expect("base64 signature");
    let der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let pair = RsaKeyPair::from_pkcs8(&STANDARD.decode(der).expect("PEM body")).expect("key");
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pair.public().as_ref())
        .verify(lines.join("\n").as_bytes(), &signature)
        .expect("the OCI signature verifies over the request as received");
    assert!(!auth.contains("PRIVATE"), "the key never travels: {auth}");
}

//! Cheap inspection and patching of JSON request bodies.
//!
//! The gateway reads only the top-level fields it acts on ([`RequestHead`]) and, when a route
//! overrides parameters, rewrites only the top-level members it must ([`patch_object`]): every
//! other byte the client sent reaches the upstream unchanged, in its original order.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Why a body could not be read as the JSON object an endpoint expects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("request body is not valid JSON: {0}")]
    Syntax(String),
    #[error("request body must be a JSON object")]
    NotAnObject,
    #[error("`{field}` has the wrong type: {detail}")]
    WrongType { field: &'static str, detail: String },
}

impl BodyError {
    /// The offending parameter, for the OpenAI error's `param` field.
    pub fn param(&self) -> Option<&'static str> {
        match self {
            BodyError::WrongType { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// The top-level fields of an OpenAI request body that routing and streaming act on.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RequestHead<'a> {
    pub model: Option<Cow<'a, str>>,
    pub stream: bool,
    pub include_usage: bool,
    /// The body has a non-null `stream_options` member (whatever it holds).
    pub has_stream_options: bool,
}

/// Reads [`RequestHead`] from `body`, validating that it is a JSON object and that the fields the
/// gateway reads have the right types. Unknown fields are skipped without being materialised.
pub fn inspect(body: &[u8]) -> Result<RequestHead<'_>, BodyError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let head = de.deserialize_any(HeadVisitor).map_err(classify)?;
    de.end().map_err(|e| BodyError::Syntax(e.to_string()))?;
    Ok(head)
}

fn classify(e: serde_json::Error) -> BodyError {
    let msg = e.to_string();
    if let Some(rest) = msg.strip_prefix("wrong-type:") {
        let (field, detail) = rest.split_once(':').unwrap_or((rest, ""));
        let field = match field {
            "model" => "model",
            "stream" => "stream",
            _ => "stream_options",
        };
        return BodyError::WrongType {
            field,
            detail: detail.trim().to_owned(),
        };
    }
    if msg.starts_with("not-an-object") {
        return BodyError::NotAnObject;
    }
    BodyError::Syntax(msg)
}

struct HeadVisitor;

#[derive(Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: Option<bool>,
}

/// Parses a member already known to be well-formed JSON into its expected type; a mismatch is
/// reported as a wrong-type error naming the member (never as a syntax error).
fn typed<'de, T: Deserialize<'de>, E: de::Error>(field: &str, raw: &'de RawValue) -> Result<T, E> {
    serde_json::from_str(raw.get()).map_err(|e| E::custom(format_args!("wrong-type:{field}: {e}")))
}

impl<'de> Visitor<'de> for HeadVisitor {
    type Value = RequestHead<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("not-an-object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut head = RequestHead::default();
        while let Some(BorrowedStr(key)) = map.next_key::<BorrowedStr<'de>>()? {
            match key.as_ref() {
                "model" => {
                    let raw: &'de RawValue = map.next_value()?;
                    head.model = typed::<Option<BorrowedStr<'de>>, _>("model", raw)?.map(|b| b.0);
                }
                "stream" => {
                    let raw: &'de RawValue = map.next_value()?;
                    head.stream = typed::<Option<bool>, _>("stream", raw)?.unwrap_or(false);
                }
                "stream_options" => {
                    let raw: &'de RawValue = map.next_value()?;
                    // A struct would also accept a positional array (`[true]`): only an object
                    // or null is a `stream_options`.
                    if raw.get().starts_with('[') {
                        return Err(de::Error::custom(
                            "wrong-type:stream_options: expected an object, found an array",
                        ));
                    }
                    let so = typed::<Option<StreamOptions>, _>("stream_options", raw)?;
                    head.has_stream_options = so.is_some();
                    head.include_usage = so.and_then(|s| s.include_usage).unwrap_or(false);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(head)
    }

    // Every non-map input lands here through `expecting`'s message.
    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::custom("not-an-object"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(E::custom("not-an-object"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(E::custom("not-an-object"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(E::custom("not-an-object"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(E::custom("not-an-object"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(E::custom("not-an-object"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Err(E::custom("not-an-object"))
    }
}

/// A string that borrows from the input when it has no escapes.
struct BorrowedStr<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for BorrowedStr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BorrowedStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// The members of a JSON object in their original order, values left as raw JSON.
struct OrderedMembers<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for OrderedMembers<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedMembers<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("not-an-object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(BorrowedStr(k)) = map.next_key::<BorrowedStr<'de>>()? {
                    let v: &'de RawValue = map.next_value()?;
                    out.push((k, v));
                }
                Ok(OrderedMembers(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Returns `body` with the given top-level members set: an existing member is replaced in place,
/// a new one is appended. Members not named keep their bytes and order. Later entries in
/// `overrides` win over earlier ones with the same key.
pub fn patch_object(body: &[u8], overrides: &[(&str, &RawValue)]) -> Result<Vec<u8>, BodyError> {
    let members: OrderedMembers<'_> = serde_json::from_slice(body).map_err(classify)?;
    let find = |key: &str| {
        overrides
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    };
    let mut out = Vec::with_capacity(body.len() + overrides.len() * 32);
    out.push(b'{');
    let mut first = true;
    let mut push = |out: &mut Vec<u8>, k: &str, v: &RawValue| {
        if !first {
            out.push(b',');
        }
        first = false;
        write_json_string(out, k);
        out.push(b':');
        out.extend_from_slice(v.get().as_bytes());
    };
    for (k, v) in &members.0 {
        push(&mut out, k, find(k).unwrap_or(v));
    }
    for (i, (k, v)) in overrides.iter().enumerate() {
        let seen_before = members.0.iter().any(|(mk, _)| mk == k)
            || overrides[i + 1..].iter().any(|(later, _)| later == k);
        if !seen_before {
            push(&mut out, k, v);
        }
    }
    out.push(b'}');
    Ok(out)
}

fn write_json_string(out: &mut Vec<u8>, s: &str) {
    // Writing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_owned()).unwrap()
    }

    #[test]
    fn inspect_reads_model_stream_and_include_usage() {
        let h = inspect(br#"{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":true}}"#).unwrap();
        assert_eq!(h.model.as_deref(), Some("gpt-4o"));
        assert!(h.stream);
        assert!(h.include_usage);
        assert!(matches!(h.model, Some(Cow::Borrowed(_))));
    }

    #[test]
    fn inspect_rejects_non_objects_and_bad_types() {
        assert_eq!(inspect(b"[1,2]"), Err(BodyError::NotAnObject));
        assert_eq!(inspect(b"42"), Err(BodyError::NotAnObject));
        assert!(matches!(inspect(b"{\"model\":"), Err(BodyError::Syntax(_))));
        assert!(matches!(inspect(b"{} trailing"), Err(BodyError::Syntax(_))));
        let e = inspect(br#"{"model":5}"#).unwrap_err();
        assert_eq!(e.param(), Some("model"));
        let e = inspect(br#"{"stream":"yes"}"#).unwrap_err();
        assert_eq!(e.param(), Some("stream"));
    }

    #[test]
    fn inspect_accepts_escaped_model_and_null_stream() {
        let h = inspect(br#"{"model":"a\"b","stream":null}"#).unwrap();
        assert_eq!(h.model.as_deref(), Some("a\"b"));
        assert!(!h.stream);
    }

    #[test]
    fn patch_replaces_in_place_and_appends_new_members() {
        let body = br#"{"model":"a","messages":[],"x":{"deep":[1,2]}}"#;
        let m = raw(r#""b""#);
        let t = raw("0.5");
        let out = patch_object(body, &[("model", &m), ("temperature", &t)]).unwrap();
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"model":"b","messages":[],"x":{"deep":[1,2]},"temperature":0.5}"#
        );
    }

    #[test]
    fn patch_later_override_wins() {
        let a = raw("1");
        let b = raw("2");
        let out = patch_object(br#"{}"#, &[("n", &a), ("n", &b)]).unwrap();
        assert_eq!(std::str::from_utf8(&out).unwrap(), r#"{"n":2}"#);
    }

    #[test]
    fn patch_keeps_escaped_keys_valid() {
        let v = raw("true");
        let out = patch_object(br#"{"we\"ird":1}"#, &[("new\nkey", &v)]).unwrap();
        let parsed: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(parsed["we\"ird"], 1);
        assert_eq!(parsed["new\nkey"], true);
    }
}

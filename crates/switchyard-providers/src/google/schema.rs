//! JSON Schema (as OpenAI clients send it) to Gemini's `Schema` (a subset of the OpenAPI 3.0
//! schema object), for `functionDeclarations[].parameters` and `generationConfig.responseSchema`.
//!
//! The rules (documented in `docs/providers/google.md`):
//! - `$ref` to a local pointer (`#/$defs/X`, `#/definitions/X`, any `#/...`) is inlined, sibling
//!   keys (e.g. `description`) win over the target's; a recursive or external `$ref` is a 400.
//! - `allOf` is merged into one schema (properties and `required` united).
//! - `type: [T, "null"]`, `anyOf`/`oneOf` with a `{"type":"null"}` branch and `enum` containing
//!   `null` become `nullable: true`; the parent's other keywords are merged into every
//!   `anyOf`/`oneOf` branch (so `{"properties":…,"anyOf":[{"required":["a"]},…]}` keeps its
//!   properties); one branch left replaces the parent, several stay `anyOf` (`oneOf` is read as
//!   `anyOf`; identical branches collapse); `type: [A, B]` becomes `anyOf: [{type: A}, {type: B}]`.
//! - Types are upper-cased (`STRING`, `NUMBER`, `INTEGER`, `BOOLEAN`, `ARRAY`, `OBJECT`); a
//!   schema without `type` gets one inferred from its keywords (`properties` → OBJECT, `items` →
//!   ARRAY, `enum` → its values' type, otherwise STRING).
//! - Kept keywords, by type: `description`, `title`, `nullable` and `format` (only `enum` and
//!   `date-time` for strings, `float`/`double` for numbers, `int32`/`int64` for integers); STRING:
//!   `enum`, `minLength`, `maxLength`, `pattern`; NUMBER/INTEGER: `minimum`, `maximum`; ARRAY:
//!   `items` (missing → `{type: STRING}`, a tuple → `anyOf` of its members), `minItems`,
//!   `maxItems`; OBJECT: `properties` (dropped when empty), `required` (only names that are
//!   properties), `minProperties`, `maxProperties`, `propertyOrdering`. Everything else
//!   (`$schema`, `$id`, `additionalProperties`, `strict`, `default`, `examples`, `example`,
//!   `const` after mapping it to `enum`, `exclusiveMinimum`, `multipleOf`, `uniqueItems`, `not`,
//!   `if`/`then`/`else`, `patternProperties`, …) is dropped.
//! - An `enum` on a non-string type cannot be expressed (Gemini's `enum` is a list of strings):
//!   the type is kept, the enum is dropped and its values are appended to the description.

use serde_json::{Map, Value};

use crate::native::TranslateError;

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 64;

/// Most schema nodes one conversion may produce. Inlining `$ref`s can multiply a small schema
/// (a chain of definitions each used twice doubles at every step); past this budget the request
/// is refused instead of spending unbounded CPU and memory.
const MAX_NODES: usize = 4_000;

/// Converts a JSON Schema to a Gemini `Schema`. `param` names the request member in errors.
pub(super) fn convert(root: &Value, param: &str) -> Result<Value, TranslateError> {
    let mut cx = Converter {
        root,
        param,
        refs: Vec::new(),
        nodes: 0,
    };
    cx.convert(root, 0).map(Value::Object)
}

/// Converts `function.parameters`: the result must describe an object. Returns `None` for an
/// object without properties, whose declaration Gemini wants without `parameters`.
pub(super) fn convert_parameters(
    root: &Value,
    param: &str,
) -> Result<Option<Value>, TranslateError> {
    let converted = convert(root, param)?;
    match converted.get("type").and_then(Value::as_str) {
        Some("OBJECT") => Ok(converted.get("properties").map(|_| converted.clone())),
        _ => Err(TranslateError::invalid_request(
            "function parameters must be a JSON Schema of type object",
            Some(param),
        )),
    }
}

struct Converter<'a> {
    root: &'a Value,
    param: &'a str,
    /// `$ref`s being expanded, to refuse recursion.
    refs: Vec<String>,
    /// Nodes converted so far (bounded by [`MAX_NODES`]).
    nodes: usize,
}

impl Converter<'_> {
    fn err(&self, message: impl Into<String>) -> TranslateError {
        TranslateError::invalid_request(message, Some(self.param))
    }

    fn convert(
        &mut self,
        schema: &Value,
        depth: usize,
    ) -> Result<Map<String, Value>, TranslateError> {
        if depth > MAX_DEPTH {
            return Err(self.err("JSON schema is nested too deeply for Gemini"));
        }
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(self.err(format!(
                "JSON schema is too large for Gemini once its $refs are inlined (over {MAX_NODES} nodes)"
            )));
        }
        let m = match schema {
            Value::Object(m) => m,
            Value::Bool(true) => return Ok(typed("STRING")),
            _ => return Err(self.err("JSON schema must be an object (or `true`)")),
        };
        if let Some(r) = m.get("$ref") {
            return self.convert_ref(r, m, depth);
        }
        if let Some(all) = m.get("allOf") {
            let merged = self.merge_all_of(m, all)?;
            return self.convert(&Value::Object(merged), depth + 1);
        }
        let mut nullable = m.get("nullable").and_then(Value::as_bool) == Some(true);

        // anyOf / oneOf: null branches become `nullable`; one branch left is merged.
        let branches: Vec<&Value> = ["anyOf", "oneOf"]
            .iter()
            .filter_map(|k| m.get(*k))
            .filter_map(Value::as_array)
            .flatten()
            .collect();
        if m.contains_key("anyOf") || m.contains_key("oneOf") {
            let mut kept = Vec::new();
            for b in branches {
                if self.is_null_schema(b) {
                    nullable = true;
                } else {
                    kept.push(b);
                }
            }
            // The parent's own keywords apply to every branch (e.g. `{"type":"object",
            // "properties":…, "anyOf":[{"required":["a"]},{"required":["b"]}]}`); its
            // annotations describe the whole.
            let mut structure = m.clone();
            for k in ["anyOf", "oneOf", "nullable", "description", "title"] {
                structure.remove(k);
            }
            let mut merged = Vec::with_capacity(kept.len());
            for b in &kept {
                let branch = self.resolve_shallow(b)?;
                merged.push(merge_parent(&structure, branch));
            }
            if let [one] = merged.as_mut_slice() {
                for k in ["description", "title"] {
                    if let Some(v) = m.get(k) {
                        one.insert(k.into(), v.clone());
                    }
                }
                if nullable {
                    one.insert("nullable".into(), Value::Bool(true));
                }
                let one = std::mem::take(one);
                return self.convert(&Value::Object(one), depth + 1);
            }
            if merged.is_empty() {
                return Err(self.err("a schema that only allows null has no Gemini equivalent"));
            }
            let mut list: Vec<Value> = Vec::with_capacity(merged.len());
            for b in merged {
                let c = Value::Object(self.convert(&Value::Object(b), depth + 1)?);
                if !list.contains(&c) {
                    list.push(c);
                }
            }
            let mut out = match list.as_slice() {
                [Value::Object(only)] => only.clone(),
                _ => {
                    let mut out = Map::new();
                    out.insert("anyOf".into(), Value::Array(list));
                    out
                }
            };
            copy_annotations(m, &mut out);
            if nullable {
                out.insert("nullable".into(), Value::Bool(true));
            }
            return Ok(out);
        }

        // `type`, possibly a list.
        let mut types: Vec<String> = match m.get("type") {
            None => Vec::new(),
            Some(Value::String(t)) => vec![t.clone()],
            Some(Value::Array(ts)) => ts
                .iter()
                .map(|t| {
                    t.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| self.err("JSON schema `type` entries must be strings"))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(self.err("JSON schema `type` must be a string or a list")),
        };
        let had_null = types.iter().any(|t| t == "null");
        types.retain(|t| t != "null");
        nullable |= had_null;

        // `const` is a one-value enum; `null` in an enum means nullable.
        let mut enum_values: Option<Vec<Value>> = match (m.get("enum"), m.get("const")) {
            (Some(Value::Array(vs)), _) => Some(vs.clone()),
            (None, Some(c)) => Some(vec![c.clone()]),
            _ => None,
        };
        if let Some(vs) = enum_values.as_mut() {
            if vs.iter().any(Value::is_null) {
                nullable = true;
                vs.retain(|v| !v.is_null());
            }
        }

        if types.len() > 1 {
            let mut list = Vec::with_capacity(types.len());
            for t in &types {
                let mut branch = m.clone();
                branch.insert("type".into(), Value::String(t.clone()));
                for k in ["description", "title", "nullable"] {
                    branch.remove(k);
                }
                list.push(Value::Object(
                    self.convert(&Value::Object(branch), depth + 1)?,
                ));
            }
            let mut out = Map::new();
            out.insert("anyOf".into(), Value::Array(list));
            copy_annotations(m, &mut out);
            if nullable {
                out.insert("nullable".into(), Value::Bool(true));
            }
            return Ok(out);
        }

        let ty = match types.first() {
            Some(t) => gemini_type(t)
                .ok_or_else(|| self.err(format!("unsupported JSON schema type `{t}`")))?,
            None if had_null => {
                return Err(self.err("a schema that only allows null has no Gemini equivalent"))
            }
            None => infer_type(m, enum_values.as_deref()),
        };

        let mut out = typed(ty);
        copy_annotations(m, &mut out);
        if nullable {
            out.insert("nullable".into(), Value::Bool(true));
        }
        if let Some(f) = m.get("format").and_then(Value::as_str) {
            let ok = match ty {
                "STRING" => matches!(f, "enum" | "date-time"),
                "NUMBER" => matches!(f, "float" | "double"),
                "INTEGER" => matches!(f, "int32" | "int64"),
                _ => false,
            };
            if ok {
                out.insert("format".into(), Value::String(f.to_owned()));
            }
        }
        match ty {
            "STRING" => {
                if let Some(vs) = enum_values.filter(|vs| !vs.is_empty()) {
                    let strings = vs
                        .iter()
                        .map(|v| match v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .map(Value::String)
                        .collect();
                    out.insert("enum".into(), Value::Array(strings));
                }
                copy_keys(m, &mut out, &["minLength", "maxLength", "pattern"]);
            }
            "NUMBER" | "INTEGER" | "BOOLEAN" => {
                if ty != "BOOLEAN" {
                    copy_keys(m, &mut out, &["minimum", "maximum"]);
                }
                if let Some(vs) = enum_values.filter(|vs| !vs.is_empty()) {
                    describe_enum(&mut out, &vs);
                }
            }
            "ARRAY" => {
                let items = match (m.get("prefixItems"), m.get("items")) {
                    (Some(Value::Array(tuple)), _) | (None, Some(Value::Array(tuple))) => {
                        self.tuple_items(tuple, depth)?
                    }
                    (_, Some(items)) => self.convert(items, depth + 1)?,
                    (_, None) => typed("STRING"),
                };
                out.insert("items".into(), Value::Object(items));
                copy_keys(m, &mut out, &["minItems", "maxItems"]);
            }
            _ => self.object_keywords(m, &mut out, depth)?,
        }
        Ok(out)
    }

    fn object_keywords(
        &mut self,
        m: &Map<String, Value>,
        out: &mut Map<String, Value>,
        depth: usize,
    ) -> Result<(), TranslateError> {
        let mut props = Map::new();
        if let Some(p) = m.get("properties") {
            let p = p
                .as_object()
                .ok_or_else(|| self.err("JSON schema `properties` must be an object"))?;
            for (name, sub) in p {
                props.insert(name.clone(), Value::Object(self.convert(sub, depth + 1)?));
            }
        }
        if let Some(req) = m.get("required").and_then(Value::as_array) {
            let req: Vec<Value> = req
                .iter()
                .filter(|r| r.as_str().is_some_and(|r| props.contains_key(r)))
                .cloned()
                .collect();
            if !req.is_empty() {
                out.insert("required".into(), Value::Array(req));
            }
        }
        if let Some(order) = m.get("propertyOrdering").and_then(Value::as_array) {
            if order
                .iter()
                .all(|o| o.as_str().is_some_and(|o| props.contains_key(o)))
            {
                out.insert("propertyOrdering".into(), Value::Array(order.clone()));
            }
        }
        if !props.is_empty() {
            out.insert("properties".into(), Value::Object(props));
        }
        copy_keys(m, out, &["minProperties", "maxProperties"]);
        Ok(())
    }

    /// A tuple (`items: [A, B]` or `prefixItems`) becomes items of `anyOf: [A, B]` (or just `A`
    /// when all members convert alike).
    fn tuple_items(
        &mut self,
        tuple: &[Value],
        depth: usize,
    ) -> Result<Map<String, Value>, TranslateError> {
        match tuple {
            [] => Ok(typed("STRING")),
            [one] => self.convert(one, depth + 1),
            many => {
                let mut list: Vec<Value> = Vec::with_capacity(many.len());
                for t in many {
                    let c = Value::Object(self.convert(t, depth + 1)?);
                    if !list.contains(&c) {
                        list.push(c);
                    }
                }
                if let [Value::Object(one)] = list.as_slice() {
                    return Ok(one.clone());
                }
                let mut out = Map::new();
                out.insert("anyOf".into(), Value::Array(list));
                Ok(out)
            }
        }
    }

    fn convert_ref(
        &mut self,
        r: &Value,
        m: &Map<String, Value>,
        depth: usize,
    ) -> Result<Map<String, Value>, TranslateError> {
        let r = r
            .as_str()
            .ok_or_else(|| self.err("JSON schema `$ref` must be a string"))?
            .to_owned();
        if self.refs.contains(&r) {
            return Err(self.err(format!(
                "recursive JSON schema reference `{r}` cannot be expressed in a Gemini schema"
            )));
        }
        let target = self.lookup(&r)?;
        let mut merged = match target {
            Value::Object(t) => t.clone(),
            Value::Bool(true) => Map::new(),
            _ => return Err(self.err(format!("JSON schema reference `{r}` is not a schema"))),
        };
        for (k, v) in m {
            if k != "$ref" {
                merged.insert(k.clone(), v.clone());
            }
        }
        self.refs.push(r);
        let out = self.convert(&Value::Object(merged), depth + 1);
        self.refs.pop();
        out
    }

    fn lookup(&self, r: &str) -> Result<&Value, TranslateError> {
        let pointer = r.strip_prefix('#').ok_or_else(|| {
            self.err(format!(
                "JSON schema reference `{r}` is not local; only `#/...` references can be inlined"
            ))
        })?;
        self.root
            .pointer(pointer)
            .ok_or_else(|| self.err(format!("JSON schema reference `{r}` does not resolve")))
    }

    /// Follows a top-level `$ref` chain without converting, for merging.
    fn resolve_shallow(&self, schema: &Value) -> Result<Map<String, Value>, TranslateError> {
        let mut merged = match schema {
            Value::Object(m) => m.clone(),
            Value::Bool(true) => return Ok(Map::new()),
            _ => return Err(self.err("JSON schema must be an object (or `true`)")),
        };
        let mut seen: Vec<String> = Vec::new();
        while let Some(r) = merged.remove("$ref") {
            let r = r
                .as_str()
                .ok_or_else(|| self.err("JSON schema `$ref` must be a string"))?
                .to_owned();
            if seen.contains(&r) || self.refs.contains(&r) {
                return Err(self.err(format!(
                    "recursive JSON schema reference `{r}` cannot be expressed in a Gemini schema"
                )));
            }
            let mut next = match self.lookup(&r)? {
                Value::Object(t) => t.clone(),
                Value::Bool(true) => Map::new(),
                _ => return Err(self.err(format!("JSON schema reference `{r}` is not a schema"))),
            };
            // Sibling keys of the `$ref` win over the target's.
            for (k, v) in merged {
                next.insert(k, v);
            }
            merged = next;
            seen.push(r);
        }
        Ok(merged)
    }

    fn merge_all_of(
        &self,
        m: &Map<String, Value>,
        all: &Value,
    ) -> Result<Map<String, Value>, TranslateError> {
        let all = all
            .as_array()
            .ok_or_else(|| self.err("JSON schema `allOf` must be a list"))?;
        let mut merged = m.clone();
        merged.remove("allOf");
        for branch in all {
            let branch = self.resolve_shallow(branch)?;
            for (k, v) in branch {
                match (k.as_str(), merged.get_mut(&k), v) {
                    ("properties", Some(Value::Object(dst)), Value::Object(src)) => {
                        for (pk, pv) in src {
                            dst.entry(pk).or_insert(pv);
                        }
                    }
                    ("required", Some(Value::Array(dst)), Value::Array(src)) => {
                        for r in src {
                            if !dst.contains(&r) {
                                dst.push(r);
                            }
                        }
                    }
                    (_, Some(_), _) => {}
                    (_, None, v) => {
                        merged.insert(k, v);
                    }
                }
            }
        }
        Ok(merged)
    }

    fn is_null_schema(&self, b: &Value) -> bool {
        let Ok(m) = self.resolve_shallow(b) else {
            return false;
        };
        match m.get("type") {
            Some(Value::String(t)) => t == "null",
            Some(Value::Array(ts)) => ts.iter().all(|t| t == "null") && !ts.is_empty(),
            _ => false,
        }
    }
}

/// A branch with its parent's keywords added: `properties` and `required` are united, the
/// branch wins other conflicts.
fn merge_parent(parent: &Map<String, Value>, mut branch: Map<String, Value>) -> Map<String, Value> {
    for (k, v) in parent {
        match (k.as_str(), branch.get_mut(k), v) {
            ("properties", Some(Value::Object(dst)), Value::Object(src)) => {
                for (pk, pv) in src {
                    dst.entry(pk.clone()).or_insert_with(|| pv.clone());
                }
            }
            ("required", Some(Value::Array(dst)), Value::Array(src)) => {
                for r in src {
                    if !dst.contains(r) {
                        dst.push(r.clone());
                    }
                }
            }
            (_, Some(_), _) => {}
            (_, None, v) => {
                branch.insert(k.clone(), v.clone());
            }
        }
    }
    branch
}

fn typed(ty: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("type".into(), Value::String(ty.to_owned()));
    m
}

fn gemini_type(t: &str) -> Option<&'static str> {
    Some(match t {
        "string" => "STRING",
        "number" => "NUMBER",
        "integer" => "INTEGER",
        "boolean" => "BOOLEAN",
        "array" => "ARRAY",
        "object" => "OBJECT",
        _ => return None,
    })
}

fn infer_type(m: &Map<String, Value>, enum_values: Option<&[Value]>) -> &'static str {
    if [
        "properties",
        "required",
        "additionalProperties",
        "minProperties",
        "maxProperties",
    ]
    .iter()
    .any(|k| m.contains_key(*k))
    {
        return "OBJECT";
    }
    if ["items", "prefixItems", "minItems", "maxItems"]
        .iter()
        .any(|k| m.contains_key(*k))
    {
        return "ARRAY";
    }
    if let Some(vs) = enum_values.filter(|vs| !vs.is_empty()) {
        if vs.iter().all(Value::is_boolean) {
            return "BOOLEAN";
        }
        if vs.iter().all(|v| v.is_i64() || v.is_u64()) {
            return "INTEGER";
        }
        if vs.iter().all(Value::is_number) {
            return "NUMBER";
        }
        return "STRING";
    }
    if m.contains_key("minimum") || m.contains_key("maximum") {
        return "NUMBER";
    }
    "STRING"
}

fn copy_annotations(src: &Map<String, Value>, out: &mut Map<String, Value>) {
    for k in ["description", "title"] {
        if let Some(v @ Value::String(_)) = src.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
}

fn copy_keys(src: &Map<String, Value>, out: &mut Map<String, Value>, keys: &[&str]) {
    for k in keys {
        if let Some(v) = src.get(*k) {
            if !v.is_null() {
                out.insert((*k).into(), v.clone());
            }
        }
    }
}

/// Appends "Allowed values: …" to the description for an enum Gemini cannot carry.
fn describe_enum(out: &mut Map<String, Value>, values: &[Value]) {
    let list = values
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let note = format!("Allowed values: {list}.");
    let text = match out.get("description").and_then(Value::as_str) {
        Some(d) if !d.is_empty() => format!("{d} {note}"),
        _ => note,
    };
    out.insert("description".into(), Value::String(text));
}

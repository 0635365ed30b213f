//! OpenAI chat request → Gemini `GenerateContentRequest` body (shared by the Gemini API and
//! Vertex AI, whose bodies are the same).

use std::collections::HashMap;

use serde_json::{json, Map, Value};
use switchyard_types::chat::{
    ChatRequest, Content, ContentPart, Message, ResponseFormat, Role, Tool, ToolChoice,
};

use super::schema;
use crate::native::TranslateError;

/// The documented placeholder for a `functionCall` whose thought signature is unknown (history
/// rebuilt from OpenAI messages): <https://ai.google.dev/gemini-api/docs/thought-signatures>.
pub(super) const SKIP_SIGNATURE: &str = "skip_thought_signature_validator";

fn invalid(message: impl Into<String>, param: impl AsRef<str>) -> TranslateError {
    TranslateError::invalid_request(message, Some(param.as_ref()))
}

/// Builds the `generateContent` / `streamGenerateContent` body.
pub(super) fn chat_body(req: &ChatRequest, model: &str) -> Result<Value, TranslateError> {
    let mut body = Map::new();
    let (system, contents) = contents(&req.messages, gemini3_or_later(model))?;
    if contents.is_empty() {
        return Err(invalid(
            "Gemini needs at least one user or assistant message besides system messages",
            "messages",
        ));
    }
    body.insert("contents".into(), Value::Array(contents));
    if !system.is_empty() {
        body.insert("systemInstruction".into(), json!({ "parts": system }));
    }
    if let Some(tools) = &req.tools {
        if let Some(t) = tools_value(tools)? {
            body.insert("tools".into(), t);
        }
    }
    if let Some(tc) = tool_config(req)? {
        body.insert("toolConfig".into(), tc);
    }
    let gc = generation_config(req, model)?;
    if !gc.is_empty() {
        body.insert("generationConfig".into(), Value::Object(gc));
    }
    if let Some(s) = req.extra.get("safety_settings").filter(|v| !v.is_null()) {
        if !s.is_array() {
            return Err(invalid("safety_settings must be a list", "safety_settings"));
        }
        body.insert("safetySettings".into(), s.clone());
    }
    Ok(Value::Object(body))
}

/// Non-strict answers return thought summaries, which Gemini only sends when asked: sets
/// `thinkingConfig.includeThoughts` when the request turns thinking on (a budget other than 0,
/// or a level).
pub(super) fn include_thoughts(body: &mut Value) {
    let Some(tc) = body
        .pointer_mut("/generationConfig/thinkingConfig")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    if tc.get("thinkingBudget").and_then(Value::as_i64) != Some(0) {
        tc.insert("includeThoughts".into(), Value::Bool(true));
    }
}

/// Gemini 3 and later reject replayed function calls without a thought signature. Models whose
/// name says they are older (1.x, 2.x, `gemini-pro`) get none; anything else (3+, `-latest`
/// aliases) gets the documented placeholder.
pub(super) fn gemini3_or_later(model: &str) -> bool {
    let name = model.rsplit('/').next().unwrap_or(model);
    let Some(rest) = name.strip_prefix("gemini-") else {
        return false;
    };
    if rest == "pro" || rest.starts_with("pro-vision") || rest.starts_with("pro-0") {
        return false;
    }
    let major: String = rest.chars().take_while(char::is_ascii_digit).collect();
    match major.parse::<u32>() {
        Ok(v) => v >= 3,
        Err(_) => true,
    }
}

type Turn = (&'static str, Vec<Value>);

/// Splits the messages into `systemInstruction` parts and `contents`.
fn contents(
    messages: &[Message],
    sign_calls: bool,
) -> Result<(Vec<Value>, Vec<Value>), TranslateError> {
    let mut system = Vec::new();
    let mut turns: Vec<Turn> = Vec::new();
    // tool_call id → function name, updated as the conversation goes (ids may repeat).
    let mut call_names: HashMap<&str, &str> = HashMap::new();
    for (i, msg) in messages.iter().enumerate() {
        let p = format!("messages[{i}]");
        match msg.role {
            Role::System | Role::Developer => {
                if let Some(c) = &msg.content {
                    for part in content_parts(c, &p)? {
                        if part.get("text").is_none() {
                            return Err(invalid(
                                "system messages may only contain text for Gemini",
                                format!("{p}.content"),
                            ));
                        }
                        system.push(part);
                    }
                }
            }
            Role::User => {
                let parts = match &msg.content {
                    Some(c) => content_parts(c, &p)?,
                    None => Vec::new(),
                };
                push_turn(&mut turns, "user", parts);
            }
            Role::Assistant => {
                let mut parts = match &msg.content {
                    Some(c) => content_parts(c, &p)?,
                    None => Vec::new(),
                };
                if let Some(r) = msg.refusal.as_deref().filter(|r| !r.is_empty()) {
                    if parts.is_empty() {
                        parts.push(json!({ "text": r }));
                    }
                }
                for (j, call) in msg.tool_calls.iter().flatten().enumerate() {
                    let ap = format!("{p}.tool_calls[{j}].function.arguments");
                    let args = parse_arguments(&call.function.arguments, &ap)?;
                    let mut part = json!({
                        "functionCall": { "name": call.function.name, "args": args }
                    });
                    // The signature a non-strict answer gave the call (Portkey's member).
                    let signature = call.function.thought_signature.as_deref();
                    if let Some(sig) = signature.filter(|s| !s.is_empty()) {
                        part["thoughtSignature"] = Value::String(sig.to_owned());
                    } else if sign_calls && j == 0 {
                        part["thoughtSignature"] = Value::String(SKIP_SIGNATURE.into());
                    }
                    parts.push(part);
                    call_names.insert(call.id.as_str(), call.function.name.as_str());
                }
                push_turn(&mut turns, "model", parts);
            }
            Role::Tool | Role::Function => {
                let name = match (msg.role, msg.tool_call_id.as_deref()) {
                    (Role::Tool, Some(id)) => call_names.get(id).copied().or(msg.name.as_deref()),
                    _ => msg.name.as_deref(),
                };
                let Some(name) = name else {
                    return Err(match msg.role {
                        Role::Tool => invalid(
                            format!(
                                "tool message refers to tool_call_id {:?}, which no earlier assistant tool_call has; Gemini needs the function name",
                                msg.tool_call_id.as_deref().unwrap_or("")
                            ),
                            format!("{p}.tool_call_id"),
                        ),
                        _ => invalid("function messages need a name for Gemini", format!("{p}.name")),
                    });
                };
                let response = tool_response(msg.content.as_ref(), &p)?;
                let part = json!({ "functionResponse": { "name": name, "response": response } });
                push_turn(&mut turns, "user", vec![part]);
            }
        }
    }
    let contents = turns
        .into_iter()
        .map(|(role, parts)| json!({ "role": role, "parts": parts }))
        .collect();
    Ok((system, contents))
}

/// Appends parts to the last turn when it has the same role (Gemini wants alternating turns),
/// else starts a new turn. Empty messages add nothing.
fn push_turn(turns: &mut Vec<Turn>, role: &'static str, parts: Vec<Value>) {
    if parts.is_empty() {
        return;
    }
    match turns.last_mut() {
        Some((r, existing)) if *r == role => existing.extend(parts),
        _ => turns.push((role, parts)),
    }
}

/// `function.arguments` (a JSON string) → `functionCall.args` (a JSON object). An empty string
/// is `{}`.
fn parse_arguments(arguments: &str, param: &str) -> Result<Value, TranslateError> {
    if arguments.trim().is_empty() {
        return Ok(json!({}));
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(invalid("tool call arguments must be a JSON object", param)),
        Err(e) => Err(invalid(
            format!("tool call arguments are not valid JSON: {e}"),
            param,
        )),
    }
}

/// A tool result as `functionResponse.response`: a JSON object stays as it is; anything else
/// (other JSON, plain text) is wrapped as `{"content": ...}`.
fn tool_response(content: Option<&Content>, p: &str) -> Result<Value, TranslateError> {
    let text = match content {
        None => String::new(),
        Some(Content::Text(s)) => s.clone(),
        Some(Content::Parts(parts)) => {
            if parts.iter().any(|x| !matches!(x, ContentPart::Text { .. })) {
                return Err(invalid(
                    "tool message content may only contain text parts for Gemini",
                    format!("{p}.content"),
                ));
            }
            Content::Parts(parts.clone()).joined_text()
        }
    };
    Ok(match serde_json::from_str::<Value>(&text) {
        Ok(v @ Value::Object(_)) => v,
        Ok(other) => json!({ "content": other }),
        Err(_) => json!({ "content": text }),
    })
}

/// Message content → Gemini parts. Empty text is skipped (Gemini rejects empty text parts).
fn content_parts(content: &Content, p: &str) -> Result<Vec<Value>, TranslateError> {
    let parts = match content {
        Content::Text(s) if s.is_empty() => Vec::new(),
        Content::Text(s) => vec![json!({ "text": s })],
        Content::Parts(parts) => {
            let mut out = Vec::with_capacity(parts.len());
            for (k, part) in parts.iter().enumerate() {
                let pp = format!("{p}.content[{k}]");
                match part {
                    ContentPart::Text { text, .. } if text.is_empty() => {}
                    ContentPart::Text { text, .. } => out.push(json!({ "text": text })),
                    ContentPart::ImageUrl { image_url, .. } => {
                        out.push(media_part(&image_url.url, &pp)?)
                    }
                    ContentPart::InputAudio { input_audio } => {
                        out.push(audio_part(input_audio, &pp)?)
                    }
                    ContentPart::File { file } => out.push(file_part(file, &pp)?),
                    ContentPart::Other(v) => match v.get("type").and_then(Value::as_str) {
                        Some("refusal") => {
                            if let Some(r) = v.get("refusal").and_then(Value::as_str) {
                                out.push(json!({ "text": r }));
                            }
                        }
                        t => {
                            return Err(invalid(
                                format!(
                                    "content part type {:?} is not supported by Gemini",
                                    t.unwrap_or("")
                                ),
                                pp,
                            ))
                        }
                    },
                }
            }
            out
        }
    };
    Ok(parts)
}

/// An image (or other media) URL: a base64 `data:` URL → `inlineData`; `http(s)://` or `gs://`
/// → `fileData` with a MIME type guessed from the extension.
fn media_part(url: &str, p: &str) -> Result<Value, TranslateError> {
    if url.starts_with("data:") {
        let img = switchyard_types::chat::ImageUrl {
            url: url.to_owned(),
            detail: None,
        };
        return match img.as_data_url() {
            Some(d) => {
                Ok(json!({ "inlineData": { "mimeType": d.mime_type, "data": d.base64_data } }))
            }
            None => Err(invalid(
                "only base64 data: URLs can be sent inline to Gemini",
                format!("{p}.image_url.url"),
            )),
        };
    }
    if url.starts_with("https://") || url.starts_with("http://") || url.starts_with("gs://") {
        return Ok(json!({ "fileData": { "mimeType": guess_mime(url), "fileUri": url } }));
    }
    Err(invalid(
        "image URLs must be data:, http(s):// or gs:// URLs for Gemini",
        format!("{p}.image_url.url"),
    ))
}

/// MIME type from a URL's extension (query and fragment ignored); `image/jpeg` when unknown.
pub(super) fn guess_mime(url: &str) -> &'static str {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let file = path.rsplit('/').next().unwrap_or(path);
    let ext = file.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("gif") => "image/gif",
        Some("heic") => "image/heic",
        Some("heif") => "image/heif",
        Some("pdf") => "application/pdf",
        Some("txt") => "text/plain",
        Some("mp3") => "audio/mp3",
        Some("wav") => "audio/wav",
        Some("flac") => "audio/flac",
        Some("ogg") => "audio/ogg",
        Some("mp4") => "video/mp4",
        Some("mov") => "video/mov",
        Some("webm") => "video/webm",
        _ => "image/jpeg",
    }
}

/// `{"type":"input_audio","input_audio":{"data","format"}}` → `inlineData` `audio/<format>`.
fn audio_part(audio: &Value, p: &str) -> Result<Value, TranslateError> {
    let data = audio.get("data").and_then(Value::as_str);
    let format = audio.get("format").and_then(Value::as_str);
    match (data, format) {
        (Some(data), Some(format)) => Ok(json!({
            "inlineData": { "mimeType": format!("audio/{}", format.to_ascii_lowercase()), "data": data }
        })),
        _ => Err(invalid(
            "input_audio needs data and format",
            format!("{p}.input_audio"),
        )),
    }
}

/// `{"type":"file","file":{"file_data" | "file_id", "filename"}}`: a data URL goes inline; a
/// `gs://` / `http(s)://` id (a Gemini file URI) goes as `fileData`.
fn file_part(file: &Value, p: &str) -> Result<Value, TranslateError> {
    if let Some(data) = file.get("file_data").and_then(Value::as_str) {
        return media_part(data, p);
    }
    if let Some(id) = file.get("file_id").and_then(Value::as_str) {
        if id.starts_with("https://") || id.starts_with("http://") || id.starts_with("gs://") {
            let name = file.get("filename").and_then(Value::as_str).unwrap_or(id);
            let mime = file
                .get("format")
                .and_then(Value::as_str)
                .unwrap_or_else(|| guess_mime(name));
            return Ok(json!({ "fileData": { "mimeType": mime, "fileUri": id } }));
        }
    }
    Err(invalid(
        "file parts need file_data (a data: URL) or a gs:// / https:// file_id for Gemini",
        format!("{p}.file"),
    ))
}

/// `tools` → `[{"functionDeclarations": [...]}]`.
fn tools_value(tools: &[Tool]) -> Result<Option<Value>, TranslateError> {
    let mut decls = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        if tool.kind != "function" {
            return Err(invalid(
                format!("tool type {:?} is not supported by Gemini", tool.kind),
                format!("tools[{i}].type"),
            ));
        }
        let f = &tool.function;
        let mut decl = Map::new();
        decl.insert("name".into(), Value::String(f.name.clone()));
        if let Some(d) = f.description.as_ref().filter(|d| !d.is_empty()) {
            decl.insert("description".into(), Value::String(d.clone()));
        }
        if let Some(params) = f.parameters.as_ref().filter(|p| !p.is_null()) {
            let param = format!("tools[{i}].function.parameters");
            if let Some(converted) = schema::convert_parameters(params, &param)? {
                decl.insert("parameters".into(), converted);
            }
        }
        decls.push(Value::Object(decl));
    }
    Ok((!decls.is_empty()).then(|| json!([{ "functionDeclarations": decls }])))
}

/// `tool_choice` → `toolConfig.functionCallingConfig`.
fn tool_config(req: &ChatRequest) -> Result<Option<Value>, TranslateError> {
    let Some(choice) = &req.tool_choice else {
        return Ok(None);
    };
    let names: Vec<&str> = req
        .tools
        .iter()
        .flatten()
        .map(|t| t.function.name.as_str())
        .collect();
    let (mode, allowed) = match choice {
        ToolChoice::Mode(m) => match m.as_str() {
            "auto" => ("AUTO", None),
            "none" => ("NONE", None),
            "required" => ("ANY", None),
            other => {
                return Err(invalid(
                    format!("unknown tool_choice {other:?}"),
                    "tool_choice",
                ));
            }
        },
        ToolChoice::Named(n) => {
            if !names.contains(&n.function.name.as_str()) {
                return Err(invalid(
                    format!(
                        "tool_choice names function {:?}, which is not in tools",
                        n.function.name
                    ),
                    "tool_choice",
                ));
            }
            ("ANY", Some(n.function.name.clone()))
        }
    };
    if names.is_empty() {
        return match mode {
            "ANY" => Err(invalid("tool_choice requires tools", "tool_choice")),
            _ => Ok(None),
        };
    }
    let mut cfg = json!({ "mode": mode });
    if let Some(name) = allowed {
        cfg["allowedFunctionNames"] = json!([name]);
    }
    Ok(Some(json!({ "functionCallingConfig": cfg })))
}

/// Sampling parameters, output format and thinking → `generationConfig`.
fn generation_config(req: &ChatRequest, model: &str) -> Result<Map<String, Value>, TranslateError> {
    let mut gc = Map::new();
    let mut put = |k: &str, v: Value| {
        gc.insert(k.to_owned(), v);
    };
    if let Some(t) = req.temperature {
        put("temperature", json!(t));
    }
    if let Some(p) = req.top_p {
        put("topP", json!(p));
    }
    if let Some(k) = req.extra.get("top_k").filter(|v| !v.is_null()) {
        if !k.is_number() {
            return Err(invalid("top_k must be a number", "top_k"));
        }
        put("topK", k.clone());
    }
    if let Some(m) = req.max_output_tokens() {
        put("maxOutputTokens", json!(m));
    }
    if let Some(stop) = &req.stop {
        let stops = stop.to_vec();
        if !stops.is_empty() {
            put("stopSequences", json!(stops));
        }
    }
    if let Some(seed) = req.seed {
        put("seed", json!(seed));
    }
    if let Some(n) = req.n {
        put("candidateCount", json!(n));
    }
    if let Some(p) = req.presence_penalty {
        put("presencePenalty", json!(p));
    }
    if let Some(f) = req.frequency_penalty {
        put("frequencyPenalty", json!(f));
    }
    match req.extra.get("logprobs") {
        Some(Value::Bool(true)) => put("responseLogprobs", Value::Bool(true)),
        None | Some(Value::Bool(false) | Value::Null) => {}
        Some(_) => return Err(invalid("logprobs must be a boolean", "logprobs")),
    }
    if let Some(n) = req.extra.get("top_logprobs").filter(|v| !v.is_null()) {
        if !n.is_u64() {
            return Err(invalid(
                "top_logprobs must be a non-negative integer",
                "top_logprobs",
            ));
        }
        put("logprobs", n.clone());
    }
    if let Some(bias) = req.extra.get("logit_bias") {
        if bias.as_object().is_some_and(|b| !b.is_empty()) {
            return Err(invalid(
                "logit_bias is not supported by Gemini",
                "logit_bias",
            ));
        }
    }
    match &req.response_format {
        None | Some(ResponseFormat::Text) => {}
        Some(ResponseFormat::JsonObject) => put("responseMimeType", json!("application/json")),
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            put("responseMimeType", json!("application/json"));
            if let Some(s) = json_schema.schema.as_ref().filter(|s| !s.is_null()) {
                let converted = schema::convert(s, "response_format.json_schema.schema")?;
                // An object without properties is plain JSON mode for Gemini.
                let empty_object = converted.get("type") == Some(&json!("OBJECT"))
                    && converted.get("properties").is_none();
                if !empty_object {
                    put("responseSchema", converted);
                }
            }
        }
    }
    if let Some(thinking) = thinking_config(req, model)? {
        put("thinkingConfig", thinking);
    }
    Ok(gc)
}

/// `reasoning_effort` (OpenAI) or `thinking` (Anthropic-style, as Portkey accepts it) →
/// `thinkingConfig`: `thinkingLevel` for Gemini 3+, `thinkingBudget` for older models.
fn thinking_config(req: &ChatRequest, model: &str) -> Result<Option<Value>, TranslateError> {
    if let Some(t) = req.extra.get("thinking").filter(|v| !v.is_null()) {
        let kind = t.get("type").and_then(Value::as_str);
        let budget = t.get("budget_tokens").and_then(Value::as_i64);
        return match (kind, budget) {
            (Some("disabled"), _) => Ok(Some(json!({ "thinkingBudget": 0 }))),
            (Some("enabled"), Some(b)) => Ok(Some(json!({ "thinkingBudget": b }))),
            (Some("enabled"), None) => Ok(None),
            _ => Err(invalid(
                "thinking must be {\"type\":\"enabled\",\"budget_tokens\":N} or {\"type\":\"disabled\"}",
                "thinking",
            )),
        };
    }
    let Some(effort) = req.extra.get("reasoning_effort").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let effort = effort
        .as_str()
        .ok_or_else(|| invalid("reasoning_effort must be a string", "reasoning_effort"))?;
    if !matches!(effort, "none" | "minimal" | "low" | "medium" | "high") {
        return Err(invalid(
            format!("unknown reasoning_effort {effort:?}"),
            "reasoning_effort",
        ));
    }
    if gemini3_or_later(model) {
        let level = if effort == "none" { "minimal" } else { effort };
        return Ok(Some(json!({ "thinkingLevel": level })));
    }
    let budget = match effort {
        "none" => 0,
        "minimal" | "low" => 1024,
        "medium" => 8192,
        _ => 24576,
    };
    Ok(Some(json!({ "thinkingBudget": budget })))
}

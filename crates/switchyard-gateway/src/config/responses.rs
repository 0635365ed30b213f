//! The server file's `responses:` section: the conversation state the gateway keeps for OpenAI's
//! Responses API on targets that are not OpenAI.
//!
//! ```yaml
//! responses:
//!   store: true        # keep answers whose request does not say `store: false` (default)
//!   retention: 30d     # how long a stored response can be continued or read (default 30d)
//! ```
//!
//! Stored responses live in the records database (`database:`; the SQLite file by default).

use std::time::Duration;

use serde_json::Value;

use super::errors::ConfigErrors;
use super::values::HumanDuration;

/// The `responses:` section.
#[derive(Debug, Clone)]
pub struct ResponsesSettings {
    /// Answers are stored unless the request says `store: false` (off: never stored, and
    /// `previous_response_id` only reaches OpenAI's own store).
    pub store: bool,
    pub retention: Duration,
}

impl Default for ResponsesSettings {
    fn default() -> Self {
        ResponsesSettings {
            store: true,
            retention: Duration::from_secs(30 * 86_400),
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    store: Option<bool>,
    retention: Option<HumanDuration>,
}

/// Parses the section (absent: defaults).
pub fn parse(section: Option<&Value>, errs: &mut ConfigErrors) -> ResponsesSettings {
    let mut s = ResponsesSettings::default();
    if let Some(v) = section.filter(|v| !v.is_null()) {
        if let Some(r) = errs.read::<Raw>(v, "responses") {
            if let Some(b) = r.store {
                s.store = b;
            }
            match r.retention {
                Some(d) if d.0.is_zero() => errs.push("responses.retention", "must be more than 0"),
                Some(d) => s.retention = d.0,
                None => {}
            }
        }
    }
    s
}

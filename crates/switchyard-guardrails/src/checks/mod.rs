//! The built-in checks, one file each. To add one: write `src/checks/<name>.rs` (a unit struct
//! implementing [`crate::Check`], its tests beside it) and add one line to the list below.
//!
//! | id | parameters (default) | verdict true when | rewrites |
//! |---|---|---|---|
//! | `default.regexMatch` | `rule` (required), `not` (false) | the text matches `rule` | — |
//! | `default.regexReplace` | `rule` (required; `/re/flags` allowed), `redactText` (`"[REDACTED]"`), `failOnDetection` (false) | always, unless `failOnDetection` and a match | matches replaced |
//! | `default.sentenceCount` | `minSentences` (0), `maxSentences` (99999), `not` (false) | the count is in range | — |
//! | `default.wordCount` | `minWords` (0), `maxWords` (99999), `not` (false) | the count is in range | — |
//! | `default.characterCount` | `minCharacters` (0), `maxCharacters` (9999999), `not` (false) | the count is in range | — |
//! | `default.jsonSchema` | `schema` (required), `not` (false) | JSON in the text validates | — |
//! | `default.jsonKeys` | `keys` (required), `operator` (`any`) | JSON in the text has any/all/none of the keys | — |
//! | `default.contains` | `words` (required), `operator` (`any`) | the text contains any/all/none of the words | — |
//! | `default.validUrls` | `onlyDNS` (false), `not` (false) | every URL is valid (syntax only) | — |
//! | `default.containsCode` | `format` (required), `not` (false) | a fenced block in that language | — |
//! | `default.alluppercase` | `not` (false) | no lower-case letter | — |
//! | `default.alllowercase` | `not` (false) | no upper-case letter | — |
//! | `default.endsWith` | `suffix` (required), `not` (false) | the text ends with `suffix` (or `suffix.`) | — |
//! | `default.modelWhitelist` | `models` (required), `not` (false) | the request's model is listed | — |
//! | `default.modelRules` | `rules` (required), `not` (false) | the model is allowed by metadata rules | — |
//! | `default.allowedRequestTypes` | `allowedTypes`, `blockedTypes` (metadata `supported_endpoints` / `blocked_endpoints`) | the request type is allowed | — |
//! | `default.requiredMetadataKeys` | `metadataKeys` (required), `operator` (`all`) | metadata has all/any/none of the keys | — |
//! | `default.notNull` | `not` (false) | the content is not null/empty | — |
//! | `default.addPrefix` | `prefix` (required), `applyToRole` (`user`), `addToExisting` (true), `onlyIfEmpty` (false) | always | prefix added |
//! | `default.pii` | `categories` (all), `action` (`block`), `scope` (`all`) | `block`: nothing found; `redact`: always | `redact`: placeholders |
//! | `default.promptInjection` | `threshold` (0.5), `scope` (`current`) | the score is below `threshold` | — |
//!
//! Each check's own docs give the details and where it departs from Portkey.

use std::sync::Arc;

use crate::Check;

macro_rules! builtin_checks {
    ($($module:ident :: $check:ident),* $(,)?) => {
        $(pub mod $module;)*
        $(pub use $module::$check;)*

        /// One instance of every built-in check.
        pub(crate) fn builtin() -> Vec<Arc<dyn Check>> {
            vec![$(Arc::new($module::$check) as Arc<dyn Check>),*]
        }
    };
}

mod case;

builtin_checks! {
    regex_match::RegexMatch,
    regex_replace::RegexReplace,
    sentence_count::SentenceCount,
    word_count::WordCount,
    character_count::CharacterCount,
    json_schema::JsonSchema,
    json_keys::JsonKeys,
    contains::Contains,
    valid_urls::ValidUrls,
    contains_code::ContainsCode,
    alluppercase::AllUppercase,
    alllowercase::AllLowercase,
    ends_with::EndsWith,
    model_whitelist::ModelWhitelist,
    model_rules::ModelRules,
    allowed_request_types::AllowedRequestTypes,
    required_metadata_keys::RequiredMetadataKeys,
    not_null::NotNull,
    add_prefix::AddPrefix,
    pii::Pii,
    prompt_injection::PromptInjection,
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::testutil::{run, Cx};
    use crate::{Registry, RequestType};

    /// Minimal valid parameters for each check.
    fn params(id: &str) -> Value {
        match id {
            "default.regexMatch" | "default.regexReplace" => json!({"rule": "a"}),
            "default.jsonSchema" => json!({"schema": {"type": "object"}}),
            "default.jsonKeys" => json!({"keys": ["a"]}),
            "default.contains" => json!({"words": ["a"]}),
            "default.containsCode" => json!({"format": "Python"}),
            "default.endsWith" => json!({"suffix": "a"}),
            "default.modelWhitelist" => json!({"models": ["m"]}),
            "default.modelRules" => json!({"rules": {"defaults": ["m"]}}),
            "default.requiredMetadataKeys" => json!({"metadataKeys": ["k"]}),
            "default.addPrefix" => json!({"prefix": "p"}),
            _ => json!({}),
        }
    }

    /// Every check, on malformed and unusual requests and responses, returns — never panics.
    #[test]
    fn no_check_panics_on_odd_input() {
        let odd = [
            Cx::chat(json!("not an object")),
            Cx::chat(json!(null)),
            Cx::chat(json!({"messages": "x"})),
            Cx::chat(json!({"messages": [1, null, "x"]})),
            Cx::chat(json!({"messages": [{"role": "user", "content": 5}]})),
            Cx::chat(json!({"messages": [{"role": "user", "content": {"text": "a"}}]})),
            Cx::chat(
                json!({"messages": [{"role": "user", "content": [null, 1, [], {"text": 2}]}]}),
            ),
            Cx::chat(json!({"model": 5, "messages": [{"role": 1, "content": "a"}]})),
            Cx::messages(
                json!({"system": [{"type": "text", "text": "s"}], "messages": [{"role": "user"}]}),
            ),
            Cx::complete(json!({"prompt": [[1, 2], null]})),
            Cx::embed(json!({"input": [1, 2, 3]})),
            Cx::before(RequestType::Other, json!({})),
            Cx::chat_response(json!({"choices": [null]})),
            Cx::chat_response(json!({"choices": [{"message": null}]})),
            Cx::chat_response(
                json!({"choices": [{"message": {"content": [{"type": "text", "text": "a"}]}}]}),
            ),
            Cx::complete_response(json!({"choices": "x"})),
            Cx::messages_response(json!({"content": "not blocks"})),
            Cx::after(RequestType::Embed, json!({"data": []})),
            Cx::streamed(),
            Cx::user(&"a{".repeat(5000)),
            Cx::user("\u{0}\u{FEFF}😀 ```py\n```"),
        ];
        let registry = Registry::builtin();
        for id in registry.ids() {
            let Some(check) = registry.get(id) else {
                continue;
            };
            for cx in &odd {
                let _ = run(check.as_ref(), params(id), cx);
            }
        }
    }

    #[test]
    fn every_check_prepares_with_minimal_parameters_and_refuses_non_objects() {
        let registry = Registry::builtin();
        for id in registry.ids() {
            let Some(check) = registry.get(id) else {
                continue;
            };
            assert_eq!(check.id(), id);
            assert!(check.prepare(&params(id)).is_ok(), "{id}");
            assert!(
                matches!(
                    check.prepare(&json!([1])),
                    Err(crate::CheckError::InvalidParameters(_))
                ),
                "{id}"
            );
        }
    }
}

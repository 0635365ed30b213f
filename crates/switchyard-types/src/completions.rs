//! Typed OpenAI (legacy) completions shapes, `POST /v1/completions`, for translation to
//! providers whose text-generation API is not OpenAI's. Members the types do not name are kept
//! in `extra`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::chat::{Stop, StreamOptions, Usage};

/// `POST /v1/completions` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletionsRequest {
    pub model: String,
    pub prompt: Prompt,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Every other member (`echo`, `logprobs`, `suffix`, `best_of`, penalties, provider
    /// extensions), as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CompletionsRequest {
    pub fn is_stream(&self) -> bool {
        self.stream == Some(true)
    }

    pub fn include_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false)
    }
}

/// `prompt`: a string, strings, or token arrays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Prompt {
    One(String),
    Many(Vec<String>),
    Tokens(Vec<u32>),
    ManyTokens(Vec<Vec<u32>>),
}

/// A `text_completion` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletionsResponse {
    pub id: String,
    pub object: String,
    pub created: u64,
    pub model: String,
    pub choices: Vec<CompletionChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletionChoice {
    pub text: String,
    pub index: u32,
    /// OpenAI requires the member; `null` when no log probabilities were asked for.
    pub logprobs: Option<Value>,
    pub finish_reason: String,
}

impl CompletionsResponse {
    /// A one-choice `text_completion`.
    pub fn single(
        id: &str,
        created: u64,
        model: &str,
        text: String,
        finish_reason: &str,
        usage: Option<Usage>,
    ) -> Self {
        CompletionsResponse {
            id: id.to_owned(),
            object: "text_completion".into(),
            created,
            model: model.to_owned(),
            choices: vec![CompletionChoice {
                text,
                index: 0,
                logprobs: None,
                finish_reason: finish_reason.to_owned(),
            }],
            usage,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_request_keeps_members_it_does_not_name_and_reads_every_prompt_form() {
        let req: CompletionsRequest = serde_json::from_value(json!({
            "model": "m", "prompt": "hi", "max_tokens": 5, "stop": "\n",
            "echo": false, "bad_words": ["x"]
        }))
        .unwrap();
        assert_eq!(req.prompt, Prompt::One("hi".into()));
        assert_eq!(req.extra["bad_words"], json!(["x"]));
        assert_eq!(req.extra["echo"], json!(false));
        let back = serde_json::to_value(&req).unwrap();
        assert_eq!(back["bad_words"], json!(["x"]));
        for (p, want) in [
            (
                json!(["a", "b"]),
                Prompt::Many(vec!["a".into(), "b".into()]),
            ),
            (json!([1, 2]), Prompt::Tokens(vec![1, 2])),
            (
                json!([[1], [2]]),
                Prompt::ManyTokens(vec![vec![1], vec![2]]),
            ),
        ] {
            let req: CompletionsRequest =
                serde_json::from_value(json!({"model": "m", "prompt": p})).unwrap();
            assert_eq!(req.prompt, want);
        }
    }

    #[test]
    fn a_response_carries_null_logprobs_as_openai_requires() {
        let r = CompletionsResponse::single("cmpl-1", 7, "m", "out".into(), "stop", None);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["object"], "text_completion");
        assert!(v["choices"][0]["logprobs"].is_null());
        assert!(v["choices"][0].get("logprobs").is_some());
        assert!(v.get("usage").is_none());
    }
}

//! Bedrock errors -> OpenAI errors, for error responses and for ConverseStream (and
//! `InvokeModelWithResponseStream`) exception frames alike.
//!
//! Bedrock names its errors by AWS exception: the `x-amzn-ErrorType` response header
//! (`ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/`), sometimes
//! `__type` in the body (`com.amazon.coral#ResourceNotFoundException`), and in a stream the
//! exception frame's `:exception-type` (`throttlingException`, lower camel case). The body is
//! `{"message": ".."}` (sometimes `Message`). One table maps every documented name
//! (<https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_Errors>,
//! plus the AWS-wide signing errors) to an OpenAI error `type`; `code` is the exception's
//! canonical name (`ThrottlingException`) whichever spelling arrived.

use serde_json::Value;
use switchyard_types::{ErrorEnvelope, ErrorKind};

use crate::native::TranslateError;

/// The response header carrying Bedrock's error type (`x-amzn-ErrorType`), lower-cased as HTTP
/// header names compare.
pub const ERROR_TYPE_HEADER: &str = "x-amzn-errortype";

/// A known Bedrock exception: its canonical name, OpenAI error type and documented HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Exception {
    pub name: &'static str,
    pub kind: ErrorKind,
    pub status: u16,
}

const fn ex(name: &'static str, kind: ErrorKind, status: u16) -> Exception {
    Exception { name, kind, status }
}

/// Every exception the Bedrock runtime documents, plus the AWS-wide authentication ones.
const EXCEPTIONS: &[Exception] = &[
    ex("ValidationException", ErrorKind::InvalidRequestError, 400),
    ex("ConflictException", ErrorKind::InvalidRequestError, 409),
    // "Your request exceeds the service quota for your account. You can resubmit your request
    // later": a rate limit, though Bedrock answers it with 400.
    ex(
        "ServiceQuotaExceededException",
        ErrorKind::RateLimitError,
        400,
    ),
    ex("ThrottlingException", ErrorKind::RateLimitError, 429),
    // The model is being loaded; the AWS SDKs retry it like a throttle.
    ex("ModelNotReadyException", ErrorKind::RateLimitError, 429),
    ex("AccessDeniedException", ErrorKind::PermissionError, 403),
    ex("NotAuthorized", ErrorKind::PermissionError, 400),
    ex(
        "UnrecognizedClientException",
        ErrorKind::AuthenticationError,
        403,
    ),
    ex("InvalidClientTokenId", ErrorKind::AuthenticationError, 403),
    ex(
        "InvalidSignatureException",
        ErrorKind::AuthenticationError,
        403,
    ),
    ex("IncompleteSignature", ErrorKind::AuthenticationError, 400),
    ex(
        "MissingAuthenticationToken",
        ErrorKind::AuthenticationError,
        403,
    ),
    ex("ExpiredTokenException", ErrorKind::AuthenticationError, 403),
    ex("RequestExpired", ErrorKind::AuthenticationError, 400),
    ex("ResourceNotFoundException", ErrorKind::NotFoundError, 404),
    ex("ModelTimeoutException", ErrorKind::TimeoutError, 408),
    ex("ModelErrorException", ErrorKind::ApiError, 424),
    ex("ModelStreamErrorException", ErrorKind::ApiError, 424),
    ex("InternalServerException", ErrorKind::ApiError, 500),
    ex("InternalFailure", ErrorKind::ApiError, 500),
    ex("ServiceUnavailableException", ErrorKind::ApiError, 503),
    ex("ServiceUnavailable", ErrorKind::ApiError, 503),
];

/// `x-amzn-ErrorType` / `__type` spellings (`ValidationException:http://...`,
/// `com.amazon.coral#ThrottlingException`) reduced to the bare exception name.
pub(crate) fn bare_type(t: &str) -> &str {
    let t = t.trim();
    let t = t.split(':').next().unwrap_or(t);
    t.rsplit('#').next().unwrap_or(t)
}

/// Looks an exception up by any spelling: header, `__type` or stream frame (`throttlingException`),
/// with or without the `Exception` suffix, in any case.
pub(crate) fn lookup(name: &str) -> Option<Exception> {
    fn key(n: &str) -> String {
        let n = n.to_ascii_lowercase();
        match n.strip_suffix("exception") {
            Some(stem) => stem.to_owned(),
            None => n,
        }
    }
    let wanted = key(bare_type(name));
    if wanted.is_empty() {
        return None;
    }
    EXCEPTIONS.iter().copied().find(|e| key(e.name) == wanted)
}

/// The status an exception frame inside a 200 stream is given (it has none of its own): the
/// documented one, except that every rate limit is 429 and a model failure (424) is 500 — to an
/// OpenAI client both are what those statuses mean. Unknown exceptions are 500.
pub(crate) fn stream_status(exception: Option<Exception>) -> u16 {
    match exception {
        Some(e) if e.kind == ErrorKind::RateLimitError => 429,
        Some(e) if e.status == 424 => 500,
        Some(e) => e.status,
        None => 500,
    }
}

fn str_field<'a>(v: &'a Value, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|n| v.get(*n).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
}

/// A non-2xx Bedrock response -> OpenAI error. `error_type` is the `x-amzn-ErrorType` header;
/// without it the body's `__type` (or `code`) names the exception. A known exception sets the
/// OpenAI `type` and `code` (its canonical name); an unknown one keeps its bare name as `code`
/// and the `type` follows the HTTP status, as does a response naming none. The caller keeps the
/// upstream status.
pub(crate) fn error_response(status: u16, error_type: Option<&str>, body: &[u8]) -> ErrorEnvelope {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| str_field(v, &["message", "Message", "errorMessage"]).map(str::to_owned))
        .unwrap_or_else(|| {
            let raw = String::from_utf8_lossy(body);
            let raw = raw.trim();
            if raw.is_empty() {
                format!("Bedrock returned HTTP {status}")
            } else {
                raw.chars().take(1000).collect()
            }
        });
    let named = error_type
        .map(bare_type)
        .filter(|t| !t.is_empty())
        .or_else(|| {
            parsed
                .as_ref()
                .and_then(|v| str_field(v, &["__type", "code"]))
                .map(bare_type)
                .filter(|t| !t.is_empty())
        });
    match named {
        Some(name) => match lookup(name) {
            Some(e) => ErrorEnvelope::new(e.kind, message).with_code(e.name),
            None => ErrorEnvelope::new(ErrorKind::for_status(status), message).with_code(name),
        },
        None => ErrorEnvelope::new(ErrorKind::for_status(status), message),
    }
}

/// An exception frame in a Bedrock stream (`:exception-type` name, JSON payload) ->
/// `TranslateError::Upstream`, typed by the same table as error responses, with the
/// [`stream_status`]. The payload's `originalMessage` (a model stream error's cause) is appended
/// to its `message`.
pub(crate) fn stream_exception(exception: &str, payload: &[u8]) -> TranslateError {
    let known = lookup(exception);
    let status = stream_status(known);
    let v: Option<Value> = serde_json::from_slice(payload).ok();
    let mut message = v
        .as_ref()
        .and_then(|v| str_field(v, &["message", "Message"]))
        .map(str::to_owned)
        .unwrap_or_else(|| format!("Bedrock stream failed with {exception}"));
    if let Some(original) = v.as_ref().and_then(|v| str_field(v, &["originalMessage"])) {
        message = format!("{message}: {original}");
    }
    let error = match known {
        Some(e) => ErrorEnvelope::new(e.kind, message).with_code(e.name),
        None if exception.is_empty() => ErrorEnvelope::new(ErrorKind::for_status(status), message),
        None => ErrorEnvelope::new(ErrorKind::for_status(status), message).with_code(exception),
    };
    TranslateError::Upstream { status, error }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bedrock::Bedrock;
    use crate::native::{Frame, NativeAdapter};

    const VALIDATION_HEADER: &str =
        "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/";

    #[test]
    fn header_names_the_exception_and_sets_type_and_code() {
        let e = Bedrock.error_response_typed(
            400,
            Some(VALIDATION_HEADER),
            br#"{"message":"Malformed input request"}"#,
        );
        assert_eq!(e.error.kind, "invalid_request_error");
        assert_eq!(e.error.code.as_deref(), Some("ValidationException"));
        assert_eq!(e.error.message, "Malformed input request");
    }

    #[test]
    fn every_documented_exception_maps_to_its_openai_type() {
        for (header, status, kind) in [
            ("AccessDeniedException", 403, "permission_error"),
            ("ValidationException", 400, "invalid_request_error"),
            ("ThrottlingException", 429, "rate_limit_error"),
            ("ServiceQuotaExceededException", 400, "rate_limit_error"),
            ("ModelNotReadyException", 429, "rate_limit_error"),
            ("ModelTimeoutException", 408, "timeout_error"),
            ("ResourceNotFoundException", 404, "not_found_error"),
            ("ModelErrorException", 424, "api_error"),
            ("InternalServerException", 500, "api_error"),
            ("ServiceUnavailableException", 503, "api_error"),
            ("UnrecognizedClientException", 403, "authentication_error"),
            ("InvalidSignatureException", 403, "authentication_error"),
            ("ExpiredTokenException", 403, "authentication_error"),
            ("IncompleteSignature", 400, "authentication_error"),
        ] {
            let value = format!("{header}:http://internal.amazon.com/coral/com.amazon.bedrock/");
            let e = Bedrock.error_response_typed(status, Some(&value), br#"{"message":"m"}"#);
            assert_eq!(e.error.kind, kind, "{header}");
            assert_eq!(e.error.code.as_deref(), Some(header), "{header}");
            assert_eq!(e.error.message, "m", "{header}");
            let documented = lookup(header).map(|x| x.status);
            assert_eq!(documented, Some(status), "{header}");
        }
    }

    #[test]
    fn type_in_body_is_used_when_the_header_is_absent() {
        let e = Bedrock.error_response_typed(
            429,
            None,
            br#"{"__type":"com.amazon.coral.availability#ThrottlingException","message":"slow down"}"#,
        );
        assert_eq!(e.error.kind, "rate_limit_error");
        assert_eq!(e.error.code.as_deref(), Some("ThrottlingException"));
    }

    #[test]
    fn header_wins_over_the_body_type() {
        let e = Bedrock.error_response_typed(
            403,
            Some("AccessDeniedException"),
            br#"{"__type":"SomethingElse","Message":"denied"}"#,
        );
        assert_eq!(e.error.kind, "permission_error");
        assert_eq!(e.error.code.as_deref(), Some("AccessDeniedException"));
        assert_eq!(e.error.message, "denied");
    }

    #[test]
    fn unknown_exception_keeps_its_name_and_types_by_status() {
        let e = Bedrock.error_response_typed(
            418,
            Some("TeapotException:http://internal.amazon.com/coral/"),
            br#"{"message":"short and stout"}"#,
        );
        assert_eq!(e.error.kind, "invalid_request_error");
        assert_eq!(e.error.code.as_deref(), Some("TeapotException"));
        let e = Bedrock.error_response_typed(502, None, b"<html>Bad Gateway</html>");
        assert_eq!(e.error.kind, "api_error");
        assert_eq!(e.error.code, None);
        assert_eq!(e.error.message, "<html>Bad Gateway</html>");
        let e = Bedrock.error_response_typed(503, Some(""), b"");
        assert_eq!(e.error.code, None);
        assert_eq!(e.error.message, "Bedrock returned HTTP 503");
    }

    #[test]
    fn untyped_error_response_reads_the_body_only() {
        let e = Bedrock.error_response(404, br#"{"__type":"ResourceNotFoundException"}"#);
        assert_eq!(e.error.kind, "not_found_error");
        assert_eq!(e.error.code.as_deref(), Some("ResourceNotFoundException"));
    }

    #[test]
    fn adapter_names_the_error_type_header() {
        assert_eq!(Bedrock.error_type_header(), Some("x-amzn-errortype"));
    }

    #[test]
    fn stream_exception_frames_map_like_error_responses() {
        for (frame_name, header) in [
            ("throttlingException", "ThrottlingException"),
            ("validationException", "ValidationException"),
            ("accessDeniedException", "AccessDeniedException"),
            (
                "serviceQuotaExceededException",
                "ServiceQuotaExceededException",
            ),
            ("modelNotReadyException", "ModelNotReadyException"),
            ("modelTimeoutException", "ModelTimeoutException"),
            ("resourceNotFoundException", "ResourceNotFoundException"),
            ("modelStreamErrorException", "ModelStreamErrorException"),
            ("internalServerException", "InternalServerException"),
            ("serviceUnavailableException", "ServiceUnavailableException"),
        ] {
            let mut t = Bedrock.chat_stream(&crate::bedrock::tests::cx(true, false));
            let got = t.on_frame(Frame {
                event: Some(frame_name),
                data: br#"{"message":"m"}"#,
                message_type: Some("exception"),
            });
            let Err(TranslateError::Upstream { status, error }) = got else {
                panic!("{frame_name}: expected an upstream error, got {got:?}");
            };
            let documented = lookup(header).map(|e| e.status).unwrap_or_default();
            let body =
                Bedrock.error_response_typed(documented, Some(header), b"{\"message\":\"m\"}");
            assert_eq!(error, body, "{frame_name}");
            assert_eq!(status, stream_status(lookup(header)), "{frame_name}");
        }
    }

    #[test]
    fn stream_statuses_follow_the_documented_ones() {
        let status = |n: &str| stream_status(lookup(n));
        assert_eq!(status("throttlingException"), 429);
        assert_eq!(status("serviceQuotaExceededException"), 429);
        assert_eq!(status("modelNotReadyException"), 429);
        assert_eq!(status("validationException"), 400);
        assert_eq!(status("accessDeniedException"), 403);
        assert_eq!(status("resourceNotFoundException"), 404);
        assert_eq!(status("modelTimeoutException"), 408);
        assert_eq!(status("modelStreamErrorException"), 500);
        assert_eq!(status("serviceUnavailableException"), 503);
        assert_eq!(status("somethingNewException"), 500);
    }

    #[test]
    fn lookup_accepts_every_spelling() {
        for spelling in [
            "ThrottlingException",
            "throttlingException",
            "Throttling",
            "com.amazon.coral.availability#ThrottlingException",
            "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
        ] {
            assert_eq!(
                lookup(spelling).map(|e| e.name),
                Some("ThrottlingException"),
                "{spelling}"
            );
        }
        assert_eq!(lookup(""), None);
        assert_eq!(lookup("Exception"), None);
    }
}

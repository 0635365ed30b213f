//! OpenAI Responses requests (`POST /v1/responses`) on any target.
//!
//! - **OpenAI and Azure OpenAI** get the client's body as it wrote it, and their answer passes
//!   back untouched — unless the request continues a response this gateway stored
//!   (`previous_response_id`), which their own store does not know: then they are sent the
//!   conversation like every other target.
//! - **Every other target** gets the request (and the stored conversation it continues)
//!   translated to a chat completion (`dialect::responses`); its answer comes back as a
//!   Response object or the Responses event stream.

use std::sync::Arc;

use switchyard_providers::ProviderKind;

use super::messages::through_chat;
use super::native::{translate_error, ResponseOut, Shape};
use super::wire::{build_as, Input, Wire};
use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::responses::Turn;
use crate::routing::tree::Leaf;

/// The request for a Responses call on `leaf`.
pub(super) fn build(
    leaf: &Leaf,
    req: &RequestContext,
    stream_usage: bool,
) -> Result<Wire, GatewayError> {
    let turn = req
        .responses
        .as_ref()
        .ok_or_else(|| GatewayError::Internal("a Responses request without its turn".into()))?;
    if native(leaf, turn) {
        return build_as(leaf, req, &Input::of(req), stream_usage);
    }
    if let (Some(id), false) = (&turn.previous_id, turn.previous_stored) {
        return Err(GatewayError::bad_request(
            format!(
                "previous_response_id `{id}` is not a response this gateway stored (or it expired); `{}` keeps no conversations of its own",
                leaf.provider.slug
            ),
            Some("previous_response_id"),
        ));
    }
    let translated = turn
        .translated
        .as_ref()
        .map_err(|e| translate_error(e.clone()))?;
    let shape = Shape::Responses(Arc::new(ResponseOut {
        id: turn.id.clone(),
        created_at: turn.created_at,
        echo: translated.echo.clone(),
    }));
    let asked = req.model_rewrite.as_deref().or(req.model.as_deref());
    let model = leaf.model_sent(asked).unwrap_or_default();
    through_chat(
        leaf,
        req,
        translated.chat.clone(),
        shape,
        &model,
        stream_usage,
    )
}

/// Whether `leaf` is sent the client's Responses request as it is (OpenAI's own API).
pub fn native(leaf: &Leaf, turn: &Turn) -> bool {
    !turn.previous_stored
        && (leaf.provider.spec.slug == "openai"
            || leaf.provider.spec.kind == ProviderKind::AzureOpenAi)
}

//! Applying a target's credentials to its upstream request.
//!
//! Static keys go into the provider's header (`Authorization: Bearer`, `x-api-key`, `api-key`,
//! …); AWS targets are signed with SigV4 ([`super::aws`]) over the final request; Vertex AI
//! service accounts are exchanged for an OAuth token ([`super::google`]). Header values holding
//! credentials are marked sensitive, so hyper never logs them.

use std::time::SystemTime;

use http::header::{self, HeaderName};
use http::HeaderValue;
use switchyard_providers::{AuthStyle, ProviderKind};

use super::aws::AwsCredentials;
use super::google::GoogleTokens;
use crate::engine::wire::{is_entra, Wire};
use crate::error::GatewayError;
use crate::routing::tree::{Credential, Leaf};
use crate::upstream::UpstreamClient;

/// Adds `leaf`'s credentials to `wire`: a key header, a bearer token, an AWS SigV4 signature
/// over the final request, or a Google OAuth token (from `google`, exchanged through `client`
/// when not cached).
pub async fn apply(
    leaf: &Leaf,
    wire: &mut Wire,
    google: &GoogleTokens,
    client: &UpstreamClient,
) -> Result<(), GatewayError> {
    let headers = &mut wire.headers;
    let key = match &leaf.credential {
        Credential::Client(k) | Credential::Server(k) => Some(k),
        Credential::None => None,
    };
    let bearer = |key: &str| format!("Bearer {key}");
    let azure_ad_token = (leaf.provider.spec.kind == ProviderKind::AzureOpenAi)
        .then(|| leaf.options.get("azure_ad_token"))
        .flatten();
    let key = match azure_ad_token {
        // An Entra ID token replaces the API key.
        Some(_) => None,
        None => key,
    };
    let (name, value) = match (leaf.provider.spec.auth, key) {
        (
            AuthStyle::Bearer | AuthStyle::Optional | AuthStyle::GoogleOAuth | AuthStyle::AwsSigV4,
            Some(k),
        ) => (header::AUTHORIZATION, bearer(k.expose())),
        (AuthStyle::Header(name), Some(k)) => {
            if leaf.provider.spec.kind == ProviderKind::AzureOpenAi && is_entra(&leaf.options) {
                (header::AUTHORIZATION, bearer(k.expose()))
            } else {
                (HeaderName::from_static(name), k.expose().to_owned())
            }
        }
        (AuthStyle::AwsSigV4, None) => {
            let creds = AwsCredentials::from_options(&leaf.options)
                .map_err(|m| GatewayError::bad_request(m, Some("aws_access_key_id")))?
                .ok_or_else(|| GatewayError::bad_request("Bedrock needs aws_access_key_id, aws_secret_access_key and aws_region (or an API key)", Some("aws_access_key_id")))?;
            super::aws::sign(
                &wire.method,
                &wire.uri.to_string(),
                headers,
                &wire.body,
                &creds,
                "bedrock",
                SystemTime::now(),
            )?;
            return Ok(());
        }
        (AuthStyle::GoogleOAuth, None) => {
            let Some(sa) = leaf.options.get("vertex_service_account_json") else {
                return Err(GatewayError::bad_request(
                    "Vertex AI needs an access token as the API key, or vertex_service_account_json",
                    Some("vertex_service_account_json"),
                ));
            };
            let token = google
                .token(
                    client,
                    sa,
                    leaf.provider.options.get("vertex_service_account_json") == Some(sa),
                )
                .await?;
            (header::AUTHORIZATION, bearer(token.expose()))
        }
        (AuthStyle::Header(_), None) if azure_ad_token.is_some() => (
            header::AUTHORIZATION,
            bearer(azure_ad_token.map(String::as_str).unwrap_or_default()),
        ),
        (_, None) => return Ok(()),
    };
    let mut value = HeaderValue::from_str(&value).map_err(|_| {
        GatewayError::bad_request(
            "the API key contains characters not allowed in an HTTP header",
            Some("api_key"),
        )
    })?;
    value.set_sensitive(true);
    headers.insert(name, value);
    Ok(())
}

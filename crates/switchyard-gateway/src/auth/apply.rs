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
use super::aws_chain;
use super::google::GoogleTokens;
use crate::engine::wire::{is_entra, Wire};
use crate::error::GatewayError;
use crate::routing::tree::{Credential, Leaf};
use crate::upstream::Upstreams;

/// Adds `leaf`'s credentials to `wire`: a key header, a bearer token, an AWS SigV4 signature
/// over the final request, or a Google OAuth token (from `google`, exchanged through `client`
/// when not cached). A static credential header is built once per leaf.
pub async fn apply(
    leaf: &Leaf,
    wire: &mut Wire,
    google: &GoogleTokens,
    clients: &Upstreams,
) -> Result<(), GatewayError> {
    let header = match leaf.memo.auth.get() {
        Some(header) => header.clone(),
        None => match static_header(leaf)? {
            Some(header) => {
                let _ = leaf.memo.auth.set(header.clone());
                header
            }
            None => return per_request(leaf, wire, google, clients).await,
        },
    };
    if let Some((name, value)) = header {
        wire.headers.insert(name, value);
    }
    Ok(())
}

/// The credential header of a target whose credential is the same for every request; the outer
/// `None` when it is computed per request (SigV4, service-account tokens).
#[allow(clippy::type_complexity)]
fn static_header(leaf: &Leaf) -> Result<Option<Option<(HeaderName, HeaderValue)>>, GatewayError> {
    let key = match &leaf.credential {
        Credential::Client(k) | Credential::Server(k) => Some(k.expose()),
        Credential::None => None,
    };
    let azure_ad_token = (leaf.provider.spec.kind == ProviderKind::AzureOpenAi)
        .then(|| leaf.options.get("azure_ad_token"))
        .flatten();
    // An Entra ID token replaces the API key.
    let key = if azure_ad_token.is_some() { None } else { key };
    let (name, value) = match (leaf.provider.spec.auth, key) {
        (
            AuthStyle::Bearer | AuthStyle::Optional | AuthStyle::GoogleOAuth | AuthStyle::AwsSigV4,
            Some(k),
        ) => (header::AUTHORIZATION, format!("Bearer {k}")),
        (AuthStyle::Scheme(scheme), Some(k)) => (header::AUTHORIZATION, format!("{scheme} {k}")),
        (AuthStyle::Header(name), Some(k)) => {
            if leaf.provider.spec.kind == ProviderKind::AzureOpenAi && is_entra(&leaf.options) {
                (header::AUTHORIZATION, format!("Bearer {k}"))
            } else {
                (HeaderName::from_static(name), k.to_owned())
            }
        }
        (AuthStyle::AwsSigV4 | AuthStyle::GoogleOAuth, None) => return Ok(None),
        // OCI has no API keys: every request is signed (a key, if given, is not used).
        (AuthStyle::OciSignature, _) => return Ok(None),
        (AuthStyle::Header(_), None) => match azure_ad_token {
            Some(token) => (header::AUTHORIZATION, format!("Bearer {token}")),
            None => return Ok(Some(None)),
        },
        (_, None) => return Ok(Some(None)),
    };
    Ok(Some(Some((name, sensitive(&value)?))))
}

/// Credentials computed for each request: an AWS SigV4 signature over the final request, or a
/// Google OAuth token for a service account.
async fn per_request(
    leaf: &Leaf,
    wire: &mut Wire,
    google: &GoogleTokens,
    clients: &Upstreams,
) -> Result<(), GatewayError> {
    if leaf.provider.spec.auth == AuthStyle::OciSignature {
        let creds = super::oci::OciCredentials::from_options(&leaf.options)
            .map_err(|(m, param)| GatewayError::bad_request(m, Some(param)))?;
        super::oci::sign(
            &wire.method,
            &wire.uri.to_string(),
            &mut wire.headers,
            &wire.body,
            &creds,
            SystemTime::now(),
        )?;
        return Ok(());
    }
    if leaf.provider.spec.auth == AuthStyle::AwsSigV4 {
        let creds = match AwsCredentials::from_options(&leaf.options)
            .map_err(|m| GatewayError::bad_request(m, Some("aws_access_key_id")))?
        {
            Some(creds) => creds,
            None if aws_chain::allowed(leaf) => aws_chain::credentials(leaf).await?,
            None if aws_chain::names_default_chain(&leaf.options) => {
                return Err(GatewayError::bad_request(
                    "aws_auth_type default_chain (the gateway's own AWS identity) is only for Bedrock providers the server's config file sets it on; send aws_access_key_id and aws_secret_access_key (or an API key)",
                    Some(aws_chain::OPT_AUTH_TYPE),
                ))
            }
            None => return Err(GatewayError::bad_request("Bedrock needs aws_access_key_id, aws_secret_access_key and aws_region (or an API key)", Some("aws_access_key_id"))),
        };
        super::aws::sign(
            &wire.method,
            &wire.uri.to_string(),
            &mut wire.headers,
            &wire.body,
            &creds,
            leaf.provider.spec.signing_service(),
            SystemTime::now(),
        )?;
        return Ok(());
    }
    let Some(sa) = leaf.options.get("vertex_service_account_json") else {
        return Err(GatewayError::bad_request(
            "Vertex AI needs an access token as the API key, or vertex_service_account_json",
            Some("vertex_service_account_json"),
        ));
    };
    let token = google
        .token(
            clients,
            sa,
            leaf.provider.options.get("vertex_service_account_json") == Some(sa),
        )
        .await?;
    let value = sensitive(&format!("Bearer {}", token.expose()))?;
    wire.headers.insert(header::AUTHORIZATION, value);
    Ok(())
}

/// A header value holding a credential: hyper never logs it.
fn sensitive(value: &str) -> Result<HeaderValue, GatewayError> {
    let mut value = HeaderValue::from_str(value).map_err(|_| {
        GatewayError::bad_request(
            "the API key contains characters not allowed in an HTTP header",
            Some("api_key"),
        )
    })?;
    value.set_sensitive(true);
    Ok(value)
}

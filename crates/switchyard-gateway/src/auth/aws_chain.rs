//! The AWS default credential chain (the AWS SDK's own, from `aws-config`) for Bedrock
//! providers whose operator opts in with the provider option `aws_auth_type: default_chain` in
//! the server's config file.
//!
//! The chain tries, in order: the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`), the shared profile files (`~/.aws/credentials`, `~/.aws/config`,
//! `AWS_PROFILE`, `AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`, with `role_arn` profiles
//! assumed through STS), web identity (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`, as on
//! EKS), the ECS container endpoint and the EC2 instance metadata service. SSO profiles and
//! `credential_process` are not compiled in.
//!
//! This is the gateway's own identity, so it is only ever used for a target whose credentials
//! are the operator's ([`Leaf::server_credentials`], decided in `config::gateway::leaf`): the
//! operator's provider options name the chain, the target did not change that choice or bring
//! keys of its own, and its host is the operator's. A client asking for the chain on any other
//! target is refused with a 400.
//!
//! The chain is built once, on first use, and its credentials are kept until five minutes before
//! they expire; refreshing is the chain's own async call (one at a time, the others wait for
//! it). Nothing here formats a secret: errors name the chain's failure, never a key.

use std::sync::RwLock;
use std::time::{Duration, SystemTime};

use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::provider_config::ProviderConfig;
use aws_config::Region;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::Credentials;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use tokio::sync::{Mutex, OnceCell};

use super::aws::{AwsCredentials, OPT_REGION};
use super::AuthError;
use crate::config::Secret;
use crate::routing::tree::Leaf;

/// The provider option choosing how a Bedrock target authenticates (Portkey's `awsAuthType`,
/// `x-portkey-aws-auth-type`).
pub const OPT_AUTH_TYPE: &str = "aws_auth_type";
/// [`OPT_AUTH_TYPE`]: the gateway's AWS default credential chain.
pub const DEFAULT_CHAIN: &str = "default_chain";

/// The values [`OPT_AUTH_TYPE`] may take: Portkey's `accessKey` (keys in the options, the
/// default) and `apiKey` (a Bedrock API key as the target's key), and [`DEFAULT_CHAIN`].
/// Portkey's `assumedRole` (its gateway's own identity assuming a role the request names) is not
/// supported: a profile with `role_arn` under the default chain serves that case for the
/// operator.
const AUTH_TYPES: &[&str] = &["accessKey", "apiKey", DEFAULT_CHAIN];

/// Cached credentials are refreshed this long before they expire.
const REFRESH_BEFORE: Duration = Duration::from_secs(300);

/// The options name the default chain.
pub fn names_default_chain(options: &switchyard_providers::native::ProviderOptions) -> bool {
    options
        .get(OPT_AUTH_TYPE)
        .is_some_and(|v| v.trim() == DEFAULT_CHAIN)
}

/// Checks an `aws_auth_type` value from the server's config file. The message never holds more
/// than the value itself (not a secret).
pub fn check_auth_type(value: &str) -> Result<(), String> {
    let v = value.trim();
    if AUTH_TYPES.contains(&v) {
        return Ok(());
    }
    if v == "assumedRole" {
        return Err(format!(
            "`assumedRole` is not supported; use `{DEFAULT_CHAIN}` with a shared-config profile that has role_arn (and external_id)"
        ));
    }
    Err(format!(
        "must be one of {} (got {v:?})",
        AUTH_TYPES.join(", ")
    ))
}

/// The target may sign with the gateway's own AWS identity: its credentials are the operator's,
/// the operator's provider options (the server's config file) choose the chain, the target kept
/// that choice, and its host is not a client's.
pub fn allowed(leaf: &Leaf) -> bool {
    leaf.server_credentials
        && !leaf.client_host
        && names_default_chain(&leaf.provider.options)
        && leaf.options.get(OPT_AUTH_TYPE) == leaf.provider.options.get(OPT_AUTH_TYPE)
}

/// The process's default chain and its cached credentials.
struct Chain {
    provider: OnceCell<DefaultCredentialsChain>,
    cached: RwLock<Option<Credentials>>,
    refresh: Mutex<()>,
}

static CHAIN: Chain = Chain {
    provider: OnceCell::const_new(),
    cached: RwLock::new(None),
    refresh: Mutex::const_new(()),
};

fn fresh(creds: &Credentials, now: SystemTime) -> bool {
    creds.expiry().is_none_or(|at| at > now + REFRESH_BEFORE)
}

impl Chain {
    fn cached(&self, now: SystemTime) -> Option<Credentials> {
        let guard = self.cached.read().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().filter(|c| fresh(c, now)).cloned()
    }

    /// Current credentials: the cached ones while fresh, else the chain's (one refresh at a
    /// time). `region` is the region the chain's own STS calls use when the chain is built.
    async fn credentials(&self, region: &str) -> Result<Credentials, AuthError> {
        if let Some(c) = self.cached(SystemTime::now()) {
            return Ok(c);
        }
        let _refreshing = self.refresh.lock().await;
        if let Some(c) = self.cached(SystemTime::now()) {
            return Ok(c);
        }
        let provider = self.provider.get_or_init(|| build(region)).await;
        let creds = provider.provide_credentials().await.map_err(chain_error)?;
        *self.cached.write().unwrap_or_else(|e| e.into_inner()) = Some(creds.clone());
        Ok(creds)
    }
}

/// The SDK's default chain, its STS / ECS / IMDS calls made over hyper 1 with rustls and ring
/// (the gateway's TLS stack; the SDK's default client would bring aws-lc).
async fn build(region: &str) -> DefaultCredentialsChain {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let conf = ProviderConfig::without_region().with_http_client(http);
    DefaultCredentialsChain::builder()
        .configure(conf)
        .region(Region::new(region.to_owned()))
        .build()
        .await
}

/// The chain's failure as the gateway's: a 502 naming what went wrong, never a value. The full
/// cause goes to the server's log (the SDK's errors carry no key material).
fn chain_error(e: CredentialsError) -> AuthError {
    let mut cause = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        cause.push_str(": ");
        cause.push_str(&s.to_string());
        source = s.source();
    }
    tracing::warn!(error = %cause, "the AWS default credential chain failed");
    let what = match &e {
        CredentialsError::CredentialsNotLoaded(_) => {
            "found no credentials (environment, shared profile, web identity, ECS or EC2 role)"
        }
        CredentialsError::ProviderTimedOut(_) => "timed out",
        CredentialsError::InvalidConfiguration(_) => "is misconfigured",
        _ => "failed",
    };
    AuthError::TokenExchange(format!(
        "the gateway's AWS default credential chain {what}; see the server log"
    ))
}

/// The credentials to sign `leaf`'s request with, from the default chain. The caller has
/// checked [`allowed`].
pub async fn credentials(leaf: &Leaf) -> Result<AwsCredentials, AuthError> {
    let region = leaf
        .options
        .get(OPT_REGION)
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .ok_or_else(|| {
            AuthError::InvalidCredentials(format!("{OPT_REGION} is missing (required to sign)"))
        })?;
    let creds = CHAIN.credentials(region).await?;
    Ok(AwsCredentials {
        access_key_id: creds.access_key_id().to_owned(),
        secret_access_key: Secret::new(creds.secret_access_key()),
        session_token: creds.session_token().map(Secret::new),
        region: region.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_types_accept_portkeys_names_and_the_chain() {
        for ok in ["accessKey", "apiKey", "default_chain", " default_chain "] {
            assert_eq!(check_auth_type(ok), Ok(()), "{ok}");
        }
        let e = check_auth_type("assumedRole").unwrap_err();
        assert!(e.contains("not supported"), "{e}");
        let e = check_auth_type("ambient").unwrap_err();
        assert!(e.contains("default_chain"), "{e}");
    }

    #[test]
    fn only_the_exact_option_names_the_chain() {
        let opts = |v: &str| {
            let mut o = switchyard_providers::native::ProviderOptions::new();
            o.insert(OPT_AUTH_TYPE.to_owned(), v.to_owned());
            o
        };
        assert!(names_default_chain(&opts("default_chain")));
        assert!(!names_default_chain(&opts("accessKey")));
        assert!(!names_default_chain(&opts("")));
        assert!(!names_default_chain(
            &switchyard_providers::native::ProviderOptions::new()
        ));
    }

    #[test]
    fn credentials_are_refreshed_before_they_expire() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let lasting = Credentials::new("AKID", "secret", None, None, "test");
        assert!(fresh(&lasting, now));
        let soon = Credentials::new(
            "AKID",
            "secret",
            None,
            Some(now + Duration::from_secs(60)),
            "t",
        );
        assert!(!fresh(&soon, now));
        let later = Credentials::new(
            "AKID",
            "secret",
            None,
            Some(now + Duration::from_secs(3600)),
            "t",
        );
        assert!(fresh(&later, now));
    }
}

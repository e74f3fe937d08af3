//! Where the access key comes from.
//!
//! A [`CredentialsProvider`] is asked for [`Credentials`] before every attempt of every
//! operation, so a provider that rotates keys (STS tokens, a file re-read on change) is
//! honoured without rebuilding the client. The secret and the token never appear in
//! `Debug` output.
//!
//! For programs on Alibaba Cloud: [`DefaultCredentialsChain`] (the official order),
//! [`EcsRamRoleCredentialsProvider`] (instance RAM role), [`StsAssumeRoleCredentialsProvider`],
//! [`OidcRoleCredentialsProvider`] (ACK RRSA), [`CliProfileCredentialsProvider`]
//! (`~/.aliyun/config.json`), [`ProfileCredentialsProvider`] (`~/.alibabacloud/credentials`),
//! [`UriCredentialsProvider`], [`ProcessCredentialsProvider`] and [`CachingCredentialsProvider`].
//! They read variables and the home directory when built, from an [`Environment`] that tests
//! inject. Their errors name the provider and what it tried; network failures and 5xx answers
//! are [transient](CredentialsError::is_transient), which the upload pipeline retries.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

mod caching;
mod chain;
mod ecs;
mod env;
mod http;
mod profile;
mod sts;
mod uri;
mod wire;

pub use caching::{CachingCredentialsProvider, EXPIRY_MARGIN, MAX_REFRESH_AHEAD};
pub use chain::DefaultCredentialsChain;
pub use ecs::EcsRamRoleCredentialsProvider;
pub use env::Environment;
pub use profile::{CliProfileCredentialsProvider, ProfileCredentialsProvider};
pub use sts::{OidcRoleCredentialsProvider, StsAssumeRoleCredentialsProvider};
pub use uri::{ProcessCredentialsProvider, UriCredentialsProvider};

/// Official SDK names, read first.
pub const ENV_ACCESS_KEY_ID: &str = "OSS_ACCESS_KEY_ID";
/// Official SDK names, read first.
pub const ENV_ACCESS_KEY_SECRET: &str = "OSS_ACCESS_KEY_SECRET";
/// Official SDK names, read first.
pub const ENV_SESSION_TOKEN: &str = "OSS_SESSION_TOKEN";
/// The names Alibaba Cloud's documentation tells users to export, read when the `OSS_*` pair is unset.
pub const ENV_ALIBABA_CLOUD_ACCESS_KEY_ID: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
/// See [`ENV_ALIBABA_CLOUD_ACCESS_KEY_ID`].
pub const ENV_ALIBABA_CLOUD_ACCESS_KEY_SECRET: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
/// See [`ENV_ALIBABA_CLOUD_ACCESS_KEY_ID`].
pub const ENV_ALIBABA_CLOUD_SECURITY_TOKEN: &str = "ALIBABA_CLOUD_SECURITY_TOKEN";

/// An access key pair and an optional STS security token.
///
/// ```
/// use oss_blocking::credentials::Credentials;
/// let creds = Credentials::new("LTAI-example", "my-s3cr3t").with_security_token("sts-token");
/// assert_eq!(creds.access_key_id(), "LTAI-example");
/// assert!(!format!("{creds:?}").contains("my-s3cr3t"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    access_key_id: String,
    access_key_secret: String,
    security_token: Option<String>,
    expiration: Option<SystemTime>,
    anonymous: bool,
}

impl Credentials {
    /// Credentials from an AccessKey ID and secret.
    pub fn new(access_key_id: impl Into<String>, access_key_secret: impl Into<String>) -> Self {
        Credentials {
            access_key_id: access_key_id.into(),
            access_key_secret: access_key_secret.into(),
            security_token: None,
            expiration: None,
            anonymous: false,
        }
    }

    /// Marks when these credentials stop working (STS tokens, ECS role credentials). A
    /// presigned URL must not outlive them, and a caching provider refreshes before then.
    ///
    /// ```
    /// use oss_blocking::credentials::Credentials;
    /// use std::time::{Duration, SystemTime};
    /// let until = SystemTime::now() + Duration::from_secs(900);
    /// let creds = Credentials::new("id", "secret").with_expiration(until);
    /// assert_eq!(creds.expiration(), Some(until));
    /// ```
    pub fn with_expiration(mut self, expiration: SystemTime) -> Self {
        self.expiration = Some(expiration);
        self
    }

    /// When these credentials stop working, if they do (`None` for long-lived keys).
    pub fn expiration(&self) -> Option<SystemTime> {
        self.expiration
    }

    /// No keys, on purpose: requests are sent unsigned, for buckets that allow anonymous
    /// access. This is the only way to send an unsigned request; empty keys from any other
    /// source are an error.
    ///
    /// ```
    /// use oss_blocking::credentials::Credentials;
    /// assert!(Credentials::anonymous().is_anonymous());
    /// assert!(!Credentials::new("", "").is_anonymous());
    /// ```
    pub fn anonymous() -> Self {
        Credentials {
            anonymous: true,
            ..Credentials::new("", "")
        }
    }

    /// True for [`Credentials::anonymous`].
    pub fn is_anonymous(&self) -> bool {
        self.anonymous
    }

    /// Adds an STS security token (sent as `x-oss-security-token`). An empty token means none.
    pub fn with_security_token(mut self, token: impl Into<String>) -> Self {
        let token = token.into();
        self.security_token = if token.is_empty() { None } else { Some(token) };
        self
    }

    /// The AccessKey ID (not secret: it is sent in every `Authorization` header).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The AccessKey secret. Used only to derive signing keys.
    pub fn access_key_secret(&self) -> &str {
        &self.access_key_secret
    }

    /// The STS security token, if any.
    pub fn security_token(&self) -> Option<&str> {
        self.security_token.as_deref()
    }

    /// True when both the ID and the secret are non-empty, the rule both official SDKs use.
    pub fn has_keys(&self) -> bool {
        !self.access_key_id.is_empty() && !self.access_key_secret.is_empty()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expiration", &self.expiration)
            .field("anonymous", &self.anonymous)
            .finish()
    }
}

/// Why a provider could not give credentials. Its message never contains a secret.
///
/// An operation retries a failed credentials fetch (with its usual attempts and backoff) when
/// the error is transient: made with [`CredentialsError::transient`], or caused by a network
/// I/O error (timed out, refused, reset, aborted) anywhere in its source chain.
///
/// ```
/// use oss_blocking::credentials::CredentialsError;
/// use std::io;
/// assert!(CredentialsError::transient("the token service is restarting").is_transient());
/// let timeout = io::Error::new(io::ErrorKind::TimedOut, "no answer in 1 s");
/// assert!(CredentialsError::with_source("cannot reach the metadata service", timeout).is_transient());
/// assert!(!CredentialsError::new("no such role").is_transient());
/// ```
#[derive(Debug)]
pub struct CredentialsError {
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
    transient: bool,
}

impl CredentialsError {
    /// An error with a message that tells the user what to set.
    pub fn new(message: impl Into<String>) -> Self {
        CredentialsError {
            message: message.into(),
            source: None,
            transient: false,
        }
    }

    /// An error that may pass (a token service restarting, a throttled answer): operations
    /// retry it.
    pub fn transient(message: impl Into<String>) -> Self {
        CredentialsError {
            transient: true,
            ..CredentialsError::new(message)
        }
    }

    /// True when another try may succeed: made with [`CredentialsError::transient`], or an
    /// `io::Error` of kind timed out, connection refused, reset or aborted is in the source
    /// chain.
    pub fn is_transient(&self) -> bool {
        if self.transient {
            return true;
        }
        let mut cause = std::error::Error::source(self);
        while let Some(e) = cause {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                use std::io::ErrorKind::*;
                if matches!(
                    io.kind(),
                    TimedOut | ConnectionRefused | ConnectionReset | ConnectionAborted
                ) {
                    return true;
                }
            }
            cause = e.source();
        }
        false
    }

    /// Marks this error transient (network failures of the networked providers).
    pub(crate) fn into_transient(mut self) -> Self {
        self.transient = true;
        self
    }

    /// An error caused by another one (a failed file read, a failed STS call, ...).
    pub fn with_source(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        CredentialsError {
            message: message.into(),
            source: Some(source.into()),
            transient: false,
        }
    }
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CredentialsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e.as_ref() as &(dyn std::error::Error + 'static))
    }
}

/// Gives the credentials for one request attempt. Implement it to plug in your own source.
///
/// Any `Fn() -> Result<Credentials, CredentialsError> + Send + Sync` closure is a provider:
///
/// ```
/// use oss_blocking::credentials::{Credentials, CredentialsProvider};
/// let provider = || Ok(Credentials::new("id", "secret"));
/// assert_eq!(provider.credentials().unwrap().access_key_id(), "id");
/// ```
pub trait CredentialsProvider: Send + Sync {
    /// Returns the credentials to sign the next attempt with.
    fn credentials(&self) -> Result<Credentials, CredentialsError>;
}

impl<F> CredentialsProvider for F
where
    F: Fn() -> Result<Credentials, CredentialsError> + Send + Sync,
{
    fn credentials(&self) -> Result<Credentials, CredentialsError> {
        self()
    }
}

impl<P: CredentialsProvider + ?Sized> CredentialsProvider for Arc<P> {
    fn credentials(&self) -> Result<Credentials, CredentialsError> {
        (**self).credentials()
    }
}

/// Fixed credentials, for keys your program already holds.
///
/// ```
/// use oss_blocking::credentials::{CredentialsProvider, StaticCredentialsProvider};
/// let provider = StaticCredentialsProvider::new("id", "secret").security_token("token");
/// assert_eq!(provider.credentials().unwrap().security_token(), Some("token"));
/// ```
#[derive(Clone, Debug)]
pub struct StaticCredentialsProvider {
    credentials: Credentials,
}

impl StaticCredentialsProvider {
    /// A provider that always returns this key pair.
    pub fn new(access_key_id: impl Into<String>, access_key_secret: impl Into<String>) -> Self {
        StaticCredentialsProvider {
            credentials: Credentials::new(access_key_id, access_key_secret),
        }
    }

    /// Adds an STS security token.
    pub fn security_token(mut self, token: impl Into<String>) -> Self {
        self.credentials = self.credentials.with_security_token(token);
        self
    }
}

impl CredentialsProvider for StaticCredentialsProvider {
    fn credentials(&self) -> Result<Credentials, CredentialsError> {
        if self.credentials.has_keys() {
            Ok(self.credentials.clone())
        } else {
            Err(CredentialsError::new(
                "the static credentials have an empty AccessKey ID or secret",
            ))
        }
    }
}

/// Reads the keys from the environment at every request, so rotated keys are picked up.
///
/// It reads `OSS_ACCESS_KEY_ID` / `OSS_ACCESS_KEY_SECRET` / `OSS_SESSION_TOKEN` (the official
/// SDKs' names) and, when that pair is unset or empty, `ALIBABA_CLOUD_ACCESS_KEY_ID` /
/// `ALIBABA_CLOUD_ACCESS_KEY_SECRET` / `ALIBABA_CLOUD_SECURITY_TOKEN` (the names Alibaba Cloud's
/// documentation tells users to export). The token is taken from the same family as the keys.
///
/// ```
/// use oss_blocking::credentials::{CredentialsProvider, EnvironmentVariableCredentialsProvider};
/// let provider = EnvironmentVariableCredentialsProvider::new();
/// if std::env::var_os("OSS_ACCESS_KEY_ID").is_none()
///     && std::env::var_os("ALIBABA_CLOUD_ACCESS_KEY_ID").is_none()
/// {
///     let err = provider.credentials().unwrap_err();
///     assert!(err.to_string().contains("OSS_ACCESS_KEY_ID"));
/// }
/// ```
#[derive(Clone, Debug, Default)]
pub struct EnvironmentVariableCredentialsProvider {
    /// `None`: the live process environment, read at every call.
    environment: Option<Environment>,
}

impl EnvironmentVariableCredentialsProvider {
    /// A provider reading the process environment.
    pub fn new() -> Self {
        EnvironmentVariableCredentialsProvider { environment: None }
    }

    /// A provider reading these variables instead of the process's (for tests and for
    /// [`DefaultCredentialsChain::with_environment`]).
    ///
    /// ```
    /// use oss_blocking::credentials::*;
    /// let env = Environment::empty()
    ///     .var("ALIBABA_CLOUD_ACCESS_KEY_ID", "id")
    ///     .var("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secret");
    /// let provider = EnvironmentVariableCredentialsProvider::from_environment(env);
    /// assert_eq!(provider.credentials().unwrap().access_key_id(), "id");
    /// ```
    pub fn from_environment(environment: Environment) -> Self {
        EnvironmentVariableCredentialsProvider {
            environment: Some(environment),
        }
    }
}

impl CredentialsProvider for EnvironmentVariableCredentialsProvider {
    fn credentials(&self) -> Result<Credentials, CredentialsError> {
        match &self.environment {
            Some(env) => credentials_from_lookup(|name| env.get(name).map(str::to_string)),
            None => credentials_from_lookup(|name| std::env::var(name).ok()),
        }
    }
}

/// The environment rule as a pure function of a variable lookup, so it is testable without
/// touching the process environment.
pub(crate) fn credentials_from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Credentials, CredentialsError> {
    let families = [
        (ENV_ACCESS_KEY_ID, ENV_ACCESS_KEY_SECRET, ENV_SESSION_TOKEN),
        (
            ENV_ALIBABA_CLOUD_ACCESS_KEY_ID,
            ENV_ALIBABA_CLOUD_ACCESS_KEY_SECRET,
            ENV_ALIBABA_CLOUD_SECURITY_TOKEN,
        ),
    ];
    for (id_var, secret_var, token_var) in families {
        let id = lookup(id_var).unwrap_or_default();
        let secret = lookup(secret_var).unwrap_or_default();
        if !id.is_empty() && !secret.is_empty() {
            let token = lookup(token_var).unwrap_or_default();
            return Ok(Credentials::new(id, secret).with_security_token(token));
        }
    }
    Err(CredentialsError::new(format!(
        "no credentials in the environment: set {ENV_ACCESS_KEY_ID} and {ENV_ACCESS_KEY_SECRET} \
         (and {ENV_SESSION_TOKEN} for STS), or {ENV_ALIBABA_CLOUD_ACCESS_KEY_ID} and \
         {ENV_ALIBABA_CLOUD_ACCESS_KEY_SECRET} (and {ENV_ALIBABA_CLOUD_SECURITY_TOKEN}); \
         both the ID and the secret must be non-empty"
    )))
}

/// No credentials, on purpose: requests are sent unsigned, for buckets that allow anonymous
/// writes. It is the only provider whose requests go out unsigned: empty keys from any other
/// provider are a [`crate::ErrorKind::Credentials`] error and nothing is sent.
///
/// ```
/// use oss_blocking::credentials::AnonymousCredentialsProvider;
/// let cfg = oss_blocking::Config::load_default()
///     .region("cn-hangzhou")
///     .credentials_provider(AnonymousCredentialsProvider::new());
/// # let _ = cfg;
/// ```
#[derive(Clone, Debug, Default)]
pub struct AnonymousCredentialsProvider {
    _private: (),
}

impl AnonymousCredentialsProvider {
    /// A provider whose requests carry no signature.
    pub fn new() -> Self {
        AnonymousCredentialsProvider { _private: () }
    }
}

impl CredentialsProvider for AnonymousCredentialsProvider {
    fn credentials(&self) -> Result<Credentials, CredentialsError> {
        Ok(Credentials::anonymous())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn official_names_win_over_alibaba_cloud_names() {
        let creds = credentials_from_lookup(lookup(&[
            ("OSS_ACCESS_KEY_ID", "oss-id"),
            ("OSS_ACCESS_KEY_SECRET", "oss-secret"),
            ("OSS_SESSION_TOKEN", "oss-token"),
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ac-id"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ac-secret"),
            ("ALIBABA_CLOUD_SECURITY_TOKEN", "ac-token"),
        ]))
        .unwrap();
        assert_eq!(creds.access_key_id(), "oss-id");
        assert_eq!(creds.access_key_secret(), "oss-secret");
        assert_eq!(creds.security_token(), Some("oss-token"));
    }

    #[test]
    fn falls_back_to_alibaba_cloud_names_with_their_token() {
        let creds = credentials_from_lookup(lookup(&[
            ("OSS_ACCESS_KEY_ID", ""),
            ("OSS_SESSION_TOKEN", "stale"),
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ac-id"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ac-secret"),
            ("ALIBABA_CLOUD_SECURITY_TOKEN", "ac-token"),
        ]))
        .unwrap();
        assert_eq!(creds.access_key_id(), "ac-id");
        assert_eq!(creds.security_token(), Some("ac-token"));
    }

    #[test]
    fn missing_or_half_set_names_both_pairs() {
        for vars in [
            &[][..],
            &[("OSS_ACCESS_KEY_ID", "only-id")][..],
            &[("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "only-secret")][..],
        ] {
            let msg = credentials_from_lookup(lookup(vars))
                .unwrap_err()
                .to_string();
            for name in [
                "OSS_ACCESS_KEY_ID",
                "OSS_ACCESS_KEY_SECRET",
                "ALIBABA_CLOUD_ACCESS_KEY_ID",
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            ] {
                assert!(msg.contains(name), "{msg} should name {name}");
            }
            assert!(!msg.contains("only-secret"));
        }
    }

    #[test]
    fn empty_token_means_no_token() {
        let creds = Credentials::new("a", "b").with_security_token("");
        assert_eq!(creds.security_token(), None);
    }

    #[test]
    fn debug_hides_secret_and_token() {
        let creds = Credentials::new("id", "s3cr3t-value").with_security_token("t0ken-value");
        let text = format!(
            "{creds:?} {:?}",
            StaticCredentialsProvider::new("id", "s3cr3t-value")
        );
        assert!(!text.contains("s3cr3t-value"));
        assert!(!text.contains("t0ken-value"));
        assert!(text.contains("id"));
    }

    #[test]
    fn static_provider_rejects_empty_keys() {
        assert!(StaticCredentialsProvider::new("", "x")
            .credentials()
            .is_err());
        assert!(StaticCredentialsProvider::new("x", "")
            .credentials()
            .is_err());
    }
}

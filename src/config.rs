//! Client settings: a plain struct with chained setters, read once by [`crate::Client::new`].
//!
//! Defaults follow the official Python SDK v2 `Config.load_default()`: signature V4,
//! connect timeout 10 s, read/write timeout 20 s, 3 attempts, CRC-64 check on.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::credentials::CredentialsProvider;

/// Default connect timeout (the Python SDK's value).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default read/write timeout (the Python SDK's value).
pub const DEFAULT_READWRITE_TIMEOUT: Duration = Duration::from_secs(20);
/// Default attempts per operation, the first one included.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// Default base of the exponential backoff between attempts.
pub const DEFAULT_RETRY_BASE_DELAY: Duration = Duration::from_millis(200);
/// Default cap of the backoff between attempts.
pub const DEFAULT_RETRY_MAX_BACKOFF: Duration = Duration::from_secs(20);
/// Default number of idle connections the pool keeps per host: enough for an
/// [`crate::Uploader`] at parallel 16 (ureq's own default, 3, made 8 threads reconnect).
pub const DEFAULT_MAX_IDLE_CONNECTIONS_PER_HOST: usize = 16;

/// Settings for a [`crate::Client`].
///
/// ```
/// use oss_blocking as oss;
/// let cfg = oss::Config::load_default()
///     .credentials_provider(oss::credentials::EnvironmentVariableCredentialsProvider::new())
///     .region("cn-hangzhou")
///     .endpoint("http://127.0.0.1:9000")
///     .use_path_style(true);
/// assert_eq!(cfg.get_region(), Some("cn-hangzhou"));
/// ```
#[derive(Clone)]
pub struct Config {
    pub(crate) region: Option<String>,
    pub(crate) endpoint: Option<String>,
    pub(crate) use_path_style: bool,
    pub(crate) use_cname: bool,
    pub(crate) use_internal_endpoint: bool,
    pub(crate) use_accelerate_endpoint: bool,
    pub(crate) use_dualstack_endpoint: bool,
    pub(crate) disable_ssl: bool,
    pub(crate) cloud_box_id: Option<String>,
    pub(crate) credentials_provider: Option<Arc<dyn CredentialsProvider>>,
    pub(crate) disable_upload_crc64_check: bool,
    pub(crate) connect_timeout: Duration,
    pub(crate) readwrite_timeout: Duration,
    pub(crate) retry_max_attempts: u32,
    pub(crate) retry_base_delay: Duration,
    pub(crate) retry_max_backoff: Duration,
    pub(crate) user_agent: Option<String>,
    pub(crate) additional_headers: Vec<String>,
    pub(crate) auto_content_md5: bool,
    pub(crate) proxy: Option<String>,
    pub(crate) proxy_from_environment: bool,
    pub(crate) tls_ca_pem: Vec<Vec<u8>>,
    pub(crate) insecure_skip_verify: bool,
    pub(crate) signature_version: SignatureVersion,
    pub(crate) presign_clamp_to_credentials: bool,
    pub(crate) max_idle_connections_per_host: usize,
}

/// The signing scheme of every request and presigned URL of a client.
///
/// ```
/// use oss_blocking as oss;
/// let cfg = oss::Config::load_default().signature_version(oss::SignatureVersion::V1);
/// assert_eq!(cfg.get_signature_version(), oss::SignatureVersion::V1);
/// assert_eq!(oss::SignatureVersion::default(), oss::SignatureVersion::V4);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureVersion {
    /// `OSS4-HMAC-SHA256` (HMAC-SHA256, region-scoped): the default, and what OSS recommends.
    #[default]
    V4,
    /// The legacy `OSS <ak>:<signature>` (HMAC-SHA1), for endpoints and deployments that
    /// still require it. Presigned V1 URLs have no 7-day limit.
    V1,
}

impl Default for Config {
    fn default() -> Self {
        Config::load_default()
    }
}

impl Config {
    /// The official SDKs' defaults. Region, endpoint and credentials are left to the caller.
    pub fn load_default() -> Self {
        Config {
            region: None,
            endpoint: None,
            use_path_style: false,
            use_cname: false,
            use_internal_endpoint: false,
            use_accelerate_endpoint: false,
            use_dualstack_endpoint: false,
            disable_ssl: false,
            cloud_box_id: None,
            credentials_provider: None,
            disable_upload_crc64_check: false,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            readwrite_timeout: DEFAULT_READWRITE_TIMEOUT,
            retry_max_attempts: DEFAULT_MAX_ATTEMPTS,
            retry_base_delay: DEFAULT_RETRY_BASE_DELAY,
            retry_max_backoff: DEFAULT_RETRY_MAX_BACKOFF,
            user_agent: None,
            additional_headers: Vec::new(),
            auto_content_md5: false,
            proxy: None,
            proxy_from_environment: false,
            tls_ca_pem: Vec::new(),
            insecure_skip_verify: false,
            signature_version: SignatureVersion::V4,
            presign_clamp_to_credentials: false,
            max_idle_connections_per_host: DEFAULT_MAX_IDLE_CONNECTIONS_PER_HOST,
        }
    }

    /// The region id without the `oss-` prefix, e.g. `cn-hangzhou`. Required: it is part of
    /// every V4 signature, even with an explicit endpoint.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// An explicit endpoint, e.g. `oss-cn-hangzhou.aliyuncs.com` or `http://127.0.0.1:9000`.
    /// A bare host means https (http with [`Config::disable_ssl`]). Overrides the one derived
    /// from the region.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Put the bucket in the path (`host/bucket/key`) instead of the host name. IP-address
    /// endpoints always use path style.
    pub fn use_path_style(mut self, yes: bool) -> Self {
        self.use_path_style = yes;
        self
    }

    /// The endpoint is a custom domain bound to the bucket: the bucket is not put in the URL.
    /// Takes precedence over path style.
    pub fn use_cname(mut self, yes: bool) -> Self {
        self.use_cname = yes;
        self
    }

    /// Use `oss-<region>-internal.aliyuncs.com` (from inside Alibaba Cloud, no traffic fee).
    pub fn use_internal_endpoint(mut self, yes: bool) -> Self {
        self.use_internal_endpoint = yes;
        self
    }

    /// Use the global acceleration endpoint `oss-accelerate.aliyuncs.com`.
    pub fn use_accelerate_endpoint(mut self, yes: bool) -> Self {
        self.use_accelerate_endpoint = yes;
        self
    }

    /// Use the IPv4/IPv6 dual-stack endpoint `<region>.oss.aliyuncs.com`.
    pub fn use_dualstack_endpoint(mut self, yes: bool) -> Self {
        self.use_dualstack_endpoint = yes;
        self
    }

    /// Use http instead of https for endpoints given without a scheme.
    pub fn disable_ssl(mut self, yes: bool) -> Self {
        self.disable_ssl = yes;
        self
    }

    /// A CloudBox id: it replaces the region in the signature and the product becomes
    /// `oss-cloudbox`.
    pub fn cloud_box_id(mut self, id: impl Into<String>) -> Self {
        self.cloud_box_id = Some(id.into());
        self
    }

    /// Where the access key comes from, asked before every attempt.
    pub fn credentials_provider(mut self, provider: impl CredentialsProvider + 'static) -> Self {
        self.credentials_provider = Some(Arc::new(provider));
        self
    }

    /// Turn off the CRC-64 comparison of uploaded bytes with `x-oss-hash-crc64ecma` (on by
    /// default; the CRC costs little next to the network).
    pub fn disable_upload_crc64_check(mut self, yes: bool) -> Self {
        self.disable_upload_crc64_check = yes;
        self
    }

    /// How long to wait for a TCP (and TLS) connection. Default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a send of the request or a wait for the response may stall. Default 20 s.
    pub fn readwrite_timeout(mut self, timeout: Duration) -> Self {
        self.readwrite_timeout = timeout;
        self
    }

    /// Idle connections the pool keeps per host for reuse (default 16). Keep it at least the
    /// number of threads sharing the client (e.g. [`crate::Uploader::parallel`]): a thread
    /// that finds no idle connection opens a new one, which on OSS is a TLS handshake.
    ///
    /// ```
    /// let cfg = oss_blocking::Config::load_default().max_idle_connections_per_host(32);
    /// # let _ = cfg;
    /// ```
    pub fn max_idle_connections_per_host(mut self, connections: usize) -> Self {
        self.max_idle_connections_per_host = connections;
        self
    }

    /// Attempts per operation, the first included (1 means no retry). Default 3; 0 is read as 1.
    pub fn retry_max_attempts(mut self, attempts: u32) -> Self {
        self.retry_max_attempts = attempts.max(1);
        self
    }

    /// Base of the full-jitter exponential backoff: the wait before retry `n` is random in
    /// `[0, min(base * 2^n, max_backoff))`. Default 200 ms.
    pub fn retry_base_delay(mut self, delay: Duration) -> Self {
        self.retry_base_delay = delay;
        self
    }

    /// Cap of the wait between attempts. Default 20 s.
    pub fn retry_max_backoff(mut self, delay: Duration) -> Self {
        self.retry_max_backoff = delay;
        self
    }

    /// Text appended to the `User-Agent` header.
    pub fn user_agent(mut self, suffix: impl Into<String>) -> Self {
        self.user_agent = Some(suffix.into());
        self
    }

    /// Extra header names to include in the V4 signature (e.g. `host`), as the Go SDK's
    /// `AdditionalHeaders`.
    pub fn additional_headers<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.additional_headers = names.into_iter().map(Into::into).collect();
        self
    }

    /// Compute and send `Content-MD5` for in-memory and file bodies that have none (off by
    /// default, as in the official SDKs): OSS then rejects a body that changed on the way
    /// with `InvalidDigest` before storing it. Costs one extra read of a file body; streams
    /// of unknown content are sent without it.
    pub fn auto_content_md5(mut self, yes: bool) -> Self {
        self.auto_content_md5 = yes;
        self
    }

    /// Send every request through this proxy, e.g. `http://proxy.example:3128`,
    /// `http://user:pass@proxy.example:3128` or `socks5://127.0.0.1:1080` (https targets go
    /// through it with `CONNECT`). Unset by default: no proxy. Takes precedence over
    /// [`Config::proxy_from_environment`]. A malformed URL is reported by the first operation.
    ///
    /// ```
    /// let cfg = oss_blocking::Config::load_default().proxy("http://127.0.0.1:3128");
    /// ```
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(url.into());
        self
    }

    /// Use the proxy named by the `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY` environment variables
    /// (lowercase too), except for hosts listed in `NO_PROXY`. Off by default, as in the Go SDK:
    /// a variable set for other programs must not silently route uploads elsewhere. Read once,
    /// when the [`crate::Client`] is built.
    ///
    /// ```
    /// let cfg = oss_blocking::Config::load_default().proxy_from_environment(true);
    /// ```
    pub fn proxy_from_environment(mut self, yes: bool) -> Self {
        self.proxy_from_environment = yes;
        self
    }

    /// Trust these CA certificates (PEM, one or more `CERTIFICATE` blocks) instead of the
    /// built-in Mozilla roots, e.g. for a private OSS-compatible endpoint or a TLS-inspecting
    /// corporate proxy. Call again to add more bundles. A bundle without a certificate is
    /// reported by the first operation.
    ///
    /// ```
    /// # let pem = b"-----BEGIN CERTIFICATE-----\n...".to_vec();
    /// let cfg = oss_blocking::Config::load_default().tls_ca_pem(pem);
    /// ```
    pub fn tls_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls_ca_pem.push(pem.into());
        self
    }

    /// **Unsafe: turns off TLS certificate verification**, so anyone on the network path can
    /// read and change the uploads and see the signed requests. Only for throwaway tests
    /// against a server whose certificate you cannot get; prefer [`Config::tls_ca_pem`].
    /// Off by default.
    ///
    /// ```
    /// let cfg = oss_blocking::Config::load_default().insecure_skip_verify(false);
    /// ```
    pub fn insecure_skip_verify(mut self, yes: bool) -> Self {
        self.insecure_skip_verify = yes;
        self
    }

    /// Sign every request and presigned URL with this scheme ([`SignatureVersion::V4`] by
    /// default).
    pub fn signature_version(mut self, version: SignatureVersion) -> Self {
        self.signature_version = version;
        self
    }

    /// What [`crate::Client::presign`] does when the URL would outlive the credentials that
    /// sign it (temporary STS or ECS-role credentials carry an expiry, and a URL stops working
    /// when its token expires whatever its own expiry): `false` (the default) refuses with an
    /// [`crate::ErrorKind::InvalidArgument`] error, `true` shortens the URL's validity to the
    /// credentials' expiry; [`crate::PresignedRequest::expiration`] is the effective one.
    ///
    /// ```
    /// let cfg = oss_blocking::Config::load_default().presign_clamp_to_credentials(true);
    /// ```
    pub fn presign_clamp_to_credentials(mut self, yes: bool) -> Self {
        self.presign_clamp_to_credentials = yes;
        self
    }

    /// The signing scheme ([`Config::signature_version`]).
    pub fn get_signature_version(&self) -> SignatureVersion {
        self.signature_version
    }

    /// The configured region, if any.
    pub fn get_region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The configured endpoint, if any.
    pub fn get_endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("use_path_style", &self.use_path_style)
            .field("use_cname", &self.use_cname)
            .field("use_internal_endpoint", &self.use_internal_endpoint)
            .field("use_accelerate_endpoint", &self.use_accelerate_endpoint)
            .field("use_dualstack_endpoint", &self.use_dualstack_endpoint)
            .field("disable_ssl", &self.disable_ssl)
            .field("cloud_box_id", &self.cloud_box_id)
            .field(
                "credentials_provider",
                &self.credentials_provider.as_ref().map(|_| "<set>"),
            )
            .field(
                "disable_upload_crc64_check",
                &self.disable_upload_crc64_check,
            )
            .field("connect_timeout", &self.connect_timeout)
            .field("readwrite_timeout", &self.readwrite_timeout)
            .field("retry_max_attempts", &self.retry_max_attempts)
            .field("retry_base_delay", &self.retry_base_delay)
            .field("retry_max_backoff", &self.retry_max_backoff)
            .field("user_agent", &self.user_agent)
            .field("additional_headers", &self.additional_headers)
            .field("auto_content_md5", &self.auto_content_md5)
            .field("proxy", &self.proxy.as_deref().map(redact_userinfo))
            .field("proxy_from_environment", &self.proxy_from_environment)
            .field("tls_ca_pem", &self.tls_ca_pem.len())
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .field("signature_version", &self.signature_version)
            .field(
                "presign_clamp_to_credentials",
                &self.presign_clamp_to_credentials,
            )
            .field(
                "max_idle_connections_per_host",
                &self.max_idle_connections_per_host,
            )
            .finish()
    }
}

/// A proxy URL with any `user:password@` replaced, for Debug output.
fn redact_userinfo(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at_checked(authority_end).unwrap_or((rest, ""));
    match authority.rsplit_once('@') {
        Some((_, host)) if scheme.is_empty() => format!("<redacted>@{host}{tail}"),
        Some((_, host)) => format!("{scheme}://<redacted>@{host}{tail}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_passwords_are_redacted_in_debug() {
        let cfg = Config::load_default().proxy("http://alice:s3cret@proxy.example:3128/");
        let text = format!("{cfg:?}");
        assert!(!text.contains("s3cret"), "{text}");
        assert!(!text.contains("alice"), "{text}");
        assert!(
            text.contains("http://<redacted>@proxy.example:3128/"),
            "{text}"
        );
        assert_eq!(redact_userinfo("proxy:8080"), "proxy:8080");
        assert_eq!(redact_userinfo("u:p@proxy:8080"), "<redacted>@proxy:8080");
    }

    #[test]
    fn no_proxy_and_full_verification_by_default() {
        let cfg = Config::load_default();
        assert_eq!(cfg.proxy, None);
        assert!(!cfg.proxy_from_environment);
        assert!(!cfg.insecure_skip_verify);
        assert!(cfg.tls_ca_pem.is_empty());
    }
}

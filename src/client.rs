//! The client: one connection pool, the config, and the one send loop every operation uses.
//!
//! The loop, per attempt: fetch credentials, sign with a fresh time, rewind and send the body
//! through the body tracker (CRC-64 + progress in the same pass), then classify the response:
//! success, a retryable failure (5xx, 401, 408, 429, `RequestTimeTooSkewed`, `BadRequest`,
//! connection errors, CRC mismatch) or a final one.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ureq::http;

use crate::body::{Body, ProgressFn, Tracker};
use crate::config::Config;
use crate::credentials::CredentialsProvider;
use crate::endpoint;
use crate::error::{ErrorKind, OperationError, ServiceError};
use crate::signer;

/// ureq's per-connection output buffer. A body of known length (bytes, a file) is read from its
/// source straight into it and written to the socket from it, with no other copy. 512 KiB
/// instead of ureq's 128 KiB halves the syscalls of a large upload and lets the receiver drain
/// fuller reads (see `examples/bench.rs`); it is allocated once per pooled connection.
const UPLOAD_BUFFER_SIZE: usize = 512 * 1024;

/// Largest response body read into memory (error documents, callback results).
const MAX_RESPONSE_BODY: u64 = 4 * 1024 * 1024;

/// A blocking OSS client. Cheap to clone (an `Arc`), `Send + Sync`: share one across threads
/// so they share its connection pool.
///
/// ```
/// use oss_blocking as oss;
/// # let emu = oss::emulator::Emulator::start().unwrap();
/// # let cfg = emu.config();
/// // cfg: region, endpoint and credentials, e.g. from Config::load_default()
/// let client = oss::Client::new(cfg);
/// let result = client
///     .put_object(oss::PutObjectRequest::new(emu.bucket(), "a.txt").body("Hello, OSS!"))
///     .unwrap();
/// assert_eq!(result.status_code, 200);
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    agent: ureq::Agent,
    user_agent: String,
    /// Server time minus local time, in milliseconds, learned from `RequestTimeTooSkewed`.
    clock_offset_ms: AtomicI64,
    /// A TLS or proxy setting that could not be used, reported by every operation.
    setup_error: Option<String>,
}

/// One operation as the send loop sees it.
pub(crate) struct OperationInput<'a> {
    pub name: &'static str,
    pub method: &'static str,
    pub bucket: &'a str,
    pub key: Option<&'a str>,
    pub headers: Vec<(String, String)>,
    /// Query parameters, unencoded; encoded once here for both the URL and the signature.
    pub query: Vec<(String, String)>,
    pub body: &'a mut Body,
    pub progress: Option<&'a mut ProgressFn>,
    /// The request stores an object: a 2xx answer must carry `x-oss-request-id` and `ETag`,
    /// and the CRC-64 of the sent body is compared with `x-oss-hash-crc64ecma`.
    pub stores_object: bool,
}

/// A successful response.
pub(crate) struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body, up to `MAX_RESPONSE_BODY` (a callback server's answer, a 203 error).
    pub body: Vec<u8>,
}

/// Case-insensitive header lookup shared by results and errors.
pub(crate) fn find_header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

impl Client {
    /// Builds a client. Configuration problems (no region, a malformed endpoint) are reported
    /// by the first operation, as an [`ErrorKind::InvalidArgument`] error.
    pub fn new(config: Config) -> Client {
        let (tls, tls_error) = tls_config(&config);
        let (proxy, proxy_error) = proxy_config(&config);
        let agent_config = ureq::Agent::config_builder()
            .tls_config(tls)
            // ureq's default reads HTTP(S)_PROXY; proxies are used only when asked for.
            .proxy(proxy)
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_per_read(Some(config.readwrite_timeout))
            .timeout_per_write(Some(config.readwrite_timeout))
            .user_agent(ureq::config::AutoHeaderValue::None)
            .accept(ureq::config::AutoHeaderValue::None)
            .accept_encoding(ureq::config::AutoHeaderValue::None)
            .output_buffer_size(UPLOAD_BUFFER_SIZE)
            .build();
        let mut user_agent = format!(
            "oss-blocking/{} ({}/{})",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH
        );
        if let Some(suffix) = config.user_agent.as_deref().filter(|s| !s.is_empty()) {
            user_agent.push('/');
            user_agent.push_str(suffix);
        }
        Client {
            inner: Arc::new(Inner {
                agent: agent_config.into(),
                config,
                user_agent,
                clock_offset_ms: AtomicI64::new(0),
                setup_error: tls_error.or(proxy_error),
            }),
        }
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The signing time: now, corrected by the offset learned from the server's clock.
    fn now(&self) -> SystemTime {
        let offset = self.inner.clock_offset_ms.load(Ordering::Relaxed);
        apply_clock_offset(SystemTime::now(), offset)
    }

    fn learn_clock_offset(&self, server_time: SystemTime) {
        let offset_ms = clock_offset_ms(server_time, SystemTime::now());
        self.inner
            .clock_offset_ms
            .store(offset_ms, Ordering::Relaxed);
    }

    /// The send loop shared by every operation.
    pub(crate) fn execute(
        &self,
        mut input: OperationInput<'_>,
    ) -> Result<RawResponse, OperationError> {
        let op = input.name;
        let cfg = &self.inner.config;
        if let Some(message) = &self.inner.setup_error {
            return Err(OperationError::invalid_argument(op, message.clone()));
        }
        let endpoint =
            endpoint::resolve(cfg).map_err(|m| OperationError::invalid_argument(op, m))?;
        let scope =
            endpoint::signing_scope(cfg).map_err(|m| OperationError::invalid_argument(op, m))?;
        let provider: &dyn CredentialsProvider = match cfg.credentials_provider.as_deref() {
            Some(p) => p,
            None => {
                return Err(OperationError::new(
                    op,
                    ErrorKind::Credentials,
                    "no credentials provider: set Config::credentials_provider, e.g. \
                     EnvironmentVariableCredentialsProvider::new() with OSS_ACCESS_KEY_ID and \
                     OSS_ACCESS_KEY_SECRET exported",
                ))
            }
        };
        let raw_query = input
            .query
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    signer::escape_query_component(k),
                    signer::escape_query_component(v)
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        let mut url = endpoint.url(input.bucket, input.key);
        if !raw_query.is_empty() {
            url.push('?');
            url.push_str(&raw_query);
        }
        let uri: http::Uri = url.parse().map_err(|e| {
            OperationError::invalid_argument(op, format!("cannot build a URL from {url:?}"))
                .with_source(e)
        })?;
        let mut base_headers = std::mem::take(&mut input.headers);
        base_headers.push(("User-Agent".to_string(), self.inner.user_agent.clone()));
        validate_headers(op, &base_headers)?;
        let total = input.body.known_length();
        let max_attempts = cfg.retry_max_attempts.max(1);
        let request_target = format!("{} {url}", input.method);

        let mut attempt = 0u32;
        loop {
            attempt = attempt.saturating_add(1);
            let outcome = self.attempt(
                &mut input,
                provider,
                &scope,
                &uri,
                &base_headers,
                total,
                &request_target,
                &raw_query,
            );
            let failure = match outcome {
                Ok(response) => return Ok(response),
                Err(failure) => failure,
            };
            let Failure { error, retryable } = failure;
            let error = error.with_attempts(attempt);
            if !retryable || attempt >= max_attempts {
                return Err(error);
            }
            if !input.body.is_rewindable() {
                return Err(error.with_note(
                    "could not be retried: the body is a one-shot stream that was already read \
                     (use bytes, a file or Body::from_seekable to allow retries)",
                ));
            }
            std::thread::sleep(backoff_delay(attempt, cfg));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn attempt(
        &self,
        input: &mut OperationInput<'_>,
        provider: &dyn CredentialsProvider,
        scope: &endpoint::SigningScope,
        uri: &http::Uri,
        base_headers: &[(String, String)],
        total: Option<u64>,
        request_target: &str,
        raw_query: &str,
    ) -> Result<RawResponse, Failure> {
        let op = input.name;
        let credentials = provider.credentials().map_err(|e| {
            Failure::fatal(
                OperationError::new(op, ErrorKind::Credentials, "cannot get credentials")
                    .with_source(e),
            )
        })?;
        let mut headers = crate::Headers::from(base_headers.to_vec());
        if credentials.has_keys() {
            let ctx = signer::SigningContext::new(&credentials, &scope.region, self.now())
                .product(&scope.product)
                .additional_headers(&self.inner.config.additional_headers);
            signer::sign_v4_headers(
                input.method,
                Some(input.bucket),
                input.key,
                raw_query,
                &mut headers,
                &ctx,
            );
        }
        let reader = input.body.attempt_reader().map_err(|e| {
            Failure::fatal(
                OperationError::new(op, ErrorKind::Io, "cannot read the body").with_source(e),
            )
        })?;
        let mut tracker = Tracker::new(reader, total, input.progress.as_deref_mut());

        let mut builder = http::Request::builder()
            .method(input.method)
            .uri(uri.clone());
        for (name, value) in headers.as_slice() {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let request = builder
            .body(ureq::SendBody::from_reader(&mut tracker))
            .map_err(|e| {
                Failure::fatal(
                    OperationError::invalid_argument(op, "cannot build the HTTP request")
                        .with_source(e),
                )
            })?;
        let sent = self.inner.agent.run(request);
        if sent.is_ok() {
            tracker.finish();
        }
        let local_error = tracker.take_local_error();
        let client_crc = tracker.crc64();
        let bytes_sent = tracker.sent();
        drop(tracker);

        let response = match sent {
            Ok(response) => response,
            Err(e) => {
                if let Some(local) = local_error {
                    let what = match input.body.path() {
                        Some(p) => format!("cannot read {}", p.display()),
                        None => "cannot read the body".to_string(),
                    };
                    return Err(Failure::fatal(
                        OperationError::new(op, ErrorKind::Io, what).with_source(local),
                    ));
                }
                let retryable = is_retryable_transport(&e);
                return Err(Failure {
                    error: OperationError::new(
                        op,
                        ErrorKind::Transport,
                        format!("{request_target} failed"),
                    )
                    .with_source(e),
                    retryable,
                });
            }
        };

        let status = response.status().as_u16();
        let response_headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let request_id = find_header(&response_headers, "x-oss-request-id").map(str::to_string);
        let body = response
            .into_body()
            .with_config()
            .limit(MAX_RESPONSE_BODY)
            .read_to_vec();

        if (200..300).contains(&status) {
            let body = match body {
                Ok(body) => body,
                Err(e) => {
                    return Err(Failure {
                        error: OperationError::new(
                            op,
                            ErrorKind::Transport,
                            format!("{request_target}: reading the response failed"),
                        )
                        .with_source(e)
                        .with_request_id(request_id),
                        retryable: true,
                    })
                }
            };
            let missing = ["x-oss-request-id", "ETag"]
                .into_iter()
                .find(|name| find_header(&response_headers, name).is_none());
            if let (true, Some(missing)) = (input.stores_object, missing) {
                // OSS answers a stored upload with a request id and an ETag: a 2xx without
                // them came from something in the way (a captive portal, a misrouted proxy)
                // and the bytes may never have reached OSS. Success would be a false claim.
                let excerpt: String = String::from_utf8_lossy(&body).chars().take(64).collect();
                return Err(Failure {
                    error: OperationError::new(
                        op,
                        ErrorKind::Transport,
                        format!(
                            "{request_target}: HTTP {status} without {missing} is not an OSS \
                             upload answer (body starts {excerpt:?}); the object may not have \
                             been stored"
                        ),
                    )
                    .with_request_id(request_id),
                    retryable: true,
                });
            }
            if input.stores_object && !self.inner.config.disable_upload_crc64_check {
                if let Some(server) = find_header(&response_headers, "x-oss-hash-crc64ecma") {
                    let client = client_crc.to_string();
                    if !crc_matches(server, client_crc) || total.is_some_and(|t| t != bytes_sent) {
                        return Err(Failure {
                            error: OperationError::new(
                                op,
                                ErrorKind::CrcMismatch,
                                format!(
                                    "crc is inconsistent, client {client}, server {}: the bytes \
                                     OSS stored differ from the bytes sent",
                                    server.trim()
                                ),
                            )
                            .with_request_id(request_id),
                            retryable: true,
                        });
                    }
                }
            }
            return Ok(RawResponse {
                status,
                headers: response_headers,
                body,
            });
        }

        let body = body.unwrap_or_default();
        let service = ServiceError::from_response(status, &response_headers, &body, request_target);
        if service.code() == "RequestTimeTooSkewed" {
            if let Some(server_time) = service.timestamp() {
                self.learn_clock_offset(server_time);
            }
        }
        let retryable = status >= 500
            || matches!(status, 401 | 408 | 429)
            || matches!(service.code(), "RequestTimeTooSkewed" | "BadRequest");
        Err(Failure {
            error: OperationError::service(op, service),
            retryable,
        })
    }
}

struct Failure {
    error: OperationError,
    retryable: bool,
}

impl Failure {
    fn fatal(error: OperationError) -> Self {
        Failure {
            error,
            retryable: false,
        }
    }
}

/// The TLS settings: the built-in Mozilla roots, or only the user's CAs; verification off only
/// when asked for. The error names the field.
fn tls_config(config: &Config) -> (ureq::tls::TlsConfig, Option<String>) {
    let mut builder = ureq::tls::TlsConfig::builder();
    let mut error = None;
    if !config.tls_ca_pem.is_empty() {
        let mut certs = Vec::new();
        for pem in &config.tls_ca_pem {
            let before = certs.len();
            for item in ureq::tls::parse_pem(pem) {
                match item {
                    Ok(ureq::tls::PemItem::Certificate(cert)) => certs.push(cert),
                    Ok(_) => {}
                    Err(_) => {
                        error = Some(
                            "invalid field, tls_ca_pem: the PEM data cannot be parsed".to_string(),
                        );
                    }
                }
            }
            if certs.len() == before && error.is_none() {
                error = Some(
                    "invalid field, tls_ca_pem: no \"-----BEGIN CERTIFICATE-----\" block found"
                        .to_string(),
                );
            }
        }
        builder = builder.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
    }
    if config.insecure_skip_verify {
        builder = builder.disable_verification(true);
    }
    (builder.build(), error)
}

/// The proxy: the configured URL, the environment's when asked for, else none. The message
/// leaves the URL out, since it may hold a password.
fn proxy_config(config: &Config) -> (Option<ureq::Proxy>, Option<String>) {
    match (&config.proxy, config.proxy_from_environment) {
        (Some(url), _) => match ureq::Proxy::new(url) {
            Ok(proxy) => (Some(proxy), None),
            Err(_) => (
                None,
                Some(
                    "invalid field, proxy: not a proxy URL; use scheme://host:port with scheme \
                     http, https, socks4, socks4a, socks5 or socks5h"
                        .to_string(),
                ),
            ),
        },
        (None, true) => (ureq::Proxy::try_from_env(), None),
        (None, false) => (None, None),
    }
}

/// Header names must be tokens and values must not contain control characters (a CR or LF
/// would split the request): checked before anything is sent.
fn validate_headers(op: &'static str, headers: &[(String, String)]) -> Result<(), OperationError> {
    for (name, value) in headers {
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(OperationError::invalid_argument(
                op,
                format!("invalid header name {name:?}: use letters, digits and - only"),
            ));
        }
        if http::HeaderValue::from_str(value).is_err() {
            return Err(OperationError::invalid_argument(
                op,
                format!(
                    "invalid value for header {name}: use visible ASCII characters, no control \
                     characters or line breaks (percent-encode other text)"
                ),
            ));
        }
    }
    Ok(())
}

/// Server time minus local time in milliseconds, saturating (a hostile `Date` far in the
/// past or future cannot overflow it).
pub(crate) fn clock_offset_ms(server_time: SystemTime, now: SystemTime) -> i64 {
    match server_time.duration_since(now) {
        Ok(ahead) => i64::try_from(ahead.as_millis()).unwrap_or(i64::MAX),
        Err(behind) => i64::try_from(behind.duration().as_millis())
            .map(i64::saturating_neg)
            .unwrap_or(-i64::MAX),
    }
}

/// `now` shifted by a learned offset; left unshifted when the result is not representable.
pub(crate) fn apply_clock_offset(now: SystemTime, offset_ms: i64) -> SystemTime {
    let magnitude = Duration::from_millis(offset_ms.unsigned_abs());
    let shifted = if offset_ms >= 0 {
        now.checked_add(magnitude)
    } else {
        now.checked_sub(magnitude)
    };
    shifted.unwrap_or(now)
}

/// True when the server's `x-oss-hash-crc64ecma` value names the CRC-64 the client computed
/// (decimal, surrounding spaces ignored, as OSS sends it).
pub(crate) fn crc_matches(server: &str, client_crc: u64) -> bool {
    server.trim() == client_crc.to_string()
}

/// Connection failures are retried, except those a new attempt cannot fix: a bad URL or
/// proxy, TLS failures (rustls reports an unknown issuer, an expired certificate or a name
/// mismatch as an I/O error of kind `InvalidData`), and a response over the size limit.
fn is_retryable_transport(e: &ureq::Error) -> bool {
    if let ureq::Error::Io(io) = e {
        if io.kind() == std::io::ErrorKind::InvalidData {
            return false;
        }
    }
    !matches!(
        e,
        ureq::Error::Http(_)
            | ureq::Error::BadUri(_)
            | ureq::Error::InvalidProxyUrl
            | ureq::Error::Tls(_)
            | ureq::Error::Rustls(_)
            | ureq::Error::Pem(_)
            | ureq::Error::BodyExceedsLimit(_)
    )
}

/// Full-jitter exponential backoff: a random delay in `[0, min(base * 2^retry, max))`, with
/// `retry` counting from 1 as in the Python SDK (the first retry waits at most 2 * base).
fn backoff_delay(retry: u32, cfg: &Config) -> Duration {
    let ceiling = cfg
        .retry_base_delay
        .checked_mul(1u32.checked_shl(retry.min(30)).unwrap_or(u32::MAX))
        .unwrap_or(cfg.retry_max_backoff)
        .min(cfg.retry_max_backoff);
    ceiling.mul_f64(random_unit())
}

/// A uniform number in [0, 1) for jitter; falls back to the clock when the OS RNG fails.
fn random_unit() -> f64 {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    let raw = match ring::rand::SystemRandom::new().fill(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes),
        Err(_) => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos() as u64)
            .unwrap_or(0),
    };
    (raw >> 11) as f64 / (1u64 << 53) as f64
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .field(
                "clock_offset_ms",
                &self.inner.clock_offset_ms.load(Ordering::Relaxed),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_is_send_sync_and_clone() {
        fn assert_traits<T: Send + Sync + Clone + 'static>() {}
        assert_traits::<Client>();
    }

    #[test]
    fn backoff_stays_under_its_ceiling() {
        let cfg = Config::load_default()
            .retry_base_delay(Duration::from_millis(200))
            .retry_max_backoff(Duration::from_secs(20));
        for retry in 1..40 {
            let ceiling = Duration::from_millis(200)
                .saturating_mul(1 << retry.min(30))
                .min(Duration::from_secs(20));
            for _ in 0..20 {
                assert!(backoff_delay(retry, &cfg) < ceiling.max(Duration::from_nanos(1)));
            }
        }
    }

    #[test]
    fn clock_offsets_saturate_and_round_trip() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let ahead = now + Duration::from_secs(1200);
        assert_eq!(clock_offset_ms(ahead, now), 1_200_000);
        assert_eq!(clock_offset_ms(now, ahead), -1_200_000);
        assert_eq!(apply_clock_offset(now, 1_200_000), ahead);
        assert_eq!(apply_clock_offset(ahead, -1_200_000), now);
        // A hostile Date far away cannot overflow, and an unrepresentable shift is ignored.
        let far = UNIX_EPOCH + Duration::from_secs(u64::MAX / 4);
        assert!(clock_offset_ms(far, UNIX_EPOCH) > 0);
        assert!(clock_offset_ms(UNIX_EPOCH, far) < 0);
        for extreme in [i64::MIN, i64::MAX] {
            let _ = apply_clock_offset(now, extreme); // must not panic
        }
    }

    #[test]
    fn crc_values_compare_as_oss_sends_them() {
        assert!(crc_matches("5981764153023615706", 5981764153023615706));
        assert!(crc_matches(" 5981764153023615706 ", 5981764153023615706));
        assert!(!crc_matches("5981764153023615707", 5981764153023615706));
        assert!(!crc_matches("", 0));
        assert!(!crc_matches("0x0", 0));
    }

    #[test]
    fn backoff_ceiling_starts_at_twice_the_base_and_is_capped() {
        let cfg = Config::load_default()
            .retry_base_delay(Duration::from_millis(200))
            .retry_max_backoff(Duration::from_millis(500));
        for _ in 0..200 {
            assert!(backoff_delay(1, &cfg) < Duration::from_millis(400));
            assert!(backoff_delay(3, &cfg) < Duration::from_millis(500));
        }
        let zero = Config::load_default().retry_base_delay(Duration::ZERO);
        assert_eq!(backoff_delay(5, &zero), Duration::ZERO);
    }

    #[test]
    fn random_unit_is_in_range() {
        for _ in 0..1000 {
            let x = random_unit();
            assert!((0.0..1.0).contains(&x));
        }
    }

    #[test]
    fn header_values_with_line_breaks_are_refused() {
        let bad = vec![("x-oss-meta-a".to_string(), "a\r\nInjected: 1".to_string())];
        let err = validate_headers("PutObject", &bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(err.to_string().contains("x-oss-meta-a"));
        let bad = vec![("bad header".to_string(), "v".to_string())];
        assert!(validate_headers("PutObject", &bad).is_err());
    }
}

//! The HTTP side: one ureq agent (connection pool, TLS, proxy, timeouts), sending one request
//! with its body pulled through a reader, and reading the answer.

use std::io::Read;

use ureq::http;

use crate::config::Config;
use crate::headers::Headers;

/// ureq's per-connection output buffer. A body of known length (bytes, a file) is read from its
/// source straight into it and written to the socket from it, with no other copy. 512 KiB
/// instead of ureq's 128 KiB halves the syscalls of a large upload and lets the receiver drain
/// fuller reads (see `examples/bench.rs`); it is allocated once per pooled connection.
const UPLOAD_BUFFER_SIZE: usize = 512 * 1024;

/// Largest response body read into memory (error documents, callback results, XML results).
const MAX_RESPONSE_BODY: u64 = 4 * 1024 * 1024;

/// An answer read off the wire: status, headers and the body (up to [`MAX_RESPONSE_BODY`]).
pub(crate) struct Answer {
    pub status: u16,
    pub headers: Headers,
    /// The body, or the error that cut it short.
    pub body: Result<Vec<u8>, ureq::Error>,
}

/// The agent for [`Config`], and the message of a TLS or proxy setting that cannot be used
/// (every operation reports it, naming the field).
pub(crate) fn agent(config: &Config) -> (ureq::Agent, Option<String>) {
    let (tls, tls_error) = tls_config(config);
    let (proxy, proxy_error) = proxy_config(config);
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
        // The pool's total must not be below the per-host cap, or the cap cannot be reached.
        .max_idle_connections_per_host(config.max_idle_connections_per_host)
        .max_idle_connections(config.max_idle_connections_per_host.max(10))
        .build();
    (agent_config.into(), tls_error.or(proxy_error))
}

/// The `User-Agent` this client sends unless the request sets its own.
pub(crate) fn user_agent(config: &Config) -> String {
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
    user_agent
}

/// Sends one request, pulling the body from `body`, and reads the answer.
pub(crate) fn send(
    agent: &ureq::Agent,
    method: &str,
    uri: &http::Uri,
    headers: &Headers,
    body: &mut dyn Read,
) -> Result<Answer, ureq::Error> {
    let mut builder = http::Request::builder().method(method).uri(uri.clone());
    for (name, value) in headers.iter() {
        builder = builder.header(name, value);
    }
    let request = builder.body(ureq::SendBody::from_reader(body))?;
    let response = agent.run(request)?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str(), String::from_utf8_lossy(v.as_bytes())))
        .map(|(k, v)| (k.to_string(), v.into_owned()))
        .collect();
    let body = response
        .into_body()
        .with_config()
        .limit(MAX_RESPONSE_BODY)
        .read_to_vec();
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// The TLS settings: the built-in Mozilla roots, or only the user's CAs; verification off only
/// when asked for. The error names the field.
fn tls_config(config: &Config) -> (ureq::tls::TlsConfig, Option<String>) {
    tls_config_parts(&config.tls_ca_pem, config.insecure_skip_verify)
}

/// [`tls_config`] from its two settings, shared with the credentials providers' agent.
fn tls_config_parts(
    tls_ca_pem: &[Vec<u8>],
    insecure_skip_verify: bool,
) -> (ureq::tls::TlsConfig, Option<String>) {
    let mut builder = ureq::tls::TlsConfig::builder();
    let mut error = None;
    if !tls_ca_pem.is_empty() {
        let mut certs = Vec::new();
        for pem in tls_ca_pem {
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
    if insecure_skip_verify {
        builder = builder.disable_verification(true);
    }
    (builder.build(), error)
}

/// The small agent of the networked credentials providers: the crate's TLS stack with the
/// given CA certificates (none: the built-in roots; verification always on), no proxy, no
/// redirects, and the provider's short timeouts. The error names the field.
pub(crate) fn credentials_agent(
    tls_ca_pem: &[Vec<u8>],
    connect: std::time::Duration,
    read: std::time::Duration,
) -> (ureq::Agent, Option<String>) {
    let (tls, error) = tls_config_parts(tls_ca_pem, false);
    let config = ureq::Agent::config_builder()
        .tls_config(tls)
        .proxy(None)
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_connect(Some(connect))
        .timeout_recv_response(Some(read))
        .timeout_recv_body(Some(read))
        .timeout_per_write(Some(read))
        .user_agent(ureq::config::AutoHeaderValue::Provided(
            std::sync::Arc::new(format!(
                "oss-blocking/{} credentials",
                env!("CARGO_PKG_VERSION")
            )),
        ))
        .build();
    (config.into(), error)
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

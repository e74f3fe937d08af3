//! The networked providers' HTTP: a small ureq agent of the crate's stack (short timeouts, the
//! crate's TLS, no proxy, no redirects), one call, and the rules for what an answer means.

use std::io::Read as _;
use std::time::Duration;

use super::CredentialsError;

/// Largest credentials answer read (real ones are under 4 KiB).
const MAX_ANSWER: u64 = 64 * 1024;

/// A status and a body (lossy UTF-8).
pub(crate) struct Reply {
    pub status: u16,
    pub body: String,
}

/// An agent with the provider's timeouts.
pub(crate) struct Http {
    agent: ureq::Agent,
    setup_error: Option<String>,
    connect: Duration,
    read: Duration,
    ca_pem: Vec<Vec<u8>>,
}

impl Http {
    pub(crate) fn new(connect: Duration, read: Duration) -> Self {
        Self::with_ca(connect, read, Vec::new())
    }

    fn with_ca(connect: Duration, read: Duration, ca_pem: Vec<Vec<u8>>) -> Self {
        let (agent, setup_error) = crate::transport::credentials_agent(&ca_pem, connect, read);
        Http {
            agent,
            setup_error,
            connect,
            read,
            ca_pem,
        }
    }

    /// The same agent trusting only these CA certificates (PEM) instead of the built-in roots;
    /// repeatable, as `Config::tls_ca_pem`.
    pub(crate) fn add_ca_pem(self, pem: Vec<u8>) -> Self {
        let mut ca_pem = self.ca_pem;
        ca_pem.push(pem);
        Self::with_ca(self.connect, self.read, ca_pem)
    }

    /// Sends one request. `who` (the provider) and `what` (e.g. `GET http://host/path`, with no
    /// secret in it) start every error message. Network failures are transient.
    pub(crate) fn call(
        &self,
        who: &str,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Reply, CredentialsError> {
        let what = format!("{method} {}", display_url(url));
        if let Some(e) = &self.setup_error {
            return Err(CredentialsError::new(format!("{who}: {what}: {e}")));
        }
        let mut builder = ureq::http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder
            .body(body.unwrap_or_default().to_vec())
            .map_err(|_| bad_url(who, &what))?;
        let response = self
            .agent
            .run(request)
            .map_err(|e| network_error(who, &what, e))?;
        let status = response.status().as_u16();
        let mut bytes = Vec::new();
        response
            .into_body()
            .into_reader()
            .take(MAX_ANSWER)
            .read_to_end(&mut bytes)
            .map_err(|e| {
                CredentialsError::with_source(format!("{who}: {what}: the answer was cut short"), e)
                    .into_transient()
            })?;
        Ok(Reply {
            status,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }
}

fn bad_url(who: &str, what: &str) -> CredentialsError {
    CredentialsError::new(format!(
        "{who}: {what}: not a valid URL (the rule: http[s]://host[:port][/path])"
    ))
}

/// A failed exchange: transient, except a URL that cannot be used.
fn network_error(who: &str, what: &str, e: ureq::Error) -> CredentialsError {
    match e {
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => bad_url(who, what),
        // A certificate that does not verify will not verify on the next try either.
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) => {
            CredentialsError::new(format!("{who}: {what}: TLS: {e}"))
        }
        ureq::Error::Io(io) => {
            use std::io::ErrorKind::*;
            // A failed TLS handshake (unknown CA, bad certificate) also arrives as an I/O
            // error, of kind InvalidData: only the network kinds are worth another try.
            let transient = matches!(
                io.kind(),
                TimedOut
                    | ConnectionRefused
                    | ConnectionReset
                    | ConnectionAborted
                    | NotConnected
                    | BrokenPipe
                    | UnexpectedEof
                    | Interrupted
                    | AddrNotAvailable
                    | HostUnreachable
                    | NetworkUnreachable
            );
            let why = if transient {
                "network error"
            } else {
                "TLS or protocol error"
            };
            let err = CredentialsError::with_source(format!("{who}: {what}: {why}"), io);
            if transient {
                err.into_transient()
            } else {
                err
            }
        }
        // The other kinds carry no URL or secret in their text (timeouts, DNS, TLS, protocol).
        other => CredentialsError::transient(format!("{who}: {what}: {other}")),
    }
}

/// The error for a non-2xx status: 5xx and 429 are transient, other 4xx are not. `detail`
/// must not hold a secret.
pub(crate) fn status_error(who: &str, what: &str, status: u16, detail: &str) -> CredentialsError {
    let message = if detail.is_empty() {
        format!("{who}: {what}: HTTP {status}")
    } else {
        format!("{who}: {what}: HTTP {status}: {detail}")
    };
    if status >= 500 || status == 429 {
        CredentialsError::transient(message)
    } else {
        CredentialsError::new(message)
    }
}

/// A URL for messages: scheme, host, port and path; no user info, query or fragment.
pub(crate) fn display_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let cut = rest.find(['?', '#']).unwrap_or(rest.len());
    let rest = rest.get(..cut).unwrap_or(rest);
    let rest = match rest.find('/') {
        Some(slash) => {
            let (authority, path) = rest.split_at(slash);
            format!("{}{path}", strip_userinfo(authority))
        }
        None => strip_userinfo(rest).to_string(),
    };
    if scheme.is_empty() {
        rest
    } else {
        format!("{scheme}://{rest}")
    }
}

fn strip_userinfo(authority: &str) -> &str {
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_in_messages_lose_query_and_user_info() {
        assert_eq!(
            display_url("http://user:pw@127.0.0.1:9000/creds?token=s3cr3t#x"),
            "http://127.0.0.1:9000/creds"
        );
        assert_eq!(
            display_url("https://sts.aliyuncs.com"),
            "https://sts.aliyuncs.com"
        );
        assert_eq!(display_url("no-scheme/p?q"), "no-scheme/p");
    }

    #[test]
    fn server_errors_are_transient_client_errors_are_not() {
        assert!(status_error("P", "GET u", 500, "").is_transient());
        assert!(status_error("P", "GET u", 503, "").is_transient());
        assert!(status_error("P", "GET u", 429, "").is_transient());
        assert!(!status_error("P", "GET u", 403, "NoPermission").is_transient());
        assert!(!status_error("P", "GET u", 404, "").is_transient());
        assert_eq!(
            status_error("P", "GET u", 404, "").to_string(),
            "P: GET u: HTTP 404"
        );
    }

    #[test]
    fn a_refused_connection_is_transient_and_names_the_url() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let http = Http::new(Duration::from_secs(1), Duration::from_secs(1));
        let url = format!("http://127.0.0.1:{port}/x?secret=1");
        let err = http
            .call("TestProvider", "GET", &url, &[], None)
            .err()
            .unwrap();
        assert!(err.is_transient(), "{err}");
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("TestProvider: GET http://127.0.0.1:{port}/x")),
            "{text}"
        );
        assert!(!text.contains("secret"));
    }
}

//! Presigned URLs: a request signed in its query string, handed to someone without keys (a
//! browser, curl, another service) to run once before it expires.
//!
//! [`Client::presign`] accepts any request type that implements [`Presignable`]; the trait is
//! sealed, and each operation file implements it for its own request type by giving the
//! method, bucket, key, headers and query it would send. The pipeline then runs the same
//! prepare step and credentials fetch as a real request and signs the query instead of sending.

use std::fmt;
use std::time::{Duration, SystemTime};

use crate::body::Body;
use crate::client::Client;
use crate::error::OperationError;
use crate::headers::Headers;
use crate::pipeline::{OperationInput, Response};

pub(crate) mod sealed {
    use crate::error::OperationError;
    use crate::headers::Headers;

    /// A request without its body: operation, method, bucket, key, headers and query. Presign
    /// signs it (built from what the caller set only: no Content-Type guess, no automatic
    /// Content-MD5); small operations also send it ([`crate::Client::execute_parts`]).
    #[derive(Debug)]
    pub struct RequestParts {
        pub(crate) name: &'static str,
        pub(crate) method: &'static str,
        pub(crate) bucket: String,
        pub(crate) key: Option<String>,
        pub(crate) headers: Headers,
        pub(crate) query: Vec<(String, String)>,
    }

    /// The crate-internal half of [`super::Presignable`].
    pub trait Sealed {
        /// Checks the request (nothing is signed on bad input) and gives its parts.
        fn presign_parts(self) -> Result<RequestParts, OperationError>;
    }
}

/// A request type that [`Client::presign`] accepts: [`crate::PutObjectRequest`],
/// [`crate::GetObjectRequest`], [`crate::HeadObjectRequest`] and the multipart steps
/// [`crate::InitiateMultipartUploadRequest`], [`crate::UploadPartRequest`],
/// [`crate::CompleteMultipartUploadRequest`] (whoever holds the URL sends the part list as the
/// body) and [`crate::AbortMultipartUploadRequest`]. Sealed: only this crate's request types
/// implement it.
pub trait Presignable: sealed::Sealed {}

/// A presigned request: run it with any HTTP client before [`PresignedRequest::expiration`].
///
/// Send [`PresignedRequest::method`] to [`PresignedRequest::url`] byte for byte (do not decode
/// and re-encode it) with every header of [`PresignedRequest::signed_headers`] and its exact
/// value, and no other `Content-Type`, `Content-MD5` or `x-oss-*` header: OSS signs those it
/// finds, so an extra one (`curl --data-binary` adds a `Content-Type`) breaks the signature.
/// `Host`, `Content-Length`, `User-Agent` and `Date` are free.
///
/// `Debug` shows the URL with its signature and security token redacted; the `url` field
/// itself is the full secret-bearing URL (anyone holding it may run the request).
#[non_exhaustive]
#[derive(Clone, PartialEq, Eq)]
pub struct PresignedRequest {
    /// The HTTP method, e.g. `"PUT"`.
    pub method: String,
    /// The full URL, signature included.
    pub url: String,
    /// When the URL stops working: the requested expiry, or the credentials' expiry when it
    /// was clamped to it ([`crate::Config::presign_clamp_to_credentials`]).
    pub expiration: SystemTime,
    /// The headers the signature covers, names in the case they were set: send exactly these.
    pub signed_headers: Vec<(String, String)>,
}

impl PresignedRequest {
    /// A `curl` command line that runs the request, with `FILE` standing for the data to
    /// upload (PUT) or the file to write (GET). Quoted for a POSIX shell.
    ///
    /// ```
    /// use oss_blocking as oss;
    /// # let emu = oss::emulator::Emulator::start().unwrap();
    /// # let client = oss::Client::new(emu.config());
    /// let p = client.presign(
    ///     oss::PutObjectRequest::new(emu.bucket(), "a.txt").content_type("text/plain"),
    ///     std::time::Duration::from_secs(900),
    /// )?;
    /// let line = p.curl_command();
    /// assert!(line.starts_with("curl -X PUT -H 'Content-Type: text/plain' -T FILE 'http"));
    /// # Ok::<(), oss::OperationError>(())
    /// ```
    pub fn curl_command(&self) -> String {
        let mut parts = vec!["curl".to_string()];
        match self.method.as_str() {
            "GET" => {}
            "HEAD" => parts.push("-I".to_string()),
            other => {
                parts.push("-X".to_string());
                parts.push(other.to_string());
            }
        }
        for (name, value) in &self.signed_headers {
            parts.push("-H".to_string());
            parts.push(shell_quote(&format!("{name}: {value}")));
        }
        match self.method.as_str() {
            "PUT" => parts.push("-T FILE".to_string()),
            "GET" => parts.push("-o FILE".to_string()),
            _ => {}
        }
        parts.push(shell_quote(&self.url));
        parts.join(" ")
    }
}

/// `'text'`, with each `'` written `'\''`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The query parameters of a presigned URL that are secrets.
const SECRET_PARAMETERS: [&str; 4] = [
    "x-oss-signature",
    "x-oss-security-token",
    "Signature",
    "security-token",
];

/// The URL with the values of [`SECRET_PARAMETERS`] replaced by `<redacted>`.
pub(crate) fn redact_url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, query)) => format!("{base}?{}", redact_query(query)),
        None => url.to_string(),
    }
}

/// A raw query with the values of [`SECRET_PARAMETERS`] replaced by `<redacted>`.
pub(crate) fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|piece| match piece.split_once('=') {
            Some((k, _)) if SECRET_PARAMETERS.contains(&k) => format!("{k}=<redacted>"),
            _ => piece.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl fmt::Debug for PresignedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresignedRequest")
            .field("method", &self.method)
            .field("url", &redact_url(&self.url))
            .field("expiration", &self.expiration)
            .field(
                "signed_headers",
                &Headers::from(self.signed_headers.clone()),
            )
            .finish()
    }
}

impl Client {
    /// Signs `request` in its URL's query for `expires` and sends nothing, with the configured
    /// [`crate::SignatureVersion`] (V4 by default). Credentials come from the provider, as for
    /// a real request.
    ///
    /// Rules, each an [`crate::ErrorKind::InvalidArgument`] error before anything is signed:
    /// the request's own checks (bucket, key, options); `expires` of at least 1 second and,
    /// with V4, at most 7 days (604 800 s; V1 has no limit); and when the credentials carry an
    /// expiry (STS, ECS role), a URL that would outlive them, unless
    /// [`crate::Config::presign_clamp_to_credentials`] shortens it instead. A PutObject
    /// presign signs a `Content-Type` only when you set one (no guess from the key), so
    /// `curl -T FILE URL` works as is.
    ///
    /// ```
    /// use oss_blocking as oss;
    /// use std::time::Duration;
    /// # let emu = oss::emulator::Emulator::start().unwrap();
    /// # let client = oss::Client::new(emu.config());
    /// let p = client.presign(
    ///     oss::PutObjectRequest::new(emu.bucket(), "uploads/photo.jpg").content_type("image/jpeg"),
    ///     Duration::from_secs(900),
    /// )?;
    /// assert_eq!(p.method, "PUT");
    /// assert_eq!(p.signed_headers, [("Content-Type".to_string(), "image/jpeg".to_string())]);
    /// // Give this line to whoever uploads:
    /// //   curl -X PUT -H 'Content-Type: image/jpeg' -T FILE 'https://examplebucket.oss-...'
    /// println!("{}", p.curl_command());
    /// # Ok::<(), oss::OperationError>(())
    /// ```
    pub fn presign<R: Presignable>(
        &self,
        request: R,
        expires: Duration,
    ) -> Result<PresignedRequest, OperationError> {
        let mut parts = sealed::Sealed::presign_parts(request)?;
        let mut body = Body::empty();
        let check = |_: &Response| Ok(());
        let input = OperationInput::from_parts(&mut parts, &mut body, &check);
        let presigned = self.presign_input(input, expires)?;
        Ok(PresignedRequest {
            method: parts.method.to_string(),
            url: presigned.url,
            expiration: presigned.expiration,
            signed_headers: presigned.signed_headers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_signature_and_token() {
        let p = PresignedRequest {
            method: "GET".into(),
            url: "https://b.h/k?OSSAccessKeyId=ak&Expires=1&security-token=TOKEN&Signature=SIG"
                .into(),
            expiration: SystemTime::UNIX_EPOCH,
            signed_headers: vec![],
        };
        let shown = format!("{p:?}");
        assert!(
            !shown.contains("TOKEN") && !shown.contains("SIG"),
            "{shown}"
        );
        assert!(shown.contains("OSSAccessKeyId=ak"), "{shown}");
        let v4 = redact_url("https://h/k?x-oss-security-token=T&x-oss-signature=S&a=b");
        assert_eq!(
            v4,
            "https://h/k?x-oss-security-token=<redacted>&x-oss-signature=<redacted>&a=b"
        );
    }

    #[test]
    fn curl_lines_quote_for_the_shell() {
        let p = PresignedRequest {
            method: "PUT".into(),
            url: "https://h/it's?x=1".into(),
            expiration: SystemTime::UNIX_EPOCH,
            signed_headers: vec![("x-oss-meta-a".into(), "x y".into())],
        };
        assert_eq!(
            p.curl_command(),
            "curl -X PUT -H 'x-oss-meta-a: x y' -T FILE 'https://h/it'\\''s?x=1'"
        );
    }
}

//! One error type for every operation, with a kind to match on, and the service's own error
//! (parsed from the XML body) when the server answered with one.
//!
//! Messages never contain the access key secret or the security token: they are built from
//! the request's method, URL and the response, never from signed headers.

use std::fmt;
use std::time::SystemTime;

use base64::Engine as _;

use crate::headers::Headers;

/// What went wrong, to decide what to do next.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A request field broke a rule (bucket or key name, size, option value). Nothing was sent.
    InvalidArgument,
    /// The credentials provider failed or gave empty keys. Nothing was sent.
    Credentials,
    /// Reading the local file or stream failed.
    Io,
    /// The connection failed: DNS, connect, TLS, reset, timeout or a malformed response.
    Transport,
    /// OSS answered with an error (see [`OperationError::service_error`]).
    Service,
    /// The CRC-64 OSS computed over the received bytes differs from the one sent.
    CrcMismatch,
}

impl ErrorKind {
    /// A short lowercase name, as printed in messages.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "invalid argument",
            ErrorKind::Credentials => "credentials",
            ErrorKind::Io => "local I/O",
            ErrorKind::Transport => "transport",
            ErrorKind::Service => "service",
            ErrorKind::CrcMismatch => "CRC-64 mismatch",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The error of one operation (e.g. `PutObject`), after all its attempts.
///
/// ```
/// # use oss_blocking as oss;
/// # let emu = oss::emulator::Emulator::start().unwrap();
/// # let client = oss::Client::new(emu.config());
/// let err = client
///     .put_object(oss::PutObjectRequest::new("no-such-bucket", "a.txt").body("x"))
///     .unwrap_err();
/// assert_eq!(err.operation(), "PutObject");
/// assert_eq!(err.kind(), oss::ErrorKind::Service);
/// let service = err.service_error().unwrap();
/// assert_eq!((service.status_code(), service.code()), (404, "NoSuchBucket"));
/// println!("{err:#}"); // paste into a support ticket: status, code, request id, EC, URL
/// ```
pub struct OperationError {
    operation: &'static str,
    kind: ErrorKind,
    message: String,
    service: Option<Box<ServiceError>>,
    source: Option<BoxError>,
    request_id: Option<String>,
    attempts: u32,
    /// Set when OSS stored the object although the operation failed (a failed callback).
    stored: Option<Box<StoredDespiteError>>,
    /// The multipart upload the failed step belonged to (boxed: the error stays small).
    upload_id: Option<Box<UploadId>>,
}

/// A multipart upload id, boxed in the error.
#[derive(Clone, Debug)]
struct UploadId(String);

/// What OSS said about an object it stored even though the operation reports an error.
#[derive(Clone, Debug)]
struct StoredDespiteError {
    etag: Option<String>,
    hash_crc64: Option<u64>,
}

impl OperationError {
    pub(crate) fn new(
        operation: &'static str,
        kind: ErrorKind,
        message: impl Into<String>,
    ) -> Self {
        OperationError {
            operation,
            kind,
            message: message.into(),
            service: None,
            source: None,
            request_id: None,
            attempts: 0,
            stored: None,
            upload_id: None,
        }
    }

    pub(crate) fn invalid_argument(operation: &'static str, message: impl Into<String>) -> Self {
        OperationError::new(operation, ErrorKind::InvalidArgument, message)
    }

    pub(crate) fn service(operation: &'static str, error: ServiceError) -> Self {
        let request_id = Some(error.request_id.clone()).filter(|id| !id.is_empty());
        OperationError {
            request_id,
            service: Some(Box::new(error)),
            ..OperationError::new(operation, ErrorKind::Service, String::new())
        }
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    pub(crate) fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.request_id = request_id.filter(|id| !id.is_empty());
        self
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    /// Adds what the client did about the failure, keeping the kind and the service error.
    /// For a service error the message is otherwise empty, so the note is all it holds.
    pub(crate) fn with_note(mut self, note: &str) -> Self {
        if !self.message.is_empty() {
            self.message.push_str("; ");
        }
        self.message.push_str(note);
        self
    }

    /// Names the multipart upload the failed step belonged to.
    pub(crate) fn with_upload_id(mut self, upload_id: Option<&str>) -> Self {
        self.upload_id = upload_id.map(|id| Box::new(UploadId(id.to_string())));
        self
    }

    /// The multipart upload id, when the error came from a step of one (an
    /// [`crate::Uploader`] upload after InitiateMultipartUpload succeeded): abort it, or
    /// resume it with the same checkpoint directory.
    ///
    /// ```
    /// # use oss_blocking as oss;
    /// # let emu = oss::emulator::Emulator::start().unwrap();
    /// # let client = oss::Client::new(emu.config());
    /// let err = client
    ///     .put_object(oss::PutObjectRequest::new("no-such-bucket", "a.txt").body("x"))
    ///     .unwrap_err();
    /// assert_eq!(err.upload_id(), None); // not a multipart upload
    /// ```
    pub fn upload_id(&self) -> Option<&str> {
        self.upload_id.as_deref().map(|id| id.0.as_str())
    }

    /// Marks the error as "the object was stored anyway" (HTTP 203 `CallbackFailed`).
    pub(crate) fn with_stored_object(
        mut self,
        etag: Option<String>,
        hash_crc64: Option<u64>,
    ) -> Self {
        self.stored = Some(Box::new(StoredDespiteError { etag, hash_crc64 }));
        self
    }

    /// True when OSS stored the object even though the operation failed: an upload callback
    /// failed (HTTP 203 `CallbackFailed`). Do not upload again; the object is there, with
    /// [`OperationError::etag`] and [`OperationError::hash_crc64`].
    ///
    /// ```
    /// # use oss_blocking as oss;
    /// # let emu = oss::emulator::Emulator::start().unwrap();
    /// # let client = oss::Client::new(emu.config());
    /// // The callback URL answers nothing: OSS stores the object and answers 203.
    /// let callback = oss::Callback::new("http://127.0.0.1:9/unreachable", "object=${object}");
    /// let err = client
    ///     .put_object(
    ///         oss::PutObjectRequest::new(emu.bucket(), "a.txt")
    ///             .body("hi")
    ///             .upload_callback(&callback),
    ///     )
    ///     .unwrap_err();
    /// assert!(err.object_stored());
    /// assert_eq!(err.service_error().map(|e| e.code()), Some("CallbackFailed"));
    /// assert!(err.etag().is_some() && err.hash_crc64().is_some() && err.request_id().is_some());
    /// assert!(emu.object(emu.bucket(), "a.txt").is_some());
    /// ```
    pub fn object_stored(&self) -> bool {
        self.stored.is_some()
    }

    /// The stored object's `ETag` (quotes included), when [`OperationError::object_stored`].
    pub fn etag(&self) -> Option<&str> {
        self.stored.as_ref().and_then(|s| s.etag.as_deref())
    }

    /// The stored object's CRC-64 (`x-oss-hash-crc64ecma`), when
    /// [`OperationError::object_stored`].
    pub fn hash_crc64(&self) -> Option<u64> {
        self.stored.as_ref().and_then(|s| s.hash_crc64)
    }

    /// The operation name as in the OSS API, e.g. `"PutObject"`.
    pub fn operation(&self) -> &str {
        self.operation
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The error OSS returned, when the failure is [`ErrorKind::Service`].
    pub fn service_error(&self) -> Option<&ServiceError> {
        self.service.as_deref()
    }

    /// The `x-oss-request-id` of the last response, if a response arrived. Quote it to support.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// How many HTTP attempts were made (0 when the error came before anything was sent).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// True for timeouts (connect, read or write).
    pub fn is_timeout(&self) -> bool {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = self
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static));
        while let Some(e) = cause {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::TimedOut {
                    return true;
                }
            }
            if let Some(ureq::Error::Timeout(_)) = e.downcast_ref::<ureq::Error>() {
                return true;
            }
            cause = e.source();
        }
        false
    }
}

/// `{}` is one line: the operation, what went wrong, the request id when no service error
/// carries it, and the attempts. Its causes (the service's error document, the I/O or
/// connection error) are not repeated there but returned by `source()`, as Rust error chains
/// expect; `{:#}` prints the line followed by each cause once, as `anyhow`'s `{:#}` does.
impl fmt::Display for OperationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "operation error {}: ", self.operation)?;
        match (&self.service, self.message.is_empty()) {
            (Some(_), true) => f.write_str("the service returned an error")?,
            (Some(_), false) => write!(f, "the service returned an error; {}", self.message)?,
            (None, _) => f.write_str(&self.message)?,
        }
        if let (None, Some(id)) = (&self.service, &self.request_id) {
            write!(f, " (request id {id})")?;
        }
        if let Some(stored) = &self.stored {
            write!(
                f,
                "; the object was stored (ETag {}, CRC-64 {}): only the callback failed, do \
                 not upload it again",
                stored.etag.as_deref().unwrap_or("unknown"),
                stored
                    .hash_crc64
                    .map(|c| c.to_string())
                    .as_deref()
                    .unwrap_or("unknown")
            )?;
        }
        if self.attempts > 1 {
            write!(f, " [after {} attempts]", self.attempts)?;
        }
        if let Some(id) = &self.upload_id {
            write!(f, " [upload id {}]", id.0)?;
        }
        if f.alternate() {
            let mut cause = std::error::Error::source(self);
            while let Some(e) = cause {
                write!(f, ": {e}")?;
                cause = e.source();
            }
        }
        Ok(())
    }
}

impl fmt::Debug for OperationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperationError")
            .field("operation", &self.operation)
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("service", &self.service)
            .field("source", &self.source)
            .field("request_id", &self.request_id)
            .field("attempts", &self.attempts)
            .field("stored", &self.stored)
            .field("upload_id", &self.upload_id)
            .finish()
    }
}

impl std::error::Error for OperationError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        if let Some(service) = &self.service {
            return Some(service.as_ref());
        }
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// An error answered by OSS, parsed from the `<Error>` XML body (or the `x-oss-err` header of
/// a body-less response).
///
/// `Debug` and `Display` never show the security token: OSS echoes the canonical request,
/// token header included, in `SignatureDoesNotMatch` errors, so `Debug` redacts that header and
/// shows the raw body's length only. [`ServiceError::error_field`] and
/// [`ServiceError::raw_body`] return the server's text unchanged: do not log them whole.
#[derive(Clone)]
pub struct ServiceError {
    status_code: u16,
    code: String,
    message: String,
    request_id: String,
    ec: Option<String>,
    host_id: Option<String>,
    fields: Vec<(String, String)>,
    raw_body: Vec<u8>,
    headers: Headers,
    timestamp: Option<SystemTime>,
    request_target: String,
}

/// Code given when the error body is not an OSS `<Error>` document (as the official SDKs do).
pub const BAD_ERROR_RESPONSE: &str = "BadErrorResponse";

impl ServiceError {
    /// Builds the error from a response: status, headers, body and `"<METHOD> <URL>"`.
    ///
    /// Never fails: an empty or non-XML body (a proxy page, a HEAD) still gives the status,
    /// the request id from `x-oss-request-id` and the EC from `x-oss-ec`.
    pub fn from_response(
        status_code: u16,
        headers: &Headers,
        body: &[u8],
        request_target: &str,
    ) -> ServiceError {
        let header = |name: &str| headers.get(name);
        let mut document = body.to_vec();
        if document.iter().all(u8::is_ascii_whitespace) {
            if let Some(decoded) = header("x-oss-err").and_then(|v| {
                base64::engine::general_purpose::STANDARD
                    .decode(v.trim())
                    .ok()
            }) {
                document = decoded;
            }
        }
        let (code, message, fields) = parse_error_document(&document);
        let field = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        let request_id = field("RequestId")
            .or_else(|| header("x-oss-request-id").map(str::to_string))
            .unwrap_or_default();
        let ec = field("EC").or_else(|| header("x-oss-ec").map(str::to_string));
        let host_id = field("HostId");
        let timestamp = header("Date").and_then(|d| httpdate::parse_http_date(d).ok());
        ServiceError {
            status_code,
            code,
            message,
            request_id,
            ec,
            host_id,
            fields,
            raw_body: document,
            headers: headers.clone(),
            timestamp,
            request_target: request_target.to_string(),
        }
    }

    /// The HTTP status, e.g. 404.
    pub fn status_code(&self) -> u16 {
        self.status_code
    }

    /// The OSS error code, e.g. `NoSuchBucket`, `AccessDenied`, `EntityTooLarge`.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The human-readable message from OSS.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The request id (from the body, else the `x-oss-request-id` header).
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// The detailed error code (EC), e.g. `0026-00000002`; look it up in OSS's troubleshooting.
    pub fn ec(&self) -> Option<&str> {
        self.ec.as_deref()
    }

    /// The `HostId` element: the host OSS saw.
    pub fn host_id(&self) -> Option<&str> {
        self.host_id.as_deref()
    }

    /// Any element of the `<Error>` document by tag, e.g. `RecommendDoc`, `StringToSign`.
    /// `CanonicalRequest` holds the request's `x-oss-security-token` header, if it had one.
    pub fn error_field(&self, tag: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == tag)
            .map(|(_, v)| v.as_str())
    }

    /// Every element of the `<Error>` document, in order.
    pub fn error_fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// The raw error body (or the decoded `x-oss-err` header when the body was empty). It may
    /// hold the security token (in `CanonicalRequest`): do not log it whole.
    pub fn raw_body(&self) -> &[u8] {
        &self.raw_body
    }

    /// All response headers.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// A response header by name, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// The server's `Date`, when it sent one.
    pub fn timestamp(&self) -> Option<SystemTime> {
        self.timestamp
    }

    /// `"<METHOD> <URL>"` of the failed request.
    pub fn request_target(&self) -> &str {
        &self.request_target
    }
}

/// Replaces the value of every `x-oss-security-token` line of a canonical request.
fn redact_token_lines(text: &str) -> String {
    text.split('\n')
        .map(|line| {
            let lower = line.trim_start().to_ascii_lowercase();
            if lower.starts_with("x-oss-security-token") {
                "x-oss-security-token:<redacted>"
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl fmt::Debug for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<(&str, String)> = self
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), redact_token_lines(v)))
            .collect();
        f.debug_struct("ServiceError")
            .field("status_code", &self.status_code)
            .field("code", &self.code)
            .field("message", &self.message)
            .field("request_id", &self.request_id)
            .field("ec", &self.ec)
            .field("host_id", &self.host_id)
            .field("fields", &fields)
            .field("raw_body_len", &self.raw_body.len())
            .field("headers", &self.headers)
            .field("timestamp", &self.timestamp)
            .field("request_target", &self.request_target)
            .finish()
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const INDENT: &str = "\n        ";
        write!(f, "Error returned by Service.")?;
        write!(f, "{INDENT}Http Status Code: {}.", self.status_code)?;
        write!(f, "{INDENT}Error Code: {}.", self.code)?;
        write!(f, "{INDENT}Request Id: {}.", self.request_id)?;
        write!(f, "{INDENT}Message: {}.", self.message)?;
        write!(f, "{INDENT}EC: {}.", self.ec.as_deref().unwrap_or(""))?;
        match self.timestamp {
            Some(t) => write!(f, "{INDENT}Timestamp: {}.", python_utc_timestamp(t))?,
            None => write!(f, "{INDENT}Timestamp: .")?,
        }
        write!(f, "{INDENT}Request Endpoint: {}.", self.request_target)
    }
}

impl std::error::Error for ServiceError {}

/// `2023-12-03 12:12:13+00:00`, the layout the Python SDK prints.
fn python_utc_timestamp(t: SystemTime) -> String {
    let compact = crate::signer::format_datetime(t); // 20231203T121212Z
    match (
        compact.get(0..4),
        compact.get(4..6),
        compact.get(6..8),
        compact.get(9..11),
        compact.get(11..13),
        compact.get(13..15),
    ) {
        (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(s)) => {
            format!("{y}-{mo}-{d} {h}:{mi}:{s}+00:00")
        }
        _ => compact,
    }
}

/// Returns (code, message, fields) from an error body, following the official SDKs' rules.
fn parse_error_document(body: &[u8]) -> (String, String, Vec<(String, String)>) {
    let text = String::from_utf8_lossy(body);
    match roxmltree::Document::parse(&text) {
        Ok(doc) => {
            let root = doc.root_element();
            if root.tag_name().name() != "Error" {
                return (
                    BAD_ERROR_RESPONSE.to_string(),
                    format!(
                        "Expect root node Error, but get {}.",
                        root.tag_name().name()
                    ),
                    Vec::new(),
                );
            }
            let fields: Vec<(String, String)> = root
                .children()
                .filter(|n| n.is_element())
                .map(|n| {
                    (
                        n.tag_name().name().to_string(),
                        n.text().unwrap_or("").to_string(),
                    )
                })
                .collect();
            let get = |tag: &str| {
                fields
                    .iter()
                    .find(|(k, _)| k == tag)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            (get("Code"), get("Message"), fields)
        }
        Err(err) => {
            // A body cut short or mangled may still carry the code: look for it.
            let code = text
                .find("<Error>")
                .and_then(|start| text.get(start..))
                .and_then(|error| element_text(error, "Code"))
                .filter(|c| !c.is_empty());
            let excerpt: String = text.chars().take(256).collect();
            let message = format!(
                "Failed to parse xml from response body due to: {err}. With part response body {excerpt:?}."
            );
            match code {
                Some(code) => {
                    let message = text
                        .find("<Error>")
                        .and_then(|start| text.get(start..))
                        .and_then(|error| element_text(error, "Message"))
                        .unwrap_or(message);
                    (code, message, Vec::new())
                }
                None => (BAD_ERROR_RESPONSE.to_string(), message, Vec::new()),
            }
        }
    }
}

/// The text between `<tag>` and `</tag>`, for bodies that are not well-formed XML.
fn element_text(text: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = text.find(&open)?.checked_add(open.len())?;
    let rest = text.get(start..)?;
    let end = rest.find(&close)?;
    rest.get(..end).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_vectors::behaviour;
    use serde_json::Value;

    fn parse_case(case: &Value, target: &str) -> ServiceError {
        let response = &case["response"];
        let headers = crate::test_vectors::headers(&response["headers"]).into();
        ServiceError::from_response(
            response["status"].as_u64().unwrap() as u16,
            &headers,
            response["body"].as_str().unwrap().as_bytes(),
            target,
        )
    }

    #[test]
    fn xml_error_body_gives_every_field_and_the_sdk_text() {
        let case = behaviour("resp-service-error-xml");
        let fields = &case["fields"];
        let err = parse_case(&case, fields["request_target"].as_str().unwrap());
        assert_eq!(err.status_code(), 403);
        assert_eq!(err.code(), fields["code"]);
        assert_eq!(err.message(), fields["message"]);
        assert_eq!(err.request_id(), fields["request_id"]);
        assert_eq!(err.ec(), fields["ec"].as_str());
        assert_eq!(
            err.host_id(),
            Some("examplebucket.oss-cn-hangzhou.aliyuncs.com")
        );
        for (tag, value) in fields["error_fields"].as_object().unwrap() {
            assert_eq!(err.error_field(tag), value.as_str(), "field {tag}");
        }
        assert_eq!(err.to_string(), case["service_error_str"].as_str().unwrap());
        let op = OperationError::service("PutObject", err);
        assert_eq!(
            op.to_string(),
            "operation error PutObject: the service returned an error"
        );
        assert!(format!("{op:#}").starts_with(
            "operation error PutObject: the service returned an error: Error returned by Service."
        ));
        assert_eq!(op.request_id(), Some("65467C42E001B4333337****"));
    }

    #[test]
    fn html_body_is_bad_error_response_with_header_request_id() {
        let case = behaviour("resp-service-error-not-xml");
        let err = parse_case(&case, "PUT x");
        assert_eq!(err.code(), "BadErrorResponse");
        assert_eq!(err.message(), case["fields"]["message"]);
        assert_eq!(err.request_id(), "REQ-404");
        assert_eq!(err.status_code(), 404);
    }

    #[test]
    fn garbage_body_is_bad_error_response_with_an_excerpt() {
        let case = behaviour("resp-service-error-garbage");
        let err = parse_case(&case, "PUT x");
        assert_eq!(err.code(), "BadErrorResponse");
        assert_eq!(err.request_id(), "REQ-400");
        assert!(err
            .message()
            .starts_with("Failed to parse xml from response body"));
        assert!(err.message().contains("this is not xml"));
    }

    #[test]
    fn empty_body_reads_the_x_oss_err_header() {
        let case = behaviour("resp-head-x-oss-err");
        let err = parse_case(&case, "HEAD x");
        assert_eq!(err.code(), "NoSuchKey");
        assert_eq!(err.message(), "The specified key does not exist.");
        assert_eq!(err.request_id(), "REQ-HEAD");
        assert_eq!(err.ec(), Some("0026-00000001"));
    }

    #[test]
    fn empty_body_without_header_keeps_status_and_request_id() {
        let headers: Headers = [("x-oss-request-id", "RID"), ("x-oss-ec", "0003-00000001")]
            .into_iter()
            .collect();
        let err = ServiceError::from_response(502, &headers, b"", "PUT u");
        assert_eq!(err.status_code(), 502);
        assert_eq!(err.code(), BAD_ERROR_RESPONSE);
        assert_eq!(err.request_id(), "RID");
        assert_eq!(err.ec(), Some("0003-00000001"));
    }

    #[test]
    fn truncated_xml_still_finds_the_code() {
        let body =
            b"<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>no</Message><Req";
        let err = ServiceError::from_response(403, &Headers::new(), body, "PUT u");
        assert_eq!(err.code(), "AccessDenied");
        assert_eq!(err.message(), "no");
    }

    #[test]
    fn invalid_utf8_and_odd_documents_never_panic() {
        for body in [
            &b"\xff\xfe<Error>"[..],
            b"<Error/>",
            b"<Error><Code/></Error>",
            b"<<<>>>",
            b"<Error><Code>",
        ] {
            let err = ServiceError::from_response(500, &Headers::new(), body, "PUT u");
            assert_eq!(err.status_code(), 500);
        }
    }
}

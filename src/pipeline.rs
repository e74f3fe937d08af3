//! The one request pipeline every operation goes through.
//!
//! An operation file describes its request as an [`OperationInput`]; the pipeline then
//! 1. prepares it once: URL, encoded query, the headers the transport owns, checks;
//! 2. per attempt: gets credentials, signs (pure, [`crate::signer`]), sends the body through
//!    the tracker (CRC-64 and progress in the same pass) and reads the answer with the body's
//!    [`BodyStats`];
//! 3. runs the operation's own success check on a 2xx answer;
//! 4. hands any failure to [`retry::classify`], which holds the whole retry table.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ureq::http;

use crate::body::{Body, ProgressFn, Tracker};
use crate::client::Client;
use crate::config::SignatureVersion;
use crate::credentials::{Credentials, CredentialsError, CredentialsProvider};
use crate::endpoint::{self, SigningScope};
use crate::error::{ErrorKind, OperationError, ServiceError};
use crate::headers::Headers;
use crate::retry::{self, AttemptFailure, AttemptState, Decision, Refusal};
use crate::{signer, transport};

/// Headers the client itself sets: from the body (`Content-Length`, `Transfer-Encoding`), the
/// endpoint (`Host`) or the signer. A request that names one is refused before anything is
/// sent, since two values would make the request malformed or its signature wrong.
const TRANSPORT_OWNED_HEADERS: [&str; 8] = [
    "Content-Length",
    "Transfer-Encoding",
    "Host",
    "Authorization",
    "Date",
    signer::HEADER_OSS_DATE,
    signer::HEADER_CONTENT_SHA256,
    signer::HEADER_SECURITY_TOKEN,
];

/// One request as an operation describes it.
pub(crate) struct OperationInput<'a> {
    /// The OSS API name, e.g. `PutObject`, used in errors and logs.
    pub name: &'static str,
    pub method: &'static str,
    pub bucket: &'a str,
    pub key: Option<&'a str>,
    /// The operation's headers: the user's values and the operation's defaults, each once.
    pub headers: Headers,
    /// Query parameters, unencoded; encoded once here for both the URL and the signature.
    pub query: Vec<(String, String)>,
    pub body: &'a mut Body,
    pub progress: Option<&'a mut ProgressFn>,
    /// The operation's check of a 2xx answer (ETag present, CRC-64, 203, ...).
    pub check: &'a dyn Fn(&Response) -> Result<(), Rejection>,
}

impl<'a> OperationInput<'a> {
    /// The input for a request given as parts (its headers and query are moved out), with
    /// no progress callback.
    pub(crate) fn from_parts(
        parts: &'a mut crate::presign::sealed::RequestParts,
        body: &'a mut Body,
        check: &'a dyn Fn(&Response) -> Result<(), Rejection>,
    ) -> Self {
        OperationInput {
            name: parts.name,
            method: parts.method,
            bucket: &parts.bucket,
            key: parts.key.as_deref(),
            headers: std::mem::take(&mut parts.headers),
            query: std::mem::take(&mut parts.query),
            body,
            progress: None,
            check,
        }
    }
}

/// What happened to the body during one attempt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct BodyStats {
    /// Bytes handed to the connection.
    pub sent: u64,
    /// CRC-64 of those bytes.
    pub crc64: u64,
    /// The whole body went out.
    pub complete: bool,
}

/// A 2xx answer, with what was sent.
pub(crate) struct Response {
    pub status: u16,
    pub headers: Headers,
    /// The body, up to the transport's limit.
    pub body: Vec<u8>,
    /// `"<METHOD> <URL>"`, for messages.
    pub request_target: String,
    pub stats: BodyStats,
}

/// An operation's refusal of a 2xx answer: why (for the retry table) and the error to report.
pub(crate) struct Rejection {
    pub refusal: Refusal,
    pub error: OperationError,
}

/// Everything that stays the same across attempts.
struct Prepared<'c> {
    provider: &'c dyn CredentialsProvider,
    scope: SigningScope,
    uri: http::Uri,
    raw_query: String,
    headers: Headers,
    request_target: String,
    total: Option<u64>,
    /// The URL without its query.
    base_url: String,
}

/// How one attempt failed, before it becomes an [`OperationError`].
enum Failed {
    Credentials(CredentialsError),
    /// Nothing was (or can be) sent correctly; the error is final.
    Local(OperationError),
    Transport {
        error: ureq::Error,
        body_sent: bool,
    },
    ResponseCut {
        error: ureq::Error,
        request_id: Option<String>,
    },
    Service(Box<ServiceError>),
    Refused(Rejection),
}

impl Failed {
    fn as_failure(&self) -> AttemptFailure<'_> {
        match self {
            Failed::Credentials(e) => AttemptFailure::Credentials(e),
            Failed::Local(_) => AttemptFailure::Local,
            Failed::Transport { error, body_sent } => AttemptFailure::Transport {
                error,
                body_sent: *body_sent,
            },
            Failed::ResponseCut { .. } => AttemptFailure::ResponseCut,
            Failed::Service(s) => AttemptFailure::Service(s),
            Failed::Refused(r) => AttemptFailure::Refused(r.refusal),
        }
    }

    fn into_error(self, op: &'static str, target: &str) -> OperationError {
        match self {
            Failed::Credentials(e) => {
                OperationError::new(op, ErrorKind::Credentials, "cannot get credentials")
                    .with_source(e)
            }
            Failed::Local(error) => error,
            Failed::Transport { error, .. } => {
                OperationError::new(op, ErrorKind::Transport, format!("{target} failed"))
                    .with_source(error)
            }
            Failed::ResponseCut { error, request_id } => OperationError::new(
                op,
                ErrorKind::Transport,
                format!("{target}: reading the response failed"),
            )
            .with_source(error)
            .with_request_id(request_id),
            Failed::Service(service) => OperationError::service(op, *service),
            Failed::Refused(rejection) => rejection.error,
        }
    }
}

impl Client {
    /// Runs one operation: prepare, then attempts until success or a final failure.
    pub(crate) fn execute(
        &self,
        mut input: OperationInput<'_>,
    ) -> Result<Response, OperationError> {
        let op = input.name;
        let prepared = self.prepare(&mut input)?;
        let max_attempts = self.config().retry_max_attempts.max(1);
        let mut may_have_stored: Option<OperationError> = None;
        let mut attempt = 0u32;
        loop {
            attempt = attempt.saturating_add(1);
            log::debug!("{op}: {} (attempt {attempt})", prepared.request_target);
            let failed = match self.attempt(&prepared, &mut input) {
                Ok(response) => return Ok(response),
                Err(failed) => failed,
            };
            let state = AttemptState {
                attempt,
                max_attempts,
                body_rewindable: input.body.is_rewindable(),
            };
            let decision = retry::classify(&failed.as_failure(), state);
            let error = failed
                .into_error(op, &prepared.request_target)
                .with_attempts(attempt);
            match decision {
                Decision::Fail {
                    note,
                    may_have_stored: stored,
                } => {
                    let notes = [note, stored.then_some(retry::MAY_HAVE_STORED_NOTE)];
                    let error = notes
                        .into_iter()
                        .flatten()
                        .fold(error, |e, n| e.with_note(n));
                    return Err(retry::final_error(may_have_stored, error));
                }
                Decision::Retry {
                    reason,
                    may_have_stored: stored,
                } => {
                    let delay = retry::backoff_delay(attempt, self.config());
                    log::warn!(
                        "{op}: attempt {attempt} of {max_attempts} failed ({reason}), retrying \
                         in {} ms: {error}",
                        delay.as_millis()
                    );
                    if stored {
                        may_have_stored = Some(error);
                    }
                    std::thread::sleep(delay);
                }
            }
        }
    }

    /// Sends a request given as [`crate::presign::sealed::RequestParts`] with a small body
    /// held in memory (none, or an XML document) and no progress callback.
    pub(crate) fn execute_parts(
        &self,
        parts: crate::presign::sealed::RequestParts,
        mut body: Body,
        check: &dyn Fn(&Response) -> Result<(), Rejection>,
    ) -> Result<Response, OperationError> {
        let mut parts = parts;
        self.execute(OperationInput::from_parts(&mut parts, &mut body, check))
    }

    /// The steps done once per operation; every error here is final and nothing is sent.
    fn prepare(&self, input: &mut OperationInput<'_>) -> Result<Prepared<'_>, OperationError> {
        let op = input.name;
        let invalid = |m: String| OperationError::invalid_argument(op, m);
        if let Some(message) = self.setup_error() {
            return Err(invalid(message.to_string()));
        }
        let cfg = self.config();
        let endpoint = endpoint::resolve(cfg).map_err(invalid)?;
        let scope = endpoint::signing_scope(cfg).map_err(invalid)?;
        let provider = cfg.credentials_provider.as_deref().ok_or_else(|| {
            OperationError::new(
                op,
                ErrorKind::Credentials,
                "no credentials provider: set Config::credentials_provider, e.g. \
                 EnvironmentVariableCredentialsProvider::new() with OSS_ACCESS_KEY_ID and \
                 OSS_ACCESS_KEY_SECRET exported",
            )
        })?;
        let raw_query = encode_query(&input.query);
        let base_url = endpoint.url(input.bucket, input.key);
        let mut url = base_url.clone();
        if !raw_query.is_empty() {
            url.push('?');
            url.push_str(&raw_query);
        }
        let uri: http::Uri = url
            .parse()
            .map_err(|e| invalid(format!("cannot build a URL from {url:?}")).with_source(e))?;
        let headers = self.base_headers(input)?;
        Ok(Prepared {
            provider,
            scope,
            uri,
            raw_query,
            total: input.body.known_length(),
            headers,
            request_target: format!("{} {url}", input.method),
            base_url,
        })
    }

    /// The operation's headers checked, plus what the client adds once: `Content-Length`
    /// from the body and the default `User-Agent` (unless the request set its own).
    fn base_headers(&self, input: &mut OperationInput<'_>) -> Result<Headers, OperationError> {
        let op = input.name;
        let mut headers = std::mem::take(&mut input.headers);
        check_headers(&headers).map_err(|m| OperationError::invalid_argument(op, m))?;
        input.body.prepare().map_err(|e| {
            OperationError::new(op, ErrorKind::Io, "cannot read the body").with_source(e)
        })?;
        if let Some(len) = input.body.known_length() {
            headers.set("Content-Length", len.to_string());
        }
        if !headers.contains("User-Agent") {
            headers.set("User-Agent", self.user_agent());
        }
        Ok(headers)
    }

    /// One attempt: credentials, signature, send, answer, the operation's check.
    fn attempt(
        &self,
        prepared: &Prepared<'_>,
        input: &mut OperationInput<'_>,
    ) -> Result<Response, Failed> {
        let credentials = prepared
            .provider
            .credentials()
            .map_err(Failed::Credentials)?;
        let headers = self
            .signed_headers(prepared, input, &credentials)
            .map_err(Failed::Local)?;
        let (sent, stats) = self.send_body(prepared, input, &headers)?;
        let answer = sent.map_err(|error| Failed::Transport {
            error,
            body_sent: stats.complete,
        })?;
        let response = self.read_answer(answer, stats, &prepared.request_target)?;
        (input.check)(&response).map_err(Failed::Refused)?;
        Ok(response)
    }

    /// The prepared headers signed for this attempt with a fresh time. Empty keys are refused
    /// here: only [`crate::credentials::AnonymousCredentialsProvider`] sends unsigned requests.
    fn signed_headers(
        &self,
        prepared: &Prepared<'_>,
        input: &OperationInput<'_>,
        credentials: &Credentials,
    ) -> Result<Headers, OperationError> {
        let mut headers = prepared.headers.clone();
        if credentials.is_anonymous() {
            return Ok(headers);
        }
        empty_key_message(credentials).map_or(Ok(()), |m| {
            Err(OperationError::new(input.name, ErrorKind::Credentials, m))
        })?;
        if self.config().signature_version == SignatureVersion::V1 {
            signer::sign_v1_headers(
                input.method,
                Some(input.bucket),
                input.key,
                &prepared.raw_query,
                &mut headers,
                credentials,
                self.now(),
            );
            return Ok(headers);
        }
        let ctx = signer::SigningContext::new(credentials, &prepared.scope.region, self.now())
            .product(&prepared.scope.product)
            .additional_headers(&self.config().additional_headers);
        signer::sign_v4_headers(
            input.method,
            Some(input.bucket),
            input.key,
            &prepared.raw_query,
            &mut headers,
            &ctx,
        );
        Ok(headers)
    }

    /// Sends the request with the body pulled through the tracker. A failure of the local
    /// source (a read error, a body shorter than its length) is final and named as such.
    fn send_body(
        &self,
        prepared: &Prepared<'_>,
        input: &mut OperationInput<'_>,
        headers: &Headers,
    ) -> Result<(Result<transport::Answer, ureq::Error>, BodyStats), Failed> {
        let op = input.name;
        let what = match input.body.path() {
            Some(p) => format!("cannot read {}", p.display()),
            None => "cannot read the body".to_string(),
        };
        let reader = input.body.attempt_reader().map_err(|e| {
            Failed::Local(OperationError::new(op, ErrorKind::Io, what.clone()).with_source(e))
        })?;
        let mut tracker = Tracker::new(reader, prepared.total, input.progress.as_deref_mut());
        let sent = transport::send(
            self.agent(),
            input.method,
            &prepared.uri,
            headers,
            &mut tracker,
        );
        if sent.is_ok() {
            tracker.finish();
        }
        let stats = tracker.stats();
        if let Some(local) = tracker.take_local_error() {
            return Err(Failed::Local(
                OperationError::new(op, ErrorKind::Io, what).with_source(local),
            ));
        }
        Ok((sent, stats))
    }

    /// Turns an answer into a [`Response`] (2xx) or the service's error.
    fn read_answer(
        &self,
        answer: transport::Answer,
        stats: BodyStats,
        request_target: &str,
    ) -> Result<Response, Failed> {
        let transport::Answer {
            status,
            headers,
            body,
        } = answer;
        log::debug!(
            "{request_target}: HTTP {status}, request id {}",
            headers.get("x-oss-request-id").unwrap_or("-")
        );
        if (200..300).contains(&status) {
            let body = body.map_err(|error| Failed::ResponseCut {
                error,
                request_id: headers.get("x-oss-request-id").map(str::to_string),
            })?;
            return Ok(Response {
                status,
                headers,
                body,
                request_target: request_target.to_string(),
                stats,
            });
        }
        let body = body.unwrap_or_default();
        let service = ServiceError::from_response(status, &headers, &body, request_target);
        if service.code() == "RequestTimeTooSkewed" {
            if let Some(server_time) = service.timestamp() {
                self.learn_clock_offset(server_time);
            }
        }
        Err(Failed::Service(Box::new(service)))
    }
}

/// A request signed in its query and not sent.
pub(crate) struct Presigned {
    pub url: String,
    /// When the URL stops working (whole seconds).
    pub expiration: SystemTime,
    /// The headers the signature covers, names as set: the caller must send exactly these.
    pub signed_headers: Vec<(String, String)>,
}

impl Client {
    /// Presign: the same prepare step and credentials fetch as [`Client::execute`], then
    /// query signing with the configured signature version. Nothing is sent.
    pub(crate) fn presign_input(
        &self,
        mut input: OperationInput<'_>,
        expires: Duration,
    ) -> Result<Presigned, OperationError> {
        let op = input.name;
        let prepared = self.prepare(&mut input)?;
        let credentials = prepared.provider.credentials().map_err(|e| {
            OperationError::new(op, ErrorKind::Credentials, "cannot get credentials").with_source(e)
        })?;
        if credentials.is_anonymous() {
            return Err(OperationError::new(
                op,
                ErrorKind::Credentials,
                "anonymous credentials cannot presign: a presigned URL needs an AccessKey pair",
            ));
        }
        if let Some(m) = empty_key_message(&credentials) {
            return Err(OperationError::new(op, ErrorKind::Credentials, m));
        }
        let cfg = self.config();
        let window = presign_window(
            clamped_unix_secs(self.now()),
            expires,
            credentials.expiration().map(clamped_unix_secs),
            cfg.presign_clamp_to_credentials,
            cfg.signature_version,
        )
        .map_err(|m| OperationError::invalid_argument(op, m))?;
        let mut headers = prepared.headers.clone();
        // The client's own transport headers are not the caller's to replay.
        headers.remove("Content-Length");
        if headers.get("User-Agent") == Some(self.user_agent()) {
            headers.remove("User-Agent");
        }
        let (query, signed_headers) =
            self.presign_query(&input, &prepared, &headers, &credentials, window);
        Ok(Presigned {
            url: format!("{}?{query}", prepared.base_url),
            expiration: unix_time(window.expires_at),
            signed_headers,
        })
    }

    /// The signed query and the headers it covers, for the configured version.
    fn presign_query(
        &self,
        input: &OperationInput<'_>,
        prepared: &Prepared<'_>,
        headers: &Headers,
        credentials: &Credentials,
        window: PresignWindow,
    ) -> (String, Vec<(String, String)>) {
        let cfg = self.config();
        let (bucket, key) = (Some(input.bucket), input.key);
        if cfg.signature_version == SignatureVersion::V1 {
            let query = signer::presign_v1_query(
                input.method,
                bucket,
                key,
                &prepared.raw_query,
                headers,
                credentials,
                window.expires_at,
            );
            return (query, signer::v1_signed_headers(headers));
        }
        let time = unix_time(window.signed_at);
        let ctx = signer::SigningContext::new(credentials, &prepared.scope.region, time)
            .product(&prepared.scope.product)
            .additional_headers(&cfg.additional_headers);
        let query = signer::presign_v4_query(
            input.method,
            bucket,
            key,
            &prepared.raw_query,
            headers,
            &ctx,
            window.expires_at.saturating_sub(window.signed_at),
        );
        let signed = signer::presign_v4_signed_headers(headers, &cfg.additional_headers);
        (query, signed)
    }
}

/// When a presigned URL is signed and when it expires, in Unix seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PresignWindow {
    pub signed_at: u64,
    pub expires_at: u64,
}

/// 9999-12-31T23:59:59Z: no presigned URL lasts beyond it.
const LAST_UNIX_SECOND: u64 = 253_402_300_799;

/// Unix seconds as a time (every second up to [`LAST_UNIX_SECOND`] is representable).
fn unix_time(secs: u64) -> SystemTime {
    UNIX_EPOCH
        .checked_add(Duration::from_secs(secs.min(LAST_UNIX_SECOND)))
        .unwrap_or(UNIX_EPOCH)
}

fn clamped_unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The rules of a presigned URL's validity, in whole seconds: at least 1 second; V4 at most
/// 7 days (V1 has no limit); not beyond the credentials' expiry, which is an error unless
/// `clamp`, when the URL expires with the credentials instead.
pub(crate) fn presign_window(
    now: u64,
    expires: Duration,
    credentials_expire: Option<u64>,
    clamp: bool,
    version: SignatureVersion,
) -> Result<PresignWindow, String> {
    let secs = expires.as_secs();
    if secs == 0 {
        return Err("invalid expires: a presigned URL must be valid for at least 1 second".into());
    }
    if version == SignatureVersion::V4 && secs > signer::MAX_PRESIGN_V4_SECS {
        return Err(format!(
            "invalid expires {secs} s: a V4 presigned URL is valid for at most {} s (7 days)",
            signer::MAX_PRESIGN_V4_SECS
        ));
    }
    let mut expires_at = now.saturating_add(secs);
    if expires_at > LAST_UNIX_SECOND {
        return Err(format!(
            "invalid expires {secs} s: the URL would expire after 9999-12-31T23:59:59Z"
        ));
    }
    if let Some(limit) = credentials_expire.filter(|limit| *limit < expires_at) {
        if limit <= now {
            return Err("the credentials have already expired: cannot presign with them".into());
        }
        if !clamp {
            return Err(format!(
                "invalid expires {secs} s: the URL would outlive the temporary credentials \
                 that sign it (they expire in {} s, and the URL stops working then); presign \
                 for at most that long, or set Config::presign_clamp_to_credentials(true) to \
                 shorten it",
                limit.saturating_sub(now)
            ));
        }
        expires_at = limit;
    }
    Ok(PresignWindow {
        signed_at: now,
        expires_at,
    })
}

/// Says which key is empty, if one is.
fn empty_key_message(credentials: &Credentials) -> Option<String> {
    let what = match (
        credentials.access_key_id().is_empty(),
        credentials.access_key_secret().is_empty(),
    ) {
        (false, false) => return None,
        (true, true) => "an empty AccessKey ID and an empty AccessKey secret",
        (true, false) => "an empty AccessKey ID",
        (false, true) => "an empty AccessKey secret",
    };
    Some(format!(
        "the credentials provider returned {what}: nothing was sent (unsigned requests are \
         sent only with AnonymousCredentialsProvider)"
    ))
}

/// `k=v&k2=v2`, each part percent-encoded once (the same text goes in the URL and the
/// signature).
pub(crate) fn encode_query(query: &[(String, String)]) -> String {
    query
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                signer::escape_query_component(k),
                signer::escape_query_component(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Header names must be tokens, values must not contain control characters (a CR or LF would
/// split the request), and the headers the client owns must not be set by the request.
fn check_headers(headers: &Headers) -> Result<(), String> {
    for (name, value) in headers.iter() {
        if let Some(owned) = TRANSPORT_OWNED_HEADERS
            .iter()
            .find(|owned| owned.eq_ignore_ascii_case(name))
        {
            return Err(format!(
                "invalid header {name:?}: {owned} is set by the client (Content-Length and \
                 Transfer-Encoding from the body, Host from the endpoint, Date, \
                 Authorization and the x-oss-date, x-oss-content-sha256 and \
                 x-oss-security-token headers by the signer); remove it from the request"
            ));
        }
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(format!(
                "invalid header name {name:?}: use letters, digits and - only"
            ));
        }
        if http::HeaderValue::from_str(value).is_err() {
            return Err(format!(
                "invalid value for header {name}: use visible ASCII characters, no control \
                 characters or line breaks (percent-encode other text)"
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
    let magnitude = std::time::Duration::from_millis(offset_ms.unsigned_abs());
    let shifted = if offset_ms >= 0 {
        now.checked_add(magnitude)
    } else {
        now.checked_sub(magnitude)
    };
    shifted.unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presign_windows_follow_the_rules() {
        let v4 = SignatureVersion::V4;
        let d = Duration::from_secs;
        let w = presign_window(1000, d(3600), None, false, v4).unwrap();
        assert_eq!((w.signed_at, w.expires_at), (1000, 4600));
        assert!(presign_window(1000, d(0), None, false, v4)
            .unwrap_err()
            .contains("at least 1"));
        assert!(presign_window(1000, Duration::from_millis(999), None, false, v4).is_err());
        assert!(presign_window(1000, d(604_800), None, false, v4).is_ok());
        let err = presign_window(1000, d(604_801), None, false, v4).unwrap_err();
        assert!(err.contains("7 days"), "{err}");
        let w = presign_window(1000, d(30 * 86_400), None, false, SignatureVersion::V1).unwrap();
        assert_eq!(w.expires_at, 1000 + 30 * 86_400);
        let forever = Duration::from_secs(u64::MAX);
        assert!(presign_window(1000, forever, None, false, SignatureVersion::V1).is_err());
        // Credentials expiring first: refused by default, clamped on request.
        let err = presign_window(1000, d(3600), Some(2000), false, v4).unwrap_err();
        assert!(err.contains("outlive") && err.contains("1000 s"), "{err}");
        let w = presign_window(1000, d(3600), Some(2000), true, v4).unwrap();
        assert_eq!(w.expires_at, 2000);
        assert!(presign_window(1000, d(3600), Some(1000), true, v4).is_err());
        // Credentials outliving the URL change nothing.
        assert_eq!(
            presign_window(1000, d(60), Some(2000), false, v4)
                .unwrap()
                .expires_at,
            1060
        );
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
    fn header_values_with_line_breaks_are_refused() {
        let bad: Headers = [("x-oss-meta-a", "a\r\nInjected: 1")].into_iter().collect();
        assert!(check_headers(&bad).unwrap_err().contains("x-oss-meta-a"));
        let bad: Headers = [("bad header", "v")].into_iter().collect();
        assert!(check_headers(&bad).is_err());
    }

    #[test]
    fn transport_owned_headers_are_refused_by_name_in_any_case() {
        for name in [
            "Content-Length",
            "transfer-encoding",
            "HOST",
            "Authorization",
            "x-oss-date",
            "X-OSS-Content-Sha256",
            "x-oss-security-token",
        ] {
            let headers: Headers = [(name, "1")].into_iter().collect();
            let message = check_headers(&headers).unwrap_err();
            assert!(message.contains(name), "{message}");
        }
    }

    #[test]
    fn empty_keys_are_named() {
        let message = empty_key_message(&Credentials::new("", "s")).unwrap();
        assert!(message.contains("empty AccessKey ID"), "{message}");
        let message = empty_key_message(&Credentials::new("id", "")).unwrap();
        assert!(message.contains("empty AccessKey secret"), "{message}");
        assert!(empty_key_message(&Credentials::new("id", "s")).is_none());
    }
}

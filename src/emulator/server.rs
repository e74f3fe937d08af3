//! One connection: read requests in a keep-alive loop, apply faults, authenticate, run the
//! operation, answer, record.
//!
//! Every wait is bounded: socket reads poll with a short timeout so shutdown is noticed, an
//! idle keep-alive connection is closed after [`IDLE_TIMEOUT`], a request that stops sending
//! for [`STALL_TIMEOUT`] is dropped, and a connection serves at most
//! [`MAX_REQUESTS_PER_CONNECTION`] requests.

use std::io::{self, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use percent_encoding::percent_decode_str;

#[path = "append.rs"]
mod append;

use super::auth::{self, AuthInput};
use super::callback;
use super::error::{self, ErrorReply};
use super::http::{self, Body, BodyReader, HeadError, RequestHead, Response};
use super::store::{Object, PutRefused};
use super::{lock, Fault, RecordedRequest, Shared};

#[path = "multipart.rs"]
pub(crate) mod multipart;
use crate::Headers;

/// How often a blocked read wakes up to check for shutdown.
const POLL: Duration = Duration::from_millis(200);
/// A keep-alive connection with no new request for this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// A request whose bytes stop arriving for this long is abandoned.
const STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// A response that cannot be written for this long is abandoned.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Requests served on one connection before it is closed.
const MAX_REQUESTS_PER_CONNECTION: usize = 100_000;
/// Largest unread request body read and discarded after an early answer so the connection
/// can be reused; beyond it the connection is closed instead.
const DRAIN_LIMIT: u64 = 64 * 1024 * 1024;
/// After answering with `Connection: close` while body bytes may still be arriving, keep
/// reading (and discarding) for at most this long / this much, so the client gets to read
/// the answer instead of a connection reset.
const LINGER_TIME: Duration = Duration::from_secs(2);
const LINGER_BYTES: u64 = 64 * 1024 * 1024;
/// Capacity reserved up front for a body of known length (more grows as bytes arrive), so a
/// huge `Content-Length` cannot make the server allocate before any byte is sent.
const MAX_PREALLOCATION: u64 = 8 * 1024 * 1024;
const IO_BUFFER: usize = 64 * 1024;

static CRC64: crc::Crc<u64, crc::Table<16>> = crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_XZ);

/// A unique request id in OSS's shape: 24 uppercase hex digits.
fn new_request_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{:08X}{:04X}{:012X}",
        secs as u32,
        std::process::id() as u16,
        n
    )
}

/// Reads from the socket, retrying poll timeouts until data arrives, the peer is silent for
/// the armed limit, or the emulator shuts down.
struct ConnReader<'a> {
    stream: TcpStream,
    shutdown: &'a AtomicBool,
    limit: Duration,
    last_progress: Instant,
    /// The bandwidth limit: bytes per second, and when the bytes read so far are due.
    pace: Option<(u64, Instant)>,
}

impl ConnReader<'_> {
    /// Waits until `n` more bytes are due at the connection's rate (each read adds its share;
    /// an idle connection does not save up credit).
    fn pace(&mut self, n: usize) {
        let Some((rate, due)) = self.pace.as_mut() else {
            return;
        };
        let now = Instant::now();
        let start = (*due).max(now);
        let share = Duration::from_secs_f64(n as f64 / (*rate).max(1) as f64);
        *due = start.checked_add(share).unwrap_or(start);
        while !self.shutdown.load(Ordering::Relaxed) {
            match due.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => {
                    std::thread::sleep(left.min(Duration::from_millis(50)))
                }
                _ => break,
            }
        }
    }
}

impl ConnReader<'_> {
    fn arm(&mut self, limit: Duration) {
        self.limit = limit;
        self.last_progress = Instant::now();
    }
}

impl Read for ConnReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.shutdown.load(Ordering::Relaxed) {
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "the emulator is shutting down",
                ));
            }
            match self.stream.read(buf) {
                Ok(n) => {
                    self.pace(n);
                    self.last_progress = Instant::now();
                    return Ok(n);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if self.last_progress.elapsed() >= self.limit {
                        return Err(io::Error::new(io::ErrorKind::TimedOut, "peer silent"));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

type Reader<'a> = BufReader<ConnReader<'a>>;

/// What the connection does after an exchange.
enum Next {
    KeepAlive,
    /// Close after the answer; `linger` when unread request bytes may still be arriving.
    Close {
        linger: bool,
    },
    /// Close at once, without (further) answer.
    Drop,
}

/// Answers `503` to a connection over [`super::MAX_CONNECTIONS`] and closes it.
pub(crate) fn refuse_busy(shared: &Shared, mut stream: TcpStream) {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let mut resp =
        error::service_busy().response(&new_request_id(), &shared.settings.own_host, false);
    add_common_headers(shared, &mut resp, &new_request_id(), Instant::now());
    let _ = http::write_response(&mut stream, &resp, false, true);
    let _ = stream.shutdown(Shutdown::Write);
}

/// Serves one connection until it closes, fails, idles out or the emulator stops.
pub(crate) fn serve_connection(shared: &Arc<Shared>, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(POLL));
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::with_capacity(
        IO_BUFFER,
        ConnReader {
            stream,
            shutdown: &shared.shutdown,
            limit: IDLE_TIMEOUT,
            last_progress: Instant::now(),
            pace: shared
                .settings
                .bandwidth_limit
                .map(|rate| (rate, Instant::now())),
        },
    );
    for served in 1..=MAX_REQUESTS_PER_CONNECTION {
        reader.get_mut().arm(IDLE_TIMEOUT);
        let head = match http::read_head(&mut reader) {
            Ok(head) => head,
            Err(HeadError::Closed | HeadError::Io(_)) => return,
            Err(HeadError::Malformed(why)) => {
                bad_head(shared, &mut writer, &mut reader, why);
                return;
            }
            Err(HeadError::TooLarge) => {
                bad_head(shared, &mut writer, &mut reader, "request head too large");
                return;
            }
        };
        reader.get_mut().arm(STALL_TIMEOUT);
        let last = served == MAX_REQUESTS_PER_CONNECTION;
        match handle(shared, &head, &mut reader, &mut writer, last) {
            Next::KeepAlive => {}
            Next::Close { linger } => {
                close(&mut writer, &mut reader, linger);
                return;
            }
            Next::Drop => return,
        }
    }
    close(&mut writer, &mut reader, false);
}

fn bad_head(shared: &Shared, writer: &mut TcpStream, reader: &mut Reader<'_>, why: &str) {
    let request_id = new_request_id();
    let mut resp =
        error::malformed_request(why).response(&request_id, &shared.settings.own_host, false);
    add_common_headers(shared, &mut resp, &request_id, Instant::now());
    if http::write_response(writer, &resp, false, true).is_ok() {
        close(writer, reader, true);
    }
}

/// Half-closes, and when request bytes may still be in flight reads them away for a bounded
/// time so the client sees the answer rather than a reset.
fn close(writer: &mut TcpStream, reader: &mut Reader<'_>, linger: bool) {
    let _ = writer.shutdown(Shutdown::Write);
    if !linger {
        return;
    }
    reader.get_mut().arm(LINGER_TIME);
    let started = Instant::now();
    let mut discarded = 0u64;
    let mut buf = vec![0u8; IO_BUFFER];
    while started.elapsed() < LINGER_TIME && discarded < LINGER_BYTES {
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => discarded = discarded.saturating_add(n as u64),
        }
    }
}

/// Where a request points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// The bucket came from the `Host` header.
    pub virtual_hosted: bool,
}

fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Finds the bucket and key as OSS addresses them: virtual-hosted when the `Host` is
/// `<bucket>.<domain>` (not an IP address, not `localhost`, not the emulator's own address),
/// path style otherwise. Bucket and key are percent-decoded; a key must be UTF-8.
pub(crate) fn resolve_target(
    host: Option<&str>,
    raw_path: &str,
    own_host: &str,
) -> Result<Target, ErrorReply> {
    let host = host.unwrap_or("").trim();
    let hostname = strip_port(host);
    let virtual_bucket = if host.eq_ignore_ascii_case(own_host)
        || hostname.eq_ignore_ascii_case("localhost")
        || hostname.parse::<std::net::IpAddr>().is_ok()
    {
        None
    } else {
        match hostname.split_once('.') {
            Some((label, rest)) if !label.is_empty() && !rest.is_empty() => {
                Some(label.to_ascii_lowercase())
            }
            _ => None,
        }
    };
    let path = raw_path.strip_prefix('/').unwrap_or(raw_path);
    let decode_key = |raw: &str| -> Result<Option<String>, ErrorReply> {
        if raw.is_empty() {
            return Ok(None);
        }
        percent_decode_str(raw)
            .decode_utf8()
            .map(|k| Some(k.into_owned()))
            .map_err(|_| {
                error::invalid_object_name("The specified object is not valid.", "0016-00000002")
            })
    };
    if let Some(bucket) = virtual_bucket {
        return Ok(Target {
            bucket: Some(bucket),
            key: decode_key(path)?,
            virtual_hosted: true,
        });
    }
    if path.is_empty() {
        return Ok(Target {
            bucket: None,
            key: None,
            virtual_hosted: false,
        });
    }
    let (raw_bucket, raw_key) = path.split_once('/').unwrap_or((path, ""));
    let bucket = percent_decode_str(raw_bucket)
        .decode_utf8()
        .map_err(|_| error::invalid_bucket_name())?
        .into_owned();
    if bucket.is_empty() {
        return Err(error::invalid_bucket_name());
    }
    Ok(Target {
        bucket: Some(bucket),
        key: decode_key(raw_key)?,
        virtual_hosted: false,
    })
}

/// One request/response exchange.
struct Exchange<'s, 'w> {
    shared: &'s Shared,
    head: &'s RequestHead,
    writer: &'w mut TcpStream,
    continue_sent: bool,
    request_id: String,
    /// `<HostId>` of error bodies: the bucket's host name, as OSS reports it.
    host_id: String,
}

impl Exchange<'_, '_> {
    /// Sends `100 Continue` if the client waits for it, before the body is read.
    fn start_body(&mut self) -> io::Result<()> {
        if self.head.expects_continue() && !self.continue_sent {
            self.continue_sent = true;
            self.writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
            self.writer.flush()?;
        }
        Ok(())
    }
}

enum Outcome {
    Respond(Response),
    Error(ErrorReply),
    Drop,
}

impl From<ErrorReply> for Outcome {
    fn from(e: ErrorReply) -> Self {
        Outcome::Error(e)
    }
}

fn add_common_headers(shared: &Shared, resp: &mut Response, request_id: &str, started: Instant) {
    let now = shared.now();
    let mut common: Headers = [
        ("Server".to_string(), "oss-blocking-emulator".to_string()),
        ("Date".to_string(), httpdate::fmt_http_date(now)),
        ("x-oss-request-id".to_string(), request_id.to_string()),
        (
            "x-oss-server-time".to_string(),
            started.elapsed().as_millis().to_string(),
        ),
    ]
    .into_iter()
    .collect();
    common.extend(std::mem::take(&mut resp.headers));
    resp.headers = common;
}

fn handle(
    shared: &Shared,
    head: &RequestHead,
    reader: &mut Reader<'_>,
    writer: &mut TcpStream,
    last: bool,
) -> Next {
    let started = Instant::now();
    let request_id = new_request_id();
    let (raw_path, raw_query) = head.path_and_query();
    let mut record = RecordedRequest {
        method: head.method.clone(),
        path: raw_path.to_string(),
        query: raw_query.to_string(),
        headers: head.headers.clone(),
        body_len: 0,
        status: None,
    };
    let host = head
        .header("host")
        .unwrap_or(&shared.settings.own_host)
        .to_string();

    let framing = match head.framing() {
        Ok(f) => f,
        Err(why) => {
            let mut resp =
                error::malformed_request(why).response(&request_id, &host, head.method == "HEAD");
            add_common_headers(shared, &mut resp, &request_id, started);
            record.status = Some(resp.status);
            shared.record(record);
            return match http::write_response(writer, &resp, head.method == "HEAD", true) {
                Ok(()) => Next::Close { linger: true },
                Err(_) => Next::Drop,
            };
        }
    };

    let mut body = BodyReader::new(reader, framing);
    let mut exchange = Exchange {
        shared,
        head,
        writer,
        continue_sent: false,
        request_id,
        host_id: host,
    };
    let outcome = process(&mut exchange, &mut body);
    let continue_pending = head.expects_continue() && !exchange.continue_sent;
    let Exchange {
        writer,
        request_id,
        host_id,
        ..
    } = exchange;

    let mut resp = match outcome {
        Outcome::Drop => {
            record.body_len = body.bytes_read();
            shared.record(record);
            return Next::Drop;
        }
        Outcome::Respond(resp) => resp,
        Outcome::Error(e) => e.response(&request_id, &host_id, head.method == "HEAD"),
    };
    let complete = finish_body(&mut body, continue_pending);
    let close = last || !complete || head.wants_close() || shared.shutdown.load(Ordering::Relaxed);
    add_common_headers(shared, &mut resp, &request_id, started);
    if head.http10 && !close {
        // HTTP/1.0 closes by default; say that this connection stays open.
        resp.headers.append("Connection", "keep-alive");
    }
    record.body_len = body.bytes_read();
    record.status = Some(resp.status);
    // Record before answering: a client that has its answer must find its request recorded.
    shared.record(record);
    let written = http::write_response(writer, &resp, head.method == "HEAD", close);
    match (written, close) {
        (Err(_), _) => Next::Drop,
        (Ok(()), true) => Next::Close { linger: !complete },
        (Ok(()), false) => Next::KeepAlive,
    }
}

/// Reads away what is left of the body after an early answer, within [`DRAIN_LIMIT`], so the
/// connection can be reused. False when the body was not (or could not be) fully consumed:
/// the connection must then close.
fn finish_body(body: &mut BodyReader<'_, Reader<'_>>, continue_pending: bool) -> bool {
    if body.is_done() {
        return true;
    }
    // The client has not sent the body and will not until told to: do not wait for it.
    if continue_pending {
        return false;
    }
    if body.remaining_known().is_some_and(|n| n > DRAIN_LIMIT) {
        return false;
    }
    let mut buf = vec![0u8; IO_BUFFER];
    let start = body.bytes_read();
    while body.bytes_read().saturating_sub(start) <= DRAIN_LIMIT {
        match body.read(&mut buf) {
            Ok(0) => return body.is_done(),
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

fn process(ex: &mut Exchange<'_, '_>, body: &mut BodyReader<'_, Reader<'_>>) -> Outcome {
    let shared = ex.shared;
    let head = ex.head;
    let (raw_path, raw_query) = head.path_and_query();
    if head.method == "GET" && raw_path == callback::PUBLIC_KEY_PATH {
        let mut resp = Response::new(200).header("Content-Type", "application/x-pem-file");
        resp.body = Body::Bytes(callback::PUBLIC_KEY_PEM.as_bytes().to_vec());
        return Outcome::Respond(resp);
    }
    let target = match resolve_target(head.header("host"), raw_path, &shared.settings.own_host) {
        Ok(t) => t,
        Err(e) => return e.into(),
    };
    if let (Some(bucket), false) = (&target.bucket, target.virtual_hosted) {
        ex.host_id = format!("{bucket}.{}", ex.host_id);
    }
    // "PutObject" faults (WrongCrc, NoCrcHeader, CallbackFailed, AnswerLost) apply to appends too.
    let is_append = head.method == "POST" && append::is_append(raw_query);
    let is_put_object = ((head.method == "PUT" && !multipart::is_multipart(raw_query))
        || is_append)
        && target.bucket.is_some()
        && target.key.is_some();

    let mut put_fault = None;
    match shared.take_fault(is_put_object) {
        Some(Fault::Stall { duration, .. }) => shared.sleep(duration),
        Some(Fault::ResetAfter { bytes, .. }) => {
            if ex.start_body().is_ok() {
                discard(body, bytes);
            }
            return Outcome::Drop;
        }
        Some(Fault::ErrorStatus { status, code, .. }) => {
            if ex.start_body().is_err() {
                return Outcome::Drop;
            }
            return error::injected(status, &code).into();
        }
        Some(Fault::GarbageBody { status, .. }) => {
            if ex.start_body().is_err() {
                return Outcome::Drop;
            }
            let mut resp = Response::new(status).header("Content-Type", "text/html");
            resp.body = Body::Bytes(
                b"<html><body><h1>Bad Gateway</h1>this is not OSS XML (emulator GarbageBody fault)"
                    .to_vec(),
            );
            return Outcome::Respond(resp);
        }
        Some(
            fault @ (Fault::WrongCrc { .. }
            | Fault::NoCrcHeader { .. }
            | Fault::CallbackFailed { .. }
            | Fault::AnswerLost { .. }),
        ) => put_fault = Some(fault),
        _ => {}
    }

    if shared.shutdown.load(Ordering::Relaxed) {
        return Outcome::Drop;
    }

    let auth = auth::verify(
        &shared.settings,
        shared.now(),
        &AuthInput {
            method: &head.method,
            bucket: target.bucket.as_deref(),
            key: target.key.as_deref(),
            raw_query,
            headers: &head.headers,
        },
    );
    if let Err(e) = auth {
        return e.into();
    }
    if let Some(outcome) = multipart::dispatch(ex, body, &target, raw_query) {
        return outcome;
    }

    match (
        head.method.as_str(),
        target.bucket.as_deref(),
        target.key.as_deref(),
    ) {
        ("PUT", Some(bucket), Some(key)) => {
            // PutObject has no sub-resources; other query parameters are ignored, as OSS
            // ignores parameters it does not know.
            const SUB_RESOURCES: [&str; 6] = [
                "acl",
                "tagging",
                "symlink",
                "append",
                "uploadId",
                "partNumber",
            ];
            let names = raw_query
                .split('&')
                .map(|p| p.split('=').next().unwrap_or(""));
            if let Some(sub) = names.into_iter().find(|n| SUB_RESOURCES.contains(n)) {
                return error::not_implemented(&format!("the ?{sub} sub-resource")).into();
            }
            put_object(ex, body, bucket, key, put_fault)
        }
        ("POST", Some(bucket), Some(key)) if is_append => {
            append::append_object(ex, body, bucket, key, raw_query, put_fault)
        }
        ("PUT", Some(bucket), None) => {
            if !lock(&shared.store).has_bucket(bucket) {
                return error::no_such_bucket(bucket).into();
            }
            error::invalid_object_name("The Object name can not be empty", "0016-00000002").into()
        }
        ("GET" | "HEAD", Some(bucket), Some(key)) => get_object(ex, bucket, key),
        ("GET" | "HEAD", Some(bucket), None) => {
            if !lock(&shared.store).has_bucket(bucket) {
                return error::no_such_bucket(bucket).into();
            }
            error::not_implemented("bucket operations (ListObjects, GetBucketInfo, ...)").into()
        }
        ("GET" | "HEAD" | "PUT", None, _) => {
            error::not_implemented("service operations (ListBuckets)").into()
        }
        (method, _, _) => error::method_not_allowed(method).into(),
    }
}

/// Reads and drops up to `limit` body bytes.
fn discard(body: &mut BodyReader<'_, Reader<'_>>, limit: u64) {
    let mut buf = vec![0u8; IO_BUFFER];
    let mut left = limit;
    while left > 0 {
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let Some(slice) = buf.get_mut(..want) else {
            return;
        };
        match body.read(slice) {
            Ok(0) | Err(_) => return,
            Ok(n) => left = left.saturating_sub(n as u64),
        }
    }
}

/// The request headers stored with an object and returned on GET.
fn is_object_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "content-type"
            | "cache-control"
            | "content-disposition"
            | "content-encoding"
            | "content-language"
            | "expires"
            | "x-oss-object-acl"
            | "x-oss-storage-class"
            | "x-oss-tagging"
            | "x-oss-server-side-data-encryption"
    ) || name.starts_with("x-oss-meta-")
        || name.starts_with("x-oss-server-side-encryption")
        || name.starts_with("x-oss-object-worm-")
}

fn validate_key(key: &str) -> Result<(), ErrorReply> {
    if key.is_empty() {
        return Err(error::invalid_object_name(
            "The Object name can not be empty",
            "0016-00000002",
        ));
    }
    if key.len() > 1023 {
        return Err(error::invalid_object_name(
            "The Length of Object name must be less than 1024",
            "0016-00000002",
        ));
    }
    if key.starts_with('/') || key.starts_with('\\') {
        return Err(error::invalid_object_name(
            "The specified object is not valid.",
            "0016-00000005",
        ));
    }
    Ok(())
}

fn validate_put_headers(head: &RequestHead) -> Result<(), ErrorReply> {
    if let Some(acl) = head.header("x-oss-object-acl") {
        if !matches!(
            acl,
            "private" | "public-read" | "public-read-write" | "default"
        ) {
            return Err(error::invalid_argument(
                "no such object access control exists",
                "x-oss-object-acl",
                acl,
            ));
        }
    }
    if let Some(class) = head.header("x-oss-storage-class") {
        if !matches!(
            class,
            "Standard" | "IA" | "Archive" | "ColdArchive" | "DeepColdArchive"
        ) {
            return Err(error::invalid_argument(
                "Invalid storage class.",
                "x-oss-storage-class",
                class,
            ));
        }
    }
    let sse = head.header("x-oss-server-side-encryption");
    if let Some(sse) = sse {
        if !matches!(sse, "AES256" | "KMS" | "SM4") {
            return Err(error::invalid_encryption_algorithm(sse));
        }
    }
    if let Some(data) = head.header("x-oss-server-side-data-encryption") {
        if sse != Some("KMS") || data != "SM4" {
            return Err(error::invalid_argument(
                "The data encryption algorithm is only SM4, and only with KMS.",
                "x-oss-server-side-data-encryption",
                data,
            ));
        }
    }
    if let Some(id) = head.header("x-oss-server-side-encryption-key-id") {
        if sse != Some("KMS") {
            return Err(error::invalid_argument(
                "A KMS key id is only valid with KMS encryption.",
                "x-oss-server-side-encryption-key-id",
                id,
            ));
        }
    }
    if let Some(tagging) = head.header("x-oss-tagging") {
        if let Err(why) = crate::options::Tagging::parse(tagging) {
            return Err(error::invalid_tag(&why));
        }
    }
    if let Some(limit) = head.header("x-oss-traffic-limit") {
        let ok = http::parse_decimal(limit)
            .is_some_and(|n| (crate::MIN_TRAFFIC_LIMIT..=crate::MAX_TRAFFIC_LIMIT).contains(&n));
        if !ok {
            return Err(error::invalid_argument(
                "The traffic limit is out of range.",
                "x-oss-traffic-limit",
                limit,
            ));
        }
    }
    Ok(())
}

fn put_object(
    ex: &mut Exchange<'_, '_>,
    body: &mut BodyReader<'_, Reader<'_>>,
    bucket: &str,
    key: &str,
    fault: Option<Fault>,
) -> Outcome {
    let shared = ex.shared;
    let head = ex.head;
    if !lock(&shared.store).has_bucket(bucket) {
        return error::no_such_bucket(bucket).into();
    }
    if let Err(e) = validate_key(key) {
        return e.into();
    }
    let forbid_overwrite = match head.header("x-oss-forbid-overwrite") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => {
            return error::invalid_argument(
                "Invalid forbid overwrite value, it must be true or false.",
                "x-oss-forbid-overwrite",
                v,
            )
            .into()
        }
    };
    if forbid_overwrite && lock(&shared.store).contains(bucket, key) {
        return error::file_already_exists().into();
    }
    let expected_md5 = match head.header("content-md5") {
        None => None,
        Some(v) => match base64::engine::general_purpose::STANDARD.decode(v.trim()) {
            Ok(bytes) if bytes.len() == 16 => Some(bytes),
            _ => return error::invalid_digest("The Content-MD5 you specified was invalid.").into(),
        },
    };
    if let Err(e) = validate_put_headers(head) {
        return e.into();
    }
    let callback_spec = match callback::parse(
        head.header("x-oss-callback"),
        head.header("x-oss-callback-var"),
    ) {
        Ok(spec) => spec,
        Err(e) => return e.into(),
    };
    let max = shared.settings.max_object_size;
    let known = body.remaining_known();
    if known.is_some_and(|n| n > max) {
        return error::entity_too_large(max).into();
    }
    if ex.start_body().is_err() {
        return Outcome::Drop;
    }

    let capacity = known.unwrap_or(0).min(MAX_PREALLOCATION).min(max);
    let mut data = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    let mut crc = CRC64.digest();
    let mut md5 = md5::Context::new();
    let mut buf = vec![0u8; IO_BUFFER];
    let mut received = 0u64;
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                return error::malformed_request("invalid chunked encoding").into()
            }
            Err(_) => return Outcome::Drop,
        };
        if received.saturating_add(n as u64) > max {
            return error::entity_too_large(max).into();
        }
        let chunk = buf.get(..n).unwrap_or_default();
        crc.update(chunk);
        md5.consume(chunk);
        received = received.saturating_add(n as u64);
        if !shared.settings.length_only {
            data.extend_from_slice(chunk);
        }
    }
    let md5: [u8; 16] = md5.finalize().into();
    if expected_md5.is_some_and(|e| e != md5) {
        return error::invalid_digest(
            "The Content-MD5 you specified did not match what we received.",
        )
        .into();
    }
    let crc = crc.finalize();
    let (etag, content_md5) = super::store::etag_and_content_md5(md5);
    let size = received;
    let object = Object {
        size,
        data: Arc::new(data),
        headers: head
            .headers
            .iter()
            .filter(|(n, _)| is_object_header(n))
            .map(|(n, v)| {
                // OSS keeps user metadata keys in lowercase.
                if n.to_ascii_lowercase().starts_with("x-oss-meta-") {
                    (n.to_ascii_lowercase(), v)
                } else {
                    (n.to_string(), v)
                }
            })
            .collect(),
        etag: etag.clone(),
        content_md5: content_md5.clone(),
        crc64: crc,
        last_modified: shared.now(),
    };
    match lock(&shared.store).put(bucket, key, object, forbid_overwrite) {
        Ok(()) => {}
        Err(PutRefused::NoSuchBucket) => return error::no_such_bucket(bucket).into(),
        Err(PutRefused::Exists) => return error::file_already_exists().into(),
    }
    if matches!(fault, Some(Fault::AnswerLost { .. })) {
        return Outcome::Drop;
    }

    let mut resp = Response::new(200)
        .header("ETag", etag.clone())
        .header("Content-MD5", content_md5.clone());
    match fault {
        Some(Fault::NoCrcHeader { .. }) => {}
        Some(Fault::WrongCrc { .. }) => {
            resp = resp.header("x-oss-hash-crc64ecma", (crc ^ 0x5A5A_5A5A).to_string())
        }
        _ => resp = resp.header("x-oss-hash-crc64ecma", crc.to_string()),
    }
    let mut callback_failure = None;
    if let Some(Fault::CallbackFailed { .. }) = fault {
        callback_failure = Some(
            "Error status : 502. Response body : the callback server is unreachable \
             (injected by the emulator)."
                .to_string(),
        );
    } else if let Some(spec) = callback_spec {
        let facts = callback::ObjectFacts {
            bucket,
            object: key,
            etag: etag.trim_matches('"'),
            size,
            mime_type: head
                .header("content-type")
                .unwrap_or("application/octet-stream"),
            crc64: crc,
            content_md5: &content_md5,
        };
        let post_body = spec.fill(&facts);
        let key_url = format!(
            "http://{}{}",
            shared.settings.own_host,
            callback::PUBLIC_KEY_PATH
        );
        match spec.perform(&post_body, &key_url) {
            Ok((content_type, answer)) => {
                resp.headers.append("Content-Type", content_type);
                resp.body = Body::Bytes(answer);
            }
            Err(why) => callback_failure = Some(why),
        }
    }
    if let Some(why) = callback_failure {
        let reply = error::callback_failed(why);
        let xml = reply.xml(&ex.request_id, &ex.host_id);
        resp.status = reply.status;
        resp.headers.append("Content-Type", "application/xml");
        resp.headers.append("x-oss-ec", reply.ec.clone());
        resp.body = Body::Bytes(xml.into_bytes());
    }
    Outcome::Respond(resp)
}

fn get_object(ex: &mut Exchange<'_, '_>, bucket: &str, key: &str) -> Outcome {
    let store = lock(&ex.shared.store);
    if !store.has_bucket(bucket) {
        return error::no_such_bucket(bucket).into();
    }
    let Some(object) = store.get(bucket, key) else {
        return error::no_such_key(key).into();
    };
    drop(store);
    if object.data.len() as u64 != object.size {
        return error::not_implemented("reading an object stored in length-only mode").into();
    }
    let mut resp = Response::new(200)
        .header(
            "Content-Type",
            object
                .header("content-type")
                .unwrap_or("application/octet-stream"),
        )
        .header("ETag", object.etag.clone())
        .header("Content-MD5", object.content_md5.clone())
        .header("x-oss-hash-crc64ecma", object.crc64.to_string())
        .header(
            "Last-Modified",
            httpdate::fmt_http_date(object.last_modified),
        )
        .header("Accept-Ranges", "bytes")
        .header(
            append::OBJECT_TYPE,
            object.header(append::OBJECT_TYPE).unwrap_or("Normal"),
        )
        .header(
            "x-oss-storage-class",
            object.header("x-oss-storage-class").unwrap_or("Standard"),
        );
    for (name, value) in &object.headers {
        let lower = name.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "content-type"
                | "x-oss-storage-class"
                | "x-oss-object-acl"
                | "x-oss-tagging"
                | append::OBJECT_TYPE
        ) {
            continue;
        }
        resp.headers.append(name, value);
    }
    if let Some(tagging) = object.header("x-oss-tagging") {
        let count = tagging.split('&').filter(|t| !t.is_empty()).count();
        resp = resp.header("x-oss-tagging-count", count.to_string());
    }
    if object.header(append::OBJECT_TYPE) == Some(append::APPENDABLE) {
        resp = resp.header("x-oss-next-append-position", object.data.len().to_string());
    }
    resp.body = Body::Shared(Arc::clone(&object.data));
    Outcome::Respond(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(host: Option<&str>, path: &str) -> Result<Target, String> {
        resolve_target(host, path, "127.0.0.1:9000").map_err(|e| e.code)
    }

    fn target(bucket: Option<&str>, key: Option<&str>, virtual_hosted: bool) -> Target {
        Target {
            bucket: bucket.map(Into::into),
            key: key.map(Into::into),
            virtual_hosted,
        }
    }

    #[test]
    fn path_style_addressing() {
        assert_eq!(
            t(Some("127.0.0.1:9000"), "/b/a%20b/c%2Bd%25%E4%BD%A0"),
            Ok(target(Some("b"), Some("a b/c+d%你"), false))
        );
        assert_eq!(
            t(Some("127.0.0.1:9000"), "/b/a+b"),
            Ok(target(Some("b"), Some("a+b"), false))
        );
        assert_eq!(
            t(Some("127.0.0.1:9000"), "/b/"),
            Ok(target(Some("b"), None, false))
        );
        assert_eq!(
            t(Some("127.0.0.1:9000"), "/b"),
            Ok(target(Some("b"), None, false))
        );
        assert_eq!(
            t(Some("127.0.0.1:9000"), "/"),
            Ok(target(None, None, false))
        );
        assert_eq!(t(None, "/b/k"), Ok(target(Some("b"), Some("k"), false)));
        assert_eq!(
            t(Some("localhost:1"), "/b/k"),
            Ok(target(Some("b"), Some("k"), false))
        );
        assert_eq!(
            t(Some("[::1]:9000"), "/b/k"),
            Ok(target(Some("b"), Some("k"), false))
        );
        assert_eq!(
            t(Some("10.0.0.1"), "/b//k"),
            Ok(target(Some("b"), Some("/k"), false))
        );
        assert_eq!(
            t(Some("127.0.0.1:9000"), "/b/%FF"),
            Err("InvalidObjectName".into())
        );
        assert_eq!(
            t(Some("127.0.0.1:9000"), "//k"),
            Err("InvalidBucketName".into())
        );
    }

    #[test]
    fn virtual_hosted_addressing() {
        assert_eq!(
            t(
                Some("examplebucket.oss-cn-hangzhou.aliyuncs.com"),
                "/dir/a%20b"
            ),
            Ok(target(Some("examplebucket"), Some("dir/a b"), true))
        );
        assert_eq!(
            t(Some("MyBucket.localhost:9000"), "/"),
            Ok(target(Some("mybucket"), None, true))
        );
        assert_eq!(
            t(Some("nodots:9000"), "/b/k"),
            Ok(target(Some("b"), Some("k"), false))
        );
    }

    #[test]
    fn key_rules() {
        assert!(validate_key("a").is_ok());
        assert!(validate_key(&"k".repeat(1023)).is_ok());
        for bad in ["", "/a", "\\a", &"k".repeat(1024)] {
            assert_eq!(validate_key(bad).unwrap_err().code, "InvalidObjectName");
        }
        // 1023 bytes, fewer characters: the limit is on bytes.
        assert!(validate_key(&"你".repeat(342)).is_err());
    }

    #[test]
    fn request_ids_are_unique_and_shaped_like_oss() {
        let a = new_request_id();
        let b = new_request_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 24);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
    }

    #[test]
    fn object_headers_kept() {
        for keep in [
            "Content-Type",
            "x-oss-meta-a",
            "X-Oss-Server-Side-Encryption-Key-Id",
            "Expires",
        ] {
            assert!(is_object_header(keep), "{keep}");
        }
        for drop in [
            "Authorization",
            "x-oss-date",
            "Content-Length",
            "x-oss-forbid-overwrite",
            "Host",
        ] {
            assert!(!is_object_header(drop), "{drop}");
        }
    }
}

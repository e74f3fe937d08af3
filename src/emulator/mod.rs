//! A local OSS-compatible HTTP/1.1 server (cargo feature `emulator`).
//!
//! It exists so this crate's tests, examples and quickstart, and your own upload code's
//! tests, run without an Alibaba Cloud account or network: it checks V4 signatures with the
//! same code the client signs with, stores objects in memory, answers PutObject, GetObject and
//! HeadObject the way OSS does (headers, CRC-64, ETag, error XML), records every request for
//! assertions, and can inject faults (error statuses, wrong CRCs, resets, stalls, clock skew)
//! to exercise retry and verification paths.
//!
//! It is plain `std`: one accept thread and one thread per connection (at most
//! [`MAX_CONNECTIONS`]), no async runtime. Objects live in memory, so keep test bodies small.
//!
//! For the credentials providers there are local stand-ins of the ECS metadata service
//! ([`EcsMetadataServer`]) and of STS ([`StsServer`]); the credentials they issue carry a
//! security token that an emulator built with [`EmulatorBuilder::security_token`] accepts.

mod auth;
pub mod callback;
mod ecs;
mod error;
mod http;
mod presigned;
mod server;
mod sigv4;
mod standin;
mod store;
mod sts;
mod tls;

pub use ecs::{EcsEndpoint, EcsFault, EcsMetadataServer, EcsMetadataServerBuilder};
pub use sts::{StsCall, StsFault, StsServer, StsServerBuilder};
pub use tls::TlsFront;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use crate::credentials::StaticCredentialsProvider;
use crate::Headers;

use store::Store;

/// The AccessKey ID of an emulator built without [`EmulatorBuilder::access_key`].
pub const DEFAULT_ACCESS_KEY_ID: &str = "emulator-access-key-id";
/// The AccessKey secret of an emulator built without [`EmulatorBuilder::access_key`]. Not a
/// secret: the emulator only listens on 127.0.0.1 and holds test data.
pub const DEFAULT_ACCESS_KEY_SECRET: &str = "emulator-access-key-secret";
/// The region an emulator signs for unless [`EmulatorBuilder::region`] says otherwise.
pub const DEFAULT_REGION: &str = "cn-hangzhou";
/// The bucket created when the builder names none.
pub const DEFAULT_BUCKET: &str = "examplebucket";
/// The PutObject size limit of real OSS (5 GiB), the default of
/// [`EmulatorBuilder::max_object_size`].
pub const DEFAULT_MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// Connections served at the same time; more are answered `503` and closed, so a runaway
/// test cannot exhaust the machine's threads.
pub const MAX_CONNECTIONS: usize = 64;
/// Recorded requests kept (the oldest are dropped beyond it), so a long-running user test
/// does not grow without bound. [`Emulator::request_count`] still counts every request.
pub const MAX_RECORDED_REQUESTS: usize = 100_000;
/// Longest [`Fault::Stall`] honoured; longer durations are cut to it.
pub const MAX_STALL: Duration = Duration::from_secs(120);

/// Takes a lock even if a connection thread panicked while holding it: the data behind these
/// locks is always left consistent (single inserts and pushes), so one broken connection must
/// not take the whole emulator down with it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An object as the emulator stored it, for assertions on what an upload really sent.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredObject {
    /// The body bytes as received.
    pub data: Vec<u8>,
    /// The object headers as received, names in their received case: `Content-Type`,
    /// `Cache-Control`, `Content-Disposition`, `Content-Encoding`, `Content-Language`,
    /// `Expires`, `x-oss-meta-*`, `x-oss-object-acl`, `x-oss-storage-class`, `x-oss-tagging`,
    /// `x-oss-server-side-encryption*`, `x-oss-server-side-data-encryption` and
    /// `x-oss-object-worm-*`.
    pub headers: Headers,
    /// The ETag with its quotes: `"` + uppercase hex MD5 + `"`, as OSS gives for PutObject.
    pub etag: String,
    /// CRC-64/XZ (ECMA) of the data, the value of `x-oss-hash-crc64ecma`.
    pub crc64: u64,
}

impl StoredObject {
    /// The first stored header of that name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }
}

impl fmt::Debug for StoredObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Bodies can be large: show their length, not their bytes.
        f.debug_struct("StoredObject")
            .field("data_len", &self.data.len())
            .field("headers", &self.headers)
            .field("etag", &self.etag)
            .field("crc64", &self.crc64)
            .finish()
    }
}

/// One request as it arrived, so tests can assert what went on the wire. `Debug` redacts the
/// `Authorization` and `x-oss-security-token` values, and the signature and token of a
/// presigned request's query.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The method, e.g. `PUT`.
    pub method: String,
    /// The path as sent, still percent-encoded, e.g. `/examplebucket/a%20b.txt`.
    pub path: String,
    /// The query as sent, without `?` (empty when there is none).
    pub query: String,
    /// Every header as received, in order, names in their received case.
    pub headers: Headers,
    /// Body bytes received (after de-chunking), including bytes read only to be discarded.
    pub body_len: u64,
    /// The status answered, or `None` when the connection was dropped without an answer
    /// ([`Fault::ResetAfter`], or the client went away).
    pub status: Option<u16>,
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &crate::presign::redact_query(&self.query))
            .field("headers", &self.headers)
            .field("body_len", &self.body_len)
            .field("status", &self.status)
            .finish()
    }
}

impl RecordedRequest {
    /// The first header of that name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }
}

/// A misbehaviour to inject, so tests can exercise retries, CRC verification, timeouts and
/// clock-skew handling without a real flaky network.
///
/// [`Emulator::inject`] queues faults. Each request takes the oldest queued fault that applies
/// to it: `ErrorStatus`, `GarbageBody`, `ResetAfter` and `Stall` apply to any request;
/// `WrongCrc`, `NoCrcHeader`, `AnswerLost` and `CallbackFailed` apply to PutObject and
/// AppendObject requests only (and are used up by the next one even if it then fails for
/// another reason; an append ignores `CallbackFailed`, since it takes no callback). A fault is removed
/// after `times` requests; `times: 0` means it never applies. `ClockSkew` is not queued: it
/// sets the server clock offset until [`Emulator::clear_faults`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status and an OSS error XML with this code (the request body is read
    /// and discarded first; nothing is stored). Authentication is not checked.
    ErrorStatus {
        /// HTTP status, e.g. 500 or 503.
        status: u16,
        /// The `<Code>`, e.g. `InternalError`.
        code: String,
        /// How many requests get it.
        times: u32,
    },
    /// Store the object, but answer with a wrong `x-oss-hash-crc64ecma`.
    WrongCrc {
        /// How many PutObject requests get it.
        times: u32,
    },
    /// Store the object and answer without `x-oss-hash-crc64ecma`.
    NoCrcHeader {
        /// How many PutObject requests get it.
        times: u32,
    },
    /// Read this many body bytes, then drop the connection without answering (nothing stored).
    ResetAfter {
        /// Body bytes to read first (all of a shorter body).
        bytes: u64,
        /// How many requests get it.
        times: u32,
    },
    /// Read the request head, then wait this long before handling the request, to trigger
    /// client read timeouts. Capped at [`MAX_STALL`]; dropping the emulator interrupts it.
    Stall {
        /// How long to wait.
        duration: Duration,
        /// How many requests get it.
        times: u32,
    },
    /// Offset the server clock by this many seconds (negative: behind): `x-oss-date` is judged
    /// against now + offset (more than 15 minutes apart gives 403 `RequestTimeTooSkewed`) and
    /// the `Date` response header is now + offset.
    ClockSkew {
        /// Seconds added to the real clock.
        offset_seconds: i64,
    },
    /// Store the object, then answer 203 with a `CallbackFailed` error XML, as OSS does when
    /// the upload callback fails.
    CallbackFailed {
        /// How many PutObject requests get it.
        times: u32,
    },
    /// Store the object (PutObject) or the appended bytes (AppendObject), then close the
    /// connection without answering: the answer is lost although the write happened.
    AnswerLost {
        /// How many PutObject or AppendObject requests get it.
        times: u32,
    },
    /// Answer with this status and a body that is not XML (nothing stored), as a proxy or a
    /// load balancer in the way might.
    GarbageBody {
        /// HTTP status.
        status: u16,
        /// How many requests get it.
        times: u32,
    },
}

impl Fault {
    fn times_mut(&mut self) -> Option<&mut u32> {
        match self {
            Fault::ErrorStatus { times, .. }
            | Fault::WrongCrc { times }
            | Fault::NoCrcHeader { times }
            | Fault::ResetAfter { times, .. }
            | Fault::Stall { times, .. }
            | Fault::CallbackFailed { times }
            | Fault::AnswerLost { times }
            | Fault::GarbageBody { times, .. } => Some(times),
            Fault::ClockSkew { .. } => None,
        }
    }

    fn applies_to(&self, is_put_object: bool) -> bool {
        match self {
            Fault::ErrorStatus { .. }
            | Fault::GarbageBody { .. }
            | Fault::ResetAfter { .. }
            | Fault::Stall { .. } => true,
            Fault::WrongCrc { .. }
            | Fault::NoCrcHeader { .. }
            | Fault::CallbackFailed { .. }
            | Fault::AnswerLost { .. } => is_put_object,
            Fault::ClockSkew { .. } => false,
        }
    }
}

/// Fixed settings of one emulator.
pub(crate) struct Settings {
    pub region: String,
    pub access_key_id: String,
    pub access_key_secret: String,
    pub security_token: Option<String>,
    pub max_object_size: u64,
    /// `127.0.0.1:PORT`: a `Host` equal to it means path-style addressing.
    pub own_host: String,
    /// Keep each object's length, CRC-64 and MD5, not its bytes.
    pub length_only: bool,
    /// Bytes per second each connection reads, when limited.
    pub bandwidth_limit: Option<u64>,
}

/// State shared by the handle, the accept thread and the connection threads.
pub(crate) struct Shared {
    pub settings: Settings,
    pub store: Mutex<Store>,
    pub multipart: Mutex<server::multipart::Uploads>,
    requests: Mutex<VecDeque<RecordedRequest>>,
    request_total: AtomicUsize,
    faults: Mutex<VecDeque<Fault>>,
    clock_offset: AtomicI64,
    pub shutdown: AtomicBool,
    active: AtomicUsize,
    connections: Mutex<HashMap<u64, TcpStream>>,
    next_connection: AtomicU64,
}

impl Shared {
    /// The server's idea of now: the real clock plus the [`Fault::ClockSkew`] offset.
    pub fn now(&self) -> SystemTime {
        let offset = self.clock_offset.load(Ordering::Relaxed);
        let now = SystemTime::now();
        let shifted = if offset >= 0 {
            now.checked_add(Duration::from_secs(offset.unsigned_abs()))
        } else {
            now.checked_sub(Duration::from_secs(offset.unsigned_abs()))
        };
        shifted.unwrap_or(now)
    }

    /// Takes one use of the oldest queued fault that applies to this request.
    pub fn take_fault(&self, is_put_object: bool) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let index = faults.iter().position(|f| f.applies_to(is_put_object))?;
        let fault = faults.get_mut(index)?;
        let taken = fault.clone();
        let left = match fault.times_mut() {
            Some(times) => {
                *times = times.saturating_sub(1);
                *times
            }
            None => 0,
        };
        if left == 0 {
            faults.remove(index);
        }
        Some(taken)
    }

    pub fn record(&self, request: RecordedRequest) {
        let mut requests = lock(&self.requests);
        if requests.len() >= MAX_RECORDED_REQUESTS {
            requests.pop_front();
        }
        requests.push_back(request);
        self.request_total.fetch_add(1, Ordering::Relaxed);
    }

    /// Sleeps up to `duration` (capped at [`MAX_STALL`]), waking early on shutdown so a
    /// stalled request never delays [`Emulator`]'s drop.
    pub fn sleep(&self, duration: Duration) {
        let total = duration.min(MAX_STALL);
        let started = Instant::now();
        while !self.shutdown.load(Ordering::Relaxed) {
            match total.checked_sub(started.elapsed()) {
                Some(left) if !left.is_zero() => {
                    thread::sleep(left.min(Duration::from_millis(10)));
                }
                _ => break,
            }
        }
    }
}

/// Configures an [`Emulator`] before it starts.
///
/// ```
/// use oss_blocking::emulator::Emulator;
/// let emulator = Emulator::builder()
///     .region("cn-shanghai")
///     .access_key("my-test-id", "my-test-secret")
///     .bucket("photos")
///     .bucket("logs")
///     .max_object_size(1024)
///     .start()?;
/// assert_eq!(emulator.bucket(), "photos");
/// assert_eq!(emulator.region(), "cn-shanghai");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct EmulatorBuilder {
    region: String,
    access_key_id: String,
    access_key_secret: String,
    security_token: Option<String>,
    buckets: Vec<String>,
    max_object_size: u64,
    length_only: bool,
    bandwidth_limit: Option<u64>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            region: DEFAULT_REGION.to_string(),
            access_key_id: DEFAULT_ACCESS_KEY_ID.to_string(),
            access_key_secret: DEFAULT_ACCESS_KEY_SECRET.to_string(),
            security_token: None,
            buckets: Vec::new(),
            max_object_size: DEFAULT_MAX_OBJECT_SIZE,
            length_only: false,
            bandwidth_limit: None,
        }
    }
}

impl fmt::Debug for EmulatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorBuilder")
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .field("buckets", &self.buckets)
            .field("max_object_size", &self.max_object_size)
            .field("length_only", &self.length_only)
            .field("bandwidth_limit", &self.bandwidth_limit)
            .finish()
    }
}

impl EmulatorBuilder {
    /// The region requests must be signed for (default `cn-hangzhou`), so a client configured
    /// for the wrong region fails here as it would on OSS.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// The only access key accepted, to test your own key handling.
    pub fn access_key(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.access_key_id = id.into();
        self.access_key_secret = secret.into();
        self
    }

    /// Require this STS token in `x-oss-security-token`, as OSS does for temporary keys.
    /// Without it, a request that carries a token is refused.
    pub fn security_token(mut self, token: impl Into<String>) -> Self {
        let token = token.into();
        self.security_token = if token.is_empty() { None } else { Some(token) };
        self
    }

    /// Create this bucket at start (repeatable). Without any, `examplebucket` is created.
    pub fn bucket(mut self, name: impl Into<String>) -> Self {
        self.buckets.push(name.into());
        self
    }

    /// Length-only mode: every object and part keeps its length, CRC-64 and MD5 (so ETags,
    /// CRC-64 headers and ListParts stay right) but not its bytes, so tests can upload objects
    /// over 5 GiB in little memory. Reading such an object back (GetObject) answers 501.
    ///
    /// ```
    /// use oss_blocking as oss;
    /// let emu = oss::emulator::Emulator::builder().length_only(true).start().unwrap();
    /// let client = oss::Client::new(emu.config());
    /// client.put_object(oss::PutObjectRequest::new(emu.bucket(), "k").body(vec![1u8; 4096]))?;
    /// assert_eq!(
    ///     emu.object_len_and_crc64(emu.bucket(), "k"),
    ///     Some((4096, oss::crc64::checksum(&[1u8; 4096])))
    /// );
    /// # Ok::<(), oss::OperationError>(())
    /// ```
    pub fn length_only(mut self, yes: bool) -> Self {
        self.length_only = yes;
        self
    }

    /// Limits what each connection reads to `bytes_per_second` (0 means no limit), as a long,
    /// thin link to a distant region would: one connection then uploads at that rate, and
    /// parallel parts on several connections add up.
    ///
    /// ```
    /// use oss_blocking as oss;
    /// let emu = oss::emulator::Emulator::builder().bandwidth_limit(1_000_000).start().unwrap();
    /// let client = oss::Client::new(emu.config());
    /// let started = std::time::Instant::now();
    /// client.put_object(oss::PutObjectRequest::new(emu.bucket(), "k").body(vec![0u8; 200_000]))?;
    /// assert!(started.elapsed() >= std::time::Duration::from_millis(150));
    /// # Ok::<(), oss::OperationError>(())
    /// ```
    pub fn bandwidth_limit(mut self, bytes_per_second: u64) -> Self {
        self.bandwidth_limit = (bytes_per_second > 0).then_some(bytes_per_second);
        self
    }

    /// The largest PutObject body accepted (default 5 GiB, OSS's limit); larger ones get 400
    /// `EntityTooLarge`. A small value lets tests hit that error with small bodies.
    pub fn max_object_size(mut self, bytes: u64) -> Self {
        self.max_object_size = bytes;
        self
    }

    /// Binds `127.0.0.1:0` (a free port) and starts serving.
    pub fn start(self) -> std::io::Result<Emulator> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let buckets = if self.buckets.is_empty() {
            vec![DEFAULT_BUCKET.to_string()]
        } else {
            self.buckets
        };
        let mut store = Store::default();
        for bucket in &buckets {
            store.create_bucket(bucket);
        }
        let shared = Arc::new(Shared {
            settings: Settings {
                region: self.region,
                access_key_id: self.access_key_id,
                access_key_secret: self.access_key_secret,
                security_token: self.security_token,
                max_object_size: self.max_object_size,
                own_host: addr.to_string(),
                length_only: self.length_only,
                bandwidth_limit: self.bandwidth_limit,
            },
            store: Mutex::new(store),
            multipart: Mutex::new(server::multipart::Uploads::default()),
            requests: Mutex::new(VecDeque::new()),
            request_total: AtomicUsize::new(0),
            faults: Mutex::new(VecDeque::new()),
            clock_offset: AtomicI64::new(0),
            shutdown: AtomicBool::new(false),
            active: AtomicUsize::new(0),
            connections: Mutex::new(HashMap::new()),
            next_connection: AtomicU64::new(0),
        });
        let accept_shared = Arc::clone(&shared);
        let accept = thread::Builder::new()
            .name("oss-emulator-accept".to_string())
            .spawn(move || accept_loop(listener, accept_shared))?;
        let first_bucket = buckets.into_iter().next().unwrap_or_default();
        Ok(Emulator {
            shared,
            addr,
            accept: Some(accept),
            first_bucket,
        })
    }
}

/// Decrements the connection count and forgets the socket when a connection thread ends,
/// even by panic.
struct ConnectionGuard {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        lock(&self.shared.connections).remove(&self.id);
        self.shared.active.fetch_sub(1, Ordering::SeqCst);
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.shutdown.load(Ordering::SeqCst) {
            break;
        }
        let stream = match stream {
            Ok(s) => s,
            Err(_) => {
                // E.g. out of file descriptors: back off instead of spinning.
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        if shared.active.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
            server::refuse_busy(&shared, stream);
            continue;
        }
        let id = shared.next_connection.fetch_add(1, Ordering::Relaxed);
        shared.active.fetch_add(1, Ordering::SeqCst);
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.connections).insert(id, clone);
        }
        let guard = ConnectionGuard {
            shared: Arc::clone(&shared),
            id,
        };
        // If the spawn fails, the closure (and so the guard and the stream) is dropped,
        // which undoes the bookkeeping and closes the connection.
        let _ = thread::Builder::new()
            .name("oss-emulator-conn".to_string())
            .spawn(move || {
                let guard = guard;
                server::serve_connection(&guard.shared, stream);
            });
    }
}

/// A running emulator. Dropping it stops the server (best effort, bounded: it never hangs).
///
/// A PutObject signed with this crate's signer and sent with `ureq`, then read back:
///
/// ```
/// use std::time::SystemTime;
/// use oss_blocking::credentials::CredentialsProvider;
/// use oss_blocking::emulator::Emulator;
/// use oss_blocking::signer::{escape_path, sign_v4_headers, SigningContext};
/// use oss_blocking::Headers;
///
/// let emulator = Emulator::start()?;
/// let credentials = emulator.credentials_provider().credentials()?;
/// let (bucket, key) = (emulator.bucket(), "docs/hello world.txt");
///
/// let mut headers = Headers::new();
/// headers.set("Content-Type", "text/plain");
/// let ctx = SigningContext::new(&credentials, emulator.region(), SystemTime::now());
/// sign_v4_headers("PUT", Some(bucket), Some(key), "", &mut headers, &ctx);
///
/// // Path-style URL: the emulator listens on an IP address.
/// let url = format!("{}/{}/{}", emulator.endpoint(), bucket, escape_path(key));
/// let agent: ureq::Agent = ureq::Agent::config_builder().proxy(None).build().into();
/// let mut request = agent.put(&url);
/// for (name, value) in headers.iter() {
///     request = request.header(name, value);
/// }
/// let response = request.send("hello world")?;
/// assert_eq!(response.status(), 200);
/// assert_eq!(
///     response.headers()["x-oss-hash-crc64ecma"],
///     "5981764153023615706"
/// );
///
/// let object = emulator.object(bucket, key).expect("stored");
/// assert_eq!(object.data, b"hello world");
/// assert_eq!(object.header("content-type"), Some("text/plain"));
/// assert_eq!(object.etag, "\"5EB63BBBE01EEED093CB22BB8F5ACDC3\"");
/// assert_eq!(emulator.requests()[0].method, "PUT");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept: Option<JoinHandle<()>>,
    first_bucket: String,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("endpoint", &self.endpoint())
            .field("region", &self.region())
            .field("bucket", &self.bucket())
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Starts an emulator with the defaults: a free port on 127.0.0.1, access key
    /// [`DEFAULT_ACCESS_KEY_ID`] / [`DEFAULT_ACCESS_KEY_SECRET`], region `cn-hangzhou` and
    /// the bucket `examplebucket`.
    pub fn start() -> std::io::Result<Emulator> {
        Emulator::builder().start()
    }

    /// A builder, to choose the region, keys, token, buckets or size limit.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// The base URL, `http://127.0.0.1:PORT`, to use as the client's endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The region requests must be signed for.
    pub fn region(&self) -> &str {
        &self.shared.settings.region
    }

    /// The first bucket created at start.
    pub fn bucket(&self) -> &str {
        &self.first_bucket
    }

    /// The accepted AccessKey ID.
    pub fn access_key_id(&self) -> &str {
        &self.shared.settings.access_key_id
    }

    /// A provider of the accepted credentials (and token, if one is required).
    pub fn credentials_provider(&self) -> StaticCredentialsProvider {
        let settings = &self.shared.settings;
        let provider =
            StaticCredentialsProvider::new(&settings.access_key_id, &settings.access_key_secret);
        match &settings.security_token {
            Some(token) => provider.security_token(token),
            None => provider,
        }
    }

    /// A client configuration for this emulator: region, endpoint, path-style addressing and
    /// credentials, ready for the client.
    pub fn config(&self) -> crate::Config {
        crate::Config::load_default()
            .region(self.region())
            .endpoint(self.endpoint())
            .use_path_style(true)
            .credentials_provider(self.credentials_provider())
    }

    /// The URL where the emulator serves the PEM public key of its upload-callback
    /// signatures; its base64 is the `x-oss-pub-key-url` header of every callback POST.
    pub fn callback_public_key_url(&self) -> String {
        format!("{}{}", self.endpoint(), callback::PUBLIC_KEY_PATH)
    }

    /// Creates a bucket (nothing happens if it exists).
    pub fn create_bucket(&self, name: &str) {
        lock(&self.shared.store).create_bucket(name);
    }

    /// A copy of a stored object, or `None`.
    pub fn object(&self, bucket: &str, key: &str) -> Option<StoredObject> {
        lock(&self.shared.store)
            .get(bucket, key)
            .map(|o| o.to_stored())
    }

    /// The size in bytes and the stored CRC-64 of an object, or `None`. Unlike
    /// [`object`](Self::object) it copies no data, so a test of a large upload can check what
    /// was stored without holding a second copy of it.
    ///
    /// ```
    /// # let emu = oss_blocking::emulator::Emulator::start().unwrap();
    /// let client = oss_blocking::Client::new(emu.config());
    /// client
    ///     .put_object(oss_blocking::PutObjectRequest::new(emu.bucket(), "k").body("hello world"))
    ///     .unwrap();
    /// assert_eq!(
    ///     emu.object_len_and_crc64(emu.bucket(), "k"),
    ///     Some((11, oss_blocking::crc64::checksum(b"hello world")))
    /// );
    /// assert_eq!(emu.object_len_and_crc64(emu.bucket(), "missing"), None);
    /// ```
    pub fn object_len_and_crc64(&self, bucket: &str, key: &str) -> Option<(u64, u64)> {
        lock(&self.shared.store)
            .get(bucket, key)
            .map(|o| (o.size, o.crc64))
    }

    /// How many objects are stored, in all buckets.
    pub fn object_count(&self) -> usize {
        lock(&self.shared.store).object_count()
    }

    /// Every request received so far (up to [`MAX_RECORDED_REQUESTS`], oldest first), in the
    /// order their handling finished. Requests whose head could not be parsed are not
    /// recorded.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).iter().cloned().collect()
    }

    /// How many requests were recorded, including any dropped from [`Emulator::requests`].
    pub fn request_count(&self) -> usize {
        self.shared.request_total.load(Ordering::Relaxed)
    }

    /// Queues a fault (see [`Fault`] for which requests it applies to), or sets the clock
    /// offset for [`Fault::ClockSkew`].
    pub fn inject(&self, fault: Fault) {
        match fault {
            Fault::ClockSkew { offset_seconds } => {
                self.shared
                    .clock_offset
                    .store(offset_seconds, Ordering::Relaxed);
            }
            mut fault => {
                if fault.times_mut().is_some_and(|t| *t > 0) {
                    lock(&self.shared.faults).push_back(fault);
                }
            }
        }
    }

    /// Queues a fault for one multipart operation (`"InitiateMultipartUpload"`,
    /// `"UploadPart"`, `"CompleteMultipartUpload"`, `"AbortMultipartUpload"`, `"ListParts"`,
    /// `"ListMultipartUploads"`) and, with `Some(n)`, only for UploadPart number `n`. It
    /// applies `times` times: `ErrorStatus`, `ResetAfter`, `Stall`, and for UploadPart and
    /// Complete `WrongCrc` and `NoCrcHeader`. Faults from [`Emulator::inject`] still apply
    /// to every request.
    ///
    /// ```
    /// use oss_blocking as oss;
    /// use oss::emulator::{Emulator, Fault};
    /// let emu = Emulator::start().unwrap();
    /// // "fail UploadPart 3 once with 503", "wrong CRC on part 2":
    /// emu.inject_for("UploadPart", Some(3), Fault::ErrorStatus { status: 503, code: "ServiceUnavailable".into(), times: 1 });
    /// emu.inject_for("UploadPart", Some(2), Fault::WrongCrc { times: 1 });
    /// ```
    pub fn inject_for(&self, operation: &str, part_number: Option<u32>, fault: Fault) {
        let mut fault = fault;
        if fault.times_mut().is_some_and(|t| *t > 0) {
            lock(&self.shared.multipart).inject(operation, part_number, fault);
        }
    }

    /// TCP connections accepted since start: with a client that reuses its connections this
    /// stays at the number of threads that used it at once.
    ///
    /// ```
    /// let emu = oss_blocking::emulator::Emulator::start().unwrap();
    /// assert_eq!(emu.connections_accepted(), 0);
    /// ```
    pub fn connections_accepted(&self) -> u64 {
        self.shared.next_connection.load(Ordering::Relaxed)
    }

    /// Multipart uploads initiated and neither completed nor aborted.
    ///
    /// ```
    /// let emu = oss_blocking::emulator::Emulator::start().unwrap();
    /// assert_eq!(emu.open_uploads(), 0);
    /// ```
    pub fn open_uploads(&self) -> usize {
        lock(&self.shared.multipart).open_uploads()
    }

    /// The most UploadPart bodies the emulator was receiving at one time (since start).
    ///
    /// ```
    /// let emu = oss_blocking::emulator::Emulator::start().unwrap();
    /// assert_eq!(emu.max_concurrent_parts(), 0);
    /// ```
    pub fn max_concurrent_parts(&self) -> usize {
        lock(&self.shared.multipart).max_parts_in_flight()
    }

    /// Removes every queued fault and resets the clock offset.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
        self.shared.clock_offset.store(0, Ordering::Relaxed);
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        // Wake connection threads blocked in reads or writes.
        for stream in lock(&self.shared.connections).values() {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        // Wake the accept loop with a connection of our own; join it only if that worked, so
        // a failure here can never hang the caller.
        let woke = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if let Some(accept) = self.accept.take() {
            if woke {
                let _ = accept.join();
            }
        }
        // Give connection threads a bounded moment to notice and exit.
        let started = Instant::now();
        while self.shared.active.load(Ordering::SeqCst) > 0
            && started.elapsed() < Duration::from_secs(2)
        {
            thread::sleep(Duration::from_millis(5));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_recovers_from_a_poisoned_mutex() {
        let m = Arc::new(Mutex::new(1));
        let m2 = Arc::clone(&m);
        let _ = thread::spawn(move || {
            let _guard = m2.lock().unwrap();
            panic!("a connection thread panics while holding the lock");
        })
        .join();
        assert!(m.is_poisoned());
        *lock(&m) += 1;
        assert_eq!(*lock(&m), 2);
    }

    #[test]
    fn faults_are_taken_oldest_first_among_those_that_apply() {
        let emu = Emulator::start().unwrap();
        emu.inject(Fault::WrongCrc { times: 1 });
        emu.inject(Fault::ErrorStatus {
            status: 500,
            code: "InternalError".into(),
            times: 2,
        });
        emu.inject(Fault::NoCrcHeader { times: 0 });
        let shared = &emu.shared;
        // A GET skips the PutObject-only fault at the front.
        assert!(matches!(
            shared.take_fault(false),
            Some(Fault::ErrorStatus { status: 500, .. })
        ));
        assert!(matches!(
            shared.take_fault(true),
            Some(Fault::WrongCrc { .. })
        ));
        assert!(matches!(
            shared.take_fault(true),
            Some(Fault::ErrorStatus { .. })
        ));
        assert_eq!(shared.take_fault(true), None, "times: 0 was never queued");
    }

    #[test]
    fn clock_skew_moves_the_server_clock_until_cleared() {
        let emu = Emulator::start().unwrap();
        emu.inject(Fault::ClockSkew {
            offset_seconds: -7200,
        });
        assert!(emu.shared.now() < SystemTime::now() - Duration::from_secs(3600));
        emu.clear_faults();
        assert!(emu.shared.now() > SystemTime::now() - Duration::from_secs(3600));
    }
}

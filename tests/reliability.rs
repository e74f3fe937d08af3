//! Fault injection against the built-in emulator (and a few tiny raw servers): retries with
//! rewind, what is and is not retried, timeouts, clock skew, and responses that lie. Each test
//! asserts what the server stored afterwards, not only what the client said.
//!
//! Faults already covered in `tests/put_object.rs` (wrong CRC on every attempt and once, a
//! 503 then success for a file, the CRC check turned off) are not repeated here.
#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not tests

use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use oss::credentials::{Credentials, CredentialsError, CredentialsProvider};
use oss::emulator::{Emulator, Fault};
use oss::{Body, Client, ErrorKind, PutObjectRequest};
use oss_blocking as oss;

mod common;
use common::{fast, pattern, setup, RawServer};

fn error_status(status: u16, code: &str, times: u32) -> Fault {
    Fault::ErrorStatus {
        status,
        code: code.to_string(),
        times,
    }
}

/// The PUTs the emulator answered 200, i.e. how many times the object was stored.
fn stored_times(emu: &Emulator) -> usize {
    emu.requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.status == Some(200))
        .count()
}

#[test]
fn a_503_on_every_attempt_fails_after_exactly_n_attempts_with_the_last_answer() {
    let emu = Emulator::start().unwrap();
    let client = Client::new(fast(emu.config()).retry_max_attempts(4));
    emu.inject(error_status(503, "ServiceUnavailable", 2));
    emu.inject(error_status(500, "InternalError", 1));
    emu.inject(error_status(502, "LastOne", 5));
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "a.txt").body("data"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Service);
    assert_eq!(err.attempts(), 4);
    assert_eq!(emu.request_count(), 4);
    let service = err.service_error().unwrap();
    assert_eq!((service.status_code(), service.code()), (502, "LastOne"));
    assert!(!service.request_id().is_empty());
    assert_eq!(err.request_id(), Some(service.request_id()));
    assert!(err.to_string().contains("after 4 attempts"), "{err}");
    assert!(emu.object(emu.bucket(), "a.txt").is_none());
}

#[test]
fn one_attempt_means_no_retry() {
    let emu = Emulator::start().unwrap();
    let client = Client::new(fast(emu.config()).retry_max_attempts(1));
    emu.inject(error_status(503, "ServiceUnavailable", 1));
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "a.txt").body("data"))
        .unwrap_err();
    assert_eq!(err.attempts(), 1);
    assert_eq!(emu.request_count(), 1);
    assert!(emu.object(emu.bucket(), "a.txt").is_none());
}

#[test]
fn the_default_is_three_attempts() {
    let (emu, client) = setup();
    emu.inject(error_status(500, "InternalError", 10));
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "a.txt").body("data"))
        .unwrap_err();
    assert_eq!(err.attempts(), 3);
    assert_eq!(emu.request_count(), 3);
}

#[test]
fn retryable_statuses_and_codes_are_retried_then_stored_once() {
    let cases = [
        (500, "InternalError"),
        (502, "BadGateway"),
        (503, "ServiceUnavailable"),
        (504, "GatewayTimeout"),
        (401, "Unauthorized"),
        (408, "RequestTimeout"),
        (429, "TooManyRequests"),
        (400, "BadRequest"),
        (403, "RequestTimeTooSkewed"),
    ];
    for (status, code) in cases {
        let (emu, client) = setup();
        emu.inject(error_status(status, code, 1));
        let result = client
            .put_object(PutObjectRequest::new(emu.bucket(), "r.txt").body("retried"))
            .unwrap_or_else(|e| panic!("{status} {code} not retried: {e}"));
        assert_eq!(result.status_code, 200);
        assert_eq!(emu.request_count(), 2, "{status} {code}");
        assert_eq!(stored_times(&emu), 1, "{status} {code}");
        assert_eq!(emu.object(emu.bucket(), "r.txt").unwrap().data, b"retried");
    }
}

#[test]
fn other_client_errors_are_not_retried() {
    let cases = [
        (400, "InvalidArgument"),
        (403, "AccessDenied"),
        (404, "NoSuchBucket"),
        (409, "FileAlreadyExists"),
        (411, "MissingContentLength"),
    ];
    for (status, code) in cases {
        let (emu, client) = setup();
        emu.inject(error_status(status, code, 1));
        let err = client
            .put_object(PutObjectRequest::new(emu.bucket(), "r.txt").body("once"))
            .unwrap_err();
        let service = err.service_error().unwrap();
        assert_eq!((service.status_code(), service.code()), (status, code));
        assert_eq!(err.attempts(), 1, "{status} {code}");
        assert_eq!(emu.request_count(), 1, "{status} {code}");
        assert!(emu.object(emu.bucket(), "r.txt").is_none());
    }
}

#[test]
fn a_reset_mid_body_is_retried_from_the_start_for_bytes_files_and_seekable_readers() {
    let data = pattern(200_000);
    let dir = std::env::temp_dir().join(format!("oss-reliability-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("reset.bin");
    let mut on_disk = b"HEADER-TO-SKIP".to_vec();
    on_disk.extend_from_slice(&data);
    std::fs::write(&path, &on_disk).unwrap();

    let bodies: Vec<(&str, Body)> = vec![
        ("bytes", Body::from(data.clone())),
        ("file", {
            let mut file = std::fs::File::open(&path).unwrap();
            file.seek(SeekFrom::Start(14)).unwrap();
            Body::from(file)
        }),
        ("seekable", {
            let mut cursor = Cursor::new(on_disk.clone());
            cursor.set_position(14);
            Body::from_seekable(cursor)
        }),
    ];
    for (what, body) in bodies {
        let (emu, client) = setup();
        emu.inject(Fault::ResetAfter {
            bytes: 70_000,
            times: 1,
        });
        let result = client
            .put_object(PutObjectRequest::new(emu.bucket(), "reset.bin").body(body))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let requests = emu.requests();
        assert_eq!(requests.len(), 2, "{what}");
        assert_eq!(requests[0].status, None, "{what}: the first was cut");
        assert_eq!(requests[1].body_len, data.len() as u64, "{what}");
        assert_eq!(stored_times(&emu), 1, "{what}");
        let stored = emu.object(emu.bucket(), "reset.bin").unwrap();
        assert!(stored.data == data, "{what}: stored bytes differ");
        // The CRC restarted with the attempt: had it run on, the check would have failed.
        assert_eq!(
            result.hash_crc64,
            Some(oss::crc64::checksum(&data)),
            "{what}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_one_shot_stream_is_sent_once_and_says_it_could_not_be_retried() {
    for sized in [false, true] {
        let (emu, client) = setup();
        emu.inject(error_status(503, "ServiceUnavailable", 1));
        let reader = Cursor::new(b"stream data".to_vec());
        let body = if sized {
            Body::from_sized_reader(reader, 11)
        } else {
            Body::from_reader(reader)
        };
        let err = client
            .put_object(PutObjectRequest::new(emu.bucket(), "s.txt").body(body))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Service);
        assert_eq!(err.attempts(), 1);
        assert_eq!(emu.request_count(), 1);
        assert!(err.to_string().contains("could not be retried"), "{err}");
        let service = err.service_error().expect("the 503 stays inspectable");
        assert_eq!(
            (service.status_code(), service.code()),
            (503, "ServiceUnavailable")
        );
        assert_eq!(
            err.to_string().matches("operation error").count(),
            1,
            "{err}"
        );
        assert!(err.request_id().is_some());
        assert!(emu.object(emu.bucket(), "s.txt").is_none());
    }
}

#[test]
fn a_seekable_reader_is_rewound_after_a_503() {
    let (emu, client) = setup();
    emu.inject(error_status(503, "ServiceUnavailable", 2));
    let mut cursor = Cursor::new(b"skip me|payload".to_vec());
    cursor.set_position(8);
    client
        .put_object(
            PutObjectRequest::new(emu.bucket(), "seek.txt").body(Body::from_seekable(cursor)),
        )
        .unwrap();
    assert_eq!(emu.request_count(), 3);
    let stored = emu.object(emu.bucket(), "seek.txt").unwrap();
    assert_eq!(stored.data, b"payload");
    assert_eq!(emu.requests()[2].header("content-length"), Some("7"));
}

struct CountingProvider {
    inner: oss::credentials::StaticCredentialsProvider,
    calls: Arc<AtomicUsize>,
}

impl CredentialsProvider for CountingProvider {
    fn credentials(&self) -> Result<Credentials, CredentialsError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.credentials()
    }
}

#[test]
fn each_attempt_fetches_credentials_and_is_signed_again() {
    let emu = Emulator::start().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let client = Client::new(fast(emu.config()).credentials_provider(CountingProvider {
        inner: emu.credentials_provider(),
        calls: Arc::clone(&calls),
    }));
    emu.inject(error_status(503, "ServiceUnavailable", 2));
    client
        .put_object(PutObjectRequest::new(emu.bucket(), "a.txt").body("x"))
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let requests = emu.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests
        .iter()
        .all(|r| r.header("authorization").is_some() && r.header("x-oss-date").is_some()));
}

fn signing_time(request: &oss::emulator::RecordedRequest) -> SystemTime {
    oss::signer::parse_datetime(request.header("x-oss-date").unwrap()).unwrap()
}

#[test]
fn request_time_too_skewed_learns_the_server_clock_and_keeps_it() {
    for offset in [1200i64, -1200] {
        let (emu, client) = setup();
        emu.inject(Fault::ClockSkew {
            offset_seconds: offset,
        });
        client
            .put_object(PutObjectRequest::new(emu.bucket(), "skew.txt").body("x"))
            .unwrap();
        let requests = emu.requests();
        assert_eq!(
            requests.len(),
            2,
            "offset {offset}: one 403, then the retry"
        );
        assert_eq!(requests[0].status, Some(403));
        assert_eq!(requests[1].status, Some(200));
        // The retry was signed with the server's time, not the local one (a wide margin:
        // this checks which clock was used, not how fast anything ran).
        let local = SystemTime::now();
        let signed = signing_time(&requests[1]);
        let apart = match signed.duration_since(local) {
            Ok(ahead) => ahead.as_secs() as i64,
            Err(behind) => -(behind.duration().as_secs() as i64),
        };
        assert!((apart - offset).abs() < 120, "signed {apart} s from local");

        // Later requests use the learned offset straight away.
        client
            .put_object(PutObjectRequest::new(emu.bucket(), "skew2.txt").body("y"))
            .unwrap();
        assert_eq!(emu.request_count(), 3, "offset {offset}: no second 403");
        assert_eq!(emu.object(emu.bucket(), "skew2.txt").unwrap().data, b"y");
        let debug = format!("{client:?}");
        assert!(!debug.contains("clock_offset_ms: 0"), "{debug}");
    }
}

#[test]
fn a_missing_crc_header_is_success_without_a_crc() {
    let (emu, client) = setup();
    emu.inject(Fault::NoCrcHeader { times: 1 });
    let result = client
        .put_object(PutObjectRequest::new(emu.bucket(), "nocrc.txt").body("hello"))
        .unwrap();
    assert_eq!(result.hash_crc64, None);
    assert_eq!(emu.request_count(), 1);
    assert_eq!(
        emu.object(emu.bucket(), "nocrc.txt").unwrap().data,
        b"hello"
    );
}

#[test]
fn a_200_that_is_not_from_oss_is_never_reported_as_stored() {
    // A proxy or captive portal answering 200 with HTML: nothing reached OSS.
    let (emu, client) = setup();
    emu.inject(Fault::GarbageBody {
        status: 200,
        times: 10,
    });
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "g.txt").body("data"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert_eq!(err.attempts(), 3);
    assert!(err.to_string().contains("without ETag"), "{err}");
    assert!(emu.object(emu.bucket(), "g.txt").is_none());

    // Once only: the retry stores it.
    let (emu, client) = setup();
    emu.inject(Fault::GarbageBody {
        status: 200,
        times: 1,
    });
    client
        .put_object(PutObjectRequest::new(emu.bucket(), "g.txt").body("data"))
        .unwrap();
    assert_eq!(emu.request_count(), 2);
    assert_eq!(emu.object(emu.bucket(), "g.txt").unwrap().data, b"data");
}

#[test]
fn an_error_status_with_a_garbage_body_keeps_the_status() {
    let emu = Emulator::start().unwrap();
    let client = Client::new(fast(emu.config()).retry_max_attempts(2));
    emu.inject(Fault::GarbageBody {
        status: 502,
        times: 2,
    });
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "g.txt").body("data"))
        .unwrap_err();
    let service = err.service_error().unwrap();
    assert_eq!(service.status_code(), 502);
    assert_eq!(service.code(), oss::BAD_ERROR_RESPONSE);
    assert_eq!(err.attempts(), 2);
    assert!(emu.object(emu.bucket(), "g.txt").is_none());
}

/// A client with a 300 ms read/write timeout and `attempts` attempts, after queueing one stall
/// of the next request (head read, then no answer and no more reading for 60 s).
fn client_facing_a_stall(emu: &Emulator, attempts: u32) -> Client {
    emu.inject(Fault::Stall {
        duration: Duration::from_secs(60),
        times: 1,
    });
    Client::new(
        fast(emu.config())
            .readwrite_timeout(Duration::from_millis(300))
            .retry_max_attempts(attempts),
    )
}

#[test]
fn a_server_that_never_answers_times_out_and_the_retry_succeeds() {
    let emu = Emulator::start().unwrap();
    let client = client_facing_a_stall(&emu, 1);
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "t.txt").body("data"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert!(err.is_timeout(), "{err:?}");
    assert!(emu.object(emu.bucket(), "t.txt").is_none());

    // With retries the stalled attempt is abandoned and the next one stores the object.
    let client = client_facing_a_stall(&emu, 2);
    client
        .put_object(PutObjectRequest::new(emu.bucket(), "t2.txt").body("data"))
        .unwrap();
    assert_eq!(emu.object(emu.bucket(), "t2.txt").unwrap().data, b"data");
}

#[test]
fn a_server_that_stops_reading_mid_body_times_out_on_the_write() {
    // The stall comes after the request head: the server reads none of the body, so once the
    // socket buffers are full the client's write blocks until its write timeout.
    let emu = Emulator::start().unwrap();
    let client = client_facing_a_stall(&emu, 1);
    let data = vec![7u8; 48 * 1024 * 1024];
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "big.bin").body(data))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(err.is_timeout(), "{err:?}");
    assert!(emu.object(emu.bucket(), "big.bin").is_none());
}

#[test]
fn a_200_with_a_truncated_body_is_a_retried_transport_error() {
    let server = RawServer::start(
        b"HTTP/1.1 200 OK\r\nx-oss-request-id: REQ1\r\nContent-Length: 100\r\n\r\ncut short",
        2,
    );
    let emu = Emulator::start().unwrap();
    let client = Client::new(
        fast(emu.config())
            .endpoint(server.endpoint.as_str())
            .retry_max_attempts(2),
    );
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "t.txt").body("data"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(err.attempts(), 2);
    assert_eq!(err.request_id(), Some("REQ1"));
    assert_eq!(server.connections.load(Ordering::SeqCst), 2);
}

#[test]
fn redirects_are_not_followed() {
    let emu = Emulator::start().unwrap();
    let reply: &'static [u8] = Box::leak(
        format!(
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: {}/{}/r.txt\r\nx-oss-request-id: R\r\n\
             Content-Length: 0\r\n\r\n",
            emu.endpoint(),
            emu.bucket()
        )
        .into_bytes()
        .into_boxed_slice(),
    );
    let server = RawServer::start(reply, 3);
    let client = Client::new(fast(emu.config()).endpoint(server.endpoint.as_str()));
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "r.txt").body("data"))
        .unwrap_err();
    assert_eq!(err.service_error().unwrap().status_code(), 307);
    assert_eq!(err.attempts(), 1, "a redirect is not retried");
    assert_eq!(emu.request_count(), 0, "the Location was not followed");
}

#[test]
fn a_refused_connection_is_retried_then_reported() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let emu = Emulator::start().unwrap();
    let client = Client::new(
        fast(emu.config())
            .endpoint(format!("http://127.0.0.1:{port}"))
            .retry_max_attempts(2),
    );
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "a.txt").body("x"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert_eq!(err.attempts(), 2);
    assert_eq!(err.request_id(), None);
}

struct FailingReader {
    left: usize,
}

impl Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "disk says no",
            ));
        }
        let n = buf.len().min(self.left);
        buf[..n].fill(b'a');
        self.left -= n;
        Ok(n)
    }
}

#[test]
fn a_local_read_error_is_not_retried() {
    let (emu, client) = setup();
    let body = Body::from_sized_reader(FailingReader { left: 10_000 }, 50_000);
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "io.txt").body(body))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    assert_eq!(err.attempts(), 1);
    assert!(emu.request_count() <= 1);
    assert!(emu.object(emu.bucket(), "io.txt").is_none());
}

#[test]
fn a_server_that_never_completes_the_connection_hits_the_connect_timeout() {
    // A listener that never accepts: once its accept queue is full, the kernel drops new
    // SYNs and a connect hangs. Fill the queue (bounded), then connect through the client.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut held = Vec::new();
    let mut full = false;
    for _ in 0..2000 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(stream) => held.push(stream),
            Err(_) => {
                full = true;
                break;
            }
        }
    }
    if !full {
        eprintln!(
            "the accept queue never filled ({} connections): skipped",
            held.len()
        );
        return;
    }
    let emu = Emulator::start().unwrap();
    let client = Client::new(
        fast(emu.config())
            .endpoint(format!("http://{addr}"))
            .connect_timeout(Duration::from_millis(300))
            .retry_max_attempts(2),
    );
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "c.txt").body("x"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(err.attempts(), 2, "a connect timeout is retried");
    assert_eq!(emu.request_count(), 0);
}

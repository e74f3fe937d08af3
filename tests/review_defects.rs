//! One test (or a few) per defect a review of the crate found: each failed before its fix.
//! Everything runs against the built-in emulator or a raw server on 127.0.0.1.
#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not tests

use std::error::Error as _;
use std::fs::OpenOptions;
use std::io::{self, Cursor, Write};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use oss::credentials::{AnonymousCredentialsProvider, Credentials, CredentialsError};
use oss::emulator::{Emulator, Fault};
use oss::{Body, Client, ErrorKind, OperationError, PutObjectRequest};
use oss_blocking as oss;

mod common;
use common::{fast, pattern, setup, RawServer};

fn temp_file(name: &str, data: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("oss-review-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    path
}

/// Runs `put` on another thread and waits at most 10 s for it: a spinning upload fails the
/// test instead of hanging it.
fn put_within_10s(
    client: &Client,
    request: PutObjectRequest,
) -> Result<oss::PutObjectResult, OperationError> {
    let (tx, rx) = mpsc::channel();
    let client = client.clone();
    thread::spawn(move || {
        let _ = tx.send(client.put_object(request));
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the upload must end promptly, not spin")
}

// 1. A body of known length that ends early ---------------------------------------------------

#[test]
fn a_sized_reader_that_ends_early_is_an_io_error_at_once() {
    let emu = Emulator::start().unwrap();
    let client = Client::new(fast(emu.config()).readwrite_timeout(Duration::from_secs(60)));
    let request = PutObjectRequest::new(emu.bucket(), "short.bin")
        .body(Body::from_sized_reader(Cursor::new(vec![7u8; 10]), 100));
    let err = put_within_10s(&client, request).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err:#}");
    let text = format!("{err:#}");
    assert!(text.contains("expected 100 bytes, got 10"), "{text}");
    assert_eq!(err.attempts(), 1, "a local failure is not retried");
    assert!(!err.object_stored());
    assert!(emu.object(emu.bucket(), "short.bin").is_none());
}

#[test]
fn a_file_truncated_while_it_uploads_is_an_io_error_naming_the_path() {
    let (emu, client) = setup();
    let path = temp_file("truncated.bin", &pattern(4 << 20));
    let victim = path.clone();
    let mut truncated = false;
    let request =
        PutObjectRequest::new(emu.bucket(), "truncated.bin").progress_fn(move |_, _, _| {
            if !truncated {
                truncated = true;
                let file = OpenOptions::new().write(true).open(&victim).unwrap();
                file.set_len(1 << 20).unwrap(); // log rotation, say
            }
        });
    let (tx, rx) = mpsc::channel();
    let worker = client.clone();
    let upload = path.clone();
    thread::spawn(move || {
        let _ = tx.send(worker.put_object_from_file(request, &upload));
    });
    let err = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the upload must end promptly")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err:#}");
    let text = format!("{err:#}");
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(
        text.contains(&format!("expected {} bytes", 4 << 20)),
        "{text}"
    );
    assert!(emu.object(emu.bucket(), "truncated.bin").is_none());
}

#[test]
fn a_file_that_grows_while_it_uploads_sends_the_length_measured_at_the_start() {
    let (emu, client) = setup();
    let original = pattern(3 << 20);
    let path = temp_file("growing.log", &original);
    let victim = path.clone();
    let mut grown = false;
    let request = PutObjectRequest::new(emu.bucket(), "growing.log").progress_fn(move |_, _, _| {
        if !grown {
            grown = true;
            let mut file = OpenOptions::new().append(true).open(&victim).unwrap();
            file.write_all(&[1u8; 1 << 20]).unwrap();
        }
    });
    let result = client.put_object_from_file(request, &path).unwrap();
    let crc = oss::crc64::checksum(&original);
    assert_eq!(result.hash_crc64, Some(crc));
    assert_eq!(
        emu.object_len_and_crc64(emu.bucket(), "growing.log"),
        Some((original.len() as u64, crc))
    );
}

// 2. A 203 CallbackFailed is never uploaded again ----------------------------------------------

#[test]
fn a_203_without_etag_is_a_callback_failure_and_is_not_retried() {
    let server = RawServer::start(
        b"HTTP/1.1 203 Non-Authoritative Information\r\nx-oss-request-id: REQ-203\r\n\
          Content-Type: application/xml\r\nContent-Length: 98\r\nConnection: close\r\n\r\n\
          <Error><Code>CallbackFailed</Code><Message>callback failed</Message>\
          <RequestId>REQ-203</RequestId></Error>",
        3,
    );
    let emu = Emulator::start().unwrap();
    let client = Client::new(fast(emu.config()).endpoint(server.endpoint.as_str()));
    let callback = oss::Callback::new("http://127.0.0.1:9/cb", "object=${object}");
    let err = client
        .put_object(
            PutObjectRequest::new(emu.bucket(), "cb.txt")
                .body("hi")
                .upload_callback(&callback),
        )
        .unwrap_err();
    assert_eq!(
        server.connections.load(Ordering::SeqCst),
        1,
        "never retried"
    );
    assert_eq!(err.attempts(), 1);
    assert!(err.object_stored());
    assert_eq!(err.kind(), ErrorKind::Service);
    assert_eq!(
        err.service_error().map(|s| (s.status_code(), s.code())),
        Some((203, "CallbackFailed"))
    );
    assert_eq!(err.request_id(), Some("REQ-203"));
}

// 3. One header rule --------------------------------------------------------------------------

#[test]
fn headers_the_client_owns_are_refused_by_name_and_nothing_is_sent() {
    for name in [
        "Content-Length",
        "transfer-encoding",
        "Host",
        "Authorization",
        "x-oss-date",
        "X-Oss-Content-Sha256",
    ] {
        let (emu, client) = setup();
        let err = client
            .put_object(
                PutObjectRequest::new(emu.bucket(), "h.txt")
                    .body("abc")
                    .header(name, "3"),
            )
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{name}: {err:#}");
        assert!(err.to_string().contains(name), "{err}");
        assert_eq!(err.attempts(), 0);
        assert_eq!(emu.request_count(), 0, "{name}: nothing is sent");
    }
}

#[test]
fn a_header_the_user_gives_wins_over_the_computed_one_and_is_sent_once() {
    let emu = Emulator::start().unwrap();
    let client = Client::new(fast(emu.config()).auto_content_md5(true));
    let user_md5 = "XrY7u+Ae7tCTyyK7j1rNww=="; // MD5 of "hello world"
    client
        .put_object(
            PutObjectRequest::new(emu.bucket(), "a.txt")
                .body("hello world")
                .header("content-md5", user_md5)
                .header("Content-Type", "application/x-custom")
                .header("User-Agent", "my-tool/1.0"),
        )
        .unwrap();
    let request = emu.requests().pop().unwrap();
    let all =
        |name: &str| -> Vec<String> { request.headers.get_all(name).map(str::to_string).collect() };
    assert_eq!(all("Content-MD5"), [user_md5]);
    assert_eq!(all("Content-Type"), ["application/x-custom"]);
    assert_eq!(all("User-Agent"), ["my-tool/1.0"]);
    let stored = emu.object(emu.bucket(), "a.txt").unwrap();
    assert_eq!(stored.header("content-type"), Some("application/x-custom"));
}

#[test]
fn a_raw_header_that_repeats_a_typed_option_is_refused() {
    let (emu, client) = setup();
    let err = client
        .put_object(
            PutObjectRequest::new(emu.bucket(), "a.txt")
                .content_type("text/plain")
                .header("Content-Type", "image/png"),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("Content-Type"), "{err}");
    assert_eq!(emu.request_count(), 0);
}

#[test]
fn a_typed_setter_given_an_empty_string_names_the_option() {
    type Setter = fn(PutObjectRequest) -> PutObjectRequest;
    let cases: [(&str, Setter); 6] = [
        ("content_type", |r| r.content_type("")),
        ("cache_control", |r| r.cache_control("")),
        ("content_disposition", |r| r.content_disposition("")),
        ("content_encoding", |r| r.content_encoding("")),
        ("expires", |r| r.expires("")),
        ("content_md5", |r| r.content_md5("")),
    ];
    for (option, set) in cases {
        let (emu, client) = setup();
        let err = client
            .put_object(set(PutObjectRequest::new(emu.bucket(), "e.txt").body("x")))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{option}");
        assert!(err.to_string().contains(option), "{option}: {err}");
        assert_eq!(emu.request_count(), 0);
    }
}

// 4. Empty keys are never sent unsigned ---------------------------------------------------------

#[test]
fn a_provider_with_empty_keys_is_a_credentials_error_and_nothing_is_sent() {
    for (id, secret, named) in [
        ("", "secret", "AccessKey ID"),
        ("LTAI-id", "", "AccessKey secret"),
    ] {
        let emu = Emulator::start().unwrap();
        let provider = move || Ok(Credentials::new(id, secret));
        let client = Client::new(fast(emu.config()).credentials_provider(provider));
        let err = client
            .put_object(PutObjectRequest::new(emu.bucket(), "k.txt").body("x"))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Credentials, "{err:#}");
        assert!(err.to_string().contains(named), "{err}");
        assert_eq!(emu.request_count(), 0, "nothing is sent");
    }
}

#[test]
fn only_the_anonymous_provider_sends_unsigned_requests() {
    let emu = Emulator::start().unwrap();
    let client = Client::new(
        fast(emu.config())
            .retry_max_attempts(1)
            .credentials_provider(AnonymousCredentialsProvider::new()),
    );
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "anon.txt").body("x"))
        .unwrap_err();
    // The request went out unsigned and the private bucket refused it.
    assert_eq!(err.service_error().map(|s| s.code()), Some("AccessDenied"));
    let requests = emu.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].header("authorization"), None);

    // Empty keys from any other provider are not "anonymous": nothing goes out.
    let emu = Emulator::start().unwrap();
    let client =
        Client::new(fast(emu.config()).credentials_provider(|| Ok(Credentials::new("", ""))));
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "anon.txt").body("x"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Credentials);
    assert_eq!(emu.request_count(), 0);
}

// 5. A retry does not hide corruption -------------------------------------------------------------

#[test]
fn file_already_exists_after_a_crc_mismatch_reports_the_mismatch() {
    let (emu, client) = setup();
    emu.inject(Fault::WrongCrc { times: 1 });
    let err = client
        .put_object(
            PutObjectRequest::new(emu.bucket(), "once.txt")
                .body("precious")
                .forbid_overwrite(true),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CrcMismatch, "{err:#}");
    assert_eq!(err.attempts(), 2);
    assert!(err.to_string().contains("may exist"), "{err}");
    assert!(emu.object(emu.bucket(), "once.txt").is_some());
}

// 6. Every cause once in the chain ----------------------------------------------------------------

fn chain(err: &OperationError) -> Vec<String> {
    let mut texts = vec![err.to_string()];
    let mut cause = err.source();
    while let Some(e) = cause {
        texts.push(e.to_string());
        cause = e.source();
    }
    texts
}

#[test]
fn a_service_error_chain_prints_each_text_once() {
    let (_emu, client) = setup();
    let err = client
        .put_object(PutObjectRequest::new("no-such-bucket", "a.txt").body("x"))
        .unwrap_err();
    let texts = chain(&err);
    assert_eq!(texts.len(), 2, "{texts:?}");
    let service = err.service_error().unwrap().to_string();
    assert_eq!(texts[1], service);
    assert!(!texts[0].contains(&service), "{texts:?}");
    let full = format!("{err:#}");
    assert_eq!(full, texts.join(": "));
    for once in [
        "Error returned by Service",
        "NoSuchBucket",
        service.as_str(),
    ] {
        assert_eq!(full.matches(once).count(), 1, "{once:?} in {full}");
    }
}

#[test]
fn a_transport_error_chain_prints_each_text_once() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    drop(listener); // nothing listens there now: connection refused
    let emu = Emulator::start().unwrap();
    let client = Client::new(fast(emu.config()).endpoint(endpoint).retry_max_attempts(1));
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "a.txt").body("x"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    let texts = chain(&err);
    assert!(texts.len() >= 2, "{texts:?}");
    for (i, text) in texts.iter().enumerate().skip(1) {
        assert!(!texts[i - 1].contains(text.as_str()), "{texts:?}");
    }
}

// 7. Transient credentials errors are retried --------------------------------------------------------

fn flaky_provider(
    failures: u32,
    error: fn() -> CredentialsError,
    calls: Arc<AtomicU32>,
) -> impl Fn() -> Result<Credentials, CredentialsError> + Send + Sync {
    move || {
        if calls.fetch_add(1, Ordering::SeqCst) < failures {
            Err(error())
        } else {
            Ok(Credentials::new(
                oss::emulator::DEFAULT_ACCESS_KEY_ID,
                oss::emulator::DEFAULT_ACCESS_KEY_SECRET,
            ))
        }
    }
}

fn client_with(
    emu: &Emulator,
    provider: impl oss::credentials::CredentialsProvider + 'static,
) -> Client {
    Client::new(fast(emu.config()).credentials_provider(provider))
}

#[test]
fn a_transient_credentials_error_is_retried_and_nothing_is_sent_until_keys_are_had() {
    let errors: [fn() -> CredentialsError; 2] = [
        || CredentialsError::transient("the token service is restarting"),
        || {
            CredentialsError::with_source(
                "cannot reach the metadata service",
                io::Error::new(io::ErrorKind::TimedOut, "no answer in 1 s"),
            )
        },
    ];
    for error in errors {
        let emu = Emulator::start().unwrap();
        let calls = Arc::new(AtomicU32::new(0));
        let client = client_with(&emu, flaky_provider(1, error, Arc::clone(&calls)));
        client
            .put_object(PutObjectRequest::new(emu.bucket(), "c.txt").body("x"))
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(emu.request_count(), 1, "one request, after the keys came");
    }
}

#[test]
fn a_lasting_or_permanent_credentials_error_ends_the_operation() {
    let emu = Emulator::start().unwrap();
    let lasting: [fn() -> CredentialsError; 2] = [
        || CredentialsError::transient("down"),
        || CredentialsError::with_source("down", io::Error::new(io::ErrorKind::TimedOut, "1 s")),
    ];
    for error in lasting {
        let calls = Arc::new(AtomicU32::new(0));
        let client = client_with(&emu, flaky_provider(u32::MAX, error, Arc::clone(&calls)));
        let err = client
            .put_object(PutObjectRequest::new(emu.bucket(), "c.txt").body("x"))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Credentials);
        assert_eq!((calls.load(Ordering::SeqCst), err.attempts()), (3, 3));
    }

    let calls = Arc::new(AtomicU32::new(0));
    let client = client_with(
        &emu,
        flaky_provider(
            u32::MAX,
            || CredentialsError::new("no such role"),
            Arc::clone(&calls),
        ),
    );
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "c.txt").body("x"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Credentials);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "a permanent error is not retried"
    );
    assert_eq!(emu.request_count(), 0);
}

// 8. The metadata prefix in any case ---------------------------------------------------------------

#[test]
fn a_metadata_key_with_the_prefix_in_any_case_is_sent_once_prefixed() {
    let (emu, client) = setup();
    client
        .put_object(
            PutObjectRequest::new(emu.bucket(), "m.txt")
                .body("x")
                .metadata("X-OSS-META-Author", "alice"),
        )
        .unwrap();
    let stored = emu.object(emu.bucket(), "m.txt").unwrap();
    assert_eq!(stored.header("x-oss-meta-author"), Some("alice"));
    assert_eq!(stored.header("x-oss-meta-x-oss-meta-author"), None);
}

// 9. Files whose size the OS reports as 0 ----------------------------------------------------------

#[test]
fn a_proc_file_that_reports_size_0_is_uploaded_in_full() {
    let path = std::path::Path::new("/proc/version");
    let Ok(expected) = std::fs::read(path) else {
        eprintln!("skipped: no /proc/version on this system");
        return;
    };
    assert_eq!(
        std::fs::metadata(path).unwrap().len(),
        0,
        "procfs reports 0"
    );
    assert!(!expected.is_empty());
    let (emu, client) = setup();
    let result = client
        .put_object_from_file(PutObjectRequest::new(emu.bucket(), "version.txt"), path)
        .unwrap();
    assert_eq!(
        emu.object(emu.bucket(), "version.txt").unwrap().data,
        expected
    );
    assert_eq!(result.hash_crc64, Some(oss::crc64::checksum(&expected)));
    let request = emu.requests().pop().unwrap();
    assert_eq!(request.header("content-length"), None, "sent as a stream");
}

#[test]
fn a_really_empty_file_is_still_sent_with_content_length_0() {
    let (emu, client) = setup();
    let path = temp_file("empty.txt", b"");
    client
        .put_object_from_file(PutObjectRequest::new(emu.bucket(), "empty.txt"), &path)
        .unwrap();
    assert!(emu
        .object(emu.bucket(), "empty.txt")
        .unwrap()
        .data
        .is_empty());
    let request = emu.requests().pop().unwrap();
    assert_eq!(request.header("content-length"), Some("0"));
}

//! Every PutObject option end to end against the emulator: the header or query it received,
//! what it stored and returns on GET, the error for each invalid value (with nothing sent),
//! upload callbacks (success and 203) and the progress call sequences.
#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not tests

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use oss::emulator::{Emulator, Fault};
use oss::{
    Callback, Client, ErrorKind, ObjectAcl, PutObjectRequest, ServerSideEncryption, StorageClass,
    Tagging,
};
use oss_blocking as oss;

fn setup() -> (Emulator, Client) {
    let emu = Emulator::start().expect("emulator starts");
    let client = Client::new(emu.config().retry_base_delay(Duration::from_millis(1)));
    (emu, client)
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// GETs an object back over HTTP (signed by the client's signer through a raw request is
/// overkill here: the emulator accepts the same signed GET the doc example builds).
fn get_headers(emu: &Emulator, key: &str) -> Vec<(String, String)> {
    use oss::credentials::CredentialsProvider;
    use oss::signer::{escape_path, sign_v4_headers, SigningContext};
    let credentials = emu.credentials_provider().credentials().unwrap();
    let mut headers = oss::Headers::new();
    let ctx = SigningContext::new(&credentials, emu.region(), std::time::SystemTime::now());
    sign_v4_headers("GET", Some(emu.bucket()), Some(key), "", &mut headers, &ctx);
    let url = format!("{}/{}/{}", emu.endpoint(), emu.bucket(), escape_path(key));
    let agent: ureq::Agent = ureq::Agent::config_builder().proxy(None).build().into();
    let mut req = agent.get(&url);
    for (k, v) in headers.iter() {
        req = req.header(k, v);
    }
    let resp = req.call().unwrap();
    assert_eq!(resp.status(), 200);
    resp.headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap().to_string()))
        .collect()
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[test]
fn every_header_option_is_sent_stored_and_returned() {
    let (emu, client) = setup();
    let result = client
        .put_object(
            PutObjectRequest::new(emu.bucket(), "all/options.txt")
                .body("hello options")
                .content_type("text/x-custom")
                .acl(ObjectAcl::PublicRead)
                .storage_class(StorageClass::ColdArchive)
                .server_side_encryption(ServerSideEncryption::Kms)
                .server_side_data_encryption("SM4")
                .server_side_encryption_key_id("kms-key-1")
                .tagging(Tagging::new().tag("env", "prod").tag("team", "back end"))
                .metadata("Author", "alice")
                .metadata("AUTHOR", "bob")
                .metadata("project_id", "42")
                .cache_control("no-cache")
                .content_disposition("attachment; filename=\"o.txt\"")
                .content_encoding("identity")
                .expires("Wed, 21 Oct 2026 07:28:00 GMT")
                .content_md5("UrqZqX5rtqAaoKA1j8UJIw==")
                .traffic_limit(819_200)
                .request_payer("requester")
                .forbid_overwrite(true)
                .header("x-oss-object-worm-mode", "GOVERNANCE")
                .query("x-custom-param", "a b/c"),
        )
        .unwrap();
    assert_eq!(result.status_code, 200);
    assert_eq!(result.callback_result, None);

    let sent = emu.requests().pop().unwrap();
    let expect = [
        ("content-type", "text/x-custom"),
        ("x-oss-object-acl", "public-read"),
        ("x-oss-storage-class", "ColdArchive"),
        ("x-oss-server-side-encryption", "KMS"),
        ("x-oss-server-side-data-encryption", "SM4"),
        ("x-oss-server-side-encryption-key-id", "kms-key-1"),
        ("x-oss-tagging", "env=prod&team=back%20end"),
        ("x-oss-meta-author", "bob"),
        ("x-oss-meta-project_id", "42"),
        ("cache-control", "no-cache"),
        ("content-disposition", "attachment; filename=\"o.txt\""),
        ("content-encoding", "identity"),
        ("expires", "Wed, 21 Oct 2026 07:28:00 GMT"),
        ("content-md5", "UrqZqX5rtqAaoKA1j8UJIw=="),
        ("x-oss-traffic-limit", "819200"),
        ("x-oss-request-payer", "requester"),
        ("x-oss-forbid-overwrite", "true"),
        ("x-oss-object-worm-mode", "GOVERNANCE"),
    ];
    for (name, value) in expect {
        assert_eq!(sent.header(name), Some(value), "{name} on the wire");
    }
    assert_eq!(
        sent.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("x-oss-meta-author"))
            .count(),
        1,
        "metadata keys are case-insensitive: the last value wins, sent once"
    );
    assert_eq!(sent.query, "x-custom-param=a%20b%2Fc", "query encoded once");

    let got = get_headers(&emu, "all/options.txt");
    for (name, value) in [
        ("content-type", "text/x-custom"),
        ("x-oss-storage-class", "ColdArchive"),
        ("x-oss-server-side-encryption", "KMS"),
        ("x-oss-server-side-encryption-key-id", "kms-key-1"),
        ("x-oss-meta-author", "bob"),
        ("cache-control", "no-cache"),
        ("content-disposition", "attachment; filename=\"o.txt\""),
        ("expires", "Wed, 21 Oct 2026 07:28:00 GMT"),
        ("x-oss-tagging-count", "2"),
    ] {
        assert_eq!(header(&got, name), Some(value), "{name} on GET");
    }
}

#[test]
fn auto_content_md5_covers_bytes_and_files_but_not_streams() {
    let emu = Emulator::start().unwrap();
    let client = Client::new(emu.config().auto_content_md5(true));
    client
        .put_object(PutObjectRequest::new(emu.bucket(), "b").body("hello world"))
        .unwrap();
    assert_eq!(
        emu.requests().pop().unwrap().header("content-md5"),
        Some("XrY7u+Ae7tCTyyK7j1rNww==")
    );
    let path = std::env::temp_dir().join(format!("oss-md5-{}.txt", std::process::id()));
    std::fs::write(&path, "hello world").unwrap();
    client
        .put_object_from_file(PutObjectRequest::new(emu.bucket(), "f"), &path)
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        emu.requests().pop().unwrap().header("content-md5"),
        Some("XrY7u+Ae7tCTyyK7j1rNww==")
    );
    client
        .put_object(
            PutObjectRequest::new(emu.bucket(), "s")
                .body(oss::Body::from_reader(std::io::Cursor::new(b"x".to_vec()))),
        )
        .unwrap();
    assert_eq!(emu.requests().pop().unwrap().header("content-md5"), None);
    // A wrong Content-MD5 given by hand is refused by the server, nothing stored.
    let err = client
        .put_object(
            PutObjectRequest::new(emu.bucket(), "wrong")
                .body("hello")
                .content_md5("XrY7u+Ae7tCTyyK7j1rNww=="),
        )
        .unwrap_err();
    assert_eq!(err.service_error().unwrap().code(), "InvalidDigest");
    assert!(emu.object(emu.bucket(), "wrong").is_none());
    // Off by default.
    let plain = Client::new(emu.config());
    plain
        .put_object(PutObjectRequest::new(emu.bucket(), "b").body("hello world"))
        .unwrap();
    assert_eq!(emu.requests().pop().unwrap().header("content-md5"), None);
}

#[test]
fn invalid_values_are_refused_before_sending_and_name_the_option() {
    let (emu, client) = setup();
    let new = || PutObjectRequest::new(emu.bucket(), "bad.txt").body("x");
    let eleven: Tagging = (0..11).map(|i| (format!("k{i}"), "v")).collect();
    let cases: Vec<(PutObjectRequest, &str)> = vec![
        (new().tagging(eleven), "at most 10"),
        (new().tagging("=v"), "tag key"),
        (new().tagging(format!("k={}", "v".repeat(257))), "0-256"),
        (new().tagging(format!("{}=v", "k".repeat(129))), "1-128"),
        (new().tagging("a=1&a=2"), "twice"),
        (new().metadata("bad key", "v"), "metadata key"),
        (new().metadata("k", "line\nbreak"), "metadata key \"k\""),
        (new().metadata("k", "x".repeat(9000)), "8 KiB"),
        (new().traffic_limit(0), "traffic_limit"),
        (new().traffic_limit(245_759), "245760"),
        (new().traffic_limit(838_860_801), "838860800"),
        (new().content_md5("abc"), "content_md5"),
        (new().request_payer("me"), "requester"),
        (new().server_side_data_encryption("SM4"), "KMS"),
        (
            new()
                .server_side_encryption(ServerSideEncryption::Kms)
                .server_side_data_encryption("AES256"),
            "SM4",
        ),
        (
            new()
                .server_side_encryption(ServerSideEncryption::Aes256)
                .server_side_encryption_key_id("k"),
            "server_side_encryption_key_id",
        ),
        (new().callback("not base64"), "callback"),
        (
            new().callback(b64("{\"callbackBody\":\"x\"}")),
            "callbackUrl",
        ),
        (
            new()
                .callback(b64("{\"callbackUrl\":\"http://127.0.0.1:9/\"}"))
                .callback_var(b64("{\"my_var\":\"1\"}")),
            "x:",
        ),
        (
            new().upload_callback(&Callback::new("http://127.0.0.1:9/", "b").var("nox", "1")),
            "\"nox\"",
        ),
        (
            new().callback_var(b64("{\"x:a\":\"1\"}")),
            "only used with a callback",
        ),
        (new().header("x-oss-meta-a", "a\r\nb: c"), "x-oss-meta-a"),
        (new().query("", "v"), "query parameter"),
    ];
    for (req, needle) in cases {
        let err = client.put_object(req).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
        assert!(err.to_string().contains(needle), "{needle:?} in {err}");
        assert_eq!(err.attempts(), 0);
    }
    assert_eq!(emu.request_count(), 0, "nothing was sent");
}

#[test]
fn the_emulator_enforces_the_same_rules_on_raw_headers() {
    let (emu, client) = setup();
    let raw = |name: &str, value: &str| {
        client
            .put_object(
                PutObjectRequest::new(emu.bucket(), "raw.txt")
                    .body("x")
                    .header(name, value),
            )
            .unwrap_err()
            .service_error()
            .map(|e| e.code().to_string())
    };
    assert_eq!(
        raw("x-oss-tagging", "a=1&a=2").as_deref(),
        Some("InvalidTag")
    );
    assert_eq!(
        raw("x-oss-server-side-encryption", "AES128").as_deref(),
        Some("InvalidEncryptionAlgorithmError")
    );
    assert_eq!(
        raw("x-oss-traffic-limit", "1").as_deref(),
        Some("InvalidArgument")
    );
    assert_eq!(
        raw("x-oss-object-acl", "public").as_deref(),
        Some("InvalidArgument")
    );
    assert_eq!(emu.object_count(), 0);
}

/// A received callback: request line, headers (names lowercase), body.
type Received = (String, Vec<(String, String)>, Vec<u8>);

/// A one-shot HTTP callback server on 127.0.0.1: records the request, answers `answer`.
struct CallbackServer {
    url: String,
    received: Arc<Mutex<Option<Received>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CallbackServer {
    fn start(status: u16, answer: &'static str) -> CallbackServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/callback?from=oss",
            listener.local_addr().unwrap()
        );
        let received = Arc::new(Mutex::new(None));
        let sink = received.clone();
        let thread = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head_end, len) = loop {
                let n = stream.read(&mut chunk).unwrap();
                assert!(n > 0, "callback request cut short");
                buf.extend_from_slice(&chunk[..n]);
                if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..pos]).to_string();
                    let len = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    break (pos + 4, len);
                }
                assert!(buf.len() < 1 << 20);
            };
            while buf.len() < head_end + len {
                let n = stream.read(&mut chunk).unwrap();
                assert!(n > 0);
                buf.extend_from_slice(&chunk[..n]);
            }
            let head = String::from_utf8_lossy(&buf[..head_end - 4]).to_string();
            let mut lines = head.lines();
            let request_line = lines.next().unwrap().to_string();
            let headers = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                .collect();
            *sink.lock().unwrap() = Some((
                request_line,
                headers,
                buf[head_end..head_end + len].to_vec(),
            ));
            let reply = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
            stream.write_all(reply.as_bytes()).unwrap();
        });
        CallbackServer {
            url,
            received,
            thread: Some(thread),
        }
    }

    fn join(&mut self) -> Received {
        self.thread.take().unwrap().join().unwrap();
        self.received.lock().unwrap().take().unwrap()
    }
}

#[test]
fn a_callback_is_posted_signed_and_its_answer_returned() {
    let (emu, client) = setup();
    let mut server = CallbackServer::start(200, r#"{"Status":"OK"}"#);
    let callback = Callback::new(
        server.url.clone(),
        "bucket=${bucket}&object=${object}&etag=${etag}&size=${size}&mime=${mimeType}&v=${x:v}",
    )
    .var("x:v", "first upload");
    let result = client
        .put_object(
            PutObjectRequest::new(emu.bucket(), "cb/a.txt")
                .body("hello world")
                .upload_callback(&callback),
        )
        .unwrap();
    assert_eq!(result.status_code, 200);
    assert_eq!(
        result.callback_result.as_deref(),
        Some(r#"{"Status":"OK"}"#)
    );
    assert_eq!(
        result.etag.as_deref(),
        Some("\"5EB63BBBE01EEED093CB22BB8F5ACDC3\"")
    );

    let (request_line, headers, body) = server.join();
    assert_eq!(request_line, "POST /callback?from=oss HTTP/1.1");
    let body = String::from_utf8(body).unwrap();
    assert_eq!(
        body,
        "bucket=examplebucket&object=cb%2Fa.txt&etag=5EB63BBBE01EEED093CB22BB8F5ACDC3\
         &size=11&mime=text%2Fplain&v=first%20upload"
    );
    let get = |n: &str| header(&headers, n).unwrap().to_string();
    assert_eq!(get("content-type"), "application/x-www-form-urlencoded");
    // Verify as a callback server does: fetch the key from x-oss-pub-key-url, check the
    // MD5withRSA signature over urldecode(path?query) + "\n" + body.
    let key_url = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(get("x-oss-pub-key-url"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(key_url, emu.callback_public_key_url());
    let pem = ureq::get(&key_url)
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    use rsa::pkcs8::DecodePublicKey as _;
    let key = rsa::RsaPublicKey::from_public_key_pem(&pem).unwrap();
    let signature = base64::engine::general_purpose::STANDARD
        .decode(get("authorization"))
        .unwrap();
    let digest = md5::compute(format!("/callback?from=oss\n{body}"));
    // MD5withRSA: PKCS#1 v1.5 with MD5's DigestInfo prefix (RFC 8017, section 9.2, note 1).
    let md5_with_rsa = rsa::Pkcs1v15Sign {
        hash_len: Some(16),
        prefix: Box::new([
            0x30, 0x20, 0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05,
            0x05, 0x00, 0x04, 0x10,
        ]),
    };
    key.verify(md5_with_rsa, &digest.0, &signature)
        .expect("the callback signature verifies with the served key");
}

#[test]
fn a_failing_callback_is_a_203_error_that_keeps_the_stored_object() {
    let (emu, client) = setup();
    let mut server = CallbackServer::start(500, "broken");
    let result = client.put_object(
        PutObjectRequest::new(emu.bucket(), "cb/fail.txt")
            .body("hello world")
            .callback(b64(&format!(
                "{{\"callbackUrl\":\"{}\",\"callbackBody\":\"o=${{object}}\"}}",
                server.url
            ))),
    );
    server.join();
    let err = result.unwrap_err();
    let service = err.service_error().unwrap();
    assert_eq!(
        (service.status_code(), service.code()),
        (203, "CallbackFailed")
    );
    assert!(service.message().contains("500"), "{}", service.message());
    assert!(err.object_stored());
    assert_eq!(err.etag(), Some("\"5EB63BBBE01EEED093CB22BB8F5ACDC3\""));
    assert_eq!(err.hash_crc64(), Some(oss::crc64::checksum(b"hello world")));
    assert!(err.request_id().is_some());
    assert!(err.to_string().contains("the object was stored"), "{err}");
    assert_eq!(emu.request_count(), 1, "a failed callback is not retried");
    assert_eq!(
        emu.object(emu.bucket(), "cb/fail.txt").unwrap().data,
        b"hello world"
    );
}

#[test]
fn an_injected_callback_failure_without_a_callback_header_is_not_an_error() {
    // Go only turns 203 into an error when the request carried x-oss-callback.
    let (emu, client) = setup();
    emu.inject(Fault::CallbackFailed { times: 1 });
    let result = client
        .put_object(PutObjectRequest::new(emu.bucket(), "x").body("x"))
        .unwrap();
    assert_eq!(result.status_code, 203);
    assert_eq!(result.callback_result, None);
}

type Calls = Arc<Mutex<Vec<(u64, u64, Option<u64>)>>>;

fn recorder() -> (Calls, impl FnMut(u64, u64, Option<u64>) + Send + 'static) {
    let calls: Calls = Arc::default();
    let sink = calls.clone();
    (calls, move |c, s, t| sink.lock().unwrap().push((c, s, t)))
}

fn check_sequence(calls: &[(u64, u64, Option<u64>)], len: u64, known: bool) {
    assert!(!calls.is_empty());
    assert_eq!(
        calls.iter().map(|c| c.0).sum::<u64>(),
        len,
        "every byte once"
    );
    let mut sent = 0;
    for &(chunk, written, total) in calls {
        assert!(chunk <= 1 << 20, "at least one call per MiB");
        sent += chunk;
        assert_eq!(written, sent, "running total");
        if known {
            assert_eq!(total, Some(len));
        }
    }
    let last = calls.last().unwrap();
    assert_eq!(
        (last.1, last.2),
        (len, Some(len)),
        "the last call has written == total"
    );
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.2 == Some(c.1) && c.1 == len)
            .count(),
        1,
        "exactly one final call"
    );
}

#[test]
fn progress_sequences_for_a_file_bytes_and_a_stream() {
    let (emu, client) = setup();
    let len = (3 << 20) + 12345;
    let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();

    let (calls, f) = recorder();
    client
        .put_object(
            PutObjectRequest::new(emu.bucket(), "p/bytes")
                .body(data.clone())
                .progress_fn(f),
        )
        .unwrap();
    check_sequence(&calls.lock().unwrap(), len as u64, true);

    let path = std::env::temp_dir().join(format!("oss-progress-{}.bin", std::process::id()));
    std::fs::write(&path, &data).unwrap();
    let (calls, f) = recorder();
    client
        .put_object_from_file(
            PutObjectRequest::new(emu.bucket(), "p/file").progress_fn(f),
            &path,
        )
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    check_sequence(&calls.lock().unwrap(), len as u64, true);

    let (calls, f) = recorder();
    client
        .put_object(
            PutObjectRequest::new(emu.bucket(), "p/stream")
                .body(oss::Body::from_reader(std::io::Cursor::new(data.clone())))
                .progress_fn(f),
        )
        .unwrap();
    let calls = calls.lock().unwrap();
    check_sequence(&calls, len as u64, false);
    assert!(
        calls[..calls.len() - 1].iter().all(|c| c.2.is_none()),
        "unknown total until the end"
    );
    assert_eq!(*calls.last().unwrap(), (0, len as u64, Some(len as u64)));

    let (calls, f) = recorder();
    client
        .put_object(PutObjectRequest::new(emu.bucket(), "p/empty").progress_fn(f))
        .unwrap();
    assert_eq!(*calls.lock().unwrap(), vec![(0, 0, Some(0))]);
}

#[test]
fn progress_starts_again_from_zero_on_a_retry() {
    let (emu, client) = setup();
    emu.inject(Fault::ErrorStatus {
        status: 503,
        code: "ServiceUnavailable".into(),
        times: 1,
    });
    let data = vec![7u8; 100_000];
    let (calls, f) = recorder();
    client
        .put_object(
            PutObjectRequest::new(emu.bucket(), "retry")
                .body(data)
                .progress_fn(f),
        )
        .unwrap();
    let calls = calls.lock().unwrap();
    let restarts: Vec<usize> = calls
        .iter()
        .enumerate()
        .filter(|(_, c)| c.1 == c.0 && c.0 > 0)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(restarts.len(), 2, "two attempts, each from 0: {calls:?}");
    check_sequence(&calls[restarts[1]..], 100_000, true);
}

#[test]
fn a_callback_answer_that_is_not_json_is_a_callback_failure() {
    let (emu, client) = setup();
    let mut server = CallbackServer::start(200, "OK");
    let result = client.put_object(
        PutObjectRequest::new(emu.bucket(), "cb/plain.txt")
            .body("x")
            .upload_callback(&Callback::new(server.url.clone(), "o=${object}")),
    );
    server.join();
    let err = result.unwrap_err();
    assert_eq!(err.service_error().unwrap().code(), "CallbackFailed");
    assert!(err.service_error().unwrap().message().contains("json"));
    assert!(err.object_stored());
}

#[test]
fn an_empty_tag_set_is_refused_like_every_empty_option() {
    let (emu, client) = setup();
    let err = client
        .put_object(
            PutObjectRequest::new(emu.bucket(), "t")
                .body("x")
                .tagging(Tagging::new()),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("tagging"), "{err}");
    assert_eq!(emu.request_count(), 0);
}

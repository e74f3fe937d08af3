//! End-to-end tests of the emulator over real sockets: requests signed with this crate's signer
//! and sent with `ureq`, or written byte by byte where a client library would not misbehave.
//!
//! Every server binds 127.0.0.1:0; every loop is bounded; nothing asserts on timing.
#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not tests

use std::io::{Cursor, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use oss_blocking::credentials::{Credentials, CredentialsProvider};
use oss_blocking::emulator::{Emulator, Fault};
use oss_blocking::signer::{escape_path, sign_v4_headers, SigningContext};
use oss_blocking::Headers;

// ---------------------------------------------------------------------------------------------
// Independent reference values

/// CRC-64/XZ, bit by bit from its definition (reflected polynomial, all-ones init and
/// xorout), so the emulator's table-driven CRC is checked against something else.
fn crc64_reference(data: &[u8]) -> u64 {
    const POLY: u64 = 0xC96C_5795_D787_0F42;
    let mut crc = u64::MAX;
    for &byte in data {
        crc ^= u64::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLY
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// 1 MiB of `i % 251`, whose CRC the official SDKs compute as 16028127081582314172
/// (fact sheet §7.1).
fn mib_pattern() -> Vec<u8> {
    (0..1024 * 1024).map(|i| (i % 251) as u8).collect()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn hex_to_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// A small signed-request client

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The text of `<name>` in an XML body.
    fn xml(&self, name: &str) -> Option<String> {
        xml_field(&self.text(), name)
    }
}

fn xml_field(xml: &str, name: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    doc.root_element()
        .children()
        .find(|n| n.has_tag_name(name))
        .map(|n| n.text().unwrap_or("").to_string())
}

enum Payload<'a> {
    None,
    Bytes(&'a [u8]),
    Chunked(&'a [u8]),
}

/// A request to sign and send.
struct Req<'a> {
    method: &'a str,
    bucket: &'a str,
    key: Option<&'a str>,
    query: &'a str,
    headers: Headers,
    payload: Payload<'a>,
    credentials: Option<Credentials>,
    time: Option<SystemTime>,
}

impl<'a> Req<'a> {
    fn new(method: &'a str, bucket: &'a str, key: &'a str) -> Self {
        Req {
            method,
            bucket,
            key: Some(key),
            query: "",
            headers: Headers::new(),
            payload: Payload::None,
            credentials: None,
            time: None,
        }
    }

    fn put(bucket: &'a str, key: &'a str, body: &'a [u8]) -> Self {
        Req {
            payload: Payload::Bytes(body),
            ..Req::new("PUT", bucket, key)
        }
    }

    fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.append(name, value);
        self
    }

    fn credentials(mut self, c: Credentials) -> Self {
        self.credentials = Some(c);
        self
    }

    fn send(self, emu: &Emulator, agent: &ureq::Agent) -> Result<Reply, ureq::Error> {
        let credentials = self
            .credentials
            .unwrap_or_else(|| emu.credentials_provider().credentials().unwrap());
        let mut headers = self.headers;
        sign_v4_headers(
            self.method,
            Some(self.bucket),
            self.key,
            self.query,
            &mut headers,
            &SigningContext::new(
                &credentials,
                emu.region(),
                self.time.unwrap_or_else(SystemTime::now),
            ),
        );
        let mut url = format!(
            "{}/{}/{}",
            emu.endpoint(),
            self.bucket,
            self.key.map(escape_path).unwrap_or_default()
        );
        if !self.query.is_empty() {
            url = format!("{url}?{}", self.query);
        }
        send_raw(agent, self.method, &url, &headers, self.payload)
    }
}

fn send_raw(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &Headers,
    payload: Payload<'_>,
) -> Result<Reply, ureq::Error> {
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers.iter() {
        builder = builder.header(name, value);
    }
    let mut response = match payload {
        Payload::None => agent.run(builder.body(()).unwrap())?,
        Payload::Bytes(b) => agent.run(builder.body(b.to_vec()).unwrap())?,
        Payload::Chunked(b) => agent.run(
            builder
                .body(ureq::SendBody::from_owned_reader(Cursor::new(b.to_vec())))
                .unwrap(),
        )?,
    };
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()?;
    Ok(Reply {
        status: response.status().as_u16(),
        headers,
        body,
    })
}

/// `headers` signed now for `PUT /<bucket>/<key>` with the emulator's keys and the given
/// region, for tests that write the request themselves.
fn signed_put_headers(emu: &Emulator, key: &str, region: &str, mut headers: Headers) -> Headers {
    let credentials = emu.credentials_provider().credentials().unwrap();
    sign_v4_headers(
        "PUT",
        Some(emu.bucket()),
        Some(key),
        "",
        &mut headers,
        &SigningContext::new(&credentials, region, SystemTime::now()),
    );
    headers
}

/// Writes raw bytes on a new connection and returns everything the server sends until it
/// closes (or 10 s pass).
fn raw_exchange(emu: &Emulator, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(emu.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(bytes).unwrap();
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "body: {}", reply.text());
    assert_eq!(
        reply.xml("Code").as_deref(),
        Some(code),
        "body: {}",
        reply.text()
    );
    assert_eq!(reply.header("content-type"), Some("application/xml"));
    assert_eq!(
        reply.xml("RequestId").as_deref(),
        reply.header("x-oss-request-id")
    );
    let ec = reply.xml("EC").expect("an EC element");
    assert_eq!(Some(ec.as_str()), reply.header("x-oss-ec"));
    assert_eq!(
        reply.xml("RecommendDoc"),
        Some(format!("https://api.aliyun.com/troubleshoot?q={ec}"))
    );
}

// ---------------------------------------------------------------------------------------------
// Round trips

#[test]
fn put_then_get_round_trip_with_independent_checks() {
    let emu = Emulator::start().unwrap();
    let agent = agent();
    let bucket = emu.bucket();

    let put = Req::put(bucket, "hello.txt", b"hello world")
        .header("Content-Type", "text/plain")
        .header("x-oss-meta-Author", "Zhang San")
        .header("Cache-Control", "no-cache")
        .header("x-oss-storage-class", "IA")
        .header("x-oss-tagging", "a=1&b=2")
        .send(&emu, &agent)
        .unwrap();
    assert_eq!(put.status, 200, "{}", put.text());
    assert!(put.body.is_empty());
    assert_eq!(put.header("content-length"), Some("0"));
    assert_eq!(put.header("server"), Some("oss-blocking-emulator"));
    assert!(put.header("date").is_some());
    assert!(put.header("x-oss-server-time").is_some());
    let request_id = put.header("x-oss-request-id").unwrap();
    assert_eq!(request_id.len(), 24);
    // Known answers: CRC from the official SDKs, MD5 from any md5 tool.
    assert_eq!(
        put.header("x-oss-hash-crc64ecma"),
        Some("5981764153023615706")
    );
    assert_eq!(
        put.header("etag"),
        Some("\"5EB63BBBE01EEED093CB22BB8F5ACDC3\"")
    );
    assert_eq!(
        put.header("content-md5"),
        Some(b64(&hex_to_bytes("5eb63bbbe01eeed093cb22bb8f5acdc3")).as_str())
    );

    let get = Req::new("GET", bucket, "hello.txt")
        .send(&emu, &agent)
        .unwrap();
    assert_eq!(get.status, 200);
    assert_eq!(get.body, b"hello world");
    assert_eq!(get.header("content-type"), Some("text/plain"));
    assert_eq!(get.header("content-length"), Some("11"));
    assert_eq!(get.header("etag"), put.header("etag"));
    assert_eq!(
        get.header("x-oss-hash-crc64ecma"),
        Some("5981764153023615706")
    );
    assert_eq!(get.header("x-oss-meta-author"), Some("Zhang San"));
    assert_eq!(get.header("cache-control"), Some("no-cache"));
    assert_eq!(get.header("x-oss-storage-class"), Some("IA"));
    assert_eq!(get.header("x-oss-tagging-count"), Some("2"));
    assert_ne!(get.header("x-oss-request-id"), Some(request_id));

    let head = Req::new("HEAD", bucket, "hello.txt")
        .send(&emu, &agent)
        .unwrap();
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-length"), Some("11"));
    assert_eq!(head.header("etag"), put.header("etag"));

    let stored = emu.object(bucket, "hello.txt").unwrap();
    assert_eq!(stored.data, b"hello world");
    assert_eq!(stored.crc64, 5981764153023615706);
    assert_eq!(stored.etag, "\"5EB63BBBE01EEED093CB22BB8F5ACDC3\"");
    assert_eq!(stored.header("CONTENT-TYPE"), Some("text/plain"));
    assert_eq!(stored.header("x-oss-meta-author"), Some("Zhang San"));
    assert_eq!(stored.header("x-oss-tagging"), Some("a=1&b=2"));
    assert_eq!(stored.header("x-oss-date"), None);
    assert_eq!(stored.header("authorization"), None);
    assert_eq!(emu.object_count(), 1);

    let requests = emu.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(emu.request_count(), 3);
    assert_eq!(requests[0].method, "PUT");
    assert_eq!(requests[0].path, format!("/{bucket}/hello.txt"));
    assert_eq!(requests[0].query, "");
    assert_eq!(requests[0].body_len, 11);
    assert_eq!(requests[0].status, Some(200));
    assert!(requests[0]
        .header("authorization")
        .unwrap()
        .starts_with("OSS4-HMAC-SHA256 "));
    assert_eq!(requests[0].header("x-oss-meta-author"), Some("Zhang San"));
    assert_eq!(requests[2].method, "HEAD");
}

#[test]
fn large_body_crc_and_md5_match_independent_values() {
    let emu = Emulator::start().unwrap();
    let agent = agent();
    let data = mib_pattern();
    let md5 = md5::compute(&data).0;
    let put = Req::put(emu.bucket(), "big.bin", &data)
        .header("Content-MD5", &b64(&md5))
        .send(&emu, &agent)
        .unwrap();
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(
        put.header("x-oss-hash-crc64ecma"),
        Some("16028127081582314172")
    );
    assert_eq!(crc64_reference(&data), 16028127081582314172);
    assert_eq!(put.header("content-md5"), Some(b64(&md5).as_str()));
    let etag_hex: String = md5.iter().map(|b| format!("{b:02X}")).collect();
    assert_eq!(put.header("etag"), Some(format!("\"{etag_hex}\"").as_str()));

    let get = Req::new("GET", emu.bucket(), "big.bin")
        .send(&emu, &agent)
        .unwrap();
    assert_eq!(get.body, data);
    assert_eq!(
        emu.object(emu.bucket(), "big.bin").unwrap().crc64,
        crc64_reference(&data)
    );
}

#[test]
fn empty_body_is_stored() {
    let emu = Emulator::start().unwrap();
    let put = Req::put(emu.bucket(), "empty", b"")
        .send(&emu, &agent())
        .unwrap();
    assert_eq!(put.status, 200);
    assert_eq!(put.header("x-oss-hash-crc64ecma"), Some("0"));
    assert_eq!(
        put.header("etag"),
        Some("\"D41D8CD98F00B204E9800998ECF8427E\"")
    );
    let stored = emu.object(emu.bucket(), "empty").unwrap();
    assert!(stored.data.is_empty());
    assert_eq!(
        stored.header("content-type"),
        None,
        "nothing sent, nothing stored"
    );
    let get = Req::new("GET", emu.bucket(), "empty")
        .send(&emu, &agent())
        .unwrap();
    assert_eq!(get.header("content-type"), Some("application/octet-stream"));
}

#[test]
fn chunked_upload_is_stored_whole() {
    let emu = Emulator::start().unwrap();
    let agent = agent();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let put = Req {
        payload: Payload::Chunked(&data),
        ..Req::new("PUT", emu.bucket(), "streamed.bin")
    }
    .send(&emu, &agent)
    .unwrap();
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(
        put.header("x-oss-hash-crc64ecma"),
        Some(crc64_reference(&data).to_string().as_str())
    );
    let recorded = &emu.requests()[0];
    assert!(recorded
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked")));
    assert_eq!(recorded.header("content-length"), None);
    assert_eq!(recorded.body_len, data.len() as u64);
    assert_eq!(emu.object(emu.bucket(), "streamed.bin").unwrap().data, data);
    // The connection stays usable after a chunked body.
    let get = Req::new("GET", emu.bucket(), "streamed.bin")
        .send(&emu, &agent)
        .unwrap();
    assert_eq!(get.body, data);
}

#[test]
fn keys_with_special_characters_round_trip() {
    let emu = Emulator::start().unwrap();
    let agent = agent();
    let keys = [
        "with space.txt",
        "plus+sign",
        "per%cent",
        "unicode/文件/ünï.txt",
        "emoji 😀",
        "a//b/",
        "query?hash#amp&eq=",
        "tilde~dash-dot.under_",
        "quote\"apos'lt<gt>",
    ];
    for (i, key) in keys.iter().enumerate() {
        let body = format!("body {i}");
        let put = Req::put(emu.bucket(), key, body.as_bytes())
            .send(&emu, &agent)
            .unwrap();
        assert_eq!(put.status, 200, "{key}: {}", put.text());
        let stored = emu
            .object(emu.bucket(), key)
            .unwrap_or_else(|| panic!("{key}"));
        assert_eq!(stored.data, body.as_bytes());
        let get = Req::new("GET", emu.bucket(), key)
            .send(&emu, &agent)
            .unwrap();
        assert_eq!(get.body, body.as_bytes(), "{key}");
        let recorded = emu.requests().pop().unwrap();
        assert_eq!(
            recorded.path,
            format!("/{}/{}", emu.bucket(), escape_path(key))
        );
    }
    assert_eq!(emu.object_count(), keys.len());
    // `+` in a path is a plus, not a space.
    assert!(emu.object(emu.bucket(), "plus sign").is_none());
}

// ---------------------------------------------------------------------------------------------
// Errors

#[test]
fn wrong_secret_is_signature_does_not_match() {
    let emu = Emulator::start().unwrap();
    let reply = Req::put(emu.bucket(), "k", b"data")
        .credentials(Credentials::new(emu.access_key_id(), "not-the-secret"))
        .send(&emu, &agent())
        .unwrap();
    assert_error(&reply, 403, "SignatureDoesNotMatch");
    assert_eq!(reply.xml("EC").as_deref(), Some("0002-00000040"));
    let canonical = reply.xml("CanonicalRequest").unwrap();
    assert!(
        canonical.starts_with(&format!("PUT\n/{}/k\n", emu.bucket())),
        "{canonical}"
    );
    let to_sign = reply.xml("StringToSign").unwrap();
    assert!(to_sign.starts_with("OSS4-HMAC-SHA256\n"), "{to_sign}");
    assert_eq!(
        reply.xml("OSSAccessKeyId").as_deref(),
        Some(emu.access_key_id())
    );
    assert_eq!(emu.object_count(), 0);
}

#[test]
fn unknown_access_key_and_missing_authorization() {
    let emu = Emulator::start().unwrap();
    let agent = agent();
    let reply = Req::put(emu.bucket(), "k", b"data")
        .credentials(Credentials::new("someone-else", "secret"))
        .send(&emu, &agent)
        .unwrap();
    assert_error(&reply, 403, "InvalidAccessKeyId");

    let url = format!("{}/{}/k", emu.endpoint(), emu.bucket());
    let reply = send_raw(
        &agent,
        "PUT",
        &url,
        &Headers::new(),
        Payload::Bytes(b"data"),
    )
    .unwrap();
    assert_error(&reply, 403, "AccessDenied");
    // The unread body was drained: the connection is still in sync for the next request.
    let ok = Req::put(emu.bucket(), "k", b"data")
        .send(&emu, &agent)
        .unwrap();
    assert_eq!(ok.status, 200);
}

#[test]
fn wrong_region_is_refused() {
    let emu = Emulator::builder().region("cn-beijing").start().unwrap();
    let headers = signed_put_headers(&emu, "k", "cn-hangzhou", Headers::new());
    let url = format!("{}/{}/k", emu.endpoint(), emu.bucket());
    let reply = send_raw(&agent(), "PUT", &url, &headers, Payload::Bytes(b"x")).unwrap();
    assert_error(&reply, 403, "AccessDenied");
    assert!(reply.xml("Message").unwrap().contains("region"));
}

#[test]
fn security_token_is_required_when_configured() {
    let emu = Emulator::builder()
        .access_key("STS.id", "sts-secret")
        .security_token("the-token")
        .start()
        .unwrap();
    let agent = agent();
    let ok = Req::put(emu.bucket(), "k", b"x")
        .send(&emu, &agent)
        .unwrap();
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(
        emu.requests()[0].header("x-oss-security-token"),
        Some("the-token")
    );
    let without = Req::put(emu.bucket(), "k", b"x")
        .credentials(Credentials::new("STS.id", "sts-secret"))
        .send(&emu, &agent)
        .unwrap();
    assert_error(&without, 403, "InvalidSecurityToken");
    let wrong = Req::put(emu.bucket(), "k", b"x")
        .credentials(Credentials::new("STS.id", "sts-secret").with_security_token("stale"))
        .send(&emu, &agent)
        .unwrap();
    assert_error(&wrong, 403, "InvalidSecurityToken");
}

#[test]
fn missing_bucket_is_no_such_bucket() {
    let emu = Emulator::start().unwrap();
    let agent = agent();
    let reply = Req::put("nobucket", "k", b"data")
        .send(&emu, &agent)
        .unwrap();
    assert_error(&reply, 404, "NoSuchBucket");
    assert_eq!(
        reply.xml("Message").as_deref(),
        Some("The specified bucket does not exist.")
    );
    assert_eq!(reply.xml("BucketName").as_deref(), Some("nobucket"));
    assert!(reply.xml("HostId").unwrap().starts_with("nobucket."));
    assert!(reply
        .text()
        .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>"));

    emu.create_bucket("nobucket");
    let ok = Req::put("nobucket", "k", b"data")
        .send(&emu, &agent)
        .unwrap();
    assert_eq!(ok.status, 200);
    assert!(emu.object("nobucket", "k").is_some());
}

#[test]
fn head_of_a_missing_key_has_x_oss_err() {
    let emu = Emulator::start().unwrap();
    let reply = Req::new("HEAD", emu.bucket(), "missing.txt")
        .send(&emu, &agent())
        .unwrap();
    assert_eq!(reply.status, 404);
    assert!(reply.body.is_empty());
    assert_eq!(reply.header("x-oss-ec"), Some("0026-00000001"));
    let xml = base64::engine::general_purpose::STANDARD
        .decode(reply.header("x-oss-err").unwrap())
        .unwrap();
    let xml = String::from_utf8(xml).unwrap();
    assert_eq!(xml_field(&xml, "Code").as_deref(), Some("NoSuchKey"));
    assert_eq!(
        xml_field(&xml, "RequestId").as_deref(),
        reply.header("x-oss-request-id")
    );

    let get = Req::new("GET", emu.bucket(), "missing.txt")
        .send(&emu, &agent())
        .unwrap();
    assert_error(&get, 404, "NoSuchKey");
    assert_eq!(get.xml("Key").as_deref(), Some("missing.txt"));
}

#[test]
fn forbid_overwrite_twice_is_conflict() {
    let emu = Emulator::start().unwrap();
    let agent = agent();
    let first = Req::put(emu.bucket(), "once", b"first")
        .header("x-oss-forbid-overwrite", "true")
        .send(&emu, &agent)
        .unwrap();
    assert_eq!(first.status, 200);
    let second = Req::put(emu.bucket(), "once", b"second")
        .header("x-oss-forbid-overwrite", "true")
        .send(&emu, &agent)
        .unwrap();
    assert_error(&second, 409, "FileAlreadyExists");
    assert_eq!(second.xml("EC").as_deref(), Some("0026-00000002"));
    assert_eq!(emu.object(emu.bucket(), "once").unwrap().data, b"first");

    let allowed = Req::put(emu.bucket(), "once", b"third")
        .header("x-oss-forbid-overwrite", "false")
        .send(&emu, &agent)
        .unwrap();
    assert_eq!(allowed.status, 200);
    assert_eq!(emu.object(emu.bucket(), "once").unwrap().data, b"third");

    let bad = Req::put(emu.bucket(), "once", b"x")
        .header("x-oss-forbid-overwrite", "maybe")
        .send(&emu, &agent)
        .unwrap();
    assert_error(&bad, 400, "InvalidArgument");
}

#[test]
fn content_md5_must_match() {
    let emu = Emulator::start().unwrap();
    let agent = agent();
    let wrong = Req::put(emu.bucket(), "k", b"hello world")
        .header("Content-MD5", &b64(&[0u8; 16]))
        .send(&emu, &agent)
        .unwrap();
    assert_error(&wrong, 400, "InvalidDigest");
    let malformed = Req::put(emu.bucket(), "k", b"hello world")
        .header("Content-MD5", "not base64!")
        .send(&emu, &agent)
        .unwrap();
    assert_error(&malformed, 400, "InvalidDigest");
    assert_eq!(emu.object_count(), 0);
    let right = Req::put(emu.bucket(), "k", b"hello world")
        .header(
            "Content-MD5",
            &b64(&hex_to_bytes("5eb63bbbe01eeed093cb22bb8f5acdc3")),
        )
        .send(&emu, &agent)
        .unwrap();
    assert_eq!(right.status, 200);
}

#[test]
fn object_name_rules() {
    let emu = Emulator::start().unwrap();
    let agent = agent();
    let long = "k".repeat(1024);
    for key in ["/leading-slash", "\\leading-backslash", long.as_str()] {
        let reply = Req::put(emu.bucket(), key, b"x")
            .send(&emu, &agent)
            .unwrap();
        assert_error(&reply, 400, "InvalidObjectName");
    }
    let longest = "k".repeat(1023);
    let ok = Req::put(emu.bucket(), &longest, b"x")
        .send(&emu, &agent)
        .unwrap();
    assert_eq!(ok.status, 200);
    let reply = Req {
        key: None,
        payload: Payload::Bytes(b"x"),
        ..Req::new("PUT", emu.bucket(), "")
    }
    .send(&emu, &agent)
    .unwrap();
    assert_error(&reply, 400, "InvalidObjectName");
}

#[test]
fn entity_too_large_with_a_small_limit() {
    let emu = Emulator::builder().max_object_size(10).start().unwrap();
    let agent = agent();
    let at_limit = Req::put(emu.bucket(), "k", b"0123456789")
        .send(&emu, &agent)
        .unwrap();
    assert_eq!(at_limit.status, 200);
    let over = Req::put(emu.bucket(), "k2", b"0123456789A")
        .send(&emu, &agent)
        .unwrap();
    assert_error(&over, 400, "EntityTooLarge");
    assert_eq!(
        over.xml("Message").as_deref(),
        Some("Your proposed upload exceeds the maximum allowed size.")
    );
    let chunked = Req {
        payload: Payload::Chunked(b"0123456789ABCDEF"),
        ..Req::new("PUT", emu.bucket(), "k3")
    }
    .send(&emu, &agent)
    .unwrap();
    assert_error(&chunked, 400, "EntityTooLarge");
    assert_eq!(emu.object_count(), 1);
    // Still serving on the same agent afterwards.
    let get = Req::new("GET", emu.bucket(), "k")
        .send(&emu, &agent)
        .unwrap();
    assert_eq!(get.body, b"0123456789");
}

#[test]
fn unsupported_operations_are_explicit() {
    let emu = Emulator::start().unwrap();
    let agent = agent();
    let delete = Req::new("DELETE", emu.bucket(), "k")
        .send(&emu, &agent)
        .unwrap();
    assert_error(&delete, 405, "MethodNotAllowed");
    let acl = Req {
        query: "acl",
        ..Req::put(emu.bucket(), "k", b"x")
    }
    .send(&emu, &agent)
    .unwrap();
    assert_error(&acl, 501, "NotImplemented");
    assert_eq!(emu.requests()[1].query, "acl");
    assert_eq!(emu.object_count(), 0);
}

// ---------------------------------------------------------------------------------------------
// Faults

#[test]
fn fault_error_status_then_recovery() {
    let emu = Emulator::start().unwrap();
    let agent = agent();
    emu.inject(Fault::ErrorStatus {
        status: 503,
        code: "ServiceUnavailable".to_string(),
        times: 2,
    });
    for _ in 0..2 {
        let reply = Req::put(emu.bucket(), "k", b"payload")
            .send(&emu, &agent)
            .unwrap();
        assert_error(&reply, 503, "ServiceUnavailable");
        assert_eq!(emu.object_count(), 0);
    }
    let ok = Req::put(emu.bucket(), "k", b"payload")
        .send(&emu, &agent)
        .unwrap();
    assert_eq!(ok.status, 200);
    let statuses: Vec<_> = emu.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(503), Some(503), Some(200)]);
    // The body was read (and discarded) even for the injected errors.
    assert!(emu.requests().iter().all(|r| r.body_len == 7));
}

#[test]
fn fault_wrong_crc_and_no_crc_header() {
    let emu = Emulator::start().unwrap();
    let agent = agent();
    let real = crc64_reference(b"data").to_string();
    emu.inject(Fault::WrongCrc { times: 1 });
    emu.inject(Fault::NoCrcHeader { times: 1 });
    // A GET does not use up PutObject faults.
    let miss = Req::new("GET", emu.bucket(), "k")
        .send(&emu, &agent)
        .unwrap();
    assert_eq!(miss.status, 404);

    let wrong = Req::put(emu.bucket(), "k", b"data")
        .send(&emu, &agent)
        .unwrap();
    assert_eq!(wrong.status, 200);
    let header = wrong.header("x-oss-hash-crc64ecma").unwrap();
    assert_ne!(header, real);
    assert!(header.parse::<u64>().is_ok());
    assert_eq!(emu.object(emu.bucket(), "k").unwrap().data, b"data");

    let none = Req::put(emu.bucket(), "k", b"data")
        .send(&emu, &agent)
        .unwrap();
    assert_eq!(none.status, 200);
    assert_eq!(none.header("x-oss-hash-crc64ecma"), None);

    let normal = Req::put(emu.bucket(), "k", b"data")
        .send(&emu, &agent)
        .unwrap();
    assert_eq!(normal.header("x-oss-hash-crc64ecma"), Some(real.as_str()));
}

#[test]
fn fault_reset_after_drops_the_connection() {
    let emu = Emulator::start().unwrap();
    emu.inject(Fault::ResetAfter {
        bytes: 1000,
        times: 1,
    });
    let data = vec![7u8; 200_000];
    let result = Req::put(emu.bucket(), "k", &data).send(&emu, &agent());
    assert!(
        result.is_err(),
        "expected a transport error, got a response"
    );
    assert_eq!(emu.object_count(), 0);
    let recorded = &emu.requests()[0];
    assert_eq!(recorded.status, None);
    assert_eq!(recorded.body_len, 1000);

    let ok = Req::put(emu.bucket(), "k", &data)
        .send(&emu, &agent())
        .unwrap();
    assert_eq!(ok.status, 200);
    assert_eq!(emu.object(emu.bucket(), "k").unwrap().data, data);
}

#[test]
fn fault_stall_delays_then_answers() {
    let emu = Emulator::start().unwrap();
    emu.inject(Fault::Stall {
        duration: Duration::from_millis(200),
        times: 1,
    });
    let reply = Req::put(emu.bucket(), "k", b"x")
        .send(&emu, &agent())
        .unwrap();
    assert_eq!(reply.status, 200);
    assert!(emu.object(emu.bucket(), "k").is_some());
}

#[test]
fn fault_stall_trips_a_client_timeout_and_drop_does_not_wait_for_it() {
    let emu = Emulator::start().unwrap();
    emu.inject(Fault::Stall {
        duration: Duration::from_secs(100),
        times: 1,
    });
    let impatient: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_millis(300)))
        .build()
        .into();
    let result = Req::put(emu.bucket(), "k", b"x").send(&emu, &impatient);
    assert!(result.is_err());
    // Dropping the emulator now must interrupt the stalled connection thread.
    drop(emu);
}

#[test]
fn fault_clock_skew() {
    let emu = Emulator::start().unwrap();
    let agent = agent();
    emu.inject(Fault::ClockSkew {
        offset_seconds: 3600,
    });
    let skewed = Req::put(emu.bucket(), "k", b"x")
        .send(&emu, &agent)
        .unwrap();
    assert_error(&skewed, 403, "RequestTimeTooSkewed");
    assert_eq!(skewed.xml("EC").as_deref(), Some("0002-00000504"));
    let server_date = httpdate::parse_http_date(skewed.header("date").unwrap()).unwrap();
    let ahead = server_date
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    assert!(ahead > Duration::from_secs(3000), "Date is {ahead:?} ahead");

    // A client that corrects its clock from the server's Date gets through.
    let corrected = Req {
        time: Some(server_date),
        ..Req::put(emu.bucket(), "k", b"x")
    }
    .send(&emu, &agent)
    .unwrap();
    assert_eq!(corrected.status, 200, "{}", corrected.text());

    emu.clear_faults();
    let normal = Req::put(emu.bucket(), "k", b"x")
        .send(&emu, &agent)
        .unwrap();
    assert_eq!(normal.status, 200);
}

#[test]
fn fault_callback_failed_stores_and_answers_203() {
    let emu = Emulator::start().unwrap();
    emu.inject(Fault::CallbackFailed { times: 1 });
    let reply = Req::put(emu.bucket(), "k", b"x")
        .send(&emu, &agent())
        .unwrap();
    assert_eq!(reply.status, 203);
    assert_eq!(reply.xml("Code").as_deref(), Some("CallbackFailed"));
    assert_eq!(
        reply.xml("RequestId").as_deref(),
        reply.header("x-oss-request-id")
    );
    assert!(reply.header("etag").is_some());
    assert!(emu.object(emu.bucket(), "k").is_some());
}

#[test]
fn fault_garbage_body() {
    let emu = Emulator::start().unwrap();
    emu.inject(Fault::GarbageBody {
        status: 502,
        times: 1,
    });
    let reply = Req::put(emu.bucket(), "k", b"x")
        .send(&emu, &agent())
        .unwrap();
    assert_eq!(reply.status, 502);
    assert!(roxmltree::Document::parse(&reply.text()).is_err() || reply.xml("Code").is_none());
    assert_eq!(emu.object_count(), 0);
}

#[test]
fn faults_with_zero_times_and_clear_faults() {
    let emu = Emulator::start().unwrap();
    emu.inject(Fault::WrongCrc { times: 0 });
    emu.inject(Fault::GarbageBody {
        status: 500,
        times: 5,
    });
    emu.clear_faults();
    let reply = Req::put(emu.bucket(), "k", b"data")
        .send(&emu, &agent())
        .unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("x-oss-hash-crc64ecma"),
        Some(crc64_reference(b"data").to_string().as_str())
    );
}

// ---------------------------------------------------------------------------------------------
// Wire robustness

#[test]
fn malformed_requests_get_400_and_the_server_keeps_serving() {
    let emu = Emulator::start().unwrap();
    let cases: &[&[u8]] = &[
        b"this is not http\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"PUT /examplebucket/k HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
        b"PUT /examplebucket/k HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        b"PUT /examplebucket/k HTTP/1.1\r\nBad Header\r\n\r\n",
        b"\x00\x01\x02\xff\r\n\r\n",
    ];
    for case in cases {
        let answer = raw_exchange(&emu, case);
        assert!(
            answer.starts_with("HTTP/1.1 400 "),
            "{:?} -> {answer:?}",
            String::from_utf8_lossy(case)
        );
        assert!(answer.contains("Connection: close"));
    }
    // A chunked body that goes wrong half-way.
    let answer = raw_exchange(
        &emu,
        b"PUT /examplebucket/k HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer:?}");
    let mut huge = b"GET / HTTP/1.1\r\nX-Big: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 100 * 1024));
    huge.extend_from_slice(b"\r\n\r\n");
    assert!(raw_exchange(&emu, &huge).starts_with("HTTP/1.1 400 "));

    let ok = Req::put(emu.bucket(), "k", b"x")
        .send(&emu, &agent())
        .unwrap();
    assert_eq!(ok.status, 200);
}

#[test]
fn virtual_hosted_requests_are_understood() {
    let emu = Emulator::start().unwrap();
    let headers = signed_put_headers(
        &emu,
        "dir/v host.txt",
        emu.region(),
        [("Content-Type", "text/plain")].into_iter().collect(),
    );
    let mut request = format!(
        "PUT /dir/v%20host.txt HTTP/1.1\r\nHost: {}.oss-cn-hangzhou.aliyuncs.com\r\n\
         Content-Length: 5\r\nConnection: close\r\n",
        emu.bucket()
    );
    for (name, value) in headers.iter() {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\nhello");
    let answer = raw_exchange(&emu, request.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert_eq!(
        emu.object(emu.bucket(), "dir/v host.txt").unwrap().data,
        b"hello"
    );
}

#[test]
fn expect_100_continue_is_honoured() {
    let emu = Emulator::start().unwrap();
    let headers = signed_put_headers(&emu, "k", emu.region(), Headers::new());
    let mut stream = TcpStream::connect(emu.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = format!(
        "PUT /{}/k HTTP/1.1\r\nHost: {}\r\nContent-Length: 3\r\nExpect: 100-continue\r\n",
        emu.bucket(),
        emu.addr()
    );
    for (name, value) in headers.iter() {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let mut interim = [0u8; 25];
    stream.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    stream.write_all(b"abc").unwrap();
    let mut status = [0u8; 15];
    stream.read_exact(&mut status).unwrap();
    assert_eq!(&status, b"HTTP/1.1 200 OK");
    drop(stream);
    assert_eq!(emu.object(emu.bucket(), "k").unwrap().data, b"abc");
}

#[test]
fn concurrent_uploads_and_keep_alive() {
    let emu = Emulator::start().unwrap();
    std::thread::scope(|scope| {
        for t in 0..8 {
            let emu = &emu;
            scope.spawn(move || {
                let agent = agent();
                for i in 0..10 {
                    let key = format!("t{t}/o{i}");
                    let body = format!("{t}-{i}");
                    let reply = Req::put(emu.bucket(), &key, body.as_bytes())
                        .send(emu, &agent)
                        .unwrap();
                    assert_eq!(reply.status, 200);
                }
            });
        }
    });
    assert_eq!(emu.object_count(), 80);
    assert_eq!(emu.request_count(), 80);
}

#[test]
fn connections_beyond_the_limit_get_503() {
    let emu = Emulator::start().unwrap();
    let held: Vec<TcpStream> = (0..oss_blocking::emulator::MAX_CONNECTIONS)
        .map(|_| TcpStream::connect(emu.addr()).unwrap())
        .collect();
    let answer = raw_exchange(&emu, b"GET / HTTP/1.1\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 503 "), "{answer:?}");
    assert!(answer.contains("<Code>ServiceUnavailable</Code>"));
    drop(held);
}

#[test]
fn config_points_at_the_emulator() {
    let emu = Emulator::builder()
        .region("cn-shanghai")
        .access_key("id-1", "secret-1")
        .bucket("first")
        .bucket("second")
        .start()
        .unwrap();
    let cfg = emu.config();
    assert_eq!(cfg.get_region(), Some("cn-shanghai"));
    assert_eq!(cfg.get_endpoint(), Some(emu.endpoint().as_str()));
    assert!(emu.endpoint().starts_with("http://127.0.0.1:"));
    assert_eq!(emu.addr().ip(), std::net::Ipv4Addr::LOCALHOST);
    assert_eq!(emu.bucket(), "first");
    assert_eq!(emu.access_key_id(), "id-1");
    let creds = emu.credentials_provider().credentials().unwrap();
    assert_eq!(creds.access_key_secret(), "secret-1");
    let ok = Req::put("second", "k", b"x").send(&emu, &agent()).unwrap();
    assert_eq!(ok.status, 200);
    assert!(!format!("{emu:?}").contains("secret-1"));
}

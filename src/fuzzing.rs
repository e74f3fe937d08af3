//! Not an API: entry points for the cargo-fuzz targets in `fuzz/` and for the corpus replay
//! test `tests/fuzz_corpus.rs`.
//!
//! Each function takes raw bytes, as a fuzzer or a hostile server would give them, and runs
//! them through the same code the client uses on data from the network or the user. They
//! return nothing: the only thing checked is that none of them panics, loops or allocates
//! without bound. Hidden from the docs and exempt from semver: do not call them.

use crate::config::Config;
use crate::error::ServiceError;
use crate::put_object::PutObjectResult;

/// Splits `data` into `name: value` header lines, as a response's headers arrive (lossy UTF-8,
/// as the client reads them).
fn header_lines(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_string(), value.trim().to_string()))
        .collect()
}

/// An error response: the first two bytes are the status code, then header lines, an empty
/// line, and the body (the `<Error>` XML document, or anything at all).
pub fn error_response(data: &[u8]) {
    let (status, rest) = match data {
        [hi, lo, rest @ ..] => (u16::from_be_bytes([*hi, *lo]), rest),
        _ => (500, data),
    };
    let split = rest.windows(2).position(|w| w == b"\n\n");
    let (head, body) = match split {
        Some(i) => (
            rest.get(..i).unwrap_or_default(),
            rest.get(i.saturating_add(2)..).unwrap_or_default(),
        ),
        None => (rest, &[][..]),
    };
    let headers = header_lines(&String::from_utf8_lossy(head));
    let error = ServiceError::from_response(status, &headers, body, "PUT http://127.0.0.1/b/k");
    let _ = error.to_string();
    let _ = format!("{error:?}");
    let _ = (
        error.code(),
        error.message(),
        error.request_id(),
        error.ec(),
    );
    if let Some(time) = error.timestamp() {
        let _ = crate::client::clock_offset_ms(time, std::time::SystemTime::now());
    }
}

/// A successful response's headers (`name: value` lines): ETag, CRC-64, request id, and the
/// `Date` a `RequestTimeTooSkewed` answer carries.
pub fn response_headers(data: &[u8]) {
    let headers = header_lines(&String::from_utf8_lossy(data));
    let result = PutObjectResult::from_response(200, headers.clone());
    let _ = format!("{result:?}");
    if let Some(server) = result.header("x-oss-hash-crc64ecma") {
        let _ = crate::client::crc_matches(server, result.hash_crc64.unwrap_or(0));
    }
    let error = ServiceError::from_response(403, &headers, b"", "PUT http://127.0.0.1/b/k");
    let _ = error.to_string();
    if let Some(time) = error.timestamp() {
        let offset = crate::client::clock_offset_ms(time, std::time::SystemTime::now());
        let _ = crate::client::apply_clock_offset(std::time::SystemTime::now(), offset);
    }
}

/// Bucket names and object keys as a user gives them: the first line is the bucket, the rest
/// the key.
pub fn names(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (bucket, key) = text.split_once('\n').unwrap_or((&text, ""));
    let _ = crate::validate::bucket_name(bucket);
    let _ = crate::validate::object_key(key);
    let _ = crate::validate::bucket_name(&text);
    let _ = crate::validate::object_key(&text);
}

/// The endpoint parser: line 1 the endpoint, line 2 the region, line 3 a bucket, line 4 a key;
/// the first byte also picks the addressing flags.
pub fn endpoint(data: &[u8]) {
    let flags = data.first().copied().unwrap_or(0);
    let text = String::from_utf8_lossy(data.get(1..).unwrap_or_default());
    let mut lines = text.splitn(4, '\n');
    let endpoint = lines.next().unwrap_or("");
    let region = lines.next().unwrap_or("");
    let bucket = lines.next().unwrap_or("bucket");
    let key = lines.next().unwrap_or("key");
    let mut cfg = Config::load_default()
        .region(region)
        .use_path_style(flags & 1 != 0)
        .use_cname(flags & 2 != 0)
        .use_internal_endpoint(flags & 4 != 0)
        .use_accelerate_endpoint(flags & 8 != 0)
        .use_dualstack_endpoint(flags & 16 != 0)
        .disable_ssl(flags & 32 != 0);
    if flags & 64 == 0 {
        cfg = cfg.endpoint(endpoint);
    }
    if flags & 128 != 0 {
        cfg = cfg.cloud_box_id(endpoint);
    }
    let _ = crate::endpoint::signing_scope(&cfg);
    if let Ok(resolved) = crate::endpoint::resolve(&cfg) {
        let url = resolved.url(bucket, Some(key));
        let _ = url.parse::<ureq::http::Uri>();
        let _ = resolved.url(bucket, None);
    }
}

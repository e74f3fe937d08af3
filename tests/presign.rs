#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not tests
//! Presigned URLs (V4 and V1) used by a plain HTTP client against the emulator, HeadObject,
//! and every operation in V1 mode.

mod common;

use std::time::{Duration, SystemTime};

use common::{pattern, setup};
use oss_blocking as oss;
use oss_blocking::credentials::{Credentials, CredentialsError};
use oss_blocking::emulator::{Emulator, Fault};

/// A plain HTTP client that returns 4xx/5xx answers instead of errors.
fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// Runs a presigned request with its signed headers plus `extra`; (status, body).
fn run(p: &oss::PresignedRequest, body: &[u8], extra: &[(&str, &str)]) -> (u16, String) {
    let mut req = ureq::http::Request::builder()
        .method(p.method.as_str())
        .uri(p.url.as_str());
    for (name, value) in p.signed_headers.iter() {
        req = req.header(name.as_str(), value.as_str());
    }
    for (name, value) in extra {
        req = req.header(*name, *value);
    }
    let mut resp = http().run(req.body(body.to_vec()).unwrap()).unwrap();
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_string().unwrap_or_default())
}

fn v1(emu: &Emulator) -> oss::Client {
    oss::Client::new(common::fast(
        emu.config().signature_version(oss::SignatureVersion::V1),
    ))
}

#[test]
fn a_presigned_put_works_from_a_plain_http_client_in_both_versions() {
    let (emu, v4) = setup();
    let data = pattern(100_000);
    for (client, key) in [(&v4, "v4/cat 1+2.jpg"), (&v1(&emu), "v1/cat 1+2.jpg")] {
        let p = client
            .presign(
                oss::PutObjectRequest::new(emu.bucket(), key)
                    .content_type("image/jpeg")
                    .metadata("Author", "alice"),
                Duration::from_secs(900),
            )
            .unwrap();
        assert_eq!(p.method, "PUT");
        assert_eq!(
            p.signed_headers,
            [
                ("Content-Type".to_string(), "image/jpeg".to_string()),
                ("x-oss-meta-author".to_string(), "alice".to_string())
            ]
        );
        let (status, body) = run(&p, &data, &[]);
        assert_eq!(status, 200, "{key}: {body}");
        let stored = emu.object(emu.bucket(), key).unwrap();
        assert_eq!(stored.data, data);
        assert_eq!(stored.header("x-oss-meta-author"), Some("alice"));
        // The request was really presigned: no Authorization header went out.
        let last = emu.requests().pop().unwrap();
        assert!(last.header("Authorization").is_none());
    }
}

#[test]
fn presigned_put_without_content_type_works_with_curl_t_semantics() {
    let (emu, client) = setup();
    let p = client
        .presign(
            oss::PutObjectRequest::new(emu.bucket(), "photo.jpg"),
            Duration::from_secs(60),
        )
        .unwrap();
    // No Content-Type guessed from ".jpg": nothing to replay.
    assert!(p.signed_headers.is_empty(), "{:?}", p.signed_headers);
    assert!(p.curl_command().contains(" -T FILE '"));
    assert_eq!(run(&p, b"jpeg bytes", &[]).0, 200);
    // What `curl --data-binary` does (an unsigned Content-Type) breaks the signature.
    let (status, body) = run(
        &p,
        b"x",
        &[("Content-Type", "application/x-www-form-urlencoded")],
    );
    assert_eq!(status, 403);
    assert!(body.contains("SignatureDoesNotMatch"), "{body}");
}

#[test]
fn an_extra_unsigned_oss_header_is_refused() {
    let (emu, client) = setup();
    for client in [client, v1(&emu)] {
        let p = client
            .presign(
                oss::PutObjectRequest::new(emu.bucket(), "k"),
                Duration::from_secs(60),
            )
            .unwrap();
        let (status, body) = run(&p, b"x", &[("x-oss-object-acl", "public-read")]);
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("SignatureDoesNotMatch"), "{body}");
    }
    assert_eq!(emu.object_count(), 0);
}

#[test]
fn the_same_url_after_expiry_is_refused() {
    let (emu, client) = setup();
    for client in [client.clone(), v1(&emu)] {
        let p = client
            .presign(
                oss::PutObjectRequest::new(emu.bucket(), "k"),
                Duration::from_secs(60),
            )
            .unwrap();
        let left = p.expiration.duration_since(SystemTime::now()).unwrap();
        assert!(left <= Duration::from_secs(60) && left > Duration::from_secs(55));
        // The server's clock moves past the expiry.
        emu.inject(Fault::ClockSkew {
            offset_seconds: 120,
        });
        let (status, body) = run(&p, b"x", &[]);
        assert_eq!(status, 403, "{body}");
        assert!(
            body.contains("AccessDenied") && body.contains("Request has expired."),
            "{body}"
        );
        emu.clear_faults();
        assert_eq!(run(&p, b"x", &[]).0, 200);
    }
}

#[test]
fn presigned_get_and_head_download_and_describe() {
    let (emu, client) = setup();
    let data = pattern(5000);
    client
        .put_object(oss::PutObjectRequest::new(emu.bucket(), "dir/obj.bin").body(data.clone()))
        .unwrap();
    let get = client
        .presign(
            oss::GetObjectRequest::new(emu.bucket(), "dir/obj.bin"),
            Duration::from_secs(3600),
        )
        .unwrap();
    assert_eq!(get.method, "GET");
    let mut resp = http().get(get.url.as_str()).call().unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.body_mut().read_to_vec().unwrap(), data);
    let head = v1(&emu)
        .presign(
            oss::HeadObjectRequest::new(emu.bucket(), "dir/obj.bin"),
            Duration::from_secs(3600),
        )
        .unwrap();
    let resp = http().head(head.url.as_str()).call().unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers().get("content-length").unwrap(), "5000");
}

#[test]
fn over_seven_days_is_refused_for_v4_only() {
    let (emu, client) = setup();
    let req = || oss::PutObjectRequest::new(emu.bucket(), "k");
    let week = Duration::from_secs(604_800);
    assert!(client.presign(req(), week).is_ok());
    let err = client
        .presign(req(), week + Duration::from_secs(1))
        .unwrap_err();
    assert_eq!(err.kind(), oss::ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("7 days"), "{err}");
    let err = client.presign(req(), Duration::ZERO).unwrap_err();
    assert_eq!(err.kind(), oss::ErrorKind::InvalidArgument);
    // V1 has no limit: 30 days.
    let p = v1(&emu)
        .presign(req(), Duration::from_secs(30 * 86_400))
        .unwrap();
    assert!(p.url.contains("&Expires="));
    assert!(emu.requests().is_empty(), "presign sends nothing");
}

#[test]
fn a_url_may_not_outlive_expiring_credentials_unless_clamped() {
    let emu = Emulator::builder()
        .security_token("sts-token")
        .start()
        .unwrap();
    let (id, secret) = (
        emu.access_key_id().to_string(),
        oss::emulator::DEFAULT_ACCESS_KEY_SECRET,
    );
    let expires_at = SystemTime::now() + Duration::from_secs(600);
    let provider = move || -> Result<Credentials, CredentialsError> {
        Ok(Credentials::new(id.clone(), secret)
            .with_security_token("sts-token")
            .with_expiration(expires_at))
    };
    let cfg = emu.config().credentials_provider(provider);
    let client = oss::Client::new(cfg.clone());
    let req = || oss::PutObjectRequest::new(emu.bucket(), "k");
    let err = client
        .presign(req(), Duration::from_secs(3600))
        .unwrap_err();
    assert_eq!(err.kind(), oss::ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("outlive"), "{err}");
    // Within the credentials' life: fine, and the token is in the URL.
    let p = client.presign(req(), Duration::from_secs(300)).unwrap();
    assert!(p.url.contains("x-oss-security-token=sts-token"));
    assert!(
        !format!("{p:?}").contains("sts-token"),
        "Debug hides the token"
    );
    assert_eq!(run(&p, b"x", &[]).0, 200);
    // Clamped: the effective expiration is the credentials'.
    let clamping = oss::Client::new(cfg.presign_clamp_to_credentials(true));
    let p = clamping.presign(req(), Duration::from_secs(3600)).unwrap();
    let exp = |t: SystemTime| t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    assert_eq!(exp(p.expiration), exp(expires_at));
    assert_eq!(run(&p, b"y", &[]).0, 200);
}

#[test]
fn bad_input_is_refused_before_signing() {
    let (_emu, client) = setup();
    let err = client
        .presign(
            oss::PutObjectRequest::new("Bad_Bucket", "k"),
            Duration::from_secs(60),
        )
        .unwrap_err();
    assert_eq!(err.kind(), oss::ErrorKind::InvalidArgument);
    let err = client
        .presign(
            oss::GetObjectRequest::new("bucket", "k").response_content_type(""),
            Duration::from_secs(60),
        )
        .unwrap_err();
    assert!(err.to_string().contains("response_content_type"), "{err}");
}

#[test]
fn head_object_of_a_missing_key_is_no_such_key_in_both_versions() {
    let (emu, client) = setup();
    for client in [client, v1(&emu)] {
        let err = client
            .head_object(oss::HeadObjectRequest::new(emu.bucket(), "missing"))
            .unwrap_err();
        let service = err.service_error().unwrap();
        assert_eq!((service.status_code(), service.code()), (404, "NoSuchKey"));
        assert_eq!(err.attempts(), 1, "a 404 is not retried");
    }
}

#[test]
fn put_and_head_work_in_v1_mode_with_a_token() {
    let emu = Emulator::builder().security_token("tok").start().unwrap();
    let client = oss::Client::new(
        emu.config()
            .credentials_provider(emu.credentials_provider().security_token("tok"))
            .signature_version(oss::SignatureVersion::V1),
    );
    client
        .put_object(
            oss::PutObjectRequest::new(emu.bucket(), "dir/a b+c.txt")
                .body("hello")
                .metadata("k", "v")
                .content_md5("XUFAKrxLKna5cZ2REBfFkg=="),
        )
        .unwrap();
    let h = client
        .head_object(oss::HeadObjectRequest::new(emu.bucket(), "dir/a b+c.txt"))
        .unwrap();
    assert_eq!(h.content_length, 5);
    assert_eq!(h.metadata.get("k").map(String::as_str), Some("v"));
    let sent = emu.requests();
    assert!(sent
        .iter()
        .all(|r| r.header("Authorization").unwrap().starts_with("OSS ")));
    assert!(sent
        .iter()
        .all(|r| r.header("x-oss-security-token") == Some("tok")));
    // A wrong secret is caught by the emulator's V1 check.
    let wrong = oss::Client::new(
        emu.config()
            .credentials_provider(
                oss::credentials::StaticCredentialsProvider::new(emu.access_key_id(), "wrong")
                    .security_token("tok"),
            )
            .signature_version(oss::SignatureVersion::V1)
            .retry_max_attempts(1),
    );
    let err = wrong
        .put_object(oss::PutObjectRequest::new(emu.bucket(), "x").body("x"))
        .unwrap_err();
    assert_eq!(err.service_error().unwrap().code(), "SignatureDoesNotMatch");
}

/// The text between `<tag>` and `</tag>` of an XML answer.
fn xml_text(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml.find(&open).unwrap() + open.len();
    let end = start + xml[start..].find(&format!("</{tag}>")).unwrap();
    xml[start..end].to_string()
}

#[test]
fn a_whole_multipart_upload_runs_through_presigned_urls_in_both_versions() {
    let (emu, v4) = setup();
    let d = Duration::from_secs(900);
    let (first, last) = (pattern(100 * 1024), b"tail".to_vec());
    for (client, key) in [(&v4, "mp/v4.bin"), (&v1(&emu), "mp/v1.bin")] {
        let init = client
            .presign(
                oss::InitiateMultipartUploadRequest::new(emu.bucket(), key),
                d,
            )
            .unwrap();
        assert_eq!(init.method, "POST");
        assert!(
            init.signed_headers.is_empty(),
            "no guessed Content-Type is signed"
        );
        let (status, xml) = run(&init, b"", &[]);
        assert_eq!(status, 200, "{key}: {xml}");
        let upload_id = xml_text(&xml, "UploadId");

        let mut etags = Vec::new();
        for (number, data) in [(1, &first), (2, &last)] {
            let part = client
                .presign(
                    oss::UploadPartRequest::new(emu.bucket(), key, &upload_id, number),
                    d,
                )
                .unwrap();
            assert_eq!(part.method, "PUT");
            let mut req = ureq::http::Request::builder()
                .method("PUT")
                .uri(part.url.as_str());
            for (name, value) in &part.signed_headers {
                req = req.header(name.as_str(), value.as_str());
            }
            let resp = http().run(req.body(data.clone()).unwrap()).unwrap();
            assert_eq!(resp.status().as_u16(), 200, "{key} part {number}");
            let etag = resp.headers()["etag"].to_str().unwrap().to_string();
            etags.push((number, etag));
        }

        let complete = client
            .presign(
                oss::CompleteMultipartUploadRequest::new(emu.bucket(), key, &upload_id),
                d,
            )
            .unwrap();
        let body: String =
            std::iter::once("<CompleteMultipartUpload>".to_string())
                .chain(etags.iter().map(|(n, e)| {
                    format!("<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>")
                }))
                .chain(std::iter::once("</CompleteMultipartUpload>".to_string()))
                .collect();
        let (status, answer) = run(&complete, body.as_bytes(), &[]);
        assert_eq!(status, 200, "{key}: {answer}");
        let stored = emu.object(emu.bucket(), key).unwrap();
        assert_eq!(stored.data, [first.as_slice(), last.as_slice()].concat());
    }
}

#[test]
fn a_presigned_abort_ends_the_upload() {
    let (emu, client) = setup();
    let init = client
        .initiate_multipart_upload(oss::InitiateMultipartUploadRequest::new(
            emu.bucket(),
            "a.bin",
        ))
        .unwrap();
    let abort = client
        .presign(
            oss::AbortMultipartUploadRequest::new(emu.bucket(), "a.bin", &init.upload_id),
            Duration::from_secs(60),
        )
        .unwrap();
    assert_eq!(abort.method, "DELETE");
    let (status, body) = run(&abort, b"", &[]);
    assert_eq!(status, 204, "{body}");
    let err = client
        .list_parts(oss::ListPartsRequest::new(
            emu.bucket(),
            "a.bin",
            &init.upload_id,
        ))
        .unwrap_err();
    assert_eq!(err.service_error().map(|s| s.code()), Some("NoSuchUpload"));
}

#[test]
fn presigning_a_multipart_request_checks_it_first() {
    let (emu, client) = setup();
    let err = client
        .presign(
            oss::UploadPartRequest::new(emu.bucket(), "k", "", 1),
            Duration::from_secs(60),
        )
        .unwrap_err();
    assert_eq!(err.kind(), oss::ErrorKind::InvalidArgument);
    assert_eq!(err.operation(), "UploadPart");
    let err = client
        .presign(
            oss::UploadPartRequest::new(emu.bucket(), "k", "id", 10_001),
            Duration::from_secs(60),
        )
        .unwrap_err();
    assert_eq!(err.kind(), oss::ErrorKind::InvalidArgument);
    assert_eq!(emu.request_count(), 0);
}

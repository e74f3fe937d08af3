//! PutObject end to end against the built-in emulator: what a user relies on is what OSS
//! stored, the result fields, and the error kind and code.
#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not tests

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use oss::emulator::{Emulator, Fault};
use oss::{Client, ErrorKind, PutObjectRequest};
use oss_blocking as oss;

fn setup() -> (Emulator, Client) {
    let emu = Emulator::start().expect("emulator starts");
    let client = Client::new(emu.config().retry_base_delay(Duration::from_millis(1)));
    (emu, client)
}

struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, data: &[u8]) -> TempFile {
        let dir = std::env::temp_dir().join(format!("oss-blocking-it-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::File::create(&path)
            .unwrap()
            .write_all(data)
            .unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn assert_result_matches_stored(
    emu: &Emulator,
    key: &str,
    result: &oss::PutObjectResult,
    data: &[u8],
) {
    let stored = emu.object(emu.bucket(), key).expect("object stored");
    assert_eq!(stored.data.len(), data.len(), "stored length of {key}");
    assert!(stored.data == data, "stored bytes of {key} differ");
    assert_eq!(result.status_code, 200);
    assert!(!result.request_id.is_empty(), "request id set");
    assert_eq!(result.etag.as_deref(), Some(stored.etag.as_str()));
    assert!(
        result.etag.as_deref().unwrap().starts_with('"'),
        "ETag keeps its quotes"
    );
    assert_eq!(result.hash_crc64, Some(oss::crc64::checksum(data)));
    assert!(result.content_md5.is_some());
    assert!(result.header("x-oss-server-time").is_some());
}

#[test]
fn files_of_0_1_and_10_mib_bytes_are_stored_exactly() {
    let (emu, client) = setup();
    for (name, len) in [
        ("empty.bin", 0usize),
        ("one.bin", 1),
        ("ten-mib.bin", 10 << 20),
    ] {
        let data = pattern(len);
        let file = TempFile::new(name, &data);
        let key = format!("files/{name}");
        let result = client
            .put_object_from_file(PutObjectRequest::new(emu.bucket(), &key), &file.0)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_result_matches_stored(&emu, &key, &result, &data);
    }
}

#[test]
fn bytes_string_and_unknown_length_stream() {
    let (emu, client) = setup();
    let data = pattern(300_000);
    let result = client
        .put_object(PutObjectRequest::new(emu.bucket(), "b.bin").body(b"hello world".to_vec()))
        .unwrap();
    assert_result_matches_stored(&emu, "b.bin", &result, b"hello world");
    assert_eq!(
        result.hash_crc64,
        Some(5981764153023615706),
        "the vector's CRC of hello world"
    );

    let result = client
        .put_object(PutObjectRequest::new(emu.bucket(), "a.txt").body("Hello, OSS!"))
        .unwrap();
    assert_result_matches_stored(&emu, "a.txt", &result, b"Hello, OSS!");

    let result = client
        .put_object(
            PutObjectRequest::new(emu.bucket(), "c.bin")
                .body(oss::Body::from_reader(std::io::Cursor::new(data.clone()))),
        )
        .unwrap();
    assert_result_matches_stored(&emu, "c.bin", &result, &data);
    let put = emu
        .requests()
        .into_iter()
        .rfind(|r| r.method == "PUT")
        .unwrap();
    assert!(
        put.headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked")),
        "a stream of unknown length is sent chunked: {:?}",
        put.headers
    );
}

#[test]
fn an_empty_body_is_a_zero_byte_object() {
    let (emu, client) = setup();
    let result = client
        .put_object(PutObjectRequest::new(emu.bucket(), "empty"))
        .unwrap();
    assert_result_matches_stored(&emu, "empty", &result, b"");
    assert_eq!(result.hash_crc64, Some(0));
}

#[test]
fn keys_with_special_characters_round_trip() {
    let (emu, client) = setup();
    let keys = [
        "dir/with space.txt",
        "a+b.txt",
        "100%.txt",
        "what?.txt",
        "hash#tag.txt",
        "unicode/文件-ü-😀.txt",
        "tilde~and=equals&amp;.txt",
        "a//double/slash/",
    ];
    for key in keys {
        let data = format!("content of {key}");
        let result = client
            .put_object(PutObjectRequest::new(emu.bucket(), key).body(data.clone()))
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_result_matches_stored(&emu, key, &result, data.as_bytes());
    }
}

#[test]
fn content_type_is_given_or_guessed_from_the_key() {
    let (emu, client) = setup();
    client
        .put_object(PutObjectRequest::new(emu.bucket(), "page.html").body("<p>"))
        .unwrap();
    client
        .put_object(PutObjectRequest::new(emu.bucket(), "data.unknownext").body("x"))
        .unwrap();
    client
        .put_object(
            PutObjectRequest::new(emu.bucket(), "report.txt")
                .body("x")
                .content_type("application/json"),
        )
        .unwrap();
    let content_type = |key: &str| {
        emu.object(emu.bucket(), key)
            .unwrap()
            .header("content-type")
            .map(str::to_string)
    };
    assert_eq!(content_type("page.html").as_deref(), Some("text/html"));
    assert_eq!(
        content_type("data.unknownext").as_deref(),
        Some("application/octet-stream")
    );
    assert_eq!(
        content_type("report.txt").as_deref(),
        Some("application/json")
    );
}

#[test]
fn forbid_overwrite_twice_gives_file_already_exists() {
    let (emu, client) = setup();
    let req = || PutObjectRequest::new(emu.bucket(), "once.txt").forbid_overwrite(true);
    client.put_object(req().body("first")).unwrap();
    let err = client.put_object(req().body("second")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Service);
    let service = err.service_error().unwrap();
    assert_eq!(service.status_code(), 409);
    assert_eq!(service.code(), "FileAlreadyExists");
    assert!(!service.request_id().is_empty());
    assert_eq!(err.attempts(), 1, "a 409 is not retried");
    assert_eq!(emu.object(emu.bucket(), "once.txt").unwrap().data, b"first");
    // Overwrite allowed when not forbidden.
    client
        .put_object(PutObjectRequest::new(emu.bucket(), "once.txt").body("third"))
        .unwrap();
    assert_eq!(emu.object(emu.bucket(), "once.txt").unwrap().data, b"third");
}

#[test]
fn missing_bucket_is_no_such_bucket() {
    let (emu, client) = setup();
    let err = client
        .put_object(PutObjectRequest::new("no-such-bucket", "a.txt").body("x"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Service);
    let service = err.service_error().unwrap();
    assert_eq!(
        (service.status_code(), service.code()),
        (404, "NoSuchBucket")
    );
    assert_eq!(err.request_id(), Some(service.request_id()));
    let text = format!("{err:#}");
    assert!(
        text.contains("NoSuchBucket") && text.contains("404"),
        "{text}"
    );
    assert!(text.contains(service.request_id()), "{text}");
    assert_eq!(emu.object_count(), 0);
}

#[test]
fn a_wrong_secret_is_signature_does_not_match_and_never_printed() {
    let emu = Emulator::start().unwrap();
    let secret = "definitely-the-wrong-secret";
    let client = Client::new(emu.config().credentials_provider(
        oss::credentials::StaticCredentialsProvider::new(emu.access_key_id(), secret),
    ));
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "a.txt").body("x"))
        .unwrap_err();
    let service = err.service_error().unwrap();
    assert_eq!(
        (service.status_code(), service.code()),
        (403, "SignatureDoesNotMatch")
    );
    assert_eq!(err.attempts(), 1, "a 403 is not retried");
    for text in [err.to_string(), format!("{err:?}"), format!("{client:?}")] {
        assert!(!text.contains(secret), "secret leaked: {text}");
    }
    assert_eq!(emu.object_count(), 0);
}

#[test]
fn an_unknown_access_key_is_invalid_access_key_id() {
    let emu = Emulator::start().unwrap();
    let client = Client::new(emu.config().credentials_provider(
        oss::credentials::StaticCredentialsProvider::new("unknown-id", "whatever"),
    ));
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "a.txt").body("x"))
        .unwrap_err();
    assert_eq!(err.service_error().unwrap().code(), "InvalidAccessKeyId");
}

#[test]
fn a_wrong_crc_from_the_server_is_retried_then_reported_with_both_values() {
    let (emu, client) = setup();
    emu.inject(Fault::WrongCrc { times: 3 });
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "crc.txt").body("hello world"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CrcMismatch);
    assert_eq!(
        err.attempts(),
        3,
        "a CRC mismatch is retried up to the attempt limit"
    );
    let text = err.to_string();
    assert!(text.contains("client 5981764153023615706"), "{text}");
    assert!(text.contains("server "), "{text}");
    assert!(text.contains("the object may exist"), "{text}");
    assert!(err.request_id().is_some());
    assert_eq!(emu.request_count(), 3);
}

#[test]
fn a_wrong_crc_once_is_healed_by_the_retry() {
    let (emu, client) = setup();
    emu.inject(Fault::WrongCrc { times: 1 });
    let result = client
        .put_object(PutObjectRequest::new(emu.bucket(), "crc.txt").body("hello world"))
        .unwrap();
    assert_eq!(result.hash_crc64, Some(5981764153023615706));
    assert_eq!(emu.request_count(), 2);
}

#[test]
fn the_crc_check_can_be_turned_off() {
    let emu = Emulator::start().unwrap();
    let client = Client::new(emu.config().disable_upload_crc64_check(true));
    emu.inject(Fault::WrongCrc { times: 1 });
    let result = client
        .put_object(PutObjectRequest::new(emu.bucket(), "crc.txt").body("hello world"))
        .unwrap();
    assert_ne!(result.hash_crc64, Some(5981764153023615706));
    assert_eq!(emu.request_count(), 1);
}

#[test]
fn a_503_then_success_stores_the_object_once() {
    let (emu, client) = setup();
    emu.inject(Fault::ErrorStatus {
        status: 503,
        code: "ServiceUnavailable".to_string(),
        times: 1,
    });
    let data = pattern(100_000);
    let file = TempFile::new("retry.bin", &data);
    let result = client
        .put_object_from_file(PutObjectRequest::new(emu.bucket(), "retry.bin"), &file.0)
        .unwrap();
    assert_result_matches_stored(&emu, "retry.bin", &result, &data);
    assert_eq!(emu.request_count(), 2);
}

#[test]
fn a_missing_file_is_an_io_error_naming_the_path_and_nothing_is_sent() {
    let (emu, client) = setup();
    let path = std::env::temp_dir().join("oss-blocking-surely-missing/file.txt");
    let err = client
        .put_object_from_file(PutObjectRequest::new(emu.bucket(), "x.txt"), &path)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(
        format!("{err:#}").contains(&path.display().to_string()),
        "{err:#}"
    );
    assert_eq!(err.attempts(), 0);
    assert_eq!(emu.request_count(), 0);
}

#[test]
fn invalid_names_fail_before_sending_and_name_the_field() {
    let (emu, client) = setup();
    let cases = [
        ("Bad_Bucket", "a.txt", "bucket"),
        ("ab", "a.txt", "bucket"),
        ("-abc", "a.txt", "bucket"),
        ("a--b", "a.txt", "bucket"),
        ("examplebucket", "", "key"),
        ("examplebucket", "/leading-slash", "key"),
        ("examplebucket", "\\leading-backslash", "key"),
    ];
    for (bucket, key, field) in cases {
        let err = client
            .put_object(PutObjectRequest::new(bucket, key).body("x"))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{bucket}/{key}");
        assert!(err.to_string().contains(field), "{bucket}/{key}: {err}");
    }
    let long_key = "k".repeat(1024);
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), long_key).body("x"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("1023"), "{err}");
    assert_eq!(emu.request_count(), 0, "nothing is sent for invalid input");
}

#[test]
fn a_body_over_5_gib_is_refused_before_sending() {
    let (emu, client) = setup();
    let huge = oss::Body::from_sized_reader(std::io::empty(), 5 * 1024 * 1024 * 1024 + 1);
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "huge.bin").body(huge))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("multipart"), "{err}");
    assert_eq!(emu.request_count(), 0);
}

#[test]
fn the_server_size_limit_is_entity_too_large() {
    let emu = Emulator::builder().max_object_size(1024).start().unwrap();
    let client = Client::new(emu.config());
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "big.bin").body(pattern(2048)))
        .unwrap_err();
    assert_eq!(err.service_error().unwrap().code(), "EntityTooLarge");
    assert_eq!(emu.object_count(), 0);
}

#[test]
fn unsigned_requests_are_access_denied() {
    let emu = Emulator::start().unwrap();
    let client = Client::new(
        emu.config()
            .credentials_provider(oss::credentials::AnonymousCredentialsProvider::new()),
    );
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "anon.txt").body("x"))
        .unwrap_err();
    let service = err.service_error().unwrap();
    assert_eq!(
        (service.status_code(), service.code()),
        (403, "AccessDenied")
    );
    let put = emu
        .requests()
        .into_iter()
        .rfind(|r| r.method == "PUT")
        .unwrap();
    assert!(
        put.header("authorization").is_none(),
        "anonymous requests are not signed"
    );
    assert_eq!(emu.object_count(), 0);
}

#[test]
fn missing_region_and_missing_credentials_are_clear_errors() {
    let emu = Emulator::start().unwrap();
    let no_region = Client::new(
        oss::Config::load_default()
            .endpoint(emu.endpoint())
            .credentials_provider(emu.credentials_provider()),
    );
    let err = no_region
        .put_object(PutObjectRequest::new(emu.bucket(), "a.txt").body("x"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("region"), "{err}");

    let no_creds = Client::new(
        oss::Config::load_default()
            .region(emu.region())
            .endpoint(emu.endpoint()),
    );
    let err = no_creds
        .put_object(PutObjectRequest::new(emu.bucket(), "a.txt").body("x"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Credentials);
    assert_eq!(emu.request_count(), 0);
}

#[test]
fn security_tokens_are_sent_and_checked() {
    let emu = Emulator::builder()
        .security_token("sts-token-value")
        .start()
        .unwrap();
    let client = Client::new(emu.config());
    client
        .put_object(PutObjectRequest::new(emu.bucket(), "sts.txt").body("x"))
        .unwrap();
    let put = emu
        .requests()
        .into_iter()
        .rfind(|r| r.method == "PUT")
        .unwrap();
    assert!(put
        .headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("x-oss-security-token") && v == "sts-token-value"));
    let text = format!("{client:?}");
    assert!(!text.contains("sts-token-value"), "{text}");
}

#[test]
fn one_client_is_shared_by_threads() {
    let (emu, client) = setup();
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let client = client.clone();
            let bucket = emu.bucket().to_string();
            std::thread::spawn(move || {
                for i in 0..5 {
                    client
                        .put_object(
                            PutObjectRequest::new(&bucket, format!("t{t}/{i}.txt"))
                                .body(format!("{t}-{i}")),
                        )
                        .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(emu.object_count(), 20);
    assert_eq!(emu.object(emu.bucket(), "t3/4.txt").unwrap().data, b"3-4");
}

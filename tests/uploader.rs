#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not tests
//! The Uploader against the emulator: modes, parallel parts, integrity, errors, progress.

mod common;

use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{pattern, setup};
use oss_blocking as oss;
use oss_blocking::emulator::Fault;

const KIB100: u64 = 100 * 1024;

/// A temporary file removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn with(name: &str, data: &[u8]) -> TempFile {
        let path = std::env::temp_dir().join(format!(
            "oss-uploader-{}-{name}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::write(&path, data).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn count(emu: &oss::emulator::Emulator, method: &str, query_start: &str) -> usize {
    emu.requests()
        .iter()
        .filter(|r| r.method == method && r.query.starts_with(query_start))
        .count()
}

fn part_requests(emu: &oss::emulator::Emulator) -> usize {
    count(emu, "PUT", "partNumber=")
}

type Calls = Arc<Mutex<Vec<(u64, u64, Option<u64>)>>>;

fn recorder() -> (Calls, impl FnMut(u64, u64, Option<u64>) + Send + 'static) {
    let calls: Calls = Arc::default();
    let sink = Arc::clone(&calls);
    (calls, move |d, s, t| sink.lock().unwrap().push((d, s, t)))
}

fn assert_monotonic_to(calls: &Calls, total: u64) {
    let calls = calls.lock().unwrap();
    let sent: Vec<u64> = calls.iter().map(|c| c.1).collect();
    assert!(
        sent.windows(2).all(|w| w[0] <= w[1]),
        "went backwards: {sent:?}"
    );
    assert_eq!(calls.last().map(|c| (c.1, c.2)), Some((total, Some(total))));
    assert_eq!(
        calls.iter().map(|c| c.0).sum::<u64>(),
        total,
        "each byte once"
    );
}

#[test]
fn a_file_goes_in_parallel_parts_with_the_options_on_their_steps() {
    let (emu, client) = setup();
    let data = pattern(7 * KIB100 as usize + 5);
    let file = TempFile::with("par", &data);
    // Part 1 is held back so the others overlap it.
    emu.inject_for(
        "UploadPart",
        Some(1),
        Fault::Stall {
            duration: Duration::from_millis(300),
            times: 1,
        },
    );
    let (calls, progress) = recorder();
    let r = client
        .uploader()
        .part_size(KIB100)
        .parallel(4)
        .upload_file(
            oss::PutObjectRequest::new(emu.bucket(), "big.iso")
                .acl(oss::ObjectAcl::PublicRead)
                .metadata("author", "alice")
                .storage_class(oss::StorageClass::Ia)
                .forbid_overwrite(true)
                .progress_fn(progress),
            &file.0,
        )
        .unwrap();
    assert_eq!(r.parts, 8);
    assert_eq!(r.hash_crc64, Some(oss::crc64::checksum(&data)));
    assert!(r.upload_id.is_some());
    assert!(
        emu.max_concurrent_parts() >= 2,
        "{}",
        emu.max_concurrent_parts()
    );
    let stored = emu.object(emu.bucket(), "big.iso").unwrap();
    assert_eq!(stored.data, data);
    assert_eq!(stored.header("x-oss-meta-author"), Some("alice"));
    assert_eq!(stored.header("x-oss-object-acl"), Some("public-read"));
    assert_monotonic_to(&calls, data.len() as u64);
    let reqs = emu.requests();
    let init = reqs
        .iter()
        .find(|q| q.query.starts_with("uploads"))
        .unwrap();
    assert_eq!(
        init.header("x-oss-object-acl"),
        None,
        "ACL goes on Complete"
    );
    assert_eq!(init.header("x-oss-storage-class"), Some("IA"));
    assert_eq!(init.header("x-oss-forbid-overwrite"), Some("true"));
    let complete = reqs
        .iter()
        .find(|q| q.method == "POST" && q.query.starts_with("encoding"))
        .unwrap();
    assert_eq!(complete.header("x-oss-object-acl"), Some("public-read"));
    assert_eq!(complete.header("x-oss-forbid-overwrite"), Some("true"));
    let part = reqs
        .iter()
        .find(|q| q.query.starts_with("partNumber"))
        .unwrap();
    assert_eq!(
        part.header("x-oss-meta-author"),
        None,
        "parts carry no attributes"
    );
    assert_eq!(part_requests(&emu), 8);
}

#[test]
fn below_the_part_size_one_put_object_and_at_it_one_part() {
    let (emu, client) = setup();
    let up = client.uploader().part_size(KIB100);
    let small = TempFile::with("small", &pattern(KIB100 as usize - 1));
    let r = up
        .upload_file(oss::PutObjectRequest::new(emu.bucket(), "s"), &small.0)
        .unwrap();
    assert_eq!((r.upload_id.as_deref(), r.parts), (None, 1));
    let empty = TempFile::with("empty", b"");
    let r = up
        .upload_file(oss::PutObjectRequest::new(emu.bucket(), "e"), &empty.0)
        .unwrap();
    assert_eq!(r.upload_id, None);
    assert_eq!(emu.object(emu.bucket(), "e").unwrap().data, b"");
    let equal = TempFile::with("equal", &pattern(KIB100 as usize));
    let r = up
        .upload_file(oss::PutObjectRequest::new(emu.bucket(), "q"), &equal.0)
        .unwrap();
    assert!(r.upload_id.is_some());
    assert_eq!(r.parts, 1);
}

#[test]
fn streams_of_three_and_a_half_parts_and_empty_ones() {
    let (emu, client) = setup();
    let up = client.uploader().part_size(KIB100).parallel(2);
    let data = pattern(3 * KIB100 as usize + KIB100 as usize / 2);
    let r = up
        .upload_from(
            oss::PutObjectRequest::new(emu.bucket(), "s"),
            Cursor::new(data.clone()),
        )
        .unwrap();
    assert_eq!(r.parts, 4);
    assert_eq!(r.hash_crc64, Some(oss::crc64::checksum(&data)));
    assert_eq!(emu.object(emu.bucket(), "s").unwrap().data, data);
    let before = emu.request_count();
    let r = up
        .upload_from(
            oss::PutObjectRequest::new(emu.bucket(), "empty"),
            std::io::empty(),
        )
        .unwrap();
    assert_eq!(r.upload_id, None, "never a zero-part multipart upload");
    assert_eq!(emu.request_count(), before + 1);
    assert_eq!(emu.object(emu.bucket(), "empty").unwrap().data, b"");
}

#[test]
fn a_seekable_reader_at_offset_1000_uploads_from_there() {
    let (emu, client) = setup();
    let data = pattern(3 * KIB100 as usize);
    let mut cursor = Cursor::new(data.clone());
    cursor.seek(SeekFrom::Start(1000)).unwrap();
    client
        .uploader()
        .part_size(KIB100)
        .upload_from(oss::PutObjectRequest::new(emu.bucket(), "o"), cursor)
        .unwrap();
    assert_eq!(emu.object(emu.bucket(), "o").unwrap().data, &data[1000..]);
}

/// Counts bytes read, and the most read beyond what was sent.
struct Counting {
    inner: Cursor<Vec<u8>>,
    read: Arc<AtomicU64>,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::SeqCst);
        Ok(n)
    }
}

#[test]
fn a_stream_is_read_at_most_one_part_per_worker_ahead() {
    let (emu, client) = setup();
    let data = pattern(20 * KIB100 as usize);
    let read = Arc::new(AtomicU64::new(0));
    let sent = Arc::new(AtomicU64::new(0));
    let max_ahead = Arc::new(AtomicU64::new(0));
    let (r2, s2, m2) = (Arc::clone(&read), Arc::clone(&sent), Arc::clone(&max_ahead));
    for n in 1..=4 {
        emu.inject_for(
            "UploadPart",
            Some(n),
            Fault::Stall {
                duration: Duration::from_millis(100),
                times: 1,
            },
        );
    }
    client
        .uploader()
        .part_size(KIB100)
        .parallel(3)
        .upload_from(
            oss::PutObjectRequest::new(emu.bucket(), "o").progress_fn(move |_, s, _| {
                s2.store(s, Ordering::SeqCst);
                let ahead = r2.load(Ordering::SeqCst).saturating_sub(s);
                m2.fetch_max(ahead, Ordering::SeqCst);
            }),
            Counting {
                inner: Cursor::new(data.clone()),
                read: Arc::clone(&read),
            },
        )
        .unwrap();
    assert_eq!(read.load(Ordering::SeqCst), data.len() as u64);
    // Python's uploader reads the whole stream ahead (vector non_seekable_read_ahead).
    let ahead = max_ahead.load(Ordering::SeqCst);
    assert!(
        ahead <= 4 * KIB100,
        "read {ahead} bytes beyond what was sent"
    );
    assert_eq!(sent.load(Ordering::SeqCst), data.len() as u64);
}

#[test]
fn a_part_failing_once_is_retried_and_progress_stays_monotonic() {
    let (emu, client) = setup();
    let data = pattern(4 * KIB100 as usize);
    let file = TempFile::with("retry", &data);
    emu.inject_for(
        "UploadPart",
        Some(2),
        Fault::ResetAfter {
            bytes: 50_000,
            times: 1,
        },
    );
    emu.inject_for(
        "UploadPart",
        Some(3),
        Fault::ErrorStatus {
            status: 503,
            code: "ServiceUnavailable".into(),
            times: 1,
        },
    );
    emu.inject_for("UploadPart", Some(4), Fault::WrongCrc { times: 1 });
    let (calls, progress) = recorder();
    client
        .uploader()
        .part_size(KIB100)
        .parallel(2)
        .upload_file(
            oss::PutObjectRequest::new(emu.bucket(), "o").progress_fn(progress),
            &file.0,
        )
        .unwrap();
    assert_eq!(emu.object(emu.bucket(), "o").unwrap().data, data);
    assert_eq!(part_requests(&emu), 7);
    assert_monotonic_to(&calls, data.len() as u64);
}

#[test]
fn a_part_failing_always_returns_the_first_error_and_aborts() {
    let (emu, client) = setup();
    let file = TempFile::with("fail", &pattern(6 * KIB100 as usize));
    emu.inject_for(
        "UploadPart",
        Some(3),
        Fault::ErrorStatus {
            status: 404,
            code: "NoSuchUpload".into(),
            times: 1,
        },
    );
    emu.inject_for(
        "UploadPart",
        None,
        Fault::Stall {
            duration: Duration::from_millis(50),
            times: 100,
        },
    );
    let err = client
        .uploader()
        .part_size(KIB100)
        .parallel(2)
        .upload_file(oss::PutObjectRequest::new(emu.bucket(), "o"), &file.0)
        .unwrap_err();
    assert_eq!(err.operation(), "UploadPart");
    assert_eq!(err.service_error().unwrap().code(), "NoSuchUpload");
    assert!(err.upload_id().is_some());
    assert!(err.to_string().contains("aborted"), "{err}");
    assert_eq!(emu.open_uploads(), 0, "none left open");
    assert_eq!(count(&emu, "DELETE", "uploadId="), 1);
    assert!(
        part_requests(&emu) < 6,
        "no new part starts after the error"
    );
    assert!(emu.object(emu.bucket(), "o").is_none());
}

#[test]
fn leave_parts_on_error_keeps_the_upload_and_an_abort_failure_is_a_note() {
    let (emu, client) = setup();
    let file = TempFile::with("leave", &pattern(2 * KIB100 as usize));
    emu.inject_for(
        "UploadPart",
        Some(2),
        Fault::ErrorStatus {
            status: 403,
            code: "AccessDenied".into(),
            times: 1,
        },
    );
    let up = client.uploader().part_size(KIB100).parallel(1);
    let err = up
        .clone()
        .leave_parts_on_error(true)
        .upload_file(oss::PutObjectRequest::new(emu.bucket(), "o"), &file.0)
        .unwrap_err();
    assert_eq!(emu.open_uploads(), 1);
    assert!(err.upload_id().is_some());
    emu.inject_for(
        "UploadPart",
        Some(2),
        Fault::ErrorStatus {
            status: 403,
            code: "AccessDenied".into(),
            times: 1,
        },
    );
    emu.inject_for(
        "AbortMultipartUpload",
        None,
        Fault::ErrorStatus {
            status: 403,
            code: "AccessDenied".into(),
            times: 1,
        },
    );
    let err = up
        .upload_file(oss::PutObjectRequest::new(emu.bucket(), "o"), &file.0)
        .unwrap_err();
    assert_eq!(err.operation(), "UploadPart");
    assert!(err.to_string().contains("aborting upload"), "{err}");
}

#[test]
fn a_wrong_complete_crc_says_the_object_exists_and_is_not_sent_again() {
    let (emu, client) = setup();
    let data = pattern(2 * KIB100 as usize);
    let file = TempFile::with("badcrc", &data);
    emu.inject_for(
        "CompleteMultipartUpload",
        None,
        Fault::WrongCrc { times: 1 },
    );
    let up = client.uploader().part_size(KIB100);
    let err = up
        .upload_file(oss::PutObjectRequest::new(emu.bucket(), "o"), &file.0)
        .unwrap_err();
    assert_eq!(err.kind(), oss::ErrorKind::CrcMismatch);
    assert_eq!(err.operation(), "CompleteMultipartUpload");
    assert!(err.to_string().contains("now exists"), "{err}");
    assert_eq!(count(&emu, "POST", "encoding-type"), 1);
    assert_eq!(count(&emu, "DELETE", ""), 0);
    assert!(emu.object(emu.bucket(), "o").is_some());
    // Streams are checked too (Python skips them, vector up-bad-crc-stream).
    emu.inject_for(
        "CompleteMultipartUpload",
        None,
        Fault::WrongCrc { times: 1 },
    );
    let err = up
        .upload_from(
            oss::PutObjectRequest::new(emu.bucket(), "s"),
            Cursor::new(data),
        )
        .unwrap_err();
    assert_eq!(err.kind(), oss::ErrorKind::CrcMismatch);
}

#[test]
fn bad_input_names_the_field_or_path_and_sends_nothing() {
    let (emu, client) = setup();
    let file = TempFile::with("bad", b"x");
    let req = || oss::PutObjectRequest::new(emu.bucket(), "o");
    let cases = [
        (
            client
                .uploader()
                .part_size(KIB100 - 1)
                .upload_file(req(), &file.0),
            "part_size",
        ),
        (
            client
                .uploader()
                .part_size(6 << 30)
                .upload_file(req(), &file.0),
            "part_size",
        ),
        (
            client.uploader().parallel(0).upload_file(req(), &file.0),
            "parallel",
        ),
        (
            client
                .uploader()
                .parallel(101)
                .upload_from(req(), std::io::empty()),
            "parallel",
        ),
        (
            client.uploader().upload_file(req(), std::env::temp_dir()),
            "not a regular file",
        ),
        (
            client.uploader().upload_file(req(), "/no/such/file"),
            "/no/such/file",
        ),
    ];
    for (result, needle) in cases {
        let err = result.unwrap_err();
        assert!(err.to_string().contains(needle), "{needle}: {err}");
    }
    let big = TempFile::with("md5", &pattern(KIB100 as usize));
    let err = client
        .uploader()
        .part_size(KIB100)
        .upload_file(req().content_md5("1B2M2Y8AsgTpgAmY7PhCfg=="), &big.0)
        .unwrap_err();
    assert!(err.to_string().contains("content_md5"), "{err}");
    assert_eq!(emu.request_count(), 0);
}

#[test]
fn threads_sharing_a_client_reuse_its_connections() {
    let (emu, client) = setup();
    std::thread::scope(|scope| {
        for t in 0..8 {
            let client = &client;
            let bucket = emu.bucket();
            scope.spawn(move || {
                for i in 0..50 {
                    client
                        .put_object(
                            oss::PutObjectRequest::new(bucket, format!("{t}/{i}")).body("x"),
                        )
                        .unwrap();
                }
            });
        }
    });
    // ureq's default pool (3 idle per host) opened 17 for 2000 puts.
    assert!(
        emu.connections_accepted() <= 8,
        "{}",
        emu.connections_accepted()
    );
    let data = pattern(16 * KIB100 as usize);
    let file = TempFile::with("conns", &data);
    let (emu, client) = setup();
    client
        .uploader()
        .part_size(KIB100)
        .parallel(8)
        .upload_file(oss::PutObjectRequest::new(emu.bucket(), "o"), &file.0)
        .unwrap();
    assert!(
        emu.connections_accepted() <= 8,
        "{}",
        emu.connections_accepted()
    );
}

/// A callback server on 127.0.0.1 that answers one POST with `{"Status":"OK"}` and hands back
/// the body it received.
fn callback_server() -> (String, std::thread::JoinHandle<String>) {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/cb", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        let body = loop {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "the callback request ended early");
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if body.len() >= len {
                    break body.to_string();
                }
            }
        };
        let answer = "{\"Status\":\"OK\"}";
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
            answer.len()
        )
        .unwrap();
        body
    });
    (url, handle)
}

#[test]
fn a_callback_goes_on_complete_and_its_answer_is_returned() {
    let (emu, client) = setup();
    let data = pattern(2 * KIB100 as usize);
    let file = TempFile::with("cb", &data);
    let (url, server) = callback_server();
    let callback = oss::Callback::new(url, "object=${object}&size=${size}&etag=${etag}");
    let up = client.uploader().part_size(KIB100);
    let r = up
        .upload_file(
            oss::PutObjectRequest::new(emu.bucket(), "cb.bin").upload_callback(&callback),
            &file.0,
        )
        .unwrap();
    assert_eq!(r.callback_result.as_deref(), Some("{\"Status\":\"OK\"}"));
    let posted = server.join().unwrap();
    assert!(
        posted.contains("object=cb.bin") && posted.contains(&format!("size={}", data.len())),
        "{posted}"
    );
    let init = emu
        .requests()
        .into_iter()
        .find(|q| q.query.starts_with("uploads"))
        .unwrap();
    assert_eq!(
        init.header("x-oss-callback"),
        None,
        "the callback goes on Complete only"
    );
    // A failed callback: the object exists, nothing is aborted.
    let unreachable = oss::Callback::new("http://127.0.0.1:9/", "object=${object}");
    let err = up
        .upload_file(
            oss::PutObjectRequest::new(emu.bucket(), "cb2.bin").upload_callback(&unreachable),
            &file.0,
        )
        .unwrap_err();
    assert!(err.object_stored(), "{err}");
    assert_eq!(err.operation(), "CompleteMultipartUpload");
    assert!(!err.to_string().contains("abort"), "{err}");
    assert_eq!(emu.object(emu.bucket(), "cb2.bin").unwrap().data, data);
}

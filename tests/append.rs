#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not tests
//! AppendObject and AppendFile against the emulator: positions, whole-object CRC-64, lost
//! answers, reopening, object types, and V1 signing.

mod common;

use std::io::Write;

use common::{pattern, setup};
use oss_blocking as oss;
use oss_blocking::crc64::checksum;
use oss_blocking::emulator::Fault;

#[test]
fn appends_of_0_1_and_5_mib_build_the_object_and_its_crc() {
    let (emu, client) = setup();
    let big = pattern(5 << 20);
    let mut expected = Vec::new();
    let mut position = 0;
    let mut crc = None;
    for chunk in [Vec::new(), vec![b'x'], big] {
        let mut req =
            oss::AppendObjectRequest::new(emu.bucket(), "obj", position).body(chunk.clone());
        if let Some(crc) = crc {
            req = req.init_crc64(crc);
        }
        let r = client.append_object(req).unwrap();
        expected.extend_from_slice(&chunk);
        assert_eq!(r.next_position, expected.len() as u64);
        assert_eq!(r.hash_crc64, Some(checksum(&expected)));
        assert!(!r.request_id.is_empty() && r.etag.is_some());
        position = r.next_position;
        crc = r.hash_crc64;
    }
    assert_eq!(emu.object(emu.bucket(), "obj").unwrap().data, expected);
    let h = client
        .head_object(oss::HeadObjectRequest::new(emu.bucket(), "obj"))
        .unwrap();
    assert_eq!(h.object_type.as_deref(), Some("Appendable"));
    assert_eq!(h.next_append_position, Some(expected.len() as u64));
    assert_eq!(h.content_length, expected.len() as u64);
}

#[test]
fn a_wrong_position_is_refused_with_the_next_position() {
    let (emu, client) = setup();
    client
        .append_object(oss::AppendObjectRequest::new(emu.bucket(), "k", 0).body("abc"))
        .unwrap();
    let err = client
        .append_object(oss::AppendObjectRequest::new(emu.bucket(), "k", 1).body("d"))
        .unwrap_err();
    let service = err.service_error().unwrap();
    assert_eq!(
        (service.status_code(), service.code()),
        (409, "PositionNotEqualToLength")
    );
    assert_eq!(service.header("x-oss-next-append-position"), Some("3"));
    assert_eq!(err.attempts(), 1);
    assert_eq!(emu.object(emu.bucket(), "k").unwrap().data, b"abc");
}

#[test]
fn a_normal_object_is_not_appendable() {
    let (emu, client) = setup();
    client
        .put_object(oss::PutObjectRequest::new(emu.bucket(), "normal").body("abc"))
        .unwrap();
    let err = client
        .append_object(oss::AppendObjectRequest::new(emu.bucket(), "normal", 3).body("d"))
        .unwrap_err();
    assert_eq!(err.service_error().unwrap().code(), "ObjectNotAppendable");
    let err = client.append_file(emu.bucket(), "normal").unwrap_err();
    assert_eq!(err.kind(), oss::ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("Normal object"), "{err}");
}

#[test]
fn an_append_whose_answer_was_lost_is_not_appended_twice() {
    let (emu, client) = setup();
    let first = client
        .append_object(oss::AppendObjectRequest::new(emu.bucket(), "log", 0).body("one\n"))
        .unwrap();
    emu.inject(Fault::AnswerLost { times: 1 });
    let r = client
        .append_object(
            oss::AppendObjectRequest::new(emu.bucket(), "log", first.next_position)
                .body("two\n")
                .init_crc64(first.hash_crc64.unwrap()),
        )
        .unwrap();
    assert_eq!(r.next_position, 8);
    assert_eq!(r.hash_crc64, Some(checksum(b"one\ntwo\n")));
    assert_eq!(emu.object(emu.bucket(), "log").unwrap().data, b"one\ntwo\n");
    // Without the previous CRC the client cannot tell, and says so with both positions.
    emu.inject(Fault::AnswerLost { times: 1 });
    let err = client
        .append_object(oss::AppendObjectRequest::new(emu.bucket(), "log", 8).body("three\n"))
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("position 8") && text.contains("length is 14"),
        "{text}"
    );
    assert!(text.contains("init_crc64"), "{text}");
}

#[test]
fn a_conflict_from_another_writer_after_a_retry_is_still_an_error() {
    let (emu, client) = setup();
    client
        .append_object(oss::AppendObjectRequest::new(emu.bucket(), "log", 0).body("abc"))
        .unwrap();
    // The first attempt's bytes are stored and its answer lost; the object then does not
    // match what this client expects (its previous CRC is another object's): the client must
    // not claim the stored bytes as its own.
    emu.inject(Fault::AnswerLost { times: 1 });
    let err = client
        .append_object(
            oss::AppendObjectRequest::new(emu.bucket(), "log", 3)
                .body("def")
                .init_crc64(checksum(b"xyz")),
        )
        .unwrap_err();
    assert!(err.to_string().contains("not this append's"), "{err}");
}

#[test]
fn a_wrong_crc_is_a_final_crc_mismatch() {
    let (emu, client) = setup();
    emu.inject(Fault::WrongCrc { times: 1 });
    let err = client
        .append_object(oss::AppendObjectRequest::new(emu.bucket(), "k", 0).body("abc"))
        .unwrap_err();
    assert_eq!(err.kind(), oss::ErrorKind::CrcMismatch);
    assert_eq!(err.attempts(), 1, "not retried: the bytes are stored");
}

#[test]
fn append_file_buffers_and_continues_across_a_reopen() {
    let (emu, client) = setup();
    let mut log = client
        .append_file(emu.bucket(), "app.log")
        .unwrap()
        .threshold(10);
    for i in 0..5 {
        writeln!(log, "line {i}").unwrap(); // 7 bytes each
    }
    assert!(log.buffered() < 10);
    let appended_so_far = log.position();
    assert!(
        appended_so_far >= 28,
        "threshold appends happened: {appended_so_far}"
    );
    let r = log.close().unwrap();
    assert_eq!(r.next_position, 35);
    let mut log = client.append_file(emu.bucket(), "app.log").unwrap();
    assert_eq!(log.position(), 35);
    log.write_all(b"after reopen\n").unwrap();
    log.flush().unwrap();
    drop(log); // nothing left to append
    let data = emu.object(emu.bucket(), "app.log").unwrap().data;
    let text = String::from_utf8(data).unwrap();
    assert_eq!(
        text,
        "line 0\nline 1\nline 2\nline 3\nline 4\nafter reopen\n"
    );
    // Drop appends what is buffered.
    let mut log = client.append_file(emu.bucket(), "app.log").unwrap();
    log.write_all(b"x").unwrap();
    drop(log);
    assert_eq!(emu.object(emu.bucket(), "app.log").unwrap().data.len(), 49);
}

#[test]
fn append_file_close_without_writes_creates_the_object() {
    let (emu, client) = setup();
    let r = client
        .append_file(emu.bucket(), "empty.log")
        .unwrap()
        .close()
        .unwrap();
    assert_eq!(r.next_position, 0);
    let h = client
        .head_object(oss::HeadObjectRequest::new(emu.bucket(), "empty.log"))
        .unwrap();
    assert_eq!(h.object_type.as_deref(), Some("Appendable"));
}

#[test]
fn appends_work_in_v1_mode() {
    let (emu, _) = setup();
    let client = oss::Client::new(emu.config().signature_version(oss::SignatureVersion::V1));
    let mut log = client.append_file(emu.bucket(), "v1.log").unwrap();
    writeln!(log, "signed with V1").unwrap();
    assert_eq!(
        log.close().unwrap().hash_crc64,
        Some(checksum(b"signed with V1\n"))
    );
    assert!(emu.requests().iter().all(|r| r
        .header("Authorization")
        .is_some_and(|a| a.starts_with("OSS "))));
}

#[test]
fn first_append_options_are_stored() {
    let (emu, client) = setup();
    client
        .append_object(
            oss::AppendObjectRequest::new(emu.bucket(), "o.txt", 0)
                .body("a")
                .acl(oss::ObjectAcl::PublicRead)
                .storage_class(oss::StorageClass::Ia)
                .metadata("Source", "app")
                .tagging("a=1"),
        )
        .unwrap();
    let stored = emu.object(emu.bucket(), "o.txt").unwrap();
    assert_eq!(stored.header("Content-Type"), Some("text/plain"));
    assert_eq!(stored.header("x-oss-meta-source"), Some("app"));
    assert_eq!(stored.header("x-oss-storage-class"), Some("IA"));
    let err = client
        .append_object(oss::AppendObjectRequest::new(emu.bucket(), "o.txt", 1).content_type(""))
        .unwrap_err();
    assert_eq!(err.kind(), oss::ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("content_type"), "{err}");
    assert_eq!(emu.requests().len(), 1, "nothing sent on bad input");
}

#[test]
fn append_file_memory_stays_within_its_threshold() {
    let (emu, client) = setup();
    let threshold = 64 * 1024;
    let mut log = client
        .append_file(emu.bucket(), "big.log")
        .unwrap()
        .threshold(threshold);
    let data = pattern(1 << 20);
    let mut rest = data.as_slice();
    let mut calls = 0;
    while !rest.is_empty() && calls < 1000 {
        let n = log.write(rest).unwrap();
        assert!(
            n > 0 && n <= threshold,
            "one write takes at most the threshold: {n}"
        );
        assert!(log.buffered() <= threshold);
        rest = &rest[n..];
        calls += 1;
    }
    assert!(rest.is_empty());
    let r = log.close().unwrap();
    assert_eq!(r.next_position, data.len() as u64);
    assert_eq!(r.hash_crc64, Some(checksum(&data)));
    let appends = emu.requests().iter().filter(|r| r.method == "POST").count();
    assert_eq!(appends, 16, "1 MiB in 64 KiB appends");
}

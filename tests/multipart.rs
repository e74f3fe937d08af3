#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not tests
//! The six multipart operations against the emulator: request shape, results, each error.

mod common;

use common::{pattern, setup};
use oss_blocking as oss;
use oss_blocking::emulator::Fault;

const KIB100: usize = 100 * 1024;

fn service_code(err: &oss::OperationError) -> (u16, String) {
    let s = err.service_error().expect("a service error");
    (s.status_code(), s.code().to_string())
}

#[test]
fn three_parts_make_the_object_with_the_combined_crc() {
    let (emu, client) = setup();
    let (b, k) = (emu.bucket(), "dir/big file+1.bin");
    let init = client
        .initiate_multipart_upload(
            oss::InitiateMultipartUploadRequest::new(b, k)
                .storage_class(oss::StorageClass::Ia)
                .metadata("Author", "alice")
                .forbid_overwrite(true),
        )
        .unwrap();
    assert_eq!(init.key, k, "decoded from encoding-type=url");
    let data = pattern(2 * KIB100 + 777);
    let chunks = [
        &data[..KIB100],
        &data[KIB100..2 * KIB100],
        &data[2 * KIB100..],
    ];
    let mut parts = Vec::new();
    // Sent out of order: Complete sorts.
    for n in [3u32, 1, 2] {
        let body = chunks[n as usize - 1].to_vec();
        let r = client
            .upload_part(oss::UploadPartRequest::new(b, k, &init.upload_id, n).body(body.clone()))
            .unwrap();
        assert_eq!(r.part_number, n);
        assert_eq!(r.hash_crc64, Some(oss::crc64::checksum(&body)));
        parts.push(oss::CompletedPart::new(n, r.etag));
    }
    let listed = client
        .list_parts(oss::ListPartsRequest::new(b, k, &init.upload_id))
        .unwrap();
    assert_eq!(
        listed
            .parts
            .iter()
            .map(|p| p.part_number)
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(listed.parts[2].size, 777);
    let done = client
        .complete_multipart_upload(
            oss::CompleteMultipartUploadRequest::new(b, k, &init.upload_id)
                .parts(parts)
                .acl(oss::ObjectAcl::PublicRead),
        )
        .unwrap();
    assert_eq!(done.hash_crc64, Some(oss::crc64::checksum(&data)));
    assert!(done.etag.as_deref().unwrap().ends_with("-3\""));
    assert_eq!(done.key, k);
    let stored = emu.object(b, k).unwrap();
    assert_eq!(stored.data, data);
    assert_eq!(stored.header("x-oss-storage-class"), Some("IA"));
    assert_eq!(stored.header("x-oss-meta-author"), Some("alice"));
    assert_eq!(stored.header("x-oss-object-acl"), Some("public-read"));
    assert_eq!(emu.open_uploads(), 0);

    // The wire: Initiate asked for uploads + encoding-type=url with the empty body's MD5.
    let reqs = emu.requests();
    let first = &reqs[0];
    assert_eq!(first.method, "POST");
    assert_eq!(first.query, "uploads=&encoding-type=url");
    assert_eq!(
        first.header("Content-MD5"),
        Some("1B2M2Y8AsgTpgAmY7PhCfg==")
    );
    let complete = reqs
        .iter()
        .find(|r| r.method == "POST" && r.query.starts_with("encoding-type"))
        .unwrap();
    assert!(complete.header("Content-MD5").is_some());
    assert_eq!(complete.header("x-oss-object-acl"), Some("public-read"));

    // Completed: the id is gone.
    let err = client
        .abort_multipart_upload(oss::AbortMultipartUploadRequest::new(b, k, &init.upload_id))
        .unwrap_err();
    assert_eq!(service_code(&err), (404, "NoSuchUpload".into()));
}

#[test]
fn server_errors_reach_the_caller_typed() {
    let (emu, client) = setup();
    let (b, k) = (emu.bucket(), "k");
    let init = client
        .initiate_multipart_upload(oss::InitiateMultipartUploadRequest::new(b, k))
        .unwrap();
    let id = init.upload_id.as_str();
    let small = client
        .upload_part(oss::UploadPartRequest::new(b, k, id, 1).body("tiny"))
        .unwrap();
    let last = client
        .upload_part(oss::UploadPartRequest::new(b, k, id, 2).body("end"))
        .unwrap();
    let complete = |req: oss::CompleteMultipartUploadRequest| {
        client.complete_multipart_upload(req).unwrap_err()
    };
    let base = || oss::CompleteMultipartUploadRequest::new(b, k, id);
    let err = complete(base().part(1, &small.etag).part(2, &last.etag));
    assert_eq!(service_code(&err), (400, "EntityTooSmall".into()));
    let err = complete(base().part(1, "\"0000\""));
    assert_eq!(service_code(&err), (400, "InvalidPart".into()));
    // The client sorts, so InvalidPartOrder needs a raw body: complete_all on top of parts is
    // refused locally instead, and nothing is sent.
    let before = emu.request_count();
    let err = client
        .complete_multipart_upload(base().part(1, &small.etag).complete_all(true))
        .unwrap_err();
    assert_eq!(err.kind(), oss::ErrorKind::InvalidArgument);
    assert_eq!(emu.request_count(), before);
    let err = client
        .upload_part(oss::UploadPartRequest::new(b, k, "no-such-id", 1).body("x"))
        .unwrap_err();
    assert_eq!(service_code(&err), (404, "NoSuchUpload".into()));
    let err = client
        .list_parts(oss::ListPartsRequest::new(b, k, "no-such-id"))
        .unwrap_err();
    assert_eq!(service_code(&err), (404, "NoSuchUpload".into()));
    // Local checks: nothing sent.
    let before = emu.request_count();
    for err in [
        client
            .upload_part(oss::UploadPartRequest::new(b, k, id, 0))
            .unwrap_err(),
        client
            .upload_part(oss::UploadPartRequest::new(b, k, "", 1))
            .unwrap_err(),
        client
            .list_parts(oss::ListPartsRequest::new(b, k, id).max_parts(0))
            .unwrap_err(),
    ] {
        assert_eq!(err.kind(), oss::ErrorKind::InvalidArgument, "{err}");
    }
    assert_eq!(emu.request_count(), before);
    // complete_all completes from what OSS holds; part 1 is too small but is the... only
    // when alone: abort instead, which succeeds with 204.
    let aborted = client
        .abort_multipart_upload(oss::AbortMultipartUploadRequest::new(b, k, id))
        .unwrap();
    assert_eq!(aborted.status_code, 204);
    assert_eq!(emu.open_uploads(), 0);
}

#[test]
fn complete_all_and_forbid_overwrite_at_complete() {
    let (emu, client) = setup();
    let (b, k) = (emu.bucket(), "k");
    client
        .put_object(oss::PutObjectRequest::new(b, k).body("old"))
        .unwrap();
    let init = client
        .initiate_multipart_upload(oss::InitiateMultipartUploadRequest::new(b, k))
        .unwrap();
    client
        .upload_part(oss::UploadPartRequest::new(b, k, &init.upload_id, 1).body("new"))
        .unwrap();
    let err = client
        .complete_multipart_upload(
            oss::CompleteMultipartUploadRequest::new(b, k, &init.upload_id)
                .complete_all(true)
                .forbid_overwrite(true),
        )
        .unwrap_err();
    assert_eq!(service_code(&err), (409, "FileAlreadyExists".into()));
    let done = client
        .complete_multipart_upload(
            oss::CompleteMultipartUploadRequest::new(b, k, &init.upload_id).complete_all(true),
        )
        .unwrap();
    assert_eq!(done.hash_crc64, Some(oss::crc64::checksum(b"new")));
    assert_eq!(emu.object(b, k).unwrap().data, b"new");
    let complete = emu.requests().into_iter().last().unwrap();
    assert_eq!(complete.header("x-oss-complete-all"), Some("yes"));
    assert_eq!(complete.body_len, 0);
}

#[test]
fn list_parts_and_uploads_paginate() {
    let (emu, client) = setup();
    let b = emu.bucket();
    let init = client
        .initiate_multipart_upload(oss::InitiateMultipartUploadRequest::new(b, "backups/a"))
        .unwrap();
    for n in 1..=5 {
        client
            .upload_part(oss::UploadPartRequest::new(b, "backups/a", &init.upload_id, n).body("x"))
            .unwrap();
    }
    let mut marker = 0;
    let mut seen = Vec::new();
    for _ in 0..10 {
        let page = client
            .list_parts(
                oss::ListPartsRequest::new(b, "backups/a", &init.upload_id)
                    .max_parts(2)
                    .part_number_marker(marker),
            )
            .unwrap();
        seen.extend(page.parts.iter().map(|p| p.part_number));
        if !page.is_truncated {
            break;
        }
        marker = page.next_part_number_marker;
    }
    assert_eq!(seen, [1, 2, 3, 4, 5]);
    client
        .initiate_multipart_upload(oss::InitiateMultipartUploadRequest::new(b, "other"))
        .unwrap();
    let open = client
        .list_multipart_uploads(oss::ListMultipartUploadsRequest::new(b).prefix("backups/"))
        .unwrap();
    assert_eq!(open.uploads.len(), 1);
    assert_eq!(open.uploads[0].upload_id, init.upload_id);
    assert!(open.uploads[0]
        .initiated
        .as_deref()
        .unwrap()
        .ends_with(".000Z"));
    let all = client
        .list_multipart_uploads(oss::ListMultipartUploadsRequest::new(b).max_uploads(1))
        .unwrap();
    assert!(all.is_truncated);
    assert_eq!(all.next_key_marker, "backups/a");
}

#[test]
fn faults_aimed_at_one_part_are_retried_or_reported() {
    let (emu, client) = setup();
    let (b, k) = (emu.bucket(), "k");
    let init = client
        .initiate_multipart_upload(oss::InitiateMultipartUploadRequest::new(b, k))
        .unwrap();
    let id = init.upload_id.as_str();
    emu.inject_for(
        "UploadPart",
        Some(3),
        Fault::ErrorStatus {
            status: 503,
            code: "ServiceUnavailable".into(),
            times: 1,
        },
    );
    emu.inject_for("UploadPart", Some(2), Fault::WrongCrc { times: 1 });
    emu.inject_for(
        "UploadPart",
        Some(4),
        Fault::ResetAfter {
            bytes: 1000,
            times: 1,
        },
    );
    for n in 1..=4 {
        let r = client
            .upload_part(oss::UploadPartRequest::new(b, k, id, n).body(pattern(5000)))
            .unwrap();
        let expected = if n == 1 { 1 } else { 2 };
        let attempts = emu
            .requests()
            .iter()
            .filter(|q| q.query.starts_with(&format!("partNumber={n}&")))
            .count();
        assert_eq!(attempts, expected, "part {n}");
        assert_eq!(r.hash_crc64, Some(oss::crc64::checksum(&pattern(5000))));
    }
    emu.inject_for("UploadPart", Some(5), Fault::WrongCrc { times: 10 });
    let err = client
        .upload_part(oss::UploadPartRequest::new(b, k, id, 5).body("x"))
        .unwrap_err();
    assert_eq!(err.kind(), oss::ErrorKind::CrcMismatch);
    assert_eq!(err.operation(), "UploadPart");
}

#[test]
fn length_only_mode_keeps_lengths_and_crcs() {
    let emu = oss::emulator::Emulator::builder()
        .length_only(true)
        .start()
        .unwrap();
    let client = oss::Client::new(emu.config());
    let (b, k) = (emu.bucket(), "k");
    let init = client
        .initiate_multipart_upload(oss::InitiateMultipartUploadRequest::new(b, k))
        .unwrap();
    let data = pattern(KIB100 + 10);
    let p1 = client
        .upload_part(
            oss::UploadPartRequest::new(b, k, &init.upload_id, 1).body(data[..KIB100].to_vec()),
        )
        .unwrap();
    let p2 = client
        .upload_part(
            oss::UploadPartRequest::new(b, k, &init.upload_id, 2).body(data[KIB100..].to_vec()),
        )
        .unwrap();
    let done = client
        .complete_multipart_upload(
            oss::CompleteMultipartUploadRequest::new(b, k, &init.upload_id)
                .part(1, &p1.etag)
                .part(2, &p2.etag),
        )
        .unwrap();
    let crc = oss::crc64::checksum(&data);
    assert_eq!(done.hash_crc64, Some(crc));
    assert_eq!(
        emu.object_len_and_crc64(b, k),
        Some((data.len() as u64, crc))
    );
    assert!(emu.object(b, k).unwrap().data.is_empty());
}

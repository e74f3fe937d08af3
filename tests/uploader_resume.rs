#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not tests
//! Resumable uploads: checkpoints after a failure, stale, corrupt and dangling ones.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use common::{pattern, setup};
use oss_blocking as oss;
use oss_blocking::emulator::{Emulator, Fault};

const KIB100: usize = 100 * 1024;

/// A fresh directory with the file to upload and room for checkpoints; removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!("oss-resume-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("cp")).unwrap();
        Dir(dir)
    }
    fn file(&self) -> PathBuf {
        self.0.join("data.bin")
    }
    fn cp(&self) -> PathBuf {
        self.0.join("cp")
    }
    fn checkpoints(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.cp())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn parts_sent(emu: &Emulator) -> usize {
    emu.requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.query.starts_with("partNumber="))
        .count()
}

/// Uploads `dir`'s file (6 parts) with part 4 refused (403): parts 1-3 reach OSS first.
fn failed_first_run(emu: &Emulator, client: &oss::Client, dir: &Dir) -> oss::OperationError {
    emu.inject_for(
        "UploadPart",
        Some(4),
        Fault::ErrorStatus {
            status: 403,
            code: "AccessDenied".into(),
            times: 1,
        },
    );
    let err = uploader(client, dir)
        .upload_file(request(emu), dir.file())
        .unwrap_err();
    assert_eq!(err.operation(), "UploadPart");
    assert_eq!(emu.open_uploads(), 1, "parts stay for the next run");
    assert_eq!(dir.checkpoints().len(), 1);
    err
}

fn uploader(client: &oss::Client, dir: &Dir) -> oss::Uploader {
    client
        .uploader()
        .part_size(KIB100 as u64)
        .parallel(1)
        .checkpoint_dir(dir.cp())
}

fn request(emu: &Emulator) -> oss::PutObjectRequest {
    oss::PutObjectRequest::new(emu.bucket(), "big.bin")
}

fn touch(path: &Path, when: SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(when)
        .unwrap();
}

#[test]
fn a_second_run_sends_only_the_missing_parts() {
    let (emu, client) = setup();
    let dir = Dir::new("resume");
    let data = pattern(5 * KIB100 + 123);
    std::fs::write(dir.file(), &data).unwrap();
    let err = failed_first_run(&emu, &client, &dir);
    let first_id = err.upload_id().unwrap().to_string();
    let before = parts_sent(&emu);
    assert_eq!(before, 4);
    let calls = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = calls.clone();
    let r = uploader(&client, &dir)
        .upload_file(
            request(&emu).progress_fn(move |d, s, t| seen.lock().unwrap().push((d, s, t))),
            dir.file(),
        )
        .unwrap();
    assert_eq!(parts_sent(&emu) - before, 3, "parts 4, 5 and 6 only");
    assert_eq!(r.upload_id.as_deref(), Some(first_id.as_str()));
    assert_eq!(r.parts, 6);
    assert!(
        r.notes.iter().any(|n| n.contains("3 parts were already")),
        "{:?}",
        r.notes
    );
    assert_eq!(r.hash_crc64, Some(oss::crc64::checksum(&data)));
    assert_eq!(emu.object(emu.bucket(), "big.bin").unwrap().data, data);
    assert!(dir.checkpoints().is_empty(), "removed on success");
    let calls = calls.lock().unwrap();
    assert_eq!(
        calls[0].1,
        3 * KIB100 as u64,
        "resumed bytes reported once, first"
    );
    assert_eq!(calls.last().unwrap().1, data.len() as u64);
}

#[test]
fn a_part_whose_bytes_changed_is_uploaded_again() {
    let (emu, client) = setup();
    let dir = Dir::new("changed");
    let mut data = pattern(5 * KIB100);
    std::fs::write(dir.file(), &data).unwrap();
    failed_first_run(&emu, &client, &dir);
    // Same size and mtime, other bytes in part 2: only its CRC-64 can tell.
    let mtime = std::fs::metadata(dir.file()).unwrap().modified().unwrap();
    data[KIB100 + 5] ^= 0xFF;
    std::fs::write(dir.file(), &data).unwrap();
    touch(&dir.file(), mtime);
    let before = parts_sent(&emu);
    uploader(&client, &dir)
        .upload_file(request(&emu), dir.file())
        .unwrap();
    assert_eq!(
        parts_sent(&emu) - before,
        3,
        "part 2 again, then parts 4 and 5"
    );
    assert_eq!(emu.object(emu.bucket(), "big.bin").unwrap().data, data);
}

#[test]
fn a_stale_checkpoint_starts_over_and_aborts_its_upload() {
    let (emu, client) = setup();
    let dir = Dir::new("stale");
    std::fs::write(dir.file(), pattern(5 * KIB100)).unwrap();
    let err = failed_first_run(&emu, &client, &dir);
    touch(&dir.file(), SystemTime::now() + Duration::from_secs(5));
    let before = parts_sent(&emu);
    let r = uploader(&client, &dir)
        .upload_file(request(&emu), dir.file())
        .unwrap();
    assert_eq!(parts_sent(&emu) - before, 5);
    assert_ne!(r.upload_id.as_deref(), err.upload_id());
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("stale") && n.contains("aborted")),
        "{:?}",
        r.notes
    );
    assert_eq!(emu.open_uploads(), 0, "the old upload was aborted");
    // Another part size makes it stale too.
    let err = failed_first_run(&emu, &client, &dir);
    let r = uploader(&client, &dir)
        .part_size(2 * KIB100 as u64)
        .upload_file(request(&emu), dir.file())
        .unwrap();
    assert_ne!(r.upload_id.as_deref(), err.upload_id());
    assert_eq!(emu.open_uploads(), 0);
}

#[test]
fn a_corrupt_checkpoint_starts_over() {
    let (emu, client) = setup();
    let dir = Dir::new("corrupt");
    let data = pattern(5 * KIB100);
    std::fs::write(dir.file(), &data).unwrap();
    failed_first_run(&emu, &client, &dir);
    let cp = dir.checkpoints().remove(0);
    std::fs::write(&cp, b"{\"format\": not json").unwrap();
    let before = parts_sent(&emu);
    let r = uploader(&client, &dir)
        .upload_file(request(&emu), dir.file())
        .unwrap();
    assert_eq!(parts_sent(&emu) - before, 5);
    assert!(
        r.notes.iter().any(|n| n.contains("unreadable")),
        "{:?}",
        r.notes
    );
    assert_eq!(emu.object(emu.bucket(), "big.bin").unwrap().data, data);
}

#[test]
fn a_checkpoint_of_an_upload_oss_no_longer_has_starts_over_once() {
    let (emu, client) = setup();
    let dir = Dir::new("gone");
    let data = pattern(5 * KIB100);
    std::fs::write(dir.file(), &data).unwrap();
    let err = failed_first_run(&emu, &client, &dir);
    client
        .abort_multipart_upload(oss::AbortMultipartUploadRequest::new(
            emu.bucket(),
            "big.bin",
            err.upload_id().unwrap(),
        ))
        .unwrap();
    let r = uploader(&client, &dir)
        .upload_file(request(&emu), dir.file())
        .unwrap();
    assert!(
        r.notes.iter().any(|n| n.contains("no longer on OSS")),
        "{:?}",
        r.notes
    );
    let list_parts = emu.requests().iter().filter(|q| q.method == "GET").count();
    assert_eq!(list_parts, 1, "never loops on it");
    assert_eq!(emu.object(emu.bucket(), "big.bin").unwrap().data, data);
}

#[test]
fn the_checkpoint_directory_must_exist_and_holds_no_secrets() {
    let (emu, client) = setup();
    let dir = Dir::new("nodir");
    std::fs::write(dir.file(), pattern(2 * KIB100)).unwrap();
    let err = client
        .uploader()
        .part_size(KIB100 as u64)
        .checkpoint_dir(dir.0.join("missing"))
        .upload_file(request(&emu), dir.file())
        .unwrap_err();
    assert!(err.to_string().contains("checkpoint_dir"), "{err}");
    assert_eq!(emu.request_count(), 0);
    let dir2 = Dir::new("secrets");
    std::fs::write(dir2.file(), pattern(5 * KIB100)).unwrap();
    failed_first_run(&emu, &client, &dir2);
    let text = std::fs::read_to_string(&dir2.checkpoints()[0]).unwrap();
    assert!(!text.contains(oss::emulator::DEFAULT_ACCESS_KEY_SECRET));
    assert!(!text.contains(oss::emulator::DEFAULT_ACCESS_KEY_ID));
    assert!(text.contains("\"parts\""));
}

#[test]
fn a_run_that_dies_mid_part_is_resumed_by_the_same_call() {
    let (emu, client) = setup();
    let dir = Dir::new("crash");
    let data = pattern(6 * KIB100);
    std::fs::write(dir.file(), &data).unwrap();
    // The "crash": a panic inside part 3's transfer, with nothing after it (no abort, no
    // checkpoint removal), as if the process were killed there.
    let crashed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = uploader(&client, &dir).upload_file(
            request(&emu).progress_fn(|_, sent, _| {
                if sent > 2 * KIB100 as u64 + 5000 {
                    panic!("killed");
                }
            }),
            dir.file(),
        );
    }));
    assert!(crashed.is_err());
    assert_eq!(dir.checkpoints().len(), 1);
    let before = parts_sent(&emu);
    let r = uploader(&client, &dir)
        .upload_file(request(&emu), dir.file())
        .unwrap();
    assert_eq!(parts_sent(&emu) - before, 4, "parts 3 to 6");
    assert_eq!(r.parts, 6);
    assert_eq!(emu.object(emu.bucket(), "big.bin").unwrap().data, data);
    assert_eq!(emu.open_uploads(), 0);
}

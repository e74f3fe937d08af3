#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not tests
//! A 6 GiB sparse file through `upload_file`, against the emulator's length-only mode (it
//! keeps sizes, CRC-64s and MD5s, not bytes), so an object over PutObject's 5 GiB limit is
//! tested in CI with little memory and no disk.

use oss_blocking as oss;

const GIB: u64 = 1024 * 1024 * 1024;

#[test]
fn a_6_gib_sparse_file_goes_in_parts_with_the_right_crc() {
    let emu = oss::emulator::Emulator::builder()
        .length_only(true)
        .start()
        .unwrap();
    let client = oss::Client::new(emu.config());
    let path = std::env::temp_dir().join(format!("oss-sparse-6gib-{}", std::process::id()));
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(6 * GIB).unwrap(); // a hole: no disk blocks, reads as zeros
    drop(file);
    let started = std::time::Instant::now();
    let result = client
        .uploader()
        .part_size(GIB)
        .parallel(2)
        .upload_file(oss::PutObjectRequest::new(emu.bucket(), "huge.bin"), &path);
    let _ = std::fs::remove_file(&path);
    let result = result.unwrap();
    eprintln!("6 GiB sparse upload_file: {:?}", started.elapsed());
    assert_eq!(result.parts, 6);
    // The CRC-64 of 6 GiB of zeros, from 1 GiB of zeros combined six times.
    let zeros = vec![0u8; 1 << 20];
    let mib = oss::crc64::checksum(&zeros);
    let gib = (1..1024).fold(mib, |acc, _| oss::crc64::combine(acc, mib, 1 << 20));
    let whole = (1..6).fold(gib, |acc, _| oss::crc64::combine(acc, gib, GIB));
    assert_eq!(result.hash_crc64, Some(whole));
    assert_eq!(
        emu.object_len_and_crc64(emu.bucket(), "huge.bin"),
        Some((6 * GIB, whole))
    );
}

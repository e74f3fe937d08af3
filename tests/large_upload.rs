//! Correctness at size: a 256 MiB file goes through `put_object_from_file` and the CRC-64 the
//! emulator stored is the CRC of the file. No timing here (see `examples/bench.rs`).
//!
//! The test's own memory stays small: the file is written in 1 MiB chunks while its CRC is
//! computed, and the check reads the emulator's stored size and CRC instead of copying the
//! object back.
#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not tests

use std::io::Write;

use oss::emulator::Emulator;
use oss::{Client, PutObjectRequest};
use oss_blocking as oss;

const SIZE: usize = 256 << 20;
const CHUNK: usize = 1 << 20;

/// xorshift64*: random-looking bytes (no period a CRC bug could hide behind), no dependency.
struct Rng(u64);
impl Rng {
    fn fill(&mut self, buf: &mut [u8]) {
        for word in buf.chunks_mut(8) {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let v = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
            word.copy_from_slice(&v[..word.len()]);
        }
    }
}

#[test]
fn a_256_mib_file_is_stored_with_the_crc_of_its_bytes() {
    let dir = std::env::temp_dir().join(format!("oss-blocking-large-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("256mib.bin");

    // The CRC of the file as it is written, by the crate's default engine. The emulator
    // computes its own with the `crc` crate's table, so the comparison is engine vs engine.
    let mut expected = oss::crc64::Crc64::new();
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let mut rng = Rng(0x0005_EED0_FB16_F11E);
        let mut chunk = vec![0u8; CHUNK];
        for _ in 0..SIZE / CHUNK {
            rng.fill(&mut chunk);
            expected.update(&chunk);
            file.write_all(&chunk).unwrap();
        }
        file.flush().unwrap();
    }
    let expected = expected.value();

    let emu = Emulator::start().unwrap();
    let client = Client::new(emu.config());
    let last = std::sync::Arc::new(std::sync::Mutex::new((0u64, None)));
    let seen = last.clone();
    let request = PutObjectRequest::new(emu.bucket(), "big/256mib.bin")
        .progress_fn(move |_, sent, total| *seen.lock().unwrap() = (sent, total));
    let result = client.put_object_from_file(request, &path);
    std::fs::remove_dir_all(&dir).unwrap();
    let result = result.unwrap();

    assert_eq!(result.status_code, 200);
    assert_eq!(
        result.hash_crc64,
        Some(expected),
        "the CRC OSS answered (already checked by the client against what it sent)"
    );
    assert_eq!(
        emu.object_len_and_crc64(emu.bucket(), "big/256mib.bin"),
        Some((SIZE as u64, expected)),
        "the emulator stored every byte, and their CRC is the file's"
    );
    assert_eq!(emu.request_count(), 1, "one request, no retry");
    assert_eq!(
        *last.lock().unwrap(),
        (SIZE as u64, Some(SIZE as u64)),
        "progress ends at the file size"
    );
}

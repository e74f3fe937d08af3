//! An upload's memory does not grow with the file: `put_object_from_file` streams the file
//! through one fixed buffer. Counted with a global allocator that records the bytes allocated
//! by the uploading thread only (the emulator, on its own threads, stores the object in memory
//! and is not counted). No timing here.
#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not tests

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use oss::emulator::Emulator;
use oss::{Client, PutObjectRequest};
use oss_blocking as oss;

struct CountingOnThisThread;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}
static BYTES: AtomicU64 = AtomicU64::new(0);

fn counting() -> bool {
    COUNTING.try_with(Cell::get).unwrap_or(false)
}

unsafe impl GlobalAlloc for CountingOnThisThread {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if counting() {
            BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if counting() {
            BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingOnThisThread = CountingOnThisThread;

/// Bytes allocated by this thread while `f` runs.
fn allocated_by<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = BYTES.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    let out = f();
    COUNTING.with(|c| c.set(false));
    (out, BYTES.load(Ordering::Relaxed) - before)
}

fn write_file(path: &std::path::Path, len: usize) {
    let mut file = std::fs::File::create(path).unwrap();
    let chunk: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len());
        file.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
}

#[test]
fn uploading_16_mib_allocates_no_more_than_uploading_1_mib() {
    let dir = std::env::temp_dir().join(format!("oss-blocking-mem-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let small = dir.join("1mib.bin");
    let big = dir.join("16mib.bin");
    write_file(&small, 1 << 20);
    write_file(&big, 16 << 20);

    let emu = Emulator::start().unwrap();
    let client = Client::new(emu.config());
    // The first request opens the pooled connection and allocates its buffers; the uploads
    // below reuse both, so what they allocate is per upload.
    client
        .put_object(PutObjectRequest::new(emu.bucket(), "warm-up").body("x"))
        .unwrap();

    let upload = |path: &std::path::Path, key: &str| {
        allocated_by(|| client.put_object_from_file(PutObjectRequest::new(emu.bucket(), key), path))
    };
    let (small_result, small_bytes) = upload(&small, "1mib.bin");
    let (big_result, big_bytes) = upload(&big, "16mib.bin");
    std::fs::remove_dir_all(&dir).unwrap();
    small_result.unwrap();
    big_result.unwrap();

    assert_eq!(
        emu.object_len_and_crc64(emu.bucket(), "16mib.bin")
            .map(|(len, _)| len),
        Some(16 << 20)
    );
    // Headers differ by a few digits (length, CRC), hence a little slack; a buffer that
    // grew with the body would be megabytes.
    assert!(
        big_bytes <= small_bytes + 4096,
        "16 MiB upload allocated {big_bytes} bytes, 1 MiB upload {small_bytes}"
    );
    assert!(
        big_bytes < 256 * 1024,
        "an upload allocated {big_bytes} bytes: more than request and response bookkeeping"
    );
}

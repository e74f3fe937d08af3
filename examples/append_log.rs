//! Append lines to a log object as they come, printing each position and CRC-64, then keep
//! writing through `AppendFile` (a `std::io::Write`) after reopening it.
//!
//!     cargo run --example append_log
//!
//! Runs against the built-in emulator unless credentials are in the environment.

mod common;

use std::io::Write;

use oss_blocking as oss;

fn main() -> std::process::ExitCode {
    common::main_with(run)
}

fn run() -> Result<(), String> {
    let target = common::target()?;
    let key = format!("logs/app-{}.log", std::process::id());
    let client = &target.client;

    // One AppendObject per line: each answer gives the next position and the CRC-64 of the
    // whole object, which the client checks against the previous CRC and the bytes it sent.
    let mut position = 0;
    let mut crc = 0;
    for line in [
        "service started\n",
        "request handled\n",
        "service stopped\n",
    ] {
        let result = client
            .append_object(
                oss::AppendObjectRequest::new(&target.bucket, &key, position)
                    .body(line)
                    .init_crc64(crc),
            )
            .map_err(|e| format!("append failed: {e:#}"))?;
        position = result.next_position;
        crc = result.hash_crc64.unwrap_or_default();
        println!(
            "appended {:>2} bytes: next position {position}, crc64 {crc}",
            line.len()
        );
    }

    // AppendFile continues where the object ends (HeadObject gives its length and CRC) and
    // buffers writes, appending on flush, at the threshold and on close.
    let mut log = client
        .append_file(&target.bucket, &key)
        .map_err(|e| format!("cannot open the log: {e:#}"))?;
    println!("reopened at position {}", log.position());
    for i in 1..=3 {
        writeln!(log, "buffered line {i}").map_err(|e| format!("write failed: {e}"))?;
    }
    let last = log.close().map_err(|e| format!("close failed: {e:#}"))?;
    println!(
        "closed: next position {}, crc64 {}",
        last.next_position,
        last.hash_crc64.unwrap_or_default()
    );
    let head = client
        .head_object(oss::HeadObjectRequest::new(&target.bucket, &key))
        .map_err(|e| format!("head failed: {e:#}"))?;
    println!(
        "stored: {} bytes, type {}, next append position {}",
        head.content_length,
        head.object_type.as_deref().unwrap_or("-"),
        head.next_append_position.unwrap_or_default()
    );
    Ok(())
}

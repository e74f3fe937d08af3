//! Upload bytes ("Simple upload": upload a byte array).
//!
//!     cargo run --example put_bytes
//!
//! Runs against the built-in emulator unless credentials are in the environment.

mod common;

use oss_blocking as oss;

fn main() -> std::process::ExitCode {
    common::main_with(run)
}

fn run() -> Result<(), String> {
    let target = common::target()?;
    let data: Vec<u8> = b"hello world".to_vec();
    let result = target
        .client
        .put_object(oss::PutObjectRequest::new(&target.bucket, "exampleobject.bin").body(data))
        .map_err(|e| format!("upload failed: {e:#}"))?;
    common::print_result(&result);
    Ok(())
}

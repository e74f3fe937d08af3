//! Upload a string ("Simple upload": upload a string).
//!
//!     cargo run --example put_string
//!
//! Runs against the built-in emulator unless credentials are in the environment.

mod common;

use oss_blocking as oss;

fn main() -> std::process::ExitCode {
    common::main_with(run)
}

fn run() -> Result<(), String> {
    let target = common::target()?;
    let text = "Hello, OSS!";
    let result = target
        .client
        .put_object(oss::PutObjectRequest::new(&target.bucket, "exampleobject.txt").body(text))
        .map_err(|e| format!("upload failed: {e:#}"))?;
    common::print_result(&result);
    common::show_stored(&target, "exampleobject.txt");
    Ok(())
}

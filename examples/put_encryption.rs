//! Upload with server-side encryption ("Simple upload": common options, encryption).
//!
//!     cargo run --example put_encryption [-- AES256|KMS|SM4]
//!
//! The value is parsed with `FromStr`, which accepts exactly the service's strings and lists
//! them on a typo.

mod common;

use oss_blocking as oss;

fn main() -> std::process::ExitCode {
    common::main_with(run)
}

fn run() -> Result<(), String> {
    let target = common::target()?;
    let sse: oss::ServerSideEncryption = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "AES256".to_string())
        .parse()
        .map_err(|e: oss::ParseOptionError| e.to_string())?;
    let result = target
        .client
        .put_object(
            oss::PutObjectRequest::new(&target.bucket, "exampledir/encrypted.txt")
                .body("secret-ish")
                .server_side_encryption(sse),
        )
        .map_err(|e| format!("upload failed: {e:#}"))?;
    common::print_result(&result);
    println!(
        "x-oss-server-side-encryption: {}",
        result
            .header("x-oss-server-side-encryption")
            .unwrap_or(sse.as_str())
    );
    Ok(())
}

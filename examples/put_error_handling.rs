//! Handle upload errors ("Simple upload": error handling): match on the OSS error code and
//! tell the user what to do.
//!
//!     cargo run --example put_error_handling
//!
//! Against the built-in emulator it provokes each error: a missing bucket, a refused
//! request (`AccessDenied`, injected), a body over the size limit (the emulator's limit is
//! set to 1 KiB), an invalid key (refused before sending; `InvalidObjectName` is what OSS
//! answers to a key that reaches it). Against real OSS it tries a missing bucket.

mod common;

use oss::emulator::{Emulator, Fault};
use oss::ErrorKind;
use oss_blocking as oss;

fn main() -> std::process::ExitCode {
    common::main_with(run)
}

/// What to tell a user for an upload error.
fn advice(err: &oss::OperationError) -> String {
    if let Some(service) = err.service_error() {
        let what_to_do = match service.code() {
            "NoSuchBucket" => "the bucket does not exist in this region: check the bucket name and OSS_REGION",
            "AccessDenied" => "the key may not write here: grant oss:PutObject on the bucket (RAM policy or bucket policy), or check that the bucket is not in another account",
            "EntityTooLarge" => "the object is over the PutObject limit (5 GiB on OSS): use multipart upload",
            "InvalidObjectName" => "the key is invalid: 1-1023 bytes of UTF-8, not starting with '/' or '\\'",
            "InvalidAccessKeyId" | "SignatureDoesNotMatch" => "check OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET",
            "FileAlreadyExists" => "an object with this key exists and forbid_overwrite is set: pick another key",
            _ => "see the EC code in OSS's troubleshooting guide",
        };
        return format!(
            "{} (HTTP {}, request id {}): {what_to_do}",
            service.code(),
            service.status_code(),
            service.request_id()
        );
    }
    match err.kind() {
        ErrorKind::InvalidArgument => format!("refused before sending: {err:#}"),
        ErrorKind::Credentials => format!("no usable credentials: {err:#}"),
        ErrorKind::Transport => format!("network problem, retried already: {err:#}"),
        ErrorKind::Io => format!("cannot read the local data: {err:#}"),
        _ => format!("{err:#}"),
    }
}

fn try_upload(client: &oss::Client, what: &str, req: oss::PutObjectRequest) {
    match client.put_object(req) {
        Ok(result) => println!("{what}: uploaded, etag {:?}", result.etag),
        Err(err) => println!("{what}: {}", advice(&err)),
    }
}

fn run() -> Result<(), String> {
    let target = common::target_with(Emulator::builder().max_object_size(1024))?;
    let client = &target.client;
    let missing = format!("no-such-bucket-{}", std::process::id());
    try_upload(
        client,
        "missing bucket",
        oss::PutObjectRequest::new(&missing, "a.txt").body("x"),
    );
    try_upload(
        client,
        "invalid key",
        oss::PutObjectRequest::new(&target.bucket, "/starts-with-slash").body("x"),
    );
    if let Some(emu) = &target.emulator {
        emu.inject(Fault::ErrorStatus {
            status: 403,
            code: "AccessDenied".into(),
            times: 1,
        });
        try_upload(
            client,
            "access denied",
            oss::PutObjectRequest::new(&target.bucket, "a.txt").body("x"),
        );
        try_upload(
            client,
            "too large",
            oss::PutObjectRequest::new(&target.bucket, "big.bin").body(vec![0u8; 4096]),
        );
        emu.inject(Fault::ErrorStatus {
            status: 400,
            code: "InvalidObjectName".into(),
            times: 1,
        });
        try_upload(
            client,
            "invalid key (server side)",
            oss::PutObjectRequest::new(&target.bucket, "a.txt").body("x"),
        );
    }
    Ok(())
}

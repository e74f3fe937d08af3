//! Upload a local file, as on the official "Simple upload" page, and print the result.
//!
//! With no credentials in the environment it runs against the crate's built-in OSS emulator
//! (no account needed). With credentials (`OSS_ACCESS_KEY_ID`/`OSS_ACCESS_KEY_SECRET` or the
//! `ALIBABA_CLOUD_*` names), `OSS_REGION` and `OSS_BUCKET` set, it uploads to real OSS
//! (`OSS_ENDPOINT` optional).
//!
//!     cargo run --example quickstart

mod common;

use oss_blocking as oss;

fn main() -> std::process::ExitCode {
    common::main_with(run)
}

fn run() -> Result<(), String> {
    // Real OSS when the environment has credentials, else the built-in emulator (it says so).
    let target = common::target()?;

    // A local file to upload.
    let path = std::env::temp_dir().join(format!("oss-quickstart-{}.txt", std::process::id()));
    std::fs::write(
        &path,
        "Hello, OSS! This file was uploaded by oss-blocking.\n",
    )
    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;

    let result = target.client.put_object_from_file(
        oss::PutObjectRequest::new(&target.bucket, "exampledir/exampleobject.txt"),
        &path,
    );
    let _ = std::fs::remove_file(&path);

    match result {
        Ok(result) => {
            common::print_result(&result);
            Ok(())
        }
        Err(err) => {
            let hint = match err.service_error().map(|s| s.code()) {
                Some("NoSuchBucket") => "\nhint: check OSS_BUCKET and OSS_REGION",
                Some("AccessDenied") => {
                    "\nhint: the key has no oss:PutObject permission on this bucket"
                }
                Some("InvalidAccessKeyId") | Some("SignatureDoesNotMatch") => {
                    "\nhint: check OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET"
                }
                _ => "",
            };
            Err(format!("upload failed: {err:#}{hint}"))
        }
    }
}

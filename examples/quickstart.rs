//! Upload a local file, as on the official "Simple upload" page, and print the result.
//!
//! With no credentials in the environment it runs against the crate's built-in OSS emulator
//! (no account needed). With credentials (`OSS_ACCESS_KEY_ID`/`OSS_ACCESS_KEY_SECRET` or the
//! `ALIBABA_CLOUD_*` names), `OSS_REGION` and `OSS_BUCKET` set, it uploads to real OSS
//! (`OSS_ENDPOINT` optional).
//!
//!     cargo run --example quickstart

use std::process::ExitCode;

use oss::credentials::{CredentialsProvider, EnvironmentVariableCredentialsProvider};
use oss_blocking as oss;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    // Keep the emulator alive for the whole run when it is used.
    let mut _emulator = None;
    let (cfg, bucket) = if EnvironmentVariableCredentialsProvider::new()
        .credentials()
        .is_ok()
    {
        let region = std::env::var("OSS_REGION").map_err(|_| {
            "credentials found in the environment: also set OSS_REGION (e.g. cn-hangzhou) \
             and OSS_BUCKET to upload to real OSS, or unset the credentials to use the \
             built-in emulator"
                .to_string()
        })?;
        let bucket = std::env::var("OSS_BUCKET")
            .map_err(|_| "set OSS_BUCKET to the bucket to upload to".to_string())?;
        let mut cfg = oss::Config::load_default()
            .credentials_provider(EnvironmentVariableCredentialsProvider::new())
            .region(region);
        if let Ok(endpoint) = std::env::var("OSS_ENDPOINT") {
            cfg = cfg.endpoint(endpoint);
        }
        println!("uploading to real OSS, bucket {bucket}");
        (cfg, bucket)
    } else {
        let emulator = oss::emulator::Emulator::start()
            .map_err(|e| format!("cannot start the built-in emulator: {e}"))?;
        println!(
            "no credentials in the environment: using the built-in OSS emulator at {} \
             (set OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET, OSS_REGION and OSS_BUCKET for real OSS)",
            emulator.endpoint()
        );
        let cfg = emulator.config();
        let bucket = emulator.bucket().to_string();
        _emulator = Some(emulator);
        (cfg, bucket)
    };

    let client = oss::Client::new(cfg);

    // A local file to upload.
    let path = std::env::temp_dir().join(format!("oss-quickstart-{}.txt", std::process::id()));
    std::fs::write(
        &path,
        "Hello, OSS! This file was uploaded by oss-blocking.\n",
    )
    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;

    let result = client.put_object_from_file(
        oss::PutObjectRequest::new(bucket, "exampledir/exampleobject.txt"),
        &path,
    );
    let _ = std::fs::remove_file(&path);

    match result {
        Ok(result) => {
            println!(
                "status code: {}, request id: {}, content md5: {}, etag: {}, hash crc64: {}, version id: {}",
                result.status_code,
                result.request_id,
                result.content_md5.as_deref().unwrap_or("-"),
                result.etag.as_deref().unwrap_or("-"),
                result.hash_crc64.map_or("-".to_string(), |c| c.to_string()),
                result.version_id.as_deref().unwrap_or("-"),
            );
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
            Err(format!("upload failed: {err}{hint}"))
        }
    }
}

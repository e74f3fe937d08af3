//! What every example shares: a client for real OSS when credentials are in the environment,
//! else for the built-in emulator (no account needed), and the bucket to upload to.
//!
//! Real OSS: set `OSS_ACCESS_KEY_ID`/`OSS_ACCESS_KEY_SECRET` (or the `ALIBABA_CLOUD_*` names),
//! `OSS_REGION` and, unless the example is told its bucket (ossput's `oss://BUCKET/`),
//! `OSS_BUCKET` (`OSS_ENDPOINT` optional).
#![allow(dead_code)] // each example uses a part

use oss::credentials::{CredentialsProvider, EnvironmentVariableCredentialsProvider};
use oss_blocking as oss;

/// Where the example uploads.
pub struct Target {
    pub client: oss::Client,
    pub bucket: String,
    /// Set when running against the built-in emulator; dropping it stops the emulator.
    pub emulator: Option<oss::emulator::Emulator>,
}

/// Real OSS when the environment has credentials, else a fresh emulator.
pub fn target() -> Result<Target, String> {
    target_with(oss::emulator::Emulator::builder())
}

/// As [`target`], with an emulator built from `builder` when there are no credentials.
pub fn target_with(builder: oss::emulator::EmulatorBuilder) -> Result<Target, String> {
    connect(builder, None)
}

/// As [`target`], for a tool told its bucket (ossput's `oss://BUCKET/...`): that bucket is
/// used on real OSS, so `OSS_BUCKET` is not needed, and the emulator is started with it.
pub fn target_for_bucket(bucket: &str) -> Result<Target, String> {
    connect(
        oss::emulator::Emulator::builder().bucket(bucket),
        Some(bucket),
    )
}

/// An environment variable's value, with an empty one taken as unset.
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Real OSS with `bucket`, else `OSS_BUCKET`, when the environment has credentials; else an
/// emulator from `builder`.
fn connect(
    builder: oss::emulator::EmulatorBuilder,
    bucket: Option<&str>,
) -> Result<Target, String> {
    // What real OSS needs besides the credentials: the bucket only when nothing names one.
    let real_oss_vars = if bucket.is_some() {
        "OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET and OSS_REGION"
    } else {
        "OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET, OSS_REGION and OSS_BUCKET"
    };
    if EnvironmentVariableCredentialsProvider::new()
        .credentials()
        .is_ok()
    {
        let region = env_var("OSS_REGION");
        let bucket = bucket.map(str::to_string).or_else(|| env_var("OSS_BUCKET"));
        let mut missing = Vec::new();
        if region.is_none() {
            missing.push("OSS_REGION (e.g. cn-hangzhou)");
        }
        if bucket.is_none() {
            missing.push("OSS_BUCKET (the bucket to upload to)");
        }
        let (Some(region), Some(bucket)) = (region, bucket) else {
            return Err(format!(
                "credentials found in the environment: also set {} to upload to real OSS, or \
                 unset the credentials to use the built-in emulator",
                missing.join(" and ")
            ));
        };
        let mut cfg = oss::Config::load_default()
            .credentials_provider(EnvironmentVariableCredentialsProvider::new())
            .region(region);
        if let Some(endpoint) = env_var("OSS_ENDPOINT") {
            cfg = cfg.endpoint(endpoint);
        }
        println!("uploading to real OSS, bucket {bucket}");
        return Ok(Target {
            client: oss::Client::new(cfg),
            bucket,
            emulator: None,
        });
    }
    let emulator = builder
        .start()
        .map_err(|e| format!("cannot start the built-in emulator: {e}"))?;
    println!(
        "no credentials in the environment: using the built-in OSS emulator at {} (set \
         {real_oss_vars} for real OSS)",
        emulator.endpoint()
    );
    Ok(Target {
        client: oss::Client::new(emulator.config()),
        bucket: emulator.bucket().to_string(),
        emulator: Some(emulator),
    })
}

/// Prints a result the way the official page does.
pub fn print_result(result: &oss::PutObjectResult) {
    println!(
        "status code: {}, request id: {}, content md5: {}, etag: {}, hash crc64: {}, version id: {}",
        result.status_code,
        result.request_id,
        result.content_md5.as_deref().unwrap_or("-"),
        result.etag.as_deref().unwrap_or("-"),
        result.hash_crc64.map_or("-".to_string(), |c| c.to_string()),
        result.version_id.as_deref().unwrap_or("-"),
    );
}

/// Runs an example body and turns its error into exit code 1 with the message.
pub fn main_with(run: fn() -> Result<(), String>) -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Shows an object's stored headers when the emulator holds it (real OSS: use HeadObject).
pub fn show_stored(target: &Target, key: &str) {
    if let Some(emu) = &target.emulator {
        if let Some(object) = emu.object(&target.bucket, key) {
            println!("stored {key}: {} bytes", object.data.len());
            for (name, value) in &object.headers {
                println!("  {name}: {value}");
            }
        }
    }
}

//! The environment provider end to end. Its own test binary, because it changes the process
//! environment: no other test in this process reads it.
#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not tests

use oss::credentials::EnvironmentVariableCredentialsProvider;
use oss::emulator::{Emulator, DEFAULT_ACCESS_KEY_SECRET};
use oss_blocking as oss;

#[test]
fn keys_exported_under_either_name_are_read_at_every_request() {
    let emu = Emulator::start().unwrap();
    for name in [
        "OSS_ACCESS_KEY_ID",
        "OSS_ACCESS_KEY_SECRET",
        "OSS_SESSION_TOKEN",
        "ALIBABA_CLOUD_SECURITY_TOKEN",
    ] {
        std::env::remove_var(name);
    }
    // The names Alibaba Cloud's documentation tells users to export.
    std::env::set_var("ALIBABA_CLOUD_ACCESS_KEY_ID", emu.access_key_id());
    std::env::set_var("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEFAULT_ACCESS_KEY_SECRET);
    let client = oss::Client::new(
        emu.config()
            .credentials_provider(EnvironmentVariableCredentialsProvider::new()),
    );
    client
        .put_object(oss::PutObjectRequest::new(emu.bucket(), "env.txt").body("x"))
        .unwrap();

    // The official SDK names win, and are read again for the next request (rotation).
    std::env::set_var("OSS_ACCESS_KEY_ID", emu.access_key_id());
    std::env::set_var("OSS_ACCESS_KEY_SECRET", "rotated-but-wrong");
    let err = client
        .put_object(oss::PutObjectRequest::new(emu.bucket(), "env.txt").body("y"))
        .unwrap_err();
    assert_eq!(err.service_error().unwrap().code(), "SignatureDoesNotMatch");

    // Nothing set: a credentials error naming both pairs, and nothing sent.
    for name in [
        "OSS_ACCESS_KEY_ID",
        "OSS_ACCESS_KEY_SECRET",
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    ] {
        std::env::remove_var(name);
    }
    let before = emu.request_count();
    let err = client
        .put_object(oss::PutObjectRequest::new(emu.bucket(), "env.txt").body("z"))
        .unwrap_err();
    assert_eq!(err.kind(), oss::ErrorKind::Credentials);
    let text = format!("{err:#}");
    assert!(
        text.contains("OSS_ACCESS_KEY_ID") && text.contains("ALIBABA_CLOUD_ACCESS_KEY_ID"),
        "{text}"
    );
    assert_eq!(emu.request_count(), before);
    assert_eq!(emu.object(emu.bucket(), "env.txt").unwrap().data, b"x");
}

//! Cross-check: the official Python SDK v2 uploads to the built-in emulator.
//!
//! The emulator verifies V4 signatures with this crate's signer, so an official client that is
//! accepted (and refused where OSS refuses) shows that both agree with OSS's protocol, beyond
//! the recorded vectors. CI installs `alibabacloud-oss-v2` and sets
//! `OSS_BLOCKING_REQUIRE_PYTHON_SDK=1`, which makes a missing SDK a failure; elsewhere the test
//! says it was skipped.
#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not tests

use std::process::Command;

use oss_blocking::emulator::{Emulator, DEFAULT_ACCESS_KEY_SECRET};
use serde_json::Value;

fn python_sdk_available() -> bool {
    Command::new("python3")
        .args(["-c", "import alibabacloud_oss_v2"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
fn the_official_python_sdk_is_accepted_by_the_emulator() {
    if !python_sdk_available() {
        assert!(
            std::env::var_os("OSS_BLOCKING_REQUIRE_PYTHON_SDK").is_none(),
            "OSS_BLOCKING_REQUIRE_PYTHON_SDK is set but python3 cannot import alibabacloud_oss_v2"
        );
        eprintln!("skipped: pip install alibabacloud-oss-v2 to run this cross-check");
        return;
    }
    let emu = Emulator::start().unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/official_sdk_put.py"
    );
    let output = Command::new("python3")
        .arg(script)
        .args([
            emu.endpoint().as_str(),
            emu.access_key_id(),
            DEFAULT_ACCESS_KEY_SECRET,
            emu.region(),
            emu.bucket(),
        ])
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "python failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let steps: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let puts: Vec<&Value> = steps.iter().filter(|s| s["step"] == "put").collect();
    assert_eq!(puts.len(), 3);
    for put in puts {
        assert_eq!(put["status"], 200);
        // The official SDK's own vector for "hello world" (resp-put-ok).
        assert_eq!(put["etag"], "\"5EB63BBBE01EEED093CB22BB8F5ACDC3\"");
        assert_eq!(put["crc"], "5981764153023615706");
        assert_eq!(put["md5"], "XrY7u+Ae7tCTyyK7j1rNww==");
        let key = put["key"].as_str().unwrap();
        assert_eq!(emu.object(emu.bucket(), key).unwrap().data, b"hello world");
    }
    let errors: Vec<&Value> = steps.iter().filter(|s| s["step"] == "error").collect();
    assert_eq!(errors[0]["code"], "FileAlreadyExists");
    assert_eq!(errors[0]["status"], 409);
    assert_eq!(errors[1]["code"], "NoSuchBucket");
    assert_eq!(errors[1]["status"], 404);
    let get = steps.iter().find(|s| s["step"] == "get").unwrap();
    assert_eq!(get["body"], "hello world");
}

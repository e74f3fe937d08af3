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

/// Runs a script of tests/python against a fresh emulator; its JSON lines, or `None` when the
/// SDK is missing (and not required).
fn run_python(script: &str, emu: &Emulator) -> Option<Vec<Value>> {
    if !python_sdk_available() {
        assert!(
            std::env::var_os("OSS_BLOCKING_REQUIRE_PYTHON_SDK").is_none(),
            "OSS_BLOCKING_REQUIRE_PYTHON_SDK is set but python3 cannot import alibabacloud_oss_v2"
        );
        eprintln!("skipped: pip install alibabacloud-oss-v2 to run this cross-check");
        return None;
    }
    let path = format!("{}/tests/python/{script}", env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("python3")
        .arg(path)
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
    Some(
        stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
    )
}

/// The emulator's presign (V4 and V1), V1 header, AppendObject and HeadObject checks accept
/// the official SDK, and this crate reads what it stored.
#[test]
fn the_official_python_sdk_presigns_appends_and_signs_v1_against_the_emulator() {
    let emu = Emulator::start().unwrap();
    let Some(steps) = run_python("official_sdk_presign_append.py", &emu) else {
        return;
    };
    let step = |name: &'static str| steps.iter().filter(move |s| s["step"] == name);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut presigned = 0;
    for p in step("presign") {
        let mut req = ureq::http::Request::builder()
            .method(p["method"].as_str().unwrap())
            .uri(p["url"].as_str().unwrap());
        for (name, value) in p["signed_headers"].as_object().unwrap() {
            req = req.header(name.as_str(), value.as_str().unwrap());
        }
        let resp = agent
            .run(req.body(b"via python url".to_vec()).unwrap())
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{p}");
        let key = format!("py/presigned-{}.txt", p["version"].as_str().unwrap());
        assert_eq!(
            emu.object(emu.bucket(), &key).unwrap().data,
            b"via python url"
        );
        presigned += 1;
    }
    assert_eq!(presigned, 2);
    let put = step("v1-put").next().unwrap();
    assert_eq!(
        (put["status"].as_u64(), put["crc"].as_str()),
        (Some(200), Some("5981764153023615706"))
    );
    let head = step("v1-head").next().unwrap();
    assert_eq!(
        (head["length"].as_u64(), head["type"].as_str()),
        (Some(11), Some("Normal"))
    );
    let append = step("append").next().unwrap();
    assert_eq!(append["positions"], serde_json::json!([4, 8]));
    let crc = oss_blocking::crc64::checksum(b"one\ntwo\n").to_string();
    assert_eq!(append["crc"].as_str(), Some(crc.as_str()));
    let head = step("head").next().unwrap();
    assert_eq!(head["type"], "Appendable");
    assert_eq!(
        (head["length"].as_u64(), head["next"].as_u64()),
        (Some(8), Some(8))
    );
    let conflict = step("conflict").next().unwrap();
    assert_eq!(conflict["code"], "PositionNotEqualToLength");
    assert_eq!(conflict["status"], 409);
}

//! Every example runs, with no credentials in its environment, against the built-in emulator
//! and exits 0 (ossput: 1 on a failed upload, 2 on a usage error), printing what a user
//! would check.
//!
//! `cargo test` builds the examples before running tests; when they are missing (e.g. with
//! `cargo test --test examples`), this builds them once with the same cargo. Each run is
//! bounded by a timeout.
#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not tests

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const EXAMPLES: [&str; 15] = [
    "quickstart",
    "put_file",
    "put_string",
    "put_bytes",
    "put_stream",
    "put_progress",
    "put_content_type",
    "put_tagging",
    "put_encryption",
    "put_all_options",
    "put_callback",
    "put_error_handling",
    "ossput",
    "presign_put",
    "append_log",
];

const TIMEOUT: Duration = Duration::from_secs(120);

fn examples_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // target/<profile>/deps/examples-<hash> -> target/<profile>/examples
        let exe = std::env::current_exe().unwrap();
        let dir = exe.parent().unwrap().parent().unwrap().join("examples");
        if !EXAMPLES.iter().all(|e| dir.join(e).exists()) {
            let status = Command::new(env!("CARGO"))
                .args(["build", "--examples", "--manifest-path"])
                .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
                .status()
                .unwrap();
            assert!(status.success(), "cargo build --examples failed");
        }
        dir
    })
}

/// Runs an example with no OSS credentials in its environment, within [`TIMEOUT`].
fn run(name: &str, args: &[&str]) -> Output {
    run_with_env::<&str>(name, args, &[])
}

/// As [`run`], with only `env` (e.g. credentials) among the `OSS_*` / `ALIBABA_CLOUD_*`
/// variables of the example's environment; this process's own environment is left alone.
fn run_with_env<V: AsRef<OsStr>>(name: &str, args: &[&str], env: &[(&str, V)]) -> Output {
    let mut cmd = Command::new(examples_dir().join(name));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("OSS_") || key.starts_with("ALIBABA_CLOUD_") {
            cmd.env_remove(key);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    let mut child = cmd.spawn().unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            panic!("example {name} did not finish within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn ok(name: &str, args: &[&str]) -> String {
    let out = run(name, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name} failed: {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("built-in OSS emulator"),
        "{name} says it uses the emulator: {stdout}"
    );
    stdout
}

#[test]
fn upload_examples_succeed_against_the_emulator() {
    for name in [
        "quickstart",
        "put_file",
        "put_string",
        "put_bytes",
        "put_progress",
        "put_encryption",
    ] {
        let stdout = ok(name, &[]);
        assert!(stdout.contains("status code: 200"), "{name}: {stdout}");
    }
}

#[test]
fn the_presign_example_uploads_through_its_url() {
    let stdout = ok("presign_put", &[]);
    assert!(
        stdout.contains(
            "curl line: curl -X PUT -H 'Content-Type: image/jpeg' -T FILE 'http://127.0.0.1:"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("uploaded through the presigned URL: HTTP 200"),
        "{stdout}"
    );
    assert!(
        stdout.contains("stored uploads/photo.jpg: 22 bytes"),
        "{stdout}"
    );
}

#[test]
fn the_append_example_prints_positions_and_crcs() {
    let stdout = ok("append_log", &[]);
    assert!(stdout.contains("next position 16, crc64 "), "{stdout}");
    assert!(stdout.contains("reopened at position 48"), "{stdout}");
    assert!(
        stdout.contains("stored: 96 bytes, type Appendable, next append position 96"),
        "{stdout}"
    );
}

#[test]
fn option_examples_store_their_options() {
    let stdout = ok("put_content_type", &[]);
    assert!(
        stdout.contains("content-type: text/html; charset=utf-8"),
        "{stdout}"
    );
    let stdout = ok("put_tagging", &[]);
    assert!(
        stdout.contains("x-oss-tagging: owner=Ana%20%26%20Bo&note=50%25%20done"),
        "{stdout}"
    );
    let stdout = ok("put_all_options", &[]);
    for line in [
        "x-oss-object-acl: private",
        "x-oss-server-side-encryption: AES256",
        "x-oss-meta-author: alice",
        "x-oss-tagging: env=prod&team=backend",
    ] {
        assert!(stdout.contains(line), "{line} in {stdout}");
    }
    let out = run("put_encryption", &["aes256"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("AES256, KMS, SM4"));
}

#[test]
fn the_stream_example_uploads_a_body_of_unknown_length() {
    let stdout = ok("put_stream", &[]);
    assert!(stdout.contains("status code: 200"), "{stdout}");
    assert!(
        stdout.contains("from-network.bin: 262144 bytes"),
        "{stdout}"
    );
}

#[test]
fn the_callback_example_verifies_the_signature_and_gets_the_answer() {
    let stdout = ok("put_callback", &[]);
    assert!(stdout.contains("signature: valid"), "{stdout}");
    assert!(
        stdout.contains(r#"callback result: {"Status":"OK"}"#),
        "{stdout}"
    );
}

#[test]
fn the_error_example_explains_each_code() {
    let stdout = ok("put_error_handling", &[]);
    for code in [
        "NoSuchBucket",
        "AccessDenied",
        "EntityTooLarge",
        "InvalidObjectName",
    ] {
        assert!(stdout.contains(code), "{code} in {stdout}");
    }
    assert!(stdout.contains("refused before sending"), "{stdout}");
}

#[test]
fn ossput_uploads_reports_and_fails_with_the_right_exit_codes() {
    let dir = std::env::temp_dir().join(format!("ossput-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = dir.join("a.bin");
    let b = dir.join("b.txt");
    std::fs::write(&a, vec![7u8; 1_500_000]).unwrap();
    std::fs::write(&b, "hello world").unwrap();
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());

    let stdout = ok(
        "ossput",
        &[
            "--acl",
            "private",
            "--storage-class",
            "IA",
            "--tag",
            "env=prod",
            "--meta",
            "author=me",
            "--sse",
            "AES256",
            "--content-type",
            "application/x-test",
            a,
            b,
            "oss://mybucket/backup/",
        ],
    );
    assert!(
        stdout.contains("BYTES") && stdout.contains("CRC64"),
        "{stdout}"
    );
    assert!(
        stdout.contains("backup/a.bin") && stdout.contains("1500000"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"5EB63BBBE01EEED093CB22BB8F5ACDC3\"")
            && stdout.contains("5981764153023615706"),
        "b.txt's ETag and CRC-64 in the summary: {stdout}"
    );

    // Two files to the same key with --no-overwrite: the second fails.
    let out = run("ossput", &["--no-overwrite", b, b, "oss://mybucket/x/"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("FileAlreadyExists") && stderr.contains("request id "),
        "{stderr}"
    );

    let out = run("ossput", &["--acl", "public", b, "oss://mybucket/"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("public-read-write"));
    let out = run("ossput", &[b]);
    assert_eq!(out.status.code(), Some(2));

    let out = run("ossput", &["--help"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: ossput"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ossput_uploads_a_tree_in_parallel_parts() {
    let dir = std::env::temp_dir().join(format!("ossput-tree-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let tree = dir.join("tree");
    let cp = dir.join("cp");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    std::fs::create_dir_all(&cp).unwrap();
    std::fs::write(tree.join("sub").join("c.bin"), vec![3u8; 250 * 1024]).unwrap();
    std::fs::write(tree.join("d.txt"), "small").unwrap();
    let (t, c) = (tree.to_str().unwrap(), cp.to_str().unwrap());
    let stdout = ok(
        "ossput",
        &[
            "-r",
            "--part-size",
            "100KiB",
            "--parallel",
            "2",
            "--checkpoint-dir",
            c,
            t,
            "oss://mybucket/backup/",
        ],
    );
    let row = stdout
        .lines()
        .find(|l| l.starts_with("backup/sub/c.bin"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(row.split_whitespace().nth(2), Some("3"), "3 parts: {row}");
    assert!(stdout.contains("backup/d.txt"), "{stdout}");
    assert_eq!(
        std::fs::read_dir(&cp).unwrap().count(),
        0,
        "checkpoints removed"
    );

    let out = run("ossput", &[t, "oss://mybucket/backup/"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("use -r"));
    let out = run("ossput", &["--part-size", "8XB", t, "oss://mybucket/"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(
        "ossput",
        &["-r", "--part-size", "50KiB", t, "oss://mybucket/"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("part_size"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The environment that sends an example to real OSS, here an emulator standing in for it:
/// credentials, region and endpoint, and no `OSS_BUCKET`.
fn real_oss_env(emu: &oss_blocking::emulator::Emulator) -> Vec<(&'static str, String)> {
    vec![
        ("OSS_ACCESS_KEY_ID", emu.access_key_id().to_string()),
        (
            "OSS_ACCESS_KEY_SECRET",
            oss_blocking::emulator::DEFAULT_ACCESS_KEY_SECRET.to_string(),
        ),
        ("OSS_REGION", emu.region().to_string()),
        // An IP-address endpoint: the client uses path style, as the emulator expects.
        ("OSS_ENDPOINT", emu.endpoint()),
    ]
}

#[test]
fn ossput_with_credentials_takes_the_bucket_from_the_url_without_oss_bucket() {
    let emu = oss_blocking::emulator::Emulator::start().unwrap();
    let dir = std::env::temp_dir().join(format!("ossput-real-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("c.txt");
    std::fs::write(&file, "hello world").unwrap();
    let destination = format!("oss://{}/prefix/", emu.bucket());

    let env = real_oss_env(&emu);
    let out = run_with_env("ossput", &[file.to_str().unwrap(), &destination], &env);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains(&format!("uploading to real OSS, bucket {}", emu.bucket())),
        "{stdout}"
    );
    let object = emu
        .object(emu.bucket(), "prefix/c.txt")
        .expect("prefix/c.txt stored in the URL's bucket");
    assert_eq!(object.data, b"hello world");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_example_with_credentials_needs_oss_bucket_and_says_so() {
    let emu = oss_blocking::emulator::Emulator::start().unwrap();
    let mut env = real_oss_env(&emu);
    let out = run_with_env("put_string", &[], &env);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("set OSS_BUCKET") && !stderr.contains("OSS_REGION"),
        "names only the missing variable: {stderr}"
    );
    assert_eq!(emu.request_count(), 0, "nothing sent without a bucket");

    env.push(("OSS_BUCKET", emu.bucket().to_string()));
    let out = run_with_env("put_string", &[], &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(emu.object(emu.bucket(), "exampleobject.txt").is_some());
}

#[test]
fn ossput_credentials_chain_takes_a_cli_profile_from_the_given_home() {
    let emu = oss_blocking::emulator::Emulator::start().unwrap();
    let home = std::env::temp_dir().join(format!("ossput-chain-test-{}", std::process::id()));
    std::fs::create_dir_all(home.join(".aliyun")).unwrap();
    let profile = format!(
        r#"{{"current":"emu","profiles":[{{"name":"emu","mode":"AK","access_key_id":"{}","access_key_secret":"{}"}}]}}"#,
        emu.access_key_id(),
        oss_blocking::emulator::DEFAULT_ACCESS_KEY_SECRET
    );
    std::fs::write(home.join(".aliyun/config.json"), profile).unwrap();
    let file = home.join("chain.txt");
    std::fs::write(&file, "via the chain").unwrap();
    let destination = format!("oss://{}/", emu.bucket());
    let env = vec![
        ("HOME", home.to_str().unwrap().to_string()),
        // Never the real metadata address from a test.
        ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true".to_string()),
        ("OSS_REGION", emu.region().to_string()),
        ("OSS_ENDPOINT", emu.endpoint()),
    ];
    let args = [
        "--credentials",
        "chain",
        file.to_str().unwrap(),
        &destination,
    ];
    let out = run_with_env("ossput", &args, &env);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("default credentials chain"), "{stdout}");
    assert_eq!(
        emu.object(emu.bucket(), "chain.txt").unwrap().data,
        b"via the chain"
    );
    let out = run_with_env("ossput", &["--credentials", "vault", "f", "oss://b/"], &env);
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&home).unwrap();
}

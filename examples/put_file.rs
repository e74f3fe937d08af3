//! Upload a local file ("Simple upload": upload a local file). The file is streamed: memory
//! stays constant whatever its size, and its CRC-64 is computed as it is sent.
//!
//!     cargo run --example put_file [-- PATH]
//!
//! Without PATH it writes and uploads a small temporary file. Runs against the built-in
//! emulator unless credentials are in the environment (see examples/common/mod.rs).

mod common;

use oss_blocking as oss;

fn main() -> std::process::ExitCode {
    common::main_with(run)
}

fn run() -> Result<(), String> {
    let target = common::target()?;
    let (path, temporary) = match std::env::args_os().nth(1) {
        Some(p) => (std::path::PathBuf::from(p), false),
        None => {
            let p = std::env::temp_dir().join(format!("oss-put-file-{}.txt", std::process::id()));
            std::fs::write(&p, "Hello, OSS! A local file.\n")
                .map_err(|e| format!("cannot write {}: {e}", p.display()))?;
            (p, true)
        }
    };
    let result = target.client.put_object_from_file(
        oss::PutObjectRequest::new(&target.bucket, "exampledir/exampleobject.txt"),
        &path,
    );
    if temporary {
        let _ = std::fs::remove_file(&path);
    }
    let result = result.map_err(|e| format!("upload failed: {e:#}"))?;
    common::print_result(&result);
    Ok(())
}

//! Upload with a Content-Type ("Simple upload": common options, content type). Without one it
//! is guessed from the key's extension.
//!
//!     cargo run --example put_content_type

mod common;

use oss_blocking as oss;

fn main() -> std::process::ExitCode {
    common::main_with(run)
}

fn run() -> Result<(), String> {
    let target = common::target()?;
    let result = target
        .client
        .put_object(
            oss::PutObjectRequest::new(&target.bucket, "exampledir/page")
                .body("<h1>Hello, OSS!</h1>")
                .content_type("text/html; charset=utf-8"),
        )
        .map_err(|e| format!("upload failed: {e:#}"))?;
    common::print_result(&result);
    common::show_stored(&target, "exampledir/page");
    Ok(())
}

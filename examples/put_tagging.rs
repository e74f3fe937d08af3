//! Upload with object tags ("Simple upload": common options, tagging). `Tagging` builds the
//! URL-query form OSS expects, percent-encoding keys and values; the rules (at most 10 tags,
//! key 1-128 and value 0-256 characters) are checked before sending.
//!
//!     cargo run --example put_tagging

mod common;

use oss_blocking as oss;

fn main() -> std::process::ExitCode {
    common::main_with(run)
}

fn run() -> Result<(), String> {
    let target = common::target()?;
    // The raw form, as on the official page:
    let result = target
        .client
        .put_object(
            oss::PutObjectRequest::new(&target.bucket, "exampledir/tagged.txt")
                .body("tagged")
                .tagging("env=prod&team=backend"),
        )
        .map_err(|e| format!("upload failed: {e:#}"))?;
    common::print_result(&result);
    // Built from pairs, with characters that need encoding:
    let tags = oss::Tagging::new()
        .tag("owner", "Ana & Bo")
        .tag("note", "50% done");
    println!("x-oss-tagging: {tags}");
    let result = target
        .client
        .put_object(
            oss::PutObjectRequest::new(&target.bucket, "exampledir/tagged-2.txt")
                .body("tagged")
                .tagging(tags),
        )
        .map_err(|e| format!("upload failed: {e:#}"))?;
    common::print_result(&result);
    common::show_stored(&target, "exampledir/tagged-2.txt");
    Ok(())
}

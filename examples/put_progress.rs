//! Upload with a progress bar ("Simple upload": display upload progress).
//!
//!     cargo run --example put_progress
//!
//! The callback gets (bytes in this chunk, bytes sent so far, total): it runs as bytes go to
//! the network, at least once per MiB, and once at the end with sent == total. Runs against
//! the built-in emulator unless credentials are in the environment.

mod common;

use std::io::Write;

use oss_blocking as oss;

fn main() -> std::process::ExitCode {
    common::main_with(run)
}

fn run() -> Result<(), String> {
    let target = common::target()?;
    let data = vec![b'x'; 8 * 1024 * 1024];
    let mut last_percent = None;
    let result = target
        .client
        .put_object(
            oss::PutObjectRequest::new(&target.bucket, "exampledir/progress.bin")
                .body(data)
                .progress_fn(move |_chunk, sent, total| {
                    let Some(total) = total else {
                        return;
                    };
                    // No bar for a zero total (checked_div gives None); capped at 100 % so the
                    // bar never overflows.
                    let Some(percent) = sent.saturating_mul(100).checked_div(total) else {
                        return;
                    };
                    let percent = percent.min(100);
                    if last_percent != Some(percent) {
                        last_percent = Some(percent);
                        let filled = (percent / 5) as usize;
                        print!(
                            "\r[{}{}] {percent:3}% {sent}/{total} bytes",
                            "#".repeat(filled),
                            " ".repeat(20usize.saturating_sub(filled))
                        );
                        let _ = std::io::stdout().flush();
                    }
                }),
        )
        .map_err(|e| format!("\nupload failed: {e:#}"))?;
    println!();
    common::print_result(&result);
    Ok(())
}

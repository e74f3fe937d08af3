//! Presign an upload URL, print it with the curl line that uses it, then upload through it
//! with a plain HTTP client (no keys, no SDK) to show that it works.
//!
//!     cargo run --example presign_put
//!
//! Runs against the built-in emulator unless credentials are in the environment.

mod common;

use std::time::Duration;

use oss_blocking as oss;

fn main() -> std::process::ExitCode {
    common::main_with(run)
}

fn run() -> Result<(), String> {
    let target = common::target()?;
    let key = "uploads/photo.jpg";
    let presigned = target
        .client
        .presign(
            oss::PutObjectRequest::new(&target.bucket, key).content_type("image/jpeg"),
            Duration::from_secs(900),
        )
        .map_err(|e| format!("presign failed: {e:#}"))?;
    println!("method: {}", presigned.method);
    println!("url: {}", presigned.url);
    println!("expires: {}", httpdate::fmt_http_date(presigned.expiration));
    println!(
        "signed headers (send exactly these): {:?}",
        presigned.signed_headers
    );
    println!("curl line: {}", presigned.curl_command());

    // Whoever holds the URL uploads with any HTTP client: the signed headers, nothing else of
    // the kind, and the URL byte for byte.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut request = ureq::http::Request::builder()
        .method(presigned.method.as_str())
        .uri(presigned.url.as_str());
    for (name, value) in &presigned.signed_headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let photo = b"\xFF\xD8\xFF\xE0 not really a JPEG".to_vec();
    let request = request
        .body(photo)
        .map_err(|e| format!("bad request: {e}"))?;
    let mut response = agent
        .run(request)
        .map_err(|e| format!("upload failed: {e}"))?;
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    if status != 200 {
        return Err(format!(
            "upload through the URL failed: HTTP {status}: {body}"
        ));
    }
    println!("uploaded through the presigned URL: HTTP {status}");
    common::show_stored(&target, key);
    Ok(())
}

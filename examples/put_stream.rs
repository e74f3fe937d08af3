//! Upload a stream from the network ("Simple upload": upload a network stream): the body of an
//! HTTP GET, of unknown length, piped to OSS as it arrives (sent chunked; never held whole in
//! memory).
//!
//!     cargo run --example put_stream [-- URL]
//!
//! Without URL it downloads from a small HTTP server it starts on 127.0.0.1, which answers
//! with a chunked body (so its length is unknown, as for many real downloads). Runs against
//! the built-in emulator unless credentials are in the environment.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;

use oss_blocking as oss;

fn main() -> std::process::ExitCode {
    common::main_with(run)
}

/// Serves one GET with a 256 KiB chunked body, then stops.
fn local_source() -> Result<(String, std::thread::JoinHandle<()>), String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let url = format!(
        "http://{}/download.bin",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let server = std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
        let mut head = [0u8; 4096];
        let _ = stream.read(&mut head);
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\
              Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        );
        for i in 0..64u8 {
            let chunk = vec![i; 4096];
            let _ = stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes());
            let _ = stream.write_all(&chunk);
            let _ = stream.write_all(b"\r\n");
        }
        let _ = stream.write_all(b"0\r\n\r\n");
    });
    Ok((url, server))
}

fn run() -> Result<(), String> {
    let target = common::target()?;
    let (url, server) = match std::env::args().nth(1) {
        Some(url) => (url, None),
        None => {
            let (url, handle) = local_source()?;
            (url, Some(handle))
        }
    };
    println!("downloading {url}");
    let response = ureq::get(&url)
        .call()
        .map_err(|e| format!("GET {url} failed: {e}"))?;
    // The response body as a std::io::Read: bytes go to OSS as they arrive.
    let stream = response.into_body().into_reader();
    let result = target.client.put_object(
        oss::PutObjectRequest::new(&target.bucket, "exampledir/from-network.bin")
            .body(oss::Body::from_reader(stream)),
    );
    if let Some(server) = server {
        let _ = server.join();
    }
    let result = result.map_err(|e| format!("upload failed: {e:#}"))?;
    common::print_result(&result);
    common::show_stored(&target, "exampledir/from-network.bin");
    Ok(())
}

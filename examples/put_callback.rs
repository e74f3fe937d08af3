//! Upload with a callback ("Simple upload": upload callback). After storing the object, OSS
//! POSTs to your server with a body built from a template, signed with RSA; your server's
//! answer comes back in `PutObjectResult::callback_result`.
//!
//!     cargo run --example put_callback
//!
//! The example starts its own callback server on 127.0.0.1, which checks the signature the
//! way a production server should: fetch the public key named (base64) by
//! `x-oss-pub-key-url`, then verify the `authorization` header, an MD5withRSA signature of
//! `urldecode(path?query) + "\n" + body`. The built-in emulator performs that POST. Real OSS
//! cannot reach 127.0.0.1: set `OSS_CALLBACK_URL` to a public URL of your own server, or see
//! how a failed callback (HTTP 203 `CallbackFailed`, object stored anyway) is handled.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use base64::Engine as _;
use oss_blocking as oss;

fn main() -> std::process::ExitCode {
    common::main_with(run)
}

/// One HTTP request: path with query, headers with lowercase names, body.
type Request = (String, Vec<(String, String)>, Vec<u8>);

/// Reads one HTTP request.
fn read_request(stream: &mut TcpStream) -> Result<Request, String> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed before the request head".into());
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos.saturating_add(4); // the head ends after the blank line
        }
        if buf.len() > 64 * 1024 {
            return Err("request head too large".into());
        }
    };
    let head = String::from_utf8_lossy(buf.get(..head_end).unwrap_or_default()).into_owned();
    let mut lines = head.lines();
    let path = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("/")
        .to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
        .min(1024 * 1024);
    let mut body = buf.get(head_end..).unwrap_or_default().to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
    body.truncate(len);
    Ok((path, headers, body))
}

/// Verifies an OSS callback signature. Only keys from OSS's own host (or, for this example,
/// the local emulator) are trusted: anyone can sign with a key of their own.
fn verify(
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
    trusted_prefixes: &[String],
) -> Result<(), String> {
    use rsa::pkcs8::DecodePublicKey as _;
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .ok_or(format!("no {name} header"))
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let key_url = String::from_utf8(
        b64.decode(header("x-oss-pub-key-url")?)
            .map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    if !trusted_prefixes.iter().any(|p| key_url.starts_with(p)) {
        return Err(format!("untrusted public key URL {key_url}"));
    }
    let pem = ureq::get(&key_url)
        .call()
        .map_err(|e| format!("GET {key_url}: {e}"))?
        .body_mut()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    let key = rsa::RsaPublicKey::from_public_key_pem(&pem).map_err(|e| e.to_string())?;
    let signature = b64
        .decode(header("authorization")?)
        .map_err(|e| e.to_string())?;
    let mut message: Vec<u8> = percent_encoding::percent_decode_str(path).collect();
    message.push(b'\n');
    message.extend_from_slice(body);
    // MD5withRSA is PKCS#1 v1.5 over the MD5 digest with MD5's DER DigestInfo prefix
    // (RFC 8017, section 9.2, note 1). With RustCrypto's md-5 (feature "oid") this is
    // `rsa::Pkcs1v15Sign::new::<md5::Md5>()`; the `md5` crate used here has no OID, so the
    // prefix is written out.
    let md5_with_rsa = rsa::Pkcs1v15Sign {
        hash_len: Some(16),
        prefix: Box::new([
            0x30, 0x20, 0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05,
            0x05, 0x00, 0x04, 0x10,
        ]),
    };
    key.verify(md5_with_rsa, &md5::compute(&message).0, &signature)
        .map_err(|_| "the signature does not verify".to_string())
}

/// Serves one callback: verify, print, answer JSON.
fn serve_one(listener: TcpListener, trusted: Vec<String>) -> Result<(), String> {
    listener.set_nonblocking(false).map_err(|e| e.to_string())?;
    let (mut stream, _) = listener.accept().map_err(|e| e.to_string())?;
    let (path, headers, body) = read_request(&mut stream)?;
    let verdict = verify(&path, &headers, &body, &trusted);
    println!(
        "callback server: POST {path}\n  body: {}\n  signature: {}",
        String::from_utf8_lossy(&body),
        match &verdict {
            Ok(()) => "valid".to_string(),
            Err(e) => format!("REJECTED ({e})"),
        }
    );
    let (status, answer) = match verdict {
        Ok(()) => ("200 OK", r#"{"Status":"OK"}"#),
        Err(_) => ("403 Forbidden", r#"{"Status":"bad signature"}"#),
    };
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{answer}",
        answer.len()
    );
    stream
        .write_all(reply.as_bytes())
        .map_err(|e| e.to_string())
}

fn run() -> Result<(), String> {
    let target = common::target()?;
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let local_url = format!(
        "http://{}/callback?source=oss",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let mut trusted = vec![
        "https://gosspublic.alicdn.com/".to_string(),
        "http://gosspublic.alicdn.com/".to_string(),
    ];
    if let Some(emu) = &target.emulator {
        trusted.push(emu.callback_public_key_url());
    }
    let callback_url = std::env::var("OSS_CALLBACK_URL").unwrap_or(local_url);
    let server = std::thread::spawn(move || serve_one(listener, trusted));

    let callback = oss::Callback::new(
        callback_url,
        "bucket=${bucket}&object=${object}&etag=${etag}&size=${size}&mimeType=${mimeType}\
         &my_var=${x:my_var}",
    )
    .var("x:my_var", "uploaded by put_callback");
    let result = target.client.put_object(
        oss::PutObjectRequest::new(&target.bucket, "exampledir/callback.txt")
            .body("Hello, OSS callback!")
            .upload_callback(&callback),
    );
    match result {
        Ok(result) => {
            common::print_result(&result);
            println!(
                "callback result: {}",
                result.callback_result.as_deref().unwrap_or("-")
            );
        }
        Err(err) if err.object_stored() => {
            // HTTP 203 CallbackFailed: the object is there, only the callback failed.
            println!(
                "the callback failed but the object was stored: etag {}, crc64 {}, request id \
                 {}\n  {err}\n  (do not upload again; fix or retry the callback server)",
                err.etag().unwrap_or("-"),
                err.hash_crc64().map_or("-".to_string(), |c| c.to_string()),
                err.request_id().unwrap_or("-"),
            );
        }
        Err(err) => return Err(format!("upload failed: {err:#}")),
    }
    if target.emulator.is_some() {
        // The emulator always calls back: wait for the server thread's verdict.
        server
            .join()
            .map_err(|_| "the callback server panicked".to_string())??;
    }
    Ok(())
}

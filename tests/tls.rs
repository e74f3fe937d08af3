//! HTTPS against the emulator's TLS front with a test CA: certificates are verified by
//! default, a user-supplied CA is trusted, and `insecure_skip_verify` turns verification off.
#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not tests

use std::time::Duration;

use oss::emulator::{Emulator, TlsFront};
use oss::{Client, ErrorKind, PutObjectRequest};
use oss_blocking as oss;

const CA: &[u8] = include_bytes!("data/tls/ca.pem");
const CERT: &[u8] = include_bytes!("data/tls/server.pem");
const KEY: &[u8] = include_bytes!("data/tls/server-key.pem");

fn setup() -> (Emulator, TlsFront) {
    let emu = Emulator::start().unwrap();
    let front = TlsFront::start(&emu, CERT, KEY).unwrap();
    (emu, front)
}

fn config(emu: &Emulator, front: &TlsFront) -> oss::Config {
    emu.config()
        .endpoint(front.endpoint())
        .retry_base_delay(Duration::from_millis(1))
}

#[test]
fn an_unknown_ca_is_refused_by_default_and_nothing_is_stored() {
    let (emu, front) = setup();
    let client = Client::new(config(&emu, &front));
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "tls.txt").body("secret data"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    let text = format!("{err} {err:?}").to_lowercase();
    assert!(
        text.contains("certificate") || text.contains("issuer"),
        "{text}"
    );
    assert_eq!(err.attempts(), 1, "a certificate failure is not retried");
    assert_eq!(
        emu.request_count(),
        0,
        "no request got through the handshake"
    );
    assert!(emu.object(emu.bucket(), "tls.txt").is_none());
}

#[test]
fn a_user_supplied_ca_is_trusted() {
    let (emu, front) = setup();
    let client = Client::new(config(&emu, &front).tls_ca_pem(CA));
    let result = client
        .put_object(PutObjectRequest::new(emu.bucket(), "tls.txt").body("over https"))
        .unwrap();
    assert_eq!(result.status_code, 200);
    let stored = emu.object(emu.bucket(), "tls.txt").unwrap();
    assert_eq!(stored.data, b"over https");
    assert_eq!(result.hash_crc64, Some(stored.crc64));
}

#[test]
fn insecure_skip_verify_accepts_any_certificate() {
    let (emu, front) = setup();
    let client = Client::new(config(&emu, &front).insecure_skip_verify(true));
    client
        .put_object(PutObjectRequest::new(emu.bucket(), "insecure.txt").body("x"))
        .unwrap();
    assert_eq!(emu.object(emu.bucket(), "insecure.txt").unwrap().data, b"x");
}

#[test]
fn a_bad_ca_bundle_is_an_invalid_argument_and_nothing_is_sent() {
    let (emu, front) = setup();
    let client = Client::new(config(&emu, &front).tls_ca_pem(b"not a pem".to_vec()));
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "a.txt").body("x"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("tls_ca_pem"), "{err}");
    assert_eq!(emu.request_count(), 0);
}

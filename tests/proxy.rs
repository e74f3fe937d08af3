//! Proxies: used when configured, never from the environment unless asked (see
//! `tests/proxy_env.rs` for the environment, which needs a process of its own).
#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not tests

mod common;

use common::ConnectProxy;
use oss::emulator::Emulator;
use oss::{Client, ErrorKind, PutObjectRequest};
use oss_blocking as oss;

#[test]
fn a_configured_proxy_carries_the_upload() {
    let emu = Emulator::start().unwrap();
    let proxy = ConnectProxy::start(8);
    let client = Client::new(emu.config().proxy(proxy.url.as_str()));
    client
        .put_object(PutObjectRequest::new(emu.bucket(), "via-proxy.txt").body("proxied"))
        .unwrap();
    assert_eq!(proxy.tunnels(), 1);
    let stored = emu.object(emu.bucket(), "via-proxy.txt").unwrap();
    assert_eq!(stored.data, b"proxied");
}

#[test]
fn without_a_proxy_setting_requests_go_direct() {
    let emu = Emulator::start().unwrap();
    let proxy = ConnectProxy::start(8);
    let client = Client::new(emu.config());
    client
        .put_object(PutObjectRequest::new(emu.bucket(), "direct.txt").body("direct"))
        .unwrap();
    assert_eq!(proxy.tunnels(), 0);
    assert_eq!(emu.request_count(), 1);
}

#[test]
fn a_malformed_proxy_url_is_an_invalid_argument_that_hides_the_url() {
    let emu = Emulator::start().unwrap();
    let client = Client::new(emu.config().proxy("ftp://user:hunter2@proxy.example:21"));
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "a.txt").body("x"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("proxy"), "{err}");
    assert!(!format!("{err} {err:?}").contains("hunter2"));
    assert_eq!(emu.request_count(), 0);
}

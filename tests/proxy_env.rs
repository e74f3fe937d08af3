//! Environment proxies are honoured only with `Config::proxy_from_environment(true)`, and
//! `NO_PROXY` then still applies. One test in its own binary: it changes the process
//! environment, which other tests running in parallel threads would otherwise see.
#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not tests

mod common;

use common::ConnectProxy;
use oss::emulator::Emulator;
use oss::{Client, PutObjectRequest};
use oss_blocking as oss;

#[test]
fn environment_proxies_only_when_asked_and_no_proxy_applies() {
    let emu = Emulator::start().unwrap();
    let proxy = ConnectProxy::start(8);
    for name in ["NO_PROXY", "no_proxy"] {
        std::env::remove_var(name);
    }
    for name in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
    ] {
        std::env::set_var(name, &proxy.url);
    }
    let put = |client: &Client, key: &str| {
        client
            .put_object(PutObjectRequest::new(emu.bucket(), key).body(key.to_string()))
            .unwrap();
        assert_eq!(emu.object(emu.bucket(), key).unwrap().data, key.as_bytes());
    };

    put(&Client::new(emu.config()), "default.txt");
    assert_eq!(proxy.tunnels(), 0, "the default ignores HTTP(S)_PROXY");

    put(
        &Client::new(emu.config().proxy_from_environment(true)),
        "from-env.txt",
    );
    assert_eq!(
        proxy.tunnels(),
        1,
        "asked for: the environment's proxy is used"
    );

    std::env::set_var("NO_PROXY", "127.0.0.1");
    put(
        &Client::new(emu.config().proxy_from_environment(true)),
        "no-proxy.txt",
    );
    assert_eq!(proxy.tunnels(), 1, "NO_PROXY lists the host: direct");
}

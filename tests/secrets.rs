//! The access key secret and the security token never appear in `Debug` or `Display` of any
//! public type that holds them, nor in the errors of failed requests (including the server's
//! own error documents, which echo the canonical request with the token in it).
#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not tests

use std::time::Duration;

use oss::credentials::{
    AnonymousCredentialsProvider, Credentials, CredentialsError, CredentialsProvider,
    EnvironmentVariableCredentialsProvider, StaticCredentialsProvider,
};
use oss::emulator::{Emulator, Fault};
use oss::{Client, Config, PutObjectRequest};
use oss_blocking as oss;

const SECRET: &str = "sEcReT-Access-Key-Value-0123456789";
const TOKEN: &str = "tOkEn-Security-STS-Value-9876543210";
const EMU_SECRET: &str = "emulator-side-secret-value-5555";

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "{what} leaks the secret: {text}");
    assert!(!text.contains(TOKEN), "{what} leaks the token: {text}");
    assert!(
        !text.contains(EMU_SECRET),
        "{what} leaks the emulator secret: {text}"
    );
}

fn check_debug(what: &str, value: &impl std::fmt::Debug) {
    assert_clean(what, &format!("{value:?}"));
    assert_clean(what, &format!("{value:#?}"));
}

fn check_both(what: &str, value: &(impl std::fmt::Debug + std::fmt::Display)) {
    check_debug(what, value);
    assert_clean(what, &value.to_string());
}

fn emulator() -> Emulator {
    Emulator::builder()
        .access_key("AKIDtest", EMU_SECRET)
        .security_token(TOKEN)
        .start()
        .unwrap()
}

fn leaky_config(emu: &Emulator) -> Config {
    emu.config()
        .credentials_provider(
            StaticCredentialsProvider::new("AKIDtest", SECRET).security_token(TOKEN),
        )
        .retry_base_delay(Duration::from_millis(1))
        .proxy("http://user:proxy-password@127.0.0.1:9")
}

#[test]
fn types_holding_secrets_never_print_them() {
    let credentials = Credentials::new("AKIDtest", SECRET).with_security_token(TOKEN);
    check_debug("Credentials", &credentials);
    let provider = StaticCredentialsProvider::new("AKIDtest", SECRET).security_token(TOKEN);
    check_debug("StaticCredentialsProvider", &provider);
    check_debug("its credentials", &provider.credentials().unwrap());
    check_debug(
        "EnvironmentVariableCredentialsProvider",
        &EnvironmentVariableCredentialsProvider::new(),
    );
    check_debug(
        "AnonymousCredentialsProvider",
        &AnonymousCredentialsProvider::new(),
    );
    check_both("CredentialsError", &CredentialsError::new("no keys"));

    let emu = emulator();
    check_debug(
        "EmulatorBuilder",
        &Emulator::builder().access_key("a", EMU_SECRET),
    );
    check_debug("Emulator", &emu);
    check_debug("emulator provider", &emu.credentials_provider());
    let cfg = leaky_config(&emu);
    check_debug("Config", &cfg);
    assert!(!format!("{cfg:?}").contains("proxy-password"));
    let client = Client::new(emu.config().credentials_provider(provider));
    check_debug("Client", &client);
    let request = PutObjectRequest::new("bucket", "key")
        .body("data")
        .header("x-oss-security-token", TOKEN)
        .header(
            "Authorization",
            format!("OSS4-HMAC-SHA256 Credential=x,Signature={SECRET}"),
        );
    check_debug("PutObjectRequest", &request);
}

#[test]
fn a_signature_error_with_a_token_never_prints_the_secret_or_the_token() {
    let emu = emulator();
    // The wrong secret (SECRET, not EMU_SECRET) gives SignatureDoesNotMatch, whose XML echoes
    // the canonical request, which holds the x-oss-security-token header.
    let client = Client::new(
        emu.config()
            .credentials_provider(
                StaticCredentialsProvider::new("AKIDtest", SECRET).security_token(TOKEN),
            )
            .retry_base_delay(Duration::from_millis(1)),
    );
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "s.txt").body("x"))
        .unwrap_err();
    let service = err.service_error().unwrap();
    assert_eq!(service.code(), "SignatureDoesNotMatch");
    check_both("OperationError", &err);
    check_both("ServiceError", service);
    let mut cause: Option<&dyn std::error::Error> = Some(&err);
    while let Some(e) = cause {
        assert_clean("error chain", &e.to_string());
        cause = e.source();
    }
    // The recorded requests carry the token and the signature: redacted in their Debug.
    for request in emu.requests() {
        check_debug("RecordedRequest", &request);
        assert!(!format!("{request:?}").contains("Signature="));
    }
}

#[test]
fn transport_errors_never_print_secrets() {
    let emu = emulator();
    emu.inject(Fault::ResetAfter { bytes: 0, times: 5 });
    let client = Client::new(
        emu.config()
            .credentials_provider(
                StaticCredentialsProvider::new("AKIDtest", EMU_SECRET).security_token(TOKEN),
            )
            .retry_base_delay(Duration::from_millis(1)),
    );
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "s.txt").body("x"))
        .unwrap_err();
    check_both("transport OperationError", &err);

    struct Failing;
    impl CredentialsProvider for Failing {
        fn credentials(&self) -> Result<Credentials, CredentialsError> {
            Err(CredentialsError::new("refresh failed"))
        }
    }
    let client = Client::new(emu.config().credentials_provider(Failing));
    let err = client
        .put_object(PutObjectRequest::new(emu.bucket(), "s.txt").body("x"))
        .unwrap_err();
    check_both("credentials OperationError", &err);
}

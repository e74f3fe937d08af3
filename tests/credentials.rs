//! The credentials providers against the local stand-ins (ECS metadata, STS) and the OSS
//! emulator. Every provider is pointed at 127.0.0.1 or built from an injected environment;
//! nothing here reads or changes the process environment.
#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not tests

use std::time::{Duration, Instant, SystemTime};

use oss::credentials::*;
use oss::emulator::{EcsEndpoint, EcsFault, EcsMetadataServer, Emulator};
use oss_blocking as oss;

const TOKEN: &str = "sts-standin-security-token";

/// An OSS emulator that requires a security token, and its credentials.
fn oss_with_token() -> (Emulator, Credentials) {
    let emu = Emulator::builder().security_token(TOKEN).start().unwrap();
    let creds = emu.credentials_provider().credentials().unwrap();
    (emu, creds)
}

fn upload(emu: &Emulator, provider: impl CredentialsProvider + 'static, key: &str) {
    let cfg = emu.config().credentials_provider(provider);
    let client = oss::Client::new(cfg);
    client
        .put_object(oss::PutObjectRequest::new(emu.bucket(), key).body("hello"))
        .unwrap();
    assert_eq!(emu.object(emu.bucket(), key).unwrap().data, b"hello");
}

fn ecs(server: &EcsMetadataServer) -> EcsRamRoleCredentialsProvider {
    EcsRamRoleCredentialsProvider::from_environment(Environment::empty())
        .endpoint(server.endpoint())
}

fn sequence(server: &EcsMetadataServer) -> Vec<(String, String, bool)> {
    server
        .requests()
        .iter()
        .map(|r| {
            (
                r.method.clone(),
                r.path.clone(),
                r.header("X-aliyun-ecs-metadata-token").is_some(),
            )
        })
        .collect()
}

fn s(method: &str, path: &str, token: bool) -> (String, String, bool) {
    (method.to_string(), path.to_string(), token)
}

#[test]
fn ecs_token_first_then_role_list_then_credentials_with_one_token() {
    let (emu, creds) = oss_with_token();
    let metadata = EcsMetadataServer::builder()
        .credentials(creds)
        .require_token(true)
        .start()
        .unwrap();
    let provider = ecs(&metadata);
    let got = provider.credentials().unwrap();
    assert_eq!(got.security_token(), Some(TOKEN));
    assert!(got.expiration().unwrap() > SystemTime::now() + Duration::from_secs(3600));
    // One token for both GETs (the Python library PUTs once per GET: vector ecs-imdsv2).
    assert_eq!(
        sequence(&metadata),
        [
            s("PUT", "/latest/api/token", false),
            s("GET", "/latest/meta-data/ram/security-credentials/", true),
            s(
                "GET",
                "/latest/meta-data/ram/security-credentials/EcsRamRoleOss",
                true
            ),
        ]
    );
    let put = &metadata.requests()[0];
    assert_eq!(
        put.header("X-aliyun-ecs-metadata-token-ttl-seconds"),
        Some("21600")
    );
    upload(&emu, provider, "ecs.txt");
}

#[test]
fn ecs_named_role_skips_the_role_list_and_env_names_it_too() {
    let metadata = EcsMetadataServer::builder()
        .role_name("uploader")
        .start()
        .unwrap();
    ecs(&metadata).role_name("uploader").credentials().unwrap();
    let env = Environment::empty().var("ALIBABA_CLOUD_ECS_METADATA", "uploader");
    EcsRamRoleCredentialsProvider::from_environment(env)
        .endpoint(metadata.endpoint())
        .credentials()
        .unwrap();
    let paths: Vec<_> = sequence(&metadata).into_iter().map(|(_, p, _)| p).collect();
    assert!(
        !paths.iter().any(|p| p.ends_with("credentials/")),
        "{paths:?}"
    );
    assert_eq!(paths.len(), 4);
}

#[test]
fn ecs_role_list_answer_is_trimmed() {
    let metadata = EcsMetadataServer::builder().start().unwrap();
    metadata.inject(EcsFault::Body {
        endpoint: EcsEndpoint::RoleList,
        body: " EcsRamRoleOss\n".into(),
        times: 1,
    });
    ecs(&metadata).credentials().unwrap();
}

#[test]
fn ecs_falls_back_to_imdsv1_unless_it_is_disabled() {
    let metadata = EcsMetadataServer::builder().start().unwrap();
    metadata.inject(EcsFault::Status {
        endpoint: EcsEndpoint::Token,
        status: 500,
        times: 1,
    });
    ecs(&metadata).credentials().unwrap();
    assert_eq!(
        sequence(&metadata)[1..],
        [
            s("GET", "/latest/meta-data/ram/security-credentials/", false),
            s(
                "GET",
                "/latest/meta-data/ram/security-credentials/EcsRamRoleOss",
                false
            ),
        ]
    );
    for provider in [
        ecs(&metadata).disable_imdsv1(true),
        EcsRamRoleCredentialsProvider::from_environment(
            Environment::empty().var("ALIBABA_CLOUD_IMDSV1_DISABLED", "true"),
        )
        .endpoint(metadata.endpoint()),
    ] {
        metadata.inject(EcsFault::Status {
            endpoint: EcsEndpoint::Token,
            status: 403,
            times: 1,
        });
        let err = provider.credentials().unwrap_err();
        let cause = std::error::Error::source(&err).unwrap().to_string();
        assert!(err.to_string().contains("IMDSv1"), "{err}");
        assert!(
            cause.contains("PUT") && cause.contains("HTTP 403"),
            "{cause}"
        );
        assert!(!err.is_transient());
    }
    metadata.inject(EcsFault::Status {
        endpoint: EcsEndpoint::Token,
        status: 503,
        times: 1,
    });
    assert!(ecs(&metadata)
        .disable_imdsv1(true)
        .credentials()
        .unwrap_err()
        .is_transient());
}

#[test]
fn ecs_a_refused_token_is_dropped_and_the_get_retried_without_it() {
    // Vector ecs-v2-get-fails: the GET with the token answers 401, the same GET without it works.
    let metadata = EcsMetadataServer::builder().start().unwrap();
    metadata.inject(EcsFault::Status {
        endpoint: EcsEndpoint::Credentials,
        status: 401,
        times: 1,
    });
    ecs(&metadata)
        .role_name("EcsRamRoleOss")
        .credentials()
        .unwrap();
    assert_eq!(
        sequence(&metadata),
        [
            s("PUT", "/latest/api/token", false),
            s(
                "GET",
                "/latest/meta-data/ram/security-credentials/EcsRamRoleOss",
                true
            ),
            s(
                "GET",
                "/latest/meta-data/ram/security-credentials/EcsRamRoleOss",
                false
            ),
        ]
    );
}

#[test]
fn ecs_malformed_answers_and_statuses_give_the_right_error() {
    let metadata = EcsMetadataServer::builder().start().unwrap();
    let cases: Vec<(EcsFault, &str, bool)> = vec![
        (
            EcsFault::Body {
                endpoint: EcsEndpoint::Credentials,
                body: "<html>".into(),
                times: 1,
            },
            "not JSON",
            false,
        ),
        (
            EcsFault::Body {
                endpoint: EcsEndpoint::Credentials,
                body: r#"{"Code":"Failed"}"#.into(),
                times: 1,
            },
            "not \"Success\"",
            false,
        ),
        (
            EcsFault::Body {
                endpoint: EcsEndpoint::Credentials,
                body: r#"{"Code":"Success","AccessKeyId":"a"}"#.into(),
                times: 1,
            },
            "AccessKeySecret",
            false,
        ),
        (
            EcsFault::Status {
                endpoint: EcsEndpoint::Credentials,
                status: 404,
                times: 1,
            },
            "HTTP 404",
            false,
        ),
        (
            EcsFault::Status {
                endpoint: EcsEndpoint::Credentials,
                status: 500,
                times: 1,
            },
            "HTTP 500",
            true,
        ),
        (
            EcsFault::Status {
                endpoint: EcsEndpoint::RoleList,
                status: 500,
                times: 1,
            },
            "security-credentials/: HTTP 500",
            true,
        ),
        (
            EcsFault::Stall {
                endpoint: EcsEndpoint::Credentials,
                duration: Duration::from_secs(3),
                times: 1,
            },
            "EcsRamRoleOss",
            true,
        ),
    ];
    for (fault, want, transient) in cases {
        metadata.inject(fault.clone());
        let started = Instant::now();
        let err = ecs(&metadata).credentials().unwrap_err();
        let text = format!("{err}");
        assert!(
            text.starts_with("EcsRamRoleCredentialsProvider: ") && text.contains(want),
            "{fault:?}: {text}"
        );
        assert_eq!(err.is_transient(), transient, "{fault:?}: {text}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "the 1 s read timeout applies"
        );
    }
}

#[test]
fn ecs_provider_refreshes_through_its_cache_only() {
    let metadata = EcsMetadataServer::builder()
        .lifetime(Duration::from_secs(3600))
        .start()
        .unwrap();
    let provider = ecs(&metadata);
    for _ in 0..5 {
        provider.credentials().unwrap();
    }
    assert_eq!(metadata.requests().len(), 3, "one fetch for five calls");
}

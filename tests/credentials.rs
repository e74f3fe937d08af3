//! The credentials providers against the local stand-ins (ECS metadata, STS) and the OSS
//! emulator. Every provider is pointed at 127.0.0.1 or built from an injected environment;
//! nothing here reads or changes the process environment.
#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not tests

use std::time::{Duration, Instant, SystemTime};

use oss::credentials::*;
use oss::emulator::{EcsEndpoint, EcsFault, EcsMetadataServer, Emulator};
use oss_blocking as oss;

mod common;

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
    let get = &metadata.requests()[1];
    let token = get.header("X-aliyun-ecs-metadata-token").unwrap();
    assert!(
        !format!("{get:?}").contains(token),
        "the metadata token is redacted in Debug"
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

// ---------------------------------------------------------------------------------------------
// STS AssumeRole and AssumeRoleWithOIDC

use oss::emulator::{StsFault, StsServer};

const CALLER_TOKEN: &str = "CAIS+caller/token=&x";

fn sts_for(emu_creds: Credentials) -> StsServer {
    StsServer::builder()
        .caller(Credentials::new("LTAI-caller", "caller-s3cret").with_security_token(CALLER_TOKEN))
        .issue(emu_creds)
        .start()
        .unwrap()
}

fn assume(sts: &StsServer) -> StsAssumeRoleCredentialsProvider {
    StsAssumeRoleCredentialsProvider::new(
        sts.caller_credentials_provider(),
        "acs:ram::123:role/uploader",
    )
    .environment(Environment::empty())
    .sts_endpoint(sts.endpoint())
}

#[test]
fn assume_role_posts_a_signed_form_and_its_credentials_upload() {
    let (emu, creds) = oss_with_token();
    let sts = sts_for(creds);
    let provider = assume(&sts)
        .role_session_name("nightly-backup")
        .duration(Duration::from_secs(900))
        .policy(r#"{"Version": "1", "Statement": []}"#)
        .external_id("abcd1234");
    let got = provider.credentials().unwrap();
    let lifetime = got
        .expiration()
        .unwrap()
        .duration_since(SystemTime::now())
        .unwrap();
    assert!(lifetime > Duration::from_secs(880) && lifetime <= Duration::from_secs(900));
    let call = &sts.calls()[0];
    assert_eq!(call.method, "POST");
    assert!(call.query.is_empty(), "nothing in the URL");
    for (name, value) in [
        ("Action", "AssumeRole"),
        ("RoleSessionName", "nightly-backup"),
        ("DurationSeconds", "900"),
        ("ExternalId", "abcd1234"),
        ("SecurityToken", CALLER_TOKEN),
        ("SignatureMethod", "HMAC-SHA1"),
    ] {
        assert_eq!(call.param(name), Some(value), "{name}");
    }
    assert!(call.param("Signature").is_some());
    let req = &sts.requests()[0];
    assert_eq!(
        req.header("Content-Type"),
        Some("application/x-www-form-urlencoded")
    );
    upload(&emu, provider, "sts.txt");
}

#[test]
fn assume_role_errors_name_the_provider_redact_secrets_and_say_if_transient() {
    let sts = StsServer::start().unwrap();
    // A wrong secret: STS echoes its string to sign, which holds the token (twice encoded).
    let wrong = StsAssumeRoleCredentialsProvider::new(
        StaticCredentialsProvider::new("sts-caller-id", "wrong-s3cret")
            .security_token(CALLER_TOKEN),
        "acs:ram::1:role/r",
    )
    .environment(Environment::empty())
    .sts_endpoint(sts.endpoint());
    let err = wrong.credentials().unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(
        text.contains("InvalidSecurityToken") || text.contains("SignatureDoesNotMatch"),
        "{text}"
    );
    let sts2 = StsServer::builder()
        .caller(Credentials::new("id", "right").with_security_token(CALLER_TOKEN))
        .start()
        .unwrap();
    let wrong_secret = StsAssumeRoleCredentialsProvider::new(
        StaticCredentialsProvider::new("id", "wrong-s3cret").security_token(CALLER_TOKEN),
        "acs:ram::1:role/r",
    )
    .environment(Environment::empty())
    .sts_endpoint(sts2.endpoint());
    let err = wrong_secret.credentials().unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(
        text.starts_with("StsAssumeRoleCredentialsProvider: POST http://127.0.0.1:"),
        "{text}"
    );
    assert!(
        text.contains("HTTP 400: SignatureDoesNotMatch") && text.contains("<redacted>"),
        "{text}"
    );
    for secret in [
        "wrong-s3cret",
        CALLER_TOKEN,
        "CAIS%2Bcaller",
        "CAIS%252Bcaller",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert!(!err.is_transient());

    let cases: Vec<(StsFault, &str, bool)> = vec![
        (StsFault::Status { status: 403, code: "NoPermission".into(), times: 1 }, "HTTP 403: NoPermission", false),
        (StsFault::Status { status: 500, code: "InternalError".into(), times: 1 }, "HTTP 500: InternalError", true),
        (StsFault::Status { status: 503, code: "ServiceUnavailable".into(), times: 1 }, "HTTP 503", true),
        (StsFault::Body { body: r#"{"RequestId": "X"}"#.into(), times: 1 }, "no Credentials object", false),
        (StsFault::Body { body: "<html>".into(), times: 1 }, "not JSON", false),
        (StsFault::Body { body: r#"{"Credentials":{"AccessKeyId":"a","AccessKeySecret":"b","SecurityToken":"c"}}"#.into(), times: 1 }, "Credentials has no non-empty Expiration", false),
        (StsFault::Body { body: r#"{"Credentials":{"AccessKeyId":"a","AccessKeySecret":"b","SecurityToken":"c","Expiration":"2020-01-01T00:00:00Z"}}"#.into(), times: 1 }, "expire within 30 s", false),
    ];
    for (fault, want, transient) in cases {
        sts.inject(fault.clone());
        let err = assume(&sts).credentials().unwrap_err();
        assert!(err.to_string().contains(want), "{fault:?}: {err}");
        assert_eq!(err.is_transient(), transient, "{fault:?}: {err}");
    }
}

#[test]
fn assume_role_duration_beyond_the_roles_maximum_is_refused_by_sts() {
    let sts = StsServer::start().unwrap();
    let err = assume(&sts)
        .duration(Duration::from_secs(7200))
        .credentials()
        .unwrap_err();
    assert!(
        err.to_string().contains("InvalidParameter.DurationSeconds"),
        "{err}"
    );
}

#[test]
fn assume_role_source_errors_keep_their_transience() {
    let sts = StsServer::start().unwrap();
    let p = StsAssumeRoleCredentialsProvider::new(
        || Err(CredentialsError::transient("source down")),
        "acs:ram::1:role/r",
    )
    .environment(Environment::empty())
    .sts_endpoint(sts.endpoint());
    let err = p.credentials().unwrap_err();
    assert!(
        err.is_transient() && err.to_string().contains("source provider"),
        "{err}"
    );
    assert!(sts.calls().is_empty());
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("oss-cred-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn oidc_reads_the_token_file_at_every_fetch_and_sends_it_only_in_the_body() {
    let (emu, creds) = oss_with_token();
    let sts = StsServer::builder()
        .issue(creds)
        .oidc_token("token-B")
        .start()
        .unwrap();
    let dir = temp_dir("oidc");
    let file = dir.join("token");
    std::fs::write(&file, "token-A").unwrap();
    let env = Environment::empty()
        .var("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/rrsa")
        .var(
            "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
            "acs:ram::1:oidc-provider/ack",
        )
        .var("ALIBABA_CLOUD_OIDC_TOKEN_FILE", file.to_str().unwrap())
        .var("ALIBABA_CLOUD_ROLE_SESSION_NAME", "pod-sess");
    let provider = OidcRoleCredentialsProvider::from_environment(env)
        .unwrap()
        .sts_endpoint(sts.endpoint());
    let err = provider.credentials().unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(
        text.contains("AuthenticationFail.OIDCToken.Invalid") && !text.contains("token-A"),
        "{text}"
    );
    std::fs::write(&file, "token-B").unwrap(); // rotated
    provider.credentials().unwrap();
    let calls = sts.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].param("OIDCToken"), Some("token-B"));
    assert_eq!(calls[1].param("RoleSessionName"), Some("pod-sess"));
    assert!(calls[1].param("Signature").is_none() && calls[1].param("AccessKeyId").is_none());
    for req in sts.requests() {
        assert_eq!(req.method, "POST");
        assert!(
            req.query.is_empty() && !req.path.contains("token"),
            "{req:?}"
        );
    }
    upload(&emu, provider, "oidc.txt");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn oidc_missing_token_file_is_a_lasting_error_naming_the_path() {
    let sts = StsServer::start().unwrap();
    let dir = temp_dir("oidc-missing");
    let missing = dir.join("no-such-token");
    let err = OidcRoleCredentialsProvider::new(
        "acs:ram::1:role/r",
        "acs:ram::1:oidc-provider/p",
        &missing,
    )
    .environment(Environment::empty())
    .sts_endpoint(sts.endpoint())
    .credentials()
    .unwrap_err();
    assert!(err.to_string().contains(missing.to_str().unwrap()), "{err}");
    assert!(!err.is_transient());
    assert!(sts.calls().is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Credentials URI, process, CLI and INI profiles, the default chain

fn http_reply(status: &str, body: &str) -> &'static [u8] {
    let text = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    Box::leak(text.into_bytes().into_boxed_slice())
}

fn creds_json(c: &Credentials, code: Option<&str>) -> String {
    let exp = oss::signer::format_iso8601(SystemTime::now() + Duration::from_secs(3600));
    let code = code
        .map(|c| format!("\"Code\":\"{c}\","))
        .unwrap_or_default();
    format!(
        r#"{{{code}"AccessKeyId":"{}","AccessKeySecret":"{}","SecurityToken":"{}","Expiration":"{exp}"}}"#,
        c.access_key_id(),
        c.access_key_secret(),
        c.security_token().unwrap_or_default()
    )
}

#[test]
fn uri_provider_answers_statuses_and_upload() {
    let (emu, creds) = oss_with_token();
    let ok = common::RawServer::start(http_reply("200 OK", &creds_json(&creds, None)), 2);
    let uri = format!("{}/creds?role=a&secret=x", ok.endpoint);
    let provider = UriCredentialsProvider::from_environment(
        Environment::empty().var("ALIBABA_CLOUD_CREDENTIALS_URI", &uri),
    )
    .unwrap();
    upload(&emu, provider, "uri.txt");
    let cases = [
        (
            http_reply("500 Internal Server Error", ""),
            "HTTP 500",
            true,
        ),
        (http_reply("403 Forbidden", ""), "HTTP 403", false),
        (http_reply("200 OK", "nope"), "not JSON", false),
        (
            http_reply("200 OK", &creds_json(&creds, Some("Failed"))),
            "not \"Success\"",
            false,
        ),
    ];
    for (reply, want, transient) in cases {
        let server = common::RawServer::start(reply, 1);
        let err = UriCredentialsProvider::new(format!("{}/creds?token=hidden", server.endpoint))
            .credentials()
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("UriCredentialsProvider: GET http://127.0.0.1:")
                && text.contains(want),
            "{text}"
        );
        assert!(
            !text.contains("hidden") && !text.contains(creds.access_key_secret()),
            "{text}"
        );
        assert_eq!(err.is_transient(), transient, "{text}");
    }
}

#[cfg(unix)]
#[test]
fn process_provider_credentials_upload() {
    let (emu, creds) = oss_with_token();
    let json = creds_json(&creds, None);
    upload(
        &emu,
        ProcessCredentialsProvider::new(format!("printf '%s' '{json}'")),
        "process.txt",
    );
}

struct Home {
    dir: std::path::PathBuf,
}

impl Home {
    fn new(name: &str) -> Home {
        Home {
            dir: temp_dir(name),
        }
    }
    fn write(&self, rel: &str, text: &str) -> std::path::PathBuf {
        let path = self.dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }
    fn env(&self) -> Environment {
        Environment::empty().home(&self.dir)
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn cli_profile_every_mode_against_the_stand_ins() {
    let (emu, creds) = oss_with_token();
    let sts = StsServer::builder()
        .caller(Credentials::new("LTAI-caller", "caller-s3cret"))
        .issue(creds.clone())
        .oidc_token("rrsa-token")
        .start()
        .unwrap();
    let metadata = EcsMetadataServer::builder()
        .credentials(creds.clone())
        .start()
        .unwrap();
    let home = Home::new("cli");
    let token_file = home.write("token", "rrsa-token");
    let config = format!(
        r#"{{"current": "ak", "profiles": [
        {{"name": "ak", "mode": "AK", "access_key_id": "{id}", "access_key_secret": "{secret}"}},
        {{"name": "sts", "mode": "StsToken", "access_key_id": "{id}", "access_key_secret": "{secret}", "sts_token": "{TOKEN}"}},
        {{"name": "caller", "mode": "AK", "access_key_id": "LTAI-caller", "access_key_secret": "caller-s3cret"}},
        {{"name": "role", "mode": "RamRoleArn", "access_key_id": "LTAI-caller", "access_key_secret": "caller-s3cret",
          "ram_role_arn": "acs:ram::1:role/r", "ram_session_name": "cli-sess", "expired_seconds": 900, "sts_region": "cn-hangzhou"}},
        {{"name": "chained", "mode": "ChainableRamRoleArn", "source_profile": "caller", "ram_role_arn": "acs:ram::1:role/r"}},
        {{"name": "loop", "mode": "ChainableRamRoleArn", "source_profile": "loop", "ram_role_arn": "acs:ram::1:role/r"}},
        {{"name": "ecs", "mode": "EcsRamRole", "ram_role_name": "EcsRamRoleOss"}},
        {{"name": "oidc", "mode": "OIDC", "ram_role_arn": "acs:ram::1:role/r", "oidc_provider_arn": "acs:ram::1:oidc-provider/p",
          "oidc_token_file": "{file}", "role_session_name": "pod"}},
        {{"name": "external", "mode": "External", "process_command": "cat {json_file}"}},
        {{"name": "sso", "mode": "CloudSSO"}}]}}"#,
        id = creds.access_key_id(),
        secret = creds.access_key_secret(),
        file = token_file.display(),
        json_file = home
            .write("helper.json", &creds_json(&creds, None))
            .display(),
    );
    home.write(".aliyun/config.json", &config);
    let cli = |profile: Option<&str>, env: Environment| {
        let p = CliProfileCredentialsProvider::from_environment(env)
            .sts_endpoint(sts.endpoint())
            .ecs_metadata_endpoint(metadata.endpoint());
        match profile {
            Some(name) => p.profile(name),
            None => p,
        }
    };
    // "current" unless ALIBABA_CLOUD_PROFILE or the option says otherwise.
    assert_eq!(
        cli(None, home.env())
            .credentials()
            .unwrap()
            .security_token(),
        None
    );
    let by_env = cli(None, home.env().var("ALIBABA_CLOUD_PROFILE", "sts"))
        .credentials()
        .unwrap();
    assert_eq!(by_env.security_token(), Some(TOKEN));
    for name in ["sts", "role", "chained", "ecs", "oidc", "external"] {
        let provider = cli(Some(name), home.env().var("ALIBABA_CLOUD_PROFILE", "ak"));
        assert_eq!(
            provider.credentials().unwrap().security_token(),
            Some(TOKEN),
            "{name}"
        );
        upload(&emu, provider, &format!("cli-{name}.txt"));
    }
    let role_call = sts
        .calls()
        .into_iter()
        .find(|c| c.param("RoleSessionName") == Some("cli-sess"))
        .unwrap();
    assert_eq!(role_call.param("DurationSeconds"), Some("900"));
    for (name, want) in [
        ("loop", "deeper than"),
        ("sso", "\"CloudSSO\" is not supported"),
        ("nobody", "no profile named \"nobody\""),
    ] {
        let err = cli(Some(name), home.env())
            .credentials()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(want) && err.contains("config.json"),
            "{name}: {err}"
        );
    }
    let err = CliProfileCredentialsProvider::from_environment(
        Environment::empty().home(home.dir.join("nowhere")),
    )
    .credentials()
    .unwrap_err();
    assert!(
        err.to_string().contains("nowhere/.aliyun/config.json") && !err.is_transient(),
        "{err}"
    );
}

#[test]
fn ini_profile_types_default_file_names_and_errors() {
    let (emu, creds) = oss_with_token();
    let sts = StsServer::builder()
        .caller(Credentials::new("LTAI-caller", "caller-s3cret"))
        .issue(creds.clone())
        .start()
        .unwrap();
    let metadata = EcsMetadataServer::builder()
        .credentials(creds.clone())
        .start()
        .unwrap();
    let home = Home::new("ini");
    let token_file = home.write("token", "rrsa");
    let ini = format!(
        "[default]\ntype = access_key\naccess_key_id = {id}\naccess_key_secret = {secret}\n\n\
         [ecs]\ntype = ecs_ram_role\nrole_name = EcsRamRoleOss\n\n\
         [role]\ntype = ram_role_arn   # assume a role\naccess_key_id = LTAI-caller\naccess_key_secret = caller-s3cret\nrole_arn = acs:ram::1:role/r\nrole_session_name = ini-sess\n\n\
         [oidc]\ntype = oidc_role_arn\nrole_arn = acs:ram::1:role/r\noidc_provider_arn = acs:ram::1:oidc-provider/p\noidc_token_file_path = {file}\n\n\
         [rsa]\ntype = rsa_key_pair\n",
        id = creds.access_key_id(),
        secret = creds.access_key_secret(),
        file = token_file.display()
    );
    // Go's name first: it is read when credentials.ini is absent.
    home.write(".alibabacloud/credentials", &ini);
    let ini_provider = |env: Environment| {
        ProfileCredentialsProvider::from_environment(env)
            .sts_endpoint(sts.endpoint())
            .ecs_metadata_endpoint(metadata.endpoint())
    };
    let plain = ini_provider(home.env()).credentials().unwrap();
    assert_eq!(
        (plain.access_key_id(), plain.security_token()),
        (creds.access_key_id(), None)
    );
    for name in ["ecs", "role", "oidc"] {
        let p = ini_provider(home.env().var("ALIBABA_CLOUD_PROFILE", name));
        assert_eq!(
            p.credentials().unwrap().security_token(),
            Some(TOKEN),
            "{name}"
        );
        upload(&emu, p, &format!("ini-{name}.txt"));
    }
    let err = ini_provider(home.env())
        .profile("rsa")
        .credentials()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("rsa_key_pair") && err.contains(".alibabacloud/credentials:"),
        "{err}"
    );
    // Python's name wins when both exist, and the error says which file was read.
    home.write(
        ".alibabacloud/credentials.ini",
        "[default]\ntype = access_key\naccess_key_id = x\n",
    );
    let err = ini_provider(home.env())
        .credentials()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("credentials.ini: [default]: no access_key_secret value"),
        "{err}"
    );
    let explicit = home.write(
        "elsewhere.ini",
        "[p]\ntype = access_key\naccess_key_id = e\naccess_key_secret = s\n",
    );
    let env = home
        .env()
        .var("ALIBABA_CLOUD_CREDENTIALS_FILE", explicit.to_str().unwrap())
        .var("ALIBABA_CLOUD_PROFILE", "p");
    assert_eq!(
        ini_provider(env).credentials().unwrap().access_key_id(),
        "e"
    );
}

#[test]
fn default_chain_order_with_stand_ins_never_leaving_loopback() {
    let (emu, creds) = oss_with_token();
    let sts = StsServer::builder().issue(creds.clone()).start().unwrap();
    let metadata = EcsMetadataServer::builder()
        .credentials(creds.clone())
        .start()
        .unwrap();
    let home = Home::new("chain");
    let token_file = home.write("token", "rrsa");
    let chain = |env: Environment| {
        DefaultCredentialsChain::with_environment(env)
            .sts_endpoint(sts.endpoint())
            .ecs_metadata_endpoint(metadata.endpoint())
    };
    // Nothing configured but ECS (stand-in): ECS wins, after the others said why not.
    let c = chain(home.env());
    assert_eq!(c.credentials().unwrap().security_token(), Some(TOKEN));
    upload(&emu, c, "chain-ecs.txt");
    // The INI profile comes before ECS, the CLI profile before the INI profile.
    home.write(
        ".alibabacloud/credentials",
        "[default]\ntype = access_key\naccess_key_id = ini\naccess_key_secret = s\n",
    );
    assert_eq!(
        chain(home.env()).credentials().unwrap().access_key_id(),
        "ini"
    );
    home.write(".aliyun/config.json", r#"{"current":"a","profiles":[{"name":"a","mode":"AK","access_key_id":"cli","access_key_secret":"s"}]}"#);
    assert_eq!(
        chain(home.env()).credentials().unwrap().access_key_id(),
        "cli"
    );
    let no_cli = home.env().var("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true");
    assert_eq!(chain(no_cli).credentials().unwrap().access_key_id(), "ini");
    // OIDC (all three variables) before the profiles; the environment before everything.
    let oidc = home
        .env()
        .var("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/r")
        .var(
            "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
            "acs:ram::1:oidc-provider/p",
        )
        .var(
            "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
            token_file.to_str().unwrap(),
        );
    assert_eq!(
        chain(oidc.clone()).credentials().unwrap().security_token(),
        Some(TOKEN)
    );
    assert_eq!(sts.calls().len(), 1);
    let keys = oidc
        .var("ALIBABA_CLOUD_ACCESS_KEY_ID", "env-id")
        .var("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "s");
    assert_eq!(
        chain(keys.clone()).credentials().unwrap().access_key_id(),
        "env-id"
    );
    let oss_keys = keys
        .var("OSS_ACCESS_KEY_ID", "oss-id")
        .var("OSS_ACCESS_KEY_SECRET", "s");
    assert_eq!(
        chain(oss_keys).credentials().unwrap().access_key_id(),
        "oss-id"
    );
}

#[test]
fn default_chain_error_lists_every_reason_on_one_line() {
    let home = Home::new("chain-empty");
    let env = home
        .env()
        .var("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true");
    let chain = DefaultCredentialsChain::with_environment(env);
    let err = chain.credentials().unwrap_err();
    let text = err.to_string();
    assert!(!text.contains('\n'), "{text}");
    for part in [
        "[environment] no credentials in the environment",
        "[cli_profile] CliProfileCredentialsProvider: cannot read",
        ".aliyun/config.json",
        "[profile] ProfileCredentialsProvider: cannot read",
        ".alibabacloud/credentials",
    ] {
        assert!(text.contains(part), "{part}: {text}");
    }
    assert!(!err.is_transient());
    assert!(!text.contains("ecs_ram_role"));
}

#[test]
fn a_token_refreshed_mid_way_is_used_by_the_next_request() {
    // Two credentials in turn from one provider: each upload signs with the one current then.
    let (emu, creds) = oss_with_token();
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counter = std::sync::Arc::clone(&calls);
    let provider = move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(creds.clone())
    };
    let client = oss::Client::new(emu.config().credentials_provider(provider));
    for i in 0..3 {
        client
            .put_object(oss::PutObjectRequest::new(emu.bucket(), format!("k{i}")).body("x"))
            .unwrap();
    }
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::SeqCst),
        3,
        "asked at every request"
    );
}

#[test]
fn no_provider_or_stand_in_shows_a_secret_in_debug() {
    const SECRET: &str = "dEbUg-Secret-Value-123";
    const TOKEN2: &str = "dEbUg-Token-Value-456";
    let issued = Credentials::new("STS.id", SECRET).with_security_token(TOKEN2);
    let sts = StsServer::builder()
        .caller(Credentials::new("c", SECRET).with_security_token(TOKEN2))
        .issue(issued.clone())
        .oidc_token(TOKEN2)
        .start()
        .unwrap();
    let metadata = EcsMetadataServer::builder()
        .credentials(issued.clone())
        .start()
        .unwrap();
    let ecs_provider = ecs(&metadata);
    ecs_provider.credentials().unwrap();
    let role = StsAssumeRoleCredentialsProvider::new(
        sts.caller_credentials_provider(),
        "acs:ram::1:role/r",
    )
    .environment(Environment::empty())
    .sts_endpoint(sts.endpoint());
    role.credentials().unwrap();
    let env = Environment::empty()
        .var("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .var("ALIBABA_CLOUD_SECURITY_TOKEN", TOKEN2);
    let texts = [
        format!("{ecs_provider:?}"),
        format!("{role:?}"),
        format!("{:?}", sts.calls()),
        format!("{sts:?} {metadata:?}"),
        format!("{:?}", StsServer::builder().oidc_token(TOKEN2)),
        format!(
            "{:?}",
            EcsMetadataServer::builder().credentials(issued.clone())
        ),
        format!(
            "{:?}",
            DefaultCredentialsChain::with_environment(
                env.clone()
                    .var("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
            )
        ),
        format!(
            "{:?}",
            EnvironmentVariableCredentialsProvider::from_environment(env.clone())
        ),
        format!("{env:?}"),
        format!(
            "{:?}",
            UriCredentialsProvider::new(format!("http://127.0.0.1:1/c?token={TOKEN2}"))
        ),
        format!(
            "{:?}",
            CachingCredentialsProvider::new(StaticCredentialsProvider::new("id", SECRET))
        ),
    ];
    for text in texts {
        assert!(!text.contains(SECRET) && !text.contains(TOKEN2), "{text}");
    }
}

#[test]
fn sts_over_https_verifies_the_certificate_with_the_given_ca() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tls");
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    let sts = StsServer::start().unwrap();
    let front = oss::emulator::TlsFront::start_for(
        sts.addr(),
        &read("server.pem"),
        &read("server-key.pem"),
    )
    .unwrap();
    let provider = || {
        StsAssumeRoleCredentialsProvider::new(
            sts.caller_credentials_provider(),
            "acs:ram::1:role/r",
        )
        .environment(Environment::empty())
        .sts_endpoint(front.endpoint())
    };
    let err = provider().credentials().unwrap_err();
    assert!(
        !err.is_transient(),
        "an unknown CA is not worth retrying: {err}"
    );
    assert!(err.to_string().contains("https://127.0.0.1:"), "{err}");
    let cause = std::error::Error::source(&err).unwrap().to_string();
    assert!(cause.contains("certificate"), "the cause says why: {cause}");
    assert!(sts.calls().is_empty());
    provider().tls_ca_pem(read("ca.pem")).credentials().unwrap();
    assert_eq!(sts.calls().len(), 1);
}

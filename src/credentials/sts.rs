//! STS: AssumeRole (RPC-signed with the source credentials) and AssumeRoleWithOIDC (RRSA,
//! unsigned, the token in the POST body), fact sheet §6.1, §6.3, §6.4.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::caching::Cache;
use super::http::{status_error, Http};
use super::{wire, Credentials, CredentialsError, CredentialsProvider, Environment};
use crate::signer::{
    format_iso8601, rpc_canonical_query, rpc_signature, rpc_string_to_sign, RPC_SIGNATURE_METHOD,
    RPC_SIGNATURE_VERSION,
};

pub(crate) const ENV_ROLE_ARN: &str = "ALIBABA_CLOUD_ROLE_ARN";
pub(crate) const ENV_ROLE_SESSION_NAME: &str = "ALIBABA_CLOUD_ROLE_SESSION_NAME";
pub(crate) const ENV_OIDC_PROVIDER_ARN: &str = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN";
pub(crate) const ENV_OIDC_TOKEN_FILE: &str = "ALIBABA_CLOUD_OIDC_TOKEN_FILE";
pub(crate) const ENV_STS_REGION: &str = "ALIBABA_CLOUD_STS_REGION";
pub(crate) const ENV_VPC_ENDPOINT_ENABLED: &str = "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED";

/// STS API version.
const STS_VERSION: &str = "2015-04-01";
/// The default session length.
pub(crate) const DEFAULT_DURATION: Duration = Duration::from_secs(3600);
/// The shortest session STS issues.
pub(crate) const MIN_DURATION: Duration = Duration::from_secs(900);
/// The longest session any role allows (`MaxSessionDuration` ≤ 12 h).
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(43_200);
/// STS timeouts: those of an OSS request (issue 12), connect 10 s and read 20 s; the
/// credentials libraries use 5 s and 10 s.
const CONNECT_TIMEOUT: Duration = crate::DEFAULT_CONNECT_TIMEOUT;
const READ_TIMEOUT: Duration = crate::DEFAULT_READWRITE_TIMEOUT;

/// Where STS is: the option, else region/VPC (option or environment), else the global host.
#[derive(Clone, Debug, Default)]
pub(crate) struct StsEndpoint {
    pub explicit: Option<String>,
    pub region: Option<String>,
    pub vpc: bool,
}

impl StsEndpoint {
    fn from_env(env: &Environment) -> Self {
        StsEndpoint {
            explicit: None,
            region: env.get(ENV_STS_REGION).map(str::to_string),
            vpc: env.flag(ENV_VPC_ENDPOINT_ENABLED),
        }
    }

    /// The base URL, `https://` unless the option names a scheme.
    pub(crate) fn url(&self) -> String {
        let host = match (&self.explicit, &self.region) {
            (Some(explicit), _) => explicit.trim().trim_end_matches('/').to_string(),
            (None, Some(region)) if self.vpc => format!("sts-vpc.{region}.aliyuncs.com"),
            (None, Some(region)) => format!("sts.{region}.aliyuncs.com"),
            (None, None) => "sts.aliyuncs.com".to_string(),
        };
        if host.contains("://") {
            host
        } else {
            format!("https://{host}")
        }
    }
}

/// The options both STS providers share, checked before anything is sent.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub duration: Duration,
    pub policy: Option<String>,
    pub endpoint: StsEndpoint,
}

impl Session {
    /// An empty `role_arn` is taken from `ALIBABA_CLOUD_ROLE_ARN`.
    fn new(role_arn: String, env: &Environment) -> Self {
        let role_arn = match (role_arn.trim().is_empty(), env.get(ENV_ROLE_ARN)) {
            (true, Some(from_env)) => from_env.to_string(),
            _ => role_arn,
        };
        Session {
            role_arn,
            session_name: env.get(ENV_ROLE_SESSION_NAME).map(str::to_string),
            duration: DEFAULT_DURATION,
            policy: None,
            endpoint: StsEndpoint::from_env(env),
        }
    }

    /// The session name to send: the option or variable, else `oss-blocking-<unix seconds>`.
    fn session_name(&self, now: SystemTime) -> String {
        self.session_name.clone().unwrap_or_else(|| {
            let secs = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
            format!("oss-blocking-{secs}")
        })
    }

    /// Checks every option against STS's rules; the error names the field and the rule.
    fn validate(&self, who: &str) -> Result<(), CredentialsError> {
        let bad = |m: String| Err(CredentialsError::new(format!("{who}: invalid field, {m}")));
        if self.role_arn.trim().is_empty() {
            return bad(format!(
                "role_arn: empty (give the role's ARN, acs:ram::<account>:role/<name>, or set {ENV_ROLE_ARN})"
            ));
        }
        if self.duration < MIN_DURATION || self.duration > MAX_DURATION {
            return bad(format!(
                "duration: {} s is outside 900..=43200 s (STS's minimum, and the longest MaxSessionDuration a role can have)",
                self.duration.as_secs()
            ));
        }
        if let Some(name) = &self.session_name {
            let ok_chars = name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".@_-".contains(c));
            if !(2..=64).contains(&name.len()) || !ok_chars {
                return bad(format!(
                    "role_session_name: {name:?} must be 2 to 64 characters of A-Z a-z 0-9 . @ _ -"
                ));
            }
        }
        if let Some(policy) = &self.policy {
            if policy.is_empty() || policy.len() > 2048 {
                return bad("policy: must be 1 to 2048 characters of JSON".to_string());
            }
        }
        Ok(())
    }

    /// The parameters both actions share.
    fn params(&self, action: &str, now: SystemTime) -> Vec<(String, String)> {
        let mut p = vec![
            ("Action", action.to_string()),
            ("Format", "JSON".to_string()),
            ("Version", STS_VERSION.to_string()),
            ("Timestamp", format_iso8601(now)),
            ("RoleArn", self.role_arn.clone()),
            ("RoleSessionName", self.session_name(now)),
            ("DurationSeconds", self.duration.as_secs().to_string()),
        ];
        if let Some(policy) = &self.policy {
            p.push(("Policy", policy.clone()));
        }
        p.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }
}

/// The AssumeRole parameters signed with `source` (pure, for the vectors): the session's, the
/// signature parameters, `AccessKeyId`, `SecurityToken` when the source has one, then
/// `Signature` over all of them for `method`.
pub(crate) fn signed_assume_role_params(
    method: &str,
    mut params: Vec<(String, String)>,
    external_id: Option<&str>,
    source: &Credentials,
    nonce: &str,
) -> Vec<(String, String)> {
    let mut add = |k: &str, v: &str| params.push((k.to_string(), v.to_string()));
    if let Some(id) = external_id {
        add("ExternalId", id);
    }
    add("SignatureMethod", RPC_SIGNATURE_METHOD);
    add("SignatureVersion", RPC_SIGNATURE_VERSION);
    add("SignatureNonce", nonce);
    add("AccessKeyId", source.access_key_id());
    if let Some(token) = source.security_token() {
        add("SecurityToken", token);
    }
    let signature = rpc_signature(
        source.access_key_secret(),
        &rpc_string_to_sign(method, &params),
    );
    params.push(("Signature".to_string(), signature));
    params
}

/// A nonce unique per request: a random 64-bit value and a process-wide counter.
fn nonce() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let random = RandomState::new().build_hasher().finish();
    format!("{random:016x}-{n:08x}")
}

/// POSTs the form to STS and reads the credentials; `secrets` are cut from any text the
/// answer echoes.
fn call_sts(
    http: &Http,
    who: &str,
    endpoint: &StsEndpoint,
    params: &[(String, String)],
    secrets: &[&str],
) -> Result<Credentials, CredentialsError> {
    let url = format!("{}/", endpoint.url());
    let what = format!("POST {url} Action={}", action_of(params));
    let body = rpc_canonical_query(params);
    let headers = [
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Accept", "application/json"),
    ];
    let reply = http.call(who, "POST", &url, &headers, Some(body.as_bytes()))?;
    if reply.status != 200 {
        let detail = wire::redact(&sts_error_detail(&reply.body), secrets);
        return Err(status_error(who, &what, reply.status, &detail));
    }
    let bad = |why: String| CredentialsError::new(format!("{who}: {what}: {why}"));
    let map =
        crate::json::parse_object(&reply.body).map_err(|e| bad(format!("the answer is {e}")))?;
    let inner = wire::object(&map, "Credentials")
        .ok_or_else(|| bad("the answer has no Credentials object".to_string()))?;
    let required = wire::Required {
        token: true,
        expiration: true,
    };
    wire::credentials(inner, required).map_err(|e| bad(e.replace("the answer", "Credentials")))
}

fn action_of(params: &[(String, String)]) -> &str {
    params
        .iter()
        .find(|(k, _)| k == "Action")
        .map_or("", |(_, v)| v.as_str())
}

/// `Code: Message (RequestId …)` from an STS error answer, or a note that it was not JSON.
/// The caller redacts it.
fn sts_error_detail(body: &str) -> String {
    let Ok(map) = crate::json::parse_object(body) else {
        return "the answer is not a JSON error document".to_string();
    };
    let text = |k: &str| {
        wire::string(&map, k)
            .unwrap_or("")
            .chars()
            .take(512)
            .collect::<String>()
    };
    let mut detail = format!("{}: {}", text("Code"), text("Message"));
    if !text("RequestId").is_empty() {
        detail.push_str(&format!(" (RequestId {})", text("RequestId")));
    }
    detail
}

/// The setters both STS providers take (session name, duration, policy, endpoint, TLS),
/// written once for types with `session: Session` and `http: Http` fields.
macro_rules! session_setters {
    () => {
        /// Reads the session name, STS region and VPC settings from `env` instead.
        pub fn environment(mut self, env: Environment) -> Self {
            let role_arn = std::mem::take(&mut self.session.role_arn);
            self.session = Session::new(role_arn, &env);
            self
        }

        /// The `RoleSessionName` (2 to 64 characters of `A-Z a-z 0-9 . @ _ -`).
        pub fn role_session_name(mut self, name: impl Into<String>) -> Self {
            self.session.session_name = Some(name.into());
            self
        }

        /// How long the credentials last, 900 s to 43200 s (and at most the role's
        /// `MaxSessionDuration`); default 3600 s.
        pub fn duration(mut self, duration: Duration) -> Self {
            self.session.duration = duration;
            self
        }

        /// A policy (JSON, 1 to 2048 characters) that narrows the role's permissions.
        pub fn policy(mut self, policy: impl Into<String>) -> Self {
            self.session.policy = Some(policy.into());
            self
        }

        /// The STS endpoint, a host or a URL (`https://` is assumed without a scheme).
        pub fn sts_endpoint(mut self, endpoint: impl Into<String>) -> Self {
            self.session.endpoint.explicit = Some(endpoint.into());
            self
        }

        /// The STS region (`sts.<region>.aliyuncs.com`), when no endpoint is given.
        pub fn sts_region(mut self, region: impl Into<String>) -> Self {
            self.session.endpoint.region = Some(region.into());
            self
        }

        /// Use the VPC endpoint `sts-vpc.<region>.aliyuncs.com`.
        pub fn enable_vpc(mut self, vpc: bool) -> Self {
            self.session.endpoint.vpc = vpc;
            self
        }

        /// Trust only these CA certificates (PEM; repeatable) for the STS endpoint instead of the
        /// built-in roots, as [`crate::Config::tls_ca_pem`] does for OSS; certificates are always
        /// verified.
        pub fn tls_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
            self.http = self.http.add_ca_pem(pem.into());
            self
        }
    };
}

/// Temporary credentials of a RAM role, from STS `AssumeRole`, signed with the credentials of
/// another provider (the source: long-term keys, STS keys, or any provider).
///
/// The rule: the request is an RPC POST to `<endpoint>/` with every parameter in the form
/// body (none in the URL), signed with HMAC-SHA1 and RFC 3986 encoding (a space is `%20`). The
/// endpoint is [`sts_endpoint`](Self::sts_endpoint), else `sts[-vpc].<region>.aliyuncs.com`
/// from [`sts_region`](Self::sts_region)/`ALIBABA_CLOUD_STS_REGION` and
/// `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED`, else `sts.aliyuncs.com`. The session name is the
/// option, else `ALIBABA_CLOUD_ROLE_SESSION_NAME`, else `oss-blocking-<unix seconds>`; the
/// duration defaults to 3600 s and must be 900..=43200 s. The answer must hold `Credentials`
/// with all four fields. Timeouts are an OSS request's (connect 10 s, read 20 s). Results
/// are cached like [`super::CachingCredentialsProvider`]. Error texts never contain the
/// source secret or token, even when STS echoes them.
///
/// ```
/// use oss_blocking::credentials::*;
/// use std::time::Duration;
/// # let sts = oss_blocking::emulator::StsServer::start()?;
/// let source = StaticCredentialsProvider::new("LTAI-example", "example-secret");
/// # let source = sts.caller_credentials_provider();
/// let provider = StsAssumeRoleCredentialsProvider::new(source, "acs:ram::123:role/uploader")
///     .role_session_name("nightly-backup")
///     .duration(Duration::from_secs(3600))
///     .external_id("abcd1234")
/// #   .environment(Environment::empty()).sts_endpoint(sts.endpoint());
/// # /*
///     .sts_endpoint("https://sts.cn-hangzhou.aliyuncs.com");
/// # */
/// let creds = provider.credentials().unwrap();
/// assert!(creds.security_token().is_some());
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct StsAssumeRoleCredentialsProvider {
    source: Box<dyn CredentialsProvider>,
    session: Session,
    external_id: Option<String>,
    http: Http,
    cache: Cache,
}

const ASSUME_ROLE: &str = "StsAssumeRoleCredentialsProvider";

impl StsAssumeRoleCredentialsProvider {
    /// Assumes `role_arn` (empty: `ALIBABA_CLOUD_ROLE_ARN`) with `source`'s credentials,
    /// reading the process environment now.
    pub fn new(source: impl CredentialsProvider + 'static, role_arn: impl Into<String>) -> Self {
        StsAssumeRoleCredentialsProvider {
            source: Box::new(source),
            session: Session::new(role_arn.into(), &Environment::process()),
            external_id: None,
            http: Http::new(CONNECT_TIMEOUT, READ_TIMEOUT),
            cache: Cache::new(ASSUME_ROLE),
        }
    }

    session_setters!();

    /// The `ExternalId` the role's trust policy asks for (2 to 1224 characters of
    /// `A-Z a-z 0-9 _ + = , . @ : / -`).
    pub fn external_id(mut self, id: impl Into<String>) -> Self {
        self.external_id = Some(id.into());
        self
    }

    fn validate(&self) -> Result<(), CredentialsError> {
        self.session.validate(ASSUME_ROLE)?;
        if let Some(id) = &self.external_id {
            let ok = id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c));
            if !(2..=1224).contains(&id.len()) || !ok {
                return Err(CredentialsError::new(format!(
                    "{ASSUME_ROLE}: invalid field, external_id: must be 2 to 1224 characters of A-Z a-z 0-9 _ + = , . @ : / -"
                )));
            }
        }
        Ok(())
    }

    fn fetch(&self) -> Result<Credentials, CredentialsError> {
        self.validate()?;
        let source = self.source.credentials().map_err(|e| {
            let transient = e.is_transient();
            let err = CredentialsError::with_source(
                format!("{ASSUME_ROLE}: the source provider gave no credentials"),
                e,
            );
            if transient {
                err.into_transient()
            } else {
                err
            }
        })?;
        if !source.has_keys() {
            return Err(CredentialsError::new(format!(
                "{ASSUME_ROLE}: the source provider gave an empty AccessKey ID or secret"
            )));
        }
        let now = SystemTime::now();
        let params = signed_assume_role_params(
            "POST",
            self.session.params("AssumeRole", now),
            self.external_id.as_deref(),
            &source,
            &nonce(),
        );
        let secrets = [
            source.access_key_secret(),
            source.security_token().unwrap_or(""),
        ];
        call_sts(
            &self.http,
            ASSUME_ROLE,
            &self.session.endpoint,
            &params,
            &secrets,
        )
    }
}

impl CredentialsProvider for StsAssumeRoleCredentialsProvider {
    fn credentials(&self) -> Result<Credentials, CredentialsError> {
        self.cache.get(|| self.fetch())
    }
}

impl std::fmt::Debug for StsAssumeRoleCredentialsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(ASSUME_ROLE)
            .field("role_arn", &self.session.role_arn)
            .field("endpoint", &self.session.endpoint.url())
            .finish_non_exhaustive()
    }
}

const OIDC: &str = "OidcRoleCredentialsProvider";

/// Temporary credentials of a RAM role for a Kubernetes service account (ACK RRSA), from STS
/// `AssumeRoleWithOIDC`.
///
/// The rule: the OIDC token file is read again at every refresh (it is rotated) and sent as
/// is, in the POST form body with the other parameters, never in a URL; the request is not
/// signed. The endpoint, session name and duration follow
/// [`StsAssumeRoleCredentialsProvider`]'s rules. [`from_env`](Self::from_env) reads
/// `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN` and
/// `ALIBABA_CLOUD_OIDC_TOKEN_FILE` (the RRSA webhook sets them in the pod). Cached like
/// [`super::CachingCredentialsProvider`].
///
/// ```
/// use oss_blocking::credentials::*;
/// # let sts = oss_blocking::emulator::StsServer::start()?;
/// # let dir = std::env::temp_dir().join(format!("oidc-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # let token_file = dir.join("token");
/// # std::fs::write(&token_file, "eyJhbGciOiJSUzI1NiJ9.e30.sig")?;
/// let provider = OidcRoleCredentialsProvider::new(
///     "acs:ram::123:role/rrsa",
///     "acs:ram::123:oidc-provider/ack-rrsa-c1",
///     &token_file,
/// )
/// .role_session_name("pod-uploader")
/// # .environment(Environment::empty()).sts_endpoint(sts.endpoint());
/// # /*
/// .sts_endpoint("https://sts.cn-hangzhou.aliyuncs.com");
/// # */
/// assert!(provider.credentials().unwrap().expiration().is_some());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct OidcRoleCredentialsProvider {
    session: Session,
    oidc_provider_arn: String,
    token_file: PathBuf,
    http: Http,
    cache: Cache,
}

impl OidcRoleCredentialsProvider {
    /// A provider for this role, OIDC provider and token file, reading the process
    /// environment now (session name, STS region, VPC).
    pub fn new(
        role_arn: impl Into<String>,
        oidc_provider_arn: impl Into<String>,
        token_file: impl AsRef<std::path::Path>,
    ) -> Self {
        OidcRoleCredentialsProvider {
            session: Session::new(role_arn.into(), &Environment::process()),
            oidc_provider_arn: oidc_provider_arn.into(),
            token_file: token_file.as_ref().to_path_buf(),
            http: Http::new(CONNECT_TIMEOUT, READ_TIMEOUT),
            cache: Cache::new(OIDC),
        }
    }

    /// From the three RRSA variables of the process environment; the error names those unset.
    pub fn from_env() -> Result<Self, CredentialsError> {
        Self::from_environment(Environment::process())
    }

    /// From the three RRSA variables of `env`; the error names those unset.
    pub fn from_environment(env: Environment) -> Result<Self, CredentialsError> {
        let names = [ENV_ROLE_ARN, ENV_OIDC_PROVIDER_ARN, ENV_OIDC_TOKEN_FILE];
        let missing: Vec<&str> = names.into_iter().filter(|n| env.get(n).is_none()).collect();
        match (
            env.get(ENV_ROLE_ARN),
            env.get(ENV_OIDC_PROVIDER_ARN),
            env.get(ENV_OIDC_TOKEN_FILE),
        ) {
            (Some(role), Some(provider), Some(file)) => {
                Ok(Self::new(role, provider, file).environment(env))
            }
            _ => Err(CredentialsError::new(format!(
                "{OIDC}: not configured: {} unset (all three of {ENV_ROLE_ARN}, \
                 {ENV_OIDC_PROVIDER_ARN} and {ENV_OIDC_TOKEN_FILE} are needed)",
                missing.join(", ")
            ))),
        }
    }

    session_setters!();

    fn fetch(&self) -> Result<Credentials, CredentialsError> {
        self.session.validate(OIDC)?;
        if self.oidc_provider_arn.trim().is_empty() {
            return Err(CredentialsError::new(format!(
                "{OIDC}: invalid field, oidc_provider_arn: empty (or set {ENV_OIDC_PROVIDER_ARN})"
            )));
        }
        let path = self.token_file.display();
        let token = std::fs::read_to_string(&self.token_file).map_err(|e| {
            CredentialsError::with_source(
                format!("{OIDC}: cannot read the OIDC token file {path}"),
                e,
            )
        })?;
        if token.trim().is_empty() {
            return Err(CredentialsError::new(format!(
                "{OIDC}: the OIDC token file {path} is empty"
            )));
        }
        let mut params = self.session.params("AssumeRoleWithOIDC", SystemTime::now());
        params.push((
            "OIDCProviderArn".to_string(),
            self.oidc_provider_arn.clone(),
        ));
        params.push(("OIDCToken".to_string(), token.clone()));
        call_sts(&self.http, OIDC, &self.session.endpoint, &params, &[&token])
    }
}

impl CredentialsProvider for OidcRoleCredentialsProvider {
    fn credentials(&self) -> Result<Credentials, CredentialsError> {
        self.cache.get(|| self.fetch())
    }
}

impl std::fmt::Debug for OidcRoleCredentialsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(OIDC)
            .field("role_arn", &self.session.role_arn)
            .field("oidc_provider_arn", &self.oidc_provider_arn)
            .field("token_file", &self.token_file)
            .field("endpoint", &self.session.endpoint.url())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::BTreeMap;

    fn vectors(section: &str) -> Vec<Value> {
        let all: Value = crate::test_vectors::all_next();
        all[section].as_array().unwrap().clone()
    }

    fn pinned_time() -> SystemTime {
        crate::signer::parse_iso8601("2024-03-15T08:30:00Z").unwrap()
    }

    /// Our parameters for a vector's inputs, signed with its pinned nonce and time, equal the
    /// vector's parameter set and signature (signed as GET, as the vector was).
    #[test]
    fn assume_role_params_and_signature_match_the_vectors() {
        let mut checked = 0;
        for case in vectors("sts_assume_role") {
            let (Some(inputs), Some(out)) = (case.get("inputs"), case.get("outputs")) else {
                continue;
            };
            if out["generator_computed"]["same_as_sdk"] != true {
                continue; // the space case: see signer::rpc's test
            }
            let s = |k: &str| inputs.get(k).and_then(Value::as_str).map(str::to_string);
            let session = Session {
                role_arn: s("role_arn").unwrap(),
                session_name: s("role_session_name"),
                duration: Duration::from_secs(
                    inputs
                        .get("duration_seconds")
                        .and_then(Value::as_u64)
                        .unwrap_or(3600),
                ),
                policy: s("policy"),
                endpoint: StsEndpoint {
                    explicit: None,
                    region: s("sts_region_id"),
                    vpc: inputs.get("enable_vpc") == Some(&Value::Bool(true)),
                },
            };
            let mut source =
                Credentials::new(s("access_key_id").unwrap(), s("access_key_secret").unwrap());
            if let Some(token) = s("security_token") {
                source = source.with_security_token(token);
            }
            let nonce = case["pinned"]["SignatureNonce"].as_str().unwrap();
            let params = signed_assume_role_params(
                "GET",
                session.params("AssumeRole", pinned_time()),
                s("external_id").as_deref(),
                &source,
                nonce,
            );
            let mut ours: BTreeMap<String, String> = params.into_iter().collect();
            let signature = ours.remove("Signature").unwrap();
            let want: BTreeMap<String, String> = out["params_signed"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            assert_eq!(ours, want, "{}", case["id"]);
            assert_eq!(
                signature,
                out["Signature"].as_str().unwrap(),
                "{}",
                case["id"]
            );
            assert_eq!(
                format!("{}", session.endpoint.url()),
                format!("https://{}", out["host"].as_str().unwrap())
            );
            checked += 1;
        }
        assert_eq!(checked, 3);
    }

    #[test]
    fn oidc_params_match_the_vector() {
        let case = &vectors("oidc_assume_role")[0];
        let inputs = &case["inputs"];
        let session = Session {
            role_arn: inputs["role_arn"].as_str().unwrap().to_string(),
            session_name: Some(inputs["role_session_name"].as_str().unwrap().to_string()),
            duration: DEFAULT_DURATION,
            policy: None,
            endpoint: StsEndpoint::default(),
        };
        let mut params = session.params("AssumeRoleWithOIDC", pinned_time());
        params.push((
            "OIDCProviderArn".into(),
            inputs["oidc_provider_arn"].as_str().unwrap().into(),
        ));
        params.push((
            "OIDCToken".into(),
            inputs["token_file_content"].as_str().unwrap().into(),
        ));
        let ours: BTreeMap<String, String> = params.into_iter().collect();
        let want: BTreeMap<String, String> = case["outputs"]["query"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        assert_eq!(ours, want);
    }

    #[test]
    fn endpoint_rule() {
        let e = |explicit: Option<&str>, region: Option<&str>, vpc| {
            StsEndpoint {
                explicit: explicit.map(Into::into),
                region: region.map(Into::into),
                vpc,
            }
            .url()
        };
        assert_eq!(e(None, None, false), "https://sts.aliyuncs.com");
        assert_eq!(e(None, None, true), "https://sts.aliyuncs.com");
        assert_eq!(
            e(None, Some("cn-shanghai"), false),
            "https://sts.cn-shanghai.aliyuncs.com"
        );
        assert_eq!(
            e(None, Some("cn-shanghai"), true),
            "https://sts-vpc.cn-shanghai.aliyuncs.com"
        );
        assert_eq!(
            e(Some("sts.cn-hangzhou.aliyuncs.com"), Some("x"), true),
            "https://sts.cn-hangzhou.aliyuncs.com"
        );
        assert_eq!(
            e(Some("http://127.0.0.1:9/"), None, false),
            "http://127.0.0.1:9"
        );
        let env = Environment::empty()
            .var(ENV_STS_REGION, "cn-beijing")
            .var(ENV_VPC_ENDPOINT_ENABLED, "true");
        assert_eq!(
            StsEndpoint::from_env(&env).url(),
            "https://sts-vpc.cn-beijing.aliyuncs.com"
        );
    }

    #[test]
    fn bad_options_are_refused_before_sending_naming_the_field() {
        let p = |f: fn(StsAssumeRoleCredentialsProvider) -> StsAssumeRoleCredentialsProvider| {
            let base = StsAssumeRoleCredentialsProvider::new(
                || Ok(Credentials::new("id", "secret")),
                "acs:ram::1:role/r",
            )
            .environment(Environment::empty())
            .sts_endpoint("http://127.0.0.1:9");
            f(base).credentials().unwrap_err().to_string()
        };
        assert!(p(|b| b.duration(Duration::from_secs(899))).contains("duration: 899 s"));
        assert!(p(|b| b.duration(Duration::from_secs(43_201))).contains("duration"));
        assert!(p(|b| b.role_session_name("a")).contains("role_session_name"));
        assert!(p(|b| b.role_session_name("has space")).contains("role_session_name"));
        assert!(p(|b| b.external_id("x")).contains("external_id"));
        assert!(p(|b| b.policy("")).contains("policy"));
        let err = StsAssumeRoleCredentialsProvider::new(|| Ok(Credentials::new("id", "s")), "")
            .environment(Environment::empty())
            .credentials()
            .unwrap_err();
        assert!(err.to_string().contains("role_arn") && !err.is_transient());
    }

    #[test]
    fn oidc_from_environment_names_the_missing_variables() {
        let env = Environment::empty().var(ENV_ROLE_ARN, "acs:ram::1:role/r");
        let err = OidcRoleCredentialsProvider::from_environment(env)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains(ENV_OIDC_PROVIDER_ARN) && err.contains(ENV_OIDC_TOKEN_FILE),
            "{err}"
        );
        assert!(!err.contains(&format!("{ENV_ROLE_ARN} unset")));
    }

    #[test]
    fn an_empty_role_arn_comes_from_the_environment() {
        let env = Environment::empty().var(ENV_ROLE_ARN, "acs:ram::1:role/env");
        assert_eq!(
            Session::new(String::new(), &env).role_arn,
            "acs:ram::1:role/env"
        );
        assert_eq!(
            Session::new("acs:ram::1:role/opt".into(), &env).role_arn,
            "acs:ram::1:role/opt"
        );
    }

    #[test]
    fn nonces_differ() {
        assert_ne!(nonce(), nonce());
    }

    #[test]
    fn sts_error_details_are_short_and_parsed() {
        let body = r#"{"RequestId": "X", "HostId": "sts.aliyuncs.com", "Code": "NoPermission", "Message": "You are not authorized to do this action. You should be authorized by RAM."}"#;
        assert_eq!(sts_error_detail(body), "NoPermission: You are not authorized to do this action. You should be authorized by RAM. (RequestId X)");
        assert!(sts_error_detail("<html>").contains("not a JSON"));
    }
}

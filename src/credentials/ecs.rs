//! ECS RAM role credentials from the instance metadata service (fact sheet §6.5).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::caching::Cache;
use super::http::{status_error, Http};
use super::{wire, Credentials, CredentialsError, CredentialsProvider, Environment};

const WHO: &str = "EcsRamRoleCredentialsProvider";
/// The real metadata service (plain HTTP, link-local to every ECS instance).
pub(crate) const DEFAULT_METADATA_ENDPOINT: &str = "http://100.100.100.200";
const TOKEN_PATH: &str = "/latest/api/token";
const ROLE_PATH: &str = "/latest/meta-data/ram/security-credentials/";
const TOKEN_TTL_HEADER: &str = "X-aliyun-ecs-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "X-aliyun-ecs-metadata-token";
/// The token lifetime asked for (6 h, the service's maximum).
const TOKEN_TTL: Duration = Duration::from_secs(21_600);
/// A token is fetched again this long before it would end.
const TOKEN_MARGIN: Duration = Duration::from_secs(300);
/// Connect and read timeouts of the credentials libraries: off ECS this is the cost of a try.
const TIMEOUT: Duration = Duration::from_secs(1);

pub(crate) const ENV_ECS_METADATA: &str = "ALIBABA_CLOUD_ECS_METADATA";
pub(crate) const ENV_ECS_METADATA_DISABLED: &str = "ALIBABA_CLOUD_ECS_METADATA_DISABLED";
pub(crate) const ENV_IMDSV1_DISABLED: &str = "ALIBABA_CLOUD_IMDSV1_DISABLED";

/// Credentials of the RAM role attached to this ECS instance, from its metadata service.
///
/// The rule, per refresh: a metadata token is taken first (`PUT /latest/api/token`, 6 h TTL,
/// kept until 5 minutes before it ends, not fetched for every request); without one the
/// requests go unauthenticated (IMDSv1) unless [`disable_imdsv1`](Self::disable_imdsv1) or
/// `ALIBABA_CLOUD_IMDSV1_DISABLED=true` says the token is required. The role name comes from
/// [`role_name`](Self::role_name), else `ALIBABA_CLOUD_ECS_METADATA`, else the role list
/// (trimmed). The credentials answer must have `Code` `Success` and all of `AccessKeyId`,
/// `AccessKeySecret`, `SecurityToken` and `Expiration`. With
/// `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true` the provider sends nothing and says so. Timeouts
/// are 1 s (connect) and 1 s (read); results are cached like [`super::CachingCredentialsProvider`].
///
/// ```
/// use oss_blocking::credentials::{CredentialsProvider, EcsRamRoleCredentialsProvider, Environment};
/// # let metadata = oss_blocking::emulator::EcsMetadataServer::builder().start()?;
/// let provider = EcsRamRoleCredentialsProvider::new()
///     .role_name("EcsRamRoleOss")
///     .disable_imdsv1(true)
/// #   .environment(Environment::empty()).endpoint(metadata.endpoint());
/// # let _ = EcsRamRoleCredentialsProvider::new();
/// # /*
///     .endpoint("http://100.100.100.200"); // the default; tests point it at a stand-in
/// # */
/// let creds = provider.credentials().unwrap();
/// assert!(creds.access_key_id().len() > 0);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct EcsRamRoleCredentialsProvider {
    endpoint: String,
    role_name: Option<String>,
    disable_imdsv1: bool,
    disabled: bool,
    http: Http,
    /// The metadata token and when to stop using it.
    token: Mutex<Option<(String, Instant)>>,
    cache: Cache,
}

impl EcsRamRoleCredentialsProvider {
    /// A provider for `http://100.100.100.200`, reading the process environment now.
    pub fn new() -> Self {
        Self::from_environment(Environment::process())
    }

    /// A provider reading `ALIBABA_CLOUD_ECS_METADATA`, `ALIBABA_CLOUD_IMDSV1_DISABLED` and
    /// `ALIBABA_CLOUD_ECS_METADATA_DISABLED` from `env`.
    pub fn from_environment(env: Environment) -> Self {
        EcsRamRoleCredentialsProvider {
            endpoint: DEFAULT_METADATA_ENDPOINT.to_string(),
            role_name: None,
            disable_imdsv1: false,
            disabled: false,
            http: Http::new(TIMEOUT, TIMEOUT),
            token: Mutex::new(None),
            cache: Cache::new(WHO),
        }
        .environment(env)
    }

    /// Re-reads the environment settings from `env` (options set before stay unless `env`
    /// sets the same thing).
    pub fn environment(mut self, env: Environment) -> Self {
        if let Some(role) = env.get(ENV_ECS_METADATA) {
            self.role_name = Some(role.trim().to_string());
        }
        self.disable_imdsv1 |= env.flag(ENV_IMDSV1_DISABLED);
        self.disabled = env.flag(ENV_ECS_METADATA_DISABLED);
        self
    }

    /// The RAM role name; without it the role list is asked.
    pub fn role_name(mut self, name: impl Into<String>) -> Self {
        self.role_name = Some(name.into().trim().to_string());
        self
    }

    /// Requires the metadata token: failing to get one is an error instead of a fallback to
    /// unauthenticated requests.
    pub fn disable_imdsv1(mut self, disable: bool) -> Self {
        self.disable_imdsv1 = disable;
        self
    }

    /// The metadata service (default `http://100.100.100.200`); tests point it at
    /// `emulator::EcsMetadataServer` (feature `emulator`).
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = endpoint.into().trim_end_matches('/').to_string();
        self
    }

    fn fetch(&self) -> Result<Credentials, CredentialsError> {
        if self.disabled {
            return Err(CredentialsError::new(format!(
                "{WHO}: disabled by {ENV_ECS_METADATA_DISABLED}=true"
            )));
        }
        let mut token = self.metadata_token()?;
        let role = match &self.role_name {
            Some(role) if !role.is_empty() => role.clone(),
            _ => self.role_from_list(&mut token)?,
        };
        let path = format!(
            "{ROLE_PATH}{}",
            crate::signer::escape_query_component(&role)
        );
        let body = self.get(&path, &mut token)?;
        parse_answer(&body, &format!("GET {}{path}", self.endpoint))
    }

    fn role_from_list(&self, token: &mut Option<String>) -> Result<String, CredentialsError> {
        let role = self.get(ROLE_PATH, token)?.trim().to_string();
        if role.is_empty() || role.contains(['\n', '/', ' ']) {
            return Err(CredentialsError::new(format!(
                "{WHO}: GET {}{ROLE_PATH}: no single RAM role name in the answer (attach one \
                 role to the instance, or set role_name / {ENV_ECS_METADATA})",
                self.endpoint
            )));
        }
        Ok(role)
    }

    /// The cached metadata token, or a new one; `None` when there is none and IMDSv1 is allowed.
    fn metadata_token(&self) -> Result<Option<String>, CredentialsError> {
        let mut slot = super::caching::lock(&self.token);
        if let Some((token, until)) = slot.as_ref() {
            if Instant::now() < *until {
                return Ok(Some(token.clone()));
            }
        }
        let url = format!("{}{TOKEN_PATH}", self.endpoint);
        let ttl = TOKEN_TTL.as_secs().to_string();
        let what = format!("PUT {url}");
        let result = self
            .http
            .call(WHO, "PUT", &url, &[(TOKEN_TTL_HEADER, &ttl)], Some(b""))
            .and_then(|reply| match reply.status {
                200 if !reply.body.trim().is_empty() => Ok(reply.body.trim().to_string()),
                200 => Err(CredentialsError::new(format!("{WHO}: {what}: empty token"))),
                status => Err(status_error(WHO, &what, status, "")),
            });
        match result {
            Ok(token) => {
                let now = Instant::now();
                let until = now
                    .checked_add(TOKEN_TTL.saturating_sub(TOKEN_MARGIN))
                    .unwrap_or(now);
                *slot = Some((token.clone(), until));
                Ok(Some(token))
            }
            Err(e) if self.disable_imdsv1 => {
                let transient = e.is_transient();
                let err = CredentialsError::with_source(
                    format!(
                        "{WHO}: the metadata token is required (IMDSv1 disabled by \
                         disable_imdsv1 or {ENV_IMDSV1_DISABLED}) and could not be fetched"
                    ),
                    e,
                );
                Err(if transient { err.into_transient() } else { err })
            }
            Err(e) => {
                log::debug!("{e}; going on without a metadata token (IMDSv1)");
                Ok(None)
            }
        }
    }

    /// A metadata GET; a token the service refuses is forgotten and, when IMDSv1 is allowed,
    /// the GET is sent once more without it.
    fn get(&self, path: &str, token: &mut Option<String>) -> Result<String, CredentialsError> {
        let url = format!("{}{path}", self.endpoint);
        let what = format!("GET {url}");
        let mut reply = self.get_once(&url, token.as_deref())?;
        if token.is_some() && matches!(reply.status, 401 | 403) {
            *super::caching::lock(&self.token) = None;
            *token = None;
            if !self.disable_imdsv1 {
                reply = self.get_once(&url, None)?;
            }
        }
        match reply.status {
            200 => Ok(reply.body),
            status => Err(status_error(WHO, &what, status, "")),
        }
    }

    fn get_once(
        &self,
        url: &str,
        token: Option<&str>,
    ) -> Result<super::http::Reply, CredentialsError> {
        let headers: Vec<(&str, &str)> = token.map(|t| (TOKEN_HEADER, t)).into_iter().collect();
        self.http.call(WHO, "GET", url, &headers, None)
    }
}

/// The role credentials answer: `Code` must be `Success`, the four fields present.
fn parse_answer(body: &str, what: &str) -> Result<Credentials, CredentialsError> {
    let bad = |why: String| CredentialsError::new(format!("{WHO}: {what}: {why}"));
    let map = crate::json::parse_object(body).map_err(|e| bad(format!("the answer is {e}")))?;
    match wire::string(&map, "Code") {
        Some("Success") => {}
        Some(code) => {
            return Err(bad(format!(
                "the answer's Code is {:?}, not \"Success\"",
                code.chars().take(64).collect::<String>()
            )))
        }
        None => {
            return Err(bad(
                "the answer has no Code (it must be \"Success\")".to_string()
            ))
        }
    }
    let required = wire::Required {
        token: true,
        expiration: true,
    };
    wire::credentials(&map, required).map_err(bad)
}

impl Default for EcsRamRoleCredentialsProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl CredentialsProvider for EcsRamRoleCredentialsProvider {
    fn credentials(&self) -> Result<Credentials, CredentialsError> {
        self.cache.get(|| self.fetch())
    }
}

impl std::fmt::Debug for EcsRamRoleCredentialsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(WHO)
            .field("endpoint", &self.endpoint)
            .field("role_name", &self.role_name)
            .field("disable_imdsv1", &self.disable_imdsv1)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_with_a_wrong_or_missing_code_or_field_are_named_errors() {
        let good = r#"{"AccessKeyId":"STS.ecsAK","AccessKeySecret":"ecsSecret","Expiration":"2099-03-15T14:30:00Z","SecurityToken":"ecs.token","Code":"Success"}"#;
        let c = parse_answer(good, "GET u").unwrap();
        assert_eq!(c.access_key_id(), "STS.ecsAK");
        let cases = [
            ("not json", "not JSON"),
            ("[]", "not a JSON object"),
            (r#"{"Code":"Failed"}"#, "\"Failed\", not \"Success\""),
            (r#"{"Code":"success","AccessKeyId":"a"}"#, "not \"Success\""),
            (r#"{"AccessKeyId":"a"}"#, "no Code"),
            (
                r#"{"Code":"Success","AccessKeyId":"a","AccessKeySecret":"s","SecurityToken":"t"}"#,
                "Expiration",
            ),
        ];
        for (body, want) in cases {
            let err = parse_answer(body, "GET u").unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains(want) && text.starts_with(WHO),
                "{body}: {text}"
            );
            assert!(!err.is_transient());
        }
        let leaky = r#"{"Code":"Success","AccessKeyId":"a","AccessKeySecret":"topsecret","SecurityToken":"tok3n"}"#;
        let text = parse_answer(leaky, "GET u").unwrap_err().to_string();
        assert!(!text.contains("topsecret") && !text.contains("tok3n"));
    }

    /// Two refreshes share one metadata token (the official libraries PUT once per GET).
    #[cfg(feature = "emulator")]
    #[test]
    fn the_metadata_token_is_kept_across_refreshes() {
        let server = crate::emulator::EcsMetadataServer::builder()
            .require_token(true)
            .start()
            .unwrap();
        let p = EcsRamRoleCredentialsProvider::from_environment(Environment::empty())
            .endpoint(server.endpoint());
        p.fetch().unwrap();
        p.fetch().unwrap();
        let methods: Vec<String> = server.requests().iter().map(|r| r.method.clone()).collect();
        assert_eq!(methods, ["PUT", "GET", "GET", "GET", "GET"]);
    }

    #[test]
    fn disabled_by_the_environment_sends_nothing() {
        let env = Environment::empty().var(ENV_ECS_METADATA_DISABLED, "true");
        // An endpoint nothing listens on: reaching it would be a different (transient) error.
        let p = EcsRamRoleCredentialsProvider::from_environment(env).endpoint("http://127.0.0.1:9");
        let err = p.credentials().unwrap_err();
        assert!(
            err.to_string()
                .contains("ALIBABA_CLOUD_ECS_METADATA_DISABLED=true"),
            "{err}"
        );
        assert!(!err.is_transient());
    }
}

//! The default credentials chain (fact sheet §6.10), in the credentials libraries' order.

use std::sync::Mutex;

use super::caching::lock;
use super::ecs::{EcsRamRoleCredentialsProvider, ENV_ECS_METADATA_DISABLED};
use super::profile::{
    CliProfileCredentialsProvider, ProfileCredentialsProvider, ENV_CLI_PROFILE_DISABLED,
};
use super::sts::{
    OidcRoleCredentialsProvider, ENV_OIDC_PROVIDER_ARN, ENV_OIDC_TOKEN_FILE, ENV_ROLE_ARN,
};
use super::uri::UriCredentialsProvider;
use super::{
    Credentials, CredentialsError, CredentialsProvider, Environment,
    EnvironmentVariableCredentialsProvider,
};

const WHO: &str = "DefaultCredentialsChain";

/// The credentials libraries' default chain, tried in order until one gives credentials:
///
/// 1. environment: `OSS_ACCESS_KEY_ID`/`OSS_ACCESS_KEY_SECRET`/`OSS_SESSION_TOKEN`, then
///    `ALIBABA_CLOUD_ACCESS_KEY_ID`/`…_SECRET`/`ALIBABA_CLOUD_SECURITY_TOKEN`;
/// 2. OIDC (RRSA), only when `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN` and
///    `ALIBABA_CLOUD_OIDC_TOKEN_FILE` are all set;
/// 3. the CLI profile (`~/.aliyun/config.json`), unless `ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true`;
/// 4. the INI profile (`~/.alibabacloud/credentials.ini` or `credentials`);
/// 5. the ECS RAM role, unless `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true`;
/// 6. the credentials URI, only when `ALIBABA_CLOUD_CREDENTIALS_URI` is set.
///
/// The rule for later calls: the chain remembers the provider that last **succeeded** and asks
/// it first; when it then fails with a lasting error (not configured any more, a 4xx) the chain
/// forgets it and makes a fresh pass, and when it fails transiently (network, 5xx) that error
/// is returned, to be retried. The error of a failed pass lists every provider's reason on
/// one line, and is transient when one of them was (off ECS, the metadata service's 1 s
/// connect timeout is; set `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true` there). Variables and
/// the home directory are read when the chain is built.
///
/// ```
/// use oss_blocking::credentials::*;
/// let env = Environment::empty()
///     .var("ALIBABA_CLOUD_ACCESS_KEY_ID", "id")
///     .var("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secret")
///     .var("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true");
/// let chain = DefaultCredentialsChain::with_environment(env);
/// assert_eq!(chain.credentials().unwrap().access_key_id(), "id");
/// assert_eq!(chain.provider_names()[0], "environment");
/// ```
pub struct DefaultCredentialsChain {
    env: Environment,
    sts_endpoint: Option<String>,
    ecs_endpoint: Option<String>,
    providers: Vec<(&'static str, Box<dyn CredentialsProvider>)>,
    last_success: Mutex<Option<usize>>,
}

impl DefaultCredentialsChain {
    /// The chain for the process environment as it is now.
    pub fn new() -> Self {
        Self::with_environment(Environment::process())
    }

    /// The chain for `env` (tests: nothing is read from the process).
    pub fn with_environment(env: Environment) -> Self {
        let mut chain = DefaultCredentialsChain {
            env,
            sts_endpoint: None,
            ecs_endpoint: None,
            providers: Vec::new(),
            last_success: Mutex::new(None),
        };
        chain.build();
        chain
    }

    /// The STS endpoint of the OIDC and profile providers (instead of the real hosts).
    pub fn sts_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.sts_endpoint = Some(endpoint.into());
        self.build();
        self
    }

    /// The metadata service of the ECS and profile providers (default `http://100.100.100.200`).
    pub fn ecs_metadata_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.ecs_endpoint = Some(endpoint.into());
        self.build();
        self
    }

    /// The providers in this chain, in order: `environment`, `oidc`, `cli_profile`,
    /// `profile`, `ecs_ram_role`, `credentials_uri` (those that apply).
    pub fn provider_names(&self) -> Vec<&'static str> {
        self.providers.iter().map(|(n, _)| *n).collect()
    }

    fn build(&mut self) {
        let env = &self.env;
        let mut list: Vec<(&'static str, Box<dyn CredentialsProvider>)> = Vec::new();
        list.push((
            "environment",
            Box::new(EnvironmentVariableCredentialsProvider::from_environment(
                env.clone(),
            )),
        ));
        let oidc_set = [ENV_ROLE_ARN, ENV_OIDC_PROVIDER_ARN, ENV_OIDC_TOKEN_FILE]
            .iter()
            .all(|n| env.get(n).is_some());
        if let (true, Ok(mut oidc)) = (
            oidc_set,
            OidcRoleCredentialsProvider::from_environment(env.clone()),
        ) {
            if let Some(e) = &self.sts_endpoint {
                oidc = oidc.sts_endpoint(e);
            }
            list.push(("oidc", Box::new(oidc)));
        }
        if !env.flag(ENV_CLI_PROFILE_DISABLED) {
            let mut cli = CliProfileCredentialsProvider::from_environment(env.clone());
            if let Some(e) = &self.sts_endpoint {
                cli = cli.sts_endpoint(e);
            }
            if let Some(e) = &self.ecs_endpoint {
                cli = cli.ecs_metadata_endpoint(e);
            }
            list.push(("cli_profile", Box::new(cli)));
        }
        let mut ini = ProfileCredentialsProvider::from_environment(env.clone());
        if let Some(e) = &self.sts_endpoint {
            ini = ini.sts_endpoint(e);
        }
        if let Some(e) = &self.ecs_endpoint {
            ini = ini.ecs_metadata_endpoint(e);
        }
        list.push(("profile", Box::new(ini)));
        if !env.flag(ENV_ECS_METADATA_DISABLED) {
            let mut ecs = EcsRamRoleCredentialsProvider::from_environment(env.clone());
            if let Some(e) = &self.ecs_endpoint {
                ecs = ecs.endpoint(e);
            }
            list.push(("ecs_ram_role", Box::new(ecs)));
        }
        if let Ok(uri) = UriCredentialsProvider::from_environment(env.clone()) {
            list.push(("credentials_uri", Box::new(uri)));
        }
        self.providers = list;
        *lock(&self.last_success) = None;
    }

    /// One pass over every provider; remembers the first that succeeds.
    fn fresh_pass(&self) -> Result<Credentials, CredentialsError> {
        let mut reasons = Vec::new();
        let mut transient = false;
        for (i, (name, provider)) in self.providers.iter().enumerate() {
            match provider.credentials() {
                Ok(c) => {
                    *lock(&self.last_success) = Some(i);
                    return Ok(c);
                }
                Err(e) => {
                    transient |= e.is_transient();
                    reasons.push(format!("[{name}] {}", with_causes(&e)));
                }
            }
        }
        let message = format!(
            "{WHO}: no provider in the chain gave credentials: {}",
            reasons.join("; ")
        );
        Err(if transient {
            CredentialsError::transient(message)
        } else {
            CredentialsError::new(message)
        })
    }
}

/// The error and its causes, `: `-separated, on one line.
fn with_causes(e: &CredentialsError) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text.replace('\n', " ")
}

impl Default for DefaultCredentialsChain {
    fn default() -> Self {
        Self::new()
    }
}

impl CredentialsProvider for DefaultCredentialsChain {
    fn credentials(&self) -> Result<Credentials, CredentialsError> {
        let remembered = *lock(&self.last_success);
        if let Some((name, provider)) = remembered.and_then(|i| self.providers.get(i)) {
            match provider.credentials() {
                Ok(c) => return Ok(c),
                Err(e) if e.is_transient() => {
                    return Err(CredentialsError::with_source(
                        format!("{WHO}: the provider that last succeeded ({name}) failed"),
                        e,
                    )
                    .into_transient())
                }
                Err(e) => log::debug!(
                    "{WHO}: {name} no longer gives credentials ({e}); trying the whole chain"
                ),
            }
        }
        self.fresh_pass()
    }
}

impl std::fmt::Debug for DefaultCredentialsChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(WHO)
            .field("providers", &self.provider_names())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    /// A provider whose answer the test switches: 0 ok, 1 lasting error, 2 transient error.
    #[derive(Clone)]
    struct Switch {
        mode: Arc<AtomicU32>,
        calls: Arc<AtomicU32>,
        id: &'static str,
    }

    impl Switch {
        fn new(id: &'static str, mode: u32) -> Self {
            Switch {
                mode: Arc::new(AtomicU32::new(mode)),
                calls: Arc::new(AtomicU32::new(0)),
                id,
            }
        }
        fn calls(&self) -> u32 {
            self.calls.load(Ordering::SeqCst)
        }
    }

    impl CredentialsProvider for Switch {
        fn credentials(&self) -> Result<Credentials, CredentialsError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            match self.mode.load(Ordering::SeqCst) {
                0 => Ok(Credentials::new(self.id, "secret")),
                1 => Err(CredentialsError::new(format!("{} not configured", self.id))),
                _ => Err(CredentialsError::transient(format!(
                    "{} timed out",
                    self.id
                ))),
            }
        }
    }

    fn chain(providers: &[Switch]) -> DefaultCredentialsChain {
        let mut c = DefaultCredentialsChain::with_environment(
            Environment::empty().var(ENV_ECS_METADATA_DISABLED, "true"),
        );
        c.providers = providers
            .iter()
            .map(|p| (p.id, Box::new(p.clone()) as Box<dyn CredentialsProvider>))
            .collect();
        c
    }

    #[test]
    fn remembers_only_a_success_and_asks_it_first() {
        let (a, b) = (Switch::new("a", 1), Switch::new("b", 0));
        let c = chain(&[a.clone(), b.clone()]);
        assert_eq!(c.credentials().unwrap().access_key_id(), "b");
        assert_eq!(c.credentials().unwrap().access_key_id(), "b");
        assert_eq!(
            (a.calls(), b.calls()),
            (1, 2),
            "a is not asked again once b succeeded"
        );
    }

    #[test]
    fn a_remembered_provider_that_stops_being_configured_gives_a_fresh_pass() {
        let (a, b) = (Switch::new("a", 1), Switch::new("b", 0));
        let c = chain(&[a.clone(), b.clone()]);
        c.credentials().unwrap();
        b.mode.store(1, Ordering::SeqCst);
        a.mode.store(0, Ordering::SeqCst);
        assert_eq!(c.credentials().unwrap().access_key_id(), "a");
        assert_eq!(c.credentials().unwrap().access_key_id(), "a");
        assert_eq!((a.calls(), b.calls()), (3, 2));
    }

    #[test]
    fn a_transient_failure_of_the_remembered_provider_is_returned_not_skipped() {
        let (a, b) = (Switch::new("a", 0), Switch::new("b", 0));
        let c = chain(&[a.clone(), b.clone()]);
        c.credentials().unwrap();
        a.mode.store(2, Ordering::SeqCst);
        let err = c.credentials().unwrap_err();
        assert!(
            err.is_transient() && err.to_string().contains("(a)"),
            "{err}"
        );
        assert_eq!(
            b.calls(),
            0,
            "no silent switch to another identity on a network blip"
        );
    }

    #[test]
    fn after_a_pass_where_all_fail_every_provider_is_tried_again() {
        // The Go chain gets stuck on the last provider after such a pass.
        let (a, b) = (Switch::new("a", 1), Switch::new("b", 2));
        let c = chain(&[a.clone(), b.clone()]);
        let err = c.credentials().unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("[a] a not configured; [b] b timed out"),
            "{text}"
        );
        assert!(err.is_transient(), "one provider failed transiently");
        a.mode.store(0, Ordering::SeqCst);
        assert_eq!(c.credentials().unwrap().access_key_id(), "a");
        assert_eq!((a.calls(), b.calls()), (2, 1));
    }

    #[test]
    fn order_and_conditions_from_the_environment() {
        let names =
            |env: Environment| DefaultCredentialsChain::with_environment(env).provider_names();
        let base = Environment::empty();
        assert_eq!(
            names(base.clone()),
            ["environment", "cli_profile", "profile", "ecs_ram_role"]
        );
        let all = base
            .clone()
            .var(ENV_ROLE_ARN, "r")
            .var(ENV_OIDC_PROVIDER_ARN, "p")
            .var(ENV_OIDC_TOKEN_FILE, "/t")
            .var("ALIBABA_CLOUD_CREDENTIALS_URI", "http://127.0.0.1:1/c");
        assert_eq!(
            names(all.clone()),
            [
                "environment",
                "oidc",
                "cli_profile",
                "profile",
                "ecs_ram_role",
                "credentials_uri"
            ]
        );
        let off = all
            .var(ENV_CLI_PROFILE_DISABLED, "true")
            .var(ENV_ECS_METADATA_DISABLED, "true")
            .var(ENV_OIDC_TOKEN_FILE, "");
        assert_eq!(names(off), ["environment", "profile", "credentials_uri"]);
    }
}

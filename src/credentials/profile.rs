//! Profiles on disk: the Alibaba Cloud CLI's `~/.aliyun/config.json` (fact sheet §6.6) and the
//! credentials INI file `~/.alibabacloud/credentials(.ini)` (§6.7). Each builds the provider its
//! profile describes on first use, and keeps it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tinyjson::JsonValue;

use super::caching::lock;
use super::ecs::EcsRamRoleCredentialsProvider;
use super::sts::{OidcRoleCredentialsProvider, StsAssumeRoleCredentialsProvider};
use super::uri::ProcessCredentialsProvider;
use super::{
    Credentials, CredentialsError, CredentialsProvider, Environment, StaticCredentialsProvider,
};

pub(crate) const ENV_PROFILE: &str = "ALIBABA_CLOUD_PROFILE";
pub(crate) const ENV_CONFIG_FILE: &str = "ALIBABA_CLOUD_CONFIG_FILE";
pub(crate) const ENV_CLI_PROFILE_DISABLED: &str = "ALIBABA_CLOUD_CLI_PROFILE_DISABLED";
pub(crate) const ENV_CREDENTIALS_FILE: &str = "ALIBABA_CLOUD_CREDENTIALS_FILE";
const CLI: &str = "CliProfileCredentialsProvider";
const INI: &str = "ProfileCredentialsProvider";
/// `ChainableRamRoleArn` profiles may name a source profile this deep, no deeper (cycles).
const MAX_SOURCE_DEPTH: usize = 8;

type Inner = Arc<dyn CredentialsProvider>;

/// What a profile's inner providers are built with: the environment, and endpoints that
/// replace the real STS and metadata hosts (private endpoints, tests).
#[derive(Clone, Debug, Default)]
pub(crate) struct Endpoints {
    pub sts: Option<String>,
    pub ecs: Option<String>,
}

impl Endpoints {
    fn ecs(&self, env: &Environment, role: Option<&str>) -> EcsRamRoleCredentialsProvider {
        let mut p = EcsRamRoleCredentialsProvider::from_environment(env.clone());
        if let Some(role) = role.filter(|r| !r.is_empty()) {
            p = p.role_name(role);
        }
        match &self.ecs {
            Some(e) => p.endpoint(e),
            None => p,
        }
    }
}

/// Role options of a RamRoleArn / OIDC profile, with their file names.
#[derive(Default)]
struct RoleOptions {
    session_name: Option<String>,
    duration: Option<u64>,
    region: Option<String>,
    vpc: bool,
    policy: Option<String>,
    external_id: Option<String>,
}

fn assume_role(
    source: Inner,
    role_arn: &str,
    o: RoleOptions,
    env: &Environment,
    endpoints: &Endpoints,
) -> StsAssumeRoleCredentialsProvider {
    let mut p = StsAssumeRoleCredentialsProvider::new(source, role_arn).environment(env.clone());
    if let Some(v) = o.session_name {
        p = p.role_session_name(v);
    }
    if let Some(v) = o.duration {
        p = p.duration(Duration::from_secs(v));
    }
    if let Some(v) = o.region {
        p = p.sts_region(v);
    }
    if o.vpc {
        p = p.enable_vpc(true);
    }
    if let Some(v) = o.policy {
        p = p.policy(v);
    }
    if let Some(v) = o.external_id {
        p = p.external_id(v);
    }
    match &endpoints.sts {
        Some(e) => p.sts_endpoint(e),
        None => p,
    }
}

fn oidc(
    role_arn: &str,
    provider_arn: &str,
    token_file: &str,
    o: RoleOptions,
    env: &Environment,
    endpoints: &Endpoints,
) -> OidcRoleCredentialsProvider {
    let mut p = OidcRoleCredentialsProvider::new(role_arn, provider_arn, token_file)
        .environment(env.clone());
    if let Some(v) = o.session_name {
        p = p.role_session_name(v);
    }
    if let Some(v) = o.duration {
        p = p.duration(Duration::from_secs(v));
    }
    if let Some(v) = o.region {
        p = p.sts_region(v);
    }
    if o.vpc {
        p = p.enable_vpc(true);
    }
    if let Some(v) = o.policy {
        p = p.policy(v);
    }
    match &endpoints.sts {
        Some(e) => p.sts_endpoint(e),
        None => p,
    }
}

/// Builds the inner provider once, then reuses it (the file is read at the first call).
struct Lazy {
    inner: Mutex<Option<Inner>>,
}

impl Lazy {
    fn new() -> Self {
        Lazy {
            inner: Mutex::new(None),
        }
    }

    fn get(
        &self,
        build: impl FnOnce() -> Result<Inner, CredentialsError>,
    ) -> Result<Inner, CredentialsError> {
        let mut slot = lock(&self.inner);
        if let Some(inner) = slot.as_ref() {
            return Ok(Arc::clone(inner));
        }
        let inner = build()?;
        *slot = Some(Arc::clone(&inner));
        Ok(inner)
    }
}

fn read_file(who: &str, path: &Path) -> Result<String, CredentialsError> {
    std::fs::read_to_string(path).map_err(|e| {
        CredentialsError::with_source(format!("{who}: cannot read {}", path.display()), e)
    })
}

// ---------------------------------------------------------------------------------------------
// CLI profile

/// The setters both profile providers take, with their own wording: the profile (or section)
/// name, the file, and the endpoints that profiles naming a role use.
macro_rules! profile_setters {
    ($profile:literal, $path:literal, $sts:literal, $ecs:literal) => {
        #[doc = $profile]
        pub fn profile(mut self, name: impl Into<String>) -> Self {
            self.profile = Some(name.into());
            self
        }

        #[doc = $path]
        pub fn path(mut self, path: impl AsRef<Path>) -> Self {
            self.path = Some(path.as_ref().to_path_buf());
            self
        }

        #[doc = $sts]
        pub fn sts_endpoint(mut self, endpoint: impl Into<String>) -> Self {
            self.endpoints.sts = Some(endpoint.into());
            self
        }

        #[doc = $ecs]
        pub fn ecs_metadata_endpoint(mut self, endpoint: impl Into<String>) -> Self {
            self.endpoints.ecs = Some(endpoint.into());
            self
        }
    };
}

/// Credentials from a profile of the Alibaba Cloud CLI's `~/.aliyun/config.json`.
///
/// The rule: the file is the option, else `ALIBABA_CLOUD_CONFIG_FILE`, else
/// `<home>/.aliyun/config.json`; the profile is the option, else `ALIBABA_CLOUD_PROFILE`, else
/// the file's `current`. Modes: `AK` (`access_key_id`, `access_key_secret`), `StsToken`
/// (+ `sts_token`), `RamRoleArn` (AK + `ram_role_arn`, `ram_session_name`, `expired_seconds`,
/// `sts_region`, `enable_vpc`, `policy`, `external_id`), `EcsRamRole` (`ram_role_name`),
/// `OIDC` (`ram_role_arn`, `oidc_provider_arn`, `oidc_token_file`, `role_session_name` or
/// `ram_session_name`, …), `ChainableRamRoleArn` (`source_profile` + the RamRoleArn fields)
/// and `External` (`process_command`). The file is read at the first call and the provider it
/// describes is kept; `ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true` turns the provider off.
///
/// ```
/// use oss_blocking::credentials::*;
/// # let dir = std::env::temp_dir().join(format!("cli-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(dir.join(".aliyun"))?;
/// # let p = dir.join(".aliyun/config.json");
/// std::fs::write(&p, r#"{"current": "default", "profiles": [
///     {"name": "work", "mode": "AK", "access_key_id": "LTAI-work", "access_key_secret": "s"}]}"#)?;
/// let provider = CliProfileCredentialsProvider::new().profile("work").path(&p);
/// assert_eq!(provider.credentials().unwrap().access_key_id(), "LTAI-work");
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct CliProfileCredentialsProvider {
    env: Environment,
    profile: Option<String>,
    path: Option<PathBuf>,
    endpoints: Endpoints,
    inner: Lazy,
}

impl CliProfileCredentialsProvider {
    /// A provider reading the process environment now.
    pub fn new() -> Self {
        Self::from_environment(Environment::process())
    }

    /// A provider reading `env` (variables and home directory).
    pub fn from_environment(env: Environment) -> Self {
        CliProfileCredentialsProvider {
            env,
            profile: None,
            path: None,
            endpoints: Endpoints::default(),
            inner: Lazy::new(),
        }
    }

    profile_setters!(
        "The profile name.",
        "The config file.",
        "The STS endpoint for `RamRoleArn`, `ChainableRamRoleArn` and `OIDC` profiles (instead of the one their `sts_region` gives).",
        "The metadata service for `EcsRamRole` profiles (default `http://100.100.100.200`)."
    );

    fn file(&self) -> Result<PathBuf, CredentialsError> {
        if let Some(p) = &self.path {
            return Ok(p.clone());
        }
        if let Some(p) = self.env.get(ENV_CONFIG_FILE) {
            return Ok(PathBuf::from(p));
        }
        self.env
            .home_dir()
            .map(|h| h.join(".aliyun").join("config.json"))
            .ok_or_else(|| {
                CredentialsError::new(format!(
                    "{CLI}: not configured: no home directory (HOME) and no {ENV_CONFIG_FILE}"
                ))
            })
    }

    fn build(&self) -> Result<Inner, CredentialsError> {
        if self.env.flag(ENV_CLI_PROFILE_DISABLED) {
            return Err(CredentialsError::new(format!(
                "{CLI}: disabled by {ENV_CLI_PROFILE_DISABLED}=true"
            )));
        }
        let path = self.file()?;
        let text = read_file(CLI, &path)?;
        log::debug!("{CLI}: reading {}", path.display());
        let bad = |why: String| CredentialsError::new(format!("{CLI}: {}: {why}", path.display()));
        let root = crate::json::parse_object(&text).map_err(|e| bad(format!("the file is {e}")))?;
        let profiles = match root.get("profiles") {
            Some(JsonValue::Array(a)) => a,
            _ => return Err(bad("no \"profiles\" array".to_string())),
        };
        let name = match (&self.profile, self.env.get(ENV_PROFILE)) {
            (Some(n), _) => n.clone(),
            (None, Some(n)) => n.to_string(),
            (None, None) => str_field(&root, "current")
                .ok_or_else(|| {
                    bad(
                        "no profile option, no ALIBABA_CLOUD_PROFILE and no \"current\""
                            .to_string(),
                    )
                })?
                .to_string(),
        };
        let cli = CliFile {
            profiles,
            env: &self.env,
            endpoints: &self.endpoints,
        };
        cli.provider(&name, 0).map_err(bad)
    }
}

struct CliFile<'a> {
    profiles: &'a [JsonValue],
    env: &'a Environment,
    endpoints: &'a Endpoints,
}

fn str_field<'a>(map: &'a HashMap<String, JsonValue>, name: &str) -> Option<&'a str> {
    super::wire::string(map, name)
}

impl CliFile<'_> {
    fn find(&self, name: &str) -> Option<&HashMap<String, JsonValue>> {
        self.profiles.iter().find_map(|p| match p {
            JsonValue::Object(o) if str_field(o, "name") == Some(name) => Some(o),
            _ => None,
        })
    }

    fn provider(&self, name: &str, depth: usize) -> Result<Inner, String> {
        if depth > MAX_SOURCE_DEPTH {
            return Err(format!("source_profile chain deeper than {MAX_SOURCE_DEPTH} (a cycle?) at profile {name:?}"));
        }
        let p = self
            .find(name)
            .ok_or_else(|| format!("no profile named {name:?}"))?;
        let field = |k: &str| {
            str_field(p, k).ok_or_else(|| format!("profile {name:?}: no non-empty {k:?} string"))
        };
        let mode = field("mode")?;
        let ak = || -> Result<StaticCredentialsProvider, String> {
            Ok(StaticCredentialsProvider::new(
                field("access_key_id")?,
                field("access_key_secret")?,
            ))
        };
        let role = || RoleOptions {
            session_name: str_field(p, "ram_session_name")
                .or(str_field(p, "role_session_name"))
                .map(str::to_string),
            duration: match p.get("expired_seconds") {
                Some(JsonValue::Number(n)) if *n >= 1.0 && *n <= 1e9 => Some(n.round() as u64),
                _ => None,
            },
            region: str_field(p, "sts_region").map(str::to_string),
            vpc: matches!(p.get("enable_vpc"), Some(JsonValue::Boolean(true))),
            policy: str_field(p, "policy").map(str::to_string),
            external_id: str_field(p, "external_id").map(str::to_string),
        };
        let (env, ends) = (self.env, self.endpoints);
        Ok(match mode {
            "AK" => Arc::new(ak()?),
            "StsToken" => Arc::new(ak()?.security_token(field("sts_token")?)),
            "RamRoleArn" => Arc::new(assume_role(
                Arc::new(ak()?),
                field("ram_role_arn")?,
                role(),
                env,
                ends,
            )),
            "ChainableRamRoleArn" => {
                let source = self.provider(field("source_profile")?, depth.saturating_add(1))?;
                Arc::new(assume_role(
                    source,
                    field("ram_role_arn")?,
                    role(),
                    env,
                    ends,
                ))
            }
            "EcsRamRole" => Arc::new(ends.ecs(env, str_field(p, "ram_role_name"))),
            "OIDC" => Arc::new(oidc(
                field("ram_role_arn")?,
                field("oidc_provider_arn")?,
                field("oidc_token_file")?,
                role(),
                env,
                ends,
            )),
            "External" => Arc::new(ProcessCredentialsProvider::new(field("process_command")?)),
            other => {
                return Err(format!(
                    "profile {name:?}: mode {other:?} is not supported (AK, StsToken, RamRoleArn, \
                     EcsRamRole, OIDC, ChainableRamRoleArn, External)"
                ))
            }
        })
    }
}

impl Default for CliProfileCredentialsProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl CredentialsProvider for CliProfileCredentialsProvider {
    fn credentials(&self) -> Result<Credentials, CredentialsError> {
        self.inner.get(|| self.build())?.credentials()
    }
}

impl std::fmt::Debug for CliProfileCredentialsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(CLI)
            .field("profile", &self.profile)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------------
// INI profile

/// Parses INI text into sections of `key = value`. `#` and `;` start comment lines, and a
/// `#` after whitespace starts a comment inside a value; keys are trimmed and lowercased.
pub(crate) fn parse_ini(text: &str) -> HashMap<String, HashMap<String, String>> {
    let mut sections: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut current: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim().to_string();
            sections.entry(name.clone()).or_default();
            current = Some(name);
        } else if let (Some(section), Some((k, v))) = (&current, line.split_once('=')) {
            let v = v.find([' ', '\t']).map_or(v, |_| strip_comment(v));
            sections
                .entry(section.clone())
                .or_default()
                .insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    sections
}

fn strip_comment(v: &str) -> &str {
    let bytes = v.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        let after_space = i > 0
            && bytes
                .get(i.wrapping_sub(1))
                .is_some_and(|p| *p == b' ' || *p == b'\t');
        if *b == b'#' && after_space {
            return v.get(..i).unwrap_or(v);
        }
    }
    v
}

/// Credentials from a section of the credentials INI file.
///
/// The rule: the file is the option, else `ALIBABA_CLOUD_CREDENTIALS_FILE`, else
/// `<home>/.alibabacloud/credentials.ini` (the Python library's name) if it exists, else
/// `<home>/.alibabacloud/credentials` (Go's); errors say which file was read. The section is
/// the option, else `ALIBABA_CLOUD_PROFILE`, else `default`. Types: `access_key`
/// (`access_key_id`, `access_key_secret`), `ecs_ram_role` (`role_name`), `ram_role_arn`
/// (`access_key_id`, `access_key_secret`, `role_arn`, `role_session_name`, `policy`) and
/// `oidc_role_arn` (`role_arn`, `oidc_provider_arn`, `oidc_token_file_path`,
/// `role_session_name`, `policy`).
///
/// ```
/// use oss_blocking::credentials::*;
/// # let dir = std::env::temp_dir().join(format!("ini-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # let p = dir.join("credentials");
/// std::fs::write(&p, "[default]\ntype = access_key\naccess_key_id = foo\naccess_key_secret = bar\n")?;
/// let provider = ProfileCredentialsProvider::new().profile("default").path(&p);
/// assert_eq!(provider.credentials().unwrap().access_key_id(), "foo");
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct ProfileCredentialsProvider {
    env: Environment,
    profile: Option<String>,
    path: Option<PathBuf>,
    endpoints: Endpoints,
    inner: Lazy,
}

impl ProfileCredentialsProvider {
    /// A provider reading the process environment now.
    pub fn new() -> Self {
        Self::from_environment(Environment::process())
    }

    /// A provider reading `env` (variables and home directory).
    pub fn from_environment(env: Environment) -> Self {
        ProfileCredentialsProvider {
            env,
            profile: None,
            path: None,
            endpoints: Endpoints::default(),
            inner: Lazy::new(),
        }
    }

    profile_setters!(
        "The section name.",
        "The INI file.",
        "The STS endpoint for `ram_role_arn` and `oidc_role_arn` sections.",
        "The metadata service for `ecs_ram_role` sections (default `http://100.100.100.200`)."
    );

    fn file(&self) -> Result<PathBuf, CredentialsError> {
        if let Some(p) = &self.path {
            return Ok(p.clone());
        }
        if let Some(p) = self.env.get(ENV_CREDENTIALS_FILE) {
            return Ok(PathBuf::from(p));
        }
        let home = self.env.home_dir().ok_or_else(|| {
            CredentialsError::new(format!(
                "{INI}: not configured: no home directory (HOME) and no {ENV_CREDENTIALS_FILE}"
            ))
        })?;
        let dir = home.join(".alibabacloud");
        let ini = dir.join("credentials.ini");
        Ok(if ini.is_file() {
            ini
        } else {
            dir.join("credentials")
        })
    }

    fn build(&self) -> Result<Inner, CredentialsError> {
        let path = self.file()?;
        let text = read_file(INI, &path)?;
        log::debug!("{INI}: reading {}", path.display());
        let name = self
            .profile
            .clone()
            .or_else(|| self.env.get(ENV_PROFILE).map(str::to_string))
            .unwrap_or_else(|| "default".to_string());
        let bad = |why: String| CredentialsError::new(format!("{INI}: {}: {why}", path.display()));
        let sections = parse_ini(&text);
        let s = sections
            .get(&name)
            .ok_or_else(|| bad(format!("no [{name}] section")))?;
        let field = |k: &str| {
            s.get(k)
                .filter(|v| !v.is_empty())
                .map(String::as_str)
                .ok_or_else(|| bad(format!("[{name}]: no {k} value")))
        };
        let opt = |k: &str| s.get(k).filter(|v| !v.is_empty()).cloned();
        let role = || RoleOptions {
            session_name: opt("role_session_name"),
            policy: opt("policy"),
            ..RoleOptions::default()
        };
        let ak = || -> Result<StaticCredentialsProvider, CredentialsError> {
            Ok(StaticCredentialsProvider::new(
                field("access_key_id")?,
                field("access_key_secret")?,
            ))
        };
        let (env, ends) = (&self.env, &self.endpoints);
        Ok(match field("type")? {
            "access_key" => Arc::new(ak()?),
            "ecs_ram_role" => Arc::new(ends.ecs(env, opt("role_name").as_deref())),
            "ram_role_arn" => Arc::new(assume_role(Arc::new(ak()?), field("role_arn")?, role(), env, ends)),
            "oidc_role_arn" => Arc::new(oidc(
                field("role_arn")?,
                field("oidc_provider_arn")?,
                field("oidc_token_file_path")?,
                role(),
                env,
                ends,
            )),
            other => {
                return Err(bad(format!(
                    "[{name}]: type {other:?} is not supported (access_key, ecs_ram_role, ram_role_arn, oidc_role_arn)"
                )))
            }
        })
    }
}

impl Default for ProfileCredentialsProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl CredentialsProvider for ProfileCredentialsProvider {
    fn credentials(&self) -> Result<Credentials, CredentialsError> {
        self.inner.get(|| self.build())?.credentials()
    }
}

impl std::fmt::Debug for ProfileCredentialsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(INI)
            .field("profile", &self.profile)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_sections_comments_and_inline_comments() {
        let text = "# top\n[default]\ntype = access_key   # inline\nAccess_Key_Id = foo\naccess_key_secret = b#r\n; c\n[other]\nx=1\nstray\n";
        let s = parse_ini(text);
        let d = &s["default"];
        assert_eq!(d["type"], "access_key");
        assert_eq!(d["access_key_id"], "foo");
        assert_eq!(d["access_key_secret"], "b#r", "a # inside a value is kept");
        assert_eq!(s["other"]["x"], "1");
        assert_eq!(s.len(), 2);
    }
}

//! The environment the providers read: variables and the home directory, captured once, so
//! tests (yours and this crate's) inject their own instead of mutating process globals.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// A snapshot of environment variables and the home directory that providers read when they
/// are built.
///
/// [`Environment::process`] captures the process (what the providers' `new()` use); tests build
/// one by hand so they never touch `std::env`. An empty value counts as unset, and a flag
/// variable is on only when it is `true` (any case).
///
/// ```
/// use oss_blocking::credentials::Environment;
/// let env = Environment::empty()
///     .var("ALIBABA_CLOUD_PROFILE", "work")
///     .var("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "TRUE")
///     .var("ALIBABA_CLOUD_ROLE_ARN", "")
///     .home("/home/me");
/// assert_eq!(env.get("ALIBABA_CLOUD_PROFILE"), Some("work"));
/// assert_eq!(env.get("ALIBABA_CLOUD_ROLE_ARN"), None);
/// assert!(env.flag("ALIBABA_CLOUD_ECS_METADATA_DISABLED"));
/// assert_eq!(env.home_dir(), Some(std::path::Path::new("/home/me")));
/// ```
#[derive(Clone, Default)]
pub struct Environment {
    vars: Arc<HashMap<String, String>>,
    home: Option<PathBuf>,
}

impl Environment {
    /// The process environment as it is now, and the home directory from `HOME` (else
    /// `USERPROFILE`, as on Windows). Variables that are not UTF-8 are left out.
    pub fn process() -> Self {
        let vars: HashMap<String, String> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        let home = ["HOME", "USERPROFILE"]
            .iter()
            .find_map(|name| vars.get(*name).filter(|v| !v.is_empty()))
            .map(PathBuf::from);
        Environment {
            vars: Arc::new(vars),
            home,
        }
    }

    /// No variables and no home directory.
    pub fn empty() -> Self {
        Environment::default()
    }

    /// Sets one variable (replacing an earlier value).
    pub fn var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.vars).insert(name.into(), value.into());
        self
    }

    /// Sets the home directory, where `~/.aliyun/config.json` and `~/.alibabacloud/` are.
    pub fn home(mut self, dir: impl Into<PathBuf>) -> Self {
        self.home = Some(dir.into());
        self
    }

    /// The variable's value, `None` when unset or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// True when the variable is `true`, compared case-insensitively.
    pub fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }

    /// The home directory, if known.
    pub fn home_dir(&self) -> Option<&std::path::Path> {
        self.home.as_deref()
    }
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values may be secrets (ALIBABA_CLOUD_ACCESS_KEY_SECRET): list the names only.
        let mut names: Vec<&str> = self.vars.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_struct("Environment")
            .field("variables", &names)
            .field("home", &self.home)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_names_variables_but_never_shows_values() {
        let env = Environment::empty().var("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "s3cr3t");
        let text = format!("{env:?}");
        assert!(text.contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET"));
        assert!(!text.contains("s3cr3t"));
    }

    #[test]
    fn flags_are_true_only_for_true() {
        let env = Environment::empty()
            .var("A", "true")
            .var("B", "1")
            .var("C", "yes")
            .var("D", " True ");
        assert!(env.flag("A") && env.flag("D"));
        assert!(!env.flag("B") && !env.flag("C") && !env.flag("E"));
    }

    #[test]
    fn process_snapshot_reads_without_writing() {
        // Reading the real environment is harmless; nothing here sets a variable.
        let env = Environment::process();
        assert_eq!(
            env.get("PATH").is_some(),
            std::env::var("PATH").is_ok_and(|p| !p.is_empty())
        );
    }
}

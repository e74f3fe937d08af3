//! The credentials URI provider (fact sheet §6.8) and the external process provider (§6.9).

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::caching::Cache;
use super::http::{display_url, status_error, Http};
use super::{wire, Credentials, CredentialsError, CredentialsProvider, Environment};

pub(crate) const ENV_CREDENTIALS_URI: &str = "ALIBABA_CLOUD_CREDENTIALS_URI";
const URI: &str = "UriCredentialsProvider";
const PROCESS: &str = "ProcessCredentialsProvider";
/// The credentials libraries' URI timeouts.
const URI_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const URI_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The Go OSS SDK's process timeout.
pub(crate) const DEFAULT_PROCESS_TIMEOUT: Duration = Duration::from_secs(15);
/// Most output read from a helper process.
const MAX_PROCESS_OUTPUT: u64 = 64 * 1024;

/// Credentials from a local HTTP endpoint (a sidecar, a vault agent): `GET <uri>` with no
/// authentication, answering `{"Code":"Success","AccessKeyId","AccessKeySecret",
/// "SecurityToken","Expiration"}`.
///
/// The rule: the four fields are required; a missing `Code` is accepted (Go's rule) and a
/// `Code` other than `Success` is an error (the Python library also rejects a missing one).
/// Timeouts are 5 s (connect) and 10 s (read); results are cached like
/// [`super::CachingCredentialsProvider`]. Errors show the URL without its query.
///
/// ```
/// use oss_blocking::credentials::*;
/// let provider = UriCredentialsProvider::new("http://127.0.0.1:9000/creds");
/// let from_env = UriCredentialsProvider::from_environment(
///     Environment::empty().var("ALIBABA_CLOUD_CREDENTIALS_URI", "http://127.0.0.1:9000/creds"),
/// )?;
/// # let _ = (provider, from_env);
/// # Ok::<(), CredentialsError>(())
/// ```
pub struct UriCredentialsProvider {
    uri: String,
    http: Http,
    cache: Cache,
}

impl UriCredentialsProvider {
    /// A provider asking this URL.
    pub fn new(uri: impl Into<String>) -> Self {
        UriCredentialsProvider {
            uri: uri.into(),
            http: Http::new(URI_CONNECT_TIMEOUT, URI_READ_TIMEOUT),
            cache: Cache::new(URI),
        }
    }

    /// The URL in `ALIBABA_CLOUD_CREDENTIALS_URI`; an error when it is unset.
    pub fn from_environment(env: Environment) -> Result<Self, CredentialsError> {
        env.get(ENV_CREDENTIALS_URI)
            .map(UriCredentialsProvider::new)
            .ok_or_else(|| {
                CredentialsError::new(format!(
                    "{URI}: not configured: {ENV_CREDENTIALS_URI} unset"
                ))
            })
    }

    /// Trust only these CA certificates (PEM; repeatable) for an `https` URI instead of the
    /// built-in roots; certificates are always verified.
    pub fn tls_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.http = self.http.add_ca_pem(pem.into());
        self
    }

    fn fetch(&self) -> Result<Credentials, CredentialsError> {
        let what = format!("GET {}", display_url(&self.uri));
        let reply = self.http.call(
            URI,
            "GET",
            &self.uri,
            &[("Accept", "application/json")],
            None,
        )?;
        if reply.status != 200 {
            return Err(status_error(URI, &what, reply.status, ""));
        }
        parse_uri_answer(&reply.body)
            .map_err(|why| CredentialsError::new(format!("{URI}: {what}: {why}")))
    }
}

/// The URI answer rule: `Code` absent or `Success`, the four fields present.
fn parse_uri_answer(body: &str) -> Result<Credentials, String> {
    let map = crate::json::parse_object(body).map_err(|e| format!("the answer is {e}"))?;
    if let Some(code) = map.get("Code") {
        if wire::string(&map, "Code") != Some("Success") {
            let shown = match code {
                tinyjson::JsonValue::String(s) => {
                    format!("{:?}", s.chars().take(64).collect::<String>())
                }
                _ => "not a string".to_string(),
            };
            return Err(format!("the answer's Code is {shown}, not \"Success\""));
        }
    }
    let required = wire::Required {
        token: true,
        expiration: true,
    };
    wire::credentials(&map, required)
}

impl CredentialsProvider for UriCredentialsProvider {
    fn credentials(&self) -> Result<Credentials, CredentialsError> {
        self.cache.get(|| self.fetch())
    }
}

impl std::fmt::Debug for UriCredentialsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(URI)
            .field("uri", &display_url(&self.uri))
            .finish_non_exhaustive()
    }
}

/// Credentials printed by a helper command: `sh -c <command>` (`cmd /C` on Windows), with the
/// process environment, whose stdout is `{"AccessKeyId","AccessKeySecret"}` plus optional
/// `"SecurityToken"` and `"Expiration"` (`YYYY-MM-DDTHH:MM:SSZ`).
///
/// The rule: the command must exit with status 0 within the timeout (default 15 s; it is
/// killed after), and print that JSON; otherwise the error gives the exit status and the
/// command's stderr (at most 512 characters). It runs at every call: wrap it in
/// [`super::CachingCredentialsProvider`] when the helper is slow and its answer has an
/// `Expiration`.
///
/// ```
/// use oss_blocking::credentials::*;
/// # #[cfg(unix)] {
/// let provider = ProcessCredentialsProvider::new(
///     r#"echo '{"AccessKeyId":"id","AccessKeySecret":"secret"}'"#,
/// );
/// assert_eq!(provider.credentials().unwrap().access_key_id(), "id");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ProcessCredentialsProvider {
    command: String,
    timeout: Duration,
}

impl ProcessCredentialsProvider {
    /// A provider running this shell command line.
    pub fn new(command: impl Into<String>) -> Self {
        ProcessCredentialsProvider {
            command: command.into(),
            timeout: DEFAULT_PROCESS_TIMEOUT,
        }
    }

    /// How long the command may run (default 15 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn shell(&self) -> Command {
        if cfg!(windows) {
            let mut c = Command::new("cmd");
            c.arg("/C").arg(&self.command);
            c
        } else {
            let mut c = Command::new("sh");
            c.arg("-c").arg(&self.command);
            c
        }
    }

    fn run(&self) -> Result<(std::process::ExitStatus, String, String), CredentialsError> {
        let mut child = self
            .shell()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                CredentialsError::with_source(
                    format!("{PROCESS}: cannot start `sh -c` for the command"),
                    e,
                )
            })?;
        let stdout = child.stdout.take().map(read_all);
        let stderr = child.stderr.take().map(read_all);
        let deadline = Instant::now().checked_add(self.timeout);
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if deadline.is_some_and(|d| Instant::now() >= d) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(CredentialsError::transient(format!(
                        "{PROCESS}: the command did not finish within {} s and was killed",
                        self.timeout.as_secs_f32()
                    )));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => {
                    return Err(CredentialsError::with_source(
                        format!("{PROCESS}: cannot wait for the command"),
                        e,
                    ))
                }
            }
        };
        let join = |h: Option<std::thread::JoinHandle<String>>| {
            h.and_then(|h| h.join().ok()).unwrap_or_default()
        };
        Ok((status, join(stdout), join(stderr)))
    }
}

fn read_all(pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = pipe.take(MAX_PROCESS_OUTPUT).read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    })
}

impl CredentialsProvider for ProcessCredentialsProvider {
    fn credentials(&self) -> Result<Credentials, CredentialsError> {
        let (status, stdout, stderr) = self.run()?;
        let stderr: String = stderr.trim().chars().take(512).collect();
        if !status.success() {
            return Err(CredentialsError::new(format!(
                "{PROCESS}: the command failed ({status}); its stderr: {stderr:?}"
            )));
        }
        let map = crate::json::parse_object(stdout.trim()).map_err(|e| {
            CredentialsError::new(format!(
                "{PROCESS}: the command's stdout is {e}; its stderr: {stderr:?}"
            ))
        })?;
        let required = wire::Required {
            token: false,
            expiration: false,
        };
        wire::credentials(&map, required).map_err(|why| {
            CredentialsError::new(format!(
                "{PROCESS}: {}",
                why.replace("the answer", "the command's output")
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn uri_vectors_and_the_code_rule() {
        let all: Value = crate::test_vectors::all_next();
        for case in all["credentials_uri"].as_array().unwrap() {
            let body = case["response_body"].as_str().unwrap();
            // uri-ok is accepted; uri-no-code, refused by Python, is accepted here (Go's rule).
            let creds = parse_uri_answer(body).unwrap();
            if let Some(want) = case["credentials"]["access_key_id"].as_str() {
                assert_eq!(creds.access_key_id(), want);
                let epoch = case["credentials"]["expiration_epoch"].as_u64().unwrap();
                let got = creds
                    .expiration()
                    .unwrap()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap();
                assert_eq!(got.as_secs(), epoch);
            }
        }
        let failed = r#"{"Code":"Failed","AccessKeyId":"a","AccessKeySecret":"b","SecurityToken":"c","Expiration":"2099-03-15T09:30:00Z"}"#;
        assert!(parse_uri_answer(failed)
            .unwrap_err()
            .contains("\"Failed\", not \"Success\""));
        assert!(parse_uri_answer(r#"{"Code":1}"#)
            .unwrap_err()
            .contains("not a string"));
        assert!(parse_uri_answer(r#"{"AccessKeyId":"a"}"#)
            .unwrap_err()
            .contains("AccessKeySecret"));
    }

    #[cfg(unix)]
    #[test]
    fn process_output_rules() {
        let ok = ProcessCredentialsProvider::new(
            r#"printf '{"AccessKeyId":"id","AccessKeySecret":"s","SecurityToken":"t","Expiration":"2099-01-01T00:00:00Z"}'"#,
        )
        .credentials()
        .unwrap();
        assert_eq!(
            (ok.security_token(), ok.expiration().is_some()),
            (Some("t"), true)
        );
        let err = ProcessCredentialsProvider::new("echo 'helper: no session' >&2; exit 3")
            .credentials()
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("exit status: 3") && text.contains("helper: no session"),
            "{text}"
        );
        let err = ProcessCredentialsProvider::new("echo not-json")
            .credentials()
            .unwrap_err();
        assert!(err.to_string().contains("not JSON"), "{err}");
        let err = ProcessCredentialsProvider::new(r#"echo '{"AccessKeyId":"id"}'"#)
            .credentials()
            .unwrap_err();
        assert!(err.to_string().contains("AccessKeySecret"), "{err}");
        let started = Instant::now();
        let err = ProcessCredentialsProvider::new("sleep 5")
            .timeout(Duration::from_millis(200))
            .credentials()
            .unwrap_err();
        assert!(
            err.is_transient() && err.to_string().contains("killed"),
            "{err}"
        );
        assert!(started.elapsed() < Duration::from_secs(3));
    }
}

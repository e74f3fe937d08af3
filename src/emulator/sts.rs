//! A local stand-in for STS (`AssumeRole`, `AssumeRoleWithOIDC`), to test
//! [`crate::credentials::StsAssumeRoleCredentialsProvider`],
//! [`crate::credentials::OidcRoleCredentialsProvider`] and your own code on 127.0.0.1.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tinyjson::JsonValue;

use super::standin::{self, Reply, Request, StandIn};
use super::{lock, RecordedRequest};
use crate::credentials::{Credentials, StaticCredentialsProvider};
use crate::signer::{format_iso8601, rpc_signature, rpc_string_to_sign};

/// A misbehaviour of the STS stand-in for the next `times` requests.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StsFault {
    /// Answer this status with an STS error document with this `Code`.
    Status {
        /// The status, e.g. 403 or 500.
        status: u16,
        /// The `Code`, e.g. `NoPermission`.
        code: String,
        /// How many requests get it.
        times: u32,
    },
    /// Answer 200 with this body (malformed JSON, missing `Credentials`...).
    Body {
        /// The body.
        body: String,
        /// How many requests get it.
        times: u32,
    },
    /// Wait this long, then close without answering.
    Stall {
        /// How long.
        duration: Duration,
        /// How many requests get it.
        times: u32,
    },
}

impl StsFault {
    fn times(&mut self) -> &mut u32 {
        match self {
            StsFault::Status { times, .. }
            | StsFault::Body { times, .. }
            | StsFault::Stall { times, .. } => times,
        }
    }
}

/// Builds an [`StsServer`].
#[derive(Clone)]
pub struct StsServerBuilder {
    caller: Credentials,
    issued: Credentials,
    oidc_token: Option<String>,
    max_duration: Duration,
}

impl fmt::Debug for StsServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StsServerBuilder")
            .field("caller", &self.caller)
            .field("issued", &self.issued)
            .field(
                "oidc_token",
                &self.oidc_token.as_ref().map(|_| "<redacted>"),
            )
            .field("max_duration", &self.max_duration)
            .finish()
    }
}

impl StsServerBuilder {
    /// The only credentials `AssumeRole` accepts (AccessKey ID, secret for the signature
    /// check, and the `SecurityToken` parameter when they carry one). Default
    /// `sts-caller-id` / `sts-caller-secret`.
    pub fn caller(mut self, credentials: Credentials) -> Self {
        self.caller = credentials;
        self
    }

    /// The credentials every successful call issues (with `Expiration` = now +
    /// `DurationSeconds`); give the OSS emulator's, with its security token, so uploads
    /// signed with them are accepted. Default: the emulator's default key with the token
    /// `sts-standin-security-token`.
    pub fn issue(mut self, credentials: Credentials) -> Self {
        self.issued = credentials;
        self
    }

    /// The only OIDC token `AssumeRoleWithOIDC` accepts (default: any non-empty token).
    pub fn oidc_token(mut self, token: impl Into<String>) -> Self {
        self.oidc_token = Some(token.into());
        self
    }

    /// The role's `MaxSessionDuration` (default 3600 s): a longer `DurationSeconds` is refused.
    pub fn max_duration(mut self, max: Duration) -> Self {
        self.max_duration = max;
        self
    }

    /// Binds `127.0.0.1:0` and starts serving.
    pub fn start(self) -> std::io::Result<StsServer> {
        let state = Arc::new(StsState {
            config: self,
            faults: Mutex::new(VecDeque::new()),
            calls: Mutex::new(Vec::new()),
        });
        let handler_state = Arc::clone(&state);
        let server = StandIn::start(
            "sts-standin",
            Arc::new(move |req: &Request| handler_state.handle(req)),
        )?;
        Ok(StsServer { server, state })
    }
}

struct StsState {
    config: StsServerBuilder,
    faults: Mutex<VecDeque<StsFault>>,
    calls: Mutex<Vec<StsCall>>,
}

/// One STS call as the stand-in understood it (parameters from the URL and the form body).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StsCall {
    /// `GET` or `POST`.
    pub method: String,
    /// The parameters of the URL query, decoded (the OIDC token must never be there).
    pub query: Vec<(String, String)>,
    /// The parameters of the form body, decoded.
    pub form: Vec<(String, String)>,
}

impl StsCall {
    /// A parameter from the query or the form.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .chain(&self.form)
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for StsCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |p: &[(String, String)]| p.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        f.debug_struct("StsCall")
            .field("method", &self.method)
            .field("query_names", &names(&self.query))
            .field("form_names", &names(&self.form))
            .finish()
    }
}

/// Decodes `k=v&…` (percent-decoding, `+` as a space as forms do).
fn decode_form(text: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        percent_encoding::percent_decode_str(&s)
            .decode_utf8_lossy()
            .into_owned()
    };
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// An STS error answer.
fn sts_error(status: u16, code: &str, message: &str) -> Reply {
    let body = object(&[
        ("RequestId", JsonValue::String(request_id())),
        ("HostId", JsonValue::String("sts.aliyuncs.com".to_string())),
        ("Code", JsonValue::String(code.to_string())),
        ("Message", JsonValue::String(message.to_string())),
    ]);
    standin::respond(
        status,
        "application/json",
        body.stringify().unwrap_or_default(),
    )
}

fn object(fields: &[(&str, JsonValue)]) -> JsonValue {
    JsonValue::Object(
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<HashMap<_, _>>(),
    )
}

fn request_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!("{random:016X}")
}

impl StsState {
    fn handle(&self, req: &Request) -> Reply {
        let call = StsCall {
            method: req.method.clone(),
            query: decode_form(&req.query),
            form: decode_form(&String::from_utf8_lossy(&req.body)),
        };
        lock(&self.calls).push(call.clone());
        if let Some(fault) = self.take_fault() {
            return match fault {
                StsFault::Status { status, code, .. } => {
                    sts_error(status, &code, "injected by the STS stand-in")
                }
                StsFault::Body { body, .. } => standin::respond(200, "application/json", body),
                StsFault::Stall { duration, .. } => Reply::Stall(duration),
            };
        }
        if req.path != "/" || !matches!(req.method.as_str(), "GET" | "POST") {
            return sts_error(
                404,
                "InvalidAction.NotFound",
                "STS answers GET or POST on /",
            );
        }
        match self.check(&call) {
            Ok(duration) => self.issue(duration, &call),
            Err(reply) => reply,
        }
    }

    fn take_fault(&self) -> Option<StsFault> {
        let mut faults = lock(&self.faults);
        let fault = faults.front_mut()?;
        let taken = fault.clone();
        let times = fault.times();
        *times = times.saturating_sub(1);
        if *times == 0 {
            faults.pop_front();
        }
        Some(taken)
    }

    /// The checks STS makes, in order; the session duration on success.
    fn check(&self, call: &StsCall) -> Result<Duration, Reply> {
        let missing = |name: &str| {
            sts_error(
                400,
                &format!("MissingParameter.{name}"),
                &format!("{name} is mandatory for this action."),
            )
        };
        let param = |name: &str| {
            call.param(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| missing(name))
        };
        if param("Format")? != "JSON" || param("Version")? != "2015-04-01" {
            return Err(sts_error(
                400,
                "InvalidParameter",
                "Format must be JSON and Version 2015-04-01.",
            ));
        }
        param("Timestamp")?;
        param("RoleArn")?;
        param("RoleSessionName")?;
        match param("Action")? {
            "AssumeRole" => self.check_signature(call)?,
            "AssumeRoleWithOIDC" => self.check_oidc(call)?,
            _ => {
                return Err(sts_error(
                    400,
                    "InvalidAction.NotFound",
                    "Specified api is not found, please check your url and method.",
                ))
            }
        }
        let seconds: u64 = call
            .param("DurationSeconds")
            .unwrap_or("3600")
            .parse()
            .unwrap_or(0);
        if seconds < 900 || seconds > self.config.max_duration.as_secs() {
            return Err(sts_error(400, "InvalidParameter.DurationSeconds", "The parameter DurationSeconds is invalid: it must be between 900 and the role's MaxSessionDuration."));
        }
        Ok(Duration::from_secs(seconds))
    }

    fn check_signature(&self, call: &StsCall) -> Result<(), Reply> {
        let caller = &self.config.caller;
        if call.param("AccessKeyId") != Some(caller.access_key_id()) {
            return Err(sts_error(
                404,
                "InvalidAccessKeyId.NotFound",
                "Specified access key is not found.",
            ));
        }
        if call.param("SecurityToken") != caller.security_token() {
            return Err(sts_error(
                400,
                "InvalidSecurityToken.Mismatch",
                "Specified SecurityToken mismatch with the AccessKey.",
            ));
        }
        let mut signed: Vec<(String, String)> =
            call.query.iter().chain(&call.form).cloned().collect();
        let given = signed
            .iter()
            .position(|(k, _)| k == "Signature")
            .map(|i| signed.remove(i).1)
            .unwrap_or_default();
        let string_to_sign = rpc_string_to_sign(&call.method, &signed);
        if given != rpc_signature(caller.access_key_secret(), &string_to_sign) {
            // Like STS, echo the server's string to sign, which holds the caller's token: the
            // client must keep it out of its errors.
            return Err(sts_error(
                400,
                "SignatureDoesNotMatch",
                &format!("Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"),
            ));
        }
        Ok(())
    }

    fn check_oidc(&self, call: &StsCall) -> Result<(), Reply> {
        if call.query.iter().any(|(k, _)| k == "OIDCToken") {
            return Err(sts_error(
                400,
                "InvalidParameter.OIDCToken",
                "the stand-in refuses an OIDC token in the URL: send it in the POST body",
            ));
        }
        let token = call.param("OIDCToken").unwrap_or_default();
        call.param("OIDCProviderArn")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                sts_error(
                    400,
                    "MissingParameter.OIDCProviderArn",
                    "OIDCProviderArn is mandatory for this action.",
                )
            })?;
        let accepted = match &self.config.oidc_token {
            Some(expected) => token == expected,
            None => !token.is_empty(),
        };
        if accepted {
            Ok(())
        } else {
            Err(sts_error(
                400,
                "AuthenticationFail.OIDCToken.Invalid",
                &format!("The OIDC token {token} is invalid."),
            ))
        }
    }

    fn issue(&self, duration: Duration, call: &StsCall) -> Reply {
        let c = &self.config.issued;
        let now = SystemTime::now();
        let s = |v: &str| JsonValue::String(v.to_string());
        let credentials = object(&[
            ("AccessKeyId", s(c.access_key_id())),
            ("AccessKeySecret", s(c.access_key_secret())),
            ("SecurityToken", s(c.security_token().unwrap_or_default())),
            (
                "Expiration",
                s(&format_iso8601(now.checked_add(duration).unwrap_or(now))),
            ),
        ]);
        let role = call.param("RoleArn").unwrap_or_default();
        let session = call.param("RoleSessionName").unwrap_or_default();
        let user = object(&[
            ("Arn", s(&format!("{role}/{session}"))),
            ("AssumedRoleId", s(&format!("300000000000000000:{session}"))),
        ]);
        let body = object(&[
            ("RequestId", s(&request_id())),
            ("AssumedRoleUser", user),
            ("Credentials", credentials),
        ]);
        standin::respond(
            200,
            "application/json",
            body.stringify().unwrap_or_default(),
        )
    }
}

/// A local STS: `AssumeRole` (checking the RPC signature of its one accepted caller) and
/// `AssumeRoleWithOIDC` (checking the token, which must come in the POST body), issuing
/// credentials with a `SecurityToken` that the OSS emulator can be set to accept. It listens
/// on 127.0.0.1 only.
///
/// ```
/// use oss_blocking::credentials::*;
/// use oss_blocking::emulator::{Emulator, StsServer};
/// let oss = Emulator::builder().security_token("issued-token").start()?;
/// let issued = oss.credentials_provider().credentials().unwrap();
/// let sts = StsServer::builder().issue(issued).start()?;
/// let provider = StsAssumeRoleCredentialsProvider::new(sts.caller_credentials_provider(), "acs:ram::1:role/r")
///     .environment(Environment::empty())
///     .sts_endpoint(sts.endpoint());
/// let client = oss_blocking::Client::new(oss.config().credentials_provider(provider));
/// client.put_object(oss_blocking::PutObjectRequest::new(oss.bucket(), "k").body("v")).unwrap();
/// assert_eq!(sts.calls().len(), 1);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct StsServer {
    server: StandIn,
    state: Arc<StsState>,
}

impl StsServer {
    /// A stand-in with the defaults.
    pub fn start() -> std::io::Result<StsServer> {
        StsServer::builder().start()
    }

    /// A builder with the defaults (caller `sts-caller-id`, max duration 3600 s).
    pub fn builder() -> StsServerBuilder {
        StsServerBuilder {
            caller: Credentials::new("sts-caller-id", "sts-caller-secret"),
            issued: Credentials::new(
                super::DEFAULT_ACCESS_KEY_ID,
                super::DEFAULT_ACCESS_KEY_SECRET,
            )
            .with_security_token("sts-standin-security-token"),
            oidc_token: None,
            max_duration: Duration::from_secs(3600),
        }
    }

    /// `http://127.0.0.1:<port>`, for the providers' `sts_endpoint`.
    pub fn endpoint(&self) -> String {
        self.server.endpoint()
    }

    /// The listening address, for [`super::TlsFront::start_for`] (STS over HTTPS).
    pub fn addr(&self) -> std::net::SocketAddr {
        self.server.addr()
    }

    /// A provider of the one caller key `AssumeRole` accepts.
    pub fn caller_credentials_provider(&self) -> StaticCredentialsProvider {
        let c = &self.state.config.caller;
        let p = StaticCredentialsProvider::new(c.access_key_id(), c.access_key_secret());
        match c.security_token() {
            Some(token) => p.security_token(token),
            None => p,
        }
    }

    /// Queues a fault; requests take the oldest first.
    pub fn inject(&self, fault: StsFault) {
        let mut fault = fault;
        if *fault.times() > 0 {
            lock(&self.state.faults).push_back(fault);
        }
    }

    /// Every call received, decoded, oldest first.
    pub fn calls(&self) -> Vec<StsCall> {
        lock(&self.state.calls).clone()
    }

    /// Every request received, as on the wire (path, query, headers), oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.server.requests()
    }
}

impl fmt::Debug for StsServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StsServer")
            .field("endpoint", &self.endpoint())
            .finish_non_exhaustive()
    }
}

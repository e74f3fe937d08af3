//! A local stand-in for the ECS instance metadata service (the RAM role part), to test
//! [`crate::credentials::EcsRamRoleCredentialsProvider`] and your own deployment code on
//! 127.0.0.1 instead of `100.100.100.200`.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use super::standin::{self, Reply, Request, StandIn};
use super::{lock, RecordedRequest};
use crate::credentials::Credentials;
use crate::signer::format_iso8601;

/// The path of the metadata token (`PUT`, header `X-aliyun-ecs-metadata-token-ttl-seconds`).
pub const TOKEN_PATH: &str = "/latest/api/token";
/// The path of the role list (`GET`); a role's credentials are at this path + the role name.
pub const ROLE_PATH: &str = "/latest/meta-data/ram/security-credentials/";
/// The request header carrying the token's lifetime in seconds.
pub const TOKEN_TTL_HEADER: &str = "X-aliyun-ecs-metadata-token-ttl-seconds";
/// The request header carrying the token on metadata `GET`s.
pub const TOKEN_HEADER: &str = "X-aliyun-ecs-metadata-token";

/// One of the three metadata endpoints, for [`EcsFault`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EcsEndpoint {
    /// `PUT /latest/api/token`.
    Token,
    /// `GET /latest/meta-data/ram/security-credentials/`.
    RoleList,
    /// `GET /latest/meta-data/ram/security-credentials/<role>`.
    Credentials,
}

/// A misbehaviour of the metadata stand-in for the next `times` requests to one endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EcsFault {
    /// Answer this HTTP status with an empty body.
    Status {
        /// Which endpoint.
        endpoint: EcsEndpoint,
        /// The status, e.g. 404 or 500.
        status: u16,
        /// How many requests get it.
        times: u32,
    },
    /// Answer 200 with this body instead (malformed JSON, a wrong `Code`, missing fields).
    Body {
        /// Which endpoint.
        endpoint: EcsEndpoint,
        /// The body.
        body: String,
        /// How many requests get it.
        times: u32,
    },
    /// Wait this long, then close without answering (to trigger the client's timeout).
    Stall {
        /// Which endpoint.
        endpoint: EcsEndpoint,
        /// How long.
        duration: Duration,
        /// How many requests get it.
        times: u32,
    },
}

impl EcsFault {
    fn endpoint(&self) -> EcsEndpoint {
        match self {
            EcsFault::Status { endpoint, .. }
            | EcsFault::Body { endpoint, .. }
            | EcsFault::Stall { endpoint, .. } => *endpoint,
        }
    }

    fn times(&mut self) -> &mut u32 {
        match self {
            EcsFault::Status { times, .. }
            | EcsFault::Body { times, .. }
            | EcsFault::Stall { times, .. } => times,
        }
    }
}

/// Builds an [`EcsMetadataServer`].
#[derive(Clone)]
pub struct EcsMetadataServerBuilder {
    role_name: String,
    credentials: Credentials,
    lifetime: Duration,
    require_token: bool,
}

impl fmt::Debug for EcsMetadataServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcsMetadataServerBuilder")
            .field("role_name", &self.role_name)
            .field("credentials", &self.credentials)
            .field("lifetime", &self.lifetime)
            .field("require_token", &self.require_token)
            .finish()
    }
}

impl EcsMetadataServerBuilder {
    /// The RAM role attached to the "instance" (default `EcsRamRoleOss`).
    pub fn role_name(mut self, name: impl Into<String>) -> Self {
        self.role_name = name.into();
        self
    }

    /// The credentials the role hands out; give the OSS emulator's (with its security token)
    /// so uploads signed with them are accepted. Default: the emulator's default key with the
    /// token `ecs-standin-token`.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// How long issued credentials last (`Expiration` = now + this; default 6 hours).
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Refuse metadata `GET`s without a valid token with 401, as an instance in
    /// security-hardening mode does (default: tokens optional).
    pub fn require_token(mut self, required: bool) -> Self {
        self.require_token = required;
        self
    }

    /// Binds `127.0.0.1:0` and starts serving.
    pub fn start(self) -> std::io::Result<EcsMetadataServer> {
        let state = Arc::new(EcsState {
            config: self,
            require_token: AtomicBool::new(false),
            faults: Mutex::new(VecDeque::new()),
            tokens: Mutex::new(Vec::new()),
            next_token: AtomicU64::new(1),
        });
        state
            .require_token
            .store(state.config.require_token, Ordering::SeqCst);
        let handler_state = Arc::clone(&state);
        let server = StandIn::start(
            "ecs-metadata-standin",
            Arc::new(move |req: &Request| handler_state.handle(req)),
        )?;
        Ok(EcsMetadataServer { server, state })
    }
}

struct EcsState {
    config: EcsMetadataServerBuilder,
    require_token: AtomicBool,
    faults: Mutex<VecDeque<EcsFault>>,
    /// Issued tokens and when each ends.
    tokens: Mutex<Vec<(String, SystemTime)>>,
    next_token: AtomicU64,
}

impl EcsState {
    fn handle(&self, req: &Request) -> Reply {
        let endpoint = match (req.method.as_str(), req.path.as_str()) {
            ("PUT", TOKEN_PATH) => EcsEndpoint::Token,
            ("GET", ROLE_PATH) => EcsEndpoint::RoleList,
            ("GET", p) if p.starts_with(ROLE_PATH) => EcsEndpoint::Credentials,
            _ => return standin::respond(404, "text/plain", "not found"),
        };
        if let Some(fault) = self.take_fault(endpoint) {
            return match fault {
                EcsFault::Status { status, .. } => standin::respond(status, "text/plain", ""),
                EcsFault::Body { body, .. } => standin::respond(200, "text/plain", body),
                EcsFault::Stall { duration, .. } => Reply::Stall(duration),
            };
        }
        match endpoint {
            EcsEndpoint::Token => self.issue_token(req),
            _ if !self.token_ok(req) => standin::respond(401, "text/plain", ""),
            EcsEndpoint::RoleList => {
                standin::respond(200, "text/plain", self.config.role_name.clone())
            }
            EcsEndpoint::Credentials => self.role_credentials(&req.path),
        }
    }

    fn take_fault(&self, endpoint: EcsEndpoint) -> Option<EcsFault> {
        let mut faults = lock(&self.faults);
        let index = faults.iter().position(|f| f.endpoint() == endpoint)?;
        let fault = faults.get_mut(index)?;
        let taken = fault.clone();
        let times = fault.times();
        *times = times.saturating_sub(1);
        if *times == 0 {
            faults.remove(index);
        }
        Some(taken)
    }

    fn issue_token(&self, req: &Request) -> Reply {
        let ttl = req
            .headers
            .get(TOKEN_TTL_HEADER)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|ttl| (1..=21_600).contains(ttl));
        let Some(ttl) = ttl else {
            return standin::respond(
                400,
                "text/plain",
                "missing or invalid token TTL (1..=21600)",
            );
        };
        let n = self.next_token.fetch_add(1, Ordering::SeqCst);
        let token = format!("ecs-metadata-token-{n}");
        let now = SystemTime::now();
        let until = now.checked_add(Duration::from_secs(ttl)).unwrap_or(now);
        lock(&self.tokens).push((token.clone(), until));
        standin::respond(200, "text/plain", token)
    }

    fn token_ok(&self, req: &Request) -> bool {
        match req.headers.get(TOKEN_HEADER) {
            Some(token) => lock(&self.tokens)
                .iter()
                .any(|(t, until)| t == token && SystemTime::now() < *until),
            None => !self.require_token.load(Ordering::SeqCst),
        }
    }

    fn role_credentials(&self, path: &str) -> Reply {
        let role = path.get(ROLE_PATH.len()..).unwrap_or_default();
        if role != self.config.role_name {
            return standin::respond(404, "text/plain", "no such role");
        }
        let c = &self.config.credentials;
        let now = SystemTime::now();
        let body = tinyjson::JsonValue::Object(
            [
                ("Code", "Success".to_string()),
                ("AccessKeyId", c.access_key_id().to_string()),
                ("AccessKeySecret", c.access_key_secret().to_string()),
                (
                    "SecurityToken",
                    c.security_token().unwrap_or_default().to_string(),
                ),
                (
                    "Expiration",
                    format_iso8601(now.checked_add(self.config.lifetime).unwrap_or(now)),
                ),
                ("LastUpdated", format_iso8601(now)),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), tinyjson::JsonValue::String(v)))
            .collect(),
        );
        standin::respond(200, "text/plain", body.stringify().unwrap_or_default())
    }
}

/// A local ECS metadata service: token endpoint, role list and role credentials, with a
/// switchable token requirement and injectable failures. It listens on 127.0.0.1 only.
///
/// ```
/// use oss_blocking::credentials::{CredentialsProvider, EcsRamRoleCredentialsProvider, Environment};
/// use oss_blocking::emulator::EcsMetadataServer;
/// let metadata = EcsMetadataServer::builder().require_token(true).start()?;
/// let provider = EcsRamRoleCredentialsProvider::from_environment(Environment::empty())
///     .endpoint(metadata.endpoint());
/// let creds = provider.credentials().unwrap();
/// assert!(creds.security_token().is_some() && creds.expiration().is_some());
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct EcsMetadataServer {
    server: StandIn,
    state: Arc<EcsState>,
}

impl EcsMetadataServer {
    /// A builder with the defaults (role `EcsRamRoleOss`, 6 h credentials, tokens optional).
    pub fn builder() -> EcsMetadataServerBuilder {
        EcsMetadataServerBuilder {
            role_name: "EcsRamRoleOss".to_string(),
            credentials: Credentials::new(
                super::DEFAULT_ACCESS_KEY_ID,
                super::DEFAULT_ACCESS_KEY_SECRET,
            )
            .with_security_token("ecs-standin-token"),
            lifetime: Duration::from_secs(6 * 3600),
            require_token: false,
        }
    }

    /// `http://127.0.0.1:<port>`, for [`crate::credentials::EcsRamRoleCredentialsProvider::endpoint`].
    pub fn endpoint(&self) -> String {
        self.server.endpoint()
    }

    /// Switches the token requirement (security-hardening mode) on or off.
    pub fn set_require_token(&self, required: bool) {
        self.state.require_token.store(required, Ordering::SeqCst);
    }

    /// Queues a fault; each request takes the oldest queued fault for its endpoint.
    pub fn inject(&self, fault: EcsFault) {
        let mut fault = fault;
        if *fault.times() > 0 {
            lock(&self.state.faults).push_back(fault);
        }
    }

    /// Every request received, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.server.requests()
    }
}

impl fmt::Debug for EcsMetadataServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcsMetadataServer")
            .field("endpoint", &self.endpoint())
            .finish_non_exhaustive()
    }
}

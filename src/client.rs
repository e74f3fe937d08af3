//! The client: the configuration, one connection pool, and the clock correction every
//! operation shares. The operations themselves live in `ops/`, one file each, and all go
//! through the pipeline (`pipeline.rs`).

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use crate::config::Config;
use crate::pipeline::{apply_clock_offset, clock_offset_ms};
use crate::transport;

/// A blocking OSS client. Cheap to clone (an `Arc`), `Send + Sync`: share one across threads
/// so they share its connection pool.
///
/// ```
/// use oss_blocking as oss;
/// # let emu = oss::emulator::Emulator::start().unwrap();
/// # let cfg = emu.config();
/// // cfg: region, endpoint and credentials, e.g. from Config::load_default()
/// let client = oss::Client::new(cfg);
/// let result = client
///     .put_object(oss::PutObjectRequest::new(emu.bucket(), "a.txt").body("Hello, OSS!"))
///     .unwrap();
/// assert_eq!(result.status_code, 200);
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    agent: ureq::Agent,
    user_agent: String,
    /// Server time minus local time, in milliseconds, learned from `RequestTimeTooSkewed`.
    clock_offset_ms: AtomicI64,
    /// A TLS or proxy setting that could not be used, reported by every operation.
    setup_error: Option<String>,
}

impl Client {
    /// Builds a client. Configuration problems (no region, a malformed endpoint) are reported
    /// by the first operation, as an [`crate::ErrorKind::InvalidArgument`] error.
    pub fn new(config: Config) -> Client {
        let (agent, setup_error) = transport::agent(&config);
        Client {
            inner: Arc::new(Inner {
                agent,
                user_agent: transport::user_agent(&config),
                config,
                clock_offset_ms: AtomicI64::new(0),
                setup_error,
            }),
        }
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub(crate) fn agent(&self) -> &ureq::Agent {
        &self.inner.agent
    }

    pub(crate) fn user_agent(&self) -> &str {
        &self.inner.user_agent
    }

    pub(crate) fn setup_error(&self) -> Option<&str> {
        self.inner.setup_error.as_deref()
    }

    /// The signing time: now, corrected by the offset learned from the server's clock.
    pub(crate) fn now(&self) -> SystemTime {
        let offset = self.inner.clock_offset_ms.load(Ordering::Relaxed);
        apply_clock_offset(SystemTime::now(), offset)
    }

    pub(crate) fn learn_clock_offset(&self, server_time: SystemTime) {
        let offset_ms = clock_offset_ms(server_time, SystemTime::now());
        self.inner
            .clock_offset_ms
            .store(offset_ms, Ordering::Relaxed);
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .field(
                "clock_offset_ms",
                &self.inner.clock_offset_ms.load(Ordering::Relaxed),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_is_send_sync_and_clone() {
        fn assert_traits<T: Send + Sync + Clone + 'static>() {}
        assert_traits::<Client>();
    }
}

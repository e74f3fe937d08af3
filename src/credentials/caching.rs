//! Caching with refresh ahead, one refresh at a time.
//!
//! The rule (fact sheet §6.11 item 5, the issue's figures):
//! - credentials fetched at `F` that expire at `E` are refreshed from `E - min(5 min, (E - F) / 2)`:
//!   a 900 s token 600 s after it was fetched, a 90 s one after 45 s, a 3600 s one after 3300 s;
//! - they are handed out until `E - 30 s` and never after; credentials without an expiry are
//!   kept for good;
//! - one caller refreshes while the others keep getting the cached value; when nothing usable
//!   is cached the others wait for that one refresh and share its result (8 threads asking at
//!   once cause one fetch);
//! - a failed refresh keeps serving the cached value until `E - 30 s`, trying again after a
//!   jittered backoff; after that the error is returned.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use super::{Credentials, CredentialsError, CredentialsProvider};

/// Credentials are never handed out within this time of their expiry.
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(30);
/// The longest refresh-ahead window: refreshing starts at most this long before expiry.
pub const MAX_REFRESH_AHEAD: Duration = Duration::from_secs(5 * 60);
/// The first wait after a failed refresh (doubled per failure in a row, then jittered).
const BACKOFF_BASE: Duration = Duration::from_secs(1);
/// The longest wait between refresh attempts while the cached value is still usable.
const BACKOFF_MAX: Duration = Duration::from_secs(60);
/// How long a caller waits for another thread's refresh before fetching itself (the
/// networked providers' own timeouts are far shorter; this only guards against a provider
/// that never returns).
const WAIT_FOR_REFRESH: Duration = Duration::from_secs(120);

/// The source of "now", injectable so tests move time instead of sleeping.
pub(crate) type ClockFn = Arc<dyn Fn() -> SystemTime + Send + Sync>;

fn system_clock() -> ClockFn {
    Arc::new(SystemTime::now)
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A cached value and the times that govern it.
#[derive(Clone)]
struct Entry {
    credentials: Credentials,
    /// From then on, one caller refreshes; `None`: never (no expiry).
    refresh_at: Option<SystemTime>,
    /// Handed out only before then (`expiration - 30 s`); `None`: always.
    usable_until: Option<SystemTime>,
}

impl Entry {
    fn new(credentials: Credentials, fetched_at: SystemTime) -> Self {
        let Some(expires) = credentials.expiration() else {
            return Entry {
                credentials,
                refresh_at: None,
                usable_until: None,
            };
        };
        let lifetime = expires.duration_since(fetched_at).unwrap_or_default();
        let ahead = MAX_REFRESH_AHEAD.min(lifetime.checked_div(2).unwrap_or_default());
        Entry {
            refresh_at: Some(expires.checked_sub(ahead).unwrap_or(expires)),
            usable_until: Some(expires.checked_sub(EXPIRY_MARGIN).unwrap_or(expires)),
            credentials,
        }
    }

    fn usable(&self, now: SystemTime) -> bool {
        self.usable_until.is_none_or(|t| now < t)
    }

    fn fresh(&self, now: SystemTime) -> bool {
        self.refresh_at.is_none_or(|t| now < t)
    }
}

#[derive(Default)]
struct State {
    entry: Option<Entry>,
    refreshing: bool,
    /// Completed refreshes, so a waiter can tell that the one it waited for is over.
    generation: u64,
    /// The last refresh's error (message, transient), shared with the callers that waited.
    last_error: Option<(String, bool)>,
    failures: u32,
    next_try: Option<SystemTime>,
}

/// The caching core: shared by [`CachingCredentialsProvider`] and every networked provider.
pub(crate) struct Cache {
    /// The provider's name, first word of the errors made here.
    who: &'static str,
    clock: ClockFn,
    state: Mutex<State>,
    done: Condvar,
}

/// What a caller does after looking at the state.
enum Step {
    Serve(Credentials),
    Refresh { fallback: Option<Credentials> },
    Wait(u64),
}

impl Cache {
    pub(crate) fn new(who: &'static str) -> Self {
        Cache {
            who,
            clock: system_clock(),
            state: Mutex::new(State::default()),
            done: Condvar::new(),
        }
    }

    pub(crate) fn set_clock(&mut self, clock: ClockFn) {
        self.clock = clock;
    }

    /// The cached credentials, or those `fetch` gives when a refresh is due.
    pub(crate) fn get(
        &self,
        fetch: impl FnOnce() -> Result<Credentials, CredentialsError>,
    ) -> Result<Credentials, CredentialsError> {
        let mut fetch = Some(fetch);
        let mut waited_for: Option<u64> = None;
        // Bounded: each pass either returns, refreshes (then returns) or waits for a refresh
        // that ends; a waiter whose refresh finished without a value returns its error.
        for _ in 0..4 {
            let now = (self.clock)();
            match self.next_step(now, waited_for) {
                Ok(Step::Serve(c)) => return Ok(c),
                Ok(Step::Wait(generation)) => {
                    self.wait(generation);
                    waited_for = Some(generation);
                }
                Ok(Step::Refresh { fallback }) => {
                    let Some(fetch) = fetch.take() else { break };
                    return self.refresh(fetch, fallback);
                }
                Err(e) => return Err(e),
            }
        }
        Err(CredentialsError::transient(format!(
            "{}: the credentials refresh by another thread did not finish",
            self.who
        )))
    }

    fn next_step(
        &self,
        now: SystemTime,
        waited_for: Option<u64>,
    ) -> Result<Step, CredentialsError> {
        let mut state = lock(&self.state);
        let usable = state.entry.as_ref().filter(|e| e.usable(now)).cloned();
        if let Some(entry) = &usable {
            let backing_off = state.next_try.is_some_and(|t| now < t);
            if entry.fresh(now) || state.refreshing || backing_off {
                return Ok(Step::Serve(entry.credentials.clone()));
            }
        } else {
            let refresh_ended = waited_for.is_some_and(|g| g != state.generation);
            if let (true, Some((message, transient))) = (refresh_ended, &state.last_error) {
                // The refresh this caller waited for failed: share its error, do not repeat it.
                return Err(shared_error(self.who, message, *transient));
            }
            if state.refreshing {
                return Ok(Step::Wait(state.generation));
            }
        }
        state.refreshing = true;
        Ok(Step::Refresh {
            fallback: usable.map(|e| e.credentials),
        })
    }

    fn wait(&self, generation: u64) {
        let state = lock(&self.state);
        let _unused = self
            .done
            .wait_timeout_while(state, WAIT_FOR_REFRESH, |s| {
                s.refreshing && s.generation == generation
            })
            .unwrap_or_else(PoisonError::into_inner);
    }

    fn refresh(
        &self,
        fetch: impl FnOnce() -> Result<Credentials, CredentialsError>,
        fallback: Option<Credentials>,
    ) -> Result<Credentials, CredentialsError> {
        let guard = RefreshGuard(self);
        let result = fetch();
        let now = (self.clock)();
        let mut state = lock(&self.state);
        let outcome = match result {
            Ok(credentials) => {
                let entry = Entry::new(credentials, now);
                if entry.usable(now) {
                    state.failures = 0;
                    state.next_try = None;
                    state.last_error = None;
                    let credentials = entry.credentials.clone();
                    state.entry = Some(entry);
                    Ok(credentials)
                } else {
                    Err(CredentialsError::new(format!(
                        "{}: got credentials that expire within {} s (at {}), too late to use",
                        self.who,
                        EXPIRY_MARGIN.as_secs(),
                        httpdate::fmt_http_date(entry.credentials.expiration().unwrap_or(now)),
                    )))
                }
            }
            Err(e) => Err(e),
        };
        let outcome = match (outcome, fallback) {
            (Ok(c), _) => Ok(c),
            (Err(e), fallback) => {
                state.failures = state.failures.saturating_add(1);
                state.next_try = now.checked_add(backoff(state.failures));
                state.last_error = Some((e.to_string(), e.is_transient()));
                match fallback {
                    Some(cached) => {
                        log::warn!(
                            "credentials refresh failed, the cached value is still valid: {e}"
                        );
                        Ok(cached)
                    }
                    None => Err(e),
                }
            }
        };
        drop(state);
        drop(guard);
        outcome
    }
}

/// Ends a refresh (even when the provider panicked), waking the callers that wait for it.
struct RefreshGuard<'a>(&'a Cache);

impl Drop for RefreshGuard<'_> {
    fn drop(&mut self) {
        let mut state = lock(&self.0.state);
        state.refreshing = false;
        state.generation = state.generation.wrapping_add(1);
        drop(state);
        self.0.done.notify_all();
    }
}

fn shared_error(who: &str, message: &str, transient: bool) -> CredentialsError {
    let message = format!("{who}: the refresh this call waited for failed: {message}");
    if transient {
        CredentialsError::transient(message)
    } else {
        CredentialsError::new(message)
    }
}

/// `BACKOFF_BASE * 2^(failures-1)`, at most `BACKOFF_MAX`, then a random point in its upper half.
fn backoff(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(16);
    let full = BACKOFF_BASE.saturating_mul(1u32 << exp).min(BACKOFF_MAX);
    let random = RandomState::new().build_hasher().finish();
    let half = full.checked_div(2).unwrap_or_default();
    let half_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
    let jitter_ms = random.checked_rem(half_ms).unwrap_or(0);
    half.saturating_add(Duration::from_millis(jitter_ms))
}

/// Keeps another provider's credentials and refreshes them ahead of their expiry, one
/// refresh at a time.
///
/// The rule: credentials fetched at `F` that expire at `E` are refreshed from
/// `E - min(5 min, (E - F) / 2)` (a 900 s STS token 600 s after it was fetched, not on every
/// request), and are handed out until `E - 30 s`, never later. During a refresh the other
/// threads keep the cached value; when nothing usable is cached they wait for that single
/// refresh. A failed refresh keeps serving the cached value until `E - 30 s`, retried after a
/// jittered backoff, then its error is returned. Credentials without an expiry are kept for
/// good. The networked providers (ECS, STS, OIDC, URI) already cache this way; wrapping them
/// again is harmless.
///
/// ```
/// use oss_blocking::credentials::*;
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::sync::Arc;
/// use std::time::{Duration, SystemTime};
///
/// let calls = Arc::new(AtomicU32::new(0));
/// let counter = Arc::clone(&calls);
/// let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let now = Arc::new(std::sync::Mutex::new(start));
/// let clock = Arc::clone(&now);
/// let provider = CachingCredentialsProvider::new(move || {
///     counter.fetch_add(1, Ordering::SeqCst);
///     Ok(Credentials::new("STS.id", "secret").with_expiration(start + Duration::from_secs(900)))
/// })
/// .clock(move || *clock.lock().unwrap());
///
/// provider.credentials()?;
/// *now.lock().unwrap() = start + Duration::from_secs(599);
/// provider.credentials()?;
/// assert_eq!(calls.load(Ordering::SeqCst), 1); // still fresh
/// # Ok::<(), CredentialsError>(())
/// ```
pub struct CachingCredentialsProvider {
    inner: Box<dyn CredentialsProvider>,
    cache: Cache,
}

impl CachingCredentialsProvider {
    /// Caches `inner`'s credentials by the rule above, with the system clock.
    pub fn new(inner: impl CredentialsProvider + 'static) -> Self {
        CachingCredentialsProvider {
            inner: Box::new(inner),
            cache: Cache::new("CachingCredentialsProvider"),
        }
    }

    /// Uses this clock instead of the system's (tests move it instead of sleeping).
    pub fn clock(mut self, now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.cache.set_clock(Arc::new(now));
        self
    }
}

impl CredentialsProvider for CachingCredentialsProvider {
    fn credentials(&self) -> Result<Credentials, CredentialsError> {
        self.cache.get(|| self.inner.credentials())
    }
}

impl std::fmt::Debug for CachingCredentialsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachingCredentialsProvider")
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

    const T0: u64 = 1_700_000_000;

    /// A clock the test moves, in whole seconds since the epoch.
    #[derive(Clone)]
    struct FakeClock(Arc<AtomicU64>);

    impl FakeClock {
        fn new() -> Self {
            FakeClock(Arc::new(AtomicU64::new(T0)))
        }
        fn now(&self) -> SystemTime {
            SystemTime::UNIX_EPOCH + Duration::from_secs(self.0.load(Ordering::SeqCst))
        }
        fn set(&self, since_t0: u64) {
            self.0.store(T0 + since_t0, Ordering::SeqCst);
        }
    }

    /// A provider that counts fetches and issues `lifetime`-second credentials from "now",
    /// failing while `fail` is set.
    struct Issuer {
        clock: FakeClock,
        lifetime: u64,
        calls: Arc<AtomicU32>,
        fail: Arc<AtomicU32>,
    }

    impl CredentialsProvider for Issuer {
        fn credentials(&self) -> Result<Credentials, CredentialsError> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            if self.fail.load(Ordering::SeqCst) > 0 {
                return Err(CredentialsError::transient("STS answered 503"));
            }
            let exp = self.clock.now() + Duration::from_secs(self.lifetime);
            Ok(Credentials::new(format!("id-{n}"), "secret").with_expiration(exp))
        }
    }

    fn setup(
        lifetime: u64,
    ) -> (
        FakeClock,
        CachingCredentialsProvider,
        Arc<AtomicU32>,
        Arc<AtomicU32>,
    ) {
        let clock = FakeClock::new();
        let calls = Arc::new(AtomicU32::new(0));
        let fail = Arc::new(AtomicU32::new(0));
        let issuer = Issuer {
            clock: clock.clone(),
            lifetime,
            calls: Arc::clone(&calls),
            fail: Arc::clone(&fail),
        };
        let c = clock.clone();
        let provider = CachingCredentialsProvider::new(issuer).clock(move || c.now());
        (clock, provider, calls, fail)
    }

    fn id(p: &CachingCredentialsProvider) -> String {
        p.credentials().unwrap().access_key_id().to_string()
    }

    #[test]
    fn a_900_s_token_is_refreshed_600_s_after_fetch_not_on_every_call() {
        let (clock, p, calls, _) = setup(900);
        for t in [0, 1, 300, 599] {
            clock.set(t);
            assert_eq!(id(&p), "id-1", "at {t} s");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        clock.set(600);
        assert_eq!(id(&p), "id-2");
        clock.set(601);
        assert_eq!(id(&p), "id-2");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn refresh_points_for_3600_s_and_90_s_tokens() {
        let (clock, p, calls, _) = setup(3600);
        assert_eq!(id(&p), "id-1");
        clock.set(3299);
        assert_eq!(id(&p), "id-1");
        clock.set(3300);
        assert_eq!(id(&p), "id-2");
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        let (clock, p, calls, _) = setup(90);
        assert_eq!(id(&p), "id-1");
        clock.set(44);
        assert_eq!(id(&p), "id-1");
        clock.set(45);
        assert_eq!(id(&p), "id-2");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_failed_refresh_serves_the_cached_value_until_30_s_before_expiry_then_fails() {
        let (clock, p, calls, fail) = setup(900);
        assert_eq!(id(&p), "id-1");
        fail.store(1, Ordering::SeqCst);
        clock.set(600);
        assert_eq!(id(&p), "id-1", "refresh failed: cached value still valid");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // Backing off: the next calls within the backoff do not call the provider.
        clock.set(600);
        assert_eq!(id(&p), "id-1");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // After the backoff (at most 1 s for the first failure) it tries again.
        clock.set(602);
        assert_eq!(id(&p), "id-1");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        // From expiry - 30 s the cached value is never handed out.
        clock.set(870);
        let err = p.credentials().unwrap_err();
        assert!(err.is_transient());
        assert!(err.to_string().contains("503"), "{err}");
        // Once the provider recovers, the next call gets new credentials.
        fail.store(0, Ordering::SeqCst);
        clock.set(871);
        assert!(id(&p).starts_with("id-"));
        assert!(p.credentials().unwrap().expiration().unwrap() > clock.now());
    }

    /// The Python library calls STS on every use of a 900 s token (vector
    /// `sts_refresh_frequency`: 5 calls, 5 requests); here every lifetime costs one request.
    #[test]
    fn five_calls_cost_one_fetch_for_every_lifetime_of_the_vector() {
        let vectors: serde_json::Value = crate::test_vectors::all_next();
        let cases = vectors["sts_refresh_frequency"].as_array().unwrap();
        assert_eq!(cases.len(), 4);
        for case in cases {
            let lifetime = case["token_lifetime_s"].as_u64().unwrap();
            let python_requests = case["sts_requests"].as_u64().unwrap();
            let (clock, p, calls, _) = setup(lifetime);
            for t in 0..case["get_credentials_calls"].as_u64().unwrap() {
                clock.set(t);
                p.credentials().unwrap();
            }
            assert_eq!(
                calls.load(Ordering::SeqCst),
                1,
                "{lifetime} s (Python: {python_requests})"
            );
        }
    }

    #[test]
    fn backoff_grows_and_is_jittered_within_bounds() {
        for failures in 1..20 {
            let full = BACKOFF_BASE
                .saturating_mul(1 << (failures - 1).min(16))
                .min(BACKOFF_MAX);
            let b = backoff(failures);
            assert!(b >= full / 2 && b <= full, "{failures}: {b:?}");
        }
    }

    #[test]
    fn credentials_without_expiry_are_kept_for_good() {
        let calls = Arc::new(AtomicU32::new(0));
        let counter = Arc::clone(&calls);
        let clock = FakeClock::new();
        let c = clock.clone();
        let p = CachingCredentialsProvider::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(Credentials::new("id", "secret"))
        })
        .clock(move || c.now());
        for t in [0, 10_000, 100_000_000] {
            clock.set(t);
            p.credentials().unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn already_expired_credentials_are_refused() {
        let clock = FakeClock::new();
        let c = clock.clone();
        let exp = clock.now() + Duration::from_secs(29);
        let p = CachingCredentialsProvider::new(move || {
            Ok(Credentials::new("id", "secret").with_expiration(exp))
        })
        .clock(move || c.now());
        let err = p.credentials().unwrap_err();
        assert!(err.to_string().contains("expire within 30 s"), "{err}");
    }

    #[test]
    fn eight_threads_asking_at_once_cause_one_fetch() {
        let calls = Arc::new(AtomicU32::new(0));
        let counter = Arc::clone(&calls);
        let gate = Arc::new(std::sync::Barrier::new(8));
        let p = Arc::new(CachingCredentialsProvider::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            // Long enough that the other threads arrive during the fetch.
            std::thread::sleep(Duration::from_millis(300));
            Ok(Credentials::new("id", "secret")
                .with_expiration(SystemTime::now() + Duration::from_secs(3600)))
        }));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (p, gate) = (Arc::clone(&p), Arc::clone(&gate));
                std::thread::spawn(move || {
                    gate.wait();
                    p.credentials().map(|c| c.access_key_id().to_string())
                })
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap().unwrap(), "id");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn threads_waiting_on_a_failed_first_fetch_share_its_error() {
        let calls = Arc::new(AtomicU32::new(0));
        let counter = Arc::clone(&calls);
        let gate = Arc::new(std::sync::Barrier::new(8));
        let p = Arc::new(CachingCredentialsProvider::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(300));
            Err(CredentialsError::new("HTTP 403 NoPermission"))
        }));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (p, gate) = (Arc::clone(&p), Arc::clone(&gate));
                std::thread::spawn(move || {
                    gate.wait();
                    p.credentials().unwrap_err()
                })
            })
            .collect();
        for t in threads {
            let err = t.join().unwrap();
            assert!(err.to_string().contains("403"), "{err}");
            assert!(!err.is_transient());
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn during_a_refresh_others_keep_the_cached_value() {
        // The refresher blocks inside the provider; another caller must get the old value at once.
        let clock = FakeClock::new();
        let c = clock.clone();
        let calls = Arc::new(AtomicU32::new(0));
        let counter = Arc::clone(&calls);
        let (enter_tx, enter_rx) = std::sync::mpsc::channel::<()>();
        let (leave_tx, leave_rx) = std::sync::mpsc::channel::<()>();
        let leave_rx = Mutex::new(leave_rx);
        let enter_tx = Mutex::new(enter_tx);
        let p = Arc::new(
            CachingCredentialsProvider::new(move || {
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                if n == 2 {
                    lock(&enter_tx).send(()).unwrap();
                    lock(&leave_rx)
                        .recv_timeout(Duration::from_secs(10))
                        .unwrap();
                }
                Ok(Credentials::new(format!("id-{n}"), "s")
                    .with_expiration(c.now() + Duration::from_secs(900)))
            })
            .clock({
                let c = clock.clone();
                move || c.now()
            }),
        );
        assert_eq!(id(&p), "id-1");
        clock.set(700);
        let refresher = {
            let p = Arc::clone(&p);
            std::thread::spawn(move || id(&p))
        };
        enter_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(id(&p), "id-1", "served from cache while the refresh runs");
        leave_tx.send(()).unwrap();
        assert_eq!(refresher.join().unwrap(), "id-2");
        assert_eq!(id(&p), "id-2");
    }
}

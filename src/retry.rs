//! The retry table and the backoff between attempts, as pure functions.
//!
//! [`classify`] is the one place that decides, from what an attempt produced, whether the
//! operation tries again: every operation goes through it, so the rules below hold for all.
//!
//! | what the attempt produced | retried? |
//! |---|---|
//! | credentials error marked transient (or caused by a network I/O error) | yes |
//! | other credentials errors, empty keys, local read errors, bad setup | no |
//! | connection errors (refused, reset, timeout, cut response) | yes |
//! | TLS, bad URL or proxy, response over the size limit | no |
//! | HTTP 5xx, 401, 408, 429; `RequestTimeTooSkewed`, `BadRequest` | yes |
//! | other HTTP errors (4xx) | no |
//! | a 2xx that is not an OSS answer (no request id or ETag) | yes |
//! | a CRC-64 mismatch | yes |
//! | a 2xx the operation refuses for good (203 `CallbackFailed`, a result it cannot parse) | no |
//! | anything, on the last attempt, or with a one-shot body already read | no |

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::Config;
use crate::credentials::CredentialsError;
use crate::error::{OperationError, ServiceError};

/// The service error code OSS answers when `x-oss-forbid-overwrite: true` meets an object.
const FILE_ALREADY_EXISTS: &str = "FileAlreadyExists";

/// Added to the last error when its attempt may have stored the object (a CRC-64 mismatch,
/// an answer lost after the whole body went out), so the caller checks before trusting it.
pub(crate) const MAY_HAVE_STORED_NOTE: &str =
    "the whole body reached the server, so the object may exist with what it received: check \
     it (or upload again without forbid_overwrite) before relying on it";

/// Why an operation refused a 2xx answer (its success check), for [`classify`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The answer lacks what OSS always sends (request id, ETag): something in the way
    /// answered, and the bytes may never have reached OSS.
    NotAnOssAnswer,
    /// OSS stored bytes whose CRC-64 differs from the bytes sent.
    CrcMismatch,
    /// Final: the answer says what happened and another attempt cannot change it (a 203
    /// `CallbackFailed` after the object was stored, a result document that cannot be parsed).
    Final,
}

/// What one attempt produced when it did not succeed.
#[derive(Debug)]
pub(crate) enum AttemptFailure<'a> {
    /// The credentials provider failed.
    Credentials(&'a CredentialsError),
    /// Nothing can be sent: empty keys, the local body could not be read, a request that
    /// cannot be built.
    Local,
    /// The connection failed; `body_sent` when the whole body had gone out (the object may
    /// have been stored and only the answer lost).
    Transport {
        error: &'a ureq::Error,
        body_sent: bool,
    },
    /// A 2xx arrived but its body could not be read to the end.
    ResponseCut,
    /// OSS answered with an error status.
    Service(&'a ServiceError),
    /// The operation's success check refused a 2xx answer.
    Refused(Refusal),
}

/// What the pipeline does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Try again after the backoff; the reason is logged.
    Retry {
        reason: &'static str,
        /// An earlier attempt may have stored the object (see [`final_error`]).
        may_have_stored: bool,
    },
    /// Give up; `note` is added to the error when there is something to say about why.
    Fail {
        note: Option<&'static str>,
        may_have_stored: bool,
    },
}

/// Where the operation stands when an attempt failed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AttemptState {
    /// Attempts made so far, this one included (from 1).
    pub attempt: u32,
    /// Attempts allowed in all.
    pub max_attempts: u32,
    /// The body can be sent again from its start.
    pub body_rewindable: bool,
}

/// The whole retry table (see the module documentation).
pub(crate) fn classify(failure: &AttemptFailure<'_>, state: AttemptState) -> Decision {
    let (retryable, reason, may_have_stored) = match failure {
        AttemptFailure::Credentials(e) => (e.is_transient(), "credentials unavailable", false),
        AttemptFailure::Local => (false, "", false),
        AttemptFailure::Transport { error, body_sent } => (
            is_retryable_transport(error),
            "connection failed",
            *body_sent,
        ),
        AttemptFailure::ResponseCut => (true, "the answer was cut short", true),
        AttemptFailure::Service(service) => (
            is_retryable_service(service),
            "the service answered an error that may pass",
            false,
        ),
        AttemptFailure::Refused(Refusal::NotAnOssAnswer) => {
            (true, "the answer did not come from OSS", false)
        }
        AttemptFailure::Refused(Refusal::CrcMismatch) => (true, "CRC-64 mismatch", true),
        AttemptFailure::Refused(Refusal::Final) => (false, "", false),
    };
    if !retryable || state.attempt >= state.max_attempts {
        return Decision::Fail {
            note: None,
            may_have_stored,
        };
    }
    if !state.body_rewindable {
        return Decision::Fail {
            note: Some(
                "could not be retried: the body is a one-shot stream that was already read \
                 (use bytes, a file or Body::from_seekable to allow retries)",
            ),
            may_have_stored,
        };
    }
    Decision::Retry {
        reason,
        may_have_stored,
    }
}

/// HTTP statuses and codes that another attempt may fix.
fn is_retryable_service(service: &ServiceError) -> bool {
    let status = service.status_code();
    status >= 500
        || matches!(status, 401 | 408 | 429)
        || matches!(service.code(), "RequestTimeTooSkewed" | "BadRequest")
}

/// Connection failures are retried, except those a new attempt cannot fix: a bad URL or
/// proxy, TLS failures (rustls reports an unknown issuer, an expired certificate or a name
/// mismatch as an I/O error of kind `InvalidData`), and a response over the size limit.
pub(crate) fn is_retryable_transport(e: &ureq::Error) -> bool {
    if let ureq::Error::Io(io) = e {
        if io.kind() == std::io::ErrorKind::InvalidData {
            return false;
        }
    }
    !matches!(
        e,
        ureq::Error::Http(_)
            | ureq::Error::BadUri(_)
            | ureq::Error::InvalidProxyUrl
            | ureq::Error::Tls(_)
            | ureq::Error::Rustls(_)
            | ureq::Error::Pem(_)
            | ureq::Error::BodyExceedsLimit(_)
    )
}

/// The error to report. When an earlier attempt may have stored the object (a CRC mismatch,
/// an answer lost after the body went out) and a later one is refused with
/// `FileAlreadyExists`, the refusal is most likely about that earlier object: report the
/// earlier error, which says what really went wrong, and that the object may exist.
pub(crate) fn final_error(
    earlier_may_have_stored: Option<OperationError>,
    last: OperationError,
) -> OperationError {
    let refused_as_existing = last
        .service_error()
        .is_some_and(|s| s.code() == FILE_ALREADY_EXISTS);
    match earlier_may_have_stored {
        Some(earlier) if refused_as_existing => {
            earlier.with_attempts(last.attempts()).with_note(&format!(
                "a later attempt was refused with {FILE_ALREADY_EXISTS}, so the object from \
                 this attempt may exist in the bucket: check it (or delete it) before \
                 uploading again"
            ))
        }
        _ => last,
    }
}

/// Full-jitter exponential backoff: a random delay in `[0, min(base * 2^retry, max))`, with
/// `retry` counting from 1 as in the Python SDK (the first retry waits at most 2 * base).
pub(crate) fn backoff_delay(retry: u32, cfg: &Config) -> Duration {
    let ceiling = cfg
        .retry_base_delay
        .checked_mul(1u32.checked_shl(retry.min(30)).unwrap_or(u32::MAX))
        .unwrap_or(cfg.retry_max_backoff)
        .min(cfg.retry_max_backoff);
    ceiling.mul_f64(random_unit())
}

/// A uniform number in [0, 1) for jitter; falls back to the clock when the OS RNG fails.
fn random_unit() -> f64 {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    let raw = match ring::rand::SystemRandom::new().fill(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes),
        Err(_) => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::from(d.subsec_nanos()))
            .unwrap_or(0),
    };
    (raw >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::Headers;

    fn state(attempt: u32) -> AttemptState {
        AttemptState {
            attempt,
            max_attempts: 3,
            body_rewindable: true,
        }
    }

    fn service(status: u16, code: &str) -> ServiceError {
        let body = format!("<Error><Code>{code}</Code><Message>m</Message></Error>");
        ServiceError::from_response(status, &Headers::new(), body.as_bytes(), "PUT u")
    }

    fn retries(failure: &AttemptFailure<'_>) -> bool {
        matches!(classify(failure, state(1)), Decision::Retry { .. })
    }

    #[test]
    fn service_errors_follow_the_table() {
        for (status, code, expected) in [
            (500, "InternalError", true),
            (503, "ServiceUnavailable", true),
            (401, "Unauthorized", true),
            (408, "RequestTimeout", true),
            (429, "TooManyRequests", true),
            (403, "RequestTimeTooSkewed", true),
            (400, "BadRequest", true),
            (403, "AccessDenied", false),
            (404, "NoSuchBucket", false),
            (409, "FileAlreadyExists", false),
            (400, "InvalidArgument", false),
        ] {
            let s = service(status, code);
            assert_eq!(
                retries(&AttemptFailure::Service(&s)),
                expected,
                "{status} {code}"
            );
        }
    }

    #[test]
    fn credentials_errors_are_retried_only_when_transient() {
        let transient = CredentialsError::transient("token service restarting");
        let refused = CredentialsError::with_source(
            "cannot reach the metadata service",
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused"),
        );
        let permanent = CredentialsError::new("no such role");
        assert!(retries(&AttemptFailure::Credentials(&transient)));
        assert!(retries(&AttemptFailure::Credentials(&refused)));
        assert!(!retries(&AttemptFailure::Credentials(&permanent)));
    }

    #[test]
    fn refusals_and_local_failures_follow_the_table() {
        assert!(retries(&AttemptFailure::Refused(Refusal::NotAnOssAnswer)));
        assert!(retries(&AttemptFailure::Refused(Refusal::CrcMismatch)));
        assert!(retries(&AttemptFailure::ResponseCut));
        assert!(!retries(&AttemptFailure::Refused(Refusal::Final)));
        assert!(!retries(&AttemptFailure::Local));
        let tls = ureq::Error::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "unknown issuer",
        ));
        let reset = ureq::Error::Io(std::io::ErrorKind::ConnectionReset.into());
        assert!(!retries(&AttemptFailure::Transport {
            error: &tls,
            body_sent: false
        }));
        assert_eq!(
            classify(
                &AttemptFailure::Transport {
                    error: &reset,
                    body_sent: true
                },
                state(1)
            ),
            Decision::Retry {
                reason: "connection failed",
                may_have_stored: true
            }
        );
    }

    #[test]
    fn the_last_attempt_and_a_read_stream_end_the_operation() {
        let s = service(503, "ServiceUnavailable");
        let failure = AttemptFailure::Service(&s);
        assert!(matches!(
            classify(&failure, state(3)),
            Decision::Fail { note: None, .. }
        ));
        let one_shot = AttemptState {
            body_rewindable: false,
            ..state(1)
        };
        assert!(matches!(
            classify(&failure, one_shot),
            Decision::Fail { note: Some(n), .. } if n.contains("one-shot")
        ));
    }

    #[test]
    fn file_already_exists_after_a_possible_store_reports_the_earlier_error() {
        let earlier = OperationError::new("PutObject", ErrorKind::CrcMismatch, "crc differs");
        let last = OperationError::service("PutObject", service(409, "FileAlreadyExists"))
            .with_attempts(2);
        let reported = final_error(Some(earlier), last);
        assert_eq!(reported.kind(), ErrorKind::CrcMismatch);
        assert_eq!(reported.attempts(), 2);
        assert!(reported.to_string().contains("may exist"), "{reported}");

        let other = OperationError::service("PutObject", service(403, "AccessDenied"));
        let earlier = OperationError::new("PutObject", ErrorKind::CrcMismatch, "crc differs");
        assert_eq!(
            final_error(Some(earlier), other).kind(),
            ErrorKind::Service,
            "only FileAlreadyExists is explained by an earlier store"
        );
    }

    #[test]
    fn backoff_stays_under_its_ceiling() {
        let cfg = Config::load_default()
            .retry_base_delay(Duration::from_millis(200))
            .retry_max_backoff(Duration::from_secs(20));
        for retry in 1..40 {
            let ceiling = Duration::from_millis(200)
                .saturating_mul(1 << retry.min(30))
                .min(Duration::from_secs(20));
            for _ in 0..20 {
                assert!(backoff_delay(retry, &cfg) < ceiling.max(Duration::from_nanos(1)));
            }
        }
    }

    #[test]
    fn backoff_ceiling_starts_at_twice_the_base_and_is_capped() {
        let cfg = Config::load_default()
            .retry_base_delay(Duration::from_millis(200))
            .retry_max_backoff(Duration::from_millis(500));
        for _ in 0..200 {
            assert!(backoff_delay(1, &cfg) < Duration::from_millis(400));
            assert!(backoff_delay(3, &cfg) < Duration::from_millis(500));
        }
        let zero = Config::load_default().retry_base_delay(Duration::ZERO);
        assert_eq!(backoff_delay(5, &zero), Duration::ZERO);
    }

    #[test]
    fn random_unit_is_in_range() {
        for _ in 0..1000 {
            let x = random_unit();
            assert!((0.0..1.0).contains(&x));
        }
    }
}

//! AppendObject: add bytes at the end of an Appendable object (`POST /<key>?append&position=`).
//!
//! This file owns the request type, its headers, the check of the answer (the whole-object
//! CRC-64 combined from the previous one and the bytes sent) and the recovery of an append
//! whose answer was lost after OSS stored it.

use std::fmt;
use std::io::Read as _;

use crate::body::{Body, ProgressFn};
use crate::client::Client;
use crate::crc64;
use crate::error::{ErrorKind, OperationError};
use crate::headers::Headers;
use crate::ops::head_object::HeadObjectRequest;
use crate::ops::shared::{self, ObjectAttributes, RequestOptions, TransferOptions, WriteOptions};
use crate::options::ObjectAcl;
use crate::pipeline::{OperationInput, Rejection, Response};
use crate::retry::Refusal;
use crate::{mime, validate};

const OPERATION: &str = "AppendObject";
const NEXT_POSITION: &str = "x-oss-next-append-position";

impl Client {
    /// Appends the request's body at `position`, which must be the object's current length
    /// (0 creates it; OSS answers 409 `PositionNotEqualToLength` otherwise, and 409
    /// `ObjectNotAppendable` for an object that was not created by appending).
    ///
    /// The answer's `x-oss-hash-crc64ecma` is the CRC-64 of the whole object: it is compared
    /// with the previous whole-object CRC (0 at position 0, else
    /// [`AppendObjectRequest::init_crc64`], e.g. the last result's `hash_crc64`) combined with
    /// the CRC of the bytes sent; a mismatch is an [`ErrorKind::CrcMismatch`] error, not
    /// retried (the bytes are stored). Without a previous CRC the check is skipped.
    ///
    /// An append that is retried after its answer was lost, and then refused with
    /// `PositionNotEqualToLength`, is not appended twice: the client checks whether the stored
    /// object ends with its own bytes (next position and whole-object CRC, which needs the
    /// previous CRC) and then succeeds; otherwise the error names both positions.
    ///
    /// ```
    /// use oss_blocking as oss;
    /// # let emu = oss::emulator::Emulator::start().unwrap();
    /// # let client = oss::Client::new(emu.config());
    /// let first = client.append_object(
    ///     oss::AppendObjectRequest::new(emu.bucket(), "logs/app.log", 0).body("first line\n"),
    /// )?;
    /// assert_eq!(first.next_position, 11);
    /// let second = client.append_object(
    ///     oss::AppendObjectRequest::new(emu.bucket(), "logs/app.log", first.next_position)
    ///         .body("second line\n")
    ///         .init_crc64(first.hash_crc64.unwrap_or_default()),
    /// )?;
    /// assert_eq!(second.next_position, 23);
    /// assert_eq!(second.hash_crc64, Some(oss::crc64::checksum(b"first line\nsecond line\n")));
    /// # Ok::<(), oss::OperationError>(())
    /// ```
    pub fn append_object(
        &self,
        request: AppendObjectRequest,
    ) -> Result<AppendObjectResult, OperationError> {
        let mut request = request;
        let (headers, query) = request.wire_headers()?;
        let previous_crc = request.previous_crc();
        let verify_crc = !self.config().disable_upload_crc64_check;
        let check = |response: &Response| check(response, previous_crc, verify_crc);
        let outcome = self.execute(OperationInput {
            name: OPERATION,
            method: "POST",
            bucket: &request.bucket,
            key: Some(&request.key),
            headers,
            query,
            body: &mut request.body,
            progress: request.progress.as_deref_mut(),
            check: &check,
        });
        match outcome {
            Ok(response) => Ok(AppendObjectResult::from_response(response)),
            Err(error) if is_conflict_after_retry(&error) => {
                self.recover_lost_answer(&mut request, error)
            }
            Err(error) => Err(error),
        }
    }

    /// After a retry was refused with `PositionNotEqualToLength`: success when the object
    /// ends with this append's bytes (an earlier attempt stored them), else the error.
    fn recover_lost_answer(
        &self,
        request: &mut AppendObjectRequest,
        error: OperationError,
    ) -> Result<AppendObjectResult, OperationError> {
        let next = error
            .service_error()
            .and_then(|s| s.header(NEXT_POSITION))
            .and_then(|v| v.trim().parse::<u64>().ok());
        let len = request.body.known_length().unwrap_or(0);
        let ours = request.position.saturating_add(len);
        let note = |why: &str| {
            format!(
                "this append started at position {} with {len} bytes, the object's length is \
                 {}: {why}",
                request.position,
                next.map_or("unknown".to_string(), |n| n.to_string()),
            )
        };
        if next != Some(ours) {
            return Err(error.with_note(&note("the object was changed by another writer")));
        }
        let Some(previous) = request.previous_crc() else {
            return Err(error.with_note(&note(
                "an earlier attempt may have stored these bytes, but without the object's \
                 CRC-64 before the append (AppendObjectRequest::init_crc64) the client cannot \
                 tell; check the object before appending again",
            )));
        };
        let sent_crc = body_crc(&mut request.body)?;
        let head = self.head_object(HeadObjectRequest::new(&request.bucket, &request.key))?;
        if head.content_length != ours
            || head.hash_crc64 != Some(crc64::combine(previous, sent_crc, len))
        {
            return Err(error.with_note(&note("the bytes stored there are not this append's")));
        }
        log::warn!(
            "{OPERATION}: the answer to an attempt was lost, but the object ends with this \
             append's bytes (length {ours}, CRC-64 matches): not appending them twice"
        );
        Ok(AppendObjectResult {
            status_code: head.status_code,
            request_id: head.request_id,
            next_position: ours,
            hash_crc64: head.hash_crc64,
            etag: head.etag,
            version_id: head.version_id,
            headers: head.headers,
        })
    }
}

/// A `PositionNotEqualToLength` refusal of a retried attempt: an earlier attempt may have
/// stored the bytes.
fn is_conflict_after_retry(error: &OperationError) -> bool {
    error.attempts() > 1
        && error
            .service_error()
            .is_some_and(|s| s.code() == "PositionNotEqualToLength")
}

/// The CRC-64 of a rewindable body, read once more (only when recovering a lost answer: the
/// pipeline does not keep the lost attempt's statistics).
fn body_crc(body: &mut Body) -> Result<u64, OperationError> {
    let io =
        |e| OperationError::new(OPERATION, ErrorKind::Io, "cannot read the body").with_source(e);
    let mut reader = body.attempt_reader().map_err(io)?;
    let mut crc = crc64::Crc64::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buf).map_err(io)?;
        if n == 0 {
            return Ok(crc.value());
        }
        crc.update(buf.get(..n).unwrap_or_default());
    }
}

/// The check of a 2xx answer: an OSS answer (request id, ETag, next position), and the
/// whole-object CRC-64 equal to the previous one combined with the bytes sent.
fn check(
    response: &Response,
    previous_crc: Option<u64>,
    verify_crc: bool,
) -> Result<(), Rejection> {
    shared::check_stored_bytes(OPERATION, response, false)?;
    let request_id = response.headers.get("x-oss-request-id").map(str::to_string);
    let number = |name: &str| {
        response
            .headers
            .get(name)
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    if number(NEXT_POSITION).is_none() {
        return Err(Rejection {
            refusal: Refusal::NotAnOssAnswer,
            error: OperationError::new(
                OPERATION,
                ErrorKind::Transport,
                format!(
                    "{}: HTTP {} without a valid {NEXT_POSITION} is not an OSS append answer",
                    response.request_target, response.status
                ),
            )
            .with_request_id(request_id),
        });
    }
    let (Some(previous), Some(server), true) = (
        previous_crc,
        response.headers.get(shared::HEADER_CRC64),
        verify_crc,
    ) else {
        return Ok(());
    };
    let expected = crc64::combine(previous, response.stats.crc64, response.stats.sent);
    if shared::crc_matches(server, expected) {
        return Ok(());
    }
    let message = format!(
        "crc is inconsistent, client {expected}, server {}: the object OSS holds after this \
         append differs from the previous object plus the bytes sent (not retried: the bytes \
         are stored)",
        server.trim()
    );
    Err(Rejection {
        refusal: Refusal::Final,
        error: OperationError::new(OPERATION, ErrorKind::CrcMismatch, message)
            .with_request_id(request_id),
    })
}

/// An AppendObject request: bucket, key, position, body and the options OSS takes on the
/// first append (content headers, ACL, storage class, encryption, tagging, metadata; later
/// appends keep the object's).
///
/// Every option is checked before anything is sent: a bad value is an
/// [`ErrorKind::InvalidArgument`] error naming the option and the rule.
///
/// ```
/// use oss_blocking as oss;
/// # let emu = oss::emulator::Emulator::start().unwrap();
/// # let client = oss::Client::new(emu.config());
/// let req = oss::AppendObjectRequest::new(emu.bucket(), "logs/app.log", 0)
///     .body("first line\n")
///     .content_type("text/plain")
///     .acl(oss::ObjectAcl::Private)
///     .metadata("source", "app");
/// let r = client.append_object(req)?;
/// assert_eq!(r.next_position, 11);
/// # Ok::<(), oss::OperationError>(())
/// ```
pub struct AppendObjectRequest {
    bucket: String,
    key: String,
    position: u64,
    body: Body,
    attributes: ObjectAttributes,
    write: WriteOptions,
    transfer: TransferOptions,
    request: RequestOptions,
    init_crc64: Option<u64>,
    progress: Option<Box<ProgressFn>>,
}

impl AppendObjectRequest {
    /// An append to `key` in `bucket` at `position` (the object's current length; 0 creates
    /// it), with an empty body until [`AppendObjectRequest::body`].
    pub fn new(bucket: impl Into<String>, key: impl Into<String>, position: u64) -> Self {
        AppendObjectRequest {
            bucket: bucket.into(),
            key: key.into(),
            position,
            body: Body::empty(),
            attributes: ObjectAttributes::default(),
            write: WriteOptions::default(),
            transfer: TransferOptions::default(),
            request: RequestOptions::default(),
            init_crc64: None,
            progress: None,
        }
    }

    /// The bytes to append: anything that converts into a [`Body`].
    pub fn body(mut self, body: impl Into<Body>) -> Self {
        self.body = body.into();
        self
    }

    /// The object's whole CRC-64 before this append (the previous result's or HeadObject's
    /// `hash_crc64`), so the answer's CRC can be checked; implied 0 at position 0.
    pub fn init_crc64(mut self, crc: u64) -> Self {
        self.init_crc64 = Some(crc);
        self
    }

    /// `x-oss-object-acl`, taken on the first append.
    pub fn acl(mut self, acl: ObjectAcl) -> Self {
        self.write.acl = Some(acl);
        self
    }

    shared::object_attribute_setters!(attributes);
    shared::transfer_option_setters!(transfer);
    shared::request_option_setters!(request);

    /// Called as bytes go to the network, as [`crate::PutObjectRequest::progress_fn`].
    pub fn progress_fn(mut self, f: impl FnMut(u64, u64, Option<u64>) + Send + 'static) -> Self {
        self.progress = Some(Box::new(f));
        self
    }

    /// The bucket name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The object key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The position this append starts at.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The whole-object CRC before this append, when known.
    fn previous_crc(&self) -> Option<u64> {
        match (self.position, self.init_crc64) {
            (_, Some(crc)) => Some(crc),
            (0, None) => Some(0),
            _ => None,
        }
    }

    /// Checks every option and writes the headers (`Content-Type` guessed from the key on
    /// the first append, as PutObject does) and the `append` and `position` query.
    fn wire_headers(&mut self) -> Result<(Headers, Vec<(String, String)>), OperationError> {
        let invalid = |m: String| OperationError::invalid_argument(OPERATION, m);
        validate::bucket_name(&self.bucket).map_err(invalid)?;
        validate::object_key(&self.key).map_err(invalid)?;
        let mut h = Headers::new();
        self.attributes.apply(&mut h).map_err(invalid)?;
        self.write.apply(&mut h);
        self.transfer.apply(&mut h).map_err(invalid)?;
        let extra = self.request.apply(&mut h).map_err(invalid)?;
        if self.position == 0 {
            shared::set_default(&mut h, "Content-Type", || {
                mime::content_type_for_key(&self.key).to_string()
            });
        }
        self.body.prepare().map_err(|e| {
            OperationError::new(OPERATION, ErrorKind::Io, "cannot read the body").with_source(e)
        })?;
        if let Some(len) = self.body.known_length() {
            validate::put_object_size(len).map_err(invalid)?;
        }
        let mut query = vec![
            ("append".to_string(), String::new()),
            ("position".to_string(), self.position.to_string()),
        ];
        query.extend(extra);
        Ok((h, query))
    }
}

impl fmt::Debug for AppendObjectRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppendObjectRequest")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("position", &self.position)
            .field("body", &self.body)
            .field("attributes", &self.attributes)
            .field("write", &self.write)
            .field("transfer", &self.transfer)
            .field("request", &self.request)
            .field("init_crc64", &self.init_crc64)
            .field("progress", &self.progress.as_ref().map(|_| "<fn>"))
            .finish()
    }
}

/// What OSS answered to a successful AppendObject.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct AppendObjectResult {
    /// HTTP status, 200.
    pub status_code: u16,
    /// `x-oss-request-id`.
    pub request_id: String,
    /// `x-oss-next-append-position`: the object's length now, where the next append starts.
    pub next_position: u64,
    /// `x-oss-hash-crc64ecma`: the CRC-64 of the whole object (pass it to the next append's
    /// [`AppendObjectRequest::init_crc64`]).
    pub hash_crc64: Option<u64>,
    /// `ETag`, quotes included.
    pub etag: Option<String>,
    /// `x-oss-version-id`, on versioned buckets.
    pub version_id: Option<String>,
    /// All response headers, in order.
    pub headers: Headers,
}

impl AppendObjectResult {
    /// A response header by name, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    fn from_response(response: Response) -> Self {
        let headers = response.headers;
        let get = |name: &str| headers.get(name).map(str::to_string);
        let number = |name: &str| headers.get(name).and_then(|v| v.trim().parse().ok());
        AppendObjectResult {
            status_code: response.status,
            request_id: get("x-oss-request-id").unwrap_or_default(),
            next_position: number(NEXT_POSITION).unwrap_or(0),
            hash_crc64: number(shared::HEADER_CRC64),
            etag: get("ETag"),
            version_id: get("x-oss-version-id"),
            headers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::BodyStats;

    fn response(crc: &str, sent: &[u8]) -> Response {
        Response {
            status: 200,
            headers: [
                ("x-oss-request-id", "R"),
                ("ETag", "\"E\""),
                (NEXT_POSITION, "9"),
                ("x-oss-hash-crc64ecma", crc),
            ]
            .into_iter()
            .collect(),
            body: Vec::new(),
            request_target: "POST b/k".into(),
            stats: BodyStats {
                sent: sent.len() as u64,
                crc64: crc64::checksum(sent),
                complete: true,
            },
        }
    }

    #[test]
    fn the_whole_object_crc_is_combined_from_the_previous_one() {
        let whole = crc64::checksum(b"123456789").to_string();
        let previous = crc64::checksum(b"12345");
        assert!(check(&response(&whole, b"6789"), Some(previous), true).is_ok());
        let rejection = check(&response(&whole, b"6780"), Some(previous), true).unwrap_err();
        assert_eq!(rejection.refusal, Refusal::Final);
        assert_eq!(rejection.error.kind(), ErrorKind::CrcMismatch);
        // Unknown previous CRC or the check turned off: nothing to compare.
        assert!(check(&response(&whole, b"6780"), None, true).is_ok());
        assert!(check(&response(&whole, b"6780"), Some(previous), false).is_ok());
    }

    #[test]
    fn an_answer_without_a_next_position_is_not_from_oss() {
        let mut r = response("0", b"");
        r.headers.remove(NEXT_POSITION);
        assert_eq!(
            check(&r, Some(0), true).unwrap_err().refusal,
            Refusal::NotAnOssAnswer
        );
    }

    #[test]
    fn the_previous_crc_is_zero_at_position_zero_only() {
        let at = |p| AppendObjectRequest::new("b", "k", p);
        assert_eq!(at(0).previous_crc(), Some(0));
        assert_eq!(at(5).previous_crc(), None);
        assert_eq!(at(5).init_crc64(7).previous_crc(), Some(7));
    }
}

//! PutObject: upload one object in a single request (up to 5 GiB).
//!
//! This file owns the request type, the mapping of its options to headers, the check of the
//! answer (203 with a callback, ETag and request id, CRC-64) and the result; signing, sending
//! and retries are the pipeline's.

use std::fmt;
use std::path::Path;

use crate::body::{Body, ProgressFn};
use crate::client::Client;
use crate::error::{ErrorKind, OperationError, ServiceError};
use crate::headers::Headers;
use crate::ops::shared::{
    self, CallbackOptions, ObjectAttributes, RequestOptions, TransferOptions, WriteOptions,
};
use crate::pipeline::{OperationInput, Rejection, Response};
use crate::retry::Refusal;
use crate::{mime, validate};

const OPERATION: &str = "PutObject";

impl Client {
    /// Uploads an object in one request (up to 5 GiB), verifying the CRC-64 of the bytes OSS
    /// stored against the bytes sent.
    ///
    /// Checked before anything is sent: the bucket name, the key, every option, and a known
    /// body length over 5 GiB (use multipart upload beyond it).
    ///
    /// ```
    /// use oss_blocking as oss;
    /// # let emu = oss::emulator::Emulator::start().unwrap();
    /// # let client = oss::Client::new(emu.config());
    /// let result = client.put_object(
    ///     oss::PutObjectRequest::new(emu.bucket(), "exampleobject.txt").body("Hello, OSS!"),
    /// )?;
    /// println!(
    ///     "status code: {}, request id: {}, ETag: {:?}, hash crc64: {:?}",
    ///     result.status_code, result.request_id, result.etag, result.hash_crc64
    /// );
    /// # Ok::<(), oss::OperationError>(())
    /// ```
    pub fn put_object(&self, request: PutObjectRequest) -> Result<PutObjectResult, OperationError> {
        let invalid = |m: String| OperationError::invalid_argument(OPERATION, m);
        let mut request = request;
        validate::bucket_name(&request.bucket).map_err(invalid)?;
        validate::object_key(&request.key).map_err(invalid)?;
        let (headers, query) = request.wire_headers(self.config().auto_content_md5)?;
        let with_callback = request.callback.is_set();
        let verify_crc = !self.config().disable_upload_crc64_check;
        let check = |response: &Response| check(response, with_callback, verify_crc);
        let PutObjectRequest {
            bucket,
            key,
            mut body,
            mut progress,
            ..
        } = request;
        let response = self.execute(OperationInput {
            name: OPERATION,
            method: "PUT",
            bucket: &bucket,
            key: Some(&key),
            headers,
            query,
            body: &mut body,
            progress: progress.as_deref_mut(),
            check: &check,
        })?;
        Ok(PutObjectResult::from_response(response, with_callback))
    }

    /// Uploads a local file, streamed: memory stays constant whatever the file size, and the
    /// file is read once (the CRC-64 is computed as the bytes are sent). A missing or
    /// unreadable file is an [`ErrorKind::Io`] error naming the path; nothing is sent. The
    /// length is measured when the upload starts: a file that grows meanwhile is sent up to
    /// that length, and one that shrinks is an [`ErrorKind::Io`] error. The request's own
    /// body, if any, is replaced by the file.
    ///
    /// ```
    /// use oss_blocking as oss;
    /// # let emu = oss::emulator::Emulator::start().unwrap();
    /// # let client = oss::Client::new(emu.config());
    /// # let path = std::env::temp_dir().join(format!("oss-doc-{}.txt", std::process::id()));
    /// # std::fs::write(&path, "file contents").unwrap();
    /// let result = client.put_object_from_file(
    ///     oss::PutObjectRequest::new(emu.bucket(), "exampledir/exampleobject.txt")
    ///         .forbid_overwrite(true),
    ///     &path,
    /// )?;
    /// assert!(result.etag.is_some());
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), oss::OperationError>(())
    /// ```
    pub fn put_object_from_file(
        &self,
        request: PutObjectRequest,
        path: impl AsRef<Path>,
    ) -> Result<PutObjectResult, OperationError> {
        let body = Body::from_path(path.as_ref()).map_err(|e| {
            OperationError::new(OPERATION, ErrorKind::Io, "cannot upload the file").with_source(e)
        })?;
        self.put_object(request.body(body))
    }
}

/// The check of a 2xx answer. OSS answers 203 `CallbackFailed` after storing the object when
/// the upload callback failed: with a callback that is a final error that says the object is
/// there (never retried, since a retry would store it and call the callback again); without
/// one, a 203 is returned as is, as the Python SDK does.
fn check(response: &Response, with_callback: bool, verify_crc: bool) -> Result<(), Rejection> {
    if response.status == 203 {
        if !with_callback {
            return Ok(());
        }
        let service = ServiceError::from_response(
            response.status,
            &response.headers,
            &response.body,
            &response.request_target,
        );
        let error = OperationError::service(OPERATION, service).with_stored_object(
            response.headers.get("ETag").map(str::to_string),
            hash_crc64(&response.headers),
        );
        return Err(Rejection {
            refusal: Refusal::Final,
            error,
        });
    }
    shared::check_stored_bytes(OPERATION, response, verify_crc)
}

fn hash_crc64(headers: &Headers) -> Option<u64> {
    headers
        .get(shared::HEADER_CRC64)
        .and_then(|v| v.trim().parse().ok())
}

/// A PutObject request: bucket, key, body and options, built with chained setters.
///
/// Every option is checked when the request is sent, before anything goes out: a bad value is
/// an [`ErrorKind::InvalidArgument`] error naming the option and the rule. An option set to an
/// empty string is refused too (leave it unset instead).
///
/// Headers follow one rule: a value you give (a typed setter or [`PutObjectRequest::header`])
/// wins over a value the client would compute (the `Content-Type` guessed from the key, an
/// automatic `Content-MD5`, the `User-Agent`), and each header is sent once.
///
/// ```
/// use oss_blocking as oss;
/// # let emu = oss::emulator::Emulator::start().unwrap();
/// # let client = oss::Client::new(emu.config());
/// let req = oss::PutObjectRequest::new(emu.bucket(), "exampledir/exampleobject.txt")
///     .body("Hello, OSS!")
///     .content_type("text/plain")
///     .acl(oss::ObjectAcl::Private)
///     .storage_class(oss::StorageClass::Ia)
///     .server_side_encryption(oss::ServerSideEncryption::Aes256)
///     .tagging("env=prod&team=backend")
///     .metadata("Author", "alice")
///     .cache_control("no-cache")
///     .forbid_overwrite(true);
/// assert_eq!(req.key(), "exampledir/exampleobject.txt");
/// client.put_object(req)?;
/// let stored = emu.object(emu.bucket(), "exampledir/exampleobject.txt").unwrap();
/// assert_eq!(stored.header("x-oss-meta-author"), Some("alice"));
/// assert_eq!(stored.header("x-oss-storage-class"), Some("IA"));
/// # Ok::<(), oss::OperationError>(())
/// ```
pub struct PutObjectRequest {
    bucket: String,
    key: String,
    body: Body,
    attributes: ObjectAttributes,
    write: WriteOptions,
    callback: CallbackOptions,
    transfer: TransferOptions,
    request: RequestOptions,
    progress: Option<Box<ProgressFn>>,
}

impl PutObjectRequest {
    /// A request to store `key` in `bucket`, with an empty body until [`PutObjectRequest::body`].
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        PutObjectRequest {
            bucket: bucket.into(),
            key: key.into(),
            body: Body::empty(),
            attributes: ObjectAttributes::default(),
            write: WriteOptions::default(),
            callback: CallbackOptions::default(),
            transfer: TransferOptions::default(),
            request: RequestOptions::default(),
            progress: None,
        }
    }

    /// The data: anything that converts into a [`Body`] (`&str`, `String`, `Vec<u8>`, `&[u8]`,
    /// `File`, or [`Body::from_reader`] for a stream).
    pub fn body(mut self, body: impl Into<Body>) -> Self {
        self.body = body.into();
        self
    }

    shared::object_attribute_setters!(attributes);
    shared::write_option_setters!(write);
    shared::callback_setters!(callback);
    shared::transfer_option_setters!(transfer);
    shared::request_option_setters!(request);

    /// Called as bytes go to the network: (bytes in this chunk, bytes sent so far, total when
    /// known). Called at least once per MiB, and once at the end with sent == total (for a
    /// stream of unknown length, that last call is `(0, sent, Some(sent))`). It starts again
    /// from 0 when an attempt is retried.
    ///
    /// ```
    /// use oss_blocking as oss;
    /// # let emu = oss::emulator::Emulator::start().unwrap();
    /// # let client = oss::Client::new(emu.config());
    /// let req = oss::PutObjectRequest::new(emu.bucket(), "a.bin")
    ///     .body(vec![0u8; 3 << 20])
    ///     .progress_fn(|_chunk, sent, total| {
    ///         if let Some(total) = total {
    ///             eprint!("\r{:3}%", sent * 100 / total.max(1));
    ///         }
    ///     });
    /// client.put_object(req)?;
    /// # Ok::<(), oss::OperationError>(())
    /// ```
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

    /// Every option checked and written as headers, under the header rule of the type's
    /// documentation, and the query parameters. The body's length is fixed here (and checked
    /// against the 5 GiB limit) and, with `auto_md5`, its MD5 computed unless given.
    fn wire_headers(
        &mut self,
        auto_md5: bool,
    ) -> Result<(Headers, Vec<(String, String)>), OperationError> {
        let invalid = |m: String| OperationError::invalid_argument(OPERATION, m);
        let (mut h, query) = self.option_headers()?;
        shared::set_default(&mut h, "Content-Type", || {
            mime::content_type_for_key(&self.key).to_string()
        });
        let io_error =
            |what: &str, e| OperationError::new(OPERATION, ErrorKind::Io, what).with_source(e);
        self.body
            .prepare()
            .map_err(|e| io_error("cannot read the body", e))?;
        if let Some(len) = self.body.known_length() {
            validate::put_object_size(len).map_err(invalid)?;
        }
        if auto_md5 && !h.contains("Content-MD5") {
            let md5 = self
                .body
                .content_md5()
                .map_err(|e| io_error("cannot read the body for its MD5", e))?;
            if let Some(md5) = md5 {
                h.set("Content-MD5", md5);
            }
        }
        Ok((h, query))
    }
}

impl PutObjectRequest {
    /// Every option checked and written as headers (nothing computed), and the query.
    fn option_headers(&self) -> Result<(Headers, Vec<(String, String)>), OperationError> {
        let invalid = |m: String| OperationError::invalid_argument(OPERATION, m);
        let mut h = Headers::new();
        self.attributes.apply(&mut h).map_err(invalid)?;
        self.write.apply(&mut h);
        self.callback.apply(&mut h).map_err(invalid)?;
        self.transfer.apply(&mut h).map_err(invalid)?;
        let query = self.request.apply(&mut h).map_err(invalid)?;
        Ok((h, query))
    }
}

/// Presigning signs only what the caller set: no `Content-Type` guess and no automatic
/// `Content-MD5`, so the uploader knows exactly which headers to send. The body is ignored.
impl crate::presign::sealed::Sealed for PutObjectRequest {
    fn presign_parts(self) -> Result<crate::presign::sealed::RequestParts, OperationError> {
        let invalid = |m: String| OperationError::invalid_argument(OPERATION, m);
        validate::bucket_name(&self.bucket).map_err(invalid)?;
        validate::object_key(&self.key).map_err(invalid)?;
        let (headers, query) = self.option_headers()?;
        Ok(crate::presign::sealed::RequestParts {
            name: OPERATION,
            method: "PUT",
            bucket: self.bucket,
            key: Some(self.key),
            headers,
            query,
        })
    }
}

impl crate::presign::Presignable for PutObjectRequest {}

/// A PutObjectRequest taken apart, for the uploader, which sends each option group on the
/// multipart step it belongs to.
pub(crate) struct PutObjectParts {
    pub bucket: String,
    pub key: String,
    pub attributes: ObjectAttributes,
    pub write: WriteOptions,
    pub callback: CallbackOptions,
    pub transfer: TransferOptions,
    pub request: RequestOptions,
    pub progress: Option<Box<ProgressFn>>,
}

impl PutObjectRequest {
    pub(crate) fn into_parts(self) -> PutObjectParts {
        PutObjectParts {
            bucket: self.bucket,
            key: self.key,
            attributes: self.attributes,
            write: self.write,
            callback: self.callback,
            transfer: self.transfer,
            request: self.request,
            progress: self.progress,
        }
    }

    pub(crate) fn from_parts(parts: PutObjectParts, body: Body) -> Self {
        PutObjectRequest {
            bucket: parts.bucket,
            key: parts.key,
            body,
            attributes: parts.attributes,
            write: parts.write,
            callback: parts.callback,
            transfer: parts.transfer,
            request: parts.request,
            progress: parts.progress,
        }
    }
}

impl fmt::Debug for PutObjectRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PutObjectRequest")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("body", &self.body)
            .field("attributes", &self.attributes)
            .field("write", &self.write)
            .field("callback", &self.callback)
            .field("transfer", &self.transfer)
            .field("request", &self.request)
            .field("progress", &self.progress.as_ref().map(|_| "<fn>"))
            .finish()
    }
}

/// What OSS answered to a successful PutObject.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct PutObjectResult {
    /// HTTP status, 200 (203 for a failed callback only when the request had no callback).
    pub status_code: u16,
    /// `x-oss-request-id`: quote it when asking support about this upload.
    pub request_id: String,
    /// `ETag` as the server sent it, quotes included (as the official SDKs return it).
    pub etag: Option<String>,
    /// `Content-MD5`: base64 of the MD5 OSS computed over the stored bytes.
    pub content_md5: Option<String>,
    /// `x-oss-hash-crc64ecma`: the CRC-64 OSS computed; already compared with the client's
    /// unless the check is turned off.
    pub hash_crc64: Option<u64>,
    /// `x-oss-version-id`, on versioned buckets.
    pub version_id: Option<String>,
    /// All response headers, in order.
    pub headers: Headers,
    /// With a callback: the callback server's answer (the response body), as text.
    pub callback_result: Option<String>,
}

impl PutObjectResult {
    /// A response header by name, case-insensitively, e.g. `result.header("x-oss-server-time")`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// The result fields as the official SDKs read them from the headers; with a callback,
    /// the body is the callback server's answer.
    pub(crate) fn from_response(response: Response, with_callback: bool) -> Self {
        let Response {
            status,
            headers,
            body,
            ..
        } = response;
        let get = |name: &str| headers.get(name).map(str::to_string);
        PutObjectResult {
            status_code: status,
            request_id: get("x-oss-request-id").unwrap_or_default(),
            etag: get("ETag"),
            content_md5: get("Content-MD5"),
            hash_crc64: hash_crc64(&headers),
            version_id: get("x-oss-version-id"),
            callback_result: with_callback.then(|| String::from_utf8_lossy(&body).into_owned()),
            headers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::BodyStats;

    fn vector_response(id: &str) -> Response {
        let case = crate::test_vectors::behaviour(id);
        let response = &case["response"];
        let headers = if response["headers"].is_null() {
            Headers::new()
        } else {
            crate::test_vectors::headers(&response["headers"]).into()
        };
        Response {
            status: response["status"].as_u64().unwrap() as u16,
            headers,
            body: response["body"].as_str().unwrap().as_bytes().to_vec(),
            request_target: "PUT b/k".to_string(),
            stats: BodyStats::default(),
        }
    }

    #[test]
    fn callback_203_is_a_final_error_that_says_the_object_was_stored() {
        let mut response = vector_response("resp-callback-203");
        response.headers.set("ETag", "\"ABC\"");
        response.headers.set("x-oss-hash-crc64ecma", "42");
        let rejection = check(&response, true, true).unwrap_err();
        assert_eq!(rejection.refusal, Refusal::Final);
        let err = rejection.error;
        let service = err.service_error().unwrap();
        assert_eq!(
            (service.status_code(), service.code()),
            (203, "CallbackFailed")
        );
        assert_eq!(service.ec(), Some("0007-00000203"));
        assert_eq!(err.request_id(), Some("REQ-CB"));
        assert!(err.object_stored());
        assert_eq!((err.etag(), err.hash_crc64()), (Some("\"ABC\""), Some(42)));
        assert!(err.to_string().contains("the object was stored"), "{err}");
    }

    #[test]
    fn callback_203_without_etag_is_still_final_and_stored() {
        let response = vector_response("resp-callback-203");
        assert!(response.headers.get("ETag").is_none());
        let rejection = check(&response, true, true).unwrap_err();
        assert_eq!(rejection.refusal, Refusal::Final);
        assert!(rejection.error.object_stored());
    }

    #[test]
    fn without_a_callback_a_203_is_returned_as_is_like_python() {
        let response = vector_response("resp-callback-203");
        assert!(check(&response, false, true).is_ok());
        let result = PutObjectResult::from_response(response, false);
        assert_eq!(result.status_code, 203);
        assert_eq!(result.callback_result, None);
    }

    #[test]
    fn callback_success_returns_the_body_as_text() {
        let case = crate::test_vectors::behaviour("resp-callback-200");
        let result = PutObjectResult::from_response(vector_response("resp-callback-200"), true);
        assert_eq!(
            result.callback_result.as_deref(),
            case["result"]["callback_result"].as_str()
        );
    }

    #[test]
    fn an_answer_without_request_id_or_etag_is_not_from_oss() {
        let mut response = vector_response("resp-put-ok");
        response.headers.remove("ETag");
        let rejection = check(&response, false, true).unwrap_err();
        assert_eq!(rejection.refusal, Refusal::NotAnOssAnswer);
        assert!(rejection.error.to_string().contains("ETag"));
    }

    #[test]
    fn result_fields_come_from_the_headers_as_the_sdk_reads_them() {
        let case = crate::test_vectors::behaviour("resp-put-ok");
        let result = PutObjectResult::from_response(vector_response("resp-put-ok"), false);
        let expected = &case["result"];
        assert_eq!(result.status_code, 200);
        assert_eq!(result.request_id, expected["request_id"]);
        assert_eq!(result.etag.as_deref(), expected["etag"].as_str());
        assert_eq!(
            result.content_md5.as_deref(),
            expected["content_md5"].as_str()
        );
        assert_eq!(
            result.hash_crc64.map(|c| c.to_string()).as_deref(),
            expected["hash_crc64"].as_str()
        );
        assert_eq!(
            result.version_id.as_deref(),
            expected["version_id"].as_str()
        );
        assert_eq!(result.header("etag"), expected["etag"].as_str());
        assert_eq!(
            result.header("X-OSS-REQUEST-ID"),
            expected["request_id"].as_str()
        );
    }
}

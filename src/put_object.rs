//! PutObject: upload one object in a single request (up to 5 GiB).
//!
//! This module turns a [`PutObjectRequest`] into an operation for the client's send loop and
//! the response into a [`PutObjectResult`]; the loop itself (signing, retries, CRC) lives in
//! [`crate::client`].
// Network and user data pass through here: no panicking index or arithmetic.
#![cfg_attr(
    not(test),
    warn(clippy::indexing_slicing, clippy::arithmetic_side_effects)
)]

use std::fmt;

use std::path::Path;

use crate::body::{Body, ProgressFn};
use crate::client::{Client, OperationInput};
use crate::error::{ErrorKind, OperationError};
use crate::{mime, validate};

const OPERATION: &str = "PutObject";

impl Client {
    /// Uploads an object in one request (up to 5 GiB), verifying the CRC-64 of the bytes OSS
    /// stored against the bytes sent.
    ///
    /// Checked before anything is sent: the bucket name, the key, and a known body length over
    /// 5 GiB (use multipart upload beyond it).
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
        let PutObjectRequest {
            bucket,
            key,
            mut body,
            content_type,
            forbid_overwrite,
            headers: extra_headers,
            mut progress,
        } = request;
        validate::bucket_name(&bucket)
            .map_err(|m| OperationError::invalid_argument(OPERATION, m))?;
        validate::object_key(&key).map_err(|m| OperationError::invalid_argument(OPERATION, m))?;
        body.prepare().map_err(|e| {
            OperationError::new(OPERATION, ErrorKind::Io, "cannot read the body").with_source(e)
        })?;
        let length = body.known_length();
        if let Some(len) = length {
            validate::put_object_size(len)
                .map_err(|m| OperationError::invalid_argument(OPERATION, m))?;
        }

        let mut headers: Vec<(String, String)> =
            Vec::with_capacity(extra_headers.len().saturating_add(4));
        let content_type =
            content_type.unwrap_or_else(|| mime::content_type_for_key(&key).to_string());
        headers.push(("Content-Type".to_string(), content_type));
        if let Some(len) = length {
            headers.push(("Content-Length".to_string(), len.to_string()));
        }
        if let Some(forbid) = forbid_overwrite {
            headers.push(("x-oss-forbid-overwrite".to_string(), forbid.to_string()));
        }
        for (name, value) in extra_headers {
            if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(&name)) {
                headers.push((name, value));
            }
        }

        let response = self.execute(OperationInput {
            name: OPERATION,
            method: "PUT",
            bucket: &bucket,
            key: Some(&key),
            headers,
            body: &mut body,
            progress: progress.as_deref_mut(),
            check_crc: true,
        })?;
        Ok(PutObjectResult::from_response(
            response.status,
            response.headers,
        ))
    }

    /// Uploads a local file, streamed: memory stays constant whatever the file size, and the
    /// file is read once (the CRC-64 is computed as the bytes are sent). A missing or
    /// unreadable file is an [`ErrorKind::Io`] error naming the path; nothing is sent. The
    /// request's own body, if any, is replaced by the file.
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
            OperationError::new(
                OPERATION,
                ErrorKind::Io,
                format!("cannot upload {}", path.as_ref().display()),
            )
            .with_source(e)
        })?;
        self.put_object(request.body(body))
    }
}

/// A PutObject request: bucket, key, body and options, built with chained setters.
///
/// ```
/// use oss_blocking as oss;
/// let req = oss::PutObjectRequest::new("examplebucket", "exampledir/exampleobject.txt")
///     .body("Hello, OSS!")
///     .content_type("text/plain")
///     .forbid_overwrite(true);
/// assert_eq!(req.key(), "exampledir/exampleobject.txt");
/// ```
pub struct PutObjectRequest {
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) body: Body,
    pub(crate) content_type: Option<String>,
    pub(crate) forbid_overwrite: Option<bool>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) progress: Option<Box<ProgressFn>>,
}

impl PutObjectRequest {
    /// A request to store `key` in `bucket`, with an empty body until [`PutObjectRequest::body`].
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        PutObjectRequest {
            bucket: bucket.into(),
            key: key.into(),
            body: Body::empty(),
            content_type: None,
            forbid_overwrite: None,
            headers: Vec::new(),
            progress: None,
        }
    }

    /// The data: anything that converts into a [`Body`] (`&str`, `String`, `Vec<u8>`, `&[u8]`,
    /// `File`, or [`Body::from_reader`] for a stream).
    pub fn body(mut self, body: impl Into<Body>) -> Self {
        self.body = body.into();
        self
    }

    /// The `Content-Type`. When unset it is guessed from the key's extension
    /// (`application/octet-stream` when unknown), as the official SDKs do.
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// With `true`, OSS refuses to replace an existing object (409 `FileAlreadyExists`).
    pub fn forbid_overwrite(mut self, forbid: bool) -> Self {
        self.forbid_overwrite = Some(forbid);
        self
    }

    /// Adds a request header as is (for options this type has no setter for yet). `x-oss-*`
    /// headers are signed. A header with the same name set by a typed setter wins.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Called as bytes go to the network: (bytes in this chunk, bytes sent so far, total when
    /// known). It starts again from 0 when an attempt is retried.
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
}

impl fmt::Debug for PutObjectRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PutObjectRequest")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("body", &self.body)
            .field("content_type", &self.content_type)
            .field("forbid_overwrite", &self.forbid_overwrite)
            .field("headers", &crate::error::redacted_headers(&self.headers))
            .field("progress", &self.progress.as_ref().map(|_| "<fn>"))
            .finish()
    }
}

/// What OSS answered to a successful PutObject.
#[derive(Clone, Debug)]
pub struct PutObjectResult {
    /// HTTP status, 200.
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
    pub headers: Vec<(String, String)>,
}

impl PutObjectResult {
    /// A response header by name, case-insensitively, e.g. `result.header("x-oss-server-time")`.
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::client::find_header(&self.headers, name)
    }

    pub(crate) fn from_response(status_code: u16, headers: Vec<(String, String)>) -> Self {
        let get = |name: &str| crate::client::find_header(&headers, name).map(str::to_string);
        PutObjectResult {
            status_code,
            request_id: get("x-oss-request-id").unwrap_or_default(),
            etag: get("ETag"),
            content_md5: get("Content-MD5"),
            hash_crc64: get("x-oss-hash-crc64ecma").and_then(|v| v.trim().parse().ok()),
            version_id: get("x-oss-version-id"),
            headers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_fields_come_from_the_headers_as_the_sdk_reads_them() {
        let case = crate::test_vectors::behaviour("resp-put-ok");
        let headers = crate::test_vectors::headers(&case["response"]["headers"]);
        let result = PutObjectResult::from_response(200, headers);
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

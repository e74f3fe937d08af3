//! HeadObject: what is stored under a key (length, ETag, CRC-64, type, metadata), without its
//! data.
//!
//! HEAD has no body, so a 404 is recognised from the headers (`x-oss-err` carries the error
//! document base64-encoded, `x-oss-ec` the EC): a missing key is a service error with code
//! `NoSuchKey`.

use std::collections::BTreeMap;
use std::fmt;
use std::time::SystemTime;

use crate::client::Client;
use crate::error::OperationError;
use crate::headers::Headers;
use crate::ops::shared::{self, RequestOptions};
use crate::options::METADATA_PREFIX;
use crate::pipeline::Response;
use crate::presign::sealed::{RequestParts, Sealed};
use crate::validate;

const OPERATION: &str = "HeadObject";

impl Client {
    /// The stored object's length, ETag, CRC-64, type (`Normal`, `Appendable`, `Multipart`),
    /// next append position, storage class, metadata and every other header, without its data.
    /// A missing key is an error whose service code is `NoSuchKey`.
    ///
    /// ```
    /// use oss_blocking as oss;
    /// # let emu = oss::emulator::Emulator::start().unwrap();
    /// # let client = oss::Client::new(emu.config());
    /// client.put_object(oss::PutObjectRequest::new(emu.bucket(), "a.txt").body("hello").metadata("Author", "alice"))?;
    /// let h = client.head_object(oss::HeadObjectRequest::new(emu.bucket(), "a.txt"))?;
    /// assert_eq!(h.content_length, 5);
    /// assert_eq!(h.object_type.as_deref(), Some("Normal"));
    /// assert_eq!(h.metadata.get("author").map(String::as_str), Some("alice"));
    /// assert_eq!(h.hash_crc64, Some(oss::crc64::checksum(b"hello")));
    ///
    /// let missing = client.head_object(oss::HeadObjectRequest::new(emu.bucket(), "nope")).unwrap_err();
    /// assert_eq!(missing.service_error().map(|s| s.code()), Some("NoSuchKey"));
    /// # Ok::<(), oss::OperationError>(())
    /// ```
    pub fn head_object(
        &self,
        request: HeadObjectRequest,
    ) -> Result<HeadObjectResult, OperationError> {
        let parts = request.presign_parts()?;
        let check = |_: &Response| Ok(());
        let response = self.execute_parts(parts, crate::body::Body::empty(), &check)?;
        Ok(HeadObjectResult::from_response(response))
    }
}

/// A HeadObject request (also presignable with [`Client::presign`]).
///
/// ```
/// use oss_blocking as oss;
/// let req = oss::HeadObjectRequest::new("examplebucket", "logs/app.log").version_id("v1");
/// assert_eq!(req.key(), "logs/app.log");
/// ```
#[derive(Clone)]
pub struct HeadObjectRequest {
    bucket: String,
    key: String,
    version_id: Option<String>,
    request: RequestOptions,
}

impl HeadObjectRequest {
    /// A request for `key` in `bucket`.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        HeadObjectRequest {
            bucket: bucket.into(),
            key: key.into(),
            version_id: None,
            request: RequestOptions::default(),
        }
    }

    /// A given version of the object (versioned buckets), sent as `?versionId=`.
    pub fn version_id(mut self, version_id: impl Into<String>) -> Self {
        self.version_id = Some(version_id.into());
        self
    }

    shared::request_option_setters!(request);

    /// The bucket name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The object key.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Debug for HeadObjectRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeadObjectRequest")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("version_id", &self.version_id)
            .field("request", &self.request)
            .finish()
    }
}

/// Checks the bucket and key and gives the query with `versionId` first.
pub(crate) fn object_read_parts(
    op: &'static str,
    method: &'static str,
    bucket: String,
    key: String,
    version_id: Option<String>,
    mut query: Vec<(String, String)>,
    headers: Headers,
) -> Result<RequestParts, OperationError> {
    let invalid = |m: String| OperationError::invalid_argument(op, m);
    validate::bucket_name(&bucket).map_err(invalid)?;
    validate::object_key(&key).map_err(invalid)?;
    if let Some(id) = version_id {
        if id.is_empty() {
            return Err(invalid(
                "invalid version_id \"\": it must not be empty (leave it unset instead)".into(),
            ));
        }
        query.insert(0, ("versionId".to_string(), id));
    }
    Ok(RequestParts {
        name: op,
        method,
        bucket,
        key: Some(key),
        headers,
        query,
    })
}

impl Sealed for HeadObjectRequest {
    fn presign_parts(self) -> Result<RequestParts, OperationError> {
        let mut headers = Headers::new();
        let query = self
            .request
            .apply(&mut headers)
            .map_err(|m| OperationError::invalid_argument(OPERATION, m))?;
        object_read_parts(
            OPERATION,
            "HEAD",
            self.bucket,
            self.key,
            self.version_id,
            query,
            headers,
        )
    }
}

impl crate::presign::Presignable for HeadObjectRequest {}

/// What OSS says about a stored object.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct HeadObjectResult {
    /// HTTP status, 200.
    pub status_code: u16,
    /// `x-oss-request-id`.
    pub request_id: String,
    /// `Content-Length`: the object's size in bytes.
    pub content_length: u64,
    /// `ETag`, quotes included.
    pub etag: Option<String>,
    /// `x-oss-hash-crc64ecma`: the CRC-64 of the whole object.
    pub hash_crc64: Option<u64>,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Content-MD5` (not sent for appendable or multipart objects).
    pub content_md5: Option<String>,
    /// `Last-Modified`.
    pub last_modified: Option<SystemTime>,
    /// `x-oss-object-type`: `Normal`, `Appendable`, `Multipart` or `Symlink`.
    pub object_type: Option<String>,
    /// `x-oss-next-append-position`, for appendable objects: the position of the next append.
    pub next_append_position: Option<u64>,
    /// `x-oss-storage-class`, e.g. `Standard`.
    pub storage_class: Option<String>,
    /// `x-oss-version-id`, on versioned buckets.
    pub version_id: Option<String>,
    /// User metadata: the `x-oss-meta-*` headers with the prefix removed, keys lowercased.
    pub metadata: BTreeMap<String, String>,
    /// All response headers, in order.
    pub headers: Headers,
}

impl HeadObjectResult {
    /// A response header by name, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    fn from_response(response: Response) -> Self {
        let headers = response.headers;
        let get = |name: &str| headers.get(name).map(str::to_string);
        let number = |name: &str| headers.get(name).and_then(|v| v.trim().parse().ok());
        let metadata = headers
            .iter()
            .filter_map(|(name, value)| {
                let lower = name.to_ascii_lowercase();
                lower
                    .strip_prefix(METADATA_PREFIX)
                    .map(|k| (k.to_string(), value.to_string()))
            })
            .collect();
        HeadObjectResult {
            status_code: response.status,
            request_id: get("x-oss-request-id").unwrap_or_default(),
            content_length: number("Content-Length").unwrap_or(0),
            etag: get("ETag"),
            hash_crc64: number(shared::HEADER_CRC64),
            content_type: get("Content-Type"),
            content_md5: get("Content-MD5"),
            last_modified: headers
                .get("Last-Modified")
                .and_then(|v| httpdate::parse_http_date(v).ok()),
            object_type: get("x-oss-object-type"),
            next_append_position: number("x-oss-next-append-position"),
            storage_class: get("x-oss-storage-class"),
            version_id: get("x-oss-version-id"),
            metadata,
            headers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::BodyStats;

    #[test]
    fn fields_are_parsed_from_the_headers() {
        let headers: Headers = [
            ("Content-Length", "11"),
            ("ETag", "\"E\""),
            ("x-oss-hash-crc64ecma", "18446744073709551615"),
            ("x-oss-object-type", "Appendable"),
            ("x-oss-next-append-position", "11"),
            ("X-Oss-Meta-Author", "alice"),
            ("Last-Modified", "Sun, 03 Dec 2023 12:12:12 GMT"),
            ("x-oss-request-id", "R"),
        ]
        .into_iter()
        .collect();
        let r = HeadObjectResult::from_response(Response {
            status: 200,
            headers,
            body: Vec::new(),
            request_target: "HEAD b/k".into(),
            stats: BodyStats::default(),
        });
        assert_eq!(r.content_length, 11);
        assert_eq!(r.hash_crc64, Some(u64::MAX));
        assert_eq!(r.next_append_position, Some(11));
        assert_eq!(r.metadata.get("author").map(String::as_str), Some("alice"));
        assert!(r.last_modified.is_some());
        assert_eq!(r.request_id, "R");
    }

    #[test]
    fn bad_input_is_refused_naming_the_field() {
        let err = HeadObjectRequest::new("b!", "k")
            .presign_parts()
            .unwrap_err();
        assert!(err.to_string().contains("bucket"), "{err}");
        let err = HeadObjectRequest::new("bucket", "k")
            .version_id("")
            .presign_parts()
            .unwrap_err();
        assert!(err.to_string().contains("version_id"), "{err}");
    }
}

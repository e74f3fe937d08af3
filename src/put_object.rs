//! PutObject: upload one object in a single request (up to 5 GiB).
//!
//! This module turns a [`PutObjectRequest`] into an operation for the client's send loop and
//! the response into a [`PutObjectResult`]; the loop itself (signing, retries, CRC) lives in
//! [`crate::client`].

use std::fmt;

use std::path::Path;

use crate::body::{Body, ProgressFn};
use crate::client::{Client, OperationInput};
use crate::error::{ErrorKind, OperationError, ServiceError};
use crate::options::{ObjectAcl, ServerSideEncryption, StorageClass, Tagging};
use crate::{callback, mime, options, validate};

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
        let invalid = |m: String| OperationError::invalid_argument(OPERATION, m);
        let PutObjectRequest {
            bucket,
            key,
            mut body,
            options,
            mut progress,
        } = request;
        validate::bucket_name(&bucket).map_err(invalid)?;
        validate::object_key(&key).map_err(invalid)?;
        let (mut headers, query) = options.to_wire(&key).map_err(invalid)?;
        body.prepare().map_err(|e| {
            OperationError::new(OPERATION, ErrorKind::Io, "cannot read the body").with_source(e)
        })?;
        let length = body.known_length();
        if let Some(len) = length {
            validate::put_object_size(len).map_err(invalid)?;
            headers.push(("Content-Length".to_string(), len.to_string()));
        }
        if self.config().auto_content_md5 && options.content_md5.is_none() {
            let md5 = body.content_md5().map_err(|e| {
                OperationError::new(OPERATION, ErrorKind::Io, "cannot read the body for its MD5")
                    .with_source(e)
            })?;
            if let Some(md5) = md5 {
                headers.push(("Content-MD5".to_string(), md5));
            }
        }
        let with_callback = options.callback.is_some();

        let response = self.execute(OperationInput {
            name: OPERATION,
            method: "PUT",
            bucket: &bucket,
            key: Some(&key),
            headers,
            query,
            body: &mut body,
            progress: progress.as_deref_mut(),
            stores_object: true,
        })?;
        finish(
            response.status,
            response.headers,
            &response.body,
            with_callback,
            &format!("PUT {bucket}/{key}"),
        )
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

/// Turns a 2xx answer into the result, or into the error of a failed callback: OSS answers 203
/// `CallbackFailed` after storing the object. The Go SDK reports that as an error when the
/// request carried a callback (fact sheet §9.2; Python returns it as a success), and so does
/// this crate, keeping the ETag and CRC-64 so the caller does not upload again.
fn finish(
    status: u16,
    headers: Vec<(String, String)>,
    body: &[u8],
    with_callback: bool,
    request_target: &str,
) -> Result<PutObjectResult, OperationError> {
    let result = PutObjectResult::from_response(status, headers);
    if with_callback && status == 203 {
        let service = ServiceError::from_response(status, &result.headers, body, request_target);
        return Err(OperationError::service(OPERATION, service)
            .with_stored_object(result.etag.clone(), result.hash_crc64));
    }
    Ok(PutObjectResult {
        callback_result: with_callback.then(|| String::from_utf8_lossy(body).into_owned()),
        ..result
    })
}

/// A PutObject request: bucket, key, body and options, built with chained setters.
///
/// Every option is checked when the request is sent, before anything goes out: a bad value is
/// an [`ErrorKind::InvalidArgument`] error naming the option and the rule.
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
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) body: Body,
    pub(crate) options: PutOptions,
    pub(crate) progress: Option<Box<ProgressFn>>,
}

/// The header and query options of a PutObject, checked and turned into wire form at once.
#[derive(Clone, Debug, Default)]
pub(crate) struct PutOptions {
    content_type: Option<String>,
    forbid_overwrite: Option<bool>,
    acl: Option<ObjectAcl>,
    storage_class: Option<StorageClass>,
    sse: Option<ServerSideEncryption>,
    sse_data: Option<String>,
    sse_key_id: Option<String>,
    tagging: Option<String>,
    metadata: Vec<(String, String)>,
    cache_control: Option<String>,
    content_disposition: Option<String>,
    content_encoding: Option<String>,
    expires: Option<String>,
    pub(crate) content_md5: Option<String>,
    traffic_limit: Option<u64>,
    request_payer: Option<String>,
    pub(crate) callback: Option<String>,
    callback_var: Option<String>,
    headers: RawHeaders,
    query: Vec<(String, String)>,
}

/// Headers added with [`PutObjectRequest::header`]; their `Debug` hides credentials a caller
/// may have put there (`Authorization`, `x-oss-security-token`).
#[derive(Clone, Default)]
struct RawHeaders(Vec<(String, String)>);

impl fmt::Debug for RawHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(crate::error::redacted_headers(&self.0))
            .finish()
    }
}

/// Lowest `x-oss-traffic-limit` OSS accepts, in bit/s (30 KiB/s).
pub const MIN_TRAFFIC_LIMIT: u64 = 245_760;
/// Highest `x-oss-traffic-limit` OSS accepts, in bit/s (100 MiB/s).
pub const MAX_TRAFFIC_LIMIT: u64 = 838_860_800;

/// Header or query (name, value) pairs, in order.
type Pairs = Vec<(String, String)>;

impl PutOptions {
    /// Checks every option and gives the headers and query parameters to send. Typed setters
    /// win over a raw [`PutObjectRequest::header`] of the same name.
    fn to_wire(&self, key: &str) -> Result<(Pairs, Pairs), String> {
        let mut h: Vec<(String, String)> = Vec::new();
        let mut put = |name: &str, value: String| h.push((name.to_string(), value));
        put(
            "Content-Type",
            self.content_type
                .clone()
                .unwrap_or_else(|| mime::content_type_for_key(key).to_string()),
        );
        if let Some(forbid) = self.forbid_overwrite {
            put("x-oss-forbid-overwrite", forbid.to_string());
        }
        if let Some(acl) = self.acl {
            put("x-oss-object-acl", acl.as_str().to_string());
        }
        if let Some(class) = self.storage_class {
            put("x-oss-storage-class", class.as_str().to_string());
        }
        if let Some(sse) = self.sse {
            put("x-oss-server-side-encryption", sse.as_str().to_string());
        }
        let kms = self.sse == Some(ServerSideEncryption::Kms);
        if let Some(data) = &self.sse_data {
            if !kms || data != "SM4" {
                return Err(format!(
                    "invalid server_side_data_encryption {data:?}: the only value is \"SM4\", \
                     and only with server_side_encryption KMS"
                ));
            }
            put("x-oss-server-side-data-encryption", data.clone());
        }
        if let Some(id) = &self.sse_key_id {
            if !kms || id.is_empty() {
                return Err(format!(
                    "invalid server_side_encryption_key_id {id:?}: a KMS key id needs \
                     server_side_encryption KMS and must not be empty"
                ));
            }
            put("x-oss-server-side-encryption-key-id", id.clone());
        }
        if let Some(tagging) = &self.tagging {
            // An empty tag set sends nothing (as Go skips empty values).
            if !Tagging::parse(tagging)?.tags().is_empty() {
                put("x-oss-tagging", tagging.clone());
            }
        }
        let mut meta_bytes = 0usize;
        let mut metadata: Vec<(String, String)> = Vec::new();
        for (k, v) in &self.metadata {
            let name = options::metadata_header(k, v)?;
            // Keys are case-insensitive: a later value for the same key replaces the earlier.
            metadata.retain(|(n, _)| *n != name);
            metadata.push((name, v.clone()));
        }
        for (name, value) in metadata {
            meta_bytes = meta_bytes
                .saturating_add(name.len().saturating_sub(options::METADATA_PREFIX.len()))
                .saturating_add(value.len());
            put(&name, value);
        }
        if meta_bytes > options::MAX_METADATA_BYTES {
            return Err(format!(
                "invalid metadata: {meta_bytes} bytes of keys and values, OSS takes at most \
                 {} (8 KiB)",
                options::MAX_METADATA_BYTES
            ));
        }
        for (name, value) in [
            ("Cache-Control", &self.cache_control),
            ("Content-Disposition", &self.content_disposition),
            ("Content-Encoding", &self.content_encoding),
            ("Expires", &self.expires),
        ] {
            if let Some(v) = value {
                put(name, v.clone());
            }
        }
        if let Some(md5) = &self.content_md5 {
            use base64::Engine as _;
            let ok = base64::engine::general_purpose::STANDARD
                .decode(md5.trim())
                .is_ok_and(|d| d.len() == 16);
            if !ok {
                return Err(format!(
                    "invalid content_md5 {md5:?}: it is the base64 of the 16-byte MD5 of the body \
                     (24 characters ending in \"==\")"
                ));
            }
            put("Content-MD5", md5.clone());
        }
        if let Some(limit) = self.traffic_limit {
            if !(MIN_TRAFFIC_LIMIT..=MAX_TRAFFIC_LIMIT).contains(&limit) {
                return Err(format!(
                    "invalid traffic_limit {limit}: it is in bit/s, from {MIN_TRAFFIC_LIMIT} \
                     (30 KiB/s) to {MAX_TRAFFIC_LIMIT} (100 MiB/s)"
                ));
            }
            put("x-oss-traffic-limit", limit.to_string());
        }
        if let Some(payer) = &self.request_payer {
            if payer != "requester" {
                return Err(format!(
                    "invalid request_payer {payer:?}: the only value is \"requester\""
                ));
            }
            put("x-oss-request-payer", payer.clone());
        }
        if let Some(cb) = &self.callback {
            callback::check_callback(cb)?;
            put("x-oss-callback", cb.clone());
        }
        if let Some(var) = &self.callback_var {
            if self.callback.is_none() {
                return Err(
                    "invalid callback_var: it is only used with a callback (set callback too)"
                        .to_string(),
                );
            }
            callback::check_callback_var(var)?;
            put("x-oss-callback-var", var.clone());
        }
        for (name, value) in &self.headers.0 {
            if !h.iter().any(|(k, _)| k.eq_ignore_ascii_case(name)) {
                h.push((name.clone(), value.clone()));
            }
        }
        for (name, _) in &self.query {
            if name.is_empty() {
                return Err("invalid query parameter: the name must not be empty".to_string());
            }
        }
        Ok((h, self.query.clone()))
    }
}

impl PutObjectRequest {
    /// A request to store `key` in `bucket`, with an empty body until [`PutObjectRequest::body`].
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        PutObjectRequest {
            bucket: bucket.into(),
            key: key.into(),
            body: Body::empty(),
            options: PutOptions::default(),
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
        self.options.content_type = Some(content_type.into());
        self
    }

    /// With `true`, OSS refuses to replace an existing object (409 `FileAlreadyExists`).
    pub fn forbid_overwrite(mut self, forbid: bool) -> Self {
        self.options.forbid_overwrite = Some(forbid);
        self
    }

    /// Who may access the object (`x-oss-object-acl`); without it the bucket's ACL applies.
    pub fn acl(mut self, acl: ObjectAcl) -> Self {
        self.options.acl = Some(acl);
        self
    }

    /// The storage class (`x-oss-storage-class`); without it the bucket's applies.
    pub fn storage_class(mut self, class: StorageClass) -> Self {
        self.options.storage_class = Some(class);
        self
    }

    /// Encrypt the object at rest (`x-oss-server-side-encryption`).
    pub fn server_side_encryption(mut self, sse: ServerSideEncryption) -> Self {
        self.options.sse = Some(sse);
        self
    }

    /// The data encryption algorithm under KMS (`x-oss-server-side-data-encryption`): only
    /// `SM4`, and only with [`ServerSideEncryption::Kms`] (else the default, AES-256).
    pub fn server_side_data_encryption(mut self, algorithm: impl Into<String>) -> Self {
        self.options.sse_data = Some(algorithm.into());
        self
    }

    /// Your KMS key id (`x-oss-server-side-encryption-key-id`), with
    /// [`ServerSideEncryption::Kms`]; without it OSS uses its managed KMS key.
    pub fn server_side_encryption_key_id(mut self, key_id: impl Into<String>) -> Self {
        self.options.sse_key_id = Some(key_id.into());
        self
    }

    /// Object tags in URL query form (`env=prod&team=backend`, keys and values
    /// percent-encoded), or a [`Tagging`] built from pairs. At most 10 tags, keys 1-128 and
    /// values 0-256 characters.
    pub fn tagging(mut self, tagging: impl Into<String>) -> Self {
        self.options.tagging = Some(tagging.into());
        self
    }

    /// User metadata, sent as `x-oss-meta-<key>` and returned on GET/HEAD. Keys are
    /// case-insensitive (stored lowercase; setting a key twice keeps the last value); keys are
    /// ASCII letters, digits, `-` and `_`, values printable ASCII, 8 KiB in all.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.metadata.push((key.into(), value.into()));
        self
    }

    /// `Cache-Control`, returned on GET (e.g. `no-cache`, `max-age=3600`).
    pub fn cache_control(mut self, value: impl Into<String>) -> Self {
        self.options.cache_control = Some(value.into());
        self
    }

    /// `Content-Disposition`, returned on GET (e.g. `attachment; filename="a.txt"`).
    pub fn content_disposition(mut self, value: impl Into<String>) -> Self {
        self.options.content_disposition = Some(value.into());
        self
    }

    /// `Content-Encoding`, returned on GET (e.g. `gzip` for a body you compressed).
    pub fn content_encoding(mut self, value: impl Into<String>) -> Self {
        self.options.content_encoding = Some(value.into());
        self
    }

    /// `Expires`, an HTTP date as sent (e.g. `Wed, 21 Oct 2026 07:28:00 GMT`), returned on GET.
    pub fn expires(mut self, http_date: impl Into<String>) -> Self {
        self.options.expires = Some(http_date.into());
        self
    }

    /// `Content-MD5`: base64 of the body's MD5; OSS refuses a body that does not match
    /// (`InvalidDigest`). See also [`crate::Config::auto_content_md5`].
    pub fn content_md5(mut self, md5_base64: impl Into<String>) -> Self {
        self.options.content_md5 = Some(md5_base64.into());
        self
    }

    /// Cap this upload's bandwidth (`x-oss-traffic-limit`), in **bits** per second, from
    /// 245760 (30 KiB/s) to 838860800 (100 MiB/s).
    pub fn traffic_limit(mut self, bits_per_second: u64) -> Self {
        self.options.traffic_limit = Some(bits_per_second);
        self
    }

    /// `x-oss-request-payer: requester`, to upload to a requester-pays bucket.
    pub fn request_payer(mut self, payer: impl Into<String>) -> Self {
        self.options.request_payer = Some(payer.into());
        self
    }

    /// `x-oss-callback`: base64 of the callback JSON, as on the official page (see
    /// [`crate::Callback`] to build it). The callback server's answer is returned in
    /// [`PutObjectResult::callback_result`].
    pub fn callback(mut self, callback_base64: impl Into<String>) -> Self {
        self.options.callback = Some(callback_base64.into());
        self
    }

    /// `x-oss-callback-var`: base64 of a JSON object whose keys start with `x:`.
    pub fn callback_var(mut self, callback_var_base64: impl Into<String>) -> Self {
        self.options.callback_var = Some(callback_var_base64.into());
        self
    }

    /// Sets [`PutObjectRequest::callback`] and [`PutObjectRequest::callback_var`] from a
    /// [`crate::Callback`].
    pub fn upload_callback(mut self, callback: &crate::Callback) -> Self {
        self.options.callback = Some(callback.header_value());
        self.options.callback_var = callback.var_header_value();
        self
    }

    /// Adds a request header as is (for options this type has no setter for). `x-oss-*`
    /// headers are signed. A header with the same name set by a typed setter wins.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.headers.0.push((name.into(), value.into()));
        self
    }

    /// Adds a query parameter (unencoded: it is percent-encoded once, for the URL and the
    /// signature alike).
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.query.push((name.into(), value.into()));
        self
    }

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
}

impl fmt::Debug for PutObjectRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PutObjectRequest")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("body", &self.body)
            .field("options", &self.options)
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
    /// With a callback: the callback server's answer (the response body), as text.
    pub callback_result: Option<String>,
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
            callback_result: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector_response(id: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let case = crate::test_vectors::behaviour(id);
        let response = &case["response"];
        let headers = if response["headers"].is_null() {
            Vec::new()
        } else {
            crate::test_vectors::headers(&response["headers"])
        };
        (
            response["status"].as_u64().unwrap() as u16,
            headers,
            response["body"].as_str().unwrap().as_bytes().to_vec(),
        )
    }

    #[test]
    fn callback_203_is_an_error_that_says_the_object_was_stored() {
        let (status, mut headers, body) = vector_response("resp-callback-203");
        headers.push(("ETag".into(), "\"ABC\"".into()));
        headers.push(("x-oss-hash-crc64ecma".into(), "42".into()));
        let err = finish(status, headers, &body, true, "PUT b/k").unwrap_err();
        let service = err.service_error().unwrap();
        assert_eq!(
            (service.status_code(), service.code()),
            (203, "CallbackFailed")
        );
        assert_eq!(service.ec(), Some("0007-00000203"));
        assert_eq!(err.request_id(), Some("REQ-CB"));
        assert!(err.object_stored());
        assert_eq!((err.etag(), err.hash_crc64()), (Some("\"ABC\""), Some(42)));
        assert!(err.to_string().contains("The object was stored"), "{err}");
    }

    #[test]
    fn without_a_callback_a_203_is_returned_as_is_like_python() {
        let (status, headers, body) = vector_response("resp-callback-203");
        let result = finish(status, headers, &body, false, "PUT b/k").unwrap();
        assert_eq!(result.status_code, 203);
        assert_eq!(result.callback_result, None);
    }

    #[test]
    fn callback_success_returns_the_body_as_text() {
        let case = crate::test_vectors::behaviour("resp-callback-200");
        let (status, headers, body) = vector_response("resp-callback-200");
        let result = finish(status, headers, &body, true, "PUT b/k").unwrap();
        assert_eq!(
            result.callback_result.as_deref(),
            case["result"]["callback_result"].as_str()
        );
    }

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

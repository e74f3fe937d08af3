//! UploadPart: `PUT /<key>?partNumber=<n>&uploadId=<id>` with the part's bytes, checked like
//! PutObject (ETag and request id present, the CRC-64 OSS computed equal to the one sent).

use std::fmt;

use crate::body::{Body, ProgressFn};
use crate::client::Client;
use crate::error::OperationError;
use crate::headers::Headers;
use crate::ops::multipart as mp;
use crate::ops::shared::{self, RequestOptions, TransferOptions};
use crate::pipeline::{OperationInput, Response};
use crate::validate;

const OPERATION: &str = "UploadPart";

impl Client {
    /// Uploads one part (1..=10000) of a multipart upload. The CRC-64 OSS computed over the
    /// part is compared with the bytes sent (a mismatch is retried when the body can be
    /// rewound); every part but the last must be at least 100 KiB when the upload completes.
    ///
    /// ```
    /// use oss_blocking as oss;
    /// # let emu = oss::emulator::Emulator::start().unwrap();
    /// # let client = oss::Client::new(emu.config());
    /// let init = client.initiate_multipart_upload(
    ///     oss::InitiateMultipartUploadRequest::new(emu.bucket(), "big.bin"),
    /// )?;
    /// let part = client.upload_part(
    ///     oss::UploadPartRequest::new(emu.bucket(), "big.bin", &init.upload_id, 1)
    ///         .body(vec![7u8; 1024]),
    /// )?;
    /// assert_eq!(part.part_number, 1);
    /// assert!(part.etag.starts_with('"'));
    /// assert_eq!(part.hash_crc64, Some(oss::crc64::checksum(&[7u8; 1024])));
    /// # Ok::<(), oss::OperationError>(())
    /// ```
    pub fn upload_part(
        &self,
        request: UploadPartRequest,
    ) -> Result<UploadPartResult, OperationError> {
        let invalid = |m: String| OperationError::invalid_argument(OPERATION, m);
        let mut request = request;
        validate::bucket_name(&request.bucket).map_err(invalid)?;
        validate::object_key(&request.key).map_err(invalid)?;
        let (headers, query) = request.wire().map_err(invalid)?;
        request.body.prepare().map_err(|e| {
            OperationError::new(OPERATION, crate::ErrorKind::Io, "cannot read the body")
                .with_source(e)
        })?;
        if let Some(len) = request.body.known_length() {
            if len > mp::MAX_PART_SIZE {
                return Err(invalid(format!(
                    "invalid body: {len} bytes, a part holds at most {} (5 GiB)",
                    mp::MAX_PART_SIZE
                )));
            }
        }
        let verify_crc = !self.config().disable_upload_crc64_check;
        let check = |r: &Response| shared::check_stored_bytes(OPERATION, r, verify_crc);
        let UploadPartRequest {
            bucket,
            key,
            part_number,
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
        Ok(UploadPartResult::from_response(response, part_number))
    }
}

/// An UploadPart request: which upload and part, the bytes, and how they travel.
///
/// ```
/// use oss_blocking as oss;
/// let req = oss::UploadPartRequest::new("examplebucket", "big.iso", "0004B98", 3)
///     .body(vec![0u8; 100 * 1024])
///     .traffic_limit(8 * 1024 * 1024);
/// assert_eq!(req.part_number(), 3);
/// ```
pub struct UploadPartRequest {
    bucket: String,
    key: String,
    upload_id: String,
    part_number: u32,
    body: Body,
    pub(crate) transfer: TransferOptions,
    pub(crate) request: RequestOptions,
    progress: Option<Box<ProgressFn>>,
}

impl UploadPartRequest {
    /// Part `part_number` (1..=10000) of upload `upload_id` of `key`, with an empty body
    /// until [`UploadPartRequest::body`].
    pub fn new(
        bucket: impl Into<String>,
        key: impl Into<String>,
        upload_id: impl Into<String>,
        part_number: u32,
    ) -> Self {
        UploadPartRequest {
            bucket: bucket.into(),
            key: key.into(),
            upload_id: upload_id.into(),
            part_number,
            body: Body::empty(),
            transfer: TransferOptions::default(),
            request: RequestOptions::default(),
            progress: None,
        }
    }

    /// The part's bytes: anything that converts into a [`Body`]; up to 5 GiB.
    pub fn body(mut self, body: impl Into<Body>) -> Self {
        self.body = body.into();
        self
    }

    shared::transfer_option_setters!(transfer);
    shared::request_option_setters!(request);

    /// Called as the part's bytes go out, as [`crate::PutObjectRequest::progress_fn`].
    pub fn progress_fn(mut self, f: impl FnMut(u64, u64, Option<u64>) + Send + 'static) -> Self {
        self.progress = Some(Box::new(f));
        self
    }

    pub(crate) fn progress_box(mut self, f: Box<ProgressFn>) -> Self {
        self.progress = Some(f);
        self
    }

    /// The part number.
    pub fn part_number(&self) -> u32 {
        self.part_number
    }

    /// The upload id.
    pub fn upload_id(&self) -> &str {
        &self.upload_id
    }

    /// Query `partNumber` then `uploadId` (the official order), and the transfer headers.
    fn wire(&self) -> Result<(Headers, Vec<(String, String)>), String> {
        mp::check_upload_id(&self.upload_id)?;
        mp::check_part_number(self.part_number)?;
        let mut h = Headers::new();
        self.transfer.apply(&mut h)?;
        let mut query = vec![
            ("partNumber".to_string(), self.part_number.to_string()),
            ("uploadId".to_string(), self.upload_id.clone()),
        ];
        query.extend(self.request.apply(&mut h)?);
        Ok((h, query))
    }
}

/// The body is not part of a presigned URL: whoever holds it sends the part's bytes.
impl crate::presign::sealed::Sealed for UploadPartRequest {
    fn presign_parts(self) -> Result<crate::presign::sealed::RequestParts, OperationError> {
        let wire = self.wire();
        mp::request_parts(OPERATION, "PUT", &self.bucket, Some(&self.key), wire)
    }
}

impl crate::presign::Presignable for UploadPartRequest {}

impl fmt::Debug for UploadPartRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadPartRequest")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("upload_id", &self.upload_id)
            .field("part_number", &self.part_number)
            .field("body", &self.body)
            .field("transfer", &self.transfer)
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}

/// What OSS answered to a successful UploadPart: what CompleteMultipartUpload needs.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct UploadPartResult {
    /// HTTP status (200).
    pub status_code: u16,
    /// `x-oss-request-id`.
    pub request_id: String,
    /// The part number this answers.
    pub part_number: u32,
    /// The part's `ETag`, quotes included, as Complete must send it.
    pub etag: String,
    /// `Content-MD5` of the stored part.
    pub content_md5: Option<String>,
    /// `x-oss-hash-crc64ecma` of the part, already compared with the bytes sent.
    pub hash_crc64: Option<u64>,
    /// All response headers.
    pub headers: Headers,
    /// Bytes sent and their CRC-64, computed while sending.
    pub(crate) sent: u64,
    pub(crate) sent_crc64: u64,
}

impl UploadPartResult {
    fn from_response(response: Response, part_number: u32) -> Self {
        let get = |name: &str| response.headers.get(name).map(str::to_string);
        UploadPartResult {
            status_code: response.status,
            request_id: get("x-oss-request-id").unwrap_or_default(),
            part_number,
            etag: get("ETag").unwrap_or_default(),
            content_md5: get("Content-MD5"),
            hash_crc64: mp::hash_crc64(&response.headers),
            sent: response.stats.sent,
            sent_crc64: response.stats.crc64,
            headers: response.headers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::multipart::vectors;
    use crate::pipeline::BodyStats;

    #[test]
    fn part_7_matches_the_python_sdk_byte_for_byte() {
        let case = vectors::case("multipart_requests_v4", "part-7");
        let out = &case["outputs"];
        let req = UploadPartRequest::new(
            "examplebucket",
            "multipart.data",
            "0004B9894A22E5B1888A1E29F823****",
            7,
        );
        let wire = req.wire().unwrap();
        vectors::assert_wire(&case["inputs"], out, "PUT", "multipart.data", wire);
        let parsed = &out["parsed_result"];
        let response = Response {
            status: 200,
            headers: [
                ("x-oss-request-id", "R"),
                ("ETag", parsed["etag"].as_str().unwrap()),
                (
                    "x-oss-hash-crc64ecma",
                    parsed["hash_crc64"].as_str().unwrap(),
                ),
                ("Content-MD5", parsed["content_md5"].as_str().unwrap()),
            ]
            .into_iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
            body: Vec::new(),
            request_target: "PUT u".into(),
            stats: BodyStats::default(),
        };
        let result = UploadPartResult::from_response(response, 7);
        assert_eq!(result.etag, parsed["etag"].as_str().unwrap());
        assert_eq!(
            result.hash_crc64.map(|c| c.to_string()).as_deref(),
            parsed["hash_crc64"].as_str()
        );
    }

    #[test]
    fn part_numbers_and_upload_ids_are_checked() {
        for n in [0, 10_001] {
            let err = UploadPartRequest::new("b", "k", "id", n)
                .wire()
                .unwrap_err();
            assert!(
                err.contains("part_number") && err.contains("10000"),
                "{err}"
            );
        }
        let err = UploadPartRequest::new("b", "k", "", 1).wire().unwrap_err();
        assert!(err.contains("upload_id"), "{err}");
        assert!(UploadPartRequest::new("b", "k", "id", 10_000)
            .wire()
            .is_ok());
    }
}

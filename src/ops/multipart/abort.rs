//! AbortMultipartUpload: `DELETE /<key>?uploadId=<id>`, which drops the upload and its parts
//! (204 No Content).

use crate::body::Body;
use crate::client::Client;
use crate::error::OperationError;
use crate::headers::Headers;
use crate::ops::multipart::{self as mp, EMPTY_BODY_MD5};
use crate::ops::shared::{self, RequestOptions};
use crate::pipeline::Response;

const OPERATION: &str = "AbortMultipartUpload";

impl Client {
    /// Aborts a multipart upload: OSS deletes its parts (they are billed until then). An
    /// unknown, completed or already aborted upload id is a `NoSuchUpload` service error.
    ///
    /// ```
    /// use oss_blocking as oss;
    /// # let emu = oss::emulator::Emulator::start().unwrap();
    /// # let client = oss::Client::new(emu.config());
    /// let init = client
    ///     .initiate_multipart_upload(oss::InitiateMultipartUploadRequest::new(emu.bucket(), "k"))?;
    /// let aborted = client.abort_multipart_upload(
    ///     oss::AbortMultipartUploadRequest::new(emu.bucket(), "k", &init.upload_id),
    /// )?;
    /// assert_eq!(aborted.status_code, 204);
    /// # Ok::<(), oss::OperationError>(())
    /// ```
    pub fn abort_multipart_upload(
        &self,
        request: AbortMultipartUploadRequest,
    ) -> Result<AbortMultipartUploadResult, OperationError> {
        let check = |response: &Response| mp::check_request_id(OPERATION, response);
        let parts = mp::request_parts(
            OPERATION,
            "DELETE",
            &request.bucket,
            Some(&request.key),
            request.wire(),
        )?;
        let response = self.execute_parts(parts, Body::empty(), &check)?;
        Ok(AbortMultipartUploadResult {
            status_code: response.status,
            request_id: mp::request_id(&response.headers).unwrap_or_default(),
            headers: response.headers,
        })
    }
}

/// An AbortMultipartUpload request.
///
/// ```
/// let req = oss_blocking::AbortMultipartUploadRequest::new("examplebucket", "big.iso", "0004B98");
/// assert_eq!(req.upload_id(), "0004B98");
/// ```
#[derive(Clone, Debug)]
pub struct AbortMultipartUploadRequest {
    bucket: String,
    key: String,
    upload_id: String,
    request: RequestOptions,
}

impl AbortMultipartUploadRequest {
    /// A request to abort upload `upload_id` of `key`.
    pub fn new(
        bucket: impl Into<String>,
        key: impl Into<String>,
        upload_id: impl Into<String>,
    ) -> Self {
        AbortMultipartUploadRequest {
            bucket: bucket.into(),
            key: key.into(),
            upload_id: upload_id.into(),
            request: RequestOptions::default(),
        }
    }

    shared::request_option_setters!(request);

    /// The upload id.
    pub fn upload_id(&self) -> &str {
        &self.upload_id
    }

    fn wire(&self) -> Result<(Headers, Vec<(String, String)>), String> {
        let (mut h, query) = self.option_wire()?;
        shared::set_default(&mut h, "Content-MD5", || EMPTY_BODY_MD5.to_string());
        Ok((h, query))
    }

    /// What the caller set, and the query `uploadId` with the caller's parameters.
    fn option_wire(&self) -> Result<(Headers, Vec<(String, String)>), String> {
        mp::check_upload_id(&self.upload_id)?;
        let mut h = Headers::new();
        let mut query = vec![("uploadId".to_string(), self.upload_id.clone())];
        query.extend(self.request.apply(&mut h)?);
        Ok((h, query))
    }
}

impl crate::presign::sealed::Sealed for AbortMultipartUploadRequest {
    fn presign_parts(self) -> Result<crate::presign::sealed::RequestParts, OperationError> {
        let wire = self.option_wire();
        mp::request_parts(OPERATION, "DELETE", &self.bucket, Some(&self.key), wire)
    }
}

impl crate::presign::Presignable for AbortMultipartUploadRequest {}

/// What OSS answered to a successful AbortMultipartUpload.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct AbortMultipartUploadResult {
    /// HTTP status (204).
    pub status_code: u16,
    /// `x-oss-request-id`.
    pub request_id: String,
    /// All response headers.
    pub headers: Headers,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::multipart::vectors;

    #[test]
    fn abort_matches_the_python_sdk_byte_for_byte() {
        let case = vectors::case("multipart_requests_v4", "abort");
        let out = &case["outputs"];
        let req = AbortMultipartUploadRequest::new(
            "examplebucket",
            "multipart.data",
            "0004B9894A22E5B1888A1E29F823****",
        );
        let wire = req.wire().unwrap();
        vectors::assert_wire(&case["inputs"], out, "DELETE", "multipart.data", wire);
    }
}

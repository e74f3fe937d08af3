//! GetObjectRequest: a download, for presigned URLs ([`crate::Client::presign`]). This SDK
//! uploads; downloading is left to the holder of the URL (a browser, curl, any HTTP client).

use std::fmt;

use crate::error::OperationError;
use crate::headers::Headers;
use crate::ops::head_object::object_read_parts;
use crate::ops::shared::{self, RequestOptions};
use crate::presign::sealed::{RequestParts, Sealed};

const OPERATION: &str = "GetObject";

/// A GetObject request, to presign a download URL.
///
/// ```
/// use oss_blocking as oss;
/// use std::time::Duration;
/// # let emu = oss::emulator::Emulator::start().unwrap();
/// # let client = oss::Client::new(emu.config());
/// let p = client.presign(
///     oss::GetObjectRequest::new(emu.bucket(), "report.pdf")
///         .response_content_disposition("attachment; filename=\"report.pdf\""),
///     Duration::from_secs(3600),
/// )?;
/// assert_eq!(p.method, "GET");
/// assert!(p.url.contains("response-content-disposition="));
/// # Ok::<(), oss::OperationError>(())
/// ```
#[derive(Clone)]
pub struct GetObjectRequest {
    bucket: String,
    key: String,
    version_id: Option<String>,
    response_content_type: Option<String>,
    response_content_disposition: Option<String>,
    request: RequestOptions,
}

impl GetObjectRequest {
    /// A request for `key` in `bucket`.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        GetObjectRequest {
            bucket: bucket.into(),
            key: key.into(),
            version_id: None,
            response_content_type: None,
            response_content_disposition: None,
            request: RequestOptions::default(),
        }
    }

    /// A given version of the object (versioned buckets), sent as `?versionId=`.
    pub fn version_id(mut self, version_id: impl Into<String>) -> Self {
        self.version_id = Some(version_id.into());
        self
    }

    /// The `Content-Type` OSS answers with (`?response-content-type=`, signed).
    pub fn response_content_type(mut self, value: impl Into<String>) -> Self {
        self.response_content_type = Some(value.into());
        self
    }

    /// The `Content-Disposition` OSS answers with (`?response-content-disposition=`, signed),
    /// e.g. `attachment; filename="a.pdf"` to make a browser save the file.
    pub fn response_content_disposition(mut self, value: impl Into<String>) -> Self {
        self.response_content_disposition = Some(value.into());
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

impl fmt::Debug for GetObjectRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetObjectRequest")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("version_id", &self.version_id)
            .field("response_content_type", &self.response_content_type)
            .field(
                "response_content_disposition",
                &self.response_content_disposition,
            )
            .field("request", &self.request)
            .finish()
    }
}

impl Sealed for GetObjectRequest {
    fn presign_parts(self) -> Result<RequestParts, OperationError> {
        let invalid = |m: String| OperationError::invalid_argument(OPERATION, m);
        let mut headers = Headers::new();
        let mut query = self.request.apply(&mut headers).map_err(invalid)?;
        for (option, name, value) in [
            (
                "response_content_type",
                "response-content-type",
                self.response_content_type,
            ),
            (
                "response_content_disposition",
                "response-content-disposition",
                self.response_content_disposition,
            ),
        ] {
            match value {
                Some(v) if v.is_empty() => {
                    return Err(invalid(format!(
                        "invalid {option} \"\": it must not be empty (leave it unset instead)"
                    )))
                }
                Some(v) => query.push((name.to_string(), v)),
                None => {}
            }
        }
        object_read_parts(
            OPERATION,
            "GET",
            self.bucket,
            self.key,
            self.version_id,
            query,
            headers,
        )
    }
}

impl crate::presign::Presignable for GetObjectRequest {}

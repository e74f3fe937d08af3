//! ListMultipartUploads: `GET /?uploads&encoding-type=url`, the uploads of a bucket that were
//! started and neither completed nor aborted, one page (up to 1000) at a time.

use crate::body::Body;
use crate::client::Client;
use crate::error::OperationError;
use crate::headers::Headers;
use crate::ops::multipart::{self as mp, EMPTY_BODY_MD5, MAX_LIST_PAGE};
use crate::ops::shared::{self, RequestOptions};
use crate::pipeline::Response;

const OPERATION: &str = "ListMultipartUploads";

impl Client {
    /// Lists one page of the open multipart uploads of a bucket (their parts are billed until
    /// completed or aborted), ordered by key then upload id. While `is_truncated`, ask again
    /// with `key_marker(next_key_marker)` and `upload_id_marker(next_upload_id_marker)`.
    ///
    /// ```
    /// use oss_blocking as oss;
    /// # let emu = oss::emulator::Emulator::start().unwrap();
    /// # let client = oss::Client::new(emu.config());
    /// let init = client.initiate_multipart_upload(
    ///     oss::InitiateMultipartUploadRequest::new(emu.bucket(), "backups/db.dump"),
    /// )?;
    /// let open = client.list_multipart_uploads(
    ///     oss::ListMultipartUploadsRequest::new(emu.bucket()).prefix("backups/"),
    /// )?;
    /// assert_eq!(open.uploads.len(), 1);
    /// assert_eq!(open.uploads[0].key, "backups/db.dump");
    /// assert_eq!(open.uploads[0].upload_id, init.upload_id);
    /// # Ok::<(), oss::OperationError>(())
    /// ```
    pub fn list_multipart_uploads(
        &self,
        request: ListMultipartUploadsRequest,
    ) -> Result<ListMultipartUploadsResult, OperationError> {
        let check = |response: &Response| mp::check_request_id(OPERATION, response);
        let parts = mp::request_parts(OPERATION, "GET", &request.bucket, None, request.wire())?;
        let response = self.execute_parts(parts, Body::empty(), &check)?;
        ListMultipartUploadsResult::from_response(&response)
    }
}

/// A ListMultipartUploads request.
///
/// ```
/// let req = oss_blocking::ListMultipartUploadsRequest::new("examplebucket")
///     .prefix("backups/")
///     .max_uploads(100);
/// assert_eq!(req.bucket(), "examplebucket");
/// ```
#[derive(Clone, Debug)]
pub struct ListMultipartUploadsRequest {
    bucket: String,
    prefix: Option<String>,
    delimiter: Option<String>,
    key_marker: Option<String>,
    upload_id_marker: Option<String>,
    max_uploads: Option<u32>,
    request: RequestOptions,
}

impl ListMultipartUploadsRequest {
    /// A request for the open uploads of `bucket`.
    pub fn new(bucket: impl Into<String>) -> Self {
        ListMultipartUploadsRequest {
            bucket: bucket.into(),
            prefix: None,
            delimiter: None,
            key_marker: None,
            upload_id_marker: None,
            max_uploads: None,
            request: RequestOptions::default(),
        }
    }

    /// Only uploads whose key starts with this.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Group keys that share the text up to this character into `common_prefixes`.
    pub fn delimiter(mut self, delimiter: impl Into<String>) -> Self {
        self.delimiter = Some(delimiter.into());
        self
    }

    /// Start after this key (the previous page's `next_key_marker`).
    pub fn key_marker(mut self, marker: impl Into<String>) -> Self {
        self.key_marker = Some(marker.into());
        self
    }

    /// With `key_marker`: start after this upload id of that key.
    pub fn upload_id_marker(mut self, marker: impl Into<String>) -> Self {
        self.upload_id_marker = Some(marker.into());
        self
    }

    /// Uploads per page, 1..=1000 (OSS's default is 1000).
    pub fn max_uploads(mut self, max: u32) -> Self {
        self.max_uploads = Some(max);
        self
    }

    shared::request_option_setters!(request);

    /// The bucket name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    fn wire(&self) -> Result<(Headers, Vec<(String, String)>), String> {
        let mut query = vec![
            ("uploads".to_string(), String::new()),
            ("encoding-type".to_string(), "url".to_string()),
        ];
        for (name, value) in [
            ("prefix", &self.prefix),
            ("delimiter", &self.delimiter),
            ("key-marker", &self.key_marker),
            ("upload-id-marker", &self.upload_id_marker),
        ] {
            if let Some(v) = value {
                query.push((name.to_string(), v.clone()));
            }
        }
        if let Some(max) = self.max_uploads {
            if !(1..=MAX_LIST_PAGE).contains(&max) {
                return Err(format!(
                    "invalid max_uploads {max}: it is from 1 to {MAX_LIST_PAGE}"
                ));
            }
            query.push(("max-uploads".to_string(), max.to_string()));
        }
        let mut h = Headers::new();
        query.extend(self.request.apply(&mut h)?);
        shared::set_default(&mut h, "Content-MD5", || EMPTY_BODY_MD5.to_string());
        Ok((h, query))
    }
}

/// One open upload.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultipartUpload {
    /// The object key, decoded when URL-encoded.
    pub key: String,
    /// The upload id.
    pub upload_id: String,
    /// When it was initiated, ISO 8601 as OSS sends it.
    pub initiated: Option<String>,
}

/// One page of ListMultipartUploads.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct ListMultipartUploadsResult {
    /// HTTP status (200).
    pub status_code: u16,
    /// `x-oss-request-id`.
    pub request_id: String,
    /// The bucket.
    pub bucket: String,
    /// The uploads of this page.
    pub uploads: Vec<MultipartUpload>,
    /// Key prefixes grouped by the delimiter.
    pub common_prefixes: Vec<String>,
    /// True when more uploads follow.
    pub is_truncated: bool,
    /// The key marker for the next page.
    pub next_key_marker: String,
    /// The upload id marker for the next page.
    pub next_upload_id_marker: String,
    /// All response headers.
    pub headers: Headers,
}

impl ListMultipartUploadsResult {
    fn from_response(response: &Response) -> Result<Self, OperationError> {
        let text = mp::body_text(OPERATION, response)?;
        let doc = mp::parse_result(OPERATION, response, &text, "ListMultipartUploadsResult")?;
        let root = doc.root_element();
        let url = mp::is_url_encoded(root);
        let elements = |name: &'static str| {
            root.children()
                .filter(move |c| c.is_element() && c.tag_name().name() == name)
        };
        Ok(ListMultipartUploadsResult {
            status_code: response.status,
            request_id: mp::request_id(&response.headers).unwrap_or_default(),
            bucket: mp::child(root, "Bucket").unwrap_or("").to_string(),
            uploads: elements("Upload")
                .map(|u| MultipartUpload {
                    key: mp::decode(mp::child(u, "Key").unwrap_or(""), url),
                    upload_id: mp::child(u, "UploadId").unwrap_or("").to_string(),
                    initiated: mp::child(u, "Initiated").map(str::to_string),
                })
                .collect(),
            common_prefixes: elements("CommonPrefixes")
                .filter_map(|p| mp::child(p, "Prefix").map(|t| mp::decode(t, url)))
                .collect(),
            is_truncated: mp::child_bool(root, "IsTruncated"),
            next_key_marker: mp::decode(mp::child(root, "NextKeyMarker").unwrap_or(""), url),
            next_upload_id_marker: mp::child(root, "NextUploadIdMarker")
                .unwrap_or("")
                .to_string(),
            headers: response.headers.clone(),
        })
    }
}

//! InitiateMultipartUpload: `POST /<key>?uploads`, which fixes the object's attributes and
//! returns the upload id the other multipart operations name.

use crate::body::Body;
use crate::client::Client;
use crate::error::OperationError;
use crate::headers::Headers;
use crate::mime;
use crate::ops::multipart::{self as mp, EMPTY_BODY_MD5};
use crate::ops::shared::{self, ObjectAttributes, RequestOptions};
use crate::pipeline::Response;

const OPERATION: &str = "InitiateMultipartUpload";

impl Client {
    /// Starts a multipart upload and returns its upload id. The object's attributes (content
    /// type, storage class, encryption, tags, metadata, content headers) are fixed here;
    /// the ACL and callback go on [`Client::complete_multipart_upload`].
    ///
    /// ```
    /// use oss_blocking as oss;
    /// # let emu = oss::emulator::Emulator::start().unwrap();
    /// # let client = oss::Client::new(emu.config());
    /// let init = client.initiate_multipart_upload(
    ///     oss::InitiateMultipartUploadRequest::new(emu.bucket(), "big.iso")
    ///         .content_type("application/x-iso9660-image")
    ///         .storage_class(oss::StorageClass::Ia)
    ///         .forbid_overwrite(true),
    /// )?;
    /// assert!(!init.upload_id.is_empty());
    /// assert_eq!(init.key, "big.iso");
    /// # Ok::<(), oss::OperationError>(())
    /// ```
    pub fn initiate_multipart_upload(
        &self,
        request: InitiateMultipartUploadRequest,
    ) -> Result<InitiateMultipartUploadResult, OperationError> {
        let check = |response: &Response| mp::check_request_id(OPERATION, response);
        let parts = mp::request_parts(
            OPERATION,
            "POST",
            &request.bucket,
            Some(&request.key),
            request.wire(),
        )?;
        let response = self.execute_parts(parts, Body::empty(), &check)?;
        InitiateMultipartUploadResult::from_response(&response)
    }
}

/// An InitiateMultipartUpload request: the object's attributes, as on
/// [`crate::PutObjectRequest`], checked before anything is sent.
///
/// ```
/// use oss_blocking as oss;
/// let req = oss::InitiateMultipartUploadRequest::new("examplebucket", "big.iso")
///     .metadata("author", "alice")
///     .tagging("env=prod");
/// assert_eq!(req.key(), "big.iso");
/// ```
#[derive(Clone, Debug)]
pub struct InitiateMultipartUploadRequest {
    bucket: String,
    key: String,
    pub(crate) attributes: ObjectAttributes,
    pub(crate) forbid_overwrite: Option<bool>,
    pub(crate) request: RequestOptions,
}

impl InitiateMultipartUploadRequest {
    /// A request to start uploading `key` into `bucket` in parts.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        InitiateMultipartUploadRequest {
            bucket: bucket.into(),
            key: key.into(),
            attributes: ObjectAttributes::default(),
            forbid_overwrite: None,
            request: RequestOptions::default(),
        }
    }

    shared::object_attribute_setters!(attributes);
    shared::request_option_setters!(request);

    /// With `true`, OSS refuses to start (and later to complete) the upload when the key
    /// exists (409 `FileAlreadyExists`).
    pub fn forbid_overwrite(mut self, forbid: bool) -> Self {
        self.forbid_overwrite = Some(forbid);
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

    /// The headers and query: the attributes, `Content-Type` guessed from the key unless set,
    /// the empty body's `Content-MD5`, and `uploads` then `encoding-type=url`.
    fn wire(&self) -> Result<(Headers, Vec<(String, String)>), String> {
        let (mut h, mut query) = self.option_wire()?;
        query.insert(1, ("encoding-type".to_string(), "url".to_string()));
        shared::set_default(&mut h, "Content-MD5", || EMPTY_BODY_MD5.to_string());
        shared::set_default(&mut h, "Content-Type", || {
            mime::content_type_for_key(&self.key).to_string()
        });
        Ok((h, query))
    }
}

impl InitiateMultipartUploadRequest {
    /// What the caller set, as headers, and the query `uploads` with the caller's parameters.
    fn option_wire(&self) -> Result<(Headers, Vec<(String, String)>), String> {
        let mut h = Headers::new();
        self.attributes.apply(&mut h)?;
        if let Some(forbid) = self.forbid_overwrite {
            h.set("x-oss-forbid-overwrite", forbid.to_string());
        }
        let mut query = vec![("uploads".to_string(), String::new())];
        query.extend(self.request.apply(&mut h)?);
        Ok((h, query))
    }
}

impl crate::presign::sealed::Sealed for InitiateMultipartUploadRequest {
    fn presign_parts(self) -> Result<crate::presign::sealed::RequestParts, OperationError> {
        let wire = self.option_wire();
        mp::request_parts(OPERATION, "POST", &self.bucket, Some(&self.key), wire)
    }
}

impl crate::presign::Presignable for InitiateMultipartUploadRequest {}

/// What OSS answered to InitiateMultipartUpload.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct InitiateMultipartUploadResult {
    /// HTTP status (200).
    pub status_code: u16,
    /// `x-oss-request-id`.
    pub request_id: String,
    /// The bucket, as OSS names it.
    pub bucket: String,
    /// The key, decoded when OSS sent it URL-encoded (informative: later requests use yours).
    pub key: String,
    /// The id every later part, Complete, Abort and ListParts request names.
    pub upload_id: String,
    /// All response headers.
    pub headers: Headers,
}

impl InitiateMultipartUploadResult {
    fn from_response(response: &Response) -> Result<Self, OperationError> {
        let text = mp::body_text(OPERATION, response)?;
        let doc = mp::parse_result(OPERATION, response, &text, "InitiateMultipartUploadResult")?;
        let root = doc.root_element();
        let url = mp::is_url_encoded(root);
        let upload_id = mp::child(root, "UploadId").unwrap_or("").to_string();
        if upload_id.is_empty() {
            return Err(OperationError::new(
                OPERATION,
                crate::ErrorKind::Transport,
                format!(
                    "{}: the answer has no UploadId, so the upload cannot go on",
                    response.request_target
                ),
            )
            .with_request_id(mp::request_id(&response.headers)));
        }
        Ok(InitiateMultipartUploadResult {
            status_code: response.status,
            request_id: mp::request_id(&response.headers).unwrap_or_default(),
            bucket: mp::child(root, "Bucket").unwrap_or("").to_string(),
            key: mp::decode(mp::child(root, "Key").unwrap_or(""), url),
            upload_id,
            headers: response.headers.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::multipart::vectors;
    use crate::pipeline::BodyStats;

    #[test]
    fn init_full_matches_the_python_sdk_byte_for_byte() {
        let case = vectors::case("multipart_requests_v4", "init-full");
        let out = &case["outputs"];
        let req = InitiateMultipartUploadRequest::new("examplebucket", "dir/video file+1.mp4")
            .storage_class(crate::StorageClass::Ia)
            .metadata("Author", "alice")
            .cache_control("no-cache")
            .server_side_encryption(crate::ServerSideEncryption::Aes256)
            .tagging("TagA=A&TagB=B")
            .forbid_overwrite(true);
        let wire = req.wire().unwrap();
        vectors::assert_wire(&case["inputs"], out, "POST", req.key(), wire);
    }

    #[test]
    fn the_result_key_is_decoded_only_when_the_answer_says_url() {
        let case = vectors::case("multipart_requests_v4", "init-full");
        let parsed = &case["outputs"]["parsed_result"];
        let xml = "<InitiateMultipartUploadResult><Bucket>examplebucket</Bucket>\
                   <Key>dir/video%20file%2B1.mp4</Key>\
                   <UploadId>0004B9894A22E5B1888A1E29F823****</UploadId>\
                   <EncodingType>url</EncodingType></InitiateMultipartUploadResult>";
        let response = |body: &str| Response {
            status: 200,
            headers: [("x-oss-request-id".to_string(), "R".to_string())]
                .into_iter()
                .collect(),
            body: body.as_bytes().to_vec(),
            request_target: "POST u".to_string(),
            stats: BodyStats::default(),
        };
        let result = InitiateMultipartUploadResult::from_response(&response(xml)).unwrap();
        assert_eq!(result.key, parsed["key"].as_str().unwrap());
        assert_eq!(result.upload_id, parsed["upload_id"].as_str().unwrap());
        let raw = xml.replace("<EncodingType>url</EncodingType>", "");
        let result = InitiateMultipartUploadResult::from_response(&response(&raw)).unwrap();
        assert_eq!(result.key, "dir/video%20file%2B1.mp4");
        let none = xml.replace("0004B9894A22E5B1888A1E29F823****", "");
        let err = InitiateMultipartUploadResult::from_response(&response(&none)).unwrap_err();
        assert!(err.to_string().contains("no UploadId"), "{err}");
    }
}

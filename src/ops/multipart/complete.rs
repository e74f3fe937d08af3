//! CompleteMultipartUpload: `POST /<key>?encoding-type=url&uploadId=<id>` with the list of
//! parts as XML, sorted by part number; it makes the object. The ACL, the callback and
//! forbid-overwrite go here.

use crate::body::Body;
use crate::client::Client;
use crate::error::{OperationError, ServiceError};
use crate::headers::Headers;
use crate::ops::multipart::{self as mp, EMPTY_BODY_MD5};
use crate::ops::shared::{self, CallbackOptions, RequestOptions, WriteOptions};
use crate::pipeline::{Rejection, Response};
use crate::retry::Refusal;

const OPERATION: &str = "CompleteMultipartUpload";

impl Client {
    /// Completes a multipart upload from its parts (sent sorted by part number; a part number
    /// given twice is refused before sending), or with [`CompleteMultipartUploadRequest::complete_all`]
    /// from every part OSS holds. The result's `hash_crc64` is the whole object's CRC-64.
    ///
    /// ```
    /// use oss_blocking as oss;
    /// # let emu = oss::emulator::Emulator::start().unwrap();
    /// # let client = oss::Client::new(emu.config());
    /// let (bucket, key) = (emu.bucket(), "big.bin");
    /// let init = client
    ///     .initiate_multipart_upload(oss::InitiateMultipartUploadRequest::new(bucket, key))?;
    /// let part = client.upload_part(
    ///     oss::UploadPartRequest::new(bucket, key, &init.upload_id, 1).body("only part"),
    /// )?;
    /// let done = client.complete_multipart_upload(
    ///     oss::CompleteMultipartUploadRequest::new(bucket, key, &init.upload_id)
    ///         .part(1, &part.etag)
    ///         .acl(oss::ObjectAcl::Private),
    /// )?;
    /// assert_eq!(done.hash_crc64, part.hash_crc64); // one part: the same CRC-64
    /// assert_eq!(emu.object(bucket, key).unwrap().data, b"only part");
    /// # Ok::<(), oss::OperationError>(())
    /// ```
    pub fn complete_multipart_upload(
        &self,
        request: CompleteMultipartUploadRequest,
    ) -> Result<CompleteMultipartUploadResult, OperationError> {
        let (wire, xml) = match request.wire() {
            Ok((headers, query, xml)) => (Ok((headers, query)), xml),
            Err(e) => (Err(e), String::new()),
        };
        let parts =
            mp::request_parts(OPERATION, "POST", &request.bucket, Some(&request.key), wire)?;
        let with_callback = request.callback.is_set();
        let check = |response: &Response| check(response, with_callback);
        let response = self.execute_parts(parts, Body::from(xml), &check)?;
        CompleteMultipartUploadResult::from_response(response, with_callback)
    }
}

/// A 203 with a callback is final and says the object exists, as for PutObject.
fn check(response: &Response, with_callback: bool) -> Result<(), Rejection> {
    mp::check_request_id(OPERATION, response)?;
    if response.status == 203 && with_callback {
        let service = ServiceError::from_response(
            response.status,
            &response.headers,
            &response.body,
            &response.request_target,
        );
        let error = OperationError::service(OPERATION, service).with_stored_object(
            response.headers.get("ETag").map(str::to_string),
            mp::hash_crc64(&response.headers),
        );
        return Err(Rejection {
            refusal: Refusal::Final,
            error,
        });
    }
    Ok(())
}

/// One part of the list Complete sends: its number and the ETag UploadPart returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletedPart {
    /// 1..=10000.
    pub part_number: u32,
    /// The ETag as UploadPart (or ListParts) returned it, quotes included.
    pub etag: String,
}

impl CompletedPart {
    /// A part of the list.
    ///
    /// ```
    /// let part = oss_blocking::CompletedPart::new(1, "\"3349DC70\"");
    /// assert_eq!(part.part_number, 1);
    /// ```
    pub fn new(part_number: u32, etag: impl Into<String>) -> Self {
        CompletedPart {
            part_number,
            etag: etag.into(),
        }
    }
}

/// A CompleteMultipartUpload request.
///
/// ```
/// use oss_blocking as oss;
/// let req = oss::CompleteMultipartUploadRequest::new("examplebucket", "big.iso", "0004B98")
///     .part(2, "\"B\"")
///     .part(1, "\"A\"")
///     .forbid_overwrite(true);
/// assert_eq!(req.parts_list()[0].part_number, 2); // sorted when sent
/// ```
#[derive(Clone, Debug)]
pub struct CompleteMultipartUploadRequest {
    bucket: String,
    key: String,
    upload_id: String,
    parts: Vec<CompletedPart>,
    complete_all: bool,
    pub(crate) write: WriteOptions,
    pub(crate) callback: CallbackOptions,
    pub(crate) request: RequestOptions,
}

impl CompleteMultipartUploadRequest {
    /// A request to complete upload `upload_id` of `key`; add the parts.
    pub fn new(
        bucket: impl Into<String>,
        key: impl Into<String>,
        upload_id: impl Into<String>,
    ) -> Self {
        CompleteMultipartUploadRequest {
            bucket: bucket.into(),
            key: key.into(),
            upload_id: upload_id.into(),
            parts: Vec::new(),
            complete_all: false,
            write: WriteOptions::default(),
            callback: CallbackOptions::default(),
            request: RequestOptions::default(),
        }
    }

    /// Adds a part (number and ETag, quotes included).
    pub fn part(mut self, part_number: u32, etag: impl Into<String>) -> Self {
        self.parts.push(CompletedPart::new(part_number, etag));
        self
    }

    /// Adds parts.
    pub fn parts(mut self, parts: Vec<CompletedPart>) -> Self {
        self.parts.extend(parts);
        self
    }

    /// `x-oss-complete-all: yes`: OSS completes the upload from every part it holds, in part
    /// order; the request then has no part list (giving parts too is refused).
    pub fn complete_all(mut self, yes: bool) -> Self {
        self.complete_all = yes;
        self
    }

    shared::write_option_setters!(write);
    shared::callback_setters!(callback);
    shared::request_option_setters!(request);

    /// The parts as given (they are sorted when sent).
    pub fn parts_list(&self) -> &[CompletedPart] {
        &self.parts
    }

    /// Headers, query and the XML body.
    fn wire(&self) -> Result<Wire, String> {
        let xml = self.xml()?;
        let (mut h, mut query) = self.option_wire()?;
        query.insert(0, ("encoding-type".to_string(), "url".to_string()));
        if xml.is_empty() {
            shared::set_default(&mut h, "Content-MD5", || EMPTY_BODY_MD5.to_string());
        } else {
            shared::set_default(&mut h, "Content-MD5", || mp::md5_base64(xml.as_bytes()));
        }
        Ok((h, query, xml))
    }

    /// What the caller set, and the query `uploadId` with the caller's parameters (the part
    /// list is the body, which a presigned URL does not cover).
    fn option_wire(&self) -> Result<(Headers, Vec<(String, String)>), String> {
        mp::check_upload_id(&self.upload_id)?;
        let mut h = Headers::new();
        self.write.apply(&mut h);
        self.callback.apply(&mut h)?;
        if self.complete_all {
            h.set("x-oss-complete-all", "yes");
        }
        let mut query = vec![("uploadId".to_string(), self.upload_id.clone())];
        query.extend(self.request.apply(&mut h)?);
        Ok((h, query))
    }

    /// The part list sorted by number, no declaration, no whitespace, `& < >` escaped.
    fn xml(&self) -> Result<String, String> {
        if self.complete_all {
            if !self.parts.is_empty() {
                return Err(
                    "invalid parts: complete_all(true) sends no part list; give parts \
                            or complete_all, not both"
                        .to_string(),
                );
            }
            return Ok(String::new());
        }
        if self.parts.is_empty() {
            return Err(
                "invalid parts: none given; add each uploaded part (number and ETag), or use \
                 complete_all(true)"
                    .to_string(),
            );
        }
        let mut parts: Vec<&CompletedPart> = self.parts.iter().collect();
        parts.sort_by_key(|p| p.part_number);
        let mut xml = String::from("<CompleteMultipartUpload>");
        let mut previous = None;
        for part in parts {
            mp::check_part_number(part.part_number)?;
            if previous == Some(part.part_number) {
                return Err(format!(
                    "invalid parts: part number {} is given twice",
                    part.part_number
                ));
            }
            if part.etag.is_empty() {
                return Err(format!(
                    "invalid parts: part {} has an empty ETag",
                    part.part_number
                ));
            }
            previous = Some(part.part_number);
            xml.push_str(&format!(
                "<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>",
                part.part_number,
                mp::escape_xml_text(&part.etag)
            ));
        }
        xml.push_str("</CompleteMultipartUpload>");
        Ok(xml)
    }
}

/// Headers, query parameters and the XML body of a Complete request.
type Wire = (Headers, Vec<(String, String)>, String);

impl crate::presign::sealed::Sealed for CompleteMultipartUploadRequest {
    fn presign_parts(self) -> Result<crate::presign::sealed::RequestParts, OperationError> {
        let wire = self.option_wire();
        mp::request_parts(OPERATION, "POST", &self.bucket, Some(&self.key), wire)
    }
}

impl crate::presign::Presignable for CompleteMultipartUploadRequest {}

/// What OSS answered to a successful CompleteMultipartUpload.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct CompleteMultipartUploadResult {
    /// HTTP status (200; 203 only when the request had no callback).
    pub status_code: u16,
    /// `x-oss-request-id`.
    pub request_id: String,
    /// The object's ETag (not the MD5 of its content), quotes included.
    pub etag: Option<String>,
    /// `x-oss-hash-crc64ecma`: the CRC-64 of the whole object.
    pub hash_crc64: Option<u64>,
    /// `x-oss-version-id`, on versioned buckets.
    pub version_id: Option<String>,
    /// The object's URL as OSS reports it (empty with a callback).
    pub location: String,
    /// The bucket, as OSS names it (empty with a callback).
    pub bucket: String,
    /// The key, decoded when URL-encoded (empty with a callback).
    pub key: String,
    /// With a callback: the callback server's answer, as text.
    pub callback_result: Option<String>,
    /// All response headers.
    pub headers: Headers,
}

impl CompleteMultipartUploadResult {
    fn from_response(response: Response, with_callback: bool) -> Result<Self, OperationError> {
        let mut result = CompleteMultipartUploadResult {
            status_code: response.status,
            request_id: mp::request_id(&response.headers).unwrap_or_default(),
            etag: response.headers.get("ETag").map(str::to_string),
            hash_crc64: mp::hash_crc64(&response.headers),
            version_id: response.headers.get("x-oss-version-id").map(str::to_string),
            location: String::new(),
            bucket: String::new(),
            key: String::new(),
            callback_result: None,
            headers: response.headers.clone(),
        };
        if with_callback {
            result.callback_result = Some(String::from_utf8_lossy(&response.body).into_owned());
            return Ok(result);
        }
        if response.status == 203 || response.body.is_empty() {
            return Ok(result);
        }
        let text = mp::body_text(OPERATION, &response)?;
        let doc = mp::parse_result(OPERATION, &response, &text, "CompleteMultipartUploadResult")?;
        let root = doc.root_element();
        let url = mp::is_url_encoded(root);
        result.location = mp::child(root, "Location").unwrap_or("").to_string();
        result.bucket = mp::child(root, "Bucket").unwrap_or("").to_string();
        result.key = mp::decode(mp::child(root, "Key").unwrap_or(""), url);
        if let Some(etag) = mp::child(root, "ETag").filter(|e| !e.is_empty()) {
            result.etag = Some(etag.to_string());
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::multipart::vectors;

    fn request_for(id: &str) -> CompleteMultipartUploadRequest {
        let req = CompleteMultipartUploadRequest::new(
            "examplebucket",
            "multipart.data",
            "0004B9894A22E5B1888A1E29F823****",
        );
        match id {
            "cmu-3-parts" => req
                .part(1, "\"3349DC700140D7F86A0784842780****\"")
                .part(2, "\"8EFDA8BE206636A695359836FE0A****\"")
                .part(3, "\"8C315065167132444177411FDA14****\""),
            "cmu-escape" => req.part(1, "\"a&b<c>d'e\"").part(10000, "\"LAST\""),
            "cmu-complete-all" => req.complete_all(true),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn complete_requests_match_the_python_sdk_byte_for_byte() {
        for id in ["cmu-3-parts", "cmu-escape", "cmu-complete-all"] {
            let case = vectors::case("complete_multipart_upload", id);
            let out = &case["outputs"];
            let mut inputs = case["inputs"].clone();
            inputs["token"] = serde_json::Value::Null;
            let (headers, query, xml) = request_for(id).wire().unwrap();
            assert_eq!(xml, out["body"].as_str().unwrap(), "{id}");
            vectors::assert_wire(&inputs, out, "POST", "multipart.data", (headers, query));
        }
    }

    #[test]
    fn unsorted_parts_are_sent_sorted_unlike_python() {
        let case = vectors::case("complete_multipart_upload", "cmu-unsorted");
        let python = case["outputs"]["body"].as_str().unwrap();
        let req = CompleteMultipartUploadRequest::new("b", "k", "id")
            .part(3, "\"C\"")
            .part(1, "\"A\"")
            .part(2, "\"B\"");
        let xml = req.xml().unwrap();
        assert_ne!(xml, python, "Python keeps the caller's order");
        assert_eq!(
            xml,
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"A\"</ETag></Part>\
             <Part><PartNumber>2</PartNumber><ETag>\"B\"</ETag></Part><Part><PartNumber>3\
             </PartNumber><ETag>\"C\"</ETag></Part></CompleteMultipartUpload>"
        );
    }

    #[test]
    fn bad_part_lists_are_refused_naming_the_rule() {
        let base = || CompleteMultipartUploadRequest::new("b", "k", "id");
        for (req, needle) in [
            (base(), "none given"),
            (base().part(1, "\"A\"").part(1, "\"B\""), "given twice"),
            (base().part(0, "\"A\""), "part_number 0"),
            (base().part(1, ""), "empty ETag"),
            (base().part(1, "\"A\"").complete_all(true), "not both"),
        ] {
            let err = req.wire().unwrap_err();
            assert!(err.contains(needle), "{err}");
        }
    }
}

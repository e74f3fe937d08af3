//! ListParts: `GET /<key>?encoding-type=url&uploadId=<id>`, the parts OSS holds for an upload,
//! one page (up to 1000) at a time.

use crate::body::Body;
use crate::client::Client;
use crate::error::OperationError;
use crate::headers::Headers;
use crate::ops::multipart::{self as mp, EMPTY_BODY_MD5, MAX_LIST_PAGE};
use crate::ops::shared::{self, RequestOptions};
use crate::pipeline::Response;

const OPERATION: &str = "ListParts";

impl Client {
    /// Lists one page of the parts OSS holds for an upload, in part order. While
    /// `is_truncated`, ask again with `part_number_marker(next_part_number_marker)`.
    ///
    /// ```
    /// use oss_blocking as oss;
    /// # let emu = oss::emulator::Emulator::start().unwrap();
    /// # let client = oss::Client::new(emu.config());
    /// # let (bucket, key) = (emu.bucket(), "k");
    /// let init = client.initiate_multipart_upload(oss::InitiateMultipartUploadRequest::new(bucket, key))?;
    /// for n in 1..=3 {
    ///     client.upload_part(oss::UploadPartRequest::new(bucket, key, &init.upload_id, n).body("x"))?;
    /// }
    /// let page = client.list_parts(
    ///     oss::ListPartsRequest::new(bucket, key, &init.upload_id).max_parts(2).part_number_marker(0),
    /// )?;
    /// assert_eq!(page.parts.len(), 2);
    /// assert!(page.is_truncated);
    /// let rest = client.list_parts(
    ///     oss::ListPartsRequest::new(bucket, key, &init.upload_id)
    ///         .part_number_marker(page.next_part_number_marker),
    /// )?;
    /// assert_eq!(rest.parts[0].part_number, 3);
    /// assert!(!rest.is_truncated);
    /// # Ok::<(), oss::OperationError>(())
    /// ```
    pub fn list_parts(&self, request: ListPartsRequest) -> Result<ListPartsResult, OperationError> {
        let check = |response: &Response| mp::check_request_id(OPERATION, response);
        let parts = mp::request_parts(
            OPERATION,
            "GET",
            &request.bucket,
            Some(&request.key),
            request.wire(),
        )?;
        let response = self.execute_parts(parts, Body::empty(), &check)?;
        ListPartsResult::from_response(&response)
    }
}

/// A ListParts request.
///
/// ```
/// let req = oss_blocking::ListPartsRequest::new("examplebucket", "big.iso", "0004B98")
///     .max_parts(100)
///     .part_number_marker(0);
/// assert_eq!(req.upload_id(), "0004B98");
/// ```
#[derive(Clone, Debug)]
pub struct ListPartsRequest {
    bucket: String,
    key: String,
    upload_id: String,
    max_parts: Option<u32>,
    part_number_marker: Option<u32>,
    request: RequestOptions,
}

impl ListPartsRequest {
    /// A request for the parts of upload `upload_id` of `key`.
    pub fn new(
        bucket: impl Into<String>,
        key: impl Into<String>,
        upload_id: impl Into<String>,
    ) -> Self {
        ListPartsRequest {
            bucket: bucket.into(),
            key: key.into(),
            upload_id: upload_id.into(),
            max_parts: None,
            part_number_marker: None,
            request: RequestOptions::default(),
        }
    }

    /// Parts per page, 1..=1000 (OSS's default is 1000).
    pub fn max_parts(mut self, max_parts: u32) -> Self {
        self.max_parts = Some(max_parts);
        self
    }

    /// List only parts numbered above this (the previous page's `next_part_number_marker`).
    pub fn part_number_marker(mut self, marker: u32) -> Self {
        self.part_number_marker = Some(marker);
        self
    }

    shared::request_option_setters!(request);

    /// The upload id.
    pub fn upload_id(&self) -> &str {
        &self.upload_id
    }

    fn wire(&self) -> Result<(Headers, Vec<(String, String)>), String> {
        mp::check_upload_id(&self.upload_id)?;
        let mut query = vec![
            ("encoding-type".to_string(), "url".to_string()),
            ("uploadId".to_string(), self.upload_id.clone()),
        ];
        if let Some(max) = self.max_parts {
            if !(1..=MAX_LIST_PAGE).contains(&max) {
                return Err(format!(
                    "invalid max_parts {max}: it is from 1 to {MAX_LIST_PAGE}"
                ));
            }
            query.push(("max-parts".to_string(), max.to_string()));
        }
        if let Some(marker) = self.part_number_marker {
            query.push(("part-number-marker".to_string(), marker.to_string()));
        }
        let mut h = Headers::new();
        query.extend(self.request.apply(&mut h)?);
        shared::set_default(&mut h, "Content-MD5", || EMPTY_BODY_MD5.to_string());
        Ok((h, query))
    }
}

/// One part as ListParts reports it.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedPart {
    /// The part number.
    pub part_number: u32,
    /// Its ETag, quotes included.
    pub etag: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its CRC-64 (`HashCrc64ecma`), when OSS gives it.
    pub hash_crc64: Option<u64>,
    /// When it was uploaded, ISO 8601 as OSS sends it.
    pub last_modified: Option<String>,
}

/// One page of ListParts.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct ListPartsResult {
    /// HTTP status (200).
    pub status_code: u16,
    /// `x-oss-request-id`.
    pub request_id: String,
    /// The bucket.
    pub bucket: String,
    /// The key, decoded when URL-encoded.
    pub key: String,
    /// The upload id.
    pub upload_id: String,
    /// The marker this page started after.
    pub part_number_marker: u32,
    /// The marker for the next page, when `is_truncated`.
    pub next_part_number_marker: u32,
    /// The page size OSS used.
    pub max_parts: u32,
    /// True when more parts follow.
    pub is_truncated: bool,
    /// The upload's storage class.
    pub storage_class: Option<String>,
    /// The parts, ascending.
    pub parts: Vec<ListedPart>,
    /// All response headers.
    pub headers: Headers,
}

impl ListPartsResult {
    fn from_response(response: &Response) -> Result<Self, OperationError> {
        let text = mp::body_text(OPERATION, response)?;
        let doc = mp::parse_result(OPERATION, response, &text, "ListPartsResult")?;
        let root = doc.root_element();
        let url = mp::is_url_encoded(root);
        let parts = root
            .children()
            .filter(|c| c.is_element() && c.tag_name().name() == "Part")
            .map(|p| ListedPart {
                part_number: mp::child_number(p, "PartNumber").unwrap_or(0),
                etag: mp::child(p, "ETag").unwrap_or("").to_string(),
                size: mp::child_number(p, "Size").unwrap_or(0),
                hash_crc64: mp::child_number(p, "HashCrc64ecma"),
                last_modified: mp::child(p, "LastModified").map(str::to_string),
            })
            .collect();
        Ok(ListPartsResult {
            status_code: response.status,
            request_id: mp::request_id(&response.headers).unwrap_or_default(),
            bucket: mp::child(root, "Bucket").unwrap_or("").to_string(),
            key: mp::decode(mp::child(root, "Key").unwrap_or(""), url),
            upload_id: mp::child(root, "UploadId").unwrap_or("").to_string(),
            part_number_marker: mp::child_number(root, "PartNumberMarker").unwrap_or(0),
            next_part_number_marker: mp::child_number(root, "NextPartNumberMarker").unwrap_or(0),
            max_parts: mp::child_number(root, "MaxParts").unwrap_or(0),
            is_truncated: mp::child_bool(root, "IsTruncated"),
            storage_class: mp::child(root, "StorageClass").map(str::to_string),
            parts,
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
    fn list_parts_matches_the_python_sdk_byte_for_byte() {
        let case = vectors::case("multipart_requests_v4", "list-parts");
        let out = &case["outputs"];
        let req = ListPartsRequest::new(
            "examplebucket",
            "multipart.data",
            "0004B9894A22E5B1888A1E29F823****",
        )
        .max_parts(2)
        .part_number_marker(0);
        let wire = req.wire().unwrap();
        vectors::assert_wire(&case["inputs"], out, "GET", "multipart.data", wire);
    }

    #[test]
    fn a_page_parses_with_or_without_a_namespace() {
        let case = vectors::case("multipart_requests_v4", "list-parts");
        let parsed = &case["outputs"]["parsed_result"];
        for ns in ["", " xmlns=\"http://doc.oss-cn-hangzhou.aliyuncs.com\""] {
            let xml = format!(
                "<ListPartsResult{ns}><EncodingType>url</EncodingType><Bucket>examplebucket</Bucket>\
                 <Key>multipart.data</Key><UploadId>U</UploadId><PartNumberMarker>0</PartNumberMarker>\
                 <NextPartNumberMarker>2</NextPartNumberMarker><MaxParts>2</MaxParts>\
                 <IsTruncated>false</IsTruncated>\
                 <Part><PartNumber>1</PartNumber><LastModified>2024-03-15T08:29:00.000Z</LastModified>\
                 <ETag>\"A\"</ETag><HashCrc64ecma>123</HashCrc64ecma><Size>102400</Size></Part>\
                 <Part><PartNumber>2</PartNumber><LastModified>2024-03-15T08:29:00.000Z</LastModified>\
                 <ETag>\"B\"</ETag><HashCrc64ecma>456</HashCrc64ecma><Size>51200</Size></Part>\
                 </ListPartsResult>"
            );
            let response = Response {
                status: 200,
                headers: [("x-oss-request-id".to_string(), "R".to_string())]
                    .into_iter()
                    .collect(),
                body: xml.into_bytes(),
                request_target: "GET u".into(),
                stats: BodyStats::default(),
            };
            let r = ListPartsResult::from_response(&response).unwrap();
            assert_eq!(
                u64::from(r.next_part_number_marker),
                parsed["next_part_number_marker"]
            );
            assert_eq!(r.is_truncated, parsed["is_truncated"]);
            for (got, want) in r.parts.iter().zip(parsed["parts"].as_array().unwrap()) {
                assert_eq!(u64::from(got.part_number), want["part_number"]);
                assert_eq!(got.etag, want["etag"].as_str().unwrap());
                assert_eq!(got.size, want["size"]);
                assert_eq!(got.hash_crc64.unwrap().to_string(), want["hash_crc64"]);
            }
            assert_eq!(r.parts.len(), 2);
        }
    }

    #[test]
    fn max_parts_is_checked() {
        for bad in [0, 1001] {
            let err = ListPartsRequest::new("b", "k", "id")
                .max_parts(bad)
                .wire()
                .unwrap_err();
            assert!(err.contains("max_parts"), "{err}");
        }
    }
}

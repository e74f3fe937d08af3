//! Multipart upload: the six operations, one file each, all through the one pipeline.
//!
//! The wire format follows the official SDK v2 (fact sheet section 1): `encoding-type=url` is
//! always asked for (and keys in answers decoded when the answer says `url`), every request
//! without a payload carries the `Content-MD5` of the empty body, and the result documents are
//! read by element name, namespaces ignored.

pub(crate) mod abort;
pub(crate) mod complete;
pub(crate) mod initiate;
pub(crate) mod list_parts;
pub(crate) mod list_uploads;
pub(crate) mod upload_part;

use percent_encoding::percent_decode_str;

use crate::error::{ErrorKind, OperationError};
use crate::headers::Headers;
use crate::pipeline::{Rejection, Response};
use crate::retry::Refusal;

/// Base64 of the MD5 of zero bytes: the `Content-MD5` of requests without a payload.
pub(crate) const EMPTY_BODY_MD5: &str = "1B2M2Y8AsgTpgAmY7PhCfg==";

/// Lowest part number OSS accepts.
pub const MIN_PART_NUMBER: u32 = 1;
/// Highest part number OSS accepts, and so the most parts one upload can have.
pub const MAX_PART_NUMBER: u32 = 10_000;
/// Most parts (and uploads) one ListParts (ListMultipartUploads) page returns.
pub const MAX_LIST_PAGE: u32 = 1000;
/// Smallest part OSS accepts for any part but the last (100 KiB).
pub const MIN_PART_SIZE: u64 = 100 * 1024;
/// Largest part OSS accepts (5 GiB).
pub const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;

/// Refuses an empty upload id: OSS would read the request as another operation.
pub(crate) fn check_upload_id(upload_id: &str) -> Result<(), String> {
    if upload_id.is_empty() {
        return Err(
            "invalid upload_id \"\": it must be the UploadId InitiateMultipartUpload returned"
                .to_string(),
        );
    }
    Ok(())
}

/// Refuses a part number outside 1..=10000.
pub(crate) fn check_part_number(part_number: u32) -> Result<(), String> {
    if !(MIN_PART_NUMBER..=MAX_PART_NUMBER).contains(&part_number) {
        return Err(format!(
            "invalid part_number {part_number}: it is from {MIN_PART_NUMBER} to \
             {MAX_PART_NUMBER}"
        ));
    }
    Ok(())
}

/// The `x-oss-request-id` OSS always sends; an answer without one did not come from OSS.
pub(crate) fn check_request_id(op: &'static str, response: &Response) -> Result<(), Rejection> {
    if response.headers.contains("x-oss-request-id") {
        return Ok(());
    }
    Err(Rejection {
        refusal: Refusal::NotAnOssAnswer,
        error: OperationError::new(
            op,
            ErrorKind::Transport,
            format!(
                "{}: HTTP {} without x-oss-request-id is not an OSS answer",
                response.request_target, response.status
            ),
        ),
    })
}

/// A result document, parsed; an answer that is not XML with the expected root is an error
/// that names the operation and quotes the start of the body.
pub(crate) fn parse_result<'a>(
    op: &'static str,
    response: &'a Response,
    text: &'a str,
    root: &str,
) -> Result<roxmltree::Document<'a>, OperationError> {
    let failure = |why: String| {
        let excerpt: String = text.chars().take(64).collect();
        OperationError::new(
            op,
            ErrorKind::Transport,
            format!(
                "{}: HTTP {} with a result document that cannot be read ({why}; body starts \
                 {excerpt:?})",
                response.request_target, response.status
            ),
        )
        .with_request_id(request_id(&response.headers))
    };
    let doc = roxmltree::Document::parse(text).map_err(|e| failure(e.to_string()))?;
    let found = doc.root_element().tag_name().name();
    if found != root {
        return Err(failure(format!(
            "root element {found:?}, expected {root:?}"
        )));
    }
    Ok(doc)
}

/// The text of the first child element named `name` (namespaces ignored).
pub(crate) fn child<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> Option<&'a str> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
        .map(|c| c.text().unwrap_or(""))
}

/// A child's text as a number, when present and decimal.
pub(crate) fn child_number<T: std::str::FromStr>(
    node: roxmltree::Node<'_, '_>,
    name: &str,
) -> Option<T> {
    child(node, name).and_then(|t| t.trim().parse().ok())
}

/// A child's text as a boolean (`true`, any case).
pub(crate) fn child_bool(node: roxmltree::Node<'_, '_>, name: &str) -> bool {
    child(node, name).is_some_and(|t| t.trim().eq_ignore_ascii_case("true"))
}

/// A key, prefix or marker from a result: percent-decoded when the answer's `EncodingType` is
/// `url`, as is otherwise.
pub(crate) fn decode(value: &str, url_encoded: bool) -> String {
    if url_encoded {
        percent_decode_str(value).decode_utf8_lossy().into_owned()
    } else {
        value.to_string()
    }
}

/// True when the document says its keys are URL-encoded.
pub(crate) fn is_url_encoded(root: roxmltree::Node<'_, '_>) -> bool {
    child(root, "EncodingType").is_some_and(|e| e.trim().eq_ignore_ascii_case("url"))
}

pub(crate) fn request_id(headers: &Headers) -> Option<String> {
    headers.get("x-oss-request-id").map(str::to_string)
}

/// `x-oss-hash-crc64ecma` as a number.
pub(crate) fn hash_crc64(headers: &Headers) -> Option<u64> {
    headers
        .get(crate::ops::shared::HEADER_CRC64)
        .and_then(|v| v.trim().parse().ok())
}

/// The body of a 2xx answer as text; OSS result documents are UTF-8.
pub(crate) fn body_text(op: &'static str, response: &Response) -> Result<String, OperationError> {
    String::from_utf8(response.body.clone()).map_err(|_| {
        OperationError::new(
            op,
            ErrorKind::Transport,
            format!(
                "{}: HTTP {} with a result document that is not UTF-8",
                response.request_target, response.status
            ),
        )
        .with_request_id(request_id(&response.headers))
    })
}

/// Base64 of the MD5 of `bytes`.
pub(crate) fn md5_base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    let digest: [u8; 16] = md5::compute(bytes).0;
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// Escapes `&`, `<` and `>` (the official Python SDK's form; quotes stay as they are).
pub(crate) fn escape_xml_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod vectors {
    //! The multipart vectors of `tests/data/vectors-next.json`, signed the way the client signs.
    use serde_json::Value;

    use crate::credentials::Credentials;
    use crate::headers::Headers;
    use crate::signer::{sign_v4_headers, SigningContext};

    pub(crate) fn all() -> Value {
        crate::test_vectors::all_next()
    }

    pub(crate) fn case(section: &str, id: &str) -> Value {
        all()[section]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no case {id}"))
            .clone()
    }

    /// Checks a request's query and signed headers against a case's outputs: the query as
    /// sent, then every header (and no other) after signing as the pipeline would.
    pub(crate) fn assert_wire(
        inputs: &Value,
        out: &Value,
        method: &str,
        key: &str,
        (mut headers, query): (Headers, Vec<(String, String)>),
    ) {
        let raw_query = crate::pipeline::encode_query(&query);
        let url = out["url"].as_str().unwrap();
        assert_eq!(url.split_once('?').unwrap().1, raw_query, "query of {url}");
        sign(inputs, method, key, &raw_query, &mut headers);
        let expected = out["headers"].as_object().unwrap();
        for (name, value) in expected {
            assert_eq!(
                headers.get(name),
                value.as_str(),
                "header {name}: {headers:?}"
            );
        }
        assert_eq!(headers.len(), expected.len(), "{headers:?}");
    }

    /// Signs `headers` as the pipeline would for `examplebucket`, with the case's inputs.
    fn sign(inputs: &Value, method: &str, key: &str, raw_query: &str, headers: &mut Headers) {
        let credentials = Credentials::new(
            inputs["ak"].as_str().unwrap(),
            inputs["sk"].as_str().unwrap(),
        );
        let credentials = match inputs["token"].as_str() {
            Some(token) => credentials.with_security_token(token),
            None => credentials,
        };
        let ctx = SigningContext::new(
            &credentials,
            inputs["region"].as_str().unwrap(),
            crate::test_vectors::parse_time(inputs["time"].as_str().unwrap()),
        );
        sign_v4_headers(
            method,
            Some("examplebucket"),
            Some(key),
            raw_query,
            headers,
            &ctx,
        );
    }
}

/// A multipart request without its body, the bucket and key (when there is one) checked,
/// for sending or presigning. For presign `wire` holds only what the caller set (no
/// `Content-Type` guess, no `Content-MD5` of an empty body, no `encoding-type`), so whoever
/// holds the URL knows exactly which headers to send.
pub(crate) fn request_parts(
    name: &'static str,
    method: &'static str,
    bucket: &str,
    key: Option<&str>,
    wire: Result<(Headers, Vec<(String, String)>), String>,
) -> Result<crate::presign::sealed::RequestParts, OperationError> {
    let invalid = |m: String| OperationError::invalid_argument(name, m);
    crate::validate::bucket_name(bucket).map_err(invalid)?;
    if let Some(key) = key {
        crate::validate::object_key(key).map_err(invalid)?;
    }
    let (headers, query) = wire.map_err(invalid)?;
    Ok(crate::presign::sealed::RequestParts {
        name,
        method,
        bucket: bucket.to_string(),
        key: key.map(str::to_string),
        headers,
        query,
    })
}

#[cfg(test)]
mod presign_tests {
    use crate::presign::sealed::Sealed;
    use crate::test_vectors::next_cases;
    use crate::{InitiateMultipartUploadRequest, UploadPartRequest};

    /// The query a presigned request starts from, as the official SDK builds it.
    fn vector_query(id: &str) -> String {
        let case = next_cases("presign")
            .into_iter()
            .find(|c| c["id"] == id)
            .unwrap();
        let url = case["inputs"]["url"].as_str().unwrap().to_string();
        url.split_once('?').unwrap().1.to_string()
    }

    #[test]
    fn presigned_multipart_requests_start_from_the_official_query_and_sign_no_defaults() {
        let part = UploadPartRequest::new(
            "examplebucket",
            "multipart.data",
            "0004B9894A22E5B1888A1E29F823****",
            3,
        )
        .presign_parts()
        .unwrap();
        assert_eq!(
            (part.method, crate::pipeline::encode_query(&part.query)),
            ("PUT", vector_query("ps4-part"))
        );
        assert!(part.headers.is_empty());

        let init = InitiateMultipartUploadRequest::new("examplebucket", "multipart.data")
            .presign_parts()
            .unwrap();
        assert_eq!(
            (init.method, crate::pipeline::encode_query(&init.query)),
            ("POST", vector_query("ps4-init"))
        );
        assert!(
            init.headers.is_empty(),
            "no guessed Content-Type, no empty-body MD5"
        );
    }
}

//! OSS Signature V1 (legacy, `Authorization: OSS <ak>:<signature>`), in header mode and in
//! query mode (presigned URLs), as pure functions.
//!
//! The string to sign is `VERB\nContent-MD5\nContent-Type\n<Date or Expires>\n` followed by the
//! canonicalized `x-oss-*` headers and the canonicalized resource; the signature is
//! base64(HMAC-SHA1(secret, string to sign)).

use base64::Engine as _;
use percent_encoding::percent_decode_str;
use ring::hmac;

use crate::credentials::Credentials;
use crate::Headers;

use super::{format_http_date, HEADER_SECURITY_TOKEN};

/// The query parameters that are part of the V1 canonicalized resource (both official SDKs'
/// list, plus Python's `resourceGroup`). Any parameter whose name starts with `x-oss-` is one
/// too (Go SDK's rule, e.g. `x-oss-process`).
pub const V1_SUB_RESOURCES: [&str; 31] = [
    "acl",
    "bucketInfo",
    "location",
    "stat",
    "delete",
    "append",
    "tagging",
    "objectMeta",
    "uploads",
    "uploadId",
    "partNumber",
    "security-token",
    "position",
    "response-content-type",
    "response-content-language",
    "response-expires",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "restore",
    "callback",
    "callback-var",
    "versions",
    "versioning",
    "versionId",
    "sequential",
    "continuation-token",
    "regionList",
    "cloudboxes",
    "symlink",
    "resourceGroup",
];

/// True when the query parameter `name` is signed in V1.
fn is_sub_resource(name: &str) -> bool {
    V1_SUB_RESOURCES.contains(&name) || name.starts_with("x-oss-")
}

/// The canonicalized resource: `/`, then `<bucket>/` and the **raw** (not percent-encoded)
/// key, then `?` and the sub-resources of `raw_query` (percent-decoded, sorted by name, each
/// `k=v` or the bare `k` for an empty value, joined by `&`) when there are any.
///
/// ```
/// use oss_blocking::signer::v1_canonical_resource;
/// assert_eq!(
///     v1_canonical_resource(Some("b"), Some("dir/a b+c.txt"), "uploadId=x%2Ay&encoding-type=url&partNumber=2"),
///     "/b/dir/a b+c.txt?partNumber=2&uploadId=x*y",
/// );
/// ```
pub fn v1_canonical_resource(bucket: Option<&str>, key: Option<&str>, raw_query: &str) -> String {
    let mut out = String::from("/");
    if let Some(bucket) = bucket {
        out.push_str(bucket);
        out.push('/');
        out.push_str(key.unwrap_or_default());
    }
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    let mut subs: Vec<(String, String)> = raw_query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| piece.split_once('=').unwrap_or((piece, "")))
        .map(|(k, v)| (decode(k), decode(v)))
        .filter(|(k, _)| is_sub_resource(k))
        .collect();
    subs.sort();
    for (i, (k, v)) in subs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        if !v.is_empty() {
            out.push('=');
            out.push_str(v);
        }
    }
    out
}

/// The canonicalized OSS headers: one `name:value\n` line per `x-oss-*` header, names
/// lowercased, values trimmed, repeated names joined with `,`, sorted by name.
pub fn v1_canonical_oss_headers(headers: &Headers) -> String {
    let mut lines: std::collections::BTreeMap<String, Vec<&str>> = Default::default();
    for (name, value) in headers.iter() {
        let lower = name.to_ascii_lowercase();
        if lower.starts_with("x-oss-") {
            lines.entry(lower).or_default().push(value.trim());
        }
    }
    lines
        .iter()
        .map(|(name, values)| format!("{name}:{}\n", values.join(",")))
        .collect()
}

/// The V1 string to sign. `date` is the `Date` header value in header mode, the `Expires`
/// Unix second in query mode.
pub fn v1_string_to_sign(method: &str, headers: &Headers, date: &str, resource: &str) -> String {
    format!(
        "{method}\n{}\n{}\n{date}\n{}{resource}",
        headers.get("Content-MD5").unwrap_or_default(),
        headers.get("Content-Type").unwrap_or_default(),
        v1_canonical_oss_headers(headers),
    )
}

/// base64(HMAC-SHA1(secret, string to sign)).
pub fn v1_signature(secret: &str, string_to_sign: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.as_bytes());
    base64::engine::general_purpose::STANDARD
        .encode(hmac::sign(&key, string_to_sign.as_bytes()).as_ref())
}

/// Header-mode V1 signing. Sets (replacing any header of the same name) `Date` (RFC 1123 of
/// `time`), `x-oss-security-token` when the credentials carry a token (the header Go sends and
/// OSS reads; a stale one is removed otherwise), then `Authorization: OSS <ak>:<signature>`.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use oss_blocking::credentials::Credentials;
/// use oss_blocking::signer::sign_v1_headers;
/// use oss_blocking::Headers;
///
/// let time = UNIX_EPOCH + Duration::from_secs(1_710_491_400); // 2024-03-15T08:30:00Z
/// let mut headers = Headers::new();
/// headers.set("Content-Type", "text/plain");
/// let creds = Credentials::new("LTAI5tExampleAK", "ExampleSecretKey+/=");
/// sign_v1_headers("PUT", Some("examplebucket"), Some("exampleobject.txt"), "", &mut headers, &creds, time);
/// assert_eq!(headers.get("Authorization"), Some("OSS LTAI5tExampleAK:JcEogQicVsljqf/KLTZQsOCMhUc="));
/// ```
pub fn sign_v1_headers(
    method: &str,
    bucket: Option<&str>,
    key: Option<&str>,
    raw_query: &str,
    headers: &mut Headers,
    credentials: &Credentials,
    time: std::time::SystemTime,
) {
    let date = format_http_date(time);
    headers.set("Date", date.as_str());
    match credentials.security_token().filter(|t| !t.is_empty()) {
        Some(token) => headers.set(HEADER_SECURITY_TOKEN, token),
        None => {
            headers.remove(HEADER_SECURITY_TOKEN);
        }
    }
    let resource = v1_canonical_resource(bucket, key, raw_query);
    let to_sign = v1_string_to_sign(method, headers, &date, &resource);
    let signature = v1_signature(credentials.access_key_secret(), &to_sign);
    headers.set(
        "Authorization",
        format!("OSS {}:{signature}", credentials.access_key_id()),
    );
}

/// Query-mode V1 (a presigned URL): the query to send, `raw_query` (encoded, may be empty)
/// followed by `OSSAccessKeyId=<ak>&Expires=<unix seconds>[&security-token=<token>]&Signature=<sig>`,
/// values percent-encoded. The token is a sub-resource, so it is signed (decoded); the Date
/// line of the string to sign is `expires_unix`.
///
/// ```
/// use oss_blocking::credentials::Credentials;
/// use oss_blocking::signer::presign_v1_query;
/// use oss_blocking::Headers;
/// let creds = Credentials::new("ak", "sk").with_security_token("tok");
/// let query = presign_v1_query("GET", Some("examplebucket"), Some("dir/obj.txt"), "", &Headers::new(), &creds, 1_701_609_132);
/// assert_eq!(query, "OSSAccessKeyId=ak&Expires=1701609132&security-token=tok&Signature=6T4mW40Cvdgjem1RKq5HWiGrles%3D");
/// ```
pub fn presign_v1_query(
    method: &str,
    bucket: Option<&str>,
    key: Option<&str>,
    raw_query: &str,
    headers: &Headers,
    credentials: &Credentials,
    expires_unix: u64,
) -> String {
    let mut query = raw_query.to_string();
    let push = super::push_query_param;
    // The AK is written as is (Python's order and encoding; an AK is alphanumeric anyway).
    push(&mut query, "OSSAccessKeyId", credentials.access_key_id());
    let expires = expires_unix.to_string();
    push(&mut query, "Expires", &expires);
    if let Some(token) = credentials.security_token().filter(|t| !t.is_empty()) {
        push(&mut query, "security-token", token);
    }
    let resource = v1_canonical_resource(bucket, key, &query);
    let to_sign = v1_string_to_sign(method, headers, &expires, &resource);
    push(
        &mut query,
        "Signature",
        &v1_signature(credentials.access_key_secret(), &to_sign),
    );
    query
}

/// The headers a V1 signature covers, as stored: `Content-Type`, `Content-MD5` and `x-oss-*`.
pub fn v1_signed_headers(headers: &Headers) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| {
            let lower = name.to_ascii_lowercase();
            lower.starts_with("x-oss-") || lower == "content-type" || lower == "content-md5"
        })
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_vectors::{next_cases, parse_time, public_cases};

    fn case_headers(case: &serde_json::Value) -> Headers {
        crate::test_vectors::headers(&case["inputs"]["headers"]).into()
    }

    fn raw_query_of(url: &str) -> &str {
        url.split_once('?').map(|(_, q)| q).unwrap_or("")
    }

    #[test]
    fn every_v1_header_vector_byte_for_byte() {
        let mut cases = public_cases("v1_header_cases");
        cases.extend(next_cases("v1_header"));
        assert_eq!(cases.len(), 8);
        for case in cases {
            let i = &case["inputs"];
            let mut headers = case_headers(&case);
            let creds = Credentials::new(i["ak"].as_str().unwrap(), i["sk"].as_str().unwrap());
            let time = parse_time(i["time"].as_str().unwrap());
            let query = raw_query_of(i["url"].as_str().unwrap());
            let (bucket, key) = (i["bucket"].as_str(), i["key"].as_str());
            let resource = v1_canonical_resource(bucket, key, query);
            let date = format_http_date(time);
            assert_eq!(
                v1_string_to_sign(i["method"].as_str().unwrap(), &headers, &date, &resource),
                case["outputs"]["string_to_sign"].as_str().unwrap(),
                "{}",
                case["id"]
            );
            sign_v1_headers(
                i["method"].as_str().unwrap(),
                bucket,
                key,
                query,
                &mut headers,
                &creds,
                time,
            );
            assert_eq!(
                headers.get("Authorization"),
                case["outputs"]["authorization"].as_str(),
                "{}",
                case["id"]
            );
            assert_eq!(headers.get("Date"), case["outputs"]["date"].as_str());
        }
    }

    #[test]
    fn every_v1_presign_vector_byte_for_byte() {
        let mut cases = public_cases("presign_cases");
        cases.extend(next_cases("presign"));
        let cases: Vec<_> = cases
            .into_iter()
            .filter(|c| c["kind"] == "v1-presign")
            .collect();
        assert_eq!(cases.len(), 5);
        for case in cases {
            let i = &case["inputs"];
            let o = &case["outputs"];
            let mut creds = Credentials::new(i["ak"].as_str().unwrap(), i["sk"].as_str().unwrap());
            if let Some(token) = i["token"].as_str() {
                creds = creds.with_security_token(token);
            }
            let base = i["url"].as_str().unwrap();
            let (path, existing) = base.split_once('?').unwrap_or((base, ""));
            let expected_url = o["url"].as_str().unwrap();
            let mut headers = case_headers(&case);
            headers.remove("User-Agent");
            let expires: u64 = o["Expires"].as_str().unwrap().parse().unwrap();
            let query = presign_v1_query(
                i["method"].as_str().unwrap(),
                i["bucket"].as_str(),
                i["key"].as_str(),
                existing,
                &headers,
                &creds,
                expires,
            );
            assert_eq!(format!("{path}?{query}"), expected_url, "{}", case["id"]);
            let signed: Headers = v1_signed_headers(&headers).into();
            let expected: Headers = crate::test_vectors::headers(&o["signed_headers"]).into();
            assert_eq!(signed, expected, "{}", case["id"]);
        }
    }

    #[test]
    fn resource_keeps_only_sub_resources_and_x_oss_parameters() {
        assert_eq!(v1_canonical_resource(None, None, "acl"), "/?acl");
        assert_eq!(v1_canonical_resource(Some("b"), None, ""), "/b/");
        assert_eq!(
            v1_canonical_resource(
                Some("b"),
                Some("k"),
                "foo=1&x-oss-process=a%2Fb&append=&position=5"
            ),
            "/b/k?append&position=5&x-oss-process=a/b"
        );
    }
}

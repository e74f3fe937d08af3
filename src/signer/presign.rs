//! Signature V4 in query mode (presigned URLs), as pure functions.
//!
//! The authentication travels in the query: `x-oss-signature-version`, `x-oss-date`,
//! `x-oss-expires`, `x-oss-credential`, optionally `x-oss-security-token` and
//! `x-oss-additional-headers`, all covered by the signature, then `x-oss-signature` last. No
//! `x-oss-date` or `x-oss-content-sha256` header is added; the payload is `UNSIGNED-PAYLOAD`.

use crate::Headers;

use super::{
    additional_signed_headers, canonical_request, canonical_uri, clamped_secs, scope, signature,
    signing_key, string_to_sign, Civil, SigningContext, ALGORITHM,
};

/// The longest V4 presigned URL validity OSS accepts, in seconds (7 days).
pub const MAX_PRESIGN_V4_SECS: u64 = 604_800;

/// The query parameter carrying the V4 query signature.
pub const QUERY_SIGNATURE: &str = "x-oss-signature";

/// Writes bare keys for empty values (`uploads=` becomes `uploads`), as the official SDK's
/// presigned URLs do; OSS reads both the same way.
fn bare_empty_values(raw_query: &str) -> String {
    raw_query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| piece.strip_suffix('=').unwrap_or(piece))
        .collect::<Vec<_>>()
        .join("&")
}

/// The query of a V4 presigned URL: `raw_query` (encoded, as the request would send it; may be
/// empty) followed by the authentication parameters in the official SDK's order and
/// `x-oss-signature=<hex>` last. `expires_secs` is counted from `ctx.time` (the caller checks
/// it against [`MAX_PRESIGN_V4_SECS`]). The headers that enter the signature are those of
/// [`presign_v4_signed_headers`]: the uploader must send exactly those.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use oss_blocking::credentials::Credentials;
/// use oss_blocking::signer::{presign_v4_query, SigningContext};
/// use oss_blocking::Headers;
///
/// let creds = Credentials::new("ak", "sk");
/// let time = UNIX_EPOCH + Duration::from_secs(1_701_605_532); // 2023-12-03T12:12:12Z
/// let ctx = SigningContext::new(&creds, "cn-hangzhou", time);
/// let mut headers = Headers::new();
/// headers.set("Content-Type", "text/plain");
/// let query = presign_v4_query("PUT", Some("examplebucket"), Some("upload/file.txt"), "", &headers, &ctx, 3600);
/// assert_eq!(
///     query,
///     "x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-date=20231203T121212Z&x-oss-expires=3600\
///      &x-oss-credential=ak%2F20231203%2Fcn-hangzhou%2Foss%2Faliyun_v4_request\
///      &x-oss-signature=4d13d1b922dfa2ae8e1e9650e92e3974a2c81a954088c4e86417a8903adbd679",
/// );
/// ```
pub fn presign_v4_query(
    method: &str,
    bucket: Option<&str>,
    key: Option<&str>,
    raw_query: &str,
    headers: &Headers,
    ctx: &SigningContext<'_>,
    expires_secs: u64,
) -> String {
    let civil = Civil::from_secs(clamped_secs(ctx.time));
    let (date, datetime) = (civil.date(), civil.datetime());
    let scope = scope(&date, ctx.region, ctx.product);
    let additional = additional_signed_headers(ctx.additional_headers, headers);
    let mut query = bare_empty_values(raw_query);
    let push = super::push_query_param;
    push(&mut query, "x-oss-signature-version", ALGORITHM);
    push(&mut query, "x-oss-date", &datetime);
    push(&mut query, "x-oss-expires", &expires_secs.to_string());
    push(
        &mut query,
        "x-oss-credential",
        &format!("{}/{scope}", ctx.credentials.access_key_id()),
    );
    if let Some(token) = ctx.credentials.security_token().filter(|t| !t.is_empty()) {
        push(&mut query, "x-oss-security-token", token);
    }
    if !additional.is_empty() {
        push(
            &mut query,
            "x-oss-additional-headers",
            &additional.join(";"),
        );
    }
    let request = canonical_request(
        method,
        &canonical_uri(bucket, key),
        &query,
        headers,
        &additional,
    );
    let to_sign = string_to_sign(&datetime, &scope, &request);
    let key = signing_key(
        ctx.credentials.access_key_secret(),
        &date,
        ctx.region,
        ctx.product,
    );
    push(&mut query, QUERY_SIGNATURE, &signature(&key, &to_sign));
    query
}

/// The headers a V4 presigned URL signs, as stored (names keep their case): `Content-Type`,
/// `Content-MD5`, every `x-oss-*` header, and the additional headers of `ctx` present with a
/// value.
pub fn presign_v4_signed_headers(
    headers: &Headers,
    additional_headers: &[String],
) -> Vec<(String, String)> {
    let additional = additional_signed_headers(additional_headers, headers);
    headers
        .iter()
        .filter(|(name, _)| {
            let lower = name.to_ascii_lowercase();
            lower.starts_with("x-oss-")
                || lower == "content-type"
                || lower == "content-md5"
                || additional.contains(&lower)
        })
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Credentials;
    use crate::test_vectors::{next_cases, parse_time, public_cases};

    #[test]
    fn every_v4_presign_vector_byte_for_byte() {
        let mut cases = public_cases("presign_cases");
        cases.extend(next_cases("presign"));
        let cases: Vec<_> = cases
            .into_iter()
            .filter(|c| c["kind"] == "v4-presign")
            .collect();
        assert_eq!(cases.len(), 9);
        for case in cases {
            let i = &case["inputs"];
            let o = &case["outputs"];
            let mut creds = Credentials::new(i["ak"].as_str().unwrap(), i["sk"].as_str().unwrap());
            if let Some(token) = i["token"].as_str() {
                creds = creds.with_security_token(token);
            }
            let time = parse_time(i["time"].as_str().unwrap());
            let expires = o["x-oss-expires"]
                .as_str()
                .map(|s| s.parse().unwrap())
                .unwrap_or(3600);
            let ctx = SigningContext::new(&creds, i["region"].as_str().unwrap(), time)
                .product(i["product"].as_str().unwrap());
            let base = i["url"].as_str().unwrap();
            let (path, existing) = base.split_once('?').unwrap_or((base, ""));
            let mut headers: Headers = crate::test_vectors::headers(&i["headers"]).into();
            headers.remove("User-Agent");
            let query = presign_v4_query(
                i["method"].as_str().unwrap(),
                i["bucket"].as_str(),
                i["key"].as_str(),
                existing,
                &headers,
                &ctx,
                expires,
            );
            assert_eq!(
                format!("{path}?{query}"),
                o["url"].as_str().unwrap(),
                "{}",
                case["id"]
            );
            let signed: Headers = presign_v4_signed_headers(&headers, &[]).into();
            let expected: Headers = crate::test_vectors::headers(&o["signed_headers"]).into();
            assert_eq!(signed, expected, "{}", case["id"]);
        }
    }

    #[test]
    fn additional_headers_are_listed_and_signed() {
        let creds = Credentials::new("ak", "sk");
        let extra = vec!["Host".to_string(), "x-oss-meta-a".to_string()];
        let ctx =
            SigningContext::new(&creds, "r", std::time::UNIX_EPOCH).additional_headers(&extra);
        let headers: Headers = [("Host", "b.example.com"), ("x-oss-meta-a", "1")]
            .into_iter()
            .collect();
        let query = presign_v4_query("GET", Some("b"), Some("k"), "", &headers, &ctx, 60);
        assert!(
            query.contains("&x-oss-additional-headers=host&x-oss-signature="),
            "{query}"
        );
        assert_eq!(presign_v4_signed_headers(&headers, &extra).len(), 2);
        let without = SigningContext::new(&creds, "r", std::time::UNIX_EPOCH);
        let other = presign_v4_query("GET", Some("b"), Some("k"), "", &headers, &without, 60);
        assert_ne!(query.rsplit('=').next(), other.rsplit('=').next());
    }
}

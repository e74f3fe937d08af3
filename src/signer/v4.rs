//! OSS Signature V4 (`OSS4-HMAC-SHA256`) in header mode: the canonical request, the string to
//! sign, the signing key, the signature and the `Authorization` value, each a pure function,
//! and [`sign_v4_headers`], which runs them all on a request's headers.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ring::{digest, hmac};

use crate::Headers;

use super::{
    clamped_secs, escape_path, format_http_date, Civil, SigningContext, ALGORITHM,
    HEADER_CONTENT_SHA256, HEADER_OSS_DATE, HEADER_SECURITY_TOKEN, SCOPE_TERMINATOR,
    UNSIGNED_PAYLOAD,
};

/// The canonical URI: `"/"`, then `"<bucket>/"` if there is a bucket, then the key if there is
/// one, escaped with [`escape_path`]. It names the bucket whatever the addressing style.
pub fn canonical_uri(bucket: Option<&str>, key: Option<&str>) -> String {
    let mut uri = String::from("/");
    if let Some(bucket) = bucket {
        uri.push_str(bucket);
        uri.push('/');
    }
    if let Some(key) = key {
        uri.push_str(key);
    }
    escape_path(&uri)
}

/// The canonical query, built from the encoded raw query as sent (no leading `?`).
///
/// Go SDK's rule: `+` becomes `%20`, split on `&` (empty pieces skipped), each piece on its
/// first `=`, sort by key then value, write `k=v`, or the bare `k` when the value is empty,
/// and join with `&`. Nothing is decoded. An empty input gives `""`.
pub fn canonical_query(raw_query: &str) -> String {
    let query = raw_query.replace('+', "%20");
    let mut pairs: Vec<(&str, &str)> = query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| piece.split_once('=').unwrap_or((piece, "")))
        .collect();
    pairs.sort_unstable();
    let mut out = String::with_capacity(query.len());
    for (i, (k, v)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        if !v.is_empty() {
            out.push('=');
            out.push_str(v);
        }
    }
    out
}

/// True for the headers V4 always signs: `x-oss-*`, `content-type` and `content-md5`.
/// `lower` must already be lowercase.
fn is_default_signed(lower: &str) -> bool {
    lower.starts_with("x-oss-") || lower == "content-type" || lower == "content-md5"
}

/// The additional header names actually signed: lowercased; names signed by default
/// (`x-oss-*`, `content-type`, `content-md5`) dropped; names with no header in `headers`, or only
/// empty (after trimming) values, dropped; duplicates removed; sorted.
pub fn additional_signed_headers(additional: &[String], headers: &Headers) -> Vec<String> {
    let mut names: Vec<String> = additional
        .iter()
        .map(|name| name.to_ascii_lowercase())
        .filter(|name| !is_default_signed(name))
        .filter(|name| headers.get_all(name).any(|v| !v.trim().is_empty()))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The canonical headers: one `"name:value\n"` line for each `x-oss-*`, `content-type` and
/// `content-md5` header and each name in `additional_signed`. Names are lowercased, values
/// trimmed, the values of a repeated name joined with `,` in request order (Go SDK's rule), and
/// the lines sorted by name.
pub fn canonical_headers(headers: &Headers, additional_signed: &[String]) -> String {
    let mut signed: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (name, value) in headers.iter() {
        let lower = name.to_ascii_lowercase();
        if is_default_signed(&lower)
            || additional_signed
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&lower))
        {
            signed.entry(lower).or_default().push(value.trim());
        }
    }
    let mut out = String::new();
    for (name, values) in &signed {
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out
}

/// The canonical request: method, canonical URI, [`canonical_query`] of `raw_query`,
/// [`canonical_headers`], the additional names joined by `;`, and the hashed payload (the
/// `x-oss-content-sha256` value, or [`UNSIGNED_PAYLOAD`]), joined by `\n`.
pub fn canonical_request(
    method: &str,
    canonical_uri: &str,
    raw_query: &str,
    headers: &Headers,
    additional_signed: &[String],
) -> String {
    let hashed_payload = headers
        .get(HEADER_CONTENT_SHA256)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or(UNSIGNED_PAYLOAD);
    format!(
        "{method}\n{canonical_uri}\n{}\n{}\n{}\n{hashed_payload}",
        canonical_query(raw_query),
        canonical_headers(headers, additional_signed),
        additional_signed.join(";"),
    )
}

// ---------------------------------------------------------------------------------------------
// Signature

/// The credential scope: `"<date>/<region>/<product>/aliyun_v4_request"`.
pub fn scope(date: &str, region: &str, product: &str) -> String {
    format!("{date}/{region}/{product}/{SCOPE_TERMINATOR}")
}

/// Two lowercase hex digits per byte.
fn lower_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().saturating_mul(2));
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The string to sign: `OSS4-HMAC-SHA256`, the datetime, the scope and the lowercase hex
/// SHA-256 of the canonical request, joined by `\n` (no trailing newline).
pub fn string_to_sign(datetime: &str, scope: &str, canonical_request: &str) -> String {
    let hash = digest::digest(&digest::SHA256, canonical_request.as_bytes());
    format!(
        "{ALGORITHM}\n{datetime}\n{scope}\n{}",
        lower_hex(hash.as_ref())
    )
}

/// The signing key, an HMAC-SHA256 chain:
/// `"aliyun_v4" + secret` → date (`YYYYMMDD`) → region → product → `"aliyun_v4_request"`.
pub fn signing_key(secret: &str, date: &str, region: &str, product: &str) -> hmac::Key {
    let mut key = hmac::Key::new(hmac::HMAC_SHA256, format!("aliyun_v4{secret}").as_bytes());
    for step in [date, region, product, SCOPE_TERMINATOR] {
        let tag = hmac::sign(&key, step.as_bytes());
        key = hmac::Key::new(hmac::HMAC_SHA256, tag.as_ref());
    }
    key
}

/// The signature: lowercase hex of HMAC-SHA256(signing key, string to sign).
pub fn signature(signing_key: &hmac::Key, string_to_sign: &str) -> String {
    lower_hex(hmac::sign(signing_key, string_to_sign.as_bytes()).as_ref())
}

/// The `Authorization` value:
/// `"OSS4-HMAC-SHA256 Credential=<ak>/<scope>[,AdditionalHeaders=h1;h2],Signature=<hex>"`,
/// with no spaces after the commas and the AK not escaped.
pub fn authorization(
    access_key_id: &str,
    scope: &str,
    additional_signed: &[String],
    signature: &str,
) -> String {
    if additional_signed.is_empty() {
        format!("{ALGORITHM} Credential={access_key_id}/{scope},Signature={signature}")
    } else {
        format!(
            "{ALGORITHM} Credential={access_key_id}/{scope},AdditionalHeaders={},Signature={signature}",
            additional_signed.join(";")
        )
    }
}

/// Header-mode signing of a request.
///
/// Sets, replacing any existing header of the same name (compared case-insensitively) and
/// appending in this order: `x-oss-date`, `Date` (RFC 1123, not signed), `x-oss-security-token`
/// (only with a non-empty token; a stale one is removed otherwise),
/// `x-oss-content-sha256: UNSIGNED-PAYLOAD`, then `Authorization`. `raw_query` is the encoded
/// query string exactly as it will be sent, without the `?`. The HTTP stack must not add or
/// change `Content-Type`, `Content-MD5` or any `x-oss-*` header afterwards.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use oss_blocking::credentials::Credentials;
/// use oss_blocking::signer::{sign_v4_headers, SigningContext};
/// use oss_blocking::Headers;
///
/// let credentials = Credentials::new("ak", "sk");
/// let time = UNIX_EPOCH + Duration::from_secs(1_701_605_532); // 2023-12-03T12:12:12Z
/// let ctx = SigningContext::new(&credentials, "cn-hangzhou", time);
/// let mut headers = Headers::new();
/// headers.set("Content-Type", "text/plain");
/// sign_v4_headers("PUT", Some("examplebucket"), Some("exampleobject.txt"), "", &mut headers, &ctx);
///
/// assert_eq!(headers.get("x-oss-date"), Some("20231203T121212Z"));
/// assert_eq!(headers.get("Date"), Some("Sun, 03 Dec 2023 12:12:12 GMT"));
/// assert_eq!(
///     headers.get("Authorization"),
///     Some("OSS4-HMAC-SHA256 Credential=ak/20231203/cn-hangzhou/oss/aliyun_v4_request,\
///           Signature=3fa50a8cae7be58de737e49019519157558ba0dbb2345fc85e1666953c9285b7"),
/// );
/// let names: Vec<&str> = headers.iter().map(|(name, _)| name).collect();
/// assert_eq!(
///     names,
///     ["Content-Type", "x-oss-date", "Date", "x-oss-content-sha256", "Authorization"],
/// );
/// ```
pub fn sign_v4_headers(
    method: &str,
    bucket: Option<&str>,
    key: Option<&str>,
    raw_query: &str,
    headers: &mut Headers,
    ctx: &SigningContext<'_>,
) {
    let secs = clamped_secs(ctx.time);
    let civil = Civil::from_secs(secs);
    let (date, datetime) = (civil.date(), civil.datetime());

    headers.set(HEADER_OSS_DATE, datetime.as_str());
    headers.set("Date", format_http_date(ctx.time));
    match ctx.credentials.security_token().filter(|t| !t.is_empty()) {
        Some(token) => headers.set(HEADER_SECURITY_TOKEN, token),
        None => {
            headers.remove(HEADER_SECURITY_TOKEN);
        }
    }
    headers.set(HEADER_CONTENT_SHA256, UNSIGNED_PAYLOAD);

    let additional = additional_signed_headers(ctx.additional_headers, headers);
    let request = canonical_request(
        method,
        &canonical_uri(bucket, key),
        raw_query,
        headers,
        &additional,
    );
    let scope = scope(&date, ctx.region, ctx.product);
    let to_sign = string_to_sign(&datetime, &scope, &request);
    let key = signing_key(
        ctx.credentials.access_key_secret(),
        &date,
        ctx.region,
        ctx.product,
    );
    let value = authorization(
        ctx.credentials.access_key_id(),
        &scope,
        &additional,
        &signature(&key, &to_sign),
    );
    headers.set("Authorization", value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Credentials;
    use crate::signer::format_datetime;
    use crate::test_vectors::{string_pairs, v4_header_cases as cases, V4Case};
    use std::time::{Duration, UNIX_EPOCH};

    /// The canonical request built step by step from the case's pre-signing headers plus the
    /// headers the signer adds (taken from the expected output, so this checks the
    /// canonicalisation independently of `sign_v4_headers`).
    fn step_by_step_canonical_request(case: &V4Case) -> String {
        let mut headers = case.headers.clone();
        for name in [
            HEADER_OSS_DATE,
            HEADER_CONTENT_SHA256,
            HEADER_SECURITY_TOKEN,
        ] {
            if let Some(v) = case.outputs["signed_request_headers"][name].as_str() {
                headers.append(name, v);
            }
        }
        let additional = additional_signed_headers(&case.additional, &headers);
        canonical_request(
            &case.method,
            &canonical_uri(case.bucket.as_deref(), case.key.as_deref()),
            &case.raw_query,
            &headers,
            &additional,
        )
    }

    use crate::test_vectors::{get, pairs, secs, strings};

    // --- the public vectors -----------------------------------------------------------------

    #[test]
    fn vectors_all_thirteen_cases_are_loaded() {
        let cases = cases();
        assert_eq!(cases.len(), 13, "expected the 13 v4_header_cases");
        for case in &cases {
            assert_eq!(
                case.outputs["x-oss-date"].as_str(),
                Some(format_datetime(case.time).as_str()),
                "case {}: the ISO input time and outputs.x-oss-date disagree",
                case.id
            );
        }
    }

    #[test]
    fn vectors_canonical_request() {
        for case in cases() {
            assert_eq!(
                step_by_step_canonical_request(&case),
                case.out("canonical_request"),
                "case {}: canonical request",
                case.id
            );
        }
    }

    #[test]
    fn vectors_scope_and_string_to_sign() {
        for case in cases() {
            let datetime = format_datetime(case.time);
            let scope = scope(&datetime[..8], &case.region, &case.product);
            assert_eq!(scope, case.out("scope"), "case {}: scope", case.id);
            assert_eq!(
                string_to_sign(&datetime, &scope, case.out("canonical_request")),
                case.out("string_to_sign"),
                "case {}: string to sign",
                case.id
            );
        }
    }

    #[test]
    fn vectors_signature() {
        for case in cases() {
            let datetime = format_datetime(case.time);
            let key = signing_key(
                case.credentials.access_key_secret(),
                &datetime[..8],
                &case.region,
                &case.product,
            );
            assert_eq!(
                signature(&key, case.out("string_to_sign")),
                case.out("signature"),
                "case {}: signature",
                case.id
            );
        }
    }

    #[test]
    fn vectors_authorization() {
        for case in cases() {
            let mut headers = case.headers.clone();
            headers.append(HEADER_OSS_DATE, case.out("x-oss-date"));
            let additional = additional_signed_headers(&case.additional, &headers);
            assert_eq!(
                additional.join(";"),
                case.out("additional_headers"),
                "case {}: additional signed headers",
                case.id
            );
            assert_eq!(
                authorization(
                    case.credentials.access_key_id(),
                    case.out("scope"),
                    &additional,
                    case.out("signature")
                ),
                case.out("authorization"),
                "case {}: Authorization",
                case.id
            );
        }
    }

    #[test]
    fn vectors_sign_v4_headers_sets_the_expected_headers() {
        for case in cases() {
            let signed = case.sign();
            let want = string_pairs(
                &case.outputs["signed_request_headers"],
                &format!("case {}: signed_request_headers", case.id),
            );
            let mut names = vec![
                "x-oss-date",
                "Date",
                "x-oss-content-sha256",
                "Authorization",
            ];
            if case.credentials.security_token().is_some() {
                names.push("x-oss-security-token");
            }
            for name in names {
                let want_value = want
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
                    .unwrap_or_else(|| panic!("case {}: vector lacks {name}", case.id));
                let got: Vec<&str> = signed
                    .iter()
                    .filter(|(k, _)| *k == name)
                    .map(|(_, v)| v)
                    .collect();
                assert_eq!(got, [want_value], "case {}: header {name}", case.id);
            }
            // Nothing else was added, removed or changed.
            let (mut got_all, mut want_all) = (signed.as_slice().to_vec(), want.clone());
            got_all.sort();
            want_all.sort();
            assert_eq!(got_all, want_all, "case {}: full header set", case.id);
        }
    }

    #[test]
    fn vectors_url_path_uses_escape_path() {
        for case in cases() {
            let final_url = case.out("url");
            let after_scheme = final_url
                .split_once("://")
                .map(|(_, rest)| rest)
                .unwrap_or(final_url);
            let (host, path_and_query) = after_scheme
                .split_once('/')
                .map(|(h, p)| (h, format!("/{p}")))
                .unwrap_or((after_scheme, "/".to_string()));
            let (path, query) = path_and_query
                .split_once('?')
                .map(|(p, q)| (p.to_string(), q))
                .unwrap_or((path_and_query.clone(), ""));
            let virtual_host = case
                .bucket
                .as_deref()
                .is_some_and(|b| host.starts_with(&format!("{b}.")));
            let want_path = if virtual_host {
                escape_path(&format!("/{}", case.key.as_deref().unwrap_or("")))
            } else {
                canonical_uri(case.bucket.as_deref(), case.key.as_deref())
            };
            assert_eq!(path, want_path, "case {}: URL path", case.id);
            assert_eq!(query, case.raw_query, "case {}: URL query", case.id);
            assert_eq!(
                final_url, case.url,
                "case {}: URL changed by signing",
                case.id
            );
        }
    }

    // --- canonicalisation details -------------------------------------------------------------

    #[test]
    fn canonical_headers_trims_and_joins_repeated_values() {
        let headers = pairs(&[
            ("X-Oss-Meta-A", "  one "),
            ("Content-Type", "\ttext/plain "),
            ("x-oss-meta-a", "two\t"),
            ("Cache-Control", " no-cache "),
            ("Host", "example.com"),
            ("X-OSS-META-A", ""),
        ]);
        assert_eq!(
            canonical_headers(&headers, &strings(&["cache-control"])),
            "cache-control:no-cache\ncontent-type:text/plain\nx-oss-meta-a:one,two,\n"
        );
        assert_eq!(
            canonical_headers(&headers, &[]),
            "content-type:text/plain\nx-oss-meta-a:one,two,\n"
        );
        assert_eq!(canonical_headers(&Headers::new(), &[]), "");
    }

    #[test]
    fn additional_signed_headers_filters_dedupes_and_sorts() {
        let headers = pairs(&[
            ("Host", "example.com"),
            ("Cache-Control", "no-cache"),
            ("X-Empty", "  "),
            ("Content-Type", "text/plain"),
            ("x-oss-meta-a", "1"),
        ]);
        let configured = strings(&[
            "Host",
            "host",
            "Cache-Control",
            "x-oss-meta-a",
            "Content-Type",
            "content-md5",
            "X-Empty",
            "absent",
        ]);
        assert_eq!(
            additional_signed_headers(&configured, &headers),
            ["cache-control", "host"]
        );
        assert!(additional_signed_headers(&[], &headers).is_empty());
    }

    #[test]
    fn canonical_query_follows_the_go_rule() {
        assert_eq!(canonical_query(""), "");
        assert_eq!(canonical_query("acl="), "acl");
        assert_eq!(canonical_query("acl"), "acl");
        assert_eq!(canonical_query("b=2&a=1&c"), "a=1&b=2&c");
        assert_eq!(canonical_query("k=b&k=a&k="), "k&k=a&k=b");
        assert_eq!(canonical_query("a=x+y&b=%2B"), "a=x%20y&b=%2B");
        assert_eq!(canonical_query("a=1=2"), "a=1=2");
        assert_eq!(canonical_query("&&a=1&"), "a=1");
        assert_eq!(canonical_query("=v&="), "&=v");
        assert_eq!(canonical_query("Z=1&a=1&%2B=1"), "%2B=1&Z=1&a=1");
    }

    #[test]
    fn canonical_uri_names_the_bucket_and_escapes_the_key() {
        assert_eq!(canonical_uri(None, None), "/");
        assert_eq!(canonical_uri(Some("b"), None), "/b/");
        assert_eq!(canonical_uri(Some("b"), Some("a b/c")), "/b/a%20b/c");
        assert_eq!(canonical_uri(None, Some("k")), "/k");
    }

    #[test]
    fn canonical_request_uses_the_payload_header_or_unsigned() {
        let with = pairs(&[("X-Oss-Content-Sha256", " abc ")]);
        assert!(canonical_request("PUT", "/", "", &with, &[]).ends_with("\n\nabc"));
        let empty = pairs(&[("x-oss-content-sha256", "")]);
        assert!(canonical_request("PUT", "/", "", &empty, &[]).ends_with("\n\nUNSIGNED-PAYLOAD"));
        assert_eq!(
            canonical_request("GET", "/", "", &Headers::new(), &[]),
            "GET\n/\n\n\n\nUNSIGNED-PAYLOAD"
        );
    }

    // --- sign_v4_headers behaviour ------------------------------------------------------------

    #[test]
    fn sign_v4_headers_replaces_existing_and_removes_stale_token() {
        let stale = pairs(&[
            ("X-OSS-DATE", "old"),
            ("date", "old"),
            ("AUTHORIZATION", "old"),
            ("X-Oss-Content-Sha256", "old"),
            ("X-Oss-Security-Token", "stale"),
            ("Content-Type", "text/plain"),
        ]);
        let plain = Credentials::new("ak", "sk");
        let with_token = Credentials::new("ak", "sk").with_security_token("fresh");
        for (credentials, token) in [(&plain, None), (&with_token, Some("fresh"))] {
            let ctx = SigningContext::new(credentials, "cn-hangzhou", secs(1_701_605_532));
            let mut headers = stale.clone();
            sign_v4_headers("PUT", Some("b"), Some("k"), "", &mut headers, &ctx);
            assert_eq!(get(&headers, "x-oss-date"), ["20231203T121212Z"]);
            assert_eq!(get(&headers, "date"), ["Sun, 03 Dec 2023 12:12:12 GMT"]);
            assert_eq!(get(&headers, "x-oss-content-sha256"), [UNSIGNED_PAYLOAD]);
            assert_eq!(get(&headers, "authorization").len(), 1);
            assert_eq!(get(&headers, "x-oss-security-token"), Vec::from_iter(token));
            assert_eq!(get(&headers, "content-type"), ["text/plain"]);
            let names: Vec<&str> = headers.iter().map(|(k, _)| k).collect();
            let mut want = vec!["Content-Type", "x-oss-date", "Date"];
            if token.is_some() {
                want.push("x-oss-security-token");
            }
            want.extend(["x-oss-content-sha256", "Authorization"]);
            assert_eq!(names, want);
        }
    }

    #[test]
    fn sign_v4_headers_is_deterministic_and_survives_odd_inputs() {
        let credentials = Credentials::new("", "");
        let additional = strings(&["", "X-Oss-", "\u{0}", "中"]);
        let ctx = SigningContext::new(&credentials, "", UNIX_EPOCH - Duration::from_secs(1))
            .product("")
            .additional_headers(&additional);
        let mut a = pairs(&[("", ""), ("中", "\u{0}"), ("x-oss-", " ")]);
        let mut b = a.clone();
        sign_v4_headers("", Some(""), Some("%%/"), "&=&+", &mut a, &ctx);
        sign_v4_headers("", Some(""), Some("%%/"), "&=&+", &mut b, &ctx);
        assert_eq!(a, b);
        assert!(get(&a, "authorization")[0].contains("Credential=/19700101///aliyun_v4_request,"));
    }
}

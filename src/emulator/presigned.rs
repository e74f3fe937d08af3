//! Server-side checks of presigned requests (V4 and V1 query signatures) and of V1
//! `Authorization: OSS <ak>:<signature>` headers, as OSS makes them.
//!
//! The signatures are recomputed with the signer's own pure functions, so the emulator
//! verifies with the code the client signs with. Everything here reads network data and
//! never panics.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use percent_encoding::percent_decode_str;

use super::auth::{check_security_token, skew, AuthInput, MAX_SKEW};
use super::error::{self, ErrorReply};
use super::{sigv4, Settings};
use crate::signer;

/// The decoded value of query parameter `name`, if present.
fn param(raw_query: &str, name: &str) -> Option<String> {
    raw_query
        .split('&')
        .map(|piece| piece.split_once('=').unwrap_or((piece, "")))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| percent_decode_str(v).decode_utf8_lossy().into_owned())
}

fn expired(expires: &str, now: SystemTime) -> ErrorReply {
    ErrorReply::new(403, "AccessDenied", "Request has expired.", "0002-00000069")
        .with("Expires", expires)
        .with("ServerTime", signer::format_datetime(now))
}

/// `Some` when the request is presigned (V4 `x-oss-signature` or V1 `Signature` in the
/// query): the result of checking it. `None` for other requests.
pub(crate) fn verify_query(
    settings: &Settings,
    now: SystemTime,
    req: &AuthInput<'_>,
) -> Option<Result<(), ErrorReply>> {
    if param(req.raw_query, signer::QUERY_SIGNATURE).is_some() {
        return Some(verify_v4_query(settings, now, req));
    }
    if param(req.raw_query, "Signature").is_some() {
        return Some(verify_v1_query(settings, now, req));
    }
    None
}

/// The checks of a V4 presigned request: the version, the credential (AccessKey ID, token,
/// region, product), `x-oss-date`, `x-oss-expires` (1 to 604 800 s, and not passed), then the
/// signature over the query without `x-oss-signature`.
fn verify_v4_query(
    settings: &Settings,
    now: SystemTime,
    req: &AuthInput<'_>,
) -> Result<(), ErrorReply> {
    let parsed = v4_credential(settings, req.raw_query)?;
    let datetime = param(req.raw_query, "x-oss-date").unwrap_or_default();
    let signed_at =
        signer::parse_datetime(&datetime).ok_or_else(|| error::invalid_date(Some(&datetime)))?;
    let expires_text = param(req.raw_query, "x-oss-expires").unwrap_or_default();
    let expires = expires_text
        .parse::<u64>()
        .ok()
        .filter(|s| (1..=signer::MAX_PRESIGN_V4_SECS).contains(s))
        .ok_or_else(|| {
            error::invalid_argument(
                "x-oss-expires must be from 1 to 604800 (seven days).",
                "x-oss-expires",
                &expires_text,
            )
        })?;
    let deadline = signed_at.checked_add(Duration::from_secs(expires));
    if deadline.is_none_or(|d| now > d) {
        return Err(expired(&expires_text, now));
    }
    let unsigned_query: Vec<&str> = req
        .raw_query
        .split('&')
        .filter(|piece| piece.split('=').next() != Some(signer::QUERY_SIGNATURE))
        .collect();
    let request = signer::canonical_request(
        req.method,
        &signer::canonical_uri(req.bucket, req.key),
        &unsigned_query.join("&"),
        req.headers,
        &parsed.additional_headers,
    );
    let scope = signer::scope(&parsed.date, &parsed.region, &parsed.product);
    let to_sign = signer::string_to_sign(&datetime, &scope, &request);
    let key = signer::signing_key(
        &settings.access_key_secret,
        &parsed.date,
        &parsed.region,
        &parsed.product,
    );
    if !signer::signature(&key, &to_sign).eq_ignore_ascii_case(&parsed.signature) {
        return Err(error::signature_does_not_match(
            &parsed.access_key_id,
            &parsed.signature,
            &to_sign,
            &request,
        ));
    }
    Ok(())
}

/// The signature version, then the credential, additional headers and signature of a V4
/// query, parsed as an `Authorization` value would be and checked against the emulator's key,
/// token, region and product.
fn v4_credential(
    settings: &Settings,
    raw_query: &str,
) -> Result<sigv4::ParsedAuthorization, ErrorReply> {
    let q = |name: &str| param(raw_query, name);
    if q("x-oss-signature-version").as_deref() != Some(signer::ALGORITHM) {
        return Err(error::invalid_argument(
            "Invalid signature version, it must be OSS4-HMAC-SHA256.",
            "x-oss-signature-version",
            &q("x-oss-signature-version").unwrap_or_default(),
        ));
    }
    let mut value = format!(
        "{} Credential={}",
        signer::ALGORITHM,
        q("x-oss-credential").unwrap_or_default()
    );
    if let Some(additional) = q("x-oss-additional-headers") {
        value.push_str(&format!(",AdditionalHeaders={additional}"));
    }
    value.push_str(&format!(
        ",Signature={}",
        q(signer::QUERY_SIGNATURE).unwrap_or_default()
    ));
    let parsed = sigv4::parse_authorization(&value).ok_or_else(|| {
        error::invalid_argument(
            "Invalid x-oss-credential or x-oss-signature.",
            "x-oss-credential",
            &q("x-oss-credential").unwrap_or_default(),
        )
    })?;
    if parsed.access_key_id != settings.access_key_id {
        return Err(error::invalid_access_key_id(&parsed.access_key_id));
    }
    check_security_token(settings, q("x-oss-security-token").as_deref())?;
    if parsed.region != settings.region || parsed.product != signer::DEFAULT_PRODUCT {
        return Err(error::signing_scope_mismatch(
            "scope",
            &format!("{}/{}", parsed.region, parsed.product),
            &format!("{}/{}", settings.region, signer::DEFAULT_PRODUCT),
        ));
    }
    Ok(parsed)
}

/// The V1 signature check shared by header and query mode.
fn check_v1_signature(
    settings: &Settings,
    req: &AuthInput<'_>,
    access_key_id: &str,
    provided: &str,
    date_line: &str,
) -> Result<(), ErrorReply> {
    let resource = signer::v1_canonical_resource(req.bucket, req.key, req.raw_query);
    let to_sign = signer::v1_string_to_sign(req.method, req.headers, date_line, &resource);
    if signer::v1_signature(&settings.access_key_secret, &to_sign) != provided {
        return Err(error::signature_does_not_match(
            access_key_id,
            provided,
            &to_sign,
            "",
        ));
    }
    Ok(())
}

/// The checks of a V1 presigned request: `OSSAccessKeyId`, `security-token`, `Expires` (a
/// Unix second not passed), then the signature.
fn verify_v1_query(
    settings: &Settings,
    now: SystemTime,
    req: &AuthInput<'_>,
) -> Result<(), ErrorReply> {
    let q = |name: &str| param(req.raw_query, name);
    let access_key_id = q("OSSAccessKeyId").unwrap_or_default();
    if access_key_id != settings.access_key_id {
        return Err(error::invalid_access_key_id(&access_key_id));
    }
    check_security_token(settings, q("security-token").as_deref())?;
    let expires_text = q("Expires").unwrap_or_default();
    let Some(expires) = expires_text.parse::<u64>().ok() else {
        return Err(error::invalid_argument(
            "Expires must be a Unix time in seconds.",
            "Expires",
            &expires_text,
        ));
    };
    let now_secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    if now_secs > expires {
        return Err(expired(&expires_text, now));
    }
    let provided = q("Signature").unwrap_or_default();
    check_v1_signature(settings, req, &access_key_id, &provided, &expires_text)
}

/// The checks of `Authorization: OSS <ak>:<signature>` (`value` is what follows `OSS `): the
/// AccessKey ID, `x-oss-security-token`, a `Date` within 15 minutes, then the signature.
pub(crate) fn verify_v1_header(
    settings: &Settings,
    now: SystemTime,
    req: &AuthInput<'_>,
    value: &str,
) -> Result<(), ErrorReply> {
    let Some((access_key_id, provided)) = value.trim().split_once(':') else {
        return Err(error::invalid_authorization(
            "expected `OSS <AccessKeyId>:<Signature>`",
        ));
    };
    if access_key_id != settings.access_key_id {
        return Err(error::invalid_access_key_id(access_key_id));
    }
    check_security_token(settings, req.headers.get(signer::HEADER_SECURITY_TOKEN))?;
    let date = req.headers.get("Date").unwrap_or_default();
    let Ok(time) = httpdate::parse_http_date(date) else {
        return Err(ErrorReply::new(
            403,
            "AccessDenied",
            format!("Invalid Date header: {date:?}. The format is RFC 1123."),
            "0002-00000505",
        ));
    };
    if skew(time, now) > MAX_SKEW {
        return Err(error::request_time_too_skewed(
            date,
            &signer::format_datetime(now),
        ));
    }
    check_v1_signature(settings, req, access_key_id, provided, date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Credentials;
    use crate::Headers;

    fn settings() -> Settings {
        Settings {
            region: "cn-hangzhou".into(),
            access_key_id: "ak".into(),
            access_key_secret: "sk".into(),
            security_token: None,
            max_object_size: 1 << 20,
            own_host: "127.0.0.1:1".into(),
            length_only: false,
            bandwidth_limit: None,
        }
    }

    fn input<'a>(method: &'a str, query: &'a str, headers: &'a Headers) -> AuthInput<'a> {
        AuthInput {
            method,
            bucket: Some("b"),
            key: Some("dir/a b.txt"),
            raw_query: query,
            headers,
        }
    }

    #[test]
    fn v4_presigned_requests_are_checked_for_expiry_and_tampering() {
        let creds = Credentials::new("ak", "sk");
        let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let ctx = signer::SigningContext::new(&creds, "cn-hangzhou", t0);
        let mut headers = Headers::new();
        headers.set("Content-Type", "text/plain");
        let q = signer::presign_v4_query(
            "PUT",
            Some("b"),
            Some("dir/a b.txt"),
            "",
            &headers,
            &ctx,
            60,
        );
        let s = settings();
        assert_eq!(
            verify_query(&s, t0, &input("PUT", &q, &headers)),
            Some(Ok(()))
        );
        let late = t0 + Duration::from_secs(61);
        let err = verify_query(&s, late, &input("PUT", &q, &headers))
            .unwrap()
            .unwrap_err();
        assert_eq!(
            (err.status, err.code.as_str(), err.message.as_str()),
            (403, "AccessDenied", "Request has expired.")
        );
        let mut extra = headers.clone();
        extra.set("x-oss-meta-x", "1");
        let err = verify_query(&s, t0, &input("PUT", &q, &extra))
            .unwrap()
            .unwrap_err();
        assert_eq!(err.code, "SignatureDoesNotMatch");
        let err = verify_query(&s, t0, &input("GET", &q, &headers))
            .unwrap()
            .unwrap_err();
        assert_eq!(err.code, "SignatureDoesNotMatch");
        let bad = q.replace("x-oss-expires=60", "x-oss-expires=604801");
        let err = verify_query(&s, t0, &input("PUT", &bad, &headers))
            .unwrap()
            .unwrap_err();
        assert_eq!(err.code, "InvalidArgument");
    }

    #[test]
    fn v1_headers_and_queries_are_verified() {
        let creds = Credentials::new("ak", "sk");
        let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let s = settings();
        let mut headers = Headers::new();
        headers.set("x-oss-meta-a", "1");
        signer::sign_v1_headers(
            "PUT",
            Some("b"),
            Some("dir/a b.txt"),
            "append=&position=0",
            &mut headers,
            &creds,
            t0,
        );
        let auth = headers.get("Authorization").unwrap().to_string();
        let v1 = auth.strip_prefix("OSS ").unwrap();
        let req = input("PUT", "append=&position=0", &headers);
        assert_eq!(verify_v1_header(&s, t0, &req, v1), Ok(()));
        let moved = input("PUT", "append=&position=5", &headers);
        assert_eq!(
            verify_v1_header(&s, t0, &moved, v1).unwrap_err().code,
            "SignatureDoesNotMatch"
        );
        let skewed = t0 + Duration::from_secs(16 * 60);
        assert_eq!(
            verify_v1_header(&s, skewed, &req, v1).unwrap_err().code,
            "RequestTimeTooSkewed"
        );

        let empty = Headers::new();
        let q = signer::presign_v1_query(
            "GET",
            Some("b"),
            Some("dir/a b.txt"),
            "",
            &empty,
            &creds,
            1_700_000_060,
        );
        assert_eq!(
            verify_query(&s, t0, &input("GET", &q, &empty)),
            Some(Ok(()))
        );
        let late = t0 + Duration::from_secs(61);
        assert_eq!(
            verify_query(&s, late, &input("GET", &q, &empty))
                .unwrap()
                .unwrap_err()
                .code,
            "AccessDenied"
        );
        let mut ctype = Headers::new();
        ctype.set("Content-Type", "text/plain");
        assert_eq!(
            verify_query(&s, t0, &input("GET", &q, &ctype))
                .unwrap()
                .unwrap_err()
                .code,
            "SignatureDoesNotMatch"
        );
        assert_eq!(verify_query(&s, t0, &input("GET", "a=1", &empty)), None);
    }
}

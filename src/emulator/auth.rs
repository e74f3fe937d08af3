//! Request authentication: the checks OSS makes on a V4 `Authorization` header, in order.
//! Presigned requests (V4 and V1 query signatures) and V1 headers are checked in
//! `presigned.rs`.
//!
//! The signature itself is recomputed by [`sigv4::expected_signature`] from the signer's own
//! steps, the same code the client signs with; what this module adds is the server's policy
//! around it.

use std::time::{Duration, SystemTime};

use super::error::{self, ErrorReply};
use super::Settings;
use super::{presigned, sigv4};
use crate::signer;
use crate::Headers;

/// How far `x-oss-date` may be from the server clock, either way.
pub(crate) const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// The parts of a request the checks need.
pub(crate) struct AuthInput<'a> {
    pub method: &'a str,
    pub bucket: Option<&'a str>,
    pub key: Option<&'a str>,
    pub raw_query: &'a str,
    pub headers: &'a Headers,
}

fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers.get(name)
}

/// Checks, in order: an `Authorization` header is present (else 403 `AccessDenied`) and is
/// V4 (else 400 `InvalidArgument`); the AccessKey ID is known (403 `InvalidAccessKeyId`); the
/// security token matches (403 `InvalidSecurityToken`); the scope names this region and the
/// `oss` product (403 `AccessDenied`); `x-oss-date` is valid (403 `AccessDenied`) and within
/// 15 minutes of `now` (403 `RequestTimeTooSkewed`); the signature matches (403
/// `SignatureDoesNotMatch`, with the server's canonical request and string to sign).
pub(crate) fn verify(
    settings: &Settings,
    now: SystemTime,
    req: &AuthInput<'_>,
) -> Result<(), ErrorReply> {
    if let Some(result) = presigned::verify_query(settings, now, req) {
        return result;
    }
    let Some(value) = header(req.headers, "authorization") else {
        return Err(error::access_denied_anonymous());
    };
    if let Some(v1) = value.trim_start().strip_prefix("OSS ") {
        return presigned::verify_v1_header(settings, now, req, v1);
    }
    let parsed = sigv4::parse_authorization(value).ok_or_else(|| {
        error::invalid_authorization(
            "expected `OSS4-HMAC-SHA256 Credential=<ak>/<date>/<region>/oss/aliyun_v4_request,\
             [AdditionalHeaders=<names>,]Signature=<64 hex>`",
        )
    })?;
    if parsed.access_key_id != settings.access_key_id {
        return Err(error::invalid_access_key_id(&parsed.access_key_id));
    }
    check_security_token(settings, header(req.headers, signer::HEADER_SECURITY_TOKEN))?;
    if parsed.region != settings.region {
        return Err(error::signing_scope_mismatch(
            "region",
            &parsed.region,
            &settings.region,
        ));
    }
    if parsed.product != signer::DEFAULT_PRODUCT {
        return Err(error::signing_scope_mismatch(
            "product",
            &parsed.product,
            signer::DEFAULT_PRODUCT,
        ));
    }
    let date_value = header(req.headers, signer::HEADER_OSS_DATE).map(str::trim);
    let request_time = date_value
        .and_then(signer::parse_datetime)
        .ok_or_else(|| error::invalid_date(date_value))?;
    let skew = match request_time.duration_since(now) {
        Ok(ahead) => ahead,
        Err(behind) => behind.duration(),
    };
    if skew > MAX_SKEW {
        return Err(error::request_time_too_skewed(
            date_value.unwrap_or_default(),
            &signer::format_datetime(now),
        ));
    }
    let expected = sigv4::expected_signature(
        req.method,
        req.bucket,
        req.key,
        req.raw_query,
        req.headers,
        &parsed,
        &settings.access_key_secret,
    )
    .ok_or_else(|| error::invalid_date(date_value))?;
    if !expected.signature.eq_ignore_ascii_case(&parsed.signature) {
        return Err(error::signature_does_not_match(
            &parsed.access_key_id,
            &parsed.signature,
            &expected.string_to_sign,
            &expected.canonical_request,
        ));
    }
    Ok(())
}

/// The security token a request carries (header or query) must be the emulator's, and one
/// must be present exactly when the emulator's key is temporary.
pub(crate) fn check_security_token(
    settings: &Settings,
    token: Option<&str>,
) -> Result<(), ErrorReply> {
    match (settings.security_token.as_deref(), token) {
        (Some(expected), Some(got)) if expected == got => Ok(()),
        (Some(_), Some(_)) => Err(error::invalid_security_token(
            "The security token you provided is invalid.",
        )),
        (Some(_), None) => Err(error::invalid_security_token(
            "The AccessKey ID is temporary (STS) but the request carries no security token.",
        )),
        (None, Some(_)) => Err(error::invalid_security_token(
            "The request carries a security token but the AccessKey ID is not an STS key.",
        )),
        (None, None) => Ok(()),
    }
}

/// How far a skew check allows, shared by V4 headers and V1 `Date`.
pub(crate) fn skew(a: SystemTime, b: SystemTime) -> Duration {
    match a.duration_since(b) {
        Ok(ahead) => ahead,
        Err(behind) => behind.duration(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Credentials;
    use crate::signer::{sign_v4_headers, SigningContext};

    fn settings(token: Option<&str>) -> Settings {
        Settings {
            region: "cn-hangzhou".into(),
            access_key_id: "ak".into(),
            access_key_secret: "sk".into(),
            security_token: token.map(Into::into),
            max_object_size: 10,
            own_host: "127.0.0.1:1".into(),
            length_only: false,
            bandwidth_limit: None,
        }
    }

    fn signed(creds: &Credentials, region: &str, time: SystemTime) -> Headers {
        let mut headers = Headers::new();
        headers.set("Content-Type", "text/plain");
        sign_v4_headers(
            "PUT",
            Some("b"),
            Some("k"),
            "",
            &mut headers,
            &SigningContext::new(creds, region, time),
        );
        headers
    }

    /// Verifies `PUT /b/k` with these headers, as the server would at `now`.
    fn verify_put(
        settings: &Settings,
        headers: &Headers,
        now: SystemTime,
    ) -> Result<(), ErrorReply> {
        verify(
            settings,
            now,
            &AuthInput {
                method: "PUT",
                bucket: Some("b"),
                key: Some("k"),
                raw_query: "",
                headers,
            },
        )
    }

    fn check(settings: &Settings, headers: &Headers, now: SystemTime) -> Result<(), String> {
        verify_put(settings, headers, now).map_err(|e| e.code)
    }

    #[test]
    fn accepts_a_good_request_and_names_each_failure() {
        let now = SystemTime::now();
        let good = Credentials::new("ak", "sk");
        let s = settings(None);
        assert_eq!(check(&s, &signed(&good, "cn-hangzhou", now), now), Ok(()));
        assert_eq!(check(&s, &Headers::new(), now), Err("AccessDenied".into()));
        let v1 = vec![("Authorization".to_string(), "OSS ak:sig".to_string())];
        // V1 is verified too: this one has no Date.
        assert_eq!(check(&s, &v1.into(), now), Err("AccessDenied".into()));
        let v1 = vec![("Authorization".to_string(), "OSS no-colon".to_string())];
        assert_eq!(check(&s, &v1.into(), now), Err("InvalidArgument".into()));
        let other = Credentials::new("other", "sk");
        assert_eq!(
            check(&s, &signed(&other, "cn-hangzhou", now), now),
            Err("InvalidAccessKeyId".into())
        );
        let wrong = Credentials::new("ak", "wrong");
        assert_eq!(
            check(&s, &signed(&wrong, "cn-hangzhou", now), now),
            Err("SignatureDoesNotMatch".into())
        );
        assert_eq!(
            check(&s, &signed(&good, "cn-beijing", now), now),
            Err("AccessDenied".into())
        );
        let old = now - Duration::from_secs(16 * 60);
        assert_eq!(
            check(&s, &signed(&good, "cn-hangzhou", old), now),
            Err("RequestTimeTooSkewed".into())
        );
        let near = now + Duration::from_secs(14 * 60);
        assert_eq!(check(&s, &signed(&good, "cn-hangzhou", near), now), Ok(()));
    }

    #[test]
    fn security_token_must_match_both_ways() {
        let now = SystemTime::now();
        let with = Credentials::new("ak", "sk").with_security_token("tok");
        let other = Credentials::new("ak", "sk").with_security_token("other");
        let without = Credentials::new("ak", "sk");
        let sts = settings(Some("tok"));
        assert_eq!(check(&sts, &signed(&with, "cn-hangzhou", now), now), Ok(()));
        for creds in [&other, &without] {
            assert_eq!(
                check(&sts, &signed(creds, "cn-hangzhou", now), now),
                Err("InvalidSecurityToken".into())
            );
        }
        assert_eq!(
            check(&settings(None), &signed(&with, "cn-hangzhou", now), now),
            Err("InvalidSecurityToken".into())
        );
    }

    #[test]
    fn tampering_after_signing_is_caught() {
        let now = SystemTime::now();
        let mut headers = signed(&Credentials::new("ak", "sk"), "cn-hangzhou", now);
        headers.append("x-oss-meta-added", "later");
        let err = verify_put(&settings(None), &headers, now).unwrap_err();
        assert_eq!(err.code, "SignatureDoesNotMatch");
        let canonical = &err
            .extra
            .iter()
            .find(|(n, _)| *n == "CanonicalRequest")
            .unwrap()
            .1;
        assert!(canonical.contains("x-oss-meta-added:later"));
    }
}

//! Server-side V4 checking: parse an `Authorization` value and recompute the signature a
//! request should carry.
//!
//! The recomputation uses the signer's own pure steps ([`canonical_request`],
//! [`string_to_sign`], [`signing_key`], [`signature`]), so the emulator verifies with exactly
//! the code the client signs with. Everything here reads network data, so nothing panics on
//! any input.

use crate::signer::{
    canonical_request, canonical_uri, parse_datetime, scope, signature, signing_key,
    string_to_sign, ALGORITHM, HEADER_OSS_DATE, SCOPE_TERMINATOR,
};
use crate::Headers;

/// The parts of a V4 `Authorization` header value, for a server (the emulator) verifying requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedAuthorization {
    /// The AccessKey ID (everything before the last four `/`-separated scope parts).
    pub access_key_id: String,
    /// The scope date, `YYYYMMDD`.
    pub date: String,
    /// The scope region.
    pub region: String,
    /// The scope product (`oss`, `oss-cloudbox`).
    pub product: String,
    /// The `AdditionalHeaders` names, lowercased, in the order given; empty when absent.
    pub additional_headers: Vec<String>,
    /// The signature as sent: 64 hex digits.
    pub signature: String,
}

/// Parses an `Authorization` value back into its parts. `None` if it is not a well-formed V4
/// value: it must start with `OSS4-HMAC-SHA256 `, then hold `Credential=` and `Signature=` and
/// optionally `AdditionalHeaders=` once each, separated by `,` (spaces around them tolerated),
/// with a credential `<ak>/<YYYYMMDD>/<region>/<product>/aliyun_v4_request` whose parts are
/// non-empty and a signature of 64 hex digits.
pub(crate) fn parse_authorization(value: &str) -> Option<ParsedAuthorization> {
    let rest = value.trim().strip_prefix(ALGORITHM)?.strip_prefix(' ')?;
    let (mut credential, mut additional, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (name, field) = part.trim().split_once('=')?;
        let slot = match name {
            "Credential" => &mut credential,
            "AdditionalHeaders" => &mut additional,
            "Signature" => &mut signature,
            _ => return None,
        };
        if slot.replace(field).is_some() {
            return None;
        }
    }

    let mut scope_parts = credential?.rsplitn(5, '/');
    let terminator = scope_parts.next()?;
    let product = scope_parts.next()?;
    let region = scope_parts.next()?;
    let date = scope_parts.next()?;
    let access_key_id = scope_parts.next()?;
    if terminator != SCOPE_TERMINATOR
        || access_key_id.is_empty()
        || region.is_empty()
        || product.is_empty()
        || date.len() != 8
        || !date.bytes().all(|c| c.is_ascii_digit())
    {
        return None;
    }

    let signature = signature?;
    if signature.len() != 64 || !signature.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }

    let additional_headers = match additional {
        None => Vec::new(),
        Some(list) => {
            let names: Vec<String> = list
                .split(';')
                .map(|name| name.trim().to_ascii_lowercase())
                .collect();
            if names.iter().any(String::is_empty) {
                return None;
            }
            names
        }
    };

    Some(ParsedAuthorization {
        access_key_id: access_key_id.to_string(),
        date: date.to_string(),
        region: region.to_string(),
        product: product.to_string(),
        additional_headers,
        signature: signature.to_string(),
    })
}

/// What the signature of a received request should be, with the intermediate strings that a
/// `SignatureDoesNotMatch` error body reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExpectedSignature {
    /// Lowercase hex; compare with [`ParsedAuthorization::signature`].
    pub signature: String,
    /// The canonical request the server built.
    pub canonical_request: String,
    /// The string to sign the server built.
    pub string_to_sign: String,
}

/// Recomputes the expected signature of a received request (server side).
///
/// Uses the request's own `x-oss-date` header for the datetime line of the string to sign, the
/// date, region, product and additional header names from `parsed` for the scope, the signing key
/// and the canonical request, and the secret. An honest client derives the credential date from
/// `x-oss-date`, so a request whose two dates disagree never matches. `None` if `x-oss-date` is
/// missing or not a valid `YYYYMMDDTHHMMSSZ` instant. Checking the time against the server's
/// clock (skew) is left to the caller: see [`crate::signer::parse_datetime`].
pub(crate) fn expected_signature(
    method: &str,
    bucket: Option<&str>,
    key: Option<&str>,
    raw_query: &str,
    headers: &Headers,
    parsed: &ParsedAuthorization,
    secret: &str,
) -> Option<ExpectedSignature> {
    let datetime = headers.get(HEADER_OSS_DATE)?.trim();
    parse_datetime(datetime)?;
    let date = parsed.date.as_str();
    let request = canonical_request(
        method,
        &canonical_uri(bucket, key),
        raw_query,
        headers,
        &parsed.additional_headers,
    );
    let scope = scope(date, &parsed.region, &parsed.product);
    let to_sign = string_to_sign(datetime, &scope, &request);
    let signing_key = signing_key(secret, date, &parsed.region, &parsed.product);
    Some(ExpectedSignature {
        signature: signature(&signing_key, &to_sign),
        canonical_request: request,
        string_to_sign: to_sign,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Credentials;
    use crate::signer::{authorization, sign_v4_headers, SigningContext};
    use crate::test_vectors::v4_header_cases;

    use crate::test_vectors::{get, pairs, secs, strings};

    #[test]
    fn expected_signature_agrees_with_sign_v4_headers() {
        for case in v4_header_cases() {
            let signed = case.sign();
            let auth = get(&signed, "Authorization");
            let parsed = parse_authorization(auth[0])
                .unwrap_or_else(|| panic!("case {}: parse {}", case.id, auth[0]));
            let expected = expected_signature(
                &case.method,
                case.bucket.as_deref(),
                case.key.as_deref(),
                &case.raw_query,
                &signed,
                &parsed,
                case.credentials.access_key_secret(),
            )
            .unwrap_or_else(|| panic!("case {}: no expected signature", case.id));
            assert_eq!(expected.signature, parsed.signature, "case {}", case.id);
            assert_eq!(
                expected.canonical_request,
                case.out("canonical_request"),
                "case {}",
                case.id
            );
            assert_eq!(
                expected.string_to_sign,
                case.out("string_to_sign"),
                "case {}",
                case.id
            );
        }
    }

    fn signed_example() -> (Headers, ParsedAuthorization) {
        let credentials = Credentials::new("ak", "sk");
        let additional = strings(&["Cache-Control"]);
        let ctx = SigningContext::new(&credentials, "cn-hangzhou", secs(1_701_605_532))
            .additional_headers(&additional);
        let mut headers = pairs(&[
            ("Content-Type", "text/plain"),
            ("Cache-Control", "no-cache"),
            ("Content-Length", "3"),
        ]);
        sign_v4_headers("PUT", Some("b"), Some("k 1"), "acl=", &mut headers, &ctx);
        let parsed = parse_authorization(get(&headers, "authorization")[0]).expect("parses");
        (headers, parsed)
    }

    fn verify(
        method: &str,
        key: &str,
        query: &str,
        headers: &Headers,
        parsed: &ParsedAuthorization,
        secret: &str,
    ) -> bool {
        expected_signature(method, Some("b"), Some(key), query, headers, parsed, secret)
            .is_some_and(|e| e.signature == parsed.signature)
    }

    #[test]
    fn expected_signature_detects_tampering() {
        let (headers, parsed) = signed_example();
        assert_eq!(parsed.additional_headers, ["cache-control"]);
        assert!(verify("PUT", "k 1", "acl", &headers, &parsed, "sk"));
        // Unsigned headers may change; the query may be re-encoded equivalently.
        let mut reordered: Headers = headers.clone().into_iter().rev().collect();
        reordered.append("Content-Length", "4");
        assert!(verify("PUT", "k 1", "acl=", &reordered, &parsed, "sk"));

        assert!(!verify("PUT", "k 1", "acl", &headers, &parsed, "other"));
        assert!(!verify("POST", "k 1", "acl", &headers, &parsed, "sk"));
        assert!(!verify("PUT", "k 2", "acl", &headers, &parsed, "sk"));
        assert!(!verify("PUT", "k 1", "", &headers, &parsed, "sk"));
        for (name, value) in [
            ("Content-Type", "text/html"),
            ("Cache-Control", "max-age=1"),
            ("x-oss-meta-new", "1"),
            ("x-oss-date", "20231203T121213Z"),
        ] {
            let mut changed = headers.clone();
            changed.set(name, value);
            assert!(
                !verify("PUT", "k 1", "acl", &changed, &parsed, "sk"),
                "changing {name} must break the signature"
            );
        }
        // A credential claiming another date, region or product does not match either.
        for other in [
            ParsedAuthorization {
                date: "20231204".into(),
                ..parsed.clone()
            },
            ParsedAuthorization {
                region: "cn-beijing".into(),
                ..parsed.clone()
            },
            ParsedAuthorization {
                product: "oss-cloudbox".into(),
                ..parsed.clone()
            },
        ] {
            let sig =
                expected_signature("PUT", Some("b"), Some("k 1"), "acl", &headers, &other, "sk")
                    .expect("computes")
                    .signature;
            assert_ne!(sig, parsed.signature, "{other:?} must not match");
        }
    }

    #[test]
    fn expected_signature_needs_a_valid_x_oss_date() {
        let (headers, parsed) = signed_example();
        let mut without = headers.clone();
        without.remove("x-oss-date");
        assert!(expected_signature("PUT", None, None, "", &without, &parsed, "sk").is_none());
        for bad in [
            "",
            "20231203",
            "20231203T121212",
            "20231203t121212Z",
            "20231303T121212Z",
            "20230229T121212Z",
            "20231203T246060Z",
            "Sun, 03 Dec 2023 12:12:12 GMT",
            "２0231203T121212Z",
        ] {
            let mut h = without.clone();
            h.append("X-Oss-Date", bad);
            assert!(
                expected_signature("PUT", None, None, "", &h, &parsed, "sk").is_none(),
                "{bad:?} must be rejected"
            );
        }
    }

    #[test]
    fn parse_authorization_round_trips() {
        let scope = scope("20231203", "cn-hangzhou", "oss");
        let sig = "3fa50a8cae7be58de737e49019519157558ba0dbb2345fc85e1666953c9285b7";
        for (ak, additional) in [
            ("ak", vec![]),
            (
                "STS.NUxxxxak",
                strings(&["cache-control", "content-disposition"]),
            ),
            ("odd/ak", strings(&["host"])),
        ] {
            let value = authorization(ak, &scope, &additional, sig);
            let parsed = parse_authorization(&value).unwrap_or_else(|| panic!("{value}"));
            assert_eq!(
                parsed,
                ParsedAuthorization {
                    access_key_id: ak.into(),
                    date: "20231203".into(),
                    region: "cn-hangzhou".into(),
                    product: "oss".into(),
                    additional_headers: additional.clone(),
                    signature: sig.into(),
                }
            );
            let rebuilt = authorization(
                &parsed.access_key_id,
                &crate::signer::scope(&parsed.date, &parsed.region, &parsed.product),
                &parsed.additional_headers,
                &parsed.signature,
            );
            assert_eq!(rebuilt, value);
        }
        // Spaces after the commas (as some clients write them) are tolerated.
        let spaced =
            format!("{ALGORITHM} Credential=ak/{scope}, AdditionalHeaders=Host, Signature={sig}");
        let parsed = parse_authorization(&spaced).expect("spaced form parses");
        assert_eq!(parsed.additional_headers, ["host"]);
    }

    #[test]
    fn parse_authorization_rejects_garbage_without_panicking() {
        let scope = scope("20231203", "cn-hangzhou", "oss");
        let sig = "3fa50a8cae7be58de737e49019519157558ba0dbb2345fc85e1666953c9285b7";
        let good =
            format!("{ALGORITHM} Credential=ak/{scope},AdditionalHeaders=a;b,Signature={sig}");
        for bad in [
            String::new(),
            "OSS ak:sig".into(),
            ALGORITHM.into(),
            format!("{ALGORITHM}Credential=ak/{scope},Signature={sig}"),
            format!("OSS4-HMAC-SHA1 Credential=ak/{scope},Signature={sig}"),
            format!("{ALGORITHM} Credential=ak/{scope}"),
            format!("{ALGORITHM} Signature={sig}"),
            format!("{ALGORITHM} Credential=ak/{scope},Signature={sig},Signature={sig}"),
            format!("{ALGORITHM} Credential=ak/{scope},Signature={sig},Extra=1"),
            format!("{ALGORITHM} Credential=ak/{scope},Signature={sig},"),
            format!("{ALGORITHM} Credential=ak/{scope},Signature=xyz"),
            format!("{ALGORITHM} Credential=ak/{scope},Signature={sig}0"),
            format!("{ALGORITHM} Credential=ak/{scope},AdditionalHeaders=,Signature={sig}"),
            format!("{ALGORITHM} Credential=ak/{scope},AdditionalHeaders=a;;b,Signature={sig}"),
            format!("{ALGORITHM} Credential=/{scope},Signature={sig}"),
            format!("{ALGORITHM} Credential=ak/2023120/cn-hangzhou/oss/aliyun_v4_request,Signature={sig}"),
            format!("{ALGORITHM} Credential=ak/20231203//oss/aliyun_v4_request,Signature={sig}"),
            format!("{ALGORITHM} Credential=ak/20231203/cn-hangzhou//aliyun_v4_request,Signature={sig}"),
            format!("{ALGORITHM} Credential=ak/20231203/cn-hangzhou/oss/aliyun_v2_request,Signature={sig}"),
            format!("{ALGORITHM} Credential=20231203/cn-hangzhou/oss/aliyun_v4_request,Signature={sig}"),
            format!("{ALGORITHM} Credential=ak/２0231203/cn-hangzhou/oss/aliyun_v4_request,Signature={sig}"),
        ] {
            assert_eq!(parse_authorization(&bad), None, "{bad:?} must be rejected");
        }
        // Every truncation and every single-character deletion: no panic, and only the full
        // value parses as written.
        assert!(parse_authorization(&good).is_some());
        for (i, c) in good.char_indices() {
            let _ = parse_authorization(&good[..i]);
            let mut deleted = good.clone();
            deleted.replace_range(i..i + c.len_utf8(), "");
            let _ = parse_authorization(&deleted);
        }
        let _ = parse_authorization("\u{0}é中,=/;");
    }
}

//! Alibaba Cloud RPC ("POP") request signing, as STS needs it (AssumeRole): HMAC-SHA1 over
//! `METHOD&%2F&` + the percent-encoded, sorted `key=value` list, keyed with `secret + "&"`.
//!
//! Encoding is RFC 3986 everywhere (space `%20`, `*` `%2A`, `~` kept), as the POP rules and
//! credentials-go do; the Python library's `+` for a space gives a different signature
//! (vector `sts-policy-space`).

use base64::Engine as _;

use super::escape_query_component;

/// The `SignatureMethod` parameter value.
pub const RPC_SIGNATURE_METHOD: &str = "HMAC-SHA1";
/// The `SignatureVersion` parameter value.
pub const RPC_SIGNATURE_VERSION: &str = "1.0";

/// The parameters as `k1=v1&k2=v2…`, sorted by key (byte order), each key and value
/// percent-encoded by RFC 3986 ([`escape_query_component`]). This is also the form body sent.
///
/// ```
/// use oss_blocking::signer::rpc_canonical_query;
/// let params = [("b", "x y*~"), ("a", "1")];
/// assert_eq!(rpc_canonical_query(&params), "a=1&b=x%20y%2A~");
/// ```
pub fn rpc_canonical_query<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .collect();
    pairs.sort_unstable();
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                escape_query_component(k),
                escape_query_component(v)
            )
        })
        .collect();
    encoded.join("&")
}

/// `METHOD&%2F&` + the percent-encoded [`rpc_canonical_query`].
///
/// ```
/// use oss_blocking::signer::rpc_string_to_sign;
/// assert_eq!(rpc_string_to_sign("POST", &[("Action", "AssumeRole")]), "POST&%2F&Action%3DAssumeRole");
/// ```
pub fn rpc_string_to_sign<K: AsRef<str>, V: AsRef<str>>(method: &str, params: &[(K, V)]) -> String {
    format!(
        "{method}&%2F&{}",
        escape_query_component(&rpc_canonical_query(params))
    )
}

/// `base64(HMAC-SHA1(access_key_secret + "&", string_to_sign))`, the `Signature` parameter.
///
/// ```
/// use oss_blocking::signer::rpc_signature;
/// assert_eq!(rpc_signature("secret", "GET&%2F&a%3D1").len(), 28);
/// ```
pub fn rpc_signature(access_key_secret: &str, string_to_sign: &str) -> String {
    let key = ring::hmac::Key::new(
        ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        format!("{access_key_secret}&").as_bytes(),
    );
    let tag = ring::hmac::sign(&key, string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
}

/// The ISO 8601 UTC form of STS `Timestamp` and of every `Expiration` in credentials answers,
/// `YYYY-MM-DDTHH:MM:SSZ`; clamped to 1970..9999 like [`super::format_datetime`].
///
/// ```
/// use oss_blocking::signer::format_iso8601;
/// use std::time::{Duration, UNIX_EPOCH};
/// let t = UNIX_EPOCH + Duration::from_secs(1_710_491_400);
/// assert_eq!(format_iso8601(t), "2024-03-15T08:30:00Z");
/// ```
pub fn format_iso8601(t: std::time::SystemTime) -> String {
    let compact = super::format_datetime(t); // YYYYMMDDTHHMMSSZ
    let part = |from: usize, to: usize| compact.get(from..to).unwrap_or("00");
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        part(0, 4),
        part(4, 6),
        part(6, 8),
        part(9, 11),
        part(11, 13),
        part(13, 15)
    )
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` (the `Expiration` of ECS, STS, URI answers). `None` unless it is
/// exactly that shape and a real UTC instant from 1970 to 9999.
///
/// ```
/// use oss_blocking::signer::{format_iso8601, parse_iso8601};
/// let t = parse_iso8601("2099-03-15T14:30:00Z").unwrap();
/// assert_eq!(format_iso8601(t), "2099-03-15T14:30:00Z");
/// assert!(parse_iso8601("2099-03-15 14:30:00").is_none());
/// ```
pub fn parse_iso8601(s: &str) -> Option<std::time::SystemTime> {
    let b = s.as_bytes();
    let shape = b.len() == 20
        && b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && b.get(13) == Some(&b':')
        && b.get(16) == Some(&b':');
    if !shape {
        return None;
    }
    let compact: String = s.chars().filter(|c| *c != '-' && *c != ':').collect();
    super::parse_datetime(&compact)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors() -> Vec<Value> {
        let all: Value = crate::test_vectors::all_next();
        all["sts_assume_role"].as_array().unwrap().clone()
    }

    fn params(case: &Value) -> Vec<(String, String)> {
        case["outputs"]["params_signed"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect()
    }

    #[test]
    fn sts_vectors_byte_for_byte_in_the_rfc_3986_form() {
        let mut checked = 0;
        for case in vectors().iter().filter(|c| {
            c.get("outputs")
                .is_some_and(|o| o.get("params_signed").is_some())
        }) {
            let out = &case["outputs"];
            let computed = &out["generator_computed"];
            let secret = case["inputs"]["access_key_secret"].as_str().unwrap();
            let sts = rpc_string_to_sign("GET", &params(case));
            assert_eq!(
                sts,
                computed["rfc3986_string_to_sign"].as_str().unwrap(),
                "{}",
                case["id"]
            );
            assert_eq!(
                rpc_signature(secret, &sts),
                computed["rfc3986_signature"].as_str().unwrap()
            );
            if computed["same_as_sdk"] == true {
                assert_eq!(sts, out["string_to_sign"].as_str().unwrap());
                assert_eq!(
                    rpc_signature(secret, &sts),
                    out["Signature"].as_str().unwrap()
                );
            }
            checked += 1;
        }
        assert_eq!(checked, 4);
    }

    #[test]
    fn a_space_is_signed_as_percent_20_never_plus() {
        let case = vectors()
            .into_iter()
            .find(|c| c["id"] == "sts-policy-space")
            .unwrap();
        let sts = rpc_string_to_sign("GET", &params(&case));
        assert!(
            sts.contains("my%2520session") && !sts.contains("%2B"),
            "{sts}"
        );
        assert_eq!(
            rpc_signature("ExampleSecretKey+/=", &sts),
            "3Y4MhjeEtGndAmXxIwKbBPJO+e4="
        );
        // The Python library's `+` form signs differently (it is the one that breaks on STS).
        assert_ne!(
            case["outputs"]["Signature"].as_str().unwrap(),
            "3Y4MhjeEtGndAmXxIwKbBPJO+e4="
        );
    }

    #[test]
    fn iso8601_round_trips_and_rejects_bad_shapes() {
        for s in [
            "2024-03-15T08:30:00Z",
            "2099-12-31T23:59:59Z",
            "1970-01-01T00:00:00Z",
        ] {
            assert_eq!(format_iso8601(parse_iso8601(s).unwrap()), s);
        }
        for bad in [
            "",
            "2024-03-15T08:30:00",
            "2024-02-30T00:00:00Z",
            "2024-03-15T24:00:00Z",
            "2024/03/15T08:30:00Z",
            "x024-03-15T08:30:00Z",
            "2024-03-15T08:30:00Zé",
        ] {
            assert!(parse_iso8601(bad).is_none(), "{bad}");
        }
    }
}

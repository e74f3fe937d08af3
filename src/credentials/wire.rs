//! Reading the credentials JSON that ECS, STS, the credentials URI and helper processes
//! answer: `AccessKeyId`, `AccessKeySecret`, `SecurityToken`, `Expiration`. Error texts name
//! the field and the rule, never a value.

use std::collections::HashMap;

use tinyjson::JsonValue;

use super::Credentials;
use crate::signer::parse_iso8601;

/// Which fields must be there besides the key pair.
#[derive(Clone, Copy)]
pub(crate) struct Required {
    pub token: bool,
    pub expiration: bool,
}

/// A non-empty string field.
pub(crate) fn string<'a>(map: &'a HashMap<String, JsonValue>, name: &str) -> Option<&'a str> {
    match map.get(name) {
        Some(JsonValue::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    }
}

/// An object field.
pub(crate) fn object<'a>(
    map: &'a HashMap<String, JsonValue>,
    name: &str,
) -> Option<&'a HashMap<String, JsonValue>> {
    match map.get(name) {
        Some(JsonValue::Object(o)) => Some(o),
        _ => None,
    }
}

/// The credentials in `map`; the error names the first field missing or malformed.
pub(crate) fn credentials(
    map: &HashMap<String, JsonValue>,
    required: Required,
) -> Result<Credentials, String> {
    let field = |name: &str| {
        string(map, name).ok_or_else(|| format!("the answer has no non-empty {name} string"))
    };
    let mut creds = Credentials::new(field("AccessKeyId")?, field("AccessKeySecret")?);
    match string(map, "SecurityToken") {
        Some(token) => creds = creds.with_security_token(token),
        None if required.token => return Err(field("SecurityToken").err().unwrap_or_default()),
        None => {}
    }
    match string(map, "Expiration") {
        Some(text) => {
            let at = parse_iso8601(text).ok_or_else(|| {
                "the answer's Expiration is not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ"
                    .to_string()
            })?;
            creds = creds.with_expiration(at);
        }
        None if required.expiration => {
            return Err(field("Expiration").err().unwrap_or_default());
        }
        None => {}
    }
    Ok(creds)
}

/// Replaces every occurrence of each secret in `text` with `<redacted>`, also in its
/// percent-encoded and doubly percent-encoded forms (STS echoes its string to sign, where
/// the `SecurityToken` parameter is encoded twice).
pub(crate) fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        let once = crate::signer::escape_query_component(secret);
        let twice = crate::signer::escape_query_component(&once);
        for form in [twice, once, secret.to_string()] {
            out = out.replace(&form, "<redacted>");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: Required = Required {
        token: true,
        expiration: true,
    };

    fn parse(text: &str) -> HashMap<String, JsonValue> {
        crate::json::parse_object(text).unwrap()
    }

    #[test]
    fn reads_the_four_fields() {
        let c = credentials(
            &parse(r#"{"AccessKeyId":"STS.a","AccessKeySecret":"s","SecurityToken":"t","Expiration":"2099-03-15T14:30:00Z"}"#),
            ALL,
        )
        .unwrap();
        assert_eq!(
            (c.access_key_id(), c.security_token()),
            ("STS.a", Some("t"))
        );
        assert!(c.expiration().is_some());
    }

    #[test]
    fn each_missing_or_bad_field_is_named() {
        let full = r#""AccessKeyId":"a","AccessKeySecret":"s","SecurityToken":"t","Expiration":"2099-03-15T14:30:00Z""#;
        for field in [
            "AccessKeyId",
            "AccessKeySecret",
            "SecurityToken",
            "Expiration",
        ] {
            let without: Vec<&str> = full.split(',').filter(|p| !p.contains(field)).collect();
            let err = credentials(&parse(&format!("{{{}}}", without.join(","))), ALL).unwrap_err();
            assert!(err.contains(field), "{err}");
        }
        let err = credentials(
            &parse(r#"{"AccessKeyId":"a","AccessKeySecret":"s","Expiration":"tomorrow"}"#),
            Required {
                token: false,
                expiration: true,
            },
        )
        .unwrap_err();
        assert!(err.contains("Expiration") && err.contains("YYYY"), "{err}");
        let err =
            credentials(&parse(r#"{"AccessKeyId":1,"AccessKeySecret":"s"}"#), ALL).unwrap_err();
        assert!(err.contains("AccessKeyId"));
        let ok = credentials(
            &parse(r#"{"AccessKeyId":"a","AccessKeySecret":"s"}"#),
            Required {
                token: false,
                expiration: false,
            },
        );
        assert!(ok.is_ok());
    }

    #[test]
    fn redaction_removes_every_copy() {
        assert_eq!(
            redact("token abcd and abcd", &["abcd", ""]),
            "token <redacted> and <redacted>"
        );
    }
}

//! Client-side checks run before anything is sent.
//!
//! Neither official SDK checks the server's key and size rules (a key is 1-1023 bytes of
//! UTF-8; one PutObject carries at most 5 GiB).
//! A bad name or an oversized body then costs a signed round trip, or for a 5 GiB body the
//! whole upload, before OSS rejects it. Failing early with a message that names the field,
//! the rule and the offending value is cheaper and clearer. Each check returns
//! `Err(message)`. The caller wraps the message in the crate's error type.

/// The largest body one PutObject accepts (OSS server rule: 5 GiB). Larger objects need
/// multipart upload.
pub(crate) const MAX_PUT_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024;

/// The longest object key OSS accepts, in UTF-8 bytes (server rule; `InvalidObjectName`
/// otherwise).
pub(crate) const MAX_KEY_BYTES: usize = 1023;

/// Longest value (in characters) quoted in full in an error message. Longer values are
/// cut so a 1 KiB key does not flood the message.
const MAX_SHOWN_CHARS: usize = 64;
/// How many leading characters of a too-long value are shown.
const SHOWN_PREFIX_CHARS: usize = 40;

/// Quotes `value` for an error message (Rust string escaping, so control characters and
/// quotes stay visible). Long values are cut on a character boundary and their byte length
/// is given.
fn shown(value: &str) -> String {
    if value.chars().count() <= MAX_SHOWN_CHARS {
        format!("{value:?}")
    } else {
        let prefix: String = value.chars().take(SHOWN_PREFIX_CHARS).collect();
        format!("{prefix:?}... ({} bytes)", value.len())
    }
}

/// The bucket naming rule, as one sentence for error messages.
const BUCKET_RULE: &str = "use 3-63 characters of lowercase letters, digits and hyphens, \
     starting and ending with a letter or digit, with no \"--\"";

/// Checks a bucket name before it goes into a host name or path.
///
/// Rule: 3-63 characters, only `[a-z0-9-]`, starting and ending with a letter or digit,
/// and no `--`. The `--` rule is stricter than the OSS documentation and both SDKs, which
/// only require the first three.
pub(crate) fn bucket_name(name: &str) -> Result<(), String> {
    let chars = name.chars().count();
    let problem = if !(3..=63).contains(&chars) {
        format!("length {chars}")
    } else if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        format!("contains {c:?}")
    } else if name.starts_with('-') {
        "starts with '-'".to_owned()
    } else if name.ends_with('-') {
        "ends with '-'".to_owned()
    } else if name.contains("--") {
        "contains \"--\"".to_owned()
    } else {
        return Ok(());
    };
    Err(format!(
        "invalid bucket name {} ({problem}): {BUCKET_RULE}",
        shown(name)
    ))
}

/// Checks an object key against the server's rules: 1-1023 UTF-8 bytes,
/// not starting with `/` or `\`. Python counts characters (1-1024) and Go only rejects the
/// empty key, so both let through keys that OSS then rejects with `InvalidObjectName`.
pub(crate) fn object_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("invalid object key \"\": a key must not be empty".to_owned());
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(format!(
            "invalid object key {}: a key is at most {MAX_KEY_BYTES} bytes of UTF-8, \
             this one is {} bytes",
            shown(key),
            key.len()
        ));
    }
    if key.starts_with('/') || key.starts_with('\\') {
        return Err(format!(
            "invalid object key {}: a key must not start with '/' or '\\'",
            shown(key)
        ));
    }
    Ok(())
}

/// Checks a known body length before a single PutObject. Over 5 GiB the server refuses
/// the object, but only after the whole body has been sent. Multipart upload is the way
/// to store it.
pub(crate) fn put_object_size(len: u64) -> Result<(), String> {
    if len > MAX_PUT_OBJECT_SIZE {
        return Err(format!(
            "invalid body size {len} bytes: PutObject takes at most 5 GiB \
             ({MAX_PUT_OBJECT_SIZE} bytes); use multipart upload for larger objects"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTORS: &str = include_str!("../tests/data/vectors-public.json");

    #[test]
    fn valid_bucket_names() {
        let names = [
            "abc".to_owned(),
            "a1b".to_owned(),
            "123".to_owned(),
            "a-b".to_owned(),
            "examplebucket".to_owned(),
            "test-bucket-2021".to_owned(),
            "aliyun-oss-bucket".to_owned(),
            "a".repeat(63),
            format!("a{}z", "-b".repeat(30)),
        ];
        for name in &names {
            assert_eq!(bucket_name(name), Ok(()), "{name:?}");
        }
    }

    #[test]
    fn invalid_bucket_names() {
        let cases = [
            (String::new(), "(length 0)"),
            ("a".to_owned(), "(length 1)"),
            ("ab".to_owned(), "(length 2)"),
            ("a".repeat(64), "(length 64)"),
            ("a".repeat(1000), "(length 1000)"),
            ("Bad_Bucket".to_owned(), "(contains 'B')"),
            ("bad_bucket".to_owned(), "(contains '_')"),
            ("Examplebucket1".to_owned(), "(contains 'E')"),
            ("a.b.c".to_owned(), "(contains '.')"),
            ("abc ".to_owned(), "(contains ' ')"),
            ("ab\u{e9}".to_owned(), "(contains '\u{e9}')"),
            ("中文桶".to_owned(), "(contains '中')"),
            ("-abc".to_owned(), "(starts with '-')"),
            ("abc-".to_owned(), "(ends with '-')"),
            ("---".to_owned(), "(starts with '-')"),
            ("a--b".to_owned(), "(contains \"--\")"),
        ];
        for (name, why) in &cases {
            let err = bucket_name(name).unwrap_err();
            assert!(err.starts_with("invalid bucket name "), "{err}");
            assert!(err.contains(why), "{name:?}: {err}");
            assert!(err.ends_with(BUCKET_RULE), "{err}");
        }
    }

    #[test]
    fn bucket_message_shape() {
        assert_eq!(
            bucket_name("Bad_Bucket").unwrap_err(),
            "invalid bucket name \"Bad_Bucket\" (contains 'B'): use 3-63 characters of \
             lowercase letters, digits and hyphens, starting and ending with a letter or \
             digit, with no \"--\""
        );
        // 64 characters are still shown in full; longer names are cut.
        assert!(bucket_name(&"a".repeat(64))
            .unwrap_err()
            .contains(&format!("{:?}", "a".repeat(64))));
        let err = bucket_name(&"b".repeat(1000)).unwrap_err();
        assert!(
            err.contains(&format!("{:?}... (1000 bytes)", "b".repeat(40))),
            "{err}"
        );
        // Control characters are escaped, not printed raw.
        assert!(bucket_name("a\nb").unwrap_err().contains(r#""a\nb""#));
    }

    #[test]
    fn object_key_boundaries() {
        let ok = [
            "a".to_owned(),
            "dir/sub dir/file name.bin".to_owned(),
            "a+b%20c~d/中文/ü.png".to_owned(),
            "folder//sub/".to_owned(),
            "a/".to_owned(),
            ".hidden".to_owned(),
            "a".repeat(1023),
            // 341 three-byte characters = 1023 bytes.
            "中".repeat(341),
            // 1021 + 2-byte char = 1023 bytes.
            format!("{}é", "a".repeat(1021)),
        ];
        for key in &ok {
            assert_eq!(object_key(key), Ok(()), "{} bytes", key.len());
        }

        let bad = [
            (String::new(), "must not be empty"),
            ("a".repeat(1024), "this one is 1024 bytes"),
            ("a".repeat(5000), "this one is 5000 bytes"),
            // 342 three-byte characters = 1026 bytes, though only 342 characters.
            ("中".repeat(342), "this one is 1026 bytes"),
            // 1022 + a 2-byte char = 1024 bytes: the multi-byte char crosses the limit.
            (format!("{}é", "a".repeat(1022)), "this one is 1024 bytes"),
            ("/a".to_owned(), "must not start with '/' or '\\'"),
            ("/".to_owned(), "must not start with '/' or '\\'"),
            ("\\a\\b".to_owned(), "must not start with '/' or '\\'"),
        ];
        for (key, why) in &bad {
            let err = object_key(key).unwrap_err();
            assert!(err.starts_with("invalid object key "), "{err}");
            assert!(err.contains(why), "{err}");
        }
        let err = object_key(&"中".repeat(342)).unwrap_err();
        assert!(
            err.contains(&format!("{:?}... (1026 bytes)", "中".repeat(40))),
            "long keys are abbreviated on a char boundary: {err}"
        );
        assert!(err.contains("at most 1023 bytes"), "{err}");
        assert_eq!(
            object_key("/a").unwrap_err(),
            "invalid object key \"/a\": a key must not start with '/' or '\\'"
        );
    }

    #[test]
    fn put_object_size_limit() {
        assert_eq!(MAX_PUT_OBJECT_SIZE, 5_368_709_120);
        for len in [0, 1, MAX_PUT_OBJECT_SIZE - 1, MAX_PUT_OBJECT_SIZE] {
            assert_eq!(put_object_size(len), Ok(()), "{len}");
        }
        for len in [MAX_PUT_OBJECT_SIZE + 1, u64::MAX] {
            let err = put_object_size(len).unwrap_err();
            assert!(err.starts_with("invalid body size "), "{err}");
            assert!(err.contains(&len.to_string()), "{err}");
            assert!(err.contains("5 GiB (5368709120 bytes)"), "{err}");
            assert!(err.contains("multipart upload"), "{err}");
        }
    }

    /// The `validation` behaviour vectors: the cases the Python SDK rejects must be
    /// rejected here too, by the matching check. Missing-field cases (null bucket or key)
    /// cannot happen with `&str` arguments and are skipped.
    #[test]
    fn validation_vectors() {
        let v: serde_json::Value = serde_json::from_str(VECTORS).unwrap();
        let case = v["behaviour_cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "validation")
            .unwrap();
        let mut checked = 0;
        for c in case["cases"].as_array().unwrap() {
            let (Some(bucket), Some(key_len)) = (c["bucket"].as_str(), c["key_len"].as_u64())
            else {
                assert_eq!(c["error_type"], "ParamRequiredError");
                continue;
            };
            let key = "a".repeat(key_len as usize);
            match c["inner_type"].as_str().unwrap() {
                "BucketNameInvalidError" => {
                    let err = bucket_name(bucket).unwrap_err();
                    assert!(err.contains(&format!("{bucket:?}")), "{err}");
                    assert_eq!(object_key(&key), Ok(()));
                }
                "ObjectNameInvalidError" => {
                    assert_eq!(bucket_name(bucket), Ok(()));
                    assert!(object_key(&key)
                        .unwrap_err()
                        .starts_with("invalid object key"));
                }
                other => panic!("unexpected inner_type {other}"),
            }
            checked += 1;
        }
        assert_eq!(checked, 5);
    }
}

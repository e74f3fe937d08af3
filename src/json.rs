//! JSON in: every JSON answer and header the crate reads goes through [`parse`], which hands
//! the text to `tinyjson` after bounding its size and nesting (tinyjson recurses once per
//! level, so unbounded nesting from the network could exhaust the stack).

/// Largest JSON text accepted (credentials answers and callback headers are a few KiB).
pub(crate) const MAX_JSON_BYTES: usize = 1024 * 1024;
/// Deepest nesting of arrays and objects accepted.
pub(crate) const MAX_JSON_DEPTH: usize = 32;

/// Parses `text` as one JSON value; the error says why in a short phrase.
pub(crate) fn parse(text: &str) -> Result<tinyjson::JsonValue, String> {
    if text.len() > MAX_JSON_BYTES {
        return Err(format!("JSON text longer than {MAX_JSON_BYTES} bytes"));
    }
    if depth(text) > MAX_JSON_DEPTH {
        return Err(format!("JSON nested deeper than {MAX_JSON_DEPTH} levels"));
    }
    text.parse()
        .map_err(|e: tinyjson::JsonParseError| format!("not JSON ({e})"))
}

/// Parses `text` as a JSON object.
pub(crate) fn parse_object(
    text: &str,
) -> Result<std::collections::HashMap<String, tinyjson::JsonValue>, String> {
    match parse(text)? {
        tinyjson::JsonValue::Object(map) => Ok(map),
        _ => Err("not a JSON object".to_string()),
    }
}

/// The deepest nesting of `[`/`{` outside strings (an upper bound is all that is needed).
fn depth(text: &str) -> usize {
    let (mut level, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for b in text.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                level = level.saturating_add(1);
                max = max.max(level);
            }
            b']' | b'}' => level = level.saturating_sub(1),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_nesting_and_size_before_parsing() {
        assert!(parse(&"[".repeat(100_000)).unwrap_err().contains("deeper"));
        let ok = format!(
            "{}{}",
            "[".repeat(MAX_JSON_DEPTH),
            "]".repeat(MAX_JSON_DEPTH)
        );
        assert!(parse(&ok).is_ok());
        assert!(parse(r#"{"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}"#).is_ok());
        let big = format!("\"{}\"", "x".repeat(MAX_JSON_BYTES));
        assert!(parse(&big).unwrap_err().contains("longer"));
    }

    /// Mutated credentials answers and random bytes: an error value, never a panic.
    #[test]
    fn arbitrary_text_never_panics() {
        let seed = r#"{"Code":"Success","AccessKeyId":"STS.a","Expiration":"2099-03-15T14:30:00Z","n":-1.5e3,"u":"\ud83d\ude00\u00e9","a":[true,false,null,{}]}"#;
        let alphabet = b"{}[]\",:\\u0123456789abcdefeE+-.tfnrl \n\x01\xff";
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..20_000u32 {
            let mut bytes = seed.as_bytes().to_vec();
            for _ in 0..(next() % 6) {
                let at = (next() as usize) % bytes.len().max(1);
                let with = alphabet[(next() as usize) % alphabet.len()];
                match next() % 3 {
                    0 => bytes[at] = with,
                    1 => bytes.insert(at, with),
                    _ => {
                        bytes.remove(at);
                    }
                }
            }
            if round % 4 == 0 {
                bytes.truncate((next() as usize) % (bytes.len() + 1));
            }
            let _ = parse(&String::from_utf8_lossy(&bytes));
        }
        for lone in [
            r#""\ud800""#,
            r#""\udc00x""#,
            r#""\u12""#,
            "-",
            "1e999999",
            "\"\\",
        ] {
            let _ = parse(lone);
        }
    }

    #[test]
    fn objects_only_where_an_object_is_wanted() {
        assert!(parse_object("{\"a\":1}").unwrap().contains_key("a"));
        assert!(parse_object("[1]").unwrap_err().contains("object"));
        assert!(parse_object("{} x").unwrap_err().contains("not JSON"));
    }
}

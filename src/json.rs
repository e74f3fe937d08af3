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

    #[test]
    fn objects_only_where_an_object_is_wanted() {
        assert!(parse_object("{\"a\":1}").unwrap().contains_key("a"));
        assert!(parse_object("[1]").unwrap_err().contains("object"));
        assert!(parse_object("{} x").unwrap_err().contains("not JSON"));
    }
}

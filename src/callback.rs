//! Upload callbacks: after storing the object, OSS POSTs to your server and returns its answer.
//!
//! OSS takes two headers, each the base64 of a JSON object: `x-oss-callback` (the URL, the
//! body template, its type) and `x-oss-callback-var` (your `x:` variables, substituted into
//! `${x:name}` in the template). [`Callback`] builds both, so the JSON escaping and base64 are
//! done once, correctly. The raw setters [`crate::PutObjectRequest::callback`] and
//! [`crate::PutObjectRequest::callback_var`] take them ready-made, as on the official page;
//! either way the values are checked before sending.
//!
//! How OSS signs the callback POST (so your server can tell it came from OSS): it signs
//! `urldecode(path) + query + "\n" + body` with RSA over an MD5 digest (PKCS#1 v1.5,
//! "MD5withRSA"), puts the base64 signature in `authorization` and the base64 of the URL of
//! its public key (PEM) in `x-oss-pub-key-url`. The built-in emulator does exactly that with a
//! test key it serves itself.

use base64::Engine as _;

/// An upload callback: where OSS POSTs, what it POSTs, and your custom variables.
///
/// ```
/// use oss_blocking as oss;
/// let callback = oss::Callback::new(
///     "http://www.example.com/callback",
///     "bucket=${bucket}&object=${object}&my_var=${x:my_var}",
/// )
/// .var("x:my_var", "first upload");
/// let req = oss::PutObjectRequest::new("examplebucket", "a.txt")
///     .body("hello")
///     .upload_callback(&callback);
/// # let _ = req;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Callback {
    url: String,
    body: String,
    host: Option<String>,
    body_type: Option<String>,
    sni: Option<bool>,
    vars: Vec<(String, String)>,
}

impl Callback {
    /// A callback to `url` (several URLs: separate them with `;`) with this body template.
    /// The template may use `${bucket}`, `${object}`, `${etag}`, `${size}`, `${mimeType}`,
    /// `${crc64}`, `${contentMd5}` and your `${x:name}` variables.
    pub fn new(url: impl Into<String>, body: impl Into<String>) -> Self {
        Callback {
            url: url.into(),
            body: body.into(),
            host: None,
            body_type: None,
            sni: None,
            vars: Vec::new(),
        }
    }

    /// The `Host` header OSS sends to the callback server (default: the URL's host).
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// The `Content-Type` of the POST: `application/x-www-form-urlencoded` (OSS's default)
    /// or `application/json`.
    pub fn body_type(mut self, body_type: impl Into<String>) -> Self {
        self.body_type = Some(body_type.into());
        self
    }

    /// Whether OSS sends SNI to an HTTPS callback server.
    pub fn sni(mut self, sni: bool) -> Self {
        self.sni = Some(sni);
        self
    }

    /// A custom variable; its name must start with `x:` (checked when the request is sent).
    pub fn var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.push((name.into(), value.into()));
        self
    }

    /// The `x-oss-callback` value: base64 of the JSON object.
    ///
    /// ```
    /// use oss_blocking as oss;
    /// let header = oss::Callback::new("http://example.com/cb", "object=${object}").header_value();
    /// assert_eq!(
    ///     header,
    ///     "eyJjYWxsYmFja1VybCI6Imh0dHA6Ly9leGFtcGxlLmNvbS9jYiIsImNhbGxiYWNrQm9keSI6Im9iamVjdD0ke29iamVjdH0ifQ=="
    /// );
    /// ```
    pub fn header_value(&self) -> String {
        let mut fields = vec![
            ("callbackUrl", json_string(&self.url)),
            ("callbackBody", json_string(&self.body)),
        ];
        if let Some(host) = &self.host {
            fields.push(("callbackHost", json_string(host)));
        }
        if let Some(t) = &self.body_type {
            fields.push(("callbackBodyType", json_string(t)));
        }
        if let Some(sni) = self.sni {
            fields.push(("callbackSNI", sni.to_string()));
        }
        let json = json_object(fields.iter().map(|(k, v)| (json_string(k), v.as_str())));
        base64::engine::general_purpose::STANDARD.encode(json)
    }

    /// The `x-oss-callback-var` value (base64 of the JSON object of variables), or `None`
    /// when there are none.
    pub fn var_header_value(&self) -> Option<String> {
        if self.vars.is_empty() {
            return None;
        }
        let values: Vec<(String, String)> = self
            .vars
            .iter()
            .map(|(k, v)| (json_string(k), json_string(v)))
            .collect();
        let json = json_object(values.iter().map(|(k, v)| (k.clone(), v.as_str())));
        Some(base64::engine::general_purpose::STANDARD.encode(json))
    }
}

fn json_object<'a>(fields: impl Iterator<Item = (String, &'a str)>) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&k);
        out.push(':');
        out.push_str(v);
    }
    out.push('}');
    out
}

/// A JSON string literal.
pub(crate) fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len().saturating_add(2));
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON value as far as the callback headers need: strings, and literals kept as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum JsonValue {
    String(String),
    /// `true`, `false`, `null` or a number, as written.
    Literal(String),
}

impl JsonValue {
    /// The string content, or the literal as written.
    #[cfg_attr(not(feature = "emulator"), allow(dead_code))]
    pub(crate) fn as_text(&self) -> &str {
        match self {
            JsonValue::String(s) | JsonValue::Literal(s) => s,
        }
    }
}

/// Parses a flat JSON object (`{"k": "v", "n": true}`), its fields sorted by name; nested
/// objects and arrays are not part of either callback header and are refused.
pub(crate) fn parse_flat_json_object(text: &str) -> Result<Vec<(String, JsonValue)>, String> {
    let map = crate::json::parse_object(text)?;
    let mut out = Vec::with_capacity(map.len());
    for (key, value) in map {
        let value = match value {
            tinyjson::JsonValue::String(s) => JsonValue::String(s),
            tinyjson::JsonValue::Number(n) => JsonValue::Literal(n.to_string()),
            tinyjson::JsonValue::Boolean(b) => JsonValue::Literal(b.to_string()),
            tinyjson::JsonValue::Null => JsonValue::Literal("null".to_string()),
            _ => {
                return Err(format!(
                    "field {key:?}: expected a string, number or true/false value"
                ))
            }
        };
        out.push((key, value));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn decode_header_json(name: &str, value: &str) -> Result<Vec<(String, JsonValue)>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .map_err(|_| {
            format!("invalid {name}: not base64 (it is the base64 of a JSON object; Callback builds it)")
        })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("invalid {name}: the decoded value is not UTF-8 JSON"))?;
    parse_flat_json_object(&text)
        .map_err(|e| format!("invalid {name}: the decoded value is not a flat JSON object ({e})"))
}

/// Checks an `x-oss-callback` value: base64 of a JSON object with a non-empty `callbackUrl`.
pub(crate) fn check_callback(value: &str) -> Result<(), String> {
    let fields = decode_header_json("callback", value)?;
    match fields.iter().find(|(k, _)| k == "callbackUrl") {
        Some((_, JsonValue::String(url))) if !url.trim().is_empty() => Ok(()),
        _ => Err("invalid callback: the JSON has no callbackUrl string".to_string()),
    }
}

/// Checks an `x-oss-callback-var` value: base64 of a JSON object whose keys start with `x:`.
pub(crate) fn check_callback_var(value: &str) -> Result<(), String> {
    let fields = decode_header_json("callback_var", value)?;
    for (key, _) in &fields {
        if !key.starts_with("x:") || key.len() < 3 {
            return Err(format!(
                "invalid callback_var: variable {key:?} must be named x:<name> (OSS only \
                 substitutes custom variables that start with \"x:\")"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(b64: &str) -> String {
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn builds_the_json_the_official_page_shows() {
        let cb = Callback::new(
            "http://www.example.com/callback",
            "bucket=${bucket}&object=${object}&my_var_1=${x:var1}",
        )
        .host("example.com")
        .body_type("application/x-www-form-urlencoded")
        .sni(false)
        .var("x:var1", "value1")
        .var("x:var2", "quote \" and \\ and\nnewline");
        let json: serde_json::Value = serde_json::from_str(&decode(&cb.header_value())).unwrap();
        assert_eq!(json["callbackUrl"], "http://www.example.com/callback");
        assert_eq!(
            json["callbackBody"],
            "bucket=${bucket}&object=${object}&my_var_1=${x:var1}"
        );
        assert_eq!(json["callbackHost"], "example.com");
        assert_eq!(
            json["callbackBodyType"],
            "application/x-www-form-urlencoded"
        );
        assert_eq!(json["callbackSNI"], false);
        let vars: serde_json::Value =
            serde_json::from_str(&decode(&cb.var_header_value().unwrap())).unwrap();
        assert_eq!(vars["x:var1"], "value1");
        assert_eq!(vars["x:var2"], "quote \" and \\ and\nnewline");
        assert!(check_callback(&cb.header_value()).is_ok());
        assert!(check_callback_var(&cb.var_header_value().unwrap()).is_ok());
        assert_eq!(Callback::new("u", "b").var_header_value(), None);
    }

    #[test]
    fn parser_reads_what_serde_writes() {
        let text = r#" { "a" : "x\u00e9\"y", "b": true, "c": 12.5, "d": "" } "#;
        let fields = parse_flat_json_object(text).unwrap();
        assert_eq!(fields[0], ("a".into(), JsonValue::String("xé\"y".into())));
        assert_eq!(fields[1].1.as_text(), "true");
        assert_eq!(fields[2].1.as_text(), "12.5");
        assert_eq!(fields[3].1.as_text(), "");
        assert_eq!(parse_flat_json_object("{}").unwrap(), vec![]);
        for bad in [
            "",
            "[]",
            "{\"a\":{}}",
            "{\"a\" \"b\"}",
            "{\"a\":\"b\"",
            "{} x",
        ] {
            assert!(parse_flat_json_object(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn checks_refuse_what_oss_would() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert!(check_callback("not base64!")
            .unwrap_err()
            .contains("base64"));
        assert!(check_callback(&b64("{\"callbackBody\":\"x\"}"))
            .unwrap_err()
            .contains("callbackUrl"));
        assert!(check_callback(&b64("{\"callbackUrl\":\"http://a/\"}")).is_ok());
        assert!(check_callback_var(&b64("{\"x:a\":\"1\"}")).is_ok());
        let err = check_callback_var(&b64("{\"x:a\":\"1\",\"my_var\":\"2\"}")).unwrap_err();
        assert!(err.contains("\"my_var\"") && err.contains("x:"), "{err}");
        assert!(check_callback_var(&b64("{\"x:\":\"1\"}")).is_err());
    }
}

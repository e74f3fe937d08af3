//! Upload callbacks as OSS performs them: after storing the object, POST the filled-in body
//! template to the callback URL, signed with RSA, and hand the server's answer back to the
//! uploader (or answer 203 `CallbackFailed`).
//!
//! Signature, as OSS documents it: `authorization` is the base64 of an RSA PKCS#1 v1.5
//! signature over the MD5 digest ("MD5withRSA") of `urldecode(path?query) + "\n" + body`;
//! `x-oss-pub-key-url` is the base64 of the URL of the PEM public key. The emulator signs
//! with the test key in `data/` (not a secret) and serves its public key itself at
//! [`PUBLIC_KEY_PATH`] on its own port.

use std::time::Duration;

use base64::Engine as _;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Form values keep RFC 3986 unreserved characters and encode the rest.
const FORM_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
use rsa::pkcs8::DecodePrivateKey as _;

use super::error::{self, ErrorReply};
use crate::callback::{parse_flat_json_object, JsonValue};

/// Where the emulator serves the callback public key: the first path segment cannot be a
/// bucket name (`_` is not allowed in bucket names), so it never shadows an object.
pub const PUBLIC_KEY_PATH: &str = "/_emulator/callback-public-key.pem";

/// The public key (PEM, SubjectPublicKeyInfo) whose private half signs the emulator's
/// callbacks. A test key, generated once with openssl; not a secret.
pub const PUBLIC_KEY_PEM: &str = include_str!("data/callback-key.pub.pem");
const PRIVATE_KEY_PKCS8_DER: &[u8] = include_bytes!("data/callback-key.pk8.der");

/// How long the emulator waits for a callback server (OSS gives it 5 seconds).
const CALLBACK_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest callback answer OSS accepts (3 MB).
const MAX_CALLBACK_RESPONSE: u64 = 3 * 1024 * 1024;
/// Most callback URLs one request may give (OSS rule), separated by `;`.
const MAX_CALLBACK_URLS: usize = 5;

/// A parsed `x-oss-callback` (+ `x-oss-callback-var`).
#[derive(Debug, Clone)]
pub(crate) struct CallbackSpec {
    urls: Vec<String>,
    body: String,
    body_type: String,
    vars: Vec<(String, String)>,
}

fn bad_callback(message: &str, header: &str, value: &str) -> ErrorReply {
    error::invalid_argument(message, header, value)
}

fn decode_json(header: &str, value: &str) -> Result<Vec<(String, JsonValue)>, ErrorReply> {
    let text = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            bad_callback(
                "The callback configuration is not base64 encoded.",
                header,
                value,
            )
        })?;
    parse_flat_json_object(&text).map_err(|_| {
        bad_callback(
            "The callback configuration is not json format.",
            header,
            value,
        )
    })
}

/// Reads the callback headers of a PutObject; `Ok(None)` when there is no callback.
pub(crate) fn parse(
    callback: Option<&str>,
    callback_var: Option<&str>,
) -> Result<Option<CallbackSpec>, ErrorReply> {
    let Some(callback) = callback else {
        return Ok(None);
    };
    let fields = decode_json("x-oss-callback", callback)?;
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_text().to_string())
    };
    let url = field("callbackUrl").unwrap_or_default();
    let urls: Vec<String> = url
        .split(';')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .collect();
    if urls.is_empty() || urls.len() > MAX_CALLBACK_URLS {
        return Err(bad_callback(
            "The callbackUrl must hold 1 to 5 URLs separated by ';'.",
            "x-oss-callback",
            callback,
        ));
    }
    let body_type = field("callbackBodyType")
        .unwrap_or_else(|| "application/x-www-form-urlencoded".to_string());
    if !matches!(
        body_type.as_str(),
        "application/x-www-form-urlencoded" | "application/json"
    ) {
        return Err(bad_callback(
            "The callbackBodyType must be application/x-www-form-urlencoded or application/json.",
            "x-oss-callback",
            callback,
        ));
    }
    let mut vars = Vec::new();
    if let Some(var) = callback_var {
        for (k, v) in decode_json("x-oss-callback-var", var)? {
            if !k.starts_with("x:") {
                return Err(bad_callback(
                    "The callback variable name must start with x:.",
                    "x-oss-callback-var",
                    var,
                ));
            }
            vars.push((k, v.as_text().to_string()));
        }
    }
    Ok(Some(CallbackSpec {
        urls,
        body: field("callbackBody").unwrap_or_default(),
        body_type,
        vars,
    }))
}

/// The system variables of one stored object.
pub(crate) struct ObjectFacts<'a> {
    pub bucket: &'a str,
    pub object: &'a str,
    /// Without quotes, as OSS substitutes it.
    pub etag: &'a str,
    pub size: u64,
    pub mime_type: &'a str,
    pub crc64: u64,
    pub content_md5: &'a str,
}

impl CallbackSpec {
    /// The POST body: the template with `${name}` replaced. Values are URL-encoded for a form
    /// body and JSON-escaped for a JSON body, so they cannot break the body's syntax. Unknown
    /// variables become empty, as on OSS.
    pub(crate) fn fill(&self, facts: &ObjectFacts<'_>) -> String {
        let json = self.body_type == "application/json";
        let value_of = |name: &str| -> String {
            let raw = match name {
                "bucket" => facts.bucket.to_string(),
                "object" => facts.object.to_string(),
                "etag" => facts.etag.to_string(),
                "size" => facts.size.to_string(),
                "mimeType" => facts.mime_type.to_string(),
                "crc64" => facts.crc64.to_string(),
                "contentMd5" => facts.content_md5.to_string(),
                other => self
                    .vars
                    .iter()
                    .find(|(k, _)| k == other)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
            };
            if json {
                let quoted = crate::callback::json_string(&raw);
                quoted
                    .strip_prefix('"')
                    .and_then(|s| s.strip_suffix('"'))
                    .unwrap_or("")
                    .to_string()
            } else {
                utf8_percent_encode(&raw, FORM_VALUE).to_string()
            }
        };
        let mut out = String::with_capacity(self.body.len());
        let mut rest = self.body.as_str();
        while let Some(start) = rest.find("${") {
            let (before, after) = rest.split_at(start);
            out.push_str(before);
            let inner = after.get(2..).unwrap_or("");
            match inner.split_once('}') {
                Some((name, after_brace)) => {
                    out.push_str(&value_of(name));
                    rest = after_brace;
                }
                None => {
                    out.push_str(after);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// POSTs the body to each URL in turn until one answers 200; gives its content type and
    /// body, or why every one failed.
    pub(crate) fn perform(
        &self,
        body: &str,
        public_key_url: &str,
    ) -> Result<(String, Vec<u8>), String> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .timeout_global(Some(CALLBACK_TIMEOUT))
            .build()
            .into();
        let mut why = String::new();
        for url in &self.urls {
            let path_and_query = match url.parse::<ureq::http::Uri>() {
                Ok(uri) => uri
                    .path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "/".to_string()),
                Err(_) => {
                    why = format!("the callback URL {url:?} is not valid");
                    continue;
                }
            };
            let signature = sign(&path_and_query, body.as_bytes())?;
            let sent = agent
                .post(url)
                .header("Content-Type", &self.body_type)
                .header("authorization", &signature)
                .header(
                    "x-oss-pub-key-url",
                    base64::engine::general_purpose::STANDARD.encode(public_key_url),
                )
                .send(body.as_bytes());
            match sent {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let content_type = response
                        .headers()
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("application/json")
                        .to_string();
                    let answer = response
                        .into_body()
                        .with_config()
                        .limit(MAX_CALLBACK_RESPONSE)
                        .read_to_vec();
                    match (status, answer) {
                        (200, Ok(answer)) if looks_like_json(&answer) => {
                            return Ok((content_type, answer))
                        }
                        (200, Ok(_)) => why = "Response body is not valid json format.".to_string(),
                        (200, Err(e)) => why = format!("reading the answer failed: {e}"),
                        (status, answer) => {
                            why = format!(
                                "Error status : {status}. Response body : {}",
                                String::from_utf8_lossy(&answer.unwrap_or_default())
                            )
                        }
                    }
                }
                Err(e) => why = format!("Error status : -1. {url}: {e}"),
            }
        }
        Err(why)
    }
}

/// OSS wants a JSON answer from the callback server. Without a JSON parser at run time, the
/// emulator checks the shape: an object or array after trimming whitespace.
fn looks_like_json(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    let t = text.trim();
    (t.starts_with('{') && t.ends_with('}')) || (t.starts_with('[') && t.ends_with(']'))
}

/// The DER `DigestInfo` header for an MD5 digest (RFC 8017, section 9.2, note 1): what
/// `Pkcs1v15Sign::new::<Md5>()` builds from a RustCrypto digest's OID. The `md5` crate is not
/// a RustCrypto digest, so the MD5withRSA padding is spelled out.
const MD5_DIGEST_INFO_PREFIX: [u8; 18] = [
    0x30, 0x20, 0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05, 0x05, 0x00,
    0x04, 0x10,
];

/// PKCS#1 v1.5 signature padding for MD5withRSA.
fn md5_with_rsa() -> rsa::Pkcs1v15Sign {
    rsa::Pkcs1v15Sign {
        hash_len: Some(16),
        prefix: Box::new(MD5_DIGEST_INFO_PREFIX),
    }
}

/// The `authorization` value OSS puts on a callback POST: base64 of the MD5withRSA signature
/// of `urldecode(path_and_query) + "\n" + body`.
pub fn sign(path_and_query: &str, body: &[u8]) -> Result<String, String> {
    let key = rsa::RsaPrivateKey::from_pkcs8_der(PRIVATE_KEY_PKCS8_DER)
        .map_err(|e| format!("the emulator's callback key does not load: {e}"))?;
    let mut message = percent_decode_str(path_and_query).collect::<Vec<u8>>();
    message.push(b'\n');
    message.extend_from_slice(body);
    let digest = md5::compute(&message);
    let signature = key
        .sign(md5_with_rsa(), &digest.0)
        .map_err(|e| format!("signing the callback failed: {e}"))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(signature))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::DecodePublicKey as _;

    fn spec(body: &str, body_type: &str, vars: &[(&str, &str)]) -> CallbackSpec {
        CallbackSpec {
            urls: vec!["http://127.0.0.1:1/cb".into()],
            body: body.into(),
            body_type: body_type.into(),
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    const FACTS: ObjectFacts<'static> = ObjectFacts {
        bucket: "examplebucket",
        object: "dir/a b.txt",
        etag: "5EB63BBBE01EEED093CB22BB8F5ACDC3",
        size: 11,
        mime_type: "text/plain",
        crc64: 5981764153023615706,
        content_md5: "XrY7u+Ae7tCTyyK7j1rNww==",
    };

    #[test]
    fn template_variables_are_filled_and_encoded() {
        let form = spec(
            "bucket=${bucket}&object=${object}&etag=${etag}&size=${size}&mime=${mimeType}&v=${x:v}&u=${x:unknown}&open=${",
            "application/x-www-form-urlencoded",
            &[("x:v", "a&b")],
        );
        assert_eq!(
            form.fill(&FACTS),
            "bucket=examplebucket&object=dir%2Fa%20b.txt&etag=5EB63BBBE01EEED093CB22BB8F5ACDC3\
             &size=11&mime=text%2Fplain&v=a%26b&u=&open=${"
        );
        let json = spec(
            r#"{"object":"${object}","crc64":"${crc64}","v":"${x:v}"}"#,
            "application/json",
            &[("x:v", "say \"hi\"")],
        );
        let filled: serde_json::Value = serde_json::from_str(&json.fill(&FACTS)).unwrap();
        assert_eq!(filled["object"], "dir/a b.txt");
        assert_eq!(filled["crc64"], "5981764153023615706");
        assert_eq!(filled["v"], "say \"hi\"");
    }

    #[test]
    fn signature_verifies_with_the_served_public_key_over_md5() {
        let signature = sign("/cb%20x?a=1", b"object=a").unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(signature)
            .unwrap();
        let key = rsa::RsaPublicKey::from_public_key_pem(PUBLIC_KEY_PEM).unwrap();
        let digest = md5::compute(b"/cb x?a=1\nobject=a");
        key.verify(md5_with_rsa(), &digest.0, &raw).unwrap();
        let other = md5::compute(b"/cb x?a=1\nobject=b");
        assert!(key.verify(md5_with_rsa(), &other.0, &raw).is_err());
    }

    #[test]
    fn only_json_answers_count_as_success() {
        assert!(looks_like_json(b" {\"Status\":\"OK\"}\n"));
        assert!(looks_like_json(b"[]"));
        assert!(!looks_like_json(b"OK"));
        assert!(!looks_like_json(b""));
    }

    #[test]
    fn bad_headers_are_refused() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert!(parse(None, None).unwrap().is_none());
        assert!(parse(Some("%%%"), None).is_err());
        assert!(parse(Some(&b64("{\"callbackBody\":\"x\"}")), None).is_err());
        let cb = b64("{\"callbackUrl\":\"http://a/;http://b/\",\"callbackBody\":\"x\"}");
        assert_eq!(parse(Some(&cb), None).unwrap().unwrap().urls.len(), 2);
        let six = b64(
            "{\"callbackUrl\":\"http://a/;http://b/;http://c/;http://d/;http://e/;http://f/\"}",
        );
        assert!(parse(Some(&six), None).is_err());
        assert!(parse(Some(&cb), Some(&b64("{\"y\":\"1\"}"))).is_err());
        let typed = b64("{\"callbackUrl\":\"http://a/\",\"callbackBodyType\":\"text/plain\"}");
        assert!(parse(Some(&typed), None).is_err());
    }
}

//! OSS error responses: status, code, message, EC and the `<Error>` XML body OSS sends.
//!
//! Messages follow OSS's own wording where it is published. EC values: `0002-00000040`
//! (SignatureDoesNotMatch), `0002-00000504` (RequestTimeTooSkewed), `0026-00000001`
//! (NoSuchKey), `0026-00000002` (FileAlreadyExists) and `0016-00000002`/`0016-00000005`
//! (InvalidObjectName) appear in OSS's documentation or responses; the others only follow
//! the `NNNN-NNNNNNNN` format, so clients can rely on the header being present, not on
//! those exact values.

use base64::Engine as _;

use super::http::{Body, Response};

/// An error to answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ErrorReply {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub ec: String,
    /// Extra elements after `<EC>`, e.g. `CanonicalRequest` for signature errors.
    pub extra: Vec<(&'static str, String)>,
}

impl ErrorReply {
    pub fn new(status: u16, code: &str, message: impl Into<String>, ec: &str) -> Self {
        ErrorReply {
            status,
            code: code.to_string(),
            message: message.into(),
            ec: ec.to_string(),
            extra: Vec::new(),
        }
    }

    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.extra.push((name, value.into()));
        self
    }

    /// The XML body OSS sends.
    pub fn xml(&self, request_id: &str, host_id: &str) -> String {
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n");
        let mut element = |name: &str, value: &str| {
            xml.push_str(&format!("  <{name}>{}</{name}>\n", escape_xml(value)));
        };
        element("Code", &self.code);
        element("Message", &self.message);
        element("RequestId", request_id);
        element("HostId", host_id);
        element("EC", &self.ec);
        for (name, value) in &self.extra {
            element(name, value);
        }
        element(
            "RecommendDoc",
            &format!("https://api.aliyun.com/troubleshoot?q={}", self.ec),
        );
        xml.push_str("</Error>\n");
        xml
    }

    /// The response: XML body, `Content-Type`, `x-oss-ec`; for HEAD (which has no body) the
    /// XML goes base64-encoded into `x-oss-err`, as OSS does.
    pub fn response(&self, request_id: &str, host_id: &str, head: bool) -> Response {
        let xml = self.xml(request_id, host_id);
        let mut resp = Response::new(self.status)
            .header("Content-Type", "application/xml")
            .header("x-oss-ec", self.ec.clone());
        if head {
            resp = resp.header(
                "x-oss-err",
                base64::engine::general_purpose::STANDARD.encode(xml.as_bytes()),
            );
            resp.headers.append("Content-Length", "0");
        } else {
            resp.body = Body::Bytes(xml.into_bytes());
        }
        resp
    }
}

/// Escapes text for an XML element.
pub(crate) fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Not representable in XML 1.0: keep the document well-formed.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn access_denied_anonymous() -> ErrorReply {
    ErrorReply::new(
        403,
        "AccessDenied",
        "You have no right to access this object because of bucket acl.",
        "0003-00000001",
    )
}

pub(crate) fn invalid_authorization(why: &str) -> ErrorReply {
    ErrorReply::new(
        400,
        "InvalidArgument",
        format!("Authorization header is invalid: {why}"),
        "0002-00000012",
    )
}

pub(crate) fn invalid_access_key_id(id: &str) -> ErrorReply {
    ErrorReply::new(
        403,
        "InvalidAccessKeyId",
        "The OSS Access Key Id you provided does not exist in our records.",
        "0002-00000002",
    )
    .with("OSSAccessKeyId", id)
}

pub(crate) fn invalid_security_token(message: &str) -> ErrorReply {
    ErrorReply::new(403, "InvalidSecurityToken", message, "0002-00000031")
}

pub(crate) fn signing_scope_mismatch(what: &str, got: &str, expected: &str) -> ErrorReply {
    ErrorReply::new(
        403,
        "AccessDenied",
        format!("Invalid signing {what} in Authorization header: got {got}, expected {expected}."),
        "0002-00000211",
    )
}

pub(crate) fn invalid_date(value: Option<&str>) -> ErrorReply {
    ErrorReply::new(
        403,
        "AccessDenied",
        match value {
            Some(v) => format!("Invalid x-oss-date: {v}. The format is yyyyMMddTHHmmssZ."),
            None => "The x-oss-date header is missing from a V4 signed request.".to_string(),
        },
        "0002-00000505",
    )
}

pub(crate) fn request_time_too_skewed(request_time: &str, server_time: &str) -> ErrorReply {
    ErrorReply::new(
        403,
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large.",
        "0002-00000504",
    )
    .with("RequestTime", request_time)
    .with("ServerTime", server_time)
}

pub(crate) fn signature_does_not_match(
    access_key_id: &str,
    provided: &str,
    string_to_sign: &str,
    canonical_request: &str,
) -> ErrorReply {
    ErrorReply::new(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. \
         Check your key and signing method.",
        "0002-00000040",
    )
    .with("OSSAccessKeyId", access_key_id)
    .with("SignatureProvided", provided)
    .with("StringToSign", string_to_sign)
    .with("CanonicalRequest", canonical_request)
}

pub(crate) fn no_such_bucket(bucket: &str) -> ErrorReply {
    ErrorReply::new(
        404,
        "NoSuchBucket",
        "The specified bucket does not exist.",
        "0015-00000101",
    )
    .with("BucketName", bucket)
}

pub(crate) fn no_such_key(key: &str) -> ErrorReply {
    ErrorReply::new(
        404,
        "NoSuchKey",
        "The specified key does not exist.",
        "0026-00000001",
    )
    .with("Key", key)
}

pub(crate) fn invalid_object_name(message: &str, ec: &str) -> ErrorReply {
    ErrorReply::new(400, "InvalidObjectName", message, ec)
}

pub(crate) fn invalid_bucket_name() -> ErrorReply {
    ErrorReply::new(
        400,
        "InvalidBucketName",
        "The specified bucket is not valid.",
        "0015-00000001",
    )
}

pub(crate) fn entity_too_large(max: u64) -> ErrorReply {
    ErrorReply::new(
        400,
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed size.",
        "0016-00000209",
    )
    .with("MaxSizeAllowed", max.to_string())
}

pub(crate) fn file_already_exists() -> ErrorReply {
    ErrorReply::new(
        409,
        "FileAlreadyExists",
        "The object you specified already exists and can not be overwritten.",
        "0026-00000002",
    )
}

pub(crate) fn invalid_argument(message: impl Into<String>, name: &str, value: &str) -> ErrorReply {
    ErrorReply::new(400, "InvalidArgument", message, "0016-00000101")
        .with("ArgumentName", name)
        .with("ArgumentValue", value)
}

pub(crate) fn invalid_digest(message: &str) -> ErrorReply {
    ErrorReply::new(400, "InvalidDigest", message, "0016-00000410")
}

pub(crate) fn malformed_request(why: &str) -> ErrorReply {
    ErrorReply::new(
        400,
        "InvalidRequest",
        format!("The HTTP request is malformed: {why}."),
        "0001-00000400",
    )
}

pub(crate) fn method_not_allowed(method: &str) -> ErrorReply {
    ErrorReply::new(
        405,
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
        "0001-00000405",
    )
    .with("Method", method)
}

pub(crate) fn not_implemented(what: &str) -> ErrorReply {
    ErrorReply::new(
        501,
        "NotImplemented",
        format!("The oss-blocking emulator does not implement {what}."),
        "0001-00000501",
    )
}

pub(crate) fn callback_failed(why: String) -> ErrorReply {
    ErrorReply::new(203, "CallbackFailed", why, "0007-00000203")
}

pub(crate) fn invalid_encryption_algorithm(value: &str) -> ErrorReply {
    ErrorReply::new(
        400,
        "InvalidEncryptionAlgorithmError",
        "The encryption request you specified is not valid. Supported value: AES256/KMS/SM4",
        "0016-00000801",
    )
    .with("ArgumentValue", value)
}

pub(crate) fn invalid_tag(why: &str) -> ErrorReply {
    ErrorReply::new(400, "InvalidTag", why, "0016-00000920")
}

pub(crate) fn injected(status: u16, code: &str) -> ErrorReply {
    ErrorReply::new(
        status,
        code,
        "This error was injected by the emulator's ErrorStatus fault.",
        "0000-00000000",
    )
}

pub(crate) fn service_busy() -> ErrorReply {
    ErrorReply::new(
        503,
        "ServiceUnavailable",
        "The emulator is serving too many connections; try again.",
        "0000-00000503",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_layout_matches_oss() {
        let xml = no_such_key("a<b>&\"c'").xml("RID", "bucket.host");
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>NoSuchKey</Code>\n  \
             <Message>The specified key does not exist.</Message>\n  <RequestId>RID</RequestId>\n  \
             <HostId>bucket.host</HostId>\n  <EC>0026-00000001</EC>\n  \
             <Key>a&lt;b&gt;&amp;&quot;c&apos;</Key>\n  \
             <RecommendDoc>https://api.aliyun.com/troubleshoot?q=0026-00000001</RecommendDoc>\n\
             </Error>\n"
        );
    }

    #[test]
    fn head_errors_carry_the_xml_in_a_header() {
        let resp = no_such_key("k").response("RID", "h", true);
        let encoded = resp.get_header("x-oss-err").unwrap();
        let xml = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        assert!(String::from_utf8(xml)
            .unwrap()
            .contains("<Code>NoSuchKey</Code>"));
        assert_eq!(resp.get_header("content-length"), Some("0"));
        assert_eq!(resp.get_header("x-oss-ec"), Some("0026-00000001"));
    }

    #[test]
    fn control_characters_do_not_break_the_xml() {
        assert_eq!(escape_xml("a\u{1}b\tc"), "a\u{FFFD}b\tc");
    }
}

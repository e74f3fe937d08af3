//! Options several operations share, written once: each group is a struct that checks its
//! values and writes its headers, plus a macro that gives a request type the group's setters.
//!
//! The header rule every operation follows: a value the user gave (a typed setter or
//! [`crate::PutObjectRequest::header`]) wins over a value the client would compute (the
//! `Content-Type` guessed from the key, `Content-MD5` from `Config::auto_content_md5`, the
//! `User-Agent`), and each header appears once. A raw header that repeats a typed setter's
//! header is refused (two values of one option are a mistake either way), as is a raw header
//! the client owns (`Content-Length`, `Host`, the signature headers).

use std::fmt;

use crate::callback;
use crate::error::{ErrorKind, OperationError};
use crate::headers::Headers;
use crate::options::{self, ObjectAcl, ServerSideEncryption, StorageClass, Tagging};
use crate::pipeline::{Rejection, Response};
use crate::retry::Refusal;

/// Lowest `x-oss-traffic-limit` OSS accepts, in bit/s (30 KiB/s).
pub const MIN_TRAFFIC_LIMIT: u64 = 245_760;
/// Highest `x-oss-traffic-limit` OSS accepts, in bit/s (100 MiB/s).
pub const MAX_TRAFFIC_LIMIT: u64 = 838_860_800;

/// The `x-oss-hash-crc64ecma` header: the CRC-64 OSS computed over what it stored.
pub(crate) const HEADER_CRC64: &str = "x-oss-hash-crc64ecma";

/// An optional text option: unset, or a value that must not be empty.
fn non_empty<'v>(option: &str, value: &'v Option<String>) -> Result<Option<&'v str>, String> {
    match value.as_deref() {
        Some("") => Err(format!(
            "invalid {option} \"\": it must not be empty (leave the option unset instead)"
        )),
        other => Ok(other),
    }
}

/// What describes the stored object: content headers, storage class, encryption, tags and
/// metadata (PutObject, InitiateMultipartUpload, AppendObject).
#[derive(Clone, Debug, Default)]
pub(crate) struct ObjectAttributes {
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    pub content_disposition: Option<String>,
    pub content_encoding: Option<String>,
    pub expires: Option<String>,
    pub storage_class: Option<StorageClass>,
    pub sse: Option<ServerSideEncryption>,
    pub sse_data: Option<String>,
    pub sse_key_id: Option<String>,
    pub tagging: Option<String>,
    pub metadata: Vec<(String, String)>,
}

impl ObjectAttributes {
    /// Checks every value and writes the headers.
    pub(crate) fn apply(&self, h: &mut Headers) -> Result<(), String> {
        for (option, name, value) in [
            ("content_type", "Content-Type", &self.content_type),
            ("cache_control", "Cache-Control", &self.cache_control),
            (
                "content_disposition",
                "Content-Disposition",
                &self.content_disposition,
            ),
            (
                "content_encoding",
                "Content-Encoding",
                &self.content_encoding,
            ),
            ("expires", "Expires", &self.expires),
        ] {
            if let Some(v) = non_empty(option, value)? {
                h.set(name, v);
            }
        }
        if let Some(class) = self.storage_class {
            h.set("x-oss-storage-class", class.as_str());
        }
        self.apply_encryption(h)?;
        if let Some(tagging) = non_empty("tagging", &self.tagging)? {
            Tagging::parse(tagging)?;
            h.set("x-oss-tagging", tagging);
        }
        apply_metadata(&self.metadata, h)
    }

    fn apply_encryption(&self, h: &mut Headers) -> Result<(), String> {
        if let Some(sse) = self.sse {
            h.set("x-oss-server-side-encryption", sse.as_str());
        }
        let kms = self.sse == Some(ServerSideEncryption::Kms);
        if let Some(data) = &self.sse_data {
            if !kms || data != "SM4" {
                return Err(format!(
                    "invalid server_side_data_encryption {data:?}: the only value is \"SM4\", \
                     and only with server_side_encryption KMS"
                ));
            }
            h.set("x-oss-server-side-data-encryption", data.as_str());
        }
        if let Some(id) = &self.sse_key_id {
            if !kms || id.is_empty() {
                return Err(format!(
                    "invalid server_side_encryption_key_id {id:?}: a KMS key id needs \
                     server_side_encryption KMS and must not be empty"
                ));
            }
            h.set("x-oss-server-side-encryption-key-id", id.as_str());
        }
        Ok(())
    }
}

/// User metadata: checked, keys lowercased (a later value for the same key replaces the
/// earlier), and at most 8 KiB of keys and values in all.
fn apply_metadata(metadata: &[(String, String)], h: &mut Headers) -> Result<(), String> {
    let mut entries = Headers::new();
    for (k, v) in metadata {
        entries.set(options::metadata_header(k, v)?, v.as_str());
    }
    let bytes = entries.iter().fold(0usize, |sum, (name, value)| {
        sum.saturating_add(name.len().saturating_sub(options::METADATA_PREFIX.len()))
            .saturating_add(value.len())
    });
    if bytes > options::MAX_METADATA_BYTES {
        return Err(format!(
            "invalid metadata: {bytes} bytes of keys and values, OSS takes at most {} (8 KiB)",
            options::MAX_METADATA_BYTES
        ));
    }
    for (name, value) in entries {
        h.set(name, value);
    }
    Ok(())
}

/// Who may read the object and whether an existing one may be replaced (PutObject,
/// CompleteMultipartUpload; AppendObject takes the ACL).
#[derive(Clone, Debug, Default)]
pub(crate) struct WriteOptions {
    pub acl: Option<ObjectAcl>,
    pub forbid_overwrite: Option<bool>,
}

impl WriteOptions {
    pub(crate) fn apply(&self, h: &mut Headers) {
        if let Some(forbid) = self.forbid_overwrite {
            h.set("x-oss-forbid-overwrite", forbid.to_string());
        }
        if let Some(acl) = self.acl {
            h.set("x-oss-object-acl", acl.as_str());
        }
    }
}

/// The upload callback (PutObject, CompleteMultipartUpload).
#[derive(Clone, Debug, Default)]
pub(crate) struct CallbackOptions {
    pub callback: Option<String>,
    pub callback_var: Option<String>,
}

impl CallbackOptions {
    /// True when the request carries a callback: a 203 answer then means it failed.
    pub(crate) fn is_set(&self) -> bool {
        self.callback.is_some()
    }

    pub(crate) fn apply(&self, h: &mut Headers) -> Result<(), String> {
        if let Some(cb) = non_empty("callback", &self.callback)? {
            callback::check_callback(cb)?;
            h.set("x-oss-callback", cb);
        }
        if let Some(var) = non_empty("callback_var", &self.callback_var)? {
            if self.callback.is_none() {
                return Err(
                    "invalid callback_var: it is only used with a callback (set callback too)"
                        .to_string(),
                );
            }
            callback::check_callback_var(var)?;
            h.set("x-oss-callback-var", var);
        }
        Ok(())
    }
}

/// How the bytes travel (PutObject, UploadPart, AppendObject): their MD5 and a bandwidth cap.
#[derive(Clone, Debug, Default)]
pub(crate) struct TransferOptions {
    pub content_md5: Option<String>,
    pub traffic_limit: Option<u64>,
}

impl TransferOptions {
    pub(crate) fn apply(&self, h: &mut Headers) -> Result<(), String> {
        if let Some(md5) = non_empty("content_md5", &self.content_md5)? {
            use base64::Engine as _;
            let ok = base64::engine::general_purpose::STANDARD
                .decode(md5.trim())
                .is_ok_and(|d| d.len() == 16);
            if !ok {
                return Err(format!(
                    "invalid content_md5 {md5:?}: it is the base64 of the 16-byte MD5 of the body \
                     (24 characters ending in \"==\")"
                ));
            }
            h.set("Content-MD5", md5);
        }
        if let Some(limit) = self.traffic_limit {
            if !(MIN_TRAFFIC_LIMIT..=MAX_TRAFFIC_LIMIT).contains(&limit) {
                return Err(format!(
                    "invalid traffic_limit {limit}: it is in bit/s, from {MIN_TRAFFIC_LIMIT} \
                     (30 KiB/s) to {MAX_TRAFFIC_LIMIT} (100 MiB/s)"
                ));
            }
            h.set("x-oss-traffic-limit", limit.to_string());
        }
        Ok(())
    }
}

/// What every operation takes: requester-pays, and any header or query parameter as is.
#[derive(Clone, Default)]
pub(crate) struct RequestOptions {
    pub request_payer: Option<String>,
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
}

impl RequestOptions {
    /// Writes the requester-pays header, then the raw headers over the typed ones under the
    /// module's rule, and gives the query parameters.
    pub(crate) fn apply(&self, h: &mut Headers) -> Result<Vec<(String, String)>, String> {
        if let Some(payer) = non_empty("request_payer", &self.request_payer)? {
            if payer != "requester" {
                return Err(format!(
                    "invalid request_payer {payer:?}: the only value is \"requester\""
                ));
            }
            h.set("x-oss-request-payer", payer);
        }
        let mut raw = Headers::new();
        for (name, value) in &self.headers {
            if h.contains(name) {
                return Err(format!(
                    "invalid header {name:?}: a typed option of this request already sets it; \
                     set it one way only"
                ));
            }
            raw.set(name.as_str(), value.as_str());
        }
        for (name, value) in raw {
            h.set(name, value);
        }
        if self.query.iter().any(|(name, _)| name.is_empty()) {
            return Err("invalid query parameter: the name must not be empty".to_string());
        }
        Ok(self.query.clone())
    }
}

/// Sets `name` to the computed `value` unless the user gave one.
pub(crate) fn set_default(h: &mut Headers, name: &str, value: impl FnOnce() -> String) {
    if !h.contains(name) {
        h.set(name, value());
    }
}

/// The raw headers' `Debug` hides credentials a caller may have put there.
impl fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestOptions")
            .field("request_payer", &self.request_payer)
            .field("headers", &Headers::from(self.headers.clone()))
            .field("query", &self.query)
            .finish()
    }
}

/// True when the server's CRC-64 value (decimal, surrounding spaces ignored, as OSS sends it)
/// names the CRC-64 the client computed.
pub(crate) fn crc_matches(server: &str, client_crc: u64) -> bool {
    server.trim() == client_crc.to_string()
}

/// The check of a 2xx answer to a request that stores bytes (PutObject, UploadPart,
/// AppendObject): OSS always sends a request id and an ETag, so an answer without them came
/// from something in the way (a captive portal, a misrouted proxy) and the bytes may never
/// have reached OSS; and the CRC-64 OSS computed must be the one of the bytes sent.
pub(crate) fn check_stored_bytes(
    op: &'static str,
    response: &Response,
    verify_crc: bool,
) -> Result<(), Rejection> {
    let missing = ["x-oss-request-id", "ETag"]
        .into_iter()
        .find(|name| !response.headers.contains(name));
    let request_id = response.headers.get("x-oss-request-id").map(str::to_string);
    if let Some(missing) = missing {
        let excerpt: String = String::from_utf8_lossy(&response.body)
            .chars()
            .take(64)
            .collect();
        let message = format!(
            "{}: HTTP {} without {missing} is not an OSS upload answer (body starts \
             {excerpt:?}); the object may not have been stored",
            response.request_target, response.status
        );
        return Err(Rejection {
            refusal: Refusal::NotAnOssAnswer,
            error: OperationError::new(op, ErrorKind::Transport, message)
                .with_request_id(request_id),
        });
    }
    let server = response.headers.get(HEADER_CRC64);
    match server {
        Some(server) if verify_crc && !crc_matches(server, response.stats.crc64) => {
            let message = format!(
                "crc is inconsistent, client {}, server {}: the bytes OSS stored differ from \
                 the bytes sent",
                response.stats.crc64,
                server.trim()
            );
            Err(Rejection {
                refusal: Refusal::CrcMismatch,
                error: OperationError::new(op, ErrorKind::CrcMismatch, message)
                    .with_request_id(request_id),
            })
        }
        _ => Ok(()),
    }
}

/// The setters of [`ObjectAttributes`], for a request type with a field of that type.
macro_rules! object_attribute_setters {
    ($field:ident) => {
        /// The `Content-Type`. When unset it is guessed from the key's extension
        /// (`application/octet-stream` when unknown), as the official SDKs do.
        pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
            self.$field.content_type = Some(content_type.into());
            self
        }

        /// The storage class (`x-oss-storage-class`); without it the bucket's applies.
        pub fn storage_class(mut self, class: $crate::StorageClass) -> Self {
            self.$field.storage_class = Some(class);
            self
        }

        /// Encrypt the object at rest (`x-oss-server-side-encryption`).
        pub fn server_side_encryption(mut self, sse: $crate::ServerSideEncryption) -> Self {
            self.$field.sse = Some(sse);
            self
        }

        /// The data encryption algorithm under KMS (`x-oss-server-side-data-encryption`): only
        /// `SM4`, and only with [`crate::ServerSideEncryption::Kms`] (else the default, AES-256).
        pub fn server_side_data_encryption(mut self, algorithm: impl Into<String>) -> Self {
            self.$field.sse_data = Some(algorithm.into());
            self
        }

        /// Your KMS key id (`x-oss-server-side-encryption-key-id`), with
        /// [`crate::ServerSideEncryption::Kms`]; without it OSS uses its managed KMS key.
        pub fn server_side_encryption_key_id(mut self, key_id: impl Into<String>) -> Self {
            self.$field.sse_key_id = Some(key_id.into());
            self
        }

        /// Object tags in URL query form (`env=prod&team=backend`, keys and values
        /// percent-encoded), or a [`crate::Tagging`] built from pairs. At most 10 tags, keys
        /// 1-128 and values 0-256 characters.
        pub fn tagging(mut self, tagging: impl Into<String>) -> Self {
            self.$field.tagging = Some(tagging.into());
            self
        }

        /// User metadata, sent as `x-oss-meta-<key>` and returned on GET/HEAD. Keys are
        /// case-insensitive (stored lowercase; setting a key twice keeps the last value; an
        /// `x-oss-meta-` prefix in any case is dropped); keys are ASCII letters, digits, `-`
        /// and `_`, values printable ASCII, 8 KiB in all.
        pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
            self.$field.metadata.push((key.into(), value.into()));
            self
        }

        /// `Cache-Control`, returned on GET (e.g. `no-cache`, `max-age=3600`).
        pub fn cache_control(mut self, value: impl Into<String>) -> Self {
            self.$field.cache_control = Some(value.into());
            self
        }

        /// `Content-Disposition`, returned on GET (e.g. `attachment; filename="a.txt"`).
        pub fn content_disposition(mut self, value: impl Into<String>) -> Self {
            self.$field.content_disposition = Some(value.into());
            self
        }

        /// `Content-Encoding`, returned on GET (e.g. `gzip` for a body you compressed).
        pub fn content_encoding(mut self, value: impl Into<String>) -> Self {
            self.$field.content_encoding = Some(value.into());
            self
        }

        /// `Expires`, an HTTP date as sent (e.g. `Wed, 21 Oct 2026 07:28:00 GMT`), returned on
        /// GET.
        pub fn expires(mut self, http_date: impl Into<String>) -> Self {
            self.$field.expires = Some(http_date.into());
            self
        }
    };
}

/// The setters of [`WriteOptions`].
macro_rules! write_option_setters {
    ($field:ident) => {
        /// With `true`, OSS refuses to replace an existing object (409 `FileAlreadyExists`).
        pub fn forbid_overwrite(mut self, forbid: bool) -> Self {
            self.$field.forbid_overwrite = Some(forbid);
            self
        }

        /// Who may access the object (`x-oss-object-acl`); without it the bucket's ACL applies.
        pub fn acl(mut self, acl: $crate::ObjectAcl) -> Self {
            self.$field.acl = Some(acl);
            self
        }
    };
}

/// The setters of [`CallbackOptions`].
macro_rules! callback_setters {
    ($field:ident) => {
        /// `x-oss-callback`: base64 of the callback JSON, as on the official page (see
        /// [`crate::Callback`] to build it). The callback server's answer is returned in the
        /// result's `callback_result`; a failed callback is an error whose
        /// [`crate::OperationError::object_stored`] is true.
        pub fn callback(mut self, callback_base64: impl Into<String>) -> Self {
            self.$field.callback = Some(callback_base64.into());
            self
        }

        /// `x-oss-callback-var`: base64 of a JSON object whose keys start with `x:`.
        pub fn callback_var(mut self, callback_var_base64: impl Into<String>) -> Self {
            self.$field.callback_var = Some(callback_var_base64.into());
            self
        }

        /// Sets the callback and its variables from a [`crate::Callback`].
        pub fn upload_callback(mut self, callback: &$crate::Callback) -> Self {
            self.$field.callback = Some(callback.header_value());
            self.$field.callback_var = callback.var_header_value();
            self
        }
    };
}

/// The setters of [`TransferOptions`].
macro_rules! transfer_option_setters {
    ($field:ident) => {
        /// `Content-MD5`: base64 of the body's MD5; OSS refuses a body that does not match
        /// (`InvalidDigest`). See also [`crate::Config::auto_content_md5`].
        pub fn content_md5(mut self, md5_base64: impl Into<String>) -> Self {
            self.$field.content_md5 = Some(md5_base64.into());
            self
        }

        /// Cap this upload's bandwidth (`x-oss-traffic-limit`), in **bits** per second, from
        /// 245760 (30 KiB/s) to 838860800 (100 MiB/s).
        pub fn traffic_limit(mut self, bits_per_second: u64) -> Self {
            self.$field.traffic_limit = Some(bits_per_second);
            self
        }
    };
}

/// The setters of [`RequestOptions`].
macro_rules! request_option_setters {
    ($field:ident) => {
        /// `x-oss-request-payer: requester`, for a requester-pays bucket.
        pub fn request_payer(mut self, payer: impl Into<String>) -> Self {
            self.$field.request_payer = Some(payer.into());
            self
        }

        /// Adds a request header as is, for options this type has no setter for; `x-oss-*`
        /// headers are signed. It wins over a value the client would compute (the guessed
        /// `Content-Type`, an automatic `Content-MD5`, the `User-Agent`); the same name given
        /// twice keeps the last value. Refused before sending: a header a typed setter of this
        /// request also sets, and the headers the client owns (`Content-Length`,
        /// `Transfer-Encoding`, `Host`, `Date`, `Authorization`, `x-oss-date`,
        /// `x-oss-content-sha256`, `x-oss-security-token`).
        pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
            self.$field.headers.push((name.into(), value.into()));
            self
        }

        /// Adds a query parameter (unencoded: it is percent-encoded once, for the URL and the
        /// signature alike).
        pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
            self.$field.query.push((name.into(), value.into()));
            self
        }
    };
}

pub(crate) use {
    callback_setters, object_attribute_setters, request_option_setters, transfer_option_setters,
    write_option_setters,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_headers_may_not_repeat_a_typed_one_but_replace_each_other() {
        let mut h = Headers::new();
        h.set("Content-Type", "text/plain");
        let conflict = RequestOptions {
            headers: vec![("content-type".into(), "image/png".into())],
            ..Default::default()
        };
        let message = conflict.apply(&mut h.clone()).unwrap_err();
        assert!(message.contains("content-type"), "{message}");

        let repeated = RequestOptions {
            headers: vec![("x-a".into(), "1".into()), ("X-A".into(), "2".into())],
            ..Default::default()
        };
        repeated.apply(&mut h).unwrap();
        assert_eq!(h.get_all("x-a").collect::<Vec<_>>(), ["2"]);
    }

    #[test]
    fn empty_text_options_name_the_option() {
        let attributes = ObjectAttributes {
            cache_control: Some(String::new()),
            ..Default::default()
        };
        let message = attributes.apply(&mut Headers::new()).unwrap_err();
        assert!(message.contains("cache_control"), "{message}");
        let transfer = TransferOptions {
            content_md5: Some(String::new()),
            ..Default::default()
        };
        assert!(transfer
            .apply(&mut Headers::new())
            .unwrap_err()
            .contains("content_md5"));
    }

    #[test]
    fn metadata_prefix_is_dropped_in_any_case() {
        let mut h = Headers::new();
        apply_metadata(
            &[
                ("X-OSS-META-Author".into(), "alice".into()),
                ("x-oss-meta-team".into(), "core".into()),
            ],
            &mut h,
        )
        .unwrap();
        assert_eq!(h.get("x-oss-meta-author"), Some("alice"));
        assert_eq!(h.get("x-oss-meta-team"), Some("core"));
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn crc_values_compare_as_oss_sends_them() {
        assert!(crc_matches("5981764153023615706", 5981764153023615706));
        assert!(crc_matches(" 5981764153023615706 ", 5981764153023615706));
        assert!(!crc_matches("5981764153023615707", 5981764153023615706));
        assert!(!crc_matches("", 0));
        assert!(!crc_matches("0x0", 0));
    }
}

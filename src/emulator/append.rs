//! AppendObject (`POST /<key>?append&position=<n>`), as OSS answers it: the position must be
//! the object's length (409 `PositionNotEqualToLength` with `x-oss-next-append-position`
//! otherwise), only an Appendable object can be appended to (409 `ObjectNotAppendable`), the
//! first append creates the object with the request's attributes, and the answer carries the
//! next position and the CRC-64 of the whole object.
//!
//! A child module of `server`, whose request plumbing it shares.

use std::io::{self, Read as _};
use std::sync::Arc;

use super::super::store::Object;
use super::super::{lock, Fault};
use super::{
    is_object_header, validate_key, validate_put_headers, BodyReader, Exchange, Outcome, Reader,
    CRC64, IO_BUFFER,
};
use crate::emulator::error::{self, ErrorReply};
use crate::emulator::http::{self, Response};

/// The object type header kept with each object (absent means `Normal`).
pub(crate) const OBJECT_TYPE: &str = "x-oss-object-type";
pub(crate) const APPENDABLE: &str = "Appendable";

/// True when the query names the `append` sub-resource.
pub(crate) fn is_append(raw_query: &str) -> bool {
    raw_query
        .split('&')
        .any(|piece| piece == "append" || piece == "append=")
}

fn position_not_equal() -> ErrorReply {
    ErrorReply::new(
        409,
        "PositionNotEqualToLength",
        "Position is not equal to file length",
        "0026-00000016",
    )
}

fn not_appendable() -> ErrorReply {
    ErrorReply::new(
        409,
        "ObjectNotAppendable",
        "The object is not appendable",
        "0026-00000015",
    )
}

/// The `position` parameter, a decimal.
fn position(raw_query: &str) -> Result<u64, ErrorReply> {
    let value = raw_query
        .split('&')
        .filter_map(|piece| piece.split_once('='))
        .find(|(k, _)| *k == "position")
        .map(|(_, v)| v);
    value.and_then(http::parse_decimal).ok_or_else(|| {
        error::invalid_argument(
            "The position is missing or not a number.",
            "position",
            value.unwrap_or_default(),
        )
    })
}

/// The stored length and the refusal, if any, of an append at `position` to what is stored.
fn check_target(existing: Option<&Object>, position: u64) -> Result<(), (ErrorReply, u64)> {
    let length = existing.map_or(0, |o| o.data.len() as u64);
    if existing.is_some_and(|o| o.header(OBJECT_TYPE) != Some(APPENDABLE)) {
        return Err((not_appendable(), length));
    }
    if position != length {
        return Err((position_not_equal(), length));
    }
    Ok(())
}

/// The 409 answer, with the next position in the `x-oss-next-append-position` header.
fn refusal(ex: &Exchange<'_, '_>, (reply, next): (ErrorReply, u64)) -> Outcome {
    let mut resp = reply.response(&ex.request_id, &ex.host_id, ex.head.method == "HEAD");
    resp.headers
        .append("x-oss-next-append-position", next.to_string());
    Outcome::Respond(resp)
}

/// Reads the whole body within `max` bytes.
fn read_body(body: &mut BodyReader<'_, Reader<'_>>, max: u64) -> Result<Vec<u8>, Outcome> {
    let mut data = Vec::new();
    let mut buf = vec![0u8; IO_BUFFER];
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => return Ok(data),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                return Err(error::malformed_request("invalid chunked encoding").into())
            }
            Err(_) => return Err(Outcome::Drop),
        };
        if (data.len() as u64).saturating_add(n as u64) > max {
            return Err(error::entity_too_large(max).into());
        }
        data.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
}

pub(crate) fn append_object(
    ex: &mut Exchange<'_, '_>,
    body: &mut BodyReader<'_, Reader<'_>>,
    bucket: &str,
    key: &str,
    raw_query: &str,
    fault: Option<Fault>,
) -> Outcome {
    let shared = ex.shared;
    if !lock(&shared.store).has_bucket(bucket) {
        return error::no_such_bucket(bucket).into();
    }
    if let Err(e) = validate_key(key) {
        return e.into();
    }
    let position = match position(raw_query) {
        Ok(p) => p,
        Err(e) => return e.into(),
    };
    let existing = lock(&shared.store).get(bucket, key);
    if let Err(refused) = check_target(existing.as_deref(), position) {
        return refusal(ex, refused);
    }
    if existing.is_none() {
        if let Err(e) = validate_put_headers(ex.head) {
            return e.into();
        }
    }
    if ex.start_body().is_err() {
        return Outcome::Drop;
    }
    let added = match read_body(body, shared.settings.max_object_size) {
        Ok(data) => data,
        Err(outcome) => return outcome,
    };
    let stored = match store(ex, bucket, key, position, added) {
        Ok(object) => object,
        Err(outcome) => return outcome,
    };
    if matches!(fault, Some(Fault::AnswerLost { .. })) {
        return Outcome::Drop;
    }
    let crc = match fault {
        Some(Fault::WrongCrc { .. }) => Some(stored.crc64 ^ 0x5A5A_5A5A),
        Some(Fault::NoCrcHeader { .. }) => None,
        _ => Some(stored.crc64),
    };
    let mut resp = Response::new(200)
        .header("ETag", stored.etag.clone())
        .header("x-oss-next-append-position", stored.data.len().to_string());
    if let Some(crc) = crc {
        resp = resp.header("x-oss-hash-crc64ecma", crc.to_string());
    }
    Outcome::Respond(resp)
}

/// Appends under the store's lock, checking the position again (another append may have
/// won the race meanwhile). The first append keeps the request's object headers.
fn store(
    ex: &Exchange<'_, '_>,
    bucket: &str,
    key: &str,
    position: u64,
    added: Vec<u8>,
) -> Result<Arc<Object>, Outcome> {
    let shared = ex.shared;
    let mut store = lock(&shared.store);
    let existing = store.get(bucket, key);
    check_target(existing.as_deref(), position).map_err(|r| refusal(ex, r))?;
    let (mut data, mut headers) = match existing {
        Some(object) => (object.data.as_ref().clone(), object.headers.clone()),
        None => {
            let mut headers: crate::Headers = ex
                .head
                .headers
                .iter()
                .filter(|(n, _)| is_object_header(n))
                .map(|(n, v)| {
                    let lower = n.to_ascii_lowercase();
                    if lower.starts_with("x-oss-meta-") {
                        (lower, v.to_string())
                    } else {
                        (n.to_string(), v.to_string())
                    }
                })
                .collect();
            headers.set(OBJECT_TYPE, APPENDABLE);
            (Vec::new(), headers)
        }
    };
    data.extend_from_slice(&added);
    headers.set(OBJECT_TYPE, APPENDABLE);
    let (etag, content_md5) = crate::emulator::store::etag_and_content_md5(md5::compute(&data).0);
    let object = Object {
        crc64: CRC64.checksum(&data),
        etag,
        content_md5,
        size: data.len() as u64,
        data: Arc::new(data),
        headers,
        last_modified: shared.now(),
    };
    store
        .put(bucket, key, object, false)
        .map_err(|_| Outcome::from(error::no_such_bucket(bucket)))?;
    store
        .get(bucket, key)
        .ok_or_else(|| Outcome::from(error::no_such_bucket(bucket)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_types_are_checked() {
        assert!(check_target(None, 0).is_ok());
        let (reply, next) = check_target(None, 3).unwrap_err();
        assert_eq!((reply.code.as_str(), next), ("PositionNotEqualToLength", 0));
        assert!(is_append("append&position=0") && is_append("append=&position=0"));
        assert!(!is_append("appendix=1"));
        assert_eq!(position("append=&position=12").unwrap(), 12);
        assert_eq!(position("append").unwrap_err().code, "InvalidArgument");
    }
}

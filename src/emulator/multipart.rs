//! The multipart operations of the emulator: InitiateMultipartUpload, UploadPart,
//! CompleteMultipartUpload, AbortMultipartUpload, ListParts and ListMultipartUploads, with
//! OSS's XML, ETags, per-part and whole-object CRC-64 and its errors (`NoSuchUpload`,
//! `InvalidPart`, `InvalidPartOrder`, `EntityTooSmall`), plus faults aimed at one operation
//! and part number. A child of `server`, whose exchange and body reader it uses.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::Arc;
use std::time::SystemTime;

use base64::Engine as _;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::{
    discard, error, is_object_header, validate_key, validate_put_headers, Body, BodyReader,
    Exchange, Outcome, Reader, Response, Target, CRC64, IO_BUFFER,
};
use crate::emulator::store::Object;
use crate::emulator::{lock, Fault};
use crate::Headers;

/// Part numbers OSS accepts.
const PART_NUMBERS: std::ops::RangeInclusive<u32> = 1..=10_000;
/// Smallest part but the last.
const MIN_PART: u64 = 100 * 1024;
/// Largest part.
const MAX_PART: u64 = 5 * 1024 * 1024 * 1024;
/// Largest Complete body read (10000 parts fit in about 1 MiB).
const MAX_COMPLETE_XML: u64 = 4 * 1024 * 1024;

/// What URL encoding keeps: RFC 3986 unreserved characters and `/`.
const KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// One stored part.
#[derive(Debug, Clone)]
struct Part {
    /// Empty in length-only mode.
    data: Arc<Vec<u8>>,
    size: u64,
    crc64: u64,
    md5: [u8; 16],
    etag: String,
    last_modified: SystemTime,
}

/// One open upload.
#[derive(Debug)]
struct Upload {
    bucket: String,
    key: String,
    headers: Headers,
    forbid_overwrite: bool,
    initiated: SystemTime,
    parts: BTreeMap<u32, Part>,
}

/// A fault for one operation (and part number).
#[derive(Debug)]
struct Targeted {
    operation: String,
    part_number: Option<u32>,
    fault: Fault,
}

/// Every open upload, the aimed faults and the UploadPart concurrency seen.
#[derive(Debug, Default)]
pub(crate) struct Uploads {
    next_id: u64,
    open: BTreeMap<String, Upload>,
    targeted: Vec<Targeted>,
    parts_in_flight: usize,
    max_parts_in_flight: usize,
    parts_received: u64,
}

impl Uploads {
    pub(crate) fn inject(&mut self, operation: &str, part_number: Option<u32>, fault: Fault) {
        self.targeted.push(Targeted {
            operation: operation.to_string(),
            part_number,
            fault,
        });
    }

    pub(crate) fn open_uploads(&self) -> usize {
        self.open.len()
    }

    pub(crate) fn max_parts_in_flight(&self) -> usize {
        self.max_parts_in_flight
    }

    /// The first fault aimed at this operation and part, its count used once.
    fn take(&mut self, operation: &str, part_number: Option<u32>) -> Option<Fault> {
        let index = self.targeted.iter().position(|t| {
            t.operation == operation && (t.part_number.is_none() || t.part_number == part_number)
        })?;
        let entry = self.targeted.get_mut(index)?;
        let taken = entry.fault.clone();
        let left = match entry.fault.times_mut() {
            Some(times) => {
                *times = times.saturating_sub(1);
                *times
            }
            None => 0,
        };
        if left == 0 {
            self.targeted.remove(index);
        }
        Some(taken)
    }
}

/// The query's parameters, decoded.
fn params(raw_query: &str) -> Vec<(String, String)> {
    raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let d = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
            (d(k), d(v))
        })
        .collect()
}

fn param<'p>(params: &'p [(String, String)], name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// True when the query names a multipart operation.
pub(crate) fn is_multipart(raw_query: &str) -> bool {
    params(raw_query)
        .iter()
        .any(|(k, _)| k == "uploads" || k == "uploadId")
}

/// Runs the multipart operation the request names, if it names one.
pub(super) fn dispatch(
    ex: &mut Exchange<'_, '_>,
    body: &mut BodyReader<'_, Reader<'_>>,
    target: &Target,
    raw_query: &str,
) -> Option<Outcome> {
    let params = params(raw_query);
    let has = |name: &str| param(&params, name).is_some();
    let (Some(bucket), method) = (target.bucket.as_deref(), ex.head.method.as_str()) else {
        return None;
    };
    let key = target.key.as_deref();
    let operation = match (method, key, has("uploads"), has("uploadId")) {
        ("POST", Some(_), true, _) => "InitiateMultipartUpload",
        ("PUT", Some(_), _, true) => "UploadPart",
        ("POST", Some(_), false, true) => "CompleteMultipartUpload",
        ("DELETE", Some(_), _, true) => "AbortMultipartUpload",
        ("GET", Some(_), _, true) => "ListParts",
        ("GET", None, true, _) => "ListMultipartUploads",
        _ => return None,
    };
    if !lock(&ex.shared.store).has_bucket(bucket) {
        return Some(error::no_such_bucket(bucket).into());
    }
    let part_number = param(&params, "partNumber").and_then(|n| n.parse().ok());
    // An UploadPart counts as in flight from here, through any injected stall, to its answer.
    let _in_flight = (operation == "UploadPart").then(|| InFlight::start(ex.shared));
    let fault = lock(&ex.shared.multipart).take(operation, part_number);
    let mut crc_fault = None;
    match fault {
        Some(Fault::Stall { duration, .. }) => ex.shared.sleep(duration),
        Some(Fault::ResetAfter { bytes, .. }) => {
            if ex.start_body().is_ok() {
                discard(body, bytes);
            }
            return Some(Outcome::Drop);
        }
        Some(Fault::ErrorStatus { status, code, .. }) => {
            if ex.start_body().is_err() {
                return Some(Outcome::Drop);
            }
            return Some(error::injected(status, &code).into());
        }
        Some(f @ (Fault::WrongCrc { .. } | Fault::NoCrcHeader { .. })) => crc_fault = Some(f),
        _ => {}
    }
    let id = param(&params, "uploadId").unwrap_or("");
    let key = key.unwrap_or("");
    let outcome = match operation {
        "InitiateMultipartUpload" => initiate(ex, body, bucket, key, &params),
        "UploadPart" => upload_part(ex, body, (bucket, key, id), &params, crc_fault),
        "CompleteMultipartUpload" => complete(ex, body, (bucket, key, id), &params, crc_fault),
        "AbortMultipartUpload" => abort(ex, (bucket, key, id)),
        "ListParts" => list_parts(ex, (bucket, key, id), &params),
        _ => list_uploads(ex, bucket, &params),
    };
    Some(outcome.unwrap_or_else(Outcome::Error))
}

type Step = Result<Outcome, super::ErrorReply>;

fn no_such_upload() -> super::ErrorReply {
    super::ErrorReply::new(
        404,
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may \
         have been aborted or completed.",
        "0042-00000002",
    )
}

fn xml_response(xml: String) -> Response {
    let mut resp = Response::new(200).header("Content-Type", "application/xml");
    resp.body = Body::Bytes(xml.into_bytes());
    resp
}

fn encode_key(key: &str, url: bool) -> String {
    let key = if url {
        utf8_percent_encode(key, KEEP).to_string()
    } else {
        key.to_string()
    };
    error::escape_xml(&key)
}

/// `2024-03-15T08:29:00.000Z`, as OSS writes times in results.
fn iso8601(t: SystemTime) -> String {
    let b = crate::signer::format_datetime(t);
    let at = |r: std::ops::Range<usize>| b.get(r).unwrap_or("00");
    format!(
        "{}-{}-{}T{}:{}:{}.000Z",
        at(0..4),
        at(4..6),
        at(6..8),
        at(9..11),
        at(11..13),
        at(13..15)
    )
}

/// The `Content-MD5` the request gave, decoded.
fn expected_md5(head: &super::RequestHead) -> Result<Option<Vec<u8>>, super::ErrorReply> {
    match head.header("content-md5") {
        None => Ok(None),
        Some(v) => match base64::engine::general_purpose::STANDARD.decode(v.trim()) {
            Ok(bytes) if bytes.len() == 16 => Ok(Some(bytes)),
            _ => Err(error::invalid_digest(
                "The Content-MD5 you specified was invalid.",
            )),
        },
    }
}

/// `"` + uppercase hex MD5 + `"`.
fn etag_of(md5: &[u8; 16]) -> String {
    crate::emulator::store::etag_and_content_md5(*md5).0
}

fn forbid_overwrite(ex: &Exchange<'_, '_>) -> Result<bool, super::ErrorReply> {
    match ex.head.header("x-oss-forbid-overwrite") {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(error::invalid_argument(
            "Invalid forbid overwrite value, it must be true or false.",
            "x-oss-forbid-overwrite",
            v,
        )),
    }
}

/// Reads a small request body whole.
fn read_small(
    ex: &mut Exchange<'_, '_>,
    body: &mut BodyReader<'_, Reader<'_>>,
    max: u64,
) -> Result<Option<Vec<u8>>, super::ErrorReply> {
    if body.remaining_known().is_some_and(|n| n > max) {
        return Err(error::malformed_request("the request body is too large"));
    }
    if ex.start_body().is_err() {
        return Ok(None);
    }
    let mut data = Vec::new();
    match body.take(max).read_to_end(&mut data) {
        Ok(_) => Ok(Some(data)),
        Err(e) if e.kind() == io::ErrorKind::InvalidData => {
            Err(error::malformed_request("invalid chunked encoding"))
        }
        Err(_) => Ok(None),
    }
}

fn initiate(
    ex: &mut Exchange<'_, '_>,
    body: &mut BodyReader<'_, Reader<'_>>,
    bucket: &str,
    key: &str,
    params: &[(String, String)],
) -> Step {
    validate_key(key)?;
    validate_put_headers(ex.head)?;
    let forbid = forbid_overwrite(ex)?;
    if forbid && lock(&ex.shared.store).contains(bucket, key) {
        return Err(error::file_already_exists());
    }
    if read_small(ex, body, 0)?.is_none() {
        return Ok(Outcome::Drop);
    }
    let headers: Headers = ex
        .head
        .headers
        .iter()
        .filter(|(n, _)| is_object_header(n) && !n.eq_ignore_ascii_case("x-oss-object-acl"))
        .map(|(n, v)| match n.to_ascii_lowercase() {
            l if l.starts_with("x-oss-meta-") => (l, v),
            _ => (n.to_string(), v),
        })
        .collect();
    let mut uploads = lock(&ex.shared.multipart);
    uploads.next_id = uploads.next_id.saturating_add(1);
    let upload_id = format!("{:016X}{:016X}", nanos(ex.shared.now()), uploads.next_id);
    uploads.open.insert(
        upload_id.clone(),
        Upload {
            bucket: bucket.to_string(),
            key: key.to_string(),
            headers,
            forbid_overwrite: forbid,
            initiated: ex.shared.now(),
            parts: BTreeMap::new(),
        },
    );
    drop(uploads);
    let url = param(params, "encoding-type") == Some("url");
    Ok(Outcome::Respond(xml_response(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult>\
         <Bucket>{}</Bucket><Key>{}</Key><UploadId>{upload_id}</UploadId>{}\
         </InitiateMultipartUploadResult>",
        error::escape_xml(bucket),
        encode_key(key, url),
        if url {
            "<EncodingType>url</EncodingType>"
        } else {
            ""
        }
    ))))
}

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The upload, when it exists for this bucket and key.
fn check_upload(
    ex: &Exchange<'_, '_>,
    (bucket, key, id): (&str, &str, &str),
) -> Result<(), super::ErrorReply> {
    let uploads = lock(&ex.shared.multipart);
    match uploads.open.get(id) {
        Some(u) if u.bucket == bucket && u.key == key => Ok(()),
        _ => Err(no_such_upload()),
    }
}

/// Decrements the in-flight count when a part's body is done.
struct InFlight<'a>(&'a super::Shared);

impl<'a> InFlight<'a> {
    fn start(shared: &'a super::Shared) -> Self {
        let mut uploads = lock(&shared.multipart);
        uploads.parts_in_flight = uploads.parts_in_flight.saturating_add(1);
        uploads.max_parts_in_flight = uploads.max_parts_in_flight.max(uploads.parts_in_flight);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut uploads = lock(&self.0.multipart);
        uploads.parts_in_flight = uploads.parts_in_flight.saturating_sub(1);
    }
}

fn upload_part(
    ex: &mut Exchange<'_, '_>,
    body: &mut BodyReader<'_, Reader<'_>>,
    ids: (&str, &str, &str),
    params: &[(String, String)],
    crc_fault: Option<Fault>,
) -> Step {
    let raw_number = param(params, "partNumber").unwrap_or("");
    let number = raw_number
        .parse::<u32>()
        .ok()
        .filter(|n| PART_NUMBERS.contains(n));
    let Some(number) = number else {
        return Err(error::invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive.",
            "PartNumber",
            raw_number,
        ));
    };
    check_upload(ex, ids)?;
    if body.remaining_known().is_some_and(|n| n > MAX_PART) {
        return Err(error::entity_too_large(MAX_PART));
    }
    let expected_md5 = expected_md5(ex.head)?;
    if ex.start_body().is_err() {
        return Ok(Outcome::Drop);
    }
    let shared = ex.shared;
    let length_only = shared.settings.length_only;
    let Some((data, size, crc, md5)) = receive(body, length_only)? else {
        return Ok(Outcome::Drop);
    };
    if let Some(expected) = &expected_md5 {
        if expected.as_slice() != md5.as_slice() {
            return Err(error::invalid_digest(
                "The Content-MD5 you specified did not match what we received.",
            ));
        }
    }
    let etag = etag_of(&md5);
    let part = Part {
        data: Arc::new(data),
        size,
        crc64: crc,
        md5,
        etag: etag.clone(),
        last_modified: shared.now(),
    };
    let mut uploads = lock(&shared.multipart);
    uploads.parts_received = uploads.parts_received.saturating_add(1);
    let Some(upload) = uploads.open.get_mut(ids.2) else {
        return Err(no_such_upload());
    };
    upload.parts.insert(number, part);
    drop(uploads);
    let resp = Response::new(200).header("ETag", etag).header(
        "Content-MD5",
        base64::engine::general_purpose::STANDARD.encode(md5),
    );
    Ok(Outcome::Respond(with_crc(resp, crc, crc_fault)))
}

fn with_crc(resp: Response, crc: u64, fault: Option<Fault>) -> Response {
    match fault {
        Some(Fault::NoCrcHeader { .. }) => resp,
        Some(Fault::WrongCrc { .. }) => {
            resp.header("x-oss-hash-crc64ecma", (crc ^ 0x5A5A_5A5A).to_string())
        }
        _ => resp.header("x-oss-hash-crc64ecma", crc.to_string()),
    }
}

/// Reads a part: its bytes (none kept in length-only mode), size, CRC-64 and MD5. `None` when
/// the connection broke.
fn receive(
    body: &mut BodyReader<'_, Reader<'_>>,
    length_only: bool,
) -> Result<Option<Received>, super::ErrorReply> {
    let mut data = Vec::new();
    let mut crc = PartCrc::new(length_only);
    let mut md5 = md5::Context::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; IO_BUFFER];
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                return Err(error::malformed_request("invalid chunked encoding"))
            }
            Err(_) => return Ok(None),
        };
        size = size.saturating_add(n as u64);
        if size > MAX_PART {
            return Err(error::entity_too_large(MAX_PART));
        }
        let chunk = buf.get(..n).unwrap_or_default();
        crc.update(chunk);
        md5.consume(chunk);
        if !length_only {
            data.extend_from_slice(chunk);
        }
    }
    Ok(Some((data, size, crc.finalize(), md5.finalize().0)))
}

/// The emulator's CRC-64 of a part: the `crc` crate's table (an implementation apart from the
/// client's), or in length-only mode the client's SIMD one, since the table code, compiled
/// without optimisation in test builds, made a 6 GiB test take minutes.
enum PartCrc {
    Table(crc::Digest<'static, u64, crc::Table<16>>),
    Fast(Box<crate::crc64::Crc64>),
}

impl PartCrc {
    fn new(length_only: bool) -> PartCrc {
        if length_only {
            PartCrc::Fast(Box::default())
        } else {
            PartCrc::Table(CRC64.digest())
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            PartCrc::Table(d) => d.update(bytes),
            PartCrc::Fast(c) => c.update(bytes),
        }
    }

    fn finalize(self) -> u64 {
        match self {
            PartCrc::Table(d) => d.finalize(),
            PartCrc::Fast(c) => c.value(),
        }
    }
}

/// A part's bytes (none in length-only mode), size, CRC-64 and MD5 (unless skipped).
type Received = (Vec<u8>, u64, u64, [u8; 16]);

/// The (number, ETag) pairs of a Complete body.
fn parse_complete(xml: &[u8]) -> Result<Vec<(u32, String)>, super::ErrorReply> {
    let malformed = || {
        super::ErrorReply::new(
            400,
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our \
             published schema.",
            "0042-00000201",
        )
    };
    let text = std::str::from_utf8(xml).map_err(|_| malformed())?;
    let doc = roxmltree::Document::parse(text).map_err(|_| malformed())?;
    let root = doc.root_element();
    if root.tag_name().name() != "CompleteMultipartUpload" {
        return Err(malformed());
    }
    let mut parts = Vec::new();
    for part in root.children().filter(|c| c.is_element()) {
        let field = |name: &str| {
            part.children()
                .find(|c| c.is_element() && c.tag_name().name() == name)
                .map(|c| c.text().unwrap_or("").to_string())
        };
        let number = field("PartNumber").and_then(|n| n.trim().parse().ok());
        match (number, field("ETag")) {
            (Some(n), Some(etag)) => parts.push((n, etag)),
            _ => return Err(malformed()),
        }
    }
    Ok(parts)
}

fn invalid_part(number: u32) -> super::ErrorReply {
    super::ErrorReply::new(
        400,
        "InvalidPart",
        "One or more of the specified parts could not be found or the specified entity tag \
         might not have matched the part's entity tag.",
        "0042-00000205",
    )
    .with("PartNumber", number.to_string())
}

/// The chosen parts, checked as OSS checks them.
fn chosen_parts(
    upload: &Upload,
    listed: Option<Vec<(u32, String)>>,
) -> Result<Vec<Part>, super::ErrorReply> {
    let listed = match listed {
        Some(l) => l,
        None => upload
            .parts
            .iter()
            .map(|(n, p)| (*n, p.etag.clone()))
            .collect(),
    };
    if listed.windows(2).any(|w| matches!(w, [a, b] if a.0 >= b.0)) {
        return Err(super::ErrorReply::new(
            400,
            "InvalidPartOrder",
            "The list of parts was not in ascending order. The parts list must be specified in \
             order by part number.",
            "0042-00000209",
        ));
    }
    let mut parts = Vec::with_capacity(listed.len());
    for (number, etag) in &listed {
        match upload.parts.get(number) {
            Some(p) if p.etag.trim_matches('"') == etag.trim().trim_matches('"') => {
                parts.push(p.clone())
            }
            _ => return Err(invalid_part(*number)),
        }
    }
    let count = parts.len();
    for (i, (part, (number, _))) in parts.iter().zip(&listed).enumerate() {
        if i.saturating_add(1) < count && part.size < MIN_PART {
            return Err(super::ErrorReply::new(
                400,
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size.",
                "0042-00000213",
            )
            .with("PartNumber", number.to_string())
            .with("MinSizeAllowed", MIN_PART.to_string()));
        }
    }
    Ok(parts)
}

fn complete(
    ex: &mut Exchange<'_, '_>,
    body: &mut BodyReader<'_, Reader<'_>>,
    ids: (&str, &str, &str),
    params: &[(String, String)],
    crc_fault: Option<Fault>,
) -> Step {
    check_upload(ex, ids)?;
    let forbid_here = forbid_overwrite(ex)?;
    super::validate_put_headers(ex.head)?;
    let callback_spec = super::callback::parse(
        ex.head.header("x-oss-callback"),
        ex.head.header("x-oss-callback-var"),
    )?;
    let all = ex
        .head
        .header("x-oss-complete-all")
        .is_some_and(|v| v.eq_ignore_ascii_case("yes"));
    let Some(xml) = read_small(ex, body, MAX_COMPLETE_XML)? else {
        return Ok(Outcome::Drop);
    };
    if all && !xml.is_empty() {
        return Err(error::invalid_argument(
            "Should not specify both complete all header and http body.",
            "x-oss-complete-all",
            "yes",
        ));
    }
    let listed = if all {
        None
    } else {
        Some(parse_complete(&xml)?)
    };
    let (bucket, key, id) = ids;
    let mut uploads = lock(&ex.shared.multipart);
    let upload = uploads.open.get(id).ok_or_else(no_such_upload)?;
    let parts = chosen_parts(upload, listed)?;
    let object = assemble(ex, upload, &parts);
    let facts = (
        object.0.size,
        object.2,
        object
            .0
            .header("content-type")
            .unwrap_or("application/octet-stream")
            .to_string(),
    );
    let forbid = forbid_here || upload.forbid_overwrite;
    match lock(&ex.shared.store).put(bucket, key, object.0, forbid) {
        Ok(()) => {}
        Err(super::PutRefused::NoSuchBucket) => return Err(error::no_such_bucket(bucket)),
        Err(super::PutRefused::Exists) => return Err(error::file_already_exists()),
    }
    uploads.open.remove(id);
    drop(uploads);
    let url = param(params, "encoding-type") == Some("url");
    let (etag, crc) = (object.1, object.2);
    let resp = xml_response(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUploadResult>{}\
         <Location>http://{}/{}/{}</Location><Bucket>{}</Bucket><Key>{}</Key>\
         <ETag>{}</ETag></CompleteMultipartUploadResult>",
        if url {
            "<EncodingType>url</EncodingType>"
        } else {
            ""
        },
        ex.shared.settings.own_host,
        error::escape_xml(bucket),
        encode_key(key, true),
        error::escape_xml(bucket),
        encode_key(key, url),
        error::escape_xml(&etag),
    ))
    .header("ETag", etag.clone());
    let mut resp = with_crc(resp, crc, crc_fault);
    if let Some(spec) = callback_spec {
        callback(ex, &spec, (bucket, key, &etag, facts), &mut resp);
    }
    Ok(Outcome::Respond(resp))
}

/// Performs the upload callback after Complete stored the object: its answer becomes the
/// body, or a failure the 203 `CallbackFailed` answer (the object stays), as for PutObject.
fn callback(
    ex: &Exchange<'_, '_>,
    spec: &super::callback::CallbackSpec,
    (bucket, key, etag, (size, crc, mime)): (&str, &str, &str, (u64, u64, String)),
    resp: &mut Response,
) {
    let facts = super::callback::ObjectFacts {
        bucket,
        object: key,
        etag: etag.trim_matches('"'),
        size,
        mime_type: &mime,
        crc64: crc,
        content_md5: "",
    };
    let key_url = format!(
        "http://{}{}",
        ex.shared.settings.own_host,
        super::callback::PUBLIC_KEY_PATH
    );
    resp.headers.remove("Content-Type");
    match spec.perform(&spec.fill(&facts), &key_url) {
        Ok((content_type, answer)) => {
            resp.headers.append("Content-Type", content_type);
            resp.body = Body::Bytes(answer);
        }
        Err(why) => {
            let reply = error::callback_failed(why);
            resp.status = reply.status;
            resp.headers.append("Content-Type", "application/xml");
            resp.headers.append("x-oss-ec", reply.ec.clone());
            resp.body = Body::Bytes(reply.xml(&ex.request_id, &ex.host_id).into_bytes());
        }
    }
}

/// The object the parts make: bytes (none in length-only mode), the combined CRC-64 and
/// OSS's multipart ETag (MD5 of the parts' MD5s, `-N`).
fn assemble(ex: &Exchange<'_, '_>, upload: &Upload, parts: &[Part]) -> (Object, String, u64) {
    let size = parts.iter().fold(0u64, |s, p| s.saturating_add(p.size));
    let mut data = Vec::new();
    if !ex.shared.settings.length_only {
        data.reserve(usize::try_from(size).unwrap_or(0));
        for p in parts {
            data.extend_from_slice(&p.data);
        }
    }
    let crc = parts
        .iter()
        .fold(0u64, |acc, p| crate::crc64::combine(acc, p.crc64, p.size));
    let mut md5 = md5::Context::new();
    for p in parts {
        md5.consume(p.md5);
    }
    let digest: [u8; 16] = md5.finalize().0;
    let hex: String = digest.iter().map(|b| format!("{b:02X}")).collect();
    let etag = format!("\"{hex}-{}\"", parts.len());
    let mut headers = upload.headers.clone();
    if let Some(acl) = ex.head.header("x-oss-object-acl") {
        headers.set("x-oss-object-acl", acl);
    }
    let object = Object {
        data: Arc::new(data),
        headers,
        etag: etag.clone(),
        content_md5: String::new(),
        crc64: crc,
        last_modified: ex.shared.now(),
        size,
    };
    (object, etag, crc)
}

fn abort(ex: &mut Exchange<'_, '_>, (bucket, key, id): (&str, &str, &str)) -> Step {
    let mut uploads = lock(&ex.shared.multipart);
    match uploads.open.get(id) {
        Some(u) if u.bucket == bucket && u.key == key => {
            uploads.open.remove(id);
            Ok(Outcome::Respond(Response::new(204)))
        }
        _ => Err(no_such_upload()),
    }
}

fn list_parts(
    ex: &mut Exchange<'_, '_>,
    ids: (&str, &str, &str),
    params: &[(String, String)],
) -> Step {
    check_upload(ex, ids)?;
    let number = |name: &str, default: u32| -> Result<u32, super::ErrorReply> {
        match param(params, name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| error::invalid_argument("Invalid argument.", name, v)),
        }
    };
    let max = number("max-parts", 1000)?;
    if !(1..=1000).contains(&max) {
        return Err(error::invalid_argument(
            "max-parts must be between 1 and 1000.",
            "max-parts",
            &max.to_string(),
        ));
    }
    let marker = number("part-number-marker", 0)?;
    let url = param(params, "encoding-type") == Some("url");
    let uploads = lock(&ex.shared.multipart);
    let upload = uploads.open.get(ids.2).ok_or_else(no_such_upload)?;
    let after: Vec<(&u32, &Part)> = upload.parts.range(marker.saturating_add(1)..).collect();
    let page = after
        .get(..after.len().min(max as usize))
        .unwrap_or_default();
    let truncated = after.len() > page.len();
    let next = page.last().map_or(marker, |(n, _)| **n);
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListPartsResult>{}<Bucket>{}</Bucket>\
         <Key>{}</Key><UploadId>{}</UploadId><PartNumberMarker>{marker}</PartNumberMarker>\
         <NextPartNumberMarker>{next}</NextPartNumberMarker><MaxParts>{max}</MaxParts>\
         <IsTruncated>{truncated}</IsTruncated>",
        if url {
            "<EncodingType>url</EncodingType>"
        } else {
            ""
        },
        error::escape_xml(ids.0),
        encode_key(ids.1, url),
        ids.2,
    );
    for (n, p) in page {
        xml.push_str(&format!(
            "<Part><PartNumber>{n}</PartNumber><LastModified>{}</LastModified>\
             <ETag>{}</ETag><HashCrc64ecma>{}</HashCrc64ecma><Size>{}</Size></Part>",
            iso8601(p.last_modified),
            error::escape_xml(&p.etag),
            p.crc64,
            p.size
        ));
    }
    xml.push_str("</ListPartsResult>");
    Ok(Outcome::Respond(xml_response(xml)))
}

fn list_uploads(ex: &mut Exchange<'_, '_>, bucket: &str, params: &[(String, String)]) -> Step {
    let prefix = param(params, "prefix").unwrap_or("");
    let key_marker = param(params, "key-marker").unwrap_or("");
    let max = match param(params, "max-uploads") {
        None => 1000,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| error::invalid_argument("Invalid argument.", "max-uploads", v))?,
    };
    let url = param(params, "encoding-type") == Some("url");
    let uploads = lock(&ex.shared.multipart);
    let mut open: Vec<(&String, &Upload)> = uploads
        .open
        .iter()
        .filter(|(_, u)| u.bucket == bucket && u.key.starts_with(prefix))
        .filter(|(_, u)| u.key.as_str() > key_marker)
        .collect();
    open.sort_by(|a, b| (&a.1.key, a.0).cmp(&(&b.1.key, b.0)));
    let truncated = open.len() > max;
    open.truncate(max);
    let (next_key, next_id) = open
        .last()
        .map_or((String::new(), String::new()), |(id, u)| {
            (u.key.clone(), (*id).clone())
        });
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListMultipartUploadsResult>{}\
         <Bucket>{}</Bucket><KeyMarker>{}</KeyMarker><NextKeyMarker>{}</NextKeyMarker>\
         <NextUploadIdMarker>{next_id}</NextUploadIdMarker><MaxUploads>{max}</MaxUploads>\
         <IsTruncated>{truncated}</IsTruncated><Prefix>{}</Prefix>",
        if url {
            "<EncodingType>url</EncodingType>"
        } else {
            ""
        },
        error::escape_xml(bucket),
        encode_key(key_marker, url),
        encode_key(&next_key, url),
        encode_key(prefix, url),
    );
    for (id, u) in open {
        xml.push_str(&format!(
            "<Upload><Key>{}</Key><UploadId>{id}</UploadId><Initiated>{}</Initiated></Upload>",
            encode_key(&u.key, url),
            iso8601(u.initiated)
        ));
    }
    xml.push_str("</ListMultipartUploadsResult>");
    Ok(Outcome::Respond(xml_response(xml)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(size: u64, etag: &str) -> Part {
        Part {
            data: Arc::new(Vec::new()),
            size,
            crc64: 0,
            md5: [0; 16],
            etag: etag.to_string(),
            last_modified: SystemTime::UNIX_EPOCH,
        }
    }

    fn upload() -> Upload {
        let mut parts = BTreeMap::new();
        parts.insert(1, part(MIN_PART, "\"A\""));
        parts.insert(2, part(MIN_PART - 1, "\"B\""));
        parts.insert(3, part(1, "\"C\""));
        Upload {
            bucket: "b".into(),
            key: "k".into(),
            headers: Headers::new(),
            forbid_overwrite: false,
            initiated: SystemTime::UNIX_EPOCH,
            parts,
        }
    }

    fn code(listed: &[(u32, &str)]) -> String {
        let listed = listed.iter().map(|(n, e)| (*n, e.to_string())).collect();
        match chosen_parts(&upload(), Some(listed)) {
            Ok(_) => "ok".into(),
            Err(e) => e.code,
        }
    }

    #[test]
    fn complete_is_checked_as_oss_checks_it() {
        assert_eq!(code(&[(1, "\"A\""), (3, "\"C\"")]), "ok", "gaps are fine");
        assert_eq!(code(&[(3, "\"C\""), (1, "\"A\"")]), "InvalidPartOrder");
        assert_eq!(code(&[(1, "\"A\""), (1, "\"A\"")]), "InvalidPartOrder");
        assert_eq!(code(&[(1, "\"X\"")]), "InvalidPart");
        assert_eq!(code(&[(4, "\"D\"")]), "InvalidPart");
        assert_eq!(code(&[(2, "\"B\""), (3, "\"C\"")]), "EntityTooSmall");
        assert_eq!(code(&[(1, "A"), (2, "\"B\"")]), "ok", "quotes are optional");
    }

    #[test]
    fn complete_bodies_parse_or_are_malformed() {
        let parts = parse_complete(
            b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;A&quot;</ETag></Part></CompleteMultipartUpload>",
        )
        .unwrap();
        assert_eq!(parts, [(1, "\"A\"".to_string())]);
        for bad in [
            &b"<x/>"[..],
            b"<CompleteMultipartUpload><Part/></CompleteMultipartUpload>",
            b"\xff",
        ] {
            assert_eq!(parse_complete(bad).unwrap_err().code, "MalformedXML");
        }
    }

    #[test]
    fn aimed_faults_match_operation_and_part() {
        let mut uploads = Uploads::default();
        uploads.inject("UploadPart", Some(2), Fault::WrongCrc { times: 1 });
        assert!(uploads.take("UploadPart", Some(1)).is_none());
        assert!(uploads.take("CompleteMultipartUpload", None).is_none());
        assert!(uploads.take("UploadPart", Some(2)).is_some());
        assert!(uploads.take("UploadPart", Some(2)).is_none(), "used up");
    }
}

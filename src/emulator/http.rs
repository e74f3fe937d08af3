//! The emulator's HTTP/1.1 wire layer: request heads, body framing and responses.
//!
//! Everything here reads from network data, so every input is bounded (head size, header
//! count, chunk-size line, trailers) and every failure is an error value, never a panic.
//! Generic over `BufRead`/`Write` so the parsing is unit-tested with in-memory bytes.

use crate::Headers;
use std::io::{self, BufRead, Read, Write};

/// Largest accepted request head (request line and headers), like common servers' 64 KiB.
pub(crate) const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Most header fields accepted in one request.
pub(crate) const MAX_HEADERS: usize = 128;
/// Empty lines tolerated before a request line (RFC 9112 §2.2 asks servers to skip some).
const MAX_LEADING_EMPTY_LINES: usize = 4;
/// Longest chunk-size line, extensions included.
const MAX_CHUNK_LINE: usize = 4 * 1024;
/// Largest trailer section after the last chunk.
const MAX_TRAILER_BYTES: usize = 16 * 1024;

/// Why a request head could not be read.
#[derive(Debug)]
pub(crate) enum HeadError {
    /// The peer closed the connection before the first byte: the normal end of keep-alive.
    Closed,
    /// The socket failed (reset, timeout, shutdown).
    Io(io::Error),
    /// The bytes are not an HTTP/1.x request; the reason is for the 400 message.
    Malformed(&'static str),
    /// The head is larger than [`MAX_HEAD_BYTES`] or has more than [`MAX_HEADERS`] fields.
    TooLarge,
}

impl From<io::Error> for HeadError {
    fn from(e: io::Error) -> Self {
        HeadError::Io(e)
    }
}

/// A parsed request line and header section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestHead {
    /// The method as sent (methods are case-sensitive).
    pub method: String,
    /// The request target as sent (origin form `/path?query`).
    pub target: String,
    /// True for HTTP/1.0, whose connections close unless the client asks for keep-alive.
    pub http10: bool,
    /// Header fields in arrival order, names as sent, values with surrounding whitespace
    /// removed and obsolete line folding replaced by one space.
    pub headers: Headers,
}

/// How the request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `Content-Length` (0 when the request has neither header).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

impl RequestHead {
    /// The first value of a header, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// The raw path (before `?`) and raw query (after `?`, without it).
    pub fn path_and_query(&self) -> (&str, &str) {
        match self.target.split_once('?') {
            Some((p, q)) => (p, q),
            None => (self.target.as_str(), ""),
        }
    }

    /// Whether the client asked to close the connection after this exchange.
    pub fn wants_close(&self) -> bool {
        let tokens = || {
            self.headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
                .flat_map(|(_, v)| v.split(','))
                .map(str::trim)
        };
        if self.http10 {
            !tokens().any(|t| t.eq_ignore_ascii_case("keep-alive"))
        } else {
            tokens().any(|t| t.eq_ignore_ascii_case("close"))
        }
    }

    /// Whether the client waits for `100 Continue` before sending the body.
    pub fn expects_continue(&self) -> bool {
        !self.http10
            && self
                .header("expect")
                .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    }

    /// The body framing (RFC 9112 §6.3). Both `Transfer-Encoding` and `Content-Length`, an
    /// encoding other than `chunked`, or conflicting lengths are errors: such requests are
    /// how request smuggling starts, so they get a 400 and the connection is closed.
    pub fn framing(&self) -> Result<Framing, &'static str> {
        let mut te = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding"))
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .peekable();
        let mut length: Option<u64> = None;
        for (_, value) in self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        {
            for part in value.split(',') {
                let n = parse_decimal(part.trim()).ok_or("invalid Content-Length")?;
                if length.is_some_and(|l| l != n) {
                    return Err("conflicting Content-Length values");
                }
                length = Some(n);
            }
        }
        if te.peek().is_some() {
            if length.is_some() {
                return Err("both Transfer-Encoding and Content-Length");
            }
            let codings: Vec<&str> = te.collect();
            return match codings.as_slice() {
                [only] if only.eq_ignore_ascii_case("chunked") => Ok(Framing::Chunked),
                _ => Err("unsupported Transfer-Encoding (only chunked is accepted)"),
            };
        }
        Ok(Framing::Length(length.unwrap_or(0)))
    }
}

/// A decimal u64 of 1 to 19 digits, nothing else (no sign, no spaces).
pub(crate) fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Reads one line ending in `\n` (a preceding `\r` is dropped), charging its bytes to
/// `budget`. `Ok(None)` means end of stream before any byte of the line.
fn read_line<R: BufRead + ?Sized>(
    r: &mut R,
    budget: &mut usize,
) -> Result<Option<Vec<u8>>, HeadError> {
    let mut line = Vec::new();
    loop {
        let available = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(HeadError::Io(e)),
        };
        if available.is_empty() {
            if line.is_empty() {
                return Ok(None);
            }
            return Err(HeadError::Malformed(
                "connection closed in the middle of a line",
            ));
        }
        // Up to and including the newline: i < len, so i + 1 never saturates.
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i.saturating_add(1), true),
            None => (available.len(), false),
        };
        *budget = budget.checked_sub(take).ok_or(HeadError::TooLarge)?;
        line.extend_from_slice(available.get(..take).unwrap_or_default());
        r.consume(take);
        if done {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(Some(line));
        }
    }
}

/// Reads and parses a request head. Bare `\n` line ends are accepted, as most servers do.
pub(crate) fn read_head<R: BufRead + ?Sized>(r: &mut R) -> Result<RequestHead, HeadError> {
    let mut budget = MAX_HEAD_BYTES;
    let mut request_line = None;
    for i in 0..=MAX_LEADING_EMPTY_LINES {
        match read_line(r, &mut budget)? {
            None if i == 0 => return Err(HeadError::Closed),
            None => return Err(HeadError::Malformed("connection closed before a request")),
            Some(l) if l.is_empty() => continue,
            Some(l) => {
                request_line = Some(l);
                break;
            }
        }
    }
    let request_line = request_line.ok_or(HeadError::Malformed("too many empty lines"))?;
    let (method, target, http10) = parse_request_line(&request_line)?;

    let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
    loop {
        let line = read_line(r, &mut budget)?.ok_or(HeadError::Malformed(
            "connection closed inside the header section",
        ))?;
        if line.is_empty() {
            break;
        }
        if matches!(line.first(), Some(b' ' | b'\t')) {
            // obs-fold (RFC 9112 §5.2): replace the fold by a single space.
            let (_, value) = headers
                .last_mut()
                .ok_or(HeadError::Malformed("folded line before any header"))?;
            let more = trim_ows(&line);
            check_value(more)?;
            if !more.is_empty() {
                if !value.is_empty() {
                    value.push(b' ');
                }
                value.extend_from_slice(more);
            }
            continue;
        }
        if headers.len() >= MAX_HEADERS {
            return Err(HeadError::TooLarge);
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or(HeadError::Malformed("header line without a colon"))?;
        let (name, rest) = line.split_at(colon);
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return Err(HeadError::Malformed("invalid header name"));
        }
        let value = trim_ows(rest.get(1..).unwrap_or_default());
        check_value(value)?;
        // The name is all tchar, so it is ASCII.
        headers.push((String::from_utf8_lossy(name).into_owned(), value.to_vec()));
    }
    let headers = headers
        .into_iter()
        .map(|(n, v)| {
            let value = match String::from_utf8(v) {
                Ok(s) => s,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            };
            (n, value)
        })
        .collect();
    Ok(RequestHead {
        method,
        target,
        http10,
        headers,
    })
}

fn parse_request_line(line: &[u8]) -> Result<(String, String, bool), HeadError> {
    let text =
        std::str::from_utf8(line).map_err(|_| HeadError::Malformed("non-UTF-8 request line"))?;
    let mut parts = text.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::Malformed(
            "request line is not `METHOD target HTTP/1.x`",
        ));
    };
    if method.is_empty() || !method.bytes().all(is_tchar) {
        return Err(HeadError::Malformed("invalid method"));
    }
    if !target.starts_with('/') || !target.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(HeadError::Malformed(
            "the request target must be an origin-form path",
        ));
    }
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return Err(HeadError::Malformed("unsupported HTTP version")),
    };
    Ok((method.to_string(), target.to_string(), http10))
}

fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

fn check_value(v: &[u8]) -> Result<(), HeadError> {
    if v.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(HeadError::Malformed("control character in a header value"));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyState {
    Length { remaining: u64 },
    ChunkSize,
    ChunkData { remaining: u64 },
    ChunkEnd,
    Done,
    Failed,
}

/// Reads one request body, de-chunking as needed, and stops exactly at its end so the next
/// request on a keep-alive connection starts in the right place.
pub(crate) struct BodyReader<'a, R: BufRead + ?Sized> {
    inner: &'a mut R,
    state: BodyState,
    read: u64,
}

fn invalid(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

impl<'a, R: BufRead + ?Sized> BodyReader<'a, R> {
    /// A reader for one body with this framing.
    pub fn new(inner: &'a mut R, framing: Framing) -> Self {
        let state = match framing {
            Framing::Length(0) => BodyState::Done,
            Framing::Length(n) => BodyState::Length { remaining: n },
            Framing::Chunked => BodyState::ChunkSize,
        };
        BodyReader {
            inner,
            state,
            read: 0,
        }
    }

    /// Body bytes delivered so far (after de-chunking).
    pub fn bytes_read(&self) -> u64 {
        self.read
    }

    /// True once the whole body, and for chunked bodies the trailers, has been consumed.
    pub fn is_done(&self) -> bool {
        self.state == BodyState::Done
    }

    /// Bytes still expected for a `Content-Length` body; `None` for chunked or failed bodies.
    pub fn remaining_known(&self) -> Option<u64> {
        match self.state {
            BodyState::Length { remaining } => Some(remaining),
            BodyState::Done => Some(0),
            _ => None,
        }
    }

    fn line(&mut self, budget: &mut usize) -> io::Result<Vec<u8>> {
        match read_line(self.inner, budget) {
            Ok(Some(l)) => Ok(l),
            Ok(None) => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed inside a chunked body",
            )),
            Err(HeadError::Io(e)) => Err(e),
            Err(HeadError::TooLarge) => Err(invalid("chunk-size line or trailers too long")),
            Err(HeadError::Malformed(m)) => Err(io::Error::new(io::ErrorKind::UnexpectedEof, m)),
            Err(HeadError::Closed) => Err(io::ErrorKind::UnexpectedEof.into()),
        }
    }

    fn copy_data(&mut self, buf: &mut [u8], remaining: u64) -> io::Result<usize> {
        let available = loop {
            match self.inner.fill_buf() {
                Ok(b) => break b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if available.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed before the end of the body",
            ));
        }
        let n = available
            .len()
            .min(buf.len())
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        // `n` is at most either length, so both ranges exist; one memcpy, not a byte loop
        // (which, unoptimised in test builds, was most of the time of large uploads).
        if let (Some(to), Some(from)) = (buf.get_mut(..n), available.get(..n)) {
            to.copy_from_slice(from);
        }
        self.inner.consume(n);
        self.read = self.read.saturating_add(n as u64);
        Ok(n)
    }

    fn step(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        match self.state {
            BodyState::Done => Ok(Some(0)),
            BodyState::Failed => Err(invalid("the body could not be read")),
            BodyState::Length { remaining } => {
                let n = self.copy_data(buf, remaining)?;
                let left = remaining.saturating_sub(n as u64); // n <= remaining
                self.state = if left == 0 {
                    BodyState::Done
                } else {
                    BodyState::Length { remaining: left }
                };
                Ok(Some(n))
            }
            BodyState::ChunkData { remaining } => {
                let n = self.copy_data(buf, remaining)?;
                let left = remaining.saturating_sub(n as u64); // n <= remaining
                self.state = if left == 0 {
                    BodyState::ChunkEnd
                } else {
                    BodyState::ChunkData { remaining: left }
                };
                Ok(Some(n))
            }
            BodyState::ChunkEnd => {
                let mut budget = 2 + 2;
                if !self.line(&mut budget)?.is_empty() {
                    return Err(invalid("chunk data not followed by CRLF"));
                }
                self.state = BodyState::ChunkSize;
                Ok(None)
            }
            BodyState::ChunkSize => {
                let mut budget = MAX_CHUNK_LINE;
                let line = self.line(&mut budget)?;
                let size = parse_chunk_size(&line).ok_or_else(|| invalid("invalid chunk size"))?;
                if size > 0 {
                    self.state = BodyState::ChunkData { remaining: size };
                    return Ok(None);
                }
                // Last chunk: skip the trailer section up to its empty line.
                let mut budget = MAX_TRAILER_BYTES;
                while !self.line(&mut budget)?.is_empty() {}
                self.state = BodyState::Done;
                Ok(Some(0))
            }
        }
    }
}

/// `1*HEXDIG [ ; extensions ]`, at most 16 hex digits so it fits in a u64.
fn parse_chunk_size(line: &[u8]) -> Option<u64> {
    let digits = trim_ows(line.split(|&b| b == b';').next().unwrap_or_default());
    if digits.is_empty() || digits.len() > 16 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

impl<R: BufRead + ?Sized> Read for BodyReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // Each step either returns data or moves the chunk state machine forward by one
        // line; a body has at most one size line and one CRLF per chunk, so this ends.
        loop {
            match self.step(buf) {
                Ok(Some(n)) => return Ok(n),
                Ok(None) => continue,
                Err(e) => {
                    self.state = BodyState::Failed;
                    return Err(e);
                }
            }
        }
    }
}

/// A response body: nothing, owned bytes, or an object's bytes shared with the store.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    Empty,
    Bytes(Vec<u8>),
    Shared(std::sync::Arc<Vec<u8>>),
}

impl Body {
    fn as_slice(&self) -> &[u8] {
        match self {
            Body::Empty => &[],
            Body::Bytes(b) => b,
            Body::Shared(b) => b,
        }
    }
}

/// A response ready to be written.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub status: u16,
    /// Headers other than `Content-Length` and `Connection`, which the writer adds.
    pub headers: Headers,
    pub body: Body,
}

impl Response {
    /// A response with a status and no headers or body yet.
    pub fn new(status: u16) -> Self {
        Response {
            status,
            headers: Headers::new(),
            body: Body::Empty,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.append(name.to_string(), value.into());
        self
    }

    /// The first value of a header, case-insensitively.
    pub fn get_header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }
}

/// The standard reason phrase, for readable traces.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// Writes a response. `head_only` (for HEAD) sends the headers, including the body's
/// `Content-Length` unless one is already set, without the body. `close` adds
/// `Connection: close`.
pub(crate) fn write_response<W: Write + ?Sized>(
    w: &mut W,
    resp: &Response,
    head_only: bool,
    close: bool,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    for (name, value) in &resp.headers {
        // Values come from our own code or echo client headers that were parsed without
        // CR/LF, but never let a line break through.
        let value: String = value.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        head.push_str(name);
        head.push_str(": ");
        head.push_str(&value);
        head.push_str("\r\n");
    }
    if resp.get_header("content-length").is_none() {
        head.push_str(&format!(
            "Content-Length: {}\r\n",
            resp.body.as_slice().len()
        ));
    }
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    w.write_all(head.as_bytes())?;
    if !head_only {
        w.write_all(resp.body.as_slice())?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Cursor};

    fn head(bytes: &[u8]) -> Result<RequestHead, HeadError> {
        read_head(&mut Cursor::new(bytes.to_vec()))
    }

    fn body_of(bytes: &[u8], framing: Framing) -> io::Result<(Vec<u8>, Vec<u8>)> {
        // A tiny buffer makes every boundary fall in the middle of a read.
        let mut r = BufReader::with_capacity(3, Cursor::new(bytes.to_vec()));
        let mut out = Vec::new();
        BodyReader::new(&mut r, framing).read_to_end(&mut out)?;
        let mut rest = Vec::new();
        r.read_to_end(&mut rest)?;
        Ok((out, rest))
    }

    #[test]
    fn parses_a_put_head() {
        let h = head(
            b"PUT /bucket/a%20b?x=1 HTTP/1.1\r\nHost: 127.0.0.1:9\r\nContent-Length:  5 \r\n\
              X-Oss-Meta-A: caf\xc3\xa9\r\n\r\nhello",
        )
        .unwrap();
        assert_eq!(h.method, "PUT");
        assert_eq!(h.path_and_query(), ("/bucket/a%20b", "x=1"));
        assert!(!h.http10);
        assert_eq!(h.header("content-length"), Some("5"));
        assert_eq!(h.header("x-oss-meta-a"), Some("café"));
        assert_eq!(h.framing(), Ok(Framing::Length(5)));
        assert!(!h.wants_close());
    }

    #[test]
    fn accepts_bare_lf_and_leading_empty_lines() {
        let h = head(b"\r\n\nGET / HTTP/1.0\nConnection: keep-alive\n\n").unwrap();
        assert_eq!(h.method, "GET");
        assert!(h.http10);
        assert!(!h.wants_close());
        assert!(head(b"GET / HTTP/1.0\r\n\r\n").unwrap().wants_close());
    }

    #[test]
    fn unfolds_obsolete_line_folding() {
        let h = head(b"GET / HTTP/1.1\r\nX-Long: one\r\n  two\r\n\tthree\r\n\r\n").unwrap();
        assert_eq!(h.header("x-long"), Some("one two three"));
        assert!(matches!(
            head(b"GET / HTTP/1.1\r\n folded-first\r\n\r\n"),
            Err(HeadError::Malformed(_))
        ));
    }

    #[test]
    fn empty_stream_is_a_clean_close() {
        assert!(matches!(head(b""), Err(HeadError::Closed)));
    }

    #[test]
    fn rejects_malformed_heads() {
        let cases: &[&[u8]] = &[
            b"GET /\r\n\r\n",
            b"GET / HTTP/2.0\r\n\r\n",
            b"GET  / HTTP/1.1\r\n\r\n",
            b"GET http://x/ HTTP/1.1\r\n\r\n",
            b"G(T / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
            b"GET / HTTP/1.1\r\n: empty name\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\n",
            b"GET / HTTP/1.1\r\nHost: x",
            b"\xff\xfe / HTTP/1.1\r\n\r\n",
            b"\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n",
        ];
        for case in cases {
            assert!(
                matches!(head(case), Err(HeadError::Malformed(_))),
                "{:?} should be malformed",
                String::from_utf8_lossy(case)
            );
        }
    }

    #[test]
    fn enforces_head_limits() {
        let mut big = b"GET / HTTP/1.1\r\nX: ".to_vec();
        big.extend(std::iter::repeat_n(b'a', MAX_HEAD_BYTES));
        big.extend_from_slice(b"\r\n\r\n");
        assert!(matches!(head(&big), Err(HeadError::TooLarge)));

        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert!(matches!(head(&many), Err(HeadError::TooLarge)));

        let mut just = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..MAX_HEADERS {
            just.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        just.extend_from_slice(b"\r\n");
        assert_eq!(head(&just).unwrap().headers.len(), MAX_HEADERS);
    }

    #[test]
    fn framing_rules() {
        let f = |hs: &[(&str, &str)]| {
            RequestHead {
                method: "PUT".into(),
                target: "/".into(),
                http10: false,
                headers: hs
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
            }
            .framing()
        };
        assert_eq!(f(&[]), Ok(Framing::Length(0)));
        assert_eq!(f(&[("Content-Length", "10")]), Ok(Framing::Length(10)));
        assert_eq!(
            f(&[("content-length", "10"), ("Content-Length", "10, 10")]),
            Ok(Framing::Length(10))
        );
        assert_eq!(f(&[("Transfer-Encoding", "Chunked")]), Ok(Framing::Chunked));
        for bad in [
            &[("Content-Length", "-1")][..],
            &[("Content-Length", "+5")],
            &[("Content-Length", "")],
            &[("Content-Length", "99999999999999999999")],
            &[("Content-Length", "1"), ("Content-Length", "2")],
            &[("Transfer-Encoding", "chunked"), ("Content-Length", "3")],
            &[("Transfer-Encoding", "gzip, chunked")],
            &[("Transfer-Encoding", "identity")],
        ] {
            assert!(f(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn reads_a_content_length_body_and_stops_at_its_end() {
        let (body, rest) = body_of(b"hello worldGET", Framing::Length(11)).unwrap();
        assert_eq!(body, b"hello world");
        assert_eq!(rest, b"GET");
        let err = body_of(b"short", Framing::Length(11)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn reads_a_chunked_body_with_extensions_and_trailers() {
        let wire = b"5;name=value\r\nhello\r\n6\r\n world\r\nA \r\n0123456789\r\n\
                     0\r\nX-Trailer: yes\r\n\r\nNEXT";
        let (body, rest) = body_of(wire, Framing::Chunked).unwrap();
        assert_eq!(body, b"hello world0123456789");
        assert_eq!(rest, b"NEXT");
        let (body, rest) = body_of(b"0\r\n\r\n", Framing::Chunked).unwrap();
        assert!(body.is_empty() && rest.is_empty());
        let (body, _) = body_of(b"3\nabc\n0\n\n", Framing::Chunked).unwrap();
        assert_eq!(body, b"abc");
    }

    #[test]
    fn rejects_malformed_chunked_bodies() {
        let cases: &[&[u8]] = &[
            b"zz\r\nhello\r\n0\r\n\r\n",
            b"\r\nhello\r\n0\r\n\r\n",
            b"5\r\nhelloX\r\n0\r\n\r\n",
            b"5\r\nhel",
            b"5\r\nhello\r\n",
            b"11111111111111111\r\n",
            b"-1\r\n",
            b"5\r\nhello\r\n0\r\n",
        ];
        for case in cases {
            assert!(
                body_of(case, Framing::Chunked).is_err(),
                "{:?}",
                String::from_utf8_lossy(case)
            );
        }
        let mut long = b"1;".to_vec();
        long.extend(std::iter::repeat_n(b'x', MAX_CHUNK_LINE));
        long.extend_from_slice(b"\r\na\r\n0\r\n\r\n");
        assert!(body_of(&long, Framing::Chunked).is_err());
        let mut trailers = b"0\r\n".to_vec();
        for _ in 0..MAX_TRAILER_BYTES {
            trailers.extend_from_slice(b"X: y\r\n");
        }
        assert!(body_of(&trailers, Framing::Chunked).is_err());
    }

    #[test]
    fn a_failed_body_stays_failed() {
        let mut r = Cursor::new(b"zz\r\n".to_vec());
        let mut body = BodyReader::new(&mut r, Framing::Chunked);
        let mut buf = [0u8; 8];
        assert!(body.read(&mut buf).is_err());
        assert!(body.read(&mut buf).is_err());
        assert!(!body.is_done());
    }

    /// A deterministic pseudo-random byte source: no dependency, reproducible failures.
    fn noise(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Bias towards the bytes that matter to the parser.
                const INTERESTING: &[u8] = b"\r\n :;0aF\t/?%HTTP1.";
                if x % 3 == 0 {
                    INTERESTING[(x >> 8) as usize % INTERESTING.len()]
                } else {
                    (x >> 16) as u8
                }
            })
            .collect()
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        for seed in 0..3000u64 {
            let mut input = b"PUT /b/k HTTP/1.1\r\nTransfer-Encoding: chunked\r\n".to_vec();
            if seed % 2 == 0 {
                input.clear();
            }
            input.extend(noise(seed, (seed % 300) as usize));
            let mut r = BufReader::with_capacity(7, Cursor::new(input.clone()));
            if let Ok(h) = read_head(&mut r) {
                let _ = h.framing();
                let _ = h.wants_close();
                let _ = h.path_and_query();
            }
            for framing in [Framing::Chunked, Framing::Length(seed % 50)] {
                let mut r = BufReader::with_capacity(5, Cursor::new(input.clone()));
                let mut sink = Vec::new();
                let _ = BodyReader::new(&mut r, framing).read_to_end(&mut sink);
            }
        }
    }

    #[test]
    fn writes_responses() {
        let resp = Response::new(404)
            .header("X-A", "b\r\nInjected: yes")
            .header("Content-Type", "application/xml");
        let mut out = Vec::new();
        let resp = Response {
            body: Body::Bytes(b"<x/>".to_vec()),
            ..resp
        };
        write_response(&mut out, &resp, false, true).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "HTTP/1.1 404 Not Found\r\nX-A: bInjected: yes\r\nContent-Type: application/xml\r\n\
             Content-Length: 4\r\nConnection: close\r\n\r\n<x/>"
        );
        let mut out = Vec::new();
        write_response(&mut out, &resp, true, false).unwrap();
        assert!(String::from_utf8(out)
            .unwrap()
            .ends_with("Content-Length: 4\r\n\r\n"));
    }
}

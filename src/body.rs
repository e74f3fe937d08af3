//! The bytes of an upload, from any source, and the reader that sends them.
//!
//! A [`Body`] knows its length when it can (bytes, strings, files, sized readers) and whether
//! it can be rewound for a retry (everything but a one-shot reader). The tracker wraps the
//! attempt's reader: it updates the CRC-64 and the progress callback as the HTTP client pulls
//! the bytes, so the data is read once and never buffered whole. A body of known length that
//! ends early is an error at once: the HTTP client would otherwise wait for bytes that never
//! come.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::crc64::Crc64;
use crate::pipeline::BodyStats;

/// The data of an upload.
///
/// ```
/// use oss_blocking::Body;
/// let from_str: Body = "Hello, OSS!".into();
/// let from_bytes: Body = b"hello world".to_vec().into();
/// let from_stream = Body::from_reader(std::io::Cursor::new(vec![1u8, 2, 3]));
/// assert_eq!(from_str.known_length(), Some(11));
/// assert_eq!(from_bytes.known_length(), Some(11));
/// assert_eq!(from_stream.known_length(), None); // sent chunked
/// ```
pub struct Body {
    source: Source,
    /// The local path, for messages.
    path: Option<PathBuf>,
}

/// A reader that can be rewound: what [`Body::from_seekable`] keeps.
pub(crate) trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

enum Source {
    Bytes(Vec<u8>),
    File {
        file: File,
        /// Where the upload starts, and its length when the file's size gives it, measured
        /// when the upload starts.
        span: Option<(u64, Option<u64>)>,
    },
    Seekable {
        reader: Box<dyn ReadSeek>,
        /// Offset and length, read from the reader when the upload starts.
        span: Option<(u64, u64)>,
    },
    Reader {
        reader: Box<dyn Read + Send>,
        len: Option<u64>,
        /// Set once the HTTP client has pulled from it: a retry would then send a cut stream.
        touched: bool,
    },
    /// `len` bytes at `offset` of a file shared with other bodies (the uploader's parts), read
    /// with positional reads so parts of one open file go out in parallel.
    FileRange {
        file: Arc<File>,
        offset: u64,
        len: u64,
    },
}

impl Body {
    /// A zero-byte body: a valid empty object.
    pub fn empty() -> Body {
        Body::from_source(Source::Bytes(Vec::new()))
    }

    /// A stream of unknown length, sent with chunked transfer encoding. It is read once, so a
    /// failed attempt that had already read from it is not retried.
    pub fn from_reader(reader: impl Read + Send + 'static) -> Body {
        Body::from_source(Source::Reader {
            reader: Box::new(reader),
            len: None,
            touched: false,
        })
    }

    /// A stream that yields exactly `len` bytes, sent with a `Content-Length`. Prefer this over
    /// [`Body::from_reader`] when the length is known: OSS then checks it, and the 5 GiB limit
    /// is checked before sending.
    pub fn from_sized_reader(reader: impl Read + Send + 'static, len: u64) -> Body {
        Body::from_source(Source::Reader {
            reader: Box::new(reader),
            len: Some(len),
            touched: false,
        })
    }

    /// A reader that can seek, e.g. an `io::Cursor` or a file-like handle: uploaded from its
    /// current position to its end, with a `Content-Length`, and rewound to that position for
    /// each retry (the length is found by seeking to the end when the upload starts).
    ///
    /// ```
    /// use oss_blocking::Body;
    /// let mut cursor = std::io::Cursor::new(b"skip:payload".to_vec());
    /// cursor.set_position(5);
    /// let body = Body::from_seekable(cursor);
    /// assert!(body.is_rewindable());
    /// ```
    pub fn from_seekable(reader: impl Read + Seek + Send + 'static) -> Body {
        Body::from_source(Source::Seekable {
            reader: Box::new(reader),
            span: None,
        })
    }

    /// Opens a file to upload from its start. Errors name the path.
    pub fn from_path(path: impl AsRef<Path>) -> io::Result<Body> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| with_path(e, path, "open"))?;
        if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is a directory, not a file", path.display()),
            ));
        }
        Ok(Body {
            source: Source::File { file, span: None },
            path: Some(path.to_path_buf()),
        })
    }

    /// `len` bytes of `file` from `offset`, read with positional reads (the file's cursor is
    /// not used, so many such bodies can share one open file across threads). Rewindable;
    /// a file shorter than `offset + len` is a local I/O error.
    pub(crate) fn from_file_range(file: Arc<File>, offset: u64, len: u64, path: &Path) -> Body {
        Body {
            source: Source::FileRange { file, offset, len },
            path: Some(path.to_path_buf()),
        }
    }

    fn from_source(source: Source) -> Body {
        Body { source, path: None }
    }

    /// The length in bytes when known before sending (files once opened, bytes, sized readers).
    pub fn known_length(&self) -> Option<u64> {
        match &self.source {
            Source::Bytes(bytes) => Some(bytes.len() as u64),
            Source::File { span, file } => match span {
                Some((_, len)) => *len,
                None => file.metadata().ok().map(|m| m.len()),
            },
            Source::Seekable { span, .. } => span.map(|(_, len)| len),
            Source::Reader { len, .. } => *len,
            Source::FileRange { len, .. } => Some(*len),
        }
    }

    /// True when a failed attempt can be retried from the start: bytes, strings, files and
    /// seekable readers always; a one-shot reader only until it has been read from.
    pub fn is_rewindable(&self) -> bool {
        match &self.source {
            Source::Bytes(_)
            | Source::File { .. }
            | Source::Seekable { .. }
            | Source::FileRange { .. } => true,
            Source::Reader { touched, .. } => !touched,
        }
    }

    /// The local path, for messages.
    pub(crate) fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Fixes the span (current offset to end) before the first attempt. A file whose size the
    /// OS reports as 0 but that yields bytes (`/proc`, `/sys`) is sent as a stream of unknown
    /// length; a file that is not a regular file (a pipe, a device) as a one-shot stream.
    pub(crate) fn prepare(&mut self) -> io::Result<()> {
        let path = self.path.clone();
        let describe = |e: io::Error| match &path {
            Some(p) => with_path(e, p, "read"),
            None => e,
        };
        if let Source::File { file, span } = &mut self.source {
            if span.is_some() {
                return Ok(());
            }
            let metadata = file.metadata().map_err(describe)?;
            if metadata.is_file() {
                let start = file.stream_position().map_err(describe)?;
                let len = metadata.len().saturating_sub(start);
                let unknown = len == 0 && yields_bytes(file, start).map_err(describe)?;
                *span = Some((start, (!unknown).then_some(len)));
            } else if let Source::File { file, .. } =
                std::mem::replace(&mut self.source, Source::empty())
            {
                self.source = Source::Reader {
                    reader: Box::new(file),
                    len: None,
                    touched: false,
                };
            }
            return Ok(());
        }
        if let Source::Seekable { reader, span } = &mut self.source {
            if span.is_none() {
                let start = reader.stream_position()?;
                let end = reader.seek(SeekFrom::End(0))?;
                reader.seek(SeekFrom::Start(start))?;
                *span = Some((start, end.saturating_sub(start)));
            }
        }
        Ok(())
    }

    /// Base64 of the MD5 of the body (the `Content-MD5` value) for bytes and files, read in
    /// one streamed pass; `None` for streams, which can be read only once.
    pub(crate) fn content_md5(&mut self) -> io::Result<Option<String>> {
        use base64::Engine as _;
        if matches!(self.source, Source::Reader { .. }) {
            return Ok(None);
        }
        let mut reader = self.attempt_reader()?;
        let mut md5 = md5::Context::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            md5.consume(buf.get(..n).unwrap_or_default());
        }
        let digest: [u8; 16] = md5.finalize().into();
        Ok(Some(
            base64::engine::general_purpose::STANDARD.encode(digest),
        ))
    }

    /// A reader over the whole body for one attempt, rewound to the start for a retry.
    pub(crate) fn attempt_reader(&mut self) -> io::Result<AttemptReader<'_>> {
        self.prepare()?;
        match &mut self.source {
            Source::Bytes(bytes) => Ok(AttemptReader::Bytes(bytes.as_slice())),
            Source::File { file, span } => {
                let (start, len) = span.unwrap_or((0, Some(0)));
                file.seek(SeekFrom::Start(start))
                    .map_err(|e| match &self.path {
                        Some(p) => with_path(e, p, "seek"),
                        None => e,
                    })?;
                // A known length is sent exactly: a file that grows meanwhile is cut there.
                Ok(AttemptReader::File(Read::take(
                    file,
                    len.unwrap_or(u64::MAX),
                )))
            }
            Source::Seekable { reader, span } => {
                let (start, len) = span.unwrap_or((0, 0));
                reader.seek(SeekFrom::Start(start))?;
                Ok(AttemptReader::Seekable(Read::take(reader.as_mut(), len)))
            }
            Source::FileRange { file, offset, len } => Ok(AttemptReader::FileRange {
                file,
                pos: *offset,
                left: *len,
            }),
            Source::Reader {
                reader,
                len,
                touched,
            } => {
                if *touched {
                    return Err(io::Error::other(
                        "the body is a one-shot stream that was already read by an earlier attempt",
                    ));
                }
                Ok(AttemptReader::Stream {
                    reader: reader.as_mut(),
                    remaining: *len,
                    touched,
                })
            }
        }
    }
}

/// True when the file yields a byte at `start` (read, then the position is restored).
fn yields_bytes(file: &mut File, start: u64) -> io::Result<bool> {
    let mut probe = [0u8; 1];
    let got = loop {
        match file.read(&mut probe) {
            Ok(n) => break n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    };
    file.seek(SeekFrom::Start(start))?;
    Ok(got > 0)
}

impl Source {
    fn empty() -> Source {
        Source::Bytes(Vec::new())
    }
}

fn with_path(e: io::Error, path: &Path, action: &str) -> io::Error {
    io::Error::new(e.kind(), format!("cannot {action} {}: {e}", path.display()))
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Source::Bytes(b) => write!(f, "Body::Bytes({} bytes)", b.len()),
            Source::File { span, .. } => f
                .debug_struct("Body::File")
                .field("path", &self.path)
                .field("span", span)
                .finish(),
            Source::Seekable { span, .. } => f
                .debug_struct("Body::Seekable")
                .field("span", span)
                .finish(),
            Source::Reader { len, touched, .. } => f
                .debug_struct("Body::Reader")
                .field("len", len)
                .field("touched", touched)
                .finish(),
            Source::FileRange { offset, len, .. } => f
                .debug_struct("Body::FileRange")
                .field("path", &self.path)
                .field("offset", offset)
                .field("len", len)
                .finish(),
        }
    }
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Body::from_source(Source::Bytes(bytes))
    }
}

impl From<&[u8]> for Body {
    fn from(bytes: &[u8]) -> Self {
        Body::from(bytes.to_vec())
    }
}

impl<const N: usize> From<&[u8; N]> for Body {
    fn from(bytes: &[u8; N]) -> Self {
        Body::from(bytes.to_vec())
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Body::from(text.into_bytes())
    }
}

impl From<&str> for Body {
    fn from(text: &str) -> Self {
        Body::from(text.as_bytes().to_vec())
    }
}

impl From<File> for Body {
    /// Uploads from the file's current position to its end.
    fn from(file: File) -> Self {
        Body::from_source(Source::File { file, span: None })
    }
}

/// The body of one attempt.
pub(crate) enum AttemptReader<'a> {
    Bytes(&'a [u8]),
    File(io::Take<&'a mut File>),
    Seekable(io::Take<&'a mut dyn ReadSeek>),
    Stream {
        reader: &'a mut (dyn Read + Send),
        remaining: Option<u64>,
        touched: &'a mut bool,
    },
    FileRange {
        file: &'a File,
        pos: u64,
        left: u64,
    },
}

impl Read for AttemptReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            AttemptReader::Bytes(rest) => rest.read(buf),
            AttemptReader::File(file) => file.read(buf),
            AttemptReader::Seekable(reader) => reader.read(buf),
            AttemptReader::FileRange { file, pos, left } => {
                let want = buf.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                if want == 0 {
                    return Ok(0);
                }
                let n = read_at(file, buf.get_mut(..want).unwrap_or_default(), *pos)?;
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("the file ended {left} bytes before the end of this part"),
                    ));
                }
                *pos = pos.saturating_add(n as u64);
                *left = left.saturating_sub(n as u64);
                Ok(n)
            }
            AttemptReader::Stream {
                reader,
                remaining,
                touched,
            } => {
                **touched = true;
                let want = match remaining {
                    Some(0) => return Ok(0),
                    Some(left) => buf.len().min(usize::try_from(*left).unwrap_or(usize::MAX)),
                    None => buf.len(),
                };
                let n = reader.read(buf.get_mut(..want).unwrap_or_default())?;
                if let Some(left) = remaining {
                    *left = left.saturating_sub(n as u64);
                }
                Ok(n)
            }
        }
    }
}

/// One positional read: the file's cursor is neither used nor moved.
#[cfg(unix)]
pub(crate) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::os::unix::fs::FileExt as _;
    loop {
        match file.read_at(buf, offset) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// One positional read (on Windows the cursor moves, but every read names its offset).
#[cfg(windows)]
pub(crate) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::os::windows::fs::FileExt as _;
    loop {
        match file.seek_read(buf, offset) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Progress callback: (bytes in this chunk, bytes sent so far in this attempt, total if known).
pub type ProgressFn = dyn FnMut(u64, u64, Option<u64>) + Send;

/// Largest chunk between two progress calls: reads are cut to it, so a caller gets at least
/// one call per MiB even if the HTTP client asks for bigger reads.
pub const PROGRESS_MAX_CHUNK: usize = 1024 * 1024;

/// Counts, hashes and reports the bytes as the HTTP client reads them.
pub(crate) struct Tracker<'a, R> {
    inner: R,
    crc: Crc64,
    sent: u64,
    total: Option<u64>,
    progress: Option<&'a mut ProgressFn>,
    /// The error of the local source, kept apart from socket errors so it is reported as
    /// local I/O and not retried.
    local_error: Option<io::Error>,
    /// A call with `sent == total` was made (the final one).
    finished: bool,
    /// The source reached its end (or its known length).
    reached_end: bool,
}

impl<'a, R: Read> Tracker<'a, R> {
    pub(crate) fn new(inner: R, total: Option<u64>, progress: Option<&'a mut ProgressFn>) -> Self {
        Tracker {
            inner,
            crc: Crc64::new(),
            sent: 0,
            total,
            progress,
            local_error: None,
            finished: false,
            reached_end: false,
        }
    }

    /// What went out so far: bytes, their CRC-64, and whether that was the whole body.
    pub(crate) fn stats(&self) -> BodyStats {
        BodyStats {
            sent: self.sent,
            crc64: self.crc.value(),
            complete: self.reached_end || self.total == Some(self.sent),
        }
    }

    /// After a request went out whole: makes the final progress call if the HTTP client
    /// never read to the end (an empty body, or exactly `Content-Length` bytes).
    pub(crate) fn finish(&mut self) {
        if self.finished || self.total.is_some_and(|t| t != self.sent) {
            return;
        }
        if let Some(progress) = self.progress.as_mut() {
            progress(0, self.sent, Some(self.sent));
        }
        self.finished = true;
    }

    pub(crate) fn take_local_error(&mut self) -> Option<io::Error> {
        self.local_error.take()
    }

    /// Keeps a failure of the local source (so it is reported as local I/O, not retried) and
    /// gives the HTTP client an error of the same kind to stop the request with.
    fn local_failure(&mut self, e: io::Error) -> io::Error {
        let forwarded = io::Error::new(e.kind(), e.to_string());
        self.local_error = Some(e);
        forwarded
    }
}

/// The error of a body of known length that ended early.
fn short_body(expected: u64, got: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!(
            "expected {expected} bytes, got {got}: the data ended early (was the file \
             truncated while it was uploaded?)"
        ),
    )
}

impl<R: Read> Read for Tracker<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let limit = buf.len().min(PROGRESS_MAX_CHUNK);
        let buf = buf.get_mut(..limit).unwrap_or_default();
        let n = loop {
            match self.inner.read(buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.local_failure(e)),
            }
        };
        if n == 0 && !buf.is_empty() {
            if let Some(total) = self.total.filter(|t| self.sent < *t) {
                return Err(self.local_failure(short_body(total, self.sent)));
            }
            self.reached_end = true;
        }
        if let Some(chunk) = buf.get(..n) {
            self.crc.update(chunk);
        }
        self.sent = self.sent.saturating_add(n as u64);
        if self.finished {
            return Ok(n);
        }
        if let Some(progress) = self.progress.as_mut() {
            if n > 0 {
                progress(n as u64, self.sent, self.total);
                self.finished = self.total == Some(self.sent);
            } else {
                // End of the body: one last call whose total is what was written, also for
                // an empty body and for a stream whose length was unknown until now.
                progress(0, self.sent, Some(self.sent));
                self.finished = true;
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn drain(body: &mut Body) -> Vec<u8> {
        let mut out = Vec::new();
        body.attempt_reader()
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn bytes_and_files_rewind_for_each_attempt() {
        let mut body = Body::from("hello");
        assert_eq!(drain(&mut body), b"hello");
        assert_eq!(drain(&mut body), b"hello");

        let dir = std::env::temp_dir().join(format!("oss-body-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.bin");
        std::fs::File::create(&path)
            .unwrap()
            .write_all(b"0123456789")
            .unwrap();
        let mut file = File::open(&path).unwrap();
        file.seek(SeekFrom::Start(4)).unwrap();
        let mut body = Body::from(file);
        body.prepare().unwrap();
        assert_eq!(body.known_length(), Some(6));
        assert_eq!(drain(&mut body), b"456789");
        assert_eq!(
            drain(&mut body),
            b"456789",
            "a retry starts again at the original offset"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_seekable_reader_rewinds_to_its_start_offset() {
        let mut cursor = io::Cursor::new(b"skip:payload".to_vec());
        cursor.set_position(5);
        let mut body = Body::from_seekable(cursor);
        assert_eq!(body.known_length(), None, "found when the upload starts");
        body.prepare().unwrap();
        assert_eq!(body.known_length(), Some(7));
        assert_eq!(drain(&mut body), b"payload");
        assert_eq!(drain(&mut body), b"payload", "a retry sends the same bytes");
        assert!(body.is_rewindable());
    }

    #[test]
    fn a_stream_is_sent_once() {
        let mut body = Body::from_reader(io::Cursor::new(b"abc".to_vec()));
        assert!(
            body.is_rewindable(),
            "an untouched stream can still be sent"
        );
        assert_eq!(drain(&mut body), b"abc");
        assert!(!body.is_rewindable());
        assert!(body.attempt_reader().is_err());
    }

    #[test]
    fn a_sized_reader_stops_at_its_length() {
        let mut body = Body::from_sized_reader(io::Cursor::new(b"abcdef".to_vec()), 4);
        assert_eq!(drain(&mut body), b"abcd");
    }

    #[test]
    fn missing_file_error_names_the_path() {
        let err = Body::from_path("/definitely/not/here.txt").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("/definitely/not/here.txt"));
    }

    #[test]
    fn tracker_hashes_counts_and_reports_progress() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let calls = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink_calls = calls.clone();
        let mut record = move |chunk: u64, sent: u64, total: Option<u64>| {
            sink_calls.lock().unwrap().push((chunk, sent, total))
        };
        let mut tracker = Tracker::new(data.as_slice(), Some(100_000), Some(&mut record));
        let mut buf = [0u8; 32 * 1024];
        let mut sink = Vec::new();
        loop {
            let n = tracker.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            sink.extend_from_slice(&buf[..n]);
        }
        assert_eq!(sink, data);
        let stats = tracker.stats();
        assert_eq!((stats.sent, stats.complete), (100_000, true));
        assert_eq!(stats.crc64, crate::crc64::checksum(&data));
        drop(tracker);
        let calls = calls.lock().unwrap();
        assert_eq!(calls.len(), 4);
        assert_eq!(
            calls.last(),
            Some(&(100_000 - 3 * 32768, 100_000, Some(100_000)))
        );
    }

    #[test]
    fn tracker_reports_at_least_once_per_mib_even_for_huge_reads() {
        let data = vec![1u8; (2 << 20) + 5];
        let calls = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = calls.clone();
        let mut record = move |c: u64, s: u64, t: Option<u64>| sink.lock().unwrap().push((c, s, t));
        let mut tracker = Tracker::new(data.as_slice(), None, Some(&mut record));
        let mut buf = vec![0u8; 8 << 20];
        while tracker.read(&mut buf).unwrap() > 0 {}
        tracker.finish();
        drop(tracker);
        let total = data.len() as u64;
        assert_eq!(
            *calls.lock().unwrap(),
            [
                (1 << 20, 1 << 20, None),
                (1 << 20, 2 << 20, None),
                (5, total, None),
                (0, total, Some(total)),
            ]
        );
    }

    #[test]
    fn tracker_keeps_local_errors_apart() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    "disk says no",
                ))
            }
        }
        let mut tracker = Tracker::new(Failing, None, None);
        let err = tracker.read(&mut [0u8; 8]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        assert_eq!(
            tracker.take_local_error().map(|e| e.to_string()),
            Some("disk says no".to_string())
        );
    }
}

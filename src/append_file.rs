//! `AppendFile`: an Appendable object as a [`std::io::Write`], for logs and recordings.
//!
//! Writes are buffered up to a threshold and appended with [`crate::Client::append_object`]
//! (so every append's whole-object CRC-64 is checked and a lost answer is not appended
//! twice); memory stays within twice the threshold (the buffer, and the request's copy kept
//! so that a failed append loses nothing) whatever is written.

use std::fmt;
use std::io;

use crate::client::Client;
use crate::error::{ErrorKind, OperationError};
use crate::ops::append_object::{AppendObjectRequest, AppendObjectResult};
use crate::ops::head_object::HeadObjectRequest;

/// The default buffer threshold of [`AppendFile`]: 4 MiB.
pub const DEFAULT_APPEND_THRESHOLD: usize = 4 * 1024 * 1024;

const OPERATION: &str = "AppendFile";

impl Client {
    /// Opens `key` for appending: an existing Appendable object continues at its length (its
    /// length and CRC-64 come from HeadObject), a missing one is created by the first append,
    /// and any other object (a `Normal` one from PutObject, a multipart one) is an
    /// [`ErrorKind::InvalidArgument`] error, since OSS appends only to Appendable objects.
    ///
    /// ```
    /// use oss_blocking as oss;
    /// use std::io::Write;
    /// # let emu = oss::emulator::Emulator::start().unwrap();
    /// # let client = oss::Client::new(emu.config());
    /// let mut log = client.append_file(emu.bucket(), "logs/app.log")?;
    /// writeln!(log, "first line")?;
    /// writeln!(log, "another line")?;
    /// let r = log.close()?; // appends what is buffered, and reports any error
    /// assert_eq!(r.next_position, 24);
    ///
    /// let mut log = client.append_file(emu.bucket(), "logs/app.log")?; // continues at 24
    /// writeln!(log, "after reopening")?;
    /// assert_eq!(log.close()?.next_position, 40);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn append_file(
        &self,
        bucket: impl Into<String>,
        key: impl Into<String>,
    ) -> Result<AppendFile, OperationError> {
        let (bucket, key) = (bucket.into(), key.into());
        let (position, crc) = match self
            .head_object(HeadObjectRequest::new(bucket.as_str(), key.as_str()))
        {
            Ok(head) if head.object_type.as_deref() == Some("Appendable") => {
                (head.content_length, head.hash_crc64)
            }
            Ok(head) => {
                return Err(OperationError::invalid_argument(
                    OPERATION,
                    format!(
                        "{bucket}/{key} is a {} object: only Appendable objects (created \
                             by AppendObject) can be appended to",
                        head.object_type.as_deref().unwrap_or("non-appendable")
                    ),
                ))
            }
            Err(e) if e.service_error().is_some_and(|s| s.code() == "NoSuchKey") => (0, Some(0)),
            Err(e) => return Err(e),
        };
        Ok(AppendFile {
            client: self.clone(),
            bucket,
            key,
            position,
            crc,
            buffer: Vec::new(),
            threshold: DEFAULT_APPEND_THRESHOLD,
            last: None,
        })
    }
}

/// An Appendable object opened with [`Client::append_file`], written through
/// [`std::io::Write`].
///
/// Writes are buffered and appended when the buffer reaches the threshold
/// ([`AppendFile::threshold`], default [`DEFAULT_APPEND_THRESHOLD`]), on
/// [`std::io::Write::flush`] and on [`AppendFile::close`], which returns the last append's
/// result or its error. A failed append keeps its bytes buffered, so a later flush or close
/// tries them again. Dropping an `AppendFile` without closing it appends what is buffered on a
/// best-effort basis and logs a failure (`log::error!`): call `close` to see the error.
pub struct AppendFile {
    client: Client,
    bucket: String,
    key: String,
    position: u64,
    /// The whole object's CRC-64 so far (None when OSS did not report it).
    crc: Option<u64>,
    buffer: Vec<u8>,
    threshold: usize,
    last: Option<AppendObjectResult>,
}

impl AppendFile {
    /// Appends once this many bytes are buffered (at least 1; memory stays within twice it).
    ///
    /// ```
    /// # use oss_blocking as oss;
    /// # let emu = oss::emulator::Emulator::start().unwrap();
    /// # let client = oss::Client::new(emu.config());
    /// let log = client.append_file(emu.bucket(), "a.log")?.threshold(64 * 1024);
    /// # Ok::<(), oss::OperationError>(())
    /// ```
    #[must_use]
    pub fn threshold(mut self, bytes: usize) -> Self {
        self.threshold = bytes.max(1);
        self
    }

    /// Where the next append starts: the bytes appended so far, not those still buffered.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Bytes written but not appended yet.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Appends the buffer (nothing when it is empty).
    fn append_buffer(&mut self) -> Result<(), OperationError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let bytes = std::mem::take(&mut self.buffer);
        self.append(bytes)
    }

    /// One append; on failure the bytes go back to the buffer.
    fn append(&mut self, bytes: Vec<u8>) -> Result<(), OperationError> {
        let mut request = AppendObjectRequest::new(&self.bucket, &self.key, self.position);
        if let Some(crc) = self.crc {
            request = request.init_crc64(crc);
        }
        // The request takes its own copy, so a failed append leaves the data here.
        match self
            .client
            .append_object(request.body(bytes.as_slice().to_vec()))
        {
            Ok(result) => {
                self.position = result.next_position;
                self.crc = result.hash_crc64;
                self.last = Some(result);
                Ok(())
            }
            Err(e) => {
                self.buffer = bytes;
                Err(e)
            }
        }
    }

    /// Appends what is buffered and returns the result of the last append. When nothing was
    /// appended through this `AppendFile`, an empty append makes sure the object exists.
    pub fn close(mut self) -> Result<AppendObjectResult, OperationError> {
        self.append_buffer()?;
        if self.last.is_none() {
            self.append(Vec::new())?;
        }
        self.last.take().ok_or_else(|| {
            OperationError::new(OPERATION, ErrorKind::Io, "no append result after closing")
        })
    }
}

impl io::Write for AppendFile {
    /// Buffers up to the threshold, appending each time it is reached.
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buffer.len() >= self.threshold {
            self.append_buffer().map_err(io::Error::other)?;
        }
        let room = self.threshold.saturating_sub(self.buffer.len());
        let taken = data.get(..room.min(data.len())).unwrap_or(data);
        self.buffer.extend_from_slice(taken);
        if self.buffer.len() >= self.threshold {
            // The bytes are accepted; an append failure keeps them and shows on the next
            // write, flush or close.
            if let Err(e) = self.append_buffer() {
                log::warn!("{OPERATION}: append failed, the data stays buffered: {e}");
            }
        }
        Ok(taken.len())
    }

    /// Appends what is buffered.
    fn flush(&mut self) -> io::Result<()> {
        self.append_buffer().map_err(io::Error::other)
    }
}

impl Drop for AppendFile {
    fn drop(&mut self) {
        if let Err(e) = self.append_buffer() {
            log::error!(
                "{OPERATION}: {} bytes for {}/{} were not appended when it was dropped: {e:#}",
                self.buffer.len(),
                self.bucket,
                self.key
            );
        }
    }
}

impl fmt::Debug for AppendFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppendFile")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("position", &self.position)
            .field("crc", &self.crc)
            .field("buffered", &self.buffer.len())
            .field("threshold", &self.threshold)
            .finish()
    }
}

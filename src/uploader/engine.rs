//! The parallel part of an upload: std threads sharing the Client pull parts from one source
//! and upload them; the first error stops new parts and is the one returned; progress is
//! summed across parts and never goes backwards.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::body::{Body, ProgressFn};
use crate::client::Client;
use crate::error::{ErrorKind, OperationError};
use crate::ops::multipart::MAX_PART_NUMBER;
use crate::ops::shared::{RequestOptions, TransferOptions};
use crate::UploadPartRequest;

/// Locks, going on with the data if another thread panicked while holding the lock (the
/// state it guards stays meaningful: counters and a first error).
pub(crate) fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One part to upload.
pub(crate) struct Job {
    pub number: u32,
    pub body: Body,
}

/// Where parts come from: a file's ranges or a stream's buffers. Called under a lock, so a
/// stream is read by one worker at a time, and only by a worker that is free to send what
/// it reads: at most one buffer per worker exists.
pub(crate) trait PartSource: Send {
    fn next_part(&mut self) -> Option<Result<Job, OperationError>>;
}

/// A part that is on OSS: what Complete and the whole-object CRC-64 need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DonePart {
    pub number: u32,
    pub etag: String,
    pub size: u64,
    pub crc64: u64,
}

/// The whole upload's progress: bytes sent across parts (each part counted once however
/// often it is retried), reported to the user's callback one call at a time.
pub(crate) struct Progress {
    state: Mutex<ProgressState>,
}

struct ProgressState {
    sent: u64,
    total: Option<u64>,
    callback: Option<Box<ProgressFn>>,
}

impl Progress {
    pub(crate) fn new(callback: Option<Box<ProgressFn>>, total: Option<u64>) -> Arc<Progress> {
        Arc::new(Progress {
            state: Mutex::new(ProgressState {
                sent: 0,
                total,
                callback,
            }),
        })
    }

    /// Counts `delta` new bytes and reports them.
    pub(crate) fn add(&self, delta: u64) {
        let mut state = lock(&self.state);
        state.sent = state.sent.saturating_add(delta);
        let (sent, total) = (state.sent, state.total);
        if let Some(callback) = state.callback.as_mut() {
            callback(delta, sent, total);
        }
    }

    /// The last call: `(0, sent, Some(sent))`, unless a call already reported the known total.
    pub(crate) fn finish(&self) {
        let mut state = lock(&self.state);
        let sent = state.sent;
        if state.total == Some(sent) && sent > 0 {
            return;
        }
        state.total = Some(sent);
        if let Some(callback) = state.callback.as_mut() {
            callback(0, sent, Some(sent));
        }
    }

    /// A per-request callback that forwards only bytes beyond the most this request has
    /// reported so far: a retried attempt starts again from 0 and is not counted twice.
    pub(crate) fn request_callback(self: &Arc<Self>) -> Box<ProgressFn> {
        let progress = Arc::clone(self);
        let mut high = 0u64;
        Box::new(move |_chunk, sent, _total| {
            if sent > high {
                progress.add(sent.saturating_sub(high));
                high = sent;
            }
        })
    }
}

/// What every UploadPart of one upload shares.
pub(crate) struct Run<'a> {
    pub client: &'a Client,
    pub bucket: &'a str,
    pub key: &'a str,
    pub upload_id: &'a str,
    pub transfer: TransferOptions,
    pub request: RequestOptions,
    pub progress: Arc<Progress>,
    /// Called (from the worker) after each part is on OSS, e.g. to write the checkpoint.
    pub on_done: &'a (dyn Fn(&DonePart) + Sync),
}

/// Uploads every part the source gives with `workers` threads. The first error is returned
/// and no part starts after it.
pub(crate) fn run(
    run: &Run<'_>,
    source: &Mutex<dyn PartSource + '_>,
    workers: usize,
) -> Result<Vec<DonePart>, OperationError> {
    let failed = AtomicBool::new(false);
    let first_error: Mutex<Option<OperationError>> = Mutex::new(None);
    let done: Mutex<Vec<DonePart>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            scope.spawn(|| worker(run, source, &failed, &first_error, &done));
        }
    });
    if let Some(error) = lock(&first_error).take() {
        return Err(error);
    }
    let mut done = std::mem::take(&mut *lock(&done));
    done.sort_by_key(|p| p.number);
    Ok(done)
}

fn worker(
    run: &Run<'_>,
    source: &Mutex<dyn PartSource + '_>,
    failed: &AtomicBool,
    first_error: &Mutex<Option<OperationError>>,
    done: &Mutex<Vec<DonePart>>,
) {
    let fail = |error: OperationError| {
        let mut first = lock(first_error);
        if first.is_none() {
            *first = Some(error);
        }
        failed.store(true, Ordering::SeqCst);
    };
    while !failed.load(Ordering::SeqCst) {
        let job = match lock(source).next_part() {
            None => return,
            Some(Err(e)) => return fail(e),
            Some(Ok(job)) => job,
        };
        if failed.load(Ordering::SeqCst) {
            return;
        }
        match upload(run, job) {
            Ok(part) => {
                (run.on_done)(&part);
                lock(done).push(part);
            }
            Err(e) => return fail(e),
        }
    }
}

fn upload(run: &Run<'_>, job: Job) -> Result<DonePart, OperationError> {
    let mut request = UploadPartRequest::new(run.bucket, run.key, run.upload_id, job.number)
        .body(job.body)
        .progress_box(run.progress.request_callback());
    request.transfer = run.transfer.clone();
    request.request = run.request.clone();
    let result = run.client.upload_part(request)?;
    Ok(DonePart {
        number: result.part_number,
        etag: result.etag,
        size: result.sent,
        crc64: result.sent_crc64,
    })
}

/// The parts of a file: ranges read with positional reads from one open file.
pub(crate) struct FileSource {
    pub file: Arc<File>,
    pub path: PathBuf,
    pub size: u64,
    pub part_size: u64,
    /// Part numbers not to upload (already on OSS, from a checkpoint).
    pub skip: Vec<u32>,
    pub next: u32,
}

impl PartSource for FileSource {
    fn next_part(&mut self) -> Option<Result<Job, OperationError>> {
        loop {
            let number = self.next;
            let offset = u64::from(number.checked_sub(1)?).checked_mul(self.part_size)?;
            if offset >= self.size || number > MAX_PART_NUMBER {
                return None;
            }
            self.next = number.saturating_add(1);
            if self.skip.contains(&number) {
                continue;
            }
            let len = self.part_size.min(self.size.saturating_sub(offset));
            let body = Body::from_file_range(Arc::clone(&self.file), offset, len, &self.path);
            return Some(Ok(Job { number, body }));
        }
    }
}

/// The parts of a stream: each buffer filled completely (a short part only at the end).
pub(crate) struct StreamSource<'r> {
    pub reader: Box<dyn Read + Send + 'r>,
    pub part_size: usize,
    /// The first part, read before deciding between PutObject and multipart.
    pub first: Option<Vec<u8>>,
    pub next: u32,
    pub ended: bool,
}

impl PartSource for StreamSource<'_> {
    fn next_part(&mut self) -> Option<Result<Job, OperationError>> {
        let number = self.next;
        let buffer = match self.first.take() {
            Some(first) => first,
            None if self.ended => return None,
            None => {
                let mut buffer = vec![0u8; self.part_size];
                let n = match fill(self.reader.as_mut(), &mut buffer) {
                    Ok(n) => n,
                    Err(e) => {
                        self.ended = true;
                        return Some(Err(OperationError::new(
                            "UploadPart",
                            ErrorKind::Io,
                            format!("cannot read part {number} from the stream"),
                        )
                        .with_source(e)));
                    }
                };
                if n < buffer.len() {
                    self.ended = true;
                    buffer.truncate(n);
                    if n == 0 {
                        return None;
                    }
                }
                buffer
            }
        };
        if number > MAX_PART_NUMBER {
            self.ended = true;
            return Some(Err(OperationError::invalid_argument(
                "UploadPart",
                format!(
                    "the stream is longer than {MAX_PART_NUMBER} parts of part_size {} bytes: \
                     set a larger part_size",
                    self.part_size
                ),
            )));
        }
        self.next = number.saturating_add(1);
        Some(Ok(Job {
            number,
            body: Body::from(buffer),
        }))
    }
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
pub(crate) fn fill(reader: &mut (dyn Read + Send + '_), buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0usize;
    while filled < buf.len() {
        let Some(rest) = buf.get_mut(filled..) else {
            break;
        };
        match reader.read(rest) {
            Ok(0) => break,
            Ok(n) => filled = filled.saturating_add(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The whole object's CRC-64 from its parts in part order (`crc64::combine`).
pub(crate) fn combined_crc(parts: &[DonePart]) -> u64 {
    parts
        .iter()
        .fold(0, |acc, p| crate::crc64::combine(acc, p.crc64, p.size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combine_follows_the_multipart_fold_vectors() {
        let all = crate::ops::multipart::vectors::all();
        for case in all["crc64_combine"]["multipart_folds"].as_array().unwrap() {
            let parts: Vec<DonePart> = case["parts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| DonePart {
                    number: p["part_number"].as_u64().unwrap() as u32,
                    etag: String::new(),
                    size: p["size"].as_u64().unwrap(),
                    crc64: p["crc64"].as_str().unwrap().parse().unwrap(),
                })
                .collect();
            assert_eq!(
                combined_crc(&parts).to_string(),
                case["object_crc64"].as_str().unwrap()
            );
        }
    }

    #[test]
    fn progress_counts_a_retried_request_once_and_never_goes_back() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&calls);
        let progress = Progress::new(
            Some(Box::new(move |d, s, t| {
                seen.lock().unwrap().push((d, s, t))
            })),
            Some(300),
        );
        let mut a = progress.request_callback();
        let mut b = progress.request_callback();
        a(50, 50, Some(100));
        b(100, 100, Some(200));
        a(0, 0, Some(100)); // a's retry starts again
        a(80, 80, Some(100));
        a(20, 100, Some(100));
        b(100, 200, Some(200));
        progress.finish();
        let calls = calls.lock().unwrap();
        let sums: Vec<u64> = calls.iter().map(|c| c.1).collect();
        assert!(sums.windows(2).all(|w| w[0] <= w[1]), "{sums:?}");
        assert_eq!(*sums.last().unwrap(), 300);
        assert_eq!(calls.iter().map(|c| c.0).sum::<u64>(), 300);
    }

    #[test]
    fn a_stream_is_cut_into_full_parts() {
        let data: Vec<u8> = (0..250u32).map(|i| i as u8).collect();
        let mut source = StreamSource {
            reader: Box::new(std::io::Cursor::new(data)),
            part_size: 100,
            first: None,
            next: 1,
            ended: false,
        };
        let mut lens = Vec::new();
        while let Some(job) = source.next_part() {
            let job = job.unwrap();
            lens.push((job.number, job.body.known_length().unwrap()));
        }
        assert_eq!(lens, [(1, 100), (2, 100), (3, 50)]);
    }
}

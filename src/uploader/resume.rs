//! `upload_file` with a checkpoint directory: resume from a valid checkpoint after checking
//! each recorded part (its bytes read again and their CRC-64 compared with the record, and
//! the record with ListParts), start over from a stale, corrupt or dangling one (aborting the
//! upload it names, best effort), record every part as it reaches OSS, and remove the
//! checkpoint on success.

use std::fs::File;
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::checkpoint::{Checkpoint, Identity, Unusable};
use super::engine::{lock, DonePart, FileSource, Progress};
use super::{Start, UploadResult, Uploader, UPLOADER};
use crate::body::read_at;
use crate::crc64::Crc64;
use crate::error::{ErrorKind, OperationError};
use crate::ops::put_object::PutObjectParts;
use crate::{AbortMultipartUploadRequest, ListPartsRequest, ListedPart};

/// The file being uploaded.
pub(super) struct Target<'p> {
    pub path: &'p Path,
    pub file: File,
    pub size: u64,
    pub part_size: u64,
}

/// Keeps the checkpoint file up to date as parts reach OSS.
struct Recorder {
    file: std::path::PathBuf,
    state: Mutex<Checkpoint>,
}

impl Recorder {
    fn save(&self, checkpoint: &Checkpoint) {
        if let Err(e) = checkpoint.save(&self.file) {
            log::warn!(
                "cannot write the checkpoint {}: {e}; a later run may upload more again",
                self.file.display()
            );
        }
    }

    fn init(&self, upload_id: &str) {
        let mut state = lock(&self.state);
        state.upload_id = upload_id.to_string();
        self.save(&state);
    }

    fn record(&self, part: &DonePart) {
        let mut state = lock(&self.state);
        state.parts.retain(|p| p.number != part.number);
        state.parts.push(part.clone());
        state.parts.sort_by_key(|p| p.number);
        self.save(&state);
    }
}

impl Uploader {
    pub(super) fn upload_resumable(
        &self,
        parts: &PutObjectParts,
        target: Target<'_>,
        dir: &Path,
        progress: Arc<Progress>,
    ) -> Result<UploadResult, OperationError> {
        let identity = identity(parts, &target, dir)?;
        let cp_file = identity.file_in(dir);
        let file = Arc::new(target.file);
        let mut notes = Vec::new();
        let resumed = self.load(parts, &identity, &cp_file, &file, &mut notes)?;
        let (upload_id, kept) = match resumed {
            Some(cp) => (Some(cp.upload_id), cp.parts),
            None => (None, Vec::new()),
        };
        let recorder = Recorder {
            file: cp_file.clone(),
            state: Mutex::new(Checkpoint {
                identity,
                upload_id: upload_id.clone().unwrap_or_default(),
                parts: kept.clone(),
            }),
        };
        if let Some(id) = &upload_id {
            notes.push(format!(
                "resumed upload {id}: {} parts were already on OSS",
                kept.len()
            ));
            recorder.save(&lock(&recorder.state));
        }
        progress.add(kept.iter().map(|p| p.size).sum());
        let source = FileSource {
            file,
            path: target.path.to_path_buf(),
            size: target.size,
            part_size: target.part_size,
            skip: kept.iter().map(|p| p.number).collect(),
            next: 1,
        };
        let start = Start {
            upload_id,
            kept,
            on_init: &|id| recorder.init(id),
            on_done: &|part| recorder.record(part),
            notes,
        };
        let result = self.multipart_from(parts, Mutex::new(source), progress, true, start)?;
        if let Err(e) = std::fs::remove_file(&cp_file) {
            log::warn!("cannot remove the checkpoint {}: {e}", cp_file.display());
        }
        Ok(result)
    }

    /// The checkpoint to resume from, with only the parts that passed the checks; `None` to
    /// start over (a note says why, and a named upload is aborted).
    fn load(
        &self,
        parts: &PutObjectParts,
        identity: &Identity,
        cp_file: &Path,
        file: &File,
        notes: &mut Vec<String>,
    ) -> Result<Option<Checkpoint>, OperationError> {
        let Ok(json) = std::fs::read_to_string(cp_file) else {
            return Ok(None);
        };
        let checkpoint = match Checkpoint::parse(&json, identity) {
            Ok(cp) => cp,
            Err(Unusable::Corrupt(why)) => {
                notes.push(format!(
                    "the checkpoint was unreadable ({why}); started over"
                ));
                let _ = std::fs::remove_file(cp_file);
                return Ok(None);
            }
            Err(Unusable::Stale { upload_id, why }) => {
                let aborted = self.abort_quietly(parts, &upload_id);
                notes.push(format!(
                    "the checkpoint was stale ({why}); started over; {aborted}"
                ));
                let _ = std::fs::remove_file(cp_file);
                return Ok(None);
            }
        };
        let listed = match self.list_all_parts(parts, &checkpoint.upload_id) {
            Ok(listed) => listed,
            Err(e)
                if e.service_error()
                    .is_some_and(|s| s.code() == "NoSuchUpload") =>
            {
                notes.push(format!(
                    "the checkpoint's upload {} is no longer on OSS; started over",
                    checkpoint.upload_id
                ));
                let _ = std::fs::remove_file(cp_file);
                return Ok(None);
            }
            Err(e) => return Err(e.with_upload_id(Some(&checkpoint.upload_id))),
        };
        let kept = checkpoint
            .parts
            .iter()
            .filter(|p| part_still_good(p, &listed, file, identity.part_size))
            .cloned()
            .collect();
        Ok(Some(Checkpoint {
            parts: kept,
            ..checkpoint
        }))
    }

    /// Every part OSS holds for the upload, page after page (bounded: 10000 parts).
    fn list_all_parts(
        &self,
        parts: &PutObjectParts,
        upload_id: &str,
    ) -> Result<Vec<ListedPart>, OperationError> {
        let mut all = Vec::new();
        let mut marker = 0;
        for _ in 0..=10 {
            let mut request = ListPartsRequest::new(&parts.bucket, &parts.key, upload_id)
                .part_number_marker(marker);
            if let Some(payer) = &parts.request.request_payer {
                request = request.request_payer(payer.clone());
            }
            let page = self.client.list_parts(request)?;
            all.extend(page.parts);
            if !page.is_truncated || page.next_part_number_marker <= marker {
                break;
            }
            marker = page.next_part_number_marker;
        }
        Ok(all)
    }

    /// Aborts an abandoned upload; says how that went.
    fn abort_quietly(&self, parts: &PutObjectParts, upload_id: &str) -> String {
        let request = AbortMultipartUploadRequest::new(&parts.bucket, &parts.key, upload_id);
        match self.client.abort_multipart_upload(request) {
            Ok(_) => format!("its upload {upload_id} was aborted"),
            Err(e) => format!("aborting its upload {upload_id} failed: {e}"),
        }
    }
}

/// The upload's identity for its checkpoint; the directory must exist.
fn identity(
    parts: &PutObjectParts,
    target: &Target<'_>,
    dir: &Path,
) -> Result<Identity, OperationError> {
    if !dir.is_dir() {
        return Err(OperationError::invalid_argument(
            UPLOADER,
            format!(
                "invalid checkpoint_dir {}: it must be an existing directory",
                dir.display()
            ),
        ));
    }
    Identity::of(
        target.path,
        &target.file,
        (&parts.bucket, &parts.key),
        target.part_size,
        options_digest(parts),
    )
    .map_err(|e| {
        OperationError::new(
            UPLOADER,
            ErrorKind::Io,
            "cannot read the file's size and time",
        )
        .with_source(e)
    })
}

/// A recorded part is kept when OSS lists it with the same ETag, size and CRC-64, and the
/// file's bytes in its range still have the recorded CRC-64.
fn part_still_good(part: &DonePart, listed: &[ListedPart], file: &File, part_size: u64) -> bool {
    let on_oss = listed.iter().any(|l| {
        l.part_number == part.number
            && l.etag == part.etag
            && l.size == part.size
            && l.hash_crc64.is_none_or(|c| c == part.crc64)
    });
    let offset = u64::from(part.number.saturating_sub(1)).saturating_mul(part_size);
    on_oss && range_crc(file, offset, part.size).is_ok_and(|crc| crc == part.crc64)
}

/// The CRC-64 of `len` bytes of the file at `offset`, read in 1 MiB steps.
fn range_crc(file: &File, offset: u64, len: u64) -> std::io::Result<u64> {
    let mut crc = Crc64::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut done = 0u64;
    while done < len {
        let want = buf
            .len()
            .min(usize::try_from(len.saturating_sub(done)).unwrap_or(usize::MAX));
        let slice = buf.get_mut(..want).unwrap_or_default();
        let n = read_at(file, slice, offset.saturating_add(done))?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        crc.update(slice.get(..n).unwrap_or_default());
        done = done.saturating_add(n as u64);
    }
    Ok(crc.value())
}

/// A digest of the options that shape the object: a checkpoint made with others is stale.
fn options_digest(parts: &PutObjectParts) -> String {
    let text = format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}",
        parts.attributes, parts.write, parts.callback, parts.transfer.traffic_limit, parts.request
    );
    let digest: [u8; 16] = md5::compute(text.as_bytes()).0;
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

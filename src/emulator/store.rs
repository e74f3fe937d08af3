//! In-memory buckets and objects.
//!
//! Objects are kept behind `Arc`s so a GET can stream one after releasing the store lock,
//! and a concurrent PUT of the same key replaces it without disturbing that GET.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use super::StoredObject;
use crate::Headers;

/// One stored object.
#[derive(Debug)]
pub(crate) struct Object {
    /// The bytes; empty in length-only mode, where `size` alone says how many were stored.
    pub data: Arc<Vec<u8>>,
    pub size: u64,
    pub headers: Headers,
    /// `"` + uppercase hex MD5 + `"`.
    pub etag: String,
    /// Base64 of the MD5, as `Content-MD5`.
    pub content_md5: String,
    pub crc64: u64,
    pub last_modified: SystemTime,
}

/// The ETag OSS gives a simple upload (`"` + uppercase hex MD5 + `"`) and the base64
/// `Content-MD5`, from the MD5 of the data.
pub(crate) fn etag_and_content_md5(md5: [u8; 16]) -> (String, String) {
    use base64::Engine as _;
    let hex: String = md5.iter().map(|b| format!("{b:02X}")).collect();
    (
        format!("\"{hex}\""),
        base64::engine::general_purpose::STANDARD.encode(md5),
    )
}

impl Object {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    pub fn to_stored(&self) -> StoredObject {
        StoredObject {
            data: self.data.as_ref().clone(),
            headers: self.headers.clone(),
            etag: self.etag.clone(),
            crc64: self.crc64,
        }
    }
}

/// Buckets by name, each a map of keys to objects.
#[derive(Debug, Default)]
pub(crate) struct Store {
    buckets: BTreeMap<String, BTreeMap<String, Arc<Object>>>,
}

impl Store {
    pub fn create_bucket(&mut self, name: &str) {
        self.buckets.entry(name.to_string()).or_default();
    }

    pub fn has_bucket(&self, name: &str) -> bool {
        self.buckets.contains_key(name)
    }

    pub fn get(&self, bucket: &str, key: &str) -> Option<Arc<Object>> {
        self.buckets.get(bucket)?.get(key).cloned()
    }

    pub fn contains(&self, bucket: &str, key: &str) -> bool {
        self.buckets
            .get(bucket)
            .is_some_and(|objects| objects.contains_key(key))
    }

    /// Stores an object, unless the bucket is gone or `forbid_overwrite` is set and the key
    /// exists. Both checks happen under the same lock as the insert, so two racing
    /// `x-oss-forbid-overwrite: true` uploads cannot both win.
    pub fn put(
        &mut self,
        bucket: &str,
        key: &str,
        object: Object,
        forbid_overwrite: bool,
    ) -> Result<(), PutRefused> {
        let objects = self
            .buckets
            .get_mut(bucket)
            .ok_or(PutRefused::NoSuchBucket)?;
        if forbid_overwrite && objects.contains_key(key) {
            return Err(PutRefused::Exists);
        }
        objects.insert(key.to_string(), Arc::new(object));
        Ok(())
    }

    pub fn object_count(&self) -> usize {
        self.buckets.values().map(BTreeMap::len).sum()
    }
}

/// Why [`Store::put`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PutRefused {
    NoSuchBucket,
    Exists,
}

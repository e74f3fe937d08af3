//! Resumable uploads: a checkpoint file per (absolute path, bucket, key) in the crate's own
//! versioned JSON format, written atomically (temporary file, then rename) after every part
//! that reaches OSS, and checked before it is trusted.
//!
//! A checkpoint holds no secrets: the file's path, size and mtime, the bucket and key, the
//! part size, a digest of the options, the upload id and, per part, its number, size, ETag
//! and CRC-64. Numbers are JSON strings: CRC-64 values and nanosecond times do not fit the
//! 53 bits of a JSON number.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use tinyjson::JsonValue;

use super::engine::DonePart;

/// The `format` field: what the file is.
const FORMAT: &str = "oss-blocking upload checkpoint";
/// The `version` field: bumped whenever the layout changes; other versions are stale.
const VERSION: &str = "1";

/// What must not have changed for a checkpoint to be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Identity {
    pub path: String,
    pub bucket: String,
    pub key: String,
    pub size: u64,
    pub mtime_ns: u128,
    pub part_size: u64,
    /// A digest of the options that shape the object (a different one starts over).
    pub options: String,
}

impl Identity {
    /// The file's identity now; the path made absolute.
    pub(crate) fn of(
        path: &Path,
        file: &File,
        (bucket, key): (&str, &str),
        part_size: u64,
        options: String,
    ) -> std::io::Result<Identity> {
        let absolute = std::path::absolute(path)?;
        let metadata = file.metadata()?;
        let mtime_ns = metadata
            .modified()?
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        Ok(Identity {
            path: absolute.to_string_lossy().into_owned(),
            bucket: bucket.to_string(),
            key: key.to_string(),
            size: metadata.len(),
            mtime_ns,
            part_size,
            options,
        })
    }

    /// The checkpoint's file name in `dir`: an MD5 of path, bucket and key, so one file per
    /// upload target and nothing of them readable from the name.
    pub(crate) fn file_in(&self, dir: &Path) -> PathBuf {
        let mut md5 = md5::Context::new();
        for part in [&self.path, &self.bucket, &self.key] {
            md5.consume(part.len().to_string());
            md5.consume(b":");
            md5.consume(part.as_bytes());
        }
        let digest: [u8; 16] = md5.finalize().0;
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        dir.join(format!("{hex}.oss-upload.json"))
    }
}

/// A checkpoint: the identity, the upload id and the parts on OSS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Checkpoint {
    pub identity: Identity,
    pub upload_id: String,
    pub parts: Vec<DonePart>,
}

/// Why a checkpoint file was not used.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Unusable {
    /// It does not parse or lacks fields; no upload id could be read.
    Corrupt(String),
    /// It parses but names another file state, part size or options; its upload id.
    Stale { upload_id: String, why: String },
}

fn text(value: &str) -> JsonValue {
    JsonValue::String(value.to_string())
}

impl Checkpoint {
    pub(crate) fn to_json(&self) -> Result<String, String> {
        let id = &self.identity;
        let parts = self
            .parts
            .iter()
            .map(|p| {
                JsonValue::Object(HashMap::from([
                    ("number".to_string(), text(&p.number.to_string())),
                    ("size".to_string(), text(&p.size.to_string())),
                    ("etag".to_string(), text(&p.etag)),
                    ("crc64".to_string(), text(&p.crc64.to_string())),
                ]))
            })
            .collect();
        let fields = [
            ("format", text(FORMAT)),
            ("version", text(VERSION)),
            ("path", text(&id.path)),
            ("bucket", text(&id.bucket)),
            ("key", text(&id.key)),
            ("size", text(&id.size.to_string())),
            ("mtime_ns", text(&id.mtime_ns.to_string())),
            ("part_size", text(&id.part_size.to_string())),
            ("options", text(&id.options)),
            ("upload_id", text(&self.upload_id)),
            ("parts", JsonValue::Array(parts)),
        ];
        let object: HashMap<String, JsonValue> = fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        JsonValue::Object(object)
            .stringify()
            .map_err(|e| e.to_string())
    }

    /// Parses a checkpoint and checks it against the file's identity now.
    pub(crate) fn parse(json: &str, now: &Identity) -> Result<Checkpoint, Unusable> {
        let value: JsonValue = json
            .parse()
            .map_err(|e: tinyjson::JsonParseError| Unusable::Corrupt(e.to_string()))?;
        let object: &HashMap<String, JsonValue> = value
            .get()
            .ok_or_else(|| Unusable::Corrupt("not a JSON object".into()))?;
        let field = |name: &str| -> Result<&str, Unusable> {
            object
                .get(name)
                .and_then(|v| v.get::<String>())
                .map(String::as_str)
                .ok_or_else(|| Unusable::Corrupt(format!("no text field {name:?}")))
        };
        if field("format")? != FORMAT {
            return Err(Unusable::Corrupt("not an oss-blocking checkpoint".into()));
        }
        let upload_id = field("upload_id")?.to_string();
        if upload_id.is_empty() {
            return Err(Unusable::Corrupt("an empty upload id".into()));
        }
        let stale = |why: String| Unusable::Stale {
            upload_id: upload_id.clone(),
            why,
        };
        if field("version")? != VERSION {
            return Err(stale(format!("format version {}", field("version")?)));
        }
        let number = |name: &str| -> Result<u128, Unusable> {
            field(name)?
                .parse()
                .map_err(|_| Unusable::Corrupt(format!("field {name:?} is not a number")))
        };
        let identity = Identity {
            path: field("path")?.to_string(),
            bucket: field("bucket")?.to_string(),
            key: field("key")?.to_string(),
            size: u64::try_from(number("size")?).map_err(|_| Unusable::Corrupt("size".into()))?,
            mtime_ns: number("mtime_ns")?,
            part_size: u64::try_from(number("part_size")?)
                .map_err(|_| Unusable::Corrupt("part_size".into()))?,
            options: field("options")?.to_string(),
        };
        if &identity != now {
            return Err(stale(describe_change(&identity, now)));
        }
        let parts = parse_parts(object.get("parts"))?;
        Ok(Checkpoint {
            identity,
            upload_id,
            parts,
        })
    }

    /// Writes the checkpoint atomically: a temporary file in the same directory, then a rename
    /// over the old one, so a process killed at any moment leaves the old or the new file.
    pub(crate) fn save(&self, file: &Path) -> std::io::Result<()> {
        let json = self.to_json().map_err(std::io::Error::other)?;
        let tmp = file.with_extension(format!("json.tmp-{}", std::process::id()));
        std::fs::write(&tmp, json)?;
        std::fs::rename(&tmp, file).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }
}

fn describe_change(was: &Identity, now: &Identity) -> String {
    if was.size != now.size || was.mtime_ns != now.mtime_ns {
        "the file changed since the checkpoint was written".into()
    } else if was.part_size != now.part_size {
        format!("the part size was {}, now {}", was.part_size, now.part_size)
    } else if was.options != now.options {
        "the upload's options changed".into()
    } else {
        "it names another file or object".into()
    }
}

fn parse_parts(value: Option<&JsonValue>) -> Result<Vec<DonePart>, Unusable> {
    let corrupt = |why: &str| Unusable::Corrupt(format!("parts: {why}"));
    let list: &Vec<JsonValue> = value
        .and_then(|v| v.get())
        .ok_or_else(|| corrupt("not a list"))?;
    let mut parts = Vec::with_capacity(list.len());
    for entry in list {
        let object: &HashMap<String, JsonValue> = entry
            .get()
            .ok_or_else(|| corrupt("an entry is not an object"))?;
        let field = |name: &str| {
            object
                .get(name)
                .and_then(|v| v.get::<String>())
                .ok_or_else(|| corrupt(name))
        };
        let number = |name: &str| -> Result<u64, Unusable> {
            field(name)?.parse().map_err(|_| corrupt(name))
        };
        parts.push(DonePart {
            number: u32::try_from(number("number")?).map_err(|_| corrupt("number"))?,
            size: number("size")?,
            etag: field("etag")?.clone(),
            crc64: number("crc64")?,
        });
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        Identity {
            path: "/data/big.iso".into(),
            bucket: "b".into(),
            key: "k".into(),
            size: 1 << 40,
            mtime_ns: 1_710_491_400_250_000_001,
            part_size: 6 << 20,
            options: "abc".into(),
        }
    }

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            identity: identity(),
            upload_id: "0004B98".into(),
            parts: vec![DonePart {
                number: 1,
                size: 6 << 20,
                etag: "\"A&<>\\\"\"".into(),
                crc64: u64::MAX,
            }],
        }
    }

    #[test]
    fn a_checkpoint_round_trips_with_full_precision_numbers() {
        let json = checkpoint().to_json().unwrap();
        assert_eq!(Checkpoint::parse(&json, &identity()).unwrap(), checkpoint());
        assert!(json.contains("\"18446744073709551615\""), "{json}");
        assert!(!json.contains("secret"));
    }

    #[test]
    fn a_changed_file_part_size_or_option_is_stale_with_its_upload_id() {
        let json = checkpoint().to_json().unwrap();
        for change in [
            Identity {
                mtime_ns: 1,
                ..identity()
            },
            Identity {
                size: 1,
                ..identity()
            },
            Identity {
                part_size: 1,
                ..identity()
            },
            Identity {
                options: "x".into(),
                ..identity()
            },
        ] {
            match Checkpoint::parse(&json, &change) {
                Err(Unusable::Stale { upload_id, .. }) => assert_eq!(upload_id, "0004B98"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn broken_files_are_corrupt() {
        let good = checkpoint().to_json().unwrap();
        for bad in [
            "",
            "{",
            "[]",
            "{\"format\":\"other\"}",
            &good.replace("\"0004B98\"", "\"\""),
            &good.replace("\"18446744073709551615\"", "18446744073709551615"),
        ] {
            assert!(
                matches!(
                    Checkpoint::parse(bad, &identity()),
                    Err(Unusable::Corrupt(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_file_name_depends_on_path_bucket_and_key_only() {
        let dir = Path::new("/cp");
        let a = identity().file_in(dir);
        assert_eq!(
            a,
            Identity {
                size: 7,
                ..identity()
            }
            .file_in(dir)
        );
        assert_ne!(
            a,
            Identity {
                key: "k2".into(),
                ..identity()
            }
            .file_in(dir)
        );
        assert!(a.starts_with(dir));
    }
}

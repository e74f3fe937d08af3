//! Content-Type guessing from the object key, for uploads where the caller gave none.
//!
//! Both official SDKs always send a Content-Type on PutObject, and it is part of the
//! signature. OSS then serves the object with that type, so browsers render `.html` or
//! `.png` objects correctly. The Python SDK's guess depends on the host's `mime.types`.
//! This crate instead uses a static table, so the same key gets the same type on every
//! machine.
//!
//! The table is the Go SDK v2's 552-entry `extToMimeType`, generated into `mime_table.rs`
//! by `tests/data/gen_mime_table.py`. A few common types are pinned to the values the Go
//! SDK actually sends, because it asks Go's stdlib first: `.js` is `text/javascript`, `.xml`
//! is `text/xml`, and `.avif`, `.mjs` and `.wasm` are added. Every override and its reason is
//! in that script and in a comment next to the entry.

#[path = "mime_table.rs"]
mod mime_table;

use std::cmp::Ordering;

use mime_table::MIME_TYPES;

/// What OSS and both SDKs use when the type is unknown: opaque bytes.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// The Content-Type to send for `key` when the caller set none.
///
/// The extension is Go's `path.Ext(key)`: the text from the last `.` of the last
/// `/`-separated segment. A segment with no `.` has no extension, and a key ending in `/`
/// has an empty last segment. The extension is lowercased (ASCII) and looked up in the
/// static table. Anything unknown gives [`DEFAULT_CONTENT_TYPE`]. Only the final suffix
/// counts, so `a.tar.gz` is looked up as `.gz`.
///
/// ```
/// use oss_blocking::content_type_for_key;
/// assert_eq!(content_type_for_key("photos/2024/IMG_0001.JPG"), "image/jpeg");
/// assert_eq!(content_type_for_key("site/index.html"), "text/html");
/// assert_eq!(content_type_for_key("backup.tar.gz"), "application/x-gzip");
/// assert_eq!(content_type_for_key("dir.v2/README"), "application/octet-stream");
/// assert_eq!(content_type_for_key("folder/"), "application/octet-stream");
/// ```
pub fn content_type_for_key(key: &str) -> &'static str {
    extension(key)
        .and_then(lookup)
        .unwrap_or(DEFAULT_CONTENT_TYPE)
}

/// Go's `path.Ext`: the suffix from the last `.` of the last `/`-segment, dot included.
fn extension(key: &str) -> Option<&str> {
    let segment = key.rsplit('/').next().unwrap_or(key);
    let dot = segment.rfind('.')?;
    segment.get(dot..)
}

/// Binary search for `ext` in the table, comparing ASCII-case-insensitively. The table
/// keys are all lowercase (a test checks it), so this needs no allocation.
fn lookup(ext: &str) -> Option<&'static str> {
    MIME_TYPES
        .binary_search_by(|(k, _)| cmp_lowercased(k, ext))
        .ok()
        .and_then(|i| MIME_TYPES.get(i))
        .map(|(_, mime)| *mime)
}

/// Compares a lowercase table key with `ext` lowercased, byte by byte.
fn cmp_lowercased(table_key: &str, ext: &str) -> Ordering {
    table_key
        .bytes()
        .cmp(ext.bytes().map(|b| b.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const GO_TABLE: &str = include_str!("../tests/data/mime-types-go-sdk.json");
    const VECTORS: &str = include_str!("../tests/data/vectors-public.json");

    /// The pinned values (must match tests/data/gen_mime_table.py). Checked independently
    /// here so a generator mistake shows up as a test failure.
    const OVERRIDES: &[(&str, &str)] = &[
        (".avif", "image/avif"),
        (".css", "text/css"),
        (".gif", "image/gif"),
        (".htm", "text/html"),
        (".html", "text/html"),
        (".jpeg", "image/jpeg"),
        (".jpg", "image/jpeg"),
        (".js", "text/javascript"),
        (".json", "application/json"),
        (".mjs", "text/javascript"),
        (".pdf", "application/pdf"),
        (".png", "image/png"),
        (".svg", "image/svg+xml"),
        (".txt", "text/plain"),
        (".wasm", "application/wasm"),
        (".webp", "image/webp"),
        (".xml", "text/xml"),
    ];

    fn go_table() -> BTreeMap<String, String> {
        let v: serde_json::Value = serde_json::from_str(GO_TABLE).unwrap();
        v["table"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect()
    }

    #[test]
    fn table_is_sorted_lowercase_and_complete() {
        assert!(
            MIME_TYPES.windows(2).all(|w| w[0].0 < w[1].0),
            "table must be strictly sorted for binary search"
        );
        for (k, _) in MIME_TYPES {
            assert!(k.starts_with('.'), "{k:?}");
            assert_eq!(*k, k.to_ascii_lowercase(), "lookup assumes lowercase keys");
        }
        let go = go_table();
        assert_eq!(go.len(), 552);
        let mut union: Vec<&str> = go.keys().map(String::as_str).collect();
        union.extend(OVERRIDES.iter().map(|(k, _)| *k));
        union.sort_unstable();
        union.dedup();
        let ours: Vec<&str> = MIME_TYPES.iter().map(|(k, _)| *k).collect();
        assert_eq!(ours, union, "table = Go table + overrides, nothing else");
    }

    #[test]
    fn every_go_entry_not_overridden_is_returned_as_is() {
        let go = go_table();
        let mut checked = 0;
        for (ext, mime) in &go {
            if OVERRIDES.iter().any(|(k, _)| k == ext) {
                continue;
            }
            assert_eq!(
                content_type_for_key(&format!("dir/file{ext}")),
                mime,
                "{ext}"
            );
            assert_eq!(content_type_for_key(ext), mime, "bare {ext}");
            checked += 1;
        }
        assert_eq!(
            checked,
            552 - 14,
            "14 overridden extensions are in the Go table"
        );
    }

    #[test]
    fn overrides() {
        let go = go_table();
        for (ext, want) in OVERRIDES {
            assert_eq!(content_type_for_key(&format!("a/b{ext}")), *want, "{ext}");
        }
        // Where the Go SDK's own table differs from what the Go SDK sends (stdlib first).
        assert_eq!(go[".js"], "application/x-javascript");
        assert_eq!(go[".xml"], "application/xml");
        for missing in [".avif", ".mjs", ".wasm"] {
            assert!(!go.contains_key(missing), "{missing}");
        }
        // The rest agree with the table; the override only pins them.
        for ext in [".css", ".gif", ".htm", ".html", ".jpeg", ".jpg", ".json"] {
            assert_eq!(content_type_for_key(ext), go[ext], "{ext}");
        }
        for ext in [".pdf", ".png", ".svg", ".txt", ".webp"] {
            assert_eq!(content_type_for_key(ext), go[ext], "{ext}");
        }
    }

    #[test]
    fn extension_rules() {
        let cases = [
            ("photo.JPG", "image/jpeg"),
            ("PHOTO.Jpeg", "image/jpeg"),
            ("INDEX.HTML", "text/html"),
            ("Data.Json", "application/json"),
            ("a.tar.gz", "application/x-gzip"),
            ("a.tar", "application/x-tar"),
            ("dir.v2/file", DEFAULT_CONTENT_TYPE),
            ("dir.png/file", DEFAULT_CONTENT_TYPE),
            ("dir.v2/file.txt", "text/plain"),
            ("noext", DEFAULT_CONTENT_TYPE),
            ("", DEFAULT_CONTENT_TYPE),
            ("/", DEFAULT_CONTENT_TYPE),
            ("folder/", DEFAULT_CONTENT_TYPE),
            ("folder//sub/", DEFAULT_CONTENT_TYPE),
            ("a.png/", DEFAULT_CONTENT_TYPE),
            (".hidden", DEFAULT_CONTENT_TYPE),
            ("dir/.hidden", DEFAULT_CONTENT_TYPE),
            // Go's path.Ext treats a leading-dot name as an extension (Python would not).
            (".png", "image/png"),
            ("file.", DEFAULT_CONTENT_TYPE),
            ("file..", DEFAULT_CONTENT_TYPE),
            ("logs/2024/01/15.log", "text/plain"),
            ("a+b%20c~d/中文/ü.png", "image/png"),
            ("中文.PNG", "image/png"),
            ("file.ＰＮＧ", DEFAULT_CONTENT_TYPE), // full-width letters are not ASCII
            ("back\\slash.pdf", "application/pdf"), // only '/' separates segments
            ("x.bin ", "application/octet-stream"), // the Go table's ".bin " key
            ("x.pot,", "application/vnd.ms-powerpoint"), // the Go table's ".pot," key
            ("x.pot", DEFAULT_CONTENT_TYPE),       // ...so plain ".pot" is unknown, as in Go
            ("x.x-gzip", "application/x-gzip"),
            ("x.nokia-op-logo", "image/vnd.nok-oplogo-color"),
        ];
        for (key, want) in cases {
            assert_eq!(content_type_for_key(key), want, "key {key:?}");
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        let long = "a.".repeat(10_000);
        assert_eq!(content_type_for_key(&long), DEFAULT_CONTENT_TYPE);
        for key in [
            "\0",
            ".\u{FFFF}",
            "/.",
            "./",
            "..",
            "é.É",
            "\u{212A}.\u{212A}",
        ] {
            let _ = content_type_for_key(key);
        }
        assert_eq!(
            content_type_for_key(".zzzzzzzzzzzzzzzz"),
            DEFAULT_CONTENT_TYPE
        );
        assert_eq!(content_type_for_key("a.~"), DEFAULT_CONTENT_TYPE);
    }

    /// The v4 vectors record the Content-Type the Python SDK guessed (pinned to its
    /// built-in table). Where no type was given, ours must agree, except for the one
    /// documented case where the Go table (which we follow) differs from Python.
    #[test]
    fn agrees_with_vector_guesses() {
        // (case id, what the vector says, what we send and why)
        let known_divergences = [(
            "pub-v4-put-path-style-ap",
            "application/octet-stream",
            "text/plain", // Go SDK table has ".log": "text/plain"; Python has no .log entry
        )];
        let v: serde_json::Value = serde_json::from_str(VECTORS).unwrap();
        let mut compared = 0;
        for case in v["v4_header_cases"].as_array().unwrap() {
            let id = case["id"].as_str().unwrap();
            let req = &case["sdk_request"];
            if !req.is_object() || !req["content_type"].is_null() {
                continue;
            }
            let key = req["key"].as_str().unwrap();
            let headers = case["inputs"]["headers"].as_object().unwrap();
            let Some(sent) = headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
                .map(|(_, v)| v.as_str().unwrap())
            else {
                continue; // e.g. UploadPart: no type guessed
            };
            compared += 1;
            match known_divergences.iter().find(|(d, _, _)| *d == id) {
                Some((_, vector_says, we_send)) => {
                    assert_eq!(sent, *vector_says, "{id}: vector changed");
                    assert_eq!(content_type_for_key(key), *we_send, "{id}");
                }
                None => assert_eq!(content_type_for_key(key), sent, "{id}: key {key:?}"),
            }
        }
        assert_eq!(compared, 8, "vector cases with a guessed Content-Type");
    }
}

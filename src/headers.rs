//! The one header type: requests, responses, the signer, the emulator and every result use it.
//!
//! HTTP header names are case-insensitive (RFC 9110, section 5.1), so every lookup, replacement
//! and removal here compares names ignoring ASCII case, while the case given is kept for the wire.

use std::fmt;

/// Header names whose values are secrets: `Debug` shows `<redacted>` instead. The last is the
/// ECS instance metadata token (credentials providers and their stand-in).
const SECRET_HEADERS: [&str; 3] = [
    "authorization",
    "x-oss-security-token",
    "x-aliyun-ecs-metadata-token",
];

/// HTTP headers in the order they were added, names compared case-insensitively.
///
/// [`Headers::set`] replaces every header of that name, so a name set this way appears once;
/// [`Headers::append`] adds another value. `Debug` hides the values of `Authorization`,
/// `x-oss-security-token` and `X-aliyun-ecs-metadata-token`.
///
/// ```
/// use oss_blocking::Headers;
/// let mut headers = Headers::new();
/// headers.set("Content-Type", "text/plain");
/// headers.set("content-type", "image/png"); // replaces, whatever the case
/// headers.append("x-oss-meta-a", "1");
/// assert_eq!(headers.get("CONTENT-TYPE"), Some("image/png"));
/// assert_eq!(headers.len(), 2);
/// headers.set("Authorization", "OSS4-HMAC-SHA256 Credential=...");
/// assert!(!format!("{headers:?}").contains("Credential"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<(String, String)>,
}

impl Headers {
    /// No headers.
    pub fn new() -> Self {
        Headers::default()
    }

    /// Sets `name` to `value`: every header of that name (any case) is removed first and the
    /// new one goes last, so the name appears once.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        self.remove(&name);
        self.entries.push((name, value.into()));
    }

    /// Adds a header, keeping any others of the same name.
    pub fn append(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.entries.push((name.into(), value.into()));
    }

    /// The first value of `name`, compared case-insensitively.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn get_all<'h>(&'h self, name: &'h str) -> impl Iterator<Item = &'h str> + 'h {
        self.entries
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// True when a header called `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Removes every header called `name`; true when there was one.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.entries.len() != before
    }

    /// (name, value) pairs in order, names in the case they were given.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How many headers (a repeated name counts each time).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The pairs, for callers that need plain tuples.
    pub fn as_slice(&self) -> &[(String, String)] {
        &self.entries
    }
}

/// True for a header whose value is a secret (`Authorization`, `x-oss-security-token`).
pub(crate) fn is_secret(name: &str) -> bool {
    SECRET_HEADERS.iter().any(|s| s.eq_ignore_ascii_case(name))
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.iter().map(|(name, value)| {
                    (name, if is_secret(name) { "<redacted>" } else { value })
                }),
            )
            .finish()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Headers {
    /// Collects pairs as [`Headers::append`] would, keeping repeated names.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Headers {
            entries: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

impl<K: Into<String>, V: Into<String>> Extend<(K, V)> for Headers {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.append(k, v);
        }
    }
}

impl From<Vec<(String, String)>> for Headers {
    fn from(entries: Vec<(String, String)>) -> Self {
        Headers { entries }
    }
}

impl IntoIterator for Headers {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'h> IntoIterator for &'h Headers {
    type Item = (&'h str, &'h str);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'h, (String, String)>,
        fn(&'h (String, String)) -> (&'h str, &'h str),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replaces_every_case_and_goes_last() {
        let mut h: Headers = [("Content-MD5", "a"), ("x", "1"), ("content-md5", "b")]
            .into_iter()
            .collect();
        h.set("CONTENT-MD5", "c");
        assert_eq!(
            h.iter().collect::<Vec<_>>(),
            [("x", "1"), ("CONTENT-MD5", "c")]
        );
    }

    #[test]
    fn append_keeps_repeats_and_get_all_returns_them_in_order() {
        let mut h = Headers::new();
        h.append("A", "1");
        h.append("a", "2");
        assert_eq!(h.get("a"), Some("1"));
        assert_eq!(h.get_all("A").collect::<Vec<_>>(), ["1", "2"]);
        assert!(h.remove("A"));
        assert!(!h.remove("A"));
        assert!(h.is_empty());
    }

    #[test]
    fn debug_redacts_secrets_only() {
        let h: Headers = [
            ("authorization", "sig"),
            ("X-Oss-Security-Token", "tok"),
            ("x-oss-meta-a", "visible"),
        ]
        .into_iter()
        .collect();
        let text = format!("{h:?}");
        assert!(!text.contains("sig") && !text.contains("tok"), "{text}");
        assert!(text.contains("visible"));
    }
}

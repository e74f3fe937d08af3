//! Typed PutObject options: ACL, storage class, server-side encryption, tagging and metadata.
//!
//! OSS takes these as strings in headers; a typo there costs a round trip and a 400. The enums
//! accept exactly the service's strings (so a value read from a command line or a config file
//! is checked before anything is sent), and [`Tagging`] builds the `x-oss-tagging` value with
//! the percent-encoding the service expects.

use std::fmt;
use std::str::FromStr;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// A string that is not one of an option's valid values. Its message lists them.
///
/// ```
/// use oss_blocking as oss;
/// let err = "public".parse::<oss::ObjectAcl>().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "invalid object ACL \"public\": valid values are private, public-read, public-read-write, default"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseOptionError {
    option: &'static str,
    value: String,
    valid: &'static [&'static str],
}

impl ParseOptionError {
    /// The option's name, e.g. `object ACL`.
    pub fn option(&self) -> &str {
        self.option
    }

    /// The values the option accepts, exactly as OSS spells them.
    pub fn valid_values(&self) -> &[&'static str] {
        self.valid
    }
}

impl fmt::Display for ParseOptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {} {:?}: valid values are {}",
            self.option,
            self.value,
            self.valid.join(", ")
        )
    }
}

impl std::error::Error for ParseOptionError {}

macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $label:literal, $all:ident {
            $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in the order the OSS documentation lists them.
            pub const $all: &'static [$name] = &[$($name::$variant,)+];
            const NAMES: &'static [&'static str] = &[$($text,)+];

            /// The value as OSS spells it in the header.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl FromStr for $name {
            type Err = ParseOptionError;

            /// Accepts exactly the service's spelling (case-sensitive, as OSS is).
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(ParseOptionError {
                        option: $label,
                        value: s.to_string(),
                        valid: Self::NAMES,
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum! {
    /// Who may read or write the object (`x-oss-object-acl`).
    ///
    /// ```
    /// use oss_blocking as oss;
    /// let acl: oss::ObjectAcl = "public-read".parse().unwrap();
    /// assert_eq!(acl, oss::ObjectAcl::PublicRead);
    /// assert_eq!(acl.as_str(), "public-read");
    /// ```
    ObjectAcl, "object ACL", ALL {
        /// Only the owner and authorised users.
        Private => "private",
        /// Anyone may read; only the owner and authorised users may write.
        PublicRead => "public-read",
        /// Anyone may read and write.
        PublicReadWrite => "public-read-write",
        /// Follow the bucket's ACL.
        Default => "default",
    }
}

string_enum! {
    /// How OSS stores the object (`x-oss-storage-class`): trades access cost and latency for
    /// storage price.
    ///
    /// ```
    /// use oss_blocking as oss;
    /// assert_eq!("IA".parse::<oss::StorageClass>(), Ok(oss::StorageClass::Ia));
    /// assert!("ia".parse::<oss::StorageClass>().is_err()); // OSS is case-sensitive
    /// ```
    StorageClass, "storage class", ALL {
        /// Frequently accessed data.
        Standard => "Standard",
        /// Infrequent Access.
        Ia => "IA",
        /// Archive: restore before reading.
        Archive => "Archive",
        /// Cold Archive.
        ColdArchive => "ColdArchive",
        /// Deep Cold Archive.
        DeepColdArchive => "DeepColdArchive",
    }
}

string_enum! {
    /// Server-side encryption of the stored object (`x-oss-server-side-encryption`).
    ///
    /// ```
    /// use oss_blocking as oss;
    /// assert_eq!(oss::ServerSideEncryption::Kms.as_str(), "KMS");
    /// ```
    ServerSideEncryption, "server-side encryption", ALL {
        /// Keys managed by OSS, AES-256.
        Aes256 => "AES256",
        /// Keys managed by KMS (optionally a key id of yours).
        Kms => "KMS",
        /// Keys managed by OSS, SM4.
        Sm4 => "SM4",
    }
}

/// Most tags one object can carry (OSS rule).
pub const MAX_TAGS: usize = 10;
/// Longest tag key, in characters (OSS rule).
pub const MAX_TAG_KEY_CHARS: usize = 128;
/// Longest tag value, in characters (OSS rule).
pub const MAX_TAG_VALUE_CHARS: usize = 256;

/// Characters kept as they are in a tag key or value: RFC 3986 unreserved. Everything else
/// (space, `&`, `=`, `+`, `%`, non-ASCII) is percent-encoded, so the value splits back into
/// the same pairs on the server.
const TAG_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Object tags, built from pairs, written as the URL query form `x-oss-tagging` takes
/// (`env=prod&team=backend`), with keys and values percent-encoded.
///
/// ```
/// use oss_blocking as oss;
/// let tags = oss::Tagging::new().tag("env", "prod").tag("owner", "a&b c");
/// assert_eq!(tags.to_string(), "env=prod&owner=a%26b%20c");
/// let req = oss::PutObjectRequest::new("examplebucket", "a.txt").tagging(tags);
/// # let _ = req;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tagging {
    tags: Vec<(String, String)>,
}

impl Tagging {
    /// No tags yet.
    pub fn new() -> Self {
        Tagging::default()
    }

    /// Adds a tag. The rules (at most 10 tags, key 1-128 and value 0-256 characters, unique
    /// keys) are checked when the request is sent, before anything goes out.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push((key.into(), value.into()));
        self
    }

    /// The tags, in order.
    pub fn tags(&self) -> &[(String, String)] {
        &self.tags
    }

    /// Reads a tagging string in URL query form (`k=v&k2=v2`, percent-encoded), checking the
    /// OSS rules, so a value from a config file fails here rather than at the server.
    ///
    /// ```
    /// use oss_blocking as oss;
    /// let tags = oss::Tagging::parse("env=prod&note=a%20b&empty=").unwrap();
    /// assert_eq!(tags.tags()[1], ("note".to_string(), "a b".to_string()));
    /// assert!(oss::Tagging::parse("=v").is_err());
    /// ```
    pub fn parse(query: &str) -> Result<Tagging, String> {
        let mut tags = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8()
                    .map(|c| c.into_owned())
                    .map_err(|_| {
                        format!(
                            "invalid tagging {query:?}: {s:?} is not percent-encoded UTF-8 \
                             (use Tagging to build the value)"
                        )
                    })
            };
            tags.push((decode(k)?, decode(v)?));
        }
        let tagging = Tagging { tags };
        tagging.check()?;
        Ok(tagging)
    }

    /// Checks the OSS tag rules: at most [`MAX_TAGS`] tags, keys 1-[`MAX_TAG_KEY_CHARS`]
    /// characters and unique, values 0-[`MAX_TAG_VALUE_CHARS`] characters.
    pub fn check(&self) -> Result<(), String> {
        if self.tags.len() > MAX_TAGS {
            return Err(format!(
                "invalid tagging: {} tags, an object has at most {MAX_TAGS}",
                self.tags.len()
            ));
        }
        for (i, (key, value)) in self.tags.iter().enumerate() {
            let key_chars = key.chars().count();
            if !(1..=MAX_TAG_KEY_CHARS).contains(&key_chars) {
                return Err(format!(
                    "invalid tag key {key:?}: a tag key is 1-{MAX_TAG_KEY_CHARS} characters, \
                     this one is {key_chars}"
                ));
            }
            let value_chars = value.chars().count();
            if value_chars > MAX_TAG_VALUE_CHARS {
                return Err(format!(
                    "invalid value for tag {key:?}: a tag value is 0-{MAX_TAG_VALUE_CHARS} \
                     characters, this one is {value_chars}"
                ));
            }
            if self.tags.iter().take(i).any(|(k, _)| k == key) {
                return Err(format!(
                    "invalid tagging: tag key {key:?} appears twice; keys must be unique"
                ));
            }
        }
        Ok(())
    }
}

impl fmt::Display for Tagging {
    /// The `x-oss-tagging` value: `k=v` pairs joined with `&`, percent-encoded.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, v)) in self.tags.iter().enumerate() {
            if i > 0 {
                f.write_str("&")?;
            }
            write!(
                f,
                "{}={}",
                utf8_percent_encode(k, TAG_ENCODE),
                utf8_percent_encode(v, TAG_ENCODE)
            )?;
        }
        Ok(())
    }
}

impl From<Tagging> for String {
    fn from(t: Tagging) -> String {
        t.to_string()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Tagging {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Tagging {
            tags: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

/// The prefix of user metadata headers.
pub const METADATA_PREFIX: &str = "x-oss-meta-";
/// Most bytes of user metadata (names and values together) one object carries (OSS rule).
pub const MAX_METADATA_BYTES: usize = 8 * 1024;

/// Checks one user metadata entry and gives its header name (`x-oss-meta-` + the key in
/// lowercase: OSS treats metadata keys case-insensitively and returns them lowercase).
///
/// Keys are letters, digits, `-` and `_` (what survives as an HTTP header name through
/// proxies); values are printable ASCII (percent- or base64-encode other text first), since
/// a header cannot carry line breaks and OSS does not promise to keep other bytes.
pub(crate) fn metadata_header(key: &str, value: &str) -> Result<String, String> {
    // The prefix may be given in any case (`X-OSS-META-Author`); it is not part of the key.
    let key = key
        .get(..METADATA_PREFIX.len())
        .filter(|head| head.eq_ignore_ascii_case(METADATA_PREFIX))
        .and_then(|_| key.get(METADATA_PREFIX.len()..))
        .unwrap_or(key);
    if key.is_empty() {
        return Err("invalid metadata key \"\": a key must not be empty".to_string());
    }
    if let Some(c) = key
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(format!(
            "invalid metadata key {key:?}: it contains {c:?}; use ASCII letters, digits, '-' \
             and '_' (metadata keys travel as HTTP header names)"
        ));
    }
    if let Some(c) = value.chars().find(|c| !(' '..='~').contains(c)) {
        return Err(format!(
            "invalid value for metadata key {key:?}: it contains {c:?}; use printable ASCII \
             (percent-encode other text: metadata travels in an HTTP header)"
        ));
    }
    Ok(format!("{METADATA_PREFIX}{}", key.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_exactly_the_service_strings() {
        for acl in ObjectAcl::ALL {
            assert_eq!(acl.as_str().parse::<ObjectAcl>(), Ok(*acl));
        }
        for class in StorageClass::ALL {
            assert_eq!(class.as_str().parse::<StorageClass>(), Ok(*class));
        }
        for sse in ServerSideEncryption::ALL {
            assert_eq!(sse.as_str().parse::<ServerSideEncryption>(), Ok(*sse));
        }
        let names: Vec<_> = StorageClass::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            names,
            [
                "Standard",
                "IA",
                "Archive",
                "ColdArchive",
                "DeepColdArchive"
            ]
        );
        let names: Vec<_> = ServerSideEncryption::ALL
            .iter()
            .map(|c| c.as_str())
            .collect();
        assert_eq!(names, ["AES256", "KMS", "SM4"]);
        for bad in ["Private", "public_read", "", " private"] {
            assert!(bad.parse::<ObjectAcl>().is_err(), "{bad:?}");
        }
        let err = "aes256".parse::<ServerSideEncryption>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid server-side encryption \"aes256\": valid values are AES256, KMS, SM4"
        );
        assert_eq!(err.valid_values(), ["AES256", "KMS", "SM4"]);
        let err = "Cold".parse::<StorageClass>().unwrap_err();
        assert!(err
            .to_string()
            .ends_with("Standard, IA, Archive, ColdArchive, DeepColdArchive"));
    }

    #[test]
    fn tagging_encodes_so_pairs_split_back_the_same() {
        let tags = Tagging::new()
            .tag("a b", "x=y&z")
            .tag("k+1", "100%")
            .tag("中", "")
            .tag("safe-._~", "v");
        let s = tags.to_string();
        assert_eq!(
            s, "a%20b=x%3Dy%26z&k%2B1=100%25&%E4%B8%AD=&safe-._~=v",
            "reserved characters are encoded, unreserved kept"
        );
        assert_eq!(Tagging::parse(&s).unwrap(), tags);
    }

    #[test]
    fn tag_rules() {
        let ten: Tagging = (0..10).map(|i| (format!("k{i}"), "v")).collect();
        assert!(ten.check().is_ok());
        let eleven = ten.clone().tag("k10", "v");
        assert!(eleven.check().unwrap_err().contains("at most 10"));
        assert!(Tagging::new().tag("", "v").check().is_err());
        assert!(Tagging::new().tag("k".repeat(128), "").check().is_ok());
        assert!(Tagging::new().tag("k".repeat(129), "").check().is_err());
        // Characters, not bytes.
        assert!(Tagging::new()
            .tag("你".repeat(128), "值".repeat(256))
            .check()
            .is_ok());
        assert!(Tagging::new().tag("k", "v".repeat(257)).check().is_err());
        assert!(Tagging::new()
            .tag("k", "1")
            .tag("k", "2")
            .check()
            .unwrap_err()
            .contains("twice"));
        assert!(Tagging::parse("a=%FF").is_err());
        assert_eq!(Tagging::parse("").unwrap(), Tagging::new());
        assert_eq!(
            Tagging::parse("k").unwrap().tags(),
            [("k".to_string(), String::new())]
        );
    }

    #[test]
    fn metadata_keys_are_lowercased_and_header_safe() {
        assert_eq!(
            metadata_header("Author", "Alice").unwrap(),
            "x-oss-meta-author"
        );
        assert_eq!(
            metadata_header("x-oss-meta-Project_ID", "1").unwrap(),
            "x-oss-meta-project_id"
        );
        assert!(metadata_header("", "v").is_err());
        assert!(metadata_header("a b", "v").unwrap_err().contains("' '"));
        assert!(metadata_header("a:b", "v").is_err());
        assert!(metadata_header("k", "line\r\nX-Injected: 1").is_err());
        assert!(metadata_header("k", "caf\u{e9}").unwrap_err().contains("é"));
        assert!(metadata_header("k", "").is_ok());
    }
}

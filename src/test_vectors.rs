//! Test-only access to the reference vectors produced by the official Python SDK
//! (`tests/data/vectors-public.json`), shared by the unit tests of every module.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::credentials::Credentials;
use crate::signer::{sign_v4_headers, SigningContext};
use crate::Headers;

/// The whole vector file, parsed.
pub(crate) fn all() -> Value {
    serde_json::from_str(include_str!("../tests/data/vectors-public.json"))
        .expect("tests/data/vectors-public.json parses")
}

/// One of `behaviour_cases` by id.
pub(crate) fn behaviour(id: &str) -> Value {
    all()["behaviour_cases"]
        .as_array()
        .expect("behaviour_cases is an array")
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no behaviour case {id}"))
        .clone()
}

/// A JSON object of header name to value as an ordered header list.
pub(crate) fn headers(object: &Value) -> Vec<(String, String)> {
    object
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// One `v4_header_cases` entry, decoded: the signer's vectors, also replayed by the emulator's
/// signature check.
pub(crate) struct V4Case {
    pub id: String,
    pub method: String,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub raw_query: String,
    pub url: String,
    pub headers: Headers,
    pub region: String,
    pub product: String,
    pub credentials: Credentials,
    pub time: SystemTime,
    pub additional: Vec<String>,
    pub outputs: Value,
}

impl V4Case {
    /// `outputs.<field>` as a string.
    pub fn out(&self, field: &str) -> &str {
        self.outputs[field]
            .as_str()
            .unwrap_or_else(|| panic!("case {}: outputs.{field} is not a string", self.id))
    }

    /// The case's signing inputs.
    pub fn context(&self) -> SigningContext<'_> {
        SigningContext::new(&self.credentials, &self.region, self.time)
            .product(&self.product)
            .additional_headers(&self.additional)
    }

    /// The case's headers after [`sign_v4_headers`].
    pub fn sign(&self) -> Headers {
        let mut headers = self.headers.clone();
        sign_v4_headers(
            &self.method,
            self.bucket.as_deref(),
            self.key.as_deref(),
            &self.raw_query,
            &mut headers,
            &self.context(),
        );
        headers
    }
}

/// `2023-12-03T12:12:12Z` by counting days year by year and month by month: an algorithm
/// independent of the signer's own calendar code.
fn parse_iso_utc(s: &str) -> SystemTime {
    let n = |r: std::ops::Range<usize>| -> u64 { s[r].parse().expect("ISO time digits") };
    let leap = |y: u64| y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    assert_eq!(s.len(), 20, "ISO time {s}");
    let (year, month, day) = (n(0..4), n(5..7), n(8..10));
    let (hour, minute, second) = (n(11..13), n(14..16), n(17..19));
    let mut days = 0;
    for y in 1970..year {
        days += if leap(y) { 366 } else { 365 };
    }
    let month_lengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    for (m, len) in (1..month).zip(month_lengths) {
        days += len + u64::from(m == 2 && leap(year));
    }
    days += day - 1;
    UNIX_EPOCH + Duration::from_secs(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// A JSON object of header name to value, every value a string.
pub(crate) fn string_pairs(v: &Value, what: &str) -> Vec<(String, String)> {
    v.as_object()
        .unwrap_or_else(|| panic!("{what} is not an object"))
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("header value").to_string()))
        .collect()
}

/// Every `v4_header_cases` entry.
pub(crate) fn v4_header_cases() -> Vec<V4Case> {
    all()["v4_header_cases"]
        .as_array()
        .expect("v4_header_cases is an array")
        .iter()
        .map(|c| {
            let id = c["id"].as_str().expect("case id").to_string();
            let i = &c["inputs"];
            let s = |field: &str| {
                i[field]
                    .as_str()
                    .unwrap_or_else(|| panic!("case {id}: inputs.{field}"))
                    .to_string()
            };
            let url = s("url");
            let raw_query = match i["query_raw"].as_str() {
                Some(q) => q.to_string(),
                None => url
                    .split_once('?')
                    .map(|(_, q)| q.to_string())
                    .unwrap_or_default(),
            };
            let mut credentials = Credentials::new(s("ak"), s("sk"));
            if let Some(token) = i["token"].as_str() {
                credentials = credentials.with_security_token(token);
            }
            V4Case {
                method: s("method"),
                bucket: i["bucket"].as_str().map(String::from),
                key: i["key"].as_str().map(String::from),
                raw_query,
                headers: string_pairs(&i["headers"], &format!("case {id}: inputs.headers")).into(),
                region: s("region"),
                product: s("product"),
                credentials,
                time: parse_iso_utc(&s("time")),
                additional: i["additional_headers"]
                    .as_array()
                    .unwrap_or_else(|| panic!("case {id}: inputs.additional_headers"))
                    .iter()
                    .map(|v| v.as_str().expect("header name").to_string())
                    .collect(),
                url,
                outputs: c["outputs"].clone(),
                id,
            }
        })
        .collect()
}

/// Every value of a header, for assertions.
pub(crate) fn get<'h>(headers: &'h Headers, name: &'h str) -> Vec<&'h str> {
    headers.get_all(name).collect()
}

/// Seconds since the epoch as a time.
pub(crate) fn secs(t: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(t)
}

/// Owned strings from literals.
pub(crate) fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// Headers from literal pairs.
pub(crate) fn pairs(list: &[(&str, &str)]) -> Headers {
    list.iter().copied().collect()
}

/// `vectors-next.json` (the multipart, presign and V1 vectors), parsed.
pub(crate) fn all_next() -> Value {
    serde_json::from_str(include_str!("../tests/data/vectors-next.json"))
        .expect("tests/data/vectors-next.json parses")
}

/// The array `name` of `vectors-public.json`.
pub(crate) fn public_cases(name: &str) -> Vec<Value> {
    all()[name]
        .as_array()
        .unwrap_or_else(|| panic!("vectors-public.json has no array {name}"))
        .clone()
}

/// The array `name` of `vectors-next.json`.
pub(crate) fn next_cases(name: &str) -> Vec<Value> {
    all_next()[name]
        .as_array()
        .unwrap_or_else(|| panic!("vectors-next.json has no array {name}"))
        .clone()
}

/// An ISO-8601 UTC time of a vector, e.g. `2024-03-15T08:30:00Z`.
pub(crate) fn parse_time(s: &str) -> SystemTime {
    parse_iso_utc(s)
}

//! OSS Signature V4 (`OSS4-HMAC-SHA256`), header mode, as pure functions.
//!
//! Nothing here does I/O or reads the clock: the signing time is an argument. So a request
//! signed twice with the same inputs gets the same signature, the steps can be checked one by
//! one against the official SDKs' vectors, and the emulator can reuse the same code to verify
//! what it receives. Because the emulator feeds these functions data from the network, none of
//! them panics on any input.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use ring::{digest, hmac};

/// The algorithm name, first word of the `Authorization` value and first line of the string to sign.
pub const ALGORITHM: &str = "OSS4-HMAC-SHA256";
/// The `x-oss-content-sha256` value: OSS V4 never hashes the payload.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// The product in the scope for ordinary OSS (CloudBox uses `oss-cloudbox`).
pub const DEFAULT_PRODUCT: &str = "oss";
/// The last element of every V4 scope.
pub const SCOPE_TERMINATOR: &str = "aliyun_v4_request";
/// Header carrying the signing time in the compact `YYYYMMDDTHHMMSSZ` form (signed).
pub const HEADER_OSS_DATE: &str = "x-oss-date";
/// Header carrying the payload hash, always [`UNSIGNED_PAYLOAD`] here (signed).
pub const HEADER_CONTENT_SHA256: &str = "x-oss-content-sha256";
/// Header carrying the STS security token (signed).
pub const HEADER_SECURITY_TOKEN: &str = "x-oss-security-token";

/// Everything signing needs that is not part of the HTTP request itself.
#[derive(Debug, Clone, Copy)]
pub struct SigningContext<'a> {
    /// The key pair and optional STS token.
    pub credentials: &'a crate::credentials::Credentials,
    /// Region id without the `oss-` prefix, e.g. `cn-hangzhou`.
    pub region: &'a str,
    /// Usually [`DEFAULT_PRODUCT`].
    pub product: &'a str,
    /// The signing time; the caller reads the clock (and applies any skew correction).
    pub time: SystemTime,
    /// Extra header names to sign besides the default ones; see [`additional_signed_headers`].
    pub additional_headers: &'a [String],
}

// ---------------------------------------------------------------------------------------------
// Time

/// 9999-12-31T23:59:59Z, the last instant both date formats (and `httpdate`) can represent.
const MAX_SECS: u64 = 253_402_300_799;
const SECS_PER_DAY: u64 = 86_400;

/// Seconds since the epoch, clamped to `[1970-01-01T00:00:00Z, 9999-12-31T23:59:59Z]`.
fn clamped_secs(t: SystemTime) -> u64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs().min(MAX_SECS),
        Err(_) => 0,
    }
}

/// A UTC calendar instant, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Civil {
    year: u64,
    month: u64,
    day: u64,
    hour: u64,
    minute: u64,
    second: u64,
}

impl Civil {
    fn from_secs(secs: u64) -> Civil {
        let (year, month, day) = civil_from_days(secs / SECS_PER_DAY);
        let rem = secs % SECS_PER_DAY;
        Civil {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem % 3600 / 60,
            second: rem % 60,
        }
    }

    /// `YYYYMMDD`
    fn date(&self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }

    /// `YYYYMMDDTHHMMSSZ`
    fn datetime(&self) -> String {
        format!(
            "{}T{:02}{:02}{:02}Z",
            self.date(),
            self.hour,
            self.minute,
            self.second
        )
    }
}

/// Days since 1970-01-01 to (year, month 1-12, day 1-31) in the proleptic Gregorian calendar.
///
/// Howard Hinnant's `civil_from_days`, restricted to non-negative day counts: shift the epoch to
/// 0000-03-01 so that leap days fall at the end of a year, then split into 400-year eras.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097; // day of era, [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // year of era, [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of year from March 1st, [0, 365]
    let mp = (5 * doy + 2) / 153; // month from March, [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// The inverse of [`civil_from_days`]; `None` before 1970-01-01.
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    let y = if month <= 2 {
        year.checked_sub(1)?
    } else {
        year
    };
    let era = y / 400;
    let yoe = y % 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day.checked_sub(1)?;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).checked_sub(719_468)
}

fn is_leap_year(year: u64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// The compact UTC form used by `x-oss-date` and the string to sign, e.g. `"20231203T121212Z"`.
///
/// Always 16 characters: times before 1970 or after 9999-12-31T23:59:59Z are clamped to those
/// bounds (a clock that far off is rejected by the server anyway). Sub-seconds are dropped.
pub fn format_datetime(t: SystemTime) -> String {
    Civil::from_secs(clamped_secs(t)).datetime()
}

/// The RFC 1123 form sent in the (unsigned) `Date` header, e.g. `"Sun, 03 Dec 2023 12:12:12 GMT"`.
///
/// Clamped like [`format_datetime`], so the two headers always name the same second.
pub fn format_http_date(t: SystemTime) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(clamped_secs(t)))
}

/// Parses the compact `YYYYMMDDTHHMMSSZ` form back into a time (for a server checking
/// `x-oss-date`). `None` unless it is exactly that shape and a real UTC instant from 1970 to 9999.
pub fn parse_datetime(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u64> {
        let digits = s.get(from..to)?;
        if digits.bytes().all(|c| c.is_ascii_digit()) {
            digits.parse().ok()
        } else {
            None
        }
    };
    let (year, month, day) = (num(0, 4)?, num(4, 6)?, num(6, 8)?);
    let (hour, minute, second) = (num(9, 11)?, num(11, 13)?, num(13, 15)?);
    if year < 1970
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day)?;
    let secs = days * SECS_PER_DAY + hour * 3600 + minute * 60 + second;
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

// ---------------------------------------------------------------------------------------------
// Encoding

/// Unreserved characters (RFC 3986) are kept; everything else is escaped.
const QUERY_COMPONENT_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// As above, and `/` is kept too.
const PATH_SET: &AsciiSet = &QUERY_COMPONENT_SET.remove(b'/');

/// Percent-encode an object key (or any path) for the URL path and the canonical URI: keep
/// `A-Z a-z 0-9 - . _ ~` and `/`, everything else as uppercase `%XX` of the UTF-8 bytes.
///
/// ```
/// use oss_blocking::signer::escape_path;
/// assert_eq!(escape_path("a+b c%/ü~"), "a%2Bb%20c%25/%C3%BC~");
/// ```
pub fn escape_path(s: &str) -> String {
    utf8_percent_encode(s, PATH_SET).to_string()
}

/// Percent-encode a query key or value: keep only `A-Z a-z 0-9 - . _ ~` (so `/` becomes `%2F`
/// and space `%20`).
pub fn escape_query_component(s: &str) -> String {
    utf8_percent_encode(s, QUERY_COMPONENT_SET).to_string()
}

// ---------------------------------------------------------------------------------------------
// Canonical request

/// The canonical URI: `"/"`, then `"<bucket>/"` if there is a bucket, then the key if there is
/// one, escaped with [`escape_path`]. It names the bucket whatever the addressing style.
pub fn canonical_uri(bucket: Option<&str>, key: Option<&str>) -> String {
    let mut uri = String::from("/");
    if let Some(bucket) = bucket {
        uri.push_str(bucket);
        uri.push('/');
    }
    if let Some(key) = key {
        uri.push_str(key);
    }
    escape_path(&uri)
}

/// The canonical query, built from the encoded raw query as sent (no leading `?`).
///
/// Go SDK's rule: `+` becomes `%20`, split on `&` (empty pieces skipped), each piece on its
/// first `=`, sort by key then value, write `k=v`, or the bare `k` when the value is empty,
/// and join with `&`. Nothing is decoded. An empty input gives `""`.
pub fn canonical_query(raw_query: &str) -> String {
    let query = raw_query.replace('+', "%20");
    let mut pairs: Vec<(&str, &str)> = query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| piece.split_once('=').unwrap_or((piece, "")))
        .collect();
    pairs.sort_unstable();
    let mut out = String::with_capacity(query.len());
    for (i, (k, v)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        if !v.is_empty() {
            out.push('=');
            out.push_str(v);
        }
    }
    out
}

/// True for the headers V4 always signs: `x-oss-*`, `content-type` and `content-md5`.
/// `lower` must already be lowercase.
fn is_default_signed(lower: &str) -> bool {
    lower.starts_with("x-oss-") || lower == "content-type" || lower == "content-md5"
}

/// The first value of a header, names compared case-insensitively.
fn header_value<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The additional header names actually signed: lowercased; names signed by default
/// (`x-oss-*`, `content-type`, `content-md5`) dropped; names with no header in `headers`, or only
/// empty (after trimming) values, dropped; duplicates removed; sorted.
pub fn additional_signed_headers(
    additional: &[String],
    headers: &[(String, String)],
) -> Vec<String> {
    let mut names: Vec<String> = additional
        .iter()
        .map(|name| name.to_ascii_lowercase())
        .filter(|name| !is_default_signed(name))
        .filter(|name| {
            headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case(name) && !v.trim().is_empty())
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The canonical headers: one `"name:value\n"` line for each `x-oss-*`, `content-type` and
/// `content-md5` header and each name in `additional_signed`. Names are lowercased, values
/// trimmed, the values of a repeated name joined with `,` in request order (Go SDK's rule), and
/// the lines sorted by name.
pub fn canonical_headers(headers: &[(String, String)], additional_signed: &[String]) -> String {
    let mut signed: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        if is_default_signed(&lower)
            || additional_signed
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&lower))
        {
            signed.entry(lower).or_default().push(value.trim());
        }
    }
    let mut out = String::new();
    for (name, values) in &signed {
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out
}

/// The canonical request: method, canonical URI, [`canonical_query`] of `raw_query`,
/// [`canonical_headers`], the additional names joined by `;`, and the hashed payload (the
/// `x-oss-content-sha256` value, or [`UNSIGNED_PAYLOAD`]), joined by `\n`.
pub fn canonical_request(
    method: &str,
    canonical_uri: &str,
    raw_query: &str,
    headers: &[(String, String)],
    additional_signed: &[String],
) -> String {
    let hashed_payload = header_value(headers, HEADER_CONTENT_SHA256)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or(UNSIGNED_PAYLOAD);
    format!(
        "{method}\n{canonical_uri}\n{}\n{}\n{}\n{hashed_payload}",
        canonical_query(raw_query),
        canonical_headers(headers, additional_signed),
        additional_signed.join(";"),
    )
}

// ---------------------------------------------------------------------------------------------
// Signature

/// The credential scope: `"<date>/<region>/<product>/aliyun_v4_request"`.
pub fn scope(date: &str, region: &str, product: &str) -> String {
    format!("{date}/{region}/{product}/{SCOPE_TERMINATOR}")
}

fn lower_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

/// The string to sign: `OSS4-HMAC-SHA256`, the datetime, the scope and the lowercase hex
/// SHA-256 of the canonical request, joined by `\n` (no trailing newline).
pub fn string_to_sign(datetime: &str, scope: &str, canonical_request: &str) -> String {
    let hash = digest::digest(&digest::SHA256, canonical_request.as_bytes());
    format!(
        "{ALGORITHM}\n{datetime}\n{scope}\n{}",
        lower_hex(hash.as_ref())
    )
}

/// The signing key, an HMAC-SHA256 chain:
/// `"aliyun_v4" + secret` → date (`YYYYMMDD`) → region → product → `"aliyun_v4_request"`.
pub fn signing_key(secret: &str, date: &str, region: &str, product: &str) -> hmac::Key {
    let mut key = hmac::Key::new(hmac::HMAC_SHA256, format!("aliyun_v4{secret}").as_bytes());
    for step in [date, region, product, SCOPE_TERMINATOR] {
        let tag = hmac::sign(&key, step.as_bytes());
        key = hmac::Key::new(hmac::HMAC_SHA256, tag.as_ref());
    }
    key
}

/// The signature: lowercase hex of HMAC-SHA256(signing key, string to sign).
pub fn signature(signing_key: &hmac::Key, string_to_sign: &str) -> String {
    lower_hex(hmac::sign(signing_key, string_to_sign.as_bytes()).as_ref())
}

/// The `Authorization` value:
/// `"OSS4-HMAC-SHA256 Credential=<ak>/<scope>[,AdditionalHeaders=h1;h2],Signature=<hex>"`,
/// with no spaces after the commas and the AK not escaped.
pub fn authorization(
    access_key_id: &str,
    scope: &str,
    additional_signed: &[String],
    signature: &str,
) -> String {
    if additional_signed.is_empty() {
        format!("{ALGORITHM} Credential={access_key_id}/{scope},Signature={signature}")
    } else {
        format!(
            "{ALGORITHM} Credential={access_key_id}/{scope},AdditionalHeaders={},Signature={signature}",
            additional_signed.join(";")
        )
    }
}

/// Removes every header called `name` (any case) and appends `name: value`.
fn set_header(headers: &mut Vec<(String, String)>, name: &str, value: String) {
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    headers.push((name.to_string(), value));
}

/// Header-mode signing of a request.
///
/// Sets, replacing any existing header of the same name (compared case-insensitively) and
/// appending in this order: `x-oss-date`, `Date` (RFC 1123, not signed), `x-oss-security-token`
/// (only with a non-empty token; a stale one is removed otherwise),
/// `x-oss-content-sha256: UNSIGNED-PAYLOAD`, then `Authorization`. `raw_query` is the encoded
/// query string exactly as it will be sent, without the `?`. The HTTP stack must not add or
/// change `Content-Type`, `Content-MD5` or any `x-oss-*` header afterwards.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use oss_blocking::credentials::Credentials;
/// use oss_blocking::signer::{sign_v4_headers, SigningContext, DEFAULT_PRODUCT};
///
/// let credentials = Credentials::new("ak", "sk");
/// let ctx = SigningContext {
///     credentials: &credentials,
///     region: "cn-hangzhou",
///     product: DEFAULT_PRODUCT,
///     time: UNIX_EPOCH + Duration::from_secs(1_701_605_532), // 2023-12-03T12:12:12Z
///     additional_headers: &[],
/// };
/// let mut headers = vec![("Content-Type".to_string(), "text/plain".to_string())];
/// sign_v4_headers("PUT", Some("examplebucket"), Some("exampleobject.txt"), "", &mut headers, &ctx);
///
/// let get = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
/// assert_eq!(get("x-oss-date"), Some("20231203T121212Z"));
/// assert_eq!(get("Date"), Some("Sun, 03 Dec 2023 12:12:12 GMT"));
/// assert_eq!(
///     get("Authorization"),
///     Some("OSS4-HMAC-SHA256 Credential=ak/20231203/cn-hangzhou/oss/aliyun_v4_request,\
///           Signature=3fa50a8cae7be58de737e49019519157558ba0dbb2345fc85e1666953c9285b7"),
/// );
/// ```
pub fn sign_v4_headers(
    method: &str,
    bucket: Option<&str>,
    key: Option<&str>,
    raw_query: &str,
    headers: &mut Vec<(String, String)>,
    ctx: &SigningContext<'_>,
) {
    let secs = clamped_secs(ctx.time);
    let civil = Civil::from_secs(secs);
    let (date, datetime) = (civil.date(), civil.datetime());

    set_header(headers, HEADER_OSS_DATE, datetime.clone());
    set_header(
        headers,
        "Date",
        format_http_date(UNIX_EPOCH + Duration::from_secs(secs)),
    );
    match ctx.credentials.security_token().filter(|t| !t.is_empty()) {
        Some(token) => set_header(headers, HEADER_SECURITY_TOKEN, token.to_string()),
        None => headers.retain(|(k, _)| !k.eq_ignore_ascii_case(HEADER_SECURITY_TOKEN)),
    }
    set_header(headers, HEADER_CONTENT_SHA256, UNSIGNED_PAYLOAD.to_string());

    let additional = additional_signed_headers(ctx.additional_headers, headers);
    let request = canonical_request(
        method,
        &canonical_uri(bucket, key),
        raw_query,
        headers,
        &additional,
    );
    let scope = scope(&date, ctx.region, ctx.product);
    let to_sign = string_to_sign(&datetime, &scope, &request);
    let key = signing_key(
        ctx.credentials.access_key_secret(),
        &date,
        ctx.region,
        ctx.product,
    );
    let value = authorization(
        ctx.credentials.access_key_id(),
        &scope,
        &additional,
        &signature(&key, &to_sign),
    );
    set_header(headers, "Authorization", value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Credentials;
    use crate::test_vectors::{string_pairs, v4_header_cases as cases, V4Case};

    /// The canonical request built step by step from the case's pre-signing headers plus the
    /// headers the signer adds (taken from the expected output, so this checks the
    /// canonicalisation independently of `sign_v4_headers`).
    fn step_by_step_canonical_request(case: &V4Case) -> String {
        let mut headers = case.headers.clone();
        for name in [
            HEADER_OSS_DATE,
            HEADER_CONTENT_SHA256,
            HEADER_SECURITY_TOKEN,
        ] {
            if let Some(v) = case.outputs["signed_request_headers"][name].as_str() {
                headers.push((name.to_string(), v.to_string()));
            }
        }
        let additional = additional_signed_headers(&case.additional, &headers);
        canonical_request(
            &case.method,
            &canonical_uri(case.bucket.as_deref(), case.key.as_deref()),
            &case.raw_query,
            &headers,
            &additional,
        )
    }

    fn get<'h>(headers: &'h [(String, String)], name: &str) -> Vec<&'h str> {
        headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn secs(t: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(t)
    }

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    // --- the public vectors -----------------------------------------------------------------

    #[test]
    fn vectors_all_thirteen_cases_are_loaded() {
        let cases = cases();
        assert_eq!(cases.len(), 13, "expected the 13 v4_header_cases");
        for case in &cases {
            assert_eq!(
                case.outputs["x-oss-date"].as_str(),
                Some(format_datetime(case.time).as_str()),
                "case {}: the ISO input time and outputs.x-oss-date disagree",
                case.id
            );
        }
    }

    #[test]
    fn vectors_canonical_request() {
        for case in cases() {
            assert_eq!(
                step_by_step_canonical_request(&case),
                case.out("canonical_request"),
                "case {}: canonical request",
                case.id
            );
        }
    }

    #[test]
    fn vectors_scope_and_string_to_sign() {
        for case in cases() {
            let datetime = format_datetime(case.time);
            let scope = scope(&datetime[..8], &case.region, &case.product);
            assert_eq!(scope, case.out("scope"), "case {}: scope", case.id);
            assert_eq!(
                string_to_sign(&datetime, &scope, case.out("canonical_request")),
                case.out("string_to_sign"),
                "case {}: string to sign",
                case.id
            );
        }
    }

    #[test]
    fn vectors_signature() {
        for case in cases() {
            let datetime = format_datetime(case.time);
            let key = signing_key(
                case.credentials.access_key_secret(),
                &datetime[..8],
                &case.region,
                &case.product,
            );
            assert_eq!(
                signature(&key, case.out("string_to_sign")),
                case.out("signature"),
                "case {}: signature",
                case.id
            );
        }
    }

    #[test]
    fn vectors_authorization() {
        for case in cases() {
            let mut headers = case.headers.clone();
            headers.push((HEADER_OSS_DATE.into(), case.out("x-oss-date").into()));
            let additional = additional_signed_headers(&case.additional, &headers);
            assert_eq!(
                additional.join(";"),
                case.out("additional_headers"),
                "case {}: additional signed headers",
                case.id
            );
            assert_eq!(
                authorization(
                    case.credentials.access_key_id(),
                    case.out("scope"),
                    &additional,
                    case.out("signature")
                ),
                case.out("authorization"),
                "case {}: Authorization",
                case.id
            );
        }
    }

    #[test]
    fn vectors_sign_v4_headers_sets_the_expected_headers() {
        for case in cases() {
            let signed = case.sign();
            let want = string_pairs(
                &case.outputs["signed_request_headers"],
                &format!("case {}: signed_request_headers", case.id),
            );
            let mut names = vec![
                "x-oss-date",
                "Date",
                "x-oss-content-sha256",
                "Authorization",
            ];
            if case.credentials.security_token().is_some() {
                names.push("x-oss-security-token");
            }
            for name in names {
                let want_value = want
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
                    .unwrap_or_else(|| panic!("case {}: vector lacks {name}", case.id));
                let got: Vec<&str> = signed
                    .iter()
                    .filter(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
                    .collect();
                assert_eq!(got, [want_value], "case {}: header {name}", case.id);
            }
            // Nothing else was added, removed or changed.
            let (mut got_all, mut want_all) = (signed.clone(), want.clone());
            got_all.sort();
            want_all.sort();
            assert_eq!(got_all, want_all, "case {}: full header set", case.id);
        }
    }

    #[test]
    fn vectors_url_path_uses_escape_path() {
        for case in cases() {
            let final_url = case.out("url");
            let after_scheme = final_url
                .split_once("://")
                .map(|(_, rest)| rest)
                .unwrap_or(final_url);
            let (host, path_and_query) = after_scheme
                .split_once('/')
                .map(|(h, p)| (h, format!("/{p}")))
                .unwrap_or((after_scheme, "/".to_string()));
            let (path, query) = path_and_query
                .split_once('?')
                .map(|(p, q)| (p.to_string(), q))
                .unwrap_or((path_and_query.clone(), ""));
            let virtual_host = case
                .bucket
                .as_deref()
                .is_some_and(|b| host.starts_with(&format!("{b}.")));
            let want_path = if virtual_host {
                escape_path(&format!("/{}", case.key.as_deref().unwrap_or("")))
            } else {
                canonical_uri(case.bucket.as_deref(), case.key.as_deref())
            };
            assert_eq!(path, want_path, "case {}: URL path", case.id);
            assert_eq!(query, case.raw_query, "case {}: URL query", case.id);
            assert_eq!(
                final_url, case.url,
                "case {}: URL changed by signing",
                case.id
            );
        }
    }

    // --- time ---------------------------------------------------------------------------------

    #[test]
    fn format_datetime_known_instants() {
        for (t, compact, http) in [
            (0, "19700101T000000Z", "Thu, 01 Jan 1970 00:00:00 GMT"),
            (
                68_212_800,
                "19720229T120000Z",
                "Tue, 29 Feb 1972 12:00:00 GMT",
            ),
            (
                951_782_400,
                "20000229T000000Z",
                "Tue, 29 Feb 2000 00:00:00 GMT",
            ),
            (
                1_701_605_532,
                "20231203T121212Z",
                "Sun, 03 Dec 2023 12:12:12 GMT",
            ),
            (
                1_709_251_199,
                "20240229T235959Z",
                "Thu, 29 Feb 2024 23:59:59 GMT",
            ),
            (
                4_107_542_399,
                "21000228T235959Z",
                "Sun, 28 Feb 2100 23:59:59 GMT",
            ),
            (
                4_107_542_400,
                "21000301T000000Z",
                "Mon, 01 Mar 2100 00:00:00 GMT",
            ),
            (
                MAX_SECS,
                "99991231T235959Z",
                "Fri, 31 Dec 9999 23:59:59 GMT",
            ),
        ] {
            assert_eq!(format_datetime(secs(t)), compact, "{t}");
            assert_eq!(format_http_date(secs(t)), http, "{t}");
            assert_eq!(parse_datetime(compact), Some(secs(t)), "{compact}");
        }
        // Sub-seconds are dropped, not rounded.
        let t = secs(1_701_605_532) + Duration::from_millis(999);
        assert_eq!(format_datetime(t), "20231203T121212Z");
    }

    #[test]
    fn format_datetime_clamps_out_of_range_times() {
        let before_epoch = UNIX_EPOCH - Duration::from_secs(86_400 * 400);
        assert_eq!(format_datetime(before_epoch), "19700101T000000Z");
        assert_eq!(
            format_http_date(before_epoch),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
        let far = secs(MAX_SECS + 1_000_000_000);
        assert_eq!(format_datetime(far), "99991231T235959Z");
        assert_eq!(format_http_date(far), "Fri, 31 Dec 9999 23:59:59 GMT");
    }

    #[test]
    fn format_datetime_agrees_with_httpdate_and_parse_datetime() {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        // A stride coprime with the day length visits every time of day and every calendar
        // corner over the whole range.
        let mut t = 0u64;
        while t <= MAX_SECS {
            let compact = format_datetime(secs(t));
            let month: usize = compact[4..6].parse().expect("month");
            let from_compact = format!(
                "{} {} {} {}:{}:{} GMT",
                &compact[6..8],
                MONTHS[month - 1],
                &compact[0..4],
                &compact[9..11],
                &compact[11..13],
                &compact[13..15]
            );
            let http = httpdate::fmt_http_date(secs(t));
            assert_eq!(&http[5..], from_compact, "{t}");
            assert_eq!(parse_datetime(&compact), Some(secs(t)), "{compact}");
            t += 7_777_777;
        }
    }

    #[test]
    fn parse_datetime_rejects_malformed_values() {
        for bad in [
            "",
            "19691231T235959Z",
            "20231203T121212",
            "20231203 121212Z",
            "2023-12-03T12:12:12Z",
            "20230229T000000Z",
            "21000229T000000Z",
            "20231200T000000Z",
            "20231232T000000Z",
            "20231301T000000Z",
            "20231203T240000Z",
            "20231203T236000Z",
            "20231203T235960Z",
            "+0231203T121212Z",
            "2023120３T121212Z",
            "20231203T121212Zé",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad:?}");
        }
        assert!(parse_datetime("20240229T000000Z").is_some());
        assert!(parse_datetime("20000229T000000Z").is_some());
    }

    // --- canonicalisation details -------------------------------------------------------------

    #[test]
    fn canonical_headers_trims_and_joins_repeated_values() {
        let headers = pairs(&[
            ("X-Oss-Meta-A", "  one "),
            ("Content-Type", "\ttext/plain "),
            ("x-oss-meta-a", "two\t"),
            ("Cache-Control", " no-cache "),
            ("Host", "example.com"),
            ("X-OSS-META-A", ""),
        ]);
        assert_eq!(
            canonical_headers(&headers, &strings(&["cache-control"])),
            "cache-control:no-cache\ncontent-type:text/plain\nx-oss-meta-a:one,two,\n"
        );
        assert_eq!(
            canonical_headers(&headers, &[]),
            "content-type:text/plain\nx-oss-meta-a:one,two,\n"
        );
        assert_eq!(canonical_headers(&[], &[]), "");
    }

    #[test]
    fn additional_signed_headers_filters_dedupes_and_sorts() {
        let headers = pairs(&[
            ("Host", "example.com"),
            ("Cache-Control", "no-cache"),
            ("X-Empty", "  "),
            ("Content-Type", "text/plain"),
            ("x-oss-meta-a", "1"),
        ]);
        let configured = strings(&[
            "Host",
            "host",
            "Cache-Control",
            "x-oss-meta-a",
            "Content-Type",
            "content-md5",
            "X-Empty",
            "absent",
        ]);
        assert_eq!(
            additional_signed_headers(&configured, &headers),
            ["cache-control", "host"]
        );
        assert!(additional_signed_headers(&[], &headers).is_empty());
    }

    #[test]
    fn canonical_query_follows_the_go_rule() {
        assert_eq!(canonical_query(""), "");
        assert_eq!(canonical_query("acl="), "acl");
        assert_eq!(canonical_query("acl"), "acl");
        assert_eq!(canonical_query("b=2&a=1&c"), "a=1&b=2&c");
        assert_eq!(canonical_query("k=b&k=a&k="), "k&k=a&k=b");
        assert_eq!(canonical_query("a=x+y&b=%2B"), "a=x%20y&b=%2B");
        assert_eq!(canonical_query("a=1=2"), "a=1=2");
        assert_eq!(canonical_query("&&a=1&"), "a=1");
        assert_eq!(canonical_query("=v&="), "&=v");
        assert_eq!(canonical_query("Z=1&a=1&%2B=1"), "%2B=1&Z=1&a=1");
    }

    #[test]
    fn escaping_keeps_only_unreserved_characters() {
        assert_eq!(escape_path("a//b/"), "a//b/");
        assert_eq!(escape_path("a+b c%~-._"), "a%2Bb%20c%25~-._");
        assert_eq!(escape_path("中/ü"), "%E4%B8%AD/%C3%BC");
        assert_eq!(escape_query_component("a/b c+d~"), "a%2Fb%20c%2Bd~");
        assert_eq!(
            escape_query_component("token/with+special=chars"),
            "token%2Fwith%2Bspecial%3Dchars"
        );
        assert_eq!(canonical_uri(None, None), "/");
        assert_eq!(canonical_uri(Some("b"), None), "/b/");
        assert_eq!(canonical_uri(Some("b"), Some("a b/c")), "/b/a%20b/c");
        assert_eq!(canonical_uri(None, Some("k")), "/k");
    }

    #[test]
    fn canonical_request_uses_the_payload_header_or_unsigned() {
        let with = pairs(&[("X-Oss-Content-Sha256", " abc ")]);
        assert!(canonical_request("PUT", "/", "", &with, &[]).ends_with("\n\nabc"));
        let empty = pairs(&[("x-oss-content-sha256", "")]);
        assert!(canonical_request("PUT", "/", "", &empty, &[]).ends_with("\n\nUNSIGNED-PAYLOAD"));
        assert_eq!(
            canonical_request("GET", "/", "", &[], &[]),
            "GET\n/\n\n\n\nUNSIGNED-PAYLOAD"
        );
    }

    // --- sign_v4_headers behaviour ------------------------------------------------------------

    #[test]
    fn sign_v4_headers_replaces_existing_and_removes_stale_token() {
        let stale = pairs(&[
            ("X-OSS-DATE", "old"),
            ("date", "old"),
            ("AUTHORIZATION", "old"),
            ("X-Oss-Content-Sha256", "old"),
            ("X-Oss-Security-Token", "stale"),
            ("Content-Type", "text/plain"),
        ]);
        let plain = Credentials::new("ak", "sk");
        let with_token = Credentials::new("ak", "sk").with_security_token("fresh");
        for (credentials, token) in [(&plain, None), (&with_token, Some("fresh"))] {
            let ctx = SigningContext {
                credentials,
                region: "cn-hangzhou",
                product: DEFAULT_PRODUCT,
                time: secs(1_701_605_532),
                additional_headers: &[],
            };
            let mut headers = stale.clone();
            sign_v4_headers("PUT", Some("b"), Some("k"), "", &mut headers, &ctx);
            assert_eq!(get(&headers, "x-oss-date"), ["20231203T121212Z"]);
            assert_eq!(get(&headers, "date"), ["Sun, 03 Dec 2023 12:12:12 GMT"]);
            assert_eq!(get(&headers, "x-oss-content-sha256"), [UNSIGNED_PAYLOAD]);
            assert_eq!(get(&headers, "authorization").len(), 1);
            assert_eq!(get(&headers, "x-oss-security-token"), Vec::from_iter(token));
            assert_eq!(get(&headers, "content-type"), ["text/plain"]);
            let names: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
            let mut want = vec!["Content-Type", "x-oss-date", "Date"];
            if token.is_some() {
                want.push("x-oss-security-token");
            }
            want.extend(["x-oss-content-sha256", "Authorization"]);
            assert_eq!(names, want);
        }
    }

    #[test]
    fn sign_v4_headers_is_deterministic_and_survives_odd_inputs() {
        let credentials = Credentials::new("", "");
        let additional = strings(&["", "X-Oss-", "\u{0}", "中"]);
        let ctx = SigningContext {
            credentials: &credentials,
            region: "",
            product: "",
            time: UNIX_EPOCH - Duration::from_secs(1),
            additional_headers: &additional,
        };
        let mut a = pairs(&[("", ""), ("中", "\u{0}"), ("x-oss-", " ")]);
        let mut b = a.clone();
        sign_v4_headers("", Some(""), Some("%%/"), "&=&+", &mut a, &ctx);
        sign_v4_headers("", Some(""), Some("%%/"), "&=&+", &mut b, &ctx);
        assert_eq!(a, b);
        assert!(get(&a, "authorization")[0].contains("Credential=/19700101///aliyun_v4_request,"));
    }
}

//! Request signing for OSS, as pure functions.
//!
//! Nothing here does I/O or reads the clock: the signing time is an argument. So a request
//! signed twice with the same inputs gets the same signature, the steps can be checked one by
//! one against the official SDKs' vectors, and the emulator can reuse the same code to verify
//! what it receives. Because the emulator feeds these functions data from the network, none of
//! them panics on any input.
//!
//! This module holds what every signing scheme shares (the signing context, the date formats,
//! URI escaping, header names); Signature V4 in header mode ([`sign_v4_headers`] and its steps)
//! lives in a private submodule, V4 query signing (presigned URLs) in another and Signature V1
//! (header and query mode) in a third; their items are re-exported here, so each has one path:
//! `oss_blocking::signer::<item>`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::credentials::Credentials;

mod presign;
mod rpc;
mod v1;
mod v4;

pub use presign::{
    presign_v4_query, presign_v4_signed_headers, MAX_PRESIGN_V4_SECS, QUERY_SIGNATURE,
};
pub use rpc::{
    format_iso8601, parse_iso8601, rpc_canonical_query, rpc_signature, rpc_string_to_sign,
    RPC_SIGNATURE_METHOD, RPC_SIGNATURE_VERSION,
};
pub use v1::{
    presign_v1_query, sign_v1_headers, v1_canonical_oss_headers, v1_canonical_resource,
    v1_signature, v1_signed_headers, v1_string_to_sign, V1_SUB_RESOURCES,
};
pub use v4::{
    additional_signed_headers, authorization, canonical_headers, canonical_query,
    canonical_request, canonical_uri, scope, sign_v4_headers, signature, signing_key,
    string_to_sign,
};

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
///
/// Built with [`SigningContext::new`] and the chained setters; the fields stay readable. It is
/// `#[non_exhaustive]` so that later signing modes can add inputs without breaking callers.
///
/// ```
/// use std::time::SystemTime;
/// use oss_blocking::credentials::Credentials;
/// use oss_blocking::signer::{SigningContext, DEFAULT_PRODUCT};
///
/// let credentials = Credentials::new("ak", "sk");
/// let additional = vec!["host".to_string()];
/// let ctx = SigningContext::new(&credentials, "cn-hangzhou", SystemTime::now());
/// assert_eq!(ctx.product, DEFAULT_PRODUCT);
/// assert!(ctx.additional_headers.is_empty());
///
/// let cloudbox = ctx.product("oss-cloudbox").additional_headers(&additional);
/// assert_eq!(cloudbox.product, "oss-cloudbox");
/// assert_eq!(cloudbox.additional_headers, ["host"]);
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct SigningContext<'a> {
    /// The key pair and optional STS token.
    pub credentials: &'a Credentials,
    /// Region id without the `oss-` prefix, e.g. `cn-hangzhou`.
    pub region: &'a str,
    /// The product in the scope: [`DEFAULT_PRODUCT`] unless set with
    /// [`SigningContext::product`].
    pub product: &'a str,
    /// The signing time; the caller reads the clock (and applies any skew correction).
    pub time: SystemTime,
    /// Extra header names to sign besides the default ones; see [`additional_signed_headers`].
    /// Empty unless set with [`SigningContext::additional_headers`].
    pub additional_headers: &'a [String],
}

impl<'a> SigningContext<'a> {
    /// A context for `credentials` in `region` (without the `oss-` prefix) at `time`, with the
    /// product [`DEFAULT_PRODUCT`] and no additional signed headers.
    pub fn new(credentials: &'a Credentials, region: &'a str, time: SystemTime) -> Self {
        SigningContext {
            credentials,
            region,
            product: DEFAULT_PRODUCT,
            time,
            additional_headers: &[],
        }
    }

    /// The product named in the scope, e.g. `oss-cloudbox` for CloudBox.
    #[must_use]
    pub fn product(mut self, product: &'a str) -> Self {
        self.product = product;
        self
    }

    /// Header names to sign besides `x-oss-*`, `Content-Type` and `Content-MD5`; which of them
    /// are actually signed is decided per request by [`additional_signed_headers`].
    #[must_use]
    pub fn additional_headers(mut self, names: &'a [String]) -> Self {
        self.additional_headers = names;
        self
    }
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
///
/// Its only caller passes `secs / 86_400` for a `u64` of seconds, so `days` < 2^48: `z` cannot
/// overflow, every subtraction takes away a part of what it subtracts from (the ranges are noted
/// line by line) and `era * 400` < 2^40. The arithmetic lint cannot see those bounds, and
/// `checked_*` on each of its steps would bury the published algorithm.
#[expect(
    clippy::arithmetic_side_effects,
    reason = "bounded as the comment above shows: days < 2^48"
)]
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

/// The inverse of [`civil_from_days`]; `None` before 1970-01-01, or for a month outside
/// 1-12 or a day 0. It reads what a client sent, so every step is checked.
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    // Years start on March 1st: January and February are months 10 and 11 of the year before.
    let (y, mp) = if month <= 2 {
        (year.checked_sub(1)?, month.checked_add(9)?)
    } else {
        (year, month.checked_sub(3)?)
    };
    let era = y / 400;
    let yoe = y % 400; // year of era, [0, 399]
    let doy = (mp.checked_mul(153)?.checked_add(2)? / 5).checked_add(day.checked_sub(1)?)?;
    let doe = yoe
        .checked_mul(365)?
        .checked_add(yoe / 4)?
        .checked_sub(yoe / 100)?
        .checked_add(doy)?;
    era.checked_mul(146_097)?
        .checked_add(doe)?
        .checked_sub(719_468)
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
    // Cannot fail: a clamped time is at most 9999-12-31, which every platform's SystemTime holds.
    let clamped = UNIX_EPOCH
        .checked_add(Duration::from_secs(clamped_secs(t)))
        .unwrap_or(UNIX_EPOCH);
    httpdate::fmt_http_date(clamped)
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
    let secs = days
        .checked_mul(SECS_PER_DAY)?
        .checked_add(hour.checked_mul(3600)?)?
        .checked_add(minute.checked_mul(60)?)?
        .checked_add(second)?;
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

/// Appends `k=<v percent-encoded>` to a query, with a `&` when it is not empty.
fn push_query_param(query: &mut String, k: &str, v: &str) {
    if !query.is_empty() {
        query.push('&');
    }
    query.push_str(k);
    query.push('=');
    query.push_str(&escape_query_component(v));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(t: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(t)
    }

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
    }
}

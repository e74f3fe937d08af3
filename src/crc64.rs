//! CRC-64/XZ, the checksum OSS returns in `x-oss-hash-crc64ecma`.
//!
//! OSS computes this CRC over every object it stores. The client computes the same value
//! while streaming the body, so it can detect corruption in transit. For multipart uploads,
//! [`combine`] folds per-part CRCs into the CRC of the whole object without re-reading data.
//!
//! Parameters (CRC-64/XZ, as OSS computes `x-oss-hash-crc64ecma`): ECMA-182 polynomial,
//! reflected, init and xorout all ones, so the check value is `0x995DC9BBDF1939FA` and the empty input gives `0`. The header
//! carries the value as an unsigned decimal string (`value.to_string()`).
//!
//! Two engines compute the same function. Where the CPU has carry-less multiplication
//! (x86/x86_64 PCLMULQDQ + SSE4.1, aarch64 PMULL + NEON, detected at run time) a SIMD folding
//! engine runs; everywhere else, and as the reference the fast engine is tested against, the
//! `crc` crate's 16-way slicing table does. Hashing on the sending thread with the table alone
//! would slow a loopback upload down, so the fast engine is the default and
//! [`Crc64::portable`] keeps the table within reach.
//!
//! Which SIMD engine a build uses:
//! - by default, `crc64fast` (PCLMULQDQ/PMULL, eight 16-byte lanes, 128 bytes per step):
//!   several times faster than the table and no dependencies of its own, which keeps the
//!   crate's dependency tree small;
//! - with the `crc-fast` cargo feature, `crc-fast` (which also uses AVX-512 VPCLMULQDQ where
//!   present): 51-68 GB/s in cache against `crc64fast`'s 19-23, so 256 MiB loopback uploads
//!   run up to ~1.25x faster, at the cost of seven more packages (crc-fast, the digest family,
//!   spin, rustversion). The feature exists for users on links fast enough that the CRC shows
//!   up in their measurements (the README's Performance section has the figures).
//!
//! The values are the same whichever engine runs; only [`Crc64`]'s speed differs.

use std::fmt;

use crc::{Crc, Digest, Table, CRC_64_XZ};

/// The SIMD engine of this build (see the module docs): `crc64fast` by default.
#[cfg(not(feature = "crc-fast"))]
mod simd {
    pub(super) type Digest = crc64fast::Digest;
    pub(super) fn new() -> Digest {
        Digest::new()
    }
    pub(super) fn update(digest: &mut Digest, bytes: &[u8]) {
        digest.write(bytes);
    }
    pub(super) fn value(digest: &Digest) -> u64 {
        digest.sum64()
    }
}

/// The SIMD engine of this build (see the module docs): `crc-fast`, by the feature of that name.
#[cfg(feature = "crc-fast")]
mod simd {
    pub(super) type Digest = crc_fast::Digest;
    pub(super) fn new() -> Digest {
        Digest::new(crc_fast::CrcAlgorithm::Crc64Xz)
    }
    pub(super) fn update(digest: &mut Digest, bytes: &[u8]) {
        digest.update(bytes);
    }
    pub(super) fn value(digest: &Digest) -> u64 {
        digest.finalize()
    }
}

/// The portable engine. Its 16-way slicing table (32 KiB) is built at compile time, so no
/// allocation or lazy initialisation happens at run time.
static CRC64_XZ: Crc<u64, Table<16>> = Crc::<u64, Table<16>>::new(&CRC_64_XZ);

/// True when this CPU has the carry-less multiply instructions the fast engine needs, so
/// [`Crc64::new`] picks it. The standard library caches the CPUID answer, so calling this per
/// digest is cheap. Either way the values are the same; only the speed differs.
///
/// ```
/// use oss_blocking::crc64::{checksum, is_accelerated};
/// println!("fast CRC-64 engine: {}", is_accelerated());
/// assert_eq!(checksum(b"123456789"), 0x995D_C9BB_DF19_39FA);
/// ```
pub fn is_accelerated() -> bool {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        std::arch::is_x86_feature_detected!("pclmulqdq")
            && std::arch::is_x86_feature_detected!("sse2")
            && std::arch::is_x86_feature_detected!("sse4.1")
    }
    #[cfg(target_arch = "aarch64")]
    {
        std::arch::is_aarch64_feature_detected!("pmull")
            && std::arch::is_aarch64_feature_detected!("neon")
    }
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

/// Streaming CRC-64/XZ (the `x-oss-hash-crc64ecma` algorithm).
///
/// The body is usually sent in chunks, so the CRC is fed the same chunks as they go out
/// instead of buffering the whole object. It is cheap to create and `Clone`. A clone
/// snapshots the state, which lets a caller branch off a partial CRC.
///
/// ```
/// use oss_blocking::crc64::{checksum, Crc64};
/// let mut crc = Crc64::new();
/// crc.update(b"12345");
/// crc.update(b"6789");
/// assert_eq!(crc.value(), 0x995D_C9BB_DF19_39FA);
/// assert_eq!(crc.value(), checksum(b"123456789"));
/// ```
#[derive(Clone)]
pub struct Crc64 {
    engine: Engine,
}

// crc-fast's digest carries its algorithm parameters (about 300 bytes). There is one per
// upload attempt, so the size does not matter, and boxing it would cost an allocation each.
#[cfg_attr(feature = "crc-fast", allow(clippy::large_enum_variant))]
#[derive(Clone)]
enum Engine {
    /// Carry-less multiply folding (`crc64fast`, or `crc-fast` with that feature), chosen
    /// only when [`is_accelerated`] (both crates make the same run-time check and would fall
    /// back to their own table).
    Fast(simd::Digest),
    /// The `crc` crate's slicing-by-16 table: portable, and the reference in tests.
    Table(Digest<'static, u64, Table<16>>),
}

impl Crc64 {
    /// A CRC of nothing yet (its [`value`](Self::value) is `0`), ready for [`update`](Self::update).
    /// It uses the fastest engine this CPU supports.
    ///
    /// ```
    /// assert_eq!(oss_blocking::crc64::Crc64::new().value(), 0);
    /// ```
    pub fn new() -> Self {
        if is_accelerated() {
            Crc64 {
                engine: Engine::Fast(simd::new()),
            }
        } else {
            Crc64::portable()
        }
    }

    /// A CRC that always uses the portable table engine, whatever the CPU. It gives the same
    /// values as [`new`](Self::new), several times slower on CPUs with carry-less multiply;
    /// it exists to check and measure the fast engine against.
    ///
    /// ```
    /// use oss_blocking::crc64::Crc64;
    /// let mut table = Crc64::portable();
    /// table.update(b"123456789");
    /// assert_eq!(table.value(), 0x995D_C9BB_DF19_39FA);
    /// assert!(!table.is_fast());
    /// ```
    pub fn portable() -> Self {
        Crc64 {
            engine: Engine::Table(CRC64_XZ.digest()),
        }
    }

    /// True when this digest runs on the carry-less multiply engine (see [`is_accelerated`]).
    ///
    /// ```
    /// use oss_blocking::crc64::{is_accelerated, Crc64};
    /// assert_eq!(Crc64::new().is_fast(), is_accelerated());
    /// ```
    pub fn is_fast(&self) -> bool {
        matches!(self.engine, Engine::Fast(_))
    }

    /// Feeds the next bytes of the stream. Calling it with the pieces of a buffer in order
    /// gives the same result as one call with the whole buffer.
    ///
    /// ```
    /// let mut crc = oss_blocking::crc64::Crc64::new();
    /// crc.update(b"hello ");
    /// crc.update(b"");
    /// crc.update(b"world");
    /// assert_eq!(crc.value(), 5981764153023615706);
    /// ```
    pub fn update(&mut self, bytes: &[u8]) {
        match &mut self.engine {
            Engine::Fast(digest) => simd::update(digest, bytes),
            Engine::Table(digest) => digest.update(bytes),
        }
    }

    /// The CRC of every byte fed so far. It does not consume or change the state, so it can be
    /// read mid-stream (for example to log progress) and updating can carry on afterwards.
    ///
    /// ```
    /// let mut crc = oss_blocking::crc64::Crc64::new();
    /// crc.update(b"abc");
    /// let partial = crc.value();
    /// crc.update(b"def");
    /// assert_eq!(partial, oss_blocking::crc64::checksum(b"abc"));
    /// assert_eq!(crc.value(), oss_blocking::crc64::checksum(b"abcdef"));
    /// ```
    pub fn value(&self) -> u64 {
        match &self.engine {
            Engine::Fast(digest) => simd::value(digest),
            Engine::Table(digest) => digest.clone().finalize(),
        }
    }

    /// Starts again from the empty input, on the same engine. A retried PUT re-sends the body
    /// from the start, so its CRC has to start from the beginning too.
    ///
    /// ```
    /// let mut crc = oss_blocking::crc64::Crc64::new();
    /// crc.update(b"first attempt, partly sent");
    /// crc.reset();
    /// assert_eq!(crc.value(), 0);
    /// ```
    pub fn reset(&mut self) {
        self.engine = match self.engine {
            Engine::Fast(_) => Engine::Fast(simd::new()),
            Engine::Table(_) => Engine::Table(CRC64_XZ.digest()),
        };
    }
}

impl Default for Crc64 {
    /// Same as [`Crc64::new`], so the type can be used in `#[derive(Default)]` structs.
    fn default() -> Self {
        Crc64::new()
    }
}

impl fmt::Debug for Crc64 {
    /// Shows the current value. Neither engine's state has a `Debug`, and the value is what a
    /// reader wants anyway.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Crc64")
            .field("value", &self.value())
            .finish()
    }
}

/// One-shot CRC-64/XZ of a buffer that is already in memory.
///
/// ```
/// use oss_blocking::crc64::checksum;
/// assert_eq!(checksum(b"123456789"), 0x995D_C9BB_DF19_39FA);
/// assert_eq!(checksum(b""), 0);
/// // The x-oss-hash-crc64ecma header carries the value as an unsigned decimal string.
/// assert_eq!(checksum(b"hello world").to_string(), "5981764153023615706");
/// ```
pub fn checksum(bytes: &[u8]) -> u64 {
    let mut crc = Crc64::new();
    crc.update(bytes);
    crc.value()
}

/// The reflected ECMA-182 polynomial without its x^64 term: bit 63 holds the coefficient of
/// x^0, bit 0 that of x^63.
const POLY_REFLECTED: u64 = 0xC96C_5795_D787_0F42;

/// `a × b` modulo the polynomial, both in the reflected order of [`POLY_REFLECTED`]: `b × x^i`
/// is added for each term `x^i` of `a`, `b × x` being one shift towards x^63 and a reduction
/// by the polynomial when a term reaches x^64.
fn mul_mod_poly(a: u64, b: u64) -> u64 {
    let (mut a, mut b, mut product) = (a, b, 0u64);
    while a != 0 {
        if a & (1 << 63) != 0 {
            product ^= b;
        }
        a <<= 1;
        b = if b & 1 != 0 {
            (b >> 1) ^ POLY_REFLECTED
        } else {
            b >> 1
        };
    }
    product
}

/// The CRC of `A‖B`, from `crc1` = CRC of A, `crc2` = CRC of B and `len2` = length of B in
/// bytes.
///
/// A multipart upload gets one CRC per part back from OSS. Combining them in part order gives
/// the CRC of the whole object, which is then checked against the CompleteMultipartUpload
/// response without reading the data again. This is zlib's `crc32_combine` widened to 64
/// bits, the same value as the Go SDK's `CRC64Combine`: `crc1` times `x^(8 × len2)` modulo
/// the polynomial, plus `crc2`. The power is built by squaring `x^8` once per bit of `len2`,
/// so it takes O(log len2) multiplications of 64-bit polynomials (about a microsecond for a
/// 16 MiB part; zlib's older GF(2)-matrix form, which squares a 64×64 matrix per bit, took
/// some 350 µs) and never fails.
///
/// ```
/// use oss_blocking::crc64::{checksum, combine};
/// let whole = combine(checksum(b"12345"), checksum(b"6789"), 4);
/// assert_eq!(whole, checksum(b"123456789"));
/// // Folding parts into an accumulator that starts at 0 (the CRC of nothing) works too.
/// let acc = combine(0, checksum(b"12345"), 5);
/// assert_eq!(combine(acc, checksum(b"6789"), 4), whole);
/// // An empty B leaves A's CRC unchanged.
/// assert_eq!(combine(checksum(b"abc"), 0, 0), checksum(b"abc"));
/// ```
pub fn combine(crc1: u64, crc2: u64, len2: u64) -> u64 {
    if len2 == 0 {
        return crc1;
    }
    // crc1 × x^(8 × len2): for each set bit k of len2, one factor x^(8 × 2^k).
    let mut power = 1u64 << (63 - 8); // x^8, one zero byte
    let mut crc1 = crc1;
    let mut len2 = len2;
    loop {
        if len2 & 1 != 0 {
            crc1 = mul_mod_poly(power, crc1);
        }
        len2 >>= 1;
        if len2 == 0 {
            break;
        }
        power = mul_mod_poly(power, power);
    }
    crc1 ^ crc2
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTORS: &str = include_str!("../tests/data/vectors-public.json");

    fn vectors() -> serde_json::Value {
        serde_json::from_str(VECTORS).unwrap()
    }

    /// The reference vectors' generated input: byte i = i % 251.
    fn pattern_251(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8).collect()
    }

    fn parse_u64(v: &serde_json::Value) -> u64 {
        v.as_str().unwrap().parse().unwrap()
    }

    /// Small deterministic PRNG (xorshift64*) so the random-split tests need no dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn all_crc64_case_vectors() {
        let v = vectors();
        let cases = v["crc64"]["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 4);
        for case in cases {
            let id = case["id"].as_str().unwrap();
            let input = &case["input"];
            let data = if let Some(s) = input["ascii"].as_str() {
                s.as_bytes().to_vec()
            } else {
                assert_eq!(input["pattern"], "i%251", "{id}: unknown pattern");
                pattern_251(input["n"].as_u64().unwrap() as usize)
            };
            assert_eq!(data.len() as u64, case["length"].as_u64().unwrap(), "{id}");
            let want = parse_u64(&case["crc64_u64_decimal"]);
            let hex = case["crc64_hex"].as_str().unwrap();
            assert_eq!(
                format!("0x{want:016X}"),
                hex,
                "{id}: vector disagrees with itself"
            );

            assert_eq!(checksum(&data), want, "{id}: one-shot");
            for (engine, mut s) in [("new", Crc64::new()), ("portable", Crc64::portable())] {
                for chunk in data.chunks(32 * 1024) {
                    s.update(chunk);
                }
                assert_eq!(s.value(), want, "{id}: {engine}, streamed in 32 KiB chunks");
                assert_eq!(s.value().to_string(), case["crc64_u64_decimal"], "{id}");
            }
        }
    }

    #[test]
    fn all_combine_vectors() {
        let v = vectors();
        let cases = v["crc64"]["combine"].as_array().unwrap();
        assert_eq!(cases.len(), 3);
        let big = pattern_251(1 << 20);
        for case in cases {
            let id = case["id"].as_str().unwrap();
            let len_a = case["len_a"].as_u64().unwrap() as usize;
            let len_b = case["len_b"].as_u64().unwrap() as usize;
            let (a, b) = match (case["a"]["ascii"].as_str(), case["b"]["ascii"].as_str()) {
                (Some(a), Some(b)) => (a.as_bytes().to_vec(), b.as_bytes().to_vec()),
                _ => {
                    // "i%251 over 1MiB, bytes [0,600000)" and "[600000,1048576)".
                    assert_eq!(len_a + len_b, big.len(), "{id}");
                    (big[..len_a].to_vec(), big[len_a..].to_vec())
                }
            };
            assert_eq!((a.len(), b.len()), (len_a, len_b), "{id}");
            let crc_a = parse_u64(&case["crc_a"]);
            let crc_b = parse_u64(&case["crc_b"]);
            assert_eq!(checksum(&a), crc_a, "{id}: crc_a");
            assert_eq!(checksum(&b), crc_b, "{id}: crc_b");
            let want = parse_u64(&case["combined"]);
            assert_eq!(combine(crc_a, crc_b, len_b as u64), want, "{id}");
            assert_eq!(checksum(&[a, b].concat()), want, "{id}: whole");
        }
    }

    #[test]
    fn streaming_split_at_every_point_equals_one_shot() {
        let data = pattern_251(600);
        let want = checksum(&data);
        for split in 0..=data.len() {
            let mut s = Crc64::new();
            s.update(&data[..split]);
            s.update(&data[split..]);
            assert_eq!(s.value(), want, "split at {split}");
        }
        for chunk in 1..=64 {
            let mut s = Crc64::default();
            data.chunks(chunk).for_each(|c| s.update(c));
            assert_eq!(s.value(), want, "chunk size {chunk}");
        }
    }

    #[test]
    fn streaming_random_pieces_equal_one_shot() {
        let data = pattern_251(1 << 20);
        let want = checksum(&data);
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..8 {
            let mut s = Crc64::new();
            let mut rest = &data[..];
            while !rest.is_empty() {
                let n = 1 + rng.below(rest.len().min(70_000));
                s.update(&rest[..n]);
                rest = &rest[n..];
            }
            assert_eq!(s.value(), want);
        }
    }

    /// Random bytes (not the 251 pattern, whose period could hide a folding bug).
    fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
        let mut rng = Rng(seed);
        let mut out = Vec::with_capacity(n + 8);
        while out.len() < n {
            out.extend_from_slice(&rng.next().to_le_bytes());
        }
        out.truncate(n);
        out
    }

    fn table(bytes: &[u8]) -> u64 {
        let mut s = Crc64::portable();
        s.update(bytes);
        s.value()
    }

    #[test]
    fn the_engine_follows_the_cpu_and_portable_is_the_table() {
        assert_eq!(Crc64::new().is_fast(), is_accelerated());
        assert!(!Crc64::portable().is_fast());
        // A reset keeps the engine it had.
        let mut p = Crc64::portable();
        p.update(b"abc");
        p.reset();
        assert!(!p.is_fast());
        assert_eq!(p.value(), 0);
        // The table engine is the `crc` crate's CRC-64/XZ with its check value.
        assert_eq!(table(b"123456789"), 0x995D_C9BB_DF19_39FA);
        assert_eq!(CRC64_XZ.checksum(b"123456789"), 0x995D_C9BB_DF19_39FA);
    }

    #[test]
    fn fast_engine_equals_table_on_random_data_of_every_small_length() {
        // Every length up to 1 KiB covers the fast engine's tails (it folds 128 bytes at a
        // time and finishes the rest with its own table) and the empty input.
        let data = random_bytes(1024 + 300, 7);
        for len in 0..=1024 {
            let bytes = &data[300 - len % 300..][..len];
            assert_eq!(checksum(bytes), table(bytes), "length {len}");
            // Unaligned starts, too.
            assert_eq!(
                checksum(&data[1..=len]),
                table(&data[1..=len]),
                "length {len}+1"
            );
        }
    }

    #[test]
    fn fast_engine_equals_table_around_its_block_sizes() {
        // crc64fast hashes the bytes before the first 16-byte-aligned address and after the
        // last whole 128-byte block with its table and folds 128 bytes at a time between;
        // crc-fast switches strategy at powers of two (16-byte lanes, 64/128/256-byte folds,
        // AVX-512 blocks). Check each side of the powers of two, at starts with every kind of
        // misalignment.
        let data = random_bytes((1 << 17) + 128, 0xB10C);
        for power in 4..=17 {
            for len in [(1usize << power) - 1, 1 << power, (1 << power) + 1] {
                for start in [0, 1, 7, 8, 15, 31, 63] {
                    let bytes = &data[start..start + len];
                    assert_eq!(checksum(bytes), table(bytes), "length {len} at {start}");
                }
            }
        }
    }

    #[test]
    fn fast_engine_equals_table_at_many_split_points() {
        let data = random_bytes(1 << 20, 0xC0FF_EE00_D15E_A5E5);
        let want = table(&data);
        assert_eq!(checksum(&data), want, "one-shot over 1 MiB");
        let mut rng = Rng(99);
        for round in 0..100 {
            // Two-way splits anywhere, with the fast engine streaming and the table as oracle.
            let split = rng.below(data.len() + 1);
            let (a, b) = data.split_at(split);
            let mut fast = Crc64::new();
            fast.update(a);
            assert_eq!(fast.value(), table(a), "round {round}: prefix of {split}");
            fast.update(b);
            assert_eq!(fast.value(), want, "round {round}: split at {split}");
        }
        // Many small and odd pieces in one stream.
        let mut fast = Crc64::new();
        let mut slow = Crc64::portable();
        let mut rest = &data[..];
        while !rest.is_empty() {
            let cap = if rng.below(2) == 0 { 17 } else { 200_000 };
            let n = 1 + rng.below(rest.len().min(cap));
            fast.update(&rest[..n]);
            slow.update(&rest[..n]);
            assert_eq!(fast.value(), slow.value());
            rest = &rest[n..];
        }
        assert_eq!(fast.value(), want);
    }

    #[test]
    fn value_does_not_consume_and_reset_restarts() {
        let mut s = Crc64::new();
        s.update(b"1234");
        let partial = s.value();
        assert_eq!(partial, s.value(), "reading twice gives the same value");
        let snapshot = s.clone();
        s.update(b"56789");
        assert_eq!(s.value(), 0x995D_C9BB_DF19_39FA);
        assert_eq!(
            snapshot.value(),
            partial,
            "a clone is an independent snapshot"
        );
        s.reset();
        assert_eq!(s.value(), 0);
        s.update(b"123456789");
        assert_eq!(s.value(), 0x995D_C9BB_DF19_39FA);
        assert_eq!(format!("{s:?}"), "Crc64 { value: 11051210869376104954 }");
    }

    #[test]
    fn combine_random_splits_equals_whole() {
        let data = pattern_251(300_000);
        let want = checksum(&data);
        let mut rng = Rng(42);
        for _ in 0..50 {
            let split = rng.below(data.len() + 1);
            let (a, b) = data.split_at(split);
            assert_eq!(
                combine(checksum(a), checksum(b), b.len() as u64),
                want,
                "split at {split}"
            );
        }
        // Several parts folded in order from 0, as the multipart uploader does.
        let mut acc = 0;
        let mut rest = &data[..];
        while !rest.is_empty() {
            let n = 1 + rng.below(rest.len().min(50_000));
            acc = combine(acc, checksum(&rest[..n]), n as u64);
            rest = &rest[n..];
        }
        assert_eq!(acc, want);
    }

    #[test]
    fn combine_small_lengths_and_edges() {
        let data = pattern_251(300);
        for split in 0..=data.len() {
            let (a, b) = data.split_at(split);
            assert_eq!(
                combine(checksum(a), checksum(b), b.len() as u64),
                checksum(&data),
                "split at {split}"
            );
        }
        // len2 = 0 returns crc1 whatever crc2 is.
        assert_eq!(combine(12345, 0, 0), 12345);
        assert_eq!(combine(12345, 999, 0), 12345);
        // Empty A (CRC 0) leaves B's CRC.
        assert_eq!(combine(0, checksum(b"xyz"), 3), checksum(b"xyz"));
        // Huge lengths must not panic or loop forever.
        let _ = combine(u64::MAX, u64::MAX, u64::MAX);
        let _ = combine(1, 2, 1 << 63);
    }

    #[test]
    fn combine_keeps_its_values_for_large_lengths() {
        // Folds pinned from the GF(2)-matrix implementation this one replaced: 640 parts of
        // 16 MiB, then 640 lengths at and above 2^63.
        let mut acc = 0u64;
        for i in 0..640u64 {
            acc = combine(acc, i.wrapping_mul(0x9E37_79B9_7F4A_7C15), 16 << 20);
        }
        assert_eq!(acc, 0xE514_BE4A_2CB9_D018);
        for i in 0..640u64 {
            acc = combine(acc, i, 1 << 63 | i);
        }
        assert_eq!(acc, 0x46C0_5244_7BBB_A814);
        // Grouping does not matter: (A‖B)‖C = A‖(B‖C), for lengths up to 2^62.
        let mut rng = Rng(0x5EED);
        for _ in 0..200 {
            let (a, b, c) = (rng.next(), rng.next(), rng.next());
            let (n, m) = (rng.next() >> 2, rng.next() >> 2);
            assert_eq!(
                combine(combine(a, b, n), c, m),
                combine(a, combine(b, c, m), n + m),
                "lengths {n} {m}"
            );
        }
    }
}

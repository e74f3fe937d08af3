//! How fast is an upload? One run, side by side, against one local sink server.
//!
//!     cargo run --release --example bench            # the full run (1 GiB files, 5 runs each)
//!     cargo run --release --example bench -- --quick # 64 MiB only, 3 runs, fewer small puts
//!
//! Options: `--size-mib N` (repeatable: the file sizes), `--runs N`, `--sections 1,3` (which
//! of the sections below to run), `--no-python`.
//!
//! The sink is an HTTP/1.1 keep-alive server in this process (a thread per connection) that
//! reads and discards the body in large chunks and answers like OSS: a request id, an ETag and
//! the CRC-64 of what it received in `x-oss-hash-crc64ecma`, so the client's CRC check really
//! runs on every upload. It counts the TCP connections it accepts.
//!
//! Measured, in this order:
//! 1. large uploads from a file of random data: this crate's `put_object_from_file` against
//!    `curl -s -T FILE URL` (runs interleaved; curl is skipped with a note if it is missing);
//! 2. peak memory (`VmHWM`) and allocations of a child process (this binary re-executed)
//!    that does one upload, for each file size;
//! 3. 1 KiB puts in a row on one client, then from 8 threads sharing one client, with the
//!    number of connections the sink saw;
//! 4. the CRC-64 alone over a 1 GiB buffer (fast engine, portable table engine), next to a
//!    plain read and a `memcpy` of the same buffer;
//! 5. the official Python SDK (`alibabacloud-oss-v2`) against the same sink, when `python3`
//!    can import it (it is never installed by this program);
//! 6. `Uploader::upload_file` at parallel 1, 2, 4 and 8 against one PutObject and `curl -T`,
//!    on the plain sink and on one limited to 40 MB/s per connection (a distant region),
//!    the Python SDK's uploader, and the peak RSS of `upload_file` and `upload_from` at
//!    parallel 8 with 64 MiB parts (see `bench_uploader/mod.rs`).
//!
//! The sink also answers the multipart operations (Initiate, UploadPart, Complete with the
//! combined CRC-64, Abort), and can pace each connection's reads to a byte rate.
//!
//! Ratios are what to read: the machine is shared and absolute figures move between runs.
#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not examples

#[path = "bench_uploader/mod.rs"]
mod bench_uploader;

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::error::Error;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oss::crc64::Crc64;
use oss::credentials::StaticCredentialsProvider;
use oss::{Client, Config, PutObjectRequest};
use oss_blocking as oss;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const MIB: u64 = 1 << 20;
const BUCKET: &str = "bench-bucket";

// ---------------------------------------------------------------------------------------------
// Allocation counting (for the child's "allocations per upload").

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        ALLOC_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        ALLOC_BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

// ---------------------------------------------------------------------------------------------
// The sink server.

struct Sink {
    port: u16,
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
}

/// A part the sink received: number, CRC-64, length.
type SinkPart = (u32, u64, u64);

/// What a sink's connections share: the request counter, each open multipart upload's parts
/// (number, CRC-64, length), and the per-connection byte rate, if limited.
struct SinkState {
    requests: Arc<AtomicUsize>,
    uploads: Mutex<HashMap<String, Vec<SinkPart>>>,
    next_upload: AtomicU64,
    rate: Option<u64>,
}

impl Sink {
    fn start() -> Result<Sink> {
        Sink::start_limited(None)
    }

    /// A sink whose connections each read at most `rate` bytes per second, when given.
    fn start_limited(rate: Option<u64>) -> Result<Sink> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let state = Arc::new(SinkState {
            requests: requests.clone(),
            uploads: Mutex::new(HashMap::new()),
            next_upload: AtomicU64::new(0),
            rate,
        });
        let c = connections.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                c.fetch_add(1, Ordering::Relaxed);
                let state = state.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &state);
                });
            }
        });
        Ok(Sink {
            port,
            connections,
            requests,
        })
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One connection: requests with a `Content-Length` body, one after another (keep-alive).
fn serve(mut stream: TcpStream, state: &SinkState) -> std::io::Result<()> {
    let requests = &state.requests;
    stream.set_nodelay(true)?;
    let mut buf = vec![0u8; 512 * 1024];
    let mut have = 0usize; // bytes of the next request already in buf[..have]
    loop {
        let head_end = loop {
            if let Some(p) = find(&buf[..have], b"\r\n\r\n") {
                break p + 4;
            }
            if have == buf.len() {
                return Err(std::io::Error::other("request head too large"));
            }
            let n = stream.read(&mut buf[have..])?;
            if n == 0 {
                return Ok(());
            }
            have += n;
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut request_line = head.split_whitespace();
        let method = request_line.next().unwrap_or("").to_string();
        let target = request_line.next().unwrap_or("").to_string();
        let query = target.split_once('?').map_or("", |(_, q)| q).to_string();
        let mut length = 0usize;
        let mut expect_continue = false;
        let mut close = false;
        for line in head.split("\r\n").skip(1) {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
            match name.as_str() {
                "content-length" => length = value.parse().unwrap_or(0),
                "expect" => expect_continue = value.eq_ignore_ascii_case("100-continue"),
                "connection" => close = value.eq_ignore_ascii_case("close"),
                "transfer-encoding" => {
                    stream.write_all(
                        b"HTTP/1.1 411 Length Required\r\nContent-Length: 0\r\n\
                          Connection: close\r\n\r\n",
                    )?;
                    return Ok(());
                }
                _ => {}
            }
        }
        if expect_continue {
            stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        let mut crc = Crc64::new();
        let buffered = (have - head_end).min(length);
        crc.update(&buf[head_end..head_end + buffered]);
        buf.copy_within(head_end + buffered..have, 0);
        have -= head_end + buffered;
        let mut remaining = length - buffered;
        let started = Instant::now();
        while remaining > 0 {
            let want = remaining.min(buf.len());
            let n = stream.read(&mut buf[..want])?;
            if n == 0 {
                return Ok(());
            }
            crc.update(&buf[..n]);
            remaining -= n;
            if let Some(rate) = state.rate {
                // Pace the reads: a slow reader is what a long, thin link looks like to TCP.
                let due = Duration::from_secs_f64((length - remaining) as f64 / rate as f64);
                if let Some(wait) = due.checked_sub(started.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
        }
        let id = requests.fetch_add(1, Ordering::Relaxed) + 1;
        let crc = crc.value();
        let (status, extra, body) = multipart_answer(state, &method, &query, crc, length as u64);
        let response = format!(
            "HTTP/1.1 {status}\r\nServer: AliyunOSS\r\nDate: {}\r\nContent-Length: {}\r\n\
             Connection: {}\r\nx-oss-request-id: 6551DBCF{id:016X}\r\n{extra}\r\n{body}",
            httpdate::fmt_http_date(std::time::SystemTime::now()),
            body.len(),
            if close { "close" } else { "keep-alive" },
        );
        stream.write_all(response.as_bytes())?;
        if close {
            return Ok(());
        }
    }
}

/// The status line, extra headers and body for a request: the multipart operations by their
/// query, every other PUT as a PutObject (the ETag is CRC and length, not an MD5).
fn multipart_answer(
    state: &SinkState,
    method: &str,
    query: &str,
    crc: u64,
    length: u64,
) -> (&'static str, String, String) {
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|p| p.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
            .map(str::to_string)
    };
    let stored = format!("ETag: \"{crc:016X}{length:016X}\"\r\nx-oss-hash-crc64ecma: {crc}\r\n");
    let xml = "Content-Type: application/xml\r\n".to_string();
    match (
        method,
        param("uploadId"),
        query.split('&').any(|p| p.starts_with("uploads")),
    ) {
        ("POST", None, true) => {
            let id = format!(
                "{:032X}",
                state.next_upload.fetch_add(1, Ordering::Relaxed) + 1
            );
            state.uploads.lock().unwrap().insert(id.clone(), Vec::new());
            let body = format!(
                "<InitiateMultipartUploadResult><Bucket>{BUCKET}</Bucket><Key>k</Key>\
                 <UploadId>{id}</UploadId></InitiateMultipartUploadResult>"
            );
            ("200 OK", xml, body)
        }
        ("PUT", Some(id), _) => {
            let number = param("partNumber")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            if let Some(parts) = state.uploads.lock().unwrap().get_mut(&id) {
                parts.retain(|p| p.0 != number);
                parts.push((number, crc, length));
            }
            ("200 OK", stored, String::new())
        }
        ("POST", Some(id), _) => {
            let mut parts = state
                .uploads
                .lock()
                .unwrap()
                .remove(&id)
                .unwrap_or_default();
            parts.sort_unstable();
            let whole = parts
                .iter()
                .fold(0, |acc, &(_, c, len)| oss::crc64::combine(acc, c, len));
            let body = format!(
                "<CompleteMultipartUploadResult><Bucket>{BUCKET}</Bucket><Key>k</Key>\
                 <ETag>\"{whole:016X}-{}\"</ETag></CompleteMultipartUploadResult>",
                parts.len()
            );
            (
                "200 OK",
                format!("{xml}x-oss-hash-crc64ecma: {whole}\r\n"),
                body,
            )
        }
        ("DELETE", Some(id), _) => {
            state.uploads.lock().unwrap().remove(&id);
            ("204 No Content", String::new(), String::new())
        }
        _ => ("200 OK", stored, String::new()),
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers.

fn client_for(endpoint: &str) -> Client {
    Client::new(
        Config::load_default()
            .region("cn-hangzhou")
            .endpoint(endpoint)
            .use_path_style(true)
            .credentials_provider(StaticCredentialsProvider::new("bench-ak", "bench-sk")),
    )
}

/// xorshift64*: random bytes fast enough not to matter.
struct Rng(u64);
impl Rng {
    fn fill(&mut self, buf: &mut [u8]) {
        for word in buf.chunks_mut(8) {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let v = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
            word.copy_from_slice(&v[..word.len()]);
        }
    }
}

/// Writes `size` random bytes in 1 MiB chunks and returns their CRC-64.
fn write_random_file(path: &Path, size: u64, seed: u64) -> Result<u64> {
    let mut file = std::fs::File::create(path)?;
    let mut rng = Rng(seed | 1);
    let mut chunk = vec![0u8; MIB as usize];
    let mut crc = Crc64::new();
    let mut left = size;
    while left > 0 {
        let n = left.min(MIB) as usize;
        rng.fill(&mut chunk[..n]);
        crc.update(&chunk[..n]);
        file.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    file.sync_all()?;
    Ok(crc.value())
}

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn min_med_max(xs: &[f64]) -> (f64, f64, f64) {
    let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let max = xs.iter().copied().fold(0.0, f64::max);
    (min, median(xs), max)
}

fn mb_per_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

fn size_name(bytes: u64) -> String {
    if bytes >= 1 << 30 && bytes % (1 << 30) == 0 {
        format!("{} GiB", bytes >> 30)
    } else {
        format!("{} MiB", bytes >> 20)
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn have_command(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

// ---------------------------------------------------------------------------------------------
// The child: one upload, then its peak RSS and allocations.

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn child_upload(endpoint: &str, file: &str) -> Result<()> {
    let client = client_for(endpoint);
    // A first small put opens the connection, so the counts below are the upload's own.
    client.put_object(PutObjectRequest::new(BUCKET, "warm-up").body("x"))?;
    let (a0, b0) = (
        ALLOCS.load(Ordering::Relaxed),
        ALLOC_BYTES.load(Ordering::Relaxed),
    );
    let result = client.put_object_from_file(PutObjectRequest::new(BUCKET, "child.bin"), file)?;
    let (a1, b1) = (
        ALLOCS.load(Ordering::Relaxed),
        ALLOC_BYTES.load(Ordering::Relaxed),
    );
    if result.hash_crc64.is_none() {
        return Err("the sink sent no CRC".into());
    }
    println!("{} {} {}", vm_hwm_kib(), a1 - a0, b1 - b0);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The Python SDK, driven through a small script.

const PYTHON_SCRIPT: &str = r#"
import sys, time, alibabacloud_oss_v2 as oss
endpoint, mode, arg, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
cfg = oss.config.load_default()
cfg.credentials_provider = oss.credentials.StaticCredentialsProvider("bench-ak", "bench-sk")
cfg.region = "cn-hangzhou"
cfg.endpoint = endpoint
cfg.use_path_style = True
client = oss.Client(cfg)
if mode == "uploader":
    up = client.uploader(part_size=16 * 1024 * 1024, parallel_num=3)
    for _ in range(runs):
        t = time.perf_counter()
        up.upload_file(oss.PutObjectRequest(bucket="bench-bucket", key="py-up.bin"), filepath=arg)
        print(time.perf_counter() - t, flush=True)
elif mode == "file":
    for _ in range(runs):
        t = time.perf_counter()
        r = client.put_object_from_file(oss.PutObjectRequest(bucket="bench-bucket", key="py.bin"), arg)
        print(time.perf_counter() - t, flush=True)
else:
    data = b"x" * 1024
    client.put_object(oss.PutObjectRequest(bucket="bench-bucket", key="warm", body=data))
    t = time.perf_counter()
    for i in range(int(arg)):
        client.put_object(oss.PutObjectRequest(bucket="bench-bucket", key="small/%d" % i, body=data))
    print(time.perf_counter() - t, flush=True)
"#;

fn python(endpoint: &str, mode: &str, arg: &str, runs: usize) -> Result<Vec<f64>> {
    let out = Command::new("python3")
        .args(["-c", PYTHON_SCRIPT, endpoint, mode, arg, &runs.to_string()])
        .stderr(Stdio::inherit())
        .output()?;
    if !out.status.success() {
        return Err(format!("python3 exited with {}", out.status).into());
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect())
}

// ---------------------------------------------------------------------------------------------
// The run.

struct Settings {
    sizes: Vec<u64>,
    runs: usize,
    small_puts: usize,
    crc_buffer: u64,
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child-upload") {
        return match (args.get(2), args.get(3)) {
            (Some(endpoint), Some(file)) => child_upload(endpoint, file),
            _ => Err("usage: bench --child-upload ENDPOINT FILE".into()),
        };
    }
    if args.get(1).map(String::as_str) == Some("--child-uploader") {
        return match (args.get(2), args.get(3), args.get(4)) {
            (Some(endpoint), Some(file), Some(mode)) => bench_uploader::child(endpoint, file, mode),
            _ => Err("usage: bench --child-uploader ENDPOINT FILE file|stream".into()),
        };
    }
    if args.get(1).map(String::as_str) == Some("--sink-only") {
        // For experiments by hand: serve for a while and say where.
        let sink = Sink::start()?;
        println!("{}", sink.endpoint());
        std::thread::sleep(Duration::from_secs(300));
        return Ok(());
    }
    if cfg!(debug_assertions) {
        eprintln!("note: a debug build; run with --release for meaningful figures");
    }
    let quick = args.iter().any(|a| a == "--quick");
    let mut settings = if quick {
        Settings {
            sizes: vec![64 * MIB],
            runs: 3,
            small_puts: 500,
            crc_buffer: 256 * MIB,
        }
    } else {
        Settings {
            sizes: vec![64 * MIB, 1024 * MIB],
            runs: 5,
            small_puts: 2000,
            crc_buffer: 1024 * MIB,
        }
    };
    let mut sections = vec![1, 2, 3, 4, 6];
    let mut no_python = false;
    let mut custom_sizes = Vec::new();
    let mut rest = args.iter().skip(1);
    while let Some(arg) = rest.next() {
        let mut value = |name: &str| -> Result<String> {
            rest.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value").into())
        };
        match arg.as_str() {
            "--quick" => {}
            "--no-python" => no_python = true,
            "--size-mib" => custom_sizes.push(value("--size-mib")?.parse::<u64>()? * MIB),
            "--runs" => settings.runs = value("--runs")?.parse::<usize>()?.max(1),
            "--sections" => {
                sections = value("--sections")?
                    .split(',')
                    .map(|s| s.trim().parse())
                    .collect::<std::result::Result<_, _>>()?
            }
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    if !custom_sizes.is_empty() {
        settings.sizes = custom_sizes;
    }

    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("# oss-blocking upload benchmark");
    println!(
        "machine: {} cores, {}; CRC engine: {}; load average at start: {}",
        cores,
        cpu_model(),
        if oss::crc64::is_accelerated() {
            if cfg!(feature = "crc-fast") {
                "carry-less multiply (crc-fast, --features crc-fast)"
            } else {
                "carry-less multiply (crc64fast, default build)"
            }
        } else {
            "portable table"
        },
        loadavg()
    );

    let sink = Sink::start()?;
    let endpoint = sink.endpoint();
    let client = client_for(&endpoint);
    let have_curl = have_command("curl", &["--version"]);
    let have_python = !no_python && have_command("python3", &["-c", "import alibabacloud_oss_v2"]);
    if !have_curl {
        println!("note: curl not found, its column is skipped (apt-get install curl)");
    }
    if !have_python && !no_python {
        println!(
            "note: python3 cannot import alibabacloud_oss_v2, the Python SDK rows are skipped \
             (pip install alibabacloud-oss-v2)"
        );
    }

    let dir = TempDir(std::env::temp_dir().join(format!("oss-bench-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0)?;

    // The summary at the end: (measurement, oss-blocking, reference, ratio).
    let mut summary: Vec<[String; 4]> = Vec::new();
    let mut files = Vec::new();
    if sections.contains(&1) || sections.contains(&2) || sections.contains(&6) {
        for (i, &size) in settings.sizes.iter().enumerate() {
            let path = dir
                .0
                .join(format!("random-{}.bin", size_name(size).replace(' ', "")));
            let crc = write_random_file(&path, size, 0x9E37_79B9_7F4A_7C15 ^ i as u64)?;
            files.push((size, path, crc));
        }
    }

    // 1. Large uploads.
    if sections.contains(&1) {
        println!();
        println!(
            "## 1. Upload a file of random data (MB/s, {} runs: min / median / max)",
            settings.runs
        );
        println!();
        println!("| size | oss-blocking put_object_from_file (CRC-64 on) | curl -T (no CRC) | ratio to curl (median) | Python SDK put_object_from_file |");
        println!("| --- | --- | --- | --- | --- |");
    }
    for (size, path, crc) in files.iter().filter(|_| sections.contains(&1)) {
        let (size, crc) = (*size, *crc);
        let mut ours = Vec::new();
        let mut curl = Vec::new();
        for _ in 0..settings.runs {
            let t = Instant::now();
            let r =
                client.put_object_from_file(PutObjectRequest::new(BUCKET, "large.bin"), path)?;
            let d = t.elapsed();
            if r.hash_crc64 != Some(crc) {
                return Err(format!("CRC check: sink {:?}, file {crc}", r.hash_crc64).into());
            }
            ours.push(mb_per_s(size, d));
            if have_curl {
                let url = format!("{endpoint}/{BUCKET}/curl.bin");
                let t = Instant::now();
                let status = Command::new("curl")
                    .args(["-s", "-T"])
                    .arg(path)
                    .arg(&url)
                    .stdout(Stdio::null())
                    .status()?;
                let d = t.elapsed();
                if !status.success() {
                    return Err(format!("curl failed: {status}").into());
                }
                curl.push(mb_per_s(size, d));
            }
        }
        let (a, b, c) = min_med_max(&ours);
        let label = format!(
            "{} upload, MB/s (median of {})",
            size_name(size),
            settings.runs
        );
        let rows_before = summary.len();
        let mut python_row = None;
        let python_cell = if have_python {
            let secs = python(&endpoint, "file", &path.to_string_lossy(), settings.runs)?;
            let rates: Vec<f64> = secs.iter().map(|s| size as f64 / 1e6 / s).collect();
            let (x, y, z) = min_med_max(&rates);
            python_row = Some([
                label.clone(),
                format!("{b:.0}"),
                format!("Python SDK {y:.0}"),
                format!("{:.1} x", b / y),
            ]);
            format!("{x:.0} / **{y:.0}** / {z:.0}")
        } else {
            "skipped".into()
        };
        let (curl_cell, ratio_cell) = if have_curl {
            let (x, y, z) = min_med_max(&curl);
            summary.push([
                label.clone(),
                format!("{b:.0}"),
                format!("curl {y:.0}"),
                format!("{:.2} x", b / y),
            ]);
            (
                format!("{x:.0} / **{y:.0}** / {z:.0}"),
                format!("**{:.2}** (best run: {:.2})", b / y, c / z),
            )
        } else {
            ("skipped".into(), "-".into())
        };
        println!(
            "| {} | {a:.0} / **{b:.0}** / {c:.0} | {curl_cell} | {ratio_cell} | {python_cell} |",
            size_name(size)
        );
        summary.extend(python_row);
        if summary.len() == rows_before {
            summary.push([
                label.clone(),
                format!("{b:.0}"),
                "no curl, no Python SDK".into(),
                String::new(),
            ]);
        }
    }

    if sections.contains(&2) {
        // 2. Peak memory of a child doing one upload.
        println!();
        println!("## 2. One upload in a child process: peak RSS (VmHWM) and heap allocations during the upload");
        println!();
        println!("| file size | peak RSS | allocations | bytes allocated |");
        println!("| --- | --- | --- | --- |");
        let exe = std::env::current_exe()?;
        for (size, path, _) in &files {
            let out = Command::new(&exe)
                .arg("--child-upload")
                .arg(&endpoint)
                .arg(path)
                .stderr(Stdio::inherit())
                .output()?;
            if !out.status.success() {
                return Err(format!("child upload failed: {}", out.status).into());
            }
            let text = String::from_utf8_lossy(&out.stdout);
            let fields: Vec<u64> = text
                .split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect();
            if let [hwm, allocs, bytes] = fields[..] {
                summary.push([
                    format!(
                        "peak RSS of a one-upload process, {} file",
                        size_name(*size)
                    ),
                    format!("{:.1} MiB", hwm as f64 / 1024.0),
                    format!("{allocs} allocations, {:.0} KiB", bytes as f64 / 1024.0),
                    String::new(),
                ]);
                println!(
                    "| {} | {:.1} MiB | {allocs} | {:.0} KiB |",
                    size_name(*size),
                    hwm as f64 / 1024.0,
                    bytes as f64 / 1024.0
                );
            }
        }
    }

    if sections.contains(&3) {
        // 3. Small puts.
        println!();
        println!(
            "## 3. {} puts of 1 KiB (requests per second; new connections seen by the sink)",
            settings.small_puts
        );
        println!();
        println!("| client | requests/s | new connections |");
        println!("| --- | --- | --- |");
        let small = vec![b'x'; 1024];
        client.put_object(PutObjectRequest::new(BUCKET, "warm").body(small.clone()))?;
        let conns = sink.connections();
        let t = Instant::now();
        for i in 0..settings.small_puts {
            client.put_object(
                PutObjectRequest::new(BUCKET, format!("small/{i}")).body(small.clone()),
            )?;
        }
        let serial = settings.small_puts as f64 / t.elapsed().as_secs_f64();
        let serial_conns = sink.connections() - conns;
        println!("| oss-blocking, 1 thread | **{serial:.0}** | {serial_conns} |");
        let threads = 8;
        let per_thread = settings.small_puts / threads;
        let conns = sink.connections();
        let failed = Arc::new(AtomicBool::new(false));
        let t = Instant::now();
        let handles: Vec<_> = (0..threads)
            .map(|n| {
                let client = client.clone();
                let small = small.clone();
                let failed = failed.clone();
                std::thread::spawn(move || {
                    for i in 0..per_thread {
                        let key = format!("small/{n}/{i}");
                        if client
                            .put_object(PutObjectRequest::new(BUCKET, key).body(small.clone()))
                            .is_err()
                        {
                            failed.store(true, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            let _ = h.join();
        }
        let parallel = (per_thread * threads) as f64 / t.elapsed().as_secs_f64();
        if failed.load(Ordering::Relaxed) {
            return Err("a small put failed".into());
        }
        let parallel_conns = sink.connections() - conns;
        println!(
            "| oss-blocking, {threads} threads, one Client | **{parallel:.0}** | {parallel_conns} |"
        );
        let puts = settings.small_puts;
        let mut serial_row = [
            format!("{puts} puts of 1 KiB, 1 thread, requests/s"),
            format!("{serial:.0} ({serial_conns} new connections)"),
            String::new(),
            String::new(),
        ];
        if have_python {
            let conns = sink.connections();
            let secs = python(&endpoint, "small", &settings.small_puts.to_string(), 1)?;
            let rate = settings.small_puts as f64 / secs.first().copied().unwrap_or(f64::NAN);
            println!(
                "| Python SDK, 1 thread | **{rate:.0}** | {} (warm-up included) |",
                sink.connections() - conns
            );
            println!();
            println!(
                "oss-blocking / Python SDK, 1 thread: **{:.1} x**",
                serial / rate
            );
            serial_row[2] = format!("Python SDK {rate:.0}");
            serial_row[3] = format!("{:.1} x", serial / rate);
        }
        summary.push(serial_row);
        summary.push([
            format!("{puts} puts of 1 KiB, {threads} threads, one Client, requests/s"),
            format!("{parallel:.0} ({parallel_conns} new connections)"),
            String::new(),
            String::new(),
        ]);
    }

    if sections.contains(&6) {
        if let Some((size, path, crc)) = files.last() {
            let env = bench_uploader::Env {
                path,
                size: *size,
                crc: *crc,
                runs: settings.runs,
                have_curl,
                have_python,
            };
            bench_uploader::section(&env, &mut summary)?;
        }
    }

    if sections.contains(&4) {
        // 4. CRC-64 alone.
        println!();
        println!(
            "## 4. CRC-64 over a {} buffer in memory (GB/s, median of 5)",
            size_name(settings.crc_buffer)
        );
        println!();
        drop(files);
        let mut buf = vec![0u8; settings.crc_buffer as usize];
        Rng(12345).fill(&mut buf);
        let mut dst = vec![1u8; buf.len()];
        let gb = buf.len() as f64 / 1e9;
        let time5 = |f: &mut dyn FnMut()| {
            let xs: Vec<f64> = (0..5)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    gb / t.elapsed().as_secs_f64()
                })
                .collect();
            median(&xs)
        };
        let mut fast_value = 0;
        let fast = time5(&mut || {
            let mut c = Crc64::new();
            c.update(&buf);
            fast_value = std::hint::black_box(c.value());
        });
        let mut table_value = 0;
        let table = time5(&mut || {
            let mut c = Crc64::portable();
            c.update(&buf);
            table_value = std::hint::black_box(c.value());
        });
        if fast_value != table_value {
            return Err("the two CRC engines disagree".into());
        }
        let read = time5(&mut || {
            let mut acc = 0u64;
            for w in buf.chunks_exact(8) {
                acc = acc.wrapping_add(u64::from_le_bytes([
                    w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7],
                ]));
            }
            std::hint::black_box(acc);
        });
        let copy = time5(&mut || {
            dst.copy_from_slice(&buf);
            std::hint::black_box(&dst);
        });
        println!("| what | GB/s | ratio to memcpy |");
        println!("| --- | --- | --- |");
        println!(
            "| CRC-64, default engine ({}) | **{fast:.2}** | **{:.2}** |",
            if Crc64::new().is_fast() {
                "carry-less multiply"
            } else {
                "table"
            },
            fast / copy
        );
        println!(
            "| CRC-64, portable table engine | {table:.2} | {:.2} |",
            table / copy
        );
        println!("| memcpy (copy_from_slice) | {copy:.2} | 1.00 |");
        let name = size_name(settings.crc_buffer);
        summary.push([
            format!("CRC-64 over {name}, GB/s (default engine)"),
            format!("{fast:.2}"),
            format!("memcpy {copy:.2}"),
            format!("{:.2} x", fast / copy),
        ]);
        summary.push([
            format!("CRC-64 over {name}, GB/s (portable table)"),
            format!("{table:.2}"),
            format!("memcpy {copy:.2}"),
            format!("{:.2} x", table / copy),
        ]);
        println!(
            "| plain read (sum of u64 words) | {read:.2} | {:.2} |",
            read / copy
        );
    }

    if !summary.is_empty() {
        println!();
        println!("## Summary");
        println!();
        println!("| measurement | oss-blocking | reference | ratio |");
        println!("| --- | --- | --- | --- |");
        for [what, ours, reference, ratio] in &summary {
            println!("| {what} | {ours} | {reference} | {ratio} |");
        }
    }
    println!();
    println!(
        "sink: {} requests over {} connections; load average at end: {}",
        sink.requests(),
        sink.connections(),
        loadavg()
    );
    Ok(())
}

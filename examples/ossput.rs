//! `ossput`: upload local files to OSS from the command line, with every PutObject option.
//!
//!     cargo run --example ossput -- [OPTIONS] FILE... oss://bucket/prefix/
//!     cargo run --example ossput -- -r --part-size 64MiB --parallel 8 DIR oss://bucket/prefix/
//!     cargo run --example ossput -- --help
//!
//! A live progress bar (rate, ETA) when stderr is a terminal, plain lines otherwise; a summary
//! table at the end; exit code 1 (with the OSS error code and request id) if any upload
//! failed, 2 on a usage error. With no credentials in the environment it uploads to the
//! built-in emulator (creating the bucket there), so it can be tried without an account.
#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not examples

mod common;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use oss_blocking as oss;

const HELP: &str = "\
ossput: upload files to Alibaba Cloud OSS

Usage: ossput [OPTIONS] FILE... oss://BUCKET/PREFIX/

Each FILE is stored as PREFIX + its file name (a PREFIX that does not end in '/' is the
full key, for a single FILE). With -r, a directory is uploaded whole: each file under it as
PREFIX + its path relative to the directory, with '/' between names. Files of at least the
part size go as parallel multipart uploads; smaller ones as one PutObject.

Options:
  --acl ACL               private, public-read, public-read-write or default
  --storage-class CLASS   Standard, IA, Archive, ColdArchive or DeepColdArchive
  --content-type TYPE     Content-Type (default: guessed from the file name)
  --tag KEY=VALUE         an object tag (repeatable, at most 10)
  --meta KEY=VALUE        user metadata, x-oss-meta-KEY (repeatable)
  --sse ALGORITHM         server-side encryption: AES256, KMS or SM4
  --no-overwrite          fail instead of replacing an existing object
  --credentials SOURCE    env (the default: keys in the environment, else the emulator) or
                          chain (the default credentials chain: environment, OIDC, CLI
                          profile, INI profile, ECS RAM role, credentials URI; needs OSS_REGION)
  --part-size SIZE        multipart part size, e.g. 8MiB (suffixes KiB, MiB, GiB; default 6MiB)
  --parallel N            parts in flight at once (default 3)
  --checkpoint-dir DIR    record finished parts in DIR; running the same command again after
                          an interruption sends only the missing parts
  -r, --recursive         upload directories (their files, recursively)
  -h, --help              show this help

Credentials: OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET, with OSS_REGION (and optionally
OSS_ENDPOINT); the bucket is BUCKET, no OSS_BUCKET needed. Without credentials, ossput uploads
to a built-in local emulator.

Exit status: 0 when every file was uploaded, 1 when an upload failed, 2 on a usage error.";

#[derive(Default)]
struct Args {
    acl: Option<oss::ObjectAcl>,
    storage_class: Option<oss::StorageClass>,
    content_type: Option<String>,
    tags: oss::Tagging,
    meta: Vec<(String, String)>,
    sse: Option<oss::ServerSideEncryption>,
    no_overwrite: bool,
    /// `--credentials chain`: real OSS with the default credentials chain.
    chain: bool,
    part_size: Option<u64>,
    parallel: Option<usize>,
    checkpoint_dir: Option<PathBuf>,
    recursive: bool,
    files: Vec<PathBuf>,
    bucket: String,
    prefix: String,
}

fn key_value(flag: &str, value: &str) -> Result<(String, String), String> {
    value
        .split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("{flag} takes KEY=VALUE, got {value:?}"))
}

/// `123`, `100KiB`, `8MiB`, `1GiB` (binary units; `KB`, `MB`, `GB` mean the same here).
fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("--part-size takes a size like 8MiB, got {text:?}"))?;
    let factor: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "--part-size: unknown unit {unit:?} (use KiB, MiB or GiB)"
            ))
        }
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("--part-size {text:?} is too large"))
}

fn parse_args(args: Vec<String>) -> Result<Option<Args>, String> {
    let mut parsed = Args::default();
    let mut positional = Vec::new();
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let mut value = |flag: &str| it.next().ok_or_else(|| format!("{flag} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--acl" => {
                parsed.acl = Some(value("--acl")?.parse().map_err(|e| format!("--acl: {e}"))?)
            }
            "--storage-class" => {
                parsed.storage_class = Some(
                    value("--storage-class")?
                        .parse()
                        .map_err(|e| format!("--storage-class: {e}"))?,
                )
            }
            "--content-type" => parsed.content_type = Some(value("--content-type")?),
            "--tag" => {
                let (k, v) = key_value("--tag", &value("--tag")?)?;
                parsed.tags = std::mem::take(&mut parsed.tags).tag(k, v);
            }
            "--meta" => parsed.meta.push(key_value("--meta", &value("--meta")?)?),
            "--sse" => {
                parsed.sse = Some(value("--sse")?.parse().map_err(|e| format!("--sse: {e}"))?)
            }
            "--no-overwrite" => parsed.no_overwrite = true,
            "--credentials" => match value("--credentials")?.as_str() {
                "env" => parsed.chain = false,
                "chain" => parsed.chain = true,
                other => return Err(format!("--credentials: {other:?} is not env or chain")),
            },
            "--part-size" => parsed.part_size = Some(parse_size(&value("--part-size")?)?),
            "--parallel" => {
                let n = value("--parallel")?;
                parsed.parallel = Some(
                    n.parse()
                        .map_err(|_| format!("--parallel takes a number, got {n:?}"))?,
                )
            }
            "--checkpoint-dir" => parsed.checkpoint_dir = Some(value("--checkpoint-dir")?.into()),
            "-r" | "--recursive" => parsed.recursive = true,
            "--" => positional.extend(it.by_ref()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            _ => positional.push(arg),
        }
    }
    let destination = positional
        .pop()
        .ok_or("missing FILE... and oss://BUCKET/PREFIX/")?;
    let rest = destination.strip_prefix("oss://").ok_or_else(|| {
        format!("the last argument must be oss://BUCKET/PREFIX/, got {destination:?}")
    })?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(format!("no bucket in {destination:?}"));
    }
    if positional.is_empty() {
        return Err("no FILE to upload".to_string());
    }
    if (positional.len() > 1 || parsed.recursive) && !prefix.is_empty() && !prefix.ends_with('/') {
        return Err(format!(
            "with several files the prefix must end in '/' (got {prefix:?})"
        ));
    }
    parsed.tags.check().map_err(|e| format!("--tag: {e}"))?;
    parsed.files = positional.into_iter().map(PathBuf::from).collect();
    parsed.bucket = bucket.to_string();
    parsed.prefix = prefix.to_string();
    Ok(Some(parsed))
}

fn key_for(args: &Args, file: &std::path::Path) -> String {
    if !args.prefix.is_empty() && !args.prefix.ends_with('/') {
        return args.prefix.clone();
    }
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{}{name}", args.prefix)
}

/// The (file, key) pairs to upload: files as given; with -r, each file under a directory as
/// prefix + its relative path joined with '/'. A directory without -r is an error.
fn uploads(args: &Args) -> Result<Vec<(PathBuf, String)>, String> {
    let mut out = Vec::new();
    for path in &args.files {
        if !path.is_dir() {
            out.push((path.clone(), key_for(args, path)));
            continue;
        }
        if !args.recursive {
            return Err(format!("{} is a directory (use -r)", path.display()));
        }
        let mut found = Vec::new();
        walk(path, &mut found).map_err(|e| format!("cannot list {}: {e}", path.display()))?;
        found.sort();
        for file in found {
            let relative = file.strip_prefix(path).unwrap_or(&file);
            let names: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push((file.clone(), format!("{}{}", args.prefix, names.join("/"))));
        }
    }
    Ok(out)
}

/// Every regular file under `dir` (symbolic links are not followed).
fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), out)?;
        } else if kind.is_file() {
            out.push(entry.path());
        }
    }
    Ok(())
}

fn human_bytes(n: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Draws progress: a bar with rate and ETA on a terminal, a line per quarter otherwise.
struct Progress {
    name: String,
    terminal: bool,
    started: Instant,
    last_draw: Option<Instant>,
    last_quarter: u64,
}

impl Progress {
    fn update(&mut self, sent: u64, total: Option<u64>) {
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-6);
        let rate = sent as f64 / elapsed;
        let done = total.is_some_and(|t| sent >= t);
        if self.terminal {
            if !done
                && self
                    .last_draw
                    .is_some_and(|t| t.elapsed() < Duration::from_millis(100))
            {
                return;
            }
            self.last_draw = Some(Instant::now());
            let (bar, pct, eta) = match total {
                Some(t) if t > 0 => {
                    let frac = sent as f64 / t as f64;
                    let filled = (frac * 30.0) as usize;
                    let eta = if rate > 0.0 {
                        (t - sent.min(t)) as f64 / rate
                    } else {
                        0.0
                    };
                    (
                        format!(
                            "{}{}",
                            "=".repeat(filled.min(30)),
                            " ".repeat(30 - filled.min(30))
                        ),
                        format!("{:3.0}%", frac * 100.0),
                        format!("ETA {eta:.0}s"),
                    )
                }
                _ => (" ".repeat(30), "   ?".to_string(), "ETA ?".to_string()),
            };
            eprint!(
                "\r\x1b[2K{} [{bar}] {pct} {} {}/s {eta}",
                self.name,
                human_bytes(sent as f64),
                human_bytes(rate)
            );
            if done {
                eprintln!();
            }
            let _ = std::io::stderr().flush();
        } else if let Some(t) = total.filter(|t| *t > 0) {
            let quarter = sent.saturating_mul(4) / t;
            if quarter > self.last_quarter || (done && self.last_quarter < 4) {
                self.last_quarter = quarter;
                eprintln!(
                    "{}: {}% ({} of {} bytes, {}/s)",
                    self.name,
                    quarter * 25,
                    sent,
                    t,
                    human_bytes(rate)
                );
            }
        }
    }
}

struct Row {
    key: String,
    parts: u32,
    bytes: u64,
    seconds: f64,
    etag: String,
    crc64: String,
}

/// Real OSS with the default credentials chain (`--credentials chain`): the region from
/// `OSS_REGION`, the endpoint from `OSS_ENDPOINT` if set.
fn chain_target(bucket: &str) -> Result<common::Target, String> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let region = var("OSS_REGION")
        .ok_or("--credentials chain: set OSS_REGION (e.g. cn-hangzhou) to upload to real OSS")?;
    let mut cfg = oss::Config::load_default()
        .credentials_provider(oss::credentials::DefaultCredentialsChain::new())
        .region(region);
    if let Some(endpoint) = var("OSS_ENDPOINT") {
        cfg = cfg.endpoint(endpoint);
    }
    println!("uploading to real OSS with the default credentials chain, bucket {bucket}");
    Ok(common::Target {
        client: oss::Client::new(cfg),
        bucket: bucket.to_string(),
        emulator: None,
    })
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1).collect()) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("ossput: {message}\nTry 'ossput --help'.");
            return ExitCode::from(2);
        }
    };
    // The bucket is the URL's: on real OSS no OSS_BUCKET is needed; the emulator is started
    // with it.
    let target = if args.chain {
        chain_target(&args.bucket)
    } else {
        common::target_for_bucket(&args.bucket)
    };
    let target = match target {
        Ok(t) => t,
        Err(message) => {
            eprintln!("ossput: {message}");
            return ExitCode::FAILURE;
        }
    };
    let files = match uploads(&args) {
        Ok(files) => files,
        Err(message) => {
            eprintln!("ossput: {message}\nTry 'ossput --help'.");
            return ExitCode::from(2);
        }
    };
    let mut uploader = target.client.uploader();
    if let Some(size) = args.part_size {
        uploader = uploader.part_size(size);
    }
    if let Some(n) = args.parallel {
        uploader = uploader.parallel(n);
    }
    if let Some(dir) = &args.checkpoint_dir {
        uploader = uploader.checkpoint_dir(dir);
    }
    let terminal = std::io::stderr().is_terminal();
    let mut rows = Vec::new();
    let mut failed = false;
    for (file, key) in &files {
        let key = key.clone();
        let mut req =
            oss::PutObjectRequest::new(&args.bucket, &key).forbid_overwrite(args.no_overwrite);
        if let Some(acl) = args.acl {
            req = req.acl(acl);
        }
        if let Some(class) = args.storage_class {
            req = req.storage_class(class);
        }
        if let Some(sse) = args.sse {
            req = req.server_side_encryption(sse);
        }
        if let Some(t) = &args.content_type {
            req = req.content_type(t);
        }
        if !args.tags.tags().is_empty() {
            req = req.tagging(args.tags.clone());
        }
        for (k, v) in &args.meta {
            req = req.metadata(k, v);
        }
        let mut progress = Progress {
            name: key.clone(),
            terminal,
            started: Instant::now(),
            last_draw: None,
            last_quarter: 0,
        };
        let started = Instant::now();
        req = req.progress_fn(move |_, sent, total| progress.update(sent, total));
        match uploader.upload_file(req, file) {
            Ok(result) => rows.push(Row {
                parts: result.parts,
                key,
                bytes: std::fs::metadata(file).map(|m| m.len()).unwrap_or(0),
                seconds: started.elapsed().as_secs_f64(),
                etag: result.etag.unwrap_or_default(),
                crc64: result.hash_crc64.map(|c| c.to_string()).unwrap_or_default(),
            }),
            Err(err) => {
                failed = true;
                if terminal {
                    eprintln!();
                }
                match err.service_error() {
                    Some(service) => eprintln!(
                        "ossput: {} -> oss://{}/{key} failed: {} (HTTP {}), request id {}: {}",
                        file.display(),
                        args.bucket,
                        service.code(),
                        service.status_code(),
                        service.request_id(),
                        service.message()
                    ),
                    None => eprintln!(
                        "ossput: {} -> oss://{}/{key} failed: {err:#}",
                        file.display(),
                        args.bucket
                    ),
                }
            }
        }
    }
    if !rows.is_empty() {
        println!(
            "{:<40} {:>12} {:>6} {:>8} {:>9}  {:<38} {:>20}",
            "KEY", "BYTES", "PARTS", "SECONDS", "MB/S", "ETAG", "CRC64"
        );
        for row in &rows {
            let mbps = row.bytes as f64 / 1e6 / row.seconds.max(1e-6);
            println!(
                "{:<40} {:>12} {:>6} {:>8.3} {:>9.2}  {:<38} {:>20}",
                row.key, row.bytes, row.parts, row.seconds, mbps, row.etag, row.crc64
            );
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

//! Section 6 of the benchmark: the Uploader against one PutObject and `curl -T`, on the plain
//! sink and on one paced to 40 MB/s per connection, the Python SDK's uploader, and the peak
//! RSS of `upload_file` and `upload_from` in a child process.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use super::{
    client_for, mb_per_s, median, python, size_name, vm_hwm_kib, Result, Sink, BUCKET, MIB,
};
use oss_blocking as oss;

/// Part size of the throughput runs.
const PART: u64 = 16 * MIB;
/// Part size of the memory runs, as the issue names it.
const BIG_PART: u64 = 64 * MIB;
/// The distant region: bytes per second per connection.
const LIMIT: u64 = 40_000_000;

/// What the section needs from the run.
pub struct Env<'a> {
    pub path: &'a Path,
    pub size: u64,
    pub crc: u64,
    pub runs: usize,
    pub have_curl: bool,
    pub have_python: bool,
}

/// The median MB/s of `runs` calls of `f`, each checked to return the file's CRC-64.
fn rate(env: &Env<'_>, runs: usize, f: &mut dyn FnMut() -> Result<Option<u64>>) -> Result<f64> {
    let mut xs = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let crc = f()?;
        xs.push(mb_per_s(env.size, t.elapsed()));
        if crc != Some(env.crc) {
            return Err(format!("CRC check: sink {crc:?}, file {}", env.crc).into());
        }
    }
    Ok(median(&xs))
}

fn curl(env: &Env<'_>, endpoint: &str, runs: usize) -> Result<f64> {
    rate(env, runs, &mut || {
        let status = Command::new("curl")
            .args(["-s", "-T"])
            .arg(env.path)
            .arg(format!("{endpoint}/{BUCKET}/curl.bin"))
            .stdout(Stdio::null())
            .status()?;
        if !status.success() {
            return Err(format!("curl failed: {status}").into());
        }
        Ok(Some(env.crc))
    })
}

/// One table: single PutObject, curl, then upload_file at parallel 1, 2, 4, 8.
fn table(env: &Env<'_>, sink: &Sink, runs: usize) -> Result<Vec<(String, f64, usize)>> {
    let endpoint = sink.endpoint();
    let client = client_for(&endpoint);
    let mut rows = Vec::new();
    let before = sink.connections();
    let single = rate(env, runs, &mut || {
        let r =
            client.put_object_from_file(oss::PutObjectRequest::new(BUCKET, "one.bin"), env.path)?;
        Ok(r.hash_crc64)
    })?;
    rows.push((
        "one PutObject".to_string(),
        single,
        sink.connections() - before,
    ));
    if env.have_curl {
        let before = sink.connections();
        rows.push((
            "curl -T".to_string(),
            curl(env, &endpoint, runs)?,
            sink.connections() - before,
        ));
    }
    for parallel in [1, 2, 4, 8] {
        // A fresh client, so the connection count is this upload's own.
        let client = client_for(&endpoint);
        let before = sink.connections();
        let up = client.uploader().part_size(PART).parallel(parallel);
        let r = rate(env, runs, &mut || {
            Ok(up
                .upload_file(oss::PutObjectRequest::new(BUCKET, "up.bin"), env.path)?
                .hash_crc64)
        })?;
        rows.push((
            format!("upload_file, parallel {parallel}"),
            r,
            sink.connections() - before,
        ));
    }
    Ok(rows)
}

fn print_table(title: &str, rows: &[(String, f64, usize)], reference: f64) {
    println!();
    println!("{title}");
    println!();
    println!("| how | MB/s (median) | ratio to one PutObject | connections the sink saw (all runs, one client) |");
    println!("| --- | --- | --- | --- |");
    for (how, r, conns) in rows {
        println!("| {how} | **{r:.0}** | {:.2} | {conns} |", r / reference);
    }
}

pub fn section(env: &Env<'_>, summary: &mut Vec<[String; 4]>) -> Result<()> {
    println!();
    println!(
        "## 6. Uploader: a {} file in {} MiB parts",
        size_name(env.size),
        PART / MIB
    );
    let plain = Sink::start()?;
    let rows = table(env, &plain, env.runs)?;
    let single = rows[0].1;
    print_table("Plain sink (loopback, no limit):", &rows, single);
    let p1 = rows
        .iter()
        .find(|r| r.0.ends_with("parallel 1"))
        .map_or(0.0, |r| r.1);
    summary.push([
        "upload_file parallel 1 vs one PutObject, plain sink".into(),
        format!("{p1:.0} MB/s"),
        format!("PutObject {single:.0} MB/s"),
        format!("{:.2} x (target >= 0.9)", p1 / single),
    ]);
    if env.have_python {
        let secs = python(
            &plain.endpoint(),
            "uploader",
            &env.path.to_string_lossy(),
            env.runs,
        )?;
        let rates: Vec<f64> = secs.iter().map(|s| env.size as f64 / 1e6 / s).collect();
        let py = median(&rates);
        let p3 = {
            let client = client_for(&plain.endpoint());
            let up = client.uploader().part_size(PART).parallel(3);
            rate(env, env.runs, &mut || {
                Ok(up
                    .upload_file(oss::PutObjectRequest::new(BUCKET, "up3.bin"), env.path)?
                    .hash_crc64)
            })?
        };
        println!();
        println!("Python SDK uploader (parallel 3, {} MiB parts): **{py:.0}** MB/s; upload_file parallel 3: **{p3:.0}** MB/s ({:.1} x)", PART / MIB, p3 / py);
        summary.push([
            "upload_file parallel 3 vs the Python SDK uploader".into(),
            format!("{p3:.0} MB/s"),
            format!("Python {py:.0} MB/s"),
            format!("{:.1} x (target >= 5)", p3 / py),
        ]);
    }
    let limited = Sink::start_limited(Some(LIMIT))?;
    let rows = table(env, &limited, 1)?;
    let one = rows[0].1;
    print_table(
        &format!(
            "Sink limited to {} MB/s per connection (a distant region), 1 run each:",
            LIMIT / 1_000_000
        ),
        &rows,
        one,
    );
    for n in [2usize, 4, 8] {
        if let Some(r) = rows
            .iter()
            .find(|r| r.0.ends_with(&format!("parallel {n}")))
        {
            summary.push([
                format!("upload_file parallel {n}, 40 MB/s per connection"),
                format!("{:.0} MB/s", r.1),
                format!("{n} x one connection = {:.0} MB/s", n as f64 * one),
                format!("{:.2} of it (target >= 0.8)", r.1 / (n as f64 * one)),
            ]);
        }
    }
    memory(env, &plain, summary)
}

/// Peak RSS of a child doing one upload_file / upload_from at parallel 8, 64 MiB parts.
fn memory(env: &Env<'_>, sink: &Sink, summary: &mut Vec<[String; 4]>) -> Result<()> {
    println!();
    println!(
        "Peak RSS (VmHWM) of a child process doing one upload at parallel 8, {} MiB parts:",
        BIG_PART / MIB
    );
    println!();
    println!("| call | peak RSS |");
    println!("| --- | --- |");
    let exe = std::env::current_exe()?;
    for mode in ["file", "stream"] {
        let out = Command::new(&exe)
            .arg("--child-uploader")
            .arg(sink.endpoint())
            .arg(env.path)
            .arg(mode)
            .stderr(Stdio::inherit())
            .output()?;
        if !out.status.success() {
            return Err(format!("child uploader failed: {}", out.status).into());
        }
        let kib: u64 = String::from_utf8_lossy(&out.stdout).trim().parse()?;
        let call = if mode == "file" {
            "upload_file"
        } else {
            "upload_from (a File as a stream)"
        };
        println!("| {call} | **{:.1} MiB** |", kib as f64 / 1024.0);
        let target = if mode == "file" {
            "target <= 16 MiB at any part size".to_string()
        } else {
            format!("bound: 8 buffers of {} MiB", BIG_PART / MIB)
        };
        summary.push([
            format!(
                "peak RSS of {call}, parallel 8, 64 MiB parts, {}",
                size_name(env.size)
            ),
            format!("{:.1} MiB", kib as f64 / 1024.0),
            target,
            String::new(),
        ]);
    }
    Ok(())
}

/// The child: one upload, then its peak RSS in KiB on stdout.
pub fn child(endpoint: &str, file: &str, mode: &str) -> Result<()> {
    let client = client_for(endpoint);
    let up = client.uploader().part_size(BIG_PART).parallel(8);
    let request = oss::PutObjectRequest::new(BUCKET, "child-up.bin");
    let result = if mode == "file" {
        up.upload_file(request, file)?
    } else {
        up.upload_from(request, std::fs::File::open(file)?)?
    };
    if result.hash_crc64.is_none() {
        return Err("the sink sent no CRC".into());
    }
    println!("{}", vm_hwm_kib());
    Ok(())
}

//! Test helpers shared by several test binaries.
#![allow(dead_code)] // each test binary uses a part

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use oss_blocking::emulator::Emulator;
use oss_blocking::{Client, Config};

/// Retries with 1-5 ms waits, so retry tests run fast.
pub fn fast(cfg: Config) -> Config {
    cfg.retry_base_delay(Duration::from_millis(1))
        .retry_max_backoff(Duration::from_millis(5))
}

/// A fresh emulator and a client for it with fast retries.
pub fn setup() -> (Emulator, Client) {
    let emu = Emulator::start().expect("emulator starts");
    let client = Client::new(fast(emu.config()));
    (emu, client)
}

/// `len` bytes of a repeating, non-trivial pattern.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// A loopback HTTP proxy that understands `CONNECT host:port` (what ureq sends to an http
/// proxy, for http and https targets alike), tunnels to the target and counts tunnels. Serves
/// at most `max` connections; each socket gives up after 10 s of silence.
pub struct ConnectProxy {
    pub url: String,
    pub tunnels: Arc<AtomicUsize>,
}

impl ConnectProxy {
    pub fn start(max: usize) -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let tunnels = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&tunnels);
        thread::spawn(move || {
            for stream in listener.incoming().take(max) {
                let Ok(client) = stream else { break };
                let count = Arc::clone(&count);
                thread::spawn(move || {
                    let _ = tunnel(client, &count);
                });
            }
        });
        ConnectProxy { url, tunnels }
    }

    pub fn tunnels(&self) -> usize {
        self.tunnels.load(Ordering::SeqCst)
    }
}

fn tunnel(mut client: TcpStream, count: &AtomicUsize) -> io::Result<()> {
    let idle = Some(Duration::from_secs(10));
    client.set_read_timeout(idle)?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        client.read_exact(&mut byte)?;
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut words = head.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (words.next(), words.next()) else {
        client.write_all(b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\n\r\n")?;
        return Ok(());
    };
    let upstream = TcpStream::connect(target)?;
    upstream.set_read_timeout(idle)?;
    count.fetch_add(1, Ordering::SeqCst);
    client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    let (mut c_read, mut u_write) = (client.try_clone()?, upstream.try_clone()?);
    let up = thread::spawn(move || {
        let _ = io::copy(&mut c_read, &mut u_write);
        let _ = u_write.shutdown(Shutdown::Write);
    });
    let (mut u_read, mut c_write) = (upstream, client);
    let _ = io::copy(&mut u_read, &mut c_write);
    let _ = c_write.shutdown(Shutdown::Write);
    let _ = up.join();
    Ok(())
}

/// A one-connection-at-a-time raw HTTP server that reads each request (head and
/// `Content-Length` body) and answers it with `reply`, then closes. Serves at most `max`
/// connections; counts them.
pub struct RawServer {
    pub endpoint: String,
    pub connections: Arc<AtomicUsize>,
}

impl RawServer {
    pub fn start(reply: &'static [u8], max: usize) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&connections);
        thread::spawn(move || {
            for stream in listener.incoming().take(max) {
                let Ok(mut stream) = stream else { break };
                count.fetch_add(1, Ordering::SeqCst);
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                if read_request(&mut stream).is_ok() {
                    let _ = stream.write_all(reply);
                }
            }
        });
        RawServer {
            endpoint,
            connections,
        }
    }
}

pub fn read_request(stream: &mut TcpStream) -> io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
        stream.read_exact(&mut byte)?;
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let len: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    io::copy(&mut stream.take(len), &mut io::sink())?;
    Ok(())
}

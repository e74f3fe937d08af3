//! An HTTPS front for the emulator: terminates TLS with a certificate the test supplies and
//! relays the plain bytes to the emulator's own port, so client TLS settings (trusted CAs,
//! verification) can be tested on loopback without touching the HTTP server itself.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::{Emulator, MAX_CONNECTIONS};

/// How long each side of a relayed connection is polled before the other one is.
const POLL: Duration = Duration::from_millis(5);

/// A TLS listener on 127.0.0.1 in front of an [`Emulator`]: every connection is decrypted
/// with the given certificate and relayed to the emulator, which then behaves exactly as over
/// plain HTTP (same store, faults and recorded requests). Stops when dropped.
///
/// ```
/// use oss_blocking::emulator::{Emulator, TlsFront};
/// # let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tls");
/// # let cert = std::fs::read(dir.join("server.pem")).unwrap();
/// # let key = std::fs::read(dir.join("server-key.pem")).unwrap();
/// # let ca = std::fs::read(dir.join("ca.pem")).unwrap();
/// let emu = Emulator::start()?;
/// let front = TlsFront::start(&emu, &cert, &key)?;
/// let cfg = emu.config().endpoint(front.endpoint()).tls_ca_pem(ca);
/// let client = oss_blocking::Client::new(cfg);
/// client.put_object(oss_blocking::PutObjectRequest::new(emu.bucket(), "a.txt").body("hi"))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TlsFront {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl fmt::Debug for TlsFront {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsFront")
            .field("endpoint", &self.endpoint())
            .finish_non_exhaustive()
    }
}

impl TlsFront {
    /// Listens on a free port of 127.0.0.1 with this certificate chain (PEM, leaf first) and
    /// private key (PEM, PKCS#8, SEC1 or PKCS#1), relaying to `emulator`. Bad PEM or a key
    /// that does not match gives an `InvalidInput` error.
    pub fn start(emulator: &Emulator, cert_chain_pem: &[u8], key_pem: &[u8]) -> io::Result<Self> {
        Self::start_for(emulator.addr(), cert_chain_pem, key_pem)
    }

    /// As [`TlsFront::start`], relaying to any local server, e.g. [`super::StsServer::addr`].
    pub fn start_for(
        backend: std::net::SocketAddr,
        cert_chain_pem: &[u8],
        key_pem: &[u8],
    ) -> io::Result<Self> {
        let invalid = |what: &str, e: &dyn fmt::Display| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: {e}"))
        };
        let certs = CertificateDer::pem_slice_iter(cert_chain_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid("certificate chain", &e))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| invalid("private key", &e))?;
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid("TLS versions", &e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| invalid("certificate and key", &e))?;
        let config = Arc::new(config);
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let accept_stop = Arc::clone(&stop);
        let accept = thread::Builder::new()
            .name("oss-emulator-tls-accept".to_string())
            .spawn(move || accept_loop(listener, config, backend, accept_stop))?;
        Ok(TlsFront {
            addr,
            stop,
            accept: Some(accept),
        })
    }

    /// `https://127.0.0.1:<port>`, for [`crate::Config::endpoint`].
    pub fn endpoint(&self) -> String {
        format!("https://{}", self.addr)
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let woke = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if let Some(accept) = self.accept.take() {
            if woke {
                let _ = accept.join();
            }
        }
    }
}

fn accept_loop(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    backend: SocketAddr,
    stop: Arc<AtomicBool>,
) {
    let active = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        if active.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
            continue; // dropped: the client sees a reset
        }
        active.fetch_add(1, Ordering::SeqCst);
        let (config, stop, active) = (Arc::clone(&config), Arc::clone(&stop), Arc::clone(&active));
        let spawned = thread::Builder::new()
            .name("oss-emulator-tls".to_string())
            .spawn(move || {
                let _ = relay(stream, config, backend, &stop);
                active.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            thread::sleep(Duration::from_millis(10));
        }
    }
}

fn would_block(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// Relays one connection until either side closes or the front stops.
fn relay(
    tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
    backend: SocketAddr,
    stop: &AtomicBool,
) -> io::Result<()> {
    tcp.set_read_timeout(Some(POLL))?;
    let conn = rustls::ServerConnection::new(config).map_err(io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let mut plain = TcpStream::connect(backend)?;
    plain.set_read_timeout(Some(POLL))?;
    let mut buf = vec![0u8; 16 * 1024];
    while !stop.load(Ordering::SeqCst) {
        match tls.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => plain.write_all(buf.get(..n).unwrap_or_default())?,
            Err(e) if would_block(&e) => {}
            Err(e) => return Err(e),
        }
        match plain.read(&mut buf) {
            Ok(0) => {
                tls.conn.send_close_notify();
                let _ = tls.flush();
                break;
            }
            Ok(n) => {
                tls.write_all(buf.get(..n).unwrap_or_default())?;
                tls.flush()?;
            }
            Err(e) if would_block(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

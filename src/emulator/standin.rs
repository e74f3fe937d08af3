//! The small HTTP server under the credentials stand-ins ([`super::ecs`], [`super::sts`]): one
//! accept thread on `127.0.0.1:0`, one short-lived thread per connection, one request per
//! connection (answered with `Connection: close`), bounded heads and bodies.

use std::io::{BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::http::{self, Framing, Response};
use super::{lock, RecordedRequest, MAX_CONNECTIONS};
use crate::Headers;

/// Largest request body a stand-in reads (an STS form with a 2 KiB policy is far smaller).
const MAX_BODY: u64 = 256 * 1024;
/// Socket timeout of a stand-in connection.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Recorded requests kept per stand-in.
const MAX_RECORDED: usize = 10_000;

/// One request as a stand-in handler sees it.
pub(crate) struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Headers,
    pub body: Vec<u8>,
}

/// What a handler answers: a response, or a stall (sleep, then drop the connection).
pub(crate) enum Reply {
    Respond(Response),
    Stall(Duration),
}

type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

struct Shared {
    handler: Handler,
    shutdown: AtomicBool,
    active: AtomicUsize,
    requests: Mutex<Vec<RecordedRequest>>,
}

/// A running stand-in; dropping it stops the accept thread.
pub(crate) struct StandIn {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl StandIn {
    pub(crate) fn start(name: &str, handler: Handler) -> std::io::Result<StandIn> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            handler,
            shutdown: AtomicBool::new(false),
            active: AtomicUsize::new(0),
            requests: Mutex::new(Vec::new()),
        });
        let accept_shared = Arc::clone(&shared);
        let accept = thread::Builder::new()
            .name(format!("{name}-accept"))
            .spawn(move || accept_loop(&listener, &accept_shared))?;
        Ok(StandIn {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.shutdown.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        if shared.active.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
            continue; // dropped: the client sees a reset, as from an overloaded server
        }
        shared.active.fetch_add(1, Ordering::SeqCst);
        let conn_shared = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name("credentials-standin-conn".to_string())
            .spawn(move || {
                serve(&conn_shared, stream);
                conn_shared.active.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            shared.active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

fn serve(shared: &Shared, stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let Ok(head) = http::read_head(&mut reader) else {
        return;
    };
    let (path, query) = head.path_and_query();
    let (path, query) = (path.to_string(), query.to_string());
    let body = match head.framing() {
        Ok(Framing::Length(n)) if n > MAX_BODY => None,
        Ok(framing) => {
            let mut body = Vec::new();
            let mut limited = http::BodyReader::new(&mut reader, framing).take(MAX_BODY);
            limited.read_to_end(&mut body).ok().map(|_| body)
        }
        Err(_) => None,
    };
    let request = Request {
        method: head.method.clone(),
        path,
        query,
        headers: head.headers.clone(),
        body: body.unwrap_or_default(),
    };
    let reply = (shared.handler)(&request);
    let status = match &reply {
        Reply::Respond(r) => Some(r.status),
        Reply::Stall(_) => None,
    };
    record(shared, &request, status);
    match reply {
        Reply::Respond(response) => {
            let _ = http::write_response(&mut writer, &response, false, true);
        }
        Reply::Stall(duration) => thread::sleep(duration.min(super::MAX_STALL)),
    }
}

fn record(shared: &Shared, request: &Request, status: Option<u16>) {
    let mut requests = lock(&shared.requests);
    if requests.len() >= MAX_RECORDED {
        requests.remove(0);
    }
    requests.push(RecordedRequest {
        method: request.method.clone(),
        path: request.path.clone(),
        query: request.query.clone(),
        headers: request.headers.clone(),
        body_len: u64::try_from(request.body.len()).unwrap_or(u64::MAX),
        status,
    });
}

/// A response with a body and its content type.
pub(crate) fn respond(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
    let mut response = Response::new(status).header("Content-Type", content_type);
    response.body = http::Body::Bytes(body.into());
    Reply::Respond(response)
}

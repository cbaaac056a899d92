//! [`Metrics`]: what a server counts as it runs — connections, responses, clients that went
//! away, refusals, bytes — read as a [`Snapshot`] or in the Prometheus text format.
//!
//! Every count is a relaxed atomic add on the connection's path, never a lock; reading them
//! is never exact across counters (it need not be).

use std::fmt::Write as _;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use http_types::{Response, StatusCode};

use crate::deadline::Timeout;

/// A server's counters. Cheap to clone: clones count into the same counters.
///
/// ```
/// use smolweb::{Router, Server};
///
/// let server = Server::bind("127.0.0.1:0")?;
/// let metrics = server.metrics();
/// let app = Router::new()
///     .get("/", |_| async { "hi" })
///     .get("/metrics", metrics.handler());
/// assert_eq!(metrics.snapshot().connections_accepted, 0);
/// # let _ = app;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    accepted: AtomicU64,
    closed: AtomicU64,
    limit_reached: AtomicU64,
    evicted: AtomicU64,
    /// Responses by status class: 1xx … 5xx.
    responses: [AtomicU64; 5],
    peer_reset: AtomicU64,
    peer_closed: AtomicU64,
    header_timeouts: AtomicU64,
    body_timeouts: AtomicU64,
    write_timeouts: AtomicU64,
    rejected_invalid: AtomicU64,
    rejected_too_large: AtomicU64,
    bytes_copied: AtomicU64,
    bytes_sendfile: AtomicU64,
    upgrades: AtomicU64,
    upgrades_ended: AtomicU64,
}

/// The counters at one moment.
///
/// ```
/// let snapshot = smolweb::Metrics::default().snapshot();
/// assert_eq!(snapshot.responses, [0; 5]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Snapshot {
    /// Connections accepted.
    pub connections_accepted: u64,
    /// Connections open now.
    pub connections_open: u64,
    /// Times the connection limit was reached with a client waiting.
    pub limit_reached: u64,
    /// Idle connections closed to make room at the limit.
    pub connections_evicted: u64,
    /// Responses sent, by status class: `[1xx, 2xx, 3xx, 4xx, 5xx]`.
    pub responses: [u64; 5],
    /// Connections ended by the client with a reset.
    pub peer_reset: u64,
    /// Connections the client closed in the middle of a request or a response.
    pub peer_closed: u64,
    /// Request heads not received within the header timeout.
    pub header_timeouts: u64,
    /// Request bodies that stalled past the body timeout.
    pub body_timeouts: u64,
    /// Responses that made no progress within the write timeout.
    pub write_timeouts: u64,
    /// Request heads refused as malformed (`400`, `501`, `505`, `417`).
    pub rejected_invalid: u64,
    /// Requests refused for a limit (`413`, `414`, `431`).
    pub rejected_too_large: u64,
    /// Response bytes sent by copying (`send`).
    pub bytes_copied: u64,
    /// Response bytes sent with `sendfile`.
    pub bytes_sendfile: u64,
    /// Connections handed to another protocol (`101`) and not yet ended.
    pub upgrades_open: u64,
}

/// Counts an open connection (or upgrade) until dropped.
pub(crate) struct Open(Arc<Counters>, fn(&Counters) -> &AtomicU64);

impl Drop for Open {
    fn drop(&mut self) {
        (self.1)(&self.0).fetch_add(1, Relaxed);
    }
}

impl Metrics {
    /// The counters now.
    pub fn snapshot(&self) -> Snapshot {
        let c = &*self.counters;
        let get = |a: &AtomicU64| a.load(Relaxed);
        let accepted = get(&c.accepted);
        Snapshot {
            connections_accepted: accepted,
            connections_open: accepted.saturating_sub(get(&c.closed)),
            limit_reached: get(&c.limit_reached),
            connections_evicted: get(&c.evicted),
            responses: std::array::from_fn(|i| get(&c.responses[i])),
            peer_reset: get(&c.peer_reset),
            peer_closed: get(&c.peer_closed),
            header_timeouts: get(&c.header_timeouts),
            body_timeouts: get(&c.body_timeouts),
            write_timeouts: get(&c.write_timeouts),
            rejected_invalid: get(&c.rejected_invalid),
            rejected_too_large: get(&c.rejected_too_large),
            bytes_copied: get(&c.bytes_copied),
            bytes_sendfile: get(&c.bytes_sendfile),
            upgrades_open: get(&c.upgrades).saturating_sub(get(&c.upgrades_ended)),
        }
    }

    /// The counters in the Prometheus text format (version 0.0.4): `# HELP` and `# TYPE`
    /// lines, counters ending in `_total`, names starting with `smolweb_`.
    pub fn prometheus(&self) -> String {
        let s = self.snapshot();
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, u64)]| {
            let _ = writeln!(out, "# HELP smolweb_{name} {help}");
            let _ = writeln!(out, "# TYPE smolweb_{name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "smolweb_{name}{labels} {value}");
            }
        };
        metric(
            "connections_accepted_total",
            "counter",
            "Connections accepted.",
            &[("", s.connections_accepted)],
        );
        metric(
            "connections_open",
            "gauge",
            "Connections open now.",
            &[("", s.connections_open)],
        );
        metric(
            "connection_limit_reached_total",
            "counter",
            "Times the connection limit was reached with a client waiting.",
            &[("", s.limit_reached)],
        );
        metric(
            "connections_evicted_total",
            "counter",
            "Idle connections closed to make room at the limit.",
            &[("", s.connections_evicted)],
        );
        let classes: Vec<(String, u64)> = (0..5)
            .map(|i| (format!("{{class=\"{}xx\"}}", i + 1), s.responses[i]))
            .collect();
        let classes: Vec<(&str, u64)> = classes.iter().map(|(l, v)| (l.as_str(), *v)).collect();
        metric(
            "responses_total",
            "counter",
            "Responses sent, by status class.",
            &classes,
        );
        metric(
            "disconnects_total",
            "counter",
            "Connections ended by the client or a timeout, by kind.",
            &[
                ("{kind=\"peer_reset\"}", s.peer_reset),
                ("{kind=\"peer_closed\"}", s.peer_closed),
                ("{kind=\"header_timeout\"}", s.header_timeouts),
                ("{kind=\"body_timeout\"}", s.body_timeouts),
                ("{kind=\"write_timeout\"}", s.write_timeouts),
            ],
        );
        metric(
            "rejected_total",
            "counter",
            "Requests refused before the application, by reason.",
            &[
                ("{reason=\"invalid\"}", s.rejected_invalid),
                ("{reason=\"too_large\"}", s.rejected_too_large),
            ],
        );
        metric(
            "sent_bytes_total",
            "counter",
            "Response bytes sent, by path.",
            &[
                ("{path=\"copied\"}", s.bytes_copied),
                ("{path=\"sendfile\"}", s.bytes_sendfile),
            ],
        );
        metric(
            "upgrades_open",
            "gauge",
            "Connections switched to another protocol, open now.",
            &[("", s.upgrades_open)],
        );
        out
    }

    /// A handler answering with [`prometheus`](Self::prometheus), to mount where you choose
    /// (`router.get("/metrics", metrics.handler())`).
    pub fn handler(&self) -> impl crate::Handler {
        let metrics = self.clone();
        move |_req: crate::Request| {
            let text = metrics.prometheus();
            async move {
                let mut res = Response::new(StatusCode::Ok);
                res.set_body(text);
                res.insert_header("content-type", "text/plain; version=0.0.4; charset=utf-8");
                res
            }
        }
    }

    pub(crate) fn accepted(&self) -> Open {
        self.counters.accepted.fetch_add(1, Relaxed);
        Open(self.counters.clone(), |c| &c.closed)
    }

    pub(crate) fn upgraded(&self) -> Open {
        self.counters.upgrades.fetch_add(1, Relaxed);
        Open(self.counters.clone(), |c| &c.upgrades_ended)
    }

    pub(crate) fn limit_reached(&self, evicted: usize) {
        self.counters.limit_reached.fetch_add(1, Relaxed);
        self.counters.evicted.fetch_add(evicted as u64, Relaxed);
    }

    pub(crate) fn response(&self, status: StatusCode) {
        let class = usize::from(u16::from(status) / 100).clamp(1, 5) - 1;
        self.counters.responses[class].fetch_add(1, Relaxed);
    }

    pub(crate) fn rejected(&self, status: StatusCode) {
        let counter = match status {
            StatusCode::PayloadTooLarge
            | StatusCode::UriTooLong
            | StatusCode::RequestHeaderFieldsTooLarge => &self.counters.rejected_too_large,
            _ => &self.counters.rejected_invalid,
        };
        counter.fetch_add(1, Relaxed);
    }

    pub(crate) fn body_timeout(&self) {
        self.counters.body_timeouts.fetch_add(1, Relaxed);
    }

    pub(crate) fn copied(&self, bytes: usize) {
        self.counters.bytes_copied.fetch_add(bytes as u64, Relaxed);
    }

    #[cfg(all(feature = "sendfile", target_os = "linux"))]
    pub(crate) fn zero_copy(&self, bytes: usize) {
        self.counters
            .bytes_sendfile
            .fetch_add(bytes as u64, Relaxed);
    }

    /// Counts the error that ended a connection, by what it says.
    pub(crate) fn ended(&self, e: &io::Error) {
        let c = &*self.counters;
        let counter = match e.kind() {
            io::ErrorKind::ConnectionReset => &c.peer_reset,
            io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::NotConnected
            | io::ErrorKind::ConnectionAborted => &c.peer_closed,
            io::ErrorKind::TimedOut => match Timeout::of(e) {
                Some(Timeout::Header) => &c.header_timeouts,
                Some(Timeout::Write) => &c.write_timeouts,
                // Counted where the body's reader gives up (the handler sees the error).
                _ => return,
            },
            _ => return,
        };
        counter.fetch_add(1, Relaxed);
    }
}

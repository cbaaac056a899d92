//! [`RedisStore`] (feature `redis`): sessions in Redis, shared by every instance of an
//! application, over a small RESP client of smolweb's own.
//!
//! The client speaks the few commands a store needs (`GETEX`, `SET … EX`, `DEL`, `AUTH`,
//! `SELECT`) over a few shared connections ([`CONNECTIONS`]), each made on first use and
//! made again after a failure, each carrying one command at a time. Its bytes go out through the same `send(MSG_NOSIGNAL)`
//! as a response's, so a Redis that dies mid-command is an error, never a `SIGPIPE`. While
//! Redis is unreachable every command fails at once (a new connection is tried at most every
//! [`RETRY_EVERY`]); the outage is logged when it begins and when it ends, not per request.

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_io::{Async, Timer};
use http_types::Url;

use super::store::{SessionData, SessionStore};
use crate::handler::BoxFuture;
use crate::socket::TcpTransport;
use crate::transport::Transport;

/// Longest a command (or a connection) may take before it fails.
///
/// **Default:** 2 s. **Unit:** time.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// While Redis is down, a new connection is tried at most this often; commands in between
/// fail at once.
///
/// **Default:** 250 ms. **Unit:** time.
pub const RETRY_EVERY: Duration = Duration::from_millis(250);
/// Connections a store keeps to Redis; each carries one command at a time, and requests take
/// them in turn.
///
/// **Default:** 8. **Unit:** connections.
pub const CONNECTIONS: usize = 8;
/// Largest reply read (a session's data).
const MAX_REPLY: usize = 16 * 1024 * 1024;

/// Sessions in Redis: `SET smolweb:session:<id> <json> EX <ttl>`, read (and their expiry
/// renewed) with `GETEX … EX <ttl>`, deleted with `DEL`.
///
/// ```no_run
/// use smolweb::cookie::Key;
/// use smolweb::session::{RedisStore, Sessions};
///
/// let store = RedisStore::open("redis://127.0.0.1:6379/0")?;
/// let key = Key::from_bytes(&std::fs::read("/run/secrets/session-key")?);
/// let app = smolweb::Router::new().middleware(Sessions::new(store, key));
/// # let _ = app;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct RedisStore {
    client: Arc<Client>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("addr", &self.client.addr)
            .finish_non_exhaustive()
    }
}

struct Client {
    /// `host:port`.
    addr: String,
    password: Option<String>,
    db: Option<u32>,
    /// [`CONNECTIONS`] connections, each made on first use and again after a failure.
    conns: Vec<smol::lock::Mutex<Option<TcpTransport>>>,
    /// Which connection the next command takes.
    next: std::sync::atomic::AtomicUsize,
    /// Redis was unreachable at the last attempt.
    down: AtomicBool,
    last_attempt: Mutex<Option<Instant>>,
}

/// A reply, as RESP 2 gives it.
#[derive(Debug, PartialEq)]
enum Reply {
    Status(String),
    Integer(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
}

impl RedisStore {
    /// A store for the Redis at `url` (`redis://[:password@]host[:port][/db]`, port 6379 by
    /// default). Nothing is connected yet: the first command connects.
    pub fn open(url: &str) -> io::Result<RedisStore> {
        let bad = |why: &str| io::Error::new(io::ErrorKind::InvalidInput, format!("{url}: {why}"));
        let parsed = Url::parse(url).map_err(|e| bad(&e.to_string()))?;
        if parsed.scheme() != "redis" {
            return Err(bad("not a redis:// URL"));
        }
        let host = parsed.host_str().ok_or_else(|| bad("no host"))?;
        let port = parsed.port().unwrap_or(6379);
        let db = match parsed.path().trim_matches('/') {
            "" => None,
            n => Some(n.parse().map_err(|_| bad("the database is not a number"))?),
        };
        Ok(RedisStore {
            client: Arc::new(Client {
                addr: format!("{host}:{port}"),
                password: parsed.password().map(str::to_owned),
                db,
                conns: (0..CONNECTIONS)
                    .map(|_| smol::lock::Mutex::new(None))
                    .collect(),
                next: std::sync::atomic::AtomicUsize::new(0),
                down: AtomicBool::new(false),
                last_attempt: Mutex::new(None),
            }),
        })
    }
}

fn key(id: &str) -> Vec<u8> {
    format!("smolweb:session:{id}").into_bytes()
}

/// A TTL in whole seconds, at least one (`EX 0` is an error).
fn seconds(ttl: Duration) -> Vec<u8> {
    (ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0))
        .max(1)
        .to_string()
        .into_bytes()
}

impl SessionStore for RedisStore {
    fn load(&self, id: &str, ttl: Duration) -> BoxFuture<io::Result<Option<SessionData>>> {
        let (client, key) = (self.client.clone(), key(id));
        Box::pin(async move {
            let args: [&[u8]; 4] = [b"GETEX", &key, b"EX", &seconds(ttl)];
            match client.command(&args).await? {
                Reply::Bulk(None) => Ok(None),
                Reply::Bulk(Some(json)) => serde_json::from_slice(&json)
                    .map(Some)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
                other => Err(unexpected(&other)),
            }
        })
    }

    fn store(&self, id: &str, data: SessionData, ttl: Duration) -> BoxFuture<io::Result<()>> {
        let (client, key) = (self.client.clone(), key(id));
        Box::pin(async move {
            let json = serde_json::to_vec(&data)?;
            let args: [&[u8]; 5] = [b"SET", &key, &json, b"EX", &seconds(ttl)];
            match client.command(&args).await? {
                Reply::Status(ok) if ok == "OK" => Ok(()),
                other => Err(unexpected(&other)),
            }
        })
    }

    fn destroy(&self, id: &str) -> BoxFuture<io::Result<()>> {
        let (client, key) = (self.client.clone(), key(id));
        Box::pin(async move {
            let args: [&[u8]; 2] = [b"DEL", &key];
            match client.command(&args).await? {
                Reply::Integer(_) => Ok(()),
                other => Err(unexpected(&other)),
            }
        })
    }
}

fn unexpected(reply: &Reply) -> io::Error {
    io::Error::other(format!("unexpected reply from Redis: {reply:?}"))
}

impl Client {
    /// Runs one command on the next of the shared connections, connecting it first if it is
    /// not connected.
    async fn command(&self, args: &[&[u8]]) -> io::Result<Reply> {
        let at = self.next.fetch_add(1, Ordering::Relaxed) % self.conns.len();
        let mut conn = self.conns[at].lock().await;
        if conn.is_none() {
            *conn = Some(self.connect().await.map_err(|e| self.went_down(e))?);
        }
        let transport = conn.as_ref().expect("connected just above");
        match within(COMMAND_TIMEOUT, call(transport, args)).await {
            Ok(reply) => {
                self.came_back();
                // An error reply (`-ERR …`) is the command's, not the connection's.
                reply.map_err(|message| io::Error::other(format!("Redis: {message}")))
            }
            Err(e) => {
                // The connection is in an unknown state: the next command makes a new one.
                *conn = None;
                Err(self.went_down(e))
            }
        }
    }

    /// A new connection, authenticated and on its database; fails at once while the last
    /// attempt is more recent than [`RETRY_EVERY`] and failed.
    async fn connect(&self) -> io::Result<TcpTransport> {
        {
            let mut last = self.last_attempt.lock().unwrap_or_else(|p| p.into_inner());
            let recent = last.is_some_and(|at| at.elapsed() < RETRY_EVERY);
            if self.down.load(Ordering::Relaxed) && recent {
                return Err(io::Error::new(io::ErrorKind::NotConnected, "Redis is down"));
            }
            *last = Some(Instant::now());
        }
        let connect = async {
            let addr = smol::net::resolve(self.addr.as_str())
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address"))?;
            let stream = Async::<std::net::TcpStream>::connect(addr).await?;
            TcpTransport::new(stream, Some(addr))
        };
        let transport = within(COMMAND_TIMEOUT, connect).await?;
        if let Some(password) = &self.password {
            expect_ok(
                within(
                    COMMAND_TIMEOUT,
                    call(&transport, &[b"AUTH", password.as_bytes()]),
                )
                .await?,
            )?;
        }
        if let Some(db) = self.db {
            let db = db.to_string();
            expect_ok(
                within(
                    COMMAND_TIMEOUT,
                    call(&transport, &[b"SELECT", db.as_bytes()]),
                )
                .await?,
            )?;
        }
        Ok(transport)
    }

    fn went_down(&self, e: io::Error) -> io::Error {
        if !self.down.swap(true, Ordering::Relaxed) {
            log::error!("session store: Redis at {} is unreachable: {e}", self.addr);
        }
        e
    }

    fn came_back(&self) {
        if self.down.swap(false, Ordering::Relaxed) {
            log::info!("session store: Redis at {} is back", self.addr);
        }
    }
}

fn expect_ok(reply: Result<Reply, String>) -> io::Result<()> {
    match reply {
        Ok(Reply::Status(ok)) if ok == "OK" => Ok(()),
        Ok(other) => Err(unexpected(&other)),
        Err(message) => Err(io::Error::other(format!("Redis: {message}"))),
    }
}

/// `fut`, or `TimedOut` after `timeout`.
async fn within<T>(timeout: Duration, fut: impl Future<Output = io::Result<T>>) -> io::Result<T> {
    let timer = async {
        Timer::after(timeout).await;
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "Redis did not answer in time",
        ))
    };
    futures_lite::future::or(fut, timer).await
}

/// Sends one command and reads its reply: an error of the connection, or the reply (a
/// Redis error reply as `Err(message)`).
async fn call(transport: &TcpTransport, args: &[&[u8]]) -> io::Result<Result<Reply, String>> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    let mut rest = &out[..];
    while !rest.is_empty() {
        let n = std::future::poll_fn(|cx| transport.poll_send(cx, rest)).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        rest = &rest[n..];
    }
    let mut buf = Vec::new();
    loop {
        if let Some((reply, _)) = parse(&buf)? {
            return Ok(reply);
        }
        if buf.len() > MAX_REPLY {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "Redis reply too large",
            ));
        }
        let start = buf.len();
        buf.resize(start + 16 * 1024, 0);
        let n = std::future::poll_fn(|cx| transport.poll_recv(cx, &mut buf[start..])).await?;
        buf.truncate(start + n);
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
}

/// One RESP reply from the start of `buf`: `None` if it is not all there yet, else the reply
/// (an error reply as `Err(message)`) and the bytes it took.
#[allow(clippy::type_complexity)]
fn parse(buf: &[u8]) -> io::Result<Option<(Result<Reply, String>, usize)>> {
    let Some(end) = buf.windows(2).position(|w| w == b"\r\n") else {
        return Ok(None);
    };
    let line = std::str::from_utf8(&buf[1..end])
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "Redis: not UTF-8"))?;
    let after = end + 2;
    let number = || {
        line.parse::<i64>()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "Redis: bad number"))
    };
    Ok(match buf.first() {
        Some(b'+') => Some((Ok(Reply::Status(line.to_owned())), after)),
        Some(b'-') => Some((Err(line.to_owned()), after)),
        Some(b':') => Some((Ok(Reply::Integer(number()?)), after)),
        Some(b'$') => match number()? {
            -1 => Some((Ok(Reply::Bulk(None)), after)),
            n => {
                let n = usize::try_from(n)
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "Redis: bad length"))?;
                if buf.len() < after + n + 2 {
                    return Ok(None);
                }
                Some((
                    Ok(Reply::Bulk(Some(buf[after..after + n].to_vec()))),
                    after + n + 2,
                ))
            }
        },
        Some(b'*') => {
            let mut at = after;
            let mut items = Vec::new();
            for _ in 0..number()?.max(0) {
                let Some((item, used)) = parse(&buf[at..])? else {
                    return Ok(None);
                };
                items.push(item.map_err(|e| io::Error::other(format!("Redis: {e}")))?);
                at += used;
            }
            Some((Ok(Reply::Array(items)), at))
        }
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "Redis: not RESP",
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_parse_whole_or_not_at_all() {
        let cases: [(&[u8], Result<Reply, String>); 5] = [
            (b"+OK\r\n", Ok(Reply::Status("OK".into()))),
            (b"-ERR no\r\n", Err("ERR no".into())),
            (b":3\r\n", Ok(Reply::Integer(3))),
            (b"$-1\r\n", Ok(Reply::Bulk(None))),
            (
                b"$5\r\nhe\r\no\r\n",
                Ok(Reply::Bulk(Some(b"he\r\no".to_vec()))),
            ),
        ];
        for (bytes, want) in cases {
            let (got, used) = parse(bytes).unwrap().unwrap();
            assert_eq!((got, used), (want, bytes.len()));
            for cut in 0..bytes.len() {
                assert!(parse(&bytes[..cut]).unwrap().is_none(), "{cut}");
            }
        }
        let (got, _) = parse(b"*2\r\n:1\r\n$1\r\na\r\n").unwrap().unwrap();
        assert_eq!(
            got,
            Ok(Reply::Array(vec![
                Reply::Integer(1),
                Reply::Bulk(Some(b"a".to_vec()))
            ]))
        );
        assert!(parse(b"?x\r\n").is_err());
    }

    #[test]
    fn urls() {
        assert!(RedisStore::open("redis://127.0.0.1:7000/2").is_ok());
        assert!(RedisStore::open("redis://:pw@localhost").is_ok());
        assert!(RedisStore::open("http://localhost").is_err());
        assert!(RedisStore::open("redis://localhost/x").is_err());
    }
}

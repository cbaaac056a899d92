//! Server-sent events over real sockets: curl (an independent client) sees each event as it
//! is produced; a quiet stream sends keep-alive comments; a client that goes away has its
//! stream dropped within a keep-alive interval. SIGPIPE is at its default action.

mod support;

use std::io::{BufRead, BufReader};
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_lite::Stream;
use smolweb::sse::{Event, Sse};
use smolweb::{Config, Router};
use support::{Conn, require_default_sigpipe, wait_for};

/// A stream of events from a channel that says when it is dropped.
struct Watched {
    events: Pin<Box<smol::channel::Receiver<Event>>>,
    dropped: Arc<AtomicBool>,
}

impl Stream for Watched {
    type Item = Event;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.events.as_mut().poll_next(cx)
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

fn app(
    events: smol::channel::Receiver<Event>,
    dropped: Arc<AtomicBool>,
    keep_alive: Duration,
) -> Router {
    Router::new().get("/events", move |_| {
        let stream = Watched {
            events: Box::pin(events.clone()),
            dropped: dropped.clone(),
        };
        async move { Sse::new(stream).keep_alive(Some(keep_alive)) }
    })
}

#[test]
fn curl_sees_each_event_as_it_is_produced() {
    require_default_sigpipe();
    let (tx, rx) = smol::channel::unbounded();
    let addr = support::serve(
        app(rx, Arc::default(), Duration::from_secs(60)),
        Config::default(),
        1,
    );
    let mut curl = Command::new("curl")
        .args(["--silent", "--no-buffer", "--max-time", "20"])
        .arg(format!("http://{addr}/events"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("curl");
    let (lines_tx, lines) = std::sync::mpsc::channel();
    let stdout = curl.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    for i in 0..3 {
        // The next event is produced only after curl printed the one before.
        let event = Event::data(format!("tick {i}\nsecond line")).id(i.to_string());
        smol::block_on(tx.send(event)).unwrap();
        let mut got = Vec::new();
        while got.len() < 4 {
            let line = lines
                .recv_timeout(Duration::from_secs(10))
                .expect("curl printed the event");
            got.push(line);
        }
        assert_eq!(
            got,
            [
                format!("id: {i}"),
                format!("data: tick {i}"),
                "data: second line".to_string(),
                String::new()
            ]
        );
    }
    // The stream ends: the response ends, and curl with it.
    drop(tx);
    let status = support::wait_for_exit(&mut curl, Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_quiet_stream_sends_comments_and_a_vanished_client_drops_it() {
    require_default_sigpipe();
    let (tx, rx) = smol::channel::unbounded();
    let dropped = Arc::new(AtomicBool::new(false));
    let addr = support::serve(
        app(rx, dropped.clone(), Duration::from_millis(100)),
        Config::default(),
        1,
    );
    let mut conn = Conn::connect(addr);
    conn.write(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
    let res = conn.read_response_to_head();
    assert_eq!(res.header("content-type"), Some("text/event-stream"));
    assert_eq!(res.header("cache-control"), Some("no-cache"));
    smol::block_on(tx.send(Event::data("hello"))).unwrap();
    let mut seen = Vec::new();
    let quiet = wait_for(Duration::from_secs(5), Duration::from_millis(10), || {
        seen.extend_from_slice(&conn.take_buffered());
        if !support::contains(&seen, b": keep-alive\n\n") {
            let _ = conn.fill();
        }
        support::contains(&seen, b": keep-alive\n\n")
    });
    assert!(
        support::contains(&seen, b"data: hello\n\n"),
        "{}",
        support::preview(&seen)
    );
    assert!(quiet, "no keep-alive comment: {}", support::preview(&seen));
    assert!(!dropped.load(Ordering::SeqCst));
    // The client goes away without a word; the next comment's write fails and the stream
    // is dropped, so its producer can stop.
    support::set_linger_zero(&conn.stream);
    drop(conn);
    let gone = wait_for(Duration::from_secs(5), Duration::from_millis(10), || {
        dropped.load(Ordering::SeqCst)
    });
    assert!(gone, "the stream outlived its client");
}

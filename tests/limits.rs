//! The limits of the middleware kit (`Timeout`, `ConcurrencyLimit`, `BodyLimit`) over real
//! TCP sockets on 127.0.0.1, with curl as the client, put around single routes with
//! `Handler::with` so that a limited route and a free one share a server.
//!
//! Handlers that must stay inside are held by channels the test controls, and every wait
//! on them is bounded (`recv_timeout`, curl's `--max-time`).

mod support;

use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures_lite::StreamExt;
use smolweb::middleware::{BodyLimit, ConcurrencyLimit, Timeout};
use smolweb::{Config, Handler, Request, Router, stateful};

/// How long any one wait on the server may take before the test fails.
const WAIT: Duration = Duration::from_secs(10);

/// curl `args` with `--max-time` and the response head on stdout (`-i`).
fn curl(args: &[&str]) -> Command {
    let mut cmd = Command::new("curl");
    cmd.args(["--silent", "--show-error", "-i", "--max-time", "15"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// What curl printed: the status, the head's lines and the body.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn of(out: Output) -> Answer {
        assert!(
            out.status.success(),
            "curl failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).expect("a text answer");
        let (head, body) = text.split_once("\r\n\r\n").expect("a head");
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok());
        Answer {
            status: status.expect("a status"),
            head: head.to_ascii_lowercase(),
            body: body.to_string(),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        let prefix = format!("{name}: ");
        self.head
            .lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .map(str::trim)
    }
}

fn run(args: &[&str]) -> Answer {
    Answer::of(curl(args).output().expect("run curl"))
}

fn finish(child: Child) -> Answer {
    Answer::of(child.wait_with_output().expect("wait for curl"))
}

/// Tells the test, by dropping, that a handler's future was dropped.
struct OnDrop(mpsc::Sender<()>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

#[test]
fn a_slow_handler_times_out_while_a_fast_one_answers() {
    let (dropped_tx, dropped) = mpsc::channel::<()>();
    let dropped_tx = std::sync::Mutex::new(dropped_tx);
    let slow = move |_req: Request| {
        let guard = OnDrop(dropped_tx.lock().unwrap().clone());
        async move {
            let _guard = guard;
            // Far longer than the timeout: only the timeout ends this request.
            async_io::Timer::after(Duration::from_secs(60)).await;
            "never"
        }
    };
    let app = Router::new()
        .get("/slow", slow.with(Timeout::new(Duration::from_millis(300))))
        .get("/fast", |_| async { "fast" });
    let addr = support::spawn(app);

    let started = Instant::now();
    let slow = curl(&[&format!("http://{addr}/slow")])
        .spawn()
        .expect("spawn curl");
    // The server answers others while the slow one waits.
    let res = run(&[&format!("http://{addr}/fast")]);
    assert_eq!((res.status, res.body.as_str()), (200, "fast"));
    let res = finish(slow);
    assert_eq!(res.status, 503, "{}", res.head);
    assert_eq!(res.body, "request timed out");
    assert!(
        started.elapsed() < WAIT,
        "answered at the timeout, not the handler's end"
    );
    // The handler's future was dropped, not left running.
    dropped
        .recv_timeout(WAIT)
        .expect("the slow handler's future is dropped");

    let res = run(&[&format!("http://{addr}/fast")]);
    assert_eq!((res.status, res.body.as_str()), (200, "fast"));
}

#[test]
fn a_timeout_does_not_cut_a_streaming_body() {
    // The head comes at once; the body takes longer than the timeout in all.
    let stream = |_req: Request| async {
        let chunks = futures_lite::stream::iter(0..4).then(|i| async move {
            async_io::Timer::after(Duration::from_millis(150)).await;
            Ok::<_, std::io::Error>(format!("{i}").into_bytes())
        });
        smolweb::Response::from(smolweb::body_from_stream(chunks))
    };
    let app = Router::new().get("/", stream.with(Timeout::new(Duration::from_millis(200))));
    let addr = support::spawn(app);
    let res = run(&[&format!("http://{addr}/")]);
    assert_eq!((res.status, res.body.as_str()), (200, "0123"));
}

#[test]
fn the_request_past_the_limit_gets_503_and_retry_after() {
    const N: usize = 3;
    let (arrived_tx, arrived) = mpsc::channel::<()>();
    let arrived_tx = std::sync::Mutex::new(arrived_tx);
    let (release, released) = smol::channel::unbounded::<()>();
    let slow = move |_req: Request| {
        let arrived = arrived_tx.lock().unwrap().clone();
        let released = released.clone();
        async move {
            let _ = arrived.send(());
            // Held until the test closes the channel.
            let _ = released.recv().await;
            "done"
        }
    };
    let limit = ConcurrencyLimit::new(N).retry_after(Duration::from_secs(7));
    let app = Router::new()
        .get("/slow", slow.with(limit.clone()))
        .get("/free", |_| async { "free" });
    let addr = support::serve(app, Config::default(), 2);
    let url = format!("http://{addr}/slow");

    let inside: Vec<Child> = (0..N)
        .map(|_| curl(&[&url]).spawn().expect("spawn curl"))
        .collect();
    for _ in 0..N {
        arrived
            .recv_timeout(WAIT)
            .expect("a request reaches the handler");
    }
    assert_eq!(limit.inside(), N);

    let refused = run(&[&url]);
    assert_eq!(refused.status, 503, "{}", refused.head);
    assert_eq!(refused.header("retry-after"), Some("7"));
    assert_eq!(refused.body, "too many requests at once");
    // Another route is not limited.
    assert_eq!(run(&[&format!("http://{addr}/free")]).status, 200);
    // The refused one never reached the handler.
    assert!(arrived.try_recv().is_err());

    release.close();
    for child in inside {
        let res = finish(child);
        assert_eq!((res.status, res.body.as_str()), (200, "done"));
    }
    assert_eq!(limit.inside(), 0);
    let res = run(&[&url]);
    assert_eq!((res.status, res.body.as_str()), (200, "done"));
}

#[test]
fn a_place_is_given_back_when_the_future_is_dropped() {
    let limit = ConcurrencyLimit::new(1);
    let stuck = |_req: Request| async {
        async_io::Timer::after(Duration::from_secs(60)).await;
        "never"
    };
    // The timeout is outside the limit: it drops the future that holds the place.
    let handler = stuck
        .with(limit.clone())
        .with(Timeout::new(Duration::from_millis(200)));
    let addr = support::spawn(Router::new().get("/", handler));
    for _ in 0..2 {
        let res = run(&[&format!("http://{addr}/")]);
        // Timed out inside the limit both times, never refused by it.
        assert_eq!((res.status, res.body.as_str()), (503, "request timed out"));
        assert!(support::wait_for(WAIT, Duration::from_millis(5), || limit
            .inside()
            == 0));
    }
}

/// Echoes the length of the body it buffered.
async fn length(mut req: Request) -> smolweb::Result<String> {
    Ok(req.body_bytes().await?.len().to_string())
}

#[test]
fn a_body_over_a_routes_limit_is_413_while_another_route_takes_it() {
    let app = Router::new()
        .post("/small", length.with(BodyLimit::new(1024)))
        .post("/any", length);
    let addr = support::spawn(app);
    let body = "x".repeat(2048);
    let post = |path: &str| run(&["--data-binary", &body, &format!("http://{addr}{path}")]);

    let res = post("/small");
    assert_eq!(res.status, 413, "{}", res.head);
    assert_eq!(res.body, "request body too large");
    let res = post("/any");
    assert_eq!((res.status, res.body.as_str()), (200, "2048"));
}

#[test]
fn a_route_may_raise_the_configured_limit() {
    let config = Config {
        max_body_bytes: 1024,
        ..Config::default()
    };
    let app = Router::new()
        .post("/upload", length.with(BodyLimit::new(4096)))
        .post("/other", length);
    let addr = support::serve(app, config, 1);
    let body = "y".repeat(2048);
    let post = |path: &str| run(&["--data-binary", &body, &format!("http://{addr}{path}")]);

    let res = post("/upload");
    assert_eq!((res.status, res.body.as_str()), (200, "2048"));
    assert_eq!(post("/other").status, 413);
}

#[test]
fn a_wrapped_handler_keeps_its_state_need() {
    struct Greeting(&'static str);
    let greet = stateful(|_req: Request, g: Arc<Greeting>| async move { g.0 });
    let wrapped = greet.with(BodyLimit::new(1));
    let forgot = Router::new().get("/", wrapped);
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        smolweb::Service::new(forgot)
    }));
    assert!(built.is_err(), "a missing state is found at start-up");

    let greet = stateful(|_req: Request, g: Arc<Greeting>| async move { g.0 });
    let app = Router::new()
        .get("/", greet.with(BodyLimit::new(1)))
        .with_state(Greeting("hello"));
    let addr = support::spawn(app);
    let res = run(&[&format!("http://{addr}/")]);
    assert_eq!((res.status, res.body.as_str()), (200, "hello"));
}

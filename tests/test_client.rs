//! `smolweb::test::TestClient`: whole requests through the connection code, in memory.
//! Checked against what the same application answers over a real socket.

mod support;

use std::time::{Duration, Instant};

use futures_lite::AsyncWriteExt;
use smolweb::test::TestClient;
use smolweb::{Body, Config, Request, Response, Router, Service, StatusCode};

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
struct Note {
    title: String,
    tags: Vec<String>,
}

fn app() -> Router {
    Router::new()
        .get("/echo", |req: Request| async move {
            format!(
                "{} {} {}",
                req.path(),
                req.query().unwrap_or("-"),
                req.header("x-a").unwrap_or("-")
            )
        })
        .post("/json", |mut req: Request| async move {
            let note: Note = req.body_json().await?;
            Ok::<_, smolweb::Error>(smolweb::Json(note))
        })
        .post("/form", |mut req: Request| async move {
            let note: std::collections::HashMap<String, String> = req.body_form().await?;
            Ok::<_, smolweb::Error>(note["title"].to_string())
        })
        .post("/count", |mut req: Request| async move {
            Ok::<_, smolweb::Error>(req.body_bytes().await?.len().to_string())
        })
        .get("/big", |_| async { "x".repeat(1 << 20) })
        .post("/login", |_| async {
            let mut res = Response::new(StatusCode::Ok);
            res.append_header("set-cookie", "sid=one; Path=/; HttpOnly");
            res.append_header("set-cookie", "theme=dark; Max-Age=3600");
            res
        })
        .post("/logout", |_| async {
            let mut res = Response::new(StatusCode::Ok);
            res.insert_header("set-cookie", "sid=; Max-Age=0");
            res
        })
        .get("/cookies", |req: Request| async move {
            req.header("cookie").unwrap_or("none").to_string()
        })
}

#[test]
fn paths_queries_headers_and_bodies() {
    smol::block_on(async {
        let client = TestClient::new(app());
        let res = client.get("/echo?x=1&y=2").header("X-A", "b").send().await;
        assert_eq!(res.status(), StatusCode::Ok);
        assert_eq!(res.header("Content-Type"), Some("text/plain;charset=utf-8"));
        assert_eq!(res.text().await, "/echo x=1&y=2 b");

        let note = Note {
            title: "a".into(),
            tags: vec!["x".into()],
        };
        let back: Note = client.post("/json").json(&note).send().await.json().await;
        assert_eq!(back, note);
        let res = client
            .post("/form")
            .form(&[("title", "é & =")])
            .send()
            .await;
        assert_eq!(res.text().await, "é & =");

        // A body larger than the in-memory pipe, both ways.
        let res = client.post("/count").body(vec![7u8; 3 << 19]).send().await;
        assert_eq!(res.text().await, (3 << 19).to_string());
        assert_eq!(client.get("/big").send().await.bytes().await.len(), 1 << 20);

        // HEAD: the head only; unknown paths and methods: the router's answers.
        let res = client.head("/big").send().await;
        assert_eq!(res.header("content-length"), Some("1048576"));
        assert!(res.bytes().await.is_empty());
        assert_eq!(
            client.get("/nope").send().await.status(),
            StatusCode::NotFound
        );
        let res = client.delete("/echo").send().await;
        assert_eq!(res.status(), StatusCode::MethodNotAllowed);
    });
}

/// The same requests over a real socket give the same status, headers and body.
#[test]
fn answers_like_a_socket() {
    let addr = support::serve(app(), Config::default(), 1);
    smol::block_on(async {
        let client = TestClient::new(app());
        for (target, extra) in [("/echo?q=1", "X-A: z\r\n"), ("/nope", ""), ("/big", "")] {
            let over_socket = support::call(addr, "GET", target, extra, b"");
            let mut req = client.get(target);
            if let Some((name, value)) = extra.trim_end().split_once(": ") {
                req = req.header(name, value);
            }
            let res = req.send().await;
            assert_eq!(u16::from(res.status()), over_socket.status, "{target}");
            for name in ["content-type", "content-length"] {
                assert_eq!(
                    res.header(name),
                    over_socket.header(name),
                    "{target} {name}"
                );
            }
            assert_eq!(res.bytes().await, over_socket.body, "{target}");
        }
    });
}

#[test]
fn cookies_are_kept_sent_and_expired() {
    smol::block_on(async {
        let client = TestClient::new(app());
        assert_eq!(client.get("/cookies").send().await.text().await, "none");
        client.post("/login").send().await;
        assert_eq!(client.cookie("sid").as_deref(), Some("one"));
        assert_eq!(
            client.get("/cookies").send().await.text().await,
            "sid=one; theme=dark"
        );
        client.post("/logout").send().await;
        assert_eq!(client.cookies(), vec![("theme".into(), "dark".into())]);
        client.set_cookie("lang", "fr");
        assert_eq!(
            client.get("/cookies").send().await.text().await,
            "theme=dark; lang=fr"
        );
        // A cookie header given by the test replaces the jar's for that request.
        let res = client.get("/cookies").header("cookie", "a=b").send().await;
        assert_eq!(res.text().await, "a=b");
        client.clear_cookies();
        assert_eq!(client.get("/cookies").send().await.text().await, "none");
    });
}

/// A streamed response is read piece by piece while the handler still writes, and a
/// streamed request body reaches the handler as it is written.
#[test]
fn streams_both_ways() {
    // The handler's body reads from one end of an in-memory pipe; the test writes the other.
    let (mut feed, body_end) = smolweb::memory::pair();
    let body_end = std::sync::Mutex::new(Some(body_end));
    let app = Router::new()
        .get("/events", move |_| {
            let end = body_end.lock().unwrap().take().expect("one request");
            async move {
                let reader = futures_lite::io::BufReader::new(end);
                Response::from(Body::from_reader(reader, None))
            }
        })
        .post("/upload", |mut req: Request| async move {
            req.body_string().await
        });
    smol::block_on(async {
        let client = TestClient::new(app);
        let mut res = client.get("/events").send().await;
        assert_eq!(res.header("transfer-encoding"), Some("chunked"));
        for i in 0..3 {
            let event = format!("data: {i}\n\n");
            feed.write_all(event.as_bytes()).await.unwrap();
            // Arrives while the handler's body is still open.
            assert_eq!(res.chunk().await, Some(event.into_bytes()));
        }
        drop(feed);
        assert_eq!(res.chunk().await, None);

        let (mut upload, reader) = smolweb::memory::pair();
        let writer = smol::spawn(async move {
            for i in 0..50 {
                upload.write_all(format!("{i},").as_bytes()).await.unwrap();
                smol::Timer::after(Duration::from_millis(1)).await;
            }
        });
        let res = client.post("/upload").body_reader(reader).send().await;
        let expected: String = (0..50).map(|i| format!("{i},")).collect();
        assert_eq!(res.text().await, expected);
        writer.await;
    });
}

/// The limits of the service's `Config` apply, as on a socket: a body over
/// `max_body_bytes` is a 413.
#[test]
fn a_service_brings_its_config() {
    let service = Service::with_config(
        app(),
        Config {
            max_body_bytes: 1000,
            ..Config::default()
        },
    );
    smol::block_on(async {
        let client = TestClient::new(service);
        let res = client.post("/count").body(vec![0u8; 2000]).send().await;
        assert_eq!(res.status(), StatusCode::PayloadTooLarge);
    });
}

/// A handler that never answers makes the test fail after the client's timeout, not hang.
#[test]
fn a_server_that_never_answers_fails_the_test_in_time() {
    let app = Router::new().get("/stuck", |_| std::future::pending::<&'static str>());
    let started = Instant::now();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        smol::block_on(async {
            let client = TestClient::new(app).timeout(Duration::from_millis(300));
            client.get("/stuck").send().await;
        })
    }));
    let message = outcome.expect_err("a panic");
    let text = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(text.contains("waited 300ms"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

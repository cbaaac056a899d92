//! `examples/notes.rs`, the model application, through `TestClient`: login and the session,
//! the JSON API with its errors, and the event stream.

#![cfg(feature = "sessions")]

mod support;

#[path = "../examples/notes.rs"]
#[allow(dead_code)]
mod notes;

use notes::Note;
use serde_json::{Value, json};
use smolweb::StatusCode;
use smolweb::cookie::Key;
use smolweb::test::TestClient;

fn client() -> TestClient {
    TestClient::new(notes::app(Key::from_bytes(&[5; 32])))
}

async fn login(client: &TestClient) {
    let res = client
        .post("/login")
        .form(&[("user", "ada"), ("password", "secret")])
        .send()
        .await;
    assert_eq!(res.status(), StatusCode::SeeOther);
    assert_eq!(res.header("location"), Some("/me"));
}

#[test]
fn login_me_and_logout() {
    smol::block_on(async {
        let client = client();
        let res = client.get("/me").send().await;
        assert_eq!(res.status(), StatusCode::Unauthorized);
        assert_eq!(res.header("content-type"), Some("application/json"));
        let wrong = client
            .post("/login")
            .form(&[("user", "ada"), ("password", "guess")])
            .send()
            .await;
        assert_eq!(wrong.status(), StatusCode::Unauthorized);
        login(&client).await;
        let me: Value = client.get("/me").send().await.json().await;
        assert_eq!(me, json!({"user": "ada"}));
        assert_eq!(
            client.post("/logout").send().await.status(),
            StatusCode::NoContent
        );
        assert_eq!(
            client.get("/me").send().await.status(),
            StatusCode::Unauthorized
        );
    });
}

#[test]
fn notes_crud_with_typed_ids_and_json_errors() {
    smol::block_on(async {
        let client = client();
        let draft = json!({"title": "milk", "body": "2 l", "tags": ["shop"]});
        // Writes need a session.
        let res = client.post("/notes").json(&draft).send().await;
        assert_eq!(res.status(), StatusCode::Unauthorized);
        login(&client).await;

        let res = client.post("/notes").json(&draft).send().await;
        assert_eq!(res.status(), StatusCode::Created);
        assert_eq!(res.header("location"), Some("/notes/1"));
        let note: Note = res.json().await;
        assert_eq!((note.id, note.author.as_str()), (1, "ada"));
        client
            .post("/notes")
            .json(&json!({"title": "call", "tags": ["work"]}))
            .send()
            .await;

        let shop: Vec<Note> = client.get("/notes?tag=shop").send().await.json().await;
        assert_eq!(shop.len(), 1);
        let first: Vec<Note> = client.get("/notes?limit=1").send().await.json().await;
        assert_eq!(first[0].id, 1);

        let res = client
            .put("/notes/2")
            .json(&json!({"title": "call mum"}))
            .send()
            .await;
        assert_eq!(res.json::<Note>().await.title, "call mum");
        assert_eq!(
            client.delete("/notes/1").send().await.status(),
            StatusCode::NoContent
        );

        // The errors, all JSON.
        let checks = [
            (client.get("/notes/1").send().await, 404, "no note 1"),
            (
                client.get("/notes/abc").send().await,
                400,
                "invalid path parameter `id`",
            ),
            (
                client
                    .post("/notes")
                    .json(&json!({"body": "x"}))
                    .send()
                    .await,
                422,
                "missing field `title`",
            ),
            (
                client.post("/notes").body("title=x").send().await,
                415,
                "expected a JSON body",
            ),
            (client.get("/nowhere").send().await, 404, "Not Found"),
            (
                client.patch("/notes/2").send().await,
                405,
                "Method Not Allowed",
            ),
        ];
        for (res, status, text) in checks {
            assert_eq!(u16::from(res.status()), status, "{text}");
            assert_eq!(res.header("content-type"), Some("application/json"));
            let body: Value = res.json().await;
            assert_eq!(body["status"], status);
            assert!(body["error"].as_str().unwrap().contains(text), "{body}");
        }
    });
}

#[test]
fn the_event_stream_shows_each_change() {
    smol::block_on(async {
        let client = client();
        login(&client).await;
        let mut events = client.get("/events").send().await;
        assert_eq!(events.header("content-type"), Some("text/event-stream"));
        client
            .post("/notes")
            .json(&json!({"title": "milk"}))
            .send()
            .await;
        let mut seen = String::new();
        // Each piece is what has arrived so far; the event is complete at its blank line.
        for _ in 0..10 {
            seen.push_str(&String::from_utf8(events.chunk().await.unwrap()).unwrap());
            if seen.ends_with("\n\n") {
                break;
            }
        }
        assert!(seen.starts_with("event: created\nid: 1\ndata: {"), "{seen}");
        assert!(seen.contains("\"title\":\"milk\""), "{seen}");
        client.delete("/notes/1").send().await;
        let deleted = String::from_utf8(events.chunk().await.unwrap()).unwrap();
        assert!(deleted.starts_with("event: deleted\nid: 1\n"), "{deleted}");
    });
}

/// The example as a process, as a user runs it: it prints its address, and serves.
#[test]
fn the_example_runs() {
    let ex = support::Example::start("notes", &[]);
    assert!(
        ex.first_line.starts_with("notes on http://"),
        "{}",
        ex.first_line
    );
    let res = ex.send(
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
          Content-Length: 24\r\nConnection: close\r\n\r\nuser=ada&password=secret",
    );
    assert_eq!(res.status, 303);
    assert!(res.header("set-cookie").unwrap().contains("HttpOnly"));
    let res = ex.get("/me");
    assert_eq!(res.status, 401);
    assert_eq!(res.header("content-type"), Some("application/json"));
}

/// `--cors-origin`: curl's preflight from that origin gets the CORS answer (with
/// credentials), one from another origin does not; an actual request gets the origin back.
#[test]
fn the_cors_origin_flag_allows_that_origin() {
    let ex = support::Example::start(
        "notes",
        &["--cors-origin", "https://app.example,http://localhost:3000"],
    );
    let url = format!("http://{}/notes/1", ex.addr);
    let preflight = |origin: &str| {
        support::curl(&[
            "-X",
            "OPTIONS",
            "-H",
            &format!("Origin: {origin}"),
            "-H",
            "Access-Control-Request-Method: PUT",
            "-H",
            "Access-Control-Request-Headers: content-type",
            &url,
        ])
    };
    let res = preflight("http://localhost:3000");
    assert_eq!(res.status, 204, "{res:?}");
    assert_eq!(
        res.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    assert_eq!(res.header("access-control-allow-credentials"), Some("true"));
    assert!(
        res.header("access-control-allow-methods")
            .unwrap()
            .contains("PUT")
    );
    let res = preflight("https://evil.example");
    assert_eq!(res.status, 403);
    assert_eq!(res.header("access-control-allow-origin"), None);
    let res = support::curl(&[
        "-H",
        "Origin: https://app.example",
        &format!("http://{}/notes", ex.addr),
    ]);
    assert_eq!(res.status, 200);
    assert_eq!(
        res.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert!(
        res.header("access-control-expose-headers")
            .unwrap()
            .contains("x-served-by")
    );
}

/// Built with `compression`, the example compresses: its event stream reaches curl in
/// brotli (the head arrives before any event; curl gives up after 2 s, as told).
#[cfg(feature = "compression")]
#[test]
fn the_example_compresses_when_built_with_compression() {
    let ex = support::Example::start("notes", &[]);
    let out = std::process::Command::new("curl")
        .args(["-sS", "-N", "--compressed", "--max-time", "2", "-D", "-"])
        .args(["-H", "accept-encoding: br"])
        .arg(format!("http://{}/events", ex.addr))
        .output()
        .expect("curl");
    let head = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-encoding: br\r\n"), "{head}");
    assert!(head.contains("vary: accept-encoding"), "{head}");
}

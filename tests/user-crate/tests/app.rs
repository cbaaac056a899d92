//! The application on a real socket: `Server::bind("127.0.0.1:0")` on a thread, raw HTTP/1.1
//! over `std::net::TcpStream`. Every read has a timeout, so a broken server fails the test
//! rather than hanging it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use smolweb::Server;
use smolweb_user_crate::{AppState, app, handlers::Note};

/// One server for all the tests in this file, started on first use.
fn server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let public = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("public");
        let server = Server::bind("127.0.0.1:0").expect("bind").threads(1);
        let addr = server.local_addr();
        std::thread::spawn(move || server.run(app(AppState::default(), public)));
        addr
    })
}

struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Sends `method path` (with `body`, if any) and `Connection: close`; reads the whole reply.
fn request(method: &str, path: &str, body: Option<&str>) -> Reply {
    let mut conn = TcpStream::connect(server()).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    conn.set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    if let Some(body) = body {
        raw += &format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        );
    }
    raw += "\r\n";
    raw += body.unwrap_or("");
    conn.write_all(raw.as_bytes()).expect("send");
    let mut text = String::new();
    conn.read_to_string(&mut text).expect("read the reply");
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete head");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    Reply {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

#[test]
fn index_and_parameters() {
    let reply = request("GET", "/", None);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, "user crate\n");
    assert_eq!(reply.header("x-app"), Some("user-crate"));

    let reply = request("GET", "/hello/Ada%20L", None);
    assert_eq!(reply.body, "hello, Ada L\n");
}

#[test]
fn notes_round_trip() {
    let reply = request(
        "POST",
        "/api/notes",
        Some(r#"{"text":"remember the milk"}"#),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let note: Note = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(note.text, "remember the milk");

    let reply = request("GET", &format!("/api/notes/{}", note.id), None);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(serde_json::from_str::<Note>(&reply.body).unwrap(), note);

    let reply = request("GET", "/api/notes", None);
    let all: Vec<Note> = serde_json::from_str(&reply.body).unwrap();
    assert!(all.contains(&note));
}

#[test]
fn client_errors() {
    assert_eq!(request("GET", "/api/notes/999999", None).status, 404);
    assert_eq!(request("GET", "/api/notes/abc", None).status, 400);
    assert_eq!(request("POST", "/api/notes", Some("not json")).status, 400);
    assert_eq!(
        request("POST", "/api/notes", Some(r#"{"text":" "}"#)).status,
        422
    );
    let reply = request("DELETE", "/api/notes", None);
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET, POST, HEAD"));
    // The middleware wraps the router's own answers too.
    assert_eq!(reply.header("x-app"), Some("user-crate"));
}

#[test]
fn static_files() {
    let reply = request("GET", "/static/hello.txt", None);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, "hello from a static file\n");
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain;charset=utf-8")
    );
    assert_eq!(request("GET", "/static/missing.txt", None).status, 404);
    // An encoded slash cannot smuggle a `..` past the URL parser.
    assert_eq!(request("GET", "/static/..%2fCargo.toml", None).status, 400);
}

//! A small notes API built from the toolkit, as a model for an application: a form login
//! with a session, typed path parameters, JSON bodies checked for their content type and
//! shape, JSON errors everywhere, and a live stream of changes (server-sent events).
//!
//! * `POST /login` (form `user`, `password`; the password is `secret`) starts a session and
//!   answers `303` to `/me`; `POST /logout` ends it.
//! * `GET /me` → `{"user": "..."}`, or `401` when logged out.
//! * `GET /notes?tag=&limit=` lists notes (with `tag`, only those that have it).
//! * `POST /notes` with JSON `{"title", "body", "tags"}` creates one: `201` with `Location`;
//!   no title → `422` naming `title`; not JSON → `415`. `GET`, `PUT` and `DELETE
//!   /notes/:id` (an integer id: `/notes/abc` is a `400`). Writes need a session (`401`).
//! * `GET /events`: every change, as it happens (`event: created|updated|deleted`, the note
//!   as JSON data).
//! * Anything else: a JSON `404`.
//!
//! Sessions live in memory (they end with the process), or in Redis with
//! `--sessions redis://HOST:PORT` (feature `redis`), where several instances behind a load
//! balancer share them. The session key comes from `NOTES_KEY` (64 hex digits, the same for
//! every instance) or is made at start-up. Needs the `sessions` feature. Every response says
//! which process served it in `x-served-by`.
//!
//! With `--cors-origin ORIGIN` (repeatable, or comma-separated: `https://app.example`), pages
//! of those origins may call the API from a browser with the session cookie: CORS with
//! credentials, preflights answered for `GET`, `POST`, `PUT`, `DELETE` and `Content-Type`.
//!
//! Built with the `compression` feature too, responses (the JSON lists, the event stream,
//! event by event) are compressed with brotli, zstd or gzip for clients that accept them:
//! `cargo run --example notes --features sessions,compression`.
//!
//! ```sh
//! cargo run --example notes --features sessions -- 127.0.0.1:8080
//! cargo run --example notes --features sessions -- 127.0.0.1:8080 \
//!     --cors-origin https://app.example --cors-origin http://localhost:3000
//! curl -c jar -b jar -d 'user=ada&password=secret' http://127.0.0.1:8080/login
//! curl -b jar -H 'content-type: application/json' \
//!     -d '{"title":"milk","body":"2 l","tags":["shop"]}' http://127.0.0.1:8080/notes
//! curl 'http://127.0.0.1:8080/notes?tag=shop'
//! curl -N http://127.0.0.1:8080/events
//! ```

#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use smolweb::cookie::Key;
use smolweb::middleware::Cors;
use smolweb::session::{MemoryStore, Session, Sessions};
use smolweb::sse::{Event, Sse};
use smolweb::{Error, Json, Method, Request, Response, Result, Router, StatusCode};

/// A note as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Note {
    pub id: u64,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    /// Who wrote it.
    pub author: String,
}

/// What a client sends to create or replace a note.
#[derive(Debug, Deserialize)]
struct Draft {
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize)]
struct Login {
    user: String,
    password: String,
}

#[derive(Deserialize)]
struct Listing {
    tag: Option<String>,
    limit: Option<usize>,
}

/// Everything the application keeps.
#[derive(Default)]
struct Notes {
    notes: Mutex<(u64, BTreeMap<u64, Note>)>,
    /// One sender per open `/events` stream.
    listeners: Mutex<Vec<smol::channel::Sender<Event>>>,
}

impl Notes {
    /// Tells every open event stream about `note`; streams whose client left are dropped.
    fn publish(&self, kind: &str, note: &Note) {
        let event = Event::json(note)
            .expect("a note is JSON")
            .event(kind)
            .id(note.id.to_string());
        let mut listeners = self.listeners.lock().unwrap();
        listeners.retain(|tx| tx.try_send(event.clone()).is_ok());
    }
}

fn session(req: &Request) -> &Session {
    req.ext::<Session>().expect("the Sessions middleware")
}

/// The logged-in user, or `401`.
fn user(req: &Request) -> Result<String> {
    session(req)
        .get::<String>("user")
        .ok_or_else(|| Error::new(StatusCode::Unauthorized, "log in first"))
}

async fn login(mut req: Request) -> Result<Response> {
    let form: Login = req.body_form().await?;
    if form.password != "secret" {
        return Err(Error::new(
            StatusCode::Unauthorized,
            "wrong user or password",
        ));
    }
    let session = session(&req);
    // A new id at login: one planted before is worth nothing after.
    session.renew();
    session.insert("user", &form.user);
    let mut res = Response::new(StatusCode::SeeOther);
    res.insert_header("location", "/me");
    Ok(res)
}

async fn logout(req: Request) -> StatusCode {
    session(&req).destroy();
    StatusCode::NoContent
}

async fn me(req: Request) -> Result<Json<serde_json::Value>> {
    Ok(Json(serde_json::json!({ "user": user(&req)? })))
}

async fn list(req: Request) -> Result<Json<Vec<Note>>> {
    let query: Listing = req.query_as()?;
    let notes = req.state::<Notes>().notes.lock().unwrap();
    let found = notes
        .1
        .values()
        .filter(|n| query.tag.as_ref().is_none_or(|t| n.tags.contains(t)))
        .take(query.limit.unwrap_or(usize::MAX))
        .cloned()
        .collect();
    Ok(Json(found))
}

async fn create(mut req: Request) -> Result<Response> {
    let author = user(&req)?;
    let draft: Draft = req.body_json().await?;
    let state = req.state_arc::<Notes>();
    let note = {
        let mut notes = state.notes.lock().unwrap();
        notes.0 += 1;
        let note = Note {
            id: notes.0,
            title: draft.title,
            body: draft.body,
            tags: draft.tags,
            author,
        };
        notes.1.insert(note.id, note.clone());
        note
    };
    state.publish("created", &note);
    let mut res = Response::new(StatusCode::Created);
    res.insert_header("location", format!("/notes/{}", note.id));
    res.set_body(serde_json::to_string(&note).expect("a note is JSON"));
    res.insert_header("content-type", "application/json");
    Ok(res)
}

async fn get_note(req: Request) -> Result<Json<Note>> {
    let (id,): (u64,) = req.params()?;
    let notes = req.state::<Notes>().notes.lock().unwrap();
    let note = notes.1.get(&id).cloned();
    note.map(Json)
        .ok_or_else(|| Error::new(StatusCode::NotFound, format!("no note {id}")))
}

async fn replace(mut req: Request) -> Result<Json<Note>> {
    let author = user(&req)?;
    let (id,): (u64,) = req.params()?;
    let draft: Draft = req.body_json().await?;
    let state = req.state_arc::<Notes>();
    let note = {
        let mut notes = state.notes.lock().unwrap();
        let note = notes
            .1
            .get_mut(&id)
            .ok_or_else(|| Error::new(StatusCode::NotFound, format!("no note {id}")))?;
        (note.title, note.body, note.tags, note.author) =
            (draft.title, draft.body, draft.tags, author);
        note.clone()
    };
    state.publish("updated", &note);
    Ok(Json(note))
}

async fn delete(req: Request) -> Result<StatusCode> {
    user(&req)?;
    let (id,): (u64,) = req.params()?;
    let state = req.state::<Notes>();
    let note = state.notes.lock().unwrap().1.remove(&id);
    let note = note.ok_or_else(|| Error::new(StatusCode::NotFound, format!("no note {id}")))?;
    state.publish("deleted", &note);
    Ok(StatusCode::NoContent)
}

async fn events(req: Request) -> Sse<smol::channel::Receiver<Event>> {
    let (tx, rx) = smol::channel::bounded(64);
    req.state::<Notes>().listeners.lock().unwrap().push(tx);
    Sse::new(rx)
}

/// The whole application, its sessions in memory and signed with `key`.
pub fn app(key: Key) -> Router {
    app_with(Sessions::new(MemoryStore::new(), key))
}

/// The whole application with `sessions` (in Redis, say, for several instances). Every
/// response says which process served it (`x-served-by`), to watch a load balancer at work.
pub fn app_with(sessions: Sessions) -> Router {
    app_with_cors(sessions, None)
}

/// [`app_with`], and with `cors` (outermost, so that it answers preflights before the
/// session is loaded and for every path) if given.
pub fn app_with_cors(sessions: Sessions, cors: Option<Cors>) -> Router {
    let app = match cors {
        Some(cors) => Router::new().middleware(cors),
        None => Router::new(),
    };
    let app = app
        .post("/login", login)
        .post("/logout", logout)
        .get("/me", me)
        .get("/notes", list)
        .post("/notes", create)
        .get("/notes/:id", get_note)
        .put("/notes/:id", replace)
        .delete("/notes/:id", delete)
        .get("/events", events)
        .with_state(Notes::default())
        .middleware(sessions)
        .middleware(served_by)
        .json_errors();
    compressed(app)
}

/// `app` with responses compressed, when built with the `compression` feature.
fn compressed(app: Router) -> Router {
    #[cfg(feature = "compression")]
    let app = app.middleware(smolweb::middleware::Compression::new());
    app
}

async fn served_by(req: Request, next: smolweb::Next) -> Response {
    let mut res = next.run(req).await;
    res.insert_header("x-served-by", std::process::id().to_string());
    res
}

const USAGE: support::Usage = support::Usage {
    name: "notes",
    args: "[ADDR] [--sessions redis://HOST:PORT] [--cors-origin ORIGIN]...",
    about: "A notes API on ADDR (default 127.0.0.1:8080): POST /login (user, password=secret),
GET /me, GET|POST /notes, GET|PUT|DELETE /notes/:id, GET /events (server-sent events).
Sessions are kept in memory, or in Redis with --sessions (feature redis); the session key is
NOTES_KEY (64 hex digits; several instances must share it) or made at start-up.
--cors-origin ORIGIN (repeatable, or comma-separated) lets pages of ORIGIN (scheme://host[:port])
call the API from a browser, cookies included.",
};

/// CORS for `origins` (each maybe a comma-separated list), with credentials; `None` if none.
pub fn cors(
    origins: &[String],
) -> std::result::Result<Option<Cors>, smolweb::middleware::InvalidOrigin> {
    let origins: Vec<&str> = origins
        .iter()
        .flat_map(|o| o.split(','))
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .collect();
    if origins.is_empty() {
        return Ok(None);
    }
    let cors = Cors::new()
        .try_allow_origins(origins)?
        .allow_methods([Method::Get, Method::Post, Method::Put, Method::Delete])
        .allow_headers(["content-type"])
        .expose_headers(["location", "x-served-by"])
        .allow_credentials(true)
        .max_age(Duration::from_secs(600));
    Ok(Some(cors))
}

/// The session key: `NOTES_KEY` (hex) if set, else a new one.
fn session_key() -> Key {
    let Ok(hex) = std::env::var("NOTES_KEY") else {
        return Key::generate();
    };
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    match bytes {
        Some(bytes) if bytes.len() >= 32 => Key::from_bytes(&bytes),
        _ => USAGE.refuse("NOTES_KEY must be at least 64 hex digits"),
    }
}

#[allow(dead_code)]
fn main() {
    let (args, options) = USAGE.parse_repeated(1, &["--sessions", "--cors-origin"]);
    let addr = args.first().map_or(support::DEFAULT_ADDR, String::as_str);
    if options[0].len() > 1 {
        USAGE.refuse("--sessions given more than once (see --help)");
    }
    let cors = cors(&options[1]).unwrap_or_else(|e| USAGE.refuse(e));
    let key = session_key();
    let sessions = match options[0].first().map(String::as_str) {
        None | Some("memory") => Sessions::new(MemoryStore::new(), key),
        #[cfg(feature = "redis")]
        Some(url) => match smolweb::session::RedisStore::open(url) {
            Ok(store) => Sessions::new(store, key),
            Err(e) => USAGE.refuse(e),
        },
        #[cfg(not(feature = "redis"))]
        Some(url) => USAGE.refuse(format!("{url}: Redis sessions need the redis feature")),
    };
    let server = USAGE.bind(addr);
    println!("notes on {}", support::url(&server));
    USAGE.exit(server.run(app_with_cors(sessions, cors)));
}

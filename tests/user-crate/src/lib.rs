//! A small application built on smolweb's public API: handlers in their own module, state,
//! a middleware, a nested router and a static directory.
//!
//! `tests/app.rs` runs it on a real socket.

use std::path::PathBuf;
use std::sync::Mutex;

use smolweb::{Next, Request, Response, Router, ServeDir};

pub mod handlers;

/// The application's shared state.
#[derive(Debug, Default)]
pub struct AppState {
    /// Notes posted so far.
    pub notes: Mutex<Vec<handlers::Note>>,
}

/// Stamps every response with the application's name.
pub async fn app_header(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    res.insert_header("x-app", "user-crate");
    res
}

/// The whole application: `static_dir` is served under `/static/`.
pub fn app(state: AppState, static_dir: impl Into<PathBuf>) -> Router {
    let api = Router::new()
        .get("/notes", handlers::list_notes)
        .post("/notes", handlers::add_note)
        .get("/notes/:id", handlers::get_note);
    Router::new()
        .get("/", handlers::index)
        .get("/hello/:name", handlers::hello)
        .nest("/api", api)
        .get("/static/*path", ServeDir::new(static_dir))
        .with_state(state)
        .middleware(app_header)
}

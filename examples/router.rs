//! A small JSON API: path parameters, JSON in and out, shared state and middleware.
//!
//! ```sh
//! cargo run --example router
//! curl -X POST -d '{"text":"buy milk"}' http://127.0.0.1:8080/api/todos
//! curl http://127.0.0.1:8080/api/todos/1
//! curl http://127.0.0.1:8080/api/todos
//! curl -i http://127.0.0.1:8080/api/todos/99      # 404 with a JSON-free plain message
//! curl -i -X DELETE http://127.0.0.1:8080/api/todos   # 405, with an Allow header
//! ```
//!
//! The address comes from the first argument (default `127.0.0.1:8080`).

mod support;

use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use smolweb::{Error, Json, Next, Request, Response, Result, Router, StatusCode};

#[derive(Clone, Serialize)]
struct Todo {
    id: u64,
    text: String,
}

#[derive(Deserialize)]
struct NewTodo {
    text: String,
}

/// The application's state: one lock around a list is plenty for an example.
#[derive(Default)]
struct Todos(Mutex<Vec<Todo>>);

async fn list(req: Request) -> Json<Vec<Todo>> {
    Json(req.state::<Todos>().0.lock().unwrap().clone())
}

async fn create(mut req: Request) -> Result<(StatusCode, Json<Todo>)> {
    let new: NewTodo = req.body_json().await?;
    let mut todos = req.state::<Todos>().0.lock().unwrap();
    let todo = Todo {
        id: todos.len() as u64 + 1,
        text: new.text,
    };
    todos.push(todo.clone());
    Ok((StatusCode::Created, Json(todo)))
}

async fn show(req: Request) -> Result<Json<Todo>> {
    let id: u64 = req
        .param("id")
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| Error::new(StatusCode::BadRequest, "id must be a number"))?;
    let todos = req.state::<Todos>().0.lock().unwrap();
    let todo = todos.iter().find(|t| t.id == id);
    todo.cloned()
        .map(Json)
        .ok_or_else(|| Error::new(StatusCode::NotFound, "no such todo"))
}

/// Middleware: stamps every response with the server's name.
async fn server_name(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    res.insert_header("server", "smolweb-example");
    res
}

const USAGE: support::Usage = support::Usage {
    name: "router",
    args: "[ADDR]",
    about: "A JSON API of todos on ADDR (default 127.0.0.1:8080): open
http://127.0.0.1:8080/api/todos, POST JSON like {\"text\":\"buy milk\"} there.",
};

fn main() {
    let args = USAGE.parse(1);
    let api = Router::new()
        .get("/todos", list)
        .post("/todos", create)
        .get("/todos/:id", show)
        .with_state(Todos::default());
    let app = Router::new()
        .get("/", |_| async { "try /api/todos" })
        .nest("/api", api)
        .middleware(smolweb::log_requests)
        .middleware(server_name);

    let server = USAGE.bind(args.first().map_or(support::DEFAULT_ADDR, String::as_str));
    println!("listening on http://{}", server.local_addr());
    USAGE.exit(server.run(app));
}

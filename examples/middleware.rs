//! Middleware: a timing header on every response, a bearer-token check that short-circuits
//! with `401` on a nested `/admin` router, and `smolweb::log_requests` with a tiny logger.
//!
//! * Every response carries `x-response-time` (the time until the handler returned).
//! * `/admin/...` needs `Authorization: Bearer let-me-in`; without it the auth middleware
//!   answers `401` itself and the handler never runs. With it, the middleware stores the
//!   caller's name on the request (`insert_ext`) for the handler to read.
//! * `log_requests` logs one line per request through the `log` facade. smolweb never
//!   installs a logger: the application picks one. This example installs a ten-line one that
//!   writes to stderr; a real application would use `env_logger` or similar.
//!
//! ```sh
//! cargo run --example middleware
//! curl -i http://127.0.0.1:8080/                                          # 200, x-response-time
//! curl -i http://127.0.0.1:8080/admin/stats                               # 401
//! curl -i -H 'Authorization: Bearer let-me-in' http://127.0.0.1:8080/admin/stats   # 200
//! ```
//!
//! The address comes from the first argument (default `127.0.0.1:8080`).

mod support;

use std::time::Instant;

use smolweb::{Next, Request, Response, Router, StatusCode};

/// The token `/admin` accepts. A real application would read it from its configuration.
const TOKEN: &str = "let-me-in";

/// Who the auth middleware let in; stored on the request for the handlers behind it.
struct Caller(&'static str);

/// Adds `x-response-time` to every response, in milliseconds.
async fn timing(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let mut res = next.run(req).await;
    let ms = start.elapsed().as_secs_f64() * 1e3;
    res.insert_header("x-response-time", format!("{ms:.3}ms"));
    res
}

/// Lets a request through only with the right bearer token; otherwise answers `401` itself.
async fn require_token(mut req: Request, next: Next) -> Response {
    let authorized = req
        .header("authorization")
        .and_then(|value| value.strip_prefix("Bearer "))
        .is_some_and(|token| token == TOKEN);
    if !authorized {
        let mut res = Response::new(StatusCode::Unauthorized);
        res.insert_header("www-authenticate", "Bearer");
        res.set_body("missing or wrong bearer token\n");
        return res; // short-circuit: `next` is never run
    }
    req.insert_ext(Caller("admin"));
    next.run(req).await
}

async fn stats(req: Request) -> String {
    let caller = req.ext::<Caller>().map_or("?", |c| c.0);
    format!("hello {caller}: all systems nominal\n")
}

/// The smallest useful `log` logger: every record at `info` and above, to stderr.
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Info
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!("[{}] {}", record.level(), record.args());
        }
    }
    fn flush(&self) {}
}

const USAGE: support::Usage = support::Usage {
    name: "middleware",
    args: "[ADDR]",
    about: "Middleware on ADDR (default 127.0.0.1:8080): open http://127.0.0.1:8080/ (a timing
header) and http://127.0.0.1:8080/admin/stats (needs Authorization: Bearer let-me-in).",
};

fn main() {
    let args = USAGE.parse(1);
    static LOGGER: StderrLogger = StderrLogger;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }

    let admin = Router::new().get("/stats", stats).middleware(require_token);
    let app = Router::new()
        .get("/", |_| async { "public page; try /admin/stats\n" })
        .nest("/admin", admin)
        // First added is outermost: the log line includes the time `timing` took too.
        .middleware(smolweb::log_requests)
        .middleware(timing);

    let server = USAGE.bind(args.first().map_or(support::DEFAULT_ADDR, String::as_str));
    println!("listening on http://{}", server.local_addr());
    USAGE.exit(server.run(app));
}

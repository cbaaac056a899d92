//! `RequestId` over real sockets, with curl as the client: an id made, one taken from a
//! trusted proxy, one from an untrusted peer replaced, a 200-byte one replaced; and the id in
//! `log_requests`' line whichever order the two are added in.

mod support;

use std::sync::Mutex;

use smolweb::middleware::{RequestId, TrustedProxies};
use smolweb::{Request, Router};
use support::curl;

/// Every `info` record logged in this process.
static RECORDS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Info
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            RECORDS.lock().unwrap().push(record.args().to_string());
        }
    }
    fn flush(&self) {}
}

fn capture_logs() {
    static LOGGER: Capture = Capture;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
}

/// Answers the request's id; trusts `trusted` as proxies.
fn app(trusted: &[&str]) -> Router {
    Router::new()
        .get("/id", |req: Request| async move {
            req.request_id().unwrap_or("none").to_string()
        })
        .middleware(TrustedProxies::new(trusted).unwrap())
        .middleware(RequestId::new())
}

/// The id the response carried, checked equal to what the handler saw.
fn id_of(url: &str, sent: Option<&str>) -> String {
    let header = sent.map(|id| format!("X-Request-Id: {id}"));
    let mut args = vec![url];
    if let Some(header) = &header {
        args.splice(0..0, ["-H", header.as_str()]);
    }
    let res = curl(&args);
    assert_eq!(res.status, 200);
    let id = res.header("x-request-id").expect("x-request-id").to_owned();
    assert_eq!(res.body, id);
    id
}

#[test]
fn ids_are_made_and_taken_only_from_trusted_proxies() {
    let trusting = support::spawn(app(&["127.0.0.1"]));
    let url = format!("http://{trusting}/id");
    let made = id_of(&url, None);
    assert!(made.len() > 8, "{made}");
    assert_ne!(id_of(&url, None), made, "a new id per request");
    assert_eq!(id_of(&url, Some("proxy-id-42")), "proxy-id-42");
    let long = "a".repeat(200);
    let replaced = id_of(&url, Some(&long));
    assert_ne!(replaced, long);
    assert!(replaced.len() <= smolweb::middleware::MAX_REQUEST_ID_BYTES);
    assert_eq!(id_of(&url, Some(&"b".repeat(128))), "b".repeat(128));

    let untrusting = support::spawn(app(&["10.0.0.0/8"]));
    let url = format!("http://{untrusting}/id");
    assert_ne!(id_of(&url, Some("chosen-by-client")), "chosen-by-client");
}

#[test]
fn log_requests_prints_the_id_in_either_order() {
    capture_logs();
    let id_app = |log_first: bool| {
        let router = Router::new().get("/logged", |_| async { "ok" });
        if log_first {
            router
                .middleware(smolweb::log_requests)
                .middleware(RequestId::new())
        } else {
            router
                .middleware(RequestId::new())
                .middleware(smolweb::log_requests)
        }
    };
    for log_first in [true, false] {
        let addr = support::spawn(id_app(log_first));
        let res = curl(&[&format!("http://{addr}/logged")]);
        let id = res.header("x-request-id").unwrap();
        let want = format!(" id={id}");
        let lines = RECORDS.lock().unwrap().clone();
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("GET /logged 200 ") && l.ends_with(&want)),
            "log_first={log_first}: {lines:?}"
        );
    }
}

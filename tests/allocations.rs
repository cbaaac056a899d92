//! What a keep-alive request allocates once its connection is warm.
//!
//! A counting global allocator counts the allocations made on this test's own thread, while
//! one connection over the in-memory transport answers requests one after another on that
//! thread (`block_on`, no executor, no reactor wakes), so the count is the same on every run.
//! The benchmark (`bench/src/bin/alloc-count.rs`) measures the same over loopback TCP, where
//! the runtime's reactor adds its own.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use futures_lite::{AsyncReadExt, AsyncWriteExt, future};
use smolweb::{Request, Router, Service, memory};

struct Counting;

thread_local! {
    /// `Some(n)` while this thread counts its allocations.
    static COUNT: Cell<Option<u64>> = const { Cell::new(None) };
}

fn count_one() {
    // `try_with`: the allocator may run while this thread's locals are being torn down.
    let _ = COUNT.try_with(|c| c.set(c.get().map(|n| n + 1)));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const WARM_UP: u64 = 20;
const REQUESTS: u64 = 200;

/// Allocations per request over [`REQUESTS`] keep-alive `GET {path}` requests on one warm
/// connection, each answered with `expect_body`.
fn allocations_per_request(router: Router, path: &str, expect_body: &[u8]) -> f64 {
    let service = Service::new(router);
    let (mut client, server) = memory::pair();
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n");
    let client_side = async {
        let mut buf = vec![0u8; 4096];
        for i in 0..WARM_UP + REQUESTS {
            if i == WARM_UP {
                COUNT.with(|c| c.set(Some(0)));
            }
            client.write_all(request.as_bytes()).await.unwrap();
            // Read one whole response: the head, then the body by its length.
            let mut have = 0;
            let end = loop {
                let n = client.read(&mut buf[have..]).await.unwrap();
                assert!(n > 0, "connection closed");
                have += n;
                if let Some(at) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
                    let end = at + 4 + expect_body.len();
                    if have >= end {
                        break end;
                    }
                }
            };
            assert!(buf.starts_with(b"HTTP/1.1 200 OK\r\n"));
            assert_eq!(&buf[end - expect_body.len()..end], expect_body);
            assert_eq!(have, end, "one response per request");
        }
        let counted = COUNT.with(|c| c.replace(None)).unwrap();
        drop(client);
        counted
    };
    let (counted, ()) =
        future::block_on(future::zip(client_side, service.serve_connection(server)));
    counted as f64 / REQUESTS as f64
}

#[test]
fn a_hello_request_allocates_only_its_response() {
    async fn hello(_req: Request) -> &'static str {
        "Hello, World!"
    }
    let per_request = allocations_per_request(Router::new().get("/", hello), "/", b"Hello, World!");
    // The `http_types::Response`: its header map holding `content-type` (a table, a `Vec`,
    // a `String`) and its boxed body. The head's bytes and the handler's future reuse their
    // connection's rooms.
    assert_eq!(per_request, 4.0);
}

#[test]
fn a_routed_parameter_costs_one_more() {
    let router = Router::new().get("/users/:id", |req: Request| async move {
        if req.param("id") == Some("42") {
            "found"
        } else {
            "other"
        }
    });
    let per_request = allocations_per_request(router, "/users/42", b"found");
    // The response's four, and the `Vec` the parameter is recorded in.
    assert_eq!(per_request, 5.0);
}

#[test]
fn middleware_costs_the_box_of_the_future_it_awaits() {
    async fn hello(_req: Request) -> &'static str {
        "Hello, World!"
    }
    async fn pass(req: Request, next: smolweb::Next) -> smolweb::Response {
        next.run(req).await
    }
    let router = Router::new().get("/", hello).middleware(pass);
    let per_request = allocations_per_request(router, "/", b"Hello, World!");
    // The response's four, and the handler's future, boxed by `Next::run`; the middleware's
    // own future reuses the connection's room.
    assert_eq!(per_request, 5.0);
}

#[test]
fn a_whole_file_costs_what_it_always_did() {
    use std::path::PathBuf;
    use std::sync::Arc;

    let dir = std::env::temp_dir().join(format!("smolweb-alloc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path: Arc<PathBuf> = Arc::new(dir.join("hello.txt"));
    std::fs::write(&*path, b"Hello, file!").unwrap();
    let served = path.clone();
    let router = Router::new().get("/f", move |req: Request| {
        let path = served.clone();
        async move {
            smolweb::FileResponse::open(&*path)
                .expect("open")
                .respond_to(&req)
        }
    });
    let per_request = allocations_per_request(router, "/f", b"Hello, file!");
    let _ = std::fs::remove_dir_all(&dir);
    // A plain file answer (no `Range`): the response's header map and extensions, the etag
    // and date strings, the open. The file body may hold a sequence of segments (multipart
    // ranges) without adding an allocation here.
    assert_eq!(per_request, 12.0);
}

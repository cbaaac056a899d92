//! Shared pieces of the smolweb benchmark harness: the hyper peer server, the smolweb hello
//! router, and a blocking keep-alive client that does not allocate in its request loop.

pub mod client;
pub mod hyper_app;

/// smolweb's hello router, the same as `examples/hello.rs`.
pub fn smolweb_hello_router() -> smolweb::Router {
    async fn hello(_req: smolweb::Request) -> &'static str {
        "Hello, World!"
    }
    smolweb::Router::new().get("/", hello)
}

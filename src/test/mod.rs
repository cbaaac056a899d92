//! Testing an application with no port: [`TestClient`] runs whole requests through the same
//! connection code a socket does (the parser, the limits, the router, the middleware, the
//! response writer), over the in-memory transport ([`memory`](crate::memory)).
//!
//! ```
//! use smolweb::{Request, Router, StatusCode, test::TestClient};
//!
//! let app = Router::new()
//!     .get("/hello/:name", |req: Request| async move {
//!         format!("hello {}", req.param("name").unwrap_or("?"))
//!     });
//! smol::block_on(async {
//!     let client = TestClient::new(app);
//!     let res = client.get("/hello/Ada?x=1").header("accept", "text/plain").send().await;
//!     assert_eq!(res.status(), StatusCode::Ok);
//!     assert_eq!(res.header("content-type"), Some("text/plain;charset=utf-8"));
//!     assert_eq!(res.text().await, "hello Ada");
//! });
//! ```
//!
//! Each request runs on a connection of its own. Cookies a response sets are kept in the
//! client's jar and sent with its later requests, as a browser would for one site (domains
//! and paths are not told apart). A response body can be read whole ([`TestResponse::text`],
//! [`bytes`](TestResponse::bytes), [`json`](TestResponse::json)) or piece by piece as the
//! handler writes it ([`TestResponse::chunk`], for streams and server-sent events). Every
//! wait is bounded by the client's [`timeout`](TestClient::timeout); a test that would hang
//! panics instead.
//!
//! | file | what it is |
//! | --- | --- |
//! | `client.rs` | [`TestClient`], and [`TestRequest`], the request being built |
//! | `response.rs` | [`TestResponse`]: the head, and the body as it arrives |
//! | `jar.rs` | the cookie jar: `Set-Cookie` in, `Cookie` out |

mod client;
mod jar;
mod response;

pub use client::{TEST_TIMEOUT, TestClient, TestRequest};
pub use response::{TestResponse, TestUpgraded};

//! Sessions (feature `sessions`): the signed id cookie and its attributes, login with a
//! renewed id, logout, tampering, expiry, key rotation; in memory with `TestClient`, and over a
//! socket with curl's cookie jar as the independent client (and over TLS for `Secure`, with
//! the `tls` feature too).

#![cfg(feature = "sessions")]

mod support;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use smolweb::cookie::{CookieSigner, Key};
use smolweb::session::{MemoryStore, Session, SessionData, SessionStore, Sessions};
use smolweb::test::TestClient;
use smolweb::{BoxFuture, Config, Request, Router, StatusCode};

const KEY: [u8; 32] = [42; 32];

fn session(req: &Request) -> &Session {
    req.ext::<Session>().expect("behind Sessions")
}

/// A store shared with the test, to look inside.
#[derive(Clone, Default)]
struct Shared(Arc<MemoryStore>);

impl SessionStore for Shared {
    fn load(&self, id: &str, ttl: Duration) -> BoxFuture<std::io::Result<Option<SessionData>>> {
        self.0.load(id, ttl)
    }
    fn store(&self, id: &str, data: SessionData, ttl: Duration) -> BoxFuture<std::io::Result<()>> {
        self.0.store(id, data, ttl)
    }
    fn destroy(&self, id: &str) -> BoxFuture<std::io::Result<()>> {
        self.0.destroy(id)
    }
}

fn app(sessions: Sessions) -> Router {
    Router::new()
        .post("/login", |req: Request| async move {
            let session = session(&req);
            session.renew();
            session.insert("user", "ada");
            StatusCode::SeeOther
        })
        .get("/me", |req: Request| async move {
            session(&req)
                .get::<String>("user")
                .unwrap_or_else(|| "nobody".into())
        })
        .post("/logout", |req: Request| async move {
            session(&req).destroy();
            "bye"
        })
        .get("/visit", |req: Request| async move {
            let n = session(&req).get::<u32>("n").unwrap_or(0) + 1;
            session(&req).insert("n", n);
            n.to_string()
        })
        .middleware(sessions)
}

#[test]
fn login_renews_the_id_and_logout_forgets_it() {
    let store = Shared::default();
    let client = TestClient::new(app(Sessions::new(store.clone(), Key::from_bytes(&KEY))));
    smol::block_on(async {
        // A visitor who stores nothing gets no cookie and costs the store nothing.
        let res = client.get("/me").send().await;
        assert!(res.header("set-cookie").is_none());
        assert_eq!(res.text().await, "nobody");
        assert!(store.0.is_empty());

        // A session before login (an attacker could have planted this id).
        assert_eq!(client.get("/visit").send().await.text().await, "1");
        let planted = client.cookie("sid").expect("a session cookie");

        let res = client.post("/login").send().await;
        let set = res
            .header("set-cookie")
            .expect("a cookie at login")
            .to_string();
        for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=86400"] {
            assert!(set.contains(attr), "{set}");
        }
        assert!(!set.contains("Secure"), "not over TLS: {set}");
        let logged_in = client.cookie("sid").unwrap();
        assert_ne!(logged_in, planted, "login must renew the id");
        assert_eq!(client.get("/me").send().await.text().await, "ada");
        assert_eq!(store.0.len(), 1, "the planted session is forgotten");

        // The planted id no longer reaches the logged-in session.
        client.set_cookie("sid", &planted);
        assert_eq!(client.get("/me").send().await.text().await, "nobody");
        client.set_cookie("sid", &logged_in);

        let res = client.post("/logout").send().await;
        assert!(res.header("set-cookie").unwrap().contains("Max-Age=0"));
        assert_eq!(client.cookie("sid"), None);
        assert!(store.0.is_empty());
        client.set_cookie("sid", &logged_in);
        assert_eq!(client.get("/me").send().await.text().await, "nobody");
    });
}

#[test]
fn a_tampered_cookie_is_a_new_session_and_keys_rotate() {
    let old = Key::from_bytes(&[1; 32]);
    let client = TestClient::new(app(Sessions::new(MemoryStore::new(), old.clone())));
    smol::block_on(async {
        client.post("/login").send().await;
        let cookie = client.cookie("sid").unwrap();
        let (id, mac) = cookie.split_once('.').unwrap();
        let mut other = id.to_string();
        other.replace_range(0..1, if id.starts_with('0') { "1" } else { "0" });
        client.set_cookie("sid", &format!("{other}.{mac}"));
        assert_eq!(client.get("/me").send().await.text().await, "nobody");
        client.set_cookie("sid", id);
        assert_eq!(client.get("/me").send().await.text().await, "nobody");
    });
    // The same store under a new key that still accepts the old one.
    let store = Shared::default();
    let before = TestClient::new(app(Sessions::new(store.clone(), old.clone())));
    let signer = CookieSigner::new(Key::from_bytes(&[2; 32])).with_old_key(old);
    let after = TestClient::new(app(Sessions::with_signer(store, signer)));
    smol::block_on(async {
        before.post("/login").send().await;
        after.set_cookie("sid", &before.cookie("sid").unwrap());
        assert_eq!(after.get("/me").send().await.text().await, "ada");
    });
}

#[test]
fn sessions_expire_after_their_ttl() {
    let sessions =
        Sessions::new(MemoryStore::new(), Key::from_bytes(&KEY)).ttl(Duration::from_millis(300));
    let client = TestClient::new(app(sessions));
    smol::block_on(async {
        assert_eq!(client.get("/visit").send().await.text().await, "1");
        assert_eq!(client.get("/visit").send().await.text().await, "2");
        smol::Timer::after(Duration::from_millis(500)).await;
        assert_eq!(client.get("/visit").send().await.text().await, "1");
    });
}

/// curl's cookie jar (`-c`/`-b`) as the client: what a browser does with the cookie.
#[test]
fn curl_keeps_the_session_across_requests() {
    support::require_default_sigpipe();
    let addr = support::serve(
        app(Sessions::new(MemoryStore::new(), Key::from_bytes(&KEY))),
        Config::default(),
        1,
    );
    let dir = support::TempDir::new("curl-jar");
    let jar = dir.path().join("jar.txt");
    let jar = jar.to_str().unwrap();
    let curl = |args: &[&str]| {
        let out = Command::new("curl")
            .args(["--silent", "--max-time", "10", "-c", jar, "-b", jar])
            .args(args)
            .output()
            .expect("curl");
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(curl(&[&format!("http://{addr}/me")]), "nobody");
    curl(&["-X", "POST", &format!("http://{addr}/login")]);
    assert_eq!(curl(&[&format!("http://{addr}/me")]), "ada");
    let saved = std::fs::read_to_string(jar).unwrap();
    assert!(saved.contains("#HttpOnly_127.0.0.1"), "{saved}");
    curl(&["-X", "POST", &format!("http://{addr}/logout")]);
    assert_eq!(curl(&[&format!("http://{addr}/me")]), "nobody");
}

/// Over TLS the cookie is `Secure`.
#[cfg(feature = "tls")]
#[test]
fn the_cookie_is_secure_over_tls() {
    use smolweb::Server;
    use smolweb::tls::TlsConfig;
    use support::tls::{TlsConn, client_config};
    let certs = support::Certs::new();
    let (cert, key) = certs.leaf("leaf", support::KeyForm::Pkcs8);
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .tls(TlsConfig::from_pem_files(&cert, &key).unwrap());
    let addr = server.local_addr();
    let app = app(Sessions::new(MemoryStore::new(), Key::from_bytes(&KEY)));
    std::thread::spawn(move || server.run(app));
    let mut conn = TlsConn::connect(addr, &client_config(&certs.ca), "localhost").unwrap();
    conn.write(b"POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n");
    let res = conn.read_response();
    let set = res.header("set-cookie").expect("a cookie");
    assert!(set.contains("; Secure"), "{set}");
}

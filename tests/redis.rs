//! Sessions in Redis (feature `redis`) against a real `redis-server` started here on a free
//! loopback port with no persistence: the store's contract, an outage and its recovery, and
//! two `notes` instances sharing one Redis behind nginx (round-robin), surviving the loss of
//! one instance and restarts of both.

#![cfg(feature = "redis")]

mod support;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use smolweb::cookie::Key;
use smolweb::session::{RedisStore, Session, SessionData, SessionStore, Sessions};
use smolweb::test::TestClient;
use smolweb::{Request, Router, StatusCode};
use support::{Conn, Example, TempDir, wait_for};

/// A free loopback port (taken, then given back for the server about to use it).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// True once something accepts connections on `port`.
fn wait_port(port: u16) -> bool {
    wait_for(Duration::from_secs(10), Duration::from_millis(20), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    })
}

/// A `redis-server` on a loopback port, no persistence, killed when dropped.
struct Redis {
    port: u16,
    child: Child,
    _dir: TempDir,
}

impl Redis {
    fn start() -> Redis {
        Self::start_on(free_port())
    }

    fn start_on(port: u16) -> Redis {
        let dir = TempDir::new("redis");
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--dir", dir.text()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (apt install redis-server)");
        assert!(wait_port(port), "redis-server did not start on {port}");
        Redis {
            port,
            child,
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn stop(mut self) -> u16 {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.port
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn data(pairs: &[(&str, &str)]) -> SessionData {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
        .collect()
}

#[test]
fn the_store_contract_against_a_real_redis() {
    let redis = Redis::start();
    let store = RedisStore::open(&redis.url()).unwrap();
    smol::block_on(async {
        let one = data(&[("user", "ada")]);
        assert_eq!(store.load("a", Duration::from_secs(5)).await.unwrap(), None);
        store
            .store("a", one.clone(), Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(
            store.load("a", Duration::from_secs(5)).await.unwrap(),
            Some(one.clone())
        );
        // The load renewed its life to 5 s: still there after the 1 s it was stored for.
        smol::Timer::after(Duration::from_millis(1500)).await;
        assert_eq!(
            store.load("a", Duration::from_secs(1)).await.unwrap(),
            Some(one)
        );
        // Unused for longer than its life: gone.
        smol::Timer::after(Duration::from_millis(2200)).await;
        assert_eq!(store.load("a", Duration::from_secs(1)).await.unwrap(), None);
        store
            .store("b", data(&[("n", "1")]), Duration::from_secs(60))
            .await
            .unwrap();
        store.destroy("b").await.unwrap();
        assert_eq!(
            store.load("b", Duration::from_secs(60)).await.unwrap(),
            None
        );
    });
}

fn app(store: RedisStore) -> Router {
    Router::new()
        .get("/visit", |req: Request| async move {
            let session = req.ext::<Session>().unwrap();
            let n = session.get::<u32>("n").unwrap_or(0) + 1;
            session.insert("n", n);
            n.to_string()
        })
        .post("/login", |req: Request| async move {
            let session = req.ext::<Session>().unwrap();
            session.renew();
            session.insert("user", "ada");
            "in"
        })
        .get("/me", |req: Request| async move {
            let session = req.ext::<Session>().unwrap();
            session
                .get::<String>("user")
                .unwrap_or_else(|| "nobody".into())
        })
        .middleware(Sessions::new(store, Key::from_bytes(&[3; 32])))
}

/// The id a `sid` cookie carries (before its signature).
fn id_of(cookie: &str) -> String {
    cookie.split_once('.').unwrap().0.to_string()
}

#[test]
fn renewal_deletes_the_old_key_and_an_outage_is_a_503_until_redis_returns() {
    let redis = Redis::start();
    let store = RedisStore::open(&redis.url()).unwrap();
    let client = TestClient::new(app(store.clone()));
    smol::block_on(async {
        assert_eq!(client.get("/visit").send().await.text().await, "1");
        let before = id_of(&client.cookie("sid").unwrap());
        client.post("/login").send().await;
        let after = id_of(&client.cookie("sid").unwrap());
        assert_ne!(before, after);
        let ttl = Duration::from_secs(60);
        assert_eq!(
            store.load(&before, ttl).await.unwrap(),
            None,
            "the old key is deleted"
        );
        assert!(store.load(&after, ttl).await.unwrap().is_some());
        assert_eq!(client.get("/me").send().await.text().await, "ada");
    });

    // Redis goes away: a request that brings a session gets 503, not a logged-out answer;
    // one without a session cookie is served.
    let port = redis.stop();
    smol::block_on(async {
        for _ in 0..5 {
            let res = client.get("/me").send().await;
            assert_eq!(res.status(), StatusCode::ServiceUnavailable);
            assert_eq!(res.header("retry-after"), Some("1"));
        }
        let fresh = TestClient::new(app(
            RedisStore::open(&format!("redis://127.0.0.1:{port}")).unwrap()
        ));
        assert_eq!(fresh.get("/me").send().await.text().await, "nobody");
    });

    // Back (empty: no persistence): served again, with no restart of the application.
    let _redis = Redis::start_on(port);
    smol::block_on(async {
        let served = {
            let mut ok = false;
            for _ in 0..50 {
                let res = client.get("/me").send().await;
                if res.status() == StatusCode::Ok {
                    ok = true;
                    break;
                }
                smol::Timer::after(Duration::from_millis(100)).await;
            }
            ok
        };
        assert!(served, "still 503 after Redis came back");
        assert_eq!(client.get("/visit").send().await.text().await, "1");
    });
}

/// nginx round-robin over two `notes` instances that share one Redis.
struct Cluster {
    nginx: Child,
    addr: SocketAddr,
    _dir: TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.nginx.kill();
        let _ = self.nginx.wait();
    }
}

fn nginx(backends: &[u16]) -> Cluster {
    let dir = TempDir::new("nginx");
    let port = free_port();
    let servers: String = backends
        .iter()
        .map(|p| format!("    server 127.0.0.1:{p} max_fails=0;\n"))
        .collect();
    let root = dir.text();
    let conf = format!(
        "worker_processes 1;\nmaster_process off;\ndaemon off;\npid {root}/nginx.pid;\n\
         error_log {root}/error.log warn;\nevents {{ worker_connections 256; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {root}/body;\n\
         proxy_temp_path {root}/proxy;\n  fastcgi_temp_path {root}/fastcgi;\n\
         uwsgi_temp_path {root}/uwsgi;\n  scgi_temp_path {root}/scgi;\n\
         upstream notes {{\n{servers}  }}\n  server {{\n    listen 127.0.0.1:{port};\n\
         location / {{\n      proxy_pass http://notes;\n      proxy_next_upstream error timeout;\n\
         proxy_connect_timeout 1s;\n    }}\n  }}\n}}\n"
    );
    std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
    let nginx_bin = ["/usr/sbin/nginx", "nginx"]
        .into_iter()
        .find(|b| Command::new(b).arg("-v").output().is_ok())
        .expect("nginx (apt install nginx-light)");
    let conf_path = dir.path().join("nginx.conf");
    let child = Command::new(nginx_bin)
        .args([
            "-p",
            root,
            "-c",
            conf_path.to_str().unwrap(),
            "-e",
            &format!("{root}/error.log"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx");
    assert!(wait_port(port), "nginx did not start");
    Cluster {
        nginx: child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        _dir: dir,
    }
}

/// `GET /me` through `addr` with `cookie`: (status, body, the pid that served it).
fn me(addr: SocketAddr, cookie: &str) -> (u16, String, String) {
    let mut conn = Conn::connect(addr);
    let res = conn.get("/me", &format!("Cookie: {cookie}\r\nConnection: close\r\n"));
    let pid = res.header("x-served-by").unwrap_or("?").to_string();
    (res.status, res.text().to_string(), pid)
}

#[test]
fn two_instances_behind_nginx_share_one_session() {
    support::require_default_sigpipe();
    let redis = Redis::start();
    let key = "ab".repeat(32);
    let (a_port, b_port) = (free_port(), free_port());
    let start = |port: u16| {
        Example::start_with(
            "notes",
            &format!("127.0.0.1:{port}"),
            &["--sessions", &redis.url()],
            &[("NOTES_KEY", &key)],
        )
    };
    let (a, b) = (start(a_port), start(b_port));
    let cluster = nginx(&[a_port, b_port]);

    // Log in once, through nginx.
    let mut conn = Conn::connect(cluster.addr);
    let body = "user=ada&password=secret";
    let headers = format!(
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n",
        body.len()
    );
    conn.write(&support::request(
        "POST",
        "/login",
        &headers,
        body.as_bytes(),
    ));
    let res = conn.read_response();
    assert_eq!(res.status, 303);
    let set = res
        .header("set-cookie")
        .expect("a session cookie")
        .to_string();
    let cookie = set.split(';').next().unwrap().to_string();

    let mut pids = std::collections::HashSet::new();
    for _ in 0..20 {
        let (status, text, pid) = me(cluster.addr, &cookie);
        assert_eq!((status, text.as_str()), (200, r#"{"user":"ada"}"#));
        pids.insert(pid);
    }
    assert_eq!(pids.len(), 2, "both instances served: {pids:?}");

    // One instance stops: the other serves every request.
    drop(a);
    for _ in 0..20 {
        assert_eq!(me(cluster.addr, &cookie).0, 200);
    }
    // Both restart: the session is still valid.
    drop(b);
    let (_a, _b) = (start(a_port), start(b_port));
    for _ in 0..10 {
        let (status, text, _) = me(cluster.addr, &cookie);
        assert_eq!((status, text.as_str()), (200, r#"{"user":"ada"}"#));
    }
    // Log out: both refuse the session after.
    let mut conn = Conn::connect(cluster.addr);
    let headers = format!("Cookie: {cookie}\r\nContent-Length: 0\r\nConnection: close\r\n");
    conn.write(&support::request("POST", "/logout", &headers, b""));
    let res = conn.read_response();
    assert_eq!(res.status, 204);
    let mut refused_by = std::collections::HashSet::new();
    for _ in 0..10 {
        let (status, _, pid) = me(cluster.addr, &cookie);
        assert_eq!(status, 401);
        refused_by.insert(pid);
    }
    assert_eq!(refused_by.len(), 2, "both instances refuse it");
    drop(cluster);
}

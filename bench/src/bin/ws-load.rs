//! `ws-load ADDR PATH CONNS SECS BYTES`: CONNS WebSocket clients (one thread each, tungstenite's
//! blocking client), each sending a text message of BYTES and waiting for its echo, over and
//! over for SECS seconds. Prints `msgs/s N` (echoes received per second, all clients).

use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tungstenite::Message;

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: ws-load ADDR PATH CONNS SECS BYTES";
    let addr = args.next().expect(usage);
    let path = args.next().expect(usage);
    let conns: usize = args.next().and_then(|n| n.parse().ok()).expect(usage);
    let secs: u64 = args.next().and_then(|n| n.parse().ok()).expect(usage);
    let bytes: usize = args.next().and_then(|n| n.parse().ok()).expect(usage);
    let echoes = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let text: String = "x".repeat(bytes);
    // Every client connects first; the clock starts when all are open.
    let start = Arc::new(std::sync::Barrier::new(conns + 1));
    let until = Arc::new(std::sync::OnceLock::<Instant>::new());
    let threads: Vec<_> = (0..conns)
        .map(|_| {
            let (addr, path, text) = (addr.clone(), path.clone(), text.clone());
            let (echoes, failed, start, until) =
                (echoes.clone(), failed.clone(), start.clone(), until.clone());
            std::thread::spawn(move || {
                let stream = TcpStream::connect(&addr).expect("connect");
                stream.set_nodelay(true).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                let url = format!("ws://{addr}{path}");
                let (mut ws, _) = tungstenite::client(url.as_str(), stream).expect("handshake");
                start.wait();
                let until = *until.wait();
                while Instant::now() < until {
                    if ws.send(Message::text(text.as_str())).is_err() {
                        failed.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    match ws.read() {
                        Ok(Message::Text(_)) => {
                            echoes.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            failed.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                    }
                }
                let _ = ws.close(None);
            })
        })
        .collect();
    start.wait();
    let began = Instant::now();
    until.set(began + Duration::from_secs(secs)).unwrap();
    for t in threads {
        let _ = t.join();
    }
    let elapsed = began.elapsed().as_secs_f64();
    let n = echoes.load(Ordering::Relaxed);
    println!("msgs/s {:.0}", n as f64 / elapsed);
    println!("failed {}", failed.load(Ordering::Relaxed));
}

//! `ws-hold ADDR PATH N [HOLD_SECS]`: opens N WebSocket connections, sends one text message
//! on each and reads its echo, then keeps them all open and prints `ready N`, for HOLD_SECS
//! (default 60). `run.sh` reads the server's VmRSS meanwhile.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use tungstenite::Message;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: ws-hold ADDR PATH N [HOLD_SECS]";
    let addr = args.next().expect(usage);
    let path = args.next().expect(usage);
    let n: usize = args.next().and_then(|n| n.parse().ok()).expect(usage);
    let hold: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(60);
    let mut held = Vec::with_capacity(n);
    for i in 0..n {
        let stream = TcpStream::connect(&addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let url = format!("ws://{addr}{path}");
        let (mut ws, _) = tungstenite::client(url.as_str(), stream)
            .map_err(|e| std::io::Error::other(format!("socket {i}: {e}")))?;
        ws.send(Message::text("hello"))
            .map_err(|e| std::io::Error::other(format!("socket {i}: {e}")))?;
        match ws.read() {
            Ok(Message::Text(_)) => {}
            other => return Err(std::io::Error::other(format!("socket {i}: {other:?}"))),
        }
        held.push(ws);
    }
    println!("ready {}", held.len());
    std::io::stdout().flush()?;
    std::thread::sleep(Duration::from_secs(hold));
    drop(held);
    Ok(())
}

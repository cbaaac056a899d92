//! `hold-conns ADDR PATH N [HOLD_SECS]`: opens N keep-alive connections, sends one GET on
//! each and reads its response, then keeps them all open and prints `ready N`.
//!
//! It holds them for HOLD_SECS (default 60) and exits, so a forgotten helper cannot linger.
//! `run.sh` reads the server's VmRSS while the connections are held, then kills it.

use std::io::Write;
use std::time::Duration;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr: std::net::SocketAddr = args
        .next()
        .and_then(|a| a.parse().ok())
        .expect("usage: hold-conns ADDR PATH N [HOLD_SECS]");
    let path = args.next().unwrap_or_else(|| "/".into());
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let hold: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(60);
    let mut held = Vec::with_capacity(n);
    for i in 0..n {
        let mut client = smolweb_bench::client::Client::connect(addr, &path)
            .map_err(|e| std::io::Error::other(format!("connection {i}: {e}")))?;
        let (status, _) = client
            .get()
            .map_err(|e| std::io::Error::other(format!("connection {i}: {e}")))?;
        if status != 200 {
            return Err(std::io::Error::other(format!(
                "connection {i}: status {status}"
            )));
        }
        held.push(client);
    }
    println!("ready {}", held.len());
    std::io::stdout().flush()?;
    std::thread::sleep(Duration::from_secs(hold));
    drop(held);
    Ok(())
}

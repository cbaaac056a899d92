//! `drive ADDR PATH N [LEN]`: N keep-alive GETs over one connection, each checked for status
//! 200 (and, if LEN is given, a body of LEN bytes). With `DRIVE_PAUSE_US=P` in the
//! environment it sleeps P µs before each request, so that the server has always looked for
//! the next request before it arrives: every request then takes the same path, and an
//! instruction count does not depend on which of the two paths each request happened to take.
//!
//! Used to drive a server running under valgrind (callgrind) with a known request count, and
//! as the sanity check before each wrk run.

use std::time::{Duration, Instant};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr: std::net::SocketAddr = args
        .next()
        .and_then(|a| a.parse().ok())
        .expect("usage: drive ADDR PATH N");
    let path = args.next().unwrap_or_else(|| "/".into());
    let n: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let want: Option<u64> = args.next().and_then(|n| n.parse().ok());
    let pause = std::env::var("DRIVE_PAUSE_US")
        .ok()
        .and_then(|p| p.parse().ok())
        .map(Duration::from_micros);
    let start = Instant::now();
    if n > 0 {
        let mut client = smolweb_bench::client::Client::connect(addr, &path)?;
        for i in 0..n {
            if let Some(pause) = pause {
                std::thread::sleep(pause);
            }
            let (status, len) = client.get()?;
            if status != 200 || want.is_some_and(|w| w != len) {
                return Err(std::io::Error::other(format!(
                    "request {i}: status {status}, {len} bytes"
                )));
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!("requests={n} seconds={secs:.3}");
    Ok(())
}

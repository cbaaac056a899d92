//! The hyper peer server: `hyper-server ADDR DIR`.
//!
//! One tokio current-thread runtime (so exactly one thread serves), or with `HYPER_THREADS=N`
//! (N > 1) the multi-thread runtime with N workers; TCP_NODELAY, keep-alive.
//! `/` → `Hello, World!`; `/files/<name>` → `DIR/<name>`.

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8080".into());
    let dir = args.next().unwrap_or_else(|| ".".into());
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&addr)?
        .next()
        .ok_or_else(|| std::io::Error::other("no address"))?;
    let threads: usize = std::env::var("HYPER_THREADS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let bound = |bound| println!("hyper serving on http://{bound}");
    if threads > 1 {
        smolweb_bench::hyper_app::run_multi_thread(addr, Some(dir.into()), threads, bound)
    } else {
        smolweb_bench::hyper_app::run_current_thread(addr, Some(dir.into()), bound)
    }
}

//! The hyper peer server: `hyper-server ADDR DIR`.
//!
//! One tokio current-thread runtime (so exactly one thread serves), TCP_NODELAY, keep-alive.
//! `/` → `Hello, World!`; `/files/<name>` → `DIR/<name>`.

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8080".into());
    let dir = args.next().unwrap_or_else(|| ".".into());
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&addr)?
        .next()
        .ok_or_else(|| std::io::Error::other("no address"))?;
    smolweb_bench::hyper_app::run_current_thread(addr, Some(dir.into()), |bound| {
        println!("hyper serving on http://{bound}");
    })
}

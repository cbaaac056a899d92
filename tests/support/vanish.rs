//! Clients that go away: SIGPIPE at its default action for the test process, and sockets
//! that vanish with RST or FIN after reading part of a response.

use std::io::Read;
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Once;

use super::rng::Rng;

/// SIGPIPE back to its default action: any write that raises it kills this test process.
pub fn default_sigpipe() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| unsafe {
        assert_ne!(libc::signal(libc::SIGPIPE, libc::SIG_DFL), libc::SIG_ERR);
    });
}

pub fn sigpipe_is_default() -> bool {
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    unsafe { libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut old) };
    old.sa_sigaction == libc::SIG_DFL
}

/// Closes with RST instead of FIN: `SO_LINGER` on, timeout 0.
pub fn set_linger_zero(stream: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "setsockopt(SO_LINGER)");
}

/// Reads up to `n` bytes (or until EOF/error); returns how many arrived.
pub fn read_prefix(s: &mut TcpStream, n: u64) -> u64 {
    let mut buf = [0u8; 16 * 1024];
    let mut got = 0u64;
    while got < n {
        let want = buf.len().min((n - got) as usize);
        match s.read(&mut buf[..want]) {
            Ok(0) | Err(_) => break,
            Ok(k) => got += k as u64,
        }
    }
    got
}

/// How a client went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    /// A reset: `SO_LINGER` 0, then close.
    Rst,
    /// A close of both directions.
    Fin,
}

/// Goes away now, with a reset or a close, one in two.
pub fn vanish_now(stream: &TcpStream, rng: &mut Rng) -> Gone {
    if rng.below(2) == 0 {
        set_linger_zero(stream);
        Gone::Rst
    } else {
        let _ = stream.shutdown(Shutdown::Both);
        Gone::Fin
    }
}

/// The number of storm clients: the environment variable `var` if set, else `default`.
pub fn storm_size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Puts SIGPIPE back to its default action for this process and checks it is there.
pub fn require_default_sigpipe() {
    default_sigpipe();
    assert!(
        sigpipe_is_default(),
        "the storm must run with SIGPIPE at SIG_DFL"
    );
}

//! Clients that go away: SIGPIPE at its default action for the test process, and sockets
//! that vanish with RST or FIN after reading part of a response.

use std::io::Read;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::Once;

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

//! Bounded waits: the timeouts every client socket and every response read live within, a
//! poll for a condition with a deadline, and the descriptor count tests wait on.
//!
//! Every wait here is a bounded poll: a condition checked every few milliseconds until it
//! holds or a deadline passes, never a sleep standing in for synchronization.

use std::time::{Duration, Instant};

/// Read and write timeout of every client socket.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Upper bound on how long reading one response (or one whole exchange) may take.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Polls `cond` every `every` until it holds (true) or `limit` has passed (false).
pub fn wait_for(limit: Duration, every: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    // The count bound is a second guard in case the clock misbehaves.
    let max_polls = (limit.as_micros() / every.as_micros().max(1)) as usize + 2;
    for _ in 0..max_polls {
        if cond() {
            return true;
        }
        if started.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(every);
    }
    cond()
}

/// Open file descriptors of this process (the server runs in-process).
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .count()
}

/// Waits (bounded by `limit`) for `child` to exit by itself; panics if it does not.
pub fn wait_for_exit(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        assert!(Instant::now() < deadline, "no exit within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

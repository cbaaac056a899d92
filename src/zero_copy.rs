//! Where `sendfile(2)` may run: threads that hold SIGPIPE blocked (the `sendfile` cargo
//! feature, Linux only). Why that makes zero-copy files as safe as `send(MSG_NOSIGNAL)` is
//! written once, in the crate docs ([Cargo features](crate#cargo-features)); the socket
//! module, the runtime and the connection's file path point here.
//!
//! The mechanism: a [`SigpipeBlock`] blocks SIGPIPE on its thread for as long as it lives (the
//! [`Server`](crate::Server)'s executor threads hold one, `runtime.rs`); [`allowed_here`] is
//! checked before every `sendfile`, in the same poll as the call (`socket.rs`), because a task
//! may move to another thread between polls. When a block ends on a thread where SIGPIPE was
//! not blocked before, a pending SIGPIPE is first consumed (`sigwait`, after
//! `/proc/thread-self/status` shows it pending), then the previous mask is restored:
//! unblocking never delivers a signal that `sendfile` raised.

use std::cell::Cell;
use std::io;
use std::sync::atomic::AtomicU64;

use nix::sys::signal::{SigSet, Signal};

thread_local! {
    /// How many [`SigpipeBlock`]s this thread holds.
    static HELD: Cell<u32> = const { Cell::new(0) };
}

/// Bytes sent with `sendfile` by this process (see [`crate::zero_copy_bytes`]).
pub(crate) static BYTES: AtomicU64 = AtomicU64::new(0);

fn sigpipe() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGPIPE);
    set
}

/// SIGPIPE blocked on the current thread for as long as this lives; see the module docs.
pub(crate) struct SigpipeBlock {
    restore: bool,
    /// Tied to the thread it was made on.
    _not_send: std::marker::PhantomData<*const ()>,
}

impl SigpipeBlock {
    /// Blocks SIGPIPE on the calling thread.
    pub(crate) fn new() -> io::Result<Self> {
        let was_blocked = SigSet::thread_get_mask()?.contains(Signal::SIGPIPE);
        sigpipe().thread_block()?;
        HELD.set(HELD.get() + 1);
        Ok(SigpipeBlock {
            restore: !was_blocked,
            _not_send: std::marker::PhantomData,
        })
    }
}

impl Drop for SigpipeBlock {
    fn drop(&mut self) {
        HELD.set(HELD.get() - 1);
        if self.restore {
            if sigpipe_pending_here() {
                // Pending and blocked: `sigwait` returns at once, consuming it.
                let _ = sigpipe().wait();
            }
            if sigpipe_pending_here() {
                // Could not consume it: stay blocked rather than die.
                log::warn!("a SIGPIPE is still pending; leaving it blocked on this thread");
                return;
            }
            let _ = sigpipe().thread_unblock();
        }
    }
}

/// True if SIGPIPE is pending for the calling thread itself.
fn sigpipe_pending_here() -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/thread-self/status") else {
        // Cannot tell: assume it is, so the caller never unblocks onto one.
        return true;
    };
    let bit = 1u64 << (Signal::SIGPIPE as i32 - 1);
    status
        .lines()
        .find_map(|line| line.strip_prefix("SigPnd:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_none_or(|pending| pending & bit != 0)
}

/// True if `sendfile` may be called on this thread now: it holds a [`SigpipeBlock`] and
/// SIGPIPE is indeed blocked (nobody unblocked it since).
pub(crate) fn allowed_here() -> bool {
    HELD.get() > 0 && SigSet::thread_get_mask().is_ok_and(|mask| mask.contains(Signal::SIGPIPE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_is_scoped_and_restores_the_mask() {
        std::thread::spawn(|| {
            assert!(!allowed_here());
            let before = SigSet::thread_get_mask().unwrap().contains(Signal::SIGPIPE);
            {
                let _block = SigpipeBlock::new().unwrap();
                assert!(allowed_here());
                // A SIGPIPE raised on this thread now stays pending...
                nix::sys::signal::raise(Signal::SIGPIPE).unwrap();
                assert!(sigpipe_pending_here());
            }
            // ...and is consumed before the mask is restored.
            assert!(!sigpipe_pending_here());
            assert!(!allowed_here());
            let after = SigSet::thread_get_mask().unwrap().contains(Signal::SIGPIPE);
            assert_eq!(before, after);
        })
        .join()
        .unwrap();
    }
}

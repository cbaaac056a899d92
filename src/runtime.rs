//! The server's executor threads: how they run tasks, what they count, and their signal mask.
//!
//! A thread of the [`Server`](crate::Server) runs its executor with [`block_on`]: tasks in
//! batches of [`TASKS_BETWEEN_IO_POLLS`], a look at the reactor between batches, and, with
//! the `sendfile` feature, SIGPIPE blocked for as long as it runs (see `zero_copy.rs`). Each
//! thread counts the tasks it ran; [`MissedRecv`] reads that count to decide whether a `recv`
//! that found nothing yields to the other connections or waits on the reactor.

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::JoinHandle;

use smol::Executor;

/// Tasks an executor thread runs between two looks at the reactor, when tasks keep it busy.
///
/// Each look is an `epoll_wait` that does not block. Between looks, a connection whose data
/// has arrived but whose task is waiting on the reactor is not seen: a smaller figure makes
/// latency more even under load (the executor's own `run` looks every 200 tasks).
///
/// The benchmark's scheduling study builds variants with `SMOLWEB_TUNE_POLL_EVERY=N` set at
/// build time (see [`tuned`]); nothing reads it at run time.
const TASKS_BETWEEN_IO_POLLS: usize = tuned(option_env!("SMOLWEB_TUNE_POLL_EVERY"), 64);

/// A `recv` that finds nothing while other connections are being served yields to them up to
/// this many times, trying again after each, before waiting on the reactor.
///
/// Under load a keep-alive client's next request usually arrives while the other connections
/// have their turn; waiting on the reactor instead costs an `epoll_ctl` and puts the
/// connection at the back of the queue once more when the request does arrive. A thread with
/// nothing else to run waits at once. (A task polled on another thread than last time
/// compares two threads' counts: at worst it yields a few times for nothing.) The
/// performance chapter has the figures behind the number.
/// (`SMOLWEB_TUNE_MISS_YIELDS=N` at build time for the study.)
const MISS_YIELDS: u8 = tuned(option_env!("SMOLWEB_TUNE_MISS_YIELDS"), 4) as u8;

/// Whether a connection yields after each response whose next request has not arrived,
/// before its next `recv` (`conn/mod.rs`). (`SMOLWEB_TUNE_YIELD_AFTER=0` at build time turns
/// it off for the study.)
pub(crate) const YIELD_AFTER_RESPONSE: bool =
    tuned(option_env!("SMOLWEB_TUNE_YIELD_AFTER"), 1) != 0;

/// A scheduling constant: `default`, or the decimal number in `value`, an environment
/// variable read when the crate is *built* (`option_env!`), for `bench/policy.sh`, which
/// measures variants side by side. Anything but digits is a build error.
const fn tuned(value: Option<&str>, default: usize) -> usize {
    let Some(value) = value else {
        return default;
    };
    let bytes = value.as_bytes();
    assert!(!bytes.is_empty(), "a SMOLWEB_TUNE_ value must be a number");
    let mut n = 0;
    let mut i = 0;
    while i < bytes.len() {
        assert!(
            bytes[i].is_ascii_digit(),
            "a SMOLWEB_TUNE_ value must be a number"
        );
        n = n * 10 + (bytes[i] - b'0') as usize;
        i += 1;
    }
    n
}

thread_local! {
    /// Tasks run so far by [`drive`] on this thread.
    static TASKS_RUN: Cell<u64> = const { Cell::new(0) };
}

/// How many tasks the server's executor has run on this thread (always zero on threads the
/// server does not drive).
fn tasks_run() -> u64 {
    TASKS_RUN.with(Cell::get)
}

fn count_task() {
    TASKS_RUN.with(|n| n.set(n.get().wrapping_add(1)));
}

/// Runs `future` on this thread, and `ex`'s tasks while it is pending, until it completes:
/// what `smol::block_on(ex.run(future))` does, looking at the reactor every
/// [`TASKS_BETWEEN_IO_POLLS`] tasks, with SIGPIPE blocked meanwhile (the `sendfile` feature).
pub(crate) fn block_on<T>(ex: &Executor<'_>, future: impl Future<Output = T>) -> T {
    let _sigpipe = sigpipe_block();
    smol::block_on(drive(ex, future))
}

/// Starts executor thread number `i` (named `smolweb-i`) running `f`.
pub(crate) fn spawn_thread<T: Send + 'static>(
    i: usize,
    f: impl FnOnce() -> T + Send + 'static,
) -> io::Result<JoinHandle<T>> {
    std::thread::Builder::new()
        .name(format!("smolweb-{i}"))
        .spawn(f)
}

async fn drive<T>(ex: &Executor<'_>, future: impl Future<Output = T>) -> T {
    // `future` (an accept loop) is polled only when it was woken: `block_on` polls the whole
    // of this future at every look at the reactor, and an accept loop polled for nothing
    // costs an `accept` that fails and an `epoll_ctl`.
    let gate = Arc::new(Gate::default());
    let inner_waker = Waker::from(gate.clone());
    let mut future = std::pin::pin!(future);
    let gated = std::future::poll_fn(|cx| {
        gate.wakes(cx.waker());
        if !gate.woken.swap(false, SeqCst) {
            return Poll::Pending;
        }
        future.as_mut().poll(&mut Context::from_waker(&inner_waker))
    });
    let tasks = async {
        loop {
            let mut ran = 0;
            while ran < TASKS_BETWEEN_IO_POLLS && ex.try_tick() {
                ran += 1;
                count_task();
            }
            if ran == 0 {
                // Nothing to run: sleep until a task is woken (the reactor runs meanwhile).
                ex.tick().await;
                count_task();
            } else {
                // Let `block_on` poll the reactor without blocking, then go on.
                futures_lite::future::yield_now().await;
            }
        }
    };
    futures_lite::future::or(gated, tasks).await
}

/// Whether the future [`drive`] runs was woken since it was last polled, and the waker of
/// whoever polls `drive` (to wake it in turn).
struct Gate {
    woken: AtomicBool,
    outer: Mutex<Option<Waker>>,
}

impl Default for Gate {
    /// Woken: the first poll always polls the future.
    fn default() -> Self {
        Gate {
            woken: AtomicBool::new(true),
            outer: Mutex::new(None),
        }
    }
}

impl Gate {
    /// Keeps `waker` as the one to wake (once per change of waker: `block_on`'s is stable).
    fn wakes(&self, waker: &Waker) {
        let mut outer = self.outer.lock().unwrap_or_else(|p| p.into_inner());
        if !outer.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *outer = Some(waker.clone());
        }
    }
}

impl Wake for Gate {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, SeqCst);
        let outer = self.outer.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(waker) = outer.as_ref() {
            waker.wake_by_ref();
        }
    }
}

/// With the `sendfile` feature: SIGPIPE blocked on this thread while the value lives, so file
/// bodies may go out with `sendfile`. Without it: nothing.
fn sigpipe_block() -> impl Sized {
    #[cfg(all(feature = "sendfile", target_os = "linux"))]
    return crate::zero_copy::SigpipeBlock::new()
        .map_err(|e| log::warn!("cannot block SIGPIPE ({e}): files are copied, not sendfile'd"))
        .ok();
    #[cfg(not(all(feature = "sendfile", target_os = "linux")))]
    ()
}

/// One connection's record of its `recv`s that found nothing: whether the next such `recv`
/// yields to the other tasks or waits on the reactor (see [`MISS_YIELDS`]).
///
/// Atomics only so that the transport holding it is `Sync`: one task uses it at a time.
#[derive(Debug, Default)]
pub(crate) struct MissedRecv {
    /// [`tasks_run`] at the last `recv`.
    last_recv: AtomicU64,
    /// `recv`s in a row that found nothing and yielded.
    misses: AtomicU8,
}

impl MissedRecv {
    /// Called before a `recv`: true if other tasks ran on this thread since the last one
    /// (the thread is busy serving other connections).
    pub(crate) fn others_ran(&self) -> bool {
        let now = tasks_run();
        now.wrapping_sub(self.last_recv.swap(now, Relaxed)) > 1
    }

    /// A `recv` found bytes (or an end): the count of misses starts again.
    pub(crate) fn found(&self) {
        self.misses.store(0, Relaxed);
    }

    /// A `recv` found nothing: true to yield (wake this task and return `Pending`) rather
    /// than wait on the reactor.
    pub(crate) fn should_yield(&self, others_ran: bool) -> bool {
        let misses = self.misses.load(Relaxed);
        if others_ran && misses < MISS_YIELDS {
            self.misses.store(misses + 1, Relaxed);
            return true;
        }
        false
    }
}

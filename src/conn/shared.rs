//! [`Shared`]: what a connection shares with the body reader of its current request, and
//! [`IdleState`]: whether it is idle, for its server's idle list (`idle.rs`).
//!
//! A body is streamed to the handler rather than read up front, so the connection task and
//! the [`BodyReader`](super::body::BodyReader) the handler holds both read from the transport
//! and the read buffer. They share them behind an `Arc`; the lock is only ever held inside one
//! `poll`, never across an `.await`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use super::body::BodyProgress;
use super::buffer::ReadBuffer;
use crate::transport::Transport;

/// The transport and the connection's input.
pub(crate) struct Shared<T> {
    pub(crate) transport: T,
    input: Mutex<Input>,
    /// Whether the connection is idle, for its server to close it to make room.
    pub(crate) idle: IdleState,
}

/// Received bytes, and how far the current request's body has been read.
#[derive(Debug, Default)]
pub(crate) struct Input {
    pub(crate) buffer: ReadBuffer,
    pub(crate) body: BodyProgress,
}

impl<T: Transport> Shared<T> {
    /// A new connection on `transport`, ready to be served.
    pub(crate) fn of(transport: T) -> Arc<Self> {
        Arc::new(Self::new(transport))
    }

    pub(crate) fn new(transport: T) -> Self {
        Shared {
            transport,
            input: Mutex::new(Input::default()),
            idle: IdleState::default(),
        }
    }
}

impl<T> Shared<T> {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Input> {
        self.input
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The state word of a connection: busy, idle since a stamp, or evicted.
#[derive(Debug, Default)]
pub(crate) struct IdleState(AtomicU64);

const BUSY: u64 = 0;
const EVICTED: u64 = u64::MAX;

impl IdleState {
    /// The connection begins to wait, idle, at `since`.
    pub(crate) fn mark_idle(&self, since: Instant) {
        self.0.store(stamp(since), Ordering::Release);
    }

    /// Bytes of a request arrived: busy from now on. False if the connection was evicted
    /// first, and must close.
    pub(crate) fn mark_busy(&self) -> bool {
        self.0.swap(BUSY, Ordering::AcqRel) != EVICTED
    }

    pub(crate) fn idle_since(&self) -> Option<u64> {
        match self.0.load(Ordering::Acquire) {
            BUSY | EVICTED => None,
            since => Some(since),
        }
    }

    /// From idle since `since` to evicted; false if it is no longer idle since then.
    pub(crate) fn evict(&self, since: u64) -> bool {
        self.0
            .compare_exchange(since, EVICTED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Back from evicted to idle since `since` (the close could not be made).
    pub(crate) fn unevict(&self, since: u64) {
        let _ = self
            .0
            .compare_exchange(EVICTED, since, Ordering::AcqRel, Ordering::Acquire);
    }
}

/// A stamp: microseconds since the first stamp of the process, plus one (never [`BUSY`]).
fn stamp(at: Instant) -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let micros = at
        .saturating_duration_since(*EPOCH.get_or_init(Instant::now))
        .as_micros();
    u64::try_from(micros).unwrap_or(EVICTED - 2) + 1
}

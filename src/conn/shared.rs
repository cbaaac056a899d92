//! [`Shared`]: what a connection shares with the body reader of its current request.
//!
//! A body is streamed to the handler rather than read up front, so the connection task and
//! the [`BodyReader`](super::body::BodyReader) the handler holds both read from the transport
//! and the read buffer. They share them behind an `Arc`; the lock is only ever held inside one
//! `poll`, never across an `.await`.

use std::sync::{Mutex, MutexGuard};

use super::body::BodyProgress;
use super::buffer::ReadBuffer;
use super::idle::IdleState;

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

impl<T> Shared<T> {
    pub(crate) fn new(transport: T) -> Self {
        Shared {
            transport,
            input: Mutex::new(Input::default()),
            idle: IdleState::default(),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Input> {
        self.input
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

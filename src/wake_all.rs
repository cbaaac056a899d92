//! A one-time event many tasks wait for, each in a slot of one list: no allocation per
//! waiting task.
//!
//! Every connection waits for the start of shutdown for as long as it lives, so what a wait
//! costs is paid by every idle connection: here it is one slot (a [`Waker`], 16 bytes) in a
//! shared `Vec`, where an `event-listener` listener is an allocation of its own.
//!
//! What must stay true: a task that registers before [`WakeAll::wake_all`] is woken by it,
//! and one that polls after finds the event done. Both sides decide under the list's lock:
//! `wake_all` sets the flag and takes the wakers under it, [`Wait`] looks at the flag again
//! under it before registering.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// The event and the wakers of the tasks waiting for it.
#[derive(Debug, Default)]
pub(crate) struct WakeAll {
    done: AtomicBool,
    list: Mutex<Slots>,
}

#[derive(Debug, Default)]
struct Slots {
    /// One per [`Wait`] that has registered; `None` once woken, or while free.
    wakers: Vec<Option<Waker>>,
    /// Slots no [`Wait`] holds.
    free: Vec<usize>,
}

impl WakeAll {
    fn lock(&self) -> MutexGuard<'_, Slots> {
        self.list.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// True once [`wake_all`](Self::wake_all) was called.
    pub(crate) fn is_done(&self) -> bool {
        self.done.load(SeqCst)
    }

    /// The event: every waiting task is woken, and every later [`Wait`] completes at once.
    /// Later calls wake nobody.
    pub(crate) fn wake_all(&self) {
        let woken: Vec<Waker> = {
            let mut list = self.lock();
            self.done.store(true, SeqCst);
            list.wakers.iter_mut().filter_map(Option::take).collect()
        };
        // Woken outside the lock: a woken task may poll (and drop its `Wait`) at once.
        woken.into_iter().for_each(Waker::wake);
    }

    /// Completes once the event has happened. Cheap to poll over and over with the same
    /// waker: one atomic load, and a comparison of wakers.
    pub(crate) fn wait(&self) -> Wait<'_> {
        Wait {
            all: self,
            registered: None,
        }
    }

    /// Slots in use or free (for tests).
    #[cfg(test)]
    fn slots(&self) -> (usize, usize) {
        let list = self.lock();
        (list.wakers.len(), list.free.len())
    }
}

/// A wait for a [`WakeAll`]: its slot and the waker in it, once polled. The slot is given
/// back when the wait is dropped.
#[derive(Debug)]
pub(crate) struct Wait<'a> {
    all: &'a WakeAll,
    registered: Option<(usize, Waker)>,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if this.all.is_done() {
            return Poll::Ready(());
        }
        if let Some((_, waker)) = &this.registered {
            if waker.will_wake(cx.waker()) {
                return Poll::Pending;
            }
        }
        let mut list = this.all.lock();
        if this.all.is_done() {
            return Poll::Ready(());
        }
        let waker = cx.waker().clone();
        let at = match &this.registered {
            Some((at, _)) => *at,
            None => match list.free.pop() {
                Some(at) => at,
                None => {
                    list.wakers.push(None);
                    list.wakers.len() - 1
                }
            },
        };
        list.wakers[at] = Some(waker.clone());
        this.registered = Some((at, waker));
        Poll::Pending
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some((at, _)) = self.registered.take() {
            let mut list = self.all.lock();
            list.wakers[at] = None;
            list.free.push(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    /// A waker that counts its wakes.
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    fn counter() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    #[test]
    fn wakes_every_registered_task_once_and_completes_them() {
        let all = WakeAll::default();
        let (counts, wakers): (Vec<_>, Vec<_>) = (0..3).map(|_| counter()).unzip();
        let mut waits: Vec<_> = (0..3).map(|_| Box::pin(all.wait())).collect();
        for (wait, waker) in waits.iter_mut().zip(&wakers) {
            let mut cx = Context::from_waker(waker);
            assert!(wait.as_mut().poll(&mut cx).is_pending());
            // Polled again with the same waker: still pending, nothing registered twice.
            assert!(wait.as_mut().poll(&mut cx).is_pending());
        }
        assert_eq!(all.slots(), (3, 0));
        all.wake_all();
        all.wake_all();
        for count in &counts {
            assert_eq!(count.0.load(SeqCst), 1);
        }
        for (wait, waker) in waits.iter_mut().zip(&wakers) {
            assert!(
                wait.as_mut()
                    .poll(&mut Context::from_waker(waker))
                    .is_ready()
            );
        }
        // A wait made after the event completes at once and takes no slot.
        let late = std::pin::pin!(all.wait());
        assert!(late.poll(&mut Context::from_waker(&wakers[0])).is_ready());
        drop(waits);
        assert_eq!(all.slots(), (3, 3));
    }

    #[test]
    fn slots_are_reused_and_a_new_waker_replaces_the_old() {
        let all = WakeAll::default();
        let (first, first_waker) = counter();
        let (second, second_waker) = counter();
        {
            let mut wait = Box::pin(all.wait());
            assert!(
                wait.as_mut()
                    .poll(&mut Context::from_waker(&first_waker))
                    .is_pending()
            );
        }
        assert_eq!(all.slots(), (1, 1));
        let mut wait = Box::pin(all.wait());
        assert!(
            wait.as_mut()
                .poll(&mut Context::from_waker(&first_waker))
                .is_pending()
        );
        assert!(
            wait.as_mut()
                .poll(&mut Context::from_waker(&second_waker))
                .is_pending()
        );
        assert_eq!(all.slots(), (1, 0));
        all.wake_all();
        assert_eq!(first.0.load(SeqCst), 0, "the replaced waker is not woken");
        assert_eq!(second.0.load(SeqCst), 1);
    }

    #[test]
    fn a_wait_polled_on_other_threads_while_the_event_happens_is_never_lost() {
        // Bounded: 200 rounds, each a wait registering on a thread while another wakes, each
        // given 10 s to end (a lost wake-up would leave the waiter blocked: the test fails).
        for round in 0..200 {
            let all = Arc::new(WakeAll::default());
            let (done, ended) = std::sync::mpsc::channel();
            let waiter = {
                let all = all.clone();
                std::thread::spawn(move || {
                    futures_lite::future::block_on(all.wait());
                    let _ = done.send(());
                })
            };
            all.wake_all();
            let ended = ended.recv_timeout(std::time::Duration::from_secs(10));
            assert!(ended.is_ok(), "round {round}: the wait was never woken");
            waiter.join().unwrap();
        }
    }
}

//! Running a disconnect storm: client threads that each run one vanishing client after
//! another, then a bounded wait for the server's descriptors to come back to where they were.

use std::time::{Duration, Instant};

use super::rng::Rng;
use super::wait::{fd_count, wait_for};

/// How a storm went.
pub struct StormReport {
    /// Clients run, over all threads.
    pub clients: usize,
    pub elapsed: Duration,
    pub fds_before: usize,
    pub fds_after: usize,
    /// The descriptors came back to `fds_before` within the wait.
    pub settled: bool,
}

/// Runs `clients` calls of `client` (rounded up to a multiple of `threads`) on `threads`
/// threads, each with its own seeded [`Rng`], then waits up to 30 s for the process's open
/// descriptors to fall back to their count before the storm.
pub fn storm(
    clients: usize,
    threads: usize,
    seed: u64,
    client: impl Fn(&mut Rng) + Send + Sync + Clone + 'static,
) -> StormReport {
    let fds_before = fd_count();
    let per_thread = clients.div_ceil(threads);
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let client = client.clone();
            std::thread::spawn(move || {
                let mut rng = Rng::new(seed + t as u64);
                for _ in 0..per_thread {
                    client(&mut rng);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("a client thread failed");
    }
    let elapsed = started.elapsed();
    let mut fds_after = fd_count();
    let settled = wait_for(Duration::from_secs(30), Duration::from_millis(20), || {
        fds_after = fd_count();
        fds_after <= fds_before
    });
    StormReport {
        clients: per_thread * threads,
        elapsed,
        fds_before,
        fds_after,
        settled,
    }
}

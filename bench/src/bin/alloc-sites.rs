//! `alloc-sites [N] [smolweb|hyper] [hello|file]`: where the heap allocations of a keep-alive
//! request come from, per request: `GET /` ("Hello, World!") or, with `file`, a 4 KiB file
//! (`/files/4k.bin`: smolweb's `ServeDir`, hyper's file route; written to a temporary
//! directory).
//!
//! The same setup as `alloc-count` (server in-process on one executor thread, a blocking
//! keep-alive client on the main thread, a warm-up first), but while the N measured requests
//! run, every allocation made on a thread other than the client's records a backtrace. The
//! backtraces are then grouped by their first frames outside the allocator, the standard
//! library and `core`, and printed with how many times each site allocated per request, most
//! frequent first. A site below 0.01 per request is left out.
//!
//! Slow (a backtrace per allocation): use N of a few thousand.

use std::alloc::{GlobalAlloc, Layout, System};
use std::backtrace::Backtrace;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use smolweb_bench::client::Client;

struct Tracing;

static TRACE: AtomicBool = AtomicBool::new(false);
static SITES: Mutex<Vec<Backtrace>> = Mutex::new(Vec::new());

thread_local! {
    /// Set while this thread records a backtrace (which allocates), and on the client thread.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

fn record() {
    if !TRACE.load(Ordering::Relaxed) || QUIET.with(|q| q.replace(true)) {
        return;
    }
    let bt = Backtrace::force_capture();
    SITES.lock().unwrap().push(bt);
    QUIET.with(|q| q.set(false));
}

unsafe impl GlobalAlloc for Tracing {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Tracing = Tracing;

/// The frames of a backtrace that say where an allocation came from: function names only,
/// without the allocator, `std`, `core` and `alloc` frames above them.
fn site(bt: &Backtrace, depth: usize) -> String {
    let text = bt.to_string();
    let frames = text
        .lines()
        .map(str::trim)
        .filter_map(|l| l.split_once(": ").map(|(_, f)| f))
        .filter(|f| {
            ![
                "std::",
                "core::",
                "alloc::",
                "<alloc::",
                "<core::",
                "<std::",
                "__rust",
                "alloc_sites::",
                "<alloc_sites::",
                "hashbrown::raw",
            ]
            .iter()
            .any(|p| f.starts_with(p))
        });
    frames
        .take(depth)
        .map(|f| {
            // Drop the hash suffix rustc appends to symbol names (`::h` and 16 hex digits).
            match f.rsplit_once("::h") {
                Some((name, hash))
                    if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
                {
                    name.to_string()
                }
                _ => f.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n      <- ")
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(2_000);
    let which = args.next().unwrap_or_else(|| "smolweb".into());
    let file = match args.next().as_deref() {
        None | Some("hello") => false,
        Some("file") => true,
        Some(other) => return Err(std::io::Error::other(format!("unknown route {other}"))),
    };
    let files = smolweb_bench::TempFiles::new()?;
    let served = file.then(|| files.path());
    let path = if file { smolweb_bench::FILE_4K } else { "/" };
    let addr = match which.as_str() {
        "smolweb" => smolweb_bench::spawn_smolweb(served)?,
        "hyper" => smolweb_bench::spawn_hyper(served)?,
        other => return Err(std::io::Error::other(format!("unknown server {other}"))),
    };
    QUIET.with(|q| q.set(true));
    let mut client = Client::connect(addr, path)?;
    for _ in 0..1_000 {
        client.get()?;
    }
    TRACE.store(true, Ordering::SeqCst);
    for _ in 0..n {
        let (status, _) = client.get()?;
        assert_eq!(status, 200);
    }
    TRACE.store(false, Ordering::SeqCst);
    let traces = std::mem::take(&mut *SITES.lock().unwrap());
    let total = traces.len();
    let mut by_site: HashMap<String, usize> = HashMap::new();
    for bt in &traces {
        *by_site.entry(site(bt, 4)).or_default() += 1;
    }
    let mut rows: Vec<_> = by_site.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    println!(
        "{which} GET {path}: {:.2} allocations per request ({total} in {n} requests)",
        total as f64 / n as f64
    );
    for (site, count) in rows {
        let per = count as f64 / n as f64;
        if per >= 0.01 {
            println!("{per:6.2}  {site}");
        }
    }
    Ok(())
}

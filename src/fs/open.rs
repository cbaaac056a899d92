//! Opening files and reading them, the platform-specific part of serving files: `O_NONBLOCK`
//! opens, positioned reads, and opening beneath a root with `openat2(RESOLVE_BENEATH)` on
//! Linux or by canonicalizing elsewhere.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Opens for reading without ever waiting in `open` itself: a FIFO (or device) put in a
/// served directory would otherwise block the executor thread until a writer appears. It is
/// then refused as not a regular file. Regular files ignore `O_NONBLOCK`.
pub(crate) fn open_nonblocking(path: &Path) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        rustix::fs::OFlags::NONBLOCK.bits() as i32,
    );
    options.open(path)
}

/// Reads from `pos` in `file` without moving its offset (`pread`), retrying on `EINTR`.
#[cfg(unix)]
pub(crate) fn read_at(file: &std::fs::File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    loop {
        match std::os::unix::fs::FileExt::read_at(file, buf, pos) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Reads from `pos` in `file` onto the end of `out`, into its spare capacity (rustix's
/// `spare_capacity`: no zeroing, and `out`'s length covers exactly what was read), retrying on
/// `EINTR`. `out` must have spare capacity.
#[cfg(unix)]
pub(crate) fn read_at_onto(file: &std::fs::File, out: &mut Vec<u8>, pos: u64) -> io::Result<usize> {
    loop {
        match rustix::io::pread(file, rustix::buffer::spare_capacity(out), pos) {
            Err(rustix::io::Errno::INTR) => continue,
            other => return other.map_err(io::Error::from),
        }
    }
}

/// Reads from `pos` in `file` onto the end of `out` (elsewhere: a zeroed room, then a read).
#[cfg(not(unix))]
pub(crate) fn read_at_onto(file: &std::fs::File, out: &mut Vec<u8>, pos: u64) -> io::Result<usize> {
    let start = out.len();
    out.resize(out.capacity(), 0);
    let read = read_at(file, &mut out[start..], pos);
    out.truncate(start + *read.as_ref().unwrap_or(&0));
    read
}

/// Reads from `pos` in `file` (Windows: `seek_read`).
#[cfg(windows)]
pub(crate) fn read_at(file: &std::fs::File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, pos)
}

/// A directory that files are opened beneath, never outside, however symlinks point.
#[derive(Debug, Clone)]
pub(crate) struct Beneath {
    root: Arc<Path>,
    /// `root` canonicalized, if it existed when this was made.
    canonical: Option<Arc<Path>>,
    /// `root` opened as a directory handle, for `openat2(RESOLVE_BENEATH)` (Linux).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    dir: Option<Arc<rustix::fd::OwnedFd>>,
}

impl Beneath {
    /// `root` is canonicalized and opened now if it exists (looked up on each open otherwise).
    pub(crate) fn new(root: Arc<Path>) -> Self {
        let canonical = std::fs::canonicalize(&root).ok().map(Arc::from);
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let dir = {
            use rustix::fs::{Mode, OFlags};
            let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
            rustix::fs::open(&*root, flags, Mode::empty())
                .ok()
                .map(Arc::new)
        };
        Beneath {
            root,
            canonical,
            #[cfg(any(target_os = "linux", target_os = "android"))]
            dir,
        }
    }

    /// The root as it was given.
    pub(crate) fn path(&self) -> &Path {
        &self.root
    }

    /// True if the directory opened at start is no longer the one at the root's path (it was
    /// removed or renamed and another put in its place): files are still opened beneath the
    /// old one.
    pub(crate) fn replaced(&self) -> bool {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(dir) = &self.dir {
            if let (Ok(held), Ok(now)) = (rustix::fs::fstat(&**dir), rustix::fs::stat(&*self.root))
            {
                return (held.st_dev, held.st_ino) != (now.st_dev, now.st_ino);
            }
        }
        false
    }

    /// Opens `rel` under the root, never anything outside it, however symlinks point.
    ///
    /// On Linux one `openat2(RESOLVE_BENEATH)` from the root's directory handle does the whole
    /// walk in the kernel, refusing any step out of the root. When it refuses (`EXDEV`: an
    /// absolute symlink, or one leading out) or is unavailable, the path is canonicalized
    /// (every symlink followed) and must still lie under the canonical root.
    pub(crate) fn open(&self, rel: &Path) -> io::Result<std::fs::File> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(dir) = &self.dir {
            use rustix::fs::{Mode, OFlags, ResolveFlags};
            use rustix::io::Errno;
            let path = if rel.as_os_str().is_empty() {
                Path::new(".")
            } else {
                rel
            };
            let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK;
            let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
            match rustix::fs::openat2(&**dir, path, flags, Mode::empty(), resolve) {
                Ok(fd) => return Ok(std::fs::File::from(fd)),
                Err(Errno::XDEV | Errno::NOSYS | Errno::LOOP | Errno::AGAIN) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let root = match &self.canonical {
            Some(root) => PathBuf::from(&**root),
            None => std::fs::canonicalize(&self.root)?,
        };
        let full = std::fs::canonicalize(root.join(rel))?;
        if !full.starts_with(&root) {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "path resolves outside the root",
            ));
        }
        open_nonblocking(&full)
    }
}

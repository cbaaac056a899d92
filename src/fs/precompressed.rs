//! Precompressed siblings: `app.js.br`, `app.js.zst`, `app.js.gz` beside `app.js`, chosen by
//! the request's `Accept-Encoding`.

use std::ffi::OsString;
use std::fs::{File, Metadata};
use std::path::{Path, PathBuf};

use super::open::Beneath;
use crate::coding::{Accepted, Coding};

/// Every coding a sibling may be in, in the order preferred when the client weighs them
/// alike: brotli is the smallest for text, then zstd, then gzip.
pub(crate) const ALL: &[Coding] = &[Coding::Brotli, Coding::Zstd, Coding::Gzip];

/// The best sibling of `path` under `root` that the client accepts, opened: the codings of
/// `offered` the client accepts, heaviest first, the first whose file exists and is a regular
/// file. One `open` (and one `fstat` when it exists) per coding tried.
pub(crate) fn open_sibling(
    root: &Beneath,
    path: &Path,
    accepted: &Accepted,
    offered: &[Coding],
) -> Option<(File, Metadata, Coding)> {
    let mut order: Vec<Coding> = offered
        .iter()
        .copied()
        .filter(|&coding| accepted.best(&[coding]).is_some())
        .collect();
    // Stable: codings of the same weight keep the offered order.
    order.sort_by_key(|&coding| std::cmp::Reverse(accepted.weight(coding)));
    order.into_iter().find_map(|coding| {
        let file = root.open(&with_suffix(path, coding.suffix())).ok()?;
        let meta = file.metadata().ok()?;
        meta.is_file().then_some((file, meta, coding))
    })
}

/// `path` with `suffix` appended to its file name (`a/b.js` → `a/b.js.br`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_the_suffix_to_the_name() {
        assert_eq!(
            with_suffix(Path::new("a/b.js"), ".br"),
            PathBuf::from("a/b.js.br")
        );
        assert_eq!(
            with_suffix(Path::new("index.html"), ".gz"),
            PathBuf::from("index.html.gz")
        );
    }
}

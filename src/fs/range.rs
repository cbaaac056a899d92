//! Byte ranges (RFC 9110 §14): what a `Range` header asks of a file, with the limits that
//! keep a request for many small or overlapping ranges from costing more than the file.

use crate::h1::fields::parse_length;

/// More ranges than this in one `Range` header and the header is ignored (the whole file is
/// sent), as Apache's `MaxRanges` does: each range is a part with its own headers.
pub(crate) const MAX_RANGES: usize = 16;

/// Ranges at most this many bytes apart are sent as one part: a part's own headers take about
/// as much, so sending the bytes between costs no more (nginx and Apache coalesce too).
pub(crate) const COALESCE_GAP: u64 = 80;

/// What a `Range` header asks of a file of known length. Byte positions are inclusive.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ranges {
    /// Ignore the header and send the whole file: malformed, not `bytes`, more than
    /// [`MAX_RANGES`] ranges, or ranges adding up to more than the file.
    Ignored,
    /// No range overlaps the file: `416`.
    Unsatisfiable,
    /// One range (first, last): a plain `206`.
    One(u64, u64),
    /// Two or more ranges, sorted, none within [`COALESCE_GAP`] of the next: a multipart `206`.
    Several(Vec<(u64, u64)>),
}

/// Parses a `Range` header (RFC 9110 §14.1.2) against a file of `len` bytes. Unsatisfiable
/// ranges are dropped; the rest are sorted and coalesced. A single range allocates nothing.
pub(crate) fn parse_ranges(header: &str, len: u64) -> Ranges {
    let header = header.trim();
    let Some(set) = header
        .get(..6)
        .filter(|unit| unit.eq_ignore_ascii_case("bytes="))
        .and_then(|_| header.get(6..))
    else {
        return Ranges::Ignored;
    };
    let (mut specs, mut total) = (0usize, 0u64);
    let mut first: Option<(u64, u64)> = None;
    let mut more: Vec<(u64, u64)> = Vec::new();
    // Empty list elements (`bytes=0-1,,5-6`) are allowed and skipped (RFC 9110 §5.6.1).
    for spec in set.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        specs += 1;
        if specs > MAX_RANGES {
            return Ranges::Ignored;
        }
        let Some(spec) = parse_spec(spec, len) else {
            return Ranges::Ignored;
        };
        let Some((start, end)) = spec else {
            continue;
        };
        total = total.saturating_add(end - start + 1);
        if total > len {
            // Overlapping ranges asking for more than the file (`bytes=0-,0-,0-`).
            return Ranges::Ignored;
        }
        match first {
            None => first = Some((start, end)),
            Some(_) => more.push((start, end)),
        }
    }
    match first {
        _ if specs == 0 => Ranges::Ignored,
        None => Ranges::Unsatisfiable,
        Some((start, end)) if more.is_empty() => Ranges::One(start, end),
        Some(range) => {
            more.push(range);
            coalesce(&mut more);
            match *more {
                [(start, end)] => Ranges::One(start, end),
                _ => Ranges::Several(more),
            }
        }
    }
}

/// One range-spec: `None` when malformed (the whole header is then ignored), `Some(None)`
/// when it does not overlap the file, else its first and last byte, cut to the file.
fn parse_spec(spec: &str, len: u64) -> Option<Option<(u64, u64)>> {
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    let digits = |s: &str| parse_length(s.as_bytes());
    if first.is_empty() {
        // Suffix: the last n bytes.
        let n = digits(last)?;
        return Some((n > 0 && len > 0).then(|| (len - n.min(len), len - 1)));
    }
    let start = digits(first)?;
    let end = if last.is_empty() {
        u64::MAX
    } else {
        digits(last)?
    };
    if end < start {
        return None;
    }
    Some((start < len).then(|| (start, end.min(len - 1))))
}

/// Sorts `ranges` and merges those that overlap, touch, or are at most [`COALESCE_GAP`]
/// bytes apart.
fn coalesce(ranges: &mut Vec<(u64, u64)>) {
    ranges.sort_unstable();
    let mut kept = 0;
    for i in 1..ranges.len() {
        let (start, end) = ranges[i];
        let last = &mut ranges[kept];
        if start <= last.1.saturating_add(COALESCE_GAP + 1) {
            last.1 = last.1.max(end);
        } else {
            kept += 1;
            ranges[kept] = (start, end);
        }
    }
    ranges.truncate(kept + 1);
}

#[cfg(test)]
mod tests {
    use super::Ranges::*;
    use super::*;

    #[test]
    fn parses_single_ranges() {
        assert_eq!(parse_ranges("bytes=0-499", 1000), One(0, 499));
        assert_eq!(parse_ranges("bytes=500-", 1000), One(500, 999));
        assert_eq!(parse_ranges("bytes=-200", 1000), One(800, 999));
        assert_eq!(parse_ranges("bytes=-2000", 1000), One(0, 999));
        assert_eq!(parse_ranges("bytes=900-5000", 1000), One(900, 999));
        assert_eq!(parse_ranges("bytes=0-", 1000), One(0, 999));
        assert_eq!(parse_ranges(" bytes= 3 - 4 ", 1000), One(3, 4));
        assert_eq!(parse_ranges("Bytes=0-0", 1000), One(0, 0));
        assert_eq!(parse_ranges("bytes=1000-", 1000), Unsatisfiable);
        assert_eq!(parse_ranges("bytes=-0", 1000), Unsatisfiable);
        assert_eq!(parse_ranges("bytes=0-0", 0), Unsatisfiable);
        assert_eq!(parse_ranges("bytes=-5", 0), Unsatisfiable);
    }

    #[test]
    fn ignores_malformed_headers() {
        for header in [
            "bytes=5-1",
            "items=0-1",
            "bytes=+1-2",
            "bytes=abc",
            "bytes=",
            "bytes=,",
            "bytes",
            "bytes=1",
            "bytes=-",
            "bytes=0-1,5-x",
            "bytes=0-1,9-3",
            "bytes=0-1;5-6",
            "",
        ] {
            assert_eq!(parse_ranges(header, 1000), Ignored, "{header:?}");
        }
    }

    #[test]
    fn parses_several_ranges_sorted() {
        assert_eq!(
            parse_ranges("bytes=0-9,200-209", 1000),
            Several(vec![(0, 9), (200, 209)])
        );
        assert_eq!(
            parse_ranges("bytes=500-509, 0-9 ,-10", 1000),
            Several(vec![(0, 9), (500, 509), (990, 999)])
        );
        assert_eq!(
            parse_ranges("bytes=0-9,,200-209,", 1000),
            Several(vec![(0, 9), (200, 209)])
        );
    }

    #[test]
    fn coalesces_overlapping_adjacent_and_close_ranges() {
        // Overlapping, and one inside another.
        assert_eq!(parse_ranges("bytes=0-9,5-14", 1000), One(0, 14));
        assert_eq!(parse_ranges("bytes=0-99,10-20", 1000), One(0, 99));
        // Adjacent.
        assert_eq!(parse_ranges("bytes=10-19,0-9", 1000), One(0, 19));
        // Exactly COALESCE_GAP bytes between: merged; one more: two parts.
        let gap = COALESCE_GAP;
        let merged = format!("bytes=0-9,{}-{}", 10 + gap, 19 + gap);
        assert_eq!(parse_ranges(&merged, 1000), One(0, 19 + gap));
        let apart = format!("bytes=0-9,{}-{}", 11 + gap, 20 + gap);
        assert_eq!(
            parse_ranges(&apart, 1000),
            Several(vec![(0, 9), (11 + gap, 20 + gap)])
        );
        // A chain: each close to the next.
        assert_eq!(
            parse_ranges("bytes=0-0,50-50,100-100,900-909", 1000),
            Several(vec![(0, 100), (900, 909)])
        );
    }

    #[test]
    fn drops_unsatisfiable_ranges() {
        assert_eq!(parse_ranges("bytes=0-9,2000-2009", 1000), One(0, 9));
        assert_eq!(parse_ranges("bytes=2000-,0-9,-0", 1000), One(0, 9));
        assert_eq!(parse_ranges("bytes=2000-,3000-", 1000), Unsatisfiable);
        assert_eq!(
            parse_ranges("bytes=0-9,1000-,500-509", 1000),
            Several(vec![(0, 9), (500, 509)])
        );
    }

    #[test]
    fn too_many_ranges_are_ignored() {
        let ranges = |n: usize| {
            let specs: Vec<String> = (0..n).map(|i| format!("{}-{}", i * 200, i * 200)).collect();
            format!("bytes={}", specs.join(","))
        };
        match parse_ranges(&ranges(MAX_RANGES), 100_000) {
            Several(parts) => assert_eq!(parts.len(), MAX_RANGES),
            other => panic!("{other:?}"),
        }
        assert_eq!(parse_ranges(&ranges(MAX_RANGES + 1), 100_000), Ignored);
        // Counted as sent, before coalescing: many tiny overlapping ones are too many too.
        let same = format!("bytes={}", vec!["0-0"; MAX_RANGES + 1].join(","));
        assert_eq!(parse_ranges(&same, 100_000), Ignored);
    }

    #[test]
    fn ranges_adding_up_to_more_than_the_file_are_ignored() {
        assert_eq!(parse_ranges("bytes=0-,0-", 1000), Ignored);
        assert_eq!(parse_ranges("bytes=0-599,400-999", 1000), Ignored);
        assert_eq!(parse_ranges("bytes=-600,-600", 1000), Ignored);
        // Exactly the file: allowed (and coalesced).
        assert_eq!(parse_ranges("bytes=0-499,500-999", 1000), One(0, 999));
        // Huge numbers do not overflow.
        let huge = format!("bytes=0-{},0-1", u64::MAX);
        assert_eq!(parse_ranges(&huge, 1000), Ignored);
    }
}

//! The chunked decoder on arbitrary bytes: it must never panic, never write more body than
//! it was given input, and never claim to have consumed more than it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smolweb::h1::ChunkedDecoder;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the output room (1..=16) and the piece size (1..=16), so splits
    // and small buffers are explored too.
    let Some((&knobs, input)) = data.split_first() else {
        return;
    };
    let room = usize::from(knobs & 0x0f) + 1;
    let piece = usize::from(knobs >> 4) + 1;
    let mut dec = ChunkedDecoder::new();
    let mut out = [0u8; 16];
    let (mut consumed, mut produced) = (0usize, 0usize);
    let mut offered = 0usize;
    // Each round consumes or produces at least one byte, or stops: bounded by twice the input.
    for _ in 0..=2 * input.len() + 1 {
        if consumed == input.len() || dec.is_done() {
            break;
        }
        offered = offered.max((consumed + piece).min(input.len()));
        let window = &input[consumed..offered];
        match dec.decode(window, &mut out[..room]) {
            Ok((used, n)) => {
                assert!(used <= window.len(), "consumed {used} of {}", window.len());
                assert!(n <= room, "wrote {n} into {room}");
                consumed += used;
                produced += n;
                assert!(
                    produced <= consumed,
                    "{produced} body bytes from {consumed} input"
                );
                if used == 0 && n == 0 {
                    if offered == input.len() {
                        break;
                    }
                    // Needs more input: offer the next piece.
                    offered = (offered + piece).min(input.len());
                }
            }
            Err(_) => break,
        }
    }
    assert!(consumed <= input.len());
    assert!(produced <= input.len());
});

//! Property: however a stream of frames is cut into reads, the decoder
//! yields exactly the payloads that were encoded, in order.

use bytes::BytesMut;
use hemobridge_mllp::codec::{encode, FrameDecoder, END_BLOCK, START_BLOCK};
use proptest::prelude::*;

/// Payload bytes: anything but the start and end block bytes.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        any::<u8>().prop_filter("no framing bytes", |byte| {
            *byte != START_BLOCK && *byte != END_BLOCK
        }),
        0..300,
    )
}

/// Garbage between frames: no start byte.
fn garbage() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        any::<u8>().prop_filter("no start byte", |byte| *byte != START_BLOCK),
        0..8,
    )
}

/// Splits `stream` at the given cut points (taken modulo its length).
fn chunks(stream: &[u8], mut cuts: Vec<usize>) -> Vec<&[u8]> {
    if stream.is_empty() {
        return vec![stream];
    }
    cuts.iter_mut().for_each(|cut| *cut %= stream.len());
    cuts.sort_unstable();
    cuts.dedup();
    let mut pieces = Vec::new();
    let mut start = 0;
    for cut in cuts {
        pieces.push(&stream[start..cut]);
        start = cut;
    }
    pieces.push(&stream[start..]);
    pieces
}

fn decode_in_pieces(pieces: &[&[u8]]) -> (Vec<Vec<u8>>, u64) {
    let mut decoder = FrameDecoder::new(1024);
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        while let Some(frame) = decoder.decode(&mut buf).unwrap() {
            frames.push(frame.to_vec());
        }
    }
    (frames, decoder.take_skipped_garbage())
}

proptest! {
    #[test]
    fn arbitrary_chunking_yields_the_same_frames(
        payloads in prop::collection::vec(payload(), 0..20),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
    ) {
        let mut stream = BytesMut::new();
        for payload in &payloads {
            encode(payload, &mut stream);
        }
        let (frames, garbage) = decode_in_pieces(&chunks(&stream, cuts));
        prop_assert_eq!(frames, payloads);
        prop_assert_eq!(garbage, 0);
    }

    #[test]
    fn garbage_between_frames_is_skipped_and_counted(
        frames_with_garbage in prop::collection::vec((garbage(), payload()), 0..20),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
    ) {
        let mut stream = BytesMut::new();
        let mut garbage_total = 0u64;
        for (garbage, payload) in &frames_with_garbage {
            stream.extend_from_slice(garbage);
            garbage_total += garbage.len() as u64;
            encode(payload, &mut stream);
        }
        let (frames, garbage) = decode_in_pieces(&chunks(&stream, cuts));
        let payloads: Vec<Vec<u8>> = frames_with_garbage.into_iter().map(|(_, payload)| payload).collect();
        prop_assert_eq!(frames, payloads);
        prop_assert_eq!(garbage, garbage_total);
    }
}

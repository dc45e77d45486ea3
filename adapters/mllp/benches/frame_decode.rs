//! Decoding throughput for coalesced frames: a buffer holding 1,000 frames
//! of 1 KiB each, as a busy connection's reads would deliver them, decoded
//! to the last frame.

use bytes::BytesMut;
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use hemobridge_mllp::codec::{encode, FrameDecoder};

const FRAME_PAYLOAD_BYTES: usize = 1024;
const FRAMES_PER_BUFFER: usize = 1000;

/// A 1 KiB HL7-looking payload without framing bytes.
fn payload() -> Vec<u8> {
    let segment = b"OBX|1|ST|BLOOD^Blood product||RBC-LR|||N|||F\r";
    segment
        .iter()
        .copied()
        .cycle()
        .take(FRAME_PAYLOAD_BYTES)
        .collect()
}

fn coalesced_frames() -> BytesMut {
    let payload = payload();
    let mut buf = BytesMut::new();
    for _ in 0..FRAMES_PER_BUFFER {
        encode(&payload, &mut buf);
    }
    buf
}

fn decode_coalesced(c: &mut Criterion) {
    let input = coalesced_frames();
    let mut group = c.benchmark_group("frame_decode");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.bench_function("coalesced_1k_frames", |b| {
        b.iter_batched_ref(
            || input.clone(),
            |buf| {
                let mut decoder = FrameDecoder::default();
                let mut frames = 0usize;
                while let Some(frame) = decoder.decode(buf).expect("valid frames") {
                    black_box(&frame);
                    frames += 1;
                }
                assert_eq!(frames, FRAMES_PER_BUFFER);
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, decode_coalesced);
criterion_main!(benches);

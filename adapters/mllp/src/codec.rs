//! MLLP framing: `0x0B <message> 0x1C 0x0D`.
//!
//! TCP delivers a byte stream, not messages, so one HL7 message may arrive
//! over many reads (a *split* frame) and one read may carry several messages
//! (*coalesced* frames). [`FrameDecoder`] turns a growing [`BytesMut`] into
//! complete frames, keeping only a little state between calls, and
//! [`encode`] writes one frame.
//!
//! Rules the decoder applies, in the order a byte meets them:
//!
//! * Bytes before a start byte (`0x0B`) belong to no frame. They are dropped
//!   and counted ([`FrameDecoder::take_skipped_garbage`]) so the caller can log
//!   them; a run of more than the garbage limit without any start byte is an
//!   error ([`FrameError::TooMuchGarbage`]), so a peer that sends only noise
//!   is cut off.
//! * A frame ends at `0x1C 0x0D`. A `0x1C` directly followed by `0x0B` also
//!   ends the frame (a sender that forgot the carriage return; the `0x0B`
//!   starts the next frame). A `0x1C` followed by any other byte is kept as
//!   part of the message and the search for the end goes on: it cannot be an
//!   end marker, and dropping it would corrupt the payload silently. A `0x1C`
//!   that is the last byte received waits for the next byte to decide.
//! * A frame whose payload exceeds `max_frame_bytes` is an error
//!   ([`FrameError::TooLarge`]) raised as soon as the buffered payload passes
//!   the limit, so the caller never has to hold more than the limit plus one
//!   read.
//!
//! Decoding is zero-copy: a frame is split off the front of the buffer and
//! frozen, so it shares the read buffer's allocation. Each call only scans
//! the bytes that arrived since the previous call (with `memchr`), so a frame
//! delivered one byte at a time still costs linear time.
//!
//! After an error the stream position is lost; the caller should close the
//! connection and drop the decoder.

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// Start block: the byte that opens a frame.
pub const START_BLOCK: u8 = 0x0B;
/// End block: the first byte of the two that close a frame.
pub const END_BLOCK: u8 = 0x1C;
/// Carriage return: the byte after [`END_BLOCK`] that closes a frame.
pub const CARRIAGE_RETURN: u8 = 0x0D;

/// Default limit on one frame's payload: 4 MiB.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 4 * 1024 * 1024;
/// Default limit on consecutive bytes received outside any frame: 64 KiB.
pub const DEFAULT_MAX_GARBAGE_BYTES: usize = 64 * 1024;

/// Why the byte stream cannot be decoded any further.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The payload of the current frame passed the limit before its end marker.
    #[error("MLLP frame larger than the limit of {limit} bytes")]
    TooLarge {
        /// The configured `max_frame_bytes`.
        limit: usize,
    },
    /// More than the limit of consecutive bytes arrived without a start byte.
    #[error("{skipped} bytes received outside any MLLP frame (limit {limit})")]
    TooMuchGarbage {
        /// Bytes skipped in the current run of garbage.
        skipped: usize,
        /// The configured garbage limit.
        limit: usize,
    },
}

/// Where the decoder is in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DecodeState {
    /// Between frames: looking for a start byte.
    SeekingStart,
    /// Inside a frame whose start byte has been consumed. The buffer front
    /// is the first payload byte; `scanned` bytes of it are known to hold no
    /// end marker.
    InFrame { scanned: usize },
}

/// Streaming MLLP decoder; see the module documentation for the rules.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    max_frame_bytes: usize,
    max_garbage_bytes: usize,
    state: DecodeState,
    /// Consecutive garbage bytes since the last start byte.
    garbage_run: usize,
    /// Garbage bytes skipped and not yet reported to the caller.
    garbage_unreported: u64,
}

impl FrameDecoder {
    /// A decoder that rejects frames whose payload exceeds `max_frame_bytes`,
    /// with the default garbage limit.
    pub fn new(max_frame_bytes: usize) -> Self {
        Self {
            max_frame_bytes,
            max_garbage_bytes: DEFAULT_MAX_GARBAGE_BYTES,
            state: DecodeState::SeekingStart,
            garbage_run: 0,
            garbage_unreported: 0,
        }
    }

    /// Sets how many consecutive bytes outside any frame are tolerated.
    pub fn with_garbage_limit(mut self, max_garbage_bytes: usize) -> Self {
        self.max_garbage_bytes = max_garbage_bytes;
        self
    }

    /// The payload limit this decoder enforces.
    pub fn max_frame_bytes(&self) -> usize {
        self.max_frame_bytes
    }

    /// True when a start byte has been seen and its frame is not complete yet.
    pub fn is_mid_frame(&self) -> bool {
        matches!(self.state, DecodeState::InFrame { .. })
    }

    /// Returns the number of garbage bytes skipped since the previous call
    /// and resets that count.
    pub fn take_skipped_garbage(&mut self) -> u64 {
        std::mem::take(&mut self.garbage_unreported)
    }

    /// Takes the next complete frame's payload off the front of `buf`.
    ///
    /// Returns `Ok(None)` when more bytes are needed; bytes already examined
    /// are remembered, so call again after appending to `buf`. Call in a loop
    /// until `Ok(None)` to drain coalesced frames.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        loop {
            match self.state {
                DecodeState::SeekingStart => {
                    if !self.skip_to_start(buf)? {
                        return Ok(None);
                    }
                }
                DecodeState::InFrame { scanned } => return self.find_frame_end(buf, scanned),
            }
        }
    }

    /// Like [`decode`](Self::decode), for when the peer has closed its side
    /// and no byte will follow: a frame whose last received byte is the end
    /// block `0x1C` (the carriage return never came) is accepted.
    pub fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        if let Some(frame) = self.decode(buf)? {
            return Ok(Some(frame));
        }
        if self.is_mid_frame() && buf.last() == Some(&END_BLOCK) {
            let frame = buf.split_to(buf.len() - 1).freeze();
            buf.advance(1);
            self.state = DecodeState::SeekingStart;
            return Ok(Some(frame));
        }
        Ok(None)
    }

    /// Drops bytes up to and including the next start byte. Returns whether
    /// a start byte was found (the decoder is then inside a frame).
    fn skip_to_start(&mut self, buf: &mut BytesMut) -> Result<bool, FrameError> {
        let (skipped, found) = match memchr::memchr(START_BLOCK, buf) {
            Some(position) => (position, true),
            None => (buf.len(), false),
        };
        self.garbage_run += skipped;
        self.garbage_unreported += skipped as u64;
        buf.advance(skipped);
        if self.garbage_run > self.max_garbage_bytes {
            return Err(FrameError::TooMuchGarbage {
                skipped: self.garbage_run,
                limit: self.max_garbage_bytes,
            });
        }
        if found {
            buf.advance(1);
            self.garbage_run = 0;
            self.state = DecodeState::InFrame { scanned: 0 };
        }
        Ok(found)
    }

    /// Looks for the end marker after the first `scanned` payload bytes.
    fn find_frame_end(
        &mut self,
        buf: &mut BytesMut,
        mut scanned: usize,
    ) -> Result<Option<Bytes>, FrameError> {
        while let Some(offset) = memchr::memchr(END_BLOCK, &buf[scanned..]) {
            let end = scanned + offset;
            if end > self.max_frame_bytes {
                return Err(self.too_large());
            }
            match buf.get(end + 1) {
                // The byte after 0x1C has not arrived yet: decide next time.
                None => {
                    self.state = DecodeState::InFrame { scanned: end };
                    return Ok(None);
                }
                Some(&CARRIAGE_RETURN) => return Ok(Some(self.take_frame(buf, end, 2))),
                // Missing carriage return: leave the 0x0B for the next frame.
                Some(&START_BLOCK) => return Ok(Some(self.take_frame(buf, end, 1))),
                // Not an end marker: the 0x1C is payload.
                Some(_) => scanned = end + 1,
            }
        }
        if buf.len() > self.max_frame_bytes {
            return Err(self.too_large());
        }
        self.state = DecodeState::InFrame { scanned: buf.len() };
        Ok(None)
    }

    /// Splits the payload (`payload_len` bytes) off `buf` and drops the
    /// `trailer_len` bytes of end marker that follow it.
    fn take_frame(&mut self, buf: &mut BytesMut, payload_len: usize, trailer_len: usize) -> Bytes {
        let frame = buf.split_to(payload_len).freeze();
        buf.advance(trailer_len);
        self.state = DecodeState::SeekingStart;
        frame
    }

    fn too_large(&self) -> FrameError {
        FrameError::TooLarge {
            limit: self.max_frame_bytes,
        }
    }
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FRAME_BYTES)
    }
}

/// Appends `msg` framed as `0x0B msg 0x1C 0x0D` to `out`.
pub fn encode(msg: &[u8], out: &mut BytesMut) {
    out.reserve(msg.len() + 3);
    out.put_u8(START_BLOCK);
    out.put_slice(msg);
    out.put_u8(END_BLOCK);
    out.put_u8(CARRIAGE_RETURN);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(msgs: &[&[u8]]) -> BytesMut {
        let mut out = BytesMut::new();
        for msg in msgs {
            encode(msg, &mut out);
        }
        out
    }

    fn drain(decoder: &mut FrameDecoder, buf: &mut BytesMut) -> Vec<Bytes> {
        let mut frames = Vec::new();
        while let Some(frame) = decoder.decode(buf).unwrap() {
            frames.push(frame);
        }
        frames
    }

    #[test]
    fn encode_wraps_the_message() {
        let mut out = BytesMut::new();
        encode(b"MSH|", &mut out);
        assert_eq!(&out[..], b"\x0bMSH|\x1c\x0d");
    }

    #[test]
    fn decodes_one_frame_and_consumes_it() {
        let mut decoder = FrameDecoder::default();
        let mut buf = framed(&[b"hello"]);
        assert_eq!(decoder.decode(&mut buf).unwrap().unwrap(), &b"hello"[..]);
        assert!(buf.is_empty());
        assert_eq!(decoder.decode(&mut buf).unwrap(), None);
        assert!(!decoder.is_mid_frame());
    }

    #[test]
    fn decodes_coalesced_frames_in_order() {
        let mut decoder = FrameDecoder::default();
        let mut buf = framed(&[b"one", b"two", b""]);
        let frames = drain(&mut decoder, &mut buf);
        assert_eq!(frames, vec![&b"one"[..], &b"two"[..], &b""[..]]);
    }

    #[test]
    fn decodes_a_frame_fed_byte_by_byte() {
        let mut decoder = FrameDecoder::default();
        let input = framed(&[b"MSH|^~\\&|A", b"B"]);
        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        for byte in input.iter() {
            buf.extend_from_slice(&[*byte]);
            frames.extend(drain(&mut decoder, &mut buf));
        }
        assert_eq!(frames, vec![&b"MSH|^~\\&|A"[..], &b"B"[..]]);
    }

    #[test]
    fn waits_when_the_end_block_is_the_last_byte() {
        let mut decoder = FrameDecoder::default();
        let mut buf = BytesMut::from(&b"\x0babc\x1c"[..]);
        assert_eq!(decoder.decode(&mut buf).unwrap(), None);
        assert!(decoder.is_mid_frame());
        buf.extend_from_slice(b"\x0d");
        assert_eq!(decoder.decode(&mut buf).unwrap().unwrap(), &b"abc"[..]);
    }

    #[test]
    fn skips_and_counts_garbage_before_a_frame() {
        let mut decoder = FrameDecoder::default();
        let mut buf = BytesMut::from(&b"\r\nnoise"[..]);
        assert_eq!(decoder.decode(&mut buf).unwrap(), None);
        assert_eq!(decoder.take_skipped_garbage(), 7);
        assert_eq!(decoder.take_skipped_garbage(), 0);
        buf.extend_from_slice(b"xy\x0bmsg\x1c\x0d\n");
        assert_eq!(decoder.decode(&mut buf).unwrap().unwrap(), &b"msg"[..]);
        assert_eq!(decoder.take_skipped_garbage(), 2);
        assert_eq!(decoder.decode(&mut buf).unwrap(), None);
        assert_eq!(decoder.take_skipped_garbage(), 1);
    }

    #[test]
    fn too_much_garbage_is_an_error() {
        let mut decoder = FrameDecoder::default().with_garbage_limit(10);
        let mut buf = BytesMut::from(&[b'x'; 6][..]);
        assert_eq!(decoder.decode(&mut buf).unwrap(), None);
        buf.extend_from_slice(&[b'x'; 6]);
        assert_eq!(
            decoder.decode(&mut buf),
            Err(FrameError::TooMuchGarbage {
                skipped: 12,
                limit: 10
            })
        );
    }

    #[test]
    fn a_start_byte_resets_the_garbage_run() {
        let mut decoder = FrameDecoder::default().with_garbage_limit(4);
        let mut buf = BytesMut::from(&b"xxx\x0ba\x1c\x0dxxx\x0bb\x1c\x0d"[..]);
        assert_eq!(drain(&mut decoder, &mut buf), vec![&b"a"[..], &b"b"[..]]);
    }

    #[test]
    fn missing_carriage_return_before_a_start_byte_ends_the_frame() {
        let mut decoder = FrameDecoder::default();
        let mut buf = BytesMut::from(&b"\x0bfirst\x1c\x0bsecond\x1c\x0d"[..]);
        assert_eq!(
            drain(&mut decoder, &mut buf),
            vec![&b"first"[..], &b"second"[..]]
        );
        assert_eq!(decoder.take_skipped_garbage(), 0);
    }

    #[test]
    fn end_block_followed_by_other_bytes_is_payload() {
        let mut decoder = FrameDecoder::default();
        let mut buf = BytesMut::from(&b"\x0ba\x1cb\x1c\x0d"[..]);
        assert_eq!(drain(&mut decoder, &mut buf), vec![&b"a\x1cb"[..]]);
    }

    #[test]
    fn frame_at_the_limit_is_accepted() {
        let mut decoder = FrameDecoder::new(4);
        let mut buf = framed(&[b"abcd"]);
        assert_eq!(decoder.decode(&mut buf).unwrap().unwrap(), &b"abcd"[..]);
    }

    #[test]
    fn complete_frame_over_the_limit_is_rejected() {
        let mut decoder = FrameDecoder::new(4);
        let mut buf = framed(&[b"abcde"]);
        assert_eq!(
            decoder.decode(&mut buf),
            Err(FrameError::TooLarge { limit: 4 })
        );
    }

    #[test]
    fn unfinished_frame_over_the_limit_is_rejected_before_its_end() {
        let mut decoder = FrameDecoder::new(4);
        let mut buf = BytesMut::from(&b"\x0babcd"[..]);
        assert_eq!(decoder.decode(&mut buf).unwrap(), None);
        buf.extend_from_slice(b"e");
        assert_eq!(
            decoder.decode(&mut buf),
            Err(FrameError::TooLarge { limit: 4 })
        );
    }

    #[test]
    fn the_limit_applies_per_frame_not_per_buffer() {
        let mut decoder = FrameDecoder::new(4);
        let mut buf = framed(&[b"abcd", b"efgh", b"ijkl"]);
        assert_eq!(drain(&mut decoder, &mut buf).len(), 3);
    }

    #[test]
    fn decode_eof_accepts_a_frame_missing_its_carriage_return() {
        let mut decoder = FrameDecoder::default();
        let mut buf = BytesMut::from(&b"\x0babc\x1c"[..]);
        assert_eq!(decoder.decode(&mut buf).unwrap(), None);
        assert_eq!(decoder.decode_eof(&mut buf).unwrap().unwrap(), &b"abc"[..]);
        assert!(buf.is_empty());
        assert!(!decoder.is_mid_frame());
    }

    #[test]
    fn decode_eof_leaves_an_unfinished_frame_alone() {
        let mut decoder = FrameDecoder::default();
        let mut buf = BytesMut::from(&b"\x0babc"[..]);
        assert_eq!(decoder.decode_eof(&mut buf).unwrap(), None);
        assert!(decoder.is_mid_frame());
    }
}

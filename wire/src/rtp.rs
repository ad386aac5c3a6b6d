//! RTP packets (RFC 3550 section 5.1): the fixed header, CSRCs, the header extension and
//! padding are understood; the payload is borrowed from the datagram.

/// Why a datagram is not an RTP packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtpError {
    #[error("RTP packet too short ({0} bytes)")]
    TooShort(usize),
    #[error("RTP version {0}, expected 2")]
    Version(u8),
    #[error("RTP header longer than the packet")]
    Truncated,
    #[error("RTP padding of {0} bytes does not fit the packet")]
    Padding(usize),
}

/// The fields of an RTP header that a receiver acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    pub marker: bool,
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
}

/// A parsed packet; the payload borrows the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    pub header: RtpHeader,
    pub payload: &'a [u8],
}

const FIXED: usize = 12;

/// Whether a datagram on a multiplexed port is RTCP rather than RTP (RFC 5761 section 4:
/// packet types 192-223 in the second byte).
pub fn looks_like_rtcp(datagram: &[u8]) -> bool {
    datagram.len() >= 2 && (192..=223).contains(&datagram[1])
}

/// Parses one RTP packet.
pub fn parse(datagram: &[u8]) -> Result<RtpPacket<'_>, RtpError> {
    if datagram.len() < FIXED {
        return Err(RtpError::TooShort(datagram.len()));
    }
    let b0 = datagram[0];
    let version = b0 >> 6;
    if version != 2 {
        return Err(RtpError::Version(version));
    }
    let padding = b0 & 0x20 != 0;
    let extension = b0 & 0x10 != 0;
    let csrc_count = usize::from(b0 & 0x0f);
    let b1 = datagram[1];
    let header = RtpHeader {
        marker: b1 & 0x80 != 0,
        payload_type: b1 & 0x7f,
        sequence: u16::from_be_bytes([datagram[2], datagram[3]]),
        timestamp: u32::from_be_bytes([datagram[4], datagram[5], datagram[6], datagram[7]]),
        ssrc: u32::from_be_bytes([datagram[8], datagram[9], datagram[10], datagram[11]]),
    };
    let mut start = FIXED + 4 * csrc_count;
    if extension {
        let words = datagram
            .get(start + 2..start + 4)
            .ok_or(RtpError::Truncated)?;
        start += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
    }
    if start > datagram.len() {
        return Err(RtpError::Truncated);
    }
    let mut end = datagram.len();
    if padding {
        let pad = usize::from(datagram[end - 1]);
        if pad == 0 || pad > end - start {
            return Err(RtpError::Padding(pad));
        }
        end -= pad;
    }
    Ok(RtpPacket {
        header,
        payload: &datagram[start..end],
    })
}

/// Writes a packet with no CSRCs, extension or padding (`out` is cleared first).
pub fn write(header: &RtpHeader, payload: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.push(0x80);
    out.push((u8::from(header.marker) << 7) | (header.payload_type & 0x7f));
    out.extend_from_slice(&header.sequence.to_be_bytes());
    out.extend_from_slice(&header.timestamp.to_be_bytes());
    out.extend_from_slice(&header.ssrc.to_be_bytes());
    out.extend_from_slice(payload);
}

/// Extends a wrapping counter of `BITS` bits (sequence numbers: 16, timestamps: 32) to a
/// monotonic 64-bit count across wrap-around (RFC 3550 appendix A.1 style: a number within
/// half the space of the last one is its neighbour, so late packets land before it).
#[derive(Debug, Clone, Default)]
pub struct WrapExtender<const BITS: u32> {
    last: Option<u64>,
}

/// Extends RTP sequence numbers.
pub type SequenceExtender = WrapExtender<16>;
/// Extends RTP timestamps.
pub type TimestampExtender = WrapExtender<32>;

impl<const BITS: u32> WrapExtender<BITS> {
    /// `value` must fit in `BITS` bits.
    pub fn extend(&mut self, value: u64) -> u64 {
        let span = 1u64 << BITS;
        let Some(last) = self.last else {
            let first = span + value;
            self.last = Some(first);
            return first;
        };
        let cycle = last & !(span - 1);
        let best = [cycle.wrapping_sub(span), cycle, cycle + span]
            .into_iter()
            .map(|c| c | value)
            .min_by_key(|c| c.abs_diff(last))
            .unwrap_or(last);
        if best > last {
            self.last = Some(best);
        }
        best
    }

    /// Forgets the stream (a new SSRC).
    pub fn reset(&mut self) {
        self.last = None;
    }
}

/// The send side's header state: sequence numbers and timestamps that run on without gaps
/// from random starting points (RFC 3550 section 5.1), and the marker bit on the first packet
/// of each talkspurt.
#[derive(Debug, Clone)]
pub struct RtpSender {
    pub ssrc: u32,
    sequence: u16,
    timestamp: u32,
    talking: bool,
    pub packets: u32,
    pub octets: u32,
}

impl RtpSender {
    /// `seed` supplies the SSRC and starting points (the shell draws it at random).
    pub fn new(seed: u64) -> RtpSender {
        RtpSender {
            ssrc: (seed >> 32) as u32,
            sequence: seed as u16,
            timestamp: (seed as u32) & 0x7fff_0000,
            talking: false,
            packets: 0,
            octets: 0,
        }
    }

    /// The header for the next frame of `samples` samples; `speech` marks talkspurts.
    pub fn next(&mut self, payload_type: u8, samples: u32, speech: bool, len: usize) -> RtpHeader {
        let marker = speech && !self.talking;
        let header = self.header(payload_type, self.timestamp, marker);
        self.advance(samples, len, speech);
        header
    }

    /// The header for one packet of a telephone event (RFC 4733): it carries the press's start
    /// timestamp `press`, while the media clock advances by `samples` as for any frame.
    pub fn next_event(
        &mut self,
        payload_type: u8,
        press: u32,
        marker: bool,
        samples: u32,
        len: usize,
    ) -> RtpHeader {
        let header = self.header(payload_type, press, marker);
        self.advance(samples, len, false);
        header
    }

    fn header(&self, payload_type: u8, timestamp: u32, marker: bool) -> RtpHeader {
        RtpHeader {
            marker,
            payload_type,
            sequence: self.sequence,
            timestamp,
            ssrc: self.ssrc,
        }
    }

    fn advance(&mut self, samples: u32, len: usize, talking: bool) {
        self.talking = talking;
        self.sequence = self.sequence.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(samples);
        self.packets = self.packets.wrapping_add(1);
        self.octets = self.octets.wrapping_add(len as u32);
    }

    /// A frame time passes with nothing sent (on hold): the timestamp still advances.
    pub fn skip(&mut self, samples: u32) {
        self.timestamp = self.timestamp.wrapping_add(samples);
        self.talking = false;
    }

    /// The timestamp the next packet will carry.
    pub fn timestamp(&self) -> u32 {
        self.timestamp
    }
}

/// Symmetric RTP (RFC 4961 style, for callers behind NAT): send to where the caller's media
/// actually comes from. The first packet latches the address; packets from elsewhere are
/// refused while the latched source is alive, so nobody can take over a call's media by
/// sending to its port. After `relatch_after` of silence from it, a new source may latch.
#[derive(Debug, Clone)]
pub struct SymmetricLatch<A> {
    signalled: A,
    latched: Option<(A, std::time::Duration)>,
    relatch_after: std::time::Duration,
}

impl<A: Copy + PartialEq> SymmetricLatch<A> {
    /// `signalled`: the address from the SDP, used until media arrives.
    pub fn new(signalled: A, relatch_after: std::time::Duration) -> SymmetricLatch<A> {
        SymmetricLatch {
            signalled,
            latched: None,
            relatch_after,
        }
    }

    /// A valid packet arrived from `from` at `now`: whether to accept it.
    pub fn accept(&mut self, from: A, now: std::time::Duration) -> bool {
        match self.latched {
            Some((addr, _)) if addr == from => {
                self.latched = Some((addr, now));
                true
            }
            Some((_, last)) if now.saturating_sub(last) < self.relatch_after => false,
            _ => {
                self.latched = Some((from, now));
                true
            }
        }
    }

    /// Where to send.
    pub fn target(&self) -> A {
        self.latched.map_or(self.signalled, |(a, _)| a)
    }

    /// A re-INVITE moved the far end: use the new address until media latches again.
    pub fn resignal(&mut self, signalled: A) {
        if signalled != self.signalled {
            self.signalled = signalled;
            self.latched = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> RtpHeader {
        RtpHeader {
            marker: true,
            payload_type: 8,
            sequence: 65535,
            timestamp: 0xdead_beef,
            ssrc: 0x1234_5678,
        }
    }

    #[test]
    fn writes_and_parses_back() {
        let mut out = Vec::new();
        write(&header(), &[1, 2, 3], &mut out);
        let p = parse(&out).unwrap();
        assert_eq!(p.header, header());
        assert_eq!(p.payload, &[1, 2, 3]);
        assert!(!looks_like_rtcp(&out));
    }

    #[test]
    fn skips_csrcs_extension_and_padding() {
        let mut d = vec![0x80 | 0x20 | 0x10 | 2, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        d.extend_from_slice(&[0; 8]); // two CSRCs
        d.extend_from_slice(&[0xbe, 0xde, 0, 1, 9, 9, 9, 9]); // one-word extension
        d.extend_from_slice(&[7, 7]); // payload
        d.extend_from_slice(&[0, 0, 3]); // three bytes of padding
        let p = parse(&d).unwrap();
        assert_eq!(p.payload, &[7, 7]);
    }

    #[test]
    fn rejects_bad_packets() {
        assert_eq!(parse(&[0x80; 5]), Err(RtpError::TooShort(5)));
        assert_eq!(parse(&[0x40; 12]), Err(RtpError::Version(1)));
        assert_eq!(parse(&[0x8f; 12]), Err(RtpError::Truncated));
        let mut pad = vec![0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        assert!(parse(&pad).is_ok());
        *pad.last_mut().unwrap() = 2;
        assert_eq!(parse(&pad), Err(RtpError::Padding(2)));
        *pad.last_mut().unwrap() = 0;
        assert_eq!(parse(&pad), Err(RtpError::Padding(0)));
        let ext = [
            0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0xff, 0xff,
        ];
        assert_eq!(parse(&ext), Err(RtpError::Truncated));
    }

    #[test]
    fn sequence_numbers_extend_across_wrap_and_reordering() {
        let mut e = SequenceExtender::default();
        let a = e.extend(65534);
        let b = e.extend(65535);
        let c = e.extend(1);
        let d = e.extend(0); // late, after the wrap
        assert_eq!(b, a + 1);
        assert_eq!(c, a + 3);
        assert_eq!(d, a + 2);
        let old = e.extend(65533); // late, before the wrap
        assert_eq!(old, a - 1);
    }

    #[test]
    fn the_sender_marks_talkspurts_and_counts() {
        let mut tx = RtpSender::new(0x0000_0007_0000_fffe);
        let a = tx.next(0, 160, false, 160);
        let b = tx.next(0, 160, true, 160);
        let c = tx.next(0, 160, true, 160);
        tx.skip(160);
        let d = tx.next(0, 160, true, 160);
        assert_eq!(a.ssrc, 7);
        assert!(!a.marker && b.marker && !c.marker && d.marker);
        assert_eq!(b.sequence, a.sequence.wrapping_add(1));
        assert_eq!(c.sequence, 0); // wrapped
        assert_eq!(d.timestamp.wrapping_sub(a.timestamp), 640);
        assert_eq!((tx.packets, tx.octets), (4, 640));
    }

    #[test]
    fn the_latch_follows_media_and_refuses_intruders() {
        let s = std::time::Duration::from_secs;
        let mut latch = SymmetricLatch::new(1, s(2));
        assert_eq!(latch.target(), 1);
        assert!(latch.accept(2, s(0))); // behind NAT: media comes from elsewhere
        assert_eq!(latch.target(), 2);
        assert!(!latch.accept(3, s(1))); // an intruder while 2 is alive
        assert!(latch.accept(2, s(1)));
        assert!(latch.accept(3, s(4))); // 2 went quiet: the stream moved
        assert_eq!(latch.target(), 3);
        latch.resignal(5);
        assert_eq!(latch.target(), 5);
    }

    #[test]
    fn timestamps_extend_across_wrap() {
        let mut e = TimestampExtender::default();
        let a = e.extend(u64::from(u32::MAX) - 159);
        let b = e.extend(160);
        assert_eq!(b - a, 320);
    }
}

//! Datagrams off the media port, as the RTP receive path handles them: split into packets,
//! parse, feed telephone events and the jitter buffer, play out. Nothing may panic.
#![no_main]

use std::time::Duration;

use hotline_wire::jitter::{JitterBuffer, JitterConfig};
use hotline_wire::rtp;
use hotline_wire::telephone_event::EventReceiver;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut jitter = JitterBuffer::new(JitterConfig {
        max_frames: 8,
        ..JitterConfig::default()
    });
    let mut events = EventReceiver::default();
    // The input is a sequence of datagrams, each prefixed by a one-byte length.
    let mut rest = data;
    let mut clock = 0u64;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        let (datagram, tail) = tail.split_at(len);
        rest = tail;
        clock += 7;
        if rtp::looks_like_rtcp(datagram) {
            let _ = hotline_wire::rtcp::parse(datagram);
            continue;
        }
        let Ok(packet) = rtp::parse(datagram) else {
            continue;
        };
        let h = packet.header;
        if h.payload_type == 101 {
            let _ = events.receive(h.ssrc, h.timestamp, packet.payload);
        } else {
            jitter.push(
                h.ssrc,
                h.sequence,
                h.timestamp,
                h.payload_type,
                packet.payload,
                Duration::from_millis(clock),
            );
        }
        if clock % 3 == 0 {
            let _ = jitter.pop();
        }
    }
    for _ in 0..4 {
        let _ = jitter.pop();
    }
    let _ = jitter.report(0, 0);
});

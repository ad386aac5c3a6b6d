//! Compound RTCP datagrams: parse, and a parsed report written back parses the same.
#![no_main]

use hotline_wire::rtcp::{self, RtcpPacket};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(packets) = rtcp::parse(data) else {
        return;
    };
    for p in packets {
        if let RtcpPacket::ReceiverReport { ssrc, reports } = p {
            let mut out = Vec::new();
            rtcp::write_report(ssrc, None, reports.first(), "fuzz", &mut out);
            let back = rtcp::parse(&out).expect("our own report parses");
            assert!(matches!(back[0], RtcpPacket::ReceiverReport { .. }));
        }
    }
});

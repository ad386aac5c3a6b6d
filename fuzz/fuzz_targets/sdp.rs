//! SDP offers: parse, negotiate, answer; an answer we write parses and negotiates to the
//! same codec.
#![no_main]

use hotline_wire::sdp::{self, LocalMedia};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(offer) = sdp::parse(text) else {
        return;
    };
    let Ok(negotiated) = sdp::negotiate(&offer) else {
        return;
    };
    let local = LocalMedia {
        address: "127.0.0.1".parse().unwrap(),
        port: 40000,
        session_id: 1,
        version: 2,
    };
    let answer = sdp::answer(&negotiated, &local);
    let back = sdp::negotiate(&sdp::parse(&answer).expect("our answer parses"))
        .expect("our answer negotiates");
    assert_eq!(back.codec, negotiated.codec);
});

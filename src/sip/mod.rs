//! Phone calls: the SIP user agent (signalling, on rsipstack) and the RTP media of each call
//! (on the sans-IO parts in `hotline_wire`). `server.rs` answers calls and hands each to
//! `phone_call.rs`, which runs it through the call pipeline with an `RtpTransport`, and hands
//! the caller to a person by REFER, or by bridging the call (`bridge.rs`) when REFER is refused.

pub mod access;
pub mod bridge;
pub mod digest;
pub mod phone_call;
pub mod registration;
pub mod rtp_ports;
pub mod rtp_transport;
pub mod server;

use hotline_wire::sdp::G711;
use rsipstack::sip::Header;

use crate::audio::g711::Law;

/// The audio core's G.711 law for a negotiated codec.
pub(crate) fn law(codec: G711) -> Law {
    match codec {
        G711::MuLaw => Law::MuLaw,
        G711::ALaw => Law::ALaw,
    }
}

/// The `Content-Type` of a message carrying SDP.
pub(crate) fn sdp_header() -> Vec<Header> {
    vec![Header::ContentType("application/sdp".into())]
}

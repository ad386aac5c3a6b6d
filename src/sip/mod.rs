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

//! Voice calls: one call's audio in, the assistant listening, thinking and talking back, and
//! the caller able to interrupt it. `pipeline.rs` wires the parts; every transport (SIP,
//! WebRTC, the local device, a file) plugs in through `transport::MediaTransport`.

pub mod actor;
pub mod barge_in;
pub mod device_transport;
pub mod dialog;
pub mod dtmf;
pub mod ears;
pub mod echo_gate;
pub mod engines;
pub mod file_transport;
pub mod inbound;
pub mod latency;
pub mod pipeline;
pub mod playout;
pub mod recording;
pub mod registry;
pub mod transport;
pub mod voice;

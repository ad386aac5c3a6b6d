//! hotline's telephony wire formats, sans-IO: bytes in, typed values out, and back. Nothing
//! here touches a socket or reads a clock; the callers (`hotline::sip`) own both and tell these
//! parts the time. Everything that reads bytes off the network returns a typed error on bad
//! input and never panics; the fuzz targets in `fuzz/` hold it to that.

pub mod jitter;
pub mod rtcp;
pub mod rtp;
pub mod sdp;
pub mod telephone_event;

//! The browser channel: `hotline serve`'s web server (the demo shop page, the embeddable voice
//! widget, WebRTC offer/answer and live captions) and the WebRTC media of browser calls.

pub mod browser_call;
pub mod captions;
pub mod customer_token;
pub mod limits;
pub mod opus_frames;
pub mod server;
pub mod shop_page;
pub mod webrtc_transport;

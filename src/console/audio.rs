//! A supervisor's audio on a live call, over one WebSocket: the server sends the call as the
//! supervisor hears it (both sides mixed, 16-bit little-endian PCM at the call's rate, 20 ms
//! per binary message, after one text message `{"rate": R}`); the browser may send its
//! microphone the same way (16-bit little-endian PCM at the call's rate), which the caller
//! hears only while the supervisor has taken the call over.

use axum::extract::ws::{Message, WebSocket};
use tokio::sync::broadcast;

use crate::call::playout::{AgentLine, ListenFrame};

/// The most audio one message from the browser may carry: one second at 48 kHz.
pub const MAX_MESSAGE_SAMPLES: usize = 48_000;

/// Serves one supervisor's socket until either side closes it or the call ends. Their
/// microphone goes to the call only while `may_speak()` (they have taken the call over).
pub async fn serve(
    mut socket: WebSocket,
    mut listen: broadcast::Receiver<ListenFrame>,
    agent: AgentLine,
    may_speak: impl Fn() -> bool,
) {
    let hello = serde_json::json!({ "rate": agent.rate() }).to_string();
    if socket.send(Message::Text(hello.into())).await.is_err() {
        return;
    }
    let mut samples: Vec<f32> = Vec::new();
    loop {
        tokio::select! {
            frame = listen.recv() => match frame {
                Ok(frame) => {
                    let bytes: Vec<u8> = frame.iter().flat_map(|s| s.to_le_bytes()).collect();
                    if socket.send(Message::Binary(bytes.into())).await.is_err() {
                        break;
                    }
                }
                // A supervisor whose connection lags skips ahead.
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break,
            },
            message = socket.recv() => match message {
                Some(Ok(Message::Binary(bytes))) => {
                    if bytes.len() > MAX_MESSAGE_SAMPLES * 2 || !may_speak() {
                        continue;
                    }
                    samples.clear();
                    samples.extend(bytes.chunks_exact(2).map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0));
                    agent.push(&samples);
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}

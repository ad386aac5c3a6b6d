//! A transport over audio held in memory, on the real clock: a scripted caller for voice evals
//! and `hotline call`. Every 20 ms it pulls the assistant's frame from the playout and sends
//! the caller's next frame (or silence), encoded like a phone line. It can put the assistant's
//! own voice back into the caller's side (`LineEcho`), as a phone line or a speakerphone does.
//! DTMF keys go out as transport events, one every 100 ms; keys the assistant's side sends are
//! kept for the test to read (`CallerLine::keys_heard`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::time::MissedTickBehavior;

use super::inbound::InboundFrame;
use super::transport::{
    MediaFormat, MediaTransport, TransportError, TransportEvent, TransportFuture, TransportIo,
};

/// The assistant's voice coming back on the caller's side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineEcho {
    /// Level of the echo relative to the assistant's voice, in dB (e.g. -12).
    pub gain_db: f32,
    pub delay: Duration,
}

#[derive(Default)]
struct Line {
    /// Caller samples still to send, at the transport's rate.
    audio: VecDeque<f32>,
    keys: VecDeque<char>,
    /// DTMF keys the assistant's side sent to the caller.
    keys_heard: String,
    hang_up: bool,
    /// Outbound media time so far.
    media: Duration,
}

/// The test's or CLI's hold on the caller's side of the line.
#[derive(Clone)]
pub struct CallerLine(Arc<Mutex<Line>>);

fn lock(line: &Mutex<Line>) -> MutexGuard<'_, Line> {
    line.lock().unwrap_or_else(|p| p.into_inner())
}

impl CallerLine {
    /// Queues caller speech (at the transport's rate) to be sent from the next frame on.
    pub fn say(&self, samples: &[f32]) {
        lock(&self.0).audio.extend(samples);
    }

    /// Queues DTMF keys.
    pub fn keys(&self, keys: &str) {
        lock(&self.0).keys.extend(keys.chars());
    }

    /// The DTMF keys sent to the caller so far.
    pub fn keys_heard(&self) -> String {
        lock(&self.0).keys_heard.clone()
    }

    /// Caller samples still queued.
    pub fn queued(&self) -> usize {
        lock(&self.0).audio.len()
    }

    /// The caller still has speech queued.
    pub fn speaking(&self) -> bool {
        !lock(&self.0).audio.is_empty()
    }

    /// Media time of the line so far.
    pub fn media_time(&self) -> Duration {
        lock(&self.0).media
    }

    pub fn hang_up(&self) {
        lock(&self.0).hang_up = true;
    }
}

pub struct FileTransport {
    format: MediaFormat,
    line: CallerLine,
    echo: Option<LineEcho>,
}

impl FileTransport {
    pub fn new(format: MediaFormat, echo: Option<LineEcho>) -> FileTransport {
        FileTransport {
            format,
            line: CallerLine(Arc::new(Mutex::new(Line::default()))),
            echo,
        }
    }

    pub fn caller(&self) -> CallerLine {
        self.line.clone()
    }
}

/// Frames between two DTMF keys (100 ms at 20 ms).
const KEY_EVERY: u64 = 5;

impl MediaTransport for FileTransport {
    fn format(&self) -> MediaFormat {
        self.format
    }

    fn run(self: Box<Self>, mut io: TransportIo) -> TransportFuture {
        Box::pin(async move {
            let format = self.format;
            let n = format.frame_len();
            let (echo_gain, echo_delay) = match self.echo {
                Some(e) => (
                    10f32.powf(e.gain_db / 20.0),
                    (e.delay.as_secs_f64() * f64::from(format.rate)) as usize,
                ),
                None => (0.0, 0),
            };
            // The assistant's decoded audio, delayed by the echo path.
            let mut echo_line: VecDeque<f32> = VecDeque::from(vec![0.0; echo_delay]);
            let mut heard = Vec::with_capacity(n);
            let mut payload = Vec::with_capacity(n * 2);
            let mut ticker = tokio::time::interval(format.frame);
            ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
            let mut frame_no: u64 = 0;
            loop {
                tokio::select! {
                    _ = ticker.tick() => {}
                    changed = io.hangup.changed() => {
                        if changed.is_err() || *io.hangup.borrow() {
                            io.inbound.close();
                            return Ok(());
                        }
                        continue;
                    }
                }
                let media = format.frame * frame_no as u32;
                while let Ok(key) = io.keys_out.try_recv() {
                    lock(&self.line.0).keys_heard.push(key);
                }
                let out = io.playout.next_frame();
                format.decode(&out.payload, &mut heard);
                echo_line.extend(heard.iter().copied());
                let (samples, key, hang_up) = {
                    let mut line = lock(&self.line.0);
                    line.media = media + format.frame;
                    let take = n.min(line.audio.len());
                    let mut samples: Vec<f32> = line.audio.drain(..take).collect();
                    samples.resize(n, 0.0);
                    let key = if frame_no.is_multiple_of(KEY_EVERY) {
                        line.keys.pop_front()
                    } else {
                        None
                    };
                    (samples, key, line.hang_up)
                };
                if hang_up {
                    io.inbound.close();
                    let _ = io
                        .events
                        .send(TransportEvent::Hangup {
                            reason: "the caller hung up".into(),
                        })
                        .await;
                    return Ok(());
                }
                let mixed: Vec<f32> = samples
                    .iter()
                    .map(|s| s + echo_gain * echo_line.pop_front().unwrap_or(0.0))
                    .collect();
                format.encode(&mixed, &mut payload);
                io.inbound.push(InboundFrame {
                    payload: payload.clone(),
                    media_time: media,
                    received: Instant::now(),
                });
                if let Some(key) = key
                    && io
                        .events
                        .send(TransportEvent::Dtmf { key, at: media })
                        .await
                        .is_err()
                {
                    return Err(TransportError::Other("the call is gone".into()));
                }
                frame_no += 1;
            }
        })
    }
}

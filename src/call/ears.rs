//! The listening thread of one call (a synchronous engine): decode -> resample to 16 kHz ->
//! Silero VAD -> echo gate -> barge-in and turn detection -> Whisper. It reads the inbound
//! queue and sends typed [`EarsEvent`]s to the call. Time is the inbound media time.
//!
//! Speculation: once the caller has been silent for `speculate_after`, the utterance so far is
//! decoded and sent as [`EarsEvent::Speculative`], so the dialog can start planning while the
//! turn detector still waits for the end-of-turn silence. If the caller goes on, the
//! speculation is dropped; if the turn ends with no new voice, its transcript is the final
//! one and costs no second decode. A speculation that ends in a closed sentence is kept by the
//! recognizer when the caller goes on: the next pause decodes only the words after it, so a
//! long turn's last decode is short. When the speculative words sound finished
//! (`vad::finished_words`) and answer the assistant's yes-or-no question, the turn detector
//! ends the turn after its shorter `finished_end_silence`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::barge_in::{BargeIn, BargeInConfig, BargeInEvent};
use super::echo_gate::{EchoGate, EchoGateConfig, energy};
use super::inbound::{InboundReceiver, Received};
use super::playout::PlayoutFlags;
use super::recording::Recorder;
use super::transport::MediaFormat;
use crate::asr::stream::AsrStream;
use crate::audio::stream_resampler::StreamResampler;
use crate::vad::finished_words::{sentence_closed, sounds_finished};
use crate::vad::silero::SileroVad;
use crate::vad::turn::{EndReason, TurnConfig, TurnDetector, TurnEvent};

const ASR_RATE: u32 = 16_000;
/// Silero's chunk at 16 kHz: 512 samples, 32 ms.
const CHUNK: Duration = Duration::from_millis(32);
/// How long the listener waits for a frame before it advances time by the wall clock.
const POLL: Duration = Duration::from_millis(20);

#[derive(Debug, Clone, PartialEq)]
pub struct EarsConfig {
    pub turn: TurnConfig,
    pub barge_in: BargeInConfig,
    pub echo: EchoGateConfig,
    /// Decode speculatively after this much silence (`None`: only at the end of the turn).
    pub speculate_after: Option<Duration>,
    /// Partial transcripts while the caller speaks, this often (`None`: none).
    pub partial_every: Option<Duration>,
    /// Audio kept from before the turn detector's start (its start is backdated).
    pub preroll: Duration,
}

impl Default for EarsConfig {
    fn default() -> Self {
        EarsConfig {
            turn: TurnConfig::default(),
            barge_in: BargeInConfig::default(),
            echo: EchoGateConfig::default(),
            speculate_after: Some(Duration::from_millis(200)),
            partial_every: Some(Duration::from_millis(1000)),
            preroll: Duration::from_millis(300),
        }
    }
}

/// The end of a caller turn, with the times the latency is measured from.
#[derive(Debug, Clone)]
pub struct FinalTranscript {
    pub text: String,
    /// Media time of the last voice.
    pub speech_end_media: Duration,
    /// When the frame with the last voice arrived.
    pub speech_end: Instant,
    /// When the turn detector ended the turn.
    pub endpoint_at: Instant,
    /// When the transcript was ready.
    pub final_at: Instant,
    /// Whisper's time for the final decode (zero when the speculation was kept).
    pub decode: Duration,
    pub speculative: bool,
    pub reason: EndReason,
}

#[derive(Debug, Clone)]
pub enum EarsEvent {
    SpeechStarted {
        at: Duration,
    },
    Partial {
        text: String,
    },
    /// A transcript decoded during the end-of-turn silence; the dialog may plan on it.
    Speculative {
        text: String,
    },
    /// The caller went on: forget the speculation.
    SpeculationDropped,
    Final(FinalTranscript),
    /// A short sound over the assistant's speech (a cough, "uh-huh"): not a turn.
    Backchannel,
    BargeIn(BargeInEvent),
    /// An engine failed on this audio; the call goes on.
    Failed {
        detail: String,
    },
}

/// What the call tells the listener without a message.
#[derive(Debug, Default)]
pub struct EarsControl {
    /// The dialog expects digits or an ID: a longer end-of-turn silence.
    pub expecting_digits: AtomicBool,
    /// The dialog asked a yes-or-no question: an answer that sounds finished ends the turn
    /// after the shorter silence. Not otherwise: a caller making a request often pauses
    /// between sentences ("Hi. [pause] I want to make a complaint. [pause] The mug set ..."),
    /// and each pause would end a turn.
    pub expecting_yes_no: AtomicBool,
}

/// Everything the listening thread owns.
pub struct Ears {
    pub config: EarsConfig,
    pub format: MediaFormat,
    pub inbound: Arc<InboundReceiver>,
    pub vad: SileroVad,
    pub asr: AsrStream,
    pub echo_reference: Receiver<(Duration, f32)>,
    pub events: mpsc::Sender<EarsEvent>,
    pub flags: Arc<PlayoutFlags>,
    pub control: Arc<EarsControl>,
    pub recorder: Arc<Mutex<Recorder>>,
}

impl Ears {
    /// Starts the thread; it ends when the inbound queue closes.
    pub fn spawn(self, name: &str) -> std::io::Result<thread::JoinHandle<()>> {
        thread::Builder::new()
            .name(format!("ears-{name}"))
            .spawn(move || Listener::new(self).run())
    }
}

struct Listener {
    ears: Ears,
    turn: TurnDetector,
    barge: BargeIn,
    gate: EchoGate,
    resampler: Option<StreamResampler>,
    pcm: Vec<f32>,
    resampled: Vec<f32>,
    chunk: Vec<f32>,
    /// 16 kHz samples consumed since the first frame, and that frame's media time.
    samples: u64,
    origin: Option<Duration>,
    preroll: VecDeque<f32>,
    preroll_len: usize,
    /// The latest frame: its end media time and arrival.
    last_frame: (Duration, Instant),
    last_voice: (Duration, Instant),
    speculation: Option<String>,
    /// The turn began over the assistant's speech and is not (yet) a confirmed barge-in.
    backchannel: bool,
    partial_at: Duration,
}

impl Listener {
    fn new(ears: Ears) -> Listener {
        let now = Instant::now();
        let resampler = match StreamResampler::new(ears.format.rate, ASR_RATE) {
            Ok(r) => Some(r),
            Err(e) => {
                let _ = ears.events.blocking_send(EarsEvent::Failed {
                    detail: format!("cannot resample the call's audio: {e}"),
                });
                None
            }
        };
        let preroll_len = (ears.config.preroll.as_secs_f64() * f64::from(ASR_RATE)) as usize;
        Listener {
            turn: TurnDetector::new(ears.config.turn.clone()),
            barge: BargeIn::new(ears.config.barge_in.clone()),
            gate: EchoGate::new(ears.config.echo.clone()),
            resampler,
            pcm: Vec::new(),
            resampled: Vec::new(),
            chunk: Vec::with_capacity(512),
            samples: 0,
            origin: None,
            preroll: VecDeque::with_capacity(preroll_len + 512),
            preroll_len,
            last_frame: (Duration::ZERO, now),
            last_voice: (Duration::ZERO, now),
            speculation: None,
            backchannel: false,
            partial_at: Duration::ZERO,
            ears,
        }
    }

    fn send(&self, event: EarsEvent) {
        // Control and transcripts are never dropped: wait for the call to take them.
        let _ = self.ears.events.blocking_send(event);
    }

    fn run(mut self) {
        if self.resampler.is_none() {
            return;
        }
        loop {
            match self.ears.inbound.pop(POLL) {
                Received::Frame(frame) => {
                    self.ears.format.decode(&frame.payload, &mut self.pcm);
                    let end = frame.media_time + self.ears.format.frame;
                    self.last_frame = (end, frame.received);
                    self.origin.get_or_insert(frame.media_time);
                    if let Ok(mut r) = self.ears.recorder.lock() {
                        r.caller(frame.media_time, &self.pcm);
                    }
                    self.resampled.clear();
                    if let Some(r) = self.resampler.as_mut()
                        && let Err(e) = r.push(&self.pcm, &mut self.resampled)
                    {
                        self.send(EarsEvent::Failed {
                            detail: e.to_string(),
                        });
                        continue;
                    }
                    let resampled = std::mem::take(&mut self.resampled);
                    for &s in &resampled {
                        self.chunk.push(s);
                        if self.chunk.len() == 512 {
                            self.samples += 512;
                            let chunk = std::mem::take(&mut self.chunk);
                            self.on_chunk(&chunk, frame.received);
                            self.chunk = chunk;
                            self.chunk.clear();
                        }
                    }
                    self.resampled = resampled;
                }
                Received::Idle => {
                    // No audio (a transport that sends nothing in silence): time still passes.
                    let now = self.last_frame.0 + self.last_frame.1.elapsed();
                    // A barge-in attempt ends too: silence is not voice.
                    let playing = self.ears.flags.playing.load(Ordering::Relaxed);
                    if let Some(event) = self.barge.handle(false, playing, Duration::ZERO, now) {
                        self.send(EarsEvent::BargeIn(event));
                    }
                    if let Some(event) = self.turn.handle_timeout(now) {
                        self.on_turn_event(event);
                    }
                }
                Received::Closed => return,
            }
        }
    }

    fn chunk_end(&self) -> Duration {
        self.origin.unwrap_or_default()
            + Duration::from_secs_f64(self.samples as f64 / f64::from(ASR_RATE))
    }

    fn on_chunk(&mut self, chunk: &[f32], received: Instant) {
        let now = self.chunk_end();
        while let Ok((end, e)) = self.ears.echo_reference.try_recv() {
            self.gate.played(end, e);
        }
        self.turn
            .set_expecting_digits(self.ears.control.expecting_digits.load(Ordering::Relaxed));
        let probability = match self.ears.vad.probability(chunk) {
            Ok(p) => p,
            Err(e) => {
                self.send(EarsEvent::Failed {
                    detail: e.to_string(),
                });
                0.0
            }
        };
        let chunk_energy = energy(chunk);
        let echo = self.gate.is_echo(now, CHUNK, chunk_energy);
        if probability > 0.5 {
            tracing::trace!(
                t = ?now,
                energy = chunk_energy,
                reference = self.gate.reference(now, CHUNK),
                gain = self.gate.gain(),
                echo,
                "voice-like chunk"
            );
        }
        let p = if echo { 0.0 } else { probability };
        let config = self.turn.config().clone();
        let playing = self.ears.flags.playing.load(Ordering::Relaxed);
        if let Some(event) = self
            .barge
            .handle(p >= config.speech_threshold, playing, CHUNK, now)
        {
            match event {
                BargeInEvent::Confirm { .. } => self.backchannel = false,
                BargeInEvent::Pause { .. } | BargeInEvent::Resume { .. } => {}
            }
            self.send(EarsEvent::BargeIn(event));
        }

        let was_in_speech = self.turn.in_speech();
        let event = self.turn.handle(p, CHUNK, now);
        let ended = matches!(event, Some(TurnEvent::SpeechEnded { .. }));
        if self.turn.in_speech() || ended {
            if !was_in_speech {
                let preroll: Vec<f32> = self.preroll.drain(..).collect();
                self.push_asr(&preroll);
            }
            self.push_asr(chunk);
        } else {
            if was_in_speech && !ended {
                // A blip too short to be speech. Over the assistant's speech it is the same
                // thing as a short sound that did start a turn: a backchannel, ignored.
                self.ears.asr.reset();
                if playing {
                    self.send(EarsEvent::Backchannel);
                }
            }
            self.preroll.extend(chunk);
            let excess = self.preroll.len().saturating_sub(self.preroll_len);
            self.preroll.drain(..excess);
        }
        if self.turn.in_speech() && p >= config.silence_threshold {
            self.last_voice = (now, received);
            if self.speculation.take().is_some() {
                self.send(EarsEvent::SpeculationDropped);
            }
        }
        if let Some(event) = event {
            self.on_turn_event(event);
        }
        if self.turn.is_speaking() {
            self.maybe_decode_early(now);
        }
    }

    fn push_asr(&mut self, samples: &[f32]) {
        if let Err(e) = self.ears.asr.push(samples) {
            self.send(EarsEvent::Failed {
                detail: e.to_string(),
            });
        }
    }

    /// Partials while the caller talks; the speculative final once they pause.
    fn maybe_decode_early(&mut self, now: Duration) {
        let silent_for = now.saturating_sub(self.last_voice.0);
        if let Some(after) = self.ears.config.speculate_after
            && self.speculation.is_none()
            && !self.backchannel
            && silent_for >= after
        {
            match self.ears.asr.tentative() {
                Ok(t) => {
                    let finished = sounds_finished(&t.text);
                    tracing::debug!(
                        decode_ms = t.decode_time.as_millis(),
                        audio_ms = t.audio.as_millis(),
                        decoded_ms = t.decoded.as_millis(),
                        finished,
                        "speculative transcript"
                    );
                    // If the caller goes on, a closed sentence's words stand and only what
                    // follows is decoded at the next pause; not while an order number, ZIP
                    // code or e-mail is expected ("jane.doe [pause] at example dot com").
                    let dictating = self.ears.control.expecting_digits.load(Ordering::Relaxed);
                    if sentence_closed(&t.text) && !dictating {
                        self.ears.asr.commit_sentence();
                    }
                    let short_answer = self.ears.control.expecting_yes_no.load(Ordering::Relaxed);
                    if finished && short_answer {
                        // The turn may end after the shorter silence, unless the caller goes on.
                        self.turn.set_sounds_finished();
                    }
                    self.speculation = Some(t.text.clone());
                    self.send(EarsEvent::Speculative { text: t.text });
                }
                Err(e) => self.send(EarsEvent::Failed {
                    detail: e.to_string(),
                }),
            }
            return;
        }
        if silent_for < CHUNK * 2
            && self.ears.config.speculate_after.is_some()
            && !self.backchannel
            && let Err(e) = self.ears.asr.check_language_ahead()
        {
            self.send(EarsEvent::Failed {
                detail: e.to_string(),
            });
        }
        if let Some(every) = self.ears.config.partial_every
            && silent_for < CHUNK * 2
            && self.ears.asr.buffered() >= self.partial_at + every
        {
            self.partial_at = self.ears.asr.buffered();
            if let Ok(t) = self.ears.asr.tentative()
                && !t.text.is_empty()
            {
                // Partials are for display: dropped when the call is behind.
                let _ = self
                    .ears
                    .events
                    .try_send(EarsEvent::Partial { text: t.text });
            }
        }
    }

    fn on_turn_event(&mut self, event: TurnEvent) {
        match event {
            TurnEvent::SpeechStarted { at } => {
                self.ears
                    .flags
                    .caller_speaking
                    .store(true, Ordering::Relaxed);
                self.backchannel =
                    self.barge.is_active() || self.ears.flags.playing.load(Ordering::Relaxed);
                self.partial_at = Duration::ZERO;
                self.send(EarsEvent::SpeechStarted { at });
            }
            TurnEvent::SpeechEnded { at, reason, .. } => {
                let endpoint_at = Instant::now();
                // A short sound over a reply that plays on is not a turn; once the reply has
                // ended, the same words (a "yes" over its last word) are the caller's answer.
                let reply_plays_on = self.ears.flags.playing.load(Ordering::Relaxed);
                if self.backchannel && !self.barge.is_active() && reply_plays_on {
                    self.ears
                        .flags
                        .caller_speaking
                        .store(false, Ordering::Relaxed);
                    self.backchannel = false;
                    self.speculation = None;
                    self.ears.asr.reset();
                    self.send(EarsEvent::Backchannel);
                    return;
                }
                self.backchannel = false;
                let (text, decode, speculative) = match self.speculation.take() {
                    Some(text) => {
                        self.ears.asr.reset();
                        (text, Duration::ZERO, true)
                    }
                    None => match self.ears.asr.finish() {
                        Ok(t) => (t.text, t.decode_time, false),
                        Err(e) => {
                            self.send(EarsEvent::Failed {
                                detail: e.to_string(),
                            });
                            (String::new(), Duration::ZERO, false)
                        }
                    },
                };
                let speech_end = if self.last_voice.0 <= at + CHUNK {
                    self.last_voice.1
                } else {
                    self.last_frame.1
                };
                self.send(EarsEvent::Final(FinalTranscript {
                    text,
                    speech_end_media: at,
                    speech_end,
                    endpoint_at,
                    final_at: Instant::now(),
                    decode,
                    speculative,
                    reason,
                }));
                // Only now: a reply held while the caller spoke stays held through the final
                // decode, so the call can still drop it when these words make it stale.
                self.ears
                    .flags
                    .caller_speaking
                    .store(false, Ordering::Relaxed);
            }
        }
    }
}

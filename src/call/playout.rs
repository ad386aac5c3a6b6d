//! The outbound side of a call: the assistant's speech frames (already at the call's rate)
//! queue here in order, and the transport pulls one encoded frame per frame time with
//! [`Playout::next_frame`]. Control jumps the queue: `pause`, `resume` and `flush` act on the
//! very next frame, whatever is queued. Each frame handed over is also given to the echo gate
//! (its energy) and the recording, and the first frame of every reply is time-stamped: that
//! is the latency edge.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, mpsc};

use super::echo_gate::energy;
use super::recording::Recorder;
use super::transport::{MediaFormat, OutboundFrame};

/// Which reply a frame belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpeechTag {
    /// Frames of an older epoch were flushed by a barge-in and are never played.
    pub epoch: u64,
    /// The caller turn this speech answers (0: the greeting).
    pub turn: u64,
    /// A stock filler ("one moment ...") rather than the answer.
    pub filler: bool,
}

/// One frame of synthesized speech at the call's rate.
#[derive(Debug, Clone)]
pub struct SpeechFrame {
    pub tag: SpeechTag,
    pub samples: Vec<f32>,
    /// The last frame of one spoken text.
    pub last: bool,
}

/// What the playout tells the call.
#[derive(Debug, Clone, PartialEq)]
pub enum PlayoutEvent {
    /// The first frame of a text was handed to the transport.
    Started {
        tag: SpeechTag,
        at: Instant,
        media: Duration,
    },
    /// The last frame of a text was handed to the transport.
    Finished { tag: SpeechTag, media: Duration },
}

/// Flags the listening side reads without taking the playout's lock.
#[derive(Debug, Default)]
pub struct PlayoutFlags {
    /// The assistant's speech is going out (or is paused for a barge-in attempt).
    pub playing: AtomicBool,
    /// The caller is talking: a new reply waits for the end of the turn.
    pub caller_speaking: AtomicBool,
}

struct State {
    format: MediaFormat,
    frames: Receiver<SpeechFrame>,
    queue: VecDeque<SpeechFrame>,
    /// The oldest epoch still played.
    epoch: u64,
    paused: bool,
    /// Outbound media time: frames handed over times the frame length.
    media: Duration,
    /// The text being played (its first frame went out).
    current: Option<SpeechTag>,
    events: mpsc::Sender<PlayoutEvent>,
    echo: SyncSender<(Duration, f32)>,
    recorder: Arc<Mutex<Recorder>>,
    listen: broadcast::Sender<ListenFrame>,
    silence: Vec<u8>,
    encoded: Vec<u8>,
    /// A person has the call: their audio goes out before the assistant's.
    agent_on: bool,
    /// The person's frames at the call's rate, and the part of a frame still to fill.
    agent: VecDeque<Vec<f32>>,
    agent_carry: Vec<f32>,
    /// Their audio is flowing (the queue has not run dry since it reached AGENT_PREFILL).
    agent_flowing: bool,
    /// Frames of theirs sent, dropped for a full queue, and times their queue ran dry, this
    /// take-over (logged at hand-back).
    agent_sent: usize,
    agent_dropped: usize,
    agent_dry: usize,
}

/// The playout of one call; cheap to clone.
#[derive(Clone)]
pub struct Playout {
    state: Arc<Mutex<State>>,
    flags: Arc<PlayoutFlags>,
}

/// One frame of the call as a supervisor hears it: both sides mixed, 16-bit at the call's
/// rate, `LISTEN_DELAY` behind the outbound edge (so the caller's side has arrived).
pub type ListenFrame = Arc<[i16]>;

/// How far listen-in runs behind the call.
pub const LISTEN_DELAY: Duration = Duration::from_millis(100);

/// A person's audio queued ahead of the send clock: 1 s. Beyond it the oldest is dropped
/// (their browser's clock runs fast), which keeps their delay bounded. A browser sends its
/// microphone in ~43 ms chunks at uneven times, and in bursts of several hundred ms when its
/// machine is busy: a shorter queue cut words out of the bursts.
pub const AGENT_FRAMES: usize = 50;

/// After a person's queue ran dry, their audio goes out again once this many frames (60 ms)
/// wait, so that one late chunk is a short gap, not a stutter of frame-sized gaps.
pub const AGENT_PREFILL: usize = 3;

/// Speech queued here beyond this is cut (a runaway reply); about two minutes at 20 ms.
pub const MAX_QUEUED_FRAMES: usize = 6000;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Playout {
    pub fn new(
        format: MediaFormat,
        frames: Receiver<SpeechFrame>,
        events: mpsc::Sender<PlayoutEvent>,
        echo: SyncSender<(Duration, f32)>,
        recorder: Arc<Mutex<Recorder>>,
        listen: broadcast::Sender<ListenFrame>,
        flags: Arc<PlayoutFlags>,
    ) -> Playout {
        let mut silence = Vec::new();
        format.encode(&vec![0.0; format.frame_len()], &mut silence);
        Playout {
            state: Arc::new(Mutex::new(State {
                format,
                frames,
                queue: VecDeque::new(),
                epoch: 0,
                paused: false,
                media: Duration::ZERO,
                current: None,
                events,
                echo,
                recorder,
                listen,
                silence,
                encoded: Vec::new(),
                agent_on: false,
                agent: VecDeque::new(),
                agent_carry: Vec::new(),
                agent_flowing: false,
                agent_sent: 0,
                agent_dropped: 0,
                agent_dry: 0,
            })),
            flags,
        }
    }

    /// The frame to send now: the next speech frame, or silence.
    pub fn next_frame(&self) -> OutboundFrame {
        let mut s = lock(&self.state);
        let frame = self.next_frame_locked(&mut s);
        // The listen-in tap: only when someone listens (mixing costs a little per frame).
        if s.listen.receiver_count() > 0
            && let Some(from) = s.media.checked_sub(LISTEN_DELAY + s.format.frame)
        {
            let mixed = lock(&s.recorder).mixed(from, s.format.frame_len());
            // A listener that lags loses the oldest frames; the call never waits.
            let _ = s.listen.send(mixed.into());
        }
        frame
    }

    fn next_frame_locked(&self, s: &mut State) -> OutboundFrame {
        while let Ok(frame) = s.frames.try_recv() {
            if frame.tag.epoch >= s.epoch && s.queue.len() < MAX_QUEUED_FRAMES {
                s.queue.push_back(frame);
            }
        }
        if s.agent_on && !s.agent_flowing && s.agent.len() >= AGENT_PREFILL {
            s.agent_flowing = true;
        }
        if s.agent_on && s.agent_flowing && s.agent.is_empty() {
            s.agent_flowing = false;
            s.agent_dry += 1;
        }
        if s.agent_on
            && s.agent_flowing
            && let Some(samples) = s.agent.pop_front()
        {
            s.agent_sent += 1;
            // The person who took the call speaks: their voice is what the caller hears, what
            // the echo gate expects back, and the recording's right channel.
            let start = s.media;
            s.media += s.format.frame;
            let _ = s.echo.try_send((s.media, energy(&samples)));
            lock(&s.recorder).assistant(start, &samples);
            s.format.encode(&samples, &mut s.encoded);
            return OutboundFrame {
                payload: s.encoded.clone(),
                speech: true,
            };
        }
        let start = s.media;
        s.media += s.format.frame;
        let head_is_new = s.queue.front().is_some_and(|f| Some(f.tag) != s.current);
        let hold = s.paused || (head_is_new && self.flags.caller_speaking.load(Ordering::Relaxed));
        self.flags.playing.store(
            !s.queue.is_empty() && (s.paused || !hold),
            Ordering::Relaxed,
        );
        let frame = if hold { None } else { s.queue.pop_front() };
        let Some(frame) = frame else {
            let _ = s.echo.try_send((s.media, 0.0));
            return OutboundFrame {
                payload: s.silence.clone(),
                speech: false,
            };
        };
        if s.current != Some(frame.tag) {
            s.current = Some(frame.tag);
            send(
                &s.events,
                PlayoutEvent::Started {
                    tag: frame.tag,
                    at: Instant::now(),
                    media: start,
                },
            );
        }
        if frame.last {
            s.current = None;
            send(
                &s.events,
                PlayoutEvent::Finished {
                    tag: frame.tag,
                    media: s.media,
                },
            );
        }
        // A full reference queue means the listener is behind; the gate then errs towards
        // hearing the caller, which is the safe side.
        match s.echo.try_send((s.media, energy(&frame.samples))) {
            Ok(()) | Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {}
        }
        lock(&s.recorder).assistant(start, &frame.samples);
        s.format.encode(&frame.samples, &mut s.encoded);
        OutboundFrame {
            payload: s.encoded.clone(),
            speech: true,
        }
    }

    /// Stops sending speech (keeps it queued): a barge-in attempt.
    pub fn pause(&self) {
        lock(&self.state).paused = true;
    }

    /// Plays on from where `pause` stopped.
    pub fn resume(&self) {
        lock(&self.state).paused = false;
    }

    /// Drops everything older than `epoch` (queued or still to come) and un-pauses.
    pub fn flush(&self, epoch: u64) {
        let mut s = lock(&self.state);
        s.epoch = s.epoch.max(epoch);
        let keep = s.epoch;
        s.queue.retain(|f| f.tag.epoch >= keep);
        while let Ok(frame) = s.frames.try_recv() {
            if frame.tag.epoch >= keep {
                s.queue.push_back(frame);
            }
        }
        s.current = None;
        s.paused = false;
        self.flags.playing.store(false, Ordering::Relaxed);
    }

    /// A person takes the call (`true`) or gives it back: while on, their audio
    /// ([`AgentLine`]) goes out ahead of the assistant's speech.
    pub fn set_agent(&self, on: bool) {
        let mut s = lock(&self.state);
        if s.agent_on && !on {
            tracing::info!(
                sent = s.agent_sent,
                dropped = s.agent_dropped,
                ran_dry = s.agent_dry,
                "the person's audio on this call (20 ms frames)"
            );
        }
        s.agent_on = on;
        s.agent.clear();
        s.agent_carry.clear();
        s.agent_flowing = false;
        (s.agent_sent, s.agent_dropped, s.agent_dry) = (0, 0, 0);
    }

    /// Where a person's audio goes in.
    pub fn agent_line(&self) -> AgentLine {
        AgentLine {
            playout: self.clone(),
        }
    }

    /// A reply has begun playing and has not finished (the caller has heard part of it).
    pub fn mid_reply(&self) -> bool {
        lock(&self.state).current.is_some()
    }

    /// Outbound media time so far.
    pub fn media_time(&self) -> Duration {
        lock(&self.state).media
    }

    pub fn flags(&self) -> &Arc<PlayoutFlags> {
        &self.flags
    }
}

/// A person's microphone into a call they took over: any number of samples at the call's
/// rate at a time; cut into frames here. Ignored while the call is not taken over.
#[derive(Clone)]
pub struct AgentLine {
    playout: Playout,
}

impl AgentLine {
    pub fn push(&self, samples: &[f32]) {
        let mut s = lock(&self.playout.state);
        if !s.agent_on {
            return;
        }
        let frame_len = s.format.frame_len();
        s.agent_carry.extend_from_slice(samples);
        while s.agent_carry.len() >= frame_len {
            let frame: Vec<f32> = s.agent_carry.drain(..frame_len).collect();
            if s.agent.len() == AGENT_FRAMES {
                s.agent.pop_front();
                s.agent_dropped += 1;
            }
            s.agent.push_back(frame);
        }
    }

    /// The call's sample rate.
    pub fn rate(&self) -> u32 {
        lock(&self.playout.state).format.rate
    }
}

fn send(events: &mpsc::Sender<PlayoutEvent>, event: PlayoutEvent) {
    if let Err(e) = events.try_send(event) {
        // Two events per reply against a queue of dozens: full means the call loop is stuck.
        tracing::error!("playout event lost: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::g711::Law;
    use std::sync::mpsc::sync_channel;

    struct Rig {
        playout: Playout,
        frames: SyncSender<SpeechFrame>,
        events: mpsc::Receiver<PlayoutEvent>,
        listen_rx: broadcast::Receiver<ListenFrame>,
    }

    fn rig() -> Rig {
        let (frames, rx) = sync_channel(64);
        let (etx, events) = mpsc::channel(64);
        let (echo, _echo_rx) = sync_channel(1);
        let recorder = Arc::new(Mutex::new(Recorder::new(8000, Duration::from_secs(60))));
        let (listen, listen_rx) = broadcast::channel(64);
        let playout = Playout::new(
            MediaFormat::telephone(Law::MuLaw),
            rx,
            etx,
            echo,
            recorder,
            listen,
            Arc::new(PlayoutFlags::default()),
        );
        Rig {
            playout,
            frames,
            events,
            listen_rx,
        }
    }

    fn tag(epoch: u64, turn: u64) -> SpeechTag {
        SpeechTag {
            epoch,
            turn,
            filler: false,
        }
    }

    fn speech(t: SpeechTag, n: usize) -> Vec<SpeechFrame> {
        (0..n)
            .map(|i| SpeechFrame {
                tag: t,
                samples: vec![0.3; 160],
                last: i + 1 == n,
            })
            .collect()
    }

    #[test]
    fn plays_in_order_then_silence_with_start_and_finish_events() {
        let mut r = rig();
        for f in speech(tag(0, 1), 3) {
            r.frames.send(f).unwrap();
        }
        let sent: Vec<bool> = (0..5).map(|_| r.playout.next_frame().speech).collect();
        assert_eq!(sent, [true, true, true, false, false]);
        assert!(
            matches!(r.events.try_recv(), Ok(PlayoutEvent::Started { media, .. }) if media.is_zero())
        );
        assert!(matches!(
            r.events.try_recv(),
            Ok(PlayoutEvent::Finished { media, .. }) if media == Duration::from_millis(60)
        ));
    }

    #[test]
    fn pause_holds_and_resume_continues_where_it_stopped() {
        let r = rig();
        for f in speech(tag(0, 1), 4) {
            r.frames.send(f).unwrap();
        }
        assert!(r.playout.next_frame().speech);
        r.playout.pause();
        assert!(!r.playout.next_frame().speech);
        assert!(r.playout.flags().playing.load(Ordering::Relaxed));
        r.playout.resume();
        let rest: Vec<bool> = (0..4).map(|_| r.playout.next_frame().speech).collect();
        assert_eq!(rest, [true, true, true, false]);
    }

    #[test]
    fn flush_drops_queued_and_late_frames_of_old_epochs() {
        let r = rig();
        for f in speech(tag(0, 1), 10) {
            r.frames.send(f).unwrap();
        }
        assert!(r.playout.next_frame().speech);
        r.playout.flush(1);
        // A frame the synthesizer sends after the flush is still dropped.
        r.frames.send(speech(tag(0, 1), 1).remove(0)).unwrap();
        assert!(!r.playout.next_frame().speech);
        for f in speech(tag(1, 2), 1) {
            r.frames.send(f).unwrap();
        }
        assert!(r.playout.next_frame().speech);
    }

    #[test]
    fn listen_in_hears_the_assistant_a_little_behind_the_call() {
        let mut r = rig();
        for f in speech(tag(0, 1), 20) {
            r.frames.send(f).unwrap();
        }
        for _ in 0..20 {
            r.playout.next_frame();
        }
        let frames: Vec<ListenFrame> = std::iter::from_fn(|| r.listen_rx.try_recv().ok()).collect();
        // 100 ms behind: the first five ticks have nothing to mix yet.
        assert_eq!(frames.len(), 20 - 5);
        assert!(frames.iter().all(|f| f.len() == 160));
        assert!(
            frames.iter().all(|f| f.iter().all(|&s| s > 9000)),
            "the assistant's voice"
        );
    }

    #[test]
    fn a_person_who_took_over_is_heard_before_the_assistant_and_only_then() {
        let r = rig();
        let line = r.playout.agent_line();
        line.push(&[0.5; 400]);
        assert!(!r.playout.next_frame().speech, "not taken over: ignored");
        r.playout.set_agent(true);
        // 400 samples: two whole 160-sample frames; 80 wait for more. Two frames are not
        // enough to start on (AGENT_PREFILL): the assistant's queued words go out meanwhile.
        line.push(&[0.5; 400]);
        for f in speech(tag(0, 1), 1) {
            r.frames.send(f).unwrap();
        }
        let mut decoded = Vec::new();
        let assistant = r.playout.next_frame();
        MediaFormat::telephone(Law::MuLaw).decode(&assistant.payload, &mut decoded);
        assert!(assistant.speech && (decoded[0] - 0.5).abs() > 0.02);
        // A third frame: the person's three go out in order.
        line.push(&[0.5; 80]);
        for _ in 0..AGENT_PREFILL {
            decoded.clear();
            let frame = r.playout.next_frame();
            MediaFormat::telephone(Law::MuLaw).decode(&frame.payload, &mut decoded);
            assert!(frame.speech && (decoded[0] - 0.5).abs() < 0.02);
        }
        // The person is silent and nothing else is queued.
        assert!(!r.playout.next_frame().speech);
        // One frame after running dry waits for company.
        line.push(&[0.5; 160]);
        assert!(!r.playout.next_frame().speech);
        // A burst is cut to the newest AGENT_FRAMES.
        line.push(&vec![0.1; 160 * (AGENT_FRAMES + 5)]);
        let sent = (0..AGENT_FRAMES + 5)
            .filter(|_| r.playout.next_frame().speech)
            .count();
        assert_eq!(sent, AGENT_FRAMES);
        r.playout.set_agent(false);
        line.push(&[0.5; 320]);
        assert!(!r.playout.next_frame().speech);
    }

    #[test]
    fn a_new_reply_waits_while_the_caller_speaks() {
        let r = rig();
        r.playout
            .flags()
            .caller_speaking
            .store(true, Ordering::Relaxed);
        for f in speech(tag(0, 1), 2) {
            r.frames.send(f).unwrap();
        }
        assert!(!r.playout.next_frame().speech);
        r.playout
            .flags()
            .caller_speaking
            .store(false, Ordering::Relaxed);
        assert!(r.playout.next_frame().speech);
    }
}

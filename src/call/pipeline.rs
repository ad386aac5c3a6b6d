//! The real-time graph of one call, wired in this one file.
//!
//! ```text
//!  transport ──InboundFrame──► [INBOUND_AUDIO_FRAMES, drop oldest] ──► ears thread
//!  (async:     (encoded)                                               decode → resample 16 kHz
//!   socket,                                                            → Silero VAD → echo gate
//!   device,                                                            → barge-in + turn detector
//!   file)                                                              → Whisper (partials,
//!     │                                                                  speculative, final)
//!     │ DTMF, hang-up                                                        │ EarsEvent
//!     ▼ [TRANSPORT_EVENTS, waits]                                            ▼ [EARS_EVENTS, waits;
//!  ┌──────────────────────────── call actor (task) ◄──────────────────────────┘  partials dropped]
//!  │  CallCommand in [CALL_COMMANDS, waits]      CallEvent out [CALL_EVENTS, broadcast: a lagging
//!  │                                                            listener loses the oldest]
//!  │  DialogRequest ─► [DIALOG_REQUESTS, waits] ─► dialog task (Session → planner thread → tools)
//!  │  ◄─ DialogEvent (filler, answer) ◄─ [DIALOG_EVENTS, waits] ◄─┘
//!  │  SpeakJob ─► [voice::VOICE_JOBS, shared by all calls; full: the text is reported lost]
//!  │                 ─► voice thread (normalize → clauses → Piper → resample to the call's rate)
//!  │                      ─► SpeechFrame [SPEECH_FRAMES, the voice waits] ─► playout
//!  │  pause / resume / flush(epoch) ─► playout (jump the queue: act on the very next frame)
//!  │  ◄─ PlayoutEvent (started, finished) ◄─ [PLAYOUT_EVENTS]
//!  ▼
//!  playout ─► encode ─► transport pulls one frame per frame time (its media clock)
//!     ├─ tap: echo reference (energy per frame) ─► [ECHO_REFERENCE, newest dropped] ─► ears
//!     ├─ tap: recording (both sides at their media time; the ears write the caller's side)
//!     ├─ tap: listen-in (both sides mixed, 100 ms behind) ─► [LISTEN_IN, broadcast, oldest lost]
//!     └─ a person who took the call over: AgentLine ─► [playout::AGENT_FRAMES, oldest
//!        dropped] ─► played ahead of the assistant's speech
//!  registry (console): a watcher per call follows CALL_EVENTS from the first event and keeps
//!  the call's summary and log [registry::LOG_ENTRIES; viewers: LOG_UPDATES, oldest lost]
//!  latency observer: the actor time-stamps each turn (end of speech, transcript, first token,
//!  first frame handed to the transport) and publishes CallEvent::Latency and stores it.
//! ```
//! Control (speech started, barge-in, interrupt, end) never waits behind audio: it travels on
//! its own channels, the actor polls them first (`biased`), and the playout acts on it at the
//! next frame. Audio, transcripts and speech stay in order; a barge-in flushes speech by
//! epoch, so frames still in flight from the voice thread are dropped too.

use std::path::PathBuf;
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

use super::actor::{CallActor, CallCommand, CallEvent, CallReport};
use super::barge_in::BargeInConfig;
use super::dialog::run_dialog;
use super::dtmf::DtmfCollector;
use super::ears::{Ears, EarsConfig, EarsControl};
use super::engines::Engines;
use super::inbound::inbound_queue;
use super::playout::{AgentLine, ListenFrame, Playout, PlayoutFlags};
use super::recording::Recorder;
use super::registry::{CallRegistry, Registration};
use super::transport::{MediaTransport, TransportIo};
use crate::asr::stream::{AsrStream, Language as AsrLanguage};
use crate::asr::whisper::AsrError;
use crate::dialog::language::Language;
use crate::dialog::session::{Clock, Session, SessionOptions};
use crate::store::Store;
use crate::vad::silero::{SileroVad, VadError};
use crate::vad::turn::TurnConfig;

/// Received frames waiting for the listener: 2 s at 20 ms. Full: the oldest is dropped.
pub const INBOUND_AUDIO_FRAMES: usize = 100;
/// DTMF and hang-up from the transport. Full: the transport waits (never dropped).
pub const TRANSPORT_EVENTS: usize = 32;
/// The listener's events. Full: the listener waits; only partial transcripts are dropped.
pub const EARS_EVENTS: usize = 64;
/// Turns and speculation for the dialog task. Full: the actor waits.
pub const DIALOG_REQUESTS: usize = 16;
/// Fillers and answers from the dialog task. Full: the dialog waits.
pub const DIALOG_EVENTS: usize = 16;
/// Synthesized frames at the call's rate: 10 s at 20 ms. The playout drains it every frame
/// time, so the voice thread (shared by all calls) practically never waits on it.
pub const SPEECH_FRAMES: usize = 512;
/// The playout's started/finished events (two per text spoken). Full: logged as a bug.
pub const PLAYOUT_EVENTS: usize = 64;
/// Energy of each frame played, for the echo gate: 5 s. Full: the newest is dropped (the gate
/// then errs towards hearing the caller).
pub const ECHO_REFERENCE: usize = 256;
/// Listen-in frames (both sides mixed): 1 s. A listener that lags loses the oldest.
pub const LISTEN_IN: usize = 50;
/// DTMF keys to send to the far end. Full: the key is refused and reported.
pub const KEYS_OUT: usize = 32;
/// Commands to the call. Full: the sender waits.
pub const CALL_COMMANDS: usize = 16;
/// Events of the call, broadcast. A listener that lags loses the oldest; the call never waits.
pub const CALL_EVENTS: usize = 512;

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("voice activity detector: {0}")]
    Vad(#[from] VadError),
    #[error("speech recognition: {0}")]
    Asr(#[from] AsrError),
    #[error("cannot start the listener thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// Who is calling and how the call is kept.
pub struct CallSetup {
    pub call_id: String,
    /// `sip`, `webrtc`, `mic`, `file`.
    pub channel: String,
    pub caller_id: Option<String>,
    /// A customer the channel vouches for (a shop page's signed token).
    pub known_customer: Option<String>,
    /// A person can take the call now (see `SessionOptions::live_transfer`).
    pub live_transfer: bool,
    pub clock: Clock,
    pub language: Language,
    pub use_lexicon: bool,
    pub store: Store,
    /// Write the stereo recording here when the call ends.
    pub record_to: Option<PathBuf>,
    /// After a hand-over, how long the caller holds for a person in the console (None: the
    /// hand-over ends the call).
    pub hold_for_person: Option<Duration>,
    /// The server's live calls, for the console (None: not shown anywhere).
    pub registry: Option<CallRegistry>,
}

/// A running call.
pub struct CallHandle {
    pub call_id: String,
    pub commands: mpsc::Sender<CallCommand>,
    /// Subscribed before the call started: sees every event from the greeting on.
    pub events: broadcast::Receiver<CallEvent>,
    events_tx: broadcast::Sender<CallEvent>,
    listen: broadcast::Sender<ListenFrame>,
    agent: AgentLine,
    task: JoinHandle<CallReport>,
}

impl CallHandle {
    /// Another listener, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<CallEvent> {
        self.events_tx.subscribe()
    }

    /// Listen in: both sides mixed, 20 ms frames at the call's rate, 100 ms behind.
    pub fn listen_in(&self) -> broadcast::Receiver<ListenFrame> {
        self.listen.subscribe()
    }

    /// A person's audio into the call once they take it over (`CallCommand::TakeOver`).
    pub fn agent_line(&self) -> AgentLine {
        self.agent.clone()
    }

    /// Waits for the call to end.
    pub async fn finished(self) -> Option<CallReport> {
        self.task.await.ok()
    }
}

/// The listener's tuning from the `[call]` configuration.
pub fn ears_config(engines: &Engines) -> EarsConfig {
    let t = &engines.tuning;
    let ms = Duration::from_millis;
    EarsConfig {
        turn: TurnConfig {
            end_silence: ms(t.end_silence_ms),
            digits_end_silence: ms(t.digits_end_silence_ms),
            finished_end_silence: ms(t.finished_end_silence_ms),
            ..TurnConfig::default()
        },
        barge_in: BargeInConfig {
            pause_after: ms(t.barge_in_pause_ms),
            confirm_after: ms(t.barge_in_confirm_ms),
            ..BargeInConfig::default()
        },
        speculate_after: (t.speculate_after_ms > 0).then(|| ms(t.speculate_after_ms)),
        partial_every: (t.partial_every_ms > 0).then(|| ms(t.partial_every_ms)),
        ..EarsConfig::default()
    }
}

/// Starts a call on `transport`: the listener thread, the dialog task, the actor and the
/// transport's own task.
pub fn start_call(
    engines: &Engines,
    transport: Box<dyn MediaTransport>,
    setup: CallSetup,
) -> Result<CallHandle, CallError> {
    let format = transport.format();
    let tuning = &engines.tuning;
    let recorder = Arc::new(Mutex::new(Recorder::new(
        format.rate,
        Duration::from_secs(tuning.max_recording_s),
    )));

    // Channels, in the order of the flow above.
    let (inbound_tx, inbound_rx) = inbound_queue(INBOUND_AUDIO_FRAMES);
    let (transport_tx, transport_rx) = mpsc::channel(TRANSPORT_EVENTS);
    let (ears_tx, ears_rx) = mpsc::channel(EARS_EVENTS);
    let (dialog_tx, dialog_rx) = mpsc::channel(DIALOG_REQUESTS);
    let (dialog_events_tx, dialog_events_rx) = mpsc::channel(DIALOG_EVENTS);
    let (speech_tx, speech_rx) = sync_channel(SPEECH_FRAMES);
    let (playout_tx, playout_rx) = mpsc::channel(PLAYOUT_EVENTS);
    let (echo_tx, echo_rx) = sync_channel(ECHO_REFERENCE);
    let (commands_tx, commands_rx) = mpsc::channel(CALL_COMMANDS);
    let (events_tx, events_rx) = broadcast::channel(CALL_EVENTS);
    let (hangup_tx, hangup_rx) = watch::channel(false);
    let (listen_tx, _) = broadcast::channel(LISTEN_IN);
    let (keys_out_tx, keys_out_rx) = mpsc::channel(KEYS_OUT);

    let flags = Arc::new(PlayoutFlags::default());
    let playout = Playout::new(
        format,
        speech_rx,
        playout_tx,
        echo_tx,
        recorder.clone(),
        listen_tx.clone(),
        flags.clone(),
    );

    // The listener (a synchronous engine thread).
    let ears_control = Arc::new(EarsControl::default());
    let inbound_rx = Arc::new(inbound_rx);
    let ears = Ears {
        config: ears_config(engines),
        format,
        inbound: inbound_rx.clone(),
        vad: SileroVad::load(&engines.ort, &engines.vad_model, 16_000)?,
        asr: {
            let mut asr = AsrStream::new(engines.whisper.clone(), engines.asr.clone())?;
            if let Some(english) = &engines.whisper_english {
                asr = asr.with_english_first(english.clone())?;
            }
            asr.expect(match setup.language {
                Language::En => AsrLanguage::En,
                Language::Zh => AsrLanguage::Zh,
            });
            asr
        },
        echo_reference: echo_rx,
        events: ears_tx,
        flags,
        control: ears_control.clone(),
        recorder: recorder.clone(),
    };
    let ears_thread = ears.spawn(&setup.call_id)?;

    // The dialog task: the session starts (greeting) as soon as it runs.
    let session = Session::start(
        setup.store.clone(),
        engines.planner.clone(),
        engines.extract.clone(),
        SessionOptions {
            call_id: setup.call_id.clone(),
            channel: setup.channel.clone(),
            caller_id: setup.caller_id.clone(),
            known_customer: setup.known_customer.clone(),
            live_transfer: setup.live_transfer,
            clock: setup.clock,
            language: setup.language,
            use_lexicon: setup.use_lexicon,
            redact: engines.redact.clone(),
        },
    );
    tokio::spawn(run_dialog(
        session,
        dialog_rx,
        dialog_events_tx,
        Duration::from_millis(tuning.filler_after_ms),
        // Reading ahead is speculation too: off with it.
        tuning.speculate_after_ms > 0,
    ));

    // The transport (owns its socket or device and its clock).
    let io = TransportIo {
        inbound: inbound_tx,
        events: transport_tx,
        playout: playout.clone(),
        hangup: hangup_rx,
        keys_out: keys_out_rx,
    };
    let call_id = setup.call_id.clone();
    tokio::spawn(async move {
        if let Err(e) = transport.run(io).await {
            tracing::warn!(call = %call_id, "transport: {e}");
        }
    });

    // The console's view: registered before the actor runs, so it sees every event.
    if let Some(registry) = &setup.registry {
        registry.register(
            Registration {
                id: setup.call_id.clone(),
                channel: setup.channel.clone(),
                caller: setup.caller_id.clone(),
                commands: commands_tx.clone(),
                listen: listen_tx.clone(),
                agent: playout.agent_line(),
            },
            events_tx.subscribe(),
        );
    }
    let agent = playout.agent_line();

    // The actor.
    let actor = CallActor {
        call_id: setup.call_id.clone(),
        format,
        store: setup.store,
        playout,
        voice: engines.voice.clone(),
        speech: speech_tx,
        ears_control,
        inbound: inbound_rx,
        commands: commands_rx,
        transport_events: transport_rx,
        ears_events: ears_rx,
        dialog: dialog_tx,
        dialog_events: dialog_events_rx,
        playout_events: playout_rx,
        events: events_tx.clone(),
        hangup: hangup_tx,
        keys_out: keys_out_tx,
        dtmf: DtmfCollector::new(Duration::from_millis(tuning.dtmf_inter_digit_ms)),
        recorder,
        hold_for_person: setup.hold_for_person,
    };
    let record_to = setup.record_to;
    let task = tokio::spawn(async move {
        let report = actor.run().await;
        // The listener ends once its queue is closed (the actor closed it).
        let _ = tokio::task::spawn_blocking(move || ears_thread.join()).await;
        if let Some(path) = record_to {
            let recorder = report.recorder.clone();
            let written = tokio::task::spawn_blocking(move || {
                let r = recorder.lock().unwrap_or_else(|p| p.into_inner());
                r.write_wav(&path).map(|()| path)
            })
            .await;
            match written {
                Ok(Ok(path)) => tracing::info!("recording written to {}", path.display()),
                Ok(Err(e)) => tracing::warn!("recording not written: {e}"),
                Err(e) => tracing::warn!("recording not written: {e}"),
            }
        }
        report
    });
    Ok(CallHandle {
        call_id: setup.call_id,
        commands: commands_tx,
        events: events_rx,
        events_tx,
        listen: listen_tx,
        agent,
        task,
    })
}

//! The call actor: one task per call that owns the call's state and reacts to everything that
//! happens to it: the listener's events, the dialog's answers, the playout's progress, the
//! transport's DTMF and hang-up, and commands from outside ([`CallCommand`]). What happens is
//! published as typed [`CallEvent`]s (console, recordings, voice evals, logs).

use std::collections::{HashMap, HashSet};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, mpsc, watch};

use super::barge_in::BargeInEvent;
use super::dialog::{DialogEvent, DialogRequest};
use super::dtmf::DtmfCollector;
use super::ears::{EarsControl, EarsEvent};
use super::inbound::InboundReceiver;
use super::latency::{TurnClock, TurnLatency};
use super::pipeline::DIALOG_REQUESTS;
use super::playout::{Playout, PlayoutEvent, SpeechFrame, SpeechTag};
use super::recording::Recorder;
use super::transport::{MediaFormat, TransportEvent};
use super::voice::{SpeakJob, VoiceService};
use crate::cancel::CancelToken;
use crate::dialog::session::{ToolRecord, TurnOutput};
use crate::store::Store;

/// Commands from outside the call (the console, the CLI, tests). Never dropped.
#[derive(Debug, Clone)]
pub enum CallCommand {
    /// End the call now.
    Hangup,
    /// Send these DTMF keys to the far end (a supervisor working an IVR, say).
    SendDtmf(String),
    /// A supervisor's note for the assistant: taken into the dialog's context for the next
    /// replies, and marked in the transcript.
    Guide { by: String, text: String },
    /// A supervisor's words for the caller, said now in the assistant's voice.
    Say { by: String, text: String },
    /// A person takes the call: the assistant goes quiet, the person's audio
    /// ([`super::playout::AgentLine`]) goes to the caller, the caller's words are kept.
    TakeOver { by: String },
    /// The assistant takes the call back, with the conversation so far.
    HandBack { by: String },
}

/// What a supervisor did on a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SupervisorAction {
    Guided(String),
    Said(String),
    TookOver,
    HandedBack,
}

impl SupervisorAction {
    /// The word stored in `call_notes.kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            SupervisorAction::Guided(_) => "guidance",
            SupervisorAction::Said(_) => "said",
            SupervisorAction::TookOver => "take-over",
            SupervisorAction::HandedBack => "hand-back",
        }
    }

    pub fn text(&self) -> &str {
        match self {
            SupervisorAction::Guided(t) | SupervisorAction::Said(t) => t,
            SupervisorAction::TookOver | SupervisorAction::HandedBack => "",
        }
    }
}

/// Why a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEnd {
    /// The conversation finished (goodbye, or handed to a person) and the last words played.
    Finished,
    /// The far end hung up or the transport failed.
    CallerHungUp(String),
    /// A command ended it.
    Command,
}

/// What happens in a call, in order, for whoever listens.
#[derive(Debug, Clone)]
pub enum CallEvent {
    CallerSpeaking {
        at: Duration,
    },
    Partial {
        text: String,
    },
    /// A caller turn, final (speech or DTMF).
    CallerTurn {
        turn: u64,
        text: String,
        dtmf: bool,
    },
    /// A sound over the assistant's speech that was not a turn (a cough, "uh-huh").
    Backchannel,
    BargeIn(BargeInEvent),
    Tool {
        turn: u64,
        record: ToolRecord,
    },
    /// What the assistant says for `turn` (0: the greeting).
    Reply {
        turn: u64,
        text: String,
        filler: bool,
    },
    /// The assistant's audio for `turn` began / ended at these outbound media times.
    SpeechStarted {
        turn: u64,
        filler: bool,
        media: Duration,
    },
    SpeechFinished {
        turn: u64,
        filler: bool,
        media: Duration,
    },
    /// The caller's voice (from `onset`, inbound media time) paused the assistant's speech at
    /// outbound media time `media` (the same clock on a transport that sends as it receives).
    PlaybackPaused {
        onset: Duration,
        media: Duration,
    },
    /// Queued speech was thrown away by a barge-in at this outbound media time.
    SpeechFlushed {
        media: Duration,
    },
    Latency(TurnLatency),
    Verified {
        customer: String,
    },
    /// Handed to a person. `waiting`: the caller holds for someone in the console to pick up.
    Transferred {
        waiting: bool,
    },
    /// A supervisor acted on the call.
    Supervisor {
        by: String,
        action: SupervisorAction,
    },
    Error {
        detail: String,
    },
    Ended(CallEnd),
}

/// Channels and parts the actor owns (made by `pipeline.rs`).
pub struct CallActor {
    pub call_id: String,
    pub format: MediaFormat,
    pub store: Store,
    pub playout: Playout,
    pub voice: VoiceService,
    pub speech: SyncSender<SpeechFrame>,
    pub ears_control: Arc<EarsControl>,
    pub inbound: Arc<InboundReceiver>,
    pub commands: mpsc::Receiver<CallCommand>,
    pub transport_events: mpsc::Receiver<TransportEvent>,
    pub ears_events: mpsc::Receiver<EarsEvent>,
    pub dialog: mpsc::Sender<DialogRequest>,
    pub dialog_events: mpsc::Receiver<DialogEvent>,
    pub playout_events: mpsc::Receiver<PlayoutEvent>,
    pub events: broadcast::Sender<CallEvent>,
    pub hangup: watch::Sender<bool>,
    /// Keys for the transport to send [KEYS_OUT].
    pub keys_out: mpsc::Sender<char>,
    pub dtmf: DtmfCollector,
    pub recorder: Arc<Mutex<Recorder>>,
    /// After a hand-over, how long the caller holds for a person in the console before the
    /// assistant promises a call back (None: the hand-over ends the call, e.g. a SIP REFER).
    pub hold_for_person: Option<Duration>,
}

/// Turn numbers of words a supervisor had the assistant say (apart from the caller's turns).
const SUPERVISOR_TURNS: u64 = 1 << 40;

/// What a finished call leaves.
pub struct CallReport {
    pub call_id: String,
    pub end: CallEnd,
    pub latencies: Vec<TurnLatency>,
    pub recorder: Arc<Mutex<Recorder>>,
    /// Inbound frames dropped because the listener fell behind.
    pub dropped_frames: u64,
}

impl Running {
    /// A person has the call, or it is being handed to one: the caller's words are kept, not
    /// answered.
    fn handed_over(&self) -> bool {
        self.taken_over.is_some() || self.announcing.is_some() || self.waiting_since.is_some()
    }
}

/// What an answer asks the caller for.
#[derive(Debug, Clone, Copy)]
struct Asks {
    digits: bool,
    yes_no: bool,
}

struct Running {
    epoch: u64,
    next_turn: u64,
    /// Texts handed to the voice and not yet finished playing, with their cancel tokens.
    speaking: HashMap<(u64, bool), CancelToken>,
    /// Turns whose answer is talk only (no tool result, no hand-over, no goodbye, no question
    /// waiting for a yes, a no or digits): once the caller has taken another turn, such an
    /// answer they have not begun to hear is dropped.
    talk_only: HashSet<u64>,
    /// The turn whose answer reads an action back for a yes or no, until it begins to play:
    /// words the caller says before that cannot confirm it.
    read_back: Option<u64>,
    /// Caller turns with the dialog and not answered yet (the answer may be a read-back).
    unanswered: HashSet<u64>,
    clocks: HashMap<u64, TurnClock>,
    latencies: Vec<TurnLatency>,
    /// The conversation is over: hang up once the last words have played.
    ending: bool,
    started: Instant,
    verified: bool,
    /// The person who has taken the call over.
    taken_over: Option<String>,
    /// A person took the call, or it was handed to one: its outcome stays "transferred".
    person_involved: bool,
    /// The turn whose reply tells the caller they are being handed over: once it has played,
    /// they hold for a person.
    announcing: Option<u64>,
    /// Since when the caller holds for a person.
    waiting_since: Option<Instant>,
    supervisor_lines: u64,
}

impl CallActor {
    pub async fn run(mut self) -> CallReport {
        let mut r = Running {
            epoch: 0,
            next_turn: 1,
            speaking: HashMap::new(),
            talk_only: HashSet::new(),
            read_back: None,
            unanswered: HashSet::new(),
            clocks: HashMap::new(),
            latencies: Vec::new(),
            ending: false,
            started: Instant::now(),
            verified: false,
            taken_over: None,
            person_involved: false,
            announcing: None,
            waiting_since: None,
            supervisor_lines: 0,
        };
        let end = loop {
            // The conversation is over and nothing is left to play (also after the caller
            // interrupted the last words).
            if r.ending && r.speaking.is_empty() {
                break CallEnd::Finished;
            }
            let dtmf_deadline = self
                .dtmf
                .poll_timeout()
                .map(|t| tokio::time::Instant::from_std(r.started + t));
            let hold_deadline = r
                .waiting_since
                .zip(self.hold_for_person)
                .map(|(since, wait)| tokio::time::Instant::from_std(since + wait));
            tokio::select! {
                biased;
                command = self.commands.recv() => match command {
                    Some(CallCommand::Hangup) | None => break CallEnd::Command,
                    Some(command) => self.on_command(&mut r, command),
                },
                event = self.transport_events.recv() => match event {
                    Some(TransportEvent::Hangup { reason }) => break CallEnd::CallerHungUp(reason),
                    None => break CallEnd::CallerHungUp("transport closed".into()),
                    Some(TransportEvent::Dtmf { key, at }) => self.on_key(&mut r, key, at).await,
                },
                Some(event) = self.ears_events.recv() => self.on_ears(&mut r, event).await,
                Some(event) = self.playout_events.recv() => {
                    if self.on_playout(&mut r, event).await {
                        break CallEnd::Finished;
                    }
                }
                Some(event) = self.dialog_events.recv() => {
                    if self.on_dialog(&mut r, event) {
                        break CallEnd::Finished;
                    }
                }
                () = sleep_until(hold_deadline), if hold_deadline.is_some() => {
                    // Nobody in the console picked the call up: the assistant says a colleague
                    // will call back, and the call ends.
                    r.waiting_since = None;
                    if self.dialog.try_send(DialogRequest::NobodyCame).is_err() {
                        break CallEnd::Finished;
                    }
                }
                () = sleep_until(dtmf_deadline), if dtmf_deadline.is_some() => {
                    if let Some(entry) = self.dtmf.handle_timeout(r.started.elapsed()) {
                        self.caller_turn(&mut r, entry, None).await;
                    }
                }
            }
        };
        for cancel in r.speaking.values() {
            cancel.cancel();
        }
        let _ = self.hangup.send(true);
        self.inbound.close();
        if !r.ending && !r.person_involved {
            // The caller left mid-conversation: the call record says so. (A call a person
            // took, or one handed over, keeps the outcome "transferred".)
            let _ = self
                .store
                .end_call(&self.call_id, &crate::store::now_utc(), "abandoned")
                .await;
        }
        self.publish(CallEvent::Ended(end.clone()));
        CallReport {
            call_id: self.call_id.clone(),
            end,
            latencies: r.latencies,
            recorder: self.recorder.clone(),
            dropped_frames: self.inbound.dropped(),
        }
    }

    fn on_command(&mut self, r: &mut Running, command: CallCommand) {
        let (by, action) = match command {
            CallCommand::Hangup => return,
            CallCommand::SendDtmf(keys) => return self.send_keys(&keys),
            CallCommand::Guide { by, text } => {
                self.to_dialog(DialogRequest::Guide { text: text.clone() });
                (by, SupervisorAction::Guided(text))
            }
            CallCommand::Say { by, text } => {
                self.to_dialog(DialogRequest::Said { text: text.clone() });
                r.supervisor_lines += 1;
                let turn = SUPERVISOR_TURNS + r.supervisor_lines;
                self.speak(r, turn, text.clone(), false);
                (by, SupervisorAction::Said(text))
            }
            CallCommand::TakeOver { by } => {
                if let Some(person) = r.taken_over.as_ref().filter(|p| **p != by) {
                    return self.publish(CallEvent::Error {
                        detail: format!("{person} has the call already"),
                    });
                }
                if r.ending {
                    return self.publish(CallEvent::Error {
                        detail: "the call is ending: nothing to take over".into(),
                    });
                }
                r.taken_over = Some(by.clone());
                r.person_involved = true;
                r.announcing = None;
                r.waiting_since = None;
                self.interrupt(r);
                self.set_digits(false);
                self.set_yes_no(false);
                self.playout.set_agent(true);
                self.to_dialog(DialogRequest::DropSpeculation);
                (by, SupervisorAction::TookOver)
            }
            CallCommand::HandBack { by } => {
                if r.taken_over.take().is_none() {
                    return self.publish(CallEvent::Error {
                        detail: "the call is not taken over".into(),
                    });
                }
                self.playout.set_agent(false);
                // The dialog forgets what it was waiting for (`Session::resume_after_person`).
                self.set_digits(false);
                self.set_yes_no(false);
                self.to_dialog(DialogRequest::Resume);
                (by, SupervisorAction::HandedBack)
            }
        };
        self.publish(CallEvent::Supervisor { by, action });
    }

    /// A request the dialog may take later; never waits (the dialog may be waiting on us).
    fn to_dialog(&self, request: DialogRequest) {
        if let Err(e) = self.dialog.try_send(request) {
            self.publish(CallEvent::Error {
                detail: format!("the dialog is behind: {e}"),
            });
        }
    }

    fn publish(&self, event: CallEvent) {
        // Nobody listening, or a slow listener that lags: the call never waits for them.
        let _ = self.events.send(event);
    }

    /// Queues keys for the transport; a key that is not a DTMF key, or that finds the queue
    /// full, is reported and not sent.
    fn send_keys(&self, keys: &str) {
        for key in keys.chars() {
            if hotline_wire::telephone_event::event_of(key).is_none() {
                self.publish(CallEvent::Error {
                    detail: format!("{key:?} is not a DTMF key"),
                });
                continue;
            }
            if self.keys_out.try_send(key).is_err() {
                self.publish(CallEvent::Error {
                    detail: format!("DTMF {key:?} not sent: the key queue is full"),
                });
            }
        }
    }

    async fn on_key(&mut self, r: &mut Running, key: char, at: Duration) {
        // A key press over the assistant's speech interrupts it, like speaking does.
        if self
            .playout
            .flags()
            .playing
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            self.interrupt(r);
        }
        if let Some(entry) = self.dtmf.key(key, r.started.elapsed().max(at)) {
            self.caller_turn(r, entry, None).await;
        }
    }

    async fn on_ears(&mut self, r: &mut Running, event: EarsEvent) {
        match event {
            EarsEvent::SpeechStarted { at } => {
                if !r.handed_over() {
                    // Only an optimisation, like speculation: skipped when the dialog is behind.
                    let _ = self.dialog.try_send(DialogRequest::CallerSpeaking);
                }
                self.publish(CallEvent::CallerSpeaking { at });
            }
            EarsEvent::Partial { text } => self.publish(CallEvent::Partial { text }),
            EarsEvent::Speculative { text } => {
                if !text.is_empty() && !r.handed_over() {
                    // Speculation is only an optimisation: skipped when the dialog is behind.
                    let _ = self.dialog.try_send(DialogRequest::Speculate { text });
                }
            }
            EarsEvent::SpeculationDropped => {
                let _ = self.dialog.try_send(DialogRequest::DropSpeculation);
            }
            EarsEvent::Final(t) => {
                let mut clock = TurnClock::new(t.speech_end, t.endpoint_at, t.final_at);
                clock.speculative_asr = t.speculative;
                if t.text.trim().is_empty() {
                    // Noise the recogniser found no words in: nothing to answer.
                    return;
                }
                self.drop_unheard_talk(r);
                self.caller_turn(r, t.text, Some(clock)).await;
            }
            EarsEvent::Backchannel => self.publish(CallEvent::Backchannel),
            EarsEvent::BargeIn(event) => {
                tracing::debug!(call = %self.call_id, ?event, "barge-in");
                match event {
                    BargeInEvent::Pause { started, .. } => {
                        self.playout.pause();
                        self.publish(CallEvent::PlaybackPaused {
                            onset: started,
                            media: self.playout.media_time(),
                        });
                    }
                    BargeInEvent::Resume { .. } => self.playout.resume(),
                    BargeInEvent::Confirm { .. } => self.interrupt(r),
                }
                self.publish(CallEvent::BargeIn(event));
            }
            EarsEvent::Failed { detail } => {
                tracing::warn!(call = %self.call_id, "listener: {detail}");
                self.publish(CallEvent::Error { detail });
            }
        }
    }

    /// The caller now holds for a person in the console.
    fn start_waiting(&self, r: &mut Running) {
        r.announcing = None;
        r.waiting_since = Some(Instant::now());
        self.publish(CallEvent::Transferred { waiting: true });
    }

    /// Drops the assistant's queued and coming speech, and what is being synthesized.
    fn interrupt(&mut self, r: &mut Running) {
        if r.announcing.is_some() {
            // The caller talked over the hand-over message: they hold all the same.
            self.start_waiting(r);
        }
        r.epoch += 1;
        for (_, cancel) in r.speaking.drain() {
            cancel.cancel();
        }
        r.talk_only.clear();
        self.playout.flush(r.epoch);
        self.publish(CallEvent::SpeechFlushed {
            media: self.playout.media_time(),
        });
    }

    /// The caller took another turn before the replies waiting for them began to play (a
    /// pause in the middle of what they were saying ended a turn early; the reply to it was
    /// held while they went on): when those replies are talk only, or fillers, they answer
    /// words the caller has moved past, and the new turn's answer would queue behind them.
    fn drop_unheard_talk(&mut self, r: &mut Running) {
        if r.speaking.is_empty() || self.playout.mid_reply() {
            return;
        }
        // An unheard read-back goes too: the dialog forgets it (`caller_turn`).
        if r.speaking.keys().all(|(turn, filler)| {
            *filler || r.talk_only.contains(turn) || r.read_back == Some(*turn)
        }) {
            tracing::debug!(call = %self.call_id, "the caller went on: unheard replies dropped");
            self.interrupt(r);
        }
    }

    async fn caller_turn(&mut self, r: &mut Running, text: String, clock: Option<TurnClock>) {
        let turn = r.next_turn;
        r.next_turn += 1;
        let dtmf = clock.is_none();
        let now = Instant::now();
        r.clocks
            .insert(turn, clock.unwrap_or_else(|| TurnClock::new(now, now, now)));
        self.publish(CallEvent::CallerTurn {
            turn,
            text: text.clone(),
            dtmf,
        });
        if r.handed_over() {
            // A person has the call (or is about to): the words are kept for the assistant,
            // not answered.
            r.clocks.remove(&turn);
            self.to_dialog(DialogRequest::Heard { text });
            return;
        }
        // Unheard: a read-back not yet playing, or one that may still come in the answer to an
        // earlier turn the dialog is working on.
        let read_back_unheard = r.read_back.take().is_some() || !r.unanswered.is_empty();
        if read_back_unheard {
            tracing::debug!(call = %self.call_id, turn, "the caller went on before the read-back played: it cannot be confirmed by these words");
        }
        // Never wait on the dialog here: it may be waiting for this actor to read its answer.
        let request = DialogRequest::Turn {
            turn,
            text,
            read_back_unheard,
        };
        match self.dialog.try_send(request) {
            Ok(()) => {
                r.unanswered.insert(turn);
            }
            Err(e) => {
                tracing::warn!(call = %self.call_id, "turn {turn} dropped: the dialog is {DIALOG_REQUESTS} turns behind ({e})");
                self.publish(CallEvent::Error {
                    detail: format!("turn {turn} dropped: the dialog is behind"),
                });
            }
        }
    }

    fn speak(&mut self, r: &mut Running, turn: u64, text: String, filler: bool) {
        if text.trim().is_empty() {
            return;
        }
        tracing::debug!(call = %self.call_id, turn, filler, epoch = r.epoch, "speak: {text}");
        let cancel = CancelToken::new();
        let tag = SpeechTag {
            epoch: r.epoch,
            turn,
            filler,
        };
        self.publish(CallEvent::Reply {
            turn,
            text: text.clone(),
            filler,
        });
        let job = SpeakJob {
            text,
            tag,
            rate: self.format.rate,
            frame_len: self.format.frame_len(),
            cancel: cancel.clone(),
            out: self.speech.clone(),
        };
        match self.voice.speak(job) {
            Ok(()) => {
                r.speaking.insert((turn, filler), cancel);
            }
            Err(e) => {
                tracing::warn!(call = %self.call_id, "cannot speak: {e}");
                self.publish(CallEvent::Error {
                    detail: e.to_string(),
                });
            }
        }
    }

    /// Returns true when the call is over (it ended with nothing left to say).
    fn on_dialog(&mut self, r: &mut Running, event: DialogEvent) -> bool {
        match event {
            DialogEvent::Opening {
                output,
                expects_digits,
                customer,
            } => {
                self.set_digits(expects_digits);
                self.verified(r, customer);
                let asks = Asks {
                    digits: expects_digits,
                    yes_no: false,
                };
                self.answer(r, 0, output, None, asks)
            }
            // A turn that was already with the dialog when a person took the call: its
            // filler is not said (its answer is dropped in `answer`).
            DialogEvent::Filler { .. } if r.handed_over() => false,
            // Earlier replies still queued or playing: they fill the wait already, and a
            // filler behind them would only delay the answer.
            DialogEvent::Filler { .. } if !r.speaking.is_empty() => false,
            DialogEvent::Filler { turn, text } => {
                if let Some(clock) = r.clocks.get_mut(&turn) {
                    clock.filler = true;
                }
                self.speak(r, turn, text.to_string(), true);
                false
            }
            DialogEvent::Answer {
                turn,
                output,
                at,
                expects_digits,
                expects_yes_no,
                customer,
            } => {
                if !r.handed_over() {
                    self.set_digits(expects_digits);
                    self.set_yes_no(expects_yes_no);
                }
                self.verified(r, customer);
                let asks = Asks {
                    digits: expects_digits,
                    yes_no: expects_yes_no,
                };
                self.answer(r, turn, output, Some(at), asks)
            }
        }
    }

    fn verified(&self, r: &mut Running, customer: Option<String>) {
        if let Some(customer) = customer
            && !r.verified
        {
            r.verified = true;
            self.publish(CallEvent::Verified { customer });
        }
    }

    fn set_digits(&self, on: bool) {
        self.ears_control
            .expecting_digits
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    fn set_yes_no(&self, on: bool) {
        self.ears_control
            .expecting_yes_no
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Speaks the answer to `turn`; true when the call is over and nothing is left to play.
    fn answer(
        &mut self,
        r: &mut Running,
        turn: u64,
        output: TurnOutput,
        at: Option<Instant>,
        asks: Asks,
    ) -> bool {
        r.unanswered.remove(&turn);
        if let Some(clock) = r.clocks.get_mut(&turn) {
            clock.answer_ready = at;
            clock.llm_first_at = output.llm_first_token_at;
            clock.planned_early = output.planned_early;
            clock.caller_turn = output.caller_turn;
        }
        for record in &output.tools {
            self.publish(CallEvent::Tool {
                turn,
                record: record.clone(),
            });
        }
        if r.taken_over.is_some() {
            // An answer that was on its way when a person took over: not said.
            r.clocks.remove(&turn);
            return false;
        }
        let talk_only = output.tools.is_empty()
            && !output.transferred
            && !output.ended
            && !asks.yes_no
            && !asks.digits;
        if talk_only && turn != 0 && turn + 1 < r.next_turn {
            // The caller has taken another turn since: this talk answers words they moved past.
            tracing::debug!(call = %self.call_id, turn, "answer not said: the caller went on");
            r.clocks.remove(&turn);
            return r.ending && r.speaking.is_empty();
        }
        let hold = output.transferred && self.hold_for_person.is_some();
        if output.transferred && !hold {
            self.publish(CallEvent::Transferred { waiting: false });
        }
        if !hold {
            r.ending |= output.ended;
        }
        let text = output.replies.join(" ");
        self.speak(r, turn, text, false);
        if r.speaking.contains_key(&(turn, false)) {
            if talk_only {
                r.talk_only.insert(turn);
            }
            if asks.yes_no {
                r.read_back = Some(turn);
            }
        }
        if hold {
            // The caller holds (and the call shows in the console's queue) once they have
            // heard that they are being handed over.
            r.person_involved = true;
            r.announcing = Some(turn);
            if !r.speaking.contains_key(&(turn, false)) {
                self.start_waiting(r);
            }
        }
        // Nothing to say and nothing playing: end now rather than wait for audio.
        r.ending && r.speaking.is_empty()
    }

    /// Returns true when the call is over (its last words have played).
    async fn on_playout(&mut self, r: &mut Running, event: PlayoutEvent) -> bool {
        tracing::debug!(call = %self.call_id, ?event, "playout");
        match event {
            PlayoutEvent::Started { tag, at, media } => {
                self.publish(CallEvent::SpeechStarted {
                    turn: tag.turn,
                    filler: tag.filler,
                    media,
                });
                if !tag.filler && r.read_back == Some(tag.turn) {
                    // The caller hears the read-back begin: their answer to it counts.
                    r.read_back = None;
                }
                let Some(clock) = r.clocks.get_mut(&tag.turn) else {
                    return false;
                };
                clock.first_audio.get_or_insert(at);
                if tag.filler {
                    return false;
                }
                clock.answer_audio = Some(at);
                if let Some(latency) = clock.latency(tag.turn) {
                    tracing::info!(call = %self.call_id, "{}", latency.line());
                    if let Some(idx) = clock.caller_turn
                        && let Err(e) = self
                            .store
                            .set_turn_latency(&self.call_id, idx, &latency.stored())
                            .await
                    {
                        tracing::warn!(call = %self.call_id, "latency not stored: {e}");
                    }
                    r.clocks.remove(&tag.turn);
                    r.latencies.push(latency.clone());
                    self.publish(CallEvent::Latency(latency));
                }
                false
            }
            PlayoutEvent::Finished { tag, media } => {
                self.publish(CallEvent::SpeechFinished {
                    turn: tag.turn,
                    filler: tag.filler,
                    media,
                });
                if tag.epoch == r.epoch {
                    r.speaking.remove(&(tag.turn, tag.filler));
                }
                if !tag.filler {
                    r.talk_only.remove(&tag.turn);
                }
                if r.announcing == Some(tag.turn) && !tag.filler {
                    self.start_waiting(r);
                }
                r.ending && r.speaking.is_empty()
            }
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

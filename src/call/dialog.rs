//! The dialog task of one call: it owns the `Session` (the dialog core) and takes caller turns,
//! speculative transcripts and their cancellations from the call actor, one at a time. It
//! never blocks the actor: the actor keeps handling barge-in and audio while a turn is
//! planned. A turn that will call a tool gets a stock filler first: at once by default, or
//! when its answer is not ready after `filler_after`.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::cancel::CancelToken;
use crate::dialog::language::Language;
use crate::dialog::session::{Session, TurnOutput};

/// What the actor asks of the dialog.
#[derive(Debug, Clone)]
pub enum DialogRequest {
    /// A caller turn (final transcript or DTMF entry). `read_back_unheard`: the caller went on
    /// before the last read-back began to play, so these words cannot confirm it.
    Turn {
        turn: u64,
        text: String,
        read_back_unheard: bool,
    },
    /// The caller began to speak: the model may read the conversation so far meanwhile.
    CallerSpeaking,
    /// The caller paused: plan on this transcript in the background.
    Speculate { text: String },
    /// The caller went on: the speculation is void.
    DropSpeculation,
    /// A supervisor's note for the next replies.
    Guide { text: String },
    /// Words a supervisor had the assistant say: part of the conversation.
    Said { text: String },
    /// The caller's words while a person has the call: kept, not answered.
    Heard { text: String },
    /// A person handed the call back: the assistant carries on.
    Resume,
    /// The caller held after a hand-over and nobody came: promise a call back and end.
    NobodyCame,
}

/// What the dialog tells the actor.
#[derive(Debug, Clone)]
pub enum DialogEvent {
    /// The greeting (turn 0), once the session has started.
    Opening {
        output: TurnOutput,
        expects_digits: bool,
        /// The caller, when caller ID identified them.
        customer: Option<String>,
    },
    /// Say the filler now: the answer to `turn` is taking a while.
    Filler { turn: u64, text: &'static str },
    /// The answer to `turn`.
    Answer {
        turn: u64,
        output: TurnOutput,
        /// When the replies were ready.
        at: Instant,
        expects_digits: bool,
        /// The answer asks for a yes or no (a read-back waits for its confirmation).
        expects_yes_no: bool,
        /// The verified caller after this turn.
        customer: Option<String>,
    },
}

/// The least wait before a filler when the caller answers a read-back.
const YES_NO_FILLER_AFTER: Duration = Duration::from_millis(150);

/// The filler said while a lookup runs; a stock phrase, so it is synthesized once. Short:
/// the answer queues behind it, so a long filler would delay the answer it masks.
pub fn filler(language: Language) -> &'static str {
    match language {
        Language::En => "One moment.",
        Language::Zh => "请稍等。",
    }
}

/// Runs the dialog of one call until the actor goes away. `read_ahead`: the model reads the
/// conversation so far while the caller speaks.
pub async fn run_dialog(
    session: impl Future<Output = (Session, TurnOutput)>,
    mut requests: mpsc::Receiver<DialogRequest>,
    events: mpsc::Sender<DialogEvent>,
    filler_after: Duration,
    read_ahead: bool,
) {
    let (mut session, opening) = session.await;
    let expects_digits = session.expects_digits();
    if events
        .send(DialogEvent::Opening {
            output: opening,
            expects_digits,
            customer: session.customer().map(|c| c.id.clone()),
        })
        .await
        .is_err()
    {
        return;
    }
    let mut speculation: Option<(String, CancelToken)> = None;
    while let Some(request) = requests.recv().await {
        match request {
            DialogRequest::Speculate { text } => {
                if let Some((_, cancel)) = speculation.take() {
                    cancel.cancel();
                }
                let cancel = CancelToken::new();
                if session.speculate(&text, &cancel) {
                    speculation = Some((text, cancel));
                }
            }
            DialogRequest::CallerSpeaking => {
                if read_ahead {
                    session.read_ahead();
                }
            }
            DialogRequest::DropSpeculation => {
                if let Some((_, cancel)) = speculation.take() {
                    cancel.cancel();
                }
            }
            DialogRequest::Guide { text } => session.guide(&text),
            DialogRequest::Said { text } => session.said_for_supervisor(&text).await,
            DialogRequest::Heard { text } => session.heard(&text).await,
            DialogRequest::Resume => session.resume_after_person(),
            DialogRequest::NobodyCame => {
                let event = DialogEvent::Answer {
                    turn: 0,
                    output: session.nobody_came().await,
                    at: Instant::now(),
                    expects_digits: false,
                    expects_yes_no: false,
                    customer: session.customer().map(|c| c.id.clone()),
                };
                if events.send(event).await.is_err() {
                    break;
                }
            }
            DialogRequest::Turn {
                turn,
                text,
                read_back_unheard,
            } => {
                if read_back_unheard {
                    session.forget_unheard_read_back();
                }
                // A speculation on other words is of no use now.
                if let Some((spoken, cancel)) = speculation.take()
                    && spoken != text
                {
                    cancel.cancel();
                }
                let slow_path = session.expects_tool(&text);
                // A yes or no to a read-back is answered without the model: quickly, when it
                // is a no. A filler before "Okay, I won't." would only be in the way.
                let filler_after = if session.expects_yes_no() {
                    filler_after.max(YES_NO_FILLER_AFTER)
                } else {
                    filler_after
                };
                // The language of these words: on the turn the caller switches, the filler
                // follows them, not the call's language so far.
                let language = Language::detect(&text).unwrap_or(session.language());
                let output = if slow_path && filler_after.is_zero() {
                    // A lookup follows: the filler at once, the answer behind it.
                    let _ = events
                        .send(DialogEvent::Filler {
                            turn,
                            text: filler(language),
                        })
                        .await;
                    session.handle(&text).await
                } else {
                    let answer = session.handle(&text);
                    tokio::pin!(answer);
                    tokio::select! {
                        output = &mut answer => output,
                        () = tokio::time::sleep(filler_after), if slow_path => {
                            let _ = events
                                .send(DialogEvent::Filler { turn, text: filler(language) })
                                .await;
                            answer.await
                        }
                    }
                };
                let event = DialogEvent::Answer {
                    turn,
                    output,
                    at: Instant::now(),
                    expects_digits: session.expects_digits(),
                    expects_yes_no: session.expects_yes_no(),
                    customer: session.customer().map(|c| c.id.clone()),
                };
                if events.send(event).await.is_err() {
                    break;
                }
            }
        }
    }
    // The call is over: a speculation still queued is of no use to anyone.
    if let Some((_, cancel)) = speculation {
        cancel.cancel();
    }
}

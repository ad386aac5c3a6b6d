//! What the voice widget shows during a call: captions of both sides and the call's state,
//! derived from the call's typed events and sent to the page as JSON (server-sent events).

use serde::Serialize;

use crate::call::actor::{CallEvent, SupervisorAction};

/// The call's state as the shopper sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Listening,
    Thinking,
    Speaking,
    Transferring,
    /// A person from the shop has taken the call.
    Colleague,
    Ended,
}

/// One update for the page.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Caption {
    /// The shopper's words: `partial` while they talk, then final.
    Caller {
        text: String,
        partial: bool,
    },
    /// The assistant's words as it starts saying them.
    Assistant {
        text: String,
    },
    State {
        state: State,
    },
}

impl Caption {
    /// The updates an event makes (tool calls, latencies and the like stay private).
    pub fn from_event(event: &CallEvent) -> Vec<Caption> {
        let state = |state| vec![Caption::State { state }];
        match event {
            CallEvent::Partial { text } => vec![Caption::Caller {
                text: text.clone(),
                partial: true,
            }],
            // The shopper's turn is over: what they said, and the assistant is on it.
            CallEvent::CallerTurn { text, dtmf, .. } => vec![
                Caption::Caller {
                    text: if *dtmf {
                        format!("(keys) {text}")
                    } else {
                        text.clone()
                    },
                    partial: false,
                },
                Caption::State {
                    state: State::Thinking,
                },
            ],
            CallEvent::Reply { text, .. } => vec![Caption::Assistant { text: text.clone() }],
            CallEvent::SpeechStarted { .. } => state(State::Speaking),
            CallEvent::SpeechFinished { .. }
            | CallEvent::SpeechFlushed { .. }
            | CallEvent::CallerSpeaking { .. } => state(State::Listening),
            CallEvent::Transferred { .. } => state(State::Transferring),
            CallEvent::Supervisor { action, .. } => match action {
                SupervisorAction::TookOver => state(State::Colleague),
                SupervisorAction::HandedBack => state(State::Listening),
                SupervisorAction::Guided(_) | SupervisorAction::Said(_) => Vec::new(),
            },
            CallEvent::Ended(_) => state(State::Ended),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn json(event: CallEvent) -> String {
        serde_json::to_string(&Caption::from_event(&event)).unwrap()
    }

    #[test]
    fn both_sides_and_the_state_reach_the_page() {
        assert_eq!(
            json(CallEvent::CallerTurn {
                turn: 1,
                text: "where is my order".into(),
                dtmf: false
            }),
            r#"[{"type":"caller","text":"where is my order","partial":false},{"type":"state","state":"thinking"}]"#
        );
        assert_eq!(
            json(CallEvent::Reply {
                turn: 1,
                text: "It was delivered.".into(),
                filler: false
            }),
            r#"[{"type":"assistant","text":"It was delivered."}]"#
        );
        assert_eq!(
            json(CallEvent::SpeechStarted {
                turn: 1,
                filler: false,
                media: Duration::ZERO
            }),
            r#"[{"type":"state","state":"speaking"}]"#
        );
        assert_eq!(
            json(CallEvent::Transferred { waiting: false }),
            r#"[{"type":"state","state":"transferring"}]"#
        );
        assert!(Caption::from_event(&CallEvent::Backchannel).is_empty());
        let took = CallEvent::Supervisor {
            by: "ana".into(),
            action: SupervisorAction::TookOver,
        };
        assert_eq!(json(took), r#"[{"type":"state","state":"colleague"}]"#);
        // A supervisor's note to the assistant is not for the shopper's eyes.
        let note = CallEvent::Supervisor {
            by: "ana".into(),
            action: SupervisorAction::Guided("offer free return shipping".into()),
        };
        assert!(Caption::from_event(&note).is_empty());
    }
}

//! The calls in progress on this server, whatever their channel, for the supervisor console:
//! for each, a summary (channel, caller, since when, what the caller wants, state) kept up to
//! date from the call's own events, the call's log so far (transcript, tools, latencies,
//! supervisors' actions), and the handles to steer it (commands, listen-in, a person's line).
//!
//! A watcher task per call reads the call's event stream from its very first event and keeps
//! both; every change is broadcast. Nothing here can slow a call down: the call's events are a
//! broadcast it never waits on, and a console that lags loses the oldest updates (and reloads).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use super::actor::{CallCommand, CallEnd, CallEvent, SupervisorAction};
use super::playout::{AgentLine, ListenFrame};

/// Updates of the call list kept for a lagging console: it reloads beyond it.
pub const LIST_UPDATES: usize = 256;
/// Entries of one call's log kept for a console that opens it late.
pub const LOG_ENTRIES: usize = 500;
/// Live log entries buffered for one call's viewers.
pub const LOG_UPDATES: usize = 256;

/// What the console shows of a call in the list.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CallSummary {
    pub id: String,
    /// `sip`, `webrtc`, `mic`, `file`.
    pub channel: String,
    /// The caller's number, when the channel gives one.
    pub caller: Option<String>,
    /// The verified customer.
    pub customer: Option<String>,
    /// Seconds since the Unix epoch.
    pub started: u64,
    /// What the caller wants, as far as known (the first request the assistant acted on, or
    /// the caller's first words).
    pub wants: Option<String>,
    /// `greeting`, `listening`, `caller speaking`, `thinking`, `speaking`,
    /// `waiting for a person`, `taken over`, `ended`.
    pub state: String,
    /// Who has taken the call over.
    pub person: Option<String>,
    /// The summary the assistant left when it handed the call over.
    pub handover: Option<String>,
    pub turns: u64,
}

/// A change to the list of calls.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ListChange {
    Updated(CallSummary),
    Ended { id: String },
}

struct Entry {
    summary: CallSummary,
    log: VecDeque<Value>,
    log_tx: broadcast::Sender<Value>,
    commands: mpsc::Sender<CallCommand>,
    listen: broadcast::Sender<ListenFrame>,
    agent: AgentLine,
}

#[derive(Default)]
struct Inner {
    calls: Mutex<HashMap<String, Entry>>,
    changes: Option<broadcast::Sender<ListChange>>,
}

/// The live calls; cheap to clone.
#[derive(Clone)]
pub struct CallRegistry {
    inner: Arc<Inner>,
}

impl Default for CallRegistry {
    fn default() -> Self {
        Self::new()
    }
}

/// A console's way into one live call.
pub struct CallAccess {
    pub commands: mpsc::Sender<CallCommand>,
    pub listen: broadcast::Receiver<ListenFrame>,
    pub agent: AgentLine,
    pub summary: CallSummary,
}

/// What a call's log viewer starts with.
pub struct LogView {
    /// The log so far.
    pub backlog: Vec<Value>,
    /// What comes next.
    pub live: broadcast::Receiver<Value>,
}

/// How a new call registers.
pub struct Registration {
    pub id: String,
    pub channel: String,
    pub caller: Option<String>,
    pub commands: mpsc::Sender<CallCommand>,
    pub listen: broadcast::Sender<ListenFrame>,
    pub agent: AgentLine,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// A tool's name as the console says what the caller wants.
fn request_of(tool: &str) -> Option<&'static str> {
    Some(match tool {
        "get_order_status" => "order status",
        "track_shipment" => "parcel tracking",
        "cancel_order" => "a cancellation",
        "change_shipping_address" => "an address change",
        "start_return" => "a return",
        "get_refund_status" => "a refund",
        "request_exchange" => "an exchange",
        "file_complaint" => "a complaint",
        "recommend_products" => "recommendations",
        "transfer_to_human" => "a person",
        "record_survey" => "the survey",
        _ => return None,
    })
}

/// The log entry of an event, for the console's transcript; `None` for events it does not
/// show. Partials are streamed but not kept.
pub fn log_entry(event: &CallEvent) -> Option<Value> {
    Some(match event {
        CallEvent::CallerTurn { turn, text, dtmf } => {
            json!({ "kind": "caller", "turn": turn, "text": text, "dtmf": dtmf })
        }
        CallEvent::Partial { text } => json!({ "kind": "partial", "text": text }),
        CallEvent::Reply { turn, text, filler } => {
            json!({ "kind": "assistant", "turn": turn, "text": text, "filler": filler })
        }
        CallEvent::Tool { turn, record } => json!({
            "kind": "tool", "turn": turn, "name": record.name, "args": record.args,
            "outcome": record.outcome.as_str(), "detail": record.detail,
        }),
        CallEvent::Latency(l) => json!({
            "kind": "latency", "turn": l.turn, "endpoint_ms": l.endpoint_ms.round(),
            "asr_ms": l.asr_ms.round(), "llm_first_ms": l.llm_first_ms.map(f64::round),
            "reply_ms": l.reply_ms.round(), "first_audio_ms": l.v2v_ms.round(),
            "answer_ms": l.answer_ms.round(), "filler": l.filler,
        }),
        CallEvent::Verified { customer } => json!({ "kind": "verified", "customer": customer }),
        CallEvent::Transferred { waiting } => json!({ "kind": "transferred", "waiting": waiting }),
        CallEvent::Supervisor { by, action } => json!({
            "kind": "supervisor", "by": by, "action": action.kind(), "text": action.text(),
        }),
        CallEvent::BargeIn(super::barge_in::BargeInEvent::Confirm { .. }) => {
            json!({ "kind": "barge-in" })
        }
        CallEvent::Error { detail } => json!({ "kind": "error", "detail": detail }),
        CallEvent::Ended(end) => json!({ "kind": "ended", "how": match end {
            CallEnd::Finished => "finished".to_string(),
            CallEnd::CallerHungUp(why) => format!("caller hung up ({why})"),
            CallEnd::Command => "hung up from here".to_string(),
        }}),
        _ => return None,
    })
}

/// The summary after `event`; true when it changed.
fn apply(summary: &mut CallSummary, event: &CallEvent) -> bool {
    let before = summary.clone();
    // Taken over, or holding for a person: what the caller and the assistant do does not
    // change what the list says (the call stays in the queue until someone picks it up).
    let taken = summary.person.is_some() || summary.state == "waiting for a person";
    match event {
        CallEvent::CallerSpeaking { .. } if !taken => summary.state = "caller speaking".into(),
        CallEvent::CallerTurn { text, .. } => {
            summary.turns += 1;
            if summary.wants.is_none() && !text.trim().is_empty() {
                summary.wants = Some(text.chars().take(80).collect());
            }
            if !taken {
                summary.state = "thinking".into();
            }
        }
        CallEvent::Tool { record, .. } => {
            if let Some(request) = request_of(&record.name)
                && (summary.turns <= 1
                    || !summary
                        .wants
                        .as_deref()
                        .is_some_and(|w| w.starts_with("wants ")))
            {
                summary.wants = Some(format!("wants {request}"));
            }
            if record.name == "transfer_to_human" {
                summary.handover = record.args["summary"].as_str().map(str::to_string);
            }
        }
        CallEvent::SpeechStarted { filler: false, .. } if !taken => {
            summary.state = "speaking".into();
        }
        CallEvent::SpeechFinished { .. } | CallEvent::SpeechFlushed { .. } if !taken => {
            summary.state = "listening".into();
        }
        CallEvent::Verified { customer } => summary.customer = Some(customer.clone()),
        CallEvent::Transferred { waiting: true } => summary.state = "waiting for a person".into(),
        CallEvent::Supervisor { by, action } => match action {
            SupervisorAction::TookOver => {
                summary.person = Some(by.clone());
                summary.state = "taken over".into();
            }
            SupervisorAction::HandedBack => {
                summary.person = None;
                summary.state = "listening".into();
            }
            SupervisorAction::Guided(_) | SupervisorAction::Said(_) => {}
        },
        CallEvent::Ended(_) => summary.state = "ended".into(),
        _ => {}
    }
    *summary != before
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl CallRegistry {
    pub fn new() -> CallRegistry {
        let (changes, _) = broadcast::channel(LIST_UPDATES);
        CallRegistry {
            inner: Arc::new(Inner {
                calls: Mutex::default(),
                changes: Some(changes),
            }),
        }
    }

    fn notify(&self, change: ListChange) {
        if let Some(tx) = &self.inner.changes {
            let _ = tx.send(change);
        }
    }

    /// Registers a call and follows `events` (subscribed before the call's first event) until
    /// it ends; then the call leaves the list.
    pub fn register(&self, call: Registration, mut events: broadcast::Receiver<CallEvent>) {
        let (log_tx, _) = broadcast::channel(LOG_UPDATES);
        let summary = CallSummary {
            id: call.id.clone(),
            channel: call.channel,
            caller: call.caller,
            customer: None,
            started: unix_now(),
            wants: None,
            state: "greeting".into(),
            person: None,
            handover: None,
            turns: 0,
        };
        lock(&self.inner.calls).insert(
            call.id.clone(),
            Entry {
                summary: summary.clone(),
                log: VecDeque::new(),
                log_tx,
                commands: call.commands,
                listen: call.listen,
                agent: call.agent,
            },
        );
        self.notify(ListChange::Updated(summary));
        let registry = self.clone();
        let id = call.id;
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(event) => {
                        let ended = matches!(event, CallEvent::Ended(_));
                        registry.follow(&id, &event);
                        if ended {
                            break;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(call = %id, "the console's view of the call missed {n} events");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
            lock(&registry.inner.calls).remove(&id);
            registry.notify(ListChange::Ended { id });
        });
    }

    fn follow(&self, id: &str, event: &CallEvent) {
        let mut calls = lock(&self.inner.calls);
        let Some(entry) = calls.get_mut(id) else {
            return;
        };
        if let Some(line) = log_entry(event) {
            if line["kind"] != "partial" {
                if entry.log.len() == LOG_ENTRIES {
                    entry.log.pop_front();
                }
                entry.log.push_back(line.clone());
            }
            // Under the lock: a viewer that took the backlog sees each entry once.
            let _ = entry.log_tx.send(line);
        }
        if apply(&mut entry.summary, event) {
            let summary = entry.summary.clone();
            drop(calls);
            self.notify(ListChange::Updated(summary));
        }
    }

    /// The calls in progress, oldest first, and the changes from now on.
    pub fn list(&self) -> (Vec<CallSummary>, broadcast::Receiver<ListChange>) {
        let calls = lock(&self.inner.calls);
        let mut list: Vec<CallSummary> = calls.values().map(|e| e.summary.clone()).collect();
        list.sort_by(|a, b| (a.started, &a.id).cmp(&(b.started, &b.id)));
        let changes = self
            .inner
            .changes
            .as_ref()
            .map(|tx| tx.subscribe())
            .unwrap_or_else(|| broadcast::channel(1).1);
        (list, changes)
    }

    /// Calls in progress.
    pub fn len(&self) -> usize {
        lock(&self.inner.calls).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One call's log so far and its continuation.
    pub fn log(&self, id: &str) -> Option<LogView> {
        let calls = lock(&self.inner.calls);
        let entry = calls.get(id)?;
        Some(LogView {
            backlog: entry.log.iter().cloned().collect(),
            live: entry.log_tx.subscribe(),
        })
    }

    /// Who has taken the call over, if anyone.
    pub fn person(&self, id: &str) -> Option<String> {
        lock(&self.inner.calls)
            .get(id)
            .and_then(|e| e.summary.person.clone())
    }

    /// The handles to steer one call.
    pub fn access(&self, id: &str) -> Option<CallAccess> {
        let calls = lock(&self.inner.calls);
        let entry = calls.get(id)?;
        Some(CallAccess {
            commands: entry.commands.clone(),
            listen: entry.listen.subscribe(),
            agent: entry.agent.clone(),
            summary: entry.summary.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialog::session::ToolRecord;
    use crate::store::Outcome;

    fn summary() -> CallSummary {
        CallSummary {
            id: "c".into(),
            channel: "sip".into(),
            caller: None,
            customer: None,
            started: 0,
            wants: None,
            state: "greeting".into(),
            person: None,
            handover: None,
            turns: 0,
        }
    }

    fn tool(name: &str, args: Value) -> CallEvent {
        CallEvent::Tool {
            turn: 1,
            record: ToolRecord {
                name: name.into(),
                args,
                outcome: Outcome::Ok,
                detail: String::new(),
            },
        }
    }

    #[test]
    fn the_summary_follows_the_call() {
        let mut s = summary();
        assert!(apply(
            &mut s,
            &CallEvent::CallerTurn {
                turn: 1,
                text: "where is my parcel".into(),
                dtmf: false
            }
        ));
        assert_eq!((s.state.as_str(), s.turns), ("thinking", 1));
        assert_eq!(s.wants.as_deref(), Some("where is my parcel"));
        apply(
            &mut s,
            &tool("get_order_status", json!({ "order_id": "100042" })),
        );
        assert_eq!(s.wants.as_deref(), Some("wants order status"));
        apply(
            &mut s,
            &CallEvent::SpeechStarted {
                turn: 1,
                filler: false,
                media: Default::default(),
            },
        );
        assert_eq!(s.state, "speaking");
        apply(
            &mut s,
            &tool("transfer_to_human", json!({ "summary": "Reason: asked" })),
        );
        apply(&mut s, &CallEvent::Transferred { waiting: true });
        assert_eq!(s.state, "waiting for a person");
        // A caller saying "hello?" on hold, or a line said for a supervisor, keeps it queued.
        for e in [
            CallEvent::CallerSpeaking {
                at: Default::default(),
            },
            CallEvent::SpeechStarted {
                turn: 9,
                filler: false,
                media: Default::default(),
            },
            CallEvent::SpeechFinished {
                turn: 9,
                filler: false,
                media: Default::default(),
            },
        ] {
            apply(&mut s, &e);
            assert_eq!(s.state, "waiting for a person", "{e:?}");
        }
        assert_eq!(s.handover.as_deref(), Some("Reason: asked"));
        apply(
            &mut s,
            &CallEvent::Supervisor {
                by: "ana".into(),
                action: SupervisorAction::TookOver,
            },
        );
        assert_eq!(
            (s.state.as_str(), s.person.as_deref()),
            ("taken over", Some("ana"))
        );
        // The caller talking to the person does not change what the list says.
        assert!(!apply(
            &mut s,
            &CallEvent::CallerSpeaking {
                at: Default::default()
            }
        ));
        apply(
            &mut s,
            &CallEvent::Supervisor {
                by: "ana".into(),
                action: SupervisorAction::HandedBack,
            },
        );
        assert_eq!((s.state.as_str(), s.person), ("listening", None));
    }

    #[test]
    fn the_log_keeps_what_the_console_shows() {
        assert_eq!(log_entry(&CallEvent::Backchannel), None);
        let e = log_entry(&CallEvent::Supervisor {
            by: "ana".into(),
            action: SupervisorAction::Guided("offer free return shipping".into()),
        })
        .unwrap();
        assert_eq!(e["kind"], "supervisor");
        assert_eq!(e["action"], "guidance");
        assert_eq!(e["text"], "offer free return shipping");
        let t = log_entry(&tool("cancel_order", json!({ "order_id": "1" }))).unwrap();
        assert_eq!(
            (t["name"].as_str(), t["outcome"].as_str()),
            (Some("cancel_order"), Some("ok"))
        );
    }
}

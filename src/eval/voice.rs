//! Voice evals: a scenario run as a phone call. Each caller turn is synthesized with espeak-ng
//! (a voice unlike the assistant's; Mandarin turns with a male Kokoro voice, as espeak-ng's
//! Mandarin is too poor for Whisper to follow), sent as 8 kHz G.711 in 20 ms frames through the file
//! transport on the real clock, into the same call pipeline as a real call. The assistant's
//! audio is cut per reply from the call's recording and transcribed back with Whisper, and the
//! scenario's expectations are judged on those transcripts.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::broadcast;

use super::check::Verdict;
use super::runner::{EvalSummary, ScenarioRun, quantile, scenario_store, summarize};
use super::scenario::{CallerTurn, Scenario};
use crate::audio::Clip;
use crate::audio::g711::Law;
use crate::audio::resample::to_rate;
use crate::call::actor::{CallCommand, CallEvent};
use crate::call::engines::Engines;
use crate::call::file_transport::{FileTransport, LineEcho};
use crate::call::latency::TurnLatency;
use crate::call::pipeline::{CallSetup, start_call};
use crate::call::transport::MediaFormat;
use crate::dialog::language::Language;
use crate::dialog::session::Clock;

#[derive(Debug, thiserror::Error)]
pub enum CallerVoiceError {
    #[error("cannot run espeak-ng (Debian package espeak-ng): {0}")]
    Spawn(std::io::Error),
    #[error("espeak-ng failed: {0}")]
    Failed(String),
    #[error("espeak-ng's audio: {0}")]
    Audio(String),
    #[error("a Mandarin caller turn needs the Kokoro caller voice ({0})")]
    NoMandarin(String),
    #[error("the Mandarin caller voice: {0}")]
    Mandarin(String),
}

/// The Kokoro voice Mandarin caller turns are spoken with (`models/kokoro-zm_yunjian.bin`, a
/// man's voice; the assistant's is a woman's).
#[derive(Clone)]
pub struct MandarinCaller(std::sync::Arc<std::sync::Mutex<crate::tts::KokoroVoice>>);

impl MandarinCaller {
    pub fn new(voice: crate::tts::KokoroVoice) -> MandarinCaller {
        MandarinCaller(std::sync::Arc::new(std::sync::Mutex::new(voice)))
    }
}

impl std::fmt::Debug for MandarinCaller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MandarinCaller(Kokoro)")
    }
}

/// The simulated caller's voice: an espeak-ng voice, unlike the assistant's Piper voice.
#[derive(Debug, Clone)]
pub struct CallerVoice {
    /// espeak-ng voice, e.g. `en-us+f3`.
    pub voice: String,
    /// Words per minute.
    pub speed: u32,
    /// Speaks the turns with a Han character in them; None: such a turn is an error.
    pub mandarin: Option<MandarinCaller>,
}

impl Default for CallerVoice {
    fn default() -> Self {
        CallerVoice {
            // Of espeak-ng's voices, the one Whisper base hears best through G.711 (measured on
            // the voice scenarios' phrases; the female variants lose short phrases).
            voice: "en-us+m1".into(),
            speed: 140,
            mandarin: None,
        }
    }
}

impl CallerVoice {
    /// `text` spoken at `rate`, peak-normalized to -3 dBFS (a caller close to the phone).
    pub fn synthesize(&self, text: &str, rate: u32) -> Result<Vec<f32>, CallerVoiceError> {
        if Language::detect(text) == Some(Language::Zh) {
            return self.synthesize_mandarin(text, rate);
        }
        // espeak-ng's --stdout header carries no length; a file has a proper one.
        let dir = tempfile::tempdir().map_err(CallerVoiceError::Spawn)?;
        let wav = dir.path().join("caller.wav");
        let output = Command::new("espeak-ng")
            .args(["-v", &self.voice, "-s", &self.speed.to_string(), "-w"])
            .arg(&wav)
            .arg("--")
            .arg(text)
            .output()
            .map_err(CallerVoiceError::Spawn)?;
        if !output.status.success() {
            return Err(CallerVoiceError::Failed(
                String::from_utf8_lossy(&output.stderr).trim().to_string(),
            ));
        }
        let audio = |e: String| CallerVoiceError::Audio(e);
        let mut reader = hound::WavReader::open(&wav).map_err(|e| audio(e.to_string()))?;
        let spec = reader.spec();
        let samples: Vec<f32> = reader
            .samples::<i16>()
            .map(|s| s.map(|s| f32::from(s) / 32768.0))
            .collect::<Result<_, _>>()
            .map_err(|e| audio(e.to_string()))?;
        let clip = to_rate(
            &Clip {
                samples,
                sample_rate: spec.sample_rate,
            },
            rate,
        )
        .map_err(|e| audio(e.to_string()))?;
        Ok(peak_normalized(&clip.samples))
    }

    /// A whole caller turn: its parts with the pauses between them.
    pub fn speak_turn(&self, turn: &CallerTurn, rate: u32) -> Result<Vec<f32>, CallerVoiceError> {
        let mut samples = Vec::new();
        for (text, pause) in turn.spoken_parts() {
            samples.extend(self.synthesize(&text, rate)?);
            samples.resize(
                samples.len() + (pause.as_secs_f64() * f64::from(rate)) as usize,
                0.0,
            );
        }
        Ok(samples)
    }

    fn synthesize_mandarin(&self, text: &str, rate: u32) -> Result<Vec<f32>, CallerVoiceError> {
        use crate::tts::Voice;
        let Some(MandarinCaller(voice)) = &self.mandarin else {
            return Err(CallerVoiceError::NoMandarin(
                text.chars().take(40).collect(),
            ));
        };
        let mut voice = voice.lock().unwrap_or_else(|p| p.into_inner());
        let normalized = voice.normalize(text);
        let clip = voice
            .speak(&normalized)
            .map_err(|e| CallerVoiceError::Mandarin(e.to_string()))?;
        let clip = to_rate(&clip, rate).map_err(|e| CallerVoiceError::Mandarin(e.to_string()))?;
        Ok(peak_normalized(&clip.samples))
    }
}

/// Peak-normalized to -3 dBFS (a caller close to the phone).
fn peak_normalized(samples: &[f32]) -> Vec<f32> {
    let peak = samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    let gain = if peak > 0.0 { 0.7 / peak } else { 1.0 };
    samples.iter().map(|s| s * gain).collect()
}

/// One scenario run as a call.
#[derive(Debug, Clone, Default)]
pub struct VoiceRun {
    /// As a text run reports it, with `replies` the transcripts of the assistant's audio.
    pub run: ScenarioRun,
    pub latencies: Vec<TurnLatency>,
    /// Barge-ins confirmed, backchannels ignored, fillers spoken.
    pub barge_ins: usize,
    pub backchannels: usize,
    pub fillers: usize,
    /// For each pause of playback: media time from the caller's voice to the pause.
    pub pause_ms: Vec<f64>,
    /// Inbound frames the listener dropped.
    pub dropped_frames: u64,
}

/// How long a scripted caller waits for the assistant before giving up on a turn.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(40);
/// The pause a caller leaves after the assistant stops talking.
const CALLER_GAP: Duration = Duration::from_millis(400);

/// The events of the call so far, as the scripted caller follows them.
struct Follow {
    rx: broadcast::Receiver<CallEvent>,
    log: Vec<CallEvent>,
    ended: bool,
}

impl Follow {
    /// Reads events until `done(log)` holds, the call ends, or `timeout` passes.
    async fn until(&mut self, timeout: Duration, done: impl Fn(&[CallEvent]) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if done(&self.log) {
                return true;
            }
            if self.ended {
                return false;
            }
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Err(_) => return false,
                Ok(Ok(event)) => {
                    self.ended |= matches!(event, CallEvent::Ended(_));
                    self.log.push(event);
                }
                Ok(Err(broadcast::error::RecvError::Lagged(n))) => {
                    tracing::warn!("voice eval lost {n} call events");
                }
                Ok(Err(broadcast::error::RecvError::Closed)) => {
                    self.ended = true;
                }
            }
        }
    }

    fn caller_turns(log: &[CallEvent]) -> Vec<u64> {
        log.iter()
            .filter_map(|e| match e {
                CallEvent::CallerTurn { turn, .. } => Some(*turn),
                _ => None,
            })
            .collect()
    }
}

/// The caller's latest turn so far (`previous` when none came after it).
fn latest(log: &[CallEvent], previous: u64) -> u64 {
    Follow::caller_turns(log)
        .last()
        .map_or(previous, |&t| t.max(previous))
}

fn answer_started(log: &[CallEvent], turn: u64) -> Option<Duration> {
    log.iter().find_map(|e| match e {
        CallEvent::SpeechStarted {
            turn: t,
            filler: false,
            media,
        } if *t == turn => Some(*media),
        _ => None,
    })
}

fn answer_finished(log: &[CallEvent], turn: u64) -> bool {
    log.iter().any(
        |e| matches!(e, CallEvent::SpeechFinished { turn: t, filler: false, .. } if *t == turn),
    )
}

/// Runs `scenario` as a phone call; the database lives in `dir` while it runs.
pub async fn run_voice_scenario(
    scenario: &Scenario,
    engines: &Engines,
    dir: &Path,
    caller: &CallerVoice,
    use_lexicon: bool,
    record_to: Option<PathBuf>,
) -> VoiceRun {
    let mut out = VoiceRun::default();
    let (store, db_path, file) = match scenario_store(scenario, dir).await {
        Ok(opened) => opened,
        Err(e) => {
            out.run.error = Some(e);
            return out;
        }
    };
    let format = MediaFormat::telephone(Law::MuLaw);
    let echo = scenario.line.as_ref().and_then(|l| {
        l.echo_db.map(|gain_db| LineEcho {
            gain_db,
            delay: Duration::from_millis(l.echo_delay_ms),
        })
    });
    let transport = FileTransport::new(format, echo);
    let line = transport.caller();
    let call_id = format!("voice-{file}");
    let setup = CallSetup {
        call_id: call_id.clone(),
        channel: "file".into(),
        caller_id: scenario.caller_id.clone(),
        known_customer: None,
        live_transfer: true,
        clock: Clock::Fixed(scenario.today()),
        language: scenario.language,
        use_lexicon,
        store: store.clone(),
        record_to,
        hold_for_person: None,
        registry: None,
    };
    let mut handle = match start_call(engines, Box::new(transport), setup) {
        Ok(handle) => handle,
        Err(e) => {
            out.run.error = Some(format!("cannot start the call: {e}"));
            store.close().await;
            return out;
        }
    };
    let spare = handle.subscribe();
    let events = std::mem::replace(&mut handle.events, spare);
    let mut follow = Follow {
        rx: events,
        log: Vec::new(),
        ended: false,
    };
    let mut problems = Vec::new();
    // The greeting.
    let mut previous = 0u64;
    if !follow
        .until(ANSWER_TIMEOUT, |log| answer_finished(log, 0))
        .await
    {
        problems.push("the greeting did not play".to_string());
    }
    for (i, turn) in scenario.turns.iter().enumerate() {
        if follow.ended {
            break;
        }
        // Wait for the answer to the previous turn: its start (barge-in) or its end.
        match turn.barge_in_after() {
            Some(after) => {
                let started = follow
                    .until(ANSWER_TIMEOUT, |log| {
                        answer_started(log, previous).is_some()
                    })
                    .await;
                if let Some(at) = answer_started(&follow.log, previous).filter(|_| started) {
                    while line.media_time() < at + after && !follow.ended {
                        follow.until(Duration::from_millis(10), |_| false).await;
                    }
                } else {
                    problems.push(format!("turn {}: no answer to talk over", i + 1));
                }
            }
            None => {
                if previous > 0 || i == 0 {
                    // The answer to the caller's latest turn: a pause inside the line may
                    // have made two turns of it, and the answer to the first is then dropped.
                    let done = follow
                        .until(ANSWER_TIMEOUT, |log| {
                            answer_finished(log, latest(log, previous))
                        })
                        .await;
                    if !done && !follow.ended {
                        let waited_for = latest(&follow.log, previous);
                        problems.push(format!("turn {}: no answer to turn {waited_for}", i + 1));
                    }
                }
                tokio::time::sleep(CALLER_GAP).await;
            }
        }
        if follow.ended {
            break;
        }
        let heard_before = Follow::caller_turns(&follow.log).len();
        match turn {
            CallerTurn::Voice(v) if v.dtmf.is_some() => {
                line.keys(v.dtmf.as_deref().unwrap_or_default());
            }
            _ => match caller.speak_turn(turn, format.rate) {
                Ok(samples) => line.say(&samples),
                Err(e) => {
                    out.run.error = Some(e.to_string());
                    break;
                }
            },
        }
        out.run
            .transcript
            .push(format!("caller says: {}", turn.text()));
        if turn.is_backchannel() {
            // Not a turn: the reply must play on. Give the listener time to hear it out.
            let spoken = Duration::from_secs_f64(line_samples_seconds(&line, format.rate).max(0.5));
            follow
                .until(spoken + Duration::from_millis(1500), |_| false)
                .await;
            continue;
        }
        // The listener's final transcript of what was just said makes the new turn.
        let got = follow
            .until(ANSWER_TIMEOUT, |log| {
                Follow::caller_turns(log).len() > heard_before
            })
            .await;
        match Follow::caller_turns(&follow.log).last() {
            Some(&t) if got => previous = t,
            _ => problems.push(format!("turn {}: the assistant heard nothing", i + 1)),
        }
    }
    // Let the last answer play, then hang up (unless the assistant already ended the call).
    if !follow.ended {
        follow
            .until(ANSWER_TIMEOUT, |log| {
                answer_finished(log, latest(log, previous))
            })
            .await;
        follow.until(Duration::from_millis(500), |_| false).await;
        let _ = handle.commands.send(CallCommand::Hangup).await;
    }
    let report = handle.finished().await;
    // The rest of the events (the call has ended: they are all queued).
    follow.until(Duration::from_secs(2), |_| false).await;
    // Judge on what the caller heard: each reply's audio, transcribed.
    let recorder = report.as_ref().map(|r| r.recorder.clone());
    out.latencies = report
        .as_ref()
        .map(|r| r.latencies.clone())
        .unwrap_or_default();
    out.dropped_frames = report.as_ref().map_or(0, |r| r.dropped_frames);
    let mut verified_at_segment = None;
    let mut segments: Vec<(u64, bool, Duration, Duration)> = Vec::new();
    // The language each reply was spoken in: Whisper is told it when transcribing the reply.
    let mut spoken_in: std::collections::HashMap<(u64, bool), Language> = Default::default();
    for (i, event) in follow.log.iter().enumerate() {
        match event {
            CallEvent::SpeechStarted {
                turn,
                filler,
                media,
            } => {
                let end = follow.log[i + 1..]
                    .iter()
                    .find_map(|e| match e {
                        CallEvent::SpeechFinished {
                            turn: t,
                            filler: f,
                            media,
                        } if t == turn && f == filler => Some(*media),
                        CallEvent::SpeechFlushed { media } => Some(*media),
                        _ => None,
                    })
                    .unwrap_or(*media + Duration::from_secs(30));
                segments.push((*turn, *filler, *media, end));
            }
            CallEvent::Verified { customer } => {
                out.run.customer_id = Some(customer.clone());
                verified_at_segment.get_or_insert(segments.len());
            }
            CallEvent::Tool { record, .. } => out.run.tools.push(record.clone()),
            CallEvent::Transferred { .. } => out.run.transferred = true,
            CallEvent::CallerTurn { text, .. } => {
                out.run.turns_taken += 1;
                out.run.transcript.push(format!("assistant heard: {text}"));
            }
            CallEvent::Reply { turn, text, filler } => {
                spoken_in.insert(
                    (*turn, *filler),
                    Language::detect(text).unwrap_or(Language::En),
                );
                out.run.transcript.push(format!(
                    "assistant says{}: {text}",
                    if *filler { " (filler)" } else { "" }
                ))
            }
            CallEvent::BargeIn(crate::call::barge_in::BargeInEvent::Confirm { .. }) => {
                out.barge_ins += 1;
                out.run.transcript.push("caller barges in".into());
            }
            CallEvent::BargeIn(e) => out.run.transcript.push(format!("  barge-in: {e:?}")),
            CallEvent::PlaybackPaused { onset, media } => {
                let ms = media.saturating_sub(*onset).as_secs_f64() * 1000.0;
                out.pause_ms.push(ms);
                out.run.transcript.push(format!(
                    "  playback paused {ms:.0} ms after the caller's voice began"
                ));
            }
            CallEvent::SpeechFlushed { media } => out
                .run
                .transcript
                .push(format!("  speech flushed at {media:?}")),
            CallEvent::Backchannel => {
                out.backchannels += 1;
                out.run.transcript.push("  backchannel ignored".into());
            }
            CallEvent::Latency(l) => out.run.transcript.push(format!("  {}", l.line())),
            _ => {}
        }
    }
    out.fillers = segments.iter().filter(|s| s.1).count();
    out.run.verified_from = verified_at_segment;
    if let Some(recorder) = recorder {
        let recorder = recorder.lock().unwrap_or_else(|p| p.into_inner());
        for &(turn, filler, from, to) in &segments {
            let audio = recorder.assistant_between(from, to);
            let heard = to_rate(
                &Clip {
                    samples: audio,
                    sample_rate: format.rate,
                },
                16_000,
            )
            .map_err(|e| e.to_string())
            .and_then(|clip| {
                let language = spoken_in.get(&(turn, filler)).copied().unwrap_or_default();
                engines
                    .whisper
                    .transcribe(&clip.samples, language.code())
                    .map_err(|e| e.to_string())
            })
            .unwrap_or_else(|e| {
                problems.push(format!("cannot transcribe the reply to turn {turn}: {e}"));
                String::new()
            });
            out.run.transcript.push(format!(
                "caller hears (turn {turn}{}): {heard}",
                if filler { ", filler" } else { "" }
            ));
            out.run.replies.push(heard);
        }
    }
    out.run.turn_ms = out.latencies.iter().map(|l| l.v2v_ms).collect();
    out.run.audited = store.audit_of_call(&call_id).await.map_or(0, |a| a.len());
    // Every measured turn's latency is stored with the caller's line.
    let stored = store.turns_of_call(&call_id).await.map_or(0, |turns| {
        turns
            .iter()
            .filter(|t| t.role == "caller" && t.end_to_end_ms.is_some())
            .count()
    });
    if stored < out.latencies.len() {
        problems.push(format!(
            "{} turn latencies measured, {stored} stored with the turns",
            out.latencies.len()
        ));
    }
    if !problems.is_empty() && out.run.error.is_none() {
        out.run.error = Some(problems.join("; "));
    }
    store.close().await;
    let _ = std::fs::remove_file(&db_path);
    out
}

/// Seconds of caller speech still queued on the line.
fn line_samples_seconds(line: &crate::call::file_transport::CallerLine, rate: u32) -> f64 {
    line.queued() as f64 / f64::from(rate)
}

/// The voice suite's figures: the text eval's, plus voice-to-voice latency by stage.
#[derive(Debug, Clone, Serialize)]
pub struct VoiceSummary {
    #[serde(flatten)]
    pub eval: EvalSummary,
    /// End of the caller's speech to the first assistant frame handed to the transport.
    pub v2v_p50_ms: f64,
    pub v2v_p95_ms: f64,
    /// Each stage, from the end of the caller's speech (`llm_first` and `tts_first` are the
    /// stage's own duration).
    pub stages: Vec<StageFigures>,
    pub turns_measured: usize,
    /// Media time from the caller's voice to the assistant's pause, the slowest one.
    pub barge_in_pause_max_ms: f64,
    pub barge_ins: usize,
    pub backchannels: usize,
    pub fillers: usize,
    pub dropped_frames: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageFigures {
    pub stage: &'static str,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub turns: usize,
}

pub fn summarize_voice(runs: &[(VoiceRun, Verdict)]) -> VoiceSummary {
    let text: Vec<(ScenarioRun, Verdict)> = runs
        .iter()
        .map(|(r, v)| (r.run.clone(), v.clone()))
        .collect();
    let all: Vec<&TurnLatency> = runs.iter().flat_map(|(r, _)| &r.latencies).collect();
    let stage = |stage: &'static str, f: fn(&TurnLatency) -> Option<f64>| {
        let values: Vec<f64> = all.iter().filter_map(|l| f(l)).collect();
        StageFigures {
            stage,
            p50_ms: quantile(&values, 0.5),
            p95_ms: quantile(&values, 0.95),
            turns: values.len(),
        }
    };
    let stages = vec![
        stage("end of turn detected", |l| Some(l.endpoint_ms)),
        stage("final transcript", |l| Some(l.asr_ms)),
        stage("model first token (after transcript)", |l| l.llm_first_ms),
        stage("reply text ready", |l| Some(l.reply_ms)),
        stage("speech first frame (after token/transcript)", |l| {
            Some(l.tts_first_ms)
        }),
        stage("first assistant audio (voice to voice)", |l| Some(l.v2v_ms)),
        stage("first audio of the answer itself", |l| Some(l.answer_ms)),
    ];
    let v2v: Vec<f64> = all.iter().map(|l| l.v2v_ms).collect();
    VoiceSummary {
        eval: summarize(&text),
        v2v_p50_ms: quantile(&v2v, 0.5),
        v2v_p95_ms: quantile(&v2v, 0.95),
        stages,
        turns_measured: all.len(),
        barge_in_pause_max_ms: quantile(
            &runs
                .iter()
                .flat_map(|(r, _)| r.pause_ms.clone())
                .collect::<Vec<_>>(),
            1.0,
        ),
        barge_ins: runs.iter().map(|(r, _)| r.barge_ins).sum(),
        backchannels: runs.iter().map(|(r, _)| r.backchannels).sum(),
        fillers: runs.iter().map(|(r, _)| r.fillers).sum(),
        dropped_frames: runs.iter().map(|(r, _)| r.dropped_frames).sum(),
    }
}

/// The stage table of a summary, for the terminal and the README.
pub fn render_stages(summary: &VoiceSummary) -> String {
    let mut out = format!(
        "{:<46} {:>8} {:>8} {:>6}\n",
        "stage (ms from the end of the caller's speech)", "p50", "p95", "turns"
    );
    for s in &summary.stages {
        out.push_str(&format!(
            "{:<46} {:>8.0} {:>8.0} {:>6}\n",
            s.stage, s.p50_ms, s.p95_ms, s.turns
        ));
    }
    out
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 10.0);
        assert_eq!(quantile(&v, 0.95), 19.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
        assert_eq!(quantile(&[7.0], 0.95), 7.0);
    }
}

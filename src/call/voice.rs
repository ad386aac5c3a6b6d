//! The speech engine threads shared by all calls, one per voice: the English voice (Piper, or
//! an English Kokoro voice) and the Mandarin Kokoro voice (a text with any Han character goes
//! to it). Each (`tts::Speaker`, with its phrase
//! cache) speaks a job's text clause by clause, resampled to the job's call rate and cut into
//! the call's frames as it goes, so a reply's first clause is playing while the rest is
//! synthesized. A job's `CancelToken` stops it between frames (barge-in).

use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::thread;

use super::playout::{SpeechFrame, SpeechTag};
use crate::audio::stream_resampler::StreamResampler;
use crate::cancel::CancelToken;
use crate::dialog::language::Language;
use crate::tts::speaker::{SpeakOutcome, Speaker};

/// Jobs waiting for one voice, all calls together.
pub const VOICE_JOBS: usize = 64;

/// One text to speak into one call.
pub struct SpeakJob {
    pub text: String,
    pub tag: SpeechTag,
    /// The call's sample rate and frame length in samples.
    pub rate: u32,
    pub frame_len: usize,
    pub cancel: CancelToken,
    /// The call's speech queue (its playout drains it every frame time).
    pub out: SyncSender<SpeechFrame>,
}

#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    #[error("the voice is busy ({VOICE_JOBS} texts waiting)")]
    Busy,
    #[error("the voice thread has stopped")]
    Stopped,
    #[error("no voice speaks {0:?} (its model files were not there when the server started)")]
    NoVoice(Language),
}

/// A handle on the voice threads; cheap to clone.
#[derive(Clone)]
pub struct VoiceService {
    english: SyncSender<SpeakJob>,
    mandarin: Option<SyncSender<SpeakJob>>,
}

impl VoiceService {
    /// Starts a thread per voice. Each speaker speaks at its voice's own rate (resampling is
    /// per job).
    pub fn start(english: Speaker, mandarin: Option<Speaker>) -> std::io::Result<VoiceService> {
        Ok(VoiceService {
            english: spawn("tts-english", english)?,
            mandarin: mandarin.map(|m| spawn("tts-mandarin", m)).transpose()?,
        })
    }

    /// The language `text` would be spoken in: Mandarin when it has a Han character.
    pub fn language_of(text: &str) -> Language {
        Language::detect(text).unwrap_or(Language::En)
    }

    /// Queues a job on the voice of its text's language; never blocks.
    pub fn speak(&self, job: SpeakJob) -> Result<(), VoiceError> {
        let queue = match Self::language_of(&job.text) {
            Language::En => &self.english,
            Language::Zh => self
                .mandarin
                .as_ref()
                .ok_or(VoiceError::NoVoice(Language::Zh))?,
        };
        queue.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => VoiceError::Busy,
            TrySendError::Disconnected(_) => VoiceError::Stopped,
        })
    }
}

fn spawn(name: &str, speaker: Speaker) -> std::io::Result<SyncSender<SpeakJob>> {
    let (jobs, queue) = mpsc::sync_channel::<SpeakJob>(VOICE_JOBS);
    thread::Builder::new()
        .name(name.into())
        .spawn(move || run(speaker, queue))?;
    Ok(jobs)
}

fn run(mut speaker: Speaker, queue: mpsc::Receiver<SpeakJob>) {
    for job in queue {
        if job.cancel.is_cancelled() {
            continue;
        }
        if let Err(e) = speak_one(&mut speaker, &job) {
            tracing::warn!("speech failed: {e}");
            // Tell the playout the text is over, so the call does not wait for it.
            let _ = job.out.send(SpeechFrame {
                tag: job.tag,
                samples: vec![0.0; job.frame_len],
                last: true,
            });
        }
    }
}

fn speak_one(speaker: &mut Speaker, job: &SpeakJob) -> Result<(), String> {
    let mut resampler =
        StreamResampler::new(speaker.rate(), job.rate).map_err(|e| e.to_string())?;
    let mut skip = resampler.delay();
    let mut pending: Vec<f32> = Vec::with_capacity(job.frame_len * 4);
    let mut produced = 0usize;
    let mut consumed = 0usize;
    let mut scratch = Vec::new();
    let mut gone = false;
    let frame_len = job.frame_len.max(1);
    let send = |samples: Vec<f32>, last: bool| -> bool {
        job.out
            .send(SpeechFrame {
                tag: job.tag,
                samples,
                last,
            })
            .is_ok()
    };
    let outcome = speaker
        .speak(&job.text, &job.cancel, |frame| {
            if gone {
                job.cancel.cancel();
                return;
            }
            consumed += frame.len();
            scratch.clear();
            if resampler.push(frame, &mut scratch).is_err() {
                job.cancel.cancel();
                return;
            }
            let drop_now = skip.min(scratch.len());
            skip -= drop_now;
            pending.extend_from_slice(&scratch[drop_now..]);
            while pending.len() > frame_len {
                let rest = pending.split_off(frame_len);
                let frame = std::mem::replace(&mut pending, rest);
                produced += frame.len();
                if !send(frame, false) {
                    gone = true;
                    job.cancel.cancel();
                    return;
                }
            }
        })
        .map_err(|e| e.to_string())?;
    if matches!(outcome, SpeakOutcome::Cancelled { .. }) || gone {
        return Ok(());
    }
    // The resampler's tail: everything the voice produced, at the call's rate.
    let expected =
        (consumed as u64 * u64::from(job.rate) / u64::from(speaker.rate().max(1))) as usize;
    scratch.clear();
    let want = expected.saturating_sub(produced + pending.len()) + skip;
    resampler
        .flush_until(&mut scratch, want)
        .map_err(|e| e.to_string())?;
    let drop_now = skip.min(scratch.len());
    let take = want.saturating_sub(skip).min(scratch.len() - drop_now);
    pending.extend_from_slice(&scratch[drop_now..drop_now + take]);
    let mut frames: Vec<Vec<f32>> = pending.chunks(frame_len).map(<[f32]>::to_vec).collect();
    if frames.is_empty() {
        frames.push(Vec::new());
    }
    let n = frames.len();
    for (i, mut frame) in frames.into_iter().enumerate() {
        frame.resize(frame_len, 0.0);
        if job.cancel.is_cancelled() || !send(frame, i + 1 == n) {
            return Ok(());
        }
    }
    Ok(())
}

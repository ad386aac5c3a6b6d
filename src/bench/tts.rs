//! TTS benchmark: time to first audio and real-time factor for typical replies; ours (piper-rs
//! with clause streaming) beside piper-tts (PyPI) on the same voice.

use std::path::Path;
use std::time::Instant;

use serde::Deserialize;

use super::BenchError;
use super::baseline;
use super::median;
use crate::onnx_runtime::OrtRuntime;
use crate::tts::PiperVoice;
use crate::tts::speaker::{CancelToken, Speaker};

/// Typical assistant replies.
pub const REPLIES: [&str; 3] = [
    "Your order 100042 has shipped with UPS. It should arrive on November 25.",
    "I have started the return for the wireless headphones. You will get a prepaid label by e-mail, and your refund of $79.99 will be issued when we receive them.",
    "Sorry to hear that. Let me check that for you.",
];

#[derive(Debug, Clone)]
pub struct TtsRow {
    pub text: String,
    pub audio_s: f64,
    pub ours_first_s: f64,
    pub ours_total_s: f64,
    pub theirs_first_s: f64,
    pub theirs_total_s: f64,
}

#[derive(Deserialize)]
struct TheirResult {
    first_audio_s: f64,
    total_s: f64,
}

#[derive(Deserialize)]
struct TheirReport {
    version: String,
    results: Vec<TheirResult>,
}

pub struct TtsBench {
    pub rows: Vec<TtsRow>,
    pub their_version: String,
}

pub fn run(
    root: &Path,
    ort: &OrtRuntime,
    voice_path: &Path,
    threads: usize,
    runs: usize,
) -> Result<TtsBench, BenchError> {
    let voice = PiperVoice::load(ort, voice_path).map_err(|e| BenchError::Input(e.to_string()))?;
    let rate = voice.sample_rate();
    let mut speaker =
        Speaker::new(voice, rate, 20).map_err(|e| BenchError::Input(e.to_string()))?;
    let mut args = vec![
        "--voice".to_string(),
        voice_path.display().to_string(),
        "--threads".into(),
        threads.to_string(),
    ];
    args.extend(REPLIES.iter().map(|s| s.to_string()));
    let theirs: TheirReport = baseline::run(root, "tts_piper.py", &args)?;
    if theirs.results.len() != REPLIES.len() {
        return Err(BenchError::Input(
            "piper-tts returned a different number of results".into(),
        ));
    }
    let mut rows = Vec::new();
    for (text, their) in REPLIES.iter().zip(&theirs.results) {
        let (mut firsts, mut totals) = (Vec::new(), Vec::new());
        let mut frames = 0usize;
        for run in 0..=runs {
            let started = Instant::now();
            let mut first = None;
            frames = 0;
            speaker
                .speak(text, &CancelToken::new(), |_| {
                    first.get_or_insert_with(|| started.elapsed().as_secs_f64());
                    frames += 1;
                })
                .map_err(|e| BenchError::Input(e.to_string()))?;
            if run > 0 {
                firsts.push(first.unwrap_or(f64::NAN));
                totals.push(started.elapsed().as_secs_f64());
            }
        }
        rows.push(TtsRow {
            text: (*text).to_string(),
            audio_s: frames as f64 * 0.02,
            ours_first_s: median(firsts),
            ours_total_s: median(totals),
            theirs_first_s: their.first_audio_s,
            theirs_total_s: their.total_s,
        });
    }
    Ok(TtsBench {
        rows,
        their_version: theirs.version,
    })
}

pub fn render(bench: &TtsBench, threads: usize) -> String {
    let mut out = format!(
        "TTS: Piper en_US-joe-medium, {threads} threads. ours = piper-rs + clause streaming, theirs = piper-tts {}\n",
        bench.their_version
    );
    out.push_str(&format!(
        "{:<44} {:>7} {:>11} {:>12} {:>9} {:>10} {:>11} {:>9}\n",
        "reply", "audio", "first ours", "first theirs", "ratio", "RTF ours", "RTF theirs", "ratio"
    ));
    for r in &bench.rows {
        let short: String = r.text.chars().take(42).collect();
        out.push_str(&format!(
            "{:<44} {:>6.2}s {:>10.3}s {:>11.3}s {:>8.2}x {:>10.3} {:>11.3} {:>8.2}x\n",
            short,
            r.audio_s,
            r.ours_first_s,
            r.theirs_first_s,
            r.ours_first_s / r.theirs_first_s,
            r.ours_total_s / r.audio_s,
            r.theirs_total_s / r.audio_s,
            r.ours_total_s / r.theirs_total_s,
        ));
    }
    out
}

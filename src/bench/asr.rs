//! ASR benchmark: word error rate, end of speech -> final transcript, real-time factor; ours
//! (whisper.cpp through whisper-rs, ggml base) beside faster-whisper (CTranslate2, the same base
//! weights) on the same clips.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::baseline;
use super::wer::wer;
use super::{BenchError, median};
use crate::asr::{AsrOptions, AsrStream, SAMPLE_RATE, WhisperEngine};
use crate::audio::g711::Law;
use crate::audio::{Clip, resample, wav};
use crate::onnx_runtime::OrtRuntime;
use crate::tts::PiperVoice;

/// Caller utterances of 2-5 s, spoken by Piper (the registry has no such human recordings).
pub const UTTERANCES: [&str; 3] = [
    "Hi, I would like to return the headphones I bought last week.",
    "Where is my order? It was supposed to arrive on Friday.",
    "Can you cancel my order please?",
];

pub struct Case {
    pub name: String,
    pub reference: String,
    pub clip: Clip,
}

#[derive(Debug, Clone)]
pub struct AsrRow {
    pub name: String,
    pub audio_s: f64,
    pub ours_text: String,
    pub ours_wer: f64,
    /// Median time from the end of speech to the final transcript (partials ran during speech).
    pub ours_final_s: f64,
    pub theirs_text: String,
    pub theirs_wer: f64,
    /// Median time faster-whisper takes to transcribe the utterance after it ended.
    pub theirs_s: f64,
}

#[derive(Deserialize)]
struct TheirResult {
    seconds: f64,
    text: String,
}

#[derive(Deserialize)]
struct TheirReport {
    version: String,
    results: Vec<TheirResult>,
}

pub struct AsrBench {
    pub rows: Vec<AsrRow>,
    pub their_version: String,
}

/// Builds the cases: jfk (human), jfk through the 8 kHz G.711 phone path, and the utterances.
pub fn cases(ort: &OrtRuntime, models: &Path) -> Result<Vec<Case>, BenchError> {
    let jfk = wav::read(&models.join("jfk.wav")).map_err(|e| BenchError::Input(e.to_string()))?;
    let reference = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.";
    let phone = phone_path(&jfk, Law::MuLaw)?;
    let mut cases = vec![
        Case {
            name: "jfk.wav (human, 16 kHz)".into(),
            reference: reference.into(),
            clip: jfk,
        },
        Case {
            name: "jfk.wav via G.711 u-law 8 kHz".into(),
            reference: reference.into(),
            clip: phone,
        },
    ];
    let mut voice = PiperVoice::load(ort, &models.join("en_US-joe-medium.onnx"))
        .map_err(|e| BenchError::Input(e.to_string()))?;
    for (i, text) in UTTERANCES.iter().enumerate() {
        let spoken = voice
            .speak(text)
            .map_err(|e| BenchError::Input(e.to_string()))?;
        let clip = phone_path(&spoken, Law::MuLaw)?;
        cases.push(Case {
            name: format!("caller {} (Piper, G.711 8 kHz)", i + 1),
            reference: (*text).into(),
            clip,
        });
    }
    Ok(cases)
}

/// The phone path: 8 kHz, G.711, back to 16 kHz for Whisper.
pub fn phone_path(clip: &Clip, law: Law) -> Result<Clip, BenchError> {
    let err = |e: crate::audio::resample::ResampleError| BenchError::Input(e.to_string());
    let narrow = resample::to_rate(clip, 8_000).map_err(err)?;
    let mut wire = Vec::new();
    law.encode_f32(&narrow.samples, &mut wire);
    let mut decoded = Vec::new();
    law.decode_f32(&wire, &mut decoded);
    resample::to_rate(
        &Clip {
            samples: decoded,
            sample_rate: 8_000,
        },
        SAMPLE_RATE,
    )
    .map_err(err)
}

/// Runs both engines on every case, `runs` timed runs each after one warm-up.
pub fn run(
    root: &Path,
    ort: &OrtRuntime,
    models: &Path,
    threads: usize,
    runs: usize,
) -> Result<AsrBench, BenchError> {
    let cases = cases(ort, models)?;
    let engine = Arc::new(WhisperEngine::load(&models.join("ggml-base.bin"), threads)?);
    let options = AsrOptions {
        partial_every: Duration::from_secs(1),
        threads,
        ..AsrOptions::default()
    };
    let mut stream = AsrStream::new(engine, options)?;

    let dir = tempfile_dir()?;
    let mut files = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let path = dir.join(format!("case{i}.wav"));
        wav::write(&path, &case.clip).map_err(|e| BenchError::Input(e.to_string()))?;
        files.push(path.display().to_string());
    }
    let model_dir = dirs_cache().join("baselines/whisper-base-ct2");
    let mut args = vec![
        "--model".to_string(),
        model_dir.display().to_string(),
        "--threads".into(),
        threads.to_string(),
        "--language".into(),
        "en".into(),
    ];
    args.extend(files);
    let theirs: TheirReport = baseline::run(root, "asr_faster_whisper.py", &args)?;
    if theirs.results.len() != cases.len() {
        return Err(BenchError::Input(
            "faster-whisper returned a different number of results".into(),
        ));
    }

    let mut rows = Vec::new();
    for (case, their) in cases.iter().zip(&theirs.results) {
        let mut times = Vec::new();
        let mut text = String::new();
        for run in 0..=runs {
            for frame in case.clip.samples.chunks(320) {
                stream.push(frame)?;
            }
            let started = Instant::now();
            let transcript = stream.finish()?;
            if run > 0 {
                times.push(started.elapsed().as_secs_f64());
            }
            text = transcript.text;
        }
        rows.push(AsrRow {
            name: case.name.clone(),
            audio_s: case.clip.seconds(),
            ours_wer: wer(&case.reference, &text),
            ours_text: text,
            ours_final_s: median(times),
            theirs_wer: wer(&case.reference, &their.text),
            theirs_text: their.text.clone(),
            theirs_s: their.seconds,
        });
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(AsrBench {
        rows,
        their_version: theirs.version,
    })
}

fn dirs_cache() -> std::path::PathBuf {
    crate::config::ModelsConfig::default().cache_dir
}

fn tempfile_dir() -> Result<std::path::PathBuf, BenchError> {
    let dir = std::env::temp_dir().join(format!("hotline-bench-asr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| BenchError::Input(e.to_string()))?;
    Ok(dir)
}

/// The table `hotline bench asr` prints.
pub fn render(bench: &AsrBench, threads: usize) -> String {
    let mut out = format!(
        "ASR: Whisper base, greedy, {threads} threads. ours = whisper.cpp (whisper-rs), theirs = faster-whisper {}\n",
        bench.their_version
    );
    out.push_str(&format!(
        "{:<34} {:>7} {:>8} {:>9} {:>10} {:>10} {:>9} {:>8}\n",
        "clip",
        "audio",
        "WER ours",
        "WER theirs",
        "final ours",
        "theirs",
        "ours/theirs",
        "RTF ours"
    ));
    for r in &bench.rows {
        out.push_str(&format!(
            "{:<34} {:>6.2}s {:>7.1}% {:>9.1}% {:>9.3}s {:>9.3}s {:>10.2}x {:>8.3}\n",
            r.name,
            r.audio_s,
            r.ours_wer * 100.0,
            r.theirs_wer * 100.0,
            r.ours_final_s,
            r.theirs_s,
            r.ours_final_s / r.theirs_s,
            r.ours_final_s / r.audio_s,
        ));
    }
    out.push_str("transcripts (ours | theirs):\n");
    for r in &bench.rows {
        out.push_str(&format!(
            "  {:<32} {} | {}\n",
            r.name, r.ours_text, r.theirs_text
        ));
    }
    out
}
